%% The netlink and namespace cases of `make bench' (see linx_bench for the
%% list and how they are measured): P4 (netlink sockets), P8a (a dump
%% against `ip') and P9 (namespaces); P8b, P8c and P10 (changes and
%% batches) are linx_bench_batch_cases'. Each returns what its row in
%% linx_bench_report needs, or `{na, Why}' when it could not run.
-module(linx_bench_nl_cases).

-include("linx_bench.hrl").

-export([p4/1, p8a/1, p8d/1, p8e/1, p9a/1, p9b/0]).

%%====================================================================
%% P4: netlink sockets
%%====================================================================

p4(Ns) ->
    case code:which(linx_netlink) of
        non_existing -> {na, "linx_netlink is not built yet"};
        _ -> p4_first(#{in => {netns, Ns}})
    end.

p4_first(Opts) ->
    case catch linx_netlink:open(route, Opts) of
        {ok, Sock} ->
            _ = socket:close(Sock),
            Open = fun() -> netlink_open(Opts) end,
            repeat_close(Open, ?NL_WARM),
            linx_bench:stats(timed_open(Open, ?NL_N, []));
        Other ->
            {na, linx_bench:fmt("linx_netlink:open/2 returned ~0tP", [Other, 12])}
    end.

netlink_open(Opts) ->
    {ok, Sock} = linx_netlink:open(route, Opts),
    Sock.

repeat_close(_Open, 0) ->
    ok;
repeat_close(Open, N) ->
    _ = socket:close(Open()),
    repeat_close(Open, N - 1).

%% Times the open only; the close happens after the clock stops.
timed_open(_Open, 0, Acc) ->
    Acc;
timed_open(Open, N, Acc) ->
    T0 = linx_bench:now_ns(),
    Sock = Open(),
    T1 = linx_bench:now_ns(),
    _ = socket:close(Sock),
    timed_open(Open, N - 1, [T1 - T0 | Acc]).

%%====================================================================
%% P8: rtnetlink
%%====================================================================

%% P8a: linx_rtnl:links/1 in netns Ns holding ?VETH_PAIRS veth pairs
%% (made by one `ip -batch'), against `ip -j -n Ns link show' read
%% through os:cmd (what an Erlang program that wants the output does),
%% interleaved; also, for the note, ip writing to /dev/null and the raw
%% dump (linx_netlink:call/3, before any decoding). The names of both
%% are compared once.
p8a(Ns) ->
    linx_bench:with_netns(Ns, fun() -> p8a_run(Ns) end).

