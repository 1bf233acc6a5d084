%% @doc The server that owns the `linx_port' program.
%%
%% `linx_port' is a `gen_server' registered under its module name. It starts
%% the Rust program `priv/linx_port' as an Erlang port, waits for the program
%% to say it is ready, and then forwards requests to it. Every request gets a
%% fresh id; the caller waits (`{noreply, ...}' in the server) until the
%% reply frame carrying that id arrives, so replies may come back in any order
%% and one slow request never blocks the others.
%%
%% When the program exits or is killed, every caller still waiting receives
%% `{error, {port_exited, Status}}' at once and the server stops with
%% `{shutdown, {port_exited, Status}}'; {@link linx_sup} then starts a new one.
%%
%% == Wire protocol ==
%%
%% `{packet, 4}' frames of `{Id, Op}' and `{Id, Result}' terms, described
%% in {@link linx_wire}. Until the program's ready frame
%% `{0, {ready, Version}}' arrives (at most 5 seconds) the server does not
%% finish starting; without it the start fails with
%% `{port_start_failed, Reason}'. Id-0 frames are logged. A reply that
%% cannot be decoded but whose id can still be read is answered with
%% `{error, {decode, reply}}'.
%%
%% A `netlink_call' with a part size may get `{Id, more, Replies}' frames
%% ahead of its reply: replies the program sends while the kernel is still
%% dumping. {@link request/4} folds them as they come; {@link request/2}
%% gathers them into its result.
%%
%% Callers normally send their frames themselves and get the reply frame
%% routed to them by id ({@link linx_port_route}); while the server is
%% (re)starting a request goes through a `gen_server' call instead, and
%% the server gathers any parts into the result.
%% Every request is counted in {@link linx_stats}, whichever the path and
%% whatever the result.
%%
%% == The fd channel ==
%%
%% Ops that create sockets answer `{ok, fd}': the descriptor itself travels
%% on the fd channel ({@link linx_fdchan}). Before starting the program this
%% server listens on a random abstract address and passes its name with
%% `--fd-socket'. It accepts exactly one peer, whose `SO_PEERCRED' pid must
%% be the program's OS pid (or, with an `exec' wrapper such as `sudo', a
%% descendant of it) and which must send back the random start token this
%% server wrote on the program's stdin ({@link linx_port_start}), and then
%% stops listening. A descriptor is handed over
%% only when both it and its `{ok, fd}' reply have arrived; one whose caller
%% is gone, whose caller's timeout has passed, whose reply is an error or
%% whose id is unknown is closed. A descriptor this node could not take
%% (no descriptor free: the kernel drops it and truncates the message)
%% answers its caller with `{error, {adopt, emfile}}'. If the channel
%% breaks, the server stops as if the program had exited.
%%
%% == Hung programs are replaced ==
%% A program that stops reading or answering (stopped, frozen in a
%% cgroup, stuck in the kernel) never holds a caller past its timeout
%% (callers and this server write with `nosuspend', see
%% {@link linx_port_route}), and it is found and replaced: when requests
%% are owed (some are pending, or were sent since the program last said
%% anything) and the program has sent nothing for `liveness_ms' (app env,
%% default 3000), the server sends it a ping; when that too goes
%% unanswered for `liveness_ms', the server kills the program (`SIGKILL')
%% and stops as after a crash: every waiting caller gets
%% `{error, {port_hung, Ms}}' (`Ms': how long the program had been
%% silent), the event is logged and counted (`port_hangs' in
%% {@link linx:stats/0}), and {@link linx_sup} starts a new program. The
%% program applies the same limit to its namespace helpers.
%%
%% == Nothing stays pending ==
%% Once a second the server drops what no caller can take any more: the
%% entries of callers that died while their request was in flight, and
%% requests whose caller's timeout has passed. {@link info/0} counts what
%% is left: `pending' requests and `parked' halves (an `{ok, fd}' reply
%% waiting for its descriptor, or a descriptor waiting for its reply).
%%
%% == Limits ==
%% A request whose frame would be longer than the program reads (16 MiB,
%% {@link linx_wire:max_frame/0}) is refused before it is sent:
%% `{error, {badarg, too_large}}'. A timeout is `infinity' or
%% `0..16#FFFFFFFF' milliseconds; anything else is
%% `{error, {bad_timeout, T}}'.
%%
%% == Configuration ==
%% The application environment of `linx' (`port_executable', `port_args',
%% `exec', `policy'), listed with its defaults in `linx.app.src', is read
%% at each start by {@link linx_port_args}.
%%
%% The program's own log lines arrive as `{0, {log, Level, Text}}' and go
%% to the OTP logger with metadata `#{linx_os_pid => OsPid}'.
-module(linx_port).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").

%% API
-export([start_link/0]).
-export([request/1, request/2, request/4, request_fd/3]).
-export([close_fd/1]).
-export([os_pid/0, info/0]).
-export([valid_timeout/1]).

%% gen_server callbacks
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-export_type([op/0, result/0, info/0]).

-type op() :: term().
%% A request understood by the port program, such as
%% `{sysctl_read, RelPath, Target}'.

-type result() :: term().
%% The program's answer to an op, or one of the errors of {@link request/2}.

-type info() :: #{os_pid := non_neg_integer(),
                  version := binary(),
                  pending := non_neg_integer(),
                  parked := non_neg_integer(),
                  fd_channel := binary()}.

-define(DEFAULT_TIMEOUT, 5000).
-define(MAX_TIMEOUT, 16#FFFFFFFF).
%% How often entries nobody can take any more are dropped.
-define(SWEEP_MS, 1000).
%% How long a broken fd channel waits for the program's exit status.
-define(EXIT_GRACE_MS, 500).

-type fd_mode() :: linx_fdchan:mode().

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
    %% see "Hung programs are replaced"
    watch :: linx_port_watch:watch()
}).

