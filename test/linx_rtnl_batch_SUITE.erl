%% @doc linx_rtnl:batch/2 against real namespaces, with `ip -j' as the
%% oracle (linx_ct_config): a topology made by one batch, ops naming
%% links made or renamed earlier in it, one result per op whatever fails,
%% bad batches refused before anything is sent; atomic batches undone
%% for each kind of op (the configuration equal before and after); many
%% callers at once; the socket a worker keeps, in a namespace deleted and
%% made again; a batch through a C-node.
-module(linx_rtnl_batch_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_testcase/2, end_per_testcase/2]).
-export([topology_in_one_batch/1, every_op_gets_its_result/1, bad_batches_refused/1,
         largest_batch/1, ops_across_frames/1]).
-export([atomic_link_add/1, atomic_link_set_mtu/1, atomic_link_set_state/1,
         atomic_link_set_ifname/1, atomic_link_set_master/1, atomic_failed_link_set/1,
         atomic_link_del_bridge/1, atomic_link_del_veth/1, atomic_addr_add/1,
         atomic_addr_del/1, atomic_route_add/1, atomic_route_del/1, atomic_neigh_add/1,
         atomic_neigh_del/1, atomic_500th_op_fails/1, atomic_not_undoable/1]).
-export([concurrent_callers/1, kept_socket_netns_made_again/1, via_cnode/1]).

%% An op that fails in every namespace (the kernel's eaddrnotavail).
-define(FAIL, {addr_del, <<"lo">>, {{10, 99, 99, 99}, 32}}).

all() ->
    [{group, batch}, {group, atomic}, {group, shared}].

groups() ->
    [{batch, [], [topology_in_one_batch, every_op_gets_its_result, bad_batches_refused,
                  largest_batch, ops_across_frames]},
     {atomic, [], [atomic_link_add, atomic_link_set_mtu, atomic_link_set_state,
                   atomic_link_set_ifname, atomic_link_set_master, atomic_failed_link_set,
                   atomic_link_del_bridge, atomic_link_del_veth, atomic_addr_add,
                   atomic_addr_del, atomic_route_add, atomic_route_del, atomic_neigh_add,
                   atomic_neigh_del, atomic_500th_op_fails, atomic_not_undoable]},
     {shared, [], [concurrent_callers, kept_socket_netns_made_again, via_cnode]}].

%%====================================================================
%% Set-up: a fresh namespace per case (for the atomic cases, with the
%% topology below), IPv6 duplicate address detection off so that
%% addresses do not change state on their own
%%====================================================================

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    _ = application:stop(linx),
    ok.

init_per_testcase(via_cnode, Config) ->
    Started = case node() of
                  nonode@nohost ->
                      _ = os:cmd("epmd -daemon"),
                      {ok, _} = net_kernel:start([list_to_atom("linx_batch_" ++ os:getpid()), shortnames]),
                      true;
                  _ ->
                      false
              end,
    CookieFile = filename:join(?config(priv_dir, Config), "cookie"),
    ok = file:write_file(CookieFile, atom_to_list(erlang:get_cookie())),
    ok = file:change_mode(CookieFile, 8#600),
    CNode = list_to_atom("linx_batch_cnode_" ++ os:getpid() ++ "@localhost"),
    ok = linx_ct_cnode:start(CNode, CookieFile),
    netns([{cnode, CNode}, {started_dist, Started} | Config]);
init_per_testcase(Case, Config) ->
    Config1 = netns(Config),
    case atom_to_list(Case) of
        "atomic_" ++ _ -> build(?config(ns, Config1), ?config(priv_dir, Config1));
        _ -> ok
    end,
    Config1.

end_per_testcase(via_cnode, Config) ->
    linx_ct_cnode:stop(),
    [net_kernel:stop() || ?config(started_dist, Config)],
    linx_ct_ns:netns_del(?config(ns, Config));
end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(ns, Config)).

netns(Config) ->
    Ns = linx_ct_ns:unique("linx-batch"),
    ok = linx_ct_ns:netns_add(Ns),
    _ = linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -qw net.ipv6.conf.all.accept_dad=0",
                          " net.ipv6.conf.default.accept_dad=0"]),
    [{ns, Ns} | Config].

%% A bridge br0 (up, IPv4 and IPv6 addresses, a route in table 100
%% through it) with port va, whose veth peer vb has addresses, a route and
%% a permanent neighbour; a veth pair vc/vd (MTU 1400, addresses, a route
%% through the link, one through a gateway, permanent neighbours); a
%% bridge bx, down. Made by `ip -batch'.
build(Ns, Dir) ->
    File = filename:join(Dir, Ns ++ ".batch"),
    ok = file:write_file(File, lists:join("\n", [
        "link add br0 type bridge", "link set br0 up",
        "addr add 10.1.0.1/24 dev br0", "addr add fd01::1/64 dev br0 nodad",
        "link add va type veth peer name vb", "link set va master br0",
        "link set va up", "link set vb up",
        "route add 10.51.0.0/16 via 10.1.0.2 table 100",
        "addr add 10.2.0.1/24 dev vb", "addr add fd02::1/64 dev vb nodad",
        "route add 10.50.0.0/16 via 10.2.0.2",
        "neigh add 10.2.0.3 lladdr 02:00:00:00:02:03 dev vb nud permanent",
        "link add vc mtu 1400 type veth peer name vd", "link set vc up", "link set vd up",
        "addr add 10.3.0.1/24 dev vc", "addr add fd03::1/64 dev vc nodad",
        "addr add 10.4.0.1/24 dev vd",
        "route add 10.60.0.0/16 dev vc", "route add 10.61.0.0/16 via 10.3.0.2",
        "neigh add 10.3.0.3 lladdr 02:00:00:00:03:03 dev vc nud permanent",
        "neigh add fd03::3 lladdr 02:00:00:00:03:04 dev vc nud permanent",
        "link add bx type bridge", ""])),
    _ = linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", File]),
    ok.

