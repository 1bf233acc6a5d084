%% @private
%% A rule's expressions as the value of `NFTA_RULE_EXPRESSIONS', through
%% the tables of {@link linx_nft_exprs} (one per kind) and {@link
%% linx_nft_tables}, for {@link linx_nft_msg}. Pure, no I/O; within
%% {@link with_expr_cache/1} each distinct expression is encoded once.
-module(linx_nft_expr_encode).

-export([encode_exprs/1, with_expr_cache/1, cache_find/1, cache_put/2]).

-define(T, linx_nft_tables).
-define(EXPR_CACHE, {?MODULE, expr_cache}).

%% @doc A rule's expressions, each with the place of the statement it
%% comes from, as the value of `NFTA_RULE_EXPRESSIONS', or `{error,
%% {Index, Expr, Key}}' for the first that does not encode (`Key' the
%% field of its table, or `kind').
-spec encode_exprs([{pos_integer(), term()}]) ->
          {ok, binary()} | {error, {pos_integer(), term(), term()}}.
encode_exprs(Exprs) when is_list(Exprs) ->
    Cache = get(?EXPR_CACHE),
    try exprs(Exprs, Cache, false, <<>>) of
        {Bin, false} -> {ok, Bin};
        {Bin, Cache1} -> put(?EXPR_CACHE, Cache1), {ok, Bin}
    catch
        throw:{bad_expr, _, _, _} = Bad -> {error, erlang:delete_element(1, Bad)}
    end.

%% The expressions' elements appended to `Acc', each taken from the
%% cache when it is there (`Cache', or `undefined' outside
%% with_expr_cache/1), and the cache with those added (`false': none).
exprs([{I, Expr} | Rest], undefined, New, Acc) ->
    exprs(Rest, undefined, New, <<Acc/binary, (list_elem(I, Expr))/binary>>);
exprs([{I, Expr} | Rest], Cache, New, Acc) ->
    Key = key(Expr),
    case Cache of
        #{Key := Cached} when Cached =/= plain ->
            exprs(Rest, Cache, New, <<Acc/binary, (fill(Cached, Expr))/binary>>);
        #{Key := plain} ->
            whole(I, Expr, Rest, Cache, New, Acc);
        #{} ->
            Bin = list_elem(I, Expr),
            Cache1 = Cache#{Key => cached(Key, I, Bin)},
            exprs(Rest, Cache1, Cache1, <<Acc/binary, Bin/binary>>)
    end;
exprs([], _Cache, New, Acc) ->
    {Acc, New}.

%% An expression whose key is no template, cached whole.
whole(I, Expr, Rest, Cache, New, Acc) ->
    Whole = {whole, Expr},
    case Cache of
        #{Whole := Bin} ->
            exprs(Rest, Cache, New, <<Acc/binary, Bin/binary>>);
        #{} ->
            Bin = list_elem(I, Expr),
            Cache1 = Cache#{Whole => Bin},
            exprs(Rest, Cache1, Cache1, <<Acc/binary, Bin/binary>>)
    end.

%% What an expression is cached by. Most rules differ from each other
%% only in the values they compare or load (an address, a port): an
%% expression whose data is a value is cached as a template, by its
%% kind, its other keys and the size of its value, and its bytes made
%% by putting the value in. Any other expression is cached whole.
key({Kind, #{data := #{value := V} = Data} = Map}) when is_atom(Kind), map_size(Data) =:= 1,
                                                       is_binary(V) ->
    {value, Kind, maps:remove(data, Map), byte_size(V)};
key(Expr) ->
    {whole, Expr}.

%% What the cache keeps for `Key', the bytes of its first expression
%% `Bin' known: the template, the bytes before the value (the last
%% attribute, innermost: only its padding follows), checked with two
%% other values of the same size; `plain' when that does not hold (the
%% expressions of that key are then cached whole).
cached({whole, _}, _I, Bin) ->
    Bin;
