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
%% The port is opened with `{packet, 4}': every frame, in both directions,
%% is a 4-byte big-endian length followed by that many bytes, and those bytes
%% are one term in the external term format (`term_to_binary/1').
%%
%% <ul>
%% <li>Request (Erlang to program): `{Id, Op}', `Id' a positive integer
%%     chosen by this server (1, 2, 3, ...).</li>
%% <li>Reply (program to Erlang): `{Id, Result}' with the `Id' of the
%%     request. Replies are sent in whatever order the requests finish.</li>
%% <li>`Id' `0' is reserved for frames not tied to a request (a frame that
%%     did not decode, a log line, a fatal notice). They are logged.</li>
%% <li>The first frame the program sends is `{0, {ready, Version}}',
%%     `Version' a binary. Until it arrives (at most 5 seconds) the server
%%     does not finish starting; without it the start fails with
%%     `{port_start_failed, Reason}'.</li>
%% </ul>
%%
%% Targets (`Target' in every op) are `self', `{pid, OsPid}',
%% `{netns, Name}' (`/run/netns/Name') or `{ns, [NsPath]}' (entered in
%% order; `[]' enters nothing).
%%
%% Ops and their results:
%% <ul>
%% <li>`{sysctl_read, RelPath, Target}' gives `{ok, Value}', the raw
%%     contents of `/proc/sys/RelPath' (trailing newline kept).</li>
%% <li>`{sysctl_write, RelPath, Value, Target}' gives `ok'.</li>
%% <li>`{sysctl_list, RelPath, Target}' gives `{ok, [{RelPath, Value}]}'
%%     sorted by path; `RelPath' `<<>>' lists the whole tree.</li>
%% <li>`{netlink_call, Protocol, Msg, Target}' gives `{ok, [Binary]}':
%%     `Msg' (netlink messages) sent from a fresh socket in the target's
%%     network namespace, and every reply message, one binary each.</li>
%% </ul>
%% `RelPath' is a binary relative to `/proc/sys' with `/' separators.
%%
%% Any op may fail with `{error, {Stage, Errno}}': `Stage' is one of
%% `read', `write', `list', `open_ns', `unshare', `setns', `thread',
%% `open', `badarg', `decode', `busy' (and, for sockets, `socket',
%% `bind', `setsockopt', `send_fd', `send', `recv'); `Errno' is a lowercase errno atom
%% such as `eacces', or for `badarg' and `decode' a reason atom such as
%% `path', `target' or `value'.
%%
%% Replies are decoded with `binary_to_term(Bin, [safe])', so the program
%% can never create atoms in this node. A reply that cannot be decoded but
%% whose id can still be read is answered with `{error, {decode, reply}}'.
%%
%% == The fd channel ==
%%
%% Ops that create sockets (`{netlink_open, Protocol, Groups, Target}',
%% `{socket_open, Domain, Type, Protocol, Target}') answer `{ok, fd}': the
%% descriptor itself travels separately. Before starting the program this
%% server listens on a `SOCK_SEQPACKET' Unix socket at a random abstract
%% address (`<<0, "linx-", Random/binary>>') and passes its name with
%% `--fd-socket'. It accepts exactly one peer, whose `SO_PEERCRED' pid must
%% be the program's OS pid (any other connection is logged and closed), and
%% then stops listening. Each descriptor arrives as one message: payload
%% `<<Id:64/big>>', control data `SCM_RIGHTS'. A descriptor is handed over
%% only when both it and its `{ok, fd}' reply have arrived; one whose caller
%% is gone, whose caller's timeout has passed, whose reply is an error or
%% whose id is unknown is closed. If the channel breaks, the server stops as
%% if the program had exited.
%%
%% == Configuration ==
%% Application environment of `linx':
%% <ul>
%% <li>`port_executable': path of the program (default
%%     `priv/linx_port' of the application).</li>
%% <li>`port_args': list of arguments passed to it (default `[]').</li>
%% <li>`exec': a wrapper that starts the program, as a string or a list of
%%     strings, e.g. `"sudo -n"' for a node that runs unprivileged. The
%%     program then runs as a child of the wrapper: the fd channel accepts
%%     a peer whose pid is the port's OS pid or one of its descendants.</li>
%% <li>`policy': a map limiting what callers may do, enforced inside the
%%     program (it is passed on its command line at start and cannot be
%%     changed through the port): `ops' (a list of `sysctl_read',
%%     `sysctl_write', `sysctl_list', `netlink_open', `socket_open',
%%     `netlink_call', `batch'), `targets' (a list of `self', `ns', `pid',
%%     `netns') and `write_prefixes' (keys under which writes are allowed,
%%     in dot or slash form). A refused request gets
%%     `{error, {policy, op | target | path}}'.</li>
%% </ul>
%%
%% The program's own log lines arrive as `{0, {log, Level, Text}}' and go
%% to the OTP logger with metadata `#{linx_os_pid => OsPid}'.
-module(linx_port).
-behaviour(gen_server).

-include_lib("kernel/include/logger.hrl").
-include_lib("kernel/include/file.hrl").

%% API
-export([start_link/0]).
-export([request/1]).
-export([request/2]).
-export([request_fd/3]).
-export([close_fd/1]).
-export([peer_pid/1]).
-export([random_bytes/1]).
-export([os_pid/0]).
-export([info/0]).

%% gen_server callbacks
-export([init/1]).
-export([handle_call/3]).
-export([handle_cast/2]).
-export([handle_info/2]).
-export([terminate/2]).

-export_type([op/0]).
-export_type([result/0]).
-export_type([info/0]).

-type op() :: term().
%% A request understood by the port program, such as
%% `{sysctl_read, RelPath, Target}'.

