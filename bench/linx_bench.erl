%% Benchmarks for linx, run by `make bench' (see scripts/bench).
%%
%% Every case runs in this one VM against the `linx' application and four
%% network namespaces made for the run (`linx-bench-<ospid>-<i>', deleted at
%% the end even when a case fails). The machine is small and noisy, so:
%% each case warms up first, latencies are reported as medians (p50) and
%% p99, and every ratio compares two things measured in the same run,
%% interleaved in blocks where that is cheap.
%%
%% Cases (targets in brackets):
%%   P1a ping              `{ping, <<>>}' round trips: a bare {packet,4} echo
%%                         through the same port and gen_server (the baseline)
%%   P1b read netns        linx_sysctl:read/2 in a netns  [p50 <= 1.3 x ping]
%%   P1c nsenter cat       os:cmd("nsenter ... cat ...")  [p50 >= 40 x read]
%%   P2a 32 callers        reads/s from 32 processes over 4 netns [>= 100,000/s]
%%   P2b same, no cache    port started with --no-worker-cache [P2a >= 3 x P2b]
%%   P3  list whole tree   linx_sysctl:list/2 vs `sysctl -a' [<= 0.5 x, same keys]
%%   P4  netlink open      linx_netlink:open/2 (the open only) [p50 <= 150 us]
%%   P5a idle RSS          VmRSS of an idle port program [<= 5120 kB]
%%   P5b start to ready    open_port to ready frame, and application restart [<= 20 ms]
%%   P6  batch             100 reads in one batch vs 100 sequential reads (info)
%%   P7  C-node call       gen_server:call to linx_port --cnode vs the same call
%%                         to a plain gen_server on a peer node [p50 <= 1.2 x]
%%
%% The results are printed as a table and written to _build/bench/latest.json.
%%
%% Modules: linx_bench (this one: entry point, namespaces, timing and
%% statistics), linx_bench_cases (the cases P1 to P7), linx_bench_report
%% (rows, the table, machine information, JSON); the workload is in
%% linx_bench.hrl.
-module(linx_bench).

-include("linx_bench.hrl").

-export([main/0]).
%% For linx_bench_cases and linx_bench_report.
-export([sh/1, fmt/2]).
-export([now_ns/0, ms_to_ns/1, repeat/2, timed/3, timed_result/1, interleave/4, stats/1]).

%%====================================================================
%% Entry point
%%====================================================================

main() ->
    ok = io:setopts([{encoding, unicode}]),
    ok = logger:set_primary_config(level, warning),
    Names = netns_names(),
    Status = try
                 run(Names)
             catch
                 Class:Reason:Stack ->
                     io:format(standard_error, "~nlinx_bench failed: ~tp:~tP~n~tP~n",
                               [Class, Reason, 30, Stack, 30]),
                     failed
             after
                 delete_netns(Names)
             end,
    case Status of
        ok -> ok;
        failed -> halt(1)
    end.

run(Names) ->
    ok = create_netns(Names),
    {ok, _} = application:ensure_all_started(linx),
    Machine = linx_bench_report:machine_info(),
    linx_bench_report:print_machine(Machine),
    Rows = cases(Names),
    linx_bench_report:print_table(Rows),
    io:format("load at the end: ~ts~n", [linx_bench_report:loadavg()]),
    ok = linx_bench_report:write_json(?JSON_FILE, Machine#{loadavg_end => linx_bench_report:loadavg()}, Rows),
    io:format("~nwritten: ~ts~n", [?JSON_FILE]),
    ok.

cases([Ns1 | _] = Names) ->
    {Ping, Read} = step("P1a/P1b ping and read, interleaved", fun() -> linx_bench_cases:p1(Ns1) end),
    Nsenter = step("P1c nsenter cat", fun() -> linx_bench_cases:p1c(Ns1) end),
    Cached = step("P2a 32 callers, worker cache on", fun() -> linx_bench_cases:load(Names) end),
    NoCache = step("P2b 32 callers, worker cache off", fun() -> linx_bench_cases:p2b(Names) end),
    List = step("P3 list whole tree vs sysctl -a", fun() -> linx_bench_cases:p3(Ns1) end),
    Netlink = step("P4 netlink open", fun() -> linx_bench_cases:p4(Ns1) end),
    Batch = step("P6 batch", fun() -> linx_bench_cases:p6(Ns1) end),
    Cnode = step("P7 C-node call vs Erlang node", fun linx_bench_cases:p7/0),
    LoadedRss = linx_bench_cases:vm_rss(linx_port:os_pid()),
    IdleRss = step("P5a idle RSS", fun linx_bench_cases:p5a/0),
    {PortStart, AppStart} = step("P5b start to ready", fun linx_bench_cases:p5b/0),
    [linx_bench_report:row_ping(Ping),
     linx_bench_report:row_read(Read, Ping),
     linx_bench_report:row_nsenter(Nsenter, Read),
     linx_bench_report:row_cached(Cached),
     linx_bench_report:row_no_cache(NoCache, Cached),
     linx_bench_report:row_list(List),
     linx_bench_report:row_netlink(Netlink),
     linx_bench_report:row_rss(IdleRss, LoadedRss),
     linx_bench_report:row_port_start(PortStart),
     linx_bench_report:row_app_start(AppStart),
     linx_bench_report:row_batch(Batch),
     linx_bench_report:row_cnode(Cnode)].

%% Runs one case, showing its name and how long it took.
step(Label, Fun) ->
    io:format("  ~ts ...", [Label]),
    T0 = now_ns(),
    Result = Fun(),
    io:format(" ~.1f s~n", [(now_ns() - T0) / 1.0e9]),
    Result.

%%====================================================================
%% Namespaces
%%====================================================================

netns_names() ->
    Prefix = "linx-bench-" ++ os:getpid() ++ "-",
    [Prefix ++ integer_to_list(I) || I <- lists:seq(1, ?NETNS_COUNT)].

create_netns([Ns1 | _] = Names) ->
    lists:foreach(fun(Name) -> ok = sh("ip netns add " ++ Name) end, Names),
    %% An interface with a dot in its name gives slash-form keys to P3
    %% (net/ipv4/conf/br.100/...). Best effort: P3's note says if it is there.
    _ = sh("ip -n " ++ Ns1 ++ " link add br.100 type bridge"),
    ok.

delete_netns(Names) ->
    lists:foreach(fun(Name) -> _ = sh("ip netns delete " ++ Name) end, Names).

%% Runs a shell command, discarding its output; ok when it exits with 0.
sh(Cmd) ->
    case os:cmd(Cmd ++ " >/dev/null 2>&1; echo $?") of
        "0\n" -> ok;
        Status -> {error, {Cmd, string:trim(Status)}}
    end.

%%====================================================================
%% Timing and statistics
%%====================================================================

now_ns() ->
    erlang:monotonic_time(nanosecond).

ms_to_ns(Ms) ->
    Ms * 1000000.

repeat(_Fun, 0) ->
    ok;
repeat(Fun, N) ->
    _ = Fun(),
    repeat(Fun, N - 1).

%% Prepends the duration (ns) of each of N calls to Acc.
timed(_Fun, 0, Acc) ->
    Acc;
timed(Fun, N, Acc) ->
    T0 = now_ns(),
    ok = Fun(),
    timed(Fun, N - 1, [now_ns() - T0 | Acc]).

timed_result(Fun) ->
    T0 = now_ns(),
    Result = Fun(),
    {now_ns() - T0, Result}.

%% Times A and B in alternating blocks (A first, then B first, ...) so that
%% noise on the machine falls on both alike.
interleave(A, B, Block, Rounds) ->
    interleave(A, B, Block, Rounds, [], []).

interleave(_A, _B, _Block, 0, As, Bs) ->
    {stats(As), stats(Bs)};
interleave(A, B, Block, Rounds, As, Bs) when Rounds rem 2 =:= 0 ->
    As1 = timed(A, Block, As),
    interleave(A, B, Block, Rounds - 1, As1, timed(B, Block, Bs));
interleave(A, B, Block, Rounds, As, Bs) ->
    Bs1 = timed(B, Block, Bs),
    interleave(A, B, Block, Rounds - 1, timed(A, Block, As), Bs1).

%% Durations in ns; statistics in µs, ops/s for one caller.
stats(Durations) ->
    Sorted = list_to_tuple(lists:sort(Durations)),
    N = tuple_size(Sorted),
    Mean = lists:sum(Durations) / N / 1000,
    #{n => N,
      p50 => percentile(Sorted, 0.50) / 1000,
      p99 => percentile(Sorted, 0.99) / 1000,
      ops => 1.0e6 / Mean}.

%% Nearest-rank percentile of a sorted tuple.
percentile(Sorted, P) ->
    element(max(1, ceil(P * tuple_size(Sorted))), Sorted).

%% Text from a format, as a flat string.
fmt(Format, Args) ->
    lists:flatten(io_lib:format(Format, Args)).
