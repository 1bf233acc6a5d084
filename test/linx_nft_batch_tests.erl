%% @doc The fast paths of a large nf_tables batch give the bytes and the
%% errors of the general ones: a map of attributes written straight into
%% a binary (linx_nl_attrs_enc) is what the attribute terms encode to, or
%% the general path's error; expressions cached as templates and rules
%% made from templates (linx_nft_call:encode/1) are the messages each op
%% makes alone, and a bad op among a thousand is named by its place; a
%% batch's bytes are those of linx_nl_codec's messages.
-module(linx_nft_batch_tests).

-include_lib("eunit/include/eunit.hrl").

%% What the general path makes of `Map' with `Table': the attribute terms
%% encoded, or its error.
general(Table, Map) ->
    case linx_nl_attrs:attrs(Table, Map) of
        {ok, Attrs} -> {ok, iolist_to_binary(linx_nl_codec:encode_attrs(Attrs))};
        {error, _} = Error -> Error
    end.

encoded(Table, Map) ->
    case linx_nl_attrs:encode(Table, Map) of
        {ok, IoData} -> {ok, iolist_to_binary(IoData)};
        {error, _} = Error -> Error
    end.

%% Every expression of linx_ct_nft's ruleset, and every rtnetlink and
%% nf_tables map that takes the fast path, encodes to the general path's
%% bytes.
same_bytes_test_() ->
    #{rules := Rules} = linx_ct_nft:objects(),
    Exprs = [{{linx_nft_exprs, K}, M} || #{expressions := Es} <- Rules, {K, M} <- Es, is_atom(K)],
    Rtnl = [{{linx_rtnl_tables, link}, #{ifname => <<"br.100">>, mtu => 1400, txqlen => 5,
                                         address => <<2, 0, 0, 0, 0, 1>>,
                                         linkinfo => #{kind => <<"bridge">>}}},
            {{linx_rtnl_tables, route}, #{table => 254, dst => {10, 0, 0, 0}, oif => 3,
                                          priority => 7}}],
    Nft = [{{linx_nft_tables, chain}, #{table => <<"t">>, name => <<"c">>, policy => drop,
                                        type => nat, hook => #{hooknum => 1, priority => -100},
                                        flags => [base]}},
           {{linx_nft_tables, set}, #{table => <<"t">>, name => <<"s">>, flags => [interval],
                                      key_type => 7, key_len => 4, desc => #{size => 9}}}],
    [?_assertEqual(general(T, M), encoded(T, M)) || {T, M} <- Exprs ++ Rtnl ++ Nft].

%% A map the fast path does not take whole gives the general path's
%% bytes or error: keys the table does not name, attribute numbers,
%% values out of range or of the wrong kind, a flag that is false.
fallback_test_() ->
    Cmp = {linx_nft_exprs, cmp},
    Cases = [{Cmp, #{sreg => 1, colour => red}}, {Cmp, #{sreg => 1, 7 => <<1, 2, 3, 4>>}},
             {Cmp, #{sreg => -1}}, {Cmp, #{sreg => 1 bsl 32}}, {Cmp, #{op => around}},
             {Cmp, #{data => #{value => not_a_binary}}}, {Cmp, #{data => [{value, <<1>>}]}},
             {{linx_nft_exprs, verdict}, #{code => -5}},
             {{linx_nft_exprs, verdict}, #{code => 1 bsl 31}},
             {{linx_nft_exprs, log}, #{prefix => "a list", flags => [tcpseq, nope]}},
             {{linx_nft_tables, table}, #{name => <<"t">>, flags => 3}},
             {{linx_rtnl_tables, link}, #{ifname => 42}},
             {{linx_rtnl_tables, link}, #{address => "02:00:5e:10:00:01"}}],
    [?_assertEqual(general(T, M), encoded(T, M)) || {T, M} <- Cases] ++
        [?_assertEqual(error, linx_nl_attrs_enc:encode(T, M, fun linx_nl_attrs:encode_value/2)) || {T, M} <- lists:sublist(Cases, 6)].

rule(Chain, Exprs) ->
    {add, rule, #{family => inet, table => <<"t">>, chain => Chain, expressions => Exprs}}.

%% Ops of every kind the templates meet: rules of two chains and three
%% verbs, with comments, positions and handles, values of many sizes,
%% expressions as terms and raw, a family given by its number.
mixed_ops() ->
    Base = [{add, table, #{family => inet, name => <<"t">>}},
            {add, chain, #{family => inet, table => <<"t">>, name => <<"a">>}},
            {add, chain, #{family => inet, table => <<"t">>, name => <<"b">>}}],
    Rules = [case I rem 9 of
                 0 -> rule(<<"a">>, [{match, ip, saddr, {10, 0, I div 256, I rem 256}}, accept]);
                 1 -> rule(<<"b">>, [{match, ip6, daddr, {{16#fd00, 0, 0, 0, 0, 0, 0, I}, 64}},
                                     drop]);
                 2 -> rule(<<"a">>, [{match, tcp, dport, {I, I + 10}}, counter, {jump, <<"b">>}]);
                 3 -> {insert, rule, #{family => inet, table => <<"t">>, chain => <<"a">>,
                                       position => I, expressions => [{match, udp, sport, I}]}};
                 4 -> {replace, rule, #{family => 1, table => <<"t">>, chain => <<"b">>,
                                        handle => I, expressions => [{dnat, {10, 1, 0, I rem 256}, I}]}};
                 5 -> {add, rule, #{family => inet, table => <<"t">>, chain => <<"a">>,
                                    comment => <<"rule ", (integer_to_binary(I))/binary>>,
                                    expressions => [{match, meta, mark, I}, {log, <<"m">>}]}};
                 6 -> rule(<<"b">>, [{cmp, #{sreg => 1, op => eq, data => #{value => <<I:24>>}}},
                                     {<<"exthdr">>, <<8:16/native, 1:16/native, I:32/big>>}]);
                 7 -> rule(<<"a">>, [{match, meta, iifname, <<"veth", (integer_to_binary(I))/binary>>},
                                     {random, I rem 100}, {redirect, I}]);
                 8 -> rule(<<"b">>, [{match, ip, daddr, {{10, I rem 256, 0, 0}, 12}}, reject])
             end || I <- lists:seq(1, 300)],
    Base ++ Rules.

%% The messages of each op encoded alone, outside any cache.
alone(Ops) ->
    [{T, F, iolist_to_binary(P)} || O <- Ops, {ok, {T, F, P}} <- [linx_nft_msg:encode_op(O)]].

batch_encoded(Ops) ->
    {ok, Msgs} = linx_nft_call:encode(Ops),
    [{T, F, iolist_to_binary(P)} || {T, F, P} <- Msgs].

templates_same_messages_test_() ->
    Ops = mixed_ops(),
    [?_assertEqual(length(Ops), length(alone(Ops))),
     %% In parallel parts (300 ops and more) and in one (fewer).
     ?_assertEqual(alone(Ops), batch_encoded(Ops)),
     ?_assertEqual(alone(lists:sublist(Ops, 150)), batch_encoded(lists:sublist(Ops, 150)))].

%% A thousand rules of one chain, then one of them bad: the error
%% encode_op gives for it alone, under its place in the list, whether its
%% expressions or its other keys are wrong.
template_errors_test_() ->
    Rules = [rule(<<"c">>, [{match, ip, saddr, {10, 0, I div 250, I rem 250}},
                            {match, tcp, dport, I}, counter, accept])
             || I <- lists:seq(1, 1000)],
    Ops = [{add, table, #{family => inet, name => <<"t">>}},
           {add, chain, #{family => inet, table => <<"t">>, name => <<"c">>}} | Rules],
    With = fun(Bad) -> lists:sublist(Ops, 701) ++ [Bad] ++ lists:nthtail(702, Ops) end,
    {add, rule, Map} = lists:nth(702, Ops),
    Bads = [{add, rule, Map#{expressions := [counter, {match, tcp, dport, 70000}]}},
            {add, rule, Map#{expressions := [{cmp, #{sreg => 1, op => around}}]}},
            {add, rule, Map#{expressions := nope}},
            {add, rule, Map#{comment => 42}},
            {add, rule, Map#{family => nope}}],
    [begin
         {error, {Object, Field, Value}} = linx_nft_msg:encode_op(Bad),
         ?_assertEqual({error, {bad_op, #{index => 702, op => Bad, object => Object,
                                          field => Field, value => Value}}},
                       linx_nft_call:encode(With(Bad)))
     end || Bad <- Bads].

%% A batch is its begin message, the ops' messages (the last one asking
%% for an ack) and its end message, numbered from `Seq', as
%% linx_nl_codec encodes each.
batch_bytes_test_() ->
    Msgs = batch_encoded(lists:sublist(mixed_ops(), 40)),
    Oracle = fun(Ms, Seq) ->
                     Marker = fun(Type, S) -> #{type => Type, flags => 1, seq => S,
                                                payload => <<0, 0, 10:16/big>>} end,
                     Last = length(Ms),
                     Inner = [#{type => T, seq => Seq + I, payload => P,
                                flags => F bor 1 bor (case I of Last -> 4; _ -> 0 end)}
                              || {I, {T, F, P}} <- lists:enumerate(Ms)],
                     iolist_to_binary([linx_nl_codec:encode(M)
                                       || M <- [Marker(16, Seq)] ++ Inner
                                              ++ [Marker(17, Seq + Last + 1)]])
             end,
    [?_assertEqual(Oracle(M, S), linx_nft_msg:batch(M, S))
     || M <- [Msgs, lists:sublist(Msgs, 1), []], S <- [1, 77]].
