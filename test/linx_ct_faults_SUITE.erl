%% @doc linx_ct's faults seen on real traffic between namespaces joined by
%% veth: a partition stops pings both ways at once and leaves each group
%% talking, heal/2 undoes one partition and no other; `loss => 20' loses
%% 15-25% of 2,000 pings; `rate => 10000000' holds a TCP transfer at
%% 8-11 Mbit/s, on a link or on the way to one namespace only; netem's
%% faults are refused here with nothing changed; clear/1 removes linx's
%% table and qdiscs and leaves those made by hand.
-module(linx_ct_faults_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([partition_stops_pings_both_ways/1, overlapping_partitions_heal_apart/1,
         loss_loses_a_fifth/1, rate_holds_ten_megabits/1, rate_to_one_namespace/1,
         netem_refused_nothing_changed/1, clear_leaves_others/1, bad_faults_refused/1,
         errors_render_on_one_line/1, hook_resets_faults_after_each_case/1,
         bad_faults_option_fails_the_init/1]).

-define(MB, 1000000).

all() ->
    [partition_stops_pings_both_ways, overlapping_partitions_heal_apart, loss_loses_a_fifth,
     rate_holds_ten_megabits, rate_to_one_namespace, netem_refused_nothing_changed,
     clear_leaves_others, bad_faults_refused, errors_render_on_one_line,
     hook_resets_faults_after_each_case, bad_faults_option_fails_the_init].

init_per_suite(Config) ->
    case linx_ct_ns:sh("nft --version && ping -V && tc -V") of
        {0, _} -> linx_ct_ns:start_if_netns(Config);
        _ -> linx_ct_ns:require(no_nft_ping_or_tc)
    end.

end_per_suite(_Config) ->
    ok.

%% a --- b --- c (10.1.0.0/24, 10.2.0.0/24), or, for the rate to one
%% namespace, b --- a --- c.
init_per_testcase(rate_to_one_namespace, Config) ->
    %% a, b and c on one bridge in h: 10.50.0.1, .2 and .3.
    Veth = [{K, h, #{addrs => {{{10, 50, 0, I}, 24}, none}, master => {none, <<"br0">>}}}
            || {K, I} <- [{a, 1}, {b, 2}, {c, 3}]],
    {ok, Setup} = linx_ct:setup(#{netns => [a, b, c, h], bridge => #{h => [<<"br0">>]},
                                  veth => Veth}),
    %% And IPv6 addresses on a and b, for the IPv6 filters.
    [ok = linx_ct:addr(N, If, {{16#fd50, 0, 0, 0, 0, 0, 0, I}, 64})
     || {K, I} <- [{a, 1}, {b, 2}], #{a := {N, If}} <- [maps:get({K, h}, maps:get(veth, Setup))]],
    [{setup, Setup} | Config];
init_per_testcase(Case, Config) when Case =:= errors_render_on_one_line;
                                     Case =:= hook_resets_faults_after_each_case;
                                     Case =:= bad_faults_option_fails_the_init ->
    Config;
init_per_testcase(_Case, Config) ->
    setup(Config, [{a, b}, {b, c}]).

setup(Config, Veth) ->
    {ok, Setup} = linx_ct:setup(#{netns => [a, b, c], veth => Veth}),
    [{setup, Setup} | Config].

end_per_testcase(_Case, Config) ->
    case ?config(setup, Config) of
        #{netns := Names} -> ok = linx_ct:cleanup(maps:values(Names));
        undefined -> ok
    end.

ns(K, Config) -> maps:get(K, maps:get(netns, ?config(setup, Config))).
pair(A, B, Config) -> maps:get({A, B}, maps:get(veth, ?config(setup, Config))).
ip(A, B, Config) -> element(1, element(2, maps:get(addrs, pair(A, B, Config)))).
ip_a(A, B, Config) -> element(1, element(1, maps:get(addrs, pair(A, B, Config)))).

%% Pings sent from Ns to IP: how many of Count came back.
pings(Ns, IP, Count, Interval) ->
    Out = linx_ct_ns:sh_ok(["ip netns exec ", Ns, " ping -q -n -c ", integer_to_list(Count),
                            " -i ", Interval, " -W 1 ", inet:ntoa(IP), " | grep transmitted || true"]),
    {match, [Sent, Received]} =
        re:run(Out, "(\\d+) packets transmitted, (\\d+) received", [{capture, all_but_first, list}]),
    Count = list_to_integer(Sent),
    list_to_integer(Received).

%% All of 5 pings come back.
talks(Ns, IP) -> 5 =:= pings(Ns, IP, 5, "0.01").

%% a | b, c: 50 pings sent in the 100 ms after partition/2 returned get
%% no answer, from a to b or from b to a; b and c go on; heal/2 gives
%% a and b back to each other.
partition_stops_pings_both_ways(Config) ->
    [A, B, C] = [ns(K, Config) || K <- [a, b, c]],
    true = talks(A, ip(a, b, Config)),
    ok = linx_ct:partition([A], [B, C]),
    0 = pings(A, ip(a, b, Config), 50, "0.002"),
    0 = pings(B, ip_a(a, b, Config), 50, "0.002"),
    ct:comment("no reply to 50 pings each way sent within 100 ms of the return"),
    true = talks(B, ip(b, c, Config)),
    true = talks(C, ip_a(b, c, Config)),
    ok = linx_ct:heal([B, C], [A]),
    true = talks(A, ip(a, b, Config)),
    true = talks(B, ip_a(a, b, Config)),
    %% Nothing left of it.
    {ok, Rules} = linx_nft:rules(#{in => {netns, B}}),
    [] = [R || #{table := <<"linx_faults">>} = R <- Rules].

%% a | b, c and b | c: healing the first leaves b and c apart; heal/1
%% heals the second.
overlapping_partitions_heal_apart(Config) ->
    [A, B, C] = [ns(K, Config) || K <- [a, b, c]],
    ok = linx_ct:partition([A], [B, C]),
    ok = linx_ct:partition([B], [C]),
    0 = pings(B, ip(b, c, Config), 5, "0.01"),
    0 = pings(A, ip(a, b, Config), 5, "0.01"),
    ok = linx_ct:heal([A], [B, C]),
    true = talks(A, ip(a, b, Config)),
    0 = pings(B, ip(b, c, Config), 5, "0.01"),
    ok = linx_ct:heal([A, B, C]),
    true = talks(B, ip(b, c, Config)).

%% loss => 20 on a's end: 15-25% of 2,000 pings lost.
loss_loses_a_fifth(Config) ->
    A = ns(a, Config),
    #{a := End} = pair(a, b, Config),
    ok = linx_ct:impair(End, #{loss => 20}),
    Lost = 2000 - pings(A, ip(a, b, Config), 2000, "0.002"),
    ct:comment("~b of 2000 pings lost (~.1f%)", [Lost, Lost / 20]),
    true = Lost >= 300 andalso Lost =< 500,
    %% Again: replaced, not added to.
    ok = linx_ct:impair(End, #{loss => 20}),
    {ok, Rules} = linx_nft:rules(#{in => {netns, A}}),
    1 = length([R || #{table := <<"linx_faults">>} = R <- Rules]),
    ok = linx_ct:clear(End),
    true = talks(A, ip(a, b, Config)).

%% rate => 10 Mbit/s on a's end: 5 MB from a to b at 8-11 Mbit/s.
rate_holds_ten_megabits(Config) ->
    #{a := End} = pair(a, b, Config),
    ok = linx_ct:impair(End, #{rate => 10000000}),
    Mbits = linx_ct_traffic:transfer(ns(a, Config), ns(b, Config), ip(a, b, Config), 5 * ?MB),
    ct:comment("~.2f Mbit/s", [Mbits]),
    true = Mbits >= 8.0 andalso Mbits =< 11.0.

%% a, b and c on a bridge; rate => 10 Mbit/s from a to b: 2 MB to b at
%% 8-11 Mbit/s, 5 MB to c (over the same link of a) more than five
%% times as fast.
rate_to_one_namespace(Config) ->
    [A, B, C] = [ns(K, Config) || K <- [a, b, c]],
    ok = linx_ct:impair({from, A, to, B}, #{rate => 10000000}),
    %% Again: the same class, replaced.
    ok = linx_ct:impair({from, A, to, B}, #{rate => 10000000}),
    Slow = linx_ct_traffic:transfer(A, B, {10, 50, 0, 2}, 2 * ?MB),
    Fast = linx_ct_traffic:transfer(A, C, {10, 50, 0, 3}, 5 * ?MB),
    ct:comment("to b ~.2f Mbit/s, to c ~.2f Mbit/s", [Slow, Fast]),
    true = Slow >= 8.0 andalso Slow =< 11.0,
    true = Fast > 5 * Slow,
    {_, IfA} = maps:get(a, pair(a, h, Config)),
    2 = length(classes(A, IfA)),
    {ok, Filters} = linx_tc:filters(IfA, {16#fa17, 0}, #{in => {netns, A}}),
    [ip, ipv6] = lists:usort([P || #{protocol := P, options := #{classid := _}} <- Filters]),
    ok = linx_ct:clear({from, A, to, B}),
    1 = length(classes(A, IfA)).

classes(Ns, If) ->
    {ok, Cs} = linx_tc:classes(If, #{in => {netns, Ns}}),
    Cs.

%% This kernel has no netem: delay and the rest are refused, on a link
%% (with a tbf of linx's there, which stays) and on the way to a
%% namespace, leaving no qdisc, class or table.
netem_refused_nothing_changed(Config) ->
    [A, B] = [ns(K, Config) || K <- [a, b]],
    #{a := {_, IfA} = End} = pair(a, b, Config),
    Before = qdiscs(A),
    [{error, {unsupported, netem}} = linx_ct:impair(End, S)
     || S <- [#{delay => 10}, #{jitter => 1, delay => 5}, #{duplicate => 1}, #{reorder => 5},
              #{corrupt => 1}, #{loss => 10, delay => 10}, #{rate => 1000000, delay => 1}]],
    Before = qdiscs(A),
    {error, {unsupported, netem}} = linx_ct:impair({from, A, to, B}, #{delay => 10}),
    Before = qdiscs(A),
    {ok, #{tables := []}} = linx_nft:ruleset(#{in => {netns, A}}),
    ok = linx_ct:impair(End, #{rate => 10000000}),
    [#{kind := <<"tbf">>, handle := {16#fa17, 0}}] = root(A, IfA),
    {error, {unsupported, netem}} = linx_ct:impair(End, #{delay => 10}),
    [#{kind := <<"tbf">>, handle := {16#fa17, 0}}] = root(A, IfA),
    %% A class of linx's on the way to b keeps its rate.
    ok = linx_ct:clear(A),
    ok = linx_ct:impair({from, A, to, B}, #{rate => 5000000}),
    Classes = classes(A, IfA),
    2 = length(Classes),
    {error, {unsupported, netem}} = linx_ct:impair({from, A, to, B}, #{rate => 1000000, delay => 10}),
    Classes = classes(A, IfA).

qdiscs(Ns) ->
    {ok, Qs} = linx_tc:qdiscs(#{in => {netns, Ns}}),
    lists:sort([maps:with([link, kind, handle, parent], Q) || Q <- Qs]).

root(Ns, If) ->
    {ok, Qs} = linx_tc:qdiscs(#{link => If}, #{in => {netns, Ns}}),
    [Q || #{parent := root} = Q <- Qs].

%% A table and a root qdisc made by hand stay through clear/1 of their
%% namespaces; linx's table and qdisc go.
clear_leaves_others(Config) ->
    [A, B] = [ns(K, Config) || K <- [a, b]],
    #{a := {_, IfA} = EndA, b := {_, IfB}} = pair(a, b, Config),
    linx_ct_ns:sh_ok(["ip netns exec ", A, " nft add table inet mine && "
                      "tc -n ", B, " qdisc add dev ", IfB, " root handle 1: tbf rate 100mbit burst 32k latency 50ms"]),
    ok = linx_ct:impair(EndA, #{rate => 50000000, loss => 1}),
    ok = linx_ct:partition([A], [B]),
    [ok = linx_ct:clear(N) || N <- [A, B]],
    [] = [Q || #{handle := {16#fa17, 0}} = Q <- root(A, IfA)],
    [#{handle := {1, 0}, kind := <<"tbf">>}] = root(B, IfB),
    Tables = fun(N) -> {ok, Ts} = linx_nft:tables(#{in => {netns, N}}), [T || #{name := T} <- Ts] end,
    [<<"mine">>] = Tables(A),
    [] = Tables(B),
    true = talks(A, ip(a, b, Config)),
    %% A second clear finds nothing to do.
    ok = linx_ct:clear(A).

%% A key or value that is not one is refused before anything changes.
bad_faults_refused(Config) ->
    A = ns(a, Config),
    #{a := End} = pair(a, b, Config),
    {error, {bad_fault, {loss, 200}}} = linx_ct:impair(End, #{loss => 200}),
    {error, {bad_fault, {speed, 1}}} = linx_ct:impair(End, #{rate => 1000000, speed => 1}),
    {error, {bad_fault, {rate, -1}}} = linx_ct:impair(End, #{rate => -1}),
    {error, {bad_fault, {where, A}}} = linx_ct:impair(A, #{loss => 1}),
    {error, {bad_fault, {where, {x}}}} = linx_ct:impair({x}, #{loss => 1}),
    {error, {bad_fault, {groups, {[A], [A]}}}} = linx_ct:partition([A], [A]),
    {ok, #{tables := []}} = linx_nft:ruleset(#{in => {netns, A}}).

errors_render_on_one_line(_Config) ->
    [begin
         Line = linx:format_error({error, R}),
         nomatch = binary:match(Line, <<"\n">>),
         ct:log("~ts", [Line])
     end || R <- [{unsupported, netem}, {bad_fault, {loss, 200}}, {bad_fault, {where, x}}]],
    <<"fault refused, nothing changed: this kernel has no netem qdisc">> =
        linx:format_error({error, {unsupported, netem}}).

%% The sample suite of the hook (in the data dir), run by ct_run in a
%% node of its own: the option's fault holds in each case, a case's own
%% faults are gone in the next (after a crash, after a timetrap), and
%% nothing is left afterwards.
hook_resets_faults_after_each_case(Config) ->
    {Summary, Report} = run_sample(linx_cth_faults_SUITE, Config),
    %% partitions_then_crashes and impairs_then_times_out fail, the others pass.
    {4, 2} = Summary,
    [option_fault_is_there, keyed_helpers, partitions_then_crashes, next_case_is_clean,
     impairs_then_times_out, next_case_is_clean] = [C || {C, _} <- Report],
    [A] = lists:usort([N || {_, N} <- Report]),
    false = lists:member(A, linx_ct_ns:ip_netns_list()).

%% A faults option that is not one fails the init with its reason, and
%% the set-up is removed.
bad_faults_option_fails_the_init(_Config) ->
    Fail = fun(Faults) ->
                   {ok, S} = linx_cth:init(id, #{netns => [fa, fb], veth => [{fa, fb}],
                                                 faults => Faults}),
                   {{fail, {linx_cth, Reason}}, S1} = linx_cth:pre_init_per_suite(s, [], S),
                   ok = linx_cth:terminate(S1),
                   [] = linx_ct:leftovers("fa") ++ linx_ct:leftovers("fb"),
                   Reason
           end,
    {bad_fault, {where, {fa, nowhere}}} = Fail(#{{fa, nowhere} => #{loss => 1}}),
    {bad_fault, {loss, 500}} = Fail(#{{fa, fb} => #{loss => 500}}),
    {bad_option, {faults, [x]}} = Fail([x]).

run_sample(Suite, Config) ->
    Priv = ?config(priv_dir, Config),
    Dir = filename:join(Priv, atom_to_list(Suite)),
    ok = filelib:ensure_path(Dir),
    {ok, _} = file:copy(filename:join(?config(data_dir, Config), atom_to_list(Suite) ++ ".erl.src"),
                        filename:join(Dir, atom_to_list(Suite) ++ ".erl")),
    Report = filename:join(Priv, atom_to_list(Suite) ++ ".report"),
    Logs = filename:join(Priv, atom_to_list(Suite) ++ "_logs"),
    ok = filelib:ensure_path(Logs),
    Ebin = filename:dirname(code:which(linx_cth)),
    {_Status, Out} = linx_ct_ns:sh(["LINX_CTH_REPORT=", Report, " ct_run -noshell -pa ", Ebin,
                                    " -dir ", Dir, " -suite ", atom_to_list(Suite),
                                    " -logdir ", Logs, " 2>&1"]),
    ct:log("~ts", [Out]),
    {match, [Ok, Failed]} = re:run(Out, "TEST COMPLETE, ([0-9]+) ok, ([0-9]+) failed",
                                   [{capture, all_but_first, list}]),
    {ok, Reported} = file:consult(Report),
    {{list_to_integer(Ok), list_to_integer(Failed)}, Reported}.
