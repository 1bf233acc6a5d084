%% @doc The text of {@link linx_netlink}'s errors, one line each; see
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

-export([format_error/1]).

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
    linx_error:line([op_text(Op, Error), linx_error:in_text(maps:get(in, Error, self)),
                     " failed: ", reason_text(Stage, Errno, Code)]);
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
