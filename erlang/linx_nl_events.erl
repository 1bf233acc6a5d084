%% @private
%% The process behind a netlink event subscription
%% ({@link linx_rtnl:subscribe/2}, {@link linx_nft:subscribe/2}): it owns
%% a socket joined to the asked groups, decodes what arrives and sends it
%% to the subscriber as `{Tag, Ref, Event}'. What a family adds (its
%% protocol, its tag, how a message decodes, what a resync dumps) comes
%% from a callback module: linx_rtnl_events, linx_nft_events.
%%
%% A resync is `{resync, Objects}': every object of the subscription's
%% kinds now, as `{Kind, new, Map}', dumped after the socket has joined
%% the groups, so that no change falls between the two: the events after
%% it may repeat what it holds, never miss it. One comes first with
%% `list_existing', and one instead of `{error, enobufs}' after the
%% kernel dropped events (unless `resync => false').
%%
%% It monitors the subscriber and ends, closing the socket, when the
%% subscriber exits or calls `unsubscribe'. The socket is opened by this
%% process itself, so it is its controlling process from the start and
%% nothing is left open if it dies.
-module(linx_nl_events).

-export([start/5, stop/2]).
-export([init/6]).

-define(RECV_BUF, 65536).

%% The family's tag in `{Tag, Ref, Event}'.
-callback tag() -> atom().
%% The netlink protocol of the subscription's socket.
-callback protocol() -> linx_netlink:protocol().
%% The family's state from the argument given to start/5 and the dump
%% options (`in', `timeout', `via').
-callback init(term(), map()) -> term().
%% One message as the events it makes (none for one not asked for).
-callback decode(linx_nl_codec:msg(), State) -> {[term()], State}.
%% Every object of the subscription's kinds now, as events.
-callback objects(State) -> {{ok, [term()]} | {error, term()}, State}.

%% @doc Starts a subscription of `Owner' to `Groups' (group numbers),
%% `Arg' for `Mod:init/2', with the options of {@link linx_netlink:open/2} and `list_existing'
%% and `resync' (booleans); returns once the socket is open (and with
%% `list_existing' the first resync sent), or its error.
-spec start(module(), term(), pid(), [pos_integer()], map()) ->
          {ok, reference()} | {error, term()}.
start(Mod, Arg, Owner, Groups, Opts) ->
    case [KV || {_, V} = KV <- maps:to_list(maps:with([list_existing, resync], Opts)), not is_boolean(V)] of
        [] -> start_checked(Mod, Arg, Owner, Groups, Opts);
        [KV | _] -> {error, {bad_option, KV}}
    end.

start_checked(Mod, Arg, Owner, Groups, Opts) ->
    Ref = make_ref(),
    {Pid, Mon} = spawn_monitor(?MODULE, init, [Mod, Arg, Owner, Ref, Groups, Opts]),
    receive
        {Ref, ok} ->
            demonitor(Mon, [flush]),
            put({Mod:tag(), Ref}, Pid),
            {ok, Ref};
        {Ref, {error, _} = Error} ->
            demonitor(Mon, [flush]),
            Error;
        {'DOWN', Mon, process, Pid, Reason} ->
            {error, {subscriber_died, Reason}}
    end.

%% @doc Ends the caller's subscription `Ref' of tag `Tag' and removes its
%% events from the caller's mailbox.
-spec stop(atom(), reference()) -> ok.
stop(Tag, Ref) ->
    case erase({Tag, Ref}) of
        Pid when is_pid(Pid) ->
            Mon = monitor(process, Pid),
            Pid ! {stop, Ref},
            receive {'DOWN', Mon, process, Pid, _} -> ok end;
        _ ->
            ok
    end,
    flush(Tag, Ref).

flush(Tag, Ref) ->
    receive
        {Tag, Ref, _} -> flush(Tag, Ref)
    after 0 ->
        ok
    end.

%% @private
-spec init(module(), term(), pid(), reference(), [pos_integer()], map()) -> ok.
init(Mod, Arg, Owner, Ref, Groups, Opts) ->
    Mon = monitor(process, Owner),
    Dump = maps:with([in, timeout, via], Opts),
    St = #{mod => Mod, tag => Mod:tag(), owner => Owner, ref => Ref, mon => Mon,
           family => Mod:init(Arg, Dump), resync => maps:get(resync, Opts, true)},
    case linx_netlink:open(Mod:protocol(), Groups, maps:without([list_existing, resync], Opts)) of
        {ok, S} ->
            ok = socket:setopt(S, otp, rcvbuf, ?RECV_BUF),
            {First, St1} = case maps:get(list_existing, Opts, false) of
                               true -> objects(St);
                               false -> {ok, St}
                           end,
            case First of
                {error, _} = Error ->
                    _ = socket:close(S),
                    Owner ! {Ref, Error},
                    ok;
                _ ->
                    _ = [send(St1, {resync, Objects}) || {ok, Objects} <- [First]],
                    Owner ! {Ref, ok},
                    loop(St1#{socket => S})
            end;
        {error, _} = Error ->
            Owner ! {Ref, Error},
            ok
    end.

loop(#{socket := S, owner := Owner, ref := Ref, mon := Mon} = St) ->
    case socket:recv(S, 0, nowait) of
        {ok, Data} ->
            loop(deliver(Data, St));
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
                    {Result, St1} = objects(St),
                    send(St1, case Result of
                                  {ok, Objects} -> {resync, Objects};
                                  {error, Reason} -> {error, {resync, Reason}}
                              end),
                    loop(St1);
                {error, Reason} ->
                    send(St, {error, Reason}),
                    _ = socket:close(S),
                    ok
            end;
        {error, enobufs} ->
            send(St, {error, enobufs}),
            loop(St);
        {error, Reason} ->
            send(St, {error, Reason}),
            _ = socket:close(S),
            ok
    end.

send(#{tag := Tag, owner := Owner, ref := Ref}, Event) ->
    Owner ! {Tag, Ref, Event},
    ok.

objects(#{mod := Mod, family := F} = St) ->
    {Result, F1} = Mod:objects(F),
    {Result, St#{family := F1}}.

%% Each message is copied out of the receive buffer (see
%% linx_nl_codec:decode_copied/1): an event kept unread would otherwise
%% keep the whole buffer.
deliver(Data, #{mod := Mod} = St) ->
    case linx_nl_codec:decode_copied(Data) of
        {ok, Msgs} ->
            lists:foldl(fun(Msg, #{family := F} = Acc) ->
                                {Events, F1} = Mod:decode(Msg, F),
                                lists:foreach(fun(Event) -> send(Acc, Event) end, Events),
                                Acc#{family := F1}
                        end, St, Msgs);
        {error, _} = Error ->
            send(St, Error),
            St
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
