%% @doc Declarative netlink attribute tables: one table drives decoding,
%% encoding and the checks of what a caller gives. Pure, no I/O.
%%
%% A table is named `{Module, Name}': `Module:table(Name)' returns
%% `{Entries, Options}', each entry `{Number, Key, Codec}' or
%% `{Number, Key, Codec, [spread]}' (the decoded value, a list of pairs,
%% is merged into the enclosing map instead of standing under `Key').
%% Options: `unknown' (the key the attributes no entry names go to, as
%% `{Type, Binary}' in order; default `unknown') and `empty_unknown'
%% (`keep', the default, or `drop': no key at all when there are none).
%% An attribute number is written in exactly one table entry; everything
%% else refers to the attribute by its key.
%%
%% Codecs ({@type codec()}): the integers `u8' ... `s64' in host byte
%% order and `be16', `be32', `be64', `sbe32' (signed) in network byte order; `string'
%% (NUL-terminated); `binary'; `mac' (link-layer address: bytes, or text
%% `"02:00:5e:10:00:01"' when encoding); `ip' (an inet tuple, 4 or 16
%% bytes); `flag' (`true' when present); `bool8' (a u8, `true' unless 0);
%% `skip' (read and left out); `{enum, Int, Names}' (an integer named by
%% `[{Atom, N}]', or its number when it has no name); `{bits, Int,
%% Names}' (a bit mask as the list of its names, lowest bit first);
%% `{masked, Int, Names}' (the bits set, then the mask of those changed:
%% decoded as `bits'; see {@link linx_nl_values:masked/2} for encoding);
%% `{symbol, Names}' (a string named by an atom when `Names', a map of
%% strings to atoms, has it, else the string: atoms are never made from
%% what the kernel sends); `{nested, Table}'; `{list, Type, Codec}' (nested attributes of one
%% type, as a list); `{struct, [{Key, Codec}]}' (fixed-size fields one
%% after the other, `Key' `'_'' for a field left out).
%%
%% A value of the wrong size for its codec is kept with the unknown
%% attributes: nothing here raises on input from the kernel.
-module(linx_nl_attrs).

-include("linx_nl.hrl").

-export([decode/2, decode/3, pairs/2, encode/2, attrs/2, check/2, number/2, entries/1]).
-export([decode_struct/2, encode_struct/2, value/2, encode_value/2, decoder/1]).

-export_type([table/0, codec/0, int/0, names/0, entry/0, decoder/0]).

