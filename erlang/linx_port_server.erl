%% @doc The `gen_server' behind {@link linx_port}: one port program, the
%% requests it owes, the fd channel, and a restart when the program ends.
%%
%% The server is registered as `linx_port', the name of its API module,
%% which callers (and {@link linx_sup}'s child `linx_port') know it by;
%% {@link linx_port} describes what callers see. Here:
%% <ul>
%% <li>`init/1' starts the program ({@link linx_port_start}) and
%%     publishes the direct path ({@link linx_port_route}).</li>
%% <li>Calls: `{request, Op, Timeout}' and `{request_fd, Op, Mode, Timeout}'
%%     (sent by this server, answered from its table when the reply
%%     comes), `os_pid' and `info'.</li>
%% <li>Messages: the program's frames and the fd channel's descriptors
%%     ({@link linx_port_frames}), its exit, the once-a-second sweep of
%%     what nobody can take any more, and the ticks of the liveness watch
%%     ({@link linx_port_watch}).</li>
%% <li>When the program exits, the fd channel breaks or the watch finds
%%     the program hung, every waiting caller is answered with the reason
%%     and the server stops with `{shutdown, Reason}'; {@link linx_sup}
%%     starts a new one.</li>
%% </ul>
%% The server never suspends on a busy port: a request it cannot write at
%% once is written by a process of its own, killed at the request's
%% deadline.
-module(linx_port_server).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

-export([start_link/0]).

%% gen_server callbacks
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

%% The registered name: that of the API module, which callers call.
-define(NAME, linx_port).
%% How often entries nobody can take any more are dropped.
-define(SWEEP_MS, 1000).
%% How long a broken fd channel waits for the program's exit status.
-define(EXIT_GRACE_MS, 500).

-record(state, {
    port :: port(),
    os_pid :: non_neg_integer(),
    version :: binary(),
    fd_sock :: socket:socket(),
    fd_name :: binary(),
    %% request ids, shared with callers on the direct path
    ids :: atomics:atomics_ref(),
    waiters :: linx_port_route:waiters(),
    %% the requests this server sent itself
    table :: linx_port_frames:table(),
    watch :: linx_port_watch:watch()
}).

-type state() :: #state{}.

%% @doc Starts the server, registered as `linx_port', and the port
%% program, linked to the caller. Returns once the program has sent its
%% ready frame.
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?NAME}, ?MODULE, [], []).

%%====================================================================
%% gen_server callbacks
%%====================================================================

%% @private
-spec init([]) -> {ok, state()} | {stop, {port_start_failed, term()}}.
init([]) ->
    process_flag(trap_exit, true),
    %% A server before this one that was killed left its route behind.
    ok = linx_port_route:withdraw(),
    ok = linx_wire:ensure_atoms(),
    %% Loaded now: with no descriptor free, loading a module later fails,
    %% and these answer a descriptor lost for that very reason.
    _ = [{module, M} = code:ensure_loaded(M)
         || M <- [linx_port_frames, linx_port_fds, linx_fdchan, linx_error]],
    case linx_port_start:start() of
        {ok, Started} -> serve(Started);
        {error, Reason} -> {stop, {port_start_failed, Reason}}
    end.

%% @private
-spec handle_call(term(), gen_server:from(), state()) ->
          {noreply, state()} | {reply, term(), state()}.
handle_call({request, Op, Timeout}, From, State) ->
    Deadline = linx_opts:deadline(Timeout),
    send_request(Op, {reply, From, Deadline}, Deadline, State);
handle_call({request_fd, Op, Mode, Timeout}, From, State) ->
    Deadline = linx_opts:deadline(Timeout),
    send_request(Op, {fd, From, Mode, Deadline}, Deadline, State);
handle_call(os_pid, _From, #state{os_pid = OsPid} = State) ->
    {reply, OsPid, State};
handle_call(info, _From, State) ->
    #state{os_pid = OsPid, version = Version, fd_name = Name, waiters = Waiters,
           table = Table} = State,
    {reply, #{os_pid => OsPid,
              version => Version,
              pending => linx_port_frames:owed(Waiters, Table),
              parked => linx_port_frames:parked(Table),
              fd_channel => Name}, State};
handle_call(Request, _From, State) ->
    {reply, {error, {unknown_call, Request}}, State}.

-spec send_request(term(), linx_port_frames:waiter(), linx_opts:deadline(), state()) ->
          {noreply, state()} | {reply, {error, {badarg, too_large}}, state()}.
