%% The report of `make bench': one row per case with its target, the
%% machine it ran on (linx_bench_table prints the rows and writes the JSON).
-module(linx_bench_report).

-include("linx_bench.hrl").

-export([row_ping/1, row_read/2, row_nsenter/2, row_nif/3, row_spin_read/2, row_one_scheduler/2,
         row_cached/1, row_no_cache/2, row_nif_load/3, row_port_cpu/1, row_spin_load/2,
         row_ping_load/2,
         row_list/1, row_netlink/1, row_rss/2, row_port_start/1, row_app_start/1,
         row_idle_cpu/1, row_batch/1, row_cnode/1]).
-export([row_links/1, row_dump/2, row_addr_add/1, row_addr_pair/1, row_netns_add/1, row_netns_new/2, row_hub/2]).
-export([machine_info/0, loadavg/0]).
%% For the rows of other modules (linx_bench_nft_cases).
-export([row/3, na_row/4, with/2]).

-import(linx_bench_table, [us/1, group/1]).

%%====================================================================
%% Rows
%%====================================================================

%% A row of the report. `target' is {le | lt | ge, Limit, Of}, Of one of
%% ratio, p50 and ops; `met' is derived from it unless given.
row(Id, Name, Fields) ->
    Row = maps:merge(#{id => Id, name => Name, status => ok, unit => us,
                       p50 => undefined, p99 => undefined, ops => undefined,
                       baseline => undefined, ratio => undefined,
                       target => undefined, note => "", extra => #{}},
                     Fields),
    Row#{met => maps:get(met, Fields, met(Row))}.

%% A case that could not run: the cells say n/a and the note says why.
na_row(Id, Name, Target, Why) ->
    row(Id, Name, #{status => na, target => Target, note => Why, met => undefined}).

met(#{status := na}) -> undefined;
met(#{target := undefined}) -> undefined;
met(#{target := {Cmp, Limit, Of}} = Row) -> compare(Cmp, maps:get(Of, Row), Limit).

compare(_, undefined, _) -> undefined;
compare(le, Value, Limit) -> Value =< Limit;
compare(lt, Value, Limit) -> Value < Limit;
compare(ge, Value, Limit) -> Value >= Limit.

latency(#{p50 := P50, p99 := P99, ops := Ops, n := N} = Stats) ->
    Errors = length(maps:get(errors, Stats, [])),
    #{p50 => P50, p99 => P99, ops => Ops, extra => #{samples => N, errors => Errors}}.

with(Fields, Stats) ->
    maps:merge(latency(Stats), Fields).

%% A row of Stats compared with Base ({Value, Unit, What}) by Ratio.
compared(Id, Name, Stats, {Base, Ratio}, Target, Note) ->
    row(Id, Name, with(#{baseline => Base, ratio => Ratio, target => Target, note => Note}, Stats)).

add_extra(Row, Extra) ->
    Row#{extra := maps:merge(maps:get(extra, Row), Extra)}.

p50(Stats) -> maps:get(p50, Stats).
ops(Stats) -> maps:get(ops, Stats).

row_ping(Ping) ->
    row(<<"P1a">>, "ping",
        with(#{baseline => {?ECHO_REF_US, us, "echo port (ref.)"},
               ratio => maps:get(p50, Ping) / ?ECHO_REF_US,
               note => "bare {packet,4} echo through linx_port; the baseline of P1b"},
             Ping)).

row_read(Read, Ping) ->
    row(<<"P1b">>, "read netns",
        with(#{baseline => {maps:get(p50, Ping), us, "ping"},
               ratio => maps:get(p50, Read) / maps:get(p50, Ping),
               target => {le, 1.3, ratio},
               note => linx_bench:fmt("p50(read) - p50(ping) = ~ts µs; interleaved with P1a in blocks of ~b",
                           [us(p50(Read) - p50(Ping)), ?SEQ_BLOCK])},
             Read)).

row_nsenter(Nsenter, Read) ->
    row(<<"P1c">>, "nsenter cat",
        with(#{baseline => {maps:get(p50, Read), us, "read"},
               ratio => maps:get(p50, Nsenter) / maps:get(p50, Read),
               target => {ge, 40, ratio}},
             Nsenter)).

nif_name(<<"P1d">>) -> "NIF read (seeds' design)";
nif_name(<<"P1e">>) -> "NIF read, dirty I/O";
nif_name(<<"P2c">>) -> "NIF, 32 callers";
nif_name(<<"P2d">>) -> "NIF dirty, 32 callers".

nif_scheduler(Id) when Id =:= <<"P1d">>; Id =:= <<"P2c">> -> "on a normal scheduler";
nif_scheduler(_Id) -> "on a dirty I/O scheduler".

row_nif(Id, {na, Why}, _Read) ->
    na_row(Id, nif_name(Id), {le, 0.3, ratio}, Why);
row_nif(Id, Nif, Read) ->
    compared(Id, nif_name(Id), Nif, {{p50(Read), us, "P1b read"}, p50(Read) / p50(Nif)},
             {le, 0.3, ratio},
             linx_bench:fmt("ratio = p50(P1b) / p50(NIF): linx's read at most 0.3× the old design's; "
                            "the NIF opens the netns file, then setns in a throwaway thread per read, "
                            "~ts; interleaved with P1a/P1b in blocks of ~b",
                            [nif_scheduler(Id), ?SEQ_BLOCK])).

row_spin_read({na, Why}, _Read) ->
    na_row(<<"P1b'">>, "read netns, --spin-us 0", undefined, Why);
row_spin_read({Ping, Read0, _Load}, Read) ->
    Row = compared(<<"P1b'">>, "read netns, --spin-us 0", Read0,
                   {{p50(Read), us, "P1b read"}, p50(Read0) / p50(Read)}, undefined,
                   linx_bench:fmt("port started with --spin-us 0; ratio = p50(this) / p50(P1b); ping "
                                  "p50 ~ts µs, p99 ~ts µs, interleaved with it in blocks of ~b",
                                  [us(p50(Ping)), us(maps:get(p99, Ping)), ?SEQ_BLOCK])),
    add_extra(Row, #{ping_p50_us => p50(Ping), ping_p99_us => maps:get(p99, Ping)}).

row_cached({na, Why}) ->
    na_row(<<"P2a">>, "32 callers, 4 netns, cached", {ge, 250000, ops}, Why);
row_cached(Load) ->
    row(<<"P2a">>, "32 callers, 4 netns, cached",
        with(#{target => {ge, 250000, ops},
               note => load_note(Load) ++ "; the absolute target is for a quiet machine"}, Load)).

row_no_cache(NoCache, Cached) ->
    vs_p2a(<<"P2b">>, "same, worker cache off", {ge, 3, ratio}, NoCache, Cached).

row_nif_load(Id, Load, Cached) ->
    vs_p2a(Id, nif_name(Id), {ge, 4, ratio}, Load, Cached).

%% A load compared with P2a: ratio = rate(P2a) / rate(Load).
vs_p2a(Id, Name, Target, {na, Why}, _Cached) ->
    na_row(Id, Name, Target, Why);
vs_p2a(Id, Name, Target, _Load, {na, _}) ->
    na_row(Id, Name, Target, "P2a did not run");
vs_p2a(Id, Name, Target, Load, Cached) ->
    compared(Id, Name, Load, {{ops(Cached), ops, "P2a"}, ops(Cached) / ops(Load)}, Target,
             "ratio = rate(P2a) / rate(this); " ++ load_note(Load)).

row_port_cpu({na, Why}) ->
    na_row(<<"P2e">>, "port CPU per read in P2a", undefined, Why);
row_port_cpu(#{port_cpu_us := CpuUs, node_cpu_us := NodeUs, requests := N} = Load) ->
    row(<<"P2e">>, "port CPU per read in P2a",
        #{p50 => CpuUs / N,
          note => linx_bench:fmt("utime + stime of the port program (/proc/PID/stat) over P2a's "
                                 "counted ~.1f s: ~ts ms for ~ts reads; ~ts",
                                 [?LOAD_RUN_MS / 1000, us(CpuUs / 1000), group(N), cpu_per_call(Load)]),
          extra => #{port_cpu_us => CpuUs, node_cpu_us => NodeUs, requests => N}}).

%% P2g: the round trip alone (pings) under P2a's load.
row_ping_load(Load, Cached) ->
    info_vs_p2a(<<"P2g">>, "ping, 32 callers", Load, Cached,
                "P2a's load of pings, answered by the port's reader at once: the round trip "
                "alone, with no key, options, namespace or read").

%% An information row of a load compared with P2a: ratio = rate(this) /
%% rate(P2a), with the CPU time per call. What says what the load is.
info_vs_p2a(Id, Name, {na, Why}, _Cached, _What) ->
    na_row(Id, Name, undefined, Why);
info_vs_p2a(Id, Name, _Load, {na, _}, _What) ->
    na_row(Id, Name, undefined, "P2a did not run");
info_vs_p2a(Id, Name, #{port_cpu_us := PortUs, node_cpu_us := NodeUs, requests := N} = Load,
            Cached, What) ->
    Row = compared(Id, Name, Load, {{ops(Cached), ops, "P2a"}, ops(Load) / ops(Cached)}, undefined,
                   linx_bench:fmt("~ts; ratio = rate(this) / rate(P2a); ~ts; ~ts",
                                  [What, cpu_per_call(Load), load_note(Load)])),
    add_extra(Row, #{port_cpu_us => PortUs, node_cpu_us => NodeUs, requests => N}).

%% The CPU time a load took per call, node and port. Both spin while
%% they wait (the port's reader, the node's schedulers), so on a machine
%% kept busy the two add up to about all of its cores.
cpu_per_call(#{port_cpu_us := PortUs, node_cpu_us := NodeUs, requests := N}) ->
    linx_bench:fmt("CPU per call, spinning included: node ~ts µs, port ~ts µs",
                   [us(NodeUs / N), us(PortUs / N)]).

row_spin_load({_Ping, _Read, Load}, Cached) ->
    row_spin_load(Load, Cached);
row_spin_load(Load, Cached) ->
    info_vs_p2a(<<"P2a'">>, "32 callers, --spin-us 0", Load, Cached, "port started with --spin-us 0").

row_one_scheduler(Load, Cached) ->
    info_vs_p2a(<<"P2f">>, "32 callers, node +S 1", Load, Cached,
                "P2a's load from a peer node started with +S 1 (one scheduler; the port keeps "
                "the other core), with its own port").

load_note(#{errors := Errors}) ->
    linx_bench:fmt("~b callers for ~.1f s after ~.1f s warm-up~ts",
        [?LOAD_PROCS, ?LOAD_RUN_MS / 1000, ?LOAD_WARM_MS / 1000, linx_bench_cases:errors_text(Errors)]).

row_list(#{sysctl := Sysctl, keys := Keys} = List) ->
    Equal = maps:get(plus, Keys) =:= [] andalso maps:get(minus, Keys) =:= [],
    Row = row(<<"P3">>, "list whole tree",
              with(#{baseline => {maps:get(p50, Sysctl), us, "sysctl -a"},
                     ratio => maps:get(p50, List) / maps:get(p50, Sysctl),
                     target => {le, 0.2, ratio},
                     note => keys_note(Keys, Equal)},
                   List)),
    Row#{met := maps:get(met, Row) andalso Equal,
         extra := (maps:get(extra, Row))#{keys_equal => Equal,
                                           keys => maps:get(count, Keys),
                                           keys_plus => maps:get(plus, Keys),
                                           keys_minus => maps:get(minus, Keys),
                                           keys_empty_value => maps:get(empty, Keys),
                                           sysctl_p99_us => maps:get(p99, Sysctl)}}.

keys_note(Keys, Equal) ->
    #{count := Count, plus := Plus, minus := Minus, hidden := Hidden, empty := Empty} = Keys,
    Yes = case Equal of true -> "yes"; false -> "no" end,
    linx_bench:fmt("keys equal: ~ts (+~b -~b), ~b keys (~b in slash form)~ts; compared with "
        "`sysctl -a --deprecated`, since plain `sysctl -a` (the one timed) hides ~b "
        "deprecated key(s)~ts; not counted: ~b key(s) with an empty value, for which "
        "sysctl prints no line (~ts)",
        [Yes, length(Plus), length(Minus), Count, maps:get(slash, Keys),
         key_sample(Plus, Minus), length(Hidden), example(Hidden), length(Empty),
         key_list(Empty)]).

key_sample([], []) -> "";
key_sample(Plus, Minus) ->
    linx_bench:fmt(" [only linx: ~ts; only sysctl: ~ts]", [key_list(Plus), key_list(Minus)]).

key_list([]) -> "-";
key_list(Keys) when length(Keys) =< 5 -> lists:join(", ", [binary_to_list(K) || K <- Keys]);
key_list(Keys) -> key_list(lists:sublist(Keys, 5)) ++ linx_bench:fmt(" and ~b more", [length(Keys) - 5]).

example([]) -> "";
example([K | _]) -> linx_bench:fmt(", e.g. ~ts", [K]).

row_netlink({na, Why}) ->
    na_row(<<"P4">>, "netlink open", {le, 150, p50}, Why);
row_netlink(Open) ->
    row(<<"P4">>, "netlink open",
        with(#{target => {le, 150, p50}, note => "route socket in a netns; the close is not timed"},
             Open)).

row_rss(Idle, Loaded) ->
    row(<<"P5a">>, "idle RSS",
        #{unit => kb, p50 => Idle, target => {le, 5120, p50},
          note => linx_bench:fmt("VmRSS of a fresh port after ~b ms idle; ~b kB right after the load runs",
                      [?IDLE_WAIT_MS, Loaded]),
          extra => #{rss_after_load_kb => Loaded}}).

row_port_start(Start) ->
    row(<<"P5b">>, "start to ready (port)",
        with(#{target => {le, 20000, p50}, ops => undefined,
               note => "open_port of priv/linx_port until its ready frame"},
             Start)).

row_app_start(Start) ->
    row(<<"P5b'">>, "start to ready (app restart)",
        with(#{target => {le, 20000, p50}, ops => undefined,
               note => "application:ensure_all_started(linx) after application:stop(linx)"},
             Start)).

row_idle_cpu(#{cpu_us := CpuUs, tick_us := TickUs, sched_us := SchedUs}) ->
    row(<<"P5c">>, "idle CPU, 2 s after P2a",
        #{p50 => CpuUs, target => {lt, 5000, p50},
          note => linx_bench:fmt("utime + stime of the port program over ~b ms without requests, "
                                 "right after P2a, in clock ticks of ~ts ms; the run time of its live "
                                 "threads (schedstat) over the same time: ~ts µs",
                                 [?IDLE_CPU_MS, us(TickUs / 1000), us(SchedUs)]),
          extra => #{cpu_us => CpuUs, tick_us => TickUs, sched_us => SchedUs}}).

row_batch({na, Why}) ->
    na_row(<<"P6">>, "batch of 100 reads", undefined, Why);
row_batch({Batch, Seq}) ->
    Row = row(<<"P6">>, "batch of 100 reads",
              with(#{baseline => {maps:get(p50, Seq), us, "100 reads"},
                     ratio => maps:get(p50, Batch) / maps:get(p50, Seq),
                     note => "per batch; ops/s counts reads; baseline: 100 sequential "
                             "sysctl_read port requests"},
                   Batch)),
    Row#{ops := maps:get(ops, Row) * ?BATCH_SIZE}.

row_cnode({na, Why}) ->
    na_row(<<"P7">>, "C-node call", {le, 1.2, ratio}, Why);
row_cnode({Cnode, Erl}) ->
    row(<<"P7">>, "C-node call",
        with(#{baseline => {maps:get(p50, Erl), us, "Erlang node"},
               ratio => maps:get(p50, Cnode) / maps:get(p50, Erl),
               target => {le, 1.2, ratio},
               note => linx_bench:fmt("gen_server:call({linx, CNode}, {ping, <<>>}) vs the same call to a "
                           "gen_server on a peer node, both on this host; interleaved in blocks "
                           "of ~b", [?SEQ_BLOCK])},
             Cnode)).

row_links({na, Why}) ->
    na_row(<<"P8a">>, "links dump, 1,000 links", {le, 0.5, ratio}, Why);
row_links(#{ip := Ip, ip_null := IpNull, raw := Raw, names_equal := Equal} = Links) ->
    Yes = case Equal of true -> "yes"; false -> "NO" end,
    Row = row(<<"P8a">>, "links dump, 1,000 links",
              with(#{baseline => {p50(Ip), us, "ip -j link"},
                     ratio => p50(Links) / p50(Ip),
                     target => {le, 0.5, ratio},
                     note => linx_bench:fmt(
                               "linx_rtnl:links/1 in a netns of ~b veth pairs vs os:cmd(\"ip -j -n NS link "
                               "show\") (its output read); names equal: ~ts (~b links~ts); ip to /dev/null: "
                               "p50 ~ts µs; the raw dump (linx_netlink:call/3, not decoded): p50 ~ts µs; "
                               "interleaved in blocks of ~b",
                               [?VETH_PAIRS, Yes, maps:get(links, Links), names_diff(Links),
                                us(p50(IpNull)), us(p50(Raw)), ?LINKS_BLOCK])},
                   Links)),
    Row#{met := maps:get(met, Row) andalso Equal,
         extra := (maps:get(extra, Row))#{names_equal => Equal, links => maps:get(links, Links),
                                           ip_p99_us => maps:get(p99, Ip),
                                           ip_null_p50_us => p50(IpNull), raw_p50_us => p50(Raw)}}.

%% P8d (routes) and P8e (rules): a dump against `ip -j'.
row_dump(What, {na, Why}) ->
    {Id, Label, _, _} = dump_row(What),
    na_row(Id, Label, {le, 0.5, ratio}, Why);
