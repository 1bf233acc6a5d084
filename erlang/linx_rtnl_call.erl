%% @private
%% The bodies of linx_rtnl's calls: checking options, sending one
%% request or a dump through linx_nl, and looking up a link named by its
%% name. linx_rtnl is the API and its documentation; each of its
%% functions is one call of this module, so that the API module stays
%% a list of what users can do.
-module(linx_rtnl_call).

-export([dump/4, objects/3, request/3, link_request/3, index/2, resolver/1, ack/3]).
-export([links/1, link/2, link_add/2, link_set/3, addr/5, route/4, neigh/4, neighs/1,
         subscribe/2]).
-export([nexthop/4]).
-export([neighs/2, fdb/2, fdb_change/4]).
-export([routes/2, route_get/2]).

%%====================================================================
%% The calls of linx_rtnl whose bodies are more than one request
%%====================================================================

%% Every link, with the decoder the `stats' option asks for.
-spec links(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links(Opts) ->
    with_stats(Opts, fun(Decode, O) -> dump(linx_rtnl_req:dump(link), O, links, Decode) end).

-spec link(term(), linx_netlink:opts()) ->
          {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref, Opts) ->
    case linx_rtnl_req:link_get(Ref) of
        {ok, Req} ->
            case with_stats(Opts, fun(Decode, O) -> dump(Req, O, link, Decode) end) of
                {ok, [Link | _]} -> {ok, Link};
                {ok, []} -> {error, {bad_link, Ref}};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

-spec link_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
link_add(Spec, Opts) ->
    link_request(linx_rtnl_req:link_add(Spec, resolver(Opts)), Opts, link_add).

-spec link_set(term(), term(), linx_netlink:opts()) -> ok | {error, term()}.
link_set(Ref, Changes, Opts) when is_map(Changes) ->
    case index(Ref, Opts) of
        {ok, Index} ->
            link_request(linx_rtnl_req:link_set(Index, Changes, resolver(Opts)), Opts, link_set);
        {error, _} = Error ->
            Error
    end;
link_set(_Ref, Changes, _Opts) ->
    {error, {bad_change, Changes}}.

%% An address change (`new', `del' or `replace') of a link; the address
%% is checked before the link is looked up.
-spec addr(new | del | replace, term(), term(), linx_netlink:opts(), atom()) ->
          ok | {error, term()}.
addr(What, Link, Addr, Opts, Op) ->
    case linx_rtnl_req:addr(What, 0, Addr) of
        {ok, _} ->
            case index(Link, Opts) of
                {ok, Index} -> request(linx_rtnl_req:addr(What, Index, Addr), Opts, Op);
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%% A route change (`new', `replace', `append' or `del').
-spec route(new | replace | append | del, term(), linx_netlink:opts(), atom()) ->
          ok | {error, term()}.
route(What, Route, Opts, Op) ->
    request(linx_rtnl_req:route(What, Route, resolver(Opts)), Opts, Op).

