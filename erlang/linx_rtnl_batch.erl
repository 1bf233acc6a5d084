%% @doc rtnetlink batches ({@link linx_rtnl:batch/2}): the ops turned
%% into requests, sent ({@link linx_nl_batch}) and answered one result
%% each.
%%
%% A link an op names by its name is looked up by the port program when
%% an op first needs it and again after an op that changes links, so an
%% op may name a link an earlier op of the same batch made (or renamed).
-module(linx_rtnl_batch).

-export([run/2, request/1]).
-export([format_reason/2]).

-define(REQ, linx_rtnl_req).
%% Most ops in one batch (the program's MAX_BATCH).
-define(MAX_OPS, 10000).
%% Fewest ops of a batch run in a process of its own (own_heap/2), and
%% the heap words it starts with per op: what building and sending one
%% needs, so that a batch collects no garbage on its way.
-define(OWN_HEAP_OPS, 128).
-define(WORDS_PER_OP, 400).

%% @doc Runs `Ops' in the target of `Opts' (see {@link linx_rtnl:batch/2}):
%% the transport options and `atomic'.
-spec run(term(), term()) -> {ok, [linx_nl_batch:result()]} | {error, term()}.
run(Ops, Opts) ->
    case linx_opts:options(Opts, [atomic | linx_opts:transport()]) of
        {ok, #{opts := #{atomic := Atomic}}} when not is_boolean(Atomic) ->
            {error, {bad_option, {atomic, Atomic}}};
        {ok, #{opts := Map}} when is_list(Ops), Ops =/= [], length(Ops) =< ?MAX_OPS ->
            Send = case maps:get(atomic, Map, false) of
                       true -> fun atomic/3;
                       false -> fun send/3
                   end,
            own_heap(fun() -> run(Ops, maps:remove(atomic, Map), Send) end, length(Ops));
        {ok, _} ->
            {error, {bad_batch, Ops}};
        {error, _} = Error ->
            Error
    end.

%% A large batch runs in a process of its own whose heap is sized for it
%% from the start: building its requests makes much garbage, and in the
%% caller's heap every collection would also copy all the caller holds
%% (a caller with a thousand ops in hand holds much). The result, or the
%% exception, comes back to the caller.
own_heap(Fun, N) when N < ?OWN_HEAP_OPS ->
    Fun();
own_heap(Fun, N) ->
    Parent = self(),
    Ref = make_ref(),
    Run = fun() ->
                  Parent ! {Ref, try {ok, Fun()} catch Class:Reason:Stack -> {raise, Class, Reason, Stack} end}
          end,
    {Pid, Mon} = spawn_opt(Run, [monitor, {min_heap_size, N * ?WORDS_PER_OP}]),
    receive
        {Ref, Outcome} ->
            erlang:demonitor(Mon, [flush]),
            case Outcome of
                {ok, Result} -> Result;
                {raise, Class, Reason, Stack} -> erlang:raise(Class, Reason, Stack)
            end;
        {'DOWN', Mon, process, Pid, Reason} ->
            exit(Reason)
    end.

run(Ops, Opts, Send) ->
    case requests(Ops, #{}, []) of
        {ok, Requests} -> Send(Ops, Requests, Opts);
        {error, _} = Error -> Error
    end.

%% The request of each op, or the first op's error. Known keeps each
%% link reference checked so far
%% (linx_rtnl_req:link_id/1), and the resolver of each list of them, so
%% that a name many ops give (a thousand addresses on one link) is
%% checked once.
requests([Op | Ops], Known, Acc) ->
    case request(Op, Known) of
        {{ok, Request}, Known1} -> requests(Ops, Known1, [Request | Acc]);
        {{error, _} = Error, _} -> Error
    end;
requests([], _Known, Acc) ->
    {ok, lists:reverse(Acc)}.

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

change(Name) when Name =:= link_add; Name =:= addr_add; Name =:= route_add; Name =:= neigh_add;
                  Name =:= nexthop_add; Name =:= fdb_add -> add;
change(Name) when Name =:= link_del; Name =:= addr_del; Name =:= route_del; Name =:= neigh_del;
                  Name =:= nexthop_del; Name =:= fdb_del -> del;
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

before([What | Rest], Opts, Acc) ->
    Object = maps:get(What, #{links => link, addrs => addr, routes => route, neighs => neigh,
                              nexthops => nexthop}),
    Dump = linx_nl:dump(route, ?REQ:dump(Object), Opts, What,
                        fun(#{payload := P}) -> linx_rtnl_msg:decode_object(Object, P) end),
    case Dump of
        {ok, List} when What =:= neighs ->
            %% As linx_rtnl:neighs/1.
            before(Rest, Opts, Acc#{What => linx_rtnl_msg:ip_neighs(List)});
        {ok, List} -> before(Rest, Opts, Acc#{What => List});
        {error, _} = Error -> Error
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
    {Result, _Ids} = request(Op, #{}),
    Result.

%% request/1 with the link references checked already (and their
%% resolvers), and those this op adds.
request(Op, Known) ->
    Refs = refs(Op),
    {{Resolve, Patches}, Known1} =
        case Known of
            #{{resolver, Refs} := Found} ->
                {Found, Known};
            #{} ->
                Ids = lists:foldl(fun(Ref, Acc) when is_map_key({id, Ref}, Acc) -> Acc;
                                     (Ref, Acc) -> Acc#{{id, Ref} => ?REQ:link_id(Ref)}
                                  end, Known, Refs),
                New = resolver(Refs, Ids),
                {New, Ids#{{resolver, Refs} => New}}
        end,
    Result = case build(Op, Resolve) of
                 {ok, Req} -> {ok, {Req, Patches}};
                 {ok, Req, Slots} -> ns_patches(Op, Req, Slots, Patches);
                 {error, {bad_op, _}} -> {error, {bad_op, Op}};
                 {error, Reason} -> {error, {bad_op, Op, Reason}}
             end,
    {Result, Known1}.

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
build({addr_replace, Link, Addr}, Resolve) ->
    addr(replace, Link, Addr, Resolve);
build({route_add, Route}, Resolve) ->
    ?REQ:route(new, Route, Resolve);
build({route_replace, Route}, Resolve) ->
    ?REQ:route(replace, Route, Resolve);
build({route_del, Route}, Resolve) ->
    ?REQ:route(del, Route, Resolve);
build({neigh_add, Neigh}, Resolve) ->
    ?REQ:neigh(new, Neigh, Resolve);
build({neigh_del, Neigh}, Resolve) ->
    ?REQ:neigh(del, Neigh, Resolve);
build({fdb_add, Entry}, Resolve) ->
    linx_rtnl_fdb:request(new, Entry, Resolve);
build({fdb_del, Entry}, Resolve) ->
    linx_rtnl_fdb:request(del, Entry, Resolve);
build({rule_add, Rule}, _Resolve) ->
    ?REQ:rule(new, Rule);
build({rule_del, Rule}, _Resolve) ->
    ?REQ:rule(del, Rule);
build({nexthop_add, Spec}, Resolve) ->
    linx_rtnl_nexthop:request(add, Spec, Resolve);
build({nexthop_replace, Spec}, Resolve) ->
    linx_rtnl_nexthop:request(replace, Spec, Resolve);
build({nexthop_del, Spec}, Resolve) ->
    linx_rtnl_nexthop:request(del, Spec, Resolve);
build(_Op, _Resolve) ->
    {error, {bad_op, unknown}}.

addr(What, Link, Addr, Resolve) ->
    case Resolve(Link) of
        {ok, Index} -> ?REQ:addr(What, Index, Addr);
        {error, _} = Error -> Error
    end.

%% The links an op names, where a name may stand.
refs({link_add, Spec}) -> ?REQ:link_refs(Spec);
refs({link_set, Link, #{master := M}}) -> [Link, M];
refs({link_set, Link, _}) -> [Link];
refs({addr_add, Link, _}) -> [Link];
refs({addr_del, Link, _}) -> [Link];
refs({addr_replace, Link, _}) -> [Link];
refs({route_add, #{oif := L}}) -> [L];
refs({route_del, #{oif := L}}) -> [L];
refs({route_replace, #{oif := L}}) -> [L];
refs({neigh_add, #{index := L}}) -> [L];
refs({neigh_del, #{index := L}}) -> [L];
refs({nexthop_add, #{oif := L}}) -> [L];
refs({nexthop_replace, #{oif := L}}) -> [L];
refs({Fdb, Entry}) when Fdb =:= fdb_add; Fdb =:= fdb_del ->
    [maps:get(K, Entry) || is_map(Entry), K <- [linx_rtnl_fdb:link_key(Entry), via],
                           is_map_key(K, Entry)];
refs(_) -> [].

%% A resolver that turns each name among `Refs' into its placeholder,
%% and the patches that fill them in; an index stays as it is. `Ids' has
%% linx_rtnl_req:link_id/1 of each of `Refs'.
resolver(Refs, Ids) ->
    Id = fun(Ref) ->
                 case Ids of
                     #{{id, Ref} := Checked} -> Checked;
                     #{} -> ?REQ:link_id(Ref)
                 end
         end,
    Names = lists:usort([N || R <- Refs, {ok, 0, [N]} <- [Id(R)]]),
    Marks = maps:from_list(lists:zip(Names, lists:seq(0, length(Names) - 1))),
    Resolve = fun(Ref) ->
                      case Id(Ref) of
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
    Ns = [{?REQ:ns_fd_mark(Slot), 4, In} || {Slot, In} <- Slots, In =/= none,
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

%% @private The line of an error of a batch, `none' for another error;
%% `Text' renders a reason of linx_rtnl's.
-spec format_reason(term(), fun((term()) -> unicode:unicode_binary())) ->
          unicode:unicode_binary() | none.
format_reason(#{reason := batch_failed, index := I, op := Op, error := E, rolled_back := Undo,
                rollback_errors := Failed}, _Text) ->
    linx_error:line([io_lib:format("batch op ~b ~0tP failed (", [I, Op, 12]), linx:format_error(E),
                     io_lib:format("); ~b ops before it were rolled back with ~b undo ops", [I - 1, length(Undo)]),
                     [[io_lib:format(", ~b of which failed, the first ", [length(Failed)]),
                       first_failed(Failed)] || Failed =/= []]]);
format_reason(#{stage := ifindex, errno := enodev, links := Names} = Error, _Text) ->
    linx_error:line([atom_to_list(maps:get(op, Error, batch)),
                     linx_error:in_text(maps:get(in, Error, self)), " failed: no link named ",
                     lists:join(" or ", [linx_error:quote(N) || N <- Names])]);
format_reason({bad_op, Op, Reason}, Text) ->
    linx_error:line(io_lib:format("invalid batch op ~0tP: ~ts", [Op, 12, Text(Reason)]));
format_reason({bad_op, Op}, _Text) ->
    linx_error:invalid("batch op", Op, "a change of linx_rtnl as a tuple, such as {addr_add, Link, Addr}");
format_reason({bad_batch, {placeholder, Patch}}, _Text) ->
    linx_error:line(io_lib:format("batch op cannot be sent: a value of its request looks like the "
                                  "placeholder of ~0tp", [Patch]));
format_reason({bad_batch, []}, _Text) ->
    <<"invalid batch []: expected a list of 1 to 10000 ops">>;
format_reason({bad_batch, Ops}, _Text) when is_list(Ops) ->
    linx_error:line(io_lib:format("invalid batch of ~b ops: expected a list of 1 to 10000 ops",
                                  [length(Ops)]));
format_reason({bad_batch, Ops}, _Text) ->
    linx_error:line(io_lib:format("invalid batch ~0tP: expected a list of 1 to 10000 ops", [Ops, 12]));
format_reason(not_undoable, _Text) ->
    <<"an atomic batch cannot undo it (it moves or makes a link in another namespace, "
      "deletes a veth whose peer is in another one or a link of a kind it cannot make again, "
      "adds or deletes a rule, deletes an fdb entry without its mac, link and state, "
      "or replaces an IPv6 temporary address)">>;
format_reason(#{op := batch, stage := Stage, errno := Errno, code := Code} = E, _Text) ->
    linx_error:line(["batch", linx_error:in_text(maps:get(in, E, self)), " failed: ",
                     atom_to_list(Stage), " ", linx_error:term_text(Errno), linx_error:code_text(Code)]);
format_reason(_Reason, _Text) ->
    none.

first_failed([{Op, Reason} | _]) ->
    [io_lib:format("~0tP: ", [Op, 10]), linx:format_error(Reason)].