row_dump(What, #{ip := Ip, ours := Ours, theirs := Theirs} = Dump) ->
    {Id, Label, IpLabel, Note} = dump_row(What),
    Same = Ours =:= Theirs,
    Row = row(Id, Label,
              with(#{baseline => {p50(Ip), us, IpLabel},
                     ratio => p50(Dump) / p50(Ip),
                     target => {le, 0.5, ratio},
                     note => linx_bench:fmt("~ts; counted alike: ~ts (linx ~b, ip ~b); interleaved in "
                                            "blocks of ~b",
                                            [Note, case Same of true -> "yes"; false -> "NO" end,
                                             Ours, Theirs, ?LINKS_BLOCK])},
                   Dump)),
    Row#{met := maps:get(met, Row) andalso Same}.

dump_row(routes) ->
    {<<"P8d">>, "routes dump, 10,000 routes", "ip -j route",
     linx_bench:fmt("linx_rtnl:routes/1 (every table, IPv4 and IPv6) in a netns of ~b /32 routes on a "
                    "bridge vs os:cmd(\"ip -j -n NS route show table all\") (its output read)", [?ROUTES])};
dump_row(rules) ->
    {<<"P8e">>, "rules dump, 1,000 rules", "ip -j rule",
     linx_bench:fmt("linx_rtnl:rules/1 (IPv4 and IPv6; the IPv4 ones counted) in a netns of ~b rules "
                    "vs os:cmd(\"ip -j -n NS rule show\") (its output read)", [?RULES])}.