-type table() :: {module(), atom()}.
-type int() :: linx_nl_codec:int_kind().
-type names() :: [{atom(), integer()}].
-type codec() :: int() | string | binary | mac | ip | flag | bool8 | skip
               | {symbol, #{binary() => atom()}}
               | {enum, int(), names()}
               | {bits, int(), names()}
               | {masked, int(), names()}
               | {nested, table()}
               | {list, 0..16#3fff, codec()}
               | {struct, [{atom(), codec()}]}.
-type entry() :: {0..16#3fff, atom(), codec()} | {0..16#3fff, atom(), codec(), [spread]}.
-type decoder() :: codec()
                 | {named, int(), #{integer() => atom()}}
                 | {nested_tab, tuple()}
                 | {list, 0..16#3fff, decoder()}
                 | {struct, [{atom(), decoder()}]}.
%% A codec made ready for decoding ({@link decoder/1}).

%% A compiled table: entries by number (a tuple, index Number + 1), by
%% key, and the options.
-record(tab, {by_num :: tuple(), by_key :: #{atom() => {non_neg_integer(), codec()}},
              unknown :: atom(), drop_empty :: boolean()}).

%%====================================================================
%% Decoding
%%====================================================================

%% @doc Decodes a run of attributes with `Table' into a map merged over
%% `Base' (the later of two equal keys wins, as the later attribute
%% does); the unknown attributes stand, in order, under the table's
%% unknown key. `{error, Offset}' where an attribute does not fit.
-spec decode(table(), binary(), map()) -> {ok, map()} | {error, non_neg_integer()}.
decode(Table, Bin, Base) ->
    case pairs(Table, Bin) of
        {ok, Pairs} -> {ok, maps:merge(Base, maps:from_list(Pairs))};
        {error, _} = Error -> Error
    end.

%% @doc {@link decode/3} over an empty map.
-spec decode(table(), binary()) -> {ok, map()} | {error, non_neg_integer()}.
decode(Table, Bin) ->
    decode(Table, Bin, #{}).

%% @doc The decoded `{Key, Value}' pairs of a run of attributes, in
%% order, the unknown ones last under the table's unknown key.
-spec pairs(table(), binary()) -> {ok, [{atom(), term()}]} | {error, non_neg_integer()}.
pairs(Table, Bin) ->
    tab_pairs(compiled(Table), Bin).

tab_pairs(#tab{by_num = ByNum, unknown = UKey, drop_empty = Drop}, Bin) ->
    case fold(Bin, ByNum, [], []) of
        {ok, P, []} when Drop -> {ok, lists:reverse(P)};
        {ok, P, U} -> {ok, lists:reverse(P, [{UKey, lists:reverse(U)}])};
        {error, Rest} -> {error, byte_size(Bin) - byte_size(Rest)}
    end.

%% One attribute after another, the whole run one match context (attr/7
%% goes on with it). A link dump of a thousand links is mostly this loop.
fold(<<Len:16/native, Type:16/native, Bin/binary>>, ByNum, P, U) when Len >= 4 ->
    T = Type band ?NLA_TYPE_MASK,
    Entry = if
                T < tuple_size(ByNum) -> element(T + 1, ByNum);
                true -> undefined
            end,
    attr(Entry, Len, Type, Bin, ByNum, P, U);
fold(<<>>, _ByNum, P, U) ->
    {ok, P, U};
fold(Bin, ByNum, P, U) ->
    cut_short(Bin, ByNum, P, U).

%% One attribute: the integers every link has and the addresses and
%% small enums of every route or rule, of fixed size with their padding,
%% matched in the clause heads (no sub-binary made); any other through value/2.
attr({Key, u32, false}, 8, _Type, <<N:32/native, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, N} | P], U);
attr({Key, s32, false}, 8, _Type, <<N:32/signed-native, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, N} | P], U);
attr({Key, u8, false}, 5, _Type, <<N:8, _:24, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, N} | P], U);
attr({Key, bool8, false}, 5, _Type, <<N:8, _:24, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, N =/= 0} | P], U);
attr({Key, ip, false}, 8, _Type, <<A, B, C, D, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, {A, B, C, D}} | P], U);
attr({Key, ip, false}, 20, _Type, <<A:16, B:16, C:16, D:16, E:16, F:16, G:16, H:16, Rest/binary>>,
     ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, {A, B, C, D, E, F, G, H}} | P], U);
attr({Key, {named, u8, Names}, false}, 5, _Type, <<N:8, _:24, Rest/binary>>, ByNum, P, U) ->
    fold(Rest, ByNum, [{Key, maps:get(N, Names, N)} | P], U);
attr(Entry, Len, Type, Bin, ByNum, P, U) ->
    VLen = Len - 4,
    Pad = (-Len) band 3,
    case Bin of
        <<V:VLen/binary, _:Pad/binary, Rest/binary>> ->
            T = Type band ?NLA_TYPE_MASK,
            case Entry of
                {Key, string, false} ->
                    fold(Rest, ByNum, [{Key, linx_nl_codec:string(V)} | P], U);
                {Key, Bytes, false} when Bytes =:= mac; Bytes =:= binary ->
                    fold(Rest, ByNum, [{Key, V} | P], U);
                {Key, Codec, false} ->
                    case value(Codec, V) of
                        {ok, X} -> fold(Rest, ByNum, [{Key, X} | P], U);
                        skip -> fold(Rest, ByNum, P, U);
                        error -> fold(Rest, ByNum, P, [{T, V} | U])
                    end;
                {_Key, Codec, true} ->
                    case value(Codec, V) of
                        {ok, Pairs} -> fold(Rest, ByNum, lists:reverse(Pairs, P), U);
                        _ -> fold(Rest, ByNum, P, [{T, V} | U])
                    end;
                _ ->
                    fold(Rest, ByNum, P, [{T, V} | U])
            end;
        _ ->
            cut_short(<<Len:16/native, Type:16/native, Bin/binary>>, ByNum, P, U)
    end.

