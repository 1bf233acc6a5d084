%% @private
%% Fixed headers decoded fast: the fields of a {@link linx_nl_attrs}
%% struct (a message's fixed header, such as struct rtmsg) made once into
%% a plan of integer reads, then read in one pass.
%%
%% {@link linx_nl_attrs:decode_struct/2} reads one field after another
%% through its codec, each read making a tuple and a sub-binary of what
%% follows; in a dump of 10,000 routes that was most of the decoding
%% time, in garbage collected rather than in reading. Here the fields
%% are read in one match of the whole header (the binary stays one match
%% context through the loop), and only the pairs are made. The plan comes
%% from the same fields, so the pairs are those of
%% {@link linx_nl_attrs:decode_struct/2}: a test compares both.
-module(linx_nl_struct).

-export([plan/1, decode/2]).

-export_type([plan/0]).

%% A read, by its size in bits: a field left out (`'_''), an unsigned
%% integer in host byte order (plain, named or bits), a signed one, one
%% in network byte order.
-type step() :: {skip, 8 | 16 | 32 | 64}
              | {plain, 8 | 16 | 32 | 64, atom()}
              | {named, 8 | 16 | 32, atom(), #{integer() => atom()}}
              | {bits, 8 | 16 | 32, atom(), linx_nl_attrs:names()}
              | {signed, 8 | 16 | 32 | 64, atom()}
              | {big, 16 | 32, atom()}.
-opaque plan() :: {steps, [step()]} | {fields, [{atom(), linx_nl_attrs:decoder()}]}.

%% @doc The plan of a struct's fields (codecs or decoders, as
%% {@link linx_nl_attrs:decode_struct/2} takes them). Fields that are not
%% all integers (named or not) keep the general decoding.
-spec plan([{atom(), linx_nl_attrs:codec() | linx_nl_attrs:decoder()}]) -> plan().
plan(Fields) ->
    Decoders = [{Key, linx_nl_attrs:decoder(Codec)} || {Key, Codec} <- Fields],
    Steps = [step(Key, Decoder) || {Key, Decoder} <- Decoders],
    case lists:member(none, Steps) of
        true -> {fields, Decoders};
        false -> {steps, Steps}
    end.

step(Key, Decoder) ->
    case {Key, Decoder} of
        {'_', {T, Int, _}} when T =:= named; T =:= bits -> skip(Int);
        {'_', Int} -> skip(Int);
        {_, {named, Int, ByNumber}} -> with(named, unsigned(Int), [Key, ByNumber]);
        {_, {bits, Int, Names}} -> with(bits, unsigned(Int), [Key, Names]);
        {_, Int} when Int =:= s8; Int =:= s16; Int =:= s32; Int =:= s64 ->
            {signed, bits_of(Int), Key};
        {_, Int} when Int =:= be16; Int =:= be32 -> {big, bits_of(Int), Key};
        {_, Int} -> with(plain, unsigned(Int), [Key])
    end.

skip(Int) ->
    case bits_of(Int) of
        none -> none;
        Size -> {skip, Size}
    end.

with(_How, none, _Args) -> none;
with(How, Size, Args) when How =:= plain; Size < 64 -> list_to_tuple([How, Size | Args]);
with(_How, _Size, _Args) -> none.

unsigned(Int) when Int =:= u8; Int =:= u16; Int =:= u32; Int =:= u64 -> bits_of(Int);
unsigned(_) -> none.

bits_of(Int) ->
    maps:get(Int, #{u8 => 8, u16 => 16, u32 => 32, u64 => 64, s8 => 8, s16 => 16, s32 => 32,
                    s64 => 64, be16 => 16, be32 => 32}, none).

%% @doc The fields at the start of a binary, as
%% {@link linx_nl_attrs:decode_struct/2} gives them: the pairs (without
%% the `'_'' fields), in order, and what follows them; `error' when the
%% binary is shorter than the struct.
-spec decode(plan(), binary()) -> {ok, [{atom(), term()}], binary()} | error.
decode({steps, Steps}, Bin) ->
    read(Steps, Bin, []);
decode({fields, Fields}, Bin) ->
    linx_nl_attrs:decode_struct(Fields, Bin).

%% A clause per read, each a match of the clause head: the binary
%% stays one match context from the first field to the last.
read([{plain, 8, K} | S], <<N:8, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{named, 8, K, M} | S], <<N:8, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, maps:get(N, M, N)} | Acc]);
read([{skip, 8} | S], <<_:8, Rest/binary>>, Acc) -> read(S, Rest, Acc);
read([{plain, 16, K} | S], <<N:16/native, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{named, 16, K, M} | S], <<N:16/native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, maps:get(N, M, N)} | Acc]);
read([{skip, 16} | S], <<_:16, Rest/binary>>, Acc) -> read(S, Rest, Acc);
read([{plain, 32, K} | S], <<N:32/native, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{named, 32, K, M} | S], <<N:32/native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, maps:get(N, M, N)} | Acc]);
read([{skip, 32} | S], <<_:32, Rest/binary>>, Acc) -> read(S, Rest, Acc);
read([{plain, 64, K} | S], <<N:64/native, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{skip, 64} | S], <<_:64, Rest/binary>>, Acc) -> read(S, Rest, Acc);
read([{bits, 8, K, _} | S], <<0:8, Rest/binary>>, Acc) -> read(S, Rest, [{K, []} | Acc]);
read([{bits, 8, K, Names} | S], <<N:8, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, linx_nl_values:bits(N, Names)} | Acc]);
read([{bits, 16, K, _} | S], <<0:16, Rest/binary>>, Acc) -> read(S, Rest, [{K, []} | Acc]);
read([{bits, 16, K, Names} | S], <<N:16/native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, linx_nl_values:bits(N, Names)} | Acc]);
read([{bits, 32, K, _} | S], <<0:32, Rest/binary>>, Acc) -> read(S, Rest, [{K, []} | Acc]);
read([{bits, 32, K, Names} | S], <<N:32/native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, linx_nl_values:bits(N, Names)} | Acc]);
read([{signed, 8, K} | S], <<N:8/signed, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{signed, 16, K} | S], <<N:16/signed-native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, N} | Acc]);
read([{signed, 32, K} | S], <<N:32/signed-native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, N} | Acc]);
read([{signed, 64, K} | S], <<N:64/signed-native, Rest/binary>>, Acc) ->
    read(S, Rest, [{K, N} | Acc]);
read([{big, 16, K} | S], <<N:16/big, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([{big, 32, K} | S], <<N:32/big, Rest/binary>>, Acc) -> read(S, Rest, [{K, N} | Acc]);
read([], Rest, Acc) ->
    {ok, lists:reverse(Acc), Rest};
read(_Steps, _Bin, _Acc) ->
    error.
