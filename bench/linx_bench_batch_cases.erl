%% The rtnetlink change cases of `make bench' (see linx_bench for the list
%% and how they are measured): P8b (1,000 addresses in one batch), P8c (one
%% address added and removed) and P10 (a whole network set up and torn down
%% by linx_ct). Each returns what its row in linx_bench_report needs, or
%% `{na, Why}' when it could not run.
-module(linx_bench_batch_cases).

-include("linx_bench.hrl").

-export([p8b/1, p8c/1, p10/1]).

%%====================================================================
%% P8b, P8c: addresses
%%====================================================================

%% P8b: ?ADDRS addresses added to a bridge by one linx_rtnl:batch/2 (the
%% link by name, as ip has it), against `ip -n Ns -batch' of the same
%% ?ADDRS `addr add' commands; for the note, the same addresses by ?ADDRS
%% single linx_rtnl:addr_add/3 calls (the link by index, so no name
%% look-up per call), and the messages one at a time from the node: one
%% socket of linx_netlink:open/2, each RTM_NEWADDR sent by
%% linx_nl:request/3 and its ack read before the next (the messages built
%% beforehand). The four
%% alternate, a run each in turn; the addresses are flushed (not timed)
%% after every run, and counted with ip after the first of each.
p8b(Ns) ->
    linx_bench:with_netns(Ns, fun() -> with_bridge(Ns, fun p8b_measure/3) end).

p8b_measure(Ns, Opts, Index) ->
    Addrs = [{10, 1, I div 200, I rem 200 + 1} || I <- lists:seq(0, ?ADDRS - 1)],
    Ops = [{addr_add, <<"d0">>, {A, 32}} || A <- Addrs],
    Batch = linx_bench:batch_file(Ns, [io_lib:format("addr add ~ts/32 dev d0~n", [inet:ntoa(A)])
                                       || A <- Addrs]),
    Msgs = [Msg || A <- Addrs, {ok, Msg} <- [linx_rtnl_req:addr(new, Index, {A, 32})]],
    BatchOpts = Opts#{timeout => 60000},
    {ok, Sock} = linx_netlink:open(route, Opts),
    try
        Funs = [fun() -> {ok, Results} = linx_rtnl:batch(Ops, BatchOpts), all_ok(Results) end,
                fun() -> ok = linx_bench:sh("ip -n " ++ Ns ++ " -batch " ++ Batch) end,
                fun() -> lists:foreach(fun(A) -> ok = linx_rtnl:addr_add(Index, {A, 32}, Opts) end, Addrs) end,
                fun() -> lists:foreach(fun(M) -> {ok, _} = linx_nl:request(Sock, M, 5000) end, Msgs) end],
        Flush = fun() -> ok = linx_bench:sh("ip -n " ++ Ns ++ " addr flush dev d0") end,
        Added = [begin ok = F(), N = addr_count(Ns), Flush(), N end || F <- Funs],
        Timed = [fun() -> {T, ok} = linx_bench:timed_result(F), Flush(), T end || F <- Funs],
        [BatchS, Ip, Single, Raw] = [linx_bench:stats(Ts) || Ts <- linx_bench:alternate(Timed, ?ADDR_RUNS)],
        BatchS#{ip => Ip, single => Single, raw => Raw, added => Added}
    after
        socket:close(Sock)
    end.

all_ok(Results) ->
    case [R || R <- Results, R =/= ok] of
        [] -> ok;
        [Error | _] -> error({batch_failed, length(Results -- [ok]), Error})
    end.

%% The IPv4 addresses of d0 in Ns, as ip counts them.
addr_count(Ns) ->
    Out = os:cmd("ip -n " ++ Ns ++ " -4 -o addr show dev d0 | wc -l"),
    list_to_integer(string:trim(Out)).

