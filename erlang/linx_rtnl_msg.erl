%% @doc rtnetlink messages as maps, decoded and encoded by the tables of
%% {@link linx_rtnl_tables}: the layer between the pure codec and
%% {@link linx_rtnl}.
%%
%% Each object (links, addresses, routes, neighbours) is a fixed header
%% and attributes, both read from its table. Attributes the tables do not
%% name are kept, in order, under the key `unknown' as `{Type, Binary}'.
%% A payload that does not parse gives `{error, {malformed, {Object,
%% What}}}'; nothing here raises on input from the kernel.
-module(linx_rtnl_msg).

-export([decode/1, decode_object/2, decode_link/1, decode_link/2, decode_addr/1, decode_route/1,
         decode_neigh/1, decode_rule/1]).
-export([message_type/2, header/2, ifinfomsg/4, attrs/2, encode_attrs/2, attr_number/2]).
-export([kind/1, names/1, ip_neighs/1]).

-export_type([link/0, addr/0, route/0, neigh/0, rule/0, nexthop/0, object/0, kind/0]).

-type link() :: #{index := integer(), ifname => binary(), flags := [atom()],
                  atom() => term()}.
%% A link (see {@link linx_rtnl} for the keys).
-type addr() :: #{family := inet | inet6 | integer(), index := non_neg_integer(),
                  prefixlen := 0..255, atom() => term()}.
-type route() :: #{family := inet | inet6 | integer(), table := non_neg_integer(),
                   atom() => term()}.
-type neigh() :: #{family := atom() | integer(), index := integer(), atom() => term()}.
-type rule() :: #{family := inet | inet6 | integer(), action := atom() | integer(),
                  atom() => term()}.
-type nexthop() :: #{id := non_neg_integer(), family := atom() | integer(), atom() => term()}.
%% A nexthop object: `group' as `[{Id, Weight}]'.
-type object() :: {kind(), new | del, map()}.
-type kind() :: link | addr | route | neigh | rule | nexthop.

-define(TABLES, linx_rtnl_tables).

%%====================================================================
%% Decoding
%%====================================================================

