%% The cases of `make bench' (see linx_bench for the list and how they are
%% measured) that read and write sysctls, or time the port itself: P1 to
%% P3 and P5 to P7; the netlink and namespace cases (P4, P8, P9) are
%% linx_bench_nl_cases'. Each returns what its row in linx_bench_report
%% needs, or `{na, Why}' when it could not run.
-module(linx_bench_cases).

-include("linx_bench.hrl").

-export([p1/2, p1c/1, p2a/1, p2b/1, p2g/1, nif_load/3, spin0/1, one_scheduler/1, one_scheduler_load/1, p3/1, p5a/0, p5b/0, p5c/0, p6/1, p7/0]).
-export([errors_text/1]).
%% P7: the plain gen_server the C-node is compared with, on a peer node.
-export([init/1, handle_call/3, handle_cast/2]).

%%====================================================================
%% P1: sequential round trips
%%====================================================================

%% Ping, read and (when Nif is ok) the NIF baseline's two variants on the
%% same key and netns, interleaved; the NIF's results are Nif otherwise.
p1(Ns, Nif) ->
    Funs = [fun ping/0, read_fun({netns, Ns}) | nif_funs(Nif, Ns)],
    lists:foreach(fun(Fun) -> linx_bench:repeat(Fun, ?SEQ_WARM) end, Funs),
    case linx_bench:interleave(Funs, ?SEQ_BLOCK, ?SEQ_N div ?SEQ_BLOCK) of
        [Ping, Read] -> {Ping, Read, Nif, Nif};
        [Ping, Read, Plain, Dirty] -> {Ping, Read, Plain, Dirty}
    end.

nif_funs(ok, Ns) ->
    [begin Read = nif_read(F, Ns), fun() -> {ok, _} = Read(), ok end end
     || F <- [read, read_dirty]];
nif_funs({na, _}, _Ns) ->
    [].

%% A read through the NIF baseline (read or read_dirty) in netns Ns.
nif_read(F, Ns) ->
    Paths = [<<"/run/netns/", (iolist_to_binary(Ns))/binary>>],
    fun() -> linx_bench_nif:F(Paths, ?REL_PATH) end.

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
    linx_bench:repeat(Fun, ?CMD_WARM),
    linx_bench:stats(linx_bench:timed(Fun, ?CMD_N, [])).

bit_output("0\n") -> ok;
bit_output("1\n") -> ok;
bit_output(Other) -> error({unexpected_output, Other}).

%%====================================================================
%% P2: 32 concurrent callers
%%====================================================================

%% P2a: linx's load, with the port's CPU time over the counted window.
p2a(Names) ->
    load(Names, fun linx_read/1, linx_port:os_pid()).

%% P2g: the same load of pings, which the port's reader answers at once:
%% the round trip alone, with no key, options, namespace or read, so its
%% CPU time per call is what any request costs on this machine.
p2g(Names) ->
    load(Names, fun(_Ns) -> fun() -> linx_port:request({ping, <<>>}) end end, linx_port:os_pid()).

%% P2c, P2d: the same load through the NIF baseline (F: read or read_dirty).
nif_load(_Names, _F, {na, Why}) -> {na, Why};
nif_load(Names, F, ok) -> load(Names, fun(Ns) -> nif_read(F, Ns) end, none).

linx_read(Ns) ->
    Opts = #{in => {netns, list_to_binary(Ns)}},
    fun() -> linx_sysctl:read(?KEY, Opts) end.

%% Each caller reads in netns (I rem 4) with ReadIn(Netns) until the run
%% ends; calls that start during the warm-up are not counted. The node's
%% CPU time over the counted window is measured, and with an OS pid the
%% port's too.
load(Names, ReadIn, OsPid) ->
    Start = linx_bench:now_ns() + linx_bench:ms_to_ns(?LOAD_WARM_MS),
    Stop = Start + linx_bench:ms_to_ns(?LOAD_RUN_MS),
    Sampler = spawn_monitor(fun() -> exit({done, cpu_window(OsPid, Start, Stop)}) end),
    Callers = [spawn_caller(ReadIn(lists:nth(I rem length(Names) + 1, Names)), Start, Stop)
               || I <- lists:seq(1, ?LOAD_PROCS)],
    Results = [await_caller(C) || C <- Callers],
    Errors = lists:append([E || {E, _} <- Results]),
    Lats = lists:append([L || {_, L} <- Results]),
    load_stats(Lats, Errors, await_caller(Sampler)).

