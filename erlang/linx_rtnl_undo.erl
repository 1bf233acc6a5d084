%% @doc How to undo each op of an atomic {@link linx_rtnl:batch/2}: pure,
%% from the dumps taken before the batch.
%%
%% <ul>
%% <li>an add is undone by the matching delete;</li>
%% <li>a `link_set' by setting back the values it changes, as they were
%%   (the link named by its index, which a rename keeps), a
%%   `nexthop_replace' by the nexthop as it was (or its delete);</li>
%% <li>a delete by adding back what it removed as it was dumped: an
%%   address, a route or a neighbour; an fdb entry as it is given (with
%%   its state: a map from fdb/1 has it); for a nexthop, the nexthop, the
%%   groups it was in and the routes that went with it; for a link, the
%%   link with its index,
%%   address, MTU, master and state, a veth's peer, the links it was the
%%   master of, and the addresses, routes and permanent neighbours that
%%   went with them.</li>
%% </ul>
%% An op on a link that an earlier op of the batch made needs no undo of
%% its own (deleting the link undoes it) but a rename, undone by its
%% name. The undo ops name a link that was there before by its index,
%% which a rename keeps. Moving a link to another namespace, making one
%% there, and deleting a veth whose peer is in another one, cannot be
%% undone from here, nor can a rule's add or delete (a delete removes
%% the first rule that matches what it gives), nor an fdb entry's
%% delete without its mac, link and state, nor the replace of an IPv6
%% temporary address: such an op is refused in an atomic batch. An
%% `addr_replace' is undone by replacing the address with what it was
%% (its lifetimes as they were left, its flags), or deleting it when it
%% was not there.
-module(linx_rtnl_undo).

-export([needs/1, plan/2, missing/2]).

-export_type([op/0, before/0]).

-type op() :: linx_rtnl_req:batch_op().
%% An op of a batch: the arguments of the linx_rtnl function of the same
%% name, in a tuple.
-type before() :: #{links => [map()], addrs => [map()], routes => [map()], neighs => [map()],
                    nexthops => [map()]}.

%% A bridge's writable settings and the values a new one has: one is
%% made again with those that differ (a kernel without VLAN filtering
%% refuses even `vlan_filtering => false').
-define(BRIDGE_DEFAULTS, #{forward_delay => 1500, hello_time => 200, max_age => 2000,
                           ageing_time => 30000, stp_state => 0, priority => 32768,
                           vlan_filtering => false, group_fwd_mask => 0,
                           group_addr => <<1, 128, 194, 0, 0, 0>>, mcast_router => 1,
                           mcast_snooping => true, nf_call_iptables => false,
                           nf_call_ip6tables => false, nf_call_arptables => false,
                           mcast_stats_enabled => false, mcast_igmp_version => 2,
                           mcast_mld_version => 1}).