names_diff(#{only_linx := [], only_ip := []}) -> "";
names_diff(#{only_linx := L, only_ip := I}) ->
    linx_bench:fmt("; only linx: ~b, only ip: ~b", [length(L), length(I)]).

row_addr_add({na, Why}) ->
    na_row(<<"P8b">>, "1,000 addr_add, one batch", {le, 0.8, ratio}, Why);
row_addr_add(#{ip := Ip, single := Single, raw := Raw, added := Added} = Adds) ->
    Right = lists:all(fun(N) -> N =:= ?ADDRS end, Added),
    Row = row(<<"P8b">>, "1,000 addr_add, one batch",
              with(#{baseline => {p50(Ip), us, "ip -batch"},
                     ratio => p50(Adds) / p50(Ip),
                     target => {le, 0.8, ratio},
                     note => linx_bench:fmt(
                               "time per ~b addr_add (IPv4 /32 on a bridge named d0) in one linx_rtnl:batch/2 "
                               "vs `ip -n NS -batch` of the same ~b `addr add` commands; single calls "
                               "(~b linx_rtnl:addr_add/3, link by index): p50 ~ts µs; one at a time from the "
                               "node (one linx_netlink:open/2 socket, each RTM_NEWADDR by linx_nl:request/3, "
                               "its ack read before the next): p50 ~ts µs; addresses ip counted after a run of each "
                               "(batch, ip, single, raw): ~ts; ops/s counts addresses; ~b runs each, "
                               "alternately, flushed between",
                               [?ADDRS, ?ADDRS, ?ADDRS, us(p50(Single)), us(p50(Raw)),
                                lists:join(", ", [integer_to_list(N) || N <- Added]), ?ADDR_RUNS])},
                   Adds)),
    Row#{ops := maps:get(ops, Row) * ?ADDRS,
         met := maps:get(met, Row) andalso Right,
         extra := (maps:get(extra, Row))#{single_calls_p50_us => p50(Single), raw_loop_p50_us => p50(Raw),
                                           ip_p99_us => maps:get(p99, Ip), added => Added}}.

