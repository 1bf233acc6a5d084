%% @doc Stalls never stall callers: a stopped namespace helper (SIGSTOP)
%% flooded with requests holds up only its own target, whose callers get
%% errors within their timeout + 100 ms, and works again after SIGCONT or
%% once the helper is replaced; a stopped port program with 3,000 callers
%% waiting holds nobody past timeout + 100 ms and is replaced by the
%% watchdog; in C-node mode a stopped helper does not hold up the daemon's
%% other callers. Times are each call's own, measured around it.
-module(linx_stall_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, groups/0]).
-export([init_per_group/2, end_per_group/2, init_per_testcase/2, end_per_testcase/2]).
-export([stopped_helper_then_continued/1, stopped_helper_replaced/1,
         stopped_helper_ends_with_program/1, stopped_port_with_3000_callers/1,
         call_behind_the_hang_not_running/1,
         cnode_stopped_helper/1, cnode_stopped_daemon/1, cnode_stopped_caller_node/1,
         cnode_helper_ends_with_daemon/1]).
%% Run on a peer node.
-export([list_once/1, owe_lists/3]).

%% Every call here has this timeout, and must return within it + SLACK.
-define(TIMEOUT, 1000).
-define(SLACK, 100).
-define(VALUE_BYTES, 60000).
-define(FLOOD, 40).
%% Callers of a stopped C-node: enough 60 kB writes to fill the
%% distribution connection (the daemon's socket buffers and the 1 MB the
%% node queues before the connection is busy).
-define(DIST_FLOOD, 300).

suite() ->
    [{timetrap, {minutes, 3}}].

all() ->
    [{group, port}, {group, cnode}].

groups() ->
    [{port, [], [stopped_helper_then_continued, stopped_helper_replaced,
                 stopped_helper_ends_with_program, stopped_port_with_3000_callers,
                 call_behind_the_hang_not_running]},
     {cnode, [], [cnode_stopped_helper, cnode_stopped_daemon, cnode_stopped_caller_node,
                  cnode_helper_ends_with_daemon]}].

init_per_group(port, Config) ->
    Ns = linx_ct_ns:unique("linx-stl"),
    case linx_ct_ns:netns_add(Ns) of
        ok -> [{netns, Ns} | Config];
        Skip -> Skip
    end;
init_per_group(cnode, Config) ->
    Config1 = linx_ct_cnode:setup("linx_stl_cnode", ?config(priv_dir, Config),
                                  ["--liveness-ms", "500"]) ++ Config,
    Ns = linx_ct_ns:unique("linx-stc"),
    case linx_ct_ns:netns_add(Ns) of
        ok -> [{netns, Ns} | Config1];
        Skip -> end_per_group(cnode, Config1), Skip
    end.

end_per_group(cnode, Config) ->
    _ = [linx_ct_ns:netns_del(Ns) || Ns <- [?config(netns, Config)], Ns =/= undefined],
    linx_ct_cnode:teardown(Config);