%% A neighbour change (`new' or `del').
-spec neigh(new | del, term(), linx_netlink:opts(), atom()) -> ok | {error, term()}.
neigh(What, Neigh, Opts, Op) ->
    request(linx_rtnl_req:neigh(What, Neigh, resolver(Opts)), Opts, Op).

-spec neighs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs(Opts) ->
    case dump(linx_rtnl_req:dump(neigh), Opts, neighs, fun linx_rtnl_msg:decode_neigh/1) of
        {ok, All} -> {ok, linx_rtnl_msg:ip_neighs(All)};
        Error -> Error
    end.

-spec subscribe([term()], linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
subscribe(Groups, Opts) ->
    case {linx_rtnl_req:group_numbers(Groups),
          linx_opts:options(Opts, [list_existing, resync, rcvbuf | linx_opts:transport()])} of
        {{ok, Numbers}, {ok, #{opts := Map}}} -> linx_rtnl_events:start(self(), Numbers, Map);
        {{error, _} = Error, _} -> Error;
        {_, {error, _} = Error} -> Error
    end.

%% A nexthop change (`add', `replace' or `del').
-spec nexthop(add | replace | del, term(), linx_netlink:opts(), atom()) -> ok | {error, term()}.
nexthop(What, Spec, Opts, Op) ->
    request(linx_rtnl_nexthop:request(What, Spec, resolver(Opts)), Opts, Op).

%% The neighbours a filter keeps (linx_rtnl_fdb:neigh_filter/2).
-spec neighs(term(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs(Filter, Opts) ->
    case linx_rtnl_fdb:neigh_filter(Filter, resolver(Opts)) of
        {ok, F} ->
            case dump(linx_rtnl_fdb:neigh_dump(F), Opts, neighs, fun linx_rtnl_msg:decode_neigh/1) of
                {ok, All} -> {ok, linx_rtnl_fdb:neigh_select(F, All)};
                Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%% The fdb entries a filter keeps (linx_rtnl_fdb:fdb_filter/2); with a
%% bridge, its ports are read from a link dump.
-spec fdb(term(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
fdb(Filter, Opts) ->
    case linx_rtnl_fdb:fdb_filter(Filter, resolver(Opts)) of
        {ok, F} ->
            case dump(linx_rtnl_fdb:fdb_dump(F), Opts, fdb, fun linx_rtnl_msg:decode_neigh/1) of
                {ok, All} when is_map_key(master, F) ->
                    case links(Opts) of
                        {ok, Links} ->
                            Ports = [I || #{index := I, master := M} <- Links, M =:= map_get(master, F)],
                            {ok, linx_rtnl_fdb:fdb_select(F, All, Ports)};
                        {error, _} = Error ->
                            Error
                    end;
                {ok, All} ->
                    {ok, linx_rtnl_fdb:fdb_select(F, All, [])};
                Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% An fdb entry's change (`new' or `del').
-spec fdb_change(new | del, term(), linx_netlink:opts(), atom()) -> ok | {error, term()}.
fdb_change(What, Entry, Opts, Op) ->
    request(linx_rtnl_fdb:request(What, Entry, resolver(Opts)), Opts, Op).

%% The routes a filter asks for (see linx_rtnl_route_query:filter/2),
%% from a dump on a socket with strict checking, filtered again here. A
%% table the kernel does not have (`enoent' for a family given) has no
%% routes.
-spec routes(term(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes(Filter, Opts) ->
    case linx_rtnl_route_query:filter(Filter, resolver(Opts)) of
        {ok, Req, Checked} ->
            Decode = fun(#{payload := P}) -> linx_rtnl_msg:decode_route(P) end,
            Dump = linx_opts:with_transport(Opts, fun(Map) ->
                                              linx_nl:dump(route, Req, Map#{strict => true}, routes, Decode)
                                      end),
            case Dump of
                {ok, Routes} -> {ok, [R || R <- Routes, linx_rtnl_route_query:keep(Checked, R)]};
                {error, #{stage := netlink, errno := enoent}} when is_map_key(table, Checked) -> {ok, []};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%% The route the kernel would use for a destination (see
%% linx_rtnl_route_query:get/2).
-spec route_get(term(), linx_netlink:opts()) -> {ok, linx_rtnl_msg:route()} | {error, term()}.
route_get(Dest, Opts) ->
    case linx_rtnl_route_query:get(Dest, resolver(Opts)) of
        {ok, Req} ->
            case dump(Req, Opts, route_get, fun linx_rtnl_msg:decode_route/1) of
                {ok, [Route | _]} -> {ok, Route};
                {ok, []} -> {error, {bad_route, Dest}};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%%====================================================================
%% Requests and dumps
%%====================================================================

%% A dump of `Req', each message's payload decoded by `Decode'.
-spec dump(linx_nl_codec:msg_in(), linx_netlink:opts(), atom(), fun((binary()) -> term())) ->
          {ok, [term()]} | {error, term()}.
dump(Req, Opts, Op, Decode) ->
    linx_opts:with_transport(Opts, fun(Map) ->
                               linx_nl:dump(route, Req, Map, Op,
                                            fun(#{payload := P}) -> Decode(P) end)
                       end).

%% Every object of `Kind' (`addr', `route', `rule', ...), decoded.
-spec objects(linx_rtnl_msg:kind(), linx_netlink:opts(), atom()) ->
          {ok, [map()]} | {error, term()}.
objects(Kind, Opts, Op) ->
    dump(linx_rtnl_req:dump(Kind), Opts, Op, fun(P) -> linx_rtnl_msg:decode_object(Kind, P) end).

%% One request, built (or refused) already, answered by an ack.
-spec request({ok, linx_nl_codec:msg_in()} | {error, term()}, linx_netlink:opts(), atom()) ->
          ok | {error, term()}.
request({ok, Req}, Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) -> ack(Req, Map, Op) end);
request({error, _} = Error, _Opts, _Op) ->
    Error.

%% A link request, with the namespaces it names as targets (see
%% linx_rtnl_req:ns_fd_slots/2).
-spec link_request({ok, linx_nl_codec:msg_in(), linx_rtnl_req:slots()} | {error, term()},
                   linx_netlink:opts(), atom()) -> ok | {error, term()}.
link_request({ok, Req, Slots}, Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) ->
                               whose(ack(Req, linx_rtnl_req:ns_fd_slots(Slots, Map), Op), Slots)
                       end);
link_request({error, _} = Error, _Opts, _Op) ->
    Error.

%% A function from a link (name or index) to its index, asking the
%% namespace of `Opts' for names.
-spec resolver(linx_netlink:opts()) -> fun((term()) -> {ok, pos_integer()} | {error, term()}).
resolver(Opts) ->
    fun(Ref) -> index(Ref, Opts) end.

%% A link's index; a name is looked up (one request).
-spec index(term(), linx_netlink:opts()) -> {ok, pos_integer()} | {error, term()}.
index(Ref, Opts) ->
    case linx_rtnl_req:link_id(Ref) of
        {ok, 0, _} ->
            case link(Ref, Opts) of
                {ok, #{index := I}} -> {ok, I};
                {error, _} = Error -> Error
            end;
        {ok, I, []} ->
            {ok, I};
        {error, _} = Error ->
            Error
    end.

%%====================================================================
%% Internal functions
%%====================================================================

%% `Fun' with the link decoder the `stats' option asks for, and the
%% other options.
with_stats(Opts, Fun) ->
    case linx_rtnl_req:stats_option(Opts) of
        {ok, Stats, Rest} -> Fun(fun(P) -> linx_rtnl_msg:decode_link(P, Stats) end, Rest);
        {error, _} = Error -> Error
    end.

%% The namespace that failed is the link's or the peer's.
whose({error, #{ns_fd := #{in := In} = NsFd} = Info} = Error, Slots) ->
    case [linx_rtnl_req:slot_name(Slot) || {Slot, I} <- Slots, I =:= In] of
        [Whose | _] -> {error, Info#{ns_fd := NsFd#{whose => Whose}}};
        [] -> Error
    end;
whose(Result, _Slots) ->
    Result.

%% @doc One request answered by an ack: `ok', or the error.
-spec ack(map(), map(), atom()) -> ok | {error, term()}.
ack(Req, Opts, Op) ->
    case linx_nl:call(route, Req, Opts, Op) of
        {ok, _} -> ok;
        {error, _} = Error -> Error
    end.

