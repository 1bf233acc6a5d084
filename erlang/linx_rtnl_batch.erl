%% @doc rtnetlink batches ({@link linx_rtnl:batch/2}): the ops turned
%% into requests, sent in one frame and answered one result each.
%%
%% A link an op names by its name is looked up by the port program just
%% before that op's request is sent, so an op may name a link an earlier
%% op of the same batch made (or renamed).
-module(linx_rtnl_batch).

-export([run/2, request/1]).

-export_type([op/0]).

-type op() :: linx_rtnl_undo:op().
%% One change: the arguments of the {@link linx_rtnl} function of the
%% same name, in a tuple.

-define(REQ, linx_rtnl_req).
%% Most ops in one batch (the program's MAX_BATCH).
-define(MAX_OPS, 10000).

%% @doc Runs `Ops' in the target of `Opts' (see {@link linx_rtnl:batch/2}).
-spec run(term(), term()) -> {ok, [linx_nl_batch:result()]} | {error, term()}.
run(Ops, Opts) when is_list(Ops), Ops =/= [], length(Ops) =< ?MAX_OPS ->
    case atomic(Opts) of
        {ok, false, Rest} -> run(Ops, Rest, fun send/3);
        {ok, true, Rest} -> run(Ops, Rest, fun atomic/3);
        {error, _} = Error -> Error
    end;
run(Ops, _Opts) ->
    {error, {bad_batch, Ops}}.

run(Ops, Opts, Send) ->
    case linx_error:map_ok(fun request/1, Ops) of
        {ok, Requests} -> Send(Ops, Requests, Opts);
        {error, _} = Error -> Error
    end.

%% The `atomic' option, and the others (the transport's).
atomic(Opts) when is_map(Opts) ->
    case maps:get(atomic, Opts, false) of
        B when is_boolean(B) -> {ok, B, maps:remove(atomic, Opts)};
        B -> {error, {bad_option, {atomic, B}}}
    end;
atomic(Opts) when is_list(Opts) ->
    case [V || {atomic, V} <- Opts] ++ [true || atomic <- Opts] of
        [] -> {ok, false, Opts};
        [B] when is_boolean(B) -> {ok, B, [O || O <- Opts, O =/= atomic, element_of(O) =/= atomic]};
        Bs -> {error, {bad_option, {atomic, Bs}}}
    end;
atomic(Opts) ->
    %% Bad options: the call reports them.
    {ok, false, Opts}.

element_of({K, _}) -> K;
element_of(_) -> none.

send(Ops, Requests, Opts) ->
    case linx_nl_batch:send(route, Requests, names(Ops), #{stop => false, opts => Opts}) of
        {ok, Results} -> {ok, owned(Ops, Requests, Results)};
        {error, _} = Error -> Error
    end.

%% All or nothing: the dumps the undo needs are taken first; the ops stop
%% at the first that fails, and those before it are undone in reverse
%% order. A link_set that fails may have been applied in part (the
%% kernel makes its changes one by one and stops at the first it
%% refuses): it is undone too.
atomic(Ops, Requests, Opts) ->
    case before(linx_rtnl_undo:needs(Ops), Opts, #{}) of
        {ok, Before} ->
            case linx_rtnl_undo:plan(Ops, Before) of
                {ok, Plan} -> atomic(Ops, Requests, Opts, {Plan, Before});
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

atomic(Ops, Requests, Opts, {Plan, Before}) ->
    case linx_nl_batch:send(route, Requests, names(Ops), #{stop => true, opts => Opts}) of
        {ok, Results} ->
            Owned = owned(Ops, Requests, Results),
            case lists:all(fun(R) -> R =:= ok end, Owned) andalso length(Owned) =:= length(Ops) of
                true ->
                    {ok, Owned};
                false ->
                    Failed = length(Owned),
                    {error, Reason} = lists:last(Owned),
                    Done = case lists:nth(Failed, Ops) of
                               {link_set, _, _} -> Failed;
                               _ -> Failed - 1
                           end,
                    Undo = lists:append(lists:reverse(lists:sublist(Plan, Done))),
                    Errors = rollback(Undo, Opts) ++ repair(Before, Opts),
                    {error, #{reason => batch_failed, index => Failed,
                              op => lists:nth(Failed, Ops), error => Reason,
                              rolled_back => Undo, rollback_errors => Errors}}
            end;
        {error, _} = Error ->
            Error
    end.

%% The undo ops, every one tried; the errors of those that failed. Two
%% undo ops may put back the same thing (an address deleted, then its
%% link): an add that finds it there, or a delete that finds it (or the
%% link it names) gone, has done its part.
rollback([], _Opts) ->
    [];
rollback(Undo, Opts) ->
    case run(Undo, Opts, fun send/3) of
        {ok, Results} -> [{Op, E} || {Op, {error, E}} <- lists:zip(Undo, Results), not done(Op, E)];
        {error, Reason} -> [{all, Reason}]
    end.

done(Op, #{stage := ifindex, errno := enodev}) ->
    change(element(1, Op)) =:= del;
done(Op, #{stage := netlink, errno := Errno}) ->
    case change(element(1, Op)) of
        add -> Errno =:= eexist;
        del -> lists:member(Errno, [enoent, esrch, enodev, eaddrnotavail]);
        set -> false
    end;
done(_Op, _Error) ->
    false.

change(Name) when Name =:= link_add; Name =:= addr_add; Name =:= route_add; Name =:= neigh_add -> add;
change(Name) when Name =:= link_del; Name =:= addr_del; Name =:= route_del; Name =:= neigh_del -> del;
change(_) -> set.

%% What the undo ops did not put back, because an op took it with what it
%% named (or the kernel changed it, as a bridge's address when its ports
%% come and go): put back (linx_rtnl_undo:missing/2).
repair(Before, _Opts) when not is_map_key(links, Before) ->
    [];
repair(Before, Opts) ->
    case before([links, addrs, routes, neighs], Opts, #{}) of
        {ok, Now} -> rollback(linx_rtnl_undo:missing(Before, Now), Opts);
        {error, Reason} -> [{repair, Reason}]
    end.

%% The dumps of linx_rtnl:links/1, addrs/1, routes/1 and neighs/1 (here,
%% so that this module needs no call back up).
before([What | Rest], Opts, Acc) ->
    {Object, Decode} = case What of
                           links -> {link, fun linx_rtnl_msg:decode_link/1};
                           addrs -> {addr, fun linx_rtnl_msg:decode_addr/1};
                           routes -> {route, fun linx_rtnl_msg:decode_route/1};
                           neighs -> {neigh, fun linx_rtnl_msg:decode_neigh/1}
                       end,
    case linx_nl:dump(route, ?REQ:dump(Object), Opts, What, fun(#{payload := P}) -> Decode(P) end) of
        {ok, List} when What =:= neighs ->
            %% Not the bridge's forwarding entries.
            before(Rest, Opts, Acc#{What => [N || #{family := F} = N <- List, F =:= inet orelse F =:= inet6]});
        {ok, List} ->
            before(Rest, Opts, Acc#{What => List});
        {error, _} = Error ->
            Error
    end;
before([], _Opts, Acc) ->
    {ok, Acc}.

names(Ops) ->
    [element(1, Op) || Op <- Ops].

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