%% @doc The dumps the undo of `Ops' needs.
-spec needs([op()]) -> [links | addrs | routes | neighs | nexthops].
needs(Ops) ->
    lists:usort(lists:flatmap(fun need/1, Ops)).

%% A change or a delete may take more with it than it names (an address
%% removed takes the routes through it and the neighbours of its subnet,
%% a link set down its routes and IPv6 addresses): everything is dumped,
%% to be put back (see missing/2); so is a new port of a bridge, which
%% may change the bridge's address.
need({link_add, #{master := _}}) -> [links, addrs, routes, neighs];
need({Add, _}) when Add =:= link_add; Add =:= route_add; Add =:= neigh_add -> [];
need({Fdb, _}) when Fdb =:= fdb_add; Fdb =:= fdb_del -> [];
need({addr_add, _, _}) -> [];
need({nexthop_add, _}) -> [];
need({nexthop_replace, _}) -> [nexthops];
need({nexthop_del, _}) -> [nexthops, routes];
need({route_replace, _}) -> [routes];
need(_) -> [links, addrs, routes, neighs].

%% @doc The ops that put back what `Before' has and `Now' lacks (both
%% with links, addrs, routes and neighs): the address and MTU of a link
%% (a bridge whose last port left has the address 0, and its MTU follows
%% its ports), addresses but those the kernel makes itself, routes but
%% the kernel's, permanent neighbours.
-spec missing(before(), before()) -> [op()].
missing(Before, Now) ->
    Same = fun(L, NL) -> maps:with([index, ifname, kind], L) =:= maps:with([index, ifname, kind], NL) end,
    Links = [{link_set, I, Fix} || #{index := I} = L <- maps:get(links, Before, []),
                                   NL <- maps:get(links, Now, []), Same(L, NL),
                                   Fix <- [maps:filter(fun(K, V) -> maps:get(K, NL, V) =/= V end,
                                                       maps:with([address, mtu], L))],
                                   Fix =/= #{}],
    Gone = fun(What, Id, Keep) ->
                   Have = maps:from_list([{Id(X), true} || X <- maps:get(What, Now, [])]),
                   [X || X <- maps:get(What, Before, []), Keep(X), not is_map_key(Id(X), Have)]
           end,
    Addrs = Gone(addrs, fun addr_id/1, fun(A) -> not auto_addr(A) end),
    Routes = Gone(routes, fun route_id/1, fun(R) -> maps:get(protocol, R, boot) =/= kernel end),
    Neighs = Gone(neighs, fun neigh_id/1, fun(#{state := S}) -> lists:member(permanent, S);
                                             (_) -> false end),
    Links ++ [{addr_add, I, addr_spec(A)} || #{index := I} = A <- Addrs]
        ++ [{route_add, R} || R <- Routes] ++ [{neigh_add, N} || N <- Neighs].

addr_id(A) ->
    {maps:get(index, A, 0), maps:get(local, A, maps:get(address, A, none)), maps:get(prefixlen, A, 0)}.

route_id(R) ->
    maps:with([family, table, dst, type, oif, gateway, metric, tos, prefsrc], R).

neigh_id(N) ->
    maps:with([family, index, dst], N).

%% @doc The undo of each op, in the order of `Ops' (each a list of ops,
%% to run in order); `{error, {bad_op, Op, not_undoable}}' for an op that
%% cannot be undone.
-spec plan([op()], before()) -> {ok, [[op()]]} | {error, term()}.
plan(Ops, Before) ->
    Links = maps:get(links, Before, []),
    Names = maps:from_list([{N, L} || #{ifname := N} = L <- Links]),
    plan(Ops, Before, Names, []).

plan([Op | Ops], Before, Names, Acc) ->
    case undo(Op, Before, Names) of
        {ok, Undo, Names1} -> plan(Ops, gone(Op, Undo, Before), Names1, [Undo | Acc]);
        not_undoable -> {error, {bad_op, Op, not_undoable}}
    end;
plan([], _Before, _Names, Acc) ->
    {ok, lists:reverse(Acc)}.

%% The links a link_del takes away (and its undo makes again) are not
%% there for the ops after it: the undo of a later delete of their master
%% does not enslave them, their own undo does.
gone({link_del, _}, [{link_add, #{index := I} = Spec} | _], #{links := Links} = B) ->
    Gone = [I | [PI || #{index := PI} <- [maps:get(peer, Spec, #{})]]],
    B#{links := [L || #{index := X} = L <- Links, not lists:member(X, Gone)]};
gone(_Op, _Undo, B) ->
    B.

%% {ok, UndoOps, Names}: `Names' maps a link's name as it is at that
%% point of the batch to the link as it was before (made in the batch:
%% `new').
undo({link_add, #{netns := In}}, _B, _Names) when In =/= self ->
    not_undoable;
undo({link_add, #{ifname := N} = Spec}, _B, Names) ->
    %% Named by its index when it asks for one: a later op may rename it.
    {ok, [{link_del, maps:get(index, Spec, N)}], Names#{text(N) => new}};
undo({link_set, _, #{netns := _}}, _B, _Names) ->
    not_undoable;
undo({link_set, Ref, Changes}, B, Names) ->
    case find_link(Ref, B, Names) of
        #{index := I} = L ->
            Old = maps:from_list([old(K, L) || K <- maps:keys(Changes)]),
            {ok, [{link_set, I, Old}], renamed(Ref, Changes, L, Names)};
        new when is_map_key(ifname, Changes) ->
            %% A link the batch made, renamed: renamed back, so that the
            %% undo ops before this one find it by the name they know.
            {ok, [{link_set, maps:get(ifname, Changes), #{ifname => Ref}}],
             renamed(Ref, Changes, new, Names)};
        _ ->
            {ok, [], renamed(Ref, Changes, new, Names)}
    end;
undo({link_del, Ref}, B, Names) ->
    case find_link(Ref, B, Names) of
        #{} = L -> relink(L, B, Names);
        _ -> {ok, [], Names}
    end;
undo({addr_del, Ref, Addr}, B, Names) ->
    {ok, [{addr_add, I, addr_spec(A)} || #{index := I} <- [find_link(Ref, B, Names)],
                                          A <- maps:get(addrs, B, []),
                                          same_addr(A, I, Addr)], Names};
undo({route_del, Route}, B, Names) ->
    Found = [R || R <- maps:get(routes, B, []), same_route(R, Route, B, Names)],
    {ok, [{route_add, R} || R <- lists:sublist(Found, 1)], Names};
undo({neigh_del, #{index := Ref, dst := Dst}}, B, Names) ->
    {ok, [{neigh_add, N} || #{index := I} <- [find_link(Ref, B, Names)],
                            #{index := NI, dst := ND} = N <- maps:get(neighs, B, []),
                            NI =:= I, ND =:= Dst], Names};
undo({addr_replace, Ref, Addr}, B, Names) ->
    %% The address as it was (its lifetimes, what was left of them, and
    %% flags), or none: deleted. One the kernel made with what a caller
    %% cannot give (an IPv6 temporary address) cannot be put back.
    case find_link(Ref, B, Names) of
        #{index := I} ->
            case [A || A <- maps:get(addrs, B, []), same_addr(A, I, Addr)] of
                [] -> {ok, [{addr_del, I, Addr}], Names};
                [A | _] -> case restorable(A) of
                               true -> {ok, [{addr_replace, I, addr_spec(A)}], Names};
                               false -> not_undoable
                           end
            end;
        _ ->
            {ok, [{addr_del, Ref, Addr}], Names}
    end;
undo({addr_add, Ref, Addr}, B, Names) ->
    {ok, [{addr_del, by_index(Ref, B, Names), Addr}], Names};
undo({route_replace, Route}, B, Names) ->
    %% The route it replaces, put back as it was; without one, it adds.
    case [R || R <- maps:get(routes, B, []), replaced(R, Route)] of
        [R | _] -> {ok, [{route_replace, R}], Names};
        [] -> undo({route_add, Route}, B, Names)
    end;
undo({route_add, #{oif := Ref} = Route}, B, Names) ->
    {ok, [{route_del, Route#{oif := by_index(Ref, B, Names)}}], Names};
undo({route_add, Route}, _B, Names) ->
    {ok, [{route_del, Route}], Names};
undo({neigh_add, #{index := Ref} = Neigh}, B, Names) ->
    {ok, [{neigh_del, Neigh#{index := by_index(Ref, B, Names)}}], Names};
undo({nexthop_add, Spec}, _B, Names) ->
    {ok, [{nexthop_del, Id} || {ok, Id} <- [linx_rtnl_nexthop:id(Spec)]], Names};
undo({nexthop_replace, Spec}, B, Names) ->
    Old = [N || {ok, Id} <- [linx_rtnl_nexthop:id(Spec)], #{id := I} = N <- maps:get(nexthops, B, []),
                I =:= Id],
    {ok, case Old of
             [N] -> [{nexthop_replace, N}];
             [] -> [{nexthop_del, Spec}]
         end, Names};
undo({nexthop_del, Spec}, B, Names) ->
    {ok, renexthop(Spec, B), Names};
undo({fdb_add, Entry}, B, Names) ->
    {ok, [{fdb_del, fdb_by_index(Entry, B, Names)}], Names};
undo({fdb_del, #{state := _} = Entry}, B, Names) when is_map_key(mac, Entry);
                                                      is_map_key(lladdr, Entry) ->
    %% Added back as it is given: it needs its state (a map from fdb/1
    %% has it).
    case linx_rtnl_fdb:link_key(Entry) of
        none -> not_undoable;
        _ -> {ok, [{fdb_add, fdb_by_index(Entry, B, Names)}], Names}
    end;
undo({fdb_del, _}, _B, _Names) ->
    not_undoable;
undo({Rule, _}, _B, _Names) when Rule =:= rule_add; Rule =:= rule_del ->
    %% A rule is deleted by the first that matches what is given, which
    %% need not be the one the batch added, nor one added back.
    not_undoable;
undo(_Op, _B, Names) ->
    {ok, [], Names}.

%% The link a reference names at this point of the batch: a map from the
%% dump, `new' (made in the batch), or `none'.
find_link(Index, B, _Names) when is_integer(Index) ->
    case [L || #{index := I} = L <- maps:get(links, B, []), I =:= Index] of
        [L] -> L;
        [] -> none
    end;
find_link(Name, _B, Names) ->
    case linx_opts:text(Name) of
        {ok, Bin} -> maps:get(Bin, Names, none);
        _ -> none
    end.

%% A link that was there before by its index (the undo ops run after
%% later ops, and the undo of those, may have renamed it); any other by
%% the reference given.
by_index(Ref, B, Names) ->
    case find_link(Ref, B, Names) of
        #{index := I} -> I;
        _ -> Ref
    end.

fdb_by_index(Entry, B, Names) ->
    case linx_rtnl_fdb:link_key(Entry) of
        none -> Entry;
        K -> Entry#{K := by_index(maps:get(K, Entry), B, Names)}
    end.

text(Name) ->
    case linx_opts:text(Name) of
        {ok, Bin} -> Bin;
        _ -> Name
    end.

renamed(Ref, #{ifname := New}, L, Names) ->
    Old = [N || {ok, N} <- [linx_opts:text(Ref)], not is_integer(Ref)],
    (maps:without(Old, Names))#{iolist_to_binary(New) => L};
renamed(_Ref, _Changes, _L, Names) ->
    Names.

%% The value a link_set key had.
old(state, #{flags := F}) ->
    {state, case lists:member(up, F) of true -> up; false -> down end};
old(master, L) ->
    {master, maps:get(master, L, none)};
old(alias, L) ->
    {alias, maps:get(alias, L, <<>>)};
old(K, L) ->
    {K, maps:get(K, L, undefined)}.

%% Adding back a deleted link with what went with it.
relink(#{kind := veth, link_netnsid := _}, _B, _Names) ->
    %% The peer is in another namespace: its index is not one of here.
    not_undoable;
relink(#{kind := veth, link := PeerIndex} = L, B, Names) ->
    case find_link(PeerIndex, B, Names) of
        #{} = Peer -> {ok, relink_ops(L, [Peer], B), Names};
        %% The peer is in another namespace (or none).
        none -> not_undoable
    end;
relink(#{kind := Kind} = L, B, Names) when Kind =:= bridge; Kind =:= dummy; Kind =:= ifb ->
    {ok, relink_ops(L, [], B), Names};
relink(_L, _B, _Names) ->
    not_undoable.

relink_ops(#{index := I} = L, Peers, B) ->
    Spec0 = (base(L))#{kind => maps:get(kind, L)},
    Spec1 = case Peers of
                [P] -> Spec0#{peer => base(P)};
                [] -> Spec0
            end,
    Spec = case L of
               #{kind := bridge, info_data := #{} = D} ->
                   Spec1#{data => maps:filter(fun(K, V) ->
                                                      maps:get(K, ?BRIDGE_DEFAULTS, V) =/= V
                                              end, maps:with(maps:keys(?BRIDGE_DEFAULTS), D))};
               _ -> Spec1
           end,
    Indexes = [I | [PI || #{index := PI} <- Peers]],
    Slaves = [{link_set, SI, #{master => I}} || #{index := SI, master := M} <- maps:get(links, B, []),
                                                M =:= I],
    Ups = [{link_set, X, #{state => up}} || #{index := X, flags := F} <- [L | Peers],
                                           lists:member(up, F)],
    Masters = [{link_set, X, #{master => M}} || #{index := X, master := M} <- [L | Peers]],
    Addrs = [{addr_add, AI, addr_spec(A)} || #{index := AI} = A <- maps:get(addrs, B, []),
                                             lists:member(AI, Indexes), not auto_addr(A)],
    Routes = [{route_add, R} || #{oif := O} = R <- maps:get(routes, B, []),
                                lists:member(O, Indexes), maps:get(protocol, R, boot) =/= kernel],
    Neighs = [{neigh_add, N} || #{index := NI, state := S} = N <- maps:get(neighs, B, []),
                                lists:member(NI, Indexes), lists:member(permanent, S)],
    [{link_add, Spec}] ++ Masters ++ Slaves ++ Ups ++ Addrs ++ Routes ++ Neighs.

%% Adding back a deleted nexthop: the groups it was in (a group of it
%% alone went with it), and the routes through either.
renexthop(Spec, B) ->
    Nexthops = maps:get(nexthops, B, []),
    case [N || {ok, Id} <- [linx_rtnl_nexthop:id(Spec)], #{id := I} = N <- Nexthops, I =:= Id] of
        [#{id := Id} = N] ->
            In = [G || #{group := Members} = G <- Nexthops, lists:keymember(Id, 1, Members)],
            Gone = [Id | [G || #{id := G, group := Members} <- In, [] =:= [M || {M, _} <- Members, M =/= Id]]],
            [{nexthop_add, N}] ++ [{nexthop_replace, G} || G <- In]
                ++ [{route_add, R} || #{nhid := H} = R <- maps:get(routes, B, []), lists:member(H, Gone)];
        [] ->
            []
    end.

%% What a link is made with again.
base(L) ->
    maps:with([ifname, index, mtu, address, txqlen], L).

%% IPv6 link-local addresses the kernel makes by itself.
auto_addr(#{family := inet6, scope := link}) -> true;
auto_addr(_) -> false.

%% An address the kernel made with a flag a caller cannot give: an IPv6
%% temporary (privacy) address, which has the bit of IPv4's `secondary'.
restorable(#{family := inet6, flags := Flags}) ->
    not lists:member(secondary, Flags) andalso not lists:member(stable_privacy, Flags);
restorable(_) ->
    true.

addr_spec(#{prefixlen := Len} = A) ->
    IP = maps:get(local, A, maps:get(address, A, undefined)),
    Settable = linx_rtnl_addr:settable_flags(maps:get(family, A, inet)),
    Spec = #{prefix => {IP, Len},
             flags => [F || F <- maps:get(flags, A, []), lists:member(F, Settable)]},
    %% A point-to-point address has its peer as `address'; a lifetime
    %% goes back as it was dumped (what was left of it).
    Peer = [{peer, P} || #{address := P} <- [A], P =/= IP],
    Lft = case A of
              #{valid_lft := V, preferred_lft := P} when (is_integer(V) andalso V > 0) orelse V =:= forever,
                                                         is_integer(P) orelse P =:= forever ->
                  [{valid_lft, V}, {preferred_lft, P}];
              _ ->
                  []
          end,
    maps:merge(maps:merge(Spec, maps:from_list(Peer ++ Lft)), maps:with([label, broadcast, scope], A)).

same_addr(#{index := I, prefixlen := Len} = A, I, Addr) ->
    IP = maps:get(local, A, maps:get(address, A, undefined)),
    case Addr of
        {IP, Len} -> true;
        #{prefix := {IP, Len}} -> true;
        _ -> false
    end;
same_addr(_A, _I, _Addr) ->
    false.

%% A dumped route (not a cached one) that a route_replace of `Route'
%% replaces: the kernel's key of a route, the same family, destination,
%% table, tos, metric (by default 0 for IPv4, 1024 for IPv6) and, for
%% IPv6, source prefix.
replaced(#{family := F} = R, Route) ->
    Family = route_family(Route),
    Metric = fun(M) -> maps:get(metric, M, case F of inet6 -> 1024; _ -> 0 end) end,
    Key = fun(M) -> {maps:get(dst, M, default), maps:get(table, M, 254), maps:get(tos, M, 0),
                     Metric(M), maps:get(src, M, none), maps:get(src_len, M, 0)} end,
    (Family =:= undefined orelse Family =:= F)
        andalso not lists:member(cloned, maps:get(flags, R, []))
        andalso Key(R) =:= Key(Route);
replaced(_R, _Route) ->
    false.

%% A route's family, as given or as its addresses imply (`undefined'
%% when neither says).
route_family(Route) ->
    IPs = [IP || {ok, IP} <- [case maps:find(dst, Route) of
                                  {ok, {IP, _}} -> {ok, IP};
                                  _ -> error
                              end, maps:find(gateway, Route), maps:find(prefsrc, Route)]],
    case [F || IP <- IPs, {ok, F, _} <- [linx_nl_values:ip_bytes(IP)]] of
        [F | _] -> F;
        [] -> maps:get(family, Route, undefined)
    end.

%% A dumped route that a route_del of `Route' removes: the same
%% destination and table, and the same value for every other key of a
%% route it gives.
same_route(R, Route, B, Names) ->
    Oif = case maps:find(oif, Route) of
              {ok, Ref} ->
                  case find_link(Ref, B, Names) of
                      #{index := I} -> maps:get(oif, R, none) =:= I;
                      _ -> false
                  end;
              error -> true
          end,
    Given = maps:with([gateway, metric, prefsrc, type, protocol, scope, tos], Route),
    Oif andalso maps:get(dst, R, default) =:= maps:get(dst, Route, default)
        andalso maps:get(table, R, 254) =:= maps:get(table, Route, 254)
        andalso lists:all(fun({K, V}) -> maps:get(K, R, undefined) =:= V end,
                          maps:to_list(Given)).
