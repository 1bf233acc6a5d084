%% @private
%% The rule ops of a batch (add, insert, replace) as messages, made from
%% a template: the rules of a large batch mostly differ in their
%% expressions only (same family, table and chain), and everything else
%% about their message (its checks, its attributes) is then the same.
%% Within {@link linx_nft_expr_encode:with_expr_cache/1}, the first two
%% ops of each such kind are encoded by {@link linx_nft_msg:encode_op/1}
%% (the second once more, with other expressions, to find and check
%% where the expressions go); the others take the bytes of the template
%% before and after their own expressions. Any other op, and every op
%% outside the cache, is linx_nft_msg's. The result is the same message,
%% or the same error.
-module(linx_nft_rule_msg).

-export([encode_op/1]).

%% @doc {@link linx_nft_msg:encode_op/1}, a rule's message from its
%% template when there is one.
-spec encode_op(term()) ->
          {ok, {0..16#ffff, 0..16#ffff, iodata()}} | {error, {atom(), term(), term()}}.
encode_op({Verb, rule, #{expressions := Exprs} = Map} = Op)
  when Verb =:= add orelse Verb =:= insert orelse Verb =:= replace, is_list(Exprs) ->
    Key = {rule, Verb, maps:remove(expressions, Map)},
    case linx_nft_expr_encode:cache_find(Key) of
        {ok, {Type, Flags, Family, Pre, AttrType, Post}} ->
            case linx_nft_msg:rule_exprs(Family, Exprs) of
                {ok, Bin} when byte_size(Bin) =< 16#ffff - 4 ->
                    {ok, {Type, Flags, <<Pre/binary, (4 + byte_size(Bin)):16/native,
                                         AttrType:16/native, Bin/binary, Post/binary>>}};
                {ok, _TooLong} ->
                    linx_nft_msg:encode_op(Op);
                {error, _} = Error ->
                    Error
            end;
        {ok, once} ->
            %% The second of its kind: worth a template.
            Result = linx_nft_msg:encode_op(Op),
            ok = linx_nft_expr_encode:cache_put(Key, template(Verb, Map, Result)),
            Result;
        {ok, none} ->
            linx_nft_msg:encode_op(Op);
        error ->
            ok = linx_nft_expr_encode:cache_put(Key, once),
            linx_nft_msg:encode_op(Op);
        undefined ->
            linx_nft_msg:encode_op(Op)
    end;
encode_op(Op) ->
    linx_nft_msg:encode_op(Op).

%% The template of the rule ops `{Verb, rule, Map}' (any expressions),
%% from the message of one of them, `Result': the message's type and
%% flags, the family its expressions are compiled for, and its payload
%% before and after the expressions' attribute (and that attribute's
%% type); `none' when those ops do not encode, or a trial with other
%% expressions does not fit the same template.
template(Verb, #{expressions := Exprs} = Map, Result) ->
    Family = linx_nft_msg:rule_family(Map),
    case Family =/= error andalso {Result, linx_nft_msg:rule_exprs(Family, Exprs)} of
        {{ok, {Type, Flags, P1}}, {ok, X1}} ->
            %% Expressions of another size, so that the two attributes
            %% differ from their length on.
            Trial = case byte_size(X1) of
                        12 -> [{<<"a">>, <<0:32>>}];
                        _ -> [{<<"a">>, <<>>}]
                    end,
            case {linx_nft_msg:encode_op({Verb, rule, Map#{expressions := Trial}}),
                  linx_nft_msg:rule_exprs(Family, Trial)} of
                {{ok, {Type, Flags, P2}}, {ok, X2}} ->
                    split(Type, Flags, Family, {iolist_to_binary(P1), X1},
                          {iolist_to_binary(P2), X2});
                _ ->
                    none
            end;
        _ ->
            none
    end.

%% The template of two payloads and their expressions' bytes: they
%% agree up to the expressions' attribute, which starts 4-aligned (the
%% payload is a 4-byte header and attributes), and after it.
split(Type, Flags, Family, {One, X1}, {Two, X2}) ->
    PreSize = binary:longest_common_prefix([One, Two]) band (bnot 3),
    PostSize = byte_size(One) - PreSize - 4 - byte_size(X1),
    case PostSize >= 0 andalso One of
        <<Pre:PreSize/binary, _:16, AttrType:16/native, X1:(byte_size(X1))/binary,
          Post:PostSize/binary>> ->
            case <<Pre/binary, (4 + byte_size(X2)):16/native, AttrType:16/native, X2/binary,
                   Post/binary>> of
                Two -> {Type, Flags, Family, Pre, AttrType, Post};
                _ -> none
            end;
        _ ->
            none
    end.