end_per_group(port, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

init_per_testcase(Case, Config) ->
    linx_ct_ns:start_with_userns([{liveness_ms, liveness(Case)}], Config).

end_per_testcase(_Case, Config) ->
    linx_ct_ns:stop_with_userns([liveness_ms], Config).

%% Long enough that the stopped helper is not replaced before SIGCONT.
liveness(stopped_helper_then_continued) -> 60000;
liveness(_) -> 500.

%%====================================================================
%% Cases
%%====================================================================

%% A stopped helper, flooded: the host and another netns are served
%% meanwhile, the flood's callers get errors in time, and after SIGCONT
%% the target answers again.
stopped_helper_then_continued(Config) ->
    In = rootless(Config),
    Helper = started_helper(linx_port:os_pid(), In),
    signal("STOP", Helper),
    try
        Flood = flood(In),
        others_served(Config, #{}),
        flood_errors(Flood, [timeout, busy])
    after
        signal("CONT", Helper)
    end,
    ok = linx_ct_ns:wait_until(fun() -> ok_read(In) end, 10000),
    [Helper] = helper_pids(linx_port:os_pid()),
    ok = linx_ct_ns:nothing_left().

%% A stopped helper that stays stopped is killed and replaced (after twice
%% the liveness time): its callers' errors come in time, the target
%% answers again through a new helper, and the kill is counted.
stopped_helper_replaced(Config) ->
    In = rootless(Config),
    OsPid = linx_port:os_pid(),
    Helper = started_helper(OsPid, In),
    signal("STOP", Helper),
    try
        Flood = flood(In),
        others_served(Config, #{}),
        flood_errors(Flood, [timeout, busy, hung]),
        ok = linx_ct_ns:wait_until(fun() -> ok_read(In) end, 10000)
    after
        signal("CONT", Helper)
    end,
    false = lists:member(Helper, helper_pids(OsPid)),
    {ok, #{helpers_hung := 1}} = linx_port:request(stats),
    ok = linx_ct_ns:nothing_left().

%% The program killed while its helper is stopped: the helper, which
%% would never read the end of its input, ends with the program (the
%% kernel kills it), and the restarted program serves its target through
%% a new helper.
stopped_helper_ends_with_program(Config) ->
    In = rootless(Config),
    OsPid = linx_port:os_pid(),
    Helper = started_helper(OsPid, In),
    signal("STOP", Helper),
    signal("KILL", OsPid),
    ok = linx_ct_ns:wait_until(fun() -> ended(Helper) end, 5000),
    ok = linx_ct_ns:wait_until(fun() -> ok_read(In) end, 10000),
    true = linx_port:os_pid() =/= OsPid,
    [New] = helper_pids(linx_port:os_pid()),
    true = New =/= Helper,
    ok = linx_ct_ns:nothing_left().

%% The port program stopped with 3,000 callers waiting (reads on the
%% direct path, socket opens through the server): each returns within its
%% timeout + 100 ms, the watchdog kills and replaces the program, calls
%% succeed afterwards, and nothing is left behind.
stopped_port_with_3000_callers(Config) ->
    FdsBefore = descriptors(),
    Old = whereis(linx_port),
    OsPid = linx_port:os_pid(),
    #{port_hangs := Hangs} = linx_stats:snapshot(),
    NsIn = #{in => {netns, list_to_binary(?config(netns, Config))}, timeout => ?TIMEOUT},
    Host = #{timeout => ?TIMEOUT},
    signal("STOP", OsPid),
    try
        Self = self(),
        Callers = [spawn_link(fun() -> Self ! {done, self(), timed(call(N, Host, NsIn))} end)
                   || N <- lists:seq(1, 3000)],
        Results = [receive {done, C, R} -> R after 30000 -> ct:fail({caller_hung, C}) end
                   || C <- Callers],
        Kinds = count([kind(R) || {R, _} <- Results]),
        Slowest = lists:max([Ms || {_, Ms} <- Results]),
        ct:pal("3000 callers on a stopped port: ~p; slowest ~b ms", [Kinds, Slowest]),
        [] = [R || {R, Ms} <- Results, Ms > ?TIMEOUT + ?SLACK],
        [] = maps:keys(Kinds) -- [timeout, busy_port, port_hung, port_exited, not_running],
        %% Still stopped: only the watchdog can replace it.
        ok = linx_ct_ns:wait_until(fun() -> linx_ct_ns:restarted(Old) end, 10000)
    catch
        Class:Reason:Stack ->
            signal("CONT", OsPid),
            erlang:raise(Class, Reason, Stack)
    end,
    ok = linx_ct_ns:wait_until(fun() -> ok_read(Host) andalso ok_read(NsIn) end, 10000),
    #{port_hangs := Hangs1} = linx_stats:snapshot(),
    Hangs1 = Hangs + 1,
    ok = linx_ct_ns:wait_until(fun() -> not filelib:is_dir("/proc/" ++ integer_to_list(OsPid)) end,
                               5000),
    ok = linx_ct_ns:nothing_left(),
    ok = linx_ct_ns:wait_until(fun() -> descriptors() =< FdsBefore end, 10000).

%% A call that reaches the server behind the watchdog's verdict (after the
%% tick that finds the stopped program hung, in the server's mailbox)
%% never reaches a program: it gets `not_running', as any call made while
%% the program restarts, while the request the program owed gets
%% `{port_hung, Ms}'. (The hang's error once reached such a call too,
%% which read as if the restarted program had hung.) The server is held
%% right after its ping, from inside (a sys debug function), so that the
%% order is certain.
call_behind_the_hang_not_running(_Config) ->
    Old = whereis(linx_port),
    OsPid = linx_port:os_pid(),
    #{port_hangs := Hangs} = linx_stats:snapshot(),
    Self = self(),
    ok = sys:install(Old, {fun hold_after_ping/3, Self}),
    signal("STOP", OsPid),
    try
        spawn_link(fun() -> Self ! {owed, linx_sysctl:read("kernel.ostype", #{timeout => 10000})} end),
        Sent = receive {pinged, Old, At} -> At after 10000 -> ct:fail(no_ping) end,
        %% The next tick comes a liveness time after the ping or later:
        %% it finds the program hung.
        Due = Sent + liveness(?FUNCTION_NAME),
        ok = linx_ct_ns:wait_until(fun() -> erlang:monotonic_time(millisecond) >= Due end, 5000),
        ok = linx_ct_ns:wait_until(fun() -> queued(Old, watch) end, 5000),
        %% A socket open goes through the server.
        spawn_link(fun() -> Self ! {opened, linx_netlink:open(route, #{timeout => 5000})} end),
        ok = linx_ct_ns:wait_until(fun() -> queued(Old, '$gen_call') end, 5000)
    after
        Old ! {go, Self}
    end,
    {error, #{reason := {port_hung, _}}} = receive {owed, R1} -> R1 after 5000 -> ct:fail(owed) end,
    {error, #{reason := not_running}} = receive {opened, R2} -> R2 after 5000 -> ct:fail(opened) end,
    ok = linx_ct_ns:wait_until(fun() -> linx_ct_ns:restarted(Old) end, 10000),
    {ok, S} = linx_netlink:open(route, #{}),
    ok = socket:close(S),
    #{port_hangs := Hangs1} = linx_stats:snapshot(),
    Hangs1 = Hangs + 1.

%% A sys debug function of the `linx_port' server: once a tick has pinged
%% the program, it tells `Test' when, and holds the server until `Test'
%% says go.
hold_after_ping(Test, {noreply, State}, _Name) ->
    [Watch] = [E || E <- tuple_to_list(State), is_map(E), is_map_key(ping, E)],
    case Watch of
        #{ping := {_Id, Sent}} ->
            Test ! {pinged, self(), Sent},
            receive {go, Test} -> done end;
        #{ping := none} ->
            Test
    end;
hold_after_ping(Test, _Event, _Name) ->
    Test.

%% Whether a message of kind `Kind' (`watch', a `$gen_call') waits in the
%% mailbox of `Pid'.
queued(Pid, Kind) ->
    {messages, Messages} = erlang:process_info(Pid, messages),
    lists:any(fun(watch) -> Kind =:= watch;
                 ({'$gen_call', _, _}) -> Kind =:= '$gen_call';
                 (_) -> false
              end, Messages).

%% C-node mode: a stopped helper of the daemon, flooded, does not hold up
%% its other callers; it is replaced and its target answers again.
cnode_stopped_helper(Config) ->
    Via = #{via => ?config(cnode, Config)},
    In = maps:merge(rootless(Config), Via),
    {OsPid, _} = linx_ct_cnode:state(),
    Helper = started_helper(OsPid, In),
    signal("STOP", Helper),
    try
        Flood = flood(In),
        others_served(Config, Via),
        flood_errors(Flood, [timeout, busy, hung]),
        ok = linx_ct_ns:wait_until(fun() -> ok_read(In) end, 10000)
    after
        signal("CONT", Helper)
    end,
    false = lists:member(Helper, helper_pids(OsPid)).

%% C-node mode: the daemon stopped (SIGSTOP) while 300 callers each send
%% it a 60 kB write: the distribution connection fills and no longer takes
%% requests, yet every caller returns within its timeout + 100 ms,
%% `{error, timeout}' when its request left and `{busy, dist}' when the
%% connection never took it; after SIGCONT the daemon serves again.
cnode_stopped_daemon(Config) ->
    C = ?config(cnode, Config),
    In = #{via => C, in => {netns, list_to_binary(?config(netns, Config))}, timeout => ?TIMEOUT},
    {OsPid, _} = linx_ct_cnode:state(),
    true = ok_read(In),
    Value = binary:copy(<<"1">>, ?VALUE_BYTES),
    signal("STOP", OsPid),
    try
        Self = self(),
        Write = fun() -> linx_sysctl:write("net.ipv4.ip_default_ttl", Value, In) end,
        Callers = [spawn_link(fun() -> Self ! {done, self(), timed(Write)} end)
                   || _ <- lists:seq(1, ?DIST_FLOOD)],
        Results = [receive {done, P, R} -> R after 30000 -> ct:fail({caller_hung, P}) end
                   || P <- Callers],
        Kinds = count([kind(R) || {R, _} <- Results]),
        ct:pal("~b callers of a stopped C-node: ~p; slowest ~b ms",
               [?DIST_FLOOD, Kinds, lists:max([Ms || {_, Ms} <- Results])]),
        [] = [R || {R, Ms} <- Results, Ms > ?TIMEOUT + ?SLACK],
        [] = maps:keys(Kinds) -- [timeout, busy_dist],
        %% The connection was full: some requests never left.
        true = maps:is_key(busy_dist, Kinds)
    after
        signal("CONT", OsPid)
    end,
    ok = linx_ct_ns:wait_until(fun() -> ok_read(In) end, 10000),
    true = ok_read(Via = #{via => C, timeout => ?TIMEOUT}),
    {ok, _} = linx_sysctl:read("kernel.ostype", Via).

%% C-node mode: a caller's node that stops reading (SIGSTOP) while the
%% daemon owes it replies does not hold up the daemon's other callers:
%% the daemon's socket to it is full (its queued bytes reached its send
%% buffer: the kernel takes no more) with replies still waiting. So that
%% this holds whatever the timing and the kernel's buffer autotuning, the
%% node's receive buffer is fixed (`recbuf') and, while the daemon is
%% stopped, it asks for listings of every sysctl, twice what its receive
%% buffer and the largest send buffer (`tcp_wmem') hold; it stops once
%% the daemon's socket has received the requests.
cnode_stopped_caller_node(Config) ->
    C = ?config(cnode, Config),
    {Daemon, _} = linx_ct_cnode:state(),
    Port = linx_ct_cnode:dist_port(C),
    {ok, Peer, _} = peer:start(#{name => list_to_atom(linx_ct_ns:unique("linx_stl_peer")),
                                 connection => standard_io,
                                 args => ["-setcookie", atom_to_list(erlang:get_cookie()),
                                          "-pa", filename:dirname(code:which(?MODULE)),
                                          "-kernel", "inet_dist_connect_options",
                                          "[{recbuf, 65536}]"]}),
    PeerOsPid = list_to_integer(peer:call(Peer, os, getpid, [])),
    try
        {ListBytes, PeerPort} = peer:call(Peer, ?MODULE, list_once, [C], 40000),
        #{rb := RcvBuf} = conn(PeerPort, Port),
        {ok, Wmem} = file:read_file("/proc/sys/net/ipv4/tcp_wmem"),
        [_, _, SndBufMax] = [binary_to_integer(W) || W <- string:lexemes(Wmem, " \t\n")],
        Owed = 2 * (RcvBuf + SndBufMax),
        true = Owed < 64 bsl 20,               % under the daemon's MAX_PENDING
        PerBatch = max(1, (1 bsl 20) div ListBytes),
        Batches = Owed div (PerBatch * ListBytes) + 1,
        signal("STOP", Daemon),
        Bound = peer:call(Peer, ?MODULE, owe_lists, [C, Batches, PerBatch]),
        ok = linx_ct_ns:wait_until(fun() -> maps:get(recv_q, conn(Port, PeerPort)) >= Bound end,
                                   10000),
        signal("STOP", PeerOsPid),
        signal("CONT", Daemon),
        Full = fun() -> full(conn(Port, PeerPort)) end,
        {ok, Ms} = timed(fun() -> linx_ct_ns:wait_until(Full, 30000) end),
        ct:pal("~b replies of ~b bytes owed: the daemon's socket full in ~b ms (~p)",
               [Batches, PerBatch * ListBytes, Ms, conn(Port, PeerPort)]),
        others_served(Config, #{via => C})
    after
        signal("CONT", Daemon),
        signal("CONT", PeerOsPid),
        peer:stop(Peer)
    end.

%% On the peer: one listing of every sysctl through the C-node `C' (which
%% opens the connection); its size, and the local port of the connection.
list_once(C) ->
    Tag = make_ref(),
    {linx, C} ! {self(), Tag, {batch, self, [{sysctl_list, <<>>}]}},
    Reply = receive {Tag, {ok, [{ok, _}]} = R} -> R after 30000 -> exit(no_listing) end,
    {ok, {_, LocalPort}} = inet:sockname(proplists:get_value(C, erlang:system_info(dist_ctrl))),
    {byte_size(term_to_binary(Reply)), LocalPort}.

%% On the peer: `N' requests of `Lists' listings each, their replies going
%% to a process that drops them, then a ping as long as `Bound', which is
%% returned: at least what the requests take on the connection (a frame
%% holds a header, the control message and the message, an atom's text at
%% most twice), so they are within the stream's first `Bound' bytes.
owe_lists(C, N, Lists) ->
    Sink = spawn(fun Drop() -> receive _ -> Drop() end end),
    Msgs = [{Sink, make_ref(), {batch, self, lists:duplicate(Lists, {sysctl_list, <<>>})}}
            || _ <- lists:seq(1, N)],
    Bound = lists:sum([2 * byte_size(term_to_binary({{6, self(), '', linx}, M})) + 64 || M <- Msgs]),
    [{linx, C} ! M || M <- Msgs ++ [{Sink, make_ref(), {ping, binary:copy(<<0>>, Bound)}}]],
    Bound.

%% What `ss' shows of this host's connection from port `From' to port
%% `To': its receive and send queues and its socket memory (`rb' the
%% receive buffer, `tb' the send buffer, `w' the bytes queued to send).
conn(From, To) ->
    Out = linx_ct_ns:sh_ok(["ss -tnmH state established '( sport = :", integer_to_list(From),
                            " and dport = :", integer_to_list(To), " )'"]),
    [RecvQ, SendQ | _] = string:lexemes(Out, " \t\n"),
    {match, [Mem]} = re:run(Out, "skmem:\\(([^)]*)\\)", [{capture, all_but_first, binary}]),
    maps:from_list([{recv_q, binary_to_integer(RecvQ)}, {send_q, binary_to_integer(SendQ)}
                    | [{binary_to_atom(K), binary_to_integer(V)}
                       || F <- binary:split(Mem, <<",">>, [global]),
                          {match, [K, V]} <- [re:run(F, "^([a-z]+)([0-9]+)$",
                                                     [{capture, all_but_first, binary}])]]]).

%% The kernel takes no more from the daemon: a send would wait.
full(#{w := Queued, tb := SndBuf}) -> Queued >= SndBuf.

%% C-node mode, last in its group (it stops the daemon): a helper started
%% for a connection, stopped when the daemon is killed, ends with the
%% daemon, though the thread that asked for it was a connection's.
cnode_helper_ends_with_daemon(Config) ->
    In = maps:merge(rootless(Config), #{via => ?config(cnode, Config)}),
    {OsPid, _} = linx_ct_cnode:state(),
    {ok, _} = linx_sysctl:read("net.core.somaxconn", In#{timeout => 5000}),
    %% The one that serves In (the case before left a replaced one behind,
    %% which may not have been reaped yet).
    [_ | _] = Helpers = [H || H <- helper_pids(OsPid), not ended(H)],
    [signal("STOP", H) || H <- Helpers],
    ok = linx_ct_cnode:stop(),
    ok = linx_ct_ns:wait_until(fun() -> ended(OsPid) end, 5000),
    ok = linx_ct_ns:wait_until(fun() -> lists:all(fun ended/1, Helpers) end, 5000).

%%====================================================================
%% Helpers
%%====================================================================

rootless(Config) ->
    #{in => {pid, ?config(pid, Config)}, timeout => ?TIMEOUT}.

%% The helper that serves `In' once a read has started it.
started_helper(OsPid, In) ->
    {ok, _} = linx_sysctl:read("net.core.somaxconn", In#{timeout => 5000}),
    [Helper] = helper_pids(OsPid),
    Helper.

%% Children of OS process `OsPid' started as namespace helpers.
helper_pids(OsPid) ->
    [Pid || Pid <- linx_ct_ns:children(OsPid), is_helper(Pid)].

is_helper(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/cmdline") of
        {ok, Cmd} -> binary:match(Cmd, <<"--ns-helper">>) =/= nomatch;
        {error, _} -> false
    end.

%% Nothing of OS process `Pid' runs any more (gone, or a zombie).
ended(Pid) ->
    linx_ct_ns:proc_state(Pid) =:= gone.

signal(Sig, Pid) ->
    _ = linx_ct_ns:sh(["kill -", Sig, " ", integer_to_list(Pid), " 2>/dev/null"]),
    ok.

%% 40 writes of 60 kB for the target of `In', each by a caller of its own;
%% returns once the helper's queue is full (a write was refused for room)
%% or every caller is done.
flood(In) ->
    Value = binary:copy(<<"1">>, ?VALUE_BYTES),
    Self = self(),
    Callers = [spawn_link(fun() ->
                                  R = timed(fun() -> linx_sysctl:write("net.ipv4.ip_default_ttl",
                                                                      Value, In) end),
                                  Self ! {flooded, self(), R}
                          end) || _ <- lists:seq(1, ?FLOOD)],
    First = receive {flooded, C, R} -> {C, R} after 5000 -> ct:fail(flood_unanswered) end,
    {Callers, [First]}.

%% Every flood caller got an error of `Kinds' within its timeout + 100 ms.
flood_errors({Callers, Got}, Kinds) ->
    Results = [case lists:keyfind(C, 1, Got) of
                   {C, R} -> R;
                   false -> receive {flooded, C, R} -> R after 10000 -> ct:fail({hung, C}) end
               end || C <- Callers],
    Seen = count([kind(R) || {R, _} <- Results]),
    ct:pal("flood of a stopped helper: ~p, slowest ~b ms",
           [Seen, lists:max([Ms || {_, Ms} <- Results])]),
    [] = [R || {R, Ms} <- Results, Ms > ?TIMEOUT + ?SLACK],
    [] = maps:keys(Seen) -- Kinds,
    ok.

%% While the flood waits: reads of the host and of another netns are
%% answered, each well within its timeout.
others_served(Config, Via) ->
    NsIn = Via#{in => {netns, list_to_binary(?config(netns, Config))}, timeout => ?TIMEOUT},
    Host = Via#{timeout => ?TIMEOUT},
    Results = [timed(fun() -> linx_sysctl:read(Key, Opts) end)
               || _ <- lists:seq(1, 20),
                  {Key, Opts} <- [{"kernel.ostype", Host}, {"net.core.somaxconn", NsIn}]],
    ct:pal("other targets meanwhile: slowest ~b ms", [lists:max([Ms || {_, Ms} <- Results])]),
    [] = [R || {R, _} <- Results, element(1, R) =/= ok],
    [] = [Ms || {_, Ms} <- Results, Ms >= ?TIMEOUT],
    ok.

%% Caller N of the stopped port: mostly reads (the direct path), every
%% tenth a socket open (the server's path).
call(N, _Host, NsIn) when N rem 10 =:= 0 ->
    fun() ->
            case linx_netlink:open(route, NsIn) of
                {ok, S} -> socket:close(S), {ok, socket};
                Error -> Error
            end
    end;
call(N, Host, _NsIn) when N rem 2 =:= 0 ->
    fun() -> linx_sysctl:read("kernel.ostype", Host) end;
call(_N, _Host, NsIn) ->
    fun() -> linx_sysctl:read("net.core.somaxconn", NsIn) end.

%% {Result, Ms}: the call's own elapsed time.
timed(Fun) ->
    T0 = erlang:monotonic_time(millisecond),
    R = Fun(),
    {R, erlang:monotonic_time(millisecond) - T0}.

kind({ok, _}) -> ok;
kind({error, #{module := _, function := _, reason := Reason}}) -> kind({error, Reason});
kind({error, timeout}) -> timeout;
kind({error, #{stage := busy, errno := helper}}) -> busy;
kind({error, #{stage := thread, errno := hung}}) -> hung;
kind({error, #{stage := busy, errno := port}}) -> busy_port;
kind({error, #{stage := busy, errno := dist}}) -> busy_dist;
kind({error, {port_hung, Ms}}) when is_integer(Ms) -> port_hung;
kind({error, {port_exited, _}}) -> port_exited;
kind({error, not_running}) -> not_running;
kind(Other) -> Other.

count(Kinds) ->
    lists:foldl(fun(K, Acc) -> maps:update_with(K, fun(N) -> N + 1 end, 1, Acc) end, #{}, Kinds).

ok_read(Opts) ->
    element(1, linx_sysctl:read("net.core.somaxconn", Opts)) =:= ok.


descriptors() ->
    Dir = "/proc/" ++ os:getpid() ++ "/fd/",
    {ok, Fds} = file:list_dir(Dir),
    length([F || F <- Fds, {ok, L} <- [file:read_link(Dir ++ F)], hd(L) =/= $/]).
