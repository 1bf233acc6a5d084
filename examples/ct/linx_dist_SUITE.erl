%% Testing a distributed Erlang system under network faults: three Erlang
%% nodes, each in a namespace of its own on a hub that the linx_cth hook
%% makes, cut apart, healed, slowed down and made to lose packets.
%%
%% The nodes are started with OTP's `peer' module through `ip netns exec
%% NAME erl'; this node drives them over their standard input and output,
%% so it needs no distribution itself and reaches them whatever the
%% network between them does. They talk to each other by distributed
%% Erlang over the hub: `-name <node>@<hub address>', one cookie, a short
%% net_ticktime so that a cut shows within seconds. They use no epmd:
%% with `-start_epmd false' none is started (each namespace would
%% otherwise get an epmd daemon of its own, left running after the node
%% stops), and with `-erl_epmd_port 4370' every node listens on port
%% 4370 of its own address and looks for the others there.
%%
%% Each case starts its three nodes (in init_per_testcase, linked to the
%% case's process) and stops them in end_per_testcase; a case that dies
%% takes them along. The hook removes the faults a case made when it
%% ends, and the namespaces after the suite.
-module(linx_dist_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1,
         init_per_testcase/2, end_per_testcase/2]).
-export([nodes_connect/1,
         a_megabyte_in_under_a_second/1,
         a_dying_owner_takes_its_nodes_along/1,
         partition_and_heal/1,
         rate_limit_slows_a_megabyte/1,
         loss_still_delivers/1]).
%% Run on the peers.
-export([watch/0, wait_for/4]).

-define(KEYS, [a, b, c]).
%% The peers' net_ticktime, in seconds.
-define(TICK, 4).
-define(DIST_PORT, "4370").
-define(MB, 1000000).
%% The hub's prefix (linx_cth's default).
-define(NET, "10.254.0.0/16").

