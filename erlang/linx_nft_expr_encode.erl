%% @private
%% A rule's expressions as the value of `NFTA_RULE_EXPRESSIONS', through
%% the tables of {@link linx_nft_exprs} (one per kind) and {@link
%% linx_nft_tables}, for {@link linx_nft_msg}. Pure, no I/O; within
%% {@link with_expr_cache/1} each distinct expression is encoded once.
-module(linx_nft_expr_encode).

-export([encode_exprs/1, with_expr_cache/1]).

-define(T, linx_nft_tables).
-define(EXPR_CACHE, {?MODULE, expr_cache}).

%% @doc A rule's expressions, each with the place of the statement it
%% comes from, as the value of `NFTA_RULE_EXPRESSIONS', or `{error,
%% {Index, Expr, Key}}' for the first that does not encode (`Key' the
%% field of its table, or `kind').
-spec encode_exprs([{pos_integer(), term()}]) ->
          {ok, binary()} | {error, {pos_integer(), term(), term()}}.
encode_exprs(Exprs) when is_list(Exprs) ->
    try
        {ok, iolist_to_binary([cached_expr(I, E) || {I, E} <- Exprs])}
    catch
        throw:{bad_expr, _, _, _} = Bad -> {error, erlang:delete_element(1, Bad)}
    end.

%% @doc `Fun()', with each expression encoded once: the rules of a
%% large batch repeat most of their expressions (a protocol's match, a
%% counter, a verdict), and the bytes of one do not depend on the rule.
%% The cache lives in the process dictionary while `Fun' runs.
-spec with_expr_cache(fun(() -> T)) -> T.
with_expr_cache(Fun) ->
    put(?EXPR_CACHE, #{}),
    try Fun() after erase(?EXPR_CACHE) end.

%% An expression as an element of the list (`NFTA_LIST_ELEM'): its
%% bytes, the attribute header included.
cached_expr(I, Expr) ->
    case get(?EXPR_CACHE) of
        #{Expr := Bin} -> Bin;
        #{} = Cache -> Bin = list_elem(I, Expr), put(?EXPR_CACHE, Cache#{Expr => Bin}), Bin;
        undefined -> list_elem(I, Expr)
    end.

list_elem(I, Expr) ->
    {ok, Bin} = linx_nl_attrs:encode({?T, list}, [{elem, encode_expr(I, Expr)}]),
    iolist_to_binary(Bin).

encode_expr(I, {Kind, Map} = Expr) when is_atom(Kind), is_map(Map) ->
    case lists:member(Kind, linx_nft_exprs:kinds()) of
        true ->
            case linx_nl_attrs:encode({linx_nft_exprs, Kind}, Map) of
                {ok, Data} -> expr(atom_to_binary(Kind), iolist_to_binary(Data));
                {error, {bad_key, K}} -> throw({bad_expr, I, Expr, K});
                {error, {bad_value, K, _}} -> throw({bad_expr, I, Expr, K})
            end;
        false ->
            throw({bad_expr, I, Expr, kind})
    end;
encode_expr(_I, {Name, Data}) when is_binary(Name), byte_size(Name) > 0, is_binary(Data) ->
    expr(Name, Data);
encode_expr(I, Expr) ->
    throw({bad_expr, I, Expr, kind}).

%% An element of the list: the expression's name and data (none when
%% empty).
expr(Name, Data) ->
    {ok, Bin} = linx_nl_attrs:encode({?T, expr}, [{name, Name} | [{data, Data} || Data =/= <<>>]]),
    iolist_to_binary(Bin).

