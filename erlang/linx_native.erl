%% @doc The native contracts of the NIF-based library linx replaces, served
%% by the port program: code written against `Linx.Sysctl.Native' and
%% `Linx.Netlink.Socket.Native' (Elixir, which wrap this module) or calling
%% these functions from Erlang runs unchanged. Names, arities, argument
%% orders and return shapes are those the NIF library documents; the work
%% is done in the port program, like the rest of linx, and nothing runs in
%% the VM's threads.
%%
%% == sysctl ==
%% Each fallible function takes `NsPaths', a list of binaries naming
%% namespace files (`/proc/PID/ns/KIND' or a pinned namespace file such
%% as `/run/netns/NAME'). The port program opens them in its own
%% namespaces (the node's, unless it was started through an `exec'
%% wrapper) and enters them in order; `[]' enters nothing.
%% <ul>
%% <li>{@link read_in_ns/2} returns `{ok, Binary}': the file's bytes,
%%     untrimmed (the trailing newline kept).</li>
%% <li>{@link write_in_ns/3} is one `write(2)' of `Data' as given, with no
%%     newline appended (an empty `Data' is a write of nothing), and
%%     returns `ok'. The count the kernel returns is not checked: a value it
%%     took only part of is `ok', as it was for the NIF.</li>
%% <li>{@link list_in_ns/2} walks the tree at `Root' and returns
%%     `{ok, [{PathBinary, ValueBinary}]}', full paths and untrimmed values,
%%     for every readable regular file, in the port program's walk order
%%     (sorted by path). Unreadable directories and files are skipped
%%     silently. A root that does not exist, or is not a directory, is
%%     `{error, {list, Errno}}' (`enoent', `enotdir').</li>
%% <li>{@link version/0} returns a charlist naming the implementation:
%%     `"linx_port "' and the running port program's version.</li>
%% </ul>
%% Errors are `{error, {Stage, Errno}}', `Errno' an atom (`enoent'), and
%% `Stage' one of `read', `write', `list', `open_ns', `unshare', `setns',
%% `thread'. A missing namespace file is `{open_ns, enoent}'.
%%
%% == netlink sockets ==
%% <ul>
%% <li>{@link open_in_netns/2} returns `{ok, Fd}': a raw descriptor of this
%%     node, `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, Protocol)' made
%%     inside the network namespace of `NetnsPath' and not bound; it is the
%%     caller's now (close it with {@link close_fd/1}, or adopt it with
%%     `socket:open/2'). Errors are `{error, {Stage, ErrnoInt}}', `Stage'
%%     one of `open' (the namespace file), `setns', `socket', `thread'.</li>
%% <li>{@link bind_netlink/2} binds the caller's descriptor with
%%     `nl_pid = 0' and the multicast group mask `Groups', and returns `ok'
%%     or `{error, ErrnoInt}'. The descriptor stays the caller's: the port
%%     program takes a copy of it from this node with `pidfd_getfd(2)' (it
%%     keeps `CAP_SYS_PTRACE'), binds the copy and closes it.</li>
%% <li>{@link close_fd/1} returns `ok', always.</li>
%% </ul>
%%
%% == Where linx differs from the NIFs ==
%% <ul>
%% <li>Paths: the port program reads, writes and lists only beneath
%%     `/proc/sys' (docs/security.md), with no symlinks and no mount
%%     crossings. `Path' and `Root' are absolute paths there (repeated
%%     slashes and `.' segments are ignored); any other path, or one with a
%%     `..' segment, is `{error, {Stage, eacces}}' without anything being
%%     opened. `/proc/sys' itself is a directory: `{read, eisdir}',
%%     `{write, eisdir}'.</li>
%% <li>A set of namespaces that differs from the port program's only in
%%     the network namespace writes no key outside `/proc/sys/net' (it
%%     would land in the host's namespaces): `{error, {write,
%%     not_in_target}}' (see docs/namespaces.md).</li>
%% <li>Namespace files are checked to be namespace files: another file is
%%     `{open_ns, einval}' (the NIF failed at `setns' then). Sets that
%%     include a user namespace are entered by a single-threaded helper
%%     process of the port program.</li>
%% <li>`thread' cannot occur: the port program enters namespaces on
%%     threads and helpers it keeps, never on a thread made for one call.
%%     `unshare' cannot occur either.</li>
%% <li>Outside the contract: a port program that does not answer is
%%     `{error, {port, Reason}}' (`Reason' as {@link linx_port:request/2}
%%     gives it: `timeout', `not_running', `{port_exited, Status}', ...),
%%     and a refusal of the port's `policy' is `{error, {policy, What}}'
%%     (for {@link bind_netlink/2}: `{error, {port, Reason}}' and
%%     `{error, {policy, What}}' as well). A value over 1 MiB is
%%     `{error, {badarg, value}}'. Arguments of the wrong type raise
%%     `badarg', as they did for the NIF.</li>
%% <li>These calls always use this node's port program (a descriptor must
%%     be this node's), whatever the `via' setting; {@link bind_netlink/2}
%%     needs the port mode's fd channel to know this node's process.</li>
%% </ul>
%%
%% == Mapping to linx's own API ==
%% <ul>
%% <li>`read_in_ns(Path, NsPaths)': `linx_sysctl:read(Key, #{in => {ns,
%%     NsPaths}})' (the value trimmed).</li>
%% <li>`write_in_ns(Path, Data, NsPaths)': `linx_sysctl:write(Key, Data,
%%     #{in => {ns, NsPaths}})' (no newline or NUL in `Data'; an empty value
%%     is written as a newline).</li>
%% <li>`list_in_ns(Root, NsPaths)': `linx_sysctl:list(Prefix, #{in => {ns,
%%     NsPaths}})' (keys, trimmed values, sorted).</li>
%% <li>`version()': `linx:version()' (a binary).</li>
%% <li>`open_in_netns(NetnsPath, Protocol)': `linx_netlink:open_fd(Protocol,
%%     #{in => {path, NetnsPath}})' (already bound), or
%%     `linx_netlink:open/2' (a socket of this node, adopted).</li>
%% <li>`bind_netlink(Fd, Groups)': `linx_netlink:open_fd(Protocol, Groups,
%%     Opts)' binds with the groups at once.</li>
%% <li>`close_fd(Fd)': `linx_netlink:close_fd(Fd)' (which reports
%%     errors).</li>
%% </ul>
%% `Key' is the path below `/proc/sys' (`net/ipv4/ip_forward', or the dot
%% form `net.ipv4.ip_forward'); the other way, a key's file is
%% `<<"/proc/sys/", SlashForm/binary>>'. Errors of `linx_sysctl' and
%% `linx_netlink' are maps whose `stage' and `errno' are this module's
%% `{Stage, Errno}' (`code' is the errno's number). The calls here
%% return their errors as they are (no {@link linx_error:owned/3} map).
-module(linx_native).