-type result() :: term().
%% The program's answer to an op, or one of the errors of {@link request/2}.

-type info() :: #{os_pid := non_neg_integer(),
                  version := binary(),
                  pending := non_neg_integer(),
                  fd_channel := binary()}.

-define(READY_TIMEOUT, 5000).
%% Where callers find the port: {route, Server, Port, Waiters, Ids}.
-define(ROUTE, linx_port_route).
-define(DEFAULT_TIMEOUT, 5000).

%% Atoms the program may put in its frames. Replies are decoded with
%% `[safe]', which refuses atoms unknown to the node; naming them here (and
%% loading `linx', whose errno table names the errno atoms) makes sure they
%% exist before the first reply arrives.
-define(PROTOCOL_ATOMS,
        [ok, error, ready,
         %% stages
         read, write, list, open_ns, unshare, setns, thread, open,
         badarg, decode, busy, socket, bind, setsockopt, send_fd, panic,
         send, recv,
         %% reasons that are not errnos
         path, target, value, op, arity, badterm, badframe, too_large,
         encode, queue, workers, eunknown, batch, protocol, groups, domain,
         type, fd, msg, policy, log, notice, info, debug, helpers, helpers_started, apply_failed, sysctl_apply, settings,
         %% keys of the stats reply
         requests, errors, bad_frames, workers_started, uptime_ms]).

