%% @private
%% Sets and maps of nf_tables: a set's key and data types by nft's names,
%% and elements as Erlang values of those types. Pure.
%%
%% A type is one of {@link types/0}, or a list of them (a concatenation,
%% each field padded to 4 bytes); a map's data may also be `verdict'.
%% The type numbers are nft's (its datatype enumeration; the kernel keeps
%% them for nft and does not read them); a concatenation's is each
%% field's number shifted left 6 bits in turn.
-module(linx_nft_set).

-export([types/0, decode_set/1, encode_set/1, decode_elements/2, encode_elements/2]).

%% Name, nft's number, length in bytes.
-define(TYPES, [{ipv4_addr, 7, 4}, {ipv6_addr, 8, 16}, {ether_addr, 9, 6}, {inet_proto, 12, 1},
                {inet_service, 13, 2}, {mark, 19, 4}, {ifname, 41, 16}]).
%% The byte order nft writes in a set's user data for a type (0 none,
%% 1 host, 2 network), which nft reads to show the elements: the user
%% data TLVs NFTNL_UDATA_SET_KEYBYTEORDER (0), _DATABYTEORDER (1) and,
%% for a map, _DATA_INTERVAL (6), each a host-order u32, as nft writes
%% them.
-define(BYTEORDER, [{ipv4_addr, 2}, {ipv6_addr, 2}, {ether_addr, 2}, {inet_proto, 0},
                    {inet_service, 2}, {mark, 1}, {ifname, 1}]).
