%% @doc The process behind {@link linx_rtnl:subscribe/2}: it owns an
%% rtnetlink socket joined to the asked groups, decodes what arrives and
%% sends it to the subscriber as `{linx_rtnl, Ref, Event}'.
%%
%% A resync is `{resync, Objects}': every object of the groups' kinds
%% that can be dumped (links, addresses, nexthops, routes, neighbours
%% and bridge forwarding entries, rules), as
%% `{Kind, new, Map}' in the kernel's order, dumped after the socket has
%% joined the groups, so that no change falls between the two: the
%% events after it may repeat what it holds, never miss it. One comes
%% first with `list_existing', and one instead of `{error, enobufs}'
%% after the kernel dropped events (unless `resync => false').
%%
%% It monitors the subscriber and ends, closing the socket, when the
%% subscriber exits or calls {@link linx_rtnl:unsubscribe/1}. The socket
%% is opened by this process itself, so it is its controlling process
%% from the start and nothing is left open if it dies.
-module(linx_rtnl_events).

-export([start/3, stop/1]).
-export([init/4]).

-define(RECV_BUF, 65536).

%% @doc Starts a subscription of `Owner' to `Groups' (group numbers)
%% with the options of {@link linx_netlink:open/2} and `list_existing'
%% and `resync' (booleans); returns once the socket is open (and with
%% `list_existing' the first resync sent), or its error.
-spec start(pid(), [pos_integer()], map()) -> {ok, reference()} | {error, term()}.
start(Owner, Groups, Opts) ->
    case [KV || {_, V} = KV <- maps:to_list(maps:with([list_existing, resync], Opts)), not is_boolean(V)] of
        [] -> start_checked(Owner, Groups, Opts);
        [KV | _] -> {error, {bad_option, KV}}
    end.

start_checked(Owner, Groups, Opts) ->
    Ref = make_ref(),
    {Pid, Mon} = spawn_monitor(?MODULE, init, [Owner, Ref, Groups, Opts]),
    receive
        {Ref, ok} ->
            demonitor(Mon, [flush]),
            put({linx_rtnl, Ref}, Pid),
            {ok, Ref};
        {Ref, {error, _} = Error} ->
            demonitor(Mon, [flush]),
            Error;
        {'DOWN', Mon, process, Pid, Reason} ->
            {error, {subscriber_died, Reason}}
    end.

%% @doc Ends the caller's subscription `Ref' and removes its events from
%% the caller's mailbox.
-spec stop(reference()) -> ok.
stop(Ref) ->
    case erase({linx_rtnl, Ref}) of
        Pid when is_pid(Pid) ->
            Mon = monitor(process, Pid),
            Pid ! {stop, Ref},
            receive {'DOWN', Mon, process, Pid, _} -> ok end;
        _ ->
            ok
    end,
    flush(Ref).

flush(Ref) ->
    receive
        {linx_rtnl, Ref, _} -> flush(Ref)
    after 0 ->
        ok
    end.

%% @private
-spec init(pid(), reference(), [pos_integer()], map()) -> ok.
init(Owner, Ref, Groups, Opts) ->
    Mon = monitor(process, Owner),
    Dump = maps:with([in, timeout, via], Opts),
    St = #{owner => Owner, ref => Ref, mon => Mon, kinds => kinds(Groups), dump => Dump,
           resync => maps:get(resync, Opts, true)},
    case linx_netlink:open(route, Groups, maps:without([list_existing, resync], Opts)) of
        {ok, S} ->
            ok = socket:setopt(S, otp, rcvbuf, ?RECV_BUF),
            First = case maps:get(list_existing, Opts, false) of
                        true -> objects(St);
                        false -> ok
                    end,
            case First of
                {error, _} = Error ->
                    _ = socket:close(S),
                    Owner ! {Ref, Error},
                    ok;
                _ ->
                    _ = [Owner ! {linx_rtnl, Ref, {resync, Objects}} || {ok, Objects} <- [First]],
                    Owner ! {Ref, ok},
                    loop(St#{socket => S})
            end;
        {error, _} = Error ->
            Owner ! {Ref, Error},
            ok
    end.

loop(#{socket := S, owner := Owner, ref := Ref, mon := Mon} = St) ->
    case socket:recv(S, 0, nowait) of
        {ok, Data} ->
            deliver(Data, Owner, Ref),
            loop(St);
        {select, {select_info, _, Handle}} ->
            receive
                {'$socket', S, select, Handle} ->
                    loop(St);
                {stop, Ref} ->
                    _ = socket:close(S),
                    ok;
                {'DOWN', Mon, process, Owner, _} ->
                    _ = socket:close(S),
                    ok
            end;
        {error, enobufs} when map_get(resync, St) ->
            %% The kernel says so once, and drops what follows without a
            %% word until the queue has been read empty: empty it first,
            %% so that a loss after the dump is told again.
            case drain(S) of
                ok ->
                    Owner ! {linx_rtnl, Ref, case objects(St) of
                                                 {ok, Objects} -> {resync, Objects};
                                                 {error, Reason} -> {error, {resync, Reason}}
                                             end},
                    loop(St);
                {error, Reason} ->
                    Owner ! {linx_rtnl, Ref, {error, Reason}},
                    _ = socket:close(S),
                    ok
            end;
        {error, enobufs} ->
            Owner ! {linx_rtnl, Ref, {error, enobufs}},
            loop(St);
        {error, Reason} ->
            Owner ! {linx_rtnl, Ref, {error, Reason}},
            _ = socket:close(S),
            ok
    end.

%% Each message is copied out of the receive buffer (see
%% linx_nl_codec:decode_copied/1): an event kept unread would otherwise
%% keep the whole buffer.
deliver(Data, Owner, Ref) ->
    case linx_nl_codec:decode_copied(Data) of
        {ok, Msgs} ->
            lists:foreach(fun(Msg) ->
                                  Event = case linx_rtnl_msg:decode(Msg) of
                                              {ok, E} -> E;
                                              {error, _} = Error -> Error
                                          end,
                                  Owner ! {linx_rtnl, Ref, Event}
                          end, Msgs);
        {error, _} = Error ->
            _ = Owner ! {linx_rtnl, Ref, Error},
            ok
    end.

%% Reads (and drops) what the socket holds until nothing is left.
drain(S) ->
    case socket:recv(S, 0, nowait) of
        {ok, _} -> drain(S);
        {error, enobufs} -> drain(S);
        {select, {select_info, _, Handle} = SelectInfo} ->
            _ = socket:cancel(S, SelectInfo),
            receive {'$socket', S, select, Handle} -> ok after 0 -> ok end;
        {error, _} = Error -> Error
    end.

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

%% Every object of the subscription's kinds now, as events.
objects(#{kinds := Kinds, dump := Opts}) ->
    objects(Kinds, Opts, []).

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