%% #{port => Us | undefined, node => Us}: CPU time over the window.
cpu_window(OsPid, Start, Stop) ->
    Tick = linx_bench_port:clock_tick(),
    Node = list_to_integer(os:getpid()),
    Pids = [Node | [OsPid || OsPid =/= none]],
    linx_bench:sleep_until(Start),
    Cpu0 = [linx_bench_port:cpu_ticks(P) || P <- Pids],
    linx_bench:sleep_until(Stop),
    [NodeUs | PortUs] = [(linx_bench_port:cpu_ticks(P) - C0) * 1.0e6 / Tick
                         || {P, C0} <- lists:zip(Pids, Cpu0)],
    #{node => NodeUs, port => case PortUs of [Us] -> Us; [] -> undefined end}.

spawn_caller(Read, Start, Stop) ->
    spawn_monitor(fun() -> exit({done, caller_loop(Read, Start, Stop, [], [])}) end).

%% Returns the errors (in reverse order) and the durations of the
%% successful reads, both counted from Start on.
caller_loop(Read, Start, Stop, Errors, Lats) ->
    T0 = linx_bench:now_ns(),
    Result = Read(),
    T1 = linx_bench:now_ns(),
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

load_stats([], Errors, _CpuUs) ->
    {na, "every read failed" ++ errors_text(Errors)};
load_stats(Lats, Errors, #{node := NodeUs, port := PortUs}) ->
    Stats = linx_bench:stats(Lats),
    Stats#{ops => length(Lats) / (?LOAD_RUN_MS / 1000), errors => Errors,
           requests => length(Lats) + length(Errors), port_cpu_us => PortUs,
           node_cpu_us => NodeUs}.

errors_text([]) -> "";
errors_text([E | _] = Errors) -> linx_bench:fmt(", errors: ~b, e.g. ~0tP", [length(Errors), E, 12]).

%% The same load with the port started in no-cache mode.
p2b(Names) ->
    linx_bench_port:with_port_args(["--no-worker-cache"], fun() -> p2a(Names) end).

