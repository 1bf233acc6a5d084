%% @doc The rtnetlink side of {@link linx_rtnl:subscribe/2}: the
%% callbacks of {@link linx_nl_events}, whose process owns an rtnetlink
%% socket joined to the asked groups, decodes what arrives and sends it
%% to the subscriber as `{linx_rtnl, Ref, Event}'.
%%
%% A resync is `{resync, Objects}': every object of the groups' kinds
%% that can be dumped (links, addresses, nexthops, routes, neighbours
%% and bridge forwarding entries, rules), as
%% `{Kind, new, Map}' in the kernel's order, dumped after the socket has
%% joined the groups, so that no change falls between the two: the
%% events after it may repeat what it holds, never miss it. One comes
%% first with `list_existing', and one instead of `{error, enobufs}'
%% after the kernel dropped events (unless `resync => false').
-module(linx_rtnl_events).

-behaviour(linx_nl_events).

-export([start/3, stop/1]).
-export([tag/0, protocol/0, init/2, decode/2, objects/1]).

%% @doc Starts a subscription of `Owner' to `Groups' (group numbers)
%% with the options of {@link linx_netlink:open/2} and `list_existing'
%% and `resync' (booleans); returns once the socket is open (and with
%% `list_existing' the first resync sent), or its error.
-spec start(pid(), [pos_integer()], map()) -> {ok, reference()} | {error, term()}.
start(Owner, Groups, Opts) ->
    linx_nl_events:start(?MODULE, Groups, Owner, Groups, Opts).

%% @doc Ends the caller's subscription `Ref' and removes its events from
%% the caller's mailbox.
-spec stop(reference()) -> ok.
stop(Ref) ->
    linx_nl_events:stop(tag(), Ref).

%% @private
-spec tag() -> linx_rtnl.
tag() -> linx_rtnl.

%% @private
-spec protocol() -> route.
protocol() -> route.

%% @private
-spec init([pos_integer()], map()) -> {[{atom(), [atom()]}], map()}.
init(Groups, Dump) -> {kinds(Groups), Dump}.

%% @private
-spec decode(linx_nl_codec:msg(), State) -> {[term()], State}.
decode(Msg, St) ->
    case linx_rtnl_msg:decode(Msg) of
        {ok, E} -> {[E], St};
        {error, _} = Error -> {[Error], St}
    end.

%% @private
%% Every object of the subscription's kinds now, as events.
-spec objects(State) -> {{ok, [term()]} | {error, term()}, State}
              when State :: {[{atom(), [atom()]}], map()}.
objects({Kinds, Opts} = St) ->
    {objects(Kinds, Opts, []), St}.

%% The kinds of object the groups deliver that a dump gives, and the
%% families of each: RTNLGRP_LINK, _NEIGH, _IPV4_IFADDR, _IPV4_ROUTE,
%% _IPV4_RULE, _IPV6_IFADDR, _IPV6_ROUTE, _IPV6_RULE, _NEXTHOP (nexthops
%% before the routes that use them).
kinds(Groups) ->
    Of = #{1 => {link, all}, 3 => {neigh, all}, 5 => {addr, inet}, 7 => {route, inet},
           8 => {rule, inet}, 9 => {addr, inet6}, 11 => {route, inet6}, 19 => {rule, inet6},
           32 => {nexthop, all}},
    Pairs = [maps:get(G, Of) || G <- Groups, is_map_key(G, Of)],
    [{K, [F || {K1, F} <- Pairs, K1 =:= K]} || K <- [link, addr, nexthop, route, neigh, rule],
                                               lists:keymember(K, 1, Pairs)].

objects([{Kind, Families} | Rest], Opts, Acc) ->
    Decode = fun(#{payload := P}) -> linx_rtnl_msg:decode_object(Kind, P) end,
    case dumps(dump_requests(Kind), Opts, Kind, Decode, []) of
        {ok, Maps} ->
            Mine = [{Kind, new, M} || M <- Maps, family_of(M, Families)],
            objects(Rest, Opts, [Mine | Acc]);
        {error, _} = Error ->
            Error
    end;
objects([], _Opts, Acc) ->
    {ok, lists:append(lists:reverse(Acc))}.

%% The dumps of a kind, and what to keep of each: a neighbour dump of no
%% family gives the IPv4 and IPv6 entries, one of family bridge the
%% bridge forwarding entries (whose changes come on the neigh group too).
dump_requests(neigh) ->
    [{linx_rtnl_req:dump(neigh), fun linx_rtnl_msg:ip_neighs/1},
     {linx_rtnl_fdb:fdb_dump(#{}), fun(Fdb) -> Fdb end}];
dump_requests(Kind) ->
    [{linx_rtnl_req:dump(Kind), fun(Maps) -> Maps end}].

dumps([{Req, Keep} | Reqs], Opts, Kind, Decode, Acc) ->
    case linx_nl:dump(route, Req, Opts, Kind, Decode) of
        {ok, Maps} -> dumps(Reqs, Opts, Kind, Decode, [Keep(Maps) | Acc]);
        {error, _} = Error -> Error
    end;
dumps([], _Opts, _Kind, _Decode, Acc) ->
    {ok, lists:append(lists:reverse(Acc))}.

family_of(_Map, [all]) -> true;
family_of(#{family := F}, Families) -> lists:member(F, Families);
family_of(_Map, _Families) -> false.
