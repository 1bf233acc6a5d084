%% @doc The bridge forwarding database (fdb) requests of
%% {@link linx_rtnl}, and the dumps and filters of its fdb and neighbour
%% listings: pure, through the neighbour table of {@link linx_rtnl_tables}.
%%
%% An fdb entry is a neighbour of family `bridge' (`AF_BRIDGE'): `mac'
%% (or `lladdr'; 6 bytes or text), its link (`index', or `dev'; a name or
%% an index), `vlan', `state' (`permanent' (the default), `static',
%% `dynamic', or a list of `NUD_*' names as a dump gives it), the table
%% it goes to (`master => true': the bridge's, `NTF_MASTER'; `self =>
%% true': the link's own, `NTF_SELF'; the default, as `bridge fdb add');
%% `extern_learn' and `sticky' (booleans), `flags' (a list of `self',
%% `master', `extern_learn' and `sticky'), and for a vxlan link `dst'
%% (the remote address), `port' (its UDP port), `vni', `src_vni' and
%% `via' (the link to reach it through). A
%% map from a dump also has `master' as the bridge's index (NDA_MASTER),
%% which means `NTF_MASTER' unless its `flags' have `self'; its `type',
%% `protocol' and `unknown' are not sent. A bad value is `{bad_fdb,
%% {Key, Value}}'.
%%
%% The kernel filters an fdb or neighbour dump only when the socket asks
%% for strict checks, which linx's do not: the filters of
%% {@link linx_rtnl:fdb/2} and {@link linx_rtnl:neighs/2} are sent as
%% `bridge' and `ip' send them, and applied here to what comes back.
-module(linx_rtnl_fdb).

-include("linx_nl.hrl").

-export([request/3, link_key/1, fdb_filter/2, fdb_dump/1, fdb_select/3]).
-export([neigh_filter/2, neigh_dump/1, neigh_select/2]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
%% The keys of an entry; those after `via' come from a dump and are not
%% sent.
-define(KEYS, [family, mac, lladdr, index, dev, vlan, master, self, state, flags, extern_learn,
               sticky, dst, port, vni, src_vni, via, type, protocol, unknown]).
-define(FLAGS, [self, master, extern_learn, sticky]).
%% The states by name, as `bridge fdb add' sends them (`NUD_NOARP' with
%% `NUD_PERMANENT' or `NUD_REACHABLE'; a vxlan link wants one of those two).
-define(STATES, #{permanent => [noarp, permanent], static => [noarp, reachable],
                  dynamic => [reachable]}).
-define(VLAN_MAX, 4094).

%%====================================================================
%% Entries
%%====================================================================

%% @doc The request adding (`new') or deleting (`del') an fdb entry; a
%% link named by its name is turned into an index by `Resolve'.
-spec request(new | del, term(), linx_rtnl_req:resolve()) ->
          {ok, linx_nl_codec:msg_in()} | {error, term()}.
request(What, Entry, Resolve) when is_map(Entry) ->
    ?ARGS:checked(fun() ->
                          {ok, #{type => ?MSG:message_type(neigh, What), flags => add_flags(What),
                                 payload => payload(Entry, Resolve)}}
                  end);
request(_What, Entry, _Resolve) ->
    {error, {bad_fdb, Entry}}.

%% @doc The key of an entry's link (`index' or `dev'), `none' without one.
-spec link_key(term()) -> index | dev | none.
link_key(#{index := _}) -> index;
link_key(#{dev := _}) -> dev;
link_key(_) -> none.

payload(Entry, Resolve) ->
    [throw({bad_fdb, KV}) || {K, _} = KV <- maps:to_list(Entry), not lists:member(K, ?KEYS)],
    case maps:get(family, Entry, bridge) of
        bridge -> ok;
        7 -> ok;
        F -> throw({bad_fdb, {family, F}})
    end,
    Mac = mac(Entry),
    Index = case link_key(Entry) of
                none -> throw({bad_fdb, {index, missing}});
                Key -> element(2, ?ARGS:ok_or_throw(Resolve(maps:get(Key, Entry))))
            end,
    Vlan = [{vlan, V} || {ok, V} <- [maps:find(vlan, Entry)], vlan(V)],
    Via = [{via, element(2, ?ARGS:ok_or_throw(Resolve(V)))} || {ok, V} <- [maps:find(via, Entry)]],
    {ok, Hdr} = ?MSG:header(neigh, #{family => bridge, index => Index, state => state(Entry),
                                     flags => flags(Entry)}),
    %% In the order `bridge fdb add' sends them.
    Pairs = [{lladdr, Mac} | [{dst, maps:get(dst, Entry)} || is_map_key(dst, Entry)]] ++ Vlan
        ++ [{K, maps:get(K, Entry)} || K <- [port, vni, src_vni], is_map_key(K, Entry)] ++ Via,
    case ?MSG:encode_attrs(neigh, Pairs) of
        {ok, Attrs} -> [Hdr, Attrs];
        {error, {bad_value, K, V}} -> throw({bad_fdb, {K, V}})
    end.

mac(Entry) ->
    {Key, Mac} = case Entry of
                     #{mac := _, lladdr := L} -> throw({bad_fdb, {lladdr, L}});
                     #{mac := M} -> {mac, M};
                     #{lladdr := M} -> {lladdr, M};
                     #{} -> throw({bad_fdb, {mac, missing}})
                 end,
    case linx_nl_values:mac(Mac) of
        {ok, Bin} -> Bin;
        error -> throw({bad_fdb, {Key, Mac}})
    end.

vlan(V) when is_integer(V), V >= 0, V =< ?VLAN_MAX -> true;
vlan(V) -> throw({bad_fdb, {vlan, V}}).

state(Entry) ->
    case maps:get(state, Entry, permanent) of
        S when is_map_key(S, ?STATES) -> map_get(S, ?STATES);
        S -> ?ARGS:mask(S, nud, {bad_fdb, {state, S}})
    end.

%% NTF_SELF and NTF_MASTER (self when neither is asked for), and the
%% other flags.
flags(Entry) ->
    Listed = case maps:get(flags, Entry, []) of
                 L when is_list(L) -> L;
                 L -> throw({bad_fdb, {flags, L}})
             end,
    [throw({bad_fdb, {flags, Listed}}) || F <- Listed, not lists:member(F, ?FLAGS)],
    Bools = [K || K <- [self, extern_learn, sticky], bool(K, Entry)],
    Master = case maps:get(master, Entry, false) of
                 true -> [master];
                 false -> [];
                 %% A dumped entry's bridge.
                 I when is_integer(I), I > 0 -> [master || not lists:member(self, Listed)];
                 M -> throw({bad_fdb, {master, M}})
             end,
    Flags = lists:usort(Listed ++ Bools ++ Master),
    case lists:member(self, Flags) orelse lists:member(master, Flags) of
        true -> Flags;
        false -> [self | Flags]
    end.

bool(K, Entry) ->
    case maps:get(K, Entry, false) of
        B when is_boolean(B) -> B;
        B -> throw({bad_fdb, {K, B}})
    end.

add_flags(new) -> ?NLM_F_CREATE bor ?NLM_F_EXCL;
add_flags(del) -> 0.

%%====================================================================
%% The fdb's dump
%%====================================================================

%% @doc The filter of an fdb dump, checked: `master' (a bridge) and
%% `index' (or `dev': a link), as indexes; anything else is `{bad_fdb,
%% {Key, Value}}'.
-spec fdb_filter(term(), linx_rtnl_req:resolve()) -> {ok, map()} | {error, term()}.
fdb_filter(Filter, Resolve) ->
    links(Filter, [master, index, dev], Resolve, bad_fdb).

%% @doc The dump request of the fdb entries of a filter: `NDA_MASTER'
%% for a bridge and the header's index for a link, as `bridge fdb show br
%% B dev D' sends them.
-spec fdb_dump(map()) -> linx_nl_codec:msg_in().
fdb_dump(Filter) ->
    {ok, Hdr} = ?MSG:header(neigh, #{family => bridge, index => maps:get(index, Filter, 0)}),
    {ok, Attrs} = ?MSG:encode_attrs(neigh, [{master, B} || {ok, B} <- [maps:find(master, Filter)]]),
    #{type => ?MSG:message_type(neigh, get), flags => ?NLM_F_DUMP, payload => [Hdr, Attrs]}.

%% @doc The fdb entries of a dump that a filter keeps: those of its link,
%% and those of its bridge and the bridge's ports (`Ports', the indexes of
%% the links whose master it is), as the kernel keeps them.
-spec fdb_select(map(), [map()], [integer()]) -> [map()].
fdb_select(Filter, Entries, Ports) ->
    [E || #{family := bridge, index := I} = E <- Entries,
          maps:get(index, Filter, I) =:= I,
          case Filter of
              #{master := B} -> I =:= B orelse maps:get(master, E, 0) =:= B orelse lists:member(I, Ports);
              #{} -> true
          end].

%%====================================================================
%% Neighbour dumps
%%====================================================================

%% @doc The filter of a neighbour dump, checked: `proxy' (a boolean),
%% `family' (`inet' or `inet6') and `index' (or `dev': a link, as its
%% index); anything else is `{bad_neigh, {Key, Value}}'.
-spec neigh_filter(term(), linx_rtnl_req:resolve()) -> {ok, map()} | {error, term()}.
neigh_filter(Filter, Resolve) ->
    case linx_opts:to_map(Filter) of
        {ok, Map} ->
            Rest = maps:without([proxy, family], Map),
            ?ARGS:checked(fun() ->
                                  Proxy = [{proxy, P} || {ok, P} <- [maps:find(proxy, Map)], bool(P)],
                                  Family = [{family, family(F)} || {ok, F} <- [maps:find(family, Map)]],
                                  {ok, Links} = ?ARGS:ok_or_throw(links(Rest, [index, dev], Resolve, bad_neigh)),
                                  {ok, maps:merge(Links, maps:from_list(Proxy ++ Family))}
                          end);
        error ->
            {error, {bad_neigh, Filter}}
    end.

bool(P) when is_boolean(P) -> true;
bool(P) -> throw({bad_neigh, {proxy, P}}).

family(F) ->
    case ?ARGS:family(F, {bad_neigh, {family, F}}) of
        Fam when Fam =:= inet; Fam =:= inet6 -> Fam;
        _ -> throw({bad_neigh, {family, F}})
    end.

%% @doc The dump request of a neighbour filter: its family, and
%% `NTF_PROXY' for the proxy entries, as `ip neigh show proxy' sends it.
-spec neigh_dump(map()) -> linx_nl_codec:msg_in().
neigh_dump(Filter) ->
    Flags = [proxy || maps:get(proxy, Filter, false)],
    {ok, Hdr} = ?MSG:header(neigh, #{family => maps:get(family, Filter, unspec), flags => Flags}),
    #{type => ?MSG:message_type(neigh, get), flags => ?NLM_F_DUMP, payload => Hdr}.

%% @doc The IPv4 and IPv6 entries of a dump that a filter keeps (proxy
%% entries only with `proxy => true', none without).
-spec neigh_select(map(), [map()]) -> [map()].
neigh_select(Filter, Neighs) ->
    Proxy = maps:get(proxy, Filter, false),
    [N || #{family := F, index := I} = N <- linx_rtnl_msg:ip_neighs(Neighs),
          maps:get(family, Filter, F) =:= F, maps:get(index, Filter, I) =:= I,
          lists:member(proxy, maps:get(flags, N, [])) =:= Proxy].

%%====================================================================
%% Internal functions
%%====================================================================

%% The links of a filter as indexes (`dev' is `index'); a key not in
%% `Keys' is `{Bad, {Key, Value}}'.
links(Filter, Keys, Resolve, Bad) ->
    case linx_opts:to_map(Filter) of
        {ok, Map} ->
            ?ARGS:checked(fun() -> {ok, maps:fold(fun(K, Ref, Acc) -> link(K, Ref, Acc, Keys, Resolve, Bad) end,
                                                  #{}, Map)}
                          end);
        error ->
            {error, {Bad, Filter}}
    end.

link(K, Ref, Acc, Keys, Resolve, Bad) ->
    case lists:member(K, Keys) of
        true ->
            {ok, I} = ?ARGS:ok_or_throw(Resolve(Ref)),
            Acc#{case K of dev -> index; _ -> K end => I};
        false ->
            throw({Bad, {K, Ref}})
    end.
