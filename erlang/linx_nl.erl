%% @doc Netlink requests: one call, a dump decoded while it arrives, a
%% request over a socket of this node. The layer between the pure codec
%% ({@link linx_nl_codec}, {@link linx_nl_attrs}) and the family APIs
%% ({@link linx_rtnl}, {@link linx_genl}).
%%
%% Messages are {@link linx_nl_codec:msg()} maps. Nothing here raises on
%% input from the kernel.
%%
%% ```
%% %% An RTM_GETLINK dump, built and sent in netns "blue":
%% Req = #{type => 18, flags => ?NLM_F_DUMP, payload => <<0:128>>},
%% {ok, Links} = linx_nl:call(route, Req, #{in => {netns, <<"blue">>}}).
%%
%% %% The same over a socket of this node (from linx_netlink:open/2):
%% {ok, S} = linx_netlink:open(route, #{in => {netns, <<"blue">>}}),
%% {ok, Links} = linx_nl:request(S, Req, 5000).
%% '''
%%
%% == Replies and errors ==
%% Both helpers give a fresh sequence number to the request (and
%% `NLM_F_REQUEST'; `NLM_F_ACK' too unless it is a dump, that is unless
%% both bits of `NLM_F_DUMP' are set), wait until the
%% request is answered (a dump by its `NLMSG_DONE', anything else by its
%% acknowledgement) and return the reply messages without the
%% `NLMSG_DONE' or the ack. An `NLMSG_ERROR' with an errno becomes
%% `{error, Info}', where `Info' is
%% ```
%% #{stage => netlink, errno => eexist, code => 17,
%%   message => <<"Address already assigned">>,   % NLMSGERR_ATTR_MSG, if sent
%%   offset => 24}                                % NLMSGERR_ATTR_OFFS, if sent
%% '''
%% (the caller's `op' and `in' are added by {@link call/4}).
%% {@link format_error/1} renders it as one line. The port's sockets have
%% `NETLINK_EXT_ACK' set, so the kernel sends its text where it has one;
%% {@link request/3} sets it on the socket it is given.
-module(linx_nl).

-include("linx_nl.hrl").
-include("linx_owned.hrl").

%% Requests
-export([next_seq/0, call/3, call/4, dump/5, request/3, replies/2]).
%% Errors
-export([format_error/1]).

-type msg() :: linx_nl_codec:msg().
-type msg_in() :: linx_nl_codec:msg_in().
-type error_info() :: linx_nl_codec:error_info().
-type malformed() :: linx_nl_codec:malformed().

%% Dumps that the kernel marks as interrupted (NLM_F_DUMP_INTR) are tried
%% this many times in all.
-define(DUMP_TRIES, 3).
%% Replies of at least this many bytes that come whole (a short dump, or
%% one through a C-node or in a target with a user namespace) are decoded
%% with the larger minimum heap too.
-define(BIG_DUMP_BYTES, 65536).

%%====================================================================
%% Requests
%%====================================================================

%% @doc A sequence number for a request: positive, below 2^32, different
%% from the last ones this node gave.
-spec next_seq() -> 1..16#ffffffff.
next_seq() ->
    (erlang:unique_integer([positive, monotonic]) rem 16#fffffffe) + 1.

%% @doc {@link call/4} with `op => netlink_call'.
-spec call(linx_netlink:protocol(), msg_in(), linx_netlink:opts()) ->
          {ok, [msg()]} | {error, term()}.
call(Protocol, Req, Opts) ->
    call(Protocol, Req, Opts, netlink_call).

%% @doc Sends one request from a socket of `Protocol' inside the
%% target (through {@link linx_netlink:call/3}, so `via' works with a
%% C-node on any host) and returns its replies. `Op' names the operation
%% in an error map. See the module documentation for what is returned. A
%% dump the kernel marks as interrupted (`NLM_F_DUMP_INTR') is tried again,
%% up to three times in all. The options are those of
%% {@link linx_netlink:call/3}, and `ns_fd_marks => [{Pattern, In}]'
%% (used by {@link linx_rtnl}): the descriptor of `In''s network namespace
%% goes in the value of each 8-byte attribute `Pattern' of the message.
%% Any other key is `{error, {bad_option, {Key, Value}}}'.
-spec call(linx_netlink:protocol(), msg_in(), linx_netlink:opts(), atom()) ->
          {ok, [msg()]} | {error, term()}.
