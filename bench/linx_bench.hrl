%% The workload of `make bench': namespaces, keys and how many of each
%% measurement, shared by linx_bench, its cases (linx_bench_cases,
%% linx_bench_nl_cases, linx_bench_batch_cases) and linx_bench_report.

-define(NETNS_COUNT, 4).
-define(KEY, <<"net.ipv4.ip_forward">>).
-define(REL_PATH, <<"net/ipv4/ip_forward">>).

%% P1: sequential calls, measured in interleaved blocks.
-define(SEQ_N, 20000).
-define(SEQ_WARM, 2000).
-define(SEQ_BLOCK, 1000).
-define(CMD_N, 200).
-define(CMD_WARM, 10).
%% P2: concurrent callers for a fixed time.
-define(LOAD_PROCS, 32).
-define(LOAD_WARM_MS, 500).
-define(LOAD_RUN_MS, 3000).
%% P3, P4, P5, P6.
-define(LIST_N, 20).
-define(LIST_WARM, 2).
-define(NL_N, 5000).
-define(NL_WARM, 200).
-define(START_N, 20).
-define(START_WARM, 2).
-define(IDLE_WAIT_MS, 1000).
-define(IDLE_CPU_MS, 2000).
-define(BATCH_SIZE, 100).
-define(BATCH_N, 100).
-define(BATCH_BLOCK, 10).

%% P8: rtnetlink; P9: namespaces.
-define(VETH_PAIRS, 500).
-define(LINKS_N, 40).
%% P8d, P8e: the routes and the rules dumped.
-define(ROUTES, 10000).
-define(RULES, 1000).
-define(LINKS_BLOCK, 5).
-define(LINKS_WARM, 3).
-define(ADDRS, 1000).
-define(ADDR_RUNS, 7).
-define(PAIR_N, 6000).
-define(PAIR_BLOCK, 500).
-define(PAIR_WARM, 500).
%% P10: a hub netns and its spokes, set up and torn down HUB_RUNS times
%% by each side (after one untimed round).
-define(SPOKES, 32).
-define(HUB_RUNS, 5).
-define(NETNS_N, 200).
-define(NETNS_BLOCK, 20).
-define(NETNS_WARM, 10).

%% Reference figure for this machine kind: a bare {packet,4} echo port
%% (a few lines of C), one round trip at a time from Erlang.
-define(ECHO_REF_US, 53.7).

-define(JSON_FILE, "_build/bench/latest.json").
