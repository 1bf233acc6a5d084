%% @doc The fd channel: how descriptors made by the port program (or a
%% C-node on this host) reach this node.
%%
%% Erlang listens on a `SOCK_SEQPACKET' Unix socket at a random abstract
%% address (`<<0, "linx-", Hex/binary>>', {@link listen/0}) and tells the
%% program its name. The program connects; {@link accept/4} takes only a
%% peer whose `SO_PEERCRED' pid is the expected one, or for the port
%% program a descendant of it that presents the start token (any other
%% connection is logged and closed), and the caller then closes the
%% listener.
%%
%% == The start token ==
%% A port program started through a wrapper (`exec', e.g. `"sudo -n"') is
%% a descendant of the port, not the port itself, and may run as another
%% user whose `/proc/PID/exe' this node cannot read. So
%% {@link linx_port_start} also writes a fresh random token
%% ({@link token/0}, 32 bytes from `/dev/urandom') as the first frame on
%% the program's stdin, which only this node can write, and the program
%% sends it back as the first message on the channel. A connection is taken only from the port or one of its
%% descendants (by the parent pids in `/proc/PID/stat', readable for any
%% user), whose executable is the program where that can be checked, and
%% which presents the token; a wrong, missing or late token, or a token
%% message that carries descriptors, refuses it.
%%
%% Each
%% descriptor arrives as one message: payload `<<Id:64/big>>' (the request
%% id, or a tag), control data `SCM_RIGHTS' ({@link recv/2}). A descriptor
%% is handed over as a number or adopted as a `socket:socket()'
%% ({@link adopt/3}); one nobody takes is closed ({@link close_raw/1}).
%%
%% {@link linx_port_server} keeps one channel for the life of the program;
%% {@link linx_remote} makes one per request to a C-node.
-module(linx_fdchan).

-include_lib("kernel/include/logger.hrl").
-include_lib("kernel/include/file.hrl").

-export([listen/0, accept/4]).
-export([recv/2]).
-export([adopt/3]).
-export([close_fd/1, close_raw/1]).
-export([peer_pid/1, random_bytes/1, token/0]).

-export_type([mode/0, expect/0]).

-type mode() :: raw | {adopt, socket_opts()}.
%% What to do with a received descriptor: hand over the number, or adopt it
%% with `socket:open/2' and make the caller the socket's controlling process.

-type socket_opts() :: #{domain := socket:domain() | integer(),
                         type := socket:type() | integer(),
                         protocol := socket:protocol() | integer(),
                         atom() => term()}.

-type expect() :: {OsPid :: non_neg_integer(), exact}
                | {OsPid :: non_neg_integer(), Program :: file:filename_all(), Token :: binary()}.
%% The peer to accept: exactly the process `OsPid'; or `OsPid' or a
%% descendant of it (as when the port program is started through an
%% `exec' wrapper), not running another executable than `Program', that
%% sends `Token' as its first message.

%% Token size: what the program accepts (src/ops/fdchan.rs, MAX_TOKEN).
-define(TOKEN_BYTES, 32).

%% How many generations below the expected pid a wrapped program may be.
-define(MAX_DEPTH, 8).

%%====================================================================
%% Listen and accept
%%====================================================================

%% @doc A listening socket on a fresh random abstract address, and the
%% address's name (without the leading NUL byte).
-spec listen() -> {ok, socket:socket(), binary()} | {error, term()}.
listen() ->
    Name = <<"linx-", (binary:encode_hex(random_bytes(12)))/binary>>,
    case kept(socket:open(local, seqpacket, default), fun(L) -> bind_listen(L, Name) end) of
        {ok, L} -> {ok, L, Name};
        {error, _} = Error -> Error
    end.

%% @doc Accepts connections until one comes from the expected peer, or the
%% deadline (a `millisecond' monotonic time, or `infinity') passes:
%% `{error, timeout}'. When `Port' is a port, its exit ends the wait with
%% `{error, {exit_status, Status}}'. An error of the listener is
%% `{error, Reason}'.
-spec accept(socket:socket(), expect(), integer() | infinity, port() | none) ->
          {ok, socket:socket()} | {error, term()}.