suite() ->
    [{timetrap, {minutes, 2}},
     {ct_hooks, [{linx_cth, #{hub => ?KEYS}}]}].

all() ->
    [nodes_connect,
     a_megabyte_in_under_a_second,
     a_dying_owner_takes_its_nodes_along,
     partition_and_heal,
     rate_limit_slows_a_megabyte,
     loss_still_delivers].

init_per_suite(Config) ->
    report({cases, length(all())}),
    report({ct_node, os:getpid()}),
    Config.

end_per_suite(_Config) ->
    ok.

init_per_testcase(a_dying_owner_takes_its_nodes_along, Config) ->
    Config;
init_per_testcase(Case, Config) ->
    ok = hub_routes(Config, rto_min(Case)),
    Peers = start_peers(Config, tick(Case)),
    report({netns, [linx_cth:netns(K, Config) || K <- [hub | ?KEYS]]}),
    report({peers, [Os || {_, {_, _, Os}} <- maps:to_list(Peers)]}),
    connect_all(Peers),
    [{peers, Peers} | Config].

end_per_testcase(Case, Config) ->
    [peer:stop(P) || {_, {P, _, _}} <- maps:to_list(proplists:get_value(peers, Config, #{}))],
    case rto_min(Case) of
        "" -> ok;
        _ -> ok = hub_routes(Config, "")
    end.

%%--------------------------------------------------------------------
%% Cases

%% Every node sees the two others; each runs in its namespace, and no
%% epmd runs in any of them.
nodes_connect(Config) ->
    Peers = ?config(peers, Config),
    [begin
         Others = lists:sort([N || {O, {_, N, _}} <- maps:to_list(Peers), O =/= K]),
         Others = lists:sort(peer:call(P, erlang, nodes, [])),
         InNs = netns_pids(linx_cth:netns(K, Config)),
         true = lists:member(Os, InNs),
         [] = [E || E <- InNs, comm(E) =:= "epmd"]
     end || {K, {P, _, Os}} <- maps:to_list(Peers)],
    [] = [E || E <- netns_pids(linx_cth:netns(hub, Config)), comm(E) =:= "epmd"],
    ok.

%% A 1 MB reply from b to a over the hub: well under a second.
a_megabyte_in_under_a_second(Config) ->
    Ms = megabyte_ms(?config(peers, Config)),
    ct:pal("1 MB rpc reply, no fault: ~b ms", [Ms]),
    true = Ms < 1000.

%% A process that owns the nodes dies: they stop with it (their
%% standard input closes), and no OS process of theirs is left.
a_dying_owner_takes_its_nodes_along(Config) ->
    Self = self(),
    {Owner, Ref} = spawn_monitor(fun() ->
                                         Peers = start_peers(Config, ?TICK),
                                         Self ! {self(), [Os || {_, {_, _, Os}} <- maps:to_list(Peers)]},
                                         receive die -> error(on_purpose) end
                                 end),
    OsPids = receive {Owner, Started} -> Started end,
    report({peers, OsPids}),
    [true = alive(Os) || Os <- OsPids],
    Owner ! die,
    receive {'DOWN', Ref, process, Owner, {on_purpose, _}} -> ok end,
    ok = wait_until(fun() -> not lists:any(fun alive/1, OsPids) end, 15000).

%% a cut off from b and c: b and c see a go within the tick time (and
%% keep each other), a sees both go; healed, a connects to both again.
partition_and_heal(Config) ->
    #{a := {PA, A, _}, b := {PB, B, _}, c := {PC, C, _}} = ?config(peers, Config),
    %% A node is down after net_ticktime to 1.25 x net_ticktime of silence.
    Limit = ?TICK * 1250 + 3000,
    Since = os:system_time(millisecond),
    ok = linx_cth:partition([a], [b, c], Config),
    Waits = [{P, Gone} || {P, Gone} <- [{PA, [B, C]}, {PB, [A]}, {PC, [A]}]],
    Downs = [peer:call(P, ?MODULE, wait_for, [nodedown, Gone, Since, Limit], Limit + 5000)
             || {P, Gone} <- Waits],
    Delays = [T - Since || {ok, Ts} <- Downs, {_, T} <- Ts],
    ct:pal("nodedown after the partition: ~w ms (limit ~b ms)", [Delays, Limit]),
    [{ok, _}, {ok, _}, {ok, _}] = Downs,
    true = lists:all(fun(D) -> D >= ?TICK * 500 andalso D =< Limit end, Delays),
    [C] = peer:call(PB, erlang, nodes, []),
    [B] = peer:call(PC, erlang, nodes, []),
    [] = peer:call(PA, erlang, nodes, []),
    ok = linx_cth:heal([a], [b, c], Config),
    true = peer:call(PA, net_kernel, connect_node, [B], 30000),
    true = peer:call(PA, net_kernel, connect_node, [C], 30000),
    [B, C] = lists:sort(peer:call(PA, erlang, nodes, [])),
    ok.

%% 1 Mbit/s between a and b: a 1 MB reply takes about 8 s.
rate_limit_slows_a_megabyte(Config) ->
    Peers = ?config(peers, Config),
    Before = megabyte_ms(Peers),
    ok = linx_cth:impair({a, b}, #{rate => 1000000}, Config),
    Ms = megabyte_ms(Peers),
    ct:pal("1 MB rpc reply: ~b ms at 1 Mbit/s, ~b ms before", [Ms, Before]),
    true = Before < 1000,
    true = Ms >= 6000 andalso Ms =< 12000.

%% 30% of the packets between a and b lost (each way: a ping from a to b
%% gets about half its replies): calls still get through, TCP sending
%% again what was lost.
loss_still_delivers(Config) ->
    #{a := {PA, _, _}, b := {_, B, _}} = ?config(peers, Config),
    ok = linx_cth:impair({a, b}, #{loss => 30}, Config),
    Replies = ping(linx_cth:netns(a, Config), linx_cth:hub_addr(b, Config), 100),
    Value = lists:seq(1, 1000),
    {Us, Values} = peer:call(PA, timer, tc,
                             [lists, map, [fun(_) -> rpc:call(B, lists, seq, [1, 1000], 30000) end,
                                           lists:seq(1, 10)]], 300000),
    ct:pal("at 30% loss: ~b of 100 pings answered; 10 rpc:calls in ~b ms", [Replies, Us div 1000]),
    true = Replies >= 20 andalso Replies =< 80,
    [Value] = lists:usort(Values).

%%--------------------------------------------------------------------
%% The nodes

%% The nodes' net_ticktime: short, but for the case that loses packets
%% on purpose, where TCP's retries after a run of losses could go quiet
%% for longer than a short tick time and count as a partition.
tick(loss_still_delivers) -> 60;
tick(_Case) -> ?TICK.

%% For the case that loses packets, the nodes' route to the hub gets a
%% short minimum for TCP's retransmission timeout (else at least 200 ms,
%% doubled on each loss in a row: with 30% lost each way, a call would
%% now and then wait for half a minute).
rto_min(loss_still_delivers) -> " rto_min 5ms";
rto_min(_Case) -> "".

%% Each node's route to the hub's prefix (as the kernel made it for the
%% address of eth0), with Extra.
hub_routes(Config, Extra) ->
    #{hub := #{addrs := Addrs}} = linx_cth:setup(Config),
    Cmds = [lists:concat(["ip -n ", binary_to_list(linx_cth:netns(K, Config)), " route replace ", ?NET,
                          " dev eth0 proto kernel scope link src ", inet:ntoa(IP), Extra, " && echo ok"])
            || {K, IP} <- maps:to_list(Addrs)],
    case [{C, Out} || C <- Cmds, (Out = os:cmd(C)) =/= "ok\n"] of
        [] -> ok;
        Failed -> {error, Failed}
    end.

%% A node per key, in its namespace at its hub address:
%% #{Key => {Peer, Node, OsPid}}.
start_peers(Config, Tick) ->
    Erl = os:find_executable("erl"),
    Ip = os:find_executable("ip"),
    Cookie = "linx_dist_" ++ os:getpid(),
    {Mod, Bin, File} = code:get_object_code(?MODULE),
    Start = fun(K) ->
                    Ns = binary_to_list(linx_cth:netns(K, Config)),
                    {ok, P, Node} = peer:start_link(
                                      #{exec => {Ip, ["netns", "exec", Ns, Erl]},
                                        connection => standard_io,
                                        name => "linx_dist_" ++ atom_to_list(K) ++ "_" ++ os:getpid(),
                                        host => inet:ntoa(linx_cth:hub_addr(K, Config)),
                                        longnames => true,
                                        args => ["-setcookie", Cookie,
                                                 "-start_epmd", "false", "-erl_epmd_port", ?DIST_PORT,
                                                 "-kernel", "net_ticktime", integer_to_list(Tick)]}),
                    {module, Mod} = peer:call(P, code, load_binary, [Mod, File, Bin]),
                    ok = peer:call(P, ?MODULE, watch, []),
                    {K, {P, Node, peer:call(P, os, getpid, [])}}
            end,
    %% One after another, each linked to the caller (peer:start_link/1),
    %% so that they stop when it ends or dies.
    maps:from_list([Start(K) || K <- ?KEYS]).

%% a connects to b and c (and global connects b and c).
connect_all(#{a := {PA, _, _}} = Peers) ->
    [true = peer:call(PA, net_kernel, connect_node, [N]) || {K, {_, N, _}} <- maps:to_list(Peers), K =/= a],
    ok = wait_until(fun() ->
                            lists:all(fun({_, {P, _, _}}) -> length(peer:call(P, erlang, nodes, [])) =:= 2 end,
                                      maps:to_list(Peers))
                    end, 10000).

%% The time a's rpc:call to b takes to bring back 1 MB, in ms.
megabyte_ms(#{a := {PA, _, _}, b := {_, B, _}}) ->
    {Us, Reply} = peer:call(PA, timer, tc, [rpc, call, [B, binary, copy, [<<7>>, ?MB], 30000]], 35000),
    ?MB = byte_size(Reply),
    Us div 1000.

%% On a peer: a registered process that notes every nodeup and nodedown
%% (with the time, os:system_time(millisecond), the same clock in every
%% node of the machine) and answers wait_for/4.
watch() ->
    Parent = self(),
    Pid = spawn(fun() ->
                        ok = net_kernel:monitor_nodes(true),
                        Parent ! {watching, self()},
                        watching([], [])
                end),
    receive {watching, Pid} -> ok end,
    true = register(linx_dist_watch, Pid),
    ok.

watching(Seen, Waiters) ->
    Left = [W || W <- Waiters, not answered(W, Seen)],
    receive
        {Event, Node} when Event =:= nodeup; Event =:= nodedown ->
            watching([{Event, Node, os:system_time(millisecond)} | Seen], Left);
        {wait, _From, _Ref, _Event, _Nodes, _Since} = W ->
            watching(Seen, [W | Left])
    end.

answered({wait, From, Ref, Event, Nodes, Since}, Seen) ->
    Times = [{N, T} || N <- Nodes, {E, N1, T} <- lists:reverse(Seen), E =:= Event, N1 =:= N, T >= Since],
    Firsts = [lists:keyfind(N, 1, Times) || N <- Nodes],
    case lists:member(false, Firsts) of
        true -> false;
        false -> From ! {Ref, Firsts}, true
    end.

%% On a peer: waits until each of Nodes had Event (nodeup or nodedown)
%% at or after Since (ms of os:system_time), for at most Ms:
%% {ok, [{Node, Time}]} or {timeout, Event}.
wait_for(Event, Nodes, Since, Ms) ->
    Ref = make_ref(),
    linx_dist_watch ! {wait, self(), Ref, Event, Nodes, Since},
    receive {Ref, Times} -> {ok, Times} after Ms -> {timeout, Event} end.

%%--------------------------------------------------------------------

%% The processes in a namespace (`ip netns pids'), and a process's name.
netns_pids(Ns) ->
    string:lexemes(os:cmd("ip netns pids " ++ binary_to_list(Ns)), "\n").

comm(OsPid) ->
    case file:read_file("/proc/" ++ OsPid ++ "/comm") of
        {ok, Name} -> string:trim(binary_to_list(Name));
        {error, _} -> gone
    end.

%% How many of Count pings from namespace Ns to IP are answered.
ping(Ns, IP, Count) ->
    Out = os:cmd(lists:concat(["ip netns exec ", binary_to_list(Ns), " ping -n -q -c ", Count,
                               " -i 0.005 -W 1 ", inet:ntoa(IP)])),
    {match, [N]} = re:run(Out, " ([0-9]+) received", [{capture, all_but_first, list}]),
    list_to_integer(N).

alive(OsPid) ->
    filelib:is_dir("/proc/" ++ OsPid).

wait_until(Fun, Ms) ->
    wait_until(Fun, erlang:monotonic_time(millisecond) + Ms, poll).

wait_until(Fun, Deadline, poll) ->
    case Fun() of
        true -> ok;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {error, timeout};
                false -> receive after 20 -> wait_until(Fun, Deadline, poll) end
            end
    end.

%% What the suite that runs this one checks afterwards (linx_cth_SUITE).
report(Term) ->
    case os:getenv("LINX_CTH_REPORT") of
        false -> ok;
        File -> ok = file:write_file(File, io_lib:format("~p.~n", [Term]), [append])
    end.