row_addr_pair({na, Why}) ->
    na_row(<<"P8c">>, "addr_add + addr_del", {le, 6, ratio}, Why);
row_addr_pair(#{ping := Ping, port := Port, raw := Raw} = Pair) ->
    Row = row(<<"P8c">>, "addr_add + addr_del",
              with(#{baseline => {p50(Ping), us, "ping"},
                     ratio => p50(Pair) / p50(Ping),
                     target => {le, 6, ratio},
                     note => linx_bench:fmt(
                               "linx_rtnl:addr_add/3 + addr_del/3 of one IPv4 /32 on a bridge given by index "
                               "(two calls) vs a ping (P1a's round trip), interleaved in blocks of ~b; the "
                               "same two requests encoded beforehand, by linx_netlink:call/3 (the port and "
                               "its worker's round trip): p50 ~ts µs; on a linx_netlink:open/2 socket "
                               "(linx_nl:request/3, no port): p50 ~ts µs",
                               [?PAIR_BLOCK, us(p50(Port)), us(p50(Raw))])},
                   Pair)),
    add_extra(Row, #{ping_p99_us => maps:get(p99, Ping), port_p50_us => p50(Port), raw_p50_us => p50(Raw)}).

%% P10 (Base shell) and P10' (Base ip_batch): the same linx runs against
%% each baseline.
row_hub({na, Why}, Base) ->
    {Id, Name, Target, _} = hub_case(Base),
    na_row(Id, Name, Target, Why);
row_hub(#{linx := Linx, commands := Commands} = Hub, Base) ->
    {Id, Name, Target, What} = hub_case(Base),
    Theirs = maps:get(Base, Hub),
    Right = maps:get(right, Linx) andalso maps:get(right, Theirs)
        andalso maps:get(left, Linx) + maps:get(left, Theirs) =:= 0,
    Row = row(Id, Name,
              with(#{baseline => {p50(Theirs), us, What},
                     ratio => p50(Linx) / p50(Theirs),
                     target => Target,
                     note => linx_bench:fmt(
                               "time to build and tear down a ~b-node hub: a hub netns with a bridge and "
                               "a node netns each with a veth pair to it (the hub end its port), an "
                               "address, a default route and 2 sysctls: linx_ct:setup/1 (option hub) "
                               "+ cleanup/1 vs ~ts (~b changes by "
                               "~b commands, one os:cmd to set up and one to tear down); set-up p50 ~ts ms "
                               "vs ~ts ms, tear-down p50 ~ts ms vs ~ts ms (the kernel frees a deleted netns "
                               "later, so part of a tear-down falls on the runs after it, of any side); "
                               "checked after each set-up with ip and sysctl (ports up, addresses, routes, "
                               "sysctls) and after each tear-down (no netns left), ~b runs of each side: "
                               "~ts; ~b runs each, in turn with the other baseline, after one untimed round",
                               [?SPOKES, hub_baseline(Base), element(2, maps:get(Base, Commands)),
                                element(1, maps:get(Base, Commands)),
                                ms(Linx, up), ms(Theirs, up), ms(Linx, down), ms(Theirs, down),
                                maps:get(checked, Linx), hub_checks(Linx, Theirs), ?HUB_RUNS])},
                   Linx)),
    Row#{ops := undefined,
         met := maps:get(met, Row) andalso Right,
         extra := (maps:get(extra, Row))#{right => Right,
                                           up_p50_us => p50(maps:get(up, Linx)),
                                           down_p50_us => p50(maps:get(down, Linx)),
                                           base_up_p50_us => p50(maps:get(up, Theirs)),
                                           base_down_p50_us => p50(maps:get(down, Theirs)),
                                           base_commands => element(1, maps:get(Base, Commands)),
                                           base_changes => element(2, maps:get(Base, Commands))}}.

