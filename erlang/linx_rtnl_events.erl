%% @doc The process behind {@link linx_rtnl:subscribe/2}: it owns an
%% rtnetlink socket joined to the asked groups, decodes what arrives and
%% sends it to the subscriber as `{linx_rtnl, Ref, Event}'.
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
%% with the options of {@link linx_netlink:open/2}; returns once the
%% socket is open, or its error.
-spec start(pid(), [pos_integer()], linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
start(Owner, Groups, Opts) ->
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
-spec init(pid(), reference(), [pos_integer()], linx_netlink:opts()) -> ok.
init(Owner, Ref, Groups, Opts) ->
    Mon = monitor(process, Owner),
    case linx_netlink:open(route, Groups, Opts) of
        {ok, S} ->
            ok = socket:setopt(S, otp, rcvbuf, ?RECV_BUF),
            Owner ! {Ref, ok},
            loop(#{socket => S, owner => Owner, ref => Ref, mon => Mon});
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