-export([read_in_ns/2]).
-export([write_in_ns/3]).
-export([list_in_ns/2]).
-export([version/0]).
-export([open_in_netns/2]).
-export([bind_netlink/2]).
-export([close_fd/1]).

-export_type([ns_paths/0, sysctl_error/0, socket_error/0]).

-type ns_paths() :: [binary()].
%% Namespace files, entered in order; `[]' enters nothing.

-type sysctl_error() :: {read | write | list | open_ns | unshare | setns | thread
                         | policy | badarg, atom()}
                      | {port, term()}.

-type socket_error() :: {open | setns | socket | thread, non_neg_integer()}
                      | {policy | port, term()}.

-define(SOCKET_OPEN_TIMEOUT, 5000).
-define(AF_NETLINK, 16).
-define(SOCK_RAW, 3).
-define(MAX_GROUPS, 16#FFFFFFFF).

%% @doc The bytes of the file `Path' (beneath `/proc/sys'), untrimmed,
%% read inside the namespaces `NsPaths'.
-spec read_in_ns(binary(), ns_paths()) -> {ok, binary()} | {error, sysctl_error()}.
read_in_ns(Path, NsPaths) ->
    Target = target(NsPaths),
    case rel(read, Path) of
        {ok, Rel} -> sysctl({sysctl_read, Rel, Target});
        {error, _} = Error -> Error
    end.

%% @doc Writes `Data' to the file `Path' (beneath `/proc/sys') inside the
%% namespaces `NsPaths', in one `write(2)', appending nothing.
-spec write_in_ns(binary(), iodata(), ns_paths()) -> ok | {error, sysctl_error()}.
write_in_ns(Path, Data, NsPaths) ->
    Target = target(NsPaths),
    Bin = iolist_to_binary(Data),
    case rel(write, Path) of
        {ok, Rel} -> sysctl({sysctl_write, Rel, Bin, Target, raw});
        {error, _} = Error -> Error
    end.

%% @doc Every readable file below the directory `Root' (beneath
%% `/proc/sys') inside the namespaces `NsPaths', as `{Path, Value}' with
%% full paths and untrimmed values.
-spec list_in_ns(binary(), ns_paths()) ->
          {ok, [{binary(), binary()}]} | {error, sysctl_error()}.
list_in_ns(Root, NsPaths) ->
    Target = target(NsPaths),
    case rel(list, Root) of
        {ok, Rel} ->
            case sysctl({sysctl_list, Rel, Target}) of
                %% A file lists itself alone, under its own path: not a directory.
                {ok, [{Rel, _}]} when Rel =/= <<>> -> {error, {list, enotdir}};
                {ok, Entries} -> {ok, [{full(P), V} || {P, V} <- Entries]};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%% @doc A charlist naming the implementation: `"linx_port "' and the
%% running port program's version (the application's when the program
%% does not answer).
-spec version() -> string().
version() ->
    case linx_port:request(version) of
        {ok, Vsn} when is_binary(Vsn) ->
            "linx_port " ++ binary_to_list(Vsn);
        _ ->
            {ok, Vsn} = application:get_key(linx, vsn),
            "linx_port " ++ Vsn
    end.

