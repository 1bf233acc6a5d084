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
-module(linx_bench).

-export([main/0]).
%% P7: the plain gen_server the C-node is compared with, on a peer node.
-export([init/1, handle_call/3, handle_cast/2]).

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
-define(BATCH_SIZE, 100).
-define(BATCH_N, 100).
-define(BATCH_BLOCK, 10).

%% Reference figure for this machine kind: a bare {packet,4} echo port
%% (a few lines of C), one round trip at a time from Erlang.
-define(ECHO_REF_US, 53.7).

-define(JSON_FILE, "_build/bench/latest.json").

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
    Machine = machine_info(),
    print_machine(Machine),
    Rows = cases(Names),
    print_table(Rows),
    io:format("load at the end: ~ts~n", [loadavg()]),
    ok = write_json(?JSON_FILE, Machine#{loadavg_end => loadavg()}, Rows),
    io:format("~nwritten: ~ts~n", [?JSON_FILE]),
    ok.

cases([Ns1 | _] = Names) ->
    {Ping, Read} = step("P1a/P1b ping and read, interleaved", fun() -> p1(Ns1) end),
    Nsenter = step("P1c nsenter cat", fun() -> p1c(Ns1) end),
    Cached = step("P2a 32 callers, worker cache on", fun() -> load(Names) end),
    NoCache = step("P2b 32 callers, worker cache off", fun() -> p2b(Names) end),
    List = step("P3 list whole tree vs sysctl -a", fun() -> p3(Ns1) end),
    Netlink = step("P4 netlink open", fun() -> p4(Ns1) end),
    Batch = step("P6 batch", fun() -> p6(Ns1) end),
    Cnode = step("P7 C-node call vs Erlang node", fun p7/0),
    LoadedRss = vm_rss(linx_port:os_pid()),
    IdleRss = step("P5a idle RSS", fun p5a/0),
    {PortStart, AppStart} = step("P5b start to ready", fun p5b/0),
    [row_ping(Ping),
     row_read(Read, Ping),
     row_nsenter(Nsenter, Read),
     row_cached(Cached),
     row_no_cache(NoCache, Cached),
     row_list(List),
     row_netlink(Netlink),
     row_rss(IdleRss, LoadedRss),
     row_port_start(PortStart),
     row_app_start(AppStart),
     row_batch(Batch),
     row_cnode(Cnode)].

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
%% P1: sequential round trips
%%====================================================================

p1(Ns) ->
    Ping = fun ping/0,
    Read = read_fun({netns, Ns}),
    repeat(Ping, ?SEQ_WARM),
    repeat(Read, ?SEQ_WARM),
    interleave(Ping, Read, ?SEQ_BLOCK, ?SEQ_N div ?SEQ_BLOCK).

ping() ->
    {ok, <<>>} = linx_port:request({ping, <<>>}),
    ok.

read_fun(In) ->
    Opts = #{in => In},
    fun() ->
            {ok, _} = linx_sysctl:read(?KEY, Opts),
            ok
    end.

p1c(Ns) ->
    Cmd = "nsenter --net=/run/netns/" ++ Ns ++ " cat /proc/sys/net/ipv4/ip_forward",
    Fun = fun() -> bit_output(os:cmd(Cmd)) end,
    repeat(Fun, ?CMD_WARM),
    stats(timed(Fun, ?CMD_N, [])).

bit_output("0\n") -> ok;
bit_output("1\n") -> ok;
bit_output(Other) -> error({unexpected_output, Other}).

%%====================================================================
%% P2: 32 concurrent callers
%%====================================================================

%% Each caller reads in netns (I rem 4) until the run ends; calls that
%% start during the warm-up are not counted.
load(Names) ->
    Start = now_ns() + ms_to_ns(?LOAD_WARM_MS),
    Stop = Start + ms_to_ns(?LOAD_RUN_MS),
    Callers = [spawn_caller(caller_target(I, Names), Start, Stop)
               || I <- lists:seq(1, ?LOAD_PROCS)],
    Results = [await_caller(C) || C <- Callers],
    Errors = lists:append([E || {E, _} <- Results]),
    Lats = lists:append([L || {_, L} <- Results]),
    load_stats(Lats, Errors).

caller_target(I, Names) ->
    {netns, list_to_binary(lists:nth(I rem length(Names) + 1, Names))}.

spawn_caller(Target, Start, Stop) ->
    Opts = #{in => Target},
    Read = fun() -> linx_sysctl:read(?KEY, Opts) end,
    spawn_monitor(fun() -> exit({done, caller_loop(Read, Start, Stop, [], [])}) end).

%% Returns the errors (in reverse order) and the durations of the
%% successful reads, both counted from Start on.
caller_loop(Read, Start, Stop, Errors, Lats) ->
    T0 = now_ns(),
    Result = Read(),
    T1 = now_ns(),
    if
        T1 >= Stop -> {Errors, Lats};
        T0 < Start -> caller_loop(Read, Start, Stop, Errors, Lats);
        element(1, Result) =:= ok -> caller_loop(Read, Start, Stop, Errors, [T1 - T0 | Lats]);
        true -> caller_loop(Read, Start, Stop, [Result | Errors], Lats)
    end.

await_caller({Pid, Ref}) ->
    receive
        {'DOWN', Ref, process, Pid, {done, Result}} -> Result;
        {'DOWN', Ref, process, Pid, Reason} -> error({caller_crashed, Reason})
    end.

load_stats([], Errors) ->
    {na, "every read failed" ++ errors_text(Errors)};
load_stats(Lats, Errors) ->
    Stats = stats(Lats),
    Stats#{ops => length(Lats) / (?LOAD_RUN_MS / 1000), errors => Errors}.

errors_text([]) -> "";
errors_text([E | _] = Errors) -> fmt(", errors: ~b, e.g. ~0tP", [length(Errors), E, 12]).

%% The same load with the port started in no-cache mode, then the
%% application is restored to its defaults.
p2b(Names) ->
    ok = application:stop(linx),
    ok = application:set_env(linx, port_args, ["--no-worker-cache"]),
    try quiet(fun() -> application:ensure_all_started(linx) end) of
        {ok, _} -> load(Names);
        {error, Reason} -> {na, fmt("the port did not start with --no-worker-cache: ~0tP",
                                    [Reason, 12])}
    after
        restart_app()
    end.

restart_app() ->
    _ = application:stop(linx),
    ok = application:unset_env(linx, port_args),
    {ok, _} = application:ensure_all_started(linx),
    ok.

%% Runs Fun with the logger silenced (for starts that are expected to fail).
quiet(Fun) ->
    #{level := Level} = logger:get_primary_config(),
    ok = logger:set_primary_config(level, none),
    try
        Fun()
    after
        logger:set_primary_config(level, Level)
    end.

%%====================================================================
%% P3: the whole tree
%%====================================================================

p3(Ns) ->
    Ours = fun() -> list_tree(Ns) end,
    Theirs = fun() -> os:cmd(sysctl_all_cmd(Ns, "")) end,
    repeat(Ours, ?LIST_WARM),
    repeat(Theirs, ?LIST_WARM),
    {OursNs, TheirsNs, Listed, Printed} = alternate(Ours, Theirs, ?LIST_N, [], []),
    Full = os:cmd(sysctl_all_cmd(Ns, " --deprecated")),
    (stats(OursNs))#{sysctl => stats(TheirsNs),
                     keys => key_check(Listed, sysctl_keys(Printed), sysctl_keys(Full))}.