call(Protocol, Req, Opts, Op) ->
    ?OWNED(call(Protocol, Req, Opts, Op, ?DUMP_TRIES)).

call(Protocol, Req, Opts, Op, Tries) ->
    {Seq, Bin, CallOpts} = prepare_call(Req, Opts),
    case linx_netlink:call(Protocol, Bin, CallOpts) of
        {ok, Bins} ->
            case seq_replies(Bins, Seq) of
                {ok, Msgs} ->
                    case Tries > 1 andalso linx_nl_parts:interrupted(Msgs) of
                        true -> call(Protocol, Req, Opts, Op, Tries - 1);
                        false -> {ok, Msgs}
                    end;
                {error, _} = Error ->
                    call_error(Error, Op, Opts)
            end;
        {error, _} = Error ->
            call_error(Error, Op, Opts)
    end.

%% @private The sequence number and bytes of request `Req', and the
%% options for {@link linx_netlink:call/3} (with the descriptors to put
%% in, see with_ns_fds/2).
-spec prepare_call(msg_in(), linx_netlink:opts()) ->
          {non_neg_integer(), binary(), linx_netlink:opts()}.
prepare_call(Req, Opts) ->
    {Seq, Bin} = prepare(Req),
    {Seq, Bin, with_ns_fds(Bin, Opts)}.

%% @private A netlink error with the caller's `op' and `in'; an error of
%% the call itself (the namespace, the socket) with the caller's `op'
%% instead of `netlink_call', which the caller did not call; any other
%% error as it is.
-spec call_error({error, term()}, atom(), linx_netlink:opts()) -> {error, term()}.
call_error({error, #{stage := netlink} = Info}, Op, Opts) ->
    {error, Info#{op => Op, in => in_option(Opts)}};
call_error({error, #{op := netlink_call} = Info}, Op, _Opts) ->
    {error, Info#{op => Op}};
call_error(Error, _Op, _Opts) ->
    Error.

%% Option `ns_fd_marks => [{Pattern, In}]': wherever the encoded message
%% holds the attribute `Pattern' (a 4-byte header and a 4-byte placeholder
%% value), the port program writes the descriptor of the network
%% namespace of target `In' over the value (linx_netlink's `ns_fds').
with_ns_fds(Bin, #{ns_fd_marks := Marks} = Opts) ->
    NsFds = [{Offset + 4, In} || {Pattern, In} <- Marks,
                                 {Offset, _} <- binary:matches(Bin, Pattern)],
    (maps:remove(ns_fd_marks, Opts))#{ns_fds => NsFds};
with_ns_fds(Bin, Opts) when is_list(Opts) ->
    %% A proplist is the same options as its map.
    case linx_opts:to_map(Opts) of
        {ok, #{ns_fd_marks := _} = Map} -> with_ns_fds(Bin, Map);
        _ -> Opts
    end;
with_ns_fds(_Bin, Opts) ->
    Opts.

%% @doc Sends one request on a netlink socket of this node (for example
%% one from {@link linx_netlink:open/2}) and waits, at most `Timeout'
%% milliseconds in all, for its answer; replies to other sequence
%% numbers (notifications, late answers) are read and dropped. Sets
%% `NETLINK_EXT_ACK' on the socket. A socket error is returned as it is
%% (`{error, timeout}' when the time is up). A socket that is not one is
%% `{error, {bad_socket, Socket}}', a message that does not encode
%% `{error, {bad_message, Req}}', a timeout that is none
%% `{error, {bad_option, {timeout, Timeout}}}'.
-spec request(socket:socket(), msg_in(), timeout()) ->
          {ok, [msg()]} | {error, term()}.
request(Socket, Req, Timeout) ->
    ?OWNED(case {is_socket(Socket), catch prepare(Req), linx_port:valid_timeout(Timeout)} of
               {false, _, _} ->
                   {error, {bad_socket, Socket}};
               {_, {'EXIT', _}, _} ->
                   {error, {bad_message, Req}};
               {_, _, false} ->
                   {error, {bad_option, {timeout, Timeout}}};
               {true, {Seq, Bin}, true} ->
                   _ = socket:setopt_native(Socket, {?SOL_NETLINK, ?NETLINK_EXT_ACK},
                                            <<1:32/native>>),
                   _ = socket:setopt(Socket, otp, rcvbuf, 65536),
                   case socket:send(Socket, Bin) of
                       ok -> receive_replies(Socket, Seq, linx_opts:deadline(Timeout), []);
                       {error, _} = Error -> Error
                   end
           end).

is_socket(Socket) ->
    try socket:info(Socket) of
        #{} -> true
    catch
        error:_ -> false
    end.

%% @doc Picks the answer to request `Seq' out of reply binaries (as
%% {@link linx_netlink:call/3} returns them): the messages of that
%% sequence number up to its `NLMSG_DONE' or ack, without them, or the
%% error. Messages of other sequence numbers are dropped.
-spec replies([binary()], non_neg_integer()) ->
          {ok, [msg()]} | {error, error_info() | malformed()}.
replies(Bins, Seq) ->
    ?OWNED(seq_replies(Bins, Seq)).

%% replies/2, its error not owned (for call/5).
seq_replies(Bins, Seq) ->
    case linx_nl_parts:replies(Bins, Seq) of
        {done, Result} -> Result;
        {more, Msgs} -> {ok, Msgs}
    end.

%%====================================================================
%% Dumps
%%====================================================================

%% {@link dump/5} sends a request like {@link call/4} and decodes
%% each reply message with a function of the caller's. A long dump (a
%% thousand links is about 1 MB) comes from the port program in parts
%% while the kernel is still dumping ({@link linx_netlink:call/5}), and
%% each part is decoded as it comes, by a process of its own when
%% another scheduler is online (linx_nl_parts): the decoding, which
%% costs more than the dump, then runs beside it and on both cores of a
%% small machine. The parts are put together in order, as decoding them
%% one after the other would: the same values, the same first error.
%%
%% While it takes a long dump, the calling process has a minimum heap
%% of half a word per byte of replies so far: grown step by step from a
%% small heap, the heap would be collected again and again on the way,
%% and each collection would copy all that was decoded so far. Its own
%% minimum comes back at the end.

%% @doc Sends the dump request `Req' from a socket of `Protocol' in
%% the target of `Opts' and returns its reply messages decoded with
%% `Decode', in order, or the first error: the request's (a netlink error
%% with `Op' and the `in' of `Opts', as {@link linx_nl:call/4} gives it),
%% else the first `{error, _}' of `Decode'. A dump the kernel marks as
%% interrupted is tried again, up to three times in all. `Decode' must not
%% raise (if it does, the exception is raised in the caller); it may run
%% in another process, so it must not depend on the caller's.
-spec dump(linx_netlink:protocol(), msg_in(), linx_netlink:opts(), atom(),
           fun((msg()) -> {ok, T} | {error, E})) ->
          {ok, [T]} | {error, E | term()}.
dump(Protocol, Req, Opts, Op, Decode) ->
    {min_heap_size, Min} = process_info(self(), min_heap_size),
    try
        ?OWNED(dump(Protocol, Req, Opts, Op, Decode, ?DUMP_TRIES))
    after
        process_flag(min_heap_size, Min)
    end.

dump(Protocol, Req, Opts, Op, Decode, Tries) ->
    {Seq, Bin, CallOpts} = prepare_call(Req, Opts),
    Feed = fun(Replies, {Bytes, Parts}) ->
                   {grow(Bytes, Replies), [linx_nl_parts:start(Replies, Seq, Decode) | Parts]}
           end,
    Done = case linx_netlink:call(Protocol, Bin, CallOpts, Feed, {0, []}) of
               {{ok, Last}, {Bytes, Parts}} ->
                   %% A long answer that came whole is decoded with the
                   %% larger minimum heap too.
                   _ = Bytes =:= 0 andalso iolist_size(Last) >= ?BIG_DUMP_BYTES
                       andalso grow(0, Last),
                   linx_nl_parts:last(lists:reverse(Parts), Last, Seq, Decode);
               {{error, _} = Error, {_, Parts}} ->
                   linx_nl_parts:cancel(Parts),
                   {Error, false}
           end,
    case Done of
        {{ok, _}, true} when Tries > 1 -> dump(Protocol, Req, Opts, Op, Decode, Tries - 1);
        {{ok, _} = Ok, _} -> Ok;
        {{error, _} = Error1, _} -> call_error(Error1, Op, Opts)
    end.

%% The minimum heap for `Bytes' of replies and these; their total.
-spec grow(non_neg_integer(), [binary()]) -> non_neg_integer().
grow(Bytes, Replies) ->
    Total = Bytes + iolist_size(Replies),
    _ = process_flag(min_heap_size, Total div 2),
    Total.

