%% @doc linx_nft_msg without a kernel: every object of linx_ct_nft's
%% ruleset encodes to a message whose payload decodes back to it; an
%% unknown expression and an unknown attribute come back raw; payloads
%% cut short or with bytes changed decode to a value or an error, never
%% an exception; a long list of ops encoded in parallel parts gives the
%% same messages, and a bad op is named by its place in the whole list.
-module(linx_nft_msg_tests).

-include_lib("eunit/include/eunit.hrl").

%% The payload of the message an op makes.
payload(Op) ->
    {ok, {_Type, _Flags, Payload}} = linx_nft_msg:encode_op(Op),
    iolist_to_binary(Payload).

objects() ->
    #{tables := T, chains := C, rules := R} = linx_ct_nft:objects(),
    [{table, X} || X <- T] ++ [{chain, X} || X <- C] ++ [{rule, X} || X <- R].

round_trip_test_() ->
    [?_assertEqual({ok, X}, linx_nft_msg:decode_object(Kind, payload({add, Kind, X})))
     || {Kind, X} <- objects()].

unknown_expression_and_attribute_raw_test() ->
    Raw = {<<"exthdr">>, <<8:16/native, 1:16/native, 1:32/big>>},
    Rule = #{family => inet, table => <<"t">>, chain => <<"c">>,
             expressions => [Raw, {counter, #{bytes => 1, packets => 2}}]},
    P = payload({add, rule, Rule}),
    ?assertEqual({ok, Rule}, linx_nft_msg:decode_object(rule, P)),
    %% An attribute no table names (NFTA_RULE 30) is kept with its type.
    Extra = <<8:16/native, 30:16/native, 7:32>>,
    ?assertEqual({ok, Rule#{unknown => [{30, <<7:32>>}]}},
                 linx_nft_msg:decode_object(rule, <<P/binary, Extra/binary>>)).

verdicts_test_() ->
    [?_assertMatch({ok, #{expressions := [{immediate, #{data := #{verdict := V}}}]}},
                   linx_nft_msg:decode_object(
                     rule, payload({add, rule, #{family => ip, table => <<"t">>, chain => <<"c">>,
                                                 expressions => [{immediate, #{dreg => 0,
                                                                               data => #{verdict => V}}}]}})))
     || V <- [#{code => C} || C <- [accept, drop, continue, return, queue, break]]
            ++ [#{code => jump, chain => <<"x">>}, #{code => goto, chain => <<"y">>}]].

never_raises_test() ->
    rand:seed(exsss, {29, 1, 1}),
    Payloads = [{K, payload({add, K, X})} || {K, X} <- objects()],
    [begin
         Bad = mangle(P),
         ?assertMatch({Tag, _} when Tag =:= ok; Tag =:= error,
                      catch_all(fun() -> linx_nft_msg:decode_object(K, Bad) end))
     end || {K, P} <- Payloads, _ <- lists:seq(1, 200)],
    ok.

%% `P' cut short, or with a few bytes changed.
mangle(P) ->
    case rand:uniform(2) of
        1 -> binary:part(P, 0, rand:uniform(byte_size(P)) - 1);
        2 -> lists:foldl(fun(_, B) ->
                                 I = rand:uniform(byte_size(B)) - 1,
                                 <<H:I/binary, _, T/binary>> = B,
                                 <<H/binary, (rand:uniform(256) - 1), T/binary>>
                         end, P, lists:seq(1, rand:uniform(4)))
    end.

catch_all(Fun) ->
    try Fun() catch Class:Reason -> {raised, {Class, Reason}} end.

%% Each short form compiles to the expressions nft makes of the same
%% text (linx_ct_nft has both); a counter's zero values left out.
short_form_test_() ->
    #{rules := Terms} = linx_ct_nft:objects(terms),
    #{rules := Short} = linx_ct_nft:objects(short),
    Plain = fun(Es) -> [case E of {counter, _} -> counter; _ -> E end || E <- Es] end,
    [?_assertEqual({ok, Plain(T)}, compiled(S)) || {#{expressions := T}, #{expressions := S}}
                                                       <- lists:zip(Terms, Short), T =/= S].

compiled(Statements) ->
    case linx_nft_rule:compile(inet, Statements) of
        {ok, Indexed} -> {ok, [E || {_, E} <- Indexed]};
        Error -> Error
    end.

short_form_errors_test_() ->
    [?_assertEqual({error, {I, S, Key}}, linx_nft_rule:compile(inet, lists:duplicate(I - 1, drop) ++ [S]))
     || {I, S, Key} <- [{1, {match, tcp, dport, 70000}, dport}, {2, {ct, state, [sleepy]}, state},
                        {1, {random, 101}, percent}, {3, {dnat, {1, 2, 3}, 80}, address},
                        {1, {match, ip, daddr, {{10, 0, 0, 0}, 33}}, daddr},
                        {1, {match, meta, oifname, <<"sixteen-bytes-xx">>}, oifname},
                        {2, {match, tcp, dport, {around, 1}}, op}, {1, {limit, 5, fortnight}, unit},
                        {1, {frob}, statement}, {1, {match, sctp, dport, 1}, field}]].

%% A set's types and a map's elements round-trip through their messages.
set_round_trip_test_() ->
    Set = #{family => inet, table => <<"s">>, name => <<"m">>, key => [ipv4_addr, inet_service],
            data => verdict},
    {ok, S} = linx_nft_msg:decode_object(set, payload({add, set, Set})),
    Elems = [{[{10, 0, 0, 1}, 22], accept}, {[{10, 0, 0, 2}, 80], {jump, <<"x">>}}],
    {ok, L} = linx_nft_msg:decode_object(
                element, payload({add, element, #{family => inet, table => <<"s">>, set => <<"m">>,
                                                  key => [ipv4_addr, inet_service], data => verdict,
                                                  elements => Elems}})),
    [?_assertMatch(#{key := [ipv4_addr, inet_service], data := verdict, flags := [map],
                     key_len := 8}, S),
     ?_assertEqual([#{key => K, data => D} || {K, D} <- Elems],
                   linx_nft_set:decode_elements(maps:get(elements, L), S)),
     ?_assertEqual({error, {element, {elements, 2}, 70000}},
                   linx_nft_msg:encode_op({add, element, #{family => inet, table => <<"s">>,
                                                           set => <<"p">>, key => inet_service,
                                                           elements => [1, 70000]}})),
     ?_assertEqual({error, {set, key, nosuchtype}},
                   linx_nft_msg:encode_op({add, set, Set#{key => nosuchtype}}))].

%% A long list of ops, encoded in parts (linx_nft_call:encode/1), gives
%% the messages encoding them one by one gives, and a bad op in a later
%% part is named by its place in the whole list.
parts_test() ->
    Rule = fun(I) -> {add, rule, #{family => inet, table => <<"t">>, chain => <<"c">>,
                                   expressions => [{match, tcp, dport, I}, counter, accept]}}
           end,
    Ops = [Rule(I) || I <- lists:seq(1, 450)],
    {ok, Msgs} = linx_nft_call:encode(Ops),
    ?assertEqual([{T, F, iolist_to_binary(P)} || O <- Ops, {ok, {T, F, P}} <- [linx_nft_msg:encode_op(O)]],
                 [{T, F, iolist_to_binary(P)} || {T, F, P} <- Msgs]),
    Bad = lists:sublist(Ops, 399) ++ [Rule(70000)] ++ lists:nthtail(400, Ops),
    ?assertMatch({error, {bad_op, #{index := 400, field := {expressions, 1, dport}}}},
                 linx_nft_call:encode(Bad)),
    ?assertMatch({error, {bad_op, #{index := 3}}},
                 linx_nft_call:encode([Rule(1), Rule(2), nope | Ops])).
