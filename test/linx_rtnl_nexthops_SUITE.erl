%% @doc Nexthop objects (linx_rtnl:nexthops/1, nexthop_add/2,
%% nexthop_replace/2, nexthop_del/2) and routes through them (`nhid')
%% against real namespaces, with `ip -j -d nexthop show' as the oracle,
%% both ways: what linx adds ip reads with the same values, and what ip
%% adds linx decodes with the same values (IPv4 and IPv6 gateways,
%% blackholes, groups with weights, resilient groups); a dumped nexthop
%% deleted and added back is the same; replace; routes with `nhid' both
%% ways; the nexthop events; bad fields refused before anything is sent,
%% each named in its one-line error; the kernel's refusals; nexthops in
%% batches, atomic ones undone.
-module(linx_rtnl_nexthops_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_ip/1, made_by_ip_read_by_linx/1, deleted_and_added_back/1,
         replaced/1, routes_with_nhid/1, nexthop_events/1, bad_fields_named/1,
         kernel_refusals/1, nexthops_in_a_batch/1, atomic_batch_undone/1]).

all() ->
    [made_by_linx_read_by_ip, made_by_ip_read_by_linx, deleted_and_added_back, replaced,
     routes_with_nhid, nexthop_events, bad_fields_named, kernel_refusals, nexthops_in_a_batch,
     atomic_batch_undone].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

%% A namespace of its own for each case, with a veth pair up (v0 with
%% 10.0.0.1/24 and 2001:db8::1/64), where gateways are reachable.
init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_with_netns("linx-nh", Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            Ns = ?config(netns, Config1),
            [linx_ct_ns:sh_ok(["ip -n ", Ns, " ", C])
             || C <- ["link set lo up", "link add v0 type veth peer name v1", "link set v0 up",
                      "link set v1 up", "addr add 10.0.0.1/24 dev v0",
                      "-6 addr add 2001:db8::1/64 dev v0 nodad"]],
            Config1
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

-define(V6(Last), {16#2001, 16#db8, 0, 0, 0, 0, 0, Last}).

%% The nexthops of both directions, as linx takes them and as `ip
%% nexthop add' writes them (members before their groups).
nexthops() ->
    [{#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}, "id 1 via 10.0.0.2 dev v0"},
     {#{id => 2, oif => <<"v0">>, gateway => ?V6(2)}, "id 2 via 2001:db8::2 dev v0"},
     {#{id => 3, oif => <<"v0">>}, "id 3 dev v0"},
     {#{id => 4, oif => <<"v0">>, gateway => {10, 9, 9, 9}, flags => [onlink], protocol => static},
      "id 4 via 10.9.9.9 dev v0 onlink proto static"},
     {#{id => 5, blackhole => true}, "id 5 blackhole"},
     {#{id => 6, blackhole => true, family => inet6}, "-6 nexthop add id 6 blackhole"},
     {#{id => 7, oif => <<"v0">>, gateway => {10, 0, 0, 7}}, "id 7 via 10.0.0.7 dev v0"},
     {#{id => 10, group => [1, {7, 5}]}, "id 10 group 1/7,5"},
     {#{id => 11, group => [{1, 256}, 4, 7], group_type => mpath}, "id 11 group 1,256/4/7"},
     {#{id => 12, group => [1, 7], group_type => resilient, res_group => #{buckets => 8}},
      "id 12 group 1/7 type resilient buckets 8"}].

%% What linx adds, ip reads with the same values.
made_by_linx_read_by_ip(Config) ->
    In = in(Config),
    [ok = linx_rtnl:nexthop_add(N, In) || {N, _} <- nexthops()],
    Want = lists:sort([from_linx(N, #{<<"v0">> => <<"v0">>}) || {N, _} <- nexthops()]),
    Want = from_ip(?config(netns, Config)).

%% What ip adds, linx decodes with the same values (and ip with them);
%% each field given comes back as it was given.
made_by_ip_read_by_linx(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " ", ip_args(Args)]) || {_, Args} <- nexthops()],
    {ok, Nexthops} = linx_rtnl:nexthops(In),
    ct:log("~p", [Nexthops]),
    Names = names(In),
    Ip = from_ip(Ns),
    Ip = lists:sort([from_linx(N, Names) || N <- Nexthops]),
    ById = maps:from_list([{Id, N} || #{id := Id} = N <- Nexthops]),
    [begin
         Got = maps:get(Id, ById),
         Given = maps:without([oif, group, res_group], N0),
         Given = maps:with(maps:keys(Given), Got),
         [#{buckets := 8, idle_timer := _} = maps:get(res_group, Got) || is_map_key(res_group, N0)],
         [true = [member(M) || M <- G] =:= maps:get(group, Got) || #{group := G} <- [N0]]
     end || {#{id := Id} = N0, _} <- nexthops()].

%% Every nexthop deleted by its dumped map (groups first) and added back
%% from it: the same nexthops; one deleted by its id.
deleted_and_added_back(Config) ->
    In = in(Config),
    [ok = linx_rtnl:nexthop_add(N, In) || {N, _} <- nexthops()],
    {ok, Before} = linx_rtnl:nexthops(In),
    Groups = [N || #{group := _} = N <- Before],
    [ok = linx_rtnl:nexthop_del(N, In) || N <- Groups ++ (Before -- Groups)],
    [] = from_ip(?config(netns, Config)),
    {ok, []} = linx_rtnl:nexthops(In),
    [ok = linx_rtnl:nexthop_add(N, In) || N <- (Before -- Groups) ++ Groups],
    {ok, Before} = linx_rtnl:nexthops(In),
    ok = linx_rtnl:nexthop_del(5, In),
    [] = [N || #{id := 5} = N <- element(2, linx_rtnl:nexthops(In))],
    {error, #{stage := netlink, errno := enoent, op := nexthop_del}} = linx_rtnl:nexthop_del(5, In).

%% A nexthop replaced: its gateway changes, the route through it stays;
%% a group's members change; replacing an id there is none of adds it.
replaced(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    ok = linx_rtnl:nexthop_add(#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 2, oif => <<"v0">>, gateway => {10, 0, 0, 3}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 10, group => [1]}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 1, 0}, 24}, nhid => 1}, In),
    ok = linx_rtnl:nexthop_replace(#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 4}}, In),
    ok = linx_rtnl:nexthop_replace(#{id => 10, group => [1, {2, 3}]}, In),
    ok = linx_rtnl:nexthop_replace(#{id => 20, blackhole => true}, In),
    [#{<<"gateway">> := <<"10.0.0.4">>}] = [N || #{<<"id">> := 1} = N <- ip_nexthops(Ns)],
    [#{<<"group">> := [#{<<"id">> := 1}, #{<<"id">> := 2, <<"weight">> := 3}]}] =
        [N || #{<<"id">> := 10} = N <- ip_nexthops(Ns)],
    [_] = [N || #{<<"id">> := 20, <<"blackhole">> := _} = N <- ip_nexthops(Ns)],
    [#{<<"nhid">> := 1, <<"gateway">> := <<"10.0.0.4">>}] =
        [R || #{<<"dst">> := <<"192.168.1.0/24">>} = R <- ip_routes(Ns)].

%% Routes with `nhid', both ways: linx's shown by ip, ip's decoded by
%% linx; a dumped route through a group is deleted and added back.
routes_with_nhid(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    ok = linx_rtnl:nexthop_add(#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 2, oif => <<"v0">>, gateway => {10, 0, 0, 3}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 3, oif => <<"v0">>, gateway => ?V6(3)}, In),
    ok = linx_rtnl:nexthop_add(#{id => 10, group => [1, {2, 4}]}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 1, 0}, 24}, nhid => 1}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 2, 0}, 24}, nhid => 10}, In),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " route add 192.168.3.0/24 nhid 10"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " -6 route add 2001:db8:5::/64 nhid 3"]),
    Ip = lists:sort([{D, H} || #{<<"dst">> := D, <<"nhid">> := H} <- ip_routes(Ns) ++ ip_routes6(Ns)]),
    Ip = [{<<"192.168.1.0/24">>, 1}, {<<"192.168.2.0/24">>, 10}, {<<"192.168.3.0/24">>, 10},
          {<<"2001:db8:5::/64">>, 3}],
    {ok, Routes} = linx_rtnl:routes(In),
    Nhid = [R || #{nhid := _} = R <- Routes],
    Ip = lists:sort([{list_to_binary([inet:ntoa(A), "/", integer_to_list(L)]), H}
                     || #{dst := {A, L}, nhid := H} <- Nhid]),
    [#{gateway := {10, 0, 0, 2}}] = [R || #{nhid := 1} = R <- Nhid],
    [ok = linx_rtnl:route_del(R, In) || R <- Nhid],
    [] = [R || #{<<"nhid">> := _} = R <- ip_routes(Ns) ++ ip_routes6(Ns)],
    [ok = linx_rtnl:route_add(R, In) || R <- Nhid],
    {ok, Routes2} = linx_rtnl:routes(In),
    Nhid = [R || #{nhid := _} = R <- Routes2].

%% Nexthop changes reach a subscriber of `nexthop', decoded; a resync
%% (list_existing) holds the nexthops there are.
nexthop_events(Config) ->
    In = in(Config),
    ok = linx_rtnl:nexthop_add(#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}, In),
    {ok, Ref} = linx_rtnl:subscribe([nexthop], In#{list_existing => true}),
    {resync, [{nexthop, new, #{id := 1, gateway := {10, 0, 0, 2}}}]} = event(Ref),
    ok = linx_rtnl:nexthop_add(#{id => 2, blackhole => true}, In),
    ok = linx_rtnl:nexthop_add(#{id => 3, oif => <<"v0">>, gateway => ?V6(3)}, In),
    ok = linx_rtnl:nexthop_add(#{id => 10, group => [1, {3, 2}]}, In),
    ok = linx_rtnl:nexthop_del(10, In),
    {nexthop, new, #{id := 2, blackhole := true, family := inet}} = event(Ref),
    {nexthop, new, #{id := 3, gateway := ?V6(3), family := inet6}} = event(Ref),
    {nexthop, new, #{id := 10, group := [{1, 1}, {3, 2}]}} = event(Ref),
    {nexthop, del, #{id := 10}} = event(Ref),
    ok = linx_rtnl:unsubscribe(Ref).

event(Ref) ->
    receive
        {linx_rtnl, Ref, Event} -> Event
    after 5000 ->
        error(no_event)
    end.

%% Each bad field is refused before anything is sent, named in a
%% one-line error; nothing is made.
bad_fields_named(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Base = #{id => 1, oif => <<"v0">>},
    Bad = [{id, 0}, {id, 1 bsl 32}, {gateway, {10, 0, 0}}, {family, ipx}, {protocol, nobody},
           {flags, [sideways]}, {blackhole, yes}, {fdb, 1}, {group_type, sometimes},
           {res_group, #{buckets => -1}}, {res_group, 8}, {colour, red}],
    [check_named(linx_rtnl:nexthop_add(Base#{K => V}, In), K) || {K, V} <- Bad],
    [check_named(linx_rtnl:nexthop_add(#{id => 1, group => G}, In), group)
     || G <- [[], [0], [{1, 0}], [{1, 257}], [x], one]],
    check_named(linx_rtnl:nexthop_add(#{id => 1, blackhole => true, oif => <<"v0">>}, In), oif),
    check_named(linx_rtnl:nexthop_add(#{id => 1, group => [2], gateway => {10, 0, 0, 2}}, In), gateway),
    check_named(linx_rtnl:nexthop_add(#{id => 1}, In), oif),
    check_named(linx_rtnl:nexthop_add(#{id => 1, oif => <<"v0">>, family => inet6,
                                        gateway => {10, 0, 0, 2}}, In), family),
    {error, #{reason := {bad_nexthop, not_a_map}}} = linx_rtnl:nexthop_add(not_a_map, In),
    {error, #{reason := {bad_nexthop, #{oif := 1}}}} = linx_rtnl:nexthop_add(#{oif => 1}, In),
    {error, #{reason := {bad_nexthop, -3}}} = linx_rtnl:nexthop_del(-3, In),
    {error, #{reason := {bad_nexthop, {id, x}}}} = linx_rtnl:nexthop_del(#{id => x}, In),
    {error, #{reason := {bad_link, _}}} = linx_rtnl:nexthop_add(#{id => 1, oif => 0}, In),
    [] = from_ip(Ns).

check_named({error, #{reason := {bad_nexthop, {K, _}}} = E}, K) ->
    Line = linx:format_error(E),
    nomatch =/= string:find(Line, atom_to_list(K)) orelse error({not_named, K, Line}),
    [_] = string:split(Line, "\n", all);
check_named(Other, K) ->
    error({not_refused, K, Other}).

%% The kernel's refusals, each a clean error with its text: a group of a
%% nexthop there is none of, an id in use, a device that is not there.
kernel_refusals(Config) ->
    In = in(Config),
    {error, #{stage := netlink, errno := einval, op := nexthop_add, message := Text} = E} =
        linx_rtnl:nexthop_add(#{id => 10, group => [1, 99]}, In),
    ct:log("~ts", [linx:format_error(E)]),
    true = byte_size(Text) > 0,
    <<"netlink nexthop_add", _/binary>> = linx:format_error(E),
    ok = linx_rtnl:nexthop_add(#{id => 1, blackhole => true}, In),
    {error, #{stage := netlink, errno := eexist}} = linx_rtnl:nexthop_add(#{id => 1, blackhole => true}, In),
    {error, #{stage := netlink, errno := einval, message := <<"Invalid device index">>}} =
        linx_rtnl:nexthop_add(#{id => 2, oif => 16#7ffffff0}, In),
    {error, #{stage := netlink, errno := einval}} =
        linx_rtnl:route_add(#{dst => {{192, 168, 9, 0}, 24}, nhid => 77}, In).

%% Nexthops in a batch, a name looked up when its op is sent: one
%% result each.
nexthops_in_a_batch(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Ops = [{nexthop_add, #{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}},
           {nexthop_add, #{id => 2, oif => <<"v0">>, gateway => {10, 0, 0, 3}}},
           {nexthop_add, #{id => 3, blackhole => true}},
           {nexthop_add, #{id => 10, group => [1]}},
           {route_add, #{dst => {{192, 168, 1, 0}, 24}, nhid => 10}},
           {nexthop_replace, #{id => 10, group => [1, {2, 2}]}},
           {nexthop_del, 3},
           {nexthop_del, #{id => 99}}],
    {ok, [ok, ok, ok, ok, ok, ok, ok, {error, #{stage := netlink, errno := enoent, op := nexthop_del}}]} =
        linx_rtnl:batch(Ops, In),
    [1, 2, 10] = lists:sort([Id || #{<<"id">> := Id} <- ip_nexthops(Ns)]),
    [#{<<"group">> := [_, #{<<"id">> := 2, <<"weight">> := 2}]}] =
        [N || #{<<"id">> := 10} = N <- ip_nexthops(Ns)],
    [#{<<"nhid">> := 10}] = [R || #{<<"dst">> := <<"192.168.1.0/24">>} = R <- ip_routes(Ns)],
    {error, #{reason := {bad_op, {nexthop_add, #{id := 0}}, {bad_nexthop, {id, 0}}}}} =
        linx_rtnl:batch([{nexthop_add, #{id => 0, blackhole => true}}], In).

%% An atomic batch that fails is undone: the nexthops it added are
%% deleted, one it replaced is as it was, one it deleted is back with the
%% groups it was in and the routes through it.
atomic_batch_undone(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    ok = linx_rtnl:nexthop_add(#{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 2}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 2, oif => <<"v0">>, gateway => {10, 0, 0, 3}}, In),
    ok = linx_rtnl:nexthop_add(#{id => 10, group => [1, {2, 3}]}, In),
    ok = linx_rtnl:nexthop_add(#{id => 11, group => [2]}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 1, 0}, 24}, nhid => 2}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 2, 0}, 24}, nhid => 11}, In),
    ok = linx_rtnl:route_add(#{dst => {{192, 168, 3, 0}, 24}, nhid => 10}, In),
    Before = {from_ip(Ns), ip_routes(Ns)},
    Ops = [{nexthop_add, #{id => 3, blackhole => true}},
           {nexthop_replace, #{id => 1, oif => <<"v0">>, gateway => {10, 0, 0, 9}}},
           {nexthop_del, 2},
           {nexthop_add, #{id => 12, group => [1, 99]}}],
    {error, #{reason := batch_failed, index := 4, rollback_errors := []} = E} =
        linx_rtnl:batch(Ops, In#{atomic => true}),
    ct:log("~p", [E]),
    Before = {from_ip(Ns), ip_routes(Ns)}.

%%====================================================================
%% The oracle: linx's nexthops and ip's, written alike
%%====================================================================

%% A nexthop map of linx's (or one given to it) with the fields ip shows.
from_linx(N, Names) ->
    Group = [{group, [member(M) || M <- G]} || #{group := G} <- [N]],
    Type = [{type, maps:get(group_type, N, mpath)} || is_map_key(group, N)],
    Buckets = [{buckets, B} || #{res_group := #{buckets := B}} <- [N]],
    Dev = [{dev, maps:get(O, Names)} || #{oif := O} <- [N]],
    Gw = [{gateway, list_to_binary(inet:ntoa(G))} || #{gateway := G} <- [N]],
    maps:from_list([{id, maps:get(id, N)}, {protocol, maps:get(protocol, N, unspec)},
                    {flags, [F || F <- maps:get(flags, N, []), F =:= onlink]},
                    {blackhole, maps:get(blackhole, N, false)}]
                   ++ Group ++ Type ++ Buckets ++ Dev ++ Gw).

member({Id, W}) -> {Id, W};
member(Id) -> {Id, 1}.

%% ip's nexthops, in from_linx/2's terms.
from_ip(Ns) ->
    lists:sort([from_ip_one(N) || N <- ip_nexthops(Ns)]).

from_ip_one(N) ->
    Group = [{group, [{Id, maps:get(<<"weight">>, M, 1)} || #{<<"id">> := Id} = M <- G]}
             || #{<<"group">> := G} <- [N]],
    Type = [{type, binary_to_atom(maps:get(<<"type">>, N, <<"mpath">>))} || is_map_key(<<"group">>, N)],
    Buckets = [{buckets, B} || #{<<"resilient_args">> := #{<<"buckets">> := B}} <- [N]],
    Dev = [{dev, D} || #{<<"dev">> := D} <- [N]],
    Gw = [{gateway, G} || #{<<"gateway">> := G} <- [N]],
    maps:from_list([{id, maps:get(<<"id">>, N)},
                    {protocol, binary_to_atom(maps:get(<<"protocol">>, N, <<"unspec">>))},
                    {flags, [binary_to_atom(F) || F <- maps:get(<<"flags">>, N, [])]},
                    {blackhole, is_map_key(<<"blackhole">>, N)}]
                   ++ Group ++ Type ++ Buckets ++ Dev ++ Gw).

%% Link names by index.
names(In) ->
    {ok, Links} = linx_rtnl:links(In),
    maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]).

ip_nexthops(Ns) ->
    linx_ct_config:ip_json(Ns, "-d nexthop show").

ip_routes(Ns) ->
    linx_ct_config:ip_json(Ns, "route show").

ip_routes6(Ns) ->
    linx_ct_config:ip_json(Ns, "-6 route show").

%% `ip nexthop add' arguments from a case of nexthops/0 (an IPv6 one
%% says so).
ip_args("-6 " ++ _ = Args) -> Args;
ip_args(Args) -> ["nexthop add ", Args].
