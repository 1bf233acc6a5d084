%% @doc Helpers shared by the linx API modules.
%%
%% {@link format_error/1} turns any error returned by {@link linx_sysctl},
%% {@link linx_netlink} (or {@link linx_port}) into one readable line:
%% ```
%% {error, E} = linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1),
%% io:format("~ts~n", [linx:format_error(E)]).
%% '''
%% prints
%% ```
%% sysctl write "net.ipv4.ip_forward" failed on
%%     /proc/sys/net/ipv4/ip_forward: eacces (errno 13)
%% '''
%% (on one line).
%% {@link errno_code/1} maps the errno atoms used on the wire to their Linux
%% numbers, and {@link version/0} reports the version of the running port
%% program.
-module(linx).

-export([format_error/1]).
-export([errno_code/1]).
-export([version/0]).
-export([stats/0]).

%% The stages the port program names in `{error, {Stage, Errno}}'.
-define(IS_STAGE(S),
        (S =:= read orelse S =:= write orelse S =:= list orelse
         S =:= open_ns orelse S =:= unshare orelse S =:= setns orelse
         S =:= thread orelse S =:= open orelse S =:= badarg orelse
         S =:= decode orelse S =:= busy orelse S =:= socket orelse
         S =:= bind orelse S =:= setsockopt orelse S =:= send_fd orelse
         S =:= panic orelse S =:= send orelse S =:= recv)).

%% @doc Renders an error as one line of text (a flat binary, no newline).
%%
%% Accepts both `{error, Reason}' and the bare `Reason'. Error maps from
%% {@link linx_sysctl} are rendered as
%% `sysctl Op "Key" failed on Path: [Stage ]Errno (errno Code)', where
%% `Stage' is shown only when it differs from the operation. Error maps
%% from {@link linx_netlink} are rendered as
%% `netlink open Protocol[ in Target] failed: Stage Errno (errno Code)' and
%% `socket open Domain Type Protocol[ in Target] failed: Stage Errno
%% (errno Code)'. An errno atom on its own is shown with its number. Other
%% reasons get a sentence of their own; anything unknown is printed as a
%% term.
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error(Reason) ->
    Line = unicode:characters_to_binary(format(Reason)),
    %% Terms are printed on one line, but a string inside one could still
    %% carry a raw line break in odd cases; keep the promise of one line.
    binary:replace(Line, <<"\n">>, <<" ">>, [global]).

%% @doc Returns the Linux errno number of an errno atom (`eacces' is 13).
%% Every Linux errno name is known, with the aliases `ewouldblock',
%% `edeadlock' and `enotsup'; anything else gives 0.
-spec errno_code(atom()) -> non_neg_integer().
errno_code(eperm) -> 1;
errno_code(enoent) -> 2;
errno_code(esrch) -> 3;
errno_code(eintr) -> 4;
errno_code(eio) -> 5;
errno_code(enxio) -> 6;
errno_code(e2big) -> 7;
errno_code(enoexec) -> 8;
errno_code(ebadf) -> 9;
errno_code(echild) -> 10;
errno_code(eagain) -> 11;
errno_code(ewouldblock) -> 11;
errno_code(enomem) -> 12;
errno_code(eacces) -> 13;
errno_code(efault) -> 14;
errno_code(enotblk) -> 15;
errno_code(ebusy) -> 16;
errno_code(eexist) -> 17;
errno_code(exdev) -> 18;
errno_code(enodev) -> 19;
errno_code(enotdir) -> 20;
errno_code(eisdir) -> 21;
errno_code(einval) -> 22;
errno_code(enfile) -> 23;
errno_code(emfile) -> 24;
errno_code(enotty) -> 25;
errno_code(etxtbsy) -> 26;
errno_code(efbig) -> 27;
errno_code(enospc) -> 28;
errno_code(espipe) -> 29;
errno_code(erofs) -> 30;
errno_code(emlink) -> 31;
errno_code(epipe) -> 32;
errno_code(edom) -> 33;
errno_code(erange) -> 34;
errno_code(edeadlk) -> 35;
errno_code(edeadlock) -> 35;
errno_code(enametoolong) -> 36;
errno_code(enolck) -> 37;
errno_code(enosys) -> 38;
errno_code(enotempty) -> 39;
errno_code(eloop) -> 40;
errno_code(enomsg) -> 42;
errno_code(eidrm) -> 43;
errno_code(echrng) -> 44;
errno_code(el2nsync) -> 45;
errno_code(el3hlt) -> 46;
errno_code(el3rst) -> 47;
errno_code(elnrng) -> 48;
errno_code(eunatch) -> 49;
errno_code(enocsi) -> 50;
errno_code(el2hlt) -> 51;
errno_code(ebade) -> 52;
errno_code(ebadr) -> 53;
errno_code(exfull) -> 54;
errno_code(enoano) -> 55;
errno_code(ebadrqc) -> 56;
errno_code(ebadslt) -> 57;
errno_code(ebfont) -> 59;
errno_code(enostr) -> 60;
errno_code(enodata) -> 61;
errno_code(etime) -> 62;
errno_code(enosr) -> 63;
errno_code(enonet) -> 64;
errno_code(enopkg) -> 65;
errno_code(eremote) -> 66;
errno_code(enolink) -> 67;
errno_code(eadv) -> 68;
errno_code(esrmnt) -> 69;
errno_code(ecomm) -> 70;
errno_code(eproto) -> 71;
errno_code(emultihop) -> 72;
errno_code(edotdot) -> 73;
errno_code(ebadmsg) -> 74;
errno_code(eoverflow) -> 75;
errno_code(enotuniq) -> 76;
errno_code(ebadfd) -> 77;
errno_code(eremchg) -> 78;
errno_code(elibacc) -> 79;
errno_code(elibbad) -> 80;
errno_code(elibscn) -> 81;
errno_code(elibmax) -> 82;
errno_code(elibexec) -> 83;
errno_code(eilseq) -> 84;
errno_code(erestart) -> 85;
errno_code(estrpipe) -> 86;
errno_code(eusers) -> 87;
errno_code(enotsock) -> 88;
errno_code(edestaddrreq) -> 89;
errno_code(emsgsize) -> 90;
errno_code(eprototype) -> 91;
errno_code(enoprotoopt) -> 92;
errno_code(eprotonosupport) -> 93;
errno_code(esocktnosupport) -> 94;
errno_code(eopnotsupp) -> 95;
errno_code(enotsup) -> 95;
errno_code(epfnosupport) -> 96;
errno_code(eafnosupport) -> 97;
errno_code(eaddrinuse) -> 98;
errno_code(eaddrnotavail) -> 99;
errno_code(enetdown) -> 100;
errno_code(enetunreach) -> 101;
errno_code(enetreset) -> 102;
errno_code(econnaborted) -> 103;
errno_code(econnreset) -> 104;
errno_code(enobufs) -> 105;
errno_code(eisconn) -> 106;
errno_code(enotconn) -> 107;
errno_code(eshutdown) -> 108;
errno_code(etoomanyrefs) -> 109;
errno_code(etimedout) -> 110;
errno_code(econnrefused) -> 111;
errno_code(ehostdown) -> 112;
errno_code(ehostunreach) -> 113;
errno_code(ealready) -> 114;
errno_code(einprogress) -> 115;
errno_code(estale) -> 116;
errno_code(euclean) -> 117;
errno_code(enotnam) -> 118;
errno_code(enavail) -> 119;
errno_code(eisnam) -> 120;
errno_code(eremoteio) -> 121;
errno_code(edquot) -> 122;
errno_code(enomedium) -> 123;
errno_code(emediumtype) -> 124;
errno_code(ecanceled) -> 125;
errno_code(enokey) -> 126;
errno_code(ekeyexpired) -> 127;
errno_code(ekeyrevoked) -> 128;
errno_code(ekeyrejected) -> 129;
errno_code(eownerdead) -> 130;
errno_code(enotrecoverable) -> 131;
errno_code(erfkill) -> 132;
errno_code(ehwpoison) -> 133;
errno_code(_) -> 0.

%% @doc Returns the version string reported by the running port program
%% in its ready frame. Exits when the port server is not running.
%% @doc What linx has done so far: requests and p50/p99 latency (µs, upper
%% bound of a power-of-two bucket) per op, errors by `{Stage, Reason}',
%% port restarts, and the port program's own counters (`port': requests,
%% workers and helpers alive and started, uptime). Counts survive port
%% restarts; the port's own start over with it.
-spec stats() -> map().
stats() ->
    Local = linx_stats:snapshot(),
    Port = case linx_port:request(stats, 1000) of
               {ok, P} when is_map(P) -> P;
               {error, _} = E -> E
           end,
    Alive = case Port of
                #{workers := W, helpers := H} -> #{workers => W, helpers => H};
                _ -> #{}
            end,
    maps:merge(Local#{port => Port}, Alive).

-spec version() -> binary().
version() ->
    #{version := Version} = linx_port:info(),
    Version.

%%====================================================================
%% Internal functions
%%====================================================================

-spec format(term()) -> unicode:chardata().
format(#{failed := Key, reason := Reason, rolled_back := Rolled}) ->
    io_lib:format("sysctl apply stopped at \"~ts\" (~ts); ~b earlier write~ts rolled back",
                  [Key, format(Reason), length(Rolled),
                   case length(Rolled) of 1 -> ""; _ -> "s" end]);
format(#{op := Op, key := Key, path := Path, stage := Stage, errno := Errno,
         code := Code} = Error)
  when is_atom(Op), is_atom(Stage), is_binary(Path) ->
    [io_lib:format("sysctl ~ts ~ts", [atom_to_list(Op), quote(Key)]),
     in_text(maps:get(in, Error, self)),
     io_lib:format(" failed on ~ts: ", [text(Path)]),
     case Stage of
         Op -> [];
         _ -> [atom_to_list(Stage), $\s]
     end,
     term_text(Errno),
     case Code of
         C when is_integer(C), C > 0 -> io_lib:format(" (errno ~b)", [C]);
         _ -> []
     end];
format(#{op := netlink_open, stage := Stage, errno := Errno,
         code := Code} = Error)
  when is_atom(Stage) ->
    ["netlink open ", term_text(maps:get(protocol, Error, undefined)),
     in_text(maps:get(in, Error, self)),
     " failed: ", atom_to_list(Stage), $\s, term_text(Errno),
     code_text(Code)];
format(#{op := netlink_call, stage := Stage, errno := Errno,
         code := Code} = Error)
  when is_atom(Stage) ->
    ["netlink call ", term_text(maps:get(protocol, Error, undefined)),
     in_text(maps:get(in, Error, self)),
     " failed: ", atom_to_list(Stage), $\s, term_text(Errno),
     code_text(Code)];
format(#{op := socket_open, stage := Stage, errno := Errno,
         code := Code} = Error)
  when is_atom(Stage) ->
    ["socket open ",
     lists:join($\s, [term_text(maps:get(K, Error, undefined))
                      || K <- [domain, type, protocol]]),
     in_text(maps:get(in, Error, self)),
     " failed: ", atom_to_list(Stage), $\s, term_text(Errno),
     code_text(Code)];
format({bad_protocol, Protocol}) ->
    io_lib:format("invalid protocol ~0tp: expected a protocol name (such as "
                  "route, generic, tcp or icmp) or a number (0..31 for "
                  "netlink)", [Protocol]);
format({bad_groups, Groups}) ->
    io_lib:format("invalid netlink groups ~0tp: expected a bit mask below "
                  "2^32 or a list of group numbers from 1", [Groups]);
format({bad_group, Group}) ->
    io_lib:format("invalid netlink group ~0tp: expected a group number "
                  "from 1", [Group]);
format({bad_rcvbuf, Size}) ->
    io_lib:format("invalid receive buffer size (option rcvbuf) ~0tp: "
                  "expected a positive integer", [Size]);
format({bad_domain, Domain}) ->
    io_lib:format("invalid socket domain ~0tp: expected inet, inet6, local, "
                  "packet, netlink or a number", [Domain]);
format({bad_type, Type}) ->
    io_lib:format("invalid socket type ~0tp: expected stream, dgram, raw, "
                  "seqpacket or a number", [Type]);
format({bad_fd, Fd}) ->
    io_lib:format("invalid file descriptor ~0tp: expected a non-negative "
                  "integer", [Fd]);
format({bad_key, Key}) ->
    io_lib:format("invalid sysctl key ~0tp: expected the dot form "
                  "(net.ipv4.ip_forward) or the slash form "
                  "(net/ipv4/conf/br.100/forwarding)", [Key]);
format({bad_value, {contains, newline}}) ->
    "invalid sysctl value: it contains a newline";
format({bad_value, {contains, nul}}) ->
    "invalid sysctl value: it contains a NUL byte";
format({bad_value, What}) ->
    io_lib:format("invalid sysctl value: ~0tp", [What]);
format({unsupported_type, Value}) ->
    io_lib:format("unsupported sysctl value ~0tP: expected an integer, "
                  "a list of integers, a binary or an iolist", [Value, 20]);
format({bad_in, In}) ->
    io_lib:format("invalid namespace target (option in) ~0tp: expected self, "
                  "{pid, OsPid}, {netns, Name}, {path, NsPath} or "
                  "{ns, [NsPath]}", [In]);
format({bad_option, Option}) ->
    io_lib:format("invalid option ~0tp", [Option]);
format({not_integer, Value}) ->
    io_lib:format("sysctl value ~0tp is not an integer", [Value]);
format({bad_via, Via}) ->
    io_lib:format("invalid option via ~0tp: expected local or the node name "
                  "of a linx C-node", [Via]);
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
format({unexpected_reply, Reply}) ->
    io_lib:format("unexpected reply from the linx port program: ~0tP",
                  [Reply, 20]);
format({Stage, Errno}) when ?IS_STAGE(Stage) ->
    %% A raw `{error, {Stage, Errno}}' straight from linx_port:request/2.
    Code = case is_atom(Errno) of
               true -> errno_code(Errno);
               false -> 0
           end,
    [atom_to_list(Stage), " failed: ", term_text(Errno),
     case Code of
         0 -> [];
         _ -> io_lib:format(" (errno ~b)", [Code])
     end];
format(Errno) when is_atom(Errno) ->
    case errno_code(Errno) of
        0 -> io_lib:format("~0tp", [Errno]);
        Code -> [atom_to_list(Errno), code_text(Code)]
    end;
format(Other) ->
    io_lib:format("~0tp", [Other]).

-spec code_text(term()) -> unicode:chardata().
code_text(Code) when is_integer(Code), Code > 0 ->
    io_lib:format(" (errno ~b)", [Code]);
code_text(_) ->
    [].

%% Where the operation ran, when it was not the port's own namespaces.
-spec in_text(term()) -> unicode:chardata().
in_text(self) ->
    [];
in_text({pid, Pid}) when is_integer(Pid) ->
    io_lib:format(" in pid ~b", [Pid]);
in_text({netns, Name}) when is_binary(Name); is_list(Name) ->
    [" in netns ", quote(Name)];
in_text({path, Path}) when is_binary(Path); is_list(Path) ->
    [" in ", quote(Path)];
in_text(In) ->
    io_lib:format(" in ~0tp", [In]).

-spec term_text(term()) -> unicode:chardata().
term_text(A) when is_atom(A) ->
    atom_to_list(A);
term_text(Bin) when is_binary(Bin) ->
    [escape(C) || C <- text(Bin)];
term_text(T) ->
    io_lib:format("~0tp", [T]).

%% A key or name between double quotes, with `"', `\' and control
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

%% A binary as characters: UTF-8 when it is valid, bytes otherwise.
-spec text(binary()) -> [char()].
text(Bin) ->
    case unicode:characters_to_list(Bin) of
        List when is_list(List) -> List;
        _ -> binary_to_list(Bin)
    end.