%% P2f: P2a's load from a node of its own started with `+S 1' (one
%% scheduler thread; the port program keeps the other core), run over
%% `peer' on its standard I/O, so this node need not be distributed.
%% With two schedulers, every reply crosses between them on its way
%% through the port's owner; this shows what that costs.
one_scheduler(Names) ->
    Paths = [filename:dirname(code:which(M)) || M <- [linx, ?MODULE, linx_sysctl8]],
    try peer:start_link(#{connection => standard_io,
                          args => ["+S", "1" | lists:append([["-pa", P] || P <- Paths])]}) of
        {ok, Peer, _Node} ->
            try
                peer:call(Peer, ?MODULE, one_scheduler_load, [Names], 60000)
            after
                peer:stop(Peer)
            end;
        Other ->
            {na, linx_bench:fmt("peer:start_link/1 returned ~0tP", [Other, 12])}
    catch
        Class:Reason ->
            {na, linx_bench:fmt("no peer node: ~0tp:~0tP", [Class, Reason, 12])}
    end.

%% In the peer node: start linx, warm up, run P2a's load.
one_scheduler_load(Names) ->
    ok = logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(linx),
    1 = erlang:system_info(schedulers),
    p2a(Names).

%% P1 (without the NIF) and P2a again with the port started with
%% --spin-us 0: {Ping, Read, Load}, or {na, Why} if the port refuses it.
spin0([Ns1 | _] = Names) ->
    linx_bench_port:with_port_args(["--spin-us", "0"],
                   fun() ->
                           {Ping, Read, _, _} = p1(Ns1, {na, ""}),
                           {Ping, Read, p2a(Names)}
                   end).

%%====================================================================
%% P3: the whole tree
%%====================================================================

p3(Ns) ->
    Ours = fun() -> list_tree(Ns) end,
    Theirs = fun() -> os:cmd(sysctl_all_cmd(Ns, "")) end,
    linx_bench:repeat(Ours, ?LIST_WARM),
    linx_bench:repeat(Theirs, ?LIST_WARM),
    {OursNs, TheirsNs, Listed, Printed} = alternate(Ours, Theirs, ?LIST_N, [], []),
    Full = os:cmd(sysctl_all_cmd(Ns, " --deprecated")),
    (linx_bench:stats(OursNs))#{sysctl => linx_bench:stats(TheirsNs),
                     keys => key_check(Listed, linx_sysctl8:keys(Printed), linx_sysctl8:keys(Full))}.

list_tree(Ns) ->
    {ok, Entries} = linx_sysctl:list(<<>>, #{in => {netns, Ns}}),
    Entries.

sysctl_all_cmd(Ns, Flags) ->
    "ip netns exec " ++ Ns ++ " sysctl -a" ++ Flags ++ " 2>/dev/null".

%% Runs A and B alternately N times each; returns both durations and the
%% last result of each.
alternate(A, B, N, As, Bs) ->
    {Ta, Ra} = linx_bench:timed_result(A),
    {Tb, Rb} = linx_bench:timed_result(B),
    case N of
        1 -> {[Ta | As], [Tb | Bs], Ra, Rb};
        _ -> alternate(A, B, N - 1, [Ta | As], [Tb | Bs])
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
%% P5: memory and start-up
%%====================================================================

p5a() ->
    ok = linx_bench_port:restart_app(),
    timer:sleep(?IDLE_WAIT_MS),
    linx_bench_port:vm_rss(linx_port:os_pid()).

%% P5c: the port's CPU time over ?IDLE_CPU_MS without requests: utime +
%% stime of /proc/PID/stat (clock ticks), and for a finer look the run time
%% of its threads in /proc/PID/task/*/schedstat (ns; per thread, since the
%% workers that served the load may exit meanwhile and take theirs along).
p5c() ->
    OsPid = linx_port:os_pid(),
    Tick = linx_bench_port:clock_tick(),
    {Ticks0, Sched0} = {linx_bench_port:cpu_ticks(OsPid), linx_bench_port:thread_ns(OsPid)},
    timer:sleep(?IDLE_CPU_MS),
    {Ticks1, Sched1} = {linx_bench_port:cpu_ticks(OsPid), linx_bench_port:thread_ns(OsPid)},
    SchedNs = lists:sum([Ns - maps:get(Tid, Sched0, 0) || {Tid, Ns} <- maps:to_list(Sched1)]),
    #{cpu_us => (Ticks1 - Ticks0) * 1.0e6 / Tick, tick_us => 1.0e6 / Tick,
      sched_us => SchedNs / 1000}.

p5b() ->
    Port = fun port_start/0,
    App = fun app_start/0,
    linx_bench:repeat(fun() -> _ = Port(), ok end, ?START_WARM),
    linx_bench:repeat(fun() -> _ = App(), ok end, ?START_WARM),
    {PortNs, AppNs} = lists:unzip([{Port(), App()} || _ <- lists:seq(1, ?START_N)]),
    {linx_bench:stats(PortNs), linx_bench:stats(AppNs)}.

%% From open_port of the program to its first (ready) frame.
port_start() ->
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    T0 = linx_bench:now_ns(),
    Port = open_port({spawn_executable, Exe}, [{packet, 4}, binary, exit_status, use_stdio]),
    receive
        {Port, {data, Frame}} ->
            T1 = linx_bench:now_ns(),
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
    T0 = linx_bench:now_ns(),
    {ok, _} = application:ensure_all_started(linx),
    linx_bench:now_ns() - T0.

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
            {na, linx_bench:fmt("the port answered ~0tP", [Other, 12])}
    end.

p6_measure(Batch, Read) ->
    One = fun() -> {ok, _} = linx_port:request(Batch), ok end,
    Seq = fun() -> linx_bench:repeat(fun() -> {ok, _} = linx_port:request(Read), ok end, ?BATCH_SIZE) end,
    linx_bench:repeat(One, ?BATCH_BLOCK),
    linx_bench:repeat(Seq, ?BATCH_BLOCK),
    list_to_tuple(linx_bench:interleave([One, Seq], ?BATCH_BLOCK, ?BATCH_N div ?BATCH_BLOCK)).
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
            {na, linx_bench:fmt("cannot make this node distributed: ~0tP", [Why, 12])};
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
    linx_bench:repeat(Cn, ?SEQ_WARM),
    linx_bench:repeat(Erl, ?SEQ_WARM),
    list_to_tuple(linx_bench:interleave([Cn, Erl], ?SEQ_BLOCK, ?SEQ_N div ?SEQ_BLOCK)).

init([]) ->
    {ok, #{}}.

handle_call({ping, Term}, _From, State) ->
    {reply, {ok, Term}, State}.

handle_cast(_Msg, State) ->
    {noreply, State}.

