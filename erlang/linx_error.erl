%% @doc Errors of the linx application, in one place.
%%
%% <ul>
%% <li>The stages the port program names in `{error, {Stage, Errno}}'
%%     ({@link stages/0}, the type {@type stage()}).</li>
%% <li>Errno atoms and their Linux numbers ({@link errno_code/1}).</li>
%% <li>{@link reply/2}: a reply that is not the op's success turned into
%%     the error an API module returns, the error maps of
%%     {@link linx_sysctl} and {@link linx_netlink} included.</li>
%% <li>{@link first_error/1} and {@link map_ok/2}: results checked or
%%     made one after another, the first error ending it.</li>
%% <li>{@link format_error/1} for the errors every API module shares
%%     (`timeout', `not_running', options, C-nodes, raw stage errors and
%%     errno atoms), and the text helpers the modules' own
%%     `format_error/1' use. {@link linx:format_error/1} renders any
%%     error of the application.</li>
%% </ul>
-module(linx_error).

-export([stages/0, is_stage/1]).
-export([errnos/0, errno_code/1]).
-export([reply/2]).
-export([first_error/1, map_ok/2]).
-export([owned/3, format_owned/2]).
-export([format_error/1, line/1, invalid/3]).
-export([quote/1, in_text/1, term_text/1, code_text/1, text/1]).
-export([too_large_text/0]).

-export_type([stage/0, reason/0, owned/0]).

-type owned() :: #{module := module(), function := {module(), atom()}, reason => term(),
                   atom() => term()}.
%% An error as a public function returns it: `module' renders it (its
%% `format_error/1'), `function' is the public function that was called.
%% A reason of no map of its own (`{bad_ifname, Name}', `timeout', ...)
%% stands under `reason'; an error map (a kernel's or the port's refusal)
%% has the two keys added to its own.

-type stage() :: read | write | list | open_ns | unshare | setns | thread
               | open | socket | bind | setsockopt | send_fd | decode
               | badarg | busy | panic | policy | send | recv
               | create | mount | umount | unlink | loopback | ifindex.
%% Where the port program failed; the same list as {@link stages/0}.

-type reason() :: timeout
                | not_running
                | {port_exited, term()}
                | {port_hung, non_neg_integer()}
                | {nodedown, node()}
                | {netlink_open | socket_open, remote}
                | {bad_timeout, term()}
                | {unexpected_reply, term()}.
%% The errors every API module may return besides its own.

%% The stages of src/error.rs, in its order.
-define(STAGES, [read, write, list, open_ns, unshare, setns, thread, open,
                 socket, bind, setsockopt, send_fd, decode, badarg, busy,
                 panic, policy, send, recv, create, mount, umount, unlink,
                 loopback, ifindex]).

%% Linux errno names and numbers, with the aliases ewouldblock (eagain),
%% edeadlock (edeadlk) and enotsup (eopnotsupp).
-define(ERRNOS,
        #{eperm => 1,
          enoent => 2,
          esrch => 3,
          eintr => 4,
          eio => 5,
          enxio => 6,
          e2big => 7,
          enoexec => 8,
          ebadf => 9,
          echild => 10,
          eagain => 11,
          ewouldblock => 11,
          enomem => 12,
          eacces => 13,
          efault => 14,
          enotblk => 15,
          ebusy => 16,
          eexist => 17,
          exdev => 18,
          enodev => 19,
          enotdir => 20,
          eisdir => 21,
          einval => 22,
          enfile => 23,
          emfile => 24,
          enotty => 25,
          etxtbsy => 26,
          efbig => 27,
          enospc => 28,
          espipe => 29,
          erofs => 30,
          emlink => 31,
          epipe => 32,
          edom => 33,
          erange => 34,
          edeadlk => 35,
          edeadlock => 35,
          enametoolong => 36,
          enolck => 37,
          enosys => 38,
          enotempty => 39,
          eloop => 40,
          enomsg => 42,
          eidrm => 43,
          echrng => 44,
          el2nsync => 45,
          el3hlt => 46,
          el3rst => 47,
          elnrng => 48,
          eunatch => 49,
          enocsi => 50,
          el2hlt => 51,
          ebade => 52,
          ebadr => 53,
          exfull => 54,
          enoano => 55,
          ebadrqc => 56,
          ebadslt => 57,
          ebfont => 59,
          enostr => 60,
          enodata => 61,
          etime => 62,
          enosr => 63,
          enonet => 64,
          enopkg => 65,
          eremote => 66,
          enolink => 67,
          eadv => 68,
          esrmnt => 69,
          ecomm => 70,
          eproto => 71,
          emultihop => 72,
          edotdot => 73,
          ebadmsg => 74,
          eoverflow => 75,
          enotuniq => 76,
          ebadfd => 77,
          eremchg => 78,
          elibacc => 79,
          elibbad => 80,
          elibscn => 81,
          elibmax => 82,
          elibexec => 83,
          eilseq => 84,
          erestart => 85,
          estrpipe => 86,
          eusers => 87,
          enotsock => 88,
          edestaddrreq => 89,
          emsgsize => 90,
          eprototype => 91,
          enoprotoopt => 92,
          eprotonosupport => 93,
          esocktnosupport => 94,
          eopnotsupp => 95,
          enotsup => 95,
          epfnosupport => 96,
          eafnosupport => 97,
          eaddrinuse => 98,
          eaddrnotavail => 99,
          enetdown => 100,
          enetunreach => 101,
          enetreset => 102,
          econnaborted => 103,
          econnreset => 104,
          enobufs => 105,
          eisconn => 106,
          enotconn => 107,
          eshutdown => 108,
          etoomanyrefs => 109,
          etimedout => 110,
          econnrefused => 111,
          ehostdown => 112,
          ehostunreach => 113,
          ealready => 114,
          einprogress => 115,
          estale => 116,
          euclean => 117,
          enotnam => 118,
          enavail => 119,
          eisnam => 120,
          eremoteio => 121,
          edquot => 122,
          enomedium => 123,
          emediumtype => 124,
          ecanceled => 125,
          enokey => 126,
          ekeyexpired => 127,
          ekeyrevoked => 128,
          ekeyrejected => 129,
          eownerdead => 130,
          enotrecoverable => 131,
          erfkill => 132,
          ehwpoison => 133
        }).

%%====================================================================
%% Stages and errnos
%%====================================================================

%% @doc The stages the port program names in `{error, {Stage, Errno}}'.
-spec stages() -> [stage(), ...].
stages() ->
    ?STAGES.

%% @doc Whether `Term' is one of {@link stages/0}.
-spec is_stage(term()) -> boolean().
is_stage(Term) ->
    is_atom(Term) andalso lists:member(Term, ?STAGES).

%% @doc Every errno atom {@link errno_code/1} knows.
-spec errnos() -> [atom(), ...].
errnos() ->
    maps:keys(?ERRNOS).

%% @doc Returns the Linux errno number of an errno atom (`eacces' is 13);
%% anything else gives 0.
-spec errno_code(term()) -> non_neg_integer().
errno_code(Errno) when is_atom(Errno) ->
    maps:get(Errno, ?ERRNOS, 0);
errno_code(_) ->
    0.

%%====================================================================
%% Replies
%%====================================================================

%% @doc Turns a reply that is not the op's success into an error.
%%
%% The shared errors (`timeout', `not_running', `{port_exited, _}',
%% `{port_hung, _}',
%% `{nodedown, _}', `{Op, remote}') are returned as they are. A failure of
%% the port program, `{error, {Stage, Errno}}', becomes the map `Context'
%% with `stage', `errno' and `code' (the errno number, 0 when `Errno' is
%% not an errno atom) added. A partial write, `{error, {Stage, {partial,
%% Written, Total}}}', becomes the map with `errno => partial', `code => 0',
%% `written' and `total'. Anything else is
%% `{error, {unexpected_reply, Reply}}'.
-spec reply(term(), map()) -> {error, reason() | map()}.
reply({error, timeout} = Error, _Context) ->
    Error;
reply({error, not_running} = Error, _Context) ->
    Error;
reply({error, {port_exited, _}} = Error, _Context) ->
    Error;
reply({error, {port_hung, Ms}} = Error, _Context) when is_integer(Ms) ->
    Error;
reply({error, {nodedown, _}} = Error, _Context) ->
    Error;
reply({error, {_, remote}} = Error, _Context) ->
    Error;
reply({error, {Stage, {partial, Written, Total}}}, Context)
  when is_atom(Stage), is_integer(Written), is_integer(Total) ->
    {error, Context#{stage => Stage, errno => partial, code => 0,
                     written => Written, total => Total}};
reply({error, {Stage, Errno}}, Context)
  when is_atom(Stage), is_atom(Errno) orelse is_binary(Errno) ->
    {error, Context#{stage => Stage, errno => Errno, code => errno_code(Errno)}};
reply(Other, _Context) ->
    {error, {unexpected_reply, Other}}.

%%====================================================================
%% Results
%%====================================================================

%% @doc The first `{error, _}' of a list of results, or `ok' when there is
%% none.
-spec first_error([term()]) -> ok | {error, term()}.
first_error([{error, _} = Error | _]) -> Error;
first_error([_ | Rest]) -> first_error(Rest);
first_error([]) -> ok.

%% @doc `Fun' applied to each element in order: `{ok, Results}' when it
%% gave `{ok, Result}' for every one, else the first `{error, _}' it gave
%% (no element after it is looked at).
-spec map_ok(fun((A) -> {ok, B} | {error, E}), [A]) -> {ok, [B]} | {error, E}.
map_ok(Fun, List) ->
    map_ok(Fun, List, []).

map_ok(Fun, [X | Rest], Acc) ->
    case Fun(X) of
        {ok, Y} -> map_ok(Fun, Rest, [Y | Acc]);
        {error, _} = Error -> Error
    end;
map_ok(_Fun, [], Acc) ->
    {ok, lists:reverse(Acc)}.

%%====================================================================
%% Owned errors
%%====================================================================

%% @doc The result of public function `Module:Function' with its error, if
%% any, owned ({@type owned()}): `module' is set where it is not yet (the
%% innermost public module renders it), `function' always (the outermost
%% public function is the one the caller called).
-spec owned(module(), atom(), T) -> T | {error, owned()}.
owned(Module, Function, {error, Reason}) ->
    {error, own(Module, Function, Reason)};
owned(_Module, _Function, Result) ->
    Result.

own(Module, Function, #{module := _} = Owned) ->
    Owned#{function => {Module, Function}};
own(Module, Function, Map) when is_map(Map) ->
    Map#{module => Module, function => {Module, Function}};
own(Module, Function, Reason) ->
    #{module => Module, function => {Module, Function}, reason => Reason}.

%% @doc Renders an error with `Text', a module's renderer of its own
%% reasons and maps: an owned error's line names the function that was
%% called (`linx_rtnl:link_add: ' before the text, unless the text names
%% it already).
-spec format_owned(term(), fun((term()) -> unicode:unicode_binary())) ->
          unicode:unicode_binary().
format_owned({error, Reason}, Text) ->
    format_owned(Reason, Text);
format_owned(#{module := _, function := {M, F}, reason := Reason} = Owned, Text)
  when map_size(Owned) =:= 3 ->
    named(M, F, Text(Reason));
format_owned(#{module := _, function := {M, F}} = Owned, Text) ->
    named(M, F, Text(maps:without([module, function], Owned)));
format_owned(Reason, Text) ->
    Text(Reason).

named(M, F, Line) ->
    Name = atom_to_binary(F),
    %% The bare name, or the name after its own module's (`M:F(...)').
    Before = <<"(^|[^a-z0-9_:]|(^|[^a-z0-9_])", (atom_to_binary(M))/binary, ":)">>,
    case re:run(Line, <<Before/binary, Name/binary, "($|[^a-z0-9_])">>, [{capture, none}]) of
        match -> Line;
        nomatch -> line([atom_to_binary(M), $:, Name, ": ", Line])
    end.

%%====================================================================
%% Text
%%====================================================================

%% @doc Renders one of the shared errors as one line of text (a flat
%% binary, no newline); anything unknown is printed as a term.
%%
%% Accepts both `{error, Reason}' and the bare `Reason'. A raw
%% `{Stage, Errno}' is `Stage failed: Errno (errno Code)'; an errno atom
%% on its own is shown with its number.
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error(Reason) ->
    line(format(Reason)).

%% @doc Text as one line: a flat binary in which a raw line break (from a
%% string inside a term, say) has become a space.
-spec line(unicode:chardata()) -> unicode:unicode_binary().
line(Text) ->
    Line = unicode:characters_to_binary(Text),
    binary:replace(Line, <<"\n">>, <<" ">>, [global]).

%% @doc The line of a bad argument or option: `invalid What Arg: expected
%% Expected'.
-spec invalid(unicode:chardata(), term(), unicode:chardata()) -> unicode:unicode_binary().
invalid(What, Arg, Expected) ->
    line(io_lib:format("invalid ~ts ~0tp: expected ~ts", [What, Arg, Expected])).

-spec format(term()) -> unicode:chardata().
format({bad_in, In}) ->
    invalid("namespace target (option in)", In,
            "self, {pid, OsPid}, {netns, Name}, {path, NsPath}, {ns, [NsPath]} or a "
            "linx_netns handle");
format({bad_option, Option}) ->
    io_lib:format("invalid option ~0tp", [Option]);
format({unsupported, Kind}) -> io_lib:format("fault refused, nothing changed: this kernel has no ~0tp qdisc", [Kind]);
format({bad_fault, KV}) -> io_lib:format("invalid fault ~0tp (see linx_ct:impair/2), nothing changed", [KV]);
format({bad_via, Via}) ->
    invalid("option via", Via, "local or the node name of a linx C-node");
format({nodedown, Node}) ->
    io_lib:format("linx C-node ~0tp cannot be reached (or went down while "
                  "the call waited)", [Node]);
format({Op, remote}) when Op =:= netlink_open; Op =:= socket_open ->
    io_lib:format("~ts through a C-node on another host: descriptors cannot "
                  "cross hosts (use linx_netlink:call/3 for netlink "
                  "requests)", [atom_to_list(Op)]);
format(timeout) ->
    "linx port request timed out";
format(not_running) ->
    "linx port is not running";
format({port_exited, Status}) when is_integer(Status) ->
    io_lib:format("linx port program exited with status ~b", [Status]);
format({port_exited, Reason}) ->
    io_lib:format("linx port program exited: ~0tp", [Reason]);
format({port_hung, Ms}) when is_integer(Ms) ->
    io_lib:format("linx port program answered nothing for ~b ms, not even a ping; "
                  "it was killed and is being restarted", [Ms]);
format({busy, port}) ->
    "linx port program did not read the request before the timeout (it was not sent)";
format({busy, dist}) ->
    "the connection to the linx C-node did not take the request before the timeout (it was not sent)";
format({bad_timeout, Timeout}) ->
    invalid("timeout", Timeout, "infinity or 0..4294967295 milliseconds");
format({Stage, too_large}) when Stage =:= badarg; Stage =:= decode ->
    too_large_text();
format({busy, helper}) ->
    "the namespace helper of this target is not reading its requests (its queue is "
    "full); other targets are served";
format({thread, hung}) ->
    "the namespace helper of this target stopped answering (not even a ping) and "
    "was killed; the next request starts a new one";
format({unexpected_reply, Reply}) ->
    io_lib:format("unexpected reply from the linx port program: ~0tP",
                  [Reply, 20]);
format({Stage, Errno}) when is_atom(Stage) ->
    case is_stage(Stage) of
        true ->
            %% A raw `{error, {Stage, Errno}}' straight from linx_port:request/2.
            [atom_to_list(Stage), " failed: ", term_text(Errno),
             code_text(errno_code(Errno))];
        false ->
            io_lib:format("~0tp", [{Stage, Errno}])
    end;
format(Errno) when is_atom(Errno) ->
    case errno_code(Errno) of
        0 -> io_lib:format("~0tp", [Errno]);
        Code -> [atom_to_list(Errno), code_text(Code)]
    end;
format(Other) ->
    io_lib:format("~0tp", [Other]).

%% @doc Why a request was too large (`{badarg, too_large}' before it was
%% sent, `{decode, too_large}' when the program skipped it).
-spec too_large_text() -> string().
too_large_text() ->
    "request too large for the linx port program (a sysctl value is at most "
    "1 MiB, a request at most 16 MiB)".

%% @doc ` (errno Code)' for an errno number, nothing for 0 or a non-number.
-spec code_text(term()) -> unicode:chardata().
code_text(Code) when is_integer(Code), Code > 0 ->
    io_lib:format(" (errno ~b)", [Code]);
code_text(_) ->
    [].

%% @doc Where an operation ran, when it was not the port's own namespaces:
%% ` in pid 42', ` in netns "blue"', ` in "/proc/1/ns/net"'.
-spec in_text(term()) -> unicode:chardata().
in_text(self) ->
    [];
in_text({pid, Pid}) when is_integer(Pid) ->
    io_lib:format(" in pid ~b", [Pid]);
in_text({netns, Name}) when is_binary(Name); is_list(Name) ->
    [" in netns ", quote(Name)];
in_text({path, Path}) when is_binary(Path); is_list(Path) ->
    [" in ", quote(Path)];
in_text({linx_netns, Id}) when is_integer(Id) ->
    io_lib:format(" in netns handle ~b", [Id]);
in_text(In) ->
    io_lib:format(" in ~0tp", [In]).

%% @doc An atom as its name, a binary as escaped text, anything else as a
%% term.
-spec term_text(term()) -> unicode:chardata().
term_text(A) when is_atom(A) ->
    atom_to_list(A);
term_text(Bin) when is_binary(Bin) ->
    [escape(C) || C <- text(Bin)];
term_text(T) ->
    io_lib:format("~0tp", [T]).

%% @doc A key or name between double quotes, with `"', `\' and control
%% characters escaped.
-spec quote(term()) -> unicode:chardata().
quote(Bin) when is_binary(Bin) ->
    [$", [escape(C) || C <- text(Bin)], $"];
quote(List) when is_list(List) ->
    try unicode:characters_to_binary(List) of
        Bin when is_binary(Bin) -> quote(Bin);
        _ -> io_lib:format("~0tp", [List])
    catch
        error:badarg -> io_lib:format("~0tp", [List])
    end;
quote(Atom) when is_atom(Atom) ->
    quote(atom_to_binary(Atom, utf8));
quote(Other) ->
    io_lib:format("~0tp", [Other]).

-spec escape(char()) -> unicode:chardata().
escape($") -> "\\\"";
escape($\\) -> "\\\\";
escape($\n) -> "\\n";
escape($\t) -> "\\t";
escape(C) when C < 32; C =:= 127 -> io_lib:format("\\x~2.16.0B", [C]);
escape(C) -> [C].

%% @doc A binary as characters: UTF-8 when it is valid, bytes otherwise.
-spec text(binary()) -> [char()].
text(Bin) ->
    case unicode:characters_to_list(Bin) of
        List when is_list(List) -> List;
        _ -> binary_to_list(Bin)
    end.
