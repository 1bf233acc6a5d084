%% @doc The route requests of {@link linx_rtnl_req}: a route map (as
%% {@link linx_rtnl:routes/1} returns it, or as a caller writes it)
%% turned into the header and attributes of an `RTM_NEWROUTE' or
%% `RTM_DELROUTE', through the route table of {@link linx_rtnl_tables}.
-module(linx_rtnl_route).

-export([payload/3]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
-define(RT_TABLE_MAIN, 254).
-define(RT_TABLE_LOCAL, 255).

%% @doc The payload of a request adding (`new') or deleting (`del') a
%% route: its header and attributes. A check throws (see
%% {@link linx_rtnl_args:checked/1}); `Resolve' turns `oif' into an
%% index. A map from routes/1 is sent back
%% with what tells its route from another: the header's `tos' and the
%% `onlink' flag, `src' (with `src_len'), `nhid', `via', `metrics',
%% `flow', `pref', `expires' and the encapsulation. A route through a nexthop object
%% (`nhid') comes with its nexthop's device and gateway (a group's as
%% `multipath') too, which the kernel refuses beside `nhid': they are
%% left out.
-spec payload(new | del, map(), fun((term()) -> {ok, non_neg_integer()} | {error, term()})) ->
          iolist().
payload(What, Route, Resolve) ->
    Family0 = case maps:find(family, Route) of
                  {ok, F} -> ?ARGS:family(F, bad(family, Route));
                  error -> undefined
              end,
    {Family1, Dst, DstLen} =
        case maps:get(dst, Route, default) of
            default -> {Family0, [], 0};
            {IP, Len} when is_integer(Len), Len >= 0 ->
                case linx_nl_values:ip_bytes(IP) of
                    {ok, Fm, B} when Len =< byte_size(B) * 8 -> {Fm, [{dst, IP}], Len};
                    _ -> throw(bad(dst, Route))
                end;
            _ -> throw(bad(dst, Route))
        end,
    NhId = [{nhid, int_key(nhid, Route, 0)} || is_map_key(nhid, Route)],
    Nexthop = case NhId of
                  [] -> Route;
                  _ -> maps:without([gateway, oif, via, multipath], Route)
              end,
    {Family1b, Multipath} = multipath(Nexthop, Resolve, Family1),
    {Family2, Gw} = ip_key(gateway, Nexthop, Family1b),
    {Family3, Src} = ip_key(prefsrc, Route, Family2),
    {Family, From} = ip_key(src, Route, Family3),
    %% A default route without a gateway says its family.
    Family =/= undefined orelse throw({bad_route, {family, missing}}),
    Del = What =:= del,
    Type = maps:get(type, Route, if Del -> 0; true -> unicast end),
    TypeNumber = ?ARGS:name(Type, rt_type, bad(type, Route)),
    TypeName = linx_nl_values:name(TypeNumber, ?MSG:names(rt_type)),
    Table = int_key(table, Route, default_table(TypeName)),
    Ints = [{K, int_key(K, Route, 0)} || K <- [metric, flow], is_map_key(K, Route)],
    Oif = case maps:find(oif, Nexthop) of
              error -> [];
              {ok, L} -> {ok, I} = ?ARGS:ok_or_throw(Resolve(L)), [{oif, I}]
          end,
    Via = [{via, via(V, bad(via, Route))} || {ok, V} <- [maps:find(via, Nexthop)]],
    DefScope = default_scope(Del, Family, TypeName, Gw ++ Via ++ NhId ++ Multipath),
    Flags = ?ARGS:mask(maps:get(flags, Route, []), rtm_flags, bad(flags, Route)) band onlink(),
    SrcLen = maps:get(src_len, Route, case From of
                                          [] -> 0;
                                          [{src, {_, _, _, _}}] -> 32;
                                          _ -> 128
                                      end),
    Hdr = #{family => Family, dst_len => DstLen, src_len => SrcLen,
            tos => maps:get(tos, Route, 0), flags => Flags,
            table => if Table < 256 -> Table; true -> 0 end,
            protocol => maps:get(protocol, Route, if Del -> 0; true -> boot end),
            scope => maps:get(scope, Route, DefScope),
            type => route_type(Del, NhId, Type)},
    HdrBin = header(Hdr, Route),
    Extra = [{K, extra(K, maps:get(K, Route))} || K <- [metrics, pref, encap_type, encap, expires],
                                                   is_map_key(K, Route)],
    Attrs = case ?MSG:encode_attrs(route, Dst ++ From ++ Gw ++ Via ++ Src ++ Oif ++ NhId ++ Ints
                                   ++ Extra ++ Multipath ++ [{table, Table}]) of
                {ok, A} -> A;
                {error, {bad_value, K, _}} when is_atom(K) -> throw(bad(K, Route));
                {error, _} -> throw({bad_route, Route})
            end,
    [HdrBin, Attrs].

%% The header's bytes; a field that does not fit is named.
header(Hdr, Route) ->
    case ?MSG:header(route, Hdr) of
        {ok, Bin} ->
            Bin;
        error ->
            [throw(bad(K, Route))
             || {K, V} <- maps:to_list(Hdr), ?MSG:header(route, #{K => V}) =:= error],
            throw({bad_route, Route})
    end.

%% The reason naming `Key' of a route, and its value.
bad(Key, Route) ->
    {bad_route, {Key, maps:get(Key, Route, missing)}}.

%% The table of a route that names none, as `ip route add' chooses it:
%% local for the types of the local table, else main.
default_table(Type) when Type =:= local; Type =:= broadcast; Type =:= anycast; Type =:= nat ->
    ?RT_TABLE_LOCAL;
default_table(_Type) ->
    ?RT_TABLE_MAIN.

%% The scope of a route that names none, as `ip route add' chooses it:
%% nowhere to delete; universe for IPv6; host for a local route, link
%% for a broadcast, multicast or anycast one and for a unicast one
%% without a gateway (or next hops); universe for the rest (a gateway,
%% and the types that drop packets).
default_scope(true, _Family, _Type, _Gateways) -> nowhere;
default_scope(_Del, inet6, _Type, _Gateways) -> universe;
default_scope(_Del, _Family, Type, _Gateways) when Type =:= local; Type =:= nat -> host;
default_scope(_Del, _Family, Type, _Gateways)
  when Type =:= broadcast; Type =:= multicast; Type =:= anycast -> link;
default_scope(_Del, _Family, Type, []) when Type =:= unicast; Type =:= unspec -> link;
default_scope(_Del, _Family, _Type, _Gateways) -> universe.

%% RTA_MULTIPATH from `multipath': a list of next hops, each a map of
%% `gateway' (or `via'), `oif' (a link), `weight' (1 to 256, default 1)
%% and `flags' (`[onlink]'), as routes/1 gives them; and the family the
%% gateways imply.
multipath(#{multipath := Hops} = Route, Resolve, Family) when is_list(Hops), Hops =/= [] ->
    {Bins, F} = lists:mapfoldl(fun(Hop, Fam) -> nexthop(Hop, Route, Resolve, Fam) end, Family, Hops),
    {F, [{multipath, iolist_to_binary(Bins)}]};
multipath(#{multipath := _} = Route, _Resolve, _Family) ->
    throw(bad(multipath, Route));
multipath(_Route, _Resolve, Family) ->
    {Family, []}.

nexthop(#{} = Hop, Route, Resolve, Family) ->
    Bad = bad(multipath, Route),
    [throw(Bad) || K <- maps:keys(Hop), not lists:member(K, [gateway, via, oif, weight, flags, unknown])],
    {Fam, Gw} = ip_key(gateway, Hop, Family),
    Via = [{via, via(V, Bad)} || {ok, V} <- [maps:find(via, Hop)]],
    Index = case maps:find(oif, Hop) of
                error -> 0;
                {ok, L} -> {ok, I} = ?ARGS:ok_or_throw(Resolve(L)), I
            end,
    Weight = case maps:get(weight, Hop, 1) of
                 W when is_integer(W), W >= 1, W =< 256 -> W;
                 _ -> throw(Bad)
             end,
    Flags = ?ARGS:mask(maps:get(flags, Hop, []), rtm_flags, Bad) band onlink(),
    {ok, Attrs} = ?ARGS:ok_or_throw(?MSG:encode_attrs(route, Gw ++ Via), Bad),
    Bin = iolist_to_binary(Attrs),
    Len = 8 + byte_size(Bin),
    {<<Len:16/native, Flags:8, (Weight - 1):8, Index:32/native, Bin/binary>>, Fam};
nexthop(_Hop, Route, _Resolve, _Family) ->
    throw(bad(multipath, Route)).

%% The kernel reports a route through a blackhole nexthop as a blackhole
%% whatever type it was added with (unicast, as a rule): it is deleted
%% whatever its type.
route_type(true, [_], blackhole) -> 0;
route_type(_Del, _NhId, Type) -> Type.

%% Metrics as routes/1 gives them (a map, with the ones linx does not
%% name under `unknown') as pairs to encode.
extra(metrics, #{} = M) -> maps:to_list(maps:without([unknown], M)) ++ maps:get(unknown, M, []);
extra(_Key, V) -> V.

%% The bytes of RTA_VIA (struct rtvia) for a gateway address.
via(IP, Bad) ->
    case linx_nl_values:ip_bytes(IP) of
        {ok, F, Bytes} -> <<(?ARGS:name(F, family, Bad)):16/native, Bytes/binary>>;
        error -> throw(Bad)
    end.

%% RTNH_F_ONLINK, the one flag of a route's header a request sets.
onlink() ->
    {ok, Onlink} = linx_nl_values:mask([onlink], ?MSG:names(rtm_flags)),
    Onlink.

%% An address key of a route, and the family it implies (which must
%% agree with the one known so far).
ip_key(Key, Route, Family) ->
    case maps:find(Key, Route) of
        error ->
            {Family, []};
        {ok, IP} ->
            case linx_nl_values:ip_bytes(IP) of
                {ok, F, _} when Family =:= undefined; Family =:= F -> {F, [{Key, IP}]};
                _ -> throw(bad(Key, Route))
            end
    end.

int_key(Key, Map, Default) ->
    case maps:get(Key, Map, Default) of
        N when is_integer(N), N >= 0, N =< 16#ffffffff -> N;
        _ -> throw(bad(Key, Map))
    end.
