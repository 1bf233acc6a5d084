%% @private
%% The fast path of {@link linx_nl_attrs:encode/2} for a map: the
%% attributes written straight into one binary, in the table's order,
%% with no term per attribute in between. It gives the bytes the general
%% path gives, or `error' when the map is not one it takes whole (a key
%% the table does not name, a value its codec refuses): the general path
%% then finds what is wrong and says so, as it always has. Pure, no I/O.
%%
%% A large nf_tables batch encodes thousands of small maps (every
%% expression of every rule, and the data each one compares), and this is
%% where that time goes.
-module(linx_nl_attrs_enc).

-include("linx_nl.hrl").

-export([encode/3]).

%% The general path's encoder of one value (linx_nl_attrs:encode_value/2),
%% given by the caller: this module is beneath linx_nl_attrs and does
%% not call it.
-type value_fun() :: fun((term(), term()) -> {ok, {term()} | none} | error).

%% @doc The attributes of `Map' encoded with `Table' (a binary), or
%% `error' (see the module doc); `Value' encodes a value of a codec this
%% module does not write itself.
-spec encode({module(), atom()}, map(), value_fun()) -> {ok, binary()} | error.
encode(Table, Map, Value) when is_map(Map) ->
    try attrs(entries(Table), Map, 0, <<>>, Value) of
        {Count, Bin} when Count =:= map_size(Map) -> {ok, Bin};
        {_, _} -> error
    catch
        throw:?MODULE -> error
    end.

attrs([{Key, Number, Codec} | Rest], Map, Count, Acc, F) ->
    case Map of
        #{Key := Value} -> attrs(Rest, Map, Count + 1, attr(Number, Codec, Value, Acc, F), F);
        #{} -> attrs(Rest, Map, Count, Acc, F)
    end;
attrs([], _Map, Count, Acc, _F) ->
    {Count, Acc}.

%% `Acc' with the attribute `Number' of value `V' appended.
attr(Number, Codec, V, Acc, _F) when is_integer(V), is_atom(Codec) ->
    append(Number bor net_order(Codec), int(Codec, V), Acc);
attr(Number, string, V, Acc, _F) ->
    append(Number, <<(text(V))/binary, 0>>, Acc);
attr(Number, binary, V, Acc, _F) when is_binary(V) ->
    append(Number, V, Acc);
attr(Number, {enum, Int, Names}, V, Acc, F) ->
    case linx_nl_values:number(V, Names) of
        {ok, N} -> attr(Number, Int, N, Acc, F);
        error -> throw(?MODULE)
    end;
attr(Number, {bits, Int, Names}, V, Acc, F) ->
    case linx_nl_values:mask(V, Names) of
        {ok, N} -> attr(Number, Int, N, Acc, F);
        error -> throw(?MODULE)
    end;
attr(Number, {nested, Table}, V, Acc, F) when is_map(V) ->
    case encode(Table, V, F) of
        {ok, Bin} -> append(Number bor ?NLA_F_NESTED, Bin, Acc);
        error -> throw(?MODULE)
    end;
attr(Number, Codec, V, Acc, F) ->
    %% Any other codec: its value as the general path makes it.
    case F(Codec, V) of
        {ok, {Value}} -> <<Acc/binary, (iolist_to_binary(linx_nl_codec:encode_attr({Number, Value})))/binary>>;
        {ok, none} -> Acc;
        error -> throw(?MODULE)
    end.

append(Type, Value, Acc) when byte_size(Value) =< 16#ffff - 4 ->
    Len = 4 + byte_size(Value),
    Pad = ((4 - (Len band 3)) band 3) * 8,
    <<Acc/binary, Len:16/native, Type:16/native, Value/binary, 0:Pad>>;
append(_Type, _Value, _Acc) ->
    throw(?MODULE).

net_order(C) when C =:= be16; C =:= be32; C =:= be64; C =:= sbe32 -> ?NLA_F_NET_BYTEORDER;
net_order(_) -> 0.

int(u8, N) when N >= 0, N =< 16#ff -> <<N:8>>;
int(u16, N) when N >= 0, N =< 16#ffff -> <<N:16/native>>;
int(u32, N) when N >= 0, N =< 16#ffffffff -> <<N:32/native>>;
int(u64, N) when N >= 0, N =< 16#ffffffffffffffff -> <<N:64/native>>;
int(be16, N) when N >= 0, N =< 16#ffff -> <<N:16/big>>;
int(be32, N) when N >= 0, N =< 16#ffffffff -> <<N:32/big>>;
int(be64, N) when N >= 0, N =< 16#ffffffffffffffff -> <<N:64/big>>;
int(s8, N) when N >= -16#80, N =< 16#7f -> <<N:8/signed>>;
int(s16, N) when N >= -16#8000, N =< 16#7fff -> <<N:16/signed-native>>;
int(s32, N) when N >= -16#80000000, N =< 16#7fffffff -> <<N:32/signed-native>>;
int(s64, N) when N >= -16#8000000000000000, N =< 16#7fffffffffffffff -> <<N:64/signed-native>>;
int(sbe32, N) when N >= -16#80000000, N =< 16#7fffffff -> <<N:32/signed-big>>;
int(_Codec, _N) -> throw(?MODULE).

text(V) ->
    case linx_opts:text(V) of
        {ok, Bin} -> Bin;
        error -> throw(?MODULE)
    end.

%% The entries of `Table' in attribute order, `{Key, Number, Codec}',
%% made once per node and kept in a persistent term (the tables are
%% constants).
entries(Table) ->
    case persistent_term:get({?MODULE, Table}, undefined) of
        undefined ->
            Entries = lists:keysort(2, [{K, N, C} || {N, K, C} <- norm(Table)]),
            persistent_term:put({?MODULE, Table}, Entries),
            Entries;
        Entries ->
            Entries
    end.

norm(Table) ->
    [case E of
         {N, K, C} -> {N, K, C};
         {N, K, C, _} -> {N, K, C}
     end || E <- table_entries(Table)].

%% The entries of a table as written (the table's module knows them).
table_entries({Mod, Name}) ->
    element(1, Mod:table(Name)).
