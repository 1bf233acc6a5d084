%% @doc Netlink and other sockets created inside a namespace.
%% Guide: docs/sockets.md in the source tree.
%%
%% The port program creates the socket inside the target's network
%% namespace, passes its descriptor to this node over the fd channel and
%% `linx_port' adopts it as a `socket:socket()' whose controlling process
%% is the caller. From then on it is an ordinary socket of this node: use
%% `socket:send/2', `socket:recv/3', `socket:close/1' and the other
%% functions of the `socket' module on it. It is closed when the caller
%% closes it or exits.
%%
%% ```
%% %% rtnetlink in netns "blue", subscribed to link events (RTMGRP_LINK):
%% {ok, S} = linx_netlink:open(route, [1], #{in => {netns, <<"blue">>}}),
%% {ok, Notification} = socket:recv(S, 0, 5000),
%% ok = socket:close(S).
%%
%% %% Generic netlink with a larger receive buffer:
%% {ok, G} = linx_netlink:open(generic, #{rcvbuf => 1 bsl 20}),
%%
%% %% A raw descriptor, for code that passes it on (to a port program, say):
%% {ok, Fd} = linx_netlink:open_fd(route, #{in => {pid, 4242}}),
%% ok = linx_netlink:close_fd(Fd).
%%
%% %% Any other socket, for example a packet socket for every protocol
%% %% (ETH_P_ALL in network byte order):
%% {ok, P} = linx_netlink:socket_open(packet, raw, {ethertype, 16#0003},
%%                                    #{in => {netns, "blue"}}),
%% {ok, I} = linx_netlink:socket_open(inet, raw, icmp,
%%                                    #{in => {netns, "blue"}}).
%% '''
%%
%% == Netlink protocols ==
%% `Protocol' is one of the names below (from `linux/netlink.h') or an
%% integer from 0 to 31: `route' (0), `unused' (1), `usersock' (2),
%% `firewall' (3), `sock_diag' or `inet_diag' (4), `nflog' (5), `xfrm' (6),
%% `selinux' (7), `iscsi' (8), `audit' (9), `fib_lookup' (10),
%% `connector' (11), `netfilter' (12), `ip6_fw' (13), `dnrtmsg' (14),
%% `kobject_uevent' (15), `generic' (16), `scsitransport' (18),
%% `ecryptfs' (19), `rdma' (20), `crypto' (21), `smc' (22). Anything else
%% is `{error, {bad_protocol, Protocol}}'. A protocol the kernel does not
%% have fails in the port program with stage `socket' and errno
%% `eprotonosupport'.
%%
%% == Groups ==
%% The multicast groups a netlink socket joins ({@link open/3}) are either
%% a bit mask below 2^32 (bit N-1 is group N, the `RTMGRP_*' style) or a
%% list of group numbers from 1 (the `RTNLGRP_*' style). Groups 1 to 32
%% are joined when the port program binds the socket; larger ones are
%% joined with {@link membership_add/2} once the socket is here (not
%% possible with {@link open_fd/3}, which refuses them with
%% `{error, {bad_groups, Groups}}'). Anything else is
%% `{error, {bad_groups, Groups}}'. Default: no group.
%%
%% == Options ==
%% Options are a map, or a proplist (the same options; the first of a key
%% wins). A key a function does not read is refused,
%% `{error, {bad_option, {Key, Value}}}', as are options that are neither
%% (`{error, {bad_option, Opts}}').
%% <ul>
%% <li>`in': where the socket is created (default `self', the network
%%     namespace of the port program); the same values as for
%%     {@link linx_sysctl}: `{pid, OsPid}', `{netns, Name}',
%%     `{path, NsPath}' or `{ns, [NsPath]}'. Anything else is
%%     `{error, {bad_in, In}}'.</li>
%% <li>`rcvbuf': `SO_RCVBUF' in bytes, a positive integer, set with
%%     `socket:setopt/4' once the socket is here (the kernel doubles it and
%%     caps it at `net.core.rmem_max'). Anything else is
%%     `{error, {bad_rcvbuf, Value}}'. {@link open_fd/3} refuses it with
%%     `{error, {bad_option, {rcvbuf, Value}}}'.</li>
%% <li>`timeout': milliseconds to wait for the port program (default 5000)
%%     or `infinity'.</li>
%% <li>`via': `local' (default) or the name of a `linx_port' C-node that
%%     does the work instead of this node's port, as for {@link linx_sysctl}
%%     (the application environment `{via, Node}' changes the default).
%%     Descriptors cannot cross distribution: with a C-node on this host the
%%     descriptor comes over a Unix socket of its own, verified to come from
%%     the C-node's process (see {@link linx_remote}); with a C-node on
%%     another host {@link open/2}, {@link open_fd/2} and
%%     {@link socket_open/4} return `{error, {netlink_open, remote}}' (or
%%     `{error, {socket_open, remote}}') and {@link call/3} is the way to go.
%%     Anything else is `{error, {bad_via, Via}}'.</li>
%% </ul>
%% All arguments and options are checked before anything is sent to the
%% port program.
%%
%% == Netlink requests without a socket ==
%% {@link call/3} sends one or more netlink messages from a socket the
%% port program keeps inside the target and returns every reply message as a binary, headers
%% included: a dump up to and including its `NLMSG_DONE', any request's
%% `NLMSG_ERROR' (the error, or the ack asked for with `NLM_F_ACK', with
%% its extended-ack attributes), or the single reply of a plain request.
%% ```
%% Dump = <<32:32/native, 18:16/native, 16#301:16/native, 1:32/native,
%%          0:32/native, 0:128>>,              % RTM_GETLINK, NLM_F_DUMP
%% {ok, Replies} = linx_netlink:call(route, Dump, #{in => {netns, <<"blue">>},
%%                                                 via => 'linx@host'}).
%% '''
%%
%% == Errors ==
%% A failure while making the socket is returned as an
%% {@type error_info()} map, which {@link linx:format_error/1} renders as
%% one line (`netlink open route in netns "blue" failed: socket
%% eprotonosupport (errno 93)'):
%% ```
%% #{op => netlink_open, stage => socket, errno => eprotonosupport,
%%   code => 93, protocol => route, in => {netns, <<"blue">>}}
%% '''
%% `stage' says which step failed: in the port program one of
%% {@link linx_error:stages/0}; in this node `adopt' (the descriptor could
%% not be made a socket) or `setsockopt' (the `rcvbuf' option or joining a
%% group above 32; the socket is then closed). {@link socket_open/4} errors have
%% `op => socket_open' and also carry `domain' and `type'; {@link call/3}
%% errors have `op => netlink_call' and the stages `socket', `setsockopt',
%% `bind', `send' and `recv' (`etimedout' when the kernel did not answer
%% within 5 seconds, `emsgsize' beyond 16 MiB of replies). Other errors are
%% `timeout', `not_running', `{port_exited, Status}', `{port_hung, Ms}'
%% (the program stopped answering and was replaced), `{nodedown, Node}'
%% and the validation errors described above.
-module(linx_netlink).

-include("linx_owned.hrl").

-export([open/1, open/2, open/3, open_fd/1, open_fd/2, open_fd/3, close_fd/1]).
-export([membership_add/2, membership_del/2]).
-export([socket_open/3, socket_open/4]).
-export([call/2, call/3, call/5]).
-export([format_error/1]).

-export_type([protocol/0, groups/0, opts/0, domain/0, type/0,
              socket_protocol/0, socket_opts/0]).
-export_type([op/0, stage/0, error_info/0, fd_error/0, error_reason/0]).

-type protocol() :: route | unused | usersock | firewall | sock_diag
                  | inet_diag | nflog | xfrm | selinux | iscsi | audit
                  | fib_lookup | connector | netfilter | ip6_fw | dnrtmsg
                  | kobject_uevent | generic | scsitransport | ecryptfs
                  | rdma | crypto | smc | 0..31.
%% A netlink protocol (`NETLINK_ROUTE' is `route' or 0).

-type groups() :: 0..16#ffffffff | [pos_integer()].
%% A bind mask, or a list of group numbers from 1.

-type opts() :: #{in => linx_opts:in(),
                  rcvbuf => pos_integer(),
                  timeout => timeout(),
                  atom() => term()}
              | [{atom(), term()}].

-type domain() :: inet | inet6 | local | packet | netlink | non_neg_integer().
%% An address family: `inet' (2), `inet6' (10), `local' (1), `packet' (17),
%% `netlink' (16) or its number.

-type type() :: stream | dgram | raw | seqpacket | non_neg_integer().
%% A socket type: `stream' (1), `dgram' (2), `raw' (3), `seqpacket' (5) or
%% its number.

-type socket_protocol() :: default | ip | icmp | tcp | udp | ipv6 | icmpv6
                         | raw | {ethertype, 0..16#ffff} | non_neg_integer().
%% `default' and `ip' are 0, `icmp' 1, `tcp' 6, `udp' 17, `ipv6' 41,
%% `icmpv6' 58, `raw' 255. For `packet' sockets the protocol is an
%% EtherType in network byte order: give `{ethertype, 16#0003}' (ETH_P_ALL)
%% or the integer already swapped (768 on a little-endian machine).

-type socket_opts() :: #{in => linx_opts:in(),
                         rcvbuf => pos_integer(),
                         timeout => timeout(),
                         atom() => term()}
                     | [{atom(), term()}].

-type op() :: netlink_open | socket_open | netlink_call.

-type stage() :: linx_error:stage() | adopt.
%% See {@link linx_error:stages/0}; `adopt' is this node's.

-type error_info() :: #{op := op(),
                        stage := stage(),
                        errno := atom() | binary(),
                        code := non_neg_integer(),
                        protocol := term(),
                        in := linx_opts:in(),
                        domain => term(),
                        type => term(),
                        ns_fd => #{offset := non_neg_integer(), in := linx_opts:in(),
                                   whose => atom()}}.
%% A failure while making the socket. `errno' is an errno atom, a reason
%% atom for `badarg', `decode' and `busy', or a message binary for `panic';
%% `code' is the errno number (0 when `errno' is not an errno). `protocol',
%% `domain', `type' and `in' are as the caller gave them. `ns_fd': the
%% failure was that of the namespace given for the descriptor at byte
%% `offset' of a {@link call/3}'s message (`whose' it is,
%% `link' or `peer', for a request of {@link linx_rtnl}).

-type fd_error() :: #{op := close_fd | membership_add | membership_del,
                      stage := close | setsockopt,
                      errno := atom() | binary(),
                      code := non_neg_integer(),
                      fd => non_neg_integer(),
                      group => pos_integer()}.
%% A failure on a descriptor or socket of this node: {@link close_fd/1}'s
%% (`fd', stage `close'), or a membership's (`group', stage
%% `setsockopt'). `errno' is an errno atom, or a socket's reason such as
%% `closed' (`code' 0), or a binary for any other term.

-type error_reason() :: error_info()
                      | fd_error()
                      | linx_error:reason()
                      | linx_opts:error()
                      | {bad_message | bad_protocol | bad_groups | bad_rcvbuf
                         | bad_domain | bad_type, term()}
                      | term().

-define(AF_NETLINK, 16).
-define(SOL_NETLINK, 270).
-define(NETLINK_ADD_MEMBERSHIP, 1).
-define(NETLINK_DROP_MEMBERSHIP, 2).
-define(MAX_GROUP, 16#ffffffff).
%% The size of a part of call/5's replies: large enough that a part costs
%% little to send and route, small enough that the first comes early.
-define(PART_BYTES, 32768).

%%====================================================================
%% API
%%====================================================================

%% @equiv open(Protocol, 0, #{})
-spec open(protocol()) -> {ok, socket:socket()} | {error, error_reason()}.
open(Protocol) ->
    open(Protocol, 0, #{}).

%% @equiv open(Protocol, 0, Opts)
-spec open(protocol(), opts()) -> {ok, socket:socket()} | {error, error_reason()}.
open(Protocol, Opts) ->
    open(Protocol, 0, Opts).

%% @doc Opens a netlink socket of `Protocol' inside the target namespace,
%% a member of the multicast groups `Groups' ({@type groups()}; `0' for
%% none).
%%
%% The socket is bound (port id chosen by the kernel, the groups given),
%% has `NETLINK_EXT_ACK' set and is owned by the caller.
-spec open(protocol(), groups(), opts()) ->
          {ok, socket:socket()} | {error, error_reason()}.
open(Protocol, Groups, Opts) ->
    ?OWNED(case linx_netlink_args:netlink_open(Protocol, Groups, Opts, socket) of
               {ok, Req, ProtoInt, Mask} ->
                   Mode = {adopt, #{domain => ?AF_NETLINK, type => raw,
                                    protocol => ProtoInt}},
                   Reply = request(Req, {netlink_open, ProtoInt, Mask,
                                         maps:get(target, Req)}, Mode),
                   adopted(Req, Reply);
               {error, _} = Error ->
                   Error
           end).

%% @equiv open_fd(Protocol, 0, #{})
-spec open_fd(protocol()) -> {ok, non_neg_integer()} | {error, error_reason()}.
open_fd(Protocol) ->
    open_fd(Protocol, 0, #{}).

%% @equiv open_fd(Protocol, 0, Opts)
-spec open_fd(protocol(), opts()) -> {ok, non_neg_integer()} | {error, error_reason()}.
open_fd(Protocol, Opts) ->
    open_fd(Protocol, 0, Opts).

%% @doc Like {@link open/3}, but returns the raw descriptor number in this
%% node instead of a socket.
%%
%% The descriptor is the caller's to close, with {@link close_fd/1} (or by
%% adopting it with `socket:open/2'). The option `rcvbuf' and groups above
%% 32 need the socket in this node and are refused with
%% `{error, {bad_option, {rcvbuf, Value}}}' and `{error, {bad_groups, Groups}}'.
-spec open_fd(protocol(), groups(), opts()) ->
          {ok, non_neg_integer()} | {error, error_reason()}.
open_fd(Protocol, Groups, Opts) ->
    ?OWNED(case linx_netlink_args:netlink_open(Protocol, Groups, Opts, fd) of
               {ok, Req, ProtoInt, Mask} ->
                   case request(Req, {netlink_open, ProtoInt, Mask, maps:get(target, Req)},
                                raw) of
                       {ok, Fd} when is_integer(Fd), Fd >= 0 -> {ok, Fd};
                       Other -> error_reply(Req, Other)
                   end;
               {error, _} = Error ->
                   Error
           end).

%% @doc Closes a raw socket descriptor of this node, such as one returned
%% by {@link open_fd/2}.
%%
%% A descriptor that is not open, or not a socket, is left alone and is
%% an error map naming it: `#{op => close_fd, fd => Fd, stage => close,
%% errno => ebadf, code => 9}' (`enotsock', 88, for one that is not a
%% socket), rendered `linx_netlink:close_fd(Fd) failed: ebadf (errno 9)'.
%% Anything but a descriptor number is `{error, {bad_fd, Fd}}'. Never give
%% it the descriptor of a socket something else still uses, such as one
%% inside a `socket:socket()'. See {@link linx_fdchan:close_fd/1} for how
%% it is closed.
-spec close_fd(non_neg_integer()) -> ok | {error, Reason} when
      Reason :: fd_error() | {bad_fd, term()}.
close_fd(Fd) ->
    ?OWNED(case linx_fdchan:close_fd(Fd) of
               ok -> ok;
               {error, {bad_fd, _}} = Error -> Error;
               {error, Reason} -> {error, fd_error(#{op => close_fd, fd => Fd}, close, Reason)}
           end).

%% @doc Joins netlink multicast group `Group' (a group number from 1,
%% `NETLINK_ADD_MEMBERSHIP'). A group that is not one is
%% `{error, {bad_group, Group}}'; a failure of the socket option is an
%% error map naming the group, such as `#{op => membership_add, group =>
%% 1, stage => setsockopt, errno => closed, code => 0}'.
-spec membership_add(socket:socket(), pos_integer()) ->
          ok | {error, {bad_group, term()} | fd_error()}.
membership_add(Socket, Group) ->
    ?OWNED(membership(membership_add, Socket, ?NETLINK_ADD_MEMBERSHIP, Group)).

%% @doc Leaves netlink multicast group `Group'
%% (`NETLINK_DROP_MEMBERSHIP'). Messages already queued stay queued.
%% Errors as for {@link membership_add/2}.
-spec membership_del(socket:socket(), pos_integer()) ->
          ok | {error, {bad_group, term()} | fd_error()}.
membership_del(Socket, Group) ->
    ?OWNED(membership(membership_del, Socket, ?NETLINK_DROP_MEMBERSHIP, Group)).

%% @equiv socket_open(Domain, Type, Protocol, #{})
-spec socket_open(domain(), type(), socket_protocol()) ->
          {ok, socket:socket()} | {error, error_reason()}.
socket_open(Domain, Type, Protocol) ->
    socket_open(Domain, Type, Protocol, #{}).

%% @doc Opens a socket of any domain, type and protocol inside the target
%% namespace, like `socket:open/3' would there. Options: `in', `rcvbuf'
%% and `timeout', as for {@link open/2}. The socket is not bound.
%%
%% Bad arguments are `{error, {bad_domain | bad_type | bad_protocol, X}}'.
-spec socket_open(domain(), type(), socket_protocol(), socket_opts()) ->
          {ok, socket:socket()} | {error, error_reason()}.
socket_open(Domain, Type, Protocol, Opts) ->
    ?OWNED(case linx_netlink_args:socket_open(Domain, Type, Protocol, Opts) of
               {ok, Req, D, T, P} ->
                   Mode = {adopt, #{domain => D, type => linx_netlink_args:adopt_type(T),
                                    protocol => P}},
                   Reply = request(Req, {socket_open, D, T, P, maps:get(target, Req)},
                                   Mode),
                   adopted(Req, Reply);
               {error, _} = Error ->
                   Error
           end).

%% @equiv call(Protocol, Msg, #{})
-spec call(protocol(), iodata()) -> {ok, [binary()]} | {error, error_reason()}.
call(Protocol, Msg) ->
    call(Protocol, Msg, #{}).

%% @doc Sends the netlink message(s) `Msg' (iodata: one or more complete
%% messages, headers in host byte order; flags and sequence numbers are
%% the caller's, `nlmsg_pid' is set to 0) from a socket of `Protocol'
%% inside the target namespace, and returns every reply
%% message, one binary each, headers included. See the module
%% documentation for when the replies end. Options: `in', `timeout' and
%% `via'. Works through a C-node on any host, since no descriptor travels.
%% The socket is kept for the next call (closed after a failure or 10 s).
%%
%% Option `ns_fds => [{Offset, In}]' (at most 16) names other network
%% namespaces for attributes that take a namespace descriptor, such as
%% `IFLA_NET_NS_FD': the port program opens each `In' (any target form)
%% and writes the descriptor's number at byte `Offset' of `Msg' (4 bytes,
%% host byte order) before sending, and closes it after. A bad entry is
%% `{error, {bad_option, {ns_fds, Entry}}}'. When the namespace of an
%% entry cannot be opened (or the policy refuses it), the error map has
%% `ns_fd => #{offset => Offset, in => In}' beside the stage and errno of
%% that failure: the `in' of the call is not the namespace that failed.
%%
%% Option `strict => true' sends `Msg' on a kept socket with strict
%% checking (`NETLINK_GET_STRICT_CHK', kernel 4.20 and later): the kernel
%% refuses a get or dump request with stray nonzero header fields or
%% attributes, and filters a dump by those it knows (a route dump by
%% table, device, protocol and type, as for iproute2).
%%
%% `Msg' shorter than one header is `{error, {bad_message, Msg}}'.
-spec call(protocol(), iodata(), opts()) ->
          {ok, [binary()]} | {error, error_reason()}.
call(Protocol, Msg, Opts) ->
    ?OWNED(case linx_netlink_args:netlink_call(Protocol, Msg, Opts) of
               {ok, #{timeout := Timeout, via := Via} = Req, ProtoInt, Bin} ->
                   Op = linx_netlink_args:call_op(Req, ProtoInt, Bin, 0),
                   call_reply(Req, linx_remote:request(Op, Timeout, Via));
               {error, _} = Error ->
                   Error
           end).

%% @doc {@link call/3} for a long answer (a dump), with the replies
%% handed over in parts while the kernel still dumps: the replies of each
%% part (about 32 KiB of them, in order) go through `Fun(Replies, Acc)' in
%% the calling process as they come, starting from `Acc0', so the caller
%% can work on them meanwhile. Returns `{{ok, Rest}, Acc}' with the
%% replies after the last part, or `{{error, Reason}, Acc}' (the errors of
%% {@link call/3}; the parts' replies do not count then). A short answer,
%% or one through a C-node or in a target with a user namespace, comes
%% whole in `Rest', and `Acc' is `Acc0'.
-spec call(protocol(), iodata(), opts(), fun(([binary()], Acc) -> Acc), Acc) ->
          {{ok, [binary()]} | {error, error_reason()}, Acc}.
call(Protocol, Msg, Opts, Fun, Acc0) ->
    {Result, Acc} = call_in_parts(Protocol, Msg, Opts, Fun, Acc0),
    {?OWNED(Result), Acc}.

call_in_parts(Protocol, Msg, Opts, Fun, Acc0) when is_function(Fun, 2) ->
    case linx_netlink_args:netlink_call(Protocol, Msg, Opts) of
        {ok, #{timeout := Timeout, via := Via} = Req, ProtoInt, Bin} ->
            Op = linx_netlink_args:call_op(Req, ProtoInt, Bin, ?PART_BYTES),
            {Reply, Acc} = linx_remote:request(Op, Timeout, Via, Fun, Acc0),
            {call_reply(Req, Reply), Acc};
        {error, _} = Error ->
            {Error, Acc0}
    end.

call_reply(_Req, {ok, Replies}) when is_list(Replies) -> {ok, Replies};
call_reply(Req, Other) -> error_reply(Req, Other).

%% @doc Renders an error of this module as one line of text (a flat
%% binary, no newline); {@link linx:format_error/1} renders any error.
%%
%% Accepts both `{error, Reason}' and the bare `Reason'. An
%% {@type error_info()} map is rendered as
%% `netlink open Protocol[ in Target] failed: Stage Errno (errno Code)'
%% (`netlink call' for {@link call/3}) or
%% `socket open Domain Type Protocol[ in Target] failed: Stage Errno
%% (errno Code)'. The errors every module shares are rendered by
%% {@link linx_error:format_error/1}; the texts are {@link linx_netlink_error}'s.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun linx_netlink_error:format_error/1).

%%====================================================================
%% Internal functions
%%====================================================================

-spec request(linx_netlink_args:req(), tuple(), term()) -> term().
request(#{timeout := Timeout, via := Via}, WireOp, Mode) ->
    linx_remote:request_fd(WireOp, Mode, Timeout, Via).

%% A socket has arrived: apply what needs it here, closing it on failure.
-spec adopted(linx_netlink_args:req(), term()) ->
          {ok, socket:socket()} | {error, error_reason()}.
adopted(#{rcvbuf := RcvBuf, extra_groups := Extra} = Req, {ok, Socket}) ->
    case after_adoption(Socket, RcvBuf, Extra) of
        ok ->
            {ok, Socket};
        {error, Reason} ->
            _ = socket:close(Socket),
            error_reply(Req, {error, {setsockopt, Reason}})
    end;
adopted(Req, Other) ->
    error_reply(Req, Other).

-spec after_adoption(socket:socket(), pos_integer() | undefined,
                     [pos_integer()]) -> ok | {error, term()}.
after_adoption(_Socket, undefined, []) ->
    ok;
after_adoption(Socket, undefined, [Group | Rest]) ->
    case membership(Socket, ?NETLINK_ADD_MEMBERSHIP, Group) of
        ok -> after_adoption(Socket, undefined, Rest);
        {error, _} = Error -> Error
    end;
after_adoption(Socket, RcvBuf, Extra) ->
    case socket:setopt(Socket, socket, rcvbuf, RcvBuf) of
        ok -> after_adoption(Socket, undefined, Extra);
        {error, _} = Error -> Error
    end.

%% Anything but the op's success reply, as an error (linx_netlink_error's).
error_reply(Req, Reply) ->
    linx_netlink_error:reply(Req, Reply).

-spec membership(socket:socket(), 1 | 2, term()) ->
          ok | {error, {bad_group, term()} | term()}.
membership(Socket, Opt, Group)
  when is_integer(Group), Group >= 1, Group =< ?MAX_GROUP ->
    socket:setopt_native(Socket, {?SOL_NETLINK, Opt}, <<Group:32/native>>);
membership(_Socket, _Opt, Group) ->
    {error, {bad_group, Group}}.

%% membership/3 for the public function `Op': a failure of the socket
%% option names the op and the group.
-spec membership(membership_add | membership_del, socket:socket(), 1 | 2, term()) ->
          ok | {error, {bad_group, term()} | fd_error()}.
membership(Op, Socket, Opt, Group) ->
    case membership(Socket, Opt, Group) of
        ok -> ok;
        {error, {bad_group, _}} = Error -> Error;
        {error, Reason} -> {error, fd_error(#{op => Op, group => Group}, setsockopt, Reason)}
    end.

%% The error map of a call on a descriptor or socket of this node.
-spec fd_error(map(), close | setsockopt, term()) -> fd_error().
fd_error(Context, Stage, Errno) when is_atom(Errno) ->
    Context#{stage => Stage, errno => Errno, code => linx_error:errno_code(Errno)};
fd_error(Context, Stage, Reason) ->
    Context#{stage => Stage, errno => linx_error:line(io_lib:format("~0tp", [Reason])), code => 0}.