send_request(Op, Waiter, Deadline, #state{port = Port, ids = Ids, table = Table} = State) ->
    Id = atomics:add_get(Ids, 1, 1),
    case linx_wire:encode(Id, Op) of
        {ok, Frame} ->
            ok = send_frame(Port, Frame, Deadline),
            {noreply, State#state{table = linx_port_frames:add(Id, Waiter, Table)}};
        {error, _} = Error ->
            {reply, Error, State}
    end.

%% Writes a frame without this server ever being suspended on a busy port
%% (it would then route no reply and notice no hang): when the port is
%% busy, a process of its own waits to write the frame, and is killed at
%% the request's deadline (the caller has then given up). If the port is
%% already closed, the exit message is on its way and answers the caller
%% with the rest.
-spec send_frame(port(), binary(), linx_opts:deadline()) -> ok.
send_frame(Port, Frame, Deadline) ->
    case catch port_command(Port, Frame, [nosuspend]) of
        false ->
            Pid = spawn(fun() -> catch port_command(Port, Frame) end),
            _ = [erlang:send_after(linx_opts:remaining(Deadline), self(), {give_up, Pid})
                 || Deadline =/= infinity],
            ok;
        _ ->
            ok
    end.

%% @private
-spec handle_cast(term(), state()) -> {noreply, state()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private
-spec handle_info(term(), state()) ->
          {noreply, state()}
        | {stop, {shutdown, {port_exited, term()} | {port_hung, non_neg_integer()}}, state()}.
handle_info({Port, {data, Bin}}, #state{port = Port} = State) ->
    #state{os_pid = OsPid, waiters = Waiters, watch = Watch, table = Table} = State,
    Context = #{os_pid => OsPid, ping => linx_port_watch:ping_id(Watch)},
    {noreply, State#state{table = linx_port_frames:frame(Bin, Waiters, Context, Table)}};
handle_info({Port, {exit_status, Status}}, #state{port = Port} = State) ->
    port_exited(Status, State);
handle_info({'EXIT', Port, Reason}, #state{port = Port} = State) ->
    port_exited(Reason, State);
handle_info({'$socket', Sock, select, _Ref}, #state{fd_sock = Sock, table = Table} = State) ->
    case linx_port_frames:descriptors(Sock, Table) of
        {ok, Table1} -> {noreply, State#state{table = Table1}};
        {error, Reason, Table1} -> fd_channel_broken(Reason, State#state{table = Table1})
    end;
handle_info({'$socket', Sock, abort, {_Ref, Reason}}, #state{fd_sock = Sock} = State) ->
    fd_channel_broken(Reason, State);
handle_info(sweep, #state{waiters = Waiters, table = Table} = State) ->
    %% The direct-path entries of dead callers, and the requests of
    %% callers that died or gave up.
    _ = erlang:send_after(?SWEEP_MS, self(), sweep),
    _ = linx_port_route:sweep(Waiters),
    {noreply, State#state{table = linx_port_frames:sweep(Table)}};
handle_info({give_up, Sender}, State) ->
    exit(Sender, kill),
    {noreply, State};
handle_info(watch, #state{port = Port, ids = Ids, watch = Watch} = State) ->
    case linx_port_watch:check(Port, Ids, owed(State), Watch) of
        {ok, Watch1} ->
            {noreply, State#state{watch = Watch1}};
        {hung, Silent} ->
            ok = linx_port_watch:kill(State#state.os_pid, Silent, owed(State)),
            stop({port_hung, Silent}, State)
    end;
handle_info(Msg, State) ->
    ?LOG_WARNING("linx_port: unexpected message ~0tP", [Msg, 30]),
    {noreply, State}.

%% @private
-spec terminate(term(), state()) -> ok.
terminate(_Reason, #state{port = Port, fd_sock = Sock, table = Table}) ->
    ok = linx_port_route:withdraw(),
    _ = (catch port_close(Port)),
    _ = (catch socket:close(Sock)),
    linx_port_frames:close_all(Table).

%%====================================================================
%% Internal functions
%%====================================================================

%% The state of a server whose program is ready, which takes the
%% descriptors already sent and publishes its route.
-spec serve(linx_port_start:started()) -> {ok, state()} | {stop, {port_start_failed, term()}}.
serve(#{port := Port, os_pid := OsPid, fd_sock := Sock, fd_name := Name, version := Version}) ->
    {Waiters, Ids} = linx_port_route:publish(Port),
    State = #state{port = Port, os_pid = OsPid, version = Version, fd_sock = Sock,
                   fd_name = Name, ids = Ids, waiters = Waiters,
                   table = linx_port_frames:new(), watch = linx_port_watch:start()},
    case linx_port_frames:descriptors(Sock, State#state.table) of
        {ok, Table} ->
            _ = erlang:send_after(?SWEEP_MS, self(), sweep),
            {ok, State#state{table = Table}};
        {error, Reason, _} ->
            _ = (catch port_close(Port)),
            {stop, {port_start_failed, {fd_channel, Reason}}}
    end.

-spec fd_channel_broken(term(), state()) ->
          {stop, {shutdown, {port_exited, term()}}, state()}.
fd_channel_broken(Reason, #state{port = Port} = State) ->
    %% A program that died closed the channel too: its exit status, which
    %% follows within moments, says how it died.
    receive
        {Port, {exit_status, Status}} -> port_exited(Status, State)
    after ?EXIT_GRACE_MS ->
        ?LOG_ERROR("linx_port: fd channel broken (~0tp); restarting the port", [Reason]),
        _ = (catch port_close(Port)),
        port_exited({fd_channel, Reason}, State)
    end.

-spec port_exited(term(), state()) ->
          {stop, {shutdown, {port_exited, term()}}, state()}.
port_exited(Status, #state{os_pid = OsPid} = State) ->
    ?LOG_WARNING("linx_port: port program (OS pid ~b) ended: ~ts; ~b request(s) failed; "
                 "restarting it",
                 [OsPid, linx_port_start:exit_text(Status), owed(State)],
                 #{linx_os_pid => OsPid, domain => [linx]}),
    stop({port_exited, Status}, State).

%% The program is gone: every waiting caller is told why, and the server
%% stops as after a crash.
-spec stop(Reason, state()) -> {stop, {shutdown, Reason}, state()} when
      Reason :: {port_exited, term()} | {port_hung, non_neg_integer()}.
stop(Reason, #state{waiters = Waiters, table = Table} = State) ->
    {stop, {shutdown, Reason},
     State#state{table = linx_port_frames:fail_all({error, Reason}, Waiters, Table)}}.

%% How many requests the program owes an answer, on either path.
-spec owed(state()) -> non_neg_integer().
owed(#state{waiters = Waiters, table = Table}) ->
    linx_port_frames:owed(Waiters, Table).
