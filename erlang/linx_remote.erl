%% @doc Requests to a `linx_port' running as a C-node, on this host or
%% another one, instead of the local port.
%%
%% A C-node (`linx_port --cnode --name linx@HOST --cookie-file FILE') is a
%% hidden Erlang node whose registered process `linx' answers
%% `gen_server:call({linx, Node}, Op)' with the same ops and results as the
%% port program (see `linx_port'). {@link linx_sysctl} and
%% {@link linx_netlink} send their requests there when given the option
%% `via => Node', or when the application environment of `linx' has
%% `{via, Node}'; `via => local' (the default) uses the local port.
%%
%% Errors follow {@link linx_port:request/2}: `{error, timeout}' when no
%% reply came in time, `{error, {nodedown, Node}}' when the C-node cannot
%% be reached or its connection broke while waiting (it was killed, say),
%% `{error, not_running}' when the node is up but serves no `linx'.
%% Nothing here hangs beyond its timeout or crashes its caller. An op
%% whose encoding would exceed the 16 MiB a C-node reads is refused before
%% it is sent: `{error, {badarg, too_large}}'; a timeout that is not
%% `infinity' or `0..16#FFFFFFFF' is `{error, {bad_timeout, T}}'.
%%
%% == A caller's timeout always holds ==
%% When the C-node stops reading (stopped, or too slow), the distribution
%% connection's buffer fills, and a process that sends on it, or even
%% removes a monitor through it, is suspended until it drains: past any
%% timeout (a `gen_server:call/3' waits there, at its send or at the
%% demonitor after its timeout). So the caller never touches the
%% connection: a short-lived proxy process makes the call (the messages
%% of a `gen_server' call: a monitor of `{linx, Node}' whose alias tags
%% the reply) and passes the result on, while the caller waits for it
%% with its timeout. At the timeout the caller kills the proxy (its
%% monitor goes with it, which never waits) and the call returns
%% `{error, timeout}', or `{error, {busy, dist}}' when the connection had
%% not taken the request yet (it never leaves). A call costs one process
%% spawn more than a plain `gen_server:call/3', a few microseconds.
%%
%% == Descriptors ==
%% Descriptors cannot travel over distribution. When the C-node runs on
%% this host, {@link request_fd/4} listens on a `SOCK_SEQPACKET' Unix
%% socket at a random abstract address (`<<0, "linx-", Hex/binary>>'),
%% sends `{fd_to, Name, Tag, Op}', accepts the C-node's connection only if
%% its `SO_PEERCRED' pid is the C-node's OS pid (asked with `os_pid'), and
%% takes the one descriptor that arrives tagged `<<Tag:64/big>>'. The
%% listener lives for this one request. A C-node on another host (by name
%% and address) gives `{error, {OpName, remote}}' at once; use
%% `{netlink_call, ...}' (`linx_netlink:call/3') there instead.
-module(linx_remote).

-export([via/1, same_host/1]).
-export([request/3, request/5, request_fd/4, os_pid/2]).

-export_type([via/0, error_reason/0]).

-type via() :: linx_opts:via().
%% Where requests go: the local port, or the C-node of that name.

-type error_reason() :: timeout
                      | not_running
                      | {nodedown, node()}
                      | {busy, dist}
                      | {port_exited, term()}
                      | {port_hung, non_neg_integer()}.

-type fd_mode() :: linx_fdchan:mode().

-define(ACCEPT_GRACE, 1000).

%% The reply tag of a `gen_server' call, `[alias | Mref]', is an improper
%% list (as in OTP's gen.erl).
-dialyzer({no_improper_lists, proxy/4}).

%% @doc The `via' of an options map, or the application's default.
%% `{error, {bad_via, V}}' unless it is `local' or a node name
%% (an atom with an `@').
-spec via(map()) -> {ok, via()} | {error, {bad_via, term()}}.
via(Opts) ->
    linx_opts:via(Opts).

%% @doc Sends `Op' to `Via' and waits at most `Timeout' for its result:
%% {@link linx_port:request/2} for `local', a `gen_server' call to
%% `{linx, Node}' otherwise. Either way the request is counted in
%% {@link linx_stats}.
-spec request(term(), timeout(), via()) -> term() | {error, error_reason()}.
request(Op, Timeout, local) ->
    linx_port:request(Op, Timeout);
request(Op, Timeout, Node) ->
    timed(Op, Timeout, fun() -> call(Op, Timeout, Node) end).

%% @doc {@link request/3} for an op that may be answered in parts, with
%% each part's replies folded into `Acc0' as they come: see
%% {@link linx_port:request/4}. A C-node sends every reply in the result,
%% so `Acc' is then `Acc0'.
-spec request(term(), timeout(), via(), fun(([binary()], Acc) -> Acc), Acc) ->
          {term() | {error, error_reason()}, Acc}.
request(Op, Timeout, local, Fun, Acc0) ->
    linx_port:request(Op, Timeout, Fun, Acc0);
request(Op, Timeout, Node, _Fun, Acc0) ->
    {request(Op, Timeout, Node), Acc0}.

%% @doc The OS pid of the C-node `Node'.
-spec os_pid(node(), timeout()) -> {ok, pos_integer()} | {error, term()}.
os_pid(Node, Timeout) ->
    case call(os_pid, Timeout, Node) of
        {ok, Pid} when is_integer(Pid), Pid > 0 -> {ok, Pid};
        {error, _} = Error -> Error;
        Other -> {error, {unexpected_reply, Other}}
    end.

%% @doc Sends an op that creates a socket and receives its descriptor,
%% like {@link linx_port:request_fd/3}: `raw' gives `{ok, Fd}' (the
%% caller's to close), `{adopt, Opts}' gives `{ok, Socket}' owned by the
%% calling process. See the module documentation for how the descriptor
%% travels; a C-node on another host gives `{error, {Name, remote}}'
%% where `Name' is the op's first element. The request is counted in
%% {@link linx_stats}.
-spec request_fd(tuple(), fd_mode(), timeout(), via()) ->
          {ok, non_neg_integer() | socket:socket()} | {error, term()}.
request_fd(Op, Mode, Timeout, local) ->
    linx_port:request_fd(Op, Mode, Timeout);
request_fd(Op, Mode, Timeout, Node) ->
    timed(Op, Timeout, fun() -> remote_fd(Op, Mode, Timeout, Node) end).

%% `Fun()', the round trip of `Op', counted in linx_stats, for an op a
%% C-node can take with a timeout a call can wait; else the error, before
%% anything is sent.
-spec timed(term(), term(), fun(() -> Result)) ->
          Result | {error, {badarg, too_large} | {bad_timeout, term()}}.
timed(Op, Timeout, Fun) ->
    case linx_port:valid_timeout(Timeout) andalso linx_wire:fits(Op) of
        false -> {error, {bad_timeout, Timeout}};
        ok -> linx_stats:timed(Op, Fun);
        {error, _} = Error -> Error
    end.

-spec remote_fd(tuple(), fd_mode(), timeout(), node()) ->
          {ok, non_neg_integer() | socket:socket()} | {error, term()}.
remote_fd(Op, Mode, Timeout, Node) ->
    Deadline = linx_opts:deadline(Timeout),
    case same_host(Node) andalso os_pid(Node, Timeout) of
        false ->
            {error, {element(1, Op), remote}};
        {ok, OsPid} ->
            with_listener(fun(L, Name) ->
                                  fd_round_trip(L, Name, OsPid, Op, Mode, Deadline, Node)
                          end);
        {error, _} = Error ->
            Error
    end.

%%====================================================================
%% One call, made by a proxy process (see the module doc)
%%====================================================================

%% One call to the C-node, not counted. The caller only waits for its
%% proxy's messages, with its timeout; at the timeout it kills the proxy
%% and the call ends, whatever the connection does.
-spec call(term(), timeout(), node()) -> term() | {error, error_reason()}.
call(Op, Timeout, Node) ->
    Caller = self(),
    Tag = make_ref(),
    {Pid, Mon} = spawn_monitor(fun() -> proxy(Caller, Tag, Node, Op) end),
    await({Pid, Mon, Tag}, linx_opts:deadline(Timeout), false).

%% The messages of `gen_server:call/3' (a monitor of `{linx, Node}' whose
%% alias tags the reply), from this short-lived process: it may wait in
%% the monitor or the send, and its monitor goes when it ends (which
%% never waits). Tells the caller `sent' once the connection took the
%% request, then the result.
-spec proxy(pid(), reference(), node(), term()) -> term().
proxy(Caller, Tag, Node, Op) ->
    CallerMon = erlang:monitor(process, Caller),
    Dest = {linx, Node},
    Mref = erlang:monitor(process, Dest, [{alias, demonitor}]),
    %% `noconnect': the connection the monitor set up (or is setting up);
    %% when there is none, the monitor fires at once.
    _ = erlang:send(Dest, {'$gen_call', {self(), [alias | Mref]}, Op}, [noconnect]),
    Caller ! {Tag, sent},
    receive
        {[alias | Mref], Reply} -> Caller ! {Tag, reply, Reply};
        {'DOWN', Mref, process, _, noconnection} -> Caller ! {Tag, reply, {error, {nodedown, Node}}};
        {'DOWN', Mref, process, _, _} -> Caller ! {Tag, reply, {error, not_running}};
        {'DOWN', CallerMon, process, Caller, _} -> gone
    end.

%% The proxy's result; at the deadline `{error, {busy, dist}}' when the
%% proxy is still suspended on the connection, before it sent the request
%% (which then never leaves), else `{error, timeout}'.
-spec await({pid(), reference(), reference()}, linx_opts:deadline(), boolean()) ->
          term() | {error, error_reason()}.
await({Pid, Mon, Tag} = Proxy, Deadline, Sent) ->
    receive
        {Tag, sent} ->
            await(Proxy, Deadline, true);
        {Tag, reply, Result} ->
            erlang:demonitor(Mon, [flush]),
            Result;
        {'DOWN', Mon, process, Pid, _} ->
            %% Killed by someone else: no answer will come.
            flush(Tag, {error, not_running})
    after linx_opts:remaining(Deadline) ->
        Busy = not Sent andalso erlang:process_info(Pid, status) =:= {status, suspended},
        exit(Pid, kill),
        receive {'DOWN', Mon, process, Pid, _} -> ok end,
        flush(Tag, case Busy of
                       true -> {error, {busy, dist}};
                       false -> {error, timeout}
                   end)
    end.

%% The proxy is gone: what it said last, taken from the mailbox (all of
%% it came before its 'DOWN'), else `Default'.
-spec flush(reference(), term()) -> term().
flush(Tag, Default) ->
    receive
        {Tag, sent} -> flush(Tag, {error, timeout});
        {Tag, reply, Result} -> Result
    after 0 ->
        Default
    end.

%% @doc Whether `Node' runs on this host: its host part is this node's,
%% `localhost' or this host's name, or resolves to a loopback address or
%% an address of one of this host's interfaces.
-spec same_host(node()) -> boolean().
same_host(Node) ->
    Host = host_part(Node),
    {ok, Hostname} = inet:gethostname(),
    Names = [host_part(node()), "localhost", Hostname],
    lists:member(Host, Names) orelse local_address(Host).

-spec host_part(node()) -> string().
host_part(Node) ->
    case string:split(atom_to_list(Node), "@") of
        [_, Host] -> Host;
        _ -> ""
    end.

-spec local_address(string()) -> boolean().
local_address(Host) ->
    case inet:getaddr(Host, inet) of
        {ok, {127, _, _, _}} ->
            true;
        {ok, Addr} ->
            case inet:getifaddrs() of
                {ok, Ifs} ->
                    lists:any(fun({_, Props}) -> lists:member({addr, Addr}, Props) end, Ifs);
                {error, _} ->
                    false
            end;
        {error, _} ->
            false
    end.

%%====================================================================
%% The per-request fd channel
%%====================================================================

-spec with_listener(fun((socket:socket(), binary()) -> Result)) ->
          Result | {error, {fd_channel, term()}}.
with_listener(Fun) ->
    case linx_fdchan:listen() of
        {ok, L, Name} ->
            try
                Fun(L, Name)
            after
                %% Closing the listener also drops any connection (and any
                %% descriptor queued on it) that was never accepted.
                _ = socket:close(L)
            end;
        {error, Reason} ->
            {error, {fd_channel, Reason}}
    end.

-spec fd_round_trip(socket:socket(), binary(), pos_integer(), tuple(), fd_mode(),
                    integer() | infinity, node()) -> {ok, term()} | {error, term()}.
fd_round_trip(L, Name, OsPid, Op, Mode, Deadline, Node) ->
    Tag = binary:decode_unsigned(linx_fdchan:random_bytes(8)),
    case call({fd_to, Name, Tag, Op}, linx_opts:remaining(Deadline), Node) of
        {ok, fd} ->
            %% The C-node connected and sent the descriptor before it
            %% replied: it is waiting in the listener's queue.
            receive_fd(L, OsPid, Tag, Mode, accept_deadline(Deadline));
        {error, _} = Error ->
            Error;
        Other ->
            {error, {unexpected_reply, Other}}
    end.

%% Takes the C-node's connection (refusing any other peer) and the one
%% descriptor that arrives on it tagged `Tag'.
-spec receive_fd(socket:socket(), pos_integer(), non_neg_integer(), fd_mode(),
                 integer() | infinity) -> {ok, term()} | {error, term()}.
receive_fd(L, OsPid, Tag, Mode, Deadline) ->
    case linx_fdchan:accept(L, {OsPid, exact}, Deadline, none) of
        {ok, S} ->
            try linx_fdchan:recv(S, linx_opts:remaining(Deadline)) of
                {ok, <<Tag:64/big>>, [Fd | Extra]} ->
                    lists:foreach(fun linx_fdchan:close_raw/1, Extra),
                    linx_fdchan:adopt(Fd, Mode, self());
                {dropped, <<Tag:64/big>>, Reason} ->
                    {error, {adopt, Reason}};
                {dropped, _, _} ->
                    {error, {fd_channel, bad_message}};
                {ok, _, Fds} ->
                    lists:foreach(fun linx_fdchan:close_raw/1, Fds),
                    {error, {fd_channel, bad_message}};
                {error, Reason} ->
                    {error, {fd_channel, Reason}}
            after
                _ = socket:close(S)
            end;
        {error, Reason} ->
            {error, {fd_channel, Reason}}
    end.

%% The descriptor is already queued when the reply arrives; a short grace
%% covers a caller whose own timeout has just run out.
-spec accept_deadline(integer() | infinity) -> integer() | infinity.
accept_deadline(infinity) -> infinity;
accept_deadline(D) -> max(D, erlang:monotonic_time(millisecond) + ?ACCEPT_GRACE).
