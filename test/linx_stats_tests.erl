%% Unit tests for linx_stats: latency percentiles from log-linear buckets
%% are within 6.25% above the true latency, and ordered; exit texts.
-module(linx_stats_tests).

-include_lib("eunit/include/eunit.hrl").

%% Each latency recorded alone under an op of its own: its p50 and p99 are
%% the upper bound of its bucket, at least the latency and at most 6.25%
%% (1/16) above it.
bucket_error_test_() ->
    {setup, fun start/0, fun stop/1,
     fun(_) ->
             Samples = lists:seq(0, 300) ++ [1000, 1023, 1024, 1025, 4095, 4096, 65537,
                                             999999, 1 bsl 32, (1 bsl 40) + 12345],
             Ops = [{list_to_atom("linx_stats_tests_" ++ integer_to_list(I)), V}
                    || {I, V} <- lists:zip(lists:seq(1, length(Samples)), Samples)],
             [ok = linx_stats:record(Op, V, ok) || {Op, V} <- Ops],
             #{latency_us := Lat} = linx_stats:snapshot(),
             [?_test(begin
                         #{Op := #{p50 := P50, p99 := P50}} = Lat,
                         ?assert(P50 >= V),
                         ?assert((P50 - V) * 16 =< V)
                     end) || {Op, V} <- Ops]
     end}.

%% Percentiles of a mix: 98 fast requests and 2 slow ones.
percentiles_test_() ->
    {setup, fun start/0, fun stop/1,
     fun(_) ->
             [ok = linx_stats:record(linx_stats_tests_mix, 100, ok) || _ <- lists:seq(1, 98)],
             [ok = linx_stats:record(linx_stats_tests_mix, 5000, ok) || _ <- lists:seq(1, 2)],
             #{latency_us := #{linx_stats_tests_mix := #{p50 := P50, p99 := P99}},
               requests := #{linx_stats_tests_mix := 100}} = linx_stats:snapshot(),
             [?_assertEqual(103, P50),
              ?_assert(P99 >= 5000 andalso P99 =< 5000 * 17 div 16)]
     end}.

%% The program's own ops are counted in `counters', a latency too long
%% for them in the table: the snapshot holds both, and counts as before.
own_op_test_() ->
    {setup, fun start/0, fun stop/1,
     fun(_) ->
             #{requests := Before} = linx_stats:snapshot(),
             N0 = maps:get(netns_identify, Before, 0),
             [ok = linx_stats:record({netns_identify, 1}, 40, ok) || _ <- lists:seq(1, 97)],
             [ok = linx_stats:record(netns_identify, 1 bsl 30, ok) || _ <- lists:seq(1, 3)],
             #{requests := #{netns_identify := N}, latency_us := #{netns_identify := #{p99 := P99}}} =
                 linx_stats:snapshot(),
             [?_assertEqual(N0 + 100, N),
              ?_assert(P99 >= 1 bsl 30 andalso P99 =< (1 bsl 30) * 17 div 16)]
     end}.

exit_text_test_() ->
    Text = fun(S) -> unicode:characters_to_binary(linx_port_start:exit_text(S)) end,
    [?_assertEqual(<<"exit status 137 (killed by signal 9, SIGKILL)">>, Text(137)),
     ?_assertEqual(<<"exit status 143 (killed by signal 15, SIGTERM)">>, Text(143)),
     ?_assertEqual(<<"exit status 2">>, Text(2)),
     ?_assertEqual(<<"{fd_channel,closed}">>, Text({fd_channel, closed}))].

%% The counters' owner: this test's own, or the running application's.
start() ->
    case linx_stats:start_link() of
        {ok, Pid} ->
            unlink(Pid),
            {started, Pid};
        {error, {already_started, _}} ->
            running
    end.

stop({started, Pid}) ->
    gen_server:stop(Pid);
stop(running) ->
    ok.
