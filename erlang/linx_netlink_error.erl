%% @doc {@link linx_netlink}'s errors: made from the port program's
%% replies ({@link reply/2}), and their text, one line each; see
%% {@link linx_netlink:format_error/1} for the forms.
%%
%% An error map of a socket that could not be made is `netlink open
%% Protocol[ in Target] failed: Stage Errno (errno Code)' (`netlink call'
%% for {@link linx_netlink:call/3}, `socket open Domain Type Protocol' for
%% {@link linx_netlink:socket_open/4}, `netlink Op (Protocol)' for a call
%% made for an op of {@link linx_rtnl} or {@link linx_genl}); a failure on
%% a descriptor or socket of this node names the call and its argument
%% (`linx_netlink:close_fd(42) failed: ebadf (errno 9)'); a bad argument
%% is `invalid What Arg: expected Expected'.
-module(linx_netlink_error).

-export([reply/2, format_error/1, failed_line/3]).

%% @doc Turns anything but the op's success reply into an error map with
%% the request's `op', `protocol', `domain', `type' and `in'. Unlike
%% linx_sysctl, an error this node made (`{adopt, _}', `{fd_channel, _}')
%% is returned as it is. The failure of a namespace given in `ns_fds'
%% (`{ns_fd, Offset, {Stage, Errno}}') is that stage and errno with
%% `ns_fd => #{offset => Offset, in => In}', `In' that entry's.
-spec reply(linx_netlink_args:req(), term()) -> {error, term()}.
reply(Req, {error, {ns_fd, Offset, {_, _} = Inner}}) ->
    case reply(Req, {error, Inner}) of
        {error, #{} = Info} ->
            In = maps:get(Offset, maps:get(ns_ins, Req, #{}), undefined),
            {error, Info#{ns_fd => #{offset => Offset, in => In}}};
        Error ->
            Error
    end;
reply(Req, Reply) ->
    Context = maps:with([op, protocol, domain, type, in], Req),
    case linx_error:reply(Reply, Context) of
        {error, {unexpected_reply, {error, _} = Error}} -> Error;
        Error -> Error
    end.

%% @doc One line of text (a flat binary, no newline) for an error of
%% {@link linx_netlink}: its error maps and its bad arguments; any other
%% error is {@link linx_error:format_error/1}'s.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(#{op := close_fd, fd := Fd, errno := Errno, code := Code}) ->
    linx_error:line(["linx_netlink:close_fd(", linx_error:term_text(Fd), ") failed: ",
                     linx_error:term_text(Errno), linx_error:code_text(Code),
                     [": not a socket, left open" || Errno =:= enotsock]]);
format_error(#{op := Op, group := Group, stage := Stage, errno := Errno, code := Code})
  when Op =:= membership_add; Op =:= membership_del ->
    linx_error:line(["linx_netlink:", atom_to_list(Op), "(Socket, ", linx_error:term_text(Group),
                     ") failed: ", reason_text(Stage, Errno, Code)]);
format_error(#{op := Op, stage := Stage, errno := Errno, code := Code} = Error)
  when (Op =:= netlink_open orelse Op =:= netlink_call orelse Op =:= socket_open
        orelse (is_atom(Op) andalso is_map_key(protocol, Error))),
       is_atom(Stage) ->
    Where = case Error of
                %% Another namespace than the call's failed: that one is named.
                #{ns_fd := #{in := NsIn} = NsFd} -> [" failed on ", ns_fd_text(NsFd, NsIn)];
                _ -> [linx_error:in_text(maps:get(in, Error, self)), " failed"]
            end,
    linx_error:line([op_text(Op, Error), Where, ": ", reason_text(Stage, Errno, Code)]);
format_error({Tag, Arg} = Reason) ->
    case reason_text(Tag) of
        {What, Expected} ->
            linx_error:invalid(What, Arg, Expected);
        undefined ->
            linx_error:format_error(Reason)
    end;
format_error(Reason) ->
    linx_error:format_error(Reason).

%%====================================================================
%% Internal functions
%%====================================================================

-spec op_text(atom(), map()) -> unicode:chardata().
op_text(netlink_open, Error) ->
    ["netlink open ", linx_error:term_text(maps:get(protocol, Error, undefined))];
op_text(netlink_call, Error) ->
    ["netlink call ", linx_error:term_text(maps:get(protocol, Error, undefined))];
op_text(socket_open, Error) ->
    ["socket open ",
     lists:join($\s, [linx_error:term_text(maps:get(K, Error, undefined))
                      || K <- [domain, type, protocol]])];
op_text(Op, Error) ->
    %% A call made for an op of linx_rtnl or linx_genl, named after it.
    ["netlink ", atom_to_list(Op), " (", linx_error:term_text(maps:get(protocol, Error, undefined)),
     ")"].

%% The namespace of an `ns_fd' that failed: whose it is, or where its
%% descriptor went.
-spec ns_fd_text(map(), term()) -> unicode:chardata().
ns_fd_text(#{whose := Whose}, In) when is_atom(Whose) ->
    ["the ", atom_to_list(Whose), "'s ", ns_text(In)];
ns_fd_text(#{offset := Offset}, In) ->
    [ns_text(In), io_lib:format(" (for the descriptor at byte ~w of the message)", [Offset])].

-spec ns_text(term()) -> unicode:chardata().
ns_text({netns, Name}) when is_binary(Name); is_list(Name) ->
    ["netns ", linx_error:quote(Name)];
ns_text({linx_netns, Id}) when is_integer(Id) ->
    io_lib:format("netns handle ~b", [Id]);
ns_text({pid, Pid}) when is_integer(Pid) ->
    io_lib:format("netns of pid ~b", [Pid]);
ns_text({path, Path}) when is_binary(Path); is_list(Path) ->
    ["netns ", linx_error:quote(Path)];
ns_text(In) ->
    io_lib:format("namespace ~0tp", [In]).

%% What went wrong, after `failed: '.
-spec reason_text(atom(), term(), term()) -> unicode:chardata().
reason_text(_Stage, too_large, _Code) ->
    linx_error:too_large_text();
reason_text(adopt, emfile, Code) ->
    ["adopt emfile", linx_error:code_text(Code),
     ": this node had no descriptor free to take the socket"];
reason_text(Stage, Errno, Code) ->
    [atom_to_list(Stage), $\s, linx_error:term_text(Errno), linx_error:code_text(Code)].

%% What a `{bad_..., Arg}' reason is about, and what was expected instead.
-spec reason_text(term()) -> {string(), string()} | undefined.
reason_text(bad_protocol) ->
    {"protocol", "a protocol name (such as route, generic, tcp or icmp) or a number (0..31 for netlink)"};
reason_text(bad_groups) ->
    {"netlink groups", "a bit mask below 2^32 or a list of group numbers from 1"};
reason_text(bad_group) ->
    {"netlink group", "a group number from 1"};
reason_text(bad_rcvbuf) ->
    {"receive buffer size (option rcvbuf)", "a positive integer"};
reason_text(bad_domain) ->
    {"socket domain", "inet, inet6, local, packet, netlink or a number"};
reason_text(bad_type) ->
    {"socket type", "stream, dgram, raw, seqpacket or a number"};
reason_text(bad_message) ->
    {"netlink message", "iodata of whole netlink messages, at least one 16-byte header"};
reason_text(bad_fd) ->
    {"file descriptor", "a non-negative integer"};
reason_text(_) ->
    undefined.

%% @doc The line of a refusal by the kernel (`Info' with `errno', `code',
%% `in' and the extended-ack `message'): `What', where, the errno and
%% its code, the kernel's text, then `Extra'.
-spec failed_line(iodata(), map(), iodata()) -> unicode:unicode_binary().
failed_line(What, #{errno := Errno, code := Code} = Info, Extra) ->
    Msg = case Info of
              #{message := M} when M =/= <<>> -> [": ", linx_error:term_text(M)];
              _ -> []
          end,
    linx_error:line([What, linx_error:in_text(maps:get(in, Info, self)), " failed: ",
                     linx_error:term_text(Errno), linx_error:code_text(Code), Msg, Extra]).