%% What is left is not a whole attribute: the last one, with its padding
%% cut short (accepted, padded), or an error at `Bin'.
cut_short(Bin, ByNum, P, U) ->
    case last_attr(Bin) of
        {ok, Padded} -> fold(Padded, ByNum, P, U);
        error -> {error, Bin}
    end.

%% The last attribute, when what follows it is shorter than its padding
%% (the padding is then cut short, not missing): that attribute padded.
last_attr(<<Len:16/native, _:16, _:(Len - 4)/binary, Tail/binary>> = Bin)
  when byte_size(Tail) < ((-Len) band 3) ->
    {ok, <<(binary:part(Bin, 0, Len))/binary, 0:(((-Len) band 3) * 8)>>};
last_attr(_) ->
    error.

%% @doc Decodes one value with a codec: `{ok, Value}', `skip', or `error'
%% when the bytes do not fit the codec.
-spec value(decoder(), binary()) -> {ok, term()} | skip | error.
value(u32, <<N:32/native>>) -> {ok, N};
value(u8, <<N:8>>) -> {ok, N};
value(u16, <<N:16/native>>) -> {ok, N};
value(u64, <<N:64/native>>) -> {ok, N};
value(s8, <<N:8/signed>>) -> {ok, N};
value(s16, <<N:16/signed-native>>) -> {ok, N};
value(s32, <<N:32/signed-native>>) -> {ok, N};
value(s64, <<N:64/signed-native>>) -> {ok, N};
value(be16, <<N:16/big>>) -> {ok, N};
value(be32, <<N:32/big>>) -> {ok, N};
value(be64, <<N:64/big>>) -> {ok, N};
value(sbe32, <<N:32/signed-big>>) -> {ok, N};
value(string, V) -> {ok, linx_nl_codec:string(V)};
value({symbol, Names}, V) ->
    S = linx_nl_codec:string(V),
    {ok, maps:get(S, Names, S)};
value(binary, V) -> {ok, V};
value(mac, V) -> {ok, V};
value(ip, V) -> linx_nl_values:ip_address(V);
value(flag, _V) -> {ok, true};
value(bool8, <<N:8>>) -> {ok, N =/= 0};
value(skip, _V) -> skip;
value({enum, _Int, _Names} = Enum, V) ->
    value(decoder(Enum), V);
value({named, Int, ByNumber}, V) ->
    case value(Int, V) of
        {ok, N} -> {ok, maps:get(N, ByNumber, N)};
        _ -> error
    end;
value({bits, Int, Names}, V) ->
    case value(Int, V) of
        {ok, N} -> {ok, linx_nl_values:bits(N, Names)};
        _ -> error
    end;
value({masked, Int, Names}, V) when byte_size(V) rem 2 =:= 0 ->
    value({bits, Int, Names}, binary:part(V, 0, byte_size(V) div 2));
value({nested, Table}, V) ->
    value({nested_tab, compiled(Table)}, V);
value({nested_tab, Tab}, V) ->
    case tab_pairs(Tab, V) of
        {ok, Pairs} -> {ok, Pairs};
        {error, _} -> error
    end;
value({list, Type, Codec}, V) ->
    case linx_nl_codec:decode_attrs(V) of
        {ok, Attrs} -> {ok, [X || {T, B} <- Attrs, T =:= Type, {ok, X} <- [value(Codec, B)]]};
        {error, _} -> error
    end;
value({struct, Fields}, V) ->
    case decode_struct(Fields, V) of
        {ok, Pairs, <<>>} -> {ok, Pairs};
        _ -> error
    end;
value(_Codec, _V) ->
    error.

%% @doc Decodes fixed-size fields from the start of a binary: the pairs
%% (without the `'_'' fields), in order, and what follows them.
-spec decode_struct([{atom(), decoder()}], binary()) ->
          {ok, [{atom(), term()}], binary()} | error.
