%% @doc The values of traffic control that are neither tables nor
%% messages: handles and parents in their spellings, a filter's
%% protocol, probabilities, and the kernel's ticks. Pure, no I/O.
%%
%% The kernel keeps times in ticks of 64 ns (`PSCHED_SHIFT'; tc reads
%% it from `/proc/net/psched' as 1000/64), and a size given with a rate
%% as the time it takes to send it (a token bucket's `buffer').
-module(linx_tc_values).

-export([handle/2, decode_handle/2, protocol/1, percent/1, ticks/2, bytes/2]).

-export_type([handle/0, resolver/0]).

-define(T, linx_tc_tables).
%% ticks in a second (10^9 ns / 64 ns)
-define(TICKS_PER_SEC, 15625000).
-define(U32_MAX, 16#ffffffff).

-type handle() :: {0..16#ffff, 0..16#ffff} | root | ingress | egress | clsact | binary()
                | string() | 0..16#ffffffff.
%% A handle or parent (see linx_tc's module documentation).
-type resolver() :: fun((term()) -> {ok, pos_integer()} | {error, term()}).
%% A function from a link (a name or an index) to its index.

%%====================================================================
%% Handles
%%====================================================================

%% @doc A handle (`handle'), a qdisc's or class's parent (`parent') or a
%% filter's parent (`filter_parent') as its 32-bit number: `{Major,
%% Minor}', tc's text (`"1:10"', hexadecimal, `"1:"' for minor 0),
%% `root', `ingress' (a parent), `clsact' (a qdisc's parent),
%% `egress' (a filter's parent) or the number itself.
-spec handle(handle | parent | filter_parent, term()) -> {ok, 0..16#ffffffff} | error.
handle(_Ctx, {Major, Minor}) when is_integer(Major), Major >= 0, Major =< 16#ffff,
                                  is_integer(Minor), Minor >= 0, Minor =< 16#ffff ->
    {ok, (Major bsl 16) bor Minor};
handle(_Ctx, N) when is_integer(N), N >= 0, N =< 16#ffffffff ->
    {ok, N};
handle(handle, _A) when is_atom(_A) ->
    error;
handle(Ctx, A) when is_atom(A) ->
    linx_nl_values:number(A, ?T:names(Ctx));
handle(Ctx, Text) when is_list(Text) ->
    case linx_opts:text(Text) of
        {ok, Bin} -> handle(Ctx, Bin);
        error -> error
    end;
handle(Ctx, Text) when is_binary(Text) ->
    case binary:split(Text, <<":">>) of
        [Major, Minor] -> handle(Ctx, {hex(Major), hex(Minor)});
        [_] -> error
    end;
handle(_Ctx, _) ->
    error.

hex(<<>>) ->
    0;
hex(Text) when byte_size(Text) =< 4 ->
    try binary_to_integer(Text, 16) of
        N when N >= 0 -> N;
        _ -> bad
    catch
        error:badarg -> bad
    end;
hex(_) ->
    bad.

%% @doc A handle as decoded: `root', `ingress' (TC_H_INGRESS, and
%% clsact's ingress hook), `egress', else `{Major, Minor}'.
-spec decode_handle(handle | parent | filter_parent, 0..16#ffffffff) -> handle().
decode_handle(handle, N) ->
    {N bsr 16, N band 16#ffff};
decode_handle(_Ctx, 16#ffffffff) -> root;
decode_handle(_Ctx, 16#fffffff1) -> ingress;
decode_handle(_Ctx, 16#fffffff2) -> ingress;
decode_handle(_Ctx, 16#fffffff3) -> egress;
decode_handle(_Ctx, N) -> {N bsr 16, N band 16#ffff}.

%% @doc A filter's protocol: a name of `linx_tc_tables:names(protocol)'
%% or a number.
-spec protocol(term()) -> {ok, 0..16#ffff} | error.
protocol(P) when is_integer(P), P >= 0, P =< 16#ffff -> {ok, P};
protocol(P) -> linx_nl_values:number(P, ?T:names(protocol)).

%%====================================================================
%% Sizes, times and probabilities
%%====================================================================

%% @doc The whole ticks it takes to send `Bytes' at `Rate' bytes per
%% second (rounded down, as the kernel rounds its own).
-spec ticks(non_neg_integer(), pos_integer()) -> non_neg_integer().
ticks(Bytes, Rate) ->
    min((Bytes * ?TICKS_PER_SEC) div Rate, ?U32_MAX).

%% @doc The bytes sent at `Rate' bytes per second in `Ticks', rounded
%% up: the size {@link ticks/2} made them from.
-spec bytes(non_neg_integer(), non_neg_integer()) -> non_neg_integer().
bytes(Ticks, Rate) ->
    (Ticks * Rate + ?TICKS_PER_SEC - 1) div ?TICKS_PER_SEC.

%% @doc A probability in percent (a number from 0 to 100) as the kernel's
%% fraction of 2^32 - 1; `error' out of range.
-spec percent(term()) -> {ok, 0..?U32_MAX} | error.
percent(P) when is_number(P), P >= 0, P =< 100 -> {ok, round(P / 100 * ?U32_MAX)};
percent(_) -> error.
