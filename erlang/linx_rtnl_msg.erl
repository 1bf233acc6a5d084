%% @doc rtnetlink messages as maps: the tables behind {@link linx_rtnl}.
%%
%% Each message family (links, addresses, routes, neighbours) has a
%% decoder from a netlink message to a map with readable keys and an
%% encoder of the fixed header its requests start with. Attributes these
%% tables do not name are kept, in order, under the key `unknown' as
%% `{Type, Binary}'. A payload that does not parse gives
%% `{error, {malformed, {Family, What}}}'; nothing here raises on input
%% from the kernel.
-module(linx_rtnl_msg).

-include("linx_nl.hrl").

-export([decode/1, decode_link/1, decode_addr/1, decode_route/1, decode_neigh/1]).
-export([ifinfomsg/4, ifaddrmsg/5, rtmsg/1, ndmsg/4]).
-export([family/1, family_number/1, iff_flags/1, iff_bits/1, nud_states/1,
         nud_bits/1, scope/1, scope_number/1, rt_type/1, rt_type_number/1,
         rt_proto/1, rt_proto_number/1, ip_address/2, ip_bytes/1, kind/1]).

-export_type([link/0, addr/0, route/0, neigh/0, object/0]).

-type link() :: #{index := integer(), ifname => binary(), flags := [atom()],
                  atom() => term()}.
%% A link (see {@link linx_rtnl} for the keys).
-type addr() :: #{family := inet | inet6 | integer(), index := non_neg_integer(),
                  prefixlen := 0..255, atom() => term()}.
-type route() :: #{family := inet | inet6 | integer(), table := non_neg_integer(),
                   atom() => term()}.
-type neigh() :: #{family := atom() | integer(), index := integer(), atom() => term()}.
-type object() :: {link | addr | route | neigh, new | del, map()}.

-define(RTM_NEWLINK, 16).
-define(RTM_DELLINK, 17).
-define(RTM_NEWADDR, 20).
-define(RTM_DELADDR, 21).
-define(RTM_NEWROUTE, 24).
-define(RTM_DELROUTE, 25).
-define(RTM_NEWNEIGH, 28).
-define(RTM_DELNEIGH, 29).

-define(AF_INET, 2).
-define(AF_INET6, 10).

-define(IFF, [{up, 16#1}, {broadcast, 16#2}, {debug, 16#4}, {loopback, 16#8},
              {pointopoint, 16#10}, {notrailers, 16#20}, {running, 16#40},
              {noarp, 16#80}, {promisc, 16#100}, {allmulti, 16#200},
              {master, 16#400}, {slave, 16#800}, {multicast, 16#1000},
              {portsel, 16#2000}, {automedia, 16#4000}, {dynamic, 16#8000},
              {lower_up, 16#10000}, {dormant, 16#20000}, {echo, 16#40000}]).

-define(IFA_F, [{secondary, 16#1}, {nodad, 16#2}, {optimistic, 16#4},
                {dadfailed, 16#8}, {homeaddress, 16#10}, {deprecated, 16#20},
                {tentative, 16#40}, {permanent, 16#80}, {managetempaddr, 16#100},
                {noprefixroute, 16#200}, {mcautojoin, 16#400},
                {stable_privacy, 16#800}]).

-define(NUD, [{incomplete, 16#1}, {reachable, 16#2}, {stale, 16#4}, {delay, 16#8},
              {probe, 16#10}, {failed, 16#20}, {noarp, 16#40}, {permanent, 16#80}]).

-define(NTF, [{use, 16#1}, {self, 16#2}, {master, 16#4}, {proxy, 16#8},
              {extern_learn, 16#10}, {offloaded, 16#20}, {sticky, 16#40},
              {router, 16#80}]).

%% RTNH_F_* (the low byte) and RTM_F_* flags of a route.
-define(RTM_F, [{dead, 16#1}, {pervasive, 16#2}, {onlink, 16#4}, {offload, 16#8},
                {linkdown, 16#10}, {unresolved, 16#20}, {trap, 16#40},
                {notify, 16#100}, {cloned, 16#200}, {equalize, 16#400},
                {prefix, 16#800}, {lookup_table, 16#1000}, {fib_match, 16#2000},
                {rt_offload, 16#4000}, {rt_trap, 16#8000}]).

-define(OPERSTATES, {unknown, notpresent, down, lowerlayerdown, testing, dormant, up}).

-define(SCOPES, [{universe, 0}, {site, 200}, {link, 253}, {host, 254}, {nowhere, 255}]).

-define(RT_TYPES, [{unspec, 0}, {unicast, 1}, {local, 2}, {broadcast, 3}, {anycast, 4},
                   {multicast, 5}, {blackhole, 6}, {unreachable, 7}, {prohibit, 8},
                   {throw, 9}, {nat, 10}, {xresolve, 11}]).

-define(RT_PROTOS, [{unspec, 0}, {redirect, 1}, {kernel, 2}, {boot, 3}, {static, 4},
                    {ra, 9}, {dhcp, 16}, {keepalived, 18}, {babel, 42}, {bgp, 186},
                    {isis, 187}, {ospf, 188}, {rip, 189}, {eigrp, 192}]).

-define(ARPHRD, [{ether, 1}, {loopback, 772}, {none, 65534}, {ipip, 768},
                 {tunnel6, 769}, {sit, 776}, {ipgre, 778}, {ip6gre, 823},
                 {ieee80211, 801}, {void, 16#ffff}]).

-define(KINDS, #{<<"veth">> => veth,
                <<"bridge">> => bridge,
                <<"dummy">> => dummy,
                <<"vlan">> => vlan,
                <<"macvlan">> => macvlan,
                <<"macvtap">> => macvtap,
                <<"ipvlan">> => ipvlan,
                <<"ipvtap">> => ipvtap,
                <<"vxlan">> => vxlan,
                <<"geneve">> => geneve,
                <<"bond">> => bond,
                <<"team">> => team,
                <<"tun">> => tun,
                <<"tap">> => tap,
                <<"wireguard">> => wireguard,
                <<"gre">> => gre,
                <<"gretap">> => gretap,
                <<"ip6gre">> => ip6gre,
                <<"ip6gretap">> => ip6gretap,
                <<"ipip">> => ipip,
                <<"sit">> => sit,
                <<"ip6tnl">> => ip6tnl,
                <<"vti">> => vti,
                <<"vti6">> => vti6,
                <<"vrf">> => vrf,
                <<"macsec">> => macsec,
                <<"netkit">> => netkit,
                <<"nlmon">> => nlmon,
                <<"ifb">> => ifb,
                <<"erspan">> => erspan,
                <<"ip6erspan">> => ip6erspan,
                <<"bareudp">> => bareudp,
                <<"xfrm">> => xfrm,
                <<"hsr">> => hsr,
                <<"can">> => can,
                <<"vcan">> => vcan,
                <<"ipoib">> => ipoib}).

%%====================================================================
%% Any message
%%====================================================================

%% @doc Decodes an rtnetlink message of a family this module knows
%% (`RTM_NEWLINK' ... `RTM_DELNEIGH') into `{Kind, new | del, Map}';
%% `{other, Type, Payload}' for anything else.
-spec decode(linx_nl_codec:msg()) ->
          {ok, object() | {other, non_neg_integer(), binary()}}
        | {error, linx_nl_codec:malformed()}.
