%% @doc The generators, requests and models of the objects that
%% linx_objects_prop_tests runs beside its own: nexthop objects and
%% bridge forwarding (fdb) entries. Each is three functions: a generator
%% of what a caller gives linx_rtnl, the request linx_rtnl_nexthop or
%% linx_rtnl_fdb makes of it, and the keys and values decoding its
%% payload gives back.
-module(linx_more_objects_prop_tests).

-include("linx_proper.hrl").

-import(proper_types, [integer/2, oneof/1, elements/1, boolean/0]).

-export([nexthop/0, nexthop_request/1, nexthop_expected/1]).
-export([fdb/0, fdb_request/1, fdb_expected/1]).

-define(OBJ, linx_objects_prop_tests).
-define(TP, linx_tables_prop_tests).
-define(TABLES, linx_rtnl_tables).

%%====================================================================
%% Nexthops
%%====================================================================

%% A device with an optional gateway, a blackhole, or a group.
nexthop() ->
    ?BIND({Id, Kind, Own}, {integer(1, 16#ffffffff), nexthop_kind(),
                            ?OBJ:some([{protocol, oneof([elements(?OBJ:names(rt_proto)),
                                                         integer(0, 255)])}])},
          maps:merge(Own, Kind#{id => Id})).

nexthop_kind() ->
    oneof([?BIND(F, elements([inet, inet6]),
                 ?BIND({Link, Gw, OnLink}, {?OBJ:link_ref(), ?OBJ:some([{gateway, ?OBJ:ip(F)}]),
                                            boolean()},
                       maps:merge(Gw, #{family => F, oif => Link,
                                        flags => [onlink || OnLink]}))),
           ?BIND(F, elements([inet, inet6]), #{family => F, blackhole => true}),
           ?BIND({Members, Type}, {?OBJ:vector_of(1, 8, member()), elements([mpath, resilient])},
                 #{group => Members, group_type => Type})]).

member() ->
    oneof([integer(1, 16#ffffffff), {integer(1, 16#ffffffff), integer(1, 256)}]).

nexthop_request(Nexthop) ->
    linx_rtnl_nexthop:request(add, Nexthop, fun ?OBJ:resolve/1).

nexthop_expected(#{id := Id} = Nexthop) ->
    Kind = case Nexthop of
               #{group := Members, group_type := Type} ->
                   #{group => [case M of
                                   {I, W} -> {I, W};
                                   I -> {I, 1}
                               end || M <- Members],
                     group_type => Type, family => unspec};
               #{blackhole := true, family := F} ->
                   #{blackhole => true, family => F};
               #{oif := Link, family := F} ->
                   maps:merge(maps:with([gateway], Nexthop),
                              #{oif => ?OBJ:ref_index(Link), family => F,
                                flags => maps:get(flags, Nexthop)})
           end,
    Kind#{id => Id, protocol => ?OBJ:named(maps:get(protocol, Nexthop, unspec), rt_proto)}.

%%====================================================================
%% Bridge forwarding entries
%%====================================================================

%% An entry of a bridge port or of a vxlan link.
fdb() ->
    ?BIND({Mac, Link, Own}, {?TP:value(mac), ?OBJ:link_ref(),
                             ?OBJ:some([{vlan, integer(0, 4094)},
                                        {state, elements([permanent, static, dynamic])},
                                        {master, boolean()}, {extern_learn, boolean()},
                                        {sticky, boolean()},
                                        {dst, oneof([?OBJ:ip(inet), ?OBJ:ip(inet6)])},
                                        {port, integer(0, 16#ffff)},
                                        {vni, integer(0, 16#ffffff)},
                                        {src_vni, integer(0, 16#ffffff)}])},
          Own#{mac => Mac, index => Link}).

fdb_request(Entry) ->
    linx_rtnl_fdb:request(new, Entry, fun ?OBJ:resolve/1).

fdb_expected(#{mac := Mac, index := Link} = Entry) ->
    States = #{permanent => [noarp, permanent], static => [noarp, reachable],
               dynamic => [reachable]},
    Flags = [self || not maps:get(master, Entry, false)] ++ [master || maps:get(master, Entry, false)]
        ++ [F || F <- [extern_learn, sticky], maps:get(F, Entry, false)],
    Own = maps:with([vlan, dst, port, vni, src_vni], Entry),
    Own#{family => bridge, index => ?OBJ:ref_index(Link), mac => ?TP:expect_value(mac, Mac),
         state => ?OBJ:ordered(maps:get(maps:get(state, Entry, permanent), States), nud),
         flags => ?OBJ:ordered(Flags, ntf)}.