%% P8c: one address added and removed by linx_rtnl:addr_add/3 +
%% addr_del/3 (two calls, the link by index), interleaved in blocks with
%% pings (P1a's round trip) and, for the note, the same two requests
%% encoded beforehand and sent by linx_netlink:call/3 (the port's part:
%% the round trip to the worker that keeps a socket in the netns), and
%% on a socket of linx_netlink:open/2 (linx_nl:request/3: the kernel as
%% the BEAM sees it, no port in between).
p8c(Ns) ->
    linx_bench:with_netns(Ns, fun() -> with_bridge(Ns, fun p8c_measure/3) end).

p8c_measure(_Ns, Opts, Index) ->
    P = {{10, 9, 0, 1}, 32},
    {ok, Add} = linx_rtnl_req:addr(new, Index, P),
    {ok, Del} = linx_rtnl_req:addr(del, Index, P),
    Call = fun(Msg, Seq) ->
                   Bin = iolist_to_binary(linx_nl_codec:encode(Msg#{flags => maps:get(flags, Msg) bor 5,
                                                                    seq => Seq})),
                   fun() -> {ok, Bins} = linx_netlink:call(route, Bin, Opts), {ok, _} = linx_nl:replies(Bins, Seq) end
           end,
    {CallAdd, CallDel} = {Call(Add, 1), Call(Del, 2)},
    {ok, Sock} = linx_netlink:open(route, Opts),
    try
        Funs = [fun() -> {ok, <<>>} = linx_port:request({ping, <<>>}), ok end,
                fun() -> ok = linx_rtnl:addr_add(Index, P, Opts), ok = linx_rtnl:addr_del(Index, P, Opts) end,
                fun() -> {ok, _} = CallAdd(), {ok, _} = CallDel(), ok end,
                fun() -> {ok, _} = linx_nl:request(Sock, Add, 5000), {ok, _} = linx_nl:request(Sock, Del, 5000), ok end],
        lists:foreach(fun(F) -> linx_bench:repeat(F, ?PAIR_WARM) end, Funs),
        [Ping, Pair, Port, Raw] = linx_bench:interleave(Funs, ?PAIR_BLOCK, ?PAIR_N div ?PAIR_BLOCK),
        Pair#{ping => Ping, port => Port, raw => Raw}
    after
        socket:close(Sock)
    end.

%% Fun(Ns, Opts, Index) with a bridge d0 in Ns (the kernel may have no
%% dummy module).
with_bridge(Ns, Fun) ->
    case linx_bench:sh("ip -n " ++ Ns ++ " link add d0 type bridge") of
        ok ->
            Opts = #{in => {netns, list_to_binary(Ns)}},
            {ok, #{index := Index}} = linx_rtnl:link(<<"d0">>, Opts),
            Fun(Ns, Opts, Index);
        {error, Why} ->
            {na, linx_bench:fmt("cannot add a bridge: ~0tp", [Why])}
    end.

%%====================================================================
%% P10: a hub and its spokes
%%====================================================================

%% P10: the time to build and tear down a ?SPOKES-node hub: a hub netns
%% with a bridge `hub', and ?SPOKES node netns, each with a veth pair to
%% the hub (named after the node in the hub, a port of the bridge; eth0
%% in the node, 10.77.0.<I>/24, a default route via 10.77.0.254) and two
%% sysctls; set up and torn down (a) by linx_ct:setup/1 (its `hub'
%% option, with `routes' and `sysctl' for the nodes) + cleanup/1,
%% (b) by a shell script of one `ip' or `sysctl' command per change
%% (P10), (c) by one `ip -n NS -batch FILE' per namespace (P10'); (b) and
%% (c) are one os:cmd for the set-up and one for the tear-down (the
%% `ip netns del's), and their namespaces are linx_bench:extra_netns(First)
%% (the hub) to extra_netns(First + ?SPOKES). The three alternate, a run
%% each in turn, after one untimed round; between set-up and tear-down
%% every run checks (untimed, with ip and sysctl) what was made, and after
%% it that no namespace is left.
p10(First) ->
    Probe = linx_bench:extra_netns(First),
    case linx_bench:sh("ip netns add " ++ Probe ++ " && ip netns del " ++ Probe) of
        ok -> p10_measure(First);
        {error, Why} -> {na, linx_bench:fmt("cannot make netns ~ts: ~0tp", [Probe, Why])}
    end.

p10_measure(First) ->
    HubKey = 'linx-bench-hub',
    SpokeKeys = [list_to_atom("linx-bench-s" ++ integer_to_list(I)) || I <- lists:seq(1, ?SPOKES)],
    Hub = linx_bench:extra_netns(First),
    Spokes = [linx_bench:extra_netns(First + I) || I <- lists:seq(1, ?SPOKES)],
    Down = script("p10-down", ["set -e\n", [["ip netns del ", N, "\n"] || N <- [Hub | Spokes]]]),
    Shell = script("p10-shell", shell_up(Hub, Spokes)),
    IpBatch = script("p10-ip-batch", ip_batch_up(Hub, Spokes)),
    Sides = [linx_side(hub_spec(HubKey, SpokeKeys), HubKey, SpokeKeys),
             script_side(Shell, Down, Hub, Spokes),
             script_side(IpBatch, Down, Hub, Spokes)],
    try
        Warm = linx_bench:alternate(Sides, 1),
        Runs = linx_bench:alternate(Sides, ?HUB_RUNS),
        [Linx, Sh, Ipb] = [side_result(W, R) || {W, R} <- lists:zip(Warm, Runs)],
        #{linx => Linx, shell => Sh, ip_batch => Ipb,
          commands => #{shell => commands([Shell, Down]), ip_batch => commands([IpBatch, Down])}}
    after
        [_ = linx_bench:sh("ip netns delete " ++ N) || N <- [Hub | Spokes]]
    end.

hub_spec(HubKey, SpokeKeys) ->
    Route = #{dst => default, gateway => {10, 77, 0, 254}, oif => <<"eth0">>},
    Sysctls = #{<<"net.ipv4.ip_forward">> => 1, <<"net.ipv6.conf.all.forwarding">> => 1},
    #{hub => #{nodes => SpokeKeys, name => HubKey, prefix => {{10, 77, 0, 0}, 24}},
      routes => maps:from_list([{K, [Route]} || K <- SpokeKeys]),
      sysctl => maps:from_list([{K, Sysctls} || K <- SpokeKeys])}.

