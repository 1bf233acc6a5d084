%% @doc nf_tables (linx_nft) against real namespaces, with Debian's `nft'
%% as the oracle, both ways: a ruleset of every family, chain type and
%% expression kind made by linx is listed by `nft -j list ruleset' as the
%% same ruleset written as nft's text; what `nft -f' loads linx decodes
%% into the objects linx makes; an expression linx has no table for
%% comes back raw and goes back the same. Traffic: a drop rule made by
%% linx stops pings between two namespaces joined by veth, and deleting
%% it lets them through. Transactions: a batch whose last op the kernel
%% refuses leaves the ruleset exactly as it was, and the error names that
%% op; `replace' and `flush_ruleset'. Bad arguments name their field and
%% send nothing.
-module(linx_nft_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_nft/1, short_form_read_by_nft/1, text_read_by_nft/1, made_by_nft_read_by_linx/1,
         unknown_expression_raw/1,
         drop_rule_stops_pings/1, a_thousand_rules_in_one_batch/1, sets_both_ways/1, failed_batch_changes_nothing/1, replace_and_flush/1,
         bad_arguments_named/1, interval_ranges_both_ways/1, concat_ranges_both_ways/1]).

all() ->
    [made_by_linx_read_by_nft, short_form_read_by_nft, text_read_by_nft, made_by_nft_read_by_linx,
     unknown_expression_raw,
     drop_rule_stops_pings, a_thousand_rules_in_one_batch, sets_both_ways, failed_batch_changes_nothing, replace_and_flush,
     bad_arguments_named, interval_ranges_both_ways, concat_ranges_both_ways].

init_per_suite(Config) ->
    case linx_ct_ns:sh("nft --version") of
        {0, _} -> linx_ct_ns:start_if_netns(Config);
        _ -> linx_ct_ns:require(no_nft)
    end.

end_per_suite(_Config) ->
    ok.

%% Two namespaces of their own for each case.
init_per_testcase(_Case, Config) ->
    [A, B] = [linx_ct_ns:unique(P) || P <- ["linx-nft-a", "linx-nft-b"]],
    ok = linx_ct_ns:netns_add(A),
    ok = linx_ct_ns:netns_add(B),
    [{a, A}, {b, B} | Config].

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(a, Config)),
    linx_ct_ns:netns_del(?config(b, Config)).

in(Ns) -> #{in => {netns, list_to_binary(Ns)}}.

%% What linx makes, nft lists as the same ruleset written as nft's text.
made_by_linx_read_by_nft(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, linx_ct_nft:text()),
    ok = linx_nft:apply(linx_ct_nft:ops(), in(B)),
    Nft = linx_ct_nft:json(A),
    ct:log("nft: ~p", [Nft]),
    Nft = linx_ct_nft:json(B),
    %% Every object is there, rules of every expression kind included.
    true = length(Nft) > 30.

%% The rules written in the short form (`{match, tcp, dport, 22}',
%% `{random, 20}', `{dnat, Ip, Port}', ...) are nft's rules of the same
%% text too.
short_form_read_by_nft(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, linx_ct_nft:text()),
    true = linx_ct_nft:ops(short) =/= linx_ct_nft:ops(terms),
    ok = linx_nft:apply(linx_ct_nft:ops(short), in(B)),
    Nft = linx_ct_nft:json(A),
    Nft = linx_ct_nft:json(B).

