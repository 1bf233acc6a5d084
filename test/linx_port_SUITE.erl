%% @doc The port process as a separate, expendable OS process: killing it
%% fails waiting callers at once and the supervisor brings it back; bad
%% frames written straight to the binary get error replies and the valid
%% requests around them are still served.
-module(linx_port_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([kill_with_waiting_callers/1, restarted_port_serves/1,
         malformed_frames/1, oversized_frame/1, out_of_order_replies/1,
         info_and_stats/1, stats_across_restarts/1, kill_with_socket_opens_in_flight/1,
         timed_out_replies_not_left_behind/1, call_behind_the_end_not_running/1]).

all() ->
    [kill_with_waiting_callers, restarted_port_serves, malformed_frames,
     oversized_frame, out_of_order_replies, info_and_stats, stats_across_restarts,
     kill_with_socket_opens_in_flight, timed_out_replies_not_left_behind,
     call_behind_the_end_not_running].

init_per_suite(Config) ->
    linx_ct_ns:start_linx(Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_linx(Config).

%% kill -9 of the port while 20 callers wait: each gets an error within
%% 1 s, the supervisor restarts the port, the next call succeeds.
kill_with_waiting_callers(_Config) ->
    {OsPid, NewServer} = kill_while_waiting(20, fun() ->
                                                       linx_sysctl:read("kernel.ostype", #{timeout => 30000})
                                               end),
    true = is_pid(NewServer),
    true = linx_port:os_pid() =/= OsPid,
    {ok, <<"Linux">>} = linx_sysctl:read("kernel.ostype"),
    true = is_process_alive(self()).

%% After a restart the port serves reads, writes and lists as before.
restarted_port_serves(_Config) ->
    OsPid = linx_port:os_pid(),
    Old = whereis(linx_port),
    linx_ct_ns:sh_ok(["kill -9 ", integer_to_list(OsPid)]),
    _ = wait_restart(Old),
    {ok, _} = linx_sysctl:read_int("kernel.pid_max"),
    {ok, [_ | _]} = linx_sysctl:list("kernel.random").

%% kill -9 while socket opens wait for their descriptors: each caller gets
%% an error within 1 s, and the next open works.
kill_with_socket_opens_in_flight(_Config) ->
    _ = kill_while_waiting(5, fun() -> linx_netlink:open(route, #{timeout => 30000}) end),
    {ok, S} = linx_netlink:open(route, #{}),
    ok = socket:close(S).

%% A call that reaches the server behind the end of its program (it comes
%% after the program's exit in the server's mailbox) never reaches a
%% program: it gets `not_running', as any call made while the program
%% restarts, not the error of the requests the old program owed (which
%% once read as if the new program had failed). The server is held
%% (sys:suspend) so that the order is certain.
call_behind_the_end_not_running(_Config) ->
    Old = whereis(linx_port),
    OsPid = linx_port:os_pid(),
    ok = sys:suspend(Old),
    Self = self(),
    try
        linx_ct_ns:kill(OsPid),
        ok = linx_ct_ns:wait_until(fun() -> queued(Old, exit_status) end, 5000),
        %% A socket open goes through the server.
        spawn_link(fun() -> Self ! {opened, linx_netlink:open(route, #{timeout => 5000})} end),
        ok = linx_ct_ns:wait_until(fun() -> queued(Old, '$gen_call') end, 5000)
    after
        ok = sys:resume(Old)
    end,
    receive
        {opened, Result} -> {error, #{reason := not_running}} = Result
    after 5000 ->
        ct:fail(caller_not_answered)
    end,
    _ = wait_restart(Old),
    {ok, S} = linx_netlink:open(route, #{}),
    ok = socket:close(S).

%% Whether a message of kind `Kind' waits in the mailbox of `Pid'.
queued(Pid, Kind) ->
    {messages, Messages} = erlang:process_info(Pid, messages),
    lists:any(fun({_Port, {exit_status, _}}) -> Kind =:= exit_status;
                 ({'$gen_call', _, _}) -> Kind =:= '$gen_call';
                 (_) -> false
              end, Messages).

%% Stops the port program (so that the callers really are waiting when it
%% dies), starts N callers of Call, kills the program with SIGKILL once all
%% of them wait, and checks that each got {error, {port_exited, _}} within
%% 1 s. Returns the killed OS pid and the restarted server.
kill_while_waiting(N, Call) ->
    OsPid = linx_port:os_pid(),
    Old = whereis(linx_port),
    linx_ct_ns:sh_ok(["kill -STOP ", integer_to_list(OsPid)]),
    Self = self(),
    Callers = [spawn_link(fun() ->
                   R = Call(),
                   Self ! {done, self(), R, erlang:monotonic_time(millisecond)}
               end) || _ <- lists:seq(1, N)],
    ok = wait_pending(N),
    Killed = erlang:monotonic_time(millisecond),
    linx_ct_ns:kill(OsPid),
    [receive
         {done, C, R, At} ->
             {error, #{reason := {port_exited, _}}} = R,
             true = At - Killed < 1000
     after 1000 ->
         ct:fail({caller_not_answered, C})
     end || C <- Callers],
    {OsPid, wait_restart(Old)}.

wait_pending(N) ->
    linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) >= N end, 5000).

%% The supervisor restarts the server; wait (bounded) until a new one is
%% registered and answering.
wait_restart(Old) ->
    ok = linx_ct_ns:wait_until(fun() ->
                                       case whereis(linx_port) of
                                           undefined -> false;
                                           Old -> false;
                                           _ -> true
                                       end
                               end, 5000),
    %% Registered is not yet started: a request waits for the start.
    {ok, _} = linx_port:request(version),
    whereis(linx_port).

%% ---------------------------------------------------------------- raw port

binary_path() ->
    filename:join(code:priv_dir(linx), "linx_port").

open_raw(Opts) ->
    Port = open_port({spawn_executable, binary_path()}, [binary, exit_status | Opts]),
    Port.

recv_term(Port) ->
    receive
        {Port, {data, Bin}} -> binary_to_term(Bin, [safe]);
        {Port, {exit_status, S}} -> ct:fail({port_exited, S})
    after 5000 -> ct:fail(no_reply)
    end.

%% Truncated ETF, random bytes and wrong shapes: error replies (id 0 when
%% no id can be read), and the valid requests between them are answered.
malformed_frames(_Config) ->
    P = open_raw([{packet, 4}]),
    {0, {ready, Version}} = recv_term(P),
    Frames = [{bad, <<131, 104, 2, 97>>},
              {bad, <<>>},
              {bad, crypto:strong_rand_bytes(64)},
              {good, term_to_binary({1, version})},
              {bad, term_to_binary({1})},
              {bad, term_to_binary([1, 2, 3])},
              {bad, term_to_binary({a, version})},
              {bad, term_to_binary({-5, version})},
              {bad_id, 7, term_to_binary({7, {sysctl_read}})},
              {bad_id, 8, term_to_binary({8, {sysctl_read, <<"kernel/ostype">>, {pid, <<"1">>}}})},
              {bad_id, 9, term_to_binary({9, {sysctl_write, <<"a">>, 1, self}})},
              {bad_id, 10, term_to_binary({10, frobnicate})},
              {bad_id, 11, term_to_binary({11, {sysctl_read, <<"../etc/passwd">>, self}})},
              {bad, term_to_binary({1, self()})},
              {bad, term_to_binary(make_ref())},
              {bad, term_to_binary(lists:duplicate(10, x), [compressed])},
              {good, term_to_binary({2, {sysctl_read, <<"kernel/ostype">>, self}})}],
    [port_command(P, element(tuple_size(F), F)) || F <- Frames],
    Expected = [expect(F) || F <- Frames],
    Got = [recv_term(P) || _ <- Expected],
    lists:sort(Expected) =:= lists:sort([normalise(G) || G <- Got])
        orelse ct:fail({replies, Expected, Got}),
    {ok, Version} = begin port_command(P, term_to_binary({3, version})), {3, R} = recv_term(P), R end,
    true = port_close(P).

expect({bad, _}) -> {0, error};
expect({bad_id, Id, _}) -> {Id, error};
expect({good, F}) -> {element(1, binary_to_term(F)), ok}.

normalise({Id, {error, {Stage, Reason}}}) when is_atom(Stage), is_atom(Reason) -> {Id, error};
normalise({Id, {ok, _}}) -> {Id, ok};
normalise(Other) -> Other.

%% A length prefix over the 16 MiB limit is refused without allocating it;
%% the stream stays in step and the next request is answered.
oversized_frame(_Config) ->
    P = open_raw([stream]),
    {{0, {ready, _}}, Buf} = recv_frame(P, <<>>),
    Len = (16 bsl 20) + 1,
    port_command(P, [<<Len:32>>, binary:copy(<<"A">>, Len)]),
    Good = term_to_binary({42, version}),
    port_command(P, [<<(byte_size(Good)):32>>, Good]),
    {{0, {error, {decode, too_large}}}, Buf2} = recv_frame(P, Buf),
    {{42, {ok, _}}, <<>>} = recv_frame(P, Buf2),
    true = port_close(P).

%% One {packet,4} frame from a stream port: {Term, BytesLeftOver}.
recv_frame(_P, <<N:32, Body:N/binary, Rest/binary>>) ->
    {binary_to_term(Body, [safe]), Rest};
recv_frame(P, Buf) ->
    receive
        {P, {data, More}} -> recv_frame(P, <<Buf/binary, More/binary>>);
        {P, {exit_status, S}} -> ct:fail({port_exited, S})
    after 10000 -> ct:fail(no_reply)
    end.

%% Many requests in flight from many callers each get their own reply.
out_of_order_replies(_Config) ->
    Self = self(),
    Keys = ["kernel.ostype", "kernel.pid_max", "net.core.somaxconn", "kernel.random.boot_id"],
    Pids = [spawn_link(fun() ->
                Results = [{K, linx_sysctl:read(K)} || K <- Keys, _ <- lists:seq(1, 25)],
                Self ! {results, self(), Results}
            end) || _ <- lists:seq(1, 16)],
    Want = [{K, {ok, linx_ct_ns:host_sysctl(K)}} || K <- Keys],
    [receive
         {results, P, Results} ->
             [{K, V} = lists:keyfind(K, 1, Want) || {K, V} <- Results]
     after 10000 -> ct:fail(timeout)
     end || P <- Pids],
    ok.

%% linx:stats/0 counts requests, errors and latency per op, and port
%% restarts, across restarts of the port.
stats_across_restarts(_Config) ->
    #{requests := R0, port_restarts := Restarts0} = linx:stats(),
    Reads0 = maps:get(sysctl_read, R0, 0),
    [{ok, _} = linx_sysctl:read("kernel.ostype") || _ <- lists:seq(1, 50)],
    {error, _} = linx_sysctl:read("kernel.no_such_key"),
    #{requests := #{sysctl_read := Reads1},
      errors := #{{read, enoent} := _},
      latency_us := #{sysctl_read := #{p50 := P50, p99 := P99}},
      workers := W} = linx:stats(),
    Reads1 = Reads0 + 51,
    true = P50 > 0 andalso P99 >= P50,
    true = W >= 1,
    Old = whereis(linx_port),
    linx_ct_ns:kill(linx_port:os_pid()),
    _ = wait_restart(Old),
    #{port_restarts := Restarts1, requests := #{sysctl_read := Reads2}} = linx:stats(),
    Restarts1 = Restarts0 + 1,
    true = Reads2 >= Reads1.

%% The port reports its version and counters.
info_and_stats(_Config) ->
    #{os_pid := OsPid, version := V} = linx_port:info(),
    true = is_integer(OsPid),
    {ok, V} = linx_port:request(version),
    {ok, #{requests := N, workers := W}} = linx_port:request(stats),
    true = N > 0,
    true = W >= 0.

%% Requests that time out while their replies are on the way leave nothing
%% in the caller's mailbox: with timeouts of 0 to 2 ms most time out, and
%% some replies arrive just as their caller gives up.
timed_out_replies_not_left_behind(_Config) ->
    Self = self(),
    Callers = [spawn_link(fun() ->
                   Results = [linx_port:request({sysctl_read, <<"kernel/ostype">>, self}, T rem 3)
                              || T <- lists:seq(1, 600)],
                   %% A reply can no longer arrive once its caller gave up
                   %% (the alias is gone), so whatever came is here now.
                   {messages, Left} = process_info(self(), messages),
                   Self ! {done, self(), length([R || {error, timeout} = R <- Results]), Left}
               end) || _ <- lists:seq(1, 8)],
    TimedOut = [receive
                    {done, C, N, Left} ->
                        [] = Left,
                        N
                after 60000 ->
                    ct:fail({caller_not_done, C})
                end || C <- Callers],
    true = lists:sum(TimedOut) > 0.