decode(#{type := Type, payload := P}) ->
    case Type of
        ?RTM_NEWLINK -> tag(link, new, decode_link(P));
        ?RTM_DELLINK -> tag(link, del, decode_link(P));
        ?RTM_NEWADDR -> tag(addr, new, decode_addr(P));
        ?RTM_DELADDR -> tag(addr, del, decode_addr(P));
        ?RTM_NEWROUTE -> tag(route, new, decode_route(P));
        ?RTM_DELROUTE -> tag(route, del, decode_route(P));
        ?RTM_NEWNEIGH -> tag(neigh, new, decode_neigh(P));
        ?RTM_DELNEIGH -> tag(neigh, del, decode_neigh(P));
        _ -> {ok, {other, Type, P}}
    end.

tag(Kind, What, {ok, Map}) -> {ok, {Kind, What, Map}};
tag(_Kind, _What, {error, _} = Error) -> Error.

%%====================================================================
%% Links
%%====================================================================

%% @doc Decodes the payload of an `RTM_NEWLINK' / `RTM_DELLINK'.
-spec decode_link(binary()) -> {ok, link()} | {error, linx_nl_codec:malformed()}.
decode_link(<<_Family:8, _:8, Type:16/native, Index:32/signed-native, Flags:32/native,
              _Change:32/native, Attrs/binary>>) ->
    case link_attrs(Attrs, [], []) of
        {ok, Pairs, Unknown} ->
            %% One map at the end: the later of two equal keys wins, as
            %% the later of two equal attributes does.
            {ok, maps:from_list([{index, Index}, {flags, iff_flags(Flags)}, {type, arphrd(Type)}
                                 | lists:reverse(Pairs, [{unknown, lists:reverse(Unknown)}])])};
        {error, Rest} ->
            {error, {malformed, {link, {attr, byte_size(Attrs) - byte_size(Rest)}}}}
    end;
decode_link(_) ->
    {error, {malformed, {link, short}}}.

%% An attribute holding a u32 in host byte order, matched in a clause head.
-define(U32_ATTR(Type, Key),
        link_attrs(<<8:16/native, Type:16/native, N:32/native, Rest/binary>>, P, U) ->
            link_attrs(Rest, [{Key, N} | P], U)).

%% The attributes of a link in one pass over the binary: a dump of a
%% thousand links is mostly this loop. The attributes every link has, of
%% fixed size (an integer and its padding), are matched in the clause
%% heads; any other goes through link_attr/2, which says the same of
%% these. The pairs and the unknown {Type, Value} come back in reverse
%% order; {error, Rest} where an attribute does not fit.
?U32_ATTR(4, mtu);
link_attrs(<<8:16/native, 5:16/native, N:32/signed-native, Rest/binary>>, P, U) ->
    link_attrs(Rest, [{link, N} | P], U);
?U32_ATTR(10, master);
?U32_ATTR(13, txqlen);
link_attrs(<<5:16/native, 16:16/native, N:8, _:24, Rest/binary>>, P, U) ->
    link_attrs(Rest, [{operstate, operstate(N)} | P], U);
?U32_ATTR(27, group);
?U32_ATTR(30, promiscuity);
?U32_ATTR(31, num_tx_queues);
?U32_ATTR(32, num_rx_queues);
link_attrs(<<5:16/native, 33:16/native, N:8, _:24, Rest/binary>>, P, U) ->
    link_attrs(Rest, [{carrier, N =/= 0} | P], U);
?U32_ATTR(35, carrier_changes);
link_attrs(<<5:16/native, 39:16/native, N:8, _:24, Rest/binary>>, P, U) ->
    link_attrs(Rest, [{proto_down, N =/= 0} | P], U);
?U32_ATTR(40, gso_max_segs);
?U32_ATTR(41, gso_max_size);
?U32_ATTR(50, min_mtu);
?U32_ATTR(51, max_mtu);
?U32_ATTR(58, gro_max_size);
?U32_ATTR(59, tso_max_size);
?U32_ATTR(60, tso_max_segs);
?U32_ATTR(61, allmulti);
?U32_ATTR(63, gso_ipv4_max_size);
?U32_ATTR(64, gro_ipv4_max_size);
link_attrs(<<Len:16/native, Type:16/native, V:(Len - 4)/binary, _:((-Len) band 3)/binary,
             Rest/binary>>, P, U) ->
    T = Type band ?NLA_TYPE_MASK,
    case link_attr(T, V) of
        unknown -> link_attrs(Rest, P, [{T, V} | U]);
        skip -> link_attrs(Rest, P, U);
        {_, _} = Pair -> link_attrs(Rest, [Pair | P], U);
        Pairs -> link_attrs(Rest, lists:reverse(Pairs, P), U)
    end;
link_attrs(<<>>, P, U) ->
    {ok, P, U};
link_attrs(Bin, P, U) ->
    case last_attr(Bin) of
        {ok, Padded} -> link_attrs(Padded, P, U);
        error -> {error, Bin}
    end.

%% The last attribute, when what follows it is shorter than its padding
%% (the padding is then cut short, not missing): that attribute padded.
last_attr(<<Len:16/native, _:16, _:(Len - 4)/binary, Tail/binary>> = Bin)
  when byte_size(Tail) < ((-Len) band 3) ->
    {ok, <<(binary:part(Bin, 0, Len))/binary, 0:(((-Len) band 3) * 8)>>};
last_attr(_) ->
    error.

%% A link attribute: `{Key, Value}', several pairs, `skip' or `unknown'.
link_attr(1, V) -> {address, V};
link_attr(2, V) -> {broadcast, V};
link_attr(3, V) -> {ifname, linx_nl_codec:string(V)};
link_attr(4, <<N:32/native>>) -> {mtu, N};
link_attr(5, <<N:32/signed-native>>) -> {link, N};
link_attr(6, V) -> {qdisc, linx_nl_codec:string(V)};
%% IFLA_STATS and IFLA_STATS64: the kernel sends them even when asked to
%% skip statistics; left out.
link_attr(7, _V) -> skip;
link_attr(10, <<N:32/native>>) -> {master, N};
link_attr(13, <<N:32/native>>) -> {txqlen, N};
link_attr(16, <<N:8>>) -> {operstate, operstate(N)};
link_attr(17, <<0:8>>) -> {linkmode, default};
link_attr(17, <<1:8>>) -> {linkmode, dormant};
link_attr(18, V) -> linkinfo(V);
link_attr(20, V) -> {alias, linx_nl_codec:string(V)};
link_attr(23, _V) -> skip;
link_attr(27, <<N:32/native>>) -> {group, N};
link_attr(30, <<N:32/native>>) -> {promiscuity, N};
link_attr(31, <<N:32/native>>) -> {num_tx_queues, N};
link_attr(32, <<N:32/native>>) -> {num_rx_queues, N};
link_attr(33, <<N:8>>) -> {carrier, N =/= 0};
link_attr(35, <<N:32/native>>) -> {carrier_changes, N};
link_attr(37, <<N:32/signed-native>>) -> {link_netnsid, N};
link_attr(39, <<N:8>>) -> {proto_down, N =/= 0};
link_attr(40, <<N:32/native>>) -> {gso_max_segs, N};
link_attr(41, <<N:32/native>>) -> {gso_max_size, N};
link_attr(50, <<N:32/native>>) -> {min_mtu, N};
link_attr(51, <<N:32/native>>) -> {max_mtu, N};
link_attr(52, V) -> prop_list(V);
link_attr(54, V) -> {perm_address, V};
link_attr(58, <<N:32/native>>) -> {gro_max_size, N};
link_attr(59, <<N:32/native>>) -> {tso_max_size, N};
link_attr(60, <<N:32/native>>) -> {tso_max_segs, N};
link_attr(61, <<N:32/native>>) -> {allmulti, N};
link_attr(63, <<N:32/native>>) -> {gso_ipv4_max_size, N};
link_attr(64, <<N:32/native>>) -> {gro_ipv4_max_size, N};
link_attr(_T, _V) -> unknown.

%% IFLA_LINKINFO: the kind and, kept raw, the kind's own data; the
%% attributes it does not name go, in order, to `info_unknown'.
linkinfo(V) ->
    case linx_nl_codec:decode_attrs(V) of
        {ok, Info} -> info_attrs(Info, [], []);
        {error, _} -> unknown
    end.

info_attrs([{1, K} | Rest], P, U) -> info_attrs(Rest, [{kind, kind(linx_nl_codec:string(K))} | P], U);
info_attrs([{2, D} | Rest], P, U) -> info_attrs(Rest, [{info_data, D} | P], U);
info_attrs([{4, K} | Rest], P, U) -> info_attrs(Rest, [{slave_kind, kind(linx_nl_codec:string(K))} | P], U);
info_attrs([{5, D} | Rest], P, U) -> info_attrs(Rest, [{info_slave_data, D} | P], U);
info_attrs([A | Rest], P, U) -> info_attrs(Rest, P, [A | U]);
info_attrs([], P, []) -> lists:reverse(P);
info_attrs([], P, U) -> lists:reverse(P, [{info_unknown, lists:reverse(U)}]).

%% IFLA_PROP_LIST: IFLA_ALT_IFNAME entries.
prop_list(V) ->
    case linx_nl_codec:decode_attrs(V) of
        {ok, Props} -> {alt_names, [linx_nl_codec:string(N) || {53, N} <- Props]};
        {error, _} -> unknown
    end.

%% @doc A link kind as an atom when linx knows the kind (`veth',
%% `bridge', ...), else the kernel's name as a binary (atoms are never
%% made from what the kernel sends).
-spec kind(binary() | atom()) -> atom() | binary().
kind(K) when is_atom(K) ->
    K;
kind(K) ->
    maps:get(K, ?KINDS, K).

%% @doc The payload start of a link request: family 0, the index, the
%% flags to set and the mask of flags to change.
-spec ifinfomsg(non_neg_integer(), integer(), non_neg_integer(), non_neg_integer()) -> binary().
ifinfomsg(Family, Index, Flags, Change) ->
    <<Family:8, 0:8, 0:16, Index:32/signed-native, Flags:32/native, Change:32/native>>.

%%====================================================================
%% Addresses
%%====================================================================

%% @doc Decodes the payload of an `RTM_NEWADDR' / `RTM_DELADDR'.
-spec decode_addr(binary()) -> {ok, addr()} | {error, linx_nl_codec:malformed()}.
decode_addr(<<Family:8, PrefixLen:8, Flags:8, Scope:8, Index:32/native, Attrs/binary>>) ->
    Base = #{family => family(Family), prefixlen => PrefixLen, index => Index,
             scope => scope(Scope), flags => bits(Flags, ?IFA_F)},
    case with_attrs(Attrs, addr, fun(T, V) -> addr_attr(T, V, Family) end, Base) of
        {ok, #{address := _} = M} -> {ok, M};
        %% Without IFA_ADDRESS, the local address is the address.
        {ok, #{local := L} = M} -> {ok, M#{address => L}};
        Other -> Other
    end;
decode_addr(_) ->
    {error, {malformed, {addr, short}}}.

addr_attr(1, V, F) -> ip_attr(address, F, V);
addr_attr(2, V, F) -> ip_attr(local, F, V);
addr_attr(3, V, _F) -> [{label, linx_nl_codec:string(V)}];
addr_attr(4, V, F) -> ip_attr(broadcast, F, V);
addr_attr(5, V, F) -> ip_attr(anycast, F, V);
addr_attr(6, <<Pref:32/native, Valid:32/native, _C:32/native, _U:32/native>>, _F) ->
    [{preferred_lft, lft(Pref)}, {valid_lft, lft(Valid)}];
addr_attr(7, V, F) -> ip_attr(multicast, F, V);
addr_attr(8, <<N:32/native>>, _F) -> [{flags, bits(N, ?IFA_F)}];
addr_attr(9, <<N:32/native>>, _F) -> [{metric, N}];
addr_attr(11, <<N:8>>, _F) -> [{protocol, N}];
addr_attr(_T, _V, _F) -> unknown.

lft(16#ffffffff) -> forever;
lft(N) -> N.

%% @doc The payload start of an address request.
-spec ifaddrmsg(non_neg_integer(), 0..255, non_neg_integer(), non_neg_integer(),
                non_neg_integer()) -> binary().
ifaddrmsg(Family, PrefixLen, Flags, Scope, Index) ->
    <<Family:8, PrefixLen:8, (Flags band 16#ff):8, Scope:8, Index:32/native>>.

%%====================================================================
%% Routes
%%====================================================================

%% @doc Decodes the payload of an `RTM_NEWROUTE' / `RTM_DELROUTE'.
-spec decode_route(binary()) -> {ok, route()} | {error, linx_nl_codec:malformed()}.
decode_route(<<Family:8, DstLen:8, SrcLen:8, Tos:8, Table:8, Proto:8, Scope:8,
               Type:8, Flags:32/native, Attrs/binary>>) ->
    Base = #{family => family(Family), dst_len => DstLen, src_len => SrcLen, tos => Tos,
             table => Table, protocol => rt_proto(Proto), scope => scope(Scope),
             type => rt_type(Type), flags => bits(Flags, ?RTM_F)},
    case with_attrs(Attrs, route, fun(T, V) -> route_attr(T, V, Family) end, Base) of
        {ok, M} ->
            Dst = case M of
                      #{dst := D} -> {D, DstLen};
                      _ -> default
                  end,
            {ok, maps:remove(dst_len, M#{dst => Dst})};
        Error ->
            Error
    end;
decode_route(_) ->
    {error, {malformed, {route, short}}}.

route_attr(1, V, F) -> ip_attr(dst, F, V);
route_attr(2, V, F) -> ip_attr(src, F, V);
route_attr(3, <<N:32/native>>, _F) -> [{iif, N}];
route_attr(4, <<N:32/native>>, _F) -> [{oif, N}];
route_attr(5, V, F) -> ip_attr(gateway, F, V);
route_attr(6, <<N:32/native>>, _F) -> [{metric, N}];
route_attr(7, V, F) -> ip_attr(prefsrc, F, V);
route_attr(15, <<N:32/native>>, _F) -> [{table, N}];
route_attr(16, <<N:32/native>>, _F) -> [{mark, N}];
route_attr(20, <<N:8>>, _F) -> [{pref, rt_pref(N)}];
route_attr(_T, _V, _F) -> unknown.

rt_pref(0) -> medium;
rt_pref(1) -> high;
rt_pref(3) -> low;
rt_pref(N) -> N.

%% @doc The payload start of a route request, from a map with
%% `family', `dst_len', `src_len', `tos', `table', `protocol', `scope',
%% `type' (numbers; missing ones are 0).
-spec rtmsg(#{atom() => non_neg_integer()}) -> binary().
rtmsg(M) ->
    G = fun(K) -> maps:get(K, M, 0) end,
    <<(G(family)):8, (G(dst_len)):8, (G(src_len)):8, (G(tos)):8, (min(G(table), 255)):8,
      (G(protocol)):8, (G(scope)):8, (G(type)):8, 0:32>>.

%%====================================================================
%% Neighbours
%%====================================================================

%% @doc Decodes the payload of an `RTM_NEWNEIGH' / `RTM_DELNEIGH'.
-spec decode_neigh(binary()) -> {ok, neigh()} | {error, linx_nl_codec:malformed()}.
decode_neigh(<<Family:8, _:8, _:16, Index:32/signed-native, State:16/native, Flags:8,
               Type:8, Attrs/binary>>) ->
    Base = #{family => family(Family), index => Index, state => nud_states(State),
             flags => bits(Flags, ?NTF), type => rt_type(Type)},
    with_attrs(Attrs, neigh, fun(T, V) -> neigh_attr(T, V, Family) end, Base);
decode_neigh(_) ->
    {error, {malformed, {neigh, short}}}.

neigh_attr(1, V, F) -> ip_attr(dst, F, V);
neigh_attr(2, V, _F) -> [{lladdr, V}];
neigh_attr(4, <<N:32/native>>, _F) -> [{probes, N}];
neigh_attr(5, <<N:16/native>>, _F) -> [{vlan, N}];
neigh_attr(9, <<N:32/native>>, _F) -> [{master, N}];
neigh_attr(12, <<N:8>>, _F) -> [{protocol, N}];
neigh_attr(_T, _V, _F) -> unknown.

%% @doc The payload start of a neighbour request.
-spec ndmsg(non_neg_integer(), integer(), non_neg_integer(), non_neg_integer()) -> binary().
ndmsg(Family, Index, State, Flags) ->
    <<Family:8, 0:8, 0:16, Index:32/signed-native, State:16/native, Flags:8, 0:8>>.

%%====================================================================
%% Names
%%====================================================================

%% @doc An address family: `inet', `inet6', `bridge' (7), `unspec' (0),
%% or its number.
-spec family(non_neg_integer()) -> atom() | non_neg_integer().
family(0) -> unspec;
family(?AF_INET) -> inet;
family(7) -> bridge;
family(?AF_INET6) -> inet6;
family(N) -> N.

%% @doc The number of an address family name (or a number as it is).
-spec family_number(atom() | non_neg_integer()) -> {ok, non_neg_integer()} | error.
family_number(unspec) -> {ok, 0};
family_number(inet) -> {ok, ?AF_INET};
family_number(bridge) -> {ok, 7};
family_number(inet6) -> {ok, ?AF_INET6};
family_number(N) when is_integer(N), N >= 0, N < 256 -> {ok, N};
family_number(_) -> error.

%% @doc `IFF_*' link flags as atoms, lowest bit first.
-spec iff_flags(non_neg_integer()) -> [atom()].
iff_flags(Flags) -> bits(Flags, ?IFF).

%% @doc The bit mask of a list of `IFF_*' flag atoms; `error' for one
%% that is not known.
-spec iff_bits([atom()]) -> {ok, non_neg_integer()} | error.
iff_bits(Names) -> mask(Names, ?IFF, 0).

%% @doc `NUD_*' neighbour states as atoms (`[]' is `NUD_NONE').
-spec nud_states(non_neg_integer()) -> [atom()].
nud_states(State) -> bits(State, ?NUD).

%% @doc The bit mask of `NUD_*' state atoms.
-spec nud_bits([atom()]) -> {ok, non_neg_integer()} | error.
nud_bits(Names) -> mask(Names, ?NUD, 0).

%% @doc A route or address scope as an atom (or its number).
-spec scope(0..255) -> atom() | 0..255.
scope(N) -> name(N, ?SCOPES).

%% @doc The number of a scope name (or a number as it is).
-spec scope_number(term()) -> {ok, 0..255} | error.
scope_number(S) -> number(S, ?SCOPES, 255).

%% @doc A route type as an atom (`unicast', `local', ...).
-spec rt_type(0..255) -> atom() | 0..255.
rt_type(N) -> name(N, ?RT_TYPES).

%% @doc The number of a route type name.
-spec rt_type_number(term()) -> {ok, 0..255} | error.
rt_type_number(T) -> number(T, ?RT_TYPES, 255).

%% @doc A route protocol as an atom (`kernel', `boot', `static', ...).
-spec rt_proto(0..255) -> atom() | 0..255.
rt_proto(N) -> name(N, ?RT_PROTOS).

%% @doc The number of a route protocol name.
-spec rt_proto_number(term()) -> {ok, 0..255} | error.
rt_proto_number(P) -> number(P, ?RT_PROTOS, 255).

%% @doc An IPv4 or IPv6 address of the given family as an inet tuple;
%% `error' when the size does not fit the family.
-spec ip_address(non_neg_integer(), binary()) -> {ok, inet:ip_address()} | error.
ip_address(?AF_INET, <<A, B, C, D>>) ->
    {ok, {A, B, C, D}};
ip_address(?AF_INET6, <<A:16, B:16, C:16, D:16, E:16, F:16, G:16, H:16>>) ->
    {ok, {A, B, C, D, E, F, G, H}};
ip_address(_, _) ->
    error.

%% @doc An inet tuple as its family number and bytes; `error' for
%% anything else.
-spec ip_bytes(term()) -> {ok, non_neg_integer(), binary()} | error.
ip_bytes({A, B, C, D} = IP) ->
    case fields_below(IP, 256) of
        true -> {ok, ?AF_INET, <<A, B, C, D>>};
        false -> error
    end;
ip_bytes({A, B, C, D, E, F, G, H} = IP) ->
    case fields_below(IP, 65536) of
        true -> {ok, ?AF_INET6, <<A:16, B:16, C:16, D:16, E:16, F:16, G:16, H:16>>};
        false -> error
    end;
ip_bytes(_) ->
    error.

fields_below(T, Max) ->
    lists:all(fun(X) -> is_integer(X) andalso X >= 0 andalso X < Max end, tuple_to_list(T)).

%%====================================================================
%% Internal functions
%%====================================================================

%% Attributes decoded in one pass by Fun(Type, Value), which returns the
%% pairs to add or `unknown'; the map is built once at the end (a map of
%% more than 32 keys is slow to update key by key). The unknown ones end
%% up in order under `unknown'.
with_attrs(Attrs, What, Fun, Base) ->
    case fold(Attrs, Fun, [], []) of
        {ok, Pairs, Unknown} ->
            {ok, maps:merge(Base, maps:from_list([{unknown, lists:reverse(Unknown)}
                                                  | lists:reverse(Pairs)]))};
        {error, Rest} ->
            {error, {malformed, {What, {attr, byte_size(Attrs) - byte_size(Rest)}}}}
    end.

%% The value and padding are matched in the head, with sizes computed from
%% the length, so the loop walks one match context (a guard on the size of
%% the rest would make a new sub-binary per attribute).
fold(<<Len:16/native, Type:16/native, Value:(Len - 4)/binary, _:((-Len) band 3)/binary,
       Next/binary>>, Fun, Pairs, Unknown) ->
    T = Type band ?NLA_TYPE_MASK,
    case Fun(T, Value) of
        unknown -> fold(Next, Fun, Pairs, [{T, Value} | Unknown]);
        [Pair] -> fold(Next, Fun, [Pair | Pairs], Unknown);
        New -> fold(Next, Fun, lists:reverse(New, Pairs), Unknown)
    end;
fold(<<>>, _Fun, Pairs, Unknown) ->
    {ok, Pairs, Unknown};
fold(Bin, Fun, Pairs, Unknown) ->
    case last_attr(Bin) of
        {ok, Padded} -> fold(Padded, Fun, Pairs, Unknown);
        error -> {error, Bin}
    end.

%% An address attribute of the message's family; one of the wrong size is
%% kept as unknown.
ip_attr(Key, Family, V) ->
    case ip_address(Family, V) of
        {ok, IP} -> [{Key, IP}];
        error -> unknown
    end.

operstate(N) when N >= 0, N < tuple_size(?OPERSTATES) -> element(N + 1, ?OPERSTATES);
operstate(N) -> N.

arphrd(N) -> name(N, ?ARPHRD).

bits(Flags, Table) ->
    [Name || {Name, Bit} <- Table, Flags band Bit =/= 0].

mask([], _Table, Acc) ->
    {ok, Acc};
mask([Name | Rest], Table, Acc) ->
    case lists:keyfind(Name, 1, Table) of
        {_, Bit} -> mask(Rest, Table, Acc bor Bit);
        false -> error
    end;
mask(_, _Table, _Acc) ->
    error.

name(N, Table) ->
    case lists:keyfind(N, 2, Table) of
        {Name, _} -> Name;
        false -> N
    end.

number(N, _Table, Max) when is_integer(N), N >= 0, N =< Max -> {ok, N};
number(Name, Table, _Max) when is_atom(Name) ->
    case lists:keyfind(Name, 1, Table) of
        {_, N} -> {ok, N};
        false -> error
    end;
number(_, _Table, _Max) ->
    error.