%% The short form's statements given as nft's text (the rule's
%% `expressions' a string) make the same ruleset; text outside the
%% subset is refused with the word where reading stopped, and nothing
%% is sent.
text_read_by_nft(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, linx_ct_nft:text()),
    Texts = [E || {add, rule, #{expressions := E}} <- linx_ct_nft:ops(text), is_binary(E)],
    true = length(Texts) >= 10,
    ok = linx_nft:apply(linx_ct_nft:ops(text), in(B)),
    Nft = linx_ct_nft:json(A),
    Nft = linx_ct_nft:json(B),
    Table = {add, table, #{family => inet, name => <<"x">>}},
    Chain = {add, chain, #{family => inet, table => <<"x">>, name => <<"c">>}},
    Rule = fun(T) -> {add, rule, #{family => inet, table => <<"x">>, chain => <<"c">>, expressions => T}} end,
    {error, #{reason := {bad_op, #{index := 3, field := {text, 3, port}, value := <<"{">>}}}} =
        linx_nft:apply([Table, Chain, Rule(<<"tcp dport { 22, 80 } accept">>)], in(B)),
    {error, #{reason := {bad_op, #{index := 3, field := {text, 3, address}, value := <<"10.0.0.300">>}}}} =
        linx_nft:apply([Table, Chain, Rule("ip saddr 10.0.0.300 drop")], in(B)),
    InX = fun() ->
                  {ok, Rules} = linx_nft:rules(in(B)),
                  [R || #{table := <<"x">>} = R <- Rules]
          end,
    [] = InX(),
    ok = linx_nft:apply([Table, Chain, Rule("ip saddr 10.0.0.3 drop")], in(B)),
    [#{expressions := [_, _, _, _, _]}] = InX().

%% What nft loads, linx decodes into the objects linx makes, and the
%% rule of an anonymous set into its lookup.
made_by_nft_read_by_linx(Config) ->
    A = ?config(a, Config),
    _ = linx_ct_nft:nft(A, [linx_ct_nft:text(), linx_ct_nft:lookup_text()]),
    {ok, Ruleset} = linx_nft:ruleset(in(A)),
    ct:log("~p", [Ruleset]),
    #{tables := T, chains := C, rules := R} = linx_ct_nft:strip(Ruleset),
    #{tables := T, chains := C, rules := R0} = linx_ct_nft:objects(),
    %% The set's rule goes last in its chain, before the other chains'.
    {InRules, Others} = lists:partition(fun(#{chain := Ch}) -> Ch =:= <<"in">> end, R0),
    R = InRules ++ [linx_ct_nft:lookup_rule()] ++ Others.

%% An expression linx has no table for (exthdr, a TCP option) comes back
%% as `{Name, Data}', and a rule made of it by linx is the same rule.
unknown_expression_raw(Config) ->
    A = ?config(a, Config),
    _ = linx_ct_nft:nft(A, "table inet u {\n chain c {\n  tcp option maxseg size 1400 accept\n }\n"
                           " chain d {\n }\n}\n"),
    {ok, [#{expressions := Exprs}]} = linx_nft:rules(in(A)),
    ct:log("~p", [Exprs]),
    [{<<"exthdr">>, Raw} | _] = [E || {N, _} = E <- Exprs, is_binary(N)],
    true = is_binary(Raw) andalso byte_size(Raw) > 0,
    ok = linx_nft:rule_add(#{family => inet, table => <<"u">>, chain => <<"d">>,
                             expressions => Exprs}, in(A)),
    [#{<<"rule">> := #{<<"expr">> := Json}}, #{<<"rule">> := #{<<"expr">> := Json}}] =
        [O || #{<<"rule">> := _} = O <- linx_ct_nft:json(A)],
    {ok, [_, #{chain := <<"d">>, expressions := Exprs}]} = linx_nft:rules(in(A)).

%% A drop rule made by linx stops pings from the other namespace;
%% deleting it lets them through again.
drop_rule_stops_pings(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    Short = "nv" ++ integer_to_list(erlang:unique_integer([positive]) rem 1000000),
    [linx_ct_ns:sh_ok(C)
     || C <- [["ip link add ", Short, "a netns ", A, " type veth peer name ", Short, "b netns ", B],
              ["ip -n ", A, " addr add 10.77.0.1/24 dev ", Short, "a"],
              ["ip -n ", B, " addr add 10.77.0.2/24 dev ", Short, "b"],
              ["ip -n ", A, " link set ", Short, "a up"],
              ["ip -n ", B, " link set ", Short, "b up"]]],
    Ping = fun() -> element(1, linx_ct_ns:sh(["ip netns exec ", A, " ping -c 1 -W 2 10.77.0.2"])) end,
    0 = Ping(),
    Rule = #{family => inet, table => <<"f">>, chain => <<"in">>, comment => <<"no pings">>,
             expressions => [{meta, #{key => l4proto, dreg => 1}},
                             {cmp, #{sreg => 1, op => eq, data => #{value => <<1>>}}},
                             {counter, #{}},
                             {immediate, #{dreg => 0, data => #{verdict => #{code => drop}}}}]},
    ok = linx_nft:apply([{add, table, #{family => inet, name => <<"f">>}},
                         {add, chain, #{family => inet, table => <<"f">>, name => <<"in">>,
                                        type => filter, hook => input, priority => 0,
                                        policy => accept}},
                         {add, rule, Rule}], in(B)),
    1 = Ping(),
    {ok, [#{handle := H, expressions := [_, _, {counter, #{packets := N}}, _]} = Made]} =
        linx_nft:rules(in(B)),
    true = N >= 1,
    ok = linx_nft:rule_del(maps:with([family, table, chain, handle], Made), in(B)),
    {ok, []} = linx_nft:rules(in(B)),
    true = is_integer(H),
    0 = Ping().

%% Sets and maps of each key type, a concatenation and a verdict map:
%% what linx makes nft lists as the same text loaded by nft, and what nft
%% loads linx decodes into the elements linx made; an element's timeout
%% comes back with its expiration.
sets_both_ways(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, linx_ct_nft:sets_text()),
    ok = linx_nft:apply(linx_ct_nft:sets_ops(), in(B)),
    Nft = linx_ct_nft:json(A),
    ct:log("~p", [Nft]),
    Nft = linx_ct_nft:json(B),
    {ok, Sets} = linx_nft:sets(in(A)),
    Want = linx_ct_nft:sets_decoded(),
    Want = [(maps:with(maps:keys(W), S))#{elements := lists:sort(Es)}
            || {W, #{elements := Es} = S} <- lists:zip(Want, Sets)],
    ok = linx_nft:apply([{add, set, #{family => inet, table => <<"s">>, name => <<"t">>,
                                      key => inet_service, flags => [timeout]}},
                         {add, element, #{family => inet, table => <<"s">>, set => <<"t">>,
                                          key => inet_service,
                                          elements => [#{key => 22, timeout => 60000}]}}],
                        in(A)),
    {ok, #{sets := All}} = linx_nft:ruleset(in(A)),
    [[#{key := 22, timeout := 60000, expiration := Left}]] =
        [Es || #{name := <<"t">>, elements := Es} <- All],
    true = Left > 0 andalso Left =< 60000.

%% Interval sets (and a map) with ranges: what linx makes of `{From, To}' and single
%% values (with `interval => true') nft lists as the same text loaded by
%% nft (a prefix, a range, an address, ports up to the last one), and
%% linx decodes both into those ranges; a range whose end comes before
%% its start is refused.
interval_ranges_both_ways(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, "table ip iv {\n"
                           "  set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, "
                           "192.168.1.1-192.168.1.10, 172.16.0.5 }; }\n"
                           "  set p { type inet_service; flags interval; elements = { 0-1023, 8080, "
                           "60000-65535 }; }\n"
                           "  map m { type inet_service : verdict; flags interval; elements = { "
                           "0-1023 : accept, 8080 : drop }; }\n}\n"),
    Addrs = [{{10, 0, 0, 0}, {10, 255, 255, 255}}, {172, 16, 0, 5}, {{192, 168, 1, 1}, {192, 168, 1, 10}}],
    Ports = [{0, 1023}, 8080, {60000, 65535}],
    Set = fun(Name, Key, Elems) ->
                  [{add, set, #{family => ip, table => <<"iv">>, name => Name, key => Key,
                                flags => [interval]}},
                   {add, element, #{family => ip, table => <<"iv">>, set => Name, key => Key,
                                    interval => true, elements => Elems}}]
          end,
    ok = linx_nft:apply([{add, table, #{family => ip, name => <<"iv">>}}
                         | Set(<<"s">>, ipv4_addr, Addrs) ++ Set(<<"p">>, inet_service, Ports)
                         ++ [{add, set, #{family => ip, table => <<"iv">>, name => <<"m">>,
                                          key => inet_service, data => verdict, flags => [interval]}},
                             {add, element, #{family => ip, table => <<"iv">>, set => <<"m">>,
                                              key => inet_service, data => verdict, interval => true,
                                              elements => [{{0, 1023}, accept}, {8080, drop}]}}]],
                        in(B)),
    Nft = linx_ct_nft:json(A),
    ct:log("~p", [Nft]),
    Nft = linx_ct_nft:json(B),
    [begin
         {ok, Sets} = linx_nft:sets(in(Ns)),
         [Addrs] = [[K || #{key := K} <- Es] || #{name := <<"s">>, elements := Es} <- Sets],
         [Ports] = [[K || #{key := K} <- Es] || #{name := <<"p">>, elements := Es} <- Sets],
         [[{{0, 1023}, accept}, {8080, drop}]] =
             [[{K, D} || #{key := K, data := D} <- Es] || #{name := <<"m">>, elements := Es} <- Sets]
     end || Ns <- [A, B]],
    {error, #{reason := {bad_op, #{index := 1, field := {elements, 1}}}}} =
        linx_nft:apply(tl(Set(<<"p">>, inet_service, [{80, 22}])), in(B)).

%% Interval sets and maps of a concatenation, with a range in any field:
%% what linx makes nft lists as the same text loaded by nft (a prefix
%% and a port range, one address and port; an IPv6 prefix, a port range
%% and an interface name mapped to a verdict), and linx decodes both
%% into those keys. Deleting an element by its ranges removes it alone;
%% a field's range whose end comes before its start is refused.
concat_ranges_both_ways(Config) ->
    A = ?config(a, Config),
    B = ?config(b, Config),
    _ = linx_ct_nft:nft(A, "table inet cc {\n"
                           "  set s { type ipv4_addr . inet_service; flags interval; elements = { "
                           "10.0.0.0/8 . 22-25, 192.168.1.1 . 80 }; }\n"
                           "  map m { type ipv6_addr . inet_service . ifname : verdict; flags interval; "
                           "elements = { fd00::/120 . 1000-2000 . \"eth0\" : drop, "
                           "fd00::1 . 80 . \"lo\" : accept }; }\n}\n"),
    V4 = [ipv4_addr, inet_service],
    V6 = [ipv6_addr, inet_service, ifname],
    Keys = [[{{10, 0, 0, 0}, {10, 255, 255, 255}}, {22, 25}], [{192, 168, 1, 1}, 80]],
    Map = [{[{{16#fd00, 0, 0, 0, 0, 0, 0, 0}, {16#fd00, 0, 0, 0, 0, 0, 0, 255}}, {1000, 2000}, <<"eth0">>], drop},
           {[{16#fd00, 0, 0, 0, 0, 0, 0, 1}, 80, <<"lo">>], accept}],
    Elems = fun(Op, Set, Key, Data, Es) ->
                    {Op, element, maps:merge(#{family => inet, table => <<"cc">>, set => Set, key => Key,
                                               interval => true, elements => Es}, Data)}
            end,
    ok = linx_nft:apply([{add, table, #{family => inet, name => <<"cc">>}},
                         {add, set, #{family => inet, table => <<"cc">>, name => <<"s">>, key => V4,
                                      flags => [interval]}},
                         Elems(add, <<"s">>, V4, #{}, Keys),
                         {add, set, #{family => inet, table => <<"cc">>, name => <<"m">>, key => V6,
                                      data => verdict, flags => [interval]}},
                         Elems(add, <<"m">>, V6, #{data => verdict}, Map)], in(B)),
    Nft = linx_ct_nft:json(A),
    ct:log("~p", [Nft]),
    Nft = linx_ct_nft:json(B),
    Decoded = fun(Ns) ->
                      {ok, Sets} = linx_nft:sets(in(Ns)),
                      maps:from_list([{N, [case E of
                                               #{data := D} -> {K, D};
                                               _ -> K
                                           end || #{key := K} = E <- Es]}
                                      || #{name := N, elements := Es} <- Sets])
              end,
    #{<<"s">> := Keys, <<"m">> := Map} = Decoded(A),
    #{<<"s">> := Keys, <<"m">> := Map} = Decoded(B),
    {ok, [#{flags := Flags, desc := #{concat := [4, 2]}} | _]} = linx_nft:sets(in(B)),
    true = lists:member(concat, Flags),
    ok = linx_nft:apply([Elems(delete, <<"s">>, V4, #{}, [hd(Keys)])], in(B)),
    #{<<"s">> := [[{192, 168, 1, 1}, 80]]} = Decoded(B),
    {error, #{reason := {bad_op, #{index := 1, field := {elements, 1}}}}} =
        linx_nft:apply([Elems(add, <<"s">>, V4, #{}, [[{192, 168, 1, 1}, {25, 22}]])], in(B)),
    #{<<"s">> := [[{192, 168, 1, 1}, 80]]} = Decoded(B).

%% A thousand rules (about 450 KiB, more than a netlink socket's send
%% buffer holds at first) go in one batch, and nft lists each.
a_thousand_rules_in_one_batch(Config) ->
    A = ?config(a, Config),
    Rules = [{add, rule, #{family => inet, table => <<"b">>, chain => <<"c">>,
                           expressions => [{match, ip, saddr, {10, 0, I div 256, I rem 256}},
                                           {match, tcp, dport, 1000 + I}, counter, drop]}}
             || I <- lists:seq(1, 1000)],
    ok = linx_nft:apply([{add, table, #{family => inet, name => <<"b">>}},
                         {add, chain, #{family => inet, table => <<"b">>, name => <<"c">>}}
                         | Rules], in(A)),
    {ok, Dumped} = linx_nft:rules(in(A)),
    1000 = length(Dumped),
    1000 = length([R || #{<<"rule">> := R} <- linx_ct_nft:json(A)]).

%% A batch whose last op the kernel refuses changes nothing: `nft -j
%% list ruleset' is the same before and after, and the error names that
%% op by its place and itself, with the kernel's errno.
failed_batch_changes_nothing(Config) ->
    A = ?config(a, Config),
    _ = linx_ct_nft:nft(A, linx_ct_nft:text()),
    Before = linx_ct_nft:json(A),
    Bad = {add, rule, #{family => inet, table => <<"new">>, chain => <<"missing">>,
                        expressions => [{counter, #{}}]}},
    Ops = [{add, table, #{family => inet, name => <<"new">>}},
           {add, chain, #{family => inet, table => <<"new">>, name => <<"c">>}},
           {add, rule, #{family => inet, table => <<"new">>, chain => <<"c">>,
                         expressions => [{counter, #{}}]}},
           {delete, table, #{family => ip, name => <<"t4">>}},
           {flush, table, #{family => inet, name => <<"t">>}},
           Bad],
    {error, #{stage := netlink, errno := enoent, index := 6, op := Bad,
              in := {netns, _}} = E} = linx_nft:apply(Ops, in(A)),
    Before = linx_ct_nft:json(A),
    Line = linx:format_error({error, E}),
    ct:log("~s", [Line]),
    {match, _} = re:run(Line, "linx_nft:apply: nf_tables op 6 .*missing.* failed: enoent"),
    %% The same ops without the bad one are made, all of them.
    ok = linx_nft:apply(lists:droplast(Ops), in(A)),
    {ok, Tables} = linx_nft:tables(in(A)),
    [<<"new">>, <<"t">>, <<"t6">>] =
        lists:sort([N || #{name := N, family := F} <- Tables, F =:= inet orelse F =:= ip6
                                                                  orelse F =:= ip]).

%% `replace' makes a table again, empty, and fills it, in one batch;
%% `flush_ruleset' leaves nothing; `flush' of a chain or table removes
%% its rules only.
replace_and_flush(Config) ->
    A = ?config(a, Config),
    In = in(A),
    T = #{family => inet, name => <<"r">>},
    Fill = fun(Name) ->
                   [{add, chain, #{family => inet, table => <<"r">>, name => Name}},
                    {add, rule, #{family => inet, table => <<"r">>, chain => Name,
                                  expressions => [{counter, #{}}]}}]
           end,
    ok = linx_nft:replace(T, Fill(<<"one">>), In),
    ok = linx_nft:replace(T#{comment => <<"again">>}, Fill(<<"two">>), In),
    {ok, #{tables := [#{name := <<"r">>, comment := <<"again">>}],
           chains := [#{name := <<"two">>}], rules := [#{chain := <<"two">>}]}} =
        linx_nft:ruleset(In),
    ok = linx_nft:apply([{flush, chain, #{family => inet, table => <<"r">>, name => <<"two">>}}], In),
    {ok, #{chains := [_], rules := []}} = linx_nft:ruleset(In),
    ok = linx_nft:apply(Fill(<<"three">>) ++ [{flush, table, T}], In),
    {ok, #{chains := [_, _], rules := []}} = linx_nft:ruleset(In),
    ok = linx_nft:flush_ruleset(In),
    {ok, #{tables := [], chains := [], rules := []}} = linx_nft:ruleset(In),
    [] = linx_ct_nft:json(A).

%% Bad arguments are refused before anything is sent, each naming its
%% op's place and field in the error and its one line.
bad_arguments_named(Config) ->
    A = ?config(a, Config),
    In = in(A),
    Good = {add, table, #{family => inet, name => <<"t">>}},
    Chain = #{family => inet, table => <<"t">>, name => <<"c">>, type => filter, hook => input,
              priority => 0},
    Rule = fun(Exprs) -> {add, rule, #{family => inet, table => <<"t">>, chain => <<"c">>,
                                       expressions => Exprs}} end,
    Cases = [{{add, chain, Chain#{priority => high}}, priority, "priority"},
             {{add, chain, Chain#{hook => nowhere}}, hook, "hook"},
             {{add, chain, Chain#{policy => maybe}}, policy, "policy"},
             {{add, table, #{family => inet, name => <<"t">>, colour => red}}, colour, "colour"},
             {{add, table, #{family => ipx, name => <<"t">>}}, family, "family"},
             {{add, table, #{family => inet, name => 42}}, name, "name"},
             {{add, chain, maps:remove(family, Chain)}, family, "family"},
             {Rule([{meta, #{key => l4proto, dreg => 1}}, {cmp, #{sreg => 1, op => around}}]),
              {expressions, 2, op}, "expressions,2,op"},
             {Rule([{bogus, #{}}]), {expressions, 1, kind}, "expressions,1,kind"},
             {Rule([{meta, #{key => l4proto, dreg => -1}}]), {expressions, 1, dreg}, "dreg"},
             {Rule(notalist), expressions, "expressions"},
             {Rule([{match, tcp, dport, 70000}]), {expressions, 1, dport}, "dport"},
             {Rule([counter, {ct, state, [sleepy]}]), {expressions, 2, state}, "state"},
             {Rule([{random, 120}]), {expressions, 1, percent}, "percent"},
             {Rule([{dnat, not_an_ip, 80}]), {expressions, 1, address}, "address"},
             {{frob, table, #{}}, op, "op"},
             %% Without these, a delete or flush would reach more than
             %% one object: every inet table, every rule of the chain.
             {{delete, table, #{family => inet}}, name, "name"},
             {{delete, rule, #{family => inet, table => <<"t">>, chain => <<"c">>}}, handle,
              "handle"},
             {{flush, chain, #{family => inet, table => <<"t">>}}, name, "name"},
             {{add, rule, #{family => inet, table => <<"t">>, expressions => []}}, chain, "chain"},
             {{add, rule, #{family => inet, table => <<"t">>, chain => <<"c">>, comment => 42}},
              comment, "comment"}],
    [check_bad(In, Good, Op, Field, Text) || {Op, Field, Text} <- Cases],
    {error, #{reason := {bad_ops, nope}}} = linx_nft:apply(nope, In),
    {error, #{reason := {bad_option, {colour, red}}}} = linx_nft:ruleset(In#{colour => red}),
    {ok, #{tables := []}} = linx_nft:ruleset(In).

check_bad(In, Good, Op, Field, Text) ->
    {error, #{reason := {bad_op, #{index := 2, op := Op, field := Field}}}} = E =
        linx_nft:apply([Good, Op], In),
    Line = linx:format_error(E),
    ct:log("~s", [Line]),
    {match, _} = re:run(Line, ["^linx_nft:apply: invalid nf_tables op 2 .*", re_quote(Text)]),
    1 = length(binary:split(Line, <<"\n">>, [global])).

re_quote(Text) ->
    re:replace(Text, "[][(){}.*+?^$|\\\\]", "\\\\&", [global, {return, list}]).