accept(Listener, Expect, Deadline, Port) ->
    Accepted = wait(Listener, fun(L) -> socket:accept(L, nowait) end, Deadline, Port),
    case kept(Accepted, fun(Sock) -> verify(Sock, peer_pid(Sock), Expect, Deadline, Port) end) of
        {refused, Peer, Why} ->
            ?LOG_WARNING("linx: fd channel connection from ~p refused: ~ts "
                         "(expected pid ~b)", [Peer, Why, element(1, Expect)]),
            accept(Listener, Expect, Deadline, Port);
        Result ->
            Result
    end.

%% @doc The pid of a connected Unix socket's peer (`SO_PEERCRED').
-spec peer_pid(socket:socket()) -> {ok, integer()} | {error, term()}.
peer_pid(Sock) ->
    %% SO_PEERCRED (level SOL_SOCKET, option 17): struct ucred {pid, uid, gid}.
    case socket:getopt_native(Sock, {socket, 17}, 12) of
        {ok, <<Pid:32/signed-native, _Uid:32/native, _Gid:32/native>>} -> {ok, Pid};
        {ok, Other} -> {error, {peercred, Other}};
        {error, _} = E -> E
    end.

%% @doc A secret start token ({@link expect()}): random bytes from the
%% kernel's generator.
-spec token() -> {ok, binary()} | {error, term()}.
token() ->
    case file:open("/dev/urandom", [read, raw, binary]) of
        {ok, F} ->
            Read = file:read(F, ?TOKEN_BYTES),
            ok = file:close(F),
            case Read of
                {ok, <<_:?TOKEN_BYTES/binary>> = Token} -> {ok, Token};
                {ok, Short} -> {error, {urandom, {short, byte_size(Short)}}};
                eof -> {error, {urandom, eof}};
                {error, Reason} -> {error, {urandom, Reason}}
            end;
        {error, Reason} ->
            {error, {urandom, Reason}}
    end.

%% @doc N random bytes, for names and tags that must not be guessed by
%% accident (not a secret: the channels check peer credentials).
-spec random_bytes(pos_integer()) -> binary().
random_bytes(N) ->
    << <<(rand:uniform(256) - 1)>> || _ <- lists:seq(1, N) >>.

%%====================================================================
%% Descriptors
%%====================================================================