-type state() :: #state{}.

%%====================================================================
%% API
%%====================================================================

%% @doc Starts the server and the port program, linked to the caller.
%% Returns once the program has sent its ready frame.
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @equiv request(Op, 5000)
-spec request(op()) -> result().
request(Op) ->
    request(Op, ?DEFAULT_TIMEOUT).

%% @doc Sends `Op' to the port program and waits for its result.
%%
%% Besides the program's own result, this returns `{error, timeout}' when
%% no reply came within `Timeout' milliseconds, `{error, not_running}' when
%% the server is not running, `{error, {port_exited, Status}}' when the
%% program exited before answering, `{error, {port_hung, Ms}}' when it
%% stopped answering and was replaced, `{error, {busy, port}}' when it did
%% not read the request before the timeout (which was then never sent),
%% `{error, {badarg, too_large}}' when
%% the request is too large to send and `{error, {bad_timeout, Timeout}}'.
-spec request(op(), timeout()) -> result() | {error, Reason} when
      Reason :: timeout | not_running | {port_exited, term()}
              | {port_hung, non_neg_integer()} | {busy, port}
              | {badarg, too_large} | {bad_timeout, term()}.
request(Op, Timeout) ->
    case valid_timeout(Timeout) of
        true -> linx_stats:timed(Op, fun() -> route(Op, Timeout) end);
        false -> {error, {bad_timeout, Timeout}}
    end.

%% @doc {@link request/2} for an op that may be answered in parts (a
%% `netlink_call' that asks for them): the replies of each part that
%% comes ahead of the result go through `Fun(Replies, Acc)' in the
%% calling process as they come, starting from `Acc0', and the result
%% holds the replies after them. Returns `{Result, Acc}'. Where parts
%% are not sent separately (while the server is starting), the result
%% holds every reply and `Acc' is `Acc0'. `Fun' should not raise: if it
%% does, the call stops waiting and the exception goes on.
-spec request(op(), timeout(), fun(([binary()], Acc) -> Acc), Acc) -> {result(), Acc}.
request(Op, Timeout, Fun, Acc0) when is_function(Fun, 2) ->
    case valid_timeout(Timeout) of
        true -> linx_stats:timed(Op, fun() -> route(Op, Timeout, Fun, Acc0) end);
        false -> {{error, {bad_timeout, Timeout}}, Acc0}
    end.

%% An op that asks for parts gets them gathered into its result.
-spec route(op(), timeout()) -> result().
route(Op, Timeout) ->
    case linx_wire:asks_parts(Op) of
        true ->
            {Result, Parts} = route(Op, Timeout, fun(Replies, Acc) -> [Replies | Acc] end, []),
            linx_port_route:with_parts(Result, Parts);
        false ->
            case linx_port_route:request(Op, Timeout) of
                {ok, Result} -> Result;
                no_route -> call({request, Op, Timeout}, Timeout)
            end
    end.

-spec route(op(), timeout(), fun(([binary()], Acc) -> Acc), Acc) -> {result(), Acc}.
route(Op, Timeout, Fun, Acc0) ->
    case linx_port_route:request(Op, Timeout, Fun, Acc0) of
        {ok, ResultAcc} ->
            ResultAcc;
        no_route ->
            %% The server is (re)starting, or not there at all. A call
            %% waits for its start to finish, or says not_running; the
            %% server gathers any parts into the result.
            {call({request, Op, Timeout}, Timeout), Acc0}
    end.

-spec call(term(), timeout()) -> term().
call(Request, Timeout) ->
    try
        gen_server:call(?MODULE, Request, Timeout)
    catch
        exit:{timeout, _} ->
            {error, timeout};
        exit:{noproc, _} ->
            {error, not_running};
        exit:{{shutdown, {port_exited, Status}}, _} ->
            {error, {port_exited, Status}};
        exit:{{shutdown, {port_hung, Ms}}, _} ->
            {error, {port_hung, Ms}};
        exit:{Reason, _} ->
            {error, {port_exited, Reason}}
    end.

%% @doc Sends an op that creates a socket and waits for its descriptor.
%%
%% With `raw' the result is `{ok, Fd}', a descriptor number the caller now
%% owns (and must close). With `{adopt, Opts}' the descriptor is adopted with
%% `socket:open(Fd, Opts)' and the result is `{ok, Socket}' whose
%% controlling process is the caller. Errors are those of {@link request/2}.
-spec request_fd(op(), fd_mode(), timeout()) ->
          {ok, non_neg_integer() | socket:socket()} | {error, term()}.
