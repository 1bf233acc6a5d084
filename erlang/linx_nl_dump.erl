%% @doc A netlink dump decoded while it arrives.
%%
%% {@link dump/5} sends a request like {@link linx_nl:call/4} and decodes
%% each reply message with a function of the caller's. A long dump (a
%% thousand links is about 1 MB) comes from the port program in parts
%% while the kernel is still dumping ({@link linx_netlink:call/5}), and
%% the caller decodes each part as it comes: the decoding, which costs
%% about as much as the dump, then runs beside it instead of after it.
%%
%% While it decodes a long dump, the calling process has a minimum heap
%% of half a word per byte of replies so far (about three times what the
%% decoded terms take): grown step by step from a small heap, the heap
%% would be collected again and again on the way, and each collection
%% would copy all that was decoded so far. Its own minimum comes back at
%% the end.
-module(linx_nl_dump).

-export([dump/5]).

%% Replies of at least this many bytes that come whole (a short dump, or
%% one through a C-node or in a target with a user namespace) are decoded
%% with the larger minimum heap too.
-define(BIG_DUMP_BYTES, 65536).
%% How often a dump the kernel marks as interrupted is tried, in all.
-define(TRIES, 3).

%% Where the decoding of a dump stands: the decoded values so far (newest
%% first), whether any message was marked interrupted, and the first
%% error of the decoding function; or the end, with the result.
-type state() :: {more, list(), boolean(), none | {error, term()}}
               | {done, {ok, list()} | {error, term()}, boolean()}.

-type decode() :: fun((linx_nl:msg()) -> {ok, term()} | {error, term()}).

%% @doc Sends the dump request `Req' from a fresh socket of `Protocol' in
%% the target of `Opts' and returns its reply messages decoded with
%% `Decode', in order, or the first error: the request's (a netlink error
%% with `Op' and the `in' of `Opts', as {@link linx_nl:call/4} gives it),
%% else the first `{error, _}' of `Decode'. A dump the kernel marks as
%% interrupted is tried again, up to three times in all. `Decode' must not
%% raise.
-spec dump(linx_netlink:protocol(), linx_nl:msg_in(), linx_netlink:opts(), atom(),
           fun((linx_nl:msg()) -> {ok, T} | {error, E})) ->
          {ok, [T]} | {error, E | term()}.
dump(Protocol, Req, Opts, Op, Decode) ->
    {min_heap_size, Min} = process_info(self(), min_heap_size),
    try
        dump(Protocol, Req, Opts, Op, Decode, ?TRIES)
    after
        process_flag(min_heap_size, Min)
    end.

dump(Protocol, Req, Opts, Op, Decode, Tries) ->
    {Seq, Bin, CallOpts} = linx_nl:prepare_call(Req, Opts),
    Feed = fun(Replies, {Bytes, State}) ->
                   Bytes1 = grow(Bytes, Replies),
                   {Bytes1, part(Replies, Seq, Decode, State)}
           end,
    Done = case linx_netlink:call(Protocol, Bin, CallOpts, Feed, {0, start_state()}) of
               {{ok, Last}, {0, State}} ->
                   %% It came whole.
                   _ = iolist_size(Last) >= ?BIG_DUMP_BYTES andalso grow(0, Last),
                   last(Last, Seq, Decode, State);
               {{ok, Last}, {_, State}} ->
                   last(Last, Seq, Decode, State);
               {{error, _} = Error, _} ->
                   {done, Error, false}
           end,
    case Done of
        {done, {ok, _}, true} when Tries > 1 -> dump(Protocol, Req, Opts, Op, Decode, Tries - 1);
        {done, {ok, _} = Ok, _} -> Ok;
        {done, {error, _} = Error1, _} -> linx_nl:call_error(Error1, Op, Opts)
    end.

%% The minimum heap for `Bytes' of replies and these; their total.
-spec grow(non_neg_integer(), [binary()]) -> non_neg_integer().
grow(Bytes, Replies) ->
    Total = Bytes + iolist_size(Replies),
    _ = process_flag(min_heap_size, Total div 2),
    Total.

%%====================================================================
%% Decoding, part after part
%%====================================================================

-spec start_state() -> state().
start_state() ->
    {more, [], false, none}.

%% The state after the replies of one more part.
-spec part([binary()], non_neg_integer(), decode(), state()) -> state().
part(Replies, Seq, Decode, {more, _, _, _} = State) ->
    case linx_nl:replies_part(Replies, Seq) of
        {more, Msgs} -> decode(Msgs, Decode, State);
        {done, {ok, Msgs}} -> ended(decode(Msgs, Decode, State));
        {done, {error, _} = Error} -> {done, Error, element(3, State)}
    end;
part(_Replies, _Seq, _Decode, Done) ->
    Done.

%% The state after the last replies, which end the dump.
-spec last([binary()], non_neg_integer(), decode(), state()) -> state().
last(Replies, Seq, Decode, State) ->
    ended(part(Replies, Seq, Decode, State)).

-spec ended(state()) -> state().
ended({more, Acc, Intr, none}) -> {done, {ok, lists:reverse(Acc)}, Intr};
ended({more, _Acc, Intr, Error}) -> {done, Error, Intr};
ended(Done) -> Done.

%% After the first error of `Decode' the messages are still looked at
%% (for the request's own error, which comes first), not decoded.
-spec decode([linx_nl:msg()], decode(), state()) -> state().
decode(Msgs, Decode, {more, Acc, Intr, none}) ->
    decode_each(Msgs, Decode, Acc, Intr orelse linx_nl:interrupted(Msgs));
decode(Msgs, _Decode, {more, Acc, Intr, Failed}) ->
    {more, Acc, Intr orelse linx_nl:interrupted(Msgs), Failed}.

decode_each([Msg | Rest], Decode, Acc, Intr) ->
    case Decode(Msg) of
        {ok, Value} -> decode_each(Rest, Decode, [Value | Acc], Intr);
        {error, _} = Error -> {more, Acc, Intr, Error}
    end;
decode_each([], _Decode, Acc, Intr) ->
    {more, Acc, Intr, none}.
