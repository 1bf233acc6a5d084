%% @doc PropEr round trips of whole requests, run by EUnit: for each
%% rtnetlink object (links, addresses, routes, neighbours, rules) and
%% each link kind with a table, a map of generated valid values (what a
%% caller gives linx_rtnl) is turned into a request by linx_rtnl_req,
%% its payload decoded by linx_rtnl_msg, and the keys it named come back
%% with the values the model expects. linx_tables_prop_tests checks each
%% table alone; this checks the requests built on them.
%%
%% The link kinds are read from linx_rtnl_tables (every kind whose
%% `kind_table/1' is not `none'): a kind without a line in
%% `kind_values/1' below fails `every_kind_has_a_generator_test'.
%% An object is one line of `objects/0': its generator, its request and
%% the model of what decoding gives back.
-module(linx_objects_prop_tests).

-include("linx_proper.hrl").

%% The generators and model helpers linx_more_objects_prop_tests shares.
-export([some/1, subset/1, vector_of/3, u32/0, ip/1, link_ref/0, resolve/1, ref_index/1,
         names/1, named/2, ordered/2]).

-import(proper_types, [integer/2, list/1, oneof/1, frequency/1, elements/1, boolean/0,
                       byte/0, vector/2, binary/1]).

-define(TABLES, linx_rtnl_tables).
-define(NUMTESTS, 300).
-define(TP, linx_tables_prop_tests).
-define(MORE, linx_more_objects_prop_tests).
%% The links the generated values name, and their indexes.
-define(LINKS, #{<<"p0">> => 3, <<"p1">> => 7, <<"peer.9">> => 16#7ffffff0}).

%%====================================================================
%% What is covered
%%====================================================================

%% Each object: `{Name, Generator, Request, Expected}', the request a
%% generated value makes (`{ok, Msg}' or `{ok, Msg, Slots}') and the keys
%% and values decoding its payload gives back.
objects() ->
    [{link, fun a_link/0, fun link_request/1, fun link_expected/1},
     {addr, fun addr/0, fun addr_request/1, fun addr_expected/1},
     {route, fun route/0, fun route_request/1, fun route_expected/1},
     {neigh, fun neigh/0, fun neigh_request/1, fun neigh_expected/1},
     {rule, fun rule/0, fun rule_request/1, fun rule_expected/1},
     %% Those of linx_more_objects_prop_tests, in the same form.
     {nexthop, fun ?MORE:nexthop/0, fun ?MORE:nexthop_request/1, fun ?MORE:nexthop_expected/1},
     {neigh, fun ?MORE:fdb/0, fun ?MORE:fdb_request/1, fun ?MORE:fdb_expected/1}
     %% Objects of their own messages join here, one line each.
    ].

%% The link kinds with a table of their own, as linx_rtnl_tables has them.
table_kinds() ->
    lists:usort([K || K <- maps:values(?TABLES:kinds()), ?TABLES:kind_table(K) =/= none]).

%% Values a kind's data takes beyond what its table's codecs take (a
%% key not named takes any value of its codec; `[]' for none): one line
%% per kind.
kind_values(veth) -> peer;
kind_values(bridge) -> [{priority, integer(0, 16#ffff)}];
kind_values(vlan) -> [{id, integer(1, 4094)}];
kind_values(macvlan) -> [];
kind_values(macvtap) -> [];
kind_values(ipvlan) -> [];
kind_values(ipvtap) -> [];
kind_values(vxlan) -> [{id, integer(0, 16#ffffff)}];
kind_values(geneve) -> [{id, integer(0, 16#ffffff)}];
kind_values(bond) -> [{miimon, integer(0, 16#7fffffff)}];
kind_values(vrf) -> [{table, integer(1, 16#ffffffff)}];
kind_values(gre) -> [];
kind_values(gretap) -> [];
kind_values(ip6gre) -> [];
kind_values(ip6gretap) -> [];
kind_values(ipip) -> [];
kind_values(sit) -> [];
kind_values(ip6tnl) -> [];
kind_values(_) -> none.

every_kind_has_a_generator_test() ->
    ?assertEqual([], [K || K <- table_kinds(), kind_values(K) =:= none]).

every_message_has_an_object_test() ->
    Objects = [Name || {Name, _, _, _} <- objects()],
    ?assertEqual([], lists:usort([O || {_, O, _} <- ?TABLES:messages()]) -- Objects).

%%====================================================================
%% Properties
%%====================================================================

objects_test_() ->
    [{label(Name, Gen), {timeout, 120, fun() -> ?RUN(prop_object(Obj), ?NUMTESTS) end}}
     || {Name, Gen, _, _} = Obj <- objects()].

%% An object by its name, or by its generator's when that is another
%% module's (fdb entries are neighbours).
label(Name, Gen) ->
    case erlang:fun_info(Gen, type) of
        {type, external} -> atom_to_list(element(2, erlang:fun_info(Gen, name)));
        {type, local} -> atom_to_list(Name)
    end.

kinds_test_() ->
    [{atom_to_list(K), {timeout, 120, fun() -> ?RUN(prop_object(kind_object(K)), ?NUMTESTS) end}}
     || K <- table_kinds()].

prop_object({Name, Gen, Request, Expected}) ->
    ?FORALL(Value, Gen(),
            begin
                Msg = case Request(Value) of
                          {ok, M} -> M;
                          {ok, M, _Slots} -> M
                      end,
                Want = Expected(Value),
                Payload = iolist_to_binary(maps:get(payload, Msg)),
                {ok, {Name, _, Got}} = linx_rtnl_msg:decode(Msg#{payload := Payload}),
                case named_keys(Want, Got) of
                    true -> true;
                    false ->
                        io:format(user, "~p: ~p~ngave ~p~nnot ~p~n", [Name, Value, Got, Want]),
                        false
                end
            end).

%% The keys `Want' names have its values in `Got' (a map within one: the
%% keys it names); a veth's peer, a link message of its own, decoded.
named_keys(Want, Got) when is_map(Want), is_map(Got) ->
    lists:all(fun({K, V}) -> is_map_key(K, Got) andalso named_keys(V, value_of(K, maps:get(K, Got))) end,
              maps:to_list(Want));
named_keys(Want, Got) ->
    Want =:= Got.

value_of(peer, Bin) when is_binary(Bin) ->
    {ok, Peer} = linx_rtnl_msg:decode_link(Bin),
    Peer;
value_of(_K, V) ->
    V.

%% A link of kind `K' with generated data, as an object.
kind_object(K) ->
    {link, fun() -> a_link(K) end, fun link_request/1, fun link_expected/1}.

%%====================================================================
%% Links
%%====================================================================

a_link() ->
    ?LAZY(?BIND(K, elements(table_kinds() ++ [ifb, <<"linx_other">>]), a_link(K))).

a_link(Kind) ->
    ?BIND({Name, Own, Data}, {ifname(), some(link_keys()), kind_data(Kind)},
          maps:merge(Own#{ifname => Name, kind => Kind}, Data)).

link_keys() ->
    [{index, integer(1, 16#7fffffff)}, {link, link_ref()} | settings()].

%% What link_add and a veth's peer take besides its name.
settings() ->
    [{mtu, integer(1, 16#ffffffff)}, {txqlen, u32()}, {address, ?TP:value(mac)},
     {broadcast, ?TP:value(mac)}, {group, u32()}, {alias, text(1, 255)},
     {master, oneof([link_ref(), none])}, {state, elements([up, down])},
     {netns, ?BIND(P, integer(1, 16#7fffffff), {pid, P})}].

kind_data(veth) ->
    %% A peer has no master (the kernel would not know which namespace's).
    ?BIND({Name, Own}, {ifname(), some([{index, integer(1, 16#7fffffff)}
                                        | [S || {K, _} = S <- settings(), K =/= master]])},
          #{peer => Own#{ifname => Name}});
kind_data(Kind) when is_atom(Kind) ->
    case kind_values(Kind) of
        none ->
            #{};
        Values ->
            {?TABLES, T} = ?TABLES:kind_table(Kind),
            Entries = [{Key, value(Key, Codec, Values)}
                       || {_N, Key, Codec} <- ?TP:plain(linx_nl_attrs:entries({?TABLES, T})), Codec =/= skip],
            ?BIND(Data, some(Entries), #{data => Data})
    end;
kind_data(_Other) ->
    #{}.

value(Key, Codec, Values) ->
    case {lists:keyfind(Key, 1, Values), lists:member(Key, linx_rtnl_req:data_link_keys())} of
        {{Key, Gen}, _} -> Gen;
        {false, true} -> oneof([link_ref(), 0]);
        {false, false} -> ?TP:value(Codec)
    end.

link_request(Spec) ->
    linx_rtnl_req:link_add(Spec, fun resolve/1).

link_expected(#{kind := Kind} = Spec) ->
    Own = (link_own(Spec))#{kind => linx_rtnl_msg:kind(atom_or_bin(Kind))},
    case Spec of
        #{data := Data} ->
            Resolved = maps:map(fun(K, V) -> data_link(K, V) end, Data),
            Own#{info_data => maps:from_list(?TP:expect_pairs(?TABLES:kind_table(Kind), Resolved))};
        #{peer := Peer} ->
            Own#{info_data => #{peer => link_own(Peer)}};
        #{} ->
            Own
    end.

%% A link's own keys (a veth peer's too), as decoding gives them.
link_own(#{ifname := Name} = Spec) ->
    Flags = case Spec of
                #{state := up} -> [up];
                #{} -> []
            end,
    Base = #{ifname => text(Name), index => maps:get(index, Spec, 0), flags => Flags},
    maps:fold(fun own/3, Base, maps:without([ifname, kind, index, state, data, peer], Spec)).

own(netns, {pid, P}, Acc) -> Acc#{net_ns_pid => P};
own(K, V, Acc) when K =:= master; K =:= link -> Acc#{K => ref_index(V)};
own(K, V, Acc) when K =:= address; K =:= broadcast -> Acc#{K => ?TP:expect_value(mac, V)};
own(alias, V, Acc) -> Acc#{alias => text(V)};
own(K, V, Acc) -> Acc#{K => V}.

data_link(K, V) ->
    case lists:member(K, linx_rtnl_req:data_link_keys()) of
        true -> ref_index(V);
        false -> V
    end.

%%====================================================================
%% Addresses
%%====================================================================

addr() ->
    ?BIND(F, elements([inet, inet6]),
          ?BIND({What, Link, IP, Len, Own, Lft},
                {elements([new, replace, del]), link_ref(), ip(F), prefixlen(F), some(addr_keys(F)),
                 lifetimes()},
                {What, Link, maps:merge(Own#{prefix => {IP, Len}}, Lft)})).

addr_keys(F) ->
    [{scope, oneof([elements(names(scope)), byte()])},
     {flags, subset(linx_rtnl_addr:settable_flags(F))}, {peer, ip(F)}]
        ++ [{K, G} || F =:= inet, {K, G} <- [{label, text(1, 15)}, {broadcast, ip(inet)}]].

lifetimes() ->
    Lft = oneof([integer(1, 16#fffffffe), forever]),
    oneof([#{}, ?BIND(V, Lft, #{valid_lft => V}), ?BIND(P, Lft, #{preferred_lft => P}),
           ?BIND({A, B}, {Lft, Lft}, #{valid_lft => max_lft(A, B), preferred_lft => min_lft(A, B)})]).

addr_request({What, Link, Spec}) ->
    {ok, Index} = resolve(Link),
    {ok, Msg} = linx_rtnl_req:addr(What, Index, Spec),
    Want = #{new => 16#600, replace => 16#500, del => 0},
    maps:get(What, Want) =:= maps:get(flags, Msg, 0) orelse error({flags, What, Msg}),
    {ok, Msg}.

addr_expected({_What, Link, #{prefix := {IP, Len}} = Spec}) ->
    Family = family(IP),
    Base = #{family => Family, prefixlen => Len, index => ref_index(Link), local => IP,
             address => maps:get(peer, Spec, IP),
             flags => ordered(maps:get(flags, Spec, []), ifa_flags)},
    Lft = case Spec of
              #{valid_lft := V, preferred_lft := P} -> #{valid_lft => lft(V), preferred_lft => lft(P)};
              #{valid_lft := V} -> #{valid_lft => lft(V), preferred_lft => lft(V)};
              #{preferred_lft := P} -> #{valid_lft => forever, preferred_lft => lft(P)};
              #{} -> #{}
          end,
    Own = maps:map(fun(scope, S) -> named(S, scope);
                      (label, L) -> text(L);
                      (_, V) -> V
                   end, maps:with([scope, label, broadcast], Spec)),
    maps:merge(maps:merge(Base, Lft), Own).

%%====================================================================
%% Routes
%%====================================================================

route() ->
    ?BIND(F, elements([inet, inet6]),
          ?BIND({Dst, Hop, Own}, {oneof([default, ?BIND({IP, L}, {ip(F), prefixlen(F)}, {IP, L})]),
                                  route_hop(F), some(route_keys(F))},
                maps:merge(maps:merge(Own, Hop), #{family => F, dst => Dst}))).

%% How a route goes: a gateway (and a link), a link, a `via', a nexthop
%% object, or several next hops.
route_hop(F) ->
    oneof([some([{gateway, ip(F)}, {oif, link_ref()}]), ?BIND(V, ip(other(F)), #{via => V}),
           ?BIND(N, u32(), #{nhid => N}),
           ?BIND(Hops, ?LAZY(vector_of(1, 4, route_nexthop(F))), #{multipath => Hops})]).

route_nexthop(F) ->
    ?BIND({Own, Gw}, {some([{oif, link_ref()}, {weight, integer(1, 256)}, {flags, subset([onlink])}]),
                      oneof([#{}, ?BIND(G, ip(F), #{gateway => G}), ?BIND(V, ip(other(F)), #{via => V})])},
          maps:merge(Own, Gw)).

route_keys(F) ->
    [{table, u32()}, {metric, u32()}, {prefsrc, ip(F)}, {src, ip(F)}, {tos, byte()},
     {protocol, oneof([elements(names(rt_proto)), byte()])},
     {scope, oneof([elements(names(scope)), byte()])}, {type, elements(names(rt_type))},
     {flags, subset([onlink])}, {pref, elements(names(route_pref))}, {expires, u32()},
     {flow, u32()},
     {metrics, ?BIND(M, ?TP:table_input({?TABLES, route_metrics}), maps:filter(fun(K, _) -> is_atom(K) end, M))}].

route_request(Route) ->
    linx_rtnl_req:route(new, Route, fun resolve/1).

route_expected(#{family := F} = Route) ->
    Given = maps:map(fun route_value/2, maps:without([family, multipath], Route)),
    Hops = [#{multipath => [hop_expected(H) || H <- Hops]} || #{multipath := Hops} <- [Route]],
    SrcLen = [#{src_len => if F =:= inet -> 32; true -> 128 end} || is_map_key(src, Route)],
    %% Without a table, the local table for the types `ip route add' puts
    %% there, else main.
    Table = case maps:get(type, Route, unicast) of
                T when T =:= local; T =:= broadcast; T =:= anycast; T =:= nat -> 255;
                _ -> 254
            end,
    lists:foldl(fun maps:merge/2, Given#{family => F, table => maps:get(table, Route, Table)},
                Hops ++ SrcLen).

route_value(oif, V) -> ref_index(V);
route_value(protocol, V) -> named(V, rt_proto);
route_value(scope, V) -> named(V, scope);
route_value(flags, V) -> ordered(V, rtm_flags);
route_value(metrics, M) -> maps:from_list(?TP:expect_pairs({?TABLES, route_metrics}, M));
route_value(_K, V) -> V.

hop_expected(Hop) ->
    maps:merge(maps:with([gateway, via], Hop),
               #{oif => ref_index(maps:get(oif, Hop, 0)), weight => maps:get(weight, Hop, 1),
                 flags => maps:get(flags, Hop, [])}).

%%====================================================================
%% Neighbours
%%====================================================================

neigh() ->
    ?BIND(F, elements([inet, inet6]),
          ?BIND({Link, Dst, Own}, {link_ref(), ip(F), some([{lladdr, ?TP:value(mac)},
                                                            {state, subset(names(nud))},
                                                            {flags, subset([router])}])},
                Own#{index => Link, dst => Dst})).

neigh_request(Neigh) ->
    linx_rtnl_req:neigh(new, Neigh, fun resolve/1).

neigh_expected(#{index := Link, dst := Dst} = Neigh) ->
    Own = maps:map(fun(lladdr, M) -> ?TP:expect_value(mac, M);
                      (_, V) -> V
                   end, maps:with([lladdr, flags], Neigh)),
    Own#{family => family(Dst), index => ref_index(Link), dst => Dst,
         state => ordered(maps:get(state, Neigh, [permanent]), nud)}.

%%====================================================================
%% Rules
%%====================================================================

rule() ->
    ?BIND(F, elements([inet, inet6]),
          ?BIND(Own, some(rule_keys(F)), Own#{family => F})).

rule_keys(F) ->
    Prefix = ?BIND({IP, L}, {ip(F), prefixlen(F)}, {IP, L}),
    Range = fun(Max) -> oneof([integer(0, Max), ?BIND({A, B}, {integer(0, Max), integer(0, Max)},
                                                      {min(A, B), max(A, B)})])
            end,
    [{priority, u32()}, {src, Prefix}, {dst, Prefix}, {iif, ifname()}, {oif, ifname()},
     {fwmark, u32()}, {fwmask, u32()}, {tos, byte()}, {table, u32()},
     {action, elements(names(fr_act))}, {goto, u32()}, {l3mdev, boolean()},
     {uid_range, Range(16#ffffffff)}, {sport, Range(16#ffff)}, {dport, Range(16#ffff)},
     {ip_proto, oneof([elements(names(ip_proto)), byte()])},
     {protocol, oneof([elements(names(rt_proto)), byte()])}, {flags, subset([invert])},
     {suppress_prefixlen, u32()}, {suppress_ifgroup, u32()}, {flow, u32()}].

rule_request(Rule) ->
    linx_rtnl_req:rule(new, Rule).

rule_expected(Rule) ->
    Action = maps:get(action, Rule, case is_map_key(goto, Rule) of
                                        true -> goto;
                                        false -> lookup
                                    end),
    Table = case {Action, Rule} of
                {_, #{table := T}} -> #{table => T};
                {lookup, _} -> #{table => 254};
                _ -> #{}
            end,
    Given = maps:map(fun(K, V) when K =:= iif; K =:= oif -> text(V);
                        (K, V) when is_integer(V), (K =:= uid_range orelse K =:= sport orelse K =:= dport) -> {V, V};
                        (ip_proto, V) -> named(V, ip_proto);
                        (protocol, V) -> named(V, rt_proto);
                        (flags, V) -> ordered(V, fib_rule_flags);
                        (_, V) -> V
                     end, Rule),
    maps:merge(Given#{action => Action, priority => maps:get(priority, Rule, 0)}, Table).

%%====================================================================
%% Generators and the model's helpers
%%====================================================================

%% Some of `[{Key, Generator}]', as a map.
some(Pairs) ->
    ?BIND(Chosen, [frequency([{1, none}, {1, {some, {K, G}}}]) || {K, G} <- Pairs],
          maps:from_list([P || {some, P} <- Chosen])).

subset(Names) ->
    ?BIND(Bits, vector(length(Names), boolean()),
          [N || {N, true} <- lists:zip(Names, Bits)]).

vector_of(Min, Max, Gen) ->
    ?BIND(N, integer(Min, Max), vector(N, Gen)).

u32() -> integer(0, 16#ffffffff).

ip(inet) -> {byte(), byte(), byte(), byte()};
ip(inet6) -> ?BIND(L, vector(8, integer(0, 16#ffff)), list_to_tuple(L)).

other(inet) -> inet6;
other(inet6) -> inet.

prefixlen(inet) -> integer(0, 32);
prefixlen(inet6) -> integer(0, 128).

%% An interface name the kernel takes (1 to 15 bytes, none of `/', `:',
%% NUL or white space; not `.' or `..'), as a binary or a string.
ifname() ->
    ?BIND({Bytes, AsList}, {vector_of(1, 15, elements("abcxyz019_-.@")), boolean()},
          case Bytes of
              "." -> "lo";
              ".." -> "lo";
              _ when AsList -> Bytes;
              _ -> list_to_binary(Bytes)
          end).

%% Text of `Min' to `Max' bytes without NUL.
text(Min, Max) ->
    ?BIND(Bytes, vector_of(Min, Max, integer(1, 255)), list_to_binary(Bytes)).

%% A link by the name of one of ?LINKS or by an index.
link_ref() ->
    oneof([elements(maps:keys(?LINKS) ++ ["p1"]), integer(1, 16#7fffffff)]).

resolve(Ref) when is_integer(Ref) -> {ok, Ref};
resolve(Ref) -> {ok, maps:get(text(Ref), ?LINKS)}.

ref_index(0) -> 0;
ref_index(none) -> 0;
ref_index(Ref) -> {ok, I} = resolve(Ref), I.

text(T) when is_list(T) -> list_to_binary(T);
text(T) -> T.

atom_or_bin(K) when is_atom(K) -> atom_to_binary(K);
atom_or_bin(K) -> K.

names(Table) ->
    [N || {N, _} <- ?TABLES:names(Table)].

%% A name or number as decoding gives it back: the name, when the
%% table has one.
named(V, _Table) when is_atom(V) -> V;
named(V, Table) ->
    case lists:keyfind(V, 2, ?TABLES:names(Table)) of
        {Name, V} -> Name;
        false -> V
    end.

%% Flags as decoding lists them: in the table's order.
ordered(Names, Table) ->
    [N || {N, _} <- ?TABLES:names(Table), lists:member(N, Names)].

family(IP) when tuple_size(IP) =:= 4 -> inet;
family(_) -> inet6.

lft(forever) -> forever;
lft(16#ffffffff) -> forever;
lft(N) -> N.

max_lft(forever, _) -> forever;
max_lft(_, forever) -> forever;
max_lft(A, B) -> max(A, B).

min_lft(forever, B) -> B;
min_lft(A, forever) -> A;
min_lft(A, B) -> min(A, B).