%%====================================================================
%% Errors
%%====================================================================
%% @doc Renders a netlink error as one line:
%% `netlink link_add in netns "blue" failed: eexist (errno 17): File
%% exists' (the extended-ack text last, when the kernel sent one), or
%% `malformed netlink reply: Where'. Other errors go to
%% {@link linx_netlink:format_error/1}.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun format_reason/1).

-spec format_reason(term()) -> unicode:unicode_binary().
format_reason(#{stage := netlink, errno := _, code := _} = Info) ->
    Off = case Info of
              #{offset := O} -> io_lib:format(" (at byte ~b of the request)", [O]);
              _ -> []
          end,
    Op = maps:get(op, Info, netlink_call),
    linx_netlink_error:failed_line(["netlink ", atom_to_list(Op)], Info, Off);
format_reason({bad_socket, Socket}) ->
    linx_error:invalid("netlink socket", Socket, "a socket:socket() (from linx_netlink:open/3)");
format_reason({bad_message, Req}) ->
    linx_error:invalid("netlink request", Req, "#{type := 0..65535, flags, seq, pid, payload} "
                       "with each field in its range");
format_reason({malformed, Where}) ->
    linx_error:line(io_lib:format("malformed netlink reply: ~0tp", [Where]));
format_reason(Reason) ->
    linx_netlink:format_error(Reason).

%%====================================================================
%% Internal functions
%%====================================================================

%% A sequence number and the request's bytes, with NLM_F_REQUEST, and
%% NLM_F_ACK unless it is a dump.
prepare(Req) ->
    Seq = next_seq(),
    Flags0 = maps:get(flags, Req, 0) bor ?NLM_F_REQUEST,
    %% NLM_F_DUMP is two bits that NLM_F_REPLACE and NLM_F_EXCL share:
    %% only both at once make a dump.
    Flags = case Flags0 band ?NLM_F_DUMP of
                ?NLM_F_DUMP -> Flags0;
                _ -> Flags0 bor ?NLM_F_ACK
            end,
    {Seq, linx_nl_codec:encode(Req#{flags => Flags, seq => Seq})}.

receive_replies(Socket, Seq, Deadline, Acc) ->
    case socket:recv(Socket, 0, linx_opts:remaining(Deadline)) of
        {ok, Data} ->
            %% The messages returned hold their own bytes, not the buffer.
            case linx_nl_codec:decode_copied(Data) of
                {ok, Msgs} ->
                    case linx_nl_parts:answer(Msgs, Seq, Acc) of
                        {done, Result} -> Result;
                        {more, Acc1} -> receive_replies(Socket, Seq, Deadline, Acc1)
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

in_option(Opts) when is_map(Opts) -> maps:get(in, Opts, self);
in_option(Opts) -> proplists:get_value(in, Opts, self).
