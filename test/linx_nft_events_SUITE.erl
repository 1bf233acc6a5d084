%% @doc linx_nft:subscribe/2 against real namespaces: changes made with
%% `nft' arrive decoded like the dumps, in order, each transaction ended
%% by its generation; with `list_existing' the ruleset there is comes
%% first as one `{resync, Objects}' equal to linx_nft:ruleset/1; when
%% the kernel drops events at a small receive buffer the subscription
%% dumps again, and the view kept from what arrives (events applied in
%% order, a resync replacing everything) ends equal to a fresh
%% linx_nft:ruleset/1; with `resync => false' the loss is reported.
-module(linx_nft_events_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([changes_in_order/1, existing_objects_first/1, only_kinds_asked_for/1,
         resync_after_dropped_events/1, no_resync_when_asked/1, bad_arguments/1]).

all() ->
    [changes_in_order, existing_objects_first, only_kinds_asked_for,
     resync_after_dropped_events, no_resync_when_asked, bad_arguments].

init_per_suite(Config) ->
    case linx_ct_ns:sh("nft --version") of
        {0, _} -> linx_ct_ns:start_if_netns(Config);
        _ -> linx_ct_ns:require(no_nft)
    end.

end_per_suite(_Config) ->
    ok.

%% A namespace of its own for each case.
init_per_testcase(_Case, Config) ->
    Ns = linx_ct_ns:unique("linx-nft-ev"),
    ok = linx_ct_ns:netns_add(Ns),
    [{netns, Ns} | Config].

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

nft(Config, Cmd) ->
    linx_ct_ns:sh_ok(["ip netns exec ", ?config(netns, Config), " nft '", Cmd, "'"]).

%%====================================================================
%% Events
%%====================================================================

%% Tables, chains, rules, sets and elements made and deleted by nft
%% arrive decoded, in order, each command's transaction ended by a new
%% generation.
changes_in_order(Config) ->
    {ok, Ref} = linx_nft:subscribe(all, in(Config)),
    [nft(Config, C) || C <- ["add table inet ev",
                             "add chain inet ev in { type filter hook input priority 0; policy drop; }",
                             "add rule inet ev in tcp dport 22 accept comment \"ssh\"",
                             "add set inet ev s { type ipv4_addr; }",
                             "add element inet ev s { 10.0.0.1, 10.0.0.2 }",
                             "delete element inet ev s { 10.0.0.1 }",
                             "delete rule inet ev in handle 2",
                             "delete table inet ev"]],
    {table, new, #{family := inet, name := <<"ev">>}} = next(Ref),
    {gen, new, #{id := G1, proc_name := <<"nft">>}} = next(Ref),
    {chain, new, #{family := inet, table := <<"ev">>, name := <<"in">>, type := filter,
                   hook := input, priority := 0, policy := drop}} = next(Ref),
    {gen, new, #{id := G2}} = next(Ref),
    true = G2 > G1,
    Ssh = [{meta, #{key => l4proto, dreg => 1}},
           {cmp, #{sreg => 1, op => eq, data => #{value => <<6>>}}},
           {payload, #{base => transport, offset => 2, len => 2, dreg => 1}},
           {cmp, #{sreg => 1, op => eq, data => #{value => <<22:16>>}}},
           {immediate, #{dreg => 0, data => #{verdict => #{code => accept}}}}],
    {rule, new, #{table := <<"ev">>, chain := <<"in">>, handle := 2, comment := <<"ssh">>,
                  expressions := Ssh}} = next(Ref),
    {gen, new, _} = next(Ref),
    {set, new, #{table := <<"ev">>, name := <<"s">>, key := ipv4_addr}} = next(Ref),
    {gen, new, _} = next(Ref),
    %% Each element is an event of its own, decoded by the set's type.
    Added = [E || _ <- [1, 2], {element, new, #{set := <<"s">>, elements := [E]}} <- [next(Ref)]],
    [#{key := {10, 0, 0, 1}}, #{key := {10, 0, 0, 2}}] = lists:sort(Added),
    {gen, new, _} = next(Ref),
    {element, del, #{set := <<"s">>, elements := [#{key := {10, 0, 0, 1}}]}} = next(Ref),
    {gen, new, _} = next(Ref),
    {rule, del, #{handle := 2, expressions := Ssh}} = next(Ref),
    {gen, new, _} = next(Ref),
    %% A table goes after what it holds.
    {set, del, #{name := <<"s">>}} = next(Ref),
    {chain, del, #{name := <<"in">>}} = next(Ref),
    {table, del, #{name := <<"ev">>}} = next(Ref),
    {gen, new, _} = next(Ref),
    ok = linx_nft:unsubscribe(Ref),
    nft(Config, "add table ip after"),
    receive {linx_nft, Ref, E} -> ct:fail({event_after_unsubscribe, E}) after 200 -> ok end.

%% With `list_existing' the ruleset nft loaded comes first, equal to
%% linx_nft:ruleset/1; a change made afterwards comes after it.
existing_objects_first(Config) ->
    In = in(Config),
    _ = linx_ct_nft:nft(?config(netns, Config), [linx_ct_nft:text(), linx_ct_nft:sets_text()]),
    {ok, Ref} = linx_nft:subscribe(all, In#{list_existing => true}),
    {resync, Objects} = next(Ref),
    {ok, Ruleset} = linx_nft:ruleset(In),
    Objects = flat(Ruleset),
    true = length(Objects) > 30,
    nft(Config, "add table ip late"),
    {table, new, #{name := <<"late">>}} = next(Ref),
    ok = linx_nft:unsubscribe(Ref).

%% A subscription of some kinds gets events of those only, and its
%% resync holds objects of those only.
only_kinds_asked_for(Config) ->
    nft(Config, "add table ip k; add chain ip k c; add rule ip k c counter"),
    {ok, Ref} = linx_nft:subscribe([rule], (in(Config))#{list_existing => true}),
    {resync, [{rule, new, #{chain := <<"c">>, expressions := [{counter, _}]}}]} = next(Ref),
    nft(Config, "add chain ip k d; add rule ip k d drop"),
    {rule, new, #{chain := <<"d">>}} = next(Ref),
    receive {linx_nft, Ref, E} -> ct:fail({unexpected, E}) after 200 -> ok end,
    ok = linx_nft:unsubscribe(Ref).

%% A hundred transactions of rules and elements at a subscription whose
%% socket has the smallest receive buffer: the kernel drops events, the
%% subscription dumps again, and the view kept from what arrives equals
%% a fresh dump.
resync_after_dropped_events(Config) ->
    In = in(Config),
    nft(Config, "add table inet fl; add chain inet fl c; add set inet fl s { type inet_service; }"),
    {ok, Ref} = linx_nft:subscribe(all, In#{list_existing => true, rcvbuf => 1}),
    {resync, First} = next(Ref),
    View0 = view(First, #{}),
    Rule = fun(I) -> {add, rule, #{family => inet, table => <<"fl">>, chain => <<"c">>,
                                   expressions => [{match, tcp, dport, I}, counter, accept]}}
           end,
    lists:foreach(fun(N) ->
                          Ops = [Rule(N * 10 + I) || I <- lists:seq(1, 5)]
                              ++ [{add, element, #{family => inet, table => <<"fl">>, set => <<"s">>,
                                                   key => inet_service, elements => [N]}}],
                          ok = linx_nft:apply(Ops, In)
                  end, lists:seq(1, 100)),
    ok = linx_nft:apply([{add, table, #{family => ip, name => <<"last">>}}], In),
    {View, Resyncs} = linx_ct_events:follow(linx_nft, Ref, fun view/2, View0,
                                           fun(V) -> is_map_key({table, ip, <<"last">>}, V) end),
    ct:log("~b resyncs", [Resyncs]),
    true = Resyncs >= 1,
    {ok, Ruleset} = linx_nft:ruleset(In),
    Fresh = view(flat(Ruleset), #{}),
    500 = length([K || {rule, _, _, _, _} = K <- maps:keys(Fresh)]),
    Fresh = View,
    ok = linx_nft:unsubscribe(Ref).

%% With `resync => false' a loss is reported, not repaired.
no_resync_when_asked(Config) ->
    In = in(Config),
    nft(Config, "add table inet nr; add chain inet nr c"),
    {ok, Ref} = linx_nft:subscribe(all, In#{resync => false, rcvbuf => 1}),
    ok = linx_nft:apply([{add, rule, #{family => inet, table => <<"nr">>, chain => <<"c">>,
                                       expressions => [{match, tcp, dport, I}, accept]}}
                         || I <- lists:seq(1, 200)], In),
    {error, enobufs} = linx_ct_events:first(linx_nft, Ref, fun({error, _}) -> true;
                                                         ({resync, _}) -> true;
                                                         (_) -> false
                                                      end),
    ok = linx_nft:unsubscribe(Ref).

%% Kinds that are not, and options that are not, are refused.
bad_arguments(Config) ->
    In = in(Config),
    {error, #{reason := {bad_kinds, [tables]}} = E} = linx_nft:subscribe([tables], In),
    <<"linx_nft:subscribe: invalid nf_tables event kinds [tables]", _/binary>> = linx_nft:format_error(E),
    {error, #{reason := {bad_kinds, []}}} = linx_nft:subscribe([], In),
    {error, #{reason := {bad_option, {list_existing, yes}}}} =
        linx_nft:subscribe(all, In#{list_existing => yes}),
    {error, #{reason := {bad_option, {colour, red}}}} = linx_nft:subscribe(all, In#{colour => red}),
    {error, #{reason := {bad_rcvbuf, 0}}} = linx_nft:subscribe(all, In#{rcvbuf => 0}).

%%====================================================================
%% A subscriber's view
%%====================================================================

%% A ruleset as the objects of a resync.
flat(#{tables := T, chains := C, sets := S, rules := R}) ->
    [{K, new, M} || {K, L} <- [{table, T}, {chain, C}, {set, S}, {rule, R}], M <- L].

%% Events applied to a view: every object by its identity, a set's
%% elements each by its key. A count of what uses an object (`use')
%% changes without an event, and is left out.
view([{table, W, #{family := F, name := N} = M} | Rest], V) -> view(Rest, put_del(W, {table, F, N}, M, V));
view([{chain, W, #{family := F, table := T, name := N} = M} | Rest], V) ->
    view(Rest, put_del(W, {chain, F, T, N}, M, V));
view([{rule, W, #{family := F, table := T, chain := C, handle := H} = M} | Rest], V) ->
    view(Rest, put_del(W, {rule, F, T, C, H}, M, V));
view([{set, W, #{family := F, table := T, name := N} = M} | Rest], V) ->
    Elems = [{element, new, #{family => F, table => T, set => N, elements => Es}}
             || #{elements := Es} <- [M]],
    view(Elems ++ Rest, put_del(W, {set, F, T, N}, maps:without([elements], M), V));
view([{element, W, #{family := F, table := T, set := S, elements := Es}} | Rest], V) ->
    view(Rest, lists:foldl(fun(#{key := K} = E, Acc) -> put_del(W, {element, F, T, S, K}, E, Acc) end,
                           V, Es));
view([{gen, new, _} | Rest], V) -> view(Rest, V);
view([], V) -> V.

put_del(new, Key, M, V) -> V#{Key => maps:without([use], M)};
put_del(del, Key, _M, V) -> maps:remove(Key, V).

next(Ref) ->
    linx_ct_events:next(linx_nft, Ref).