%% @doc A netlink socket of protocol `Protocol' made inside the network
%% namespace of the file `NetnsPath', not bound: `{ok, Fd}', a descriptor
%% of this node that now belongs to the caller.
-spec open_in_netns(binary(), integer()) ->
          {ok, non_neg_integer()} | {error, socket_error()}.
open_in_netns(NetnsPath, Protocol) when is_binary(NetnsPath), is_integer(Protocol) ->
    case Protocol >= 0 andalso Protocol =< 16#FFFF of
        true ->
            Op = {socket_open, ?AF_NETLINK, ?SOCK_RAW, Protocol, {ns, [NetnsPath]}},
            case linx_port:request_fd(Op, raw, ?SOCKET_OPEN_TIMEOUT) of
                {ok, Fd} when is_integer(Fd) -> {ok, Fd};
                {error, {open_ns, Errno}} -> {error, {open, code(Errno)}};
                {error, {Stage, Errno}} when Stage =:= setns; Stage =:= socket;
                                             Stage =:= thread ->
                    {error, {Stage, code(Errno)}};
                {error, Reason} ->
                    {error, other(Reason)}
            end;
        false ->
            {error, {socket, code(einval)}}
    end;
open_in_netns(_NetnsPath, _Protocol) ->
    erlang:error(badarg).

%% @doc Binds the caller's netlink descriptor `Fd' with `nl_pid = 0' and
%% the multicast group mask `Groups'.
-spec bind_netlink(non_neg_integer(), non_neg_integer()) ->
          ok | {error, non_neg_integer() | {policy | port, term()}}.
bind_netlink(Fd, Groups) when is_integer(Fd), Fd >= 0, Fd =< 16#7FFFFFFF,
                              is_integer(Groups), Groups >= 0, Groups =< ?MAX_GROUPS ->
    case linx_port:request({netlink_bind_fd, Fd, Groups}) of
        ok -> ok;
        {error, {bind, Errno}} -> {error, code(Errno)};
        {error, Reason} -> {error, other(Reason)}
    end;
bind_netlink(Fd, Groups) when is_integer(Fd), is_integer(Groups) ->
    {error, code(if Fd < 0 -> ebadf; true -> einval end)};
bind_netlink(_Fd, _Groups) ->
    erlang:error(badarg).

%% @doc Closes descriptor `Fd' of this node; `ok', always (also for a
%% descriptor that is not open).
-spec close_fd(term()) -> ok.
close_fd(Fd) when is_integer(Fd), Fd >= 0 ->
    _ = linx_fdchan:close_fd(Fd),
    ok;
close_fd(_Fd) ->
    ok.

%% --- internals -------------------------------------------------------

-spec target(term()) -> {ns, [binary()]}.
target(NsPaths) when is_list(NsPaths) ->
    case lists:all(fun is_binary/1, NsPaths) of
        true -> {ns, NsPaths};
        false -> erlang:error(badarg)
    end;
target(_NsPaths) ->
    erlang:error(badarg).

%% The path below /proc/sys of an absolute path beneath it; `list' allows
%% /proc/sys itself (<<>>).
-spec rel(read | write | list, term()) -> {ok, binary()} | {error, {atom(), atom()}}.
rel(Stage, Path) when is_binary(Path) ->
    Segments = [S || S <- binary:split(Path, <<"/">>, [global]), S =/= <<>>, S =/= <<".">>],
    case {Path, Segments} of
        {<<"/", _/binary>>, [<<"proc">>, <<"sys">> | Rest]} ->
            case {lists:member(<<"..">>, Rest), Rest, Stage} of
                {true, _, _} -> {error, {Stage, eacces}};
                {false, [], list} -> {ok, <<>>};
                {false, [], _} -> {error, {Stage, eisdir}};
                {false, _, _} -> {ok, iolist_to_binary(lists:join(<<"/">>, Rest))}
            end;
        _ ->
            {error, {Stage, eacces}}
    end;
rel(_Stage, _Path) ->
    erlang:error(badarg).

-spec full(binary()) -> binary().
full(Rel) ->
    <<"/proc/sys/", Rel/binary>>.

-spec sysctl(linx_port:op()) -> ok | {ok, term()} | {error, sysctl_error()}.
sysctl(Op) ->
    case linx_port:request(Op) of
        ok -> ok;
        {ok, _} = Ok -> Ok;
        {error, {Stage, Errno}} when is_atom(Stage), is_atom(Errno) -> {error, {Stage, Errno}};
        {error, Reason} -> {error, other(Reason)}
    end.

%% A failure outside the contract: the policy's refusal, or the port
%% program's own (timeout, not running, exited, ...).
-spec other(term()) -> {policy | port, term()}.
other({policy, What}) -> {policy, What};
other(Reason) -> {port, Reason}.

-spec code(term()) -> non_neg_integer().
code(Errno) ->
    linx_error:errno_code(Errno).