p8a_run(Ns) ->
    Batch = linx_bench:batch_file(Ns, [io_lib:format("link add va~b type veth peer name vb~b~n", [I, I])
                            || I <- lists:seq(1, ?VETH_PAIRS)]),
    ok = linx_bench:sh("ip -n " ++ Ns ++ " -batch " ++ Batch),
    Opts = #{in => {netns, list_to_binary(Ns)}},
    Ip = "ip -j -n " ++ Ns ++ " link show",
    {ok, Links} = linx_rtnl:links(Opts),
    Ours = lists:sort([N || #{ifname := N} <- Links]),
    Theirs = lists:sort(ip_json_names(os:cmd(Ip))),
    Dump = raw_getlink(),
    Funs = [fun() -> {ok, _} = linx_rtnl:links(Opts), ok end,
            fun() -> _ = os:cmd(Ip), ok end,
            fun() -> _ = os:cmd(Ip ++ " >/dev/null"), ok end,
            fun() -> {ok, _} = linx_netlink:call(route, Dump, Opts), ok end],
    lists:foreach(fun(F) -> linx_bench:repeat(F, ?LINKS_WARM) end, Funs),
    [Linx, IpOut, IpNull, Raw] = linx_bench:interleave(Funs, ?LINKS_BLOCK, ?LINKS_N div ?LINKS_BLOCK),
    Linx#{ip => IpOut, ip_null => IpNull, raw => Raw, links => length(Ours),
          names_equal => Ours =:= Theirs,
          only_linx => Ours -- Theirs, only_ip => Theirs -- Ours}.

%% P8d: linx_rtnl:routes/1 in netns Ns holding ?ROUTES IPv4 routes (made
%% by one `ip -batch') against `ip -j -n Ns route show table all' read
%% through os:cmd, interleaved; the counts of routes (both show IPv4 and
%% IPv6) are compared once. P8e: the same for linx_rtnl:rules/1 and
%% `ip -j rule show' (IPv4) of ?RULES rules.
p8d(Ns) ->
    linx_bench:with_netns(Ns, fun() -> dump_vs_ip(Ns, routes) end).

p8e(Ns) ->
    linx_bench:with_netns(Ns, fun() -> dump_vs_ip(Ns, rules) end).

dump_vs_ip(Ns, What) ->
    {Lines, Ip, Dump, Mine, Key} =
        case What of
            routes ->
                {["link add d0 up type bridge\n"
                  | [io_lib:format("route add 172.16.~b.~b/32 dev d0~n", [I div 250, I rem 250 + 1])
                     || I <- lists:seq(0, ?ROUTES - 1)]],
                 "ip -j -n " ++ Ns ++ " route show table all", fun linx_rtnl:routes/1,
                 fun(_) -> true end, <<"\"dst\":">>};
            rules ->
                {[io_lib:format("rule add priority ~b fwmark ~b table 100~n", [I, I])
                  || I <- lists:seq(1, ?RULES)],
                 "ip -j -n " ++ Ns ++ " rule show", fun linx_rtnl:rules/1,
                 fun(#{family := F}) -> F =:= inet end, <<"\"priority\":">>}
        end,
    Batch = linx_bench:batch_file(Ns, Lines),
    ok = linx_bench:sh("ip -n " ++ Ns ++ " -batch " ++ Batch),
    Opts = #{in => {netns, list_to_binary(Ns)}},
    {ok, All} = Dump(Opts),
    Ours = length([X || X <- All, Mine(X)]),
    Theirs = length(binary:matches(list_to_binary(os:cmd(Ip)), Key)),
    Funs = [fun() -> {ok, _} = Dump(Opts), ok end,
            fun() -> _ = os:cmd(Ip), ok end],
    lists:foreach(fun(F) -> linx_bench:repeat(F, ?LINKS_WARM) end, Funs),
    [Linx, IpOut] = linx_bench:interleave(Funs, ?LINKS_BLOCK, ?LINKS_N div ?LINKS_BLOCK),
    Linx#{ip => IpOut, ours => Ours, theirs => Theirs, all => length(All)}.

%% The "ifname" values of ip's JSON (this OTP may have no JSON decoder;
%% ip escapes nothing in these names).
ip_json_names(Out) ->
    case re:run(Out, "\"ifname\":\"([^\"]*)\"", [global, {capture, all_but_first, binary}]) of
        {match, Names} -> [N || [N] <- Names];
        nomatch -> []
    end.

%% An RTM_GETLINK dump request as linx_rtnl:links/1 sends it.
raw_getlink() ->
    iolist_to_binary(linx_nl_codec:encode(#{type => 18, flags => 16#301, seq => 1,
                                      payload => [linx_rtnl_msg:ifinfomsg(0, 0, 0, 0),
                                                  linx_nl_codec:encode_attrs([{29, {u32, 8}}])]})).

%%====================================================================
%% P9: namespaces
%%====================================================================

%% P9a: linx_netns:add/1 + delete/1 of one name against `ip netns add' +
%% `ip netns del' of another (both from one os:cmd shell), alternately.
p9a(Ns) ->
    Linx = list_to_binary(Ns ++ "0"),
    Ip = Ns ++ "1",
    Ours = fun() -> ok = linx_netns:add(Linx), ok = linx_netns:del(Linx) end,
    Theirs = fun() -> ok = linx_bench:sh("ip netns add " ++ Ip ++ " && ip netns del " ++ Ip) end,
    try
        linx_bench:repeat(Ours, ?NETNS_WARM),
        linx_bench:repeat(Theirs, ?NETNS_WARM),
        [OursS, TheirsS] = linx_bench:interleave([Ours, Theirs], ?NETNS_BLOCK, ?NETNS_N div ?NETNS_BLOCK),
        OursS#{ip => TheirsS}
    after
        _ = linx_netns:del(Linx),
        _ = linx_bench:sh("ip netns delete " ++ Ip)
    end.

%% P9b: linx_netns:new/0 + release/1.
p9b() ->
    Fun = fun() -> {ok, H} = linx_netns:new(), ok = linx_netns:release(H) end,
    linx_bench:repeat(Fun, ?NETNS_WARM),
    linx_bench:stats(linx_bench:timed(Fun, ?NETNS_N, [])).