decode_struct(Fields, Bin) ->
    decode_struct(Fields, Bin, []).

decode_struct([], Rest, Acc) ->
    {ok, lists:reverse(Acc), Rest};
decode_struct([{Key, Codec} | Fields], Bin, Acc) ->
    case field(Codec, Bin) of
        {_, Rest} when Key =:= '_' -> decode_struct(Fields, Rest, Acc);
        {X, Rest} -> decode_struct(Fields, Rest, [{Key, X} | Acc]);
        error -> error
    end.

%% A fixed-size field at the start of a binary, and what follows it:
%% matched in place, as a header is in every message of a dump.
field(u8, <<N:8, Rest/binary>>) -> {N, Rest};
field(u16, <<N:16/native, Rest/binary>>) -> {N, Rest};
field(u32, <<N:32/native, Rest/binary>>) -> {N, Rest};
field(s32, <<N:32/signed-native, Rest/binary>>) -> {N, Rest};
field({enum, _Int, _Names} = Enum, Bin) ->
    field(decoder(Enum), Bin);
field({named, Int, ByNumber}, Bin) ->
    case field(Int, Bin) of
        {N, Rest} -> {maps:get(N, ByNumber, N), Rest};
        error -> error
    end;
field({bits, Int, Names}, Bin) ->
    case field(Int, Bin) of
        {N, Rest} -> {linx_nl_values:bits(N, Names), Rest};
        error -> error
    end;
field(Codec, Bin) ->
    Size = field_size(Codec),
    case Bin of
        <<V:Size/binary, Rest/binary>> ->
            case value(Codec, V) of
                {ok, X} -> {X, Rest};
                _ -> error
            end;
        _ ->
            error
    end.

field_size(C) when C =:= u8; C =:= s8; C =:= bool8 -> 1;
field_size(C) when C =:= u16; C =:= s16; C =:= be16 -> 2;
field_size(C) when C =:= u32; C =:= s32; C =:= be32; C =:= sbe32 -> 4;
field_size(C) when C =:= u64; C =:= s64; C =:= be64 -> 8;
field_size({enum, Int, _}) -> field_size(Int);
field_size({bits, Int, _}) -> field_size(Int).

%%====================================================================
%% Encoding
%%====================================================================

%% @doc Encodes `{Key, Value}' pairs (a map: in attribute order; a list:
%% in its own order) with `Table'. A key may also be an attribute number,
%% with a {@type linx_nl_codec:attr_value()}, sent as it is. A key the
%% table does not name is `{error, {bad_key, Key}}', a value its codec
%% cannot encode `{error, {bad_value, Key, Value}}'.
-spec encode(table(), map() | [{atom() | non_neg_integer(), term()}]) ->
          {ok, iodata()}
        | {error, {bad_key, term()} | {bad_value, atom() | non_neg_integer(), term()}}.
encode(Table, Pairs) ->
    case is_map(Pairs) andalso linx_nl_attrs_enc:encode(Table, Pairs, fun encode_value/2) of
        {ok, Bin} -> {ok, Bin};
        _ -> encode_general(Table, Pairs)
    end.

encode_general(Table, Pairs) ->
    case attrs(Table, Pairs) of
        {ok, Attrs} -> {ok, linx_nl_codec:encode_attrs(Attrs)};
        {error, _} = Error -> Error
    end.

%% @doc The attributes ({@type linx_nl_codec:attr()}) that {@link encode/2}
%% encodes, for a message built of several parts.
-spec attrs(table(), map() | [{atom() | non_neg_integer(), term()}]) ->
          {ok, [linx_nl_codec:attr()]}
        | {error, {bad_key, term()} | {bad_value, atom() | non_neg_integer(), term()}}.
attrs(Table, Map) when is_map(Map) ->
    #tab{by_key = ByKey} = compiled(Table),
    Order = fun({K, _}) when is_map_key(K, ByKey) -> element(1, map_get(K, ByKey));
               ({K, _}) -> K
            end,
    attrs(Table, lists:sort(fun(A, B) -> Order(A) =< Order(B) end, maps:to_list(Map)));
