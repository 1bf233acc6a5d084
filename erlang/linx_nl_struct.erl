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

%% A read: the integer's codec, the field's key (`'_'': read and left
%% out) and what names its number.
-type step() :: {linx_nl_attrs:int(), atom(), none | {named, #{integer() => atom()}}
                                              | {bits, linx_nl_attrs:names()}}.
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

step(Key, {named, Int, ByNumber}) -> with_names(step(Key, Int), {named, ByNumber});
step(Key, {bits, Int, Names}) -> with_names(step(Key, Int), {bits, Names});
step(Key, Int) ->
    case lists:member(Int, [u8, u16, u32, u64, s8, s16, s32, s64, be16, be32]) of
        true -> {Int, Key, none};
        false -> none
    end.

with_names({Int, Key, none}, Names) -> {Int, Key, Names};
with_names(_, _Names) -> none.

%% @doc The fields at the start of a binary, as
%% {@link linx_nl_attrs:decode_struct/2} gives them: the pairs (without
%% the `'_'' fields), in order, and what follows them; `error' when the
%% binary is shorter than the struct.
-spec decode(plan(), binary()) -> {ok, [{atom(), term()}], binary()} | error.
decode({steps, Steps}, Bin) ->
    read(Steps, Bin, []);
decode({fields, Fields}, Bin) ->
    linx_nl_attrs:decode_struct(Fields, Bin).

%% One clause per integer, each a match of the clause head: the binary
%% stays one match context from the first field to the last.
read([{u8, K, Names} | Steps], <<N:8, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{u16, K, Names} | Steps], <<N:16/native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{u32, K, Names} | Steps], <<N:32/native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{u64, K, Names} | Steps], <<N:64/native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{s8, K, Names} | Steps], <<N:8/signed, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{s16, K, Names} | Steps], <<N:16/signed-native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{s32, K, Names} | Steps], <<N:32/signed-native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{s64, K, Names} | Steps], <<N:64/signed-native, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{be16, K, Names} | Steps], <<N:16/big, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([{be32, K, Names} | Steps], <<N:32/big, Rest/binary>>, Acc) ->
    read(Steps, Rest, add(K, N, Names, Acc));
read([], Rest, Acc) ->
    {ok, lists:reverse(Acc), Rest};
read(_Steps, _Bin, _Acc) ->
    error.

add('_', _N, _Names, Acc) -> Acc;
add(Key, N, none, Acc) -> [{Key, N} | Acc];
add(Key, N, {named, ByNumber}, Acc) -> [{Key, maps:get(N, ByNumber, N)} | Acc];
add(Key, 0, {bits, _Names}, Acc) -> [{Key, []} | Acc];
add(Key, N, {bits, Names}, Acc) -> [{Key, linx_nl_values:bits(N, Names)} | Acc].
