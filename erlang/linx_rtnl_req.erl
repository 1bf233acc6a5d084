%% @doc rtnetlink requests built from {@link linx_rtnl}'s arguments: each
%% argument checked (the checks that throw are {@link linx_rtnl_args}'),
%% then encoded through the tables of {@link linx_rtnl_tables}. No I/O of
%% its own: a link named by its name is turned into an index by the
%% function `Resolve' the caller passes.
%%
%% A request is `{ok, Msg}' (a {@link linx_nl_codec:msg_in()} without a
%% sequence number) or `{error, Reason}' for an argument that does not
%% fit, with the reasons {@link linx_rtnl} documents.
-module(linx_rtnl_req).

-include("linx_nl.hrl").

-export([dump/1, link_get/1, link_del/1, link_add/2, link_set/3]).
-export([addr/3, route/3, neigh/3, rule/2]).
-export([link_refs/1, data_link_keys/0, stats_option/1]).
-export([link_id/1, ifname/1, ns_fd_mark/1, ns_fd_slots/2, slot_name/1, group_numbers/1]).

-export_type([resolve/0, slots/0, batch_op/0]).

-type resolve() :: fun((term()) -> {ok, non_neg_integer()} | {error, term()}).
%% Turns a link reference (a name or an index) into its index.
-type slots() :: [{0 | 1, term()}].
%% Where in a link message a namespace given as a target goes: slot 0
%% for the link's own `netns', 1 for a veth peer's (`none' when it is not
%% given; `self' is the port's own namespace).
-type batch_op() :: {link_add, map()}
                  | {link_set, link(), map()}
                  | {link_del, link()}
                  | {addr_add | addr_del | addr_replace, link(), {inet:ip_address(), 0..128} | map()}
                  | {route_add | route_replace | route_del, map()}
                  | {neigh_add | neigh_del, map()}
                  | {fdb_add | fdb_del, map()}
                  | {rule_add | rule_del, map()}
                  | {nexthop_add | nexthop_replace | nexthop_del, term()}.