attrs(Table, Pairs) when is_list(Pairs) ->
    #tab{by_key = ByKey} = compiled(Table),
    encode_pairs(Pairs, ByKey, []);
attrs(_Table, Other) ->
    {error, {bad_value, attrs, Other}}.

encode_pairs([], _ByKey, Acc) ->
    {ok, lists:reverse(Acc)};
encode_pairs([{Key, Value} | Rest], ByKey, Acc) when is_atom(Key), is_map_key(Key, ByKey) ->
    {Number, Codec} = map_get(Key, ByKey),
    case encode_value(Codec, Value) of
        {ok, none} -> encode_pairs(Rest, ByKey, Acc);
        {ok, {Attr}} -> encode_pairs(Rest, ByKey, [{Number, Attr} | Acc]);
        error -> {error, {bad_value, Key, Value}}
    end;
encode_pairs([{Number, Value} = Attr | Rest], ByKey, Acc) when is_integer(Number) ->
    try iolist_to_binary(linx_nl_codec:encode_attr(Attr)) of
        _ -> encode_pairs(Rest, ByKey, [Attr | Acc])
    catch
        error:_ -> {error, {bad_value, Number, Value}}
    end;
encode_pairs([{Key, _} | _], _ByKey, _Acc) ->
    {error, {bad_key, Key}};
encode_pairs([Other | _], _ByKey, _Acc) ->
    {error, {bad_key, Other}}.

%% @doc Whether `Table' can encode the pairs: `ok' or the error of
%% {@link encode/2}.
-spec check(table(), map() | list()) -> ok | {error, term()}.
check(Table, Pairs) ->
    case encode(Table, Pairs) of
        {ok, _} -> ok;
        {error, _} = Error -> Error
    end.

%% @doc Encodes one value: `{ok, {AttrValue}}' (a
%% {@type linx_nl_codec:attr_value()}), `{ok, none}' for a flag that is
%% `false', `error' when the codec cannot take it.
-spec encode_value(codec(), term()) -> {ok, {linx_nl_codec:attr_value()} | none} | error.
encode_value(Int, N) when is_atom(Int), is_integer(N) ->
    case linx_nl_codec:fits(Int, N) of
        true -> {ok, {{Int, N}}};
        false -> error
    end;
encode_value(string, S) ->
    case linx_opts:text(S) of
        {ok, Bin} -> {ok, {{string, Bin}}};
        error -> error
    end;
encode_value({symbol, _Names}, A) when is_atom(A) -> {ok, {{string, atom_to_binary(A)}}};
encode_value({symbol, _Names}, S) -> encode_value(string, S);
encode_value(binary, B) when is_binary(B) -> {ok, {B}};
encode_value(mac, M) -> wrap(linx_nl_values:mac(M));
encode_value(ip, IP) ->
    case linx_nl_values:ip_bytes(IP) of
        {ok, _Family, Bytes} -> {ok, {Bytes}};
        error -> error
    end;
encode_value(flag, true) -> {ok, {flag}};
encode_value(flag, false) -> {ok, none};
encode_value(bool8, B) when is_boolean(B) ->
    {ok, {{u8, case B of true -> 1; false -> 0 end}}};
encode_value({enum, Int, Names}, V) ->
    case linx_nl_values:number(V, Names) of
        {ok, N} -> encode_value(Int, N);
        error -> error
    end;
encode_value({bits, Int, Names}, V) ->
    case linx_nl_values:mask(V, Names) of
        {ok, N} -> encode_value(Int, N);
        error -> error
    end;
