%% @doc Requests to the `linx_port' program, and the server that owns it.
%%
%% This module is the entry point callers use. The server behind it,
%% {@link linx_port_server}, is a `gen_server' registered as `linx_port'. It
%% starts the Rust program `priv/linx_port' as an Erlang port, waits for the
%% program to say it is ready, and then forwards requests to it. Every
%% request gets a fresh id; the caller waits until the reply frame carrying
%% that id arrives, so replies may come back in any order and one slow
%% request never blocks the others.
%%
%% When the program exits or is killed, every caller still waiting receives
%% `{error, {port_exited, Status}}' at once and the server stops with
%% `{shutdown, {port_exited, Status}}'; {@link linx_sup} then starts a new one.
%% A call made meanwhile, which reaches no program, gets
%% `{error, not_running}', also when it reaches the old server as it stops.
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
%% program applies the same limit to its namespace helpers. Only silence
%% while answers are owed counts, from the program's ready frame on (a
%% slow start is bounded by the start's own 5 seconds); any frame from the
%% program, a reply, a log line or the answer to a ping, proves it alive
%% ({@link linx_port_watch}).
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
%%
%% == Modules ==
%% <ul>
%% <li>{@link linx_port}: this API; a request goes on the direct path, or
%%     as a call to the server while it (re)starts.</li>
%% <li>{@link linx_port_server}: the `gen_server' (state, calls, messages,
%%     the program's end).</li>
%% <li>{@link linx_port_start}: the program's start and handshake;
%%     {@link linx_port_args}: its command line.</li>
%% <li>{@link linx_port_route}: the direct path, callers' own frames.</li>
%% <li>{@link linx_port_frames}: the requests the server sent itself and
%%     the frames and descriptors that answer them; {@link linx_port_fds}:
%%     a socket request's two halves.</li>
%% <li>{@link linx_port_watch}: the liveness watch.</li>
%% </ul>
-module(linx_port).

-export([start_link/0]).
-export([request/1, request/2, request/4, request_fd/3]).
-export([close_fd/1]).
-export([os_pid/0, info/0]).
-export([valid_timeout/1]).

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

%% The registered name of the server, linx_port_server.
-define(SERVER, linx_port).
-define(DEFAULT_TIMEOUT, 5000).
-define(MAX_TIMEOUT, 16#FFFFFFFF).

-type fd_mode() :: linx_fdchan:mode().

%%====================================================================
%% API
%%====================================================================

%% @doc Starts the server and the port program, linked to the caller.
%% Returns once the program has sent its ready frame.
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    linx_port_server:start_link().

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
    timed(Op, Timeout, fun() -> route(Op, Timeout) end).

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
        true ->
            linx_stats:timed(Op, fun() -> route(Op, Timeout, Fun, Acc0) end,
                             fun({Result, _Acc}) -> Result end);
        false ->
            {{error, {bad_timeout, Timeout}}, Acc0}
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

%% A server that stops because its program is gone (exited or hung) first
%% answers every request it took; a call that gets its exit instead of a
%% reply came after that and never reached a program, like any call made
%% while the program restarts: `not_running', not the error of the
%% requests the old program owed.
-spec call(term(), timeout()) -> term().
call(Request, Timeout) ->
    try
        gen_server:call(?SERVER, Request, Timeout)
    catch
        exit:{timeout, _} ->
            {error, timeout};
        exit:{noproc, _} ->
            {error, not_running};
        exit:{{shutdown, {port_exited, _}}, _} ->
            {error, not_running};
        exit:{{shutdown, {port_hung, _}}, _} ->
            {error, not_running};
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
    timed(Op, Timeout, fun() -> call({request_fd, Op, Mode, Timeout}, Timeout) end).

%% `Fun()', the round trip of `Op', counted in linx_stats; or
%% `{error, {bad_timeout, Timeout}}', before anything is sent.
-spec timed(op(), term(), fun(() -> Result)) -> Result | {error, {bad_timeout, term()}}.
timed(Op, Timeout, Fun) ->
    case valid_timeout(Timeout) of
        true -> linx_stats:timed(Op, Fun);
        false -> {error, {bad_timeout, Timeout}}
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
    gen_server:call(?SERVER, os_pid).

%% @doc Returns the program's OS pid and version, the number of requests
%% waiting for a reply (`pending') and of half-answered socket requests
%% (`parked': a reply waiting for its descriptor, or a descriptor waiting
%% for its reply). Exits when the server is not running.
-spec info() -> info().
info() ->
    gen_server:call(?SERVER, info).