%% @doc Decodes an rtnetlink message of a type this module knows
%% (`RTM_NEWLINK' ... `RTM_DELNEIGH') into `{Object, new | del, Map}';
%% `{other, Type, Payload}' for anything else.
-spec decode(linx_nl_codec:msg()) ->
          {ok, object() | {other, non_neg_integer(), binary()}}
        | {error, linx_nl_codec:malformed()}.
decode(#{type := Type, payload := P}) ->
    case lists:keyfind(Type, 1, ?TABLES:messages()) of
        {_, Object, What} when What =/= get ->
            case decode(Object, P) of
                {ok, Map} -> {ok, {Object, What, Map}};
                {error, _} = Error -> Error
            end;
        _ ->
            {ok, {other, Type, P}}
    end.

%% @doc Decodes the payload of an `RTM_NEWLINK' / `RTM_DELLINK'. `kind'
%% and `slave_kind' are atoms for the kinds linx knows ({@link kind/1}),
%% and `info_data' is decoded by the kind's table when it has one.
-spec decode_link(binary()) -> {ok, link()} | {error, linx_nl_codec:malformed()}.
decode_link(P) -> decode(link, P).

%% @doc {@link decode_link/1}, and with `Stats' `true' the link's
%% statistics (`IFLA_STATS64') as `stats', a map of the fields of
%% `struct rtnl_link_stats64' (`rx_packets', `tx_bytes', `rx_dropped',
%% ...; those the kernel sends), when it sends them.
-spec decode_link(binary(), boolean()) -> {ok, link()} | {error, linx_nl_codec:malformed()}.
decode_link(P, false) ->
    decode(link, P);
decode_link(P, true) ->
    case decode(link, P) of
        {ok, Link} -> {ok, with_stats(Link, P)};
        {error, _} = Error -> Error
    end.

with_stats(Link, P) ->
    {ok, _Head, Attrs} = linx_nl_attrs:decode_struct(header_fields(link), P),
    Stats64 = linx_nl_attrs:number({?TABLES, link}, stats64),
    case linx_nl_codec:decode_attrs(Attrs) of
        {ok, L} ->
            case lists:keyfind(Stats64, 1, L) of
                {_, Bin} ->
                    Fields = ?TABLES:header(link_stats64),
                    Fit = lists:sublist(Fields, byte_size(Bin) div 8),
                    {ok, Pairs, _} = linx_nl_attrs:decode_struct(Fit, Bin),
                    Link#{stats => maps:from_list(Pairs)};
                false ->
                    Link
            end;
        {error, _} ->
            Link
    end.

%% @doc Decodes the payload of an `RTM_NEWADDR' / `RTM_DELADDR'; without
%% `IFA_ADDRESS' the local address is the `address'.
-spec decode_addr(binary()) -> {ok, addr()} | {error, linx_nl_codec:malformed()}.
decode_addr(P) -> decode(addr, P).

%% @doc Decodes the payload of an `RTM_NEWROUTE' / `RTM_DELROUTE', with
%% `dst' as `{Address, PrefixLen}', or `default' when the route has none.
-spec decode_route(binary()) -> {ok, route()} | {error, linx_nl_codec:malformed()}.
decode_route(P) -> decode(route, P).

%% @doc The IPv4 (ARP) and IPv6 (NDP) entries of a neighbour dump: not
%% the bridge's forwarding entries (family `bridge', which
%% {@link linx_rtnl:fdb/1} gives), should a dump hold some.
-spec ip_neighs([neigh()]) -> [neigh()].
ip_neighs(Neighs) ->
    [N || #{family := F} = N <- Neighs, F =:= inet orelse F =:= inet6].

%% @doc Decodes the payload of an `RTM_NEWRULE' / `RTM_DELRULE': `src'
%% and `dst' as `{Address, PrefixLen}' (absent: any), the ranges
%% (`uid_range', `sport', `dport') as `{First, Last}'.
-spec decode_rule(binary()) -> {ok, rule()} | {error, linx_nl_codec:malformed()}.
decode_rule(P) -> decode(rule, P).

%% @doc Decodes the payload of an `RTM_NEWNEIGH' / `RTM_DELNEIGH'; a
%% bridge forwarding entry (family `bridge') has its address as `mac'.
-spec decode_neigh(binary()) -> {ok, neigh()} | {error, linx_nl_codec:malformed()}.
decode_neigh(P) -> decode(neigh, P).

%% @doc Decodes the payload of a message about `Kind' (`link', `addr',
%% `route', `neigh', `rule' or `nexthop'; a nexthop group's members as
%% `group', `[{Id, Weight}]').
-spec decode_object(kind(), binary()) -> {ok, map()} | {error, linx_nl_codec:malformed()}.
decode_object(Kind, P) -> decode(Kind, P).

-spec decode(kind(), binary()) -> {ok, map()} | {error, linx_nl_codec:malformed()}.
decode(Object, P) ->
    case linx_nl_struct:decode(header_plan(Object), P) of
        {ok, Head, Attrs} ->
            %% One map at the end: the later of two equal keys wins, as
            %% the later of two equal attributes does (and an attribute
            %% over the header's field of the same name). A map of more
            %% than 32 keys is slow to update key by key: a link's pairs
            %% are finished before it is made.
            case linx_nl_attrs:pairs({?TABLES, Object}, Attrs) of
                {ok, Pairs} -> {ok, finish(Object, maps:from_list(Head ++ pairs(Object, Pairs)))};
                {error, Off} -> {error, {malformed, {Object, {attr, Off}}}}
            end;
        error ->
            {error, {malformed, {Object, short}}}
    end.

%% The plan of an object's header, made once per node (the tables are
%% constants).
header_plan(Object) ->
    case persistent_term:get({?MODULE, plan, Object}, undefined) of
        undefined ->
            Plan = linx_nl_struct:plan(?TABLES:header(Object)),
            persistent_term:put({?MODULE, plan, Object}, Plan),
            Plan;
        Plan ->
            Plan
    end.

%% The fields of an object's header, made once per node.
header_fields(Object) ->
    case persistent_term:get({?MODULE, header, Object}, undefined) of
        undefined ->
            Fields = linx_nl_attrs:decoder(?TABLES:header(Object)),
            persistent_term:put({?MODULE, header, Object}, Fields),
            Fields;
        Fields ->
            Fields
    end.

%% A link's kind data, decoded by the kind's table (the kind is decoded
%% with the linkinfo table, as an atom when linx knows it).
pairs(link, Pairs) ->
    case lists:keyfind(info_data, 1, Pairs) of
        {info_data, Data} ->
            case lists:keyfind(kind, 1, Pairs) of
                {kind, Kind} -> lists:keyreplace(info_data, 1, Pairs, {info_data, kind_data(Kind, Data)});
                false -> Pairs
            end;
        false ->
            Pairs
    end;
pairs(_Object, Pairs) ->
    Pairs.

finish(addr, #{address := _} = M) ->
    M;
finish(addr, #{local := L} = M) ->
    %% Without IFA_ADDRESS, the local address is the address.
    M#{address => L};
finish(route, #{dst_len := Len} = M) ->
    Dst = case M of
              #{dst := D} -> {D, Len};
              _ -> default
          end,
    maps:remove(dst_len, route_parts(M#{dst => Dst}));
finish(rule, #{src_len := SrcLen, dst_len := DstLen} = M) ->
    %% Key by key, each changed only when it is there: a dump of a
    %% thousand rules spent half its decoding here with maps:map/2.
    Ranges = lists:foldl(fun(K, Acc) ->
                                 case Acc of
                                     #{K := [{first, F}, {last, L}]} -> Acc#{K := {F, L}};
                                     #{} -> Acc
                                 end
                         end, maps:without([src_len, dst_len], M), [uid_range, sport, dport]),
    %% The kernel leaves out a priority of 0 (the local table's rule).
    Priority = case Ranges of
                   #{priority := _} -> Ranges;
                   #{} -> Ranges#{priority => 0}
               end,
    prefix(dst, DstLen, prefix(src, SrcLen, Priority));
finish(nexthop, #{res_group := Res} = M) when is_list(Res) ->
    finish(nexthop, M#{res_group := maps:from_list(Res)});
finish(nexthop, #{group := Bin} = M) when is_binary(Bin) ->
    %% struct nexthop_grp each: the id, the weight less one, 3 bytes
    %% reserved; bytes that do not parse stay as they are.
    case byte_size(Bin) rem 8 of
        0 -> M#{group := [{Id, W + 1} || <<Id:32/native, W:8, _:24>> <= Bin]};
        _ -> M
    end;
finish(neigh, #{family := bridge, lladdr := Mac} = M) ->
    %% A bridge forwarding entry: its link-layer address is its `mac'.
    maps:put(mac, Mac, maps:remove(lladdr, M));
finish(_Object, M) ->
    M.

prefix(Key, Len, M) ->
    case M of
        #{Key := IP} -> M#{Key := {IP, Len}};
        #{} -> M
    end.

%% A route's metrics as a map, its expiry in seconds (from clock ticks,
%% 100 a second; none when it has none) and the address of its `via' (a
%% struct rtvia: the family, then the address); bytes that do not parse
%% stay as they are.
route_parts(M) ->
    M0 = case maps:take(cache_expires, M) of
             {Ticks, Rest} when Ticks > 0 -> Rest#{expires => (Ticks + 99) div 100};
             {_, Rest} -> Rest;
             error -> M
         end,
    M1 = case M0 of
             #{metrics := Metrics} when is_list(Metrics) -> M0#{metrics := maps:from_list(Metrics)};
             _ -> M0
         end,
    M2 = case M1 of
             #{multipath := Bin} when is_binary(Bin) ->
                 case nexthops(Bin, []) of
                     {ok, Hops} -> M1#{multipath := Hops};
                     error -> M1
                 end;
             _ ->
                 M1
         end,
    case M2 of
        #{via := V} -> M2#{via := via(V)};
        _ -> M2
    end.

%% RTA_VIA (struct rtvia: a family, then the address) as the address;
%% bytes it cannot read stay as they are.
via(<<_Family:16/native, Bytes/binary>> = Bin) ->
    case linx_nl_values:ip_address(Bytes) of
        {ok, Via} -> Via;
        error -> Bin
    end;
via(Bin) ->
    Bin.

%% The next hops of RTA_MULTIPATH (struct rtnexthop: length, flags,
%% hops (the weight less one), ifindex; then its attributes), as maps of
%% `oif', `weight', `flags' and the attributes (`gateway', `via', ...).
nexthops(<<Len:16/native, Flags:8, Hops:8, Index:32/native-signed, Rest/binary>>, Acc)
  when Len >= 8, Len - 8 =< byte_size(Rest) ->
    AttrLen = Len - 8,
    <<Attrs:AttrLen/binary, After/binary>> = Rest,
    Pad = min(byte_size(After), (4 - Len rem 4) rem 4),
    <<_:Pad/binary, Next/binary>> = After,
    case linx_nl_attrs:decode({?TABLES, route}, Attrs) of
        {ok, A} ->
            Hop0 = maps:remove(unknown, A),
            Hop = case Hop0 of
                      #{via := B} -> Hop0#{via := via(B)};
                      _ -> Hop0
                  end,
            {ok, F} = linx_nl_attrs:value(linx_nl_attrs:decoder({bits, u8, ?TABLES:names(rtm_flags)}), <<Flags>>),
            nexthops(Next, [Hop#{oif => Index, weight => Hops + 1, flags => F} | Acc]);
        {error, _} ->
            error
    end;
nexthops(<<>>, Acc) ->
    {ok, lists:reverse(Acc)};
nexthops(_, _Acc) ->
    error.

%% A kind's own attributes, decoded by its table when it has one.
kind_data(Kind, Data) ->
    case ?TABLES:kind_table(Kind) of
        none ->
            Data;
        Table ->
            case linx_nl_attrs:decode(Table, Data) of
                {ok, Map} -> Map;
                {error, _} -> Data
            end
    end.

%% @doc A link kind as an atom when linx knows the kind (`veth',
%% `bridge', ...), else the kernel's name as a binary (atoms are never
%% made from what the kernel sends).
-spec kind(binary() | atom()) -> atom() | binary().
kind(K) when is_atom(K) ->
    K;
kind(K) ->
    maps:get(K, ?TABLES:kinds(), K).

%%====================================================================
%% Encoding
%%====================================================================

%% @doc The number of a message type: `message_type(link, new)' is
%% `RTM_NEWLINK'.
-spec message_type(kind(), new | del | get) -> non_neg_integer().
message_type(Object, What) ->
    message_type(?TABLES:messages(), Object, What).

message_type([{Type, Object, What} | _], Object, What) -> Type;
message_type([_ | Rest], Object, What) -> message_type(Rest, Object, What).

%% @doc The fixed header of a request about `Object' from a map of its
%% fields (names or numbers; a missing one is 0): for a link `family',
%% `index', `flags' and `change' (numbers); `error' for a field that
%% does not fit.
-spec header(kind(), map()) -> {ok, binary()} | error.
header(link, Fields) ->
    linx_nl_attrs:encode_struct(?TABLES:header(link_request), Fields);
header(Object, Fields) ->
    linx_nl_attrs:encode_struct(?TABLES:header(Object), Fields).

%% @doc The payload start of a link request: family, index, the flags to
%% set and the mask of flags to change.
-spec ifinfomsg(non_neg_integer(), integer(), non_neg_integer(), non_neg_integer()) -> binary().
ifinfomsg(Family, Index, Flags, Change) ->
    {ok, Bin} = header(link, #{family => Family, index => Index, flags => Flags,
                              change => Change}),
    Bin.

%% @doc The attributes of `Object' (or of a table of linx_rtnl_tables, such
%% as `linkinfo' or a kind) from `{Key, Value}' pairs, as
%% {@link linx_nl_attrs:attrs/2} gives them.
-spec attrs(atom(), map() | list()) -> {ok, [linx_nl_codec:attr()]} | {error, term()}.
attrs(Table, Pairs) ->
    linx_nl_attrs:attrs({?TABLES, Table}, Pairs).

%% @doc {@link attrs/2}, encoded.
-spec encode_attrs(atom(), map() | list()) -> {ok, iodata()} | {error, term()}.
encode_attrs(Table, Pairs) ->
    linx_nl_attrs:encode({?TABLES, Table}, Pairs).

%% @doc The number of attribute `Key' of a table.
-spec attr_number(atom(), atom()) -> non_neg_integer().
attr_number(Table, Key) ->
    linx_nl_attrs:number({?TABLES, Table}, Key).

%% @doc A table of names of linx_rtnl_tables.
-spec names(atom()) -> linx_nl_attrs:names().
names(Table) ->
    ?TABLES:names(Table).