encode_value({masked, Int, Names}, V) ->
    case linx_nl_values:masked(V, Names) of
        {ok, Set, Mask} -> wrap(encode_struct([{set, Int}, {mask, Int}], #{set => Set, mask => Mask}));
        error -> error
    end;
encode_value({nested, Table}, V) when is_map(V); is_list(V) ->
    case attrs(Table, V) of
        {ok, Attrs} -> {ok, {{nested, Attrs}}};
        {error, _} -> error
    end;
encode_value({list, Type, Codec}, L) when is_list(L) ->
    try
        Attrs = [begin
                     {ok, {A}} = encode_value(Codec, X),
                     {Type, A}
                 end || X <- L],
        {ok, {{nested, Attrs}}}
    catch
        error:_ -> error
    end;
encode_value({struct, Fields}, V) when is_map(V) ->
    wrap(encode_struct(Fields, V));
encode_value(_Codec, _V) ->
    error.

wrap({ok, V}) -> {ok, {V}};
wrap(error) -> error.

%% @doc Encodes fixed-size fields from a map (a missing key, or `'_'', is
%% 0); `error' for a value that does not fit.
-spec encode_struct([{atom(), codec()}], map()) -> {ok, binary()} | error.
encode_struct(Fields, Map) ->
    try
        {ok, << <<(field_bytes(Codec, maps:get(Key, Map, 0)))/binary>> || {Key, Codec} <- Fields >>}
    catch
        throw:bad -> error
    end.

field_bytes(Codec, V) ->
    case encode_value(Codec, V) of
        {ok, {{Int, N}}} -> linx_nl_codec:int_bytes(Int, N);
        _ -> throw(bad)
    end.

%%====================================================================
%% Tables
%%====================================================================

%% @doc The attribute number of `Key' in `Table'.
-spec number(table(), atom()) -> non_neg_integer().
number(Table, Key) ->
    #tab{by_key = #{Key := {Number, _}}} = compiled(Table),
    Number.

%% @doc The entries of a table, as written.
-spec entries(table()) -> [entry()].
entries({Mod, Name}) ->
    element(1, Mod:table(Name)).

%% A table compiled once per node and kept in a persistent term: the
%% tables are constants, so it is never replaced.
compiled(Table) ->
    case persistent_term:get({?MODULE, Table}, undefined) of
        undefined ->
            Tab = compile(Table),
            persistent_term:put({?MODULE, Table}, Tab),
            Tab;
        Tab ->
            Tab
    end.

compile({Mod, Name} = Table) ->
    {Entries, Opts} = Mod:table(Name),
    Norm = [case E of
                {N, K, C} -> {N, K, C, false};
                {N, K, C, [spread]} -> {N, K, C, true}
            end || E <- Entries],
    Max = lists:max([-1 | [N || {N, _, _, _} <- Norm]]),
    ByNum = lists:foldl(fun({N, K, C, S}, T) -> setelement(N + 1, T, {K, decoder(C), S}) end,
                        erlang:make_tuple(Max + 1, undefined), Norm),
    ByKey = maps:from_list([{K, {N, C}} || {N, K, C, _} <- Norm]),
    case map_size(ByKey) =:= length(Norm)
        andalso length(lists:usort([N || {N, _, _, _} <- Norm])) =:= length(Norm) of
        true -> ok;
        false -> error({duplicate_entries, Table})
    end,
    #tab{by_num = ByNum, by_key = ByKey,
         unknown = maps:get(unknown, Opts, unknown),
         drop_empty = maps:get(empty_unknown, Opts, keep) =:= drop}.

%% @doc A codec, or the fields of a struct, made ready for decoding many
%% values: names looked up in a map, nested tables compiled. Decoding
%% with the result gives what decoding with the codec gives.
-spec decoder(codec() | [{atom(), codec()}]) -> decoder() | [{atom(), decoder()}].
decoder(Fields) when is_list(Fields) ->
    [{Key, decoder(Codec)} || {Key, Codec} <- Fields];
decoder({enum, Int, Names}) ->
    {named, Int, maps:from_list([{N, Name} || {Name, N} <- lists:reverse(Names)])};
decoder({nested, Table}) ->
    {nested_tab, compiled(Table)};
decoder({list, Type, Codec}) ->
    {list, Type, decoder(Codec)};
decoder({struct, Fields}) ->
    {struct, decoder(Fields)};
decoder(Codec) ->
    Codec.
