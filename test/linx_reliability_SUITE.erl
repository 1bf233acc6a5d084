%% @doc No hang, no leak under careless use: requests too large for the
%% port program are refused at once on every path, a descriptor this node
%% cannot take is an error for its caller, and whatever mix of killed
%% callers, timeouts and port restarts, `linx_port:info()' comes back to
%% 0 pending and 0 parked.
-module(linx_reliability_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([too_large_refused_at_once/1, oversized_frame_answered_by_id/1,
         unreadable_oversized_frame_only_logged/1,
         emfile_while_taking_a_descriptor/1,
         killed_callers_leave_nothing/1, timed_out_callers_leave_nothing/1,
         port_killed_mid_flight_leaves_nothing/1, server_killed_mid_flight/1,
         zero_timeout_write_refused/1]).
%% logger handler
-export([log/2]).

-define(KEY, <<"net.core.somaxconn">>).
-define(MIB, (1 bsl 20)).

suite() ->
    [{timetrap, {minutes, 3}}].

all() ->
    [{group, limits}, {group, descriptors}, {group, pending}, {group, timeouts}].

groups() ->
    [{limits, [], [too_large_refused_at_once, oversized_frame_answered_by_id,
                   unreadable_oversized_frame_only_logged]},
     {descriptors, [], [emfile_while_taking_a_descriptor]},
     {pending, [], [killed_callers_leave_nothing, timed_out_callers_leave_nothing,
                    port_killed_mid_flight_leaves_nothing, server_killed_mid_flight]},
     {timeouts, [], [zero_timeout_write_refused]}].

init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-rel", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%--------------------------------------------------------------------
%% limits
%%--------------------------------------------------------------------

%% Values over 1 MiB and frames over 16 MiB are refused before anything is
%% sent, with an error of each API's shape, even with `infinity': the
%% direct path, the gen_server path, socket requests, netlink_call, apply.
too_large_refused_at_once(_Config) ->
    Value = binary:copy(<<"1">>, ?MIB + 1),
    Huge = binary:copy(<<"1">>, 16 * ?MIB),
    Inf = #{timeout => infinity},
    Checks =
        [fun() ->
                 {error, #{op := write, stage := badarg, errno := too_large, code := 0,
                           key := ?KEY, path := <<"/proc/sys/net/core/somaxconn">>} = E} =
                     linx_sysctl:write(?KEY, Value, Inf),
                 {_, _} = binary:match(linx:format_error(E), <<"too large">>)
         end,
         fun() ->
                 {error, #{failed := ?KEY, rolled_back := [],
                           reason := #{op := apply, stage := badarg, errno := too_large}}} =
                     linx_sysctl:apply([{<<"net.ipv4.ip_forward">>, 0}, {?KEY, Value}], Inf)
         end,
         fun() ->
                 {error, {badarg, too_large}} =
                     linx_port:request({sysctl_write, <<"net/core/somaxconn">>, Huge, self}, infinity)
         end,
         fun() ->
                 %% The server's own path, as while the port (re)starts.
                 {error, {badarg, too_large}} =
                     gen_server:call(linx_port, {request, {sysctl_read, Huge, self}, infinity})
         end,
         fun() ->
                 {error, {badarg, too_large}} =
                     linx_port:request_fd({netlink_open, 0, 0, {ns, [Huge]}}, raw, infinity)
         end,
         fun() ->
                 {error, #{op := netlink_call, stage := badarg, errno := too_large}} =
                     linx_netlink:call(route, <<16:32/native, 0:96, Huge/binary>>, Inf)
         end,
         fun() ->
                 {error, {badarg, too_large}} =
                     linx_remote:request({sysctl_read, Huge, self}, infinity, 'linx@nohost')
         end],
    [within(5000, Check) || Check <- Checks],
    ok = nothing_left().

%% A frame over 16 MiB that reached the program anyway is answered under
%% its own id, so its caller gets `{decode, too_large}' at once.
oversized_frame_answered_by_id(_Config) ->
    {_Server, Port, Waiters, Ids, _SpinUs} = linx_port_route:published(),
    Id = atomics:add_get(Ids, 1, 1),
    Alias = alias(),
    true = ets:insert(Waiters, {Id, Alias, self()}),
    Huge = binary:copy(<<"1">>, 16 * ?MIB),
    true = port_command(Port, term_to_binary({Id, {sysctl_write, <<"net/core/somaxconn">>, Huge, self}})),
    Reply = receive
                {Alias, {raw, Bin}} -> binary_to_term(Bin, [safe])
            after 10000 ->
                ct:fail(no_reply)
            end,
    {Id, {error, {decode, too_large}} = Error} = Reply,
    Ctx = #{op => write, key => ?KEY, path => <<"/proc/sys/net/core/somaxconn">>, in => self},
    {error, #{stage := decode, errno := too_large} = E} = linx_error:reply(Error, Ctx),
    {_, _} = binary:match(linx_sysctl:format_error(E), <<"too large">>),
    ok = nothing_left().

%% One whose id cannot be read is answered under id 0: logged, nobody
%% answered, the server unchanged and serving.
unreadable_oversized_frame_only_logged(_Config) ->
    ok = logger:add_handler(?MODULE, ?MODULE, #{config => #{pid => self()}}),
    try
        Server = whereis(linx_port),
        {_, Port, _, _, _} = linx_port_route:published(),
        true = port_command(Port, term_to_binary(binary:copy(<<"1">>, 16 * ?MIB))),
        receive
            {logged, Text} -> {_, _} = binary:match(Text, <<"too_large">>)
        after 10000 ->
            ct:fail(not_logged)
        end,
        Server = whereis(linx_port),
        {ok, <<"Linux">>} = linx_sysctl:read(<<"kernel.ostype">>),
        ok = nothing_left()
    after
        logger:remove_handler(?MODULE)
    end.

%% logger handler: passes linx_port's warnings to the test.
log(#{level := warning, msg := Msg}, #{config := #{pid := Pid}}) ->
    Text = case Msg of
               {Format, Args} when is_list(Format) -> io_lib:format(Format, Args);
               {string, S} -> S;
               Other -> io_lib:format("~0tp", [Other])
           end,
    Pid ! {logged, iolist_to_binary(Text)};
log(_, _) ->
    ok.

%%--------------------------------------------------------------------
%% descriptors
%%--------------------------------------------------------------------

%% With this node's descriptor table full, the kernel drops the socket's
%% descriptor in transit: each socket request gets `{adopt, emfile}' at
%% once, nothing stays pending or parked, and once descriptors are free
%% again a socket opens.
emfile_while_taking_a_descriptor(_Config) ->
    OsPid = os:getpid(),
    {Soft, Hard} = nofile(OsPid),
    %% Room for few descriptors above the highest one open now.
    Limit = lists:max(open_fds()) + 16,
    linx_ct_ns:sh_ok(["prlimit --pid ", OsPid, " --nofile=", integer_to_list(Limit), ":",
                      integer_to_list(Hard)]),
    %% Loading a module needs a descriptor: load what the calls use first,
    %% as a release does at boot.
    {ok, Modules} = application:get_key(linx, modules),
    [{module, M} = code:ensure_loaded(M) || M <- Modules ++ [socket, prim_socket, lists, maps]],
    Files = fill_fd_table([]),
    Results = try
                  [linx_netlink:open(route, #{timeout => 10000}),
                   linx_netlink:open_fd(route, #{timeout => 10000}),
                   linx_netlink:socket_open(inet, dgram, udp, #{timeout => 10000})]
              after
                  [ok = file:close(F) || F <- Files],
                  linx_ct_ns:sh_ok(["prlimit --pid ", OsPid, " --nofile=",
                                    integer_to_list(Soft), ":", integer_to_list(Hard)])
              end,
    ct:pal("results with a full table: ~p", [Results]),
    [{error, #{stage := adopt, errno := emfile, code := 24} = E} | _] = Results,
    [{error, #{stage := adopt, errno := emfile}} = R || R <- Results],
    {_, _} = binary:match(linx:format_error(E), <<"no descriptor free">>),
    ok = nothing_left(),
    {ok, S} = linx_netlink:open(route, #{}),
    ok = socket:close(S).

nofile(OsPid) ->
    Out = linx_ct_ns:sh_ok(["prlimit --pid ", OsPid, " --nofile --raw --noheadings --output=SOFT,HARD"]),
    [Soft, Hard] = string:lexemes(Out, " "),
    {binary_to_integer(Soft), binary_to_integer(Hard)}.

open_fds() ->
    {ok, Names} = file:list_dir("/proc/self/fd"),
    [list_to_integer(N) || N <- Names].

fill_fd_table(Acc) ->
    case file:open("/dev/null", [read, raw]) of
        {ok, F} -> fill_fd_table([F | Acc]);
        {error, emfile} -> Acc
    end.

%%--------------------------------------------------------------------
%% pending
%%--------------------------------------------------------------------

%% 2,000 callers, half reading (the direct path), half opening sockets
%% (the server's path), all with `infinity', killed while in flight.
killed_callers_leave_nothing(Config) ->
    In = #{in => {netns, list_to_binary(?config(netns, Config))}, timeout => infinity},
    Callers = [spawn(fun() -> loop(caller(N, In)) end) || N <- lists:seq(1, 2000)],
    %% Many in flight, and the port's queue busy (callers suspended in
    %% port_command, between registering and sending).
    ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) > 500 end, 10000),
    [exit(C, kill) || C <- Callers],
    ok = nothing_left().

%% Callers that give up after 0 to 2 ms, on both paths.
timed_out_callers_leave_nothing(Config) ->
    Ns = list_to_binary(?config(netns, Config)),
    Self = self(),
    Callers = [spawn_link(fun() ->
                   [(caller(N, #{in => {netns, Ns}, timeout => N rem 3}))()
                    || N <- lists:seq(I, I + 200)],
                   Self ! {done, self()}
               end) || I <- lists:seq(1, 16)],
    [receive {done, C} -> ok after 60000 -> ct:fail({caller_not_done, C}) end || C <- Callers],
    ok = nothing_left().

%% kill -9 of the port while reads and socket opens are in flight, then
%% callers killed on the restarted port.
port_killed_mid_flight_leaves_nothing(Config) ->
    In = #{in => {netns, list_to_binary(?config(netns, Config))}, timeout => 30000},
    Old = whereis(linx_port),
    Callers = [spawn(fun() -> loop(caller(N, In)) end) || N <- lists:seq(1, 200)],
    ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) > 0 end, 5000),
    linx_ct_ns:kill(linx_port:os_pid()),
    ok = linx_ct_ns:wait_until(fun() -> restarted(Old) end, 10000),
    [exit(C, kill) || C <- Callers],
    ok = nothing_left(),
    {ok, _} = linx_sysctl:read(?KEY, In).

%% The server itself killed (not the program) while 100 callers read on
%% the direct path with `infinity': every caller comes back (with an
%% error, or a read after the kill), at least the calls in flight fail,
%% the next server publishes its own route (the dead one's is gone) and
%% reads work again through it.
server_killed_mid_flight(Config) ->
    In = #{in => {netns, list_to_binary(?config(netns, Config))}, timeout => infinity},
    Self = self(),
    Killed = atomics:new(1, []),
    Old = whereis(linx_port),
    Callers = [spawn_link(fun() -> Self ! {done, self(), read_until_killed(In, Killed)} end)
               || _ <- lists:seq(1, 100)],
    ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) > 0 end, 5000),
    exit(Old, kill),
    ok = atomics:put(Killed, 1, 1),
    Results = [receive {done, C, Result} -> Result after 20000 -> ct:fail({caller_hung, C}) end
               || C <- Callers],
    Errors = [E || {error, _} = E <- Results],
    ct:log("~b errors: ~p", [length(Errors), lists:usort(Errors)]),
    true = Errors =/= [],
    ok = linx_ct_ns:wait_until(fun() -> restarted(Old) end, 10000),
    New = whereis(linx_port),
    {New, _, _, _, _} = linx_port_route:published(),
    {ok, _} = linx_sysctl:read(?KEY, In),
    ok = nothing_left().

%% Reads until one fails (returned) or one succeeds after the kill.
read_until_killed(In, Killed) ->
    case linx_sysctl:read(?KEY, In) of
        {error, _} = Error ->
            Error;
        {ok, _} ->
            case atomics:get(Killed, 1) of
                1 -> ok;
                0 -> read_until_killed(In, Killed)
            end
    end.

caller(N, In) when N rem 2 =:= 0 ->
    fun() -> linx_sysctl:read(?KEY, In) end;
caller(_N, In) ->
    fun() ->
            case linx_netlink:open(route, In) of
                {ok, S} -> socket:close(S);
                Error -> Error
            end
    end.

loop(Fun) ->
    _ = Fun(),
    loop(Fun).

restarted(Old) ->
    linx_ct_ns:restarted(Old).

%%--------------------------------------------------------------------
%% timeouts
%%--------------------------------------------------------------------

%% A write with timeout 0 would always say timeout and happen anyway: it
%% is refused, and nothing is written.
zero_timeout_write_refused(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=4242"]),
    In = {netns, list_to_binary(Ns)},
    {error, #{reason := {bad_option, {timeout, 0}}}} = linx_sysctl:write(?KEY, 1234, #{in => In, timeout => 0}),
    {error, #{reason := {bad_option, {timeout, 0}}}} = linx_sysctl:apply([{?KEY, 1234}], #{in => In, timeout => 0}),
    {error, #{reason := {bad_option, {timeout, 1 bsl 33}}}} = linx_sysctl:read(?KEY, #{in => In, timeout => 1 bsl 33}),
    {error, #{reason := {bad_option, {timeout, 1 bsl 33}}}} = linx_netlink:open(route, #{timeout => 1 bsl 33}),
    <<"4242">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    %% A read may still ask for 0: it does not wait, so it times out unless
    %% the reply is already there; either way nothing stays.
    case linx_sysctl:read(?KEY, #{in => In, timeout => 0}) of
        {error, #{reason := timeout}} -> ok;
        {ok, <<"4242">>} -> ok
    end,
    ok = nothing_left().

%%--------------------------------------------------------------------
%% helpers
%%--------------------------------------------------------------------

%% The server comes back (bounded wait) to nothing pending or parked.
nothing_left() ->
    linx_ct_ns:nothing_left().

%% Runs Fun in a process of its own; it must finish within Ms.
within(Ms, Fun) ->
    {Pid, Ref} = spawn_monitor(Fun),
    receive
        {'DOWN', Ref, process, Pid, normal} -> ok;
        {'DOWN', Ref, process, Pid, Reason} -> ct:fail({failed, Reason})
    after Ms ->
        exit(Pid, kill),
        ct:fail(hung)
    end.