-define(VERDICT, 16#ffffff00).    % NFT_DATA_VERDICT
%% The types whose values' bytes are big-endian numbers, which a range of
%% an interval set can hold.
-define(RANGE_TYPES, [ipv4_addr, ipv6_addr, ether_addr, inet_proto, inet_service]).
-define(TYPE_BITS, 6).

%% @doc The key types linx names.
-spec types() -> [atom()].
types() ->
    [Name || {Name, _, _} <- ?TYPES].

%% @doc A set as the table decodes it, with `key' (and a map's `data')
%% named when linx knows its type, and `desc' a map.
-spec decode_set(map()) -> map().
decode_set(Set) ->
    Key = case Set of
              #{key_type := KT, key_len := KL} -> type_of(KT, KL);
              _ -> unknown
          end,
    Data = case Set of
               #{data_type := ?VERDICT} -> verdict;
               #{data_type := DT, data_len := DL} -> type_of(DT, DL);
               _ -> none
           end,
    S1 = case Set of
             #{desc := Desc} when is_list(Desc) -> Set#{desc := desc_map(Desc)};
             _ -> Set
         end,
    S2 = case Key of unknown -> S1; _ -> S1#{key => Key} end,
    case Data of
        none -> S2;
        unknown -> S2;
        _ -> S2#{data => Data}
    end.

desc_map(Pairs) ->
    maps:map(fun(concat, Fields) -> [L || F <- Fields, {len, L} <- F];
                (_, V) -> V
             end, maps:from_list(Pairs)).

%% The name of type number `T' of `Len' bytes, or `unknown'.
type_of(T, Len) ->
    Fields = fields(T, []),
    case [lists:keyfind(F, 2, ?TYPES) || F <- Fields] of
        [{Name, _, Len}] -> Name;
        [_, _ | _] = Types ->
            case lists:all(fun is_tuple/1, Types)
                andalso lists:sum([pad4(L) || {_, _, L} <- Types]) =:= Len of
                true -> [Name || {Name, _, _} <- Types];
                false -> unknown
            end;
        _ -> unknown
    end.

fields(0, Acc) -> Acc;
fields(T, Acc) -> fields(T bsr ?TYPE_BITS, [T band ((1 bsl ?TYPE_BITS) - 1) | Acc]).

%% @doc A set's map as the table encodes it: `key' and `data' (types)
%% become their numbers and lengths (a map gets the `map' flag, a
%% concatenation its fields' lengths). `error' for a type linx does not
%% know.
-spec encode_set(map()) -> {ok, map()} | {error, {atom(), term()}}.
encode_set(Set) ->
    try
        S1 = case Set of
                 #{key := Key} ->
                     {KT, KL, Lens} = numbers(key, Key),
                     concat((maps:remove(key, Set))#{key_type => KT, key_len => KL}, Key, Lens);
                 _ ->
                     Set
             end,
        S2 = case S1 of
                 #{data := verdict} ->
                     flag_map((maps:remove(data, S1))#{data_type => ?VERDICT, data_len => 16});
                 #{data := Data} ->
                     {DT, DL, _} = numbers(data, Data),
                     flag_map((maps:remove(data, S1))#{data_type => DT, data_len => DL});
                 _ ->
                     S1
             end,
        {ok, desc_fields(with_userdata(Set, S2))}
    catch
        throw:{bad, K, V} -> {error, {K, V}}
    end.

%% An interval set of a concatenation gets the `concat' flag and its
%% fields' lengths in `desc' (the kernel keeps its ranges by field
%% then), as nft sends it; `desc''s `concat' is taken as the lengths a
%% dump gives, `[4, 2]'.
concat(#{flags := Flags} = Set, [_, _ | _], Lens) when is_list(Flags) ->
    case lists:member(interval, Flags) of
        true ->
            Desc = maps:get(desc, Set, #{}),
            Set#{flags := Flags ++ [concat || not lists:member(concat, Flags)],
                 desc => Desc#{concat => maps:get(concat, Desc, Lens)}};
        false ->
            Set
    end;
concat(Set, _Key, _Lens) ->
    Set.

%% The lengths of a concatenation's fields as the table encodes them.
desc_fields(#{desc := #{concat := Lens} = Desc} = Set) when is_list(Lens) ->
    Set#{desc := Desc#{concat := [case L of
                                      L when is_integer(L) -> #{len => L};
                                      _ -> L
                                  end || L <- Lens]}};
desc_fields(Set) ->
    Set.

%% nft's user data for the set's types, unless the caller gave some.
with_userdata(#{userdata := _}, Encoded) ->
    Encoded;
with_userdata(#{key := Key} = Set, Encoded) ->
    Data = case Set of
               #{data := D} -> [{1, byteorder(D)}, {6, 0}];
               _ -> []
           end,
    Encoded#{userdata => << <<T:8, 4:8, V:32/native>> || {T, V} <- [{0, byteorder(Key)} | Data] >>};
with_userdata(_Set, Encoded) ->
    Encoded.

byteorder(Type) ->
    case lists:keyfind(Type, 1, ?BYTEORDER) of
        {_, B} -> B;
        false -> 0
    end.

flag_map(#{flags := F} = Set) when is_list(F) ->
    case lists:member(map, F) of
        true -> Set;
        false -> Set#{flags := F ++ [map]}
    end;
flag_map(Set) ->
    Set#{flags => [map]}.

numbers(Which, Name) when is_atom(Name) ->
    case lists:keyfind(Name, 1, ?TYPES) of
        {_, T, L} -> {T, L, [L]};
        false -> throw({bad, Which, Name})
    end;
numbers(Which, [_, _ | _] = Names) ->
    Types = [case lists:keyfind(N, 1, ?TYPES) of
                 {_, T, L} -> {T, L};
                 false -> throw({bad, Which, Names})
             end || N <- Names],
    {lists:foldl(fun({T, _}, Acc) -> (Acc bsl ?TYPE_BITS) bor T end, 0, Types),
     lists:sum([pad4(L) || {_, L} <- Types]), [L || {_, L} <- Types]};
numbers(Which, Other) ->
    throw({bad, Which, Other}).

pad4(L) -> (L + 3) band (bnot 3).

%%====================================================================
%% Elements
%%====================================================================

%% @doc Elements as the table decodes them, their key (and data) as values
%% of the set's types: `#{key => Value}', with `data', `timeout',
%% `expiration' (milliseconds) and `flags' when there. A value of a type
%% linx does not know, or that does not fit it, stays `#{value => Bytes}'.
-spec decode_elements([map()], map()) -> [map()].
decode_elements(Elems, #{flags := Flags, key := Key} = Set) when is_atom(Key) ->
    case lists:member(interval, Flags) andalso lists:member(Key, ?RANGE_TYPES) of
        true -> ranges(Elems, Set);
        false -> plain_elements(Elems, Set)
    end;
decode_elements(Elems, #{key := [_, _ | _] = Types} = Set) ->
    [concat_range(E, Types) || E <- plain_elements(Elems, Set)];
decode_elements(Elems, Set) ->
    plain_elements(Elems, Set).

%% An element of a concatenation with its last values (`key_end', as
%% in an interval set): the key a list of fields, each a value, or a
%% range `{From, To}' where the two differ.
concat_range(#{key := From, key_end := #{value := Bin}} = E, Types) when is_list(From) ->
    case value_of(Types, Bin, none) of
        To when is_list(To) ->
            (maps:remove(key_end, E))#{key := [field(F, T) || {F, T} <- lists:zip(From, To)]};
        none ->
            E
    end;
concat_range(E, _Types) ->
    E.

field(V, V) -> V;
field(From, To) -> {From, To}.

plain_elements(Elems, Set) ->
    KeyType = maps:get(key, Set, unknown),
    DataType = maps:get(data, Set, unknown),
    [maps:map(fun(key, #{value := V} = D) -> value_of(KeyType, V, D);
                 (data, #{verdict := V}) -> verdict_of(V);
                 (data, #{value := V} = D) -> value_of(DataType, V, D);
                 (_, V) -> V
              end, E) || E <- Elems].

%% An interval set's elements as the kernel keeps them (each range's
%% start, and its end + 1 flagged `interval_end'; nft adds an end at 0
%% before the first range) made ranges again, in order: `#{key => {From,
%% To}}', or `#{key => Value}' for a range of one value. A start that no
%% end follows goes up to the next start, or to the type's last value.
ranges(Elems, Set) ->
    Keyed = [{Bin, not lists:member(interval_end, maps:get(flags, E, [])), E}
             || #{key := #{value := Bin}} = E <- Elems],
    %% At the same key, an end (`false') before a start.
    Sorted = lists:sort(fun({A, SA, _}, {B, SB, _}) -> {A, SA} =< {B, SB} end, Keyed),
    Unkeyed = [E || E <- Elems, not is_map_key(key, E) orelse not is_map(map_get(key, E))
                                    orelse not is_map_key(value, map_get(key, E))],
    pair(Sorted, none, Set, []) ++ plain_elements(Unkeyed, Set).

pair([{Bin, true, E} | Rest], Open, Set, Acc) ->
    pair(Rest, {Bin, E}, Set, close(Open, Bin, Set, Acc));
pair([{Bin, false, _E} | Rest], Open, Set, Acc) ->
    pair(Rest, none, Set, close(Open, Bin, Set, Acc));
pair([], {From, E}, Set, Acc) ->
    lists:reverse([range(From, binary:copy(<<255>>, byte_size(From)), E, Set) | Acc]);
pair([], none, _Set, Acc) ->
    lists:reverse(Acc).

%% The open range, if any, closed before `Next'.
close(none, _Next, _Set, Acc) -> Acc;
close({From, E}, Next, Set, Acc) ->
    Size = byte_size(Next),
    <<N:Size/unit:8>> = Next,
    [range(From, <<(N - 1):Size/unit:8>>, E, Set) | Acc].

range(From, To, E, Set) ->
    [Elem] = plain_elements([maps:remove(flags, E)], Set),
    KeyType = maps:get(key, Set),
    Key = case From =:= To of
              true -> value_of(KeyType, From, #{value => From});
              false -> {value_of(KeyType, From, #{value => From}), value_of(KeyType, To, #{value => To})}
          end,
    Elem#{key := Key}.

verdict_of(#{code := C, chain := Chain}) -> {C, Chain};
verdict_of(#{code := C}) -> C;
verdict_of(V) -> V.

value_of(Type, Bin, Raw) ->
    try decode_value(Type, Bin) of
        {ok, V} -> V;
        error -> Raw
    catch
        error:_ -> Raw
    end.

decode_value(ipv4_addr, <<A, B, C, D>>) -> {ok, {A, B, C, D}};
decode_value(ipv6_addr, <<_:128>> = V) -> linx_nl_values:ip_address(V);
decode_value(ether_addr, <<_:48>> = V) -> {ok, V};
decode_value(inet_proto, <<P>>) -> {ok, P};
decode_value(inet_service, <<P:16>>) -> {ok, P};
decode_value(mark, <<M:32/native>>) -> {ok, M};
decode_value(ifname, <<_:128>> = V) -> {ok, hd(binary:split(V, <<0>>))};
decode_value(Types, V) when is_list(Types) ->
    {Values, Rest} = lists:mapfoldl(fun(T, Bin) ->
                                            {_, _, L} = lists:keyfind(T, 1, ?TYPES),
                                            P = pad4(L),
                                            %% A short value raises here: value_of/3
                                            %% keeps it raw.
                                            F = binary:part(Bin, 0, L),
                                            {ok, X} = decode_value(T, F),
                                            {X, binary:part(Bin, P, byte_size(Bin) - P)}
                                    end, V, Types),
    case Rest of
        <<>> -> {ok, Values};
        _ -> error
    end;
decode_value(_Type, _V) ->
    error.

%% @doc Elements (a value, `{Key, Data}' for a map, or a map with `key'
%% and `data', `timeout', `flags', `userdata') as the table encodes them,
%% with the set's types (`key', `data' in `Types'); `{error, {I, Elem}}'
%% for the first that does not encode. A key or data may also be
%% `#{value => Bytes}', sent as it is.
-spec encode_elements(list(), map()) -> {ok, [map()]} | {error, {pos_integer(), term()}}.
encode_elements(Elems, Types) ->
    try
        {ok, lists:append([expand(I, E, Types) || {I, E} <- lists:enumerate(Elems)])}
    catch
        throw:{bad_element, I, _} -> {error, {I, lists:nth(I, Elems)}}
    end.

%% An element, or a range as the kernel keeps it: its start, and its
%% end + 1 flagged `interval_end' (none when the range goes to the
%% type's last value). A range is `{From, To}' in a set, a key `{From,
%% To}' in a map; with `interval' every key is one.
expand(I, E, Types) ->
    Map = case E of
              #{} -> E;
              {K, D} when is_map_key(data, Types) -> #{key => K, data => D};
              _ -> #{key => E}
          end,
    Key = maps:get(key, Map, none),
    case range_of(maps:get(key, Types, raw), Key, maps:get(interval, Types, false)) of
        {concat, From, To} ->
            Start = element(I, Map#{key => #{value => From}}, Types),
            [Start#{key_end => #{value => To}}];
        {From, To} ->
            Size = byte_size(To),
            <<N:Size/unit:8>> = To,
            Start = element(I, Map#{key => #{value => From}}, Types),
            case N + 1 < 1 bsl (8 * Size) of
                true -> [Start, #{key => #{value => <<(N + 1):Size/unit:8>>}, flags => [interval_end]}];
                false -> [Start]
            end;
        plain ->
            [element(I, E, Types)];
        bad ->
            throw({bad_element, I, E})
    end.

%% A key's range, as the bytes of its first and last value: `plain' for
%% a key that is no range, `bad' for one whose end comes before its start.
range_of(Type, {From, To}, _Interval) when is_atom(Type) ->
    case lists:member(Type, ?RANGE_TYPES) andalso {encode_value(Type, From), encode_value(Type, To)} of
        {{ok, F}, {ok, T}} when F =< T -> {F, T};
        {{ok, _}, {ok, _}} -> bad;
        _ -> plain
    end;
range_of(Type, Value, true) when is_atom(Type) ->
    case lists:member(Type, ?RANGE_TYPES) andalso encode_value(Type, Value) of
        {ok, B} -> {B, B};
        _ -> plain
    end;
range_of([_, _ | _] = Types, Values, Interval) when is_list(Values), length(Values) =:= length(Types) ->
    Fields = [field_range(T, V) || {T, V} <- lists:zip(Types, Values)],
    Ranged = lists:any(fun({_, _, Ranged}) -> Ranged; (_) -> false end, Fields),
    case lists:member(bad, Fields) of
        true -> bad;
        false when Ranged; Interval -> {concat, concat_bytes(Fields, 1), concat_bytes(Fields, 2)};
        false -> plain
    end;
range_of(_Type, _Value, _Interval) ->
    plain.

%% A field of a concatenation's key: its first and last value's bytes
%% (the same for one value), padded to 4 bytes, and whether it is a
%% range.
field_range(Type, {From, To} = V) ->
    case lists:member(Type, ?RANGE_TYPES) andalso {encode_value(Type, From), encode_value(Type, To)} of
        {{ok, F}, {ok, T}} when F =< T -> {pad(F), pad(T), true};
        {{ok, _}, {ok, _}} -> bad;
        _ -> one_value(Type, V)
    end;
field_range(Type, V) ->
    one_value(Type, V).

one_value(Type, V) ->
    case encode_value(Type, V) of
        {ok, B} -> {pad(B), pad(B), false};
        error -> bad
    end.

concat_bytes(Fields, N) ->
    iolist_to_binary([element(N, F) || F <- Fields]).

pad(B) ->
    <<B/binary, 0:((pad4(byte_size(B)) - byte_size(B)) * 8)>>.

element(I, E, Types) when is_map(E) ->
    maps:map(fun(key, V) -> data(I, E, maps:get(key, Types, raw), V);
                (data, V) -> data(I, E, maps:get(data, Types, raw), V);
                (K, V) when K =:= timeout; K =:= flags; K =:= userdata -> V;
                (_, _) -> throw({bad_element, I, E})
             end, E);
element(I, {K, D}, Types) when is_map_key(data, Types) ->
    element(I, #{key => K, data => D}, Types);
element(I, E, Types) ->
    element(I, #{key => E}, Types).

data(_I, _E, _Type, #{value := V} = D) when is_binary(V) -> D;
data(_I, _E, verdict, V) when is_atom(V) -> #{verdict => #{code => V}};
data(_I, _E, verdict, {C, Chain}) when C =:= jump; C =:= goto -> #{verdict => #{code => C, chain => Chain}};
data(I, E, Type, V) ->
    try encode_value(Type, V) of
        {ok, Bin} -> #{value => Bin};
        error -> throw({bad_element, I, E})
    catch
        error:_ -> throw({bad_element, I, E})
    end.

encode_value(ipv4_addr, {_, _, _, _} = Ip) -> ip(Ip);
encode_value(ipv6_addr, {_, _, _, _, _, _, _, _} = Ip) -> ip(Ip);
encode_value(ether_addr, Mac) -> linx_nl_values:mac(Mac);
encode_value(inet_proto, P) when is_integer(P), P >= 0, P =< 255 -> {ok, <<P>>};
encode_value(inet_service, P) when is_integer(P), P >= 0, P =< 16#ffff -> {ok, <<P:16>>};
encode_value(mark, M) when is_integer(M), M >= 0, M =< 16#ffffffff -> {ok, <<M:32/native>>};
encode_value(ifname, Name) ->
    case linx_opts:text(Name) of
        {ok, B} when byte_size(B) < 16 -> {ok, <<B/binary, 0:((16 - byte_size(B)) * 8)>>};
        _ -> error
    end;
encode_value(Types, Values) when is_list(Types), is_list(Values), length(Types) =:= length(Values) ->
    Fields = [begin
                  {ok, B} = encode_value(T, V),
                  pad(B)
              end || {T, V} <- lists:zip(Types, Values)],
    {ok, iolist_to_binary(Fields)};
encode_value(_Type, _V) ->
    error.

ip(Ip) ->
    case linx_nl_values:ip_bytes(Ip) of
        {ok, _, B} -> {ok, B};
        error -> error
    end.