hub_case(shell) -> {<<"P10">>, "32-node hub build + tear-down", {le, 0.2, ratio}, "shell script"};
hub_case(ip_batch) -> {<<"P10'">>, "same, vs ip -batch", {le, 0.7, ratio}, "ip -batch"}.

hub_baseline(shell) ->
    "a shell script of one `ip` per change and one `ip netns exec NS sysctl -w` per spoke";
hub_baseline(ip_batch) ->
    "`ip netns add` per netns, one `ip -n NS -batch FILE` per netns and one `ip netns exec NS "
    "sysctl -w` per spoke, in one shell script".

ms(Side, Part) ->
    linx_bench_table:us(p50(maps:get(Part, Side)) / 1000).

hub_checks(Linx, Theirs) ->
    case [{W, S} || {W, S} <- [{"linx", Linx}, {"baseline", Theirs}],
                    not maps:get(right, S) orelse maps:get(left, S) > 0] of
        [] -> "all right";
        Bad -> lists:join("; ", [linx_bench:fmt("~ts WRONG: ~0tp, ~b netns left",
                                                [W, maps:get(wrong, S), maps:get(left, S)])
                                 || {W, S} <- Bad])
    end.

row_netns_add({na, Why}) ->
    na_row(<<"P9a">>, "netns add + delete", undefined, Why);