-type fd_mode() :: raw | {adopt, socket_opts()}.
%% What to do with a received descriptor: hand over the number, or adopt it
%% with `socket:open/2' and make the caller the socket's controlling process.

-type socket_opts() :: #{domain := socket:domain() | integer(),
                         type := socket:type() | integer(),
                         protocol := socket:protocol() | integer()}.

-type waiter() :: gen_server:from()
                | {fd, gen_server:from(), fd_mode(), Deadline :: integer()}.

-record(state, {
    port :: port(),
    os_pid :: non_neg_integer(),
    version :: binary(),
    fd_sock :: socket:socket(),
    fd_name :: binary(),
    %% request ids, shared with callers that send directly
    ids :: atomics:atomics_ref(),
    %% callers that sent directly: {Id, Alias}
    waiters :: ets:tid(),
    pending = #{} :: #{pos_integer() => waiter()},
    %% descriptors that arrived before their reply
    fds = #{} :: #{pos_integer() => non_neg_integer()},
    %% `{ok, fd}' replies that arrived before their descriptor
    parked = #{} :: #{pos_integer() => true}
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
%% the server is not running and `{error, {port_exited, Status}}' when the
%% program exited before answering.
-spec request(op(), timeout()) -> result() | {error, Reason} when
      Reason :: timeout | not_running | {port_exited, term()}.
request(Op, Timeout) ->
    try ets:lookup(?ROUTE, route) of
        [{route, Server, Port, Waiters, Ids}] ->
            direct(Op, Timeout, Server, Port, Waiters, Ids);
        [] ->
            call({request, Op}, Timeout)
    catch
        %% No route yet: the server is (re)starting, or not there at all.
        %% A call waits for its start to finish, or says not_running.
        error:badarg -> call({request, Op}, Timeout)
    end.

%% The caller's own round trip: it takes an id, registers its reply alias,
%% writes the frame to the port and decodes the reply itself; the server
%% only routes the reply frame (by id, without decoding it) to the alias.
%% The alias is also a monitor of the server, so a server that goes away
%% never leaves the caller waiting.
-spec direct(op(), timeout(), pid(), port(), ets:tid(), atomics:atomics_ref()) -> result().
direct(Op, Timeout, Server, Port, Waiters, Ids) ->
    T0 = erlang:monotonic_time(microsecond),
    Result = direct_call(Op, Timeout, Server, Port, Waiters, Ids),
    ok = linx_stats:record(Op, erlang:monotonic_time(microsecond) - T0, Result),
    Result.

-spec direct_call(op(), timeout(), pid(), port(), ets:tid(), atomics:atomics_ref()) -> result().
direct_call(Op, Timeout, Server, Port, Waiters, Ids) ->
    Id = atomics:add_get(Ids, 1, 1),
    Mref = erlang:monitor(process, Server, [{alias, reply_demonitor}]),
    try
        true = ets:insert(Waiters, {Id, Mref}),
        erlang:port_command(Port, term_to_binary({Id, Op}))
    of
        true -> await(Mref, Id, Waiters, Timeout)
    catch
        error:badarg ->
            erlang:demonitor(Mref, [flush]),
            _ = (catch ets:delete(Waiters, Id)),
            {error, not_running}
    end.

-spec await(reference(), pos_integer(), ets:tid(), timeout()) -> result().
await(Mref, Id, Waiters, Timeout) ->
    receive
        {Mref, {raw, Bin}} ->
            case decode(Bin) of
                {ok, {Id, Result}} -> Result;
                _ -> {error, {decode, reply}}
            end;
        {Mref, {result, Result}} ->
            Result;
        {'DOWN', Mref, process, _, Reason} ->
            _ = (catch ets:delete(Waiters, Id)),
            {error, {port_exited, down_reason(Reason)}}
    after Timeout ->
        erlang:demonitor(Mref, [flush]),
        _ = (catch ets:delete(Waiters, Id)),
        {error, timeout}
    end.

-spec down_reason(term()) -> term().
down_reason({shutdown, {port_exited, Status}}) -> Status;
down_reason(noproc) -> not_running;
down_reason(Reason) -> Reason.

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
    call({request_fd, Op, Mode, Timeout}, Timeout).

%% @doc Closes a descriptor number this node holds, such as one returned by
%% {@link request_fd/3} in `raw' mode. Refuses (and closes nothing) when
%% the number is not an open socket: `{error, ebadf}', `{error, enotsock}'.
%%
%% OTP 25's `socket:close/1' leaves open a descriptor adopted with
%% `socket:open(Fd, #{dup => false})'. The descriptor is instead adopted
%% (unregistered, never used) in a short-lived process that then drops it:
%% the socket resource's destructor closes a descriptor that was never
%% used, and that has happened by the time the process is gone.
-spec close_fd(non_neg_integer()) -> ok | {error, Reason} when
      Reason :: ebadf | enotsock | {bad_fd, term()} | term().
close_fd(Fd) when is_integer(Fd), Fd >= 0, Fd =< 16#7fffffff ->
    case file:read_link("/proc/self/fd/" ++ integer_to_list(Fd)) of
        {ok, "socket:" ++ _} -> drop_fd(Fd);
        {ok, _} -> {error, enotsock};
        {error, enoent} -> {error, ebadf};
        {error, _} = Error -> Error
    end;
close_fd(Fd) ->
    {error, {bad_fd, Fd}}.

%% @doc Returns the OS process id of the running port program.
%% Exits (like `gen_server:call/2') when the server is not running.
-spec os_pid() -> non_neg_integer().
os_pid() ->
    gen_server:call(?MODULE, os_pid).