request_fd(Op, Mode, Timeout) ->
    case valid_timeout(Timeout) of
        true ->
            linx_stats:timed(Op, fun() -> call({request_fd, Op, Mode, Timeout}, Timeout) end);
        false ->
            {error, {bad_timeout, Timeout}}
    end.

%% @doc Whether `Timeout' is one `receive ... after' takes: `infinity' or
%% `0..16#FFFFFFFF' milliseconds.
-spec valid_timeout(term()) -> boolean().
valid_timeout(infinity) -> true;
valid_timeout(T) -> is_integer(T) andalso T >= 0 andalso T =< ?MAX_TIMEOUT.

%% @doc Closes a descriptor number this node holds, such as one returned by
%% {@link request_fd/3} in `raw' mode. Refuses (and closes nothing) when
%% the number is not an open socket: `{error, ebadf}', `{error, enotsock}'.
%% See {@link linx_fdchan:close_fd/1}.
-spec close_fd(non_neg_integer()) -> ok | {error, Reason} when
      Reason :: ebadf | enotsock | {bad_fd, term()} | term().
close_fd(Fd) ->
    linx_fdchan:close_fd(Fd).

%% @doc Returns the OS process id of the running port program.
%% Exits (like `gen_server:call/2') when the server is not running.
-spec os_pid() -> non_neg_integer().
os_pid() ->
    gen_server:call(?MODULE, os_pid).

%% @doc Returns the program's OS pid and version, the number of requests
%% waiting for a reply (`pending') and of half-answered socket requests
%% (`parked': a reply waiting for its descriptor, or a descriptor waiting
%% for its reply). Exits when the server is not running.
-spec info() -> info().
info() ->
    gen_server:call(?MODULE, info).

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

-spec send_request(op(), linx_port_frames:waiter(), linx_opts:deadline(), state()) ->
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
