%% @doc linx_rtnl and linx_genl against real namespaces, with `ip -j',
%% `ip -n' and `genl' as oracles (linx_ct_ip compares with `ip -j'):
%% links, addresses, routes and neighbours made with linx and read back by
%% both, veth peers placed in other namespaces, dumps big enough to come
%% in parts, and generic netlink families. linx_rtnl's errors are
%% linx_rtnl_errors_SUITE's, its events linx_rtnl_events_SUITE's.
-module(linx_rtnl_SUITE).

-include_lib("common_test/include/ct.hrl").

%% The `ip -j' oracle.
-import(linx_ct_ip, [ip_json/3, by_name/1, compare_links/2, compare_addr/3, compare_route/3,
                     compare_neigh/3]).

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([links_match_ip/1, addrs_match_ip/1, routes_match_ip/1, neighs_match_ip/1,
         link_by_name_and_index/1, link_set_and_del/1, peers_by_name_and_handle/1,
         genl_families_match_genl/1, genl_bad_requests/1, big_dump_matches_ip/1,
         dump_in_parts/1, timeout_in_mid_dump/1]).

all() ->
    [{group, objects}, {group, peers}, {group, genl}, {group, dumps}].

groups() ->
    %% In order: each case builds on the objects the previous ones made.
    [{objects, [sequence], [links_match_ip, addrs_match_ip, routes_match_ip,
                            neighs_match_ip, link_by_name_and_index, link_set_and_del]},
     {peers, [], [peers_by_name_and_handle]},
     {genl, [], [genl_families_match_genl, genl_bad_requests]},
     {dumps, [], [big_dump_matches_ip, dump_in_parts, timeout_in_mid_dump]}].

%%====================================================================
%% Set-up: netns A (everything is built there) and B (the far ends),
%% and a process in B to name it by pid
%%====================================================================

init_per_suite(Config) ->
    case linx_ct_ns:start_with_netns("linx-rtnl-a", Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            B = linx_ct_ns:unique("linx-rtnl-b"),
            ok = linx_ct_ns:netns_add(B),
            Holder = hold_process_in(B),
            [{netns_b, B}, {holder, Holder} | Config1]
    end.

end_per_suite(Config) ->
    {Pid, _Port} = ?config(holder, Config),
    linx_ct_ns:kill(Pid),
    linx_ct_ns:netns_del(?config(netns_b, Config)),
    linx_ct_ns:stop_with_netns(Config).

%% `ip netns exec' execs its command once inside, so the port's OS pid is
%% a process in netns B.
hold_process_in(Ns) ->
    Port = open_port({spawn_executable, "/usr/sbin/ip"},
                     [{args, ["netns", "exec", Ns, "sleep", "3600"]}]),
    {os_pid, Pid} = erlang:port_info(Port, os_pid),
    Mine = file:read_link("/proc/self/ns/net"),
    ok = linx_ct_ns:wait_until(
           fun() -> file:read_link("/proc/" ++ integer_to_list(Pid) ++ "/ns/net") =/= Mine
                        andalso filelib:is_file("/proc/" ++ integer_to_list(Pid))
           end, 5000),
    {Pid, Port}.

in_a(Config) -> linx_ct_ns:in_netns(Config).

%% A linx dump and an ip dump of the same objects, taken between two linx
%% dumps that agree and with as many objects as ip saw (the kernel's state
%% did not change meanwhile); tried for at most 10 s.
settled(Linx, Ip) ->
    linx_ct_ns:read_between(Linx, Ip, fun(Seen, After) -> length(Seen) =:= length(After) end, 10000).

in_b(Config) -> #{in => {netns, list_to_binary(?config(netns_b, Config))}}.

%%====================================================================
%% Objects
%%====================================================================

%% 150 veth pairs (made by `ip -batch'): a dump big enough (over 64 kB)
%% to come in parts; every field linx returns that `ip -d -j link show'
%% prints is equal, for every link.
big_dump_matches_ip(Config) ->
    with_veth_pairs(150, Config, fun(Ns, In) ->
        {ok, Bins} = linx_netlink:call(route, linx_ct_nl:getlink_request(1), In),
        true = iolist_size(Bins) > 65536,
        {ok, Links} = linx_rtnl:links(In),
        301 = length(Links),
        Checked = compare_links(Links, ip_json([{big, Ns} | Config], big, "-d link show")),
        [] = [ifname, mtu, flags, operstate, qdisc, address, kind, link, txqlen, type, group,
              min_mtu, max_mtu, num_tx_queues, gso_max_size, allmulti, tso_max_size,
              gro_max_size] -- Checked
    end).

%% The same dump in parts (linx_netlink:call/5): several parts come
%% ahead of the result, and parts and result hold the messages of the
%% whole dump, in order, as linx_netlink:call/3 returns them. An op that
%% asks for parts gets them gathered on the direct path
%% (linx_port:request/2) and by the server (its gen_server call, the path
%% of a call while the port starts).
dump_in_parts(Config) ->
    with_veth_pairs(150, Config, fun(_Ns, In) ->
        Req = linx_ct_nl:getlink_request(1),
        {ok, Whole} = linx_netlink:call(route, Req, In),
        Names = fun(Bins) -> [N || B <- Bins, M <- linx_ct_nl:messages(B), {ok, N} <- [linx_ct_nl:link_name(M)]] end,
        Want = Names(Whole),
        301 = length(Want),
        {{ok, Rest}, Parts} = linx_netlink:call(route, Req, In, fun(R, Acc) -> [R | Acc] end, []),
        ct:log("~b parts of ~p messages, then ~b", [length(Parts), [length(P) || P <- lists:reverse(Parts)],
                                                   length(Rest)]),
        true = length(Parts) >= 2,
        [] = [P || P <- Parts, P =:= []],
        Want = Names(lists:append(lists:reverse(Parts, [Rest]))),
        {ok, Target} = linx_opts:target(maps:get(in, In)),
        Op = {netlink_call, 0, Req, Target, [], 4096},
        true = linx_wire:asks_parts(Op),
        {ok, Direct} = linx_port:request(Op, 5000),
        Want = Names(Direct),
        {ok, Served} = gen_server:call(linx_port, {request, Op, 5000}, 6000),
        Want = Names(Served),
        #{pending := 0} = linx_port:info()
    end).

%% A caller that stops waiting for a dump arriving in parts, at its
%% timeout (0 ms: always before the end; 1 to 4 ms: before or after
%% some parts) or because its function raised on the first part, gets
%% nothing of that dump later: the replies still on their way are
%% dropped, and nothing stays pending.
timeout_in_mid_dump(Config) ->
    with_veth_pairs(150, Config, fun(_Ns, In) ->
        Req = linx_ct_nl:getlink_request(1),
        {ok, Whole} = linx_netlink:call(route, Req, In),
        Count = fun(_R, N) -> N + 1 end,
        %% The same worker answers in order: once this dump is whole, the
        %% one before it has ended.
        NothingLeft = fun() ->
                              {ok, Whole} = linx_netlink:call(route, Req, In),
                              {messages, []} = process_info(self(), messages)
                      end,
        {{error, #{reason := timeout}}, 0} = linx_netlink:call(route, Req, In#{timeout => 0}, Count, 0),
        NothingLeft(),
        Results = [begin
                       {Result, Seen} = linx_netlink:call(route, Req, In#{timeout => Ms}, Count, 0),
                       NothingLeft(),
                       case Result of
                           {error, #{reason := timeout}} -> {timeout, Seen};
                           {ok, _} when Seen > 0 -> whole
                       end
                   end || Ms <- [1, 1, 2, 2, 3, 3, 4, 4]],
        ct:log("~p", [Results]),
        Raise = fun(_R, _Acc) -> error(first_part) end,
        {'EXIT', {first_part, _}} = (catch linx_netlink:call(route, Req, In, Raise, 0)),
        NothingLeft(),
        ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) =:= 0 end, 5000)
    end).

%% Runs Fun(Ns, In) in a fresh netns holding N veth pairs, made by one
%% `ip -batch'.
with_veth_pairs(N, Config, Fun) ->
    Ns = linx_ct_ns:unique("linx-rtnl-big"),
    ok = linx_ct_ns:netns_add(Ns),
    try
        Batch = filename:join(?config(priv_dir, Config), "veth.batch"),
        ok = file:write_file(Batch, [io_lib:format("link add bva~b type veth peer name bvb~b~n", [I, I])
                                     || I <- lists:seq(1, N)]),
        _ = linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", Batch]),
        Fun(Ns, #{in => {netns, list_to_binary(Ns)}})
    after
        linx_ct_ns:netns_del(Ns)
    end.

%% Veth pairs (one with its peer in netns B), a bridge with two members:
%% every field linx returns that `ip -d -j link show' prints is equal.
links_match_ip(Config) ->
    A = in_a(Config),
    {PidB, _} = ?config(holder, Config),
    ok = linx_rtnl:link_add(#{ifname => <<"br0">>, kind => bridge, state => up}, A),
    ok = linx_rtnl:link_add(#{ifname => <<"v0">>, kind => veth, mtu => 1400,
                              peer => #{ifname => <<"v0p">>, netns => {pid, PidB}}}, A),
    ok = linx_rtnl:link_add(#{ifname => <<"v1">>, kind => veth, address => <<"02:00:00:00:01:01">>,
                              master => <<"br0">>, peer => #{ifname => <<"v1p">>}}, A),
    ok = linx_rtnl:link_set(<<"v0">>, #{master => <<"br0">>, state => up}, A),
    ok = linx_rtnl:link_set(<<"v1p">>, #{state => up}, A),
    {ok, LinksA} = linx_rtnl:links(A),
    [<<"br0">>, <<"lo">>, <<"v0">>, <<"v1">>, <<"v1p">>] = lists:sort([N || #{ifname := N} <- LinksA]),
    CheckedA = compare_links(LinksA, ip_json(Config, netns, "-d link show")),
    %% The comparison is not vacuous.
    [] = [ifname, mtu, flags, operstate, qdisc, address, kind, slave_kind, master, min_mtu,
          link, link_netnsid, txqlen, type, group] -- CheckedA,
    {ok, LinksB} = linx_rtnl:links(in_b(Config)),
    [<<"lo">>, <<"v0p">>] = lists:sort([N || #{ifname := N} <- LinksB]),
    compare_links(LinksB, ip_json(Config, netns_b, "-d link show")),
    #{<<"v0">> := #{kind := veth, mtu := 1400, master := BrIndex, link_netnsid := _},
      <<"v1">> := #{address := <<2, 0, 0, 0, 1, 1>>, master := BrIndex, slave_kind := bridge},
      <<"br0">> := #{index := BrIndex, kind := bridge}} = by_name(LinksA).

%% IPv4 and IPv6 addresses against `ip -j addr show'.
addrs_match_ip(Config) ->
    A = in_a(Config),
    ok = linx_rtnl:addr_add(<<"br0">>, #{prefix => {{10, 20, 0, 1}, 24}, label => <<"br0:x">>}, A),
    ok = linx_rtnl:addr_add(<<"br0">>, #{prefix => {{10, 21, 0, 1}, 16}, broadcast => {10, 21, 255, 255}}, A),
    ok = linx_rtnl:addr_add(<<"br0">>, #{prefix => {{16#fd00, 0, 0, 0, 0, 0, 0, 1}, 64}, flags => [nodad]}, A),
    ok = linx_rtnl:addr_add(<<"v1p">>, #{prefix => {{16#fd01, 0, 0, 0, 0, 0, 0, 1}, 64},
                                         flags => [nodad, noprefixroute]}, A),
    {ok, Addrs} = linx_rtnl:addrs(A),
    Ip = ip_json(Config, netns, "addr show"),
    Names = maps:from_list([{maps:get(<<"ifindex">>, L), maps:get(<<"ifname">>, L)} || L <- Ip]),
    Infos = [{maps:get(<<"ifindex">>, L), I} || L <- Ip, I <- maps:get(<<"addr_info">>, L, [])],
    true = length(Infos) =:= length(Addrs),
    [compare_addr(Ad, Infos, Names) || Ad <- Addrs],
    #{{10, 20, 0, 1} := #{label := <<"br0:x">>, prefixlen := 24},
      {10, 21, 0, 1} := #{broadcast := {10, 21, 255, 255}},
      {16#fd01, 0, 0, 0, 0, 0, 0, 1} := #{flags := Fl}} =
        maps:from_list([{Addr, Ad} || #{address := Addr} = Ad <- Addrs]),
    true = lists:member(noprefixroute, Fl).

%% Routes with a gateway, a table, a metric and a preferred source,
%% against `ip -j -4/-6 route show table all'.
routes_match_ip(Config) ->
    A = in_a(Config),
    ok = linx_rtnl:route_add(#{dst => {{10, 30, 0, 0}, 16}, gateway => {10, 20, 0, 2},
                               table => 100, metric => 7}, A),
    ok = linx_rtnl:route_add(#{dst => {{10, 31, 0, 0}, 24}, oif => <<"br0">>,
                               prefsrc => {10, 20, 0, 1}}, A),
    ok = linx_rtnl:route_add(#{dst => default, gateway => {10, 20, 0, 254}, table => 1000}, A),
    ok = linx_rtnl:route_add(#{dst => {{16#fd10, 0, 0, 0, 0, 0, 0, 0}, 48},
                               gateway => {16#fd00, 0, 0, 0, 0, 0, 0, 2}, metric => 1024}, A),
    %% IPv6 routes come and go while the links settle (link-local and
    %% multicast routes, DAD): compare dumps taken while nothing changed.
    {Routes, Ip} = settled(fun() -> {ok, R} = linx_rtnl:routes(A), R end,
                           fun() -> ip_json(Config, netns, "-4 route show table all")
                                        ++ ip_json(Config, netns, "-6 route show table all")
                           end),
    {ok, Links} = linx_rtnl:links(A),
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    true = length(Ip) =:= length(Routes),
    [compare_route(R, Ip, Names) || R <- Routes],
    [#{gateway := {10, 20, 0, 2}, metric := 7, protocol := boot}] =
        [R || #{table := 100} = R <- Routes],
    [#{dst := default}] = [R || #{table := 1000} = R <- Routes],
    ok = linx_rtnl:route_del(#{dst => default, gateway => {10, 20, 0, 254}, table => 1000}, A),
    {ok, Routes1} = linx_rtnl:routes(A),
    [] = [R || #{table := 1000} = R <- Routes1].

%% Neighbour entries (IPv4 and IPv6) against `ip -j neigh show'.
neighs_match_ip(Config) ->
    A = in_a(Config),
    ok = linx_rtnl:neigh_add(#{index => <<"br0">>, dst => {10, 20, 0, 2},
                               lladdr => <<"02:00:00:00:00:02">>}, A),
    ok = linx_rtnl:neigh_add(#{index => <<"br0">>, dst => {16#fd00, 0, 0, 0, 0, 0, 0, 2},
                               lladdr => <<2, 0, 0, 0, 0, 3>>, flags => [router]}, A),
    {Neighs, Ip} = settled(fun() -> {ok, N} = linx_rtnl:neighs(A), N end,
                           fun() -> ip_json(Config, netns, "neigh show nud all") end),
    {ok, Links} = linx_rtnl:links(A),
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    true = length(Ip) =:= length(Neighs),
    [compare_neigh(N, Ip, Names) || N <- Neighs],
    [V4] = [N || #{dst := {10, 20, 0, 2}} = N <- Neighs],
    ok = linx_rtnl:neigh_del(V4, A),
    {ok, Neighs1} = linx_rtnl:neighs(A),
    [] = [N || #{dst := {10, 20, 0, 2}} = N <- Neighs1].

%% link/2 finds the same map by name and by index. The bridge's state
%% (operstate, carrier changes) may still move while its ports come up,
%% so the index read is judged once two reads by name around it agree.
link_by_name_and_index(Config) ->
    A = in_a(Config),
    Known = fun(Key) -> {ok, L} = linx_rtnl:link(Key, A), maps:remove(unknown, L) end,
    #{index := I} = Known(<<"br0">>),
    {ByName, ByIndex} = linx_ct_ns:read_between(fun() -> Known(<<"br0">>) end, fun() -> Known(I) end,
                                                fun(_, _) -> true end, 10000),
    true = ByName =:= ByIndex,
    {ok, #{ifname := <<"lo">>}} = linx_rtnl:link("lo", A),
    {error, #{stage := netlink, errno := enodev, op := link}} = linx_rtnl:link(<<"nosuch0">>, A).

%% Rename, mtu, down, leaving the master, moving to netns B, deleting.
link_set_and_del(Config) ->
    A = in_a(Config),
    {PidB, _} = ?config(holder, Config),
    ok = linx_rtnl:link_set(<<"v1">>, #{ifname => <<"v1.renamed">>, mtu => 1280,
                                        master => none}, A),
    {ok, L} = linx_rtnl:link(<<"v1.renamed">>, A),
    false = maps:is_key(master, L),
    1280 = maps:get(mtu, L),
    <<"1280">> = linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config),
                                   " -o link show v1.renamed | sed 's/.* mtu \\([0-9]*\\).*/\\1/'"]),
    ok = linx_rtnl:link_set(<<"v1p">>, #{state => down, netns => {pid, PidB}}, A),
    {ok, #{flags := FlagsB}} = linx_rtnl:link(<<"v1p">>, in_b(Config)),
    false = lists:member(up, FlagsB),
    ok = linx_rtnl:link_del(<<"v1.renamed">>, A),
    {error, #{errno := enodev}} = linx_rtnl:link(<<"v1p">>, in_b(Config)),
    {1, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show v1.renamed"]).

%% A veth peer made in, and a link moved to, namespaces named by target
%% (`{netns, Name}', a linx_netns handle): the port passes their
%% descriptors (IFLA_NET_NS_FD). `ip -n' sees each end where it belongs.
peers_by_name_and_handle(Config) ->
    A = in_a(Config),
    B = ?config(netns_b, Config),
    {ok, H} = linx_netns:new(),
    try
        ok = linx_rtnl:link_add(#{ifname => <<"pn0">>, kind => veth,
                                  peer => #{ifname => <<"pn0p">>, netns => {netns, B}}}, A),
        {0, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show pn0"]),
        {0, _} = linx_ct_ns:sh(["ip -n ", B, " link show pn0p"]),
        {1, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show pn0p"]),
        %% The peer into a namespace with no name, then the near end moved to B.
        ok = linx_rtnl:link_add(#{ifname => <<"ph0">>, kind => veth,
                                  peer => #{ifname => <<"ph0p">>, netns => H}}, A),
        {ok, #{ifname := <<"ph0p">>}} = linx_rtnl:link(<<"ph0p">>, #{in => H}),
        {error, #{errno := enodev}} = linx_rtnl:link(<<"ph0p">>, A),
        ok = linx_rtnl:link_set(<<"ph0">>, #{netns => {netns, B}}, A),
        {0, _} = linx_ct_ns:sh(["ip -n ", B, " link show ph0"]),
        {1, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show ph0"]),
        %% Both ends in two namespaces other than the one the request runs in.
        ok = linx_rtnl:link_add(#{ifname => <<"pb0">>, kind => veth, netns => {netns, B},
                                  peer => #{ifname => <<"pb0p">>, netns => H}}, A),
        {0, _} = linx_ct_ns:sh(["ip -n ", B, " link show pb0"]),
        {ok, #{ifname := <<"pb0p">>}} = linx_rtnl:link(<<"pb0p">>, #{in => H}),
        %% A namespace that is not there: the error names the op called.
        {error, #{op := link_add, stage := open_ns, errno := enoent}} =
            linx_rtnl:link_add(#{ifname => <<"pg0">>, kind => veth,
                                 peer => #{ifname => <<"pg0p">>, netns => {netns, <<"linx-no-such-ns">>}}}, A),
        {1, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show pg0"])
    after
        ok = linx_netns:release(H),
        [linx_rtnl:link_del(L, #{in => {netns, list_to_binary(B)}}) || L <- [<<"pn0p">>, <<"ph0">>, <<"pb0">>]]
    end.

%%====================================================================
%% Generic netlink
%%====================================================================

%% nlctrl and every other family `genl ctrl list' shows: same id, version,
%% number of commands and multicast group names.
genl_families_match_genl(Config) ->
    A = in_a(Config),
    {ok, #{id := 16, name := <<"nlctrl">>, ops := [_ | _], groups := [#{name := <<"notify">>}]}} =
        linx_genl:family(<<"nlctrl">>, A),
    {error, #{stage := netlink, errno := enoent}} = linx_genl:family(<<"no-such-family">>, A),
    {ok, All} = linx_genl:families(A),
    Out = linx_ct_ns:sh_ok(["ip netns exec ", ?config(netns, Config), " genl ctrl list"]),
    Genl = parse_genl(Out),
    ct:log("genl: ~p", [Genl]),
    true = length(Genl) >= 2,
    lists:sort([N || #{name := N} <- All]) =:= lists:sort([N || {N, _, _, _, _} <- Genl])
        orelse ct:fail({families_differ, All, Genl}),
    lists:foreach(
      fun({Name, Id, Version, NOps, Groups}) ->
              {ok, #{id := Id, version := Version, ops := Ops, groups := Gs}} =
                  linx_genl:family(Name, A),
              NOps = length(Ops),
              Groups = lists:sort([G || #{name := G} <- Gs])
      end, Genl).

%% A family id, command, version, flags or integer attribute out of its
%% range is refused with its own error before anything is sent (the
%% program counts no netlink_call); the largest values that fit go.
genl_bad_requests(Config) ->
    A = in_a(Config),
    Calls = fun() -> maps:get(netlink_call, maps:get(requests, linx:stats()), 0) end,
    Before = Calls(),
    Refused = [{{bad_family, {id, 16#10000}}, linx_genl:request(16#10000, 3, 1, [], A)},
               {{bad_family, {id, -1}}, linx_genl:request(-1, 3, 1, [], A)},
               {{bad_family, {id, nlctrl}}, linx_genl:request(nlctrl, 3, 1, [], A)},
               {{bad_command, {256, 1}}, linx_genl:request(16, 256, 1, [], A)},
               {{bad_command, {3, -1}}, linx_genl:request(16, 3, -1, [], A)},
               {{bad_option, {flags, 16#10000}}, linx_genl:request(16, 3, 1, [], A#{flags => 16#10000})},
               {{bad_option, {flags, create}}, linx_genl:request(16, 3, 1, [], A#{flags => create})},
               {{bad_attrs, [{1, {u16, 16#10000}}]}, linx_genl:request(16, 3, 1, [{1, {u16, 16#10000}}], A)}],
    [{Reason, {error, #{reason := Reason}}} = {Reason, Got} || {Reason, Got} <- Refused],
    [<<_/binary>> = linx_genl:format_error(Reason) || {Reason, _} <- Refused],
    Before = Calls(),
    %% CTRL_CMD_GETFAMILY (3) by CTRL_ATTR_FAMILY_ID (1): nlctrl is 16.
    {ok, [#{attrs := Attrs}]} = linx_genl:request(16, 3, 1, [{1, {u16, 16}}], A),
    {_, <<"nlctrl", 0>>} = lists:keyfind(2, 1, Attrs),
    After = Before + 1,
    After = Calls().

%% "Name: nlctrl\n\tID: 0x10  Version: 0x2 ...\n\tcommands supported: \n\t\t#1:  ID-0x3\n
%% ...\tmulticast groups:\n\t\t#1:  ID-0x10  name: notify"
parse_genl(Out) ->
    Blocks = tl(re:split(Out, "(?m)^Name: ", [{return, binary}])),
    [begin
         [Name | _] = binary:split(B, <<"\n">>),
         {match, [Id, V]} = re:run(B, "ID: 0x([0-9a-f]+)\\s+Version: 0x([0-9a-f]+)",
                                   [{capture, all_but_first, binary}]),
         Cmds = case binary:split(B, <<"commands supported:">>) of
                    [_, After] ->
                        [C | _] = binary:split(After, <<"multicast groups:">>),
                        length(binary:matches(C, <<"ID-0x">>));
                    _ -> 0
                end,
         Groups = case binary:split(B, <<"multicast groups:">>) of
                      [_, G] ->
                          {match, Ns} = re:run(G, "name: (\\S+)", [global, {capture, all_but_first, binary}]),
                          lists:sort([N || [N] <- Ns]);
                      _ -> []
                  end,
         {string:trim(Name), binary_to_integer(Id, 16), binary_to_integer(V, 16), Cmds, Groups}
     end || B <- Blocks].