%% One op of a batch (linx_rtnl:batch/2): a change of linx_rtnl as a
%% tuple of its name and arguments.
-type link() :: binary() | string() | pos_integer().

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
%% The placeholder value of an IFLA_NET_NS_FD whose descriptor the port
%% program writes in (see ns_fd_mark/1): one per place in a message.
-define(NS_FD_MARK, 16#FFFFFF00).
-define(RTEXT_FILTER_SKIP_STATS, 8).
-define(ADD, (?NLM_F_CREATE bor ?NLM_F_EXCL)).

%%====================================================================
%% Dumps and single links
%%====================================================================

%% @doc The dump request of every object of a kind. A link dump asks the
%% kernel to leave the statistics out (`IFLA_EXT_MASK'
%% `RTEXT_FILTER_SKIP_STATS': it then skips those of virtual functions;
%% `IFLA_STATS64', which it sends anyway, the tables leave out).
-spec dump(linx_rtnl_msg:kind()) -> linx_nl_codec:msg_in().
dump(link) ->
    #{type => ?MSG:message_type(link, get), flags => ?NLM_F_DUMP,
      payload => [?MSG:ifinfomsg(0, 0, 0, 0), skip_stats()]};
dump(Object) ->
    {ok, Hdr} = ?MSG:header(Object, #{}),
    #{type => ?MSG:message_type(Object, get), flags => ?NLM_F_DUMP, payload => Hdr}.

skip_stats() ->
    {ok, Io} = ?MSG:encode_attrs(link, [{ext_mask, ?RTEXT_FILTER_SKIP_STATS}]),
    Io.

%% @doc The `stats' option of a link dump or read (`false' when it is
%% not given), and the options without it.
-spec stats_option(term()) -> {ok, boolean(), term()} | {error, {bad_option, {stats, term()}}}.
stats_option(Opts) ->
    case linx_opts:to_map(Opts) of
        {ok, #{stats := S} = Map} when is_boolean(S) -> {ok, S, maps:remove(stats, Map)};
        {ok, #{stats := S}} -> {error, {bad_option, {stats, S}}};
        _ -> {ok, false, Opts}
    end.

%% @doc The request for one link by name or index.
-spec link_get(term()) -> {ok, linx_nl_codec:msg_in()} | {error, term()}.
link_get(Ref) ->
    case link_msg(Ref) of
        {ok, Payload} ->
            {ok, #{type => ?MSG:message_type(link, get), payload => [Payload, skip_stats()]}};
        {error, _} = Error ->
            Error
    end.

%% @doc The request deleting a link by name or index.
-spec link_del(term()) -> {ok, linx_nl_codec:msg_in()} | {error, term()}.
link_del(Ref) ->
    case link_msg(Ref) of
        {ok, Payload} -> {ok, #{type => ?MSG:message_type(link, del), payload => Payload}};
        {error, _} = Error -> Error
    end.

link_msg(Ref) ->
    case link_id(Ref) of
        {ok, Index, Name} ->
            {ok, Attrs} = ?MSG:encode_attrs(link, [{ifname, N} || N <- Name]),
            {ok, [?MSG:ifinfomsg(0, Index, 0, 0), Attrs]};
        {error, _} = Error ->
            Error
    end.

%% @doc A link as an index for the header (`Name' `[]'), or index 0 and
%% `[Name]'.
-spec link_id(term()) -> {ok, non_neg_integer(), [binary()]} | {error, {bad_link, term()}
                                                                     | {bad_ifname, term()}}.
link_id(Index) when is_integer(Index), Index > 0, Index =< 16#7fffffff ->
    {ok, Index, []};
link_id(Name) when is_binary(Name); is_list(Name) ->
    case ifname(Name) of
        {ok, Bin} -> {ok, 0, [Bin]};
        {error, _} = Error -> Error
    end;
link_id(Other) ->
    {error, {bad_link, Other}}.

%% @doc An interface name: 1 to 15 bytes, as the kernel's dev_valid_name()
%% wants it.
-spec ifname(term()) -> {ok, binary()} | {error, {bad_ifname, term()}}.
ifname(Name) ->
    case linx_opts:text(Name) of
        {ok, Bin} when byte_size(Bin) >= 1, byte_size(Bin) =< 15, Bin =/= <<".">>, Bin =/= <<"..">> ->
            case ifname_bytes(Bin) of
                true -> {ok, Bin};
                false -> {error, {bad_ifname, Name}}
            end;
        _ ->
            {error, {bad_ifname, Name}}
    end.

%% No byte dev_valid_name() refuses: `/', `:', NUL or white space.
ifname_bytes(<<C, _/binary>>) when C =:= $/; C =:= $:; C =:= 0; C =:= $\s; C >= $\t, C =< $\r -> false;
ifname_bytes(<<_, Rest/binary>>) -> ifname_bytes(Rest);
ifname_bytes(<<>>) -> true.

%%====================================================================
%% Link changes
%%====================================================================

%% @doc The request creating a link from its spec, and the slots of the
%% namespaces it names as targets.
-spec link_add(term(), resolve()) -> {ok, linx_nl_codec:msg_in(), slots()} | {error, term()}.
link_add(#{ifname := Name, kind := Kind} = Spec, Resolve) ->
    Checked = [ifname(Name), kind_name(Kind), new_index(Spec),
               settings(maps:without([ifname, kind, index, link], Spec), Resolve, 0),
               parent(Spec, Resolve)],
    case linx_error:first_error(Checked) of
        ok ->
            [{ok, NameBin}, {ok, KindBin}, {ok, Index}, {ok, Settings0, {Flags, Change}},
             {ok, Parent}] = Checked,
            Settings = Parent ++ Settings0,
            case info_data(Spec, KindBin, Resolve) of
                {ok, Data} ->
                    Info = [{kind, KindBin} | Data],
                    {ok, Attrs} = ?MSG:encode_attrs(link, [{ifname, NameBin} | Settings]
                                                    ++ [{linkinfo, Info}]),
                    {ok, #{type => ?MSG:message_type(link, new), flags => ?ADD,
                           payload => [?MSG:ifinfomsg(0, Index, Flags, Change), Attrs]},
                     [{0, maps:get(netns, Spec, none)}, {1, peer_netns(Spec)}]};
                {error, _} = Error ->
                    Error
            end;
        Error ->
            Error
    end;
link_add(Spec, _Resolve) ->
    {error, {bad_spec, Spec}}.

%% @doc The links a link spec names, by name or index: its `master',
%% its parent `link', and the links its `data' names (see
%% {@link data_link_keys/0}).
-spec link_refs(term()) -> [term()].
link_refs(Spec) when is_map(Spec) ->
    Data = case linx_opts:to_map(maps:get(data, Spec, #{})) of
               {ok, D} -> D;
               error -> #{}
           end,
    [R || {K, M} <- [{master, Spec}, {link, Spec} | [{K, Data} || K <- data_link_keys()]],
          {ok, R} <- [maps:find(K, M)], R =/= none, R =/= 0];
link_refs(_) ->
    [].

%% @doc The keys of a kind's `data' that name a link (a name is looked
%% up, as a `master' is; 0 is none): a tunnel's `link', a bond's
%% `active_slave' and `primary'.
-spec data_link_keys() -> [atom()].
data_link_keys() ->
    [link, active_slave, primary].

%% The parent link (IFLA_LINK) of a new one: a vlan's, a macvlan's.
parent(#{link := Ref}, Resolve) ->
    case Resolve(Ref) of
        {ok, I} -> {ok, [{link, I}]};
        {error, _} = Error -> Error
    end;
parent(_Spec, _Resolve) ->
    {ok, []}.

%% @doc The request changing link `Index'.
-spec link_set(non_neg_integer(), term(), resolve()) ->
          {ok, linx_nl_codec:msg_in(), slots()} | {error, term()}.
link_set(Index, Changes, Resolve) when is_map(Changes) ->
    case settings(Changes, Resolve, 0) of
        {ok, Settings, {Flags, Change}} ->
            {ok, Attrs} = ?MSG:encode_attrs(link, Settings),
            {ok, #{type => ?MSG:message_type(link, new),
                   payload => [?MSG:ifinfomsg(0, Index, Flags, Change), Attrs]},
             [{0, maps:get(netns, Changes, none)}]};
        {error, _} = Error ->
            Error
    end;
link_set(_Index, Changes, _Resolve) ->
    {error, {bad_change, Changes}}.

%% The index a new link asks for (`index', as `ip link add ... index N'),
%% 0 for the kernel's choice.
new_index(#{index := I}) when is_integer(I), I > 0, I =< 16#7fffffff -> {ok, I};
new_index(#{index := I}) -> {error, {bad_spec, {index, I}}};
new_index(_) -> {ok, 0}.

%% A link kind: an atom or a binary, 1 to 63 bytes without NUL.
kind_name(K) when is_atom(K) -> kind_name(K, atom_to_binary(K));
kind_name(K) when is_binary(K) -> kind_name(K, K);
kind_name(K) -> {error, {bad_spec, {kind, K}}}.

kind_name(K, Bin) ->
    ?ARGS:checked(fun() -> {ok, ?ARGS:name_text(Bin, 63, {bad_spec, {kind, K}})} end).

peer_netns(#{peer := #{netns := In}}) -> In;
peer_netns(_) -> none.

%% IFLA_INFO_DATA: the veth peer (a link message of its own), or the
%% caller's `data': a map of the kind's table, or attributes as they are.
info_data(#{peer := Peer}, <<"veth">>, _Resolve) when is_map(Peer) ->
    case maps:find(ifname, Peer) of
        {ok, PeerName} ->
            Checked = [ifname(PeerName), new_index(Peer),
                       settings(maps:without([ifname, index], Peer), fun no_links/1, 1)],
            case linx_error:first_error(Checked) of
                ok ->
                    [{ok, P}, {ok, I}, {ok, Settings, {Fl, Ch}}] = Checked,
                    {ok, Attrs} = ?MSG:encode_attrs(link, [{ifname, P} | Settings]),
                    PeerMsg = iolist_to_binary([?MSG:ifinfomsg(0, I, Fl, Ch), Attrs]),
                    {ok, info_data_attr(kind_data(veth, [{peer, PeerMsg}]))};
                {error, _} = E ->
                    E
            end;
        error ->
            {error, {bad_spec, {peer, Peer}}}
    end;
info_data(#{peer := Peer}, _Kind, _Resolve) ->
    {error, {bad_spec, {peer, Peer}}};
info_data(#{data := Data}, Kind, Resolve) when is_map(Data); is_list(Data) ->
    case linx_rtnl_tables:kind_table(?MSG:kind(Kind)) of
        none when is_list(Data) ->
            try iolist_to_binary(linx_nl_codec:encode_attrs(Data)) of
                _ -> {ok, info_data_attr(Data)}
            catch
                error:_ -> {error, {bad_spec, {data, Data}}}
            end;
        none ->
            {error, {bad_spec, {data, Data}}};
        Table ->
            case linx_opts:to_map(Data) of
                {ok, Map} -> ?ARGS:checked(fun() -> kind_attrs(Table, Map, Resolve, ?MSG:kind(Kind)) end);
                error -> {error, {bad_spec, {data, Data}}}
            end
    end;
info_data(#{data := Data}, _Kind, _Resolve) ->
    {error, {bad_spec, {data, Data}}};
info_data(_, _Kind, _Resolve) ->
    {ok, []}.

%% A kind's data (a map of its table's keys) as IFLA_INFO_DATA, the links
%% it names looked up; a bad key or value throws `{bad_spec, {Kind,
%% {Key, Value}}}'.
kind_attrs(Table, Data, Resolve, Kind) ->
    Links = [{K, I} || K <- data_link_keys(), {ok, Ref} <- [maps:find(K, Data)], Ref =/= 0,
                       {ok, I} <- [?ARGS:ok_or_throw(Resolve(Ref))]],
    case linx_nl_attrs:attrs(Table, maps:merge(Data, maps:from_list(Links))) of
        {ok, Attrs} -> {ok, info_data_attr(Attrs)};
        {error, {bad_key, K}} -> throw({bad_spec, {Kind, {K, maps:get(K, Data, undefined)}}});
        {error, {bad_value, K, _}} -> throw({bad_spec, {Kind, {K, maps:get(K, Data)}}})
    end.

kind_data(Kind, Pairs) ->
    {ok, Attrs} = linx_nl_attrs:attrs(linx_rtnl_tables:kind_table(Kind), Pairs),
    Attrs.

%% IFLA_INFO_DATA holding attributes already made.
info_data_attr(Attrs) ->
    [{?MSG:attr_number(linkinfo, info_data), {nested, Attrs}}].

no_links(Ref) ->
    {error, {bad_change, {master, Ref}}}.

%% The attributes (as pairs of the link table) and {Flags, Change} of a
%% link's settings (link_add's extras, link_set's changes, a veth
%% peer's); `Slot' numbers the place of a `netns' given as a target.
settings(Map, Resolve, Slot) ->
    Setting = fun(K, V, Acc) -> setting(K, V, Acc, Resolve, Slot) end,
    ?ARGS:checked(fun() ->
                          {Pairs, FC} = maps:fold(Setting, {[], {0, 0}}, Map),
                          {ok, Pairs, FC}
                  end).

setting(state, up, {A, _}, _R, _S) -> {A, {iff_up(), iff_up()}};
setting(state, down, {A, _}, _R, _S) -> {A, {0, iff_up()}};
setting(mtu, N, {A, FC}, _R, _S) when is_integer(N), N > 0, N =< 16#ffffffff ->
    {[{mtu, N} | A], FC};
setting(txqlen, N, {A, FC}, _R, _S) when is_integer(N), N >= 0, N =< 16#ffffffff ->
    {[{txqlen, N} | A], FC};
setting(K, Mac, {A, FC}, _R, _S) when K =:= address; K =:= broadcast ->
    {[{K, mac(Mac)} | A], FC};
setting(ifname, Name, {A, FC}, _R, _S) ->
    {ok, Bin} = ?ARGS:ok_or_throw(ifname(Name)),
    {[{ifname, Bin} | A], FC};
setting(group, N, {A, FC}, _R, _S) when is_integer(N), N >= 0, N =< 16#ffffffff ->
    {[{group, N} | A], FC};
setting(alias, Alias, {A, FC}, _R, _S) ->
    %% IFLA_IFALIAS: at most IFALIASZ - 1 bytes; empty removes it.
    case linx_opts:text(Alias) of
        {ok, Bin} when byte_size(Bin) =< 255 ->
            case linx_opts:no_byte_of(Bin, 0, 0) of
                true -> {[{alias, Bin} | A], FC};
                false -> throw({bad_change, {alias, Alias}})
            end;
        _ -> throw({bad_change, {alias, Alias}})
    end;
setting(master, none, {A, FC}, _R, _S) ->
    {[{master, 0} | A], FC};
setting(master, Link, {A, FC}, Resolve, _S) ->
    {ok, I} = ?ARGS:ok_or_throw(Resolve(Link)),
    {[{master, I} | A], FC};
setting(netns, {pid, P}, {A, FC}, _R, _S) when is_integer(P), P > 0, P =< 16#7fffffff ->
    {[{net_ns_pid, P} | A], FC};
setting(netns, In, {A, FC}, _R, Slot) ->
    case linx_opts:target(In) of
        {ok, _} -> {[{net_ns_fd, ?NS_FD_MARK + Slot} | A], FC};
        {error, _} -> throw({bad_netns, In})
    end;
setting(K, _V, Acc, _R, _S) when K =:= peer; K =:= data ->
    Acc;
setting(K, V, _Acc, _R, _S) ->
    throw({bad_change, {K, V}}).

%% A MAC address's 6 bytes (see linx_nl_values:mac/1); anything else
%% throws `{bad_address, Mac}'.
mac(Mac) ->
    case linx_nl_values:mac(Mac) of
        {ok, Bin} -> Bin;
        error -> throw({bad_address, Mac})
    end.

%% @doc The placeholder `IFLA_NET_NS_FD' attribute of slot `Slot', as it
%% stands in an encoded message.
-spec ns_fd_mark(0 | 1) -> binary().
ns_fd_mark(Slot) ->
    {ok, Io} = ?MSG:encode_attrs(link, [{net_ns_fd, ?NS_FD_MARK + Slot}]),
    iolist_to_binary(Io).

%% @doc The options map `Opts' (checked already) with `ns_fd_marks': for
%% each slot whose namespace is a target, the placeholder attribute to
%% find in the encoded message and the target whose descriptor replaces
%% its value (see linx_nl:call/4).
-spec ns_fd_slots(slots(), map()) -> map().
ns_fd_slots(Slots, Opts) ->
    case [{ns_fd_mark(Slot), In} || {Slot, In} <- Slots, In =/= none, not is_pid_ref(In)] of
        [] -> Opts;
        Marks -> Opts#{ns_fd_marks => Marks}
    end.

%% @doc Whose namespace a slot holds: the link's (0) or its veth peer's (1).
-spec slot_name(0 | 1) -> link | peer.
slot_name(0) -> link;
slot_name(1) -> peer.

is_pid_ref({pid, _}) -> true;
is_pid_ref(_) -> false.

%%====================================================================
%% Addresses, routes, neighbours
%%====================================================================

%% @doc The request adding (`new'), removing (`del') or replacing (as
%% `ip addr replace': added, or its lifetimes and flags changed) an
%% address on link `Index': a prefix, or a map with `prefix' and the keys
%% of {@link linx_rtnl_addr}.
-spec addr(new | del | replace, non_neg_integer(), term()) ->
          {ok, linx_nl_codec:msg_in()} | {error, term()}.
addr(replace, Index, Addr) ->
    case addr(new, Index, Addr) of
        {ok, Req} -> {ok, Req#{flags := ?NLM_F_CREATE bor ?NLM_F_REPLACE}};
        {error, _} = Error -> Error
    end;
addr(What, Index, {_, _} = Prefix) ->
    addr(What, Index, #{prefix => Prefix});
addr(What, Index, #{prefix := {IP, Len} = Prefix} = Addr) when is_integer(Len), Len >= 0 ->
    case linx_nl_values:ip_bytes(IP) of
        {ok, Family, Bytes} when Len =< byte_size(Bytes) * 8 ->
            ?ARGS:checked(fun() -> request(addr, What, linx_rtnl_addr:payload(Index, Family, Addr)) end);
        _ ->
            {error, {bad_prefix, Prefix}}
    end;
addr(_What, _Index, #{prefix := Prefix}) ->
    {error, {bad_prefix, Prefix}};
addr(_What, _Index, #{} = Addr) ->
    {error, {bad_addr, Addr}};
addr(_What, _Index, Prefix) ->
    {error, {bad_prefix, Prefix}}.

%% @doc The request adding (`new'), replacing or adding (`replace',
%% `NLM_F_CREATE | NLM_F_REPLACE', as `ip route replace'), appending
%% (`append', `NLM_F_CREATE | NLM_F_APPEND', as `ip route append') or
%% deleting (`del') a route.
-spec route(new | replace | append | del, term(), resolve()) ->
          {ok, linx_nl_codec:msg_in()} | {error, term()}.
route(What, Route, Resolve) when What =:= replace; What =:= append ->
    case route(new, Route, Resolve) of
        {ok, Msg} -> {ok, Msg#{flags => ?NLM_F_CREATE bor route_flag(What)}};
        {error, _} = Error -> Error
    end;
route(What, Route, Resolve) when is_map(Route) ->
    ?ARGS:checked(fun() -> request(route, What, linx_rtnl_route:payload(What, Route, Resolve)) end);
route(_What, Route, _Resolve) ->
    {error, {bad_route, Route}}.

%% @doc The request adding or deleting a policy routing rule (see
%% {@link linx_rtnl_rule}).
-spec rule(new | del, term()) -> {ok, linx_nl_codec:msg_in()} | {error, term()}.
rule(What, Rule) ->
    ?ARGS:checked(fun() -> request(rule, What, linx_rtnl_rule:payload(What, Rule, fun ifname/1)) end).

%% @doc The request adding or deleting a neighbour entry (see
%% {@link linx_rtnl_neigh}).
-spec neigh(new | del, term(), resolve()) -> {ok, linx_nl_codec:msg_in()} | {error, term()}.
neigh(What, #{index := _, dst := _} = Neigh, Resolve) ->
    ?ARGS:checked(fun() -> request(neigh, What, linx_rtnl_neigh:payload(Neigh, Resolve)) end);
neigh(_What, #{} = Neigh, _Resolve) ->
    {error, {bad_neigh, {hd([K || K <- [index, dst], not is_map_key(K, Neigh)]), missing}}};
neigh(_What, Neigh, _Resolve) ->
    {error, {bad_neigh, Neigh}}.

%%====================================================================
%% Events
%%====================================================================

%% @doc The `RTNLGRP_*' numbers of a list of group names or numbers.
-spec group_numbers(term()) -> {ok, [pos_integer()]} | {error, {bad_groups, term()}}.
group_numbers(Groups) when is_list(Groups) ->
    Names = ?MSG:names(group),
    Numbers = [linx_nl_values:number(G, Names) || G <- Groups],
    case [N || {ok, N} <- Numbers, N >= 1, N =< 16#ffffffff] of
        Ok when length(Ok) =:= length(Groups) -> {ok, lists:usort(Ok)};
        _ -> {error, {bad_groups, Groups}}
    end;
group_numbers(Groups) ->
    {error, {bad_groups, Groups}}.

%%====================================================================
%% Internal functions
%%====================================================================

%% The request of `What' (`new' or `del') about an address, a route or a
%% neighbour.
request(Object, What, Payload) ->
    {ok, #{type => ?MSG:message_type(Object, What), flags => add_flags(What),
           payload => Payload}}.

%% IFF_UP, as the link flags' table names it.
iff_up() ->
    {ok, Up} = linx_nl_values:mask([up], ?MSG:names(iff)),
    Up.

route_flag(replace) -> ?NLM_F_REPLACE;
route_flag(append) -> ?NLM_F_APPEND.

add_flags(new) -> ?ADD;
add_flags(del) -> 0.

