%% @doc rtnetlink batches ({@link linx_rtnl:batch/2}): the ops turned
%% into requests, sent in one frame and answered one result each.
%%
%% A link an op names by its name is looked up by the port program just
%% before that op's request is sent, so an op may name a link an earlier
%% op of the same batch made (or renamed).
-module(linx_rtnl_batch).

-export([run/2, request/1]).

-export_type([op/0]).

-type op() :: {link_add, map()}
            | {link_set, linx_rtnl:link_ref(), map()}
            | {link_del, linx_rtnl:link_ref()}
            | {addr_add | addr_del, linx_rtnl:link_ref(), linx_rtnl:addr_spec()}
            | {route_add | route_del, map()}
            | {neigh_add | neigh_del, map()}.

-define(REQ, linx_rtnl_req).
%% Most ops in one batch (the program's MAX_BATCH).
-define(MAX_OPS, 10000).

%% @doc Runs `Ops' in the target of `Opts' (see {@link linx_rtnl:batch/2}).
-spec run(term(), term()) -> {ok, [linx_nl_batch:result()]} | {error, term()}.
run(Ops, Opts) when is_list(Ops), Ops =/= [], length(Ops) =< ?MAX_OPS ->
    case linx_error:map_ok(fun request/1, Ops) of
        {ok, Requests} ->
            Names = [element(1, Op) || Op <- Ops],
            case linx_nl_batch:send(route, Requests, Names, #{stop => false, opts => Opts}) of
                {ok, Results} -> {ok, owned(Ops, Requests, Results)};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end;
run(Ops, _Opts) ->
    {error, {bad_batch, Ops}}.

%% Each op's error as the op's own function would give it; one of a
%% link not found names the links the op looked up by name.
owned([Op | Ops], [{_Req, Patches} | Requests], [Result | Results]) ->
    R = case Result of
            {error, #{stage := ifindex} = E} ->
                {error, E#{links => [Name || {_, _, {ifindex, Name}} <- Patches]}};
            _ ->
                Result
        end,
    [linx_error:owned(linx_rtnl, element(1, Op), R) | owned(Ops, Requests, Results)];
owned(_Ops, _Requests, []) ->
    [].

%% @doc The request of one op, with what the program writes into it; a
%% bad op is `{error, {bad_op, Op, Reason}}'.
-spec request(term()) -> {ok, linx_nl_batch:request()} | {error, term()}.
request(Op) ->
    {Resolve, Patches} = resolver(refs(Op)),
    case build(Op, Resolve) of
        {ok, Req} -> {ok, {Req, Patches}};
        {ok, Req, Slots} -> ns_patches(Op, Req, Slots, Patches);
        {error, {bad_op, _}} -> {error, {bad_op, Op}};
        {error, Reason} -> {error, {bad_op, Op, Reason}}
    end.

build({link_add, Spec}, Resolve) ->
    ?REQ:link_add(Spec, Resolve);
build({link_set, Link, Changes}, Resolve) ->
    case Resolve(Link) of
        {ok, Index} -> ?REQ:link_set(Index, Changes, Resolve);
        {error, _} = Error -> Error
    end;
build({link_del, Link}, _Resolve) ->
    ?REQ:link_del(Link);
build({addr_add, Link, Addr}, Resolve) ->
    addr(new, Link, Addr, Resolve);
build({addr_del, Link, Addr}, Resolve) ->
    addr(del, Link, Addr, Resolve);
build({route_add, Route}, Resolve) ->
    ?REQ:route(new, Route, Resolve);
build({route_del, Route}, Resolve) ->
    ?REQ:route(del, Route, Resolve);
build({neigh_add, Neigh}, Resolve) ->
    ?REQ:neigh(new, Neigh, Resolve);
build({neigh_del, Neigh}, Resolve) ->
    ?REQ:neigh(del, Neigh, Resolve);
build(_Op, _Resolve) ->
    {error, {bad_op, unknown}}.

addr(What, Link, Addr, Resolve) ->
    case Resolve(Link) of
        {ok, Index} -> ?REQ:addr(What, Index, Addr);
        {error, _} = Error -> Error
    end.

%% The links an op names, where a name may stand.
refs({link_add, #{master := M}}) -> [M];
refs({link_set, Link, #{master := M}}) -> [Link, M];
refs({link_set, Link, _}) -> [Link];
refs({addr_add, Link, _}) -> [Link];
refs({addr_del, Link, _}) -> [Link];
refs({route_add, #{oif := L}}) -> [L];
refs({route_del, #{oif := L}}) -> [L];
refs({neigh_add, #{index := L}}) -> [L];
refs({neigh_del, #{index := L}}) -> [L];
refs(_) -> [].

%% A resolver that turns each name among `Refs' into its placeholder,
%% and the patches that fill them in; an index stays as it is.
resolver(Refs) ->
    Names = lists:usort([N || R <- Refs, {ok, 0, [N]} <- [?REQ:link_id(R)]]),
    Marks = maps:from_list(lists:zip(Names, lists:seq(0, length(Names) - 1))),
    Resolve = fun(Ref) ->
                      case ?REQ:link_id(Ref) of
                          {ok, 0, [Name]} when is_map_key(Name, Marks) ->
                              {ok, linx_nl_batch:ifindex_mark(maps:get(Name, Marks))};
                          {ok, Index, []} -> {ok, Index};
                          {ok, _, _} -> {error, {bad_link, Ref}};
                          {error, _} = Error -> Error
                      end
              end,
    Patches = [{<<(linx_nl_batch:ifindex_mark(K)):32/native>>, 0, {ifindex, Name}}
               || {Name, K} <- maps:to_list(Marks)],
    {Resolve, Patches}.

%% The namespaces a link request names as targets (a link's `netns', a
%% veth peer's), as patches.
ns_patches(Op, Req, Slots, Patches) ->
    Ns = [{?REQ:ns_fd_mark(Slot), 4, In} || {Slot, In} <- Slots, In =/= self,
                                            not is_tuple(In) orelse element(1, In) =/= pid],
    case linx_error:map_ok(fun({Mark, Skip, In}) ->
                                   case linx_opts:target(In) of
                                       {ok, T} -> {ok, {Mark, Skip, T}};
                                       {error, _} -> {error, {bad_op, Op, {bad_netns, In}}}
                                   end
                           end, Ns) of
        {ok, NsPatches} -> {ok, {Req, Patches ++ NsPatches}};
        {error, _} = Error -> Error
    end.