row_netns_add(#{ip := Ip} = Add) ->
    row(<<"P9a">>, "netns add + delete",
        with(#{baseline => {p50(Ip), us, "ip netns add+del"},
               ratio => p50(Add) / p50(Ip),
               note => linx_bench:fmt("linx_netns:add/1 + delete/1 vs `ip netns add N && ip netns del N` "
                                      "in one os:cmd shell; per pair, interleaved in blocks of ~b",
                                      [?NETNS_BLOCK])},
             Add)).

row_netns_new(New, {na, _}) ->
    row(<<"P9b">>, "netns new + release", with(#{note => "linx_netns:new/0 + release/1, per pair"}, New));
row_netns_new(New, Add) ->
    row(<<"P9b">>, "netns new + release",
        with(#{baseline => {p50(Add), us, "P9a add+delete"},
               ratio => p50(New) / p50(Add),
               note => "linx_netns:new/0 + release/1, per pair; ratio = p50(this) / p50(P9a)"},
             New)).

%%====================================================================
%% Machine information
%%====================================================================

machine_info() ->
    #{nproc => list_to_integer(cmd_line("nproc")),
      uname_r => cmd_line("uname -r"),
      otp_release => erlang:system_info(otp_release),
      erts => erlang:system_info(version),
      schedulers => erlang:system_info(schedulers_online),
      cpu => cpu_model(),
      loadavg => loadavg(),
      linx_port => binary_to_list(maps:get(version, linx_port:info())),
      git => cmd_line("git describe --always --dirty 2>/dev/null"),
      date => calendar:system_time_to_rfc3339(erlang:system_time(second), [{offset, "Z"}])}.

cmd_line(Cmd) ->
    string:trim(os:cmd(Cmd)).

cpu_model() ->
    case file:read_file("/proc/cpuinfo") of
        {ok, Info} ->
            case re:run(Info, "^model name\\s*:\\s*(.*)$", [multiline, {capture, all_but_first, list}]) of
                {match, [Model]} -> Model;
                nomatch -> "unknown"
            end;
        {error, _} ->
            "unknown"
    end.

loadavg() ->
    case file:read_file("/proc/loadavg") of
        {ok, Bin} -> lists:join(" ", lists:sublist(string:lexemes(binary_to_list(Bin), " "), 3));
        {error, _} -> "unknown"
    end.
