%% @doc linx_rtnl and linx_genl against real namespaces, with `ip -j',
%% `ip -n' and `genl' as oracles: links, addresses, routes and neighbours
%% made with linx and read back by both, the kernel's errors, events in
%% order, and generic netlink families.
-module(linx_rtnl_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([links_match_ip/1, addrs_match_ip/1, routes_match_ip/1, neighs_match_ip/1,
         link_by_name_and_index/1, link_set_and_del/1, peers_by_name_and_handle/1,
         addr_twice_is_eexist/1, bad_arguments_refused/1, gone_netns/1,
         garbled_replies/1, events_in_order/1, unsubscribe_and_owner_exit/1,
         genl_families_match_genl/1, genl_bad_requests/1, format_errors/1, big_dump_matches_ip/1,
         dump_in_parts/1, timeout_in_mid_dump/1]).

all() ->
    [{group, objects}, {group, peers}, {group, errors}, {group, events}, genl_families_match_genl,
     genl_bad_requests, big_dump_matches_ip, dump_in_parts, timeout_in_mid_dump].

groups() ->
    %% In order: each case builds on the objects the previous ones made.
    [{objects, [sequence], [links_match_ip, addrs_match_ip, routes_match_ip,
                            neighs_match_ip, link_by_name_and_index, link_set_and_del]},
     {peers, [], [peers_by_name_and_handle]},
     {errors, [], [addr_twice_is_eexist, bad_arguments_refused, gone_netns, garbled_replies,
                   format_errors]},
     {events, [], [events_in_order, unsubscribe_and_owner_exit]}].

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

in_a(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

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
%% Errors
%%====================================================================

%% The same address twice: eexist, with the kernel's text.
addr_twice_is_eexist(Config) ->
    A = in_a(Config),
    ok = linx_rtnl:link_add(#{ifname => <<"e0">>, kind => bridge}, A),
    ok = linx_rtnl:addr_add(<<"e0">>, {{10, 40, 0, 1}, 24}, A),
    {error, #{stage := netlink, errno := eexist, code := 17, op := addr_add,
              in := {netns, _}, message := Msg}} =
        linx_rtnl:addr_add(<<"e0">>, {{10, 40, 0, 1}, 24}, A),
    true = byte_size(Msg) > 0,
    ct:log("ext-ack: ~ts", [Msg]),
    {error, #{errno := eexist}} = linx_rtnl:link_add(#{ifname => <<"e0">>, kind => bridge}, A),
    ok = linx_rtnl:link_del(<<"e0">>, A).

%% Bad arguments never reach the port.
bad_arguments_refused(Config) ->
    A = in_a(Config),
    {error, #{reason := {bad_ifname, <<"much-too-long-name">>}}} =
        linx_rtnl:link_add(#{ifname => <<"much-too-long-name">>, kind => bridge}, A),
    {error, #{reason := {bad_ifname, <<"a/b">>}}} = linx_rtnl:link(<<"a/b">>, A),
    {error, #{reason := {bad_ifname, <<>>}}} = linx_rtnl:link_del(<<>>, A),
    {error, #{reason := {bad_link, -1}}} = linx_rtnl:link(-1, A),
    {error, #{reason := {bad_prefix, {{10, 0, 0, 1}, 33}}}} = linx_rtnl:addr_add(1, {{10, 0, 0, 1}, 33}, A),
    {error, #{reason := {bad_prefix, {{300, 0, 0, 1}, 8}}}} = linx_rtnl:addr_add(1, {{300, 0, 0, 1}, 8}, A),
    {error, #{reason := {bad_route, _}}} = linx_rtnl:route_add(#{dst => {{10, 0, 0, 0}, 8},
                                                    gateway => {16#fd00, 0, 0, 0, 0, 0, 0, 1}}, A),
    {error, #{reason := {bad_route, _}}} = linx_rtnl:route_add(#{dst => default}, A),
    {error, #{reason := {bad_neigh, _}}} = linx_rtnl:neigh_add(#{index => 1, dst => nowhere}, A),
    {error, #{reason := {bad_netns, {netns, <<"a/b">>}}}} =
        linx_rtnl:link_set(1, #{netns => {netns, <<"a/b">>}}, A),
    {error, #{reason := {bad_netns, nowhere}}} =
        linx_rtnl:link_add(#{ifname => <<"x0">>, kind => veth,
                             peer => #{ifname => <<"x1">>, netns => nowhere}}, A),
    {error, #{reason := {bad_change, {colour, red}}}} = linx_rtnl:link_set(1, #{colour => red}, A),
    {error, #{reason := {bad_spec, _}}} = linx_rtnl:link_add(#{kind => veth}, A),
    {error, #{reason := {bad_groups, [bogus]}}} = linx_rtnl:subscribe([bogus], A),
    {error, #{reason := {bad_in, nowhere}}} = linx_rtnl:links(#{in => nowhere}).

%% A namespace that is gone: the port's error, not a crash.
gone_netns(_Config) ->
    Ns = linx_ct_ns:unique("linx-rtnl-gone"),
    ok = linx_ct_ns:netns_add(Ns),
    linx_ct_ns:netns_del(Ns),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_rtnl:links(#{in => {netns, list_to_binary(Ns)}}),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_rtnl:link_set(1, #{state => up}, #{in => {netns, list_to_binary(Ns)}}).

%% Every truncation and many corruptions of a real dump decode to a
%% value or to {error, {malformed, _}}, never raise.
garbled_replies(Config) ->
    Dump = linx_ct_nl:getlink_request(5),
    {ok, Bins} = linx_netlink:call(route, Dump, in_a(Config)),
    Bin = iolist_to_binary(Bins),
    rand:seed(exsss, {1, 2, 3}),
    Truncated = [binary:part(Bin, 0, N) || N <- lists:seq(0, min(byte_size(Bin), 3000))],
    Flipped = [flip(Bin) || _ <- lists:seq(1, 300)],
    lists:foreach(fun(B) -> decode_everything(B) end, Truncated ++ Flipped),
    {error, {malformed, {header, 0}}} = linx_nl_codec:decode(<<100:32/native, 0:96>>),
    {error, {malformed, {link, short}}} = linx_rtnl_msg:decode_link(<<1, 2, 3>>),
    {error, {malformed, {link, {attr, 0}}}} =
        linx_rtnl_msg:decode_link(<<0:128, 200:16/native, 3:16/native, "x">>),
    %% A short error message, and a DONE carrying an error.
    {error, #{reason := {malformed, {error_msg, short}}}} = linx_nl:replies([<<18:32/native, 2:16/native, 0:16, 9:32/native, 0:32, 1, 2>>], 9),
    {error, #{errno := eperm}} = linx_nl:replies([<<20:32/native, 3:16/native, 0:16, 9:32/native, 0:32, -1:32/signed-native>>], 9).

flip(Bin) ->
    N = rand:uniform(byte_size(Bin)) - 1,
    <<Pre:N/binary, B, Post/binary>> = Bin,
    <<Pre/binary, (B bxor (1 bsl (rand:uniform(8) - 1))), Post/binary>>.

decode_everything(B) ->
    case linx_nl_codec:decode(B) of
        {ok, Msgs} -> [linx_rtnl_msg:decode(M) || M <- Msgs];
        {error, {malformed, _}} -> ok
    end,
    {ok, _} = {ok, linx_nl:replies([B], 5)}.

%% Every error renders as one line.
format_errors(Config) ->
    {error, E} = linx_rtnl:link(<<"nosuch0">>, in_a(Config)),
    Line = linx:format_error(E),
    nomatch = binary:match(Line, <<"\n">>),
    {match, _} = re:run(Line, "^netlink link in netns \".*\" failed: enodev \\(errno 19\\)"),
    <<"invalid interface name", _/binary>> = linx_rtnl:format_error({bad_ifname, <<"a/b">>}),
    {error, BadName} = linx_rtnl:link_add(#{ifname => <<"a/b">>, kind => bridge}),
    <<"linx_rtnl:link_add: invalid interface name", _/binary>> = linx:format_error(BadName),
    <<"malformed netlink reply", _/binary>> = linx_nl:format_error({malformed, {header, 0}}),
    Ext = linx_nl:format_error(#{stage => netlink, errno => eexist, code => 17, op => addr_add,
                              in => {netns, <<"blue">>}, message => <<"ipv4: Address already assigned">>}),
    <<"netlink addr_add in netns \"blue\" failed: eexist (errno 17): ipv4: Address already assigned">> = Ext,
    %% A namespace that is not there: the call's error names the op called.
    {error, #{op := links, stage := open_ns} = Gone} = linx_rtnl:links(#{in => {netns, <<"linx-no-such-ns">>}}),
    <<"netlink links (route) in netns \"linx-no-such-ns\" failed: open_ns enoent (errno 2)">> =
        linx:format_error(Gone),
    {error, #{op := genl, stage := open_ns} = GoneGenl} =
        linx_genl:families(#{in => {netns, <<"linx-no-such-ns">>}}),
    <<"linx_genl:families: netlink genl (generic) in netns", _/binary>> = linx:format_error(GoneGenl).

%%====================================================================
%% Events
%%====================================================================

%% Link and address changes made with `ip -n' arrive decoded, in order.
events_in_order(Config) ->
    A = in_a(Config),
    Ns = ?config(netns, Config),
    {ok, Ref} = linx_rtnl:subscribe([link, ipv4_addr, ipv6_addr], A),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add ev0 type bridge"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.50.0.1/24 dev ev0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr del 10.50.0.1/24 dev ev0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del ev0"]),
    {link, new, #{ifname := <<"ev0">>, index := I, kind := bridge}} = next_event(Ref, I0 = fun is_ev0/1),
    {addr, new, #{index := I, address := {10, 50, 0, 1}, prefixlen := 24}} = next_event(Ref, fun is_addr/1),
    {addr, del, #{index := I, address := {10, 50, 0, 1}}} = next_event(Ref, fun is_addr/1),
    {link, del, #{ifname := <<"ev0">>, index := I}} = next_event(Ref, fun(E) -> is_del(E) andalso I0(E) end),
    ok = linx_rtnl:unsubscribe(Ref).

is_ev0({link, _, #{ifname := <<"ev0">>}}) -> true;
is_ev0(_) -> false.

is_addr({addr, _, #{family := inet}}) -> true;
is_addr(_) -> false.

is_del({_, del, _}) -> true;
is_del(_) -> false.

%% The next event of Ref for which Pred holds (others are skipped).
next_event(Ref, Pred) ->
    receive
        {linx_rtnl, Ref, Event} ->
            case Pred(Event) of
                true -> Event;
                false -> next_event(Ref, Pred)
            end
    after 5000 ->
        ct:fail(no_event)
    end.

%% After unsubscribe/1 no event arrives; a subscriber's exit closes its
%% socket (the subscription process ends).
unsubscribe_and_owner_exit(Config) ->
    A = in_a(Config),
    Ns = ?config(netns, Config),
    {ok, Ref} = linx_rtnl:subscribe([link], A),
    [Pid] = [P || {{linx_rtnl, R}, P} <- get(), R =:= Ref],
    ok = linx_rtnl:unsubscribe(Ref),
    false = is_process_alive(Pid),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add ev1 type bridge"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del ev1"]),
    receive {linx_rtnl, Ref, E} -> ct:fail({event_after_unsubscribe, E}) after 200 -> ok end,
    Self = self(),
    Owner = spawn(fun() ->
                          {ok, R2} = linx_rtnl:subscribe([link], A),
                          Self ! {sub, get({linx_rtnl, R2})},
                          receive stop -> ok end
                  end),
    Sub = receive {sub, S} -> S after 5000 -> ct:fail(no_subscription) end,
    Mon = monitor(process, Sub),
    exit(Owner, kill),
    receive {'DOWN', Mon, process, Sub, _} -> ok after 5000 -> ct:fail(subscriber_left) end.

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

%%====================================================================
%% Oracles
%%====================================================================

%% `ip -j -n NS Args' as an Erlang term (python3 turns its JSON into one).
ip_json(Config, Key, Args) ->
    Script = filename:join(?config(data_dir, Config), "json2term.py"),
    Out = linx_ct_ns:sh_ok(["ip -j -n ", ?config(Key, Config), " ", Args,
                            " | python3 ", Script]),
    {ok, Tokens, _} = erl_scan:string(binary_to_list(Out)),
    {ok, Term} = erl_parse:parse_term(Tokens),
    Term.

by_name(Links) ->
    maps:from_list([{N, L} || #{ifname := N} = L <- Links]).

%% Each linx link against the ip entry of the same index: every key that
%% ip prints too must be equal (after naming things the way ip does).
compare_links(Links, Ip) ->
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    IpBy = maps:from_list([{maps:get(<<"ifindex">>, E), E} || E <- Ip]),
    true = lists:sort(maps:keys(IpBy)) =:= lists:sort(maps:keys(Names)),
    Checked = lists:append([compare_link(L, maps:get(I, IpBy), Names) || #{index := I} = L <- Links]),
    ct:log("link fields compared with ip: ~p", [lists:usort(Checked)]),
    Checked.

compare_link(L, E, Names) ->
    lists:filtermap(
      fun({Key, Value}) ->
              case ip_view(Key, Value, E, Names) of
                  skip -> false;
                  {IpKey, Expected} ->
                      case ip_get(IpKey, E) of
                          undefined -> false;
                          Expected -> {true, Key};
                          Other -> ct:fail({link_field_differs, Key, maps:get(ifname, L), Value, Expected, Other})
                      end
              end
      end, maps:to_list(L)).

ip_get(<<"flags">>, E) ->
    lists:sort(maps:get(<<"flags">>, E, []) -- [<<"NO-CARRIER">>, <<"M-DOWN">>]);
ip_get([K1, K2], E) -> maps:get(K2, maps:get(K1, E, #{}), undefined);
ip_get(K, E) -> maps:get(K, E, undefined).

ip_view(index, V, _, _) -> {<<"ifindex">>, V};
ip_view(ifname, V, _, _) -> {<<"ifname">>, V};
ip_view(K, V, _, _) when K =:= mtu; K =:= txqlen; K =:= min_mtu; K =:= max_mtu;
                         K =:= promiscuity; K =:= num_tx_queues; K =:= num_rx_queues;
                         K =:= gso_max_size; K =:= gso_max_segs; K =:= link_netnsid;
                         K =:= carrier_changes; K =:= allmulti; K =:= tso_max_size;
                         K =:= tso_max_segs; K =:= gro_max_size; K =:= gso_ipv4_max_size;
                         K =:= gro_ipv4_max_size ->
    {atom_to_binary(K), V};
ip_view(qdisc, V, _, _) -> {<<"qdisc">>, V};
ip_view(operstate, V, _, _) -> {<<"operstate">>, upper(V)};
ip_view(linkmode, V, _, _) -> {<<"linkmode">>, upper(V)};
ip_view(group, 0, _, _) -> {<<"group">>, <<"default">>};
ip_view(type, V, _, _) -> {<<"link_type">>, atom_to_binary(V)};
ip_view(address, V, _, _) -> {<<"address">>, linx_rtnl:format_mac(V)};
ip_view(broadcast, V, _, _) -> {<<"broadcast">>, linx_rtnl:format_mac(V)};
ip_view(perm_address, V, _, _) -> {<<"permaddr">>, linx_rtnl:format_mac(V)};
ip_view(master, V, _, Names) -> {<<"master">>, maps:get(V, Names)};
ip_view(kind, V, _, _) -> {[<<"linkinfo">>, <<"info_kind">>], atom_to_binary(V)};
ip_view(slave_kind, V, _, _) -> {[<<"linkinfo">>, <<"info_slave_kind">>], atom_to_binary(V)};
ip_view(alias, V, _, _) -> {<<"ifalias">>, V};
ip_view(link, V, E, Names) ->
    case maps:is_key(<<"link_index">>, E) of
        true -> {<<"link_index">>, V};
        false -> {<<"link">>, maps:get(V, Names, null)}
    end;
ip_view(flags, V, _, _) ->
    %% ip leaves RUNNING out and adds NO-CARRIER / M-DOWN of its own.
    {<<"flags">>, lists:sort([upper(F) || F <- V, F =/= running])};
ip_view(_, _, _, _) ->
    skip.

compare_addr(#{index := I, prefixlen := Len} = Ad, Infos, Names) ->
    Local = ntoa(maps:get(local, Ad, maps:get(address, Ad))),
    [Info] = [Inf || {Ix, Inf} <- Infos, Ix =:= I, maps:get(<<"local">>, Inf) =:= Local,
                     maps:get(<<"prefixlen">>, Inf) =:= Len],
    _ = Names,
    Expect = [{<<"family">>, atom_to_binary(maps:get(family, Ad))},
              {<<"scope">>, scope_text(maps:get(scope, Ad))},
              {<<"valid_life_time">>, lft(maps:get(valid_lft, Ad))},
              {<<"preferred_life_time">>, lft(maps:get(preferred_lft, Ad))}]
        ++ [{<<"label">>, L} || #{label := L} <- [Ad]]
        ++ [{<<"broadcast">>, ntoa(B)} || #{broadcast := B} <- [Ad]]
        ++ [{atom_to_binary(F), true} || F <- maps:get(flags, Ad),
                                         lists:member(F, [nodad, noprefixroute, tentative,
                                                          deprecated, dadfailed, optimistic])],
    [V = maps:get(K, Info) || {K, V} <- Expect],
    ok.

compare_route(R, Ip, Names) ->
    Dst = case maps:get(dst, R) of
              default -> <<"default">>;
              {A, Len} when Len =:= 32, tuple_size(A) =:= 4; Len =:= 128, tuple_size(A) =:= 8 -> ntoa(A);
              {A, Len} -> iolist_to_binary([ntoa(A), "/", integer_to_list(Len)])
          end,
    Table = table_text(maps:get(table, R)),
    Dev = maps:get(maps:get(oif, R, none), Names, undefined),
    Matches = [E || E <- Ip, maps:get(<<"dst">>, E) =:= Dst,
                    maps:get(<<"table">>, E, <<"main">>) =:= Table,
                    maps:get(<<"dev">>, E, undefined) =:= Dev],
    [E] = case Matches of
              [_] -> Matches;
              _ -> ct:fail({route_not_matched_once, R, Matches})
          end,
    Expect = [{<<"protocol">>, atom_to_binary(maps:get(protocol, R))},
              {<<"type">>, atom_to_binary(maps:get(type, R))},
              {<<"scope">>, scope_text(maps:get(scope, R))}]
        ++ [{<<"gateway">>, ntoa(G)} || #{gateway := G} <- [R]]
        ++ [{<<"prefsrc">>, ntoa(P)} || #{prefsrc := P} <- [R]]
        ++ [{<<"metric">>, M} || #{metric := M} <- [R]]
        ++ [{<<"pref">>, atom_to_binary(P)} || #{pref := P} <- [R]],
    [case maps:get(K, E, undefined) of
         undefined when K =:= <<"type">>, V =:= <<"unicast">> -> ok;
         undefined when K =:= <<"scope">>, V =:= <<"global">> -> ok;
         undefined when K =:= <<"metric">>, V =:= 0 -> ok;
         undefined when K =:= <<"protocol">>, V =:= <<"boot">> -> ok;
         V -> ok;
         Other -> ct:fail({route_field_differs, K, R, V, Other})
     end || {K, V} <- Expect],
    IpFlags = lists:sort(maps:get(<<"flags">>, E, [])),
    IpFlags = lists:sort([atom_to_binary(F) || F <- maps:get(flags, R),
                                              lists:member(F, [dead, pervasive, onlink, offload,
                                                               linkdown, unresolved, trap])]),
    ok.

compare_neigh(#{index := I, dst := Dst} = N, Ip, Names) ->
    [E] = [E || E <- Ip, maps:get(<<"dst">>, E) =:= ntoa(Dst),
                maps:get(<<"dev">>, E) =:= maps:get(I, Names)],
    case maps:find(lladdr, N) of
        {ok, Mac} -> Lladdr = linx_rtnl:format_mac(Mac), Lladdr = maps:get(<<"lladdr">>, E);
        error -> ok
    end,
    States = [upper(S) || S <- maps:get(state, N)],
    States = maps:get(<<"state">>, E),
    Router = lists:member(router, maps:get(flags, N)),
    Router = maps:is_key(<<"router">>, E),
    ok.

upper(A) -> string:uppercase(atom_to_binary(A)).

ntoa(IP) -> list_to_binary(inet:ntoa(IP)).

scope_text(universe) -> <<"global">>;
scope_text(S) when is_atom(S) -> atom_to_binary(S);
scope_text(N) -> integer_to_binary(N).

table_text(254) -> <<"main">>;
table_text(255) -> <<"local">>;
table_text(253) -> <<"default">>;
table_text(N) -> integer_to_binary(N).

lft(forever) -> 4294967295;
lft(N) -> N.