%% The same network as shell commands: one `ip' per change, one
%% `ip netns exec ... sysctl' per spoke (linx_ct brings `lo' up too).
shell_up(Hub, Spokes) ->
    ["set -e\n",
     [["ip netns add ", N, "\nip -n ", N, " link set lo up\n"] || N <- [Hub | Spokes]],
     "ip -n ", Hub, " link add hub type bridge\n",
     "ip -n ", Hub, " link set hub up\n",
     [[[["ip -n ", Hub, " ", L] || L <- hub_lines(I, S)],
       [["ip -n ", S, " ", L] || L <- spoke_lines(I)],
       sysctl_line(S)]
      || {I, S} <- numbered(Spokes)]].

%% The same as one `ip -batch' file per namespace.
ip_batch_up(Hub, Spokes) ->
    HubFile = script(Hub, ["link set lo up\nlink add hub type bridge\nlink set hub up\n",
                           [hub_lines(I, S) || {I, S} <- numbered(Spokes)]]),
    ["set -e\n",
     [["ip netns add ", N, "\n"] || N <- [Hub | Spokes]],
     "ip -n ", Hub, " -batch ", HubFile, "\n",
     [["ip -n ", S, " -batch ", script(S, ["link set lo up\n", spoke_lines(I)]), "\n"]
      || {I, S} <- numbered(Spokes)],
     [sysctl_line(S) || S <- Spokes]].

%% The hub's end named as linx_ct names it (after the node's key).
hub_lines(I, Spoke) ->
    Port = ["linx-bench-s", integer_to_list(I)],
    [["link add ", Port, " type veth peer name eth0 netns ", Spoke, "\n"],
     ["link set ", Port, " master hub\n"],
     ["link set ", Port, " up\n"]].

spoke_lines(I) ->
    [["addr add 10.77.0.", integer_to_list(I), "/24 dev eth0\n"],
     "link set eth0 up\n",
     "route add default via 10.77.0.254 dev eth0\n"].

sysctl_line(Spoke) ->
    ["ip netns exec ", Spoke, " sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1\n"].

numbered(List) ->
    lists:zip(lists:seq(1, length(List)), List).

script(Name, Lines) ->
    linx_bench:batch_file(Name, Lines).

%% For the note: {Processes, Changes} of scripts, the commands the shell
%% runs and the changes they make (a line of an `ip -batch' file is one,
%% the `ip -batch' that reads it none).
commands(Files) ->
    Lines = lists:append([lines(F) || F <- Files]),
    Batches = [lists:last(string:lexemes(L, " ")) || L <- Lines, string:find(L, " -batch ") =/= nomatch],
    {length(Lines), length(Lines) - length(Batches) + lists:sum([length(lines(B)) || B <- Batches])}.

lines(File) ->
    {ok, Bin} = file:read_file(File),
    [L || L <- string:split(Bin, "\n", all), L =/= <<>>, L =/= <<"set -e">>].

%% A side: a fun that sets up, checks, tears down and returns
%% {UpNs, DownNs, Check, Left}.
linx_side(Spec, HubKey, SpokeKeys) ->
    fun() ->
            {Up, {ok, #{netns := Names}}} = linx_bench:timed_result(fun() -> linx_ct:setup(Spec) end),
            All = maps:values(Names),
            Check = check(maps:get(HubKey, Names), [maps:get(K, Names) || K <- SpokeKeys]),
            {Down, ok} = linx_bench:timed_result(fun() -> linx_ct:cleanup(All) end),
            {Up, Down, Check, left(All)}
    end.

script_side(UpFile, DownFile, Hub, Spokes) ->
    fun() ->
            {Up, ok} = linx_bench:timed_result(fun() -> linx_bench:sh("sh " ++ UpFile) end),
            Check = check(Hub, Spokes),
            {Down, ok} = linx_bench:timed_result(fun() -> linx_bench:sh("sh " ++ DownFile) end),
            {Up, Down, Check, left([Hub | Spokes])}
    end.

%% What a run made, counted with ip and sysctl: the bridge's ports that
%% are up, and in the spokes eth0 up, its address, the default route and
%% the sysctls that are 1. Each should be ?SPOKES (the sysctls twice that).
check(Hub, Spokes) ->
    Each = fun(Cmd) -> ["$(for ns in ", lists:join(" ", Spokes), "; do ", Cmd, "; done"] end,
    Script = ["echo ports $(ip -n ", Hub, " -o link show master hub up | wc -l); ",
              "echo up ", Each("ip -n $ns -o link show dev eth0 up"), " | wc -l); ",
              "echo addrs ", Each("ip -n $ns -4 -o addr show dev eth0"), " | grep -c ' 10\\.77\\.0\\.'); ",
              "echo routes ", Each("ip -n $ns route show default"),
              " | grep -c '^default via 10\\.77\\.0\\.254 dev eth0'); ",
              "echo sysctls ", Each("ip netns exec $ns sysctl -n net.ipv4.ip_forward "
                                    "net.ipv6.conf.all.forwarding"), " | grep -cx 1)"],
    Out = os:cmd(binary_to_list(iolist_to_binary(Script))),
    maps:from_list([{binary_to_atom(K), binary_to_integer(V)}
                    || Line <- string:lexemes(list_to_binary(Out), "\n"),
                       [K, V] <- [string:lexemes(Line, " ")],
                       lists:member(K, [<<"ports">>, <<"up">>, <<"addrs">>, <<"routes">>, <<"sysctls">>]),
                       is_integer(catch binary_to_integer(V))]).

expected() ->
    #{ports => ?SPOKES, up => ?SPOKES, addrs => ?SPOKES, routes => ?SPOKES, sysctls => 2 * ?SPOKES}.

%% How many of Names are still in /run/netns.
left(Names) ->
    length([N || N <- Names, filelib:is_file(<<"/run/netns/", (iolist_to_binary(N))/binary>>)]).

%% A side's statistics: set-up + tear-down, and each; whether every run
%% (the untimed one too) made what it should and left nothing.
side_result(Warm, Runs) ->
    All = Warm ++ Runs,
    Bad = [C || {_, _, C, _} <- All, C =/= expected()],
    (linx_bench:stats([U + D || {U, D, _, _} <- Runs]))#{
      up => linx_bench:stats([U || {U, _, _, _} <- Runs]),
      down => linx_bench:stats([D || {_, D, _, _} <- Runs]),
      checked => length(All),
      right => Bad =:= [],
      wrong => lists:sublist(Bad, 1),
      left => lists:sum([L || {_, _, _, L} <- All])}.