in(Config) -> #{in => {netns, list_to_binary(?config(ns, Config))}}.

atomic(Config) -> (in(Config))#{atomic => true}.

%% linx:format_error/1 of an error: one line that names `Name'.
one_line(Error, Name) ->
    Line = linx:format_error(Error),
    nomatch = binary:match(Line, <<"\n">>),
    true = byte_size(Line) < 2000,
    %% Text, not a term.
    nomatch = re:run(Line, "^(linx_rtnl:batch: )?#?\\{"),
    case binary:match(Line, iolist_to_binary(Name)) of
        nomatch -> ct:fail({"does not name", Name, Line});
        _ -> Line
    end.

%%====================================================================
%% Batches
%%====================================================================

%% Bridge, veth pairs with a master, a rename, MTU, state, addresses,
%% routes and a neighbour in one batch, ops naming links earlier ops made
%% or renamed: one ok per op, and ip shows exactly that.
topology_in_one_batch(Config) ->
    Ns = ?config(ns, Config),
    Ops = [{link_add, #{ifname => <<"br1">>, kind => bridge}},
           {link_add, #{ifname => <<"v1">>, kind => veth, master => <<"br1">>,
                        peer => #{ifname => <<"v1p">>}}},
           {link_add, #{ifname => <<"v2">>, kind => veth, peer => #{ifname => <<"v2p">>}}},
           {link_set, <<"v2">>, #{master => <<"br1">>, mtu => 1400}},
           {link_set, <<"v2p">>, #{ifname => <<"w2">>}},
           {link_set, <<"w2">>, #{state => up, mtu => 1400}},
           {link_set, <<"br1">>, #{state => up}},
           {link_set, <<"v1">>, #{state => up}},
           {link_set, "v1p", #{state => up}},
           {addr_add, <<"br1">>, {{10, 7, 0, 1}, 24}},
           {addr_add, <<"w2">>, #{prefix => {{10, 8, 0, 1}, 24}, label => <<"w2:x">>}},
           {addr_add, <<"br1">>, #{prefix => {{16#fd07, 0, 0, 0, 0, 0, 0, 1}, 64}, flags => [nodad]}},
           {route_add, #{dst => {{10, 70, 0, 0}, 16}, gateway => {10, 7, 0, 2}}},
           {route_add, #{dst => {{10, 71, 0, 0}, 16}, oif => <<"w2">>, table => 100}},
           {neigh_add, #{index => <<"br1">>, dst => {10, 7, 0, 3}, lladdr => <<"02:00:00:00:07:03">>}}],
    {ok, Results} = linx_rtnl:batch(Ops, in(Config)),
    Results = [ok || _ <- Ops],
    #{links := Links, addrs := Addrs, routes := Routes, neighs := Neighs} = linx_ct_config:settled(Ns),
    [#{ifname := <<"br1">>, kind := <<"bridge">>, mtu := 1400, master := none, up := true},
     #{ifname := <<"lo">>, up := false},
     #{ifname := <<"v1">>, kind := <<"veth">>, mtu := 1500, master := <<"br1">>, up := true, peer := <<"v1p">>},
     #{ifname := <<"v1p">>, kind := <<"veth">>, mtu := 1500, master := none, up := true, peer := <<"v1">>},
     #{ifname := <<"v2">>, kind := <<"veth">>, mtu := 1400, master := <<"br1">>, up := false, peer := <<"w2">>},
     #{ifname := <<"w2">>, kind := <<"veth">>, mtu := 1400, master := none, up := true, peer := <<"v2">>}] =
        lists:sort(fun(A, B) -> maps:get(ifname, A) =< maps:get(ifname, B) end, Links),
    [{<<"br1">>, <<"10.7.0.1">>, 24, <<"br1">>}, {<<"br1">>, <<"fd07::1">>, 64, none},
     {<<"w2">>, <<"10.8.0.1">>, 24, <<"w2:x">>}] =
        lists:sort([{D, L, P, maps:get(<<"label">>, A, none)}
                    || #{dev := D, <<"local">> := L, <<"prefixlen">> := P, <<"scope">> := S} = A <- Addrs,
                       S =:= <<"global">>]),
    [{<<"10.70.0.0/16">>, <<"br1">>, <<"10.7.0.2">>, main}, {<<"10.71.0.0/16">>, <<"w2">>, none, <<"100">>}] =
        lists:sort([{D, Dev, maps:get(<<"gateway">>, R, none), maps:get(<<"table">>, R, main)}
                    || #{<<"dst">> := D, <<"dev">> := Dev} = R <- Routes,
                       maps:get(<<"protocol">>, R, boot) =/= <<"kernel">>]),
    [#{<<"dst">> := <<"10.7.0.3">>, <<"dev">> := <<"br1">>, <<"lladdr">> := <<"02:00:00:00:07:03">>}] = Neighs.

%% Without `atomic' every op is tried: an op naming a link that is not
%% there gets the ifindex error with the names it looked up, one the
%% kernel refuses its netlink error, one naming a namespace that is not
%% there the error of opening it, and the ops after them run. A batch in
%% a namespace that is not there fails as a whole.
every_op_gets_its_result(Config) ->
    Ns = ?config(ns, Config),
    Ops = [{addr_add, <<"nosuch0">>, {{10, 9, 0, 1}, 24}},
           {link_add, #{ifname => <<"m0">>, kind => bridge}},
           {link_set, <<"nosuch1">>, #{master => <<"m0">>}},
           {link_add, #{ifname => <<"m0">>, kind => bridge}},
           {addr_add, <<"m0">>, {{10, 9, 0, 1}, 24}},
           {route_del, #{dst => {{10, 99, 0, 0}, 16}}},
           {neigh_add, #{index => <<"m0">>, dst => {10, 9, 0, 5}, lladdr => <<"02:00:00:00:09:05">>}},
           {link_add, #{ifname => <<"pg0">>, kind => veth,
                        peer => #{ifname => <<"pg0p">>, netns => {netns, <<"linx-no-such-ns">>}}}}],
    {ok, [R1, ok, R3, R4, ok, R6, ok, R8]} = linx_rtnl:batch(Ops, in(Config)),
    {error, #{stage := ifindex, errno := enodev, links := [<<"nosuch0">>], op := addr_add,
              function := {linx_rtnl, addr_add}}} = R1,
    {error, #{stage := ifindex, errno := enodev, links := [<<"m0">>, <<"nosuch1">>], op := link_set}} = R3,
    {error, #{stage := netlink, errno := eexist, op := link_add}} = R4,
    {error, #{stage := netlink, errno := esrch, op := route_del}} = R6,
    <<"addr_add", _/binary>> = one_line(R1, "\"nosuch0\""),
    one_line(R3, "\"nosuch1\""),
    one_line(R4, "link_add"),
    one_line(R6, "route_del"),
    {error, #{stage := open_ns, errno := enoent, op := link_add}} = R8,
    one_line(R8, "link_add"),
    {error, #{stage := open_ns, errno := enoent, function := {linx_rtnl, batch}} = Gone} =
        linx_rtnl:batch(Ops, #{in => {netns, <<"linx-no-such-ns">>}}),
    one_line(Gone, "batch"),
    <<"10.9.0.1/24">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " -br -4 addr show m0 | awk '{print $3}'"]),
    {0, <<"10.9.0.5 ", _/binary>>} = linx_ct_ns:sh(["ip -n ", Ns, " neigh show dev m0"]).

%% Bad ops (an unknown one, a bad prefix), an empty batch, one that is
%% not a list, one of 10,001 ops, a bad `atomic': each refused with its
%% error, rendered as one line naming it, and nothing is sent.
bad_batches_refused(Config) ->
    Ns = ?config(ns, Config),
    In = in(Config),
    Before = linx_ct_config:settled(Ns),
    Sent = fun() -> maps:get(netlink_batch, maps:get(requests, linx:stats()), 0) end,
    Sent0 = Sent(),
    Good = {link_add, #{ifname => <<"ok0">>, kind => bridge}},
    Bad = {addr_add, <<"lo">>, {{10, 0, 0, 1}, 33}},
    Many = [{addr_add, <<"lo">>, {{10, 0, I div 256, I rem 256}, 32}} || I <- lists:seq(1, 10001)],
    Refused =
        [{"{bogus}", linx_rtnl:batch([Good, {bogus}], In)},
         {"{bogus}", linx_rtnl:batch([Good, {bogus}], In#{atomic => true})},
         {"addr_add", linx_rtnl:batch([Good, Bad], In)},
         {"batch", linx_rtnl:batch([], In)},
         {"batch", linx_rtnl:batch(Good, In)},
         {"batch", linx_rtnl:batch(Many, In)},
         {"atomic", linx_rtnl:batch([Good], In#{atomic => yes})}],
    [{error, #{module := linx_rtnl, function := {linx_rtnl, batch},
               reason := {bad_op, {bogus}}}}, {error, #{reason := {bad_op, {bogus}}}},
     {error, #{reason := {bad_op, Bad, {bad_prefix, {{10, 0, 0, 1}, 33}}}}},
     {error, #{reason := {bad_batch, []}}}, {error, #{reason := {bad_batch, Good}}},
     {error, #{reason := {bad_batch, Many}}}, {error, #{reason := {bad_option, {atomic, yes}}}}] =
        [R || {_, R} <- Refused],
    Lines = [one_line(R, Name) || {Name, R} <- Refused],
    ct:log("~p", [Lines]),
    Sent0 = Sent(),
    ok = linx_ct_config:same_as(Ns, Before).

%% 10,000 ops (the most) go in one batch, each with its result.
largest_batch(Config) ->
    Ops = [{addr_del, <<"lo">>, {{10, 1, I div 256, I rem 256}, 32}} || I <- lists:seq(1, 10000)],
    {ok, Results} = linx_rtnl:batch(Ops, in(Config)),
    10000 = length(Results),
    [] = [R || R <- Results, not is_tuple(R) orelse maps:get(errno, element(2, R)) =/= eaddrnotavail].

%% A batch larger than 128 ops goes in frames (64 ops, then 16 times more; each sent
%% while the program works on those before it): an op needs what an op
%% of an earlier frame made, failures stay where they are, the results
%% come in order, and what ip shows is what was asked; a namespace that
%% is not there is still the batch's error.
ops_across_frames(Config) ->
    Ns = ?config(ns, Config),
    Name = fun(I) -> <<"f", (integer_to_binary(I))/binary>> end,
    Ops = lists:append([[{link_add, #{ifname => Name(I), kind => bridge}},
                         {addr_add, Name(I), {{10, 50, I div 256, I rem 256}, 32}}]
                        ++ [?FAIL || I rem 50 =:= 0]
                        || I <- lists:seq(1, 200)]),
    404 = length(Ops),
    Frames = fun() -> maps:get(netlink_batch, maps:get(requests, linx:stats()), 0) end,
    Frames0 = Frames(),
    {ok, Results} = linx_rtnl:batch(Ops, in(Config)),
    2 = Frames() - Frames0,
    Want = lists:append([[ok, ok] ++ [eaddrnotavail || I rem 50 =:= 0] || I <- lists:seq(1, 200)]),
    Want = [case R of ok -> ok; {error, #{op := addr_del, errno := E}} -> E end || R <- Results],
    <<"200">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " -4 -o addr show | grep -c ' 10\\.50\\.'"]),
    <<"10.50.0.200/32">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " -br -4 addr show f200 | awk '{print $3}'"]),
    {error, #{stage := open_ns, errno := enoent, function := {linx_rtnl, batch}}} =
        linx_rtnl:batch(Ops, #{in => {netns, <<"linx-no-such-ns">>}}).

%%====================================================================
%% Atomic batches: each op succeeds, a later one fails, and what the
%% namespace holds is as it was
%%====================================================================

%% Runs `Ops' then ?FAIL atomically; the error names the failed op, its
%% kernel error, and the undo ops, none of which failed; the
%% configuration is what it was. Returns the undo ops.
undone(Config, Ops) ->
    N = length(Ops) + 1,
    {error, #{index := N, op := ?FAIL, error := #{stage := netlink, errno := eaddrnotavail}} = E,
     Undo} = undone(Config, Ops ++ [?FAIL], fun(_) -> ok end),
    one_line(E, "addr_del"),
    Undo.

undone(Config, Ops, Check) ->
    Ns = ?config(ns, Config),
    Before = linx_ct_config:settled(Ns),
    {error, #{reason := batch_failed, rolled_back := Undo, rollback_errors := []} = E} =
        linx_rtnl:batch(Ops, atomic(Config)),
    ct:log("~p", [E]),
    Check(E),
    ok = linx_ct_config:same_as(Ns, Before),
    {error, E, Undo}.

%% Adds only, the last one failing (a name taken). vy is the first port
%% of bx: bx takes its address, and has the address 0 once vy is gone
%% again; it gets its own back.
atomic_link_add(Config) ->
    Taken = {link_add, #{ifname => <<"br0">>, kind => bridge}},
    {error, _, [{link_del, 77}, {link_del, <<"vy">>}, {link_del, <<"vz">>}, {link_del, <<"bz">>}]} =
        undone(Config, [{link_add, #{ifname => <<"bz">>, kind => bridge}},
                        {link_add, #{ifname => <<"vz">>, kind => veth, master => <<"br0">>,
                                     peer => #{ifname => <<"vzp">>, mtu => 1300}}},
                        {link_add, #{ifname => <<"vy">>, kind => veth, master => <<"bx">>,
                                     peer => #{ifname => <<"vyp">>}}},
                        {link_add, #{ifname => <<"bi">>, kind => bridge, index => 77}}, Taken],
               fun(#{index := 5, op := Op, error := #{errno := eexist}}) -> Op = Taken end).

atomic_link_set_mtu(Config) ->
    undone(Config, [{link_set, <<"va">>, #{mtu => 1300}}, {link_set, <<"br0">>, #{mtu => 1280}},
                    {link_set, <<"vc">>, #{mtu => 9000, txqlen => 10}}]).

%% Setting br0 down takes its IPv6 address and its routes with it;
%% setting it up again does not bring them back: they are added again.
atomic_link_set_state(Config) ->
    undone(Config, [{link_set, <<"bx">>, #{state => up}}, {link_set, <<"br0">>, #{state => down}},
                    {link_set, <<"vc">>, #{state => down}}]).

%% Renames of links that were there and of one the batch made, and ops
%% naming the new names.
atomic_link_set_ifname(Config) ->
    undone(Config, [{link_set, <<"vb">>, #{ifname => <<"vb2">>}},
                    {addr_add, <<"vb2">>, {{10, 2, 9, 1}, 24}},
                    {link_set, <<"vb2">>, #{ifname => <<"vb3">>, mtu => 1300}},
                    {link_add, #{ifname => <<"bn">>, kind => bridge}},
                    {link_set, <<"bn">>, #{ifname => <<"bn2">>}},
                    {link_set, <<"bn2">>, #{ifname => <<"bn3">>}}]).

atomic_link_set_master(Config) ->
    undone(Config, [{link_set, <<"va">>, #{master => none}}, {link_set, <<"vc">>, #{master => <<"br0">>}},
                    {link_set, <<"vd">>, #{master => <<"bx">>}}]).

%% The failed op itself is a link_set the kernel applied in part (the
%% rename and the state, not the master): that part is undone too.
atomic_failed_link_set(Config) ->
    Op = {link_set, <<"va">>, #{ifname => <<"vz">>, state => down, master => 99999}},
    undone(Config, [Op], fun(#{index := 1, op := O, error := #{stage := netlink}}) -> O = Op end).

%% br0 with its port va, its addresses and the route through it.
atomic_link_del_bridge(Config) ->
    undone(Config, [{link_del, <<"br0">>}]).

%% vc (addresses, routes, permanent neighbours; peer vd with an address)
%% and vb (peer va is a port of br0).
atomic_link_del_veth(Config) ->
    undone(Config, [{link_del, <<"vc">>}, {link_del, <<"vb">>}]).

atomic_addr_add(Config) ->
    undone(Config, [{addr_add, <<"br0">>, {{10, 1, 5, 1}, 24}},
                    {addr_add, <<"vb">>, #{prefix => {{16#fd09, 0, 0, 0, 0, 0, 0, 1}, 64}, flags => [nodad]}},
                    {addr_add, <<"bx">>, #{prefix => {{10, 5, 0, 1}, 24}, label => <<"bx:a">>}}]).

%% br0's only IPv4 address takes the route of table 100 with it.
atomic_addr_del(Config) ->
    undone(Config, [{addr_del, <<"br0">>, {{10, 1, 0, 1}, 24}},
                    {addr_del, <<"vb">>, {{16#fd02, 0, 0, 0, 0, 0, 0, 1}, 64}},
                    {addr_del, <<"vd">>, #{prefix => {{10, 4, 0, 1}, 24}}}]).

atomic_route_add(Config) ->
    undone(Config, [{route_add, #{dst => {{10, 80, 0, 0}, 16}, gateway => {10, 1, 0, 2}}},
                    {route_add, #{dst => default, gateway => {10, 2, 0, 2}, table => 200}},
                    {route_add, #{dst => {{16#fd80, 0, 0, 0, 0, 0, 0, 0}, 48}, oif => <<"vc">>}}]).

atomic_route_del(Config) ->
    undone(Config, [{route_del, #{dst => {{10, 50, 0, 0}, 16}, gateway => {10, 2, 0, 2}}},
                    {route_del, #{dst => {{10, 51, 0, 0}, 16}, table => 100}},
                    {route_del, #{dst => {{10, 60, 0, 0}, 16}, oif => <<"vc">>}}]).

atomic_neigh_add(Config) ->
    undone(Config, [{neigh_add, #{index => <<"br0">>, dst => {10, 1, 0, 9}, lladdr => <<"02:00:00:00:01:09">>}},
                    {neigh_add, #{index => <<"vc">>, dst => {16#fd03, 0, 0, 0, 0, 0, 0, 9},
                                  lladdr => <<"02:00:00:00:03:09">>, flags => [router]}}]).

atomic_neigh_del(Config) ->
    undone(Config, [{neigh_del, #{index => <<"vb">>, dst => {10, 2, 0, 3}}},
                    {neigh_del, #{index => <<"vc">>, dst => {16#fd03, 0, 0, 0, 0, 0, 0, 3}}}]).

%% 499 addresses added, then the 500th op fails: all 499 are removed.
atomic_500th_op_fails(Config) ->
    Undo = undone(Config, [{addr_add, <<"br0">>, {{10, 1, 100 + I div 200, I rem 200 + 1}, 32}}
                           || I <- lists:seq(0, 498)]),
    499 = length(Undo).

%% Moving a link to another namespace, making one there, deleting a veth
%% whose peer is in another one: refused in an atomic batch before
%% anything is sent.
atomic_not_undoable(Config) ->
    Ns = ?config(ns, Config),
    Other = linx_ct_ns:unique("linx-batch-other"),
    ok = linx_ct_ns:netns_add(Other),
    try
        _ = linx_ct_ns:sh_ok(["ip -n ", Ns, " link add vo type veth peer name vop netns ", Other]),
        Before = linx_ct_config:settled(Ns),
        OtherBefore = linx_ct_config:settled(Other),
        Sent = fun() -> maps:get(netlink_batch, maps:get(requests, linx:stats()), 0) end,
        Sent0 = Sent(),
        O = {netns, list_to_binary(Other)},
        [begin
             {error, #{reason := {bad_op, Op, not_undoable}} = E} =
                 linx_rtnl:batch([{addr_add, <<"br0">>, {{10, 1, 7, 1}, 24}}, Op], atomic(Config)),
             one_line(E, atom_to_list(element(1, Op)))
         end || Op <- [{link_set, <<"va">>, #{netns => O}},
                       {link_add, #{ifname => <<"bo">>, kind => bridge, netns => O}},
                       {link_del, <<"vo">>}]],
        Sent0 = Sent(),
        ok = linx_ct_config:same_as(Ns, Before),
        ok = linx_ct_config:same_as(Other, OtherBefore)
    after
        linx_ct_ns:netns_del(Other)
    end.

%%====================================================================
%% Shared: callers at once, kept sockets, the C-node
%%====================================================================

%% 32 callers, 8 in each of 4 namespaces, each making 4 batches at once:
%% each gets the results of its own ops (its own number of addresses,
%% its failure at its own place), and ip shows what they asked.
concurrent_callers(Config) ->
    Nss = [?config(ns, Config) | [begin N = linx_ct_ns:unique("linx-batch-c"), ok = linx_ct_ns:netns_add(N), N end
                                  || _ <- lists:seq(1, 3)]],
    try
        Self = self(),
        Pids = [spawn_link(fun() -> Self ! {self(), caller(C, lists:nth(C rem 4 + 1, Nss))} end)
                || C <- lists:seq(1, 32)],
        [receive {P, Got} -> ok = Got end || P <- Pids],
        [begin
             Mine = [C || C <- lists:seq(1, 32), lists:nth(C rem 4 + 1, Nss) =:= Ns],
             Want = lists:sort([<<"lo">> | [bridge(C, J) || C <- Mine, J <- lists:seq(1, 4)]]),
             #{links := Links, addrs := Addrs} = linx_ct_config:settled(Ns),
             Want = lists:sort([N || #{ifname := N} <- Links]),
             [1000 = M - C || C <- Mine, J <- lists:seq(1, 4), #{ifname := N, mtu := M} <- Links,
                              N =:= bridge(C, J)],
             WantAddrs = lists:sort([{bridge(C, J), ip(C, J, K)} || C <- Mine, J <- lists:seq(1, 4),
                                                                    K <- lists:seq(1, C rem 7 + 1)]),
             WantAddrs = lists:sort([{D, L} || #{dev := D, <<"local">> := L, <<"family">> := <<"inet">>} <- Addrs])
         end || Ns <- Nss]
    after
        [linx_ct_ns:netns_del(N) || N <- tl(Nss)]
    end.

bridge(C, J) -> iolist_to_binary(io_lib:format("c~b_~b", [C, J])).

ip(C, J, K) -> iolist_to_binary(io_lib:format("10.~b.~b.1", [C, J * 10 + K])).

%% Caller C's 4 batches: a bridge, C rem 7 + 1 addresses, an op that
%% fails, an MTU; each result must be its own.
caller(C, Ns) ->
    In = #{in => {netns, list_to_binary(Ns)}},
    Got = [begin
               Br = bridge(C, J),
               Addrs = [{addr_add, Br, {{10, C, J * 10 + K, 1}, 24}} || K <- lists:seq(1, C rem 7 + 1)],
               Ops = [{link_add, #{ifname => Br, kind => bridge}}] ++ Addrs
                   ++ [{addr_del, Br, {{10, C, 200, 1}, 24}}, {link_set, Br, #{mtu => 1000 + C}}],
               {ok, Results} = linx_rtnl:batch(Ops, In),
               Want = length(Addrs) + 3,
               {Want, [ok | Oks], [{error, #{op := addr_del, errno := eaddrnotavail}}, ok]} =
                   {length(Results), lists:sublist(Results, length(Addrs) + 1),
                    lists:nthtail(length(Addrs) + 1, Results)},
               [] = [R || R <- Oks, R =/= ok],
               ok
           end || J <- lists:seq(1, 4)],
    [ok, ok, ok, ok] = Got,
    ok.

%% A batch in netns N (a worker keeps a socket there), N deleted and
%% made again, a batch in N: it works in the new namespace.
kept_socket_netns_made_again(Config) ->
    Ns = ?config(ns, Config),
    In = in(Config),
    {ok, [ok]} = linx_rtnl:batch([{link_add, #{ifname => <<"old0">>, kind => bridge}}], In),
    {0, _} = linx_ct_ns:sh(["ip -n ", Ns, " link show old0"]),
    linx_ct_ns:netns_del(Ns),
    ok = linx_ct_ns:netns_add(Ns),
    {ok, [ok, ok]} = linx_rtnl:batch([{link_add, #{ifname => <<"new0">>, kind => bridge}},
                                      {addr_add, <<"new0">>, {{10, 6, 0, 1}, 24}}], In),
    <<"10.6.0.1/24">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " -br -4 addr show new0 | awk '{print $3}'"]),
    {1, _} = linx_ct_ns:sh(["ip -n ", Ns, " link show old0"]).

%% Through a C-node: a batch, and an atomic one undone.
via_cnode(Config) ->
    Ns = ?config(ns, Config),
    Via = (in(Config))#{via => ?config(cnode, Config)},
    {ok, [ok, ok, ok]} = linx_rtnl:batch([{link_add, #{ifname => <<"cn0">>, kind => bridge}},
                                          {addr_add, <<"cn0">>, {{10, 5, 0, 1}, 24}},
                                          {link_set, <<"cn0">>, #{state => up}}], Via),
    <<"10.5.0.1/24">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " -br -4 addr show cn0 | awk '{print $3}'"]),
    Before = linx_ct_config:settled(Ns),
    {error, #{reason := batch_failed, index := 3, rollback_errors := []}} =
        linx_rtnl:batch([{link_del, <<"cn0">>}, {link_add, #{ifname => <<"cn1">>, kind => bridge}}, ?FAIL],
                        Via#{atomic => true}),
    ok = linx_ct_config:same_as(Ns, Before).