cached({value, Kind, Map, Size}, I, Bin) ->
    PadBits = ((4 - (Size band 3)) band 3) * 8,
    PrefixSize = byte_size(Bin) - Size - PadBits div 8,
    Prefix = binary:part(Bin, 0, max(PrefixSize, 0)),
    Same = fun(Byte) ->
                   V = binary:copy(<<Byte>>, Size),
                   list_elem(I, {Kind, Map#{data => #{value => V}}})
                       =:= <<Prefix/binary, V/binary, 0:PadBits>>
           end,
    case PrefixSize >= 0 andalso Same(0) andalso Same(255) of
        true -> {value, Prefix, PadBits};
        false -> plain
    end.

fill({value, Prefix, PadBits}, {_, #{data := #{value := V}}}) -> <<Prefix/binary, V/binary, 0:PadBits>>;
fill(Bin, _Expr) when is_binary(Bin) -> Bin.

%% @doc `Fun()', with each expression encoded once: the rules of a
%% large batch repeat most of their expressions (a protocol's match, a
%% counter, a verdict), and the bytes of one do not depend on the rule.
%% The cache lives in the process dictionary while `Fun' runs.
-spec with_expr_cache(fun(() -> T)) -> T.
with_expr_cache(Fun) ->
    put(?EXPR_CACHE, #{}),
    try Fun() after erase(?EXPR_CACHE) end.

%% @doc Within with_expr_cache/1, what the cache holds for `Key' (a
%% tuple whose first element names its kind, as `{rule, ...}' does:
%% other modules' keys never meet the expressions'): `{ok, Value}' or
%% `error'; `undefined' outside, where nothing is kept.
-spec cache_find(tuple()) -> {ok, term()} | error | undefined.
cache_find(Key) ->
    case get(?EXPR_CACHE) of
        undefined -> undefined;
        Cache -> maps:find(Key, Cache)
    end.

%% @doc Keeps `Value' for `Key' within with_expr_cache/1 (nothing
%% outside).
-spec cache_put(tuple(), term()) -> ok.
cache_put(Key, Value) ->
    case get(?EXPR_CACHE) of
        undefined -> ok;
        Cache -> put(?EXPR_CACHE, Cache#{Key => Value}), ok
    end.

%% An expression as an element of the list (`NFTA_LIST_ELEM'): its
%% bytes, the attribute header included.
list_elem(I, Expr) ->
    {Name, Data} = name_data(I, Expr),
    NameAttr = attr(linx_nl_attrs:number({?T, expr}, name), <<Name/binary, 0>>),
    Elem = case Data of
               <<>> -> NameAttr;
               _ -> <<NameAttr/binary, (attr(linx_nl_attrs:number({?T, expr}, data), Data))/binary>>
           end,
    attr(linx_nl_attrs:number({?T, list}, elem), Elem).

%% An expression's name and data (the attributes of its kind's table).
name_data(I, {Kind, Map} = Expr) when is_atom(Kind), is_map(Map) ->
    case lists:member(Kind, linx_nft_exprs:kinds()) of
        true ->
            case linx_nl_attrs:encode({linx_nft_exprs, Kind}, Map) of
                {ok, Data} -> {atom_to_binary(Kind), iolist_to_binary(Data)};
                {error, {bad_key, K}} -> throw({bad_expr, I, Expr, K});
                {error, {bad_value, K, _}} -> throw({bad_expr, I, Expr, K})
            end;
        false ->
            throw({bad_expr, I, Expr, kind})
    end;
name_data(_I, {Name, Data}) when is_binary(Name), byte_size(Name) > 0, is_binary(Data) ->
    {Name, Data};
name_data(I, Expr) ->
    throw({bad_expr, I, Expr, kind}).

%% An attribute of type `Type' (no flags: these values are opaque to
%% the tables, as `binary' and `string' values are), padded.
attr(Type, Value) ->
    iolist_to_binary(linx_nl_codec:encode_attr({Type, Value})).