list_tree(Ns) ->
    {ok, Entries} = linx_sysctl:list(<<>>, #{in => {netns, Ns}}),
    Entries.

sysctl_all_cmd(Ns, Flags) ->
    "ip netns exec " ++ Ns ++ " sysctl -a" ++ Flags ++ " 2>/dev/null".

%% Runs A and B alternately N times each; returns both durations and the
%% last result of each.
alternate(A, B, N, As, Bs) ->
    {Ta, Ra} = timed_result(A),
    {Tb, Rb} = timed_result(B),
    case N of
        1 -> {[Ta | As], [Tb | Bs], Ra, Rb};
        _ -> alternate(A, B, N - 1, [Ta | As], [Tb | Bs])
    end.

%% sysctl(8) prints `key = value' (one line per line of a multi-line value).
sysctl_keys(Output) ->
    Lines = binary:split(unicode:characters_to_binary(Output), <<"\n">>, [global, trim_all]),
    ordsets:from_list([sysctl_key_to_linx(hd(binary:split(L, <<" = ">>))) || L <- Lines]).

%% sysctl(8) prints a dot inside a segment as `/'; linx uses the dot form,
%% or the slash form when a segment contains a dot.
sysctl_key_to_linx(K) ->
    Segs = [binary:replace(S, <<"/">>, <<".">>, [global])
            || S <- binary:split(K, <<".">>, [global])],
    case lists:any(fun(S) -> binary:match(S, <<".">>) =/= nomatch end, Segs) of
        true -> iolist_to_binary(lists:join(<<"/">>, Segs));
        false -> iolist_to_binary(lists:join(<<".">>, Segs))
    end.

%% Compares linx's keys with `sysctl -a --deprecated' (every readable key;
%% plain `sysctl -a' hides a few deprecated names, reported separately).
%% sysctl(8) prints no line at all for a key whose value is empty, so such
%% keys are expected to be missing from its output.
key_check(Listed, Printed, Full) ->
    Ours = ordsets:from_list([K || {K, _} <- Listed]),
    Empty = ordsets:from_list([K || {K, <<>>} <- Listed]),
    Extra = ordsets:subtract(Ours, Full),
    #{count => length(Ours),
      slash => length([K || K <- Ours, binary:match(K, <<"/">>) =/= nomatch]),
      sysctl_count => length(Full),
      plus => ordsets:subtract(Extra, Empty),
      minus => ordsets:subtract(Full, Ours),
      empty => ordsets:intersection(Extra, Empty),
      hidden => ordsets:subtract(Full, Printed)}.

%%====================================================================
%% P4: netlink sockets
%%====================================================================

p4(Ns) ->
    case code:which(linx_netlink) of
        non_existing -> {na, "linx_netlink is not built yet"};
        _ -> p4_first(#{in => {netns, Ns}})
    end.

p4_first(Opts) ->
    case catch linx_netlink:open(route, Opts) of
        {ok, Sock} ->
            _ = socket:close(Sock),
            Open = fun() -> netlink_open(Opts) end,
            repeat_close(Open, ?NL_WARM),
            stats(timed_open(Open, ?NL_N, []));
        Other ->
            {na, fmt("linx_netlink:open/2 returned ~0tP", [Other, 12])}
    end.

netlink_open(Opts) ->
    {ok, Sock} = linx_netlink:open(route, Opts),
    Sock.

repeat_close(_Open, 0) ->
    ok;
repeat_close(Open, N) ->
    _ = socket:close(Open()),
    repeat_close(Open, N - 1).

%% Times the open only; the close happens after the clock stops.
timed_open(_Open, 0, Acc) ->
    Acc;
timed_open(Open, N, Acc) ->
    T0 = now_ns(),
    Sock = Open(),
    T1 = now_ns(),
    _ = socket:close(Sock),
    timed_open(Open, N - 1, [T1 - T0 | Acc]).

%%====================================================================
%% P5: memory and start-up
%%====================================================================

p5a() ->
    ok = restart_app(),
    timer:sleep(?IDLE_WAIT_MS),
    vm_rss(linx_port:os_pid()).

vm_rss(OsPid) ->
    {ok, Status} = file:read_file("/proc/" ++ integer_to_list(OsPid) ++ "/status"),
    {match, [Kb]} = re:run(Status, "^VmRSS:\\s+(\\d+) kB", [multiline, {capture, all_but_first, binary}]),
    binary_to_integer(Kb).

p5b() ->
    Port = fun port_start/0,
    App = fun app_start/0,
    repeat(fun() -> _ = Port(), ok end, ?START_WARM),
    repeat(fun() -> _ = App(), ok end, ?START_WARM),
    {PortNs, AppNs} = lists:unzip([{Port(), App()} || _ <- lists:seq(1, ?START_N)]),
    {stats(PortNs), stats(AppNs)}.

%% From open_port of the program to its first (ready) frame.
port_start() ->
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    T0 = now_ns(),
    Port = open_port({spawn_executable, Exe}, [{packet, 4}, binary, exit_status, use_stdio]),
    receive
        {Port, {data, Frame}} ->
            T1 = now_ns(),
            {0, {ready, _}} = binary_to_term(Frame),
            port_close(Port),
            T1 - T0;
        {Port, {exit_status, Status}} ->
            error({port_exited, Status})
    after 5000 ->
            error(no_ready_frame)
    end.

%% ensure_all_started/1 returns after the port's ready frame.
app_start() ->
    ok = application:stop(linx),
    T0 = now_ns(),
    {ok, _} = application:ensure_all_started(linx),
    now_ns() - T0.

%%====================================================================
%% P6: batches
%%====================================================================

p6(Ns) ->
    Target = {netns, list_to_binary(Ns)},
    Batch = {batch, Target, lists:duplicate(?BATCH_SIZE, {sysctl_read, ?REL_PATH})},
    case linx_port:request(Batch) of
        {ok, Results} when length(Results) =:= ?BATCH_SIZE ->
            p6_measure(Batch, {sysctl_read, ?REL_PATH, Target});
        Other ->
            {na, fmt("the port answered ~0tP", [Other, 12])}
    end.

p6_measure(Batch, Read) ->
    One = fun() -> {ok, _} = linx_port:request(Batch), ok end,
    Seq = fun() -> repeat(fun() -> {ok, _} = linx_port:request(Read), ok end, ?BATCH_SIZE) end,
    repeat(One, ?BATCH_BLOCK),
    repeat(Seq, ?BATCH_BLOCK),
    interleave(One, Seq, ?BATCH_BLOCK, ?BATCH_N div ?BATCH_BLOCK).

%%====================================================================
%% P7: C-node
%%====================================================================

%% Runs linx_port as a C-node and a peer node with an echo gen_server,
%% both on this host, and times the same call to each from this node
%% (made distributed for the case if it is not).
p7() ->
    _ = os:cmd("epmd -daemon"),
    Started = case node() of
                  nonode@nohost ->
                      Name = list_to_atom("linx_bench_" ++ os:getpid()),
                      case net_kernel:start([Name, shortnames]) of
                          {ok, _} -> true;
                          {error, Reason} -> {error, Reason}
                      end;
                  _ ->
                      false
              end,
    case Started of
        {error, Why} ->
            {na, fmt("cannot make this node distributed: ~0tP", [Why, 12])};
        _ ->
            try
                p7_nodes()
            after
                Started andalso net_kernel:stop()
            end
    end.

p7_nodes() ->
    Cookie = atom_to_list(erlang:get_cookie()),
    CookieFile = "_build/bench/cookie",
    ok = file:write_file(CookieFile, Cookie),
    ok = file:change_mode(CookieFile, 8#600),
    CNode = list_to_atom("linx_bench_cnode_" ++ os:getpid() ++ "@localhost"),
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    Port = open_port({spawn_executable, Exe},
                     [{args, ["--cnode", "--name", atom_to_list(CNode),
                              "--cookie-file", CookieFile]},
                      exit_status, stderr_to_stdout, binary]),
    {ok, Peer, PeerNode} = peer:start(#{name => list_to_atom("linx_bench_peer_" ++ os:getpid()),
                                        args => ["-setcookie", Cookie,
                                                 "-pa", filename:dirname(code:which(?MODULE))]}),
    try
        {ok, _} = erpc:call(PeerNode, gen_server, start, [{local, linx_bench_echo}, ?MODULE, [], []]),
        case wait_pong(CNode, 100) of
            ok -> p7_measure(CNode, {linx_bench_echo, PeerNode});
            error -> {na, "the C-node did not answer a ping within 5 s"}
        end
    after
        peer:stop(Peer),
        {os_pid, OsPid} = erlang:port_info(Port, os_pid),
        _ = os:cmd("kill " ++ integer_to_list(OsPid)),
        catch port_close(Port)
    end.

wait_pong(_Node, 0) ->
    error;
wait_pong(Node, N) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(50), wait_pong(Node, N - 1)
    end.

p7_measure(CNode, Echo) ->
    Cn = fun() -> {ok, <<>>} = gen_server:call({linx, CNode}, {ping, <<>>}), ok end,
    Erl = fun() -> {ok, <<>>} = gen_server:call(Echo, {ping, <<>>}), ok end,
    repeat(Cn, ?SEQ_WARM),
    repeat(Erl, ?SEQ_WARM),
    interleave(Cn, Erl, ?SEQ_BLOCK, ?SEQ_N div ?SEQ_BLOCK).

init([]) ->
    {ok, #{}}.

handle_call({ping, Term}, _From, State) ->
    {reply, {ok, Term}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

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

%%====================================================================
%% Rows
%%====================================================================

%% A row of the report. `target' is {le | ge, Limit, Of}, Of one of
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
compare(ge, Value, Limit) -> Value >= Limit.

latency(#{p50 := P50, p99 := P99, ops := Ops, n := N} = Stats) ->
    Errors = length(maps:get(errors, Stats, [])),
    #{p50 => P50, p99 => P99, ops => Ops, extra => #{samples => N, errors => Errors}}.

with(Fields, Stats) ->
    maps:merge(latency(Stats), Fields).

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
               note => fmt("p50(read) - p50(ping) = ~ts µs; interleaved with P1a in blocks of ~b",
                           [us(maps:get(p50, Read) - maps:get(p50, Ping)), ?SEQ_BLOCK])},
             Read)).

