%% linx_ct's plain functions when the careless user calls them: twice,
%% with the names of things that already exist (a namespace made by hand
%% with `ip netns add', an interface of a working pair), or with a
%% namespace missing or an address the kernel refuses. A call that fails
%% leaves alone whatever it did not make, and leaves nothing behind of
%% what it made; `ip -n NS link' and `ip -n NS addr' are the oracles, and
%% a UDP round trip shows that a pair still carries traffic.
-module(linx_ct_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([veth_twice_leaves_the_first_pair/1,
         veth_to_a_missing_netns_leaves_the_pair_there/1,
         veth_with_a_refused_address_removes_only_its_pair/1,
         addr_twice_leaves_the_address/1,
         sysctl_is_all_or_none/1,
         netns_leaves_a_namesake_alone/1,
         cleanup_deletes_only_the_names_given/1,
         setup_makes_a_hub/1,
         setup_that_fails_removes_what_it_made/1,
         hub_of_three/1,
         hub_of_32/1,
         bad_hubs/1]).

-define(FWD, <<"net.ipv4.ip_forward">>).

all() ->
    [veth_twice_leaves_the_first_pair,
     veth_to_a_missing_netns_leaves_the_pair_there,
     veth_with_a_refused_address_removes_only_its_pair,
     addr_twice_leaves_the_address,
     sysctl_is_all_or_none,
     netns_leaves_a_namesake_alone,
     cleanup_deletes_only_the_names_given,
     setup_makes_a_hub,
     setup_that_fails_removes_what_it_made,
     hub_of_three,
     hub_of_32,
     bad_hubs].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    _ = application:stop(linx),
    ok.

%%--------------------------------------------------------------------

%% The same pair asked for again, between a namespace linx_ct made and
%% one made by hand: `eexist', and the first pair is still there, up,
%% with its addresses, and carries traffic.
veth_twice_leaves_the_first_pair(_Config) ->
    Hand = list_to_binary(linx_ct_ns:unique("byhand")),
    ok = linx_ct_ns:netns_add(binary_to_list(Hand)),
    {ok, A} = linx_ct:netns("twice"),
    try
        Addrs = {{{10, 61, 0, 1}, 24}, {{10, 61, 0, 2}, 24}},
        {ok, #{a := {A, IfA}, b := {Hand, IfB}}} = linx_ct:veth(A, Hand, #{addrs => Addrs}),
        {error, #{errno := eexist}} = linx_ct:veth(A, Hand, #{addrs => Addrs}),
        pair_works(A, IfA, {10, 61, 0, 1}, Hand, IfB, {10, 61, 0, 2})
    after
        ok = linx_ct:cleanup([A]),
        linx_ct_ns:netns_del(binary_to_list(Hand))
    end.

%% A pair from A to a namespace that does not exist, its end in A named
%% like an end of a working pair: the error, and the working pair stays.
veth_to_a_missing_netns_leaves_the_pair_there(_Config) ->
    {ok, A} = linx_ct:netns("miss"),
    {ok, B} = linx_ct:netns("there"),
    try
        {ok, _} = linx_ct:veth(A, B, #{names => {<<"m0">>, <<"m1">>},
                                       addrs => {{{10, 62, 0, 1}, 24}, {{10, 62, 0, 2}, 24}}}),
        Missing = list_to_binary(linx_ct_ns:unique("missing")),
        {error, #{errno := enoent}} = linx_ct:veth(A, Missing, #{names => {<<"m0">>, <<"m9">>}}),
        pair_works(A, <<"m0">>, {10, 62, 0, 1}, B, <<"m1">>, {10, 62, 0, 2})
    after
        ok = linx_ct:cleanup([A, B])
    end.

%% The kernel refuses the second address (a multicast one): the new pair
%% is gone from both sides; the pair that was there before is not.
veth_with_a_refused_address_removes_only_its_pair(_Config) ->
    {ok, A} = linx_ct:netns("refused"),
    {ok, B} = linx_ct:netns("other"),
    try
        {ok, _} = linx_ct:veth(A, B, #{names => {<<"r0">>, <<"r1">>},
                                       addrs => {{{10, 63, 0, 1}, 24}, {{10, 63, 0, 2}, 24}}}),
        Refused = {{16#ff02, 0, 0, 0, 0, 0, 0, 1}, 64},
        {error, #{errno := eaddrnotavail}} =
            linx_ct:veth(A, B, #{names => {<<"n0">>, <<"n1">>},
                                 addrs => {{{10, 64, 0, 1}, 24}, Refused}}),
        ?assertMatch({1, _}, linx_ct_ns:sh(["ip -n ", A, " link show n0"])),
        ?assertMatch({1, _}, linx_ct_ns:sh(["ip -n ", B, " link show n1"])),
        pair_works(A, <<"r0">>, {10, 63, 0, 1}, B, <<"r1">>, {10, 63, 0, 2})
    after
        ok = linx_ct:cleanup([A, B])
    end.

%% An address added twice: `eexist', and the address is still there.
addr_twice_leaves_the_address(_Config) ->
    {ok, A} = linx_ct:netns("addr"),
    try
        ok = linx_ct:addr(A, <<"lo">>, {{10, 65, 0, 1}, 32}),
        {error, #{errno := eexist}} = linx_ct:addr(A, <<"lo">>, {{10, 65, 0, 1}, 32}),
        ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -o -n ", A, " addr show lo"]),
                                        "inet 10\\.65\\.0\\.1/32"))
    after
        ok = linx_ct:cleanup([A])
    end.

%% A refused value leaves the earlier keys as they were; a second call
%% returns the values just before it (the first call's), not older ones.
sysctl_is_all_or_none(_Config) ->
    {ok, A} = linx_ct:netns("sysctl"),
    try
        {error, #{failed := <<"net.ipv4.tcp_congestion_control">>, rolled_back := [?FWD]}} =
            linx_ct:sysctl(A, [{?FWD, 1}, {<<"net.ipv4.tcp_congestion_control">>, <<"no_such">>}]),
        ?assertEqual(<<"0">>, linx_ct_ns:oracle({netns, binary_to_list(A)}, "net.ipv4.ip_forward")),
        {ok, [{?FWD, <<"0">>}]} = linx_ct:sysctl(A, #{?FWD => 1}),
        {ok, [{?FWD, <<"1">>}]} = linx_ct:sysctl(A, #{?FWD => 1}),
        ?assertEqual(<<"1">>, linx_ct_ns:oracle({netns, binary_to_list(A)}, "net.ipv4.ip_forward"))
    after
        ok = linx_ct:cleanup([A])
    end.

%% The names linx_ct would pick next are taken (by namespaces made by
%% hand, as one left by an earlier node that had this OS pid would be):
%% netns/1 picks another and leaves those alone.
netns_leaves_a_namesake_alone(_Config) ->
    Prefix = "namesake",
    Next = erlang:unique_integer([positive, monotonic]),
    Taken = [iolist_to_binary([Prefix, "-", os:getpid(), "-", integer_to_list(Next + I)])
             || I <- [1, 2]],
    [ok = linx_ct_ns:netns_add(binary_to_list(T)) || T <- Taken],
    try
        {ok, Name} = linx_ct:netns(Prefix),
        try
            ?assertNot(lists:member(Name, Taken)),
            Listed = linx_ct_ns:ip_netns_list(),
            ?assertEqual(Taken ++ [Name], [N || N <- Taken ++ [Name], lists:member(N, Listed)]),
            %% Still the namespaces they were: lo down, as `ip netns add' leaves it.
            [?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -n ", T, " link show lo"]),
                                             "state DOWN")) || T <- Taken]
        after
            ok = linx_ct:cleanup([Name])
        end
    after
        [linx_ct_ns:netns_del(binary_to_list(T)) || T <- Taken]
    end.

%% cleanup/1 deletes the names it is given and no other.
cleanup_deletes_only_the_names_given(_Config) ->
    {ok, A} = linx_ct:netns("gone"),
    {ok, B} = linx_ct:netns("kept"),
    try
        {ok, _} = linx_ct:veth(A, B, #{}),
        ok = linx_ct:cleanup([A]),
        Listed = linx_ct_ns:ip_netns_list(),
        ?assertEqual({false, true}, {lists:member(A, Listed), lists:member(B, Listed)})
    after
        ok = linx_ct:cleanup([A, B])
    end.

%% A hub: a bridge in one namespace, a pair from each spoke to it with
%% the hub's end enslaved, an address in each spoke, a default route
%% through the bridge's address, a sysctl. `ip' shows each piece, and a
%% datagram goes from one spoke to another through the bridge.
setup_makes_a_hub(_Config) ->
    Spokes = [s1, s2, s3],
    Spec = #{netns => [hub | Spokes],
             bridge => #{hub => [<<"br0">>]},
             veth => [{S, hub, #{addrs => {{{10, 70, 0, K}, 24}, none}, master => {none, <<"br0">>}}}
                      || {K, S} <- lists:zip([1, 2, 3], Spokes)],
             routes => maps:from_list([{S, [#{dst => default, gateway => {10, 70, 0, 254}}]}
                                       || S <- Spokes]),
             sysctl => #{hub => #{?FWD => 1}}},
    {ok, #{netns := Names, veth := Pairs}} = linx_ct:setup(Spec),
    try
        Hub = maps:get(hub, Names),
        ok = linx_ct:addr(Hub, <<"br0">>, {{10, 70, 0, 254}, 24}),
        <<"1">> = linx_ct_ns:oracle({netns, binary_to_list(Hub)}, "net.ipv4.ip_forward"),
        [begin
             #{a := {Ns, IfS}, b := {Hub, IfH}} = maps:get({S, hub}, Pairs),
             Ns = maps:get(S, Names),
             HubEnd = linx_ct_ns:sh_ok(["ip -o -n ", Hub, " link show ", IfH]),
             ?assertMatch({match, _}, re:run(HubEnd, "master br0 state UP")),
             ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -o -n ", Ns, " addr show ", IfS]),
                                             "inet 10\\.70\\.0\\.")),
             ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -n ", Ns, " route show default"]),
                                             "default via 10.70.0.254 dev " ++ binary_to_list(IfS)))
         end || S <- Spokes],
        #{a := {N1, If1}} = maps:get({s1, hub}, Pairs),
        #{a := {N2, If2}} = maps:get({s2, hub}, Pairs),
        %% Both sides of the bridge are spokes: the pair check's UDP round trip.
        linx_ct_ns:sh_ok(["ip -n ", Hub, " link set br0 up"]),
        pair_works(N1, If1, {10, 70, 0, 1}, N2, If2, {10, 70, 0, 2})
    after
        ok = linx_ct:cleanup(maps:values(Names))
    end.

%% A spec that fails halfway (a route through a gateway no address
%% reaches): the error names the namespace and the op, and no namespace
%% of it is left.
setup_that_fails_removes_what_it_made(_Config) ->
    Before = linx_ct_ns:ip_netns_list(),
    Spec = #{netns => [f1, f2], veth => [{f1, f2}],
             routes => #{f1 => [#{dst => {{10, 99, 0, 0}, 16}, gateway => {192, 0, 2, 1}}]}},
    {error, {f1, {route_add, _}, #{errno := enetunreach}}} = linx_ct:setup(Spec),
    ?assertEqual([], linx_ct_ns:ip_netns_list() -- Before),
    {error, {bad_option, {routes, #{nowhere := _}}}} =
        linx_ct:setup(#{netns => [f1], routes => #{nowhere => []}}),
    ?assertEqual([], linx_ct_ns:ip_netns_list() -- Before).

%% `hub => [a, b, c]': the hub and the nodes as `ip' shows them, the
%% addresses 10.254.0.1..3/16 in list order, each pair in `veth' as
%% {Node, hub}; every node pings every other through the bridge; the
%% cleanup of the namespaces in `netns' leaves none of them.
hub_of_three(_Config) ->
    {ok, #{netns := Names, veth := Pairs, hub := Hub} = Setup} = linx_ct:setup(#{hub => [a, b, c]}),
    try
        ?assertEqual([a, b, c, hub], lists:sort(maps:keys(Names))),
        ?assertEqual(#{netns => maps:get(hub, Names), bridge => <<"hub">>, ifname => <<"eth0">>,
                       prefix_len => 16,
                       addrs => #{a => {10, 254, 0, 1}, b => {10, 254, 0, 2}, c => {10, 254, 0, 3}}},
                     Hub),
        ?assertEqual(#{a => {maps:get(b, Names), <<"eth0">>}, b => {maps:get(hub, Names), <<"b">>},
                       addrs => {{{10, 254, 0, 2}, 16}, none}},
                     maps:get({b, hub}, Pairs)),
        ok = linx_ct_hub_check:built(Setup, [a, b, c]),
        ?assertEqual(3 * 2, linx_ct_hub_check:pings(Setup))
    after
        ok = linx_ct:cleanup(maps:values(Names))
    end,
    ?assertEqual([], [N || N <- maps:values(Names), lists:member(N, linx_ct_ns:ip_netns_list())]).

%% 32 nodes, with the map form: the hub's key and the prefix given, a
%% node also in `netns', a sysctl in a node. 32 x 31 pings answered.
hub_of_32(_Config) ->
    Nodes = [list_to_atom("node" ++ integer_to_list(I)) || I <- lists:seq(1, 32)],
    Spec = #{netns => [node7],
             hub => #{nodes => Nodes, name => sw, prefix => {{192, 168, 7, 99}, 26}},
             sysctl => #{node7 => #{?FWD => 1}}},
    {ok, #{netns := Names, hub := #{addrs := Addrs}} = Setup} = linx_ct:setup(Spec),
    try
        ?assertEqual(lists:sort([sw | Nodes]), lists:sort(maps:keys(Names))),
        %% The I-th host of 192.168.7.64/26.
        ?assertEqual({192, 168, 7, 65}, maps:get(node1, Addrs)),
        ?assertEqual({192, 168, 7, 96}, maps:get(node32, Addrs)),
        ok = linx_ct_hub_check:built(Setup, Nodes),
        ?assertEqual(<<"1">>, linx_ct_ns:oracle({netns, binary_to_list(maps:get(node7, Names))},
                                                "net.ipv4.ip_forward")),
        ?assertEqual(32 * 31, linx_ct_hub_check:pings(Setup))
    after
        ok = linx_ct:cleanup(maps:values(Names))
    end,
    ?assertEqual([], [N || N <- maps:values(Names), lists:member(N, linx_ct_ns:ip_netns_list())]).

%% Hub specs that cannot be built: `{bad_option, {hub, Spec}}', and no
%% namespace made.
bad_hubs(_Config) ->
    Before = linx_ct_ns:ip_netns_list(),
    Long = fun(S) -> list_to_atom("a_rather_long_key_" ++ S) end,
    Bad = [[],
           [a, b, a],
           [a, hub],
           [a, "b"],
           not_a_list,
           [lo],
           [Long("1"), Long("2")],
           #{nodes => [a, sw], name => sw},
           #{nodes => []},
           #{nodes => [a], name => "sw"},
           #{nodes => [a], colour => blue},
           #{name => sw},
           #{nodes => [a, b, c], prefix => {{10, 0, 0, 0}, 31}},
           #{nodes => [a, b, c], prefix => {{10, 0, 0, 0}, 30}},
           #{nodes => [a], prefix => {{10, 0, 0, 0}, 33}},
           #{nodes => [a], prefix => {{10, 0, 0, 256}, 24}},
           #{nodes => [a], prefix => {10, 0, 0, 0}}],
    [?assertEqual({error, {bad_option, {hub, H}}}, linx_ct:setup(#{hub => H})) || H <- Bad],
    %% Just enough room: 2 hosts in a /30, 3 in a /126.
    {ok, #{netns := N1, hub := #{addrs := #{b := {10, 0, 0, 2}}}}} =
        linx_ct:setup(#{hub => #{nodes => [a, b], prefix => {{10, 0, 0, 0}, 30}}}),
    ok = linx_ct:cleanup(maps:values(N1)),
    {ok, #{netns := N2, hub := #{addrs := #{c := {16#fd00, 0, 0, 0, 0, 0, 0, 3}}}}} =
        linx_ct:setup(#{hub => #{nodes => [a, b, c], prefix => {{16#fd00, 0, 0, 0, 0, 0, 0, 0}, 126}}}),
    ok = linx_ct:cleanup(maps:values(N2)),
    %% A veth entry of its own between a node and the hub.
    {error, {bad_option, {hub, [a, b]}}} = linx_ct:setup(#{hub => [a, b], veth => [{hub, b}]}),
    ?assertEqual([], linx_ct_ns:ip_netns_list() -- Before).

%%--------------------------------------------------------------------

%% The pair between IfA in A and IfB in B: both ends up with their
%% addresses (as `ip' shows them), and a UDP datagram goes across and
%% back.
pair_works(A, IfA, IpA, B, IfB, IpB) ->
    [begin
         Link = linx_ct_ns:sh_ok(["ip -o -n ", Ns, " link show ", If]),
         ?assertMatch({match, _}, re:run(Link, "state UP")),
         Addr = linx_ct_ns:sh_ok(["ip -o -n ", Ns, " addr show ", If]),
         ?assertMatch({match, _}, re:run(Addr, ["inet ", inet:ntoa(Ip), "/"]))
     end || {Ns, If, Ip} <- [{A, IfA, IpA}, {B, IfB, IpB}]],
    {ok, Server} = linx_netlink:socket_open(inet, dgram, udp, #{in => {netns, B}}),
    {ok, Client} = linx_netlink:socket_open(inet, dgram, udp, #{in => {netns, A}}),
    try
        ok = socket:bind(Server, #{family => inet, addr => IpB, port => 0}),
        {ok, To} = socket:sockname(Server),
        ok = socket:sendto(Client, <<"ping">>, To),
        {ok, {#{addr := IpA} = From, <<"ping">>}} = socket:recvfrom(Server, 0, 5000),
        ok = socket:sendto(Server, <<"pong">>, From),
        {ok, {#{addr := IpB}, <<"pong">>}} = socket:recvfrom(Client, 0, 5000),
        ok
    after
        socket:close(Server),
        socket:close(Client)
    end.
