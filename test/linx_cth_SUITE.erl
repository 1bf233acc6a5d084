%% The linx_cth hook, through real Common Test runs: sample suites (the
%% README's example in examples/ct, others in linx_cth_SUITE_data) are run
%% by `ct_run' in a node of their own (Common Test cannot be nested), with the hook making namespaces and veth pairs
%% that the samples check with `ip'; afterwards nothing they made is left
%% in `ip netns list' or in `ip link'. Also linx_ct's plain functions.
-module(linx_cth_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([example_suite_runs_and_cleans_up/1,
         per_case_namespaces_and_crashes/1,
         a_case_end_removes_only_its_own/1,
         plain_functions/1,
         bad_options_fail_the_suite/1,
         hub_option/1,
         dist_example_runs_and_cleans_up/1]).

all() ->
    [example_suite_runs_and_cleans_up,
     per_case_namespaces_and_crashes,
     a_case_end_removes_only_its_own,
     plain_functions,
     bad_options_fail_the_suite,
     hub_option,
     dist_example_runs_and_cleans_up].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    _ = application:stop(linx),
    ok.

example_suite_runs_and_cleans_up(Config) ->
    Before = host_links(),
    {Summary, Report} = run_sample(linx_cth_example_SUITE, Config),
    ?assertEqual({2, 0}, Summary),
    %% The one report: both namespaces, each with its end of the pair.
    [[{Client, ClientAddrs}, {Server, ServerAddrs}]] = Report,
    ?assertMatch({match, _}, re:run(ClientAddrs, "to_server +inet 10\\.1\\.0\\.1/24")),
    ?assertMatch({match, _}, re:run(ServerAddrs, "to_client +inet 10\\.1\\.0\\.2/24")),
    ?assertMatch({match, _}, re:run(ClientAddrs, "lo +inet 127\\.0\\.0\\.1/8")),
    %% Gone afterwards.
    Left = linx_ct_ns:ip_netns_list(),
    ?assertEqual([], [N || N <- [Client, Server], lists:member(N, Left)]),
    ?assertEqual(Before, host_links()).

per_case_namespaces_and_crashes(Config) ->
    {Summary, Report} = run_sample(linx_cth_cases_SUITE, Config),
    %% fresh_each_time_1 and _2 pass; crashes and times_out fail.
    ?assertEqual({2, 2}, Summary),
    ?assertEqual(4, length(Report)),
    Names = lists:append(Report),
    %% Fresh namespaces for every case.
    ?assertEqual(8, length(lists:usort(Names))),
    Left = linx_ct_ns:ip_netns_list(),
    ?assertEqual([], [N || N <- Names, lists:member(N, Left)]).

%% Per-case namespaces, removed when their case ends and not before: not
%% by the end of a case running beside it in a parallel group; not kept
%% past a case that its init_per_testcase skips; and a namespace a case
%% made itself and named in Config is not the hook's to remove.
a_case_end_removes_only_its_own(Config) ->
    {Summary, Report} = run_sample(linx_cth_parallel_SUITE, Config),
    %% skipped_in_init is skipped, the five others pass.
    ?assertEqual({5, 0}, Summary),
    %% One of the two overlapping cases saw the other end and its own
    %% namespace stay.
    ?assertMatch([[_]], [N || {outlived, N} <- Report]),
    Made = lists:usort(lists:append([N || {W, N} <- Report, W =/= own])),
    ?assertEqual(3, length(Made)),
    Left = linx_ct_ns:ip_netns_list(),
    ?assertEqual([], [N || N <- Made ++ lists:append([N || {own, N} <- Report]),
                           lists:member(N, Left)]).

plain_functions(_Config) ->
    {ok, A} = linx_ct:netns("plain"),
    {ok, B} = linx_ct:netns("other", #{lo => down}),
    try
        ?assert(lists:member(A, linx_ct_ns:ip_netns_list())),
        {ok, Pair} = linx_ct:veth(A, B, #{names => {<<"pa">>, <<"pb">>},
                                          addrs => {{{10, 77, 0, 1}, 30}, {{10, 77, 0, 2}, 30}},
                                          mtu => 1400}),
        ?assertEqual(#{a => {A, <<"pa">>}, b => {B, <<"pb">>},
                       addrs => {{{10, 77, 0, 1}, 30}, {{10, 77, 0, 2}, 30}}}, Pair),
        ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -o -n ", A, " addr show pa"]),
                                        "inet 10\\.77\\.0\\.1/30")),
        ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -o -n ", B, " link show pb"]),
                                        "mtu 1400.*state UP")),
        ok = linx_ct:addr(B, <<"pb">>, {{16#fd00, 0, 0, 0, 0, 0, 0, 2}, 64}),
        ?assertMatch({match, _}, re:run(linx_ct_ns:sh_ok(["ip -o -n ", B, " addr show pb"]),
                                        "inet6 fd00::2/64")),
        {ok, [{<<"net.ipv4.ip_forward">>, _}]} = linx_ct:sysctl(A, #{<<"net.ipv4.ip_forward">> => 1}),
        ?assertEqual(<<"1">>, linx_ct_ns:oracle({netns, binary_to_list(A)}, "net.ipv4.ip_forward")),
        %% A name taken on the far side: the error, and no half pair left.
        {error, #{errno := eexist}} = linx_ct:veth(A, B, #{names => {<<"pa2">>, <<"pb">>}}),
        {1, _} = linx_ct_ns:sh(["ip -n ", A, " link show pa2"]),
        ?assertEqual(lists:sort([A, B]), lists:sort(linx_ct:leftovers("plain") ++ linx_ct:leftovers("other")))
    after
        ok = linx_ct:cleanup([A, B])
    end,
    ?assertEqual([], [N || N <- [A, B], lists:member(N, linx_ct_ns:ip_netns_list())]),
    %% Cleaning up twice is fine.
    ok = linx_ct:cleanup([A, B]).

bad_options_fail_the_suite(_Config) ->
    State = element(2, linx_cth:init(id, #{netns => [a], veth => [{a, nowhere}]})),
    {{fail, {linx_cth, {bad_option, {veth, {a, nowhere}}}}}, State1} =
        linx_cth:pre_init_per_suite(s, [], State),
    %% What it made before the bad option is gone.
    ?assertEqual([], linx_ct:leftovers("a")),
    ok = linx_cth:terminate(State1),
    {ok, S2} = linx_cth:init(id, #{netns => [a, a]}),
    {{fail, {linx_cth, {bad_option, {netns, [a, a]}}}}, _} = linx_cth:pre_init_per_suite(s, [], S2).

%% The hook's `hub' option: the hub in Config, hub_addr/2, every node
%% pings every other; the suite's end removes every namespace of it. A
%% bad hub fails the suite.
hub_option(_Config) ->
    {ok, S0} = linx_cth:init(id, #{hub => [a, b, c]}),
    {Config, S1} = linx_cth:pre_init_per_suite(s, [], S0),
    #{netns := Names} = Setup = linx_cth:setup(Config),
    try
        ?assertEqual({10, 254, 0, 2}, linx_cth:hub_addr(b, Config)),
        ?assertError({no_hub_node, hub}, linx_cth:hub_addr(hub, Config)),
        ?assertEqual({<<"eth0">>, {10, 254, 0, 3}}, linx_cth:veth_end(c, hub, Config)),
        ok = linx_ct_hub_check:built(Setup, [a, b, c]),
        ?assertEqual(6, linx_ct_hub_check:pings(Setup))
    after
        {ok, S2} = linx_cth:post_end_per_suite(s, Config, ok, S1),
        ok = linx_cth:terminate(S2)
    end,
    ?assertEqual([], [N || N <- maps:values(Names), lists:member(N, linx_ct_ns:ip_netns_list())]),
    {ok, S3} = linx_cth:init(id, #{hub => #{nodes => [a, b], name => a}}),
    {{fail, {linx_cth, {bad_option, {hub, #{nodes := [a, b], name := a}}}}}, S4} =
        linx_cth:pre_init_per_suite(s, [], S3),
    ok = linx_cth:terminate(S4).

%% examples/ct/linx_dist_SUITE: Erlang nodes in the namespaces of a hub,
%% cut apart, slowed down. Every case passes; afterwards no namespace of
%% it, no node it started and no epmd it could have started is left
%% (an epmd that is new must be the host's: ct_run's own node may start
%% one there, never in a namespace).
dist_example_runs_and_cleans_up(Config) ->
    Epmds = epmds(),
    {Summary, Report} = run_sample(linx_dist_SUITE, Config),
    ct:log("~p", [Report]),
    [Cases] = [N || {cases, N} <- Report],
    ?assertEqual({Cases, 0}, Summary),
    Names = lists:usort(lists:append([N || {netns, N} <- Report])),
    OsPids = lists:append([P || {peers, P} <- Report]),
    ?assertEqual(4, length(Names)),
    ?assertEqual(3 * Cases, length(OsPids)),
    ?assertEqual([], [N || N <- Names, lists:member(N, linx_ct_ns:ip_netns_list())]),
    ?assertEqual([], [P || P <- OsPids, filelib:is_dir("/proc/" ++ P)]),
    [{ct_node, CtPid}] = [R || {ct_node, _} = R <- Report],
    ?assertMatch({1, _}, linx_ct_ns:sh(["pgrep -af 'linx_dist_[abc]_", CtPid, "@'"])),
    Host = ns_of("self"),
    ?assertEqual([], [P || P <- epmds() -- Epmds, ns_of(P) =/= Host]).

%% The epmd processes of the machine, and a process's network namespace.
epmds() ->
    case linx_ct_ns:sh("pgrep -x epmd") of
        {0, Out} -> string:lexemes(binary_to_list(Out), "\n");
        {1, _} -> []
    end.

ns_of(Pid) ->
    file:read_link("/proc/" ++ Pid ++ "/ns/net").

%%--------------------------------------------------------------------

%% Run a sample suite with ct_run in a node of its own; the pass/fail
%% counts and what its cases reported. The samples are kept where the
%% project's own test runs do not take them for tests: the README's
%% example in examples/ct, the others as .erl.src in the data dir; each
%% is copied to a directory of its own first.
run_sample(Suite, Config) ->
    Priv = ?config(priv_dir, Config),
    Data = filename:join(Priv, atom_to_list(Suite)),
    ok = filelib:ensure_path(Data),
    {ok, _} = file:copy(sample_source(Suite, Config),
                        filename:join(Data, atom_to_list(Suite) ++ ".erl")),
    Report = filename:join(Priv, atom_to_list(Suite) ++ ".report"),
    Logs = filename:join(Priv, atom_to_list(Suite) ++ "_logs"),
    ok = filelib:ensure_path(Logs),
    Ebin = filename:dirname(code:which(linx_cth)),
    %% A node name of its own: ct_run's default (ct@host) may be taken
    %% by another run beside this one.
    Name = ["linx_cth_", os:getpid(), "_", integer_to_list(erlang:unique_integer([positive]))],
    Cmd = ["LINX_CTH_REPORT=", Report, " ct_run -noshell -sname ", Name, " -pa ", Ebin,
           " -dir ", Data, " -suite ", atom_to_list(Suite), " -logdir ", Logs, " 2>&1"],
    {_Status, Out} = linx_ct_ns:sh(Cmd, infinity),
    ct:log("~ts", [Out]),
    Summary = case re:run(Out, "TEST COMPLETE, ([0-9]+) ok, ([0-9]+) failed",
                          [{capture, all_but_first, list}]) of
                  {match, [Ok, Failed]} -> {list_to_integer(Ok), list_to_integer(Failed)};
                  nomatch -> ct:fail({no_summary, Out})
              end,
    Reported = case file:consult(Report) of
                   {ok, Terms} -> Terms;
                   {error, enoent} -> []
               end,
    {Summary, Reported}.

sample_source(Example, _Config) when Example =:= linx_cth_example_SUITE;
                                     Example =:= linx_dist_SUITE ->
    %% This suite's source is test/linx_cth_SUITE.erl of the checkout.
    Source = proplists:get_value(source, ?MODULE:module_info(compile)),
    filename:join([filename:dirname(filename:dirname(Source)), "examples", "ct",
                   atom_to_list(Example) ++ ".erl"]);
sample_source(Suite, Config) ->
    filename:join(?config(data_dir, Config), atom_to_list(Suite) ++ ".erl.src").

%% The host's interfaces by name.
host_links() ->
    lists:sort([N || L <- binary:split(linx_ct_ns:sh_ok("ip -o link show"), <<"\n">>, [global]),
                     [_, N | _] <- [binary:split(L, <<": ">>, [global])]]).
