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

-type waiter() :: {reply, gen_server:from(), linx_opts:deadline()}
                | linx_port_fds:waiter().

-record(state, {
    port :: port(),
    os_pid :: non_neg_integer(),
    version :: binary(),
    fd_sock :: socket:socket(),
    fd_name :: binary(),
    %% request ids, shared with callers on the direct path
    ids :: atomics:atomics_ref(),
    waiters :: linx_port_route:waiters(),
    pending = #{} :: #{pos_integer() => waiter()},
    %% replies that came in parts ahead of a pending request's reply,
    %% newest part first
    parts = #{} :: #{pos_integer() => [[binary()]]},
    %% socket requests of which one half (reply or descriptor) is here
    halves = #{} :: linx_port_fds:halves(),
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
    _ = [{module, M} = code:ensure_loaded(M) || M <- [linx_port_fds, linx_fdchan, linx_error]],
    case linx_fdchan:listen() of
        {ok, Listener, Name} ->
            Result = case linx_port_args:command(Name) of
                         {ok, Path, Args, Program} ->
                             start_port(Path, Args, Listener, Name, Program);
                         {error, Reason} ->
                             {stop, {port_start_failed, Reason}}
                     end,
            _ = socket:close(Listener),
            Result;
        {error, Reason} ->
            {stop, {port_start_failed, {fd_channel, Reason}}}
    end.

%% @private
-spec handle_call(term(), gen_server:from(), state()) ->
          {noreply, state()} | {reply, term(), state()}.
handle_call({request, Op, Timeout}, From, State) ->
    send_request(Op, {reply, From, linx_opts:deadline(Timeout)}, State);
handle_call({request_fd, Op, Mode, Timeout}, From, State) ->
    send_request(Op, {fd, From, Mode, linx_opts:deadline(Timeout)}, State);
handle_call(os_pid, _From, #state{os_pid = OsPid} = State) ->
    {reply, OsPid, State};
handle_call(info, _From, State) ->
    #state{os_pid = OsPid, version = Version, fd_name = Name,
           halves = Halves} = State,
    {reply, #{os_pid => OsPid,
              version => Version,
              pending => owed(State),
              parked => map_size(Halves),
              fd_channel => Name}, State};
handle_call(Request, _From, State) ->
    {reply, {error, {unknown_call, Request}}, State}.

-spec send_request(op(), waiter(), state()) ->
          {noreply, state()} | {reply, {error, {badarg, too_large}}, state()}.
send_request(Op, Waiter, #state{port = Port, ids = Ids, pending = Pending} = State) ->
    Id = atomics:add_get(Ids, 1, 1),
    case linx_wire:encode(Id, Op) of
        {ok, Frame} ->
            ok = send_frame(Port, Frame, deadline_of(Waiter)),
            {noreply, State#state{pending = Pending#{Id => Waiter}}};
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

-spec passed(linx_opts:deadline(), integer()) -> boolean().
passed(infinity, _Now) -> false;
passed(Deadline, Now) -> Now > Deadline.

%% @private
-spec handle_cast(term(), state()) -> {noreply, state()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private
-spec handle_info(term(), state()) ->
          {noreply, state()}
        | {stop, {shutdown, {port_exited, term()} | {port_hung, non_neg_integer()}}, state()}.
handle_info({Port, {data, Bin}}, #state{port = Port, waiters = Waiters} = State) ->
    case linx_wire:frame_id(Bin) of
        {Kind, Id} when Id > 0 ->
            case linx_port_route:route_frame(Kind, Waiters, Id, Bin) of
                true -> {noreply, State};
                false -> {noreply, handle_frame(Bin, State)}
            end;
        _ ->
            {noreply, handle_frame(Bin, State)}
    end;
handle_info({Port, {exit_status, Status}}, #state{port = Port} = State) ->
    port_exited(Status, State);
handle_info({'EXIT', Port, Reason}, #state{port = Port} = State) ->
    port_exited(Reason, State);
handle_info({'$socket', Sock, select, _Ref}, #state{fd_sock = Sock} = State) ->
    case recv_fds(State) of
        {ok, State1} -> {noreply, State1};
        {error, Reason, State1} -> fd_channel_broken(Reason, State1)
    end;
handle_info({'$socket', Sock, abort, {_Ref, Reason}}, #state{fd_sock = Sock} = State) ->
    fd_channel_broken(Reason, State);
handle_info(sweep, State) ->
    _ = erlang:send_after(?SWEEP_MS, self(), sweep),
    {noreply, sweep(State)};
handle_info({give_up, Sender}, State) ->
    exit(Sender, kill),
    {noreply, State};
handle_info(watch, #state{port = Port, ids = Ids, watch = Watch} = State) ->
    case linx_port_watch:check(Port, Ids, owed(State), Watch) of
        {ok, Watch1} -> {noreply, State#state{watch = Watch1}};
        {hung, Silent} -> port_hung(Silent, State)
    end;
handle_info(Msg, State) ->
    ?LOG_WARNING("linx_port: unexpected message ~0tP", [Msg, 30]),
    {noreply, State}.

%% @private
-spec terminate(term(), state()) -> ok.
terminate(_Reason, #state{port = Port, fd_sock = Sock, halves = Halves}) ->
    ok = linx_port_route:withdraw(),
    _ = (catch port_close(Port)),
    _ = (catch socket:close(Sock)),
    linx_port_fds:close_all(Halves).

%%====================================================================
%% Internal functions
%%====================================================================

-spec start_port(file:filename_all(), [string() | binary()], socket:socket(), binary(),
                 file:filename_all()) ->
          {ok, state()} | {stop, {port_start_failed, term()}}.
start_port(Path, Args, Listener, Name, Program) ->
    try open_port({spawn_executable, Path},
                  [{packet, 4}, binary, exit_status, use_stdio,
                   {args, Args}]) of
        Port ->
            case linx_port_start:handshake(Port, Listener, Program) of
                {ok, OsPid, Sock, Version} ->
                    ok = linx_stats:port_started(),
                    {Waiters, Ids} = linx_port_route:publish(Port),
                    State = #state{port = Port, os_pid = OsPid, version = Version,
                                   fd_sock = Sock, fd_name = Name, ids = Ids,
                                   waiters = Waiters, watch = linx_port_watch:start()},
                    case recv_fds(State) of
                        {ok, State1} ->
                            _ = erlang:send_after(?SWEEP_MS, self(), sweep),
                            {ok, State1};
                        {error, Reason, _} ->
                            _ = (catch port_close(Port)),
                            {stop, {port_start_failed, {fd_channel, Reason}}}
                    end;
                {error, Reason} ->
                    _ = (catch port_close(Port)),
                    {stop, {port_start_failed, Reason}}
            end
    catch
        error:Reason ->
            {stop, {port_start_failed, {open_port, Reason}}}
    end.

%% Receives every descriptor waiting on the channel, then re-arms the
%% select. A broken channel is an error.
-spec recv_fds(state()) -> {ok, state()} | {error, term(), state()}.
recv_fds(#state{fd_sock = Sock} = State) ->
    case linx_fdchan:recv(Sock, nowait) of
        {ok, <<Id:64/big>>, [Fd | Extra]} ->
            lists:foreach(fun linx_fdchan:close_raw/1, Extra),
            recv_fds(fd_arrived(Id, Fd, State));
        {dropped, <<Id:64/big>>, Reason} ->
            ?LOG_WARNING("linx_port: the descriptor for request ~b was lost on the "
                         "fd channel (~0tp)", [Id, Reason]),
            recv_fds(fd_arrived(Id, {dropped, Reason}, State));
        {dropped, <<>>, _} ->
            {error, closed, State};
        {dropped, Other, _} ->
            ?LOG_ERROR("linx_port: malformed fd channel message ~0tP", [Other, 10]),
            recv_fds(State);
        {ok, Other, Fds} ->
            ?LOG_ERROR("linx_port: malformed fd channel message ~0tP", [Other, 10]),
            lists:foreach(fun linx_fdchan:close_raw/1, Fds),
            recv_fds(State);
        {select, _} ->
            {ok, State};
        {error, Reason} ->
            {error, Reason, State}
    end.

-spec fd_arrived(pos_integer(), linx_port_fds:arrived(), state()) -> state().
fd_arrived(Id, Arrived, #state{pending = Pending, halves = Halves} = State) ->
    {Pending1, Halves1} = linx_port_fds:descriptor(Id, Arrived, Pending, Halves),
    State#state{pending = Pending1, halves = Halves1}.

%% Drops the direct-path entries of dead callers, and the requests whose
%% caller died or whose timeout has passed (closing a descriptor that came
%% for one): their replies, if they still come, go nowhere.
-spec sweep(state()) -> state().
sweep(#state{waiters = Waiters, pending = Pending, halves = Halves} = State) ->
    _ = linx_port_route:sweep(Waiters),
    Now = erlang:monotonic_time(millisecond),
    Gone = [Id || {Id, Waiter} <- maps:to_list(Pending), abandoned(Waiter, Now)],
    State#state{pending = maps:without(Gone, Pending),
                parts = maps:without(Gone, State#state.parts),
                halves = linx_port_fds:drop(Gone, Halves)}.

-spec abandoned(waiter(), integer()) -> boolean().
abandoned(Waiter, Now) ->
    {Caller, _} = from(Waiter),
    passed(deadline_of(Waiter), Now) orelse not is_process_alive(Caller).

-spec from(waiter()) -> gen_server:from().
from({reply, From, _}) -> From;
from({fd, From, _, _}) -> From.

-spec deadline_of(waiter()) -> linx_opts:deadline().
deadline_of({reply, _, Deadline}) -> Deadline;
deadline_of({fd, _, _, Deadline}) -> Deadline.

-spec handle_frame(binary(), state()) -> state().
handle_frame(Bin, #state{pending = Pending, parts = Parts} = State0) ->
    case linx_wire:decode(Bin) of
        {ok, {Id, more, Replies}} when is_integer(Id), Id > 0, is_list(Replies) ->
            %% A part of the reply of a request the server sent: kept for
            %% its reply (one whose caller is gone is dropped).
            case is_map_key(Id, Pending) of
                true -> State0#state{parts = Parts#{Id => [Replies | maps:get(Id, Parts, [])]}};
                false -> State0
            end;
        {ok, {Id, Result0}} when is_integer(Id), Id > 0 ->
            {Taken, Parts1} = case maps:take(Id, Parts) of
                                  {T, P} -> {T, P};
                                  error -> {[], Parts}
                              end,
            Result = linx_port_route:with_parts(Result0, Taken),
            State = State0#state{parts = Parts1},
            case maps:take(Id, Pending) of
                {{fd, _, _, _} = Waiter, Rest} ->
                    {Pending1, Halves} = linx_port_fds:reply(Id, Result, Waiter, {Pending, Rest},
                                                             State#state.halves),
                    State#state{pending = Pending1, halves = Halves};
                {{reply, From, _}, Rest} ->
                    gen_server:reply(From, Result),
                    State#state{pending = Rest};
                error ->
                    case linx_port_watch:ping_id(State#state.watch) of
                        Id ->
                            %% The liveness ping: its coming is what counts.
                            ok;
                        _ ->
                            %% A caller that timed out is no longer waiting.
                            ?LOG_DEBUG("linx_port: reply for unknown id ~b: ~0tP",
                                       [Id, Result, 30])
                    end,
                    State
            end;
        {ok, {0, {log, Level, Text}}} when is_atom(Level), is_binary(Text) ->
            logger:log(log_level(Level), "linx_port[~b]: ~ts", [State0#state.os_pid, Text],
                       #{linx_os_pid => State0#state.os_pid, domain => [linx]}),
            State0;
        {ok, {0, Msg}} ->
            ?LOG_WARNING("linx_port: message from port program: ~0tP",
                         [Msg, 30]),
            State0;
        {ok, Other} ->
            ?LOG_ERROR("linx_port: malformed frame from port program: ~0tP",
                       [Other, 30]),
            State0;
        error ->
            undecodable_frame(Bin, State0)
    end.

%% A frame `[safe]' refused (typically an atom unknown to this node). If the
%% id can still be read, its caller gets an error instead of a timeout.
-spec undecodable_frame(binary(), state()) -> state().
undecodable_frame(Bin, #state{pending = Pending} = State) ->
    ?LOG_ERROR("linx_port: undecodable frame of ~b bytes from port program",
               [byte_size(Bin)]),
    case linx_wire:frame_id(Bin) of
        %% A lost part too: the reply would lack its replies.
        {_, Id} when is_map_key(Id, Pending) ->
            {Waiter, Rest} = maps:take(Id, Pending),
            gen_server:reply(from(Waiter), {error, {decode, reply}}),
            State#state{pending = Rest, parts = maps:remove(Id, State#state.parts),
                        halves = linx_port_fds:drop([Id], State#state.halves)};
        _ ->
            State
    end.

-spec log_level(atom()) -> logger:level().
log_level(L) when L =:= error; L =:= warning; L =:= notice; L =:= info; L =:= debug -> L;
log_level(_) -> notice.

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
port_exited(Status, #state{pending = Pending, waiters = Waiters} = State) ->
    Error = {error, {port_exited, Status}},
    ?LOG_WARNING("linx_port: port program (OS pid ~b) ended: ~ts; ~b request(s) failed; "
                 "restarting it",
                 [State#state.os_pid, linx_port_start:exit_text(Status), owed(State)],
                 #{linx_os_pid => State#state.os_pid, domain => [linx]}),
    ok = linx_port_route:fail_all(Waiters, Error),
    maps:foreach(fun(_Id, Waiter) -> gen_server:reply(from(Waiter), Error) end, Pending),
    {stop, {shutdown, {port_exited, Status}}, State#state{pending = #{}}}.

%% The program has not answered for `Silent' ms, nor a ping: kill it and
%% stop as after a crash, every waiting caller told why.
-spec port_hung(non_neg_integer(), state()) ->
          {stop, {shutdown, {port_hung, non_neg_integer()}}, state()}.
port_hung(Silent, #state{os_pid = OsPid, pending = Pending, waiters = Waiters} = State) ->
    ok = linx_port_watch:kill(OsPid, Silent, owed(State)),
    Error = {error, {port_hung, Silent}},
    ok = linx_port_route:fail_all(Waiters, Error),
    maps:foreach(fun(_Id, Waiter) -> gen_server:reply(from(Waiter), Error) end, Pending),
    {stop, {shutdown, {port_hung, Silent}}, State#state{pending = #{}}}.

%% How many requests the program owes an answer, on either path.
-spec owed(state()) -> non_neg_integer().
owed(#state{pending = Pending, waiters = Waiters}) ->
    map_size(Pending) + linx_port_route:waiting(Waiters).
