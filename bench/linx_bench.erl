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
%%   P1d NIF read          the seeds' NIF design (bench/c_src), same key and
%%                         netns, interleaved with P1a/P1b [read <= 0.3 x NIF]
%%   P1e NIF read, dirty   the same on a dirty I/O scheduler [read <= 0.3 x NIF]
%%   P1b' read, spin 0     P1b with the port started with --spin-us 0 (info)
%%   P2a 32 callers        reads/s from 32 processes over 4 netns [>= 250,000/s]
%%   P2b same, no cache    port started with --no-worker-cache [P2a >= 3 x P2b]
%%   P2c NIF, 32 callers   P2a's load through the NIF       [P2a >= 4 x P2c]
%%   P2d NIF dirty, 32     the same, dirty I/O scheduler    [P2a >= 4 x P2d]
%%   P2e port CPU/read     the port's CPU time during P2a per read (info)
%%   P2a' 32 callers, spin 0  P2a with --spin-us 0 (info)
%%   P2f one scheduler     P2a from a peer node started with +S 1 (info)
%%   P2g ping, 32 callers  P2a's load of pings: the round trip alone, and
%%                         the CPU time (node + port) per call (info)
%%   P3  list whole tree   linx_sysctl:list/2 vs `sysctl -a' [<= 0.2 x, same keys]
%%   P4  netlink open      linx_netlink:open/2 (the open only) [p50 <= 150 us]
%%   P5a idle RSS          VmRSS of an idle port program [<= 5120 kB]
%%   P5b start to ready    open_port to ready frame, and application restart [<= 20 ms]
%%   P5c idle CPU          the port's CPU time over 2 s without requests,
%%                         right after P2a [< 5 ms]
%%   P6  batch             100 reads in one batch vs 100 sequential reads (info)
%%   P7  C-node call       gen_server:call to linx_port --cnode vs the same call
%%                         to a plain gen_server on a peer node [p50 <= 1.2 x]
%%   P8a links dump        linx_rtnl:links/1 in a netns of 500 veth pairs vs
%%                         `ip -j link show' [p50 <= 0.5 x, same names]
%%   P8b 1,000 addr_add    one linx_rtnl:batch/2 of 1,000 addr_add vs `ip -n NS
%%                         -batch' of the same commands [<= 0.8 x]; the
%%                         note gives 1,000 single calls and a raw loop
%%   P8c addr_add + del    linx_rtnl:addr_add/3 + addr_del/3, p50, vs a ping
%%                         interleaved with it [<= 6 x ping]
%%   P9a netns add+delete  linx_netns:add/1 + delete/1 vs `ip netns add' +
%%                         `ip netns del' (info)
%%   P9b netns new+release linx_netns:new/0 + release/1 (info)
%%   P10 32-node hub       the time to build and tear down a 32-node hub
%%                         (a hub netns with a bridge, 32 node netns on
%%                         veth pairs; addresses, default routes, sysctls)
%%                         by linx_ct:setup/1 (`hub') + cleanup/1 vs a
%%                         shell script of `ip' and `sysctl' commands
%%                         [<= 0.2 x]
%%   P10' the same         vs `ip -n NS -batch FILE' per namespace [<= 0.7 x]
%%   P11a 1,000 nft rules  one linx_nft:apply/2 of a table, a chain and 1,000
%%                         rules vs `nft -f' of the same text [<= 0.5 x]
%%   P11b ruleset dump     linx_nft:ruleset/1 of them vs `nft -j list
%%                         ruleset' [<= 0.5 x]
%%
%% The results are printed as a table and written to _build/bench/latest.json.
%% LINX_BENCH_CASES runs some cases only: ids separated by commas or
%% spaces, a prefix selecting a group ("P8" is P8a to P8e); the cases
%% they need run too, in the usual order.
%%
%% Modules: linx_bench (this one: entry point, namespaces, timing and
%% statistics), linx_bench_cases (the sysctl and port cases: P1 to P3, P5
%% to P7), linx_bench_nl_cases (the netlink and namespace cases: P4, P8a,
%% P9), linx_bench_batch_cases (rtnetlink changes and batches: P8b, P8c,
%% P10), linx_bench_nft_cases (nf_tables: P11a, P11b, and their rows),
%% linx_bench_report (rows and machine information),
%% linx_bench_table (the table and JSON), linx_bench_port (the port
%% started with other arguments, its CPU time and memory), linx_bench_nif
%% (the NIF baseline's stub); the workload is in linx_bench.hrl.
-module(linx_bench).

-include("linx_bench.hrl").

-export([main/0]).
%% For the cases (linx_bench_*_cases) and linx_bench_report.
-export([sh/1, fmt/2, extra_netns/1, with_netns/2, batch_file/2]).
-export([now_ns/0, ms_to_ns/1, sleep_until/1, repeat/2, timed/3, timed_result/1, interleave/3,
         alternate/2, stats/1]).

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
    linx_bench_table:print_machine(Machine),
    Rows = cases(Names),
    Machine1 = Machine#{loadavg_end => linx_bench_report:loadavg()},
    linx_bench_table:print(Rows, Machine1),
    ok = linx_bench_table:write_json(?JSON_FILE, Machine1, Rows),
    io:format("~nwritten: ~ts~n", [?JSON_FILE]),
    ok.

%% The cases in the order they run, each `{Key, Label, Needs, Fun}': Fun
%% gets the results so far (the steps it Needs among them) and returns
%% its own. The order matters (see the comments); a run of some cases
%% only (LINX_BENCH_CASES) keeps it.
steps([Ns1 | _] = Names) ->
    [%% P8c first: once this node has started another program through a
     %% port (P2b does, to try the port program's arguments; os:cmd/1
     %% does not), a change through the port takes twice as long for the
     %% rest of the node's life, and a ping 0.7 times (see
     %% docs/benchmarks.md).
     {p8c, "P8c addr_add + addr_del vs ping", [],
      fun(_) -> linx_bench_batch_cases:p8c(extra_netns(13)) end},
     {nif, "loading the NIF baseline", [], fun(_) -> load_nif() end},
     {p1, "P1a/P1b/P1d/P1e ping, read and NIF reads, interleaved", [nif],
      fun(#{nif := Nif}) -> linx_bench_cases:p1(Ns1, Nif) end},
     {p1c, "P1c nsenter cat", [], fun(_) -> linx_bench_cases:p1c(Ns1) end},
     {p2a, "P2a 32 callers, worker cache on", [], fun(_) -> linx_bench_cases:p2a(Names) end},
     {p5c, "P5c idle CPU right after P2a", [p2a], fun(_) -> linx_bench_cases:p5c() end},
     {p2g, "P2g P2a's load of pings", [], fun(_) -> linx_bench_cases:p2g(Names) end},
     {p2c, "P2c NIF, 32 callers", [nif],
      fun(#{nif := Nif}) -> linx_bench_cases:nif_load(Names, read, Nif) end},
     {p2d, "P2d NIF dirty, 32 callers", [nif],
      fun(#{nif := Nif}) -> linx_bench_cases:nif_load(Names, read_dirty, Nif) end},
     {p2b, "P2b 32 callers, worker cache off", [], fun(_) -> linx_bench_cases:p2b(Names) end},
     {spin0, "P1b'/P2a' with --spin-us 0", [], fun(_) -> linx_bench_cases:spin0(Names) end},
     {p2f, "P2f P2a from a node with one scheduler", [],
      fun(_) -> linx_bench_cases:one_scheduler(Names) end},
     {p3, "P3 list whole tree vs sysctl -a", [], fun(_) -> linx_bench_cases:p3(Ns1) end},
     {p4, "P4 netlink open", [], fun(_) -> linx_bench_nl_cases:p4(Ns1) end},
     {p6, "P6 batch", [], fun(_) -> linx_bench_cases:p6(Ns1) end},
     {p7, "P7 C-node call vs Erlang node", [], fun(_) -> linx_bench_cases:p7() end},
     %% The other rtnetlink changes before P8a: a deleted namespace is
     %% freed by the kernel later, under its rtnl lock, and P8a's 500 veth
     %% pairs would slow every change made after them.
     {p8b, "P8b 1,000 addr_add in one batch vs ip -batch", [],
      fun(_) -> linx_bench_batch_cases:p8b(extra_netns(11)) end},
     {p10, "P10 32-node hub, built and torn down, vs a shell script and ip -batch", [],
      fun(_) -> linx_bench_batch_cases:p10(100) end},
     {p11, "P11a/P11b 1,000 nft rules, applied and dumped, vs nft -f and nft -j", [],
      fun(_) -> linx_bench_nft_cases:p11(extra_netns(16)) end},
     {p8d, "P8d routes dump, 10,000 routes, vs ip -j route show", [],
      fun(_) -> linx_bench_nl_cases:p8d(extra_netns(14)) end},
     {p8e, "P8e rules dump, 1,000 rules, vs ip -j rule show", [],
      fun(_) -> linx_bench_nl_cases:p8e(extra_netns(15)) end},
     {p8a, "P8a links dump, 1,000 links, vs ip -j link show", [],
      fun(_) -> linx_bench_nl_cases:p8a(extra_netns(10)) end},
     {p9a, "P9a netns add + delete vs ip netns", [],
      fun(_) -> linx_bench_nl_cases:p9a(extra_netns(12)) end},
     {p9b, "P9b netns new + release", [], fun(_) -> linx_bench_nl_cases:p9b() end},
     {loaded_rss, "the port's RSS after the load", [],
      fun(_) -> linx_bench_port:vm_rss(linx_port:os_pid()) end},
     {p5a, "P5a idle RSS", [], fun(_) -> linx_bench_cases:p5a() end},
     {p5b, "P5b start to ready", [], fun(_) -> linx_bench_cases:p5b() end}].

%% The rows of the table in order, each `{Id, Steps, Fun}': Fun makes
%% the row from the results of Steps.
rows() ->
    R = linx_bench_report,
    [{<<"P1a">>, [p1], fun(#{p1 := {Ping, _, _, _}}) -> R:row_ping(Ping) end},
     {<<"P1b">>, [p1], fun(#{p1 := {Ping, Read, _, _}}) -> R:row_read(Read, Ping) end},
     {<<"P1c">>, [p1, p1c], fun(#{p1 := {_, Read, _, _}, p1c := N}) -> R:row_nsenter(N, Read) end},
     {<<"P1d">>, [p1], fun(#{p1 := {_, Read, Nif, _}}) -> R:row_nif(<<"P1d">>, Nif, Read) end},
     {<<"P1e">>, [p1], fun(#{p1 := {_, Read, _, Nif}}) -> R:row_nif(<<"P1e">>, Nif, Read) end},
     {<<"P1b'">>, [p1, spin0],
      fun(#{p1 := {_, Read, _, _}, spin0 := S}) -> R:row_spin_read(S, Read) end},
     {<<"P2a">>, [p2a], fun(#{p2a := C}) -> R:row_cached(C) end},
     {<<"P2b">>, [p2a, p2b], fun(#{p2a := C, p2b := N}) -> R:row_no_cache(N, C) end},
     {<<"P2c">>, [p2a, p2c], fun(#{p2a := C, p2c := N}) -> R:row_nif_load(<<"P2c">>, N, C) end},
     {<<"P2d">>, [p2a, p2d], fun(#{p2a := C, p2d := N}) -> R:row_nif_load(<<"P2d">>, N, C) end},
     {<<"P2e">>, [p2a], fun(#{p2a := C}) -> R:row_port_cpu(C) end},
     {<<"P2a'">>, [p2a, spin0], fun(#{p2a := C, spin0 := S}) -> R:row_spin_load(S, C) end},
     {<<"P2f">>, [p2a, p2f], fun(#{p2a := C, p2f := F}) -> R:row_one_scheduler(F, C) end},
     {<<"P2g">>, [p2a, p2g], fun(#{p2a := C, p2g := G}) -> R:row_ping_load(G, C) end},
     {<<"P3">>, [p3], fun(#{p3 := L}) -> R:row_list(L) end},
     {<<"P4">>, [p4], fun(#{p4 := N}) -> R:row_netlink(N) end},
     {<<"P5a">>, [loaded_rss, p5a], fun(#{p5a := I, loaded_rss := L}) -> R:row_rss(I, L) end},
     {<<"P5b">>, [p5b], fun(#{p5b := {Port, _}}) -> R:row_port_start(Port) end},
     {<<"P5b'">>, [p5b], fun(#{p5b := {_, App}}) -> R:row_app_start(App) end},
     {<<"P5c">>, [p2a, p5c], fun(#{p5c := I}) -> R:row_idle_cpu(I) end},
     {<<"P6">>, [p6], fun(#{p6 := B}) -> R:row_batch(B) end},
     {<<"P7">>, [p7], fun(#{p7 := C}) -> R:row_cnode(C) end},
     {<<"P8a">>, [p8a], fun(#{p8a := L}) -> R:row_links(L) end},
     {<<"P8d">>, [p8d], fun(#{p8d := D}) -> R:row_dump(routes, D) end},
     {<<"P8e">>, [p8e], fun(#{p8e := D}) -> R:row_dump(rules, D) end},
     {<<"P8b">>, [p8b], fun(#{p8b := A}) -> R:row_addr_add(A) end},
     {<<"P8c">>, [p8c], fun(#{p8c := P}) -> R:row_addr_pair(P) end},
     {<<"P9a">>, [p9a], fun(#{p9a := A}) -> R:row_netns_add(A) end},
     {<<"P9b">>, [p9a, p9b], fun(#{p9a := A, p9b := N}) -> R:row_netns_new(N, A) end},
     {<<"P10">>, [p10], fun(#{p10 := H}) -> R:row_hub(H, shell) end},
     {<<"P10'">>, [p10], fun(#{p10 := H}) -> R:row_hub(H, ip_batch) end},
     {<<"P11a">>, [p11], fun(#{p11 := N}) -> linx_bench_nft_cases:row_apply(N) end},
     {<<"P11b">>, [p11], fun(#{p11 := N}) -> linx_bench_nft_cases:row_dump(N) end}].

%% Runs the steps the selected rows need, in order, and makes the rows.
cases(Names) ->
    Rows = [Row || {Id, _, _} = Row <- rows(), selected(Id)],
    Wanted = lists:usort(lists:append([Needs || {_, Needs, _} <- Rows])),
    Steps = steps(Names),
    Needed = needed(lists:reverse(Steps), Wanted),
    Results = lists:foldl(fun({Key, Label, _, Fun}, Acc) ->
                                  case lists:member(Key, Needed) of
                                      true -> Acc#{Key => step(Label, fun() -> Fun(Acc) end)};
                                      false -> Acc
                                  end
                          end, #{}, Steps),
    [Fun(Results) || {_, _, Fun} <- Rows].

%% The steps wanted and those they need, from the last step back.
needed([{Key, _, Needs, _} | Rest], Wanted) ->
    case lists:member(Key, Wanted) of
        true -> needed(Rest, lists:usort(Needs ++ Wanted));
        false -> needed(Rest, Wanted)
    end;
needed([], Wanted) ->
    Wanted.

%% Whether row Id runs: LINX_BENCH_CASES unset or empty runs all; else
%% it lists ids separated by commas or spaces, and an id selects itself
%% and the ids it begins that go on with a letter or `'' ("P8" selects
%% P8a to P8e, "P1b" selects P1b and P1b', neither selects P10).
selected(Id) ->
    case string:lexemes(os:getenv("LINX_BENCH_CASES", ""), ", ") of
        [] -> true;
        Wanted -> lists:any(fun(W) -> selects(list_to_binary(W), Id) end, Wanted)
    end.

selects(W, Id) ->
    Size = byte_size(W),
    case Id of
        W -> true;
        <<W:Size/binary, C, _/binary>> -> not (C >= $0 andalso C =< $9);
        _ -> false
    end.

%% ok, or {na, Why} for the NIF's rows (scripts/bench skips building it
%% when gcc or erl_nif.h is missing).
load_nif() ->
    case linx_bench_nif:load() of
        ok -> ok;
        {error, Text} -> {na, "the NIF baseline did not load: " ++ Text}
    end.

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
    [extra_netns(I) || I <- lists:seq(1, ?NETNS_COUNT)].

%% The name of the run's netns number I: the four of every case are 1 to 4;
%% P8 and P9 make (and delete) their own from 10 on, P10's shell scripts
%% from 100 on (linx_ct:setup/1 names P10's linx side
%% `linx-bench-<key>-<ospid>-<n>'). scripts/bench removes any left by a VM
%% that is gone.
extra_netns(I) ->
    "linx-bench-" ++ os:getpid() ++ "-" ++ integer_to_list(I).

create_netns([Ns1 | _] = Names) ->
    lists:foreach(fun(Name) -> ok = sh("ip netns add " ++ Name) end, Names),
    %% An interface with a dot in its name gives slash-form keys to P3
    %% (net/ipv4/conf/br.100/...). Best effort: P3's note says if it is there.
    _ = sh("ip -n " ++ Ns1 ++ " link add br.100 type bridge"),
    ok.

delete_netns(Names) ->
    lists:foreach(fun(Name) -> _ = sh("ip netns delete " ++ Name) end, Names).

%% Runs Fun with netns Ns made for it, and deletes it afterwards.
with_netns(Ns, Fun) ->
    case sh("ip netns add " ++ Ns) of
        ok ->
            try
                Fun()
            after
                _ = sh("ip netns delete " ++ Ns)
            end;
        {error, Why} ->
            {na, fmt("cannot make netns ~ts: ~0tp", [Ns, Why])}
    end.

%% A file Name (for `ip -batch', a shell script) next to the JSON output.
batch_file(Name, Lines) ->
    File = filename:join(filename:dirname(?JSON_FILE), Name ++ ".batch"),
    ok = filelib:ensure_dir(File),
    ok = file:write_file(File, Lines),
    File.

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

%% Sleeps until the monotonic time Ns (now_ns/0), if it is still ahead.
sleep_until(Ns) ->
    timer:sleep(max(0, (Ns - now_ns()) div 1000000)).

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

%% Times each of Funs in blocks of Block calls, Rounds times, starting
%% each round one function later (A B C, B C A, C A B, ...) so that noise
%% on the machine falls on all alike. Returns their statistics in order.
interleave(Funs, Block, Rounds) ->
    N = length(Funs),
    Indexed = lists:zip(lists:seq(1, N), Funs),
    Acc = lists:foldl(
            fun(Round, Acc0) ->
                    {Later, First} = lists:split(Round rem N, Indexed),
                    lists:foldl(fun({I, Fun}, A) -> A#{I => timed(Fun, Block, maps:get(I, A))} end,
                                Acc0, First ++ Later)
            end,
            maps:from_list([{I, []} || I <- lists:seq(1, N)]), lists:seq(1, Rounds)),
    [stats(maps:get(I, Acc)) || I <- lists:seq(1, N)].

%% Calls each of Funs Runs times, starting each round one function later
%% (as interleave/3 does), for cases whose calls are long and time
%% themselves (with untimed work between, such as a clean-up). Returns
%% what each fun returned, a list per fun, in order.
alternate(Funs, Runs) ->
    N = length(Funs),
    Indexed = lists:zip(lists:seq(1, N), Funs),
    Acc = lists:foldl(
            fun(Round, Acc0) ->
                    {Later, First} = lists:split(Round rem N, Indexed),
                    lists:foldl(fun({I, Fun}, A) -> A#{I => [Fun() | maps:get(I, A)]} end,
                                Acc0, First ++ Later)
            end,
            maps:from_list([{I, []} || I <- lists:seq(1, N)]), lists:seq(1, Runs)),
    [lists:reverse(maps:get(I, Acc)) || I <- lists:seq(1, N)].

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