row_nsenter(Nsenter, Read) ->
    row(<<"P1c">>, "nsenter cat",
        with(#{baseline => {maps:get(p50, Read), us, "read"},
               ratio => maps:get(p50, Nsenter) / maps:get(p50, Read),
               target => {ge, 40, ratio}},
             Nsenter)).

row_cached({na, Why}) ->
    na_row(<<"P2a">>, "32 callers, 4 netns, cached", {ge, 100000, ops}, Why);
row_cached(Load) ->
    row(<<"P2a">>, "32 callers, 4 netns, cached",
        with(#{target => {ge, 100000, ops}, note => load_note(Load)}, Load)).

row_no_cache({na, Why}, _Cached) ->
    na_row(<<"P2b">>, "same, worker cache off", {ge, 3, ratio}, Why);
row_no_cache(_NoCache, {na, _}) ->
    na_row(<<"P2b">>, "same, worker cache off", {ge, 3, ratio}, "P2a did not run");
row_no_cache(NoCache, Cached) ->
    row(<<"P2b">>, "same, worker cache off",
        with(#{baseline => {maps:get(ops, Cached), ops, "P2a"},
               ratio => maps:get(ops, Cached) / maps:get(ops, NoCache),
               target => {ge, 3, ratio},
               note => "ratio = rate(P2a) / rate(P2b); " ++ load_note(NoCache)},
             NoCache)).

load_note(#{errors := Errors}) ->
    fmt("~b callers for ~.1f s after ~.1f s warm-up~ts",
        [?LOAD_PROCS, ?LOAD_RUN_MS / 1000, ?LOAD_WARM_MS / 1000, errors_text(Errors)]).

row_list(#{sysctl := Sysctl, keys := Keys} = List) ->
    Equal = maps:get(plus, Keys) =:= [] andalso maps:get(minus, Keys) =:= [],
    Row = row(<<"P3">>, "list whole tree",
              with(#{baseline => {maps:get(p50, Sysctl), us, "sysctl -a"},
                     ratio => maps:get(p50, List) / maps:get(p50, Sysctl),
                     target => {le, 0.5, ratio},
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
    fmt("keys equal: ~ts (+~b -~b), ~b keys (~b in slash form)~ts; compared with "
        "`sysctl -a --deprecated`, since plain `sysctl -a` (the one timed) hides ~b "
        "deprecated key(s)~ts; not counted: ~b key(s) with an empty value, for which "
        "sysctl prints no line (~ts)",
        [Yes, length(Plus), length(Minus), Count, maps:get(slash, Keys),
         key_sample(Plus, Minus), length(Hidden), example(Hidden), length(Empty),
         key_list(Empty)]).

key_sample([], []) -> "";
key_sample(Plus, Minus) ->
    fmt(" [only linx: ~ts; only sysctl: ~ts]", [key_list(Plus), key_list(Minus)]).

key_list([]) -> "-";
key_list(Keys) when length(Keys) =< 5 -> lists:join(", ", [binary_to_list(K) || K <- Keys]);
key_list(Keys) -> key_list(lists:sublist(Keys, 5)) ++ fmt(" and ~b more", [length(Keys) - 5]).

example([]) -> "";
example([K | _]) -> fmt(", e.g. ~ts", [K]).

row_netlink({na, Why}) ->
    na_row(<<"P4">>, "netlink open", {le, 150, p50}, Why);
row_netlink(Open) ->
    row(<<"P4">>, "netlink open",
        with(#{target => {le, 150, p50}, note => "route socket in a netns; the close is not timed"},
             Open)).

row_rss(Idle, Loaded) ->
    row(<<"P5a">>, "idle RSS",
        #{unit => kb, p50 => Idle, target => {le, 5120, p50},
          note => fmt("VmRSS of a fresh port after ~b ms idle; ~b kB right after the load runs",
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
               note => fmt("gen_server:call({linx, CNode}, {ping, <<>>}) vs the same call to a "
                           "gen_server on a peer node, both on this host; interleaved in blocks "
                           "of ~b", [?SEQ_BLOCK])},
             Cnode)).

%%====================================================================
%% Printing
%%====================================================================

print_machine(M) ->
    io:format("~nlinx benchmarks — ~b cores, Linux ~ts, OTP ~ts, linx_port ~ts, load ~ts~n~n",
              [maps:get(nproc, M), maps:get(uname_r, M), maps:get(otp_release, M),
               maps:get(linx_port, M), maps:get(loadavg, M)]).

-define(COLUMNS, [{"case", left}, {"p50 (µs)", right}, {"p99 (µs)", right},
                  {"ops/s", right}, {"baseline", left}, {"ratio", right},
                  {"target", left}, {"met?", left}]).

print_table(Rows) ->
    Cells = [row_cells(R) || R <- Rows],
    Headers = [H || {H, _} <- ?COLUMNS],
    Aligns = [A || {_, A} <- ?COLUMNS],
    Widths = column_widths([Headers | Cells]),
    io:format("~n"),
    print_line(Headers, Widths, [left || _ <- Aligns]),
    print_line([lists:duplicate(W, $-) || W <- Widths], Widths, Aligns),
    lists:foreach(fun(C) -> print_line(C, Widths, Aligns) end, Cells),
    print_notes(Rows),
    print_summary(Rows).

column_widths(Lines) ->
    lists:foldl(fun(Line, Ws) -> [max(W, string:length(C)) || {W, C} <- lists:zip(Ws, Line)] end,
                [0 || _ <- ?COLUMNS], Lines).

print_line(Cells, Widths, Aligns) ->
    Padded = [pad(C, W, A) || {C, W, A} <- lists:zip3(Cells, Widths, Aligns)],
    io:format("~ts~n", [string:trim(lists:join("  ", Padded), trailing)]).

pad(Text, Width, Align) ->
    Fill = lists:duplicate(Width - string:length(Text), $\s),
    case Align of
        left -> [Text, Fill];
        right -> [Fill, Text]
    end.

row_cells(#{status := na} = Row) ->
    [case_label(Row), "n/a", "n/a", "n/a", "n/a", "n/a", target_cell(Row), "n/a"];
row_cells(Row) ->
    [case_label(Row), value_cell(maps:get(p50, Row), Row), value_cell(maps:get(p99, Row), Row),
     rate_cell(maps:get(ops, Row)), baseline_cell(maps:get(baseline, Row)),
     ratio_cell(maps:get(ratio, Row)), target_cell(Row), met_cell(maps:get(met, Row))].

case_label(#{id := Id, name := Name}) ->
    fmt("~-5ts ~ts", [Id, Name]).

value_cell(undefined, _Row) -> "—";
value_cell(Kb, #{unit := kb}) -> group(Kb) ++ " kB";
value_cell(Us, _Row) -> us(Us).

rate_cell(undefined) -> "—";
rate_cell(Ops) -> group(round(Ops)).

baseline_cell(undefined) -> "—";
baseline_cell({Value, us, What}) -> fmt("~ts ~ts µs", [What, us(Value)]);
baseline_cell({Value, ops, What}) -> fmt("~ts ~ts/s", [What, group(round(Value))]).

ratio_cell(undefined) -> "—";
ratio_cell(R) when R >= 10 -> fmt("~.1f×", [R]);
ratio_cell(R) -> fmt("~.2f×", [R]).

target_cell(#{target := undefined}) -> "info";
target_cell(#{target := {Cmp, Limit, Of}} = Row) -> [cmp_sign(Cmp), " ", limit(Limit, Of, Row)].

cmp_sign(le) -> "≤";
cmp_sign(ge) -> "≥".

limit(Limit, ratio, _Row) -> fmt("~tp×", [Limit]);
limit(Limit, ops, _Row) -> group(Limit) ++ "/s";
limit(Limit, p50, #{unit := kb}) -> group(Limit) ++ " kB";
limit(Limit, p50, _Row) when Limit >= 1000 -> fmt("~tp ms", [Limit div 1000]);
limit(Limit, p50, _Row) -> fmt("~tp µs", [Limit]).

met_cell(true) -> "yes";
met_cell(false) -> "NO";
met_cell(undefined) -> "—".

%% µs with a precision that suits the size.
us(X) when X < 10 -> fmt("~.2f", [X]);
us(X) when X < 1000 -> fmt("~.1f", [X]);
us(X) -> group(round(X)).

%% An integer with thousands separators.
group(N) when N < 0 -> "-" ++ group(-N);
group(N) when N < 1000 -> integer_to_list(N);
group(N) -> group(N div 1000) ++ fmt(",~3..0b", [N rem 1000]).

print_notes(Rows) ->
    io:format("~nnotes:~n"),
    lists:foreach(fun print_note/1, Rows).

print_note(#{note := ""}) -> ok;
print_note(#{id := Id, note := Note}) -> io:format("  ~-5ts ~ts~n", [Id, Note]).

print_summary(Rows) ->
    Judged = [M || #{met := M} <- Rows, M =/= undefined],
    NotRun = length([R || #{status := na} = R <- Rows]),
    io:format("~ntargets met: ~b of ~b (~b case(s) n/a)~n",
              [length([M || M <- Judged, M]), length(Judged), NotRun]).

fmt(Format, Args) ->
    lists:flatten(io_lib:format(Format, Args)).

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

%%====================================================================
%% JSON
%%====================================================================

write_json(File, Machine, Rows) ->
    Doc = #{machine => json_strings(Machine),
            cases => [row_json(R) || R <- Rows],
            summary => #{met => length([R || #{met := true} = R <- Rows]),
                         judged => length([R || #{met := M} = R <- Rows, M =/= undefined])}},
    ok = filelib:ensure_dir(File),
    file:write_file(File, [json(Doc, 0), "\n"]).

json_strings(Map) ->
    maps:map(fun(_, V) when is_list(V) -> text(V); (_, V) -> V end, Map).

row_json(Row) ->
    Status = case maps:get(status, Row) of ok -> <<"ok">>; na -> <<"n/a">> end,
    Base = row_json_base(Row),
    maps:merge(Base#{status => Status, unit => unit_json(maps:get(unit, Row)),
                     p50 => maps:get(p50, Row), p99 => maps:get(p99, Row),
                     ops_per_s => maps:get(ops, Row),
                     baseline => baseline_json(maps:get(baseline, Row)),
                     ratio => maps:get(ratio, Row)},
               maps:get(extra, Row)).

row_json_base(#{id := Id, name := Name, note := Note, met := Met} = Row) ->
    #{id => Id, name => text(Name), note => text(Note), met => Met,
      target => target_json(maps:get(target, Row), maps:get(unit, Row))}.

baseline_json(undefined) -> undefined;
baseline_json({Value, Unit, What}) -> #{value => Value, unit => unit_json(Unit), what => text(What)}.

target_json(undefined, _) -> undefined;
target_json({Cmp, Limit, Of}, Unit) ->
    #{op => case Cmp of le -> <<"<=">>; ge -> <<">=">> end,
      value => Limit,
      applies_to => atom_to_binary(Of),
      unit => case Of of ratio -> <<"x">>; ops -> <<"ops/s">>; p50 -> unit_json(Unit) end}.

unit_json(us) -> <<"us">>;
unit_json(kb) -> <<"kB">>;
unit_json(ops) -> <<"ops/s">>.

text(Chars) ->
    unicode:characters_to_binary(Chars).

%% A small JSON encoder: maps (keys sorted), lists, binaries (UTF-8
%% strings), numbers, true/false, undefined as null, other atoms as strings.
json(Map, _Indent) when is_map(Map), map_size(Map) =:= 0 ->
    "{}";
json(Map, Indent) when is_map(Map) ->
    Members = [[json_string(key_text(K)), ": ", json(V, Indent + 2)]
               || {K, V} <- lists:sort(maps:to_list(Map))],
    block("{", "}", Members, Indent);
json([], _Indent) ->
    "[]";
json(List, Indent) when is_list(List) ->
    block("[", "]", [json(V, Indent + 2) || V <- List], Indent);
json(Bin, _Indent) when is_binary(Bin) ->
    json_string(Bin);
json(Int, _Indent) when is_integer(Int) ->
    integer_to_list(Int);
json(Float, _Indent) when is_float(Float) ->
    float_to_list(Float, [{decimals, 3}, compact]);
json(undefined, _Indent) ->
    "null";
json(Bool, _Indent) when is_boolean(Bool) ->
    atom_to_list(Bool);
json(Atom, _Indent) when is_atom(Atom) ->
    json_string(atom_to_binary(Atom)).

block(Open, Close, Items, Indent) ->
    Inner = lists:duplicate(Indent + 2, $\s),
    [Open, "\n", Inner, lists:join([",\n", Inner], Items), "\n",
     lists:duplicate(Indent, $\s), Close].

key_text(K) when is_atom(K) -> atom_to_binary(K);
key_text(K) when is_binary(K) -> K.

json_string(Bin) ->
    [$", [json_char(C) || <<C>> <= Bin], $"].

json_char($") -> "\\\"";
json_char($\\) -> "\\\\";
json_char($\n) -> "\\n";
json_char($\t) -> "\\t";
json_char(C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
json_char(C) -> C.