%% @doc Receives one message: its payload and the descriptors it carried
%% (now this node's). `nowait' gives `{select, Info}' when nothing is
%% queued, as `socket:recvmsg/5' does.
%%
%% A message whose descriptor was lost on the way is
%% `{dropped, Payload, Reason}': the kernel could not install it in this
%% node and truncated the control data (`MSG_CTRUNC'), which happens when
%% this node has no descriptor free (`Reason' `emfile'), or the message
%% carried none (`no_descriptor').
-spec recv(socket:socket(), timeout() | nowait) ->
          {ok, binary(), [integer(), ...]}
        | {dropped, binary(), emfile | no_descriptor}
        | {select, term()}
        | {error, term()}.
recv(Sock, Timeout) ->
    case socket:recvmsg(Sock, 8, 64, [cmsg_cloexec], Timeout) of
        {ok, #{iov := Iov} = Msg} ->
            Fds = rights(Msg),
            Payload = iolist_to_binary(Iov),
            case {Fds, lists:member(ctrunc, maps:get(flags, Msg, []))} of
                {[_ | _], _} -> {ok, Payload, Fds};
                {[], true} -> {dropped, Payload, emfile};
                {[], false} -> {dropped, Payload, no_descriptor}
            end;
        {select, _} = Select ->
            Select;
        {error, _} = Error ->
            Error
    end.

%% @doc Hands a received descriptor over in `Mode' to `Owner': `raw' gives
%% the number, `{adopt, Opts}' a socket (its own duplicate; the number
%% received is closed either way) whose controlling process is `Owner'.
-spec adopt(integer(), mode(), pid()) ->
          {ok, integer() | socket:socket()} | {error, {adopt, term()}}.
adopt(Fd, raw, _Owner) ->
    {ok, Fd};
adopt(Fd, {adopt, Opts}, Owner) ->
    Adopted = socket:open(Fd, Opts#{dup => true}),
    close_raw(Fd),
    case Adopted of
        {ok, Sock} when Owner =:= self() ->
            {ok, Sock};
        {ok, Sock} ->
            case socket:setopt(Sock, otp, controlling_process, Owner) of
                ok ->
                    {ok, Sock};
                {error, Reason} ->
                    _ = socket:close(Sock),
                    {error, {adopt, Reason}}
            end;
        {error, Reason} ->
            {error, {adopt, Reason}}
    end.

%% @doc Closes a descriptor number this node holds. Refuses (and closes
%% nothing) when the number is not an open socket: `{error, ebadf}',
%% `{error, enotsock}'.
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

%% @doc Closes a descriptor this node received but no socket owns; a
%% failure is logged.
-spec close_raw(integer()) -> ok.
close_raw(Fd) ->
    case drop_fd(Fd) of
        ok ->
            ok;
        {error, Reason} ->
            ?LOG_ERROR("linx: cannot close descriptor ~b: ~0tp", [Fd, Reason]),
            ok
    end.

%%====================================================================
%% Internal functions
%%====================================================================

%% A socket just opened or accepted, `{ok, Sock}', kept when `Check(Sock)'
%% gives `ok'; else closed, and the result is what `Check' gave. An error
%% to open or accept it passes through.
-spec kept({ok, socket:socket()} | {error, term()}, fun((socket:socket()) -> ok | Other)) ->
          {ok, socket:socket()} | {error, term()} | Other.
kept({ok, Sock}, Check) ->
    case Check(Sock) of
        ok ->
            {ok, Sock};
        Other ->
            _ = socket:close(Sock),
            Other
    end;
kept({error, _} = Error, _Check) ->
    Error.

-spec bind_listen(socket:socket(), binary()) -> ok | {error, term()}.
bind_listen(L, Name) ->
    case socket:bind(L, #{family => local, path => <<0, Name/binary>>}) of
        ok -> socket:listen(L, 4);
        {error, _} = Error -> Error
    end.

%% Runs the nowait socket operation `Op' on `Sock' until it gives a result
%% other than `{select, _}', or the deadline passes (`{error, timeout}'),
%% or `Port' exits (`{error, {exit_status, Status}}').
-spec wait(socket:socket(), fun((socket:socket()) -> term()), integer() | infinity,
           port() | none) -> term().
wait(Sock, Op, Deadline, Port) ->
    case Op(Sock) of
        {select, {select_info, _, Ref} = Info} ->
            receive
                {'$socket', Sock, select, Ref} ->
                    wait(Sock, Op, Deadline, Port);
                {Port, {exit_status, Status}} when is_port(Port) ->
                    cancel(Sock, Info),
                    {error, {exit_status, Status}}
            after linx_opts:remaining(Deadline) ->
                cancel(Sock, Info),
                {error, timeout}
            end;
        Result ->
            Result
    end.

%% Whether an accepted connection is the expected peer: `ok', or
%% `{refused, Peer, Why}' (Peer as {@link peer_pid/1} gives it, Why a
%% text), or `{error, _}' when the wait for its token ended with the
%% port's exit.
-spec verify(socket:socket(), {ok, integer()} | {error, term()}, expect(),
             integer() | infinity, port() | none) ->
          ok | {refused, {ok, integer()} | {error, term()}, unicode:chardata()}
        | {error, {exit_status, term()}}.
verify(_Sock, Peer, {OsPid, exact} = Expect, _Deadline, _Port) ->
    case trusted_peer(Peer, Expect) of
        true -> ok;
        false -> {refused, Peer, io_lib:format("not pid ~b", [OsPid])}
    end;
verify(Sock, Peer, {_OsPid, _Program, Token} = Expect, Deadline, Port) ->
    case trusted_peer(Peer, Expect) of
        true ->
            case wait(Sock, fun(S) -> socket:recvmsg(S, 64, 64, [cmsg_cloexec], nowait) end,
                      Deadline, Port) of
                {ok, #{iov := Iov} = Msg} ->
                    Fds = rights(Msg),
                    lists:foreach(fun close_raw/1, Fds),
                    case Fds =:= [] andalso equal(iolist_to_binary(Iov), Token) of
                        true -> ok;
                        false -> {refused, Peer, "wrong start token"}
                    end;
                {error, {exit_status, _}} = Exit ->
                    Exit;
                {error, Reason} ->
                    {refused, Peer, io_lib:format("no start token (~0tp)", [Reason])}
            end;
        false ->
            {refused, Peer, "neither the port program nor a descendant running it"}
    end.

%% The descriptors a message received with `socket:recvmsg/5' carried
%% (`SCM_RIGHTS'), now this node's.
-spec rights(socket:msg_recv()) -> [integer()].
rights(Msg) ->
    [Fd || #{level := socket, type := rights, data := Data} <- maps:get(ctrl, Msg, []),
           <<Fd:32/signed-native>> <= Data].

%% Compares two binaries in a time that does not depend on where they differ.
-spec equal(binary(), binary()) -> boolean().
equal(A, B) when byte_size(A) =:= byte_size(B) ->
    lists:foldl(fun({X, Y}, Acc) -> Acc bor (X bxor Y) end, 0,
                lists:zip(binary_to_list(A), binary_to_list(B))) =:= 0;
equal(_, _) ->
    false.

-spec cancel(socket:socket(), term()) -> ok.
cancel(Listener, {select_info, _, Ref} = Info) ->
    _ = socket:cancel(Listener, Info),
    %% A select message sent just before the cancel must not stay behind.
    receive
        {'$socket', Listener, select, Ref} -> ok
    after 0 ->
        ok
    end.

%% The peer is the expected process, or (with a program path) a descendant
%% of it, as the port program is when started through an `exec' wrapper,
%% whose executable is not another file than the program's. That file
%% cannot be seen when the descendant runs as another user (sudo): the
%% start token then tells the program from anything else the wrapper may
%% have started.
-spec trusted_peer({ok, integer()} | {error, term()}, expect()) -> boolean().
trusted_peer({ok, OsPid}, {OsPid, exact}) ->
    true;
trusted_peer({ok, OsPid}, {OsPid, _Program, _Token}) ->
    true;
trusted_peer({ok, Pid} = Peer, {OsPid, Program, _Token}) ->
    descends_from(Peer, OsPid, ?MAX_DEPTH)
        andalso not other_file("/proc/" ++ integer_to_list(Pid) ++ "/exe", Program);
trusted_peer(_, _) ->
    false.

%% Whether `A' is known to be another file than `B'; not when either
%% cannot be looked at (`eacces': another user's process, or a program in
%% a directory this node's user cannot enter), which leaves it to the
%% start token.
-spec other_file(file:filename_all(), file:filename_all()) -> boolean().
other_file(A, B) ->
    case {file:read_file_info(A), file:read_file_info(B)} of
        {{ok, #file_info{major_device = D, inode = I}}, {ok, #file_info{major_device = D, inode = I}}} ->
            false;
        {{error, eacces}, _} ->
            false;
        {_, {error, eacces}} ->
            false;
        _ ->
            true
    end.

%% Whether the process is a descendant of Ancestor (within Depth
%% generations).
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
