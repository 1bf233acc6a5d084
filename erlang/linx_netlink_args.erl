%% @doc The arguments of {@link linx_netlink}: names to numbers, and the
%% options only sockets have.
%%
%% Netlink protocols, address families, socket types and socket protocols
%% are given by name or number; each table below is the one place that
%% names them. A socket's groups and its `rcvbuf' option are checked here.
-module(linx_netlink_args).

-export([protocol_number/1, domain_number/1, type_number/1,
         socket_protocol_number/1, adopt_type/1]).
-export([split_groups/1, rcvbuf/2]).
-export([netlink_open/4, socket_open/4, netlink_call/3, call_op/4]).

-export_type([req/0]).

-type req() :: #{op := netlink_open | socket_open | netlink_call,
                 protocol := term(),
                 domain => term(),
                 type => term(),
                 in := linx_opts:in(),
                 target := linx_opts:target(),
                 timeout := timeout(),
                 via := linx_opts:via(),
                 extra_groups := [pos_integer()],
                 rcvbuf := pos_integer() | undefined,
                 ns_fds => [{non_neg_integer(), linx_opts:target()}],
                 strict => boolean(),
                 ns_ins => #{non_neg_integer() => linx_opts:in()}}.
%% A checked request: the arguments as the caller gave them (for error
%% maps; `ns_ins', the namespaces of `ns_fds' by offset), where and how
%% long, and what to do once the socket is here.

-define(MAX_INT, 16#7fffffff).
%% The options of a socket: the transport options and `rcvbuf'.
-define(SOCKET_KEYS, [in, timeout, via, rcvbuf]).
-define(MAX_GROUP, 16#ffffffff).

%% Netlink protocols, from linux/netlink.h.
-define(PROTOCOLS,
        #{route => 0, unused => 1, usersock => 2, firewall => 3,
          sock_diag => 4, inet_diag => 4, nflog => 5, xfrm => 6,
          selinux => 7, iscsi => 8, audit => 9, fib_lookup => 10,
          connector => 11, netfilter => 12, ip6_fw => 13, dnrtmsg => 14,
          kobject_uevent => 15, generic => 16, scsitransport => 18,
          ecryptfs => 19, rdma => 20, crypto => 21, smc => 22}).

-define(DOMAINS, #{local => 1, inet => 2, inet6 => 10, netlink => 16, packet => 17}).

-define(TYPES, #{stream => 1, dgram => 2, raw => 3, seqpacket => 5}).

-define(SOCKET_PROTOCOLS,
        #{default => 0, ip => 0, icmp => 1, tcp => 6, udp => 17, ipv6 => 41,
          icmpv6 => 58, raw => 255}).

%%====================================================================
%% Requests
%%====================================================================

%% @doc Checks the arguments of {@link linx_netlink:open/3} (`Mode'
%% `socket') or {@link linx_netlink:open_fd/3} (`Mode' `fd', which refuses
%% what needs the socket in this node); nothing is sent yet.
-spec netlink_open(term(), term(), term(), socket | fd) ->
          {ok, req(), 0..31, 0..16#ffffffff} | {error, term()}.
netlink_open(Protocol, Groups, Opts, Mode) ->
    Own = fun(_, #{opts := Map}) -> groups(Groups, Map, Mode) end,
    case linx_opts:check([protocol_number(Protocol)], Opts, ?SOCKET_KEYS, Own) of
        {ok, [ProtoInt], Checked, {Mask, Extra, RcvBuf}} ->
            Req = req(netlink_open, Protocol, Checked),
            {ok, Req#{extra_groups := Extra, rcvbuf := RcvBuf}, ProtoInt, Mask};
        {error, _} = Error ->
            Error
    end.

%% The groups of a netlink socket, as the bind mask and the groups joined
%% after it, and its `rcvbuf' option; `fd' refuses groups above 32.
-spec groups(term(), map(), socket | fd) ->
          {ok, {0..16#ffffffff, [pos_integer()], pos_integer() | undefined}} | {error, term()}.
groups(Groups, Map, Mode) ->
    case {split_groups(Groups), rcvbuf(Map, Mode)} of
        {{ok, _Mask, [_ | _]}, _} when Mode =:= fd ->
            {error, {bad_groups, Groups}};
        {{ok, Mask, Extra}, {ok, RcvBuf}} ->
            {ok, {Mask, Extra, RcvBuf}};
        {Groups1, RcvBuf1} ->
            linx_error:first_error([Groups1, RcvBuf1])
    end.

%% @doc Checks the arguments of {@link linx_netlink:socket_open/4}.
-spec socket_open(term(), term(), term(), term()) ->
          {ok, req(), non_neg_integer(), non_neg_integer(), non_neg_integer()}
        | {error, term()}.
socket_open(Domain, Type, Protocol, Opts) ->
    Checks = [domain_number(Domain), type_number(Type), socket_protocol_number(Protocol)],
    Own = fun(_, #{opts := Map}) -> rcvbuf(Map, socket) end,
    case linx_opts:check(Checks, Opts, ?SOCKET_KEYS, Own) of
        {ok, [D, T, P], Checked, RcvBuf} ->
            Req = req(socket_open, Protocol, Checked),
            {ok, Req#{domain => Domain, type => Type, rcvbuf := RcvBuf}, D, T, P};
        {error, _} = Error ->
            Error
    end.

%% @doc Checks the arguments of {@link linx_netlink:call/3}: `Msg' must be
%% iodata of at least one netlink header (16 bytes).
-spec netlink_call(term(), term(), term()) ->
          {ok, req(), 0..31, binary()} | {error, term()}.
netlink_call(Protocol, Msg, Opts) ->
    NsFds = fun([_, Bin], #{opts := Map}) -> ns_fds(maps:get(ns_fds, Map, []), byte_size(Bin)) end,
    Keys = [ns_fds, strict | linx_opts:transport()],
    case linx_opts:check([protocol_number(Protocol), message(Msg)], Opts, Keys, NsFds) of
        {ok, [ProtoInt, Bin], #{opts := Map} = Checked, Fds} ->
            case maps:get(strict, Map, false) of
                Strict when is_boolean(Strict) ->
                    Req = req(netlink_call, Protocol, Checked),
                    {ok, Req#{ns_fds => Fds, strict => Strict,
                              ns_ins => maps:from_list(maps:get(ns_fds, Map, []))},
                     ProtoInt, Bin};
                Other ->
                    {error, {bad_option, {strict, Other}}}
            end;
        {error, _} = Error ->
            Error
    end.

%% @doc The port program's op of a checked netlink call: with the
%% namespaces of `ns_fds', replies in parts of `PartBytes' (0: whole),
%% on the strictly checking socket when the call asks for it.
-spec call_op(req(), 0..31, binary(), non_neg_integer()) -> tuple().
call_op(#{target := Target} = Req, ProtoInt, Bin, PartBytes) ->
    case {maps:get(ns_fds, Req, []), PartBytes, maps:get(strict, Req, false)} of
        {[], 0, false} -> {netlink_call, ProtoInt, Bin, Target};
        {NsFds, 0, false} -> {netlink_call, ProtoInt, Bin, Target, NsFds};
        {NsFds, _, false} -> {netlink_call, ProtoInt, Bin, Target, NsFds, PartBytes};
        {NsFds, _, true} -> {netlink_call, ProtoInt, Bin, Target, NsFds, PartBytes, true}
    end.

%% The `ns_fds' option of a netlink call: `[{Offset, In}]', where the
%% descriptor of each target's network namespace goes into the message
%% (4 bytes inside it, host byte order), at most 16 (the program's
%% MAX_NS_FDS). A bad entry, or more than 16, is
%% `{bad_option, {ns_fds, Entry | List}}'.
-spec ns_fds(term(), non_neg_integer()) ->
          {ok, [{non_neg_integer(), linx_opts:target()}]} | {error, {bad_option, term()}}.
ns_fds(List, Size) when is_list(List), length(List) =< 16 ->
    ns_fds(List, Size, []);
ns_fds(Other, _Size) ->
    {error, {bad_option, {ns_fds, Other}}}.

ns_fds([], _Size, Acc) ->
    {ok, lists:reverse(Acc)};
ns_fds([{Offset, In} = Entry | Rest], Size, Acc)
  when is_integer(Offset), Offset >= 0, Offset + 4 =< Size ->
    case linx_opts:target(In) of
        {ok, Target} -> ns_fds(Rest, Size, [{Offset, Target} | Acc]);
        {error, _} -> {error, {bad_option, {ns_fds, Entry}}}
    end;
ns_fds([Entry | _], _Size, _Acc) ->
    {error, {bad_option, {ns_fds, Entry}}}.

%%====================================================================
%% Names and options
%%====================================================================

%% @doc Returns the number of a netlink protocol given by name or number.
-spec protocol_number(term()) ->
          {ok, 0..31} | {error, {bad_protocol, term()}}.
protocol_number(P) ->
    number(P, 31, ?PROTOCOLS, bad_protocol).

%% @doc Returns the number of an address family given by name or number.
-spec domain_number(term()) ->
          {ok, non_neg_integer()} | {error, {bad_domain, term()}}.
domain_number(D) ->
    number(D, ?MAX_INT, ?DOMAINS, bad_domain).

%% @doc Returns the number of a socket type given by name or number.
-spec type_number(term()) ->
          {ok, non_neg_integer()} | {error, {bad_type, term()}}.
type_number(T) ->
    number(T, ?MAX_INT, ?TYPES, bad_type).

%% @doc Returns the number of a socket protocol given by name or number.
%% `{ethertype, E}' is `E' in network byte order, as packet sockets want
%% it (`{ethertype, 16#0003}' is 768 on a little-endian machine).
-spec socket_protocol_number(term()) ->
          {ok, non_neg_integer()} | {error, {bad_protocol, term()}}.
socket_protocol_number({ethertype, E}) when is_integer(E), E >= 0, E =< 16#ffff ->
    <<Swapped:16/native>> = <<E:16/big>>,
    {ok, Swapped};
socket_protocol_number(P) ->
    number(P, ?MAX_INT, ?SOCKET_PROTOCOLS, bad_protocol).

%% @doc The type a descriptor is adopted with: its name when OTP has one.
-spec adopt_type(non_neg_integer()) ->
          stream | dgram | raw | seqpacket | non_neg_integer().
adopt_type(T) ->
    case [Name || {Name, N} <- maps:to_list(?TYPES), N =:= T] of
        [Name] -> Name;
        [] -> T
    end.

%% @doc Splits groups (see {@link linx_netlink:open/3}) into the bind mask
%% (groups 1 to 32) and the sorted list of larger groups, joined after
%% the bind: `split_groups(1)' is `{ok, 1, []}', `split_groups([1, 3,
%% 33])' is `{ok, 2#101, [33]}'.
-spec split_groups(term()) -> {ok, 0..16#ffffffff, [pos_integer()]} | {error, {bad_groups, term()}}.
split_groups(Mask) when is_integer(Mask), Mask >= 0, Mask =< ?MAX_GROUP ->
    {ok, Mask, []};
split_groups(Groups) when is_list(Groups) ->
    split_groups(Groups, Groups, 0, []);
split_groups(Groups) ->
    {error, {bad_groups, Groups}}.

%% @doc The `rcvbuf' option of an options map: `undefined' when it is not
%% there. `fd' mode (a raw descriptor, no socket in this node to set it on)
%% refuses it.
-spec rcvbuf(map(), socket | fd) ->
          {ok, pos_integer() | undefined}
        | {error, {bad_rcvbuf, term()} | {bad_option, term()}}.
rcvbuf(Map, Mode) ->
    case maps:find(rcvbuf, Map) of
        error ->
            {ok, undefined};
        {ok, N} when Mode =:= fd ->
            {error, {bad_option, {rcvbuf, N}}};
        {ok, N} when is_integer(N), N > 0, N =< ?MAX_INT ->
            {ok, N};
        {ok, N} ->
            {error, {bad_rcvbuf, N}}
    end.

%%====================================================================
%% Internal functions
%%====================================================================

%% A request of `Op' about `Protocol' with the checked options.
-spec req(atom(), term(), linx_opts:checked()) -> req().
req(Op, Protocol, #{in := In, target := Target, timeout := Timeout, via := Via}) ->
    #{op => Op, protocol => Protocol, in => In, target => Target, timeout => Timeout,
      via => Via, extra_groups => [], rcvbuf => undefined}.

-spec message(term()) -> {ok, binary()} | {error, {bad_message, term()}}.
message(Msg) ->
    try iolist_to_binary(Msg) of
        Bin when byte_size(Bin) >= 16 -> {ok, Bin};
        _ -> {error, {bad_message, Msg}}
    catch
        error:badarg -> {error, {bad_message, Msg}}
    end.

%% A number from 0 to Max, or a name from Table; anything else is
%% {error, {Error, Term}}.
-spec number(term(), non_neg_integer(), #{atom() => non_neg_integer()}, atom()) ->
          {ok, non_neg_integer()} | {error, {atom(), term()}}.
number(N, Max, _Table, _Error) when is_integer(N), N >= 0, N =< Max ->
    {ok, N};
number(Name, _Max, Table, _Error) when is_map_key(Name, Table) ->
    {ok, map_get(Name, Table)};
number(Other, _Max, _Table, Error) ->
    {error, {Error, Other}}.

-spec split_groups(list(), term(), non_neg_integer(), [pos_integer()]) ->
          {ok, 0..16#ffffffff, [pos_integer()]} | {error, {bad_groups, term()}}.
split_groups([], _Groups, Mask, Extra) ->
    {ok, Mask, lists:usort(Extra)};
split_groups([G | Rest], Groups, Mask, Extra)
  when is_integer(G), G >= 1, G =< 32 ->
    split_groups(Rest, Groups, Mask bor (1 bsl (G - 1)), Extra);
split_groups([G | Rest], Groups, Mask, Extra)
  when is_integer(G), G > 32, G =< ?MAX_GROUP ->
    split_groups(Rest, Groups, Mask, [G | Extra]);
split_groups(_, Groups, _Mask, _Extra) ->
    {error, {bad_groups, Groups}}.