%% @doc Returns the program's OS pid and version and the number of requests
%% waiting for a reply. Exits when the server is not running.
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
    ok = ensure_protocol_atoms(),
    case {executable(), policy_args(application:get_env(linx, policy, #{}))} of
        {{ok, Program}, {ok, PolicyArgs}} ->
            case listen_fd_channel() of
                {ok, Listener, Name} ->
                    Args = ["--fd-socket", Name | PolicyArgs ++ application:get_env(linx, port_args, [])],
                    {Path, AllArgs} = wrap(application:get_env(linx, exec, []), Program, Args),
                    Result = start_port(Path, AllArgs, Listener, Name, Program),
                    _ = socket:close(Listener),
                    Result;
                {error, Reason} ->
                    {stop, {port_start_failed, {fd_channel, Reason}}}
            end;
        {{error, Reason}, _} ->
            {stop, {port_start_failed, Reason}};
        {_, {error, Reason}} ->
            {stop, {port_start_failed, Reason}}
    end.

%% The policy as command-line arguments of the program.
-spec policy_args(term()) -> {ok, [string()]} | {error, {bad_policy, term()}}.
policy_args(Policy) when is_map(Policy) ->
    try
        Ops = [["--allow-ops", join_atoms(maps:get(ops, Policy))] || is_map_key(ops, Policy)],
        Targets = [["--allow-targets", join_atoms(maps:get(targets, Policy))]
                   || is_map_key(targets, Policy)],
        Prefixes = [["--allow-write-prefix", binary_to_list(prefix_path(K))]
                    || K <- maps:get(write_prefixes, Policy, [])],
        %% An empty list of prefixes allows no write at all.
        NoWrites = [["--no-writes"] || maps:get(write_prefixes, Policy, none) =:= []],
        Unknown = maps:keys(maps:without([ops, targets, write_prefixes], Policy)),
        [] = Unknown,
        {ok, lists:append(Ops ++ Targets ++ Prefixes ++ NoWrites)}
    catch
        _:_ -> {error, {bad_policy, Policy}}
    end;
policy_args(Policy) ->
    {error, {bad_policy, Policy}}.

-spec join_atoms([atom()]) -> string().
join_atoms(Atoms) when is_list(Atoms) ->
    lists:join($,, [atom_to_list(A) || A <- Atoms, is_atom(A)]).

-spec prefix_path(term()) -> binary().
prefix_path(Key) ->
    {ok, Path} = linx_sysctl:key_to_path(Key),
    Path.

%% The command to run: the program itself, or the wrapper with the program
%% as its first argument.
-spec wrap(string() | [string()], file:filename_all(), [string() | binary()]) ->
          {file:filename_all(), [string() | binary()]}.
wrap([], Program, Args) ->
    {Program, Args};
wrap([C | _] = Command, Program, Args) when is_integer(C) ->
    wrap(string:lexemes(Command, " "), Program, Args);
wrap([Wrapper | WrapperArgs], Program, Args) ->
    Path = case os:find_executable(Wrapper) of
               false -> Wrapper;
               Found -> Found
           end,
    {Path, WrapperArgs ++ [Program | Args]}.

%% @private
-spec handle_call(term(), gen_server:from(), state()) ->
          {noreply, state()} | {reply, term(), state()}.
handle_call({request, Op}, From, State) ->
    {noreply, send_request(Op, From, State)};
handle_call({request_fd, Op, Mode, Timeout}, From, State) ->
    Deadline = case Timeout of
                   infinity -> infinity_deadline();
                   _ -> erlang:monotonic_time(millisecond) + Timeout
               end,
    {noreply, send_request(Op, {fd, From, Mode, Deadline}, State)};
handle_call(os_pid, _From, #state{os_pid = OsPid} = State) ->
    {reply, OsPid, State};
handle_call(info, _From, State) ->
    #state{os_pid = OsPid, version = Version, pending = Pending, fd_name = Name,
           waiters = Waiters} = State,
    {reply, #{os_pid => OsPid,
              version => Version,
              pending => map_size(Pending) + ets:info(Waiters, size),
              fd_channel => Name}, State};
handle_call(Request, _From, State) ->
    {reply, {error, {unknown_call, Request}}, State}.

-spec send_request(op(), waiter(), state()) -> state().
send_request(Op, Waiter, #state{port = Port, ids = Ids, pending = Pending} = State) ->
    Id = atomics:add_get(Ids, 1, 1),
    %% If the port is already closed, port_command/2 fails; the exit
    %% message is then on its way and answers this caller with the rest.
    _ = (catch port_command(Port, term_to_binary({Id, Op}))),
    State#state{pending = Pending#{Id => Waiter}}.

-spec infinity_deadline() -> integer().
infinity_deadline() ->
    erlang:monotonic_time(millisecond) + 100 * 365 * 24 * 3600 * 1000.

%% @private
-spec handle_cast(term(), state()) -> {noreply, state()}.
handle_cast(_Msg, State) ->
    {noreply, State}.

%% @private
-spec handle_info(term(), state()) ->
          {noreply, state()}
        | {stop, {shutdown, {port_exited, term()}}, state()}.
handle_info({Port, {data, Bin}}, #state{port = Port, waiters = Waiters} = State) ->
    case frame_id(Bin) of
        {ok, Id} when Id > 0 ->
            case ets:take(Waiters, Id) of
                [{Id, Alias}] ->
                    Alias ! {Alias, {raw, Bin}},
                    {noreply, State};
                [] ->
                    {noreply, handle_frame(Bin, State)}
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
handle_info(Msg, State) ->
    ?LOG_WARNING("linx_port: unexpected message ~0tP", [Msg, 30]),
    {noreply, State}.

%% @private
-spec terminate(term(), state()) -> ok.
terminate(_Reason, #state{port = Port, fd_sock = Sock, fds = Fds}) ->
    _ = (catch port_close(Port)),
    _ = (catch socket:close(Sock)),
    maps:foreach(fun(_Id, Fd) -> close_raw(Fd) end, Fds),
    ok.

%%====================================================================
%% Internal functions
%%====================================================================

-spec ensure_protocol_atoms() -> ok.
ensure_protocol_atoms() ->
    _ = code:ensure_loaded(linx),
    lists:foreach(fun(A) when is_atom(A) -> ok end, ?PROTOCOL_ATOMS).

-spec executable() -> {ok, file:filename_all()} | {error, term()}.
executable() ->
    case application:get_env(linx, port_executable) of
        {ok, Path} ->
            {ok, Path};
        undefined ->
            case code:priv_dir(linx) of
                {error, Reason} ->
                    {error, {priv_dir, Reason}};
                Dir ->
                    {ok, filename:join(Dir, "linx_port")}
            end
    end.

-spec start_port(file:filename_all(), [string() | binary()], socket:socket(), binary(),
                 file:filename_all()) ->
          {ok, state()} | {stop, {port_start_failed, term()}}.
start_port(Path, Args, Listener, Name, Program) ->
    try open_port({spawn_executable, Path},
                  [{packet, 4}, binary, exit_status, use_stdio,
                   {args, Args}]) of
        Port ->
            Deadline = erlang:monotonic_time(millisecond) + ?READY_TIMEOUT,
            case start_sequence(Port, Listener, Deadline, Program) of
                {ok, OsPid, Sock, Version} ->
                    State = #state{port = Port, os_pid = OsPid, version = Version,
                                   fd_sock = Sock, fd_name = Name,
                                   ids = atomics:new(1, [{signed, false}]),
                                   waiters = ets:new(linx_port_waiters,
                                                     [public, {write_concurrency, true},
                                                      {read_concurrency, true}])},
                    ok = linx_stats:port_started(),
                    ?ROUTE = ets:new(?ROUTE, [named_table, protected, {read_concurrency, true}]),
                    true = ets:insert(?ROUTE, {route, self(), Port, State#state.waiters,
                                               State#state.ids}),
                    case recv_fds(State) of
                        {ok, State1} ->
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

-spec start_sequence(port(), socket:socket(), integer(), file:filename_all()) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
start_sequence(Port, Listener, Deadline, Program) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, OsPid} ->
            case accept_peer(Listener, Port, {OsPid, Program}, Deadline) of
                {ok, Sock} ->
                    case await_ready(Port, Deadline) of
                        {ok, Version} ->
                            {ok, OsPid, Sock, Version};
                        {error, _} = Error ->
                            _ = socket:close(Sock),
                            Error
                    end;
                {error, _} = Error ->
                    Error
            end;
        undefined ->
            {error, port_closed}
    end.

%% A listening SOCK_SEQPACKET socket on a random abstract address.
-spec listen_fd_channel() -> {ok, socket:socket(), binary()} | {error, term()}.
listen_fd_channel() ->
    Name = <<"linx-", (binary:encode_hex(random_bytes(12)))/binary>>,
    case socket:open(local, seqpacket, default) of
        {ok, L} ->
            case socket:bind(L, #{family => local, path => <<0, Name/binary>>}) of
                ok ->
                    case socket:listen(L, 4) of
                        ok -> {ok, L, Name};
                        {error, _} = E -> _ = socket:close(L), E
                    end;
                {error, _} = E ->
                    _ = socket:close(L),
                    E
            end;
        {error, _} = E ->
            E
    end.

%% @doc N random bytes, for names and tags that must not be guessed by
%% accident (not a secret: the channels check peer credentials).
-spec random_bytes(pos_integer()) -> binary().
random_bytes(N) ->
    << <<(rand:uniform(256) - 1)>> || _ <- lists:seq(1, N) >>.

%% Accepts connections until one comes from the port program itself
%% (SO_PEERCRED pid = its OS pid); every other peer is logged and closed.
-spec accept_peer(socket:socket(), port(), {non_neg_integer(), file:filename_all()}, integer()) ->
          {ok, socket:socket()} | {error, term()}.
accept_peer(Listener, Port, Expect, Deadline) ->
    case socket:accept(Listener, nowait) of
        {ok, Sock} ->
            Peer = peer_pid(Sock),
            case trusted_peer(Peer, Expect) of
                true ->
                    {ok, Sock};
                false ->
                    Other = Peer,
                    ?LOG_WARNING("linx_port: fd channel connection from ~p refused "
                                 "(expected pid ~b)", [Other, element(1, Expect)]),
                    _ = socket:close(Sock),
                    accept_peer(Listener, Port, Expect, Deadline)
            end;
        {select, {select_info, _, Ref} = Info} ->
            Timeout = max(0, Deadline - erlang:monotonic_time(millisecond)),
            receive
                {'$socket', Listener, select, Ref} ->
                    accept_peer(Listener, Port, Expect, Deadline);
                {Port, {exit_status, Status}} ->
                    {error, {exit_status, Status}}
            after Timeout ->
                _ = socket:cancel(Listener, Info),
                {error, fd_channel_timeout}
            end;
        {error, Reason} ->
            {error, {fd_channel, Reason}}
    end.

%% The peer is the port program: the process the port started, or (when
%% started through an `exec' wrapper) a descendant of it running the
%% program's own executable file. Anything else the wrapper may have
%% started is not trusted.
-spec trusted_peer({ok, integer()} | {error, term()}, {non_neg_integer(), file:filename_all()}) ->
          boolean().
trusted_peer({ok, OsPid}, {OsPid, _Program}) ->
    true;
trusted_peer({ok, Pid} = Peer, {OsPid, Program}) ->
    descends_from(Peer, OsPid, 8) andalso same_file("/proc/" ++ integer_to_list(Pid) ++ "/exe", Program);
trusted_peer(_, _) ->
    false.

-spec same_file(file:filename_all(), file:filename_all()) -> boolean().
same_file(A, B) ->
    case {file:read_file_info(A), file:read_file_info(B)} of
        {{ok, #file_info{major_device = D, inode = I}}, {ok, #file_info{major_device = D, inode = I}}} ->
            true;
        _ ->
            false
    end.

%% Whether the process is a descendant of Ancestor (within Depth
%% generations), as the program is when started through a wrapper.
-spec descends_from({ok, integer()} | {error, term()}, non_neg_integer(), non_neg_integer()) ->
          boolean().
descends_from(_, _, 0) ->
    false;
descends_from({ok, Pid}, Ancestor, Depth) when Pid > 1 ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat") of
        {ok, Stat} ->
            %% pid (comm) state ppid ...; comm may hold spaces and parens.
            [_, AfterComm] = string:split(Stat, ")", trailing),
            case string:lexemes(AfterComm, " ") of
                [_State, PPidBin | _] ->
                    PPid = binary_to_integer(PPidBin),
                    PPid =:= Ancestor orelse descends_from({ok, PPid}, Ancestor, Depth - 1);
                _ ->
                    false
            end;
        {error, _} ->
            false
    end;
descends_from(_, _, _) ->
    false.

%% @doc The pid of a connected Unix socket's peer (`SO_PEERCRED').
-spec peer_pid(socket:socket()) -> {ok, integer()} | {error, term()}.
peer_pid(Sock) ->
    %% SO_PEERCRED (level SOL_SOCKET, option 17): struct ucred {pid, uid, gid}.
    case socket:getopt_native(Sock, {socket, 17}, 12) of
        {ok, <<Pid:32/signed-native, _Uid:32/native, _Gid:32/native>>} -> {ok, Pid};
        {ok, Other} -> {error, {peercred, Other}};
        {error, _} = E -> E
    end.

%% Receives every descriptor waiting on the channel, then re-arms the
%% select. A broken channel is an error.
-spec recv_fds(state()) -> {ok, state()} | {error, term(), state()}.
recv_fds(#state{fd_sock = Sock} = State) ->
    case socket:recvmsg(Sock, 8, 64, [cmsg_cloexec], nowait) of
        {ok, #{iov := Iov} = Msg} ->
            Fds = [Fd || #{level := socket, type := rights, data := Data} <- maps:get(ctrl, Msg, []),
                         <<Fd:32/signed-native>> <= Data],
            case iolist_to_binary(Iov) of
                <<Id:64/big>> ->
                    recv_fds(fd_arrived(Id, Fds, State));
                <<>> when Fds =:= [] ->
                    {error, closed, State};
                Other ->
                    ?LOG_ERROR("linx_port: malformed fd channel message ~0tP", [Other, 10]),
                    lists:foreach(fun close_raw/1, Fds),
                    recv_fds(State)
            end;
        {select, _} ->
            {ok, State};
        {error, Reason} ->
            {error, Reason, State}
    end.

-spec fd_arrived(non_neg_integer(), [integer()], state()) -> state().
fd_arrived(Id, [Fd | Extra], #state{pending = Pending, fds = Fds, parked = Parked} = State) ->
    lists:foreach(fun close_raw/1, Extra),
    case Pending of
        #{Id := {fd, _, _, _} = Waiter} when is_map_key(Id, Parked) ->
            deliver(Waiter, Fd),
            State#state{pending = maps:remove(Id, Pending), parked = maps:remove(Id, Parked)};
        #{Id := {fd, _, _, _}} ->
            State#state{fds = Fds#{Id => Fd}};
        _ ->
            ?LOG_WARNING("linx_port: descriptor for unknown request ~b closed", [Id]),
            close_raw(Fd),
            State
    end;
fd_arrived(Id, [], State) ->
    ?LOG_WARNING("linx_port: fd channel message for ~b carried no descriptor", [Id]),
    State.

%% Both the descriptor and its `{ok, fd}' reply are here: hand it over, or
%% close it when nobody can take it any more.
-spec deliver(waiter(), integer()) -> ok.
deliver({fd, {Caller, _} = From, Mode, Deadline}, Fd) ->
    Late = erlang:monotonic_time(millisecond) > Deadline,
    case Late orelse not is_process_alive(Caller) of
        true ->
            close_raw(Fd);
        false when Mode =:= raw ->
            gen_server:reply(From, {ok, Fd});
        false ->
            {adopt, Opts} = Mode,
            %% The socket gets its own duplicate (closed by socket:close/1);
            %% the number received is closed here either way.
            Adopted = socket:open(Fd, Opts#{dup => true}),
            close_raw(Fd),
            case Adopted of
                {ok, Sock} ->
                    case socket:setopt(Sock, otp, controlling_process, Caller) of
                        ok ->
                            gen_server:reply(From, {ok, Sock});
                        {error, Reason} ->
                            _ = socket:close(Sock),
                            gen_server:reply(From, {error, {adopt, Reason}})
                    end;
                {error, Reason} ->
                    gen_server:reply(From, {error, {adopt, Reason}})
            end
    end.

%% Close a descriptor number this node holds but no socket owns.
-spec close_raw(integer()) -> ok.
close_raw(Fd) ->
    case drop_fd(Fd) of
        ok ->
            ok;
        {error, Reason} ->
            ?LOG_ERROR("linx_port: cannot close descriptor ~b: ~0tp", [Fd, Reason]),
            ok
    end.

%% See close_fd/1. The helper sends its result and exits; the descriptor
%% is closed once it is gone. Its message arrives before its 'DOWN'.
-spec drop_fd(non_neg_integer()) -> ok | {error, term()}.
drop_fd(Fd) ->
    Parent = self(),
    Tag = make_ref(),
    {Pid, Ref} = spawn_monitor(fun() ->
                                       Parent ! {Tag, adopt_and_collect(Fd)}
                               end),
    receive
        {'DOWN', Ref, process, Pid, Reason} ->
            receive
                {Tag, Result} -> Result
            after 0 ->
                {error, Reason}
            end
    end.

-spec adopt_and_collect(non_neg_integer()) -> ok | {error, term()}.
adopt_and_collect(Fd) ->
    case adopt_and_forget(Fd) of
        ok ->
            %% The socket term is dead now; collecting frees the resource.
            true = erlang:garbage_collect(),
            ok;
        {error, _} = Error ->
            Error
    end.

-spec adopt_and_forget(non_neg_integer()) -> ok | {error, term()}.
adopt_and_forget(Fd) ->
    try socket:open(Fd, #{dup => false, use_registry => false}) of
        {ok, _Socket} -> ok;
        {error, _} = Error -> Error
    catch
        error:Reason -> {error, Reason}
    end.


%% Waits for `{0, {ready, Version}}'. Other id-0 notices sent before it are
%% logged (even undecodable ones); any other frame means the program does
%% not speak this protocol.
-spec await_ready(port(), integer()) -> {ok, binary()} | {error, term()}.
await_ready(Port, Deadline) ->
    Timeout = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {Port, {data, Bin}} ->
            case decode(Bin) of
                {ok, {0, {ready, Version}}} when is_binary(Version) ->
                    {ok, Version};
                {ok, {0, Notice}} ->
                    ?LOG_WARNING("linx_port: notice before ready: ~0tP",
                                 [Notice, 30]),
                    await_ready(Port, Deadline);
                {ok, Other} ->
                    {error, {unexpected_frame, Other}};
                error ->
                    case frame_id(Bin) of
                        {ok, 0} ->
                            ?LOG_WARNING("linx_port: undecodable notice of "
                                         "~b bytes before ready",
                                         [byte_size(Bin)]),
                            await_ready(Port, Deadline);
                        _ ->
                            {error, {undecodable_frame, byte_size(Bin)}}
                    end
            end;
        {Port, {exit_status, Status}} ->
            {error, {exit_status, Status}};
        {'EXIT', Port, Reason} ->
            {error, {port_exit, Reason}}
    after Timeout ->
        {error, timeout}
    end.

-spec handle_frame(binary(), state()) -> state().
handle_frame(Bin, #state{pending = Pending} = State) ->
    case decode(Bin) of
        {ok, {Id, Result}} when is_integer(Id), Id > 0 ->
            case maps:take(Id, Pending) of
                {{fd, _, _, _} = Waiter, Rest} ->
                    fd_reply(Id, Result, Waiter, Rest, State);
                {From, Rest} ->
                    gen_server:reply(From, Result),
                    State#state{pending = Rest};
                error ->
                    %% A caller that timed out is no longer waiting.
                    ?LOG_DEBUG("linx_port: reply for unknown id ~b: ~0tP",
                               [Id, Result, 30]),
                    State
            end;
        {ok, {0, {log, Level, Text}}} when is_atom(Level), is_binary(Text) ->
            logger:log(log_level(Level), "linx_port[~b]: ~ts", [State#state.os_pid, Text],
                       #{linx_os_pid => State#state.os_pid, domain => [linx]}),
            State;
        {ok, {0, Msg}} ->
            ?LOG_WARNING("linx_port: message from port program: ~0tP",
                         [Msg, 30]),
            State;
        {ok, Other} ->
            ?LOG_ERROR("linx_port: malformed frame from port program: ~0tP",
                       [Other, 30]),
            State;
        error ->
            undecodable_frame(Bin, State)
    end.

%% A frame `[safe]' refused (typically an atom unknown to this node). If the
%% id can still be read, its caller gets an error instead of a timeout.
-spec undecodable_frame(binary(), state()) -> state().
undecodable_frame(Bin, #state{pending = Pending} = State) ->
    ?LOG_ERROR("linx_port: undecodable frame of ~b bytes from port program",
               [byte_size(Bin)]),
    case frame_id(Bin) of
        {ok, Id} when is_map_key(Id, Pending) ->
            {From, Rest} = maps:take(Id, Pending),
            gen_server:reply(From, {error, {decode, reply}}),
            State#state{pending = Rest};
        _ ->
            State
    end.

%% Reads the id of a `{Id, _}' frame without decoding the rest.
-spec frame_id(binary()) -> {ok, non_neg_integer()} | error.
frame_id(<<131, 104, 2, 97, Id:8, _/binary>>) ->
    {ok, Id};
frame_id(<<131, 104, 2, 98, Id:32/signed, _/binary>>) when Id >= 0 ->
    {ok, Id};
frame_id(<<131, 104, 2, 110, N:8, 0:8, Digits:N/binary, _/binary>>) ->
    {ok, binary:decode_unsigned(Digits, little)};
frame_id(_) ->
    error.

-spec decode(binary()) -> {ok, term()} | error.
decode(Bin) ->
    try binary_to_term(Bin, [safe]) of
        Term -> {ok, Term}
    catch
        error:badarg -> error
    end.

%% The reply to an fd op. `{ok, fd}' completes with the descriptor if it is
%% here, or waits for it; anything else is the answer, and a descriptor that
%% came for it anyway is closed.
-spec fd_reply(pos_integer(), term(), waiter(), #{pos_integer() => waiter()}, state()) -> state().
fd_reply(Id, {ok, fd}, Waiter, Rest, #state{fds = Fds, parked = Parked} = State) ->
    case maps:take(Id, Fds) of
        {Fd, Fds1} ->
            deliver(Waiter, Fd),
            State#state{pending = Rest, fds = Fds1};
        error ->
            State#state{parked = Parked#{Id => true}}
    end;
fd_reply(Id, Result, {fd, From, _, _}, Rest, #state{fds = Fds} = State) ->
    Answer = case Result of
                 {error, _} -> Result;
                 _ -> {error, {unexpected_reply, Result}}
             end,
    gen_server:reply(From, Answer),
    case maps:take(Id, Fds) of
        {Fd, Fds1} ->
            close_raw(Fd),
            State#state{pending = Rest, fds = Fds1};
        error ->
            State#state{pending = Rest}
    end.

-spec log_level(atom()) -> logger:level().
log_level(L) when L =:= error; L =:= warning; L =:= notice; L =:= info; L =:= debug -> L;
log_level(_) -> notice.

-spec fd_channel_broken(term(), state()) ->
          {stop, {shutdown, {port_exited, term()}}, state()}.
fd_channel_broken(Reason, #state{port = Port} = State) ->
    ?LOG_ERROR("linx_port: fd channel broken (~0tp); restarting the port", [Reason]),
    _ = (catch port_close(Port)),
    port_exited({fd_channel, Reason}, State).

-spec port_exited(term(), state()) ->
          {stop, {shutdown, {port_exited, term()}}, state()}.
port_exited(Status, #state{pending = Pending, waiters = Waiters} = State) ->
    Error = {error, {port_exited, Status}},
    ?LOG_WARNING("linx_port: port program ~b exited (~0tp); ~b request(s) failed",
                 [State#state.os_pid, Status, map_size(Pending) + ets:info(Waiters, size)],
                 #{linx_os_pid => State#state.os_pid, domain => [linx]}),
    _ = (catch ets:delete(?ROUTE)),
    lists:foreach(fun({_Id, Alias}) -> Alias ! {Alias, {result, Error}} end,
                  ets:tab2list(Waiters)),
    true = ets:delete_all_objects(Waiters),
    maps:foreach(fun(_Id, {fd, From, _, _}) -> gen_server:reply(From, Error);
                    (_Id, From) -> gen_server:reply(From, Error)
                 end, Pending),
    {stop, {shutdown, {port_exited, Status}}, State#state{pending = #{}}}.
