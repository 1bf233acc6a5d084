%% @doc The port's executor: workers pinned per namespace set retire when
%% idle, the worker cap and the per-worker queue bound turn overload into
%% `{busy, _}' errors, and the uncached mode answers the same as the cached
%% one. Each case starts the port with its own options (`port_args').
-module(linx_executor_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([idle_workers_retire/1, worker_cap_gives_busy/1, queue_bound_gives_busy/1,
         uncached_mode_same_answers/1, one_worker_per_namespace_set/1]).

all() ->
    [idle_workers_retire, worker_cap_gives_busy, queue_bound_gives_busy,
     uncached_mode_same_answers, one_worker_per_namespace_set].

init_per_testcase(Case, Config) ->
    Names = [linx_ct_ns:unique("linx-ex") || _ <- lists:seq(1, 2)],
    case lists:usort([linx_ct_ns:netns_add(N) || N <- Names]) of
        [ok] ->
            linx_ct_ns:set_app_env(port_args, args(Case)),
            {ok, _} = application:ensure_all_started(linx),
            [{netns, Names} | Config];
        _ ->
            [linx_ct_ns:netns_del(N) || N <- Names],
            linx_ct_ns:require({cannot_create_netns, Case})
    end.

end_per_testcase(_Case, Config) ->
    _ = application:stop(linx),
    application:unset_env(linx, port_args),
    [linx_ct_ns:netns_del(N) || N <- ?config(netns, Config)],
    ok.

args(idle_workers_retire) -> ["--idle-ms", "50"];
args(worker_cap_gives_busy) -> ["--max-workers", "2"];
args(queue_bound_gives_busy) -> ["--queue-len", "2"];
args(uncached_mode_same_answers) -> ["--no-worker-cache"];
args(_) -> [].

workers() ->
    {ok, #{workers := W}} = linx_port:request(stats),
    W.

in(N) -> #{in => {netns, N}}.

%% A worker that has nothing to do for its idle time ends; the next request
%% for its namespaces starts a new one.
idle_workers_retire(Config) ->
    [A, B] = ?config(netns, Config),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", in(A)),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", in(B)),
    ok = linx_ct_ns:wait_until(fun() -> workers() =:= 0 end, 5000),
    {ok, #{workers_started := Started}} = linx_port:request(stats),
    true = Started >= 2,
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", in(A)),
    {ok, #{workers_started := Started2}} = linx_port:request(stats),
    Started2 = Started + 1.

%% With at most two workers, both busy, a third namespace set is refused,
%% not queued; once they are idle again, it takes the place of one.
worker_cap_gives_busy(Config) ->
    [A, B] = ?config(netns, Config),
    {ok, Pid} = linx_ct_ns:unshare_net(),
    try
        Self = self(),
        Longs = [spawn_link(fun() ->
                     Self ! {long, self(), linx_port:request({batch, {netns, list_to_binary(N)},
                                                              lists:duplicate(40, {sysctl_list, <<>>})},
                                                             30000)}
                 end) || N <- [A, B]],
        ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) =:= 2 end, 5000),
        {error, #{stage := busy, errno := workers}} =
            linx_sysctl:read("net.ipv4.ip_forward", #{in => {pid, Pid}}),
        %% The port's own namespaces take no slot.
        {ok, _} = linx_sysctl:read("kernel.ostype"),
        [receive {long, L, {ok, Lists}} -> 40 = length(Lists) end || L <- Longs],
        {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", #{in => {pid, Pid}})
    after
        linx_ct_ns:kill(Pid)
    end.

%% A worker busy with a long batch has room for two more jobs; the rest are
%% answered `{busy, queue}' at once, and the queued ones still complete.
queue_bound_gives_busy(Config) ->
    [A, _] = ?config(netns, Config),
    Target = {netns, list_to_binary(A)},
    Self = self(),
    Long = spawn_link(fun() ->
        R = linx_port:request({batch, Target, lists:duplicate(40, {sysctl_list, <<>>})}, 30000),
        Self ! {long, R}
    end),
    ok = linx_ct_ns:wait_until(fun() -> maps:get(pending, linx_port:info()) =:= 1 end, 5000),
    Readers = [spawn_link(fun() ->
                   Self ! {read, self(), linx_port:request({sysctl_read, <<"net/ipv4/ip_forward">>, Target}, 30000)}
               end) || _ <- lists:seq(1, 6)],
    Results = [receive {read, P, R} -> R end || P <- Readers],
    Busy = [R || {error, {busy, queue}} = R <- Results],
    Ok = [R || {ok, _} = R <- Results],
    6 = length(Busy) + length(Ok),
    true = length(Busy) >= 4,
    receive {long, {ok, Lists}} -> 40 = length(Lists) end,
    unlink(Long).

%% Without the worker cache every request enters its namespaces on a fresh
%% thread; the answers are the same.
uncached_mode_same_answers(Config) ->
    [A, B] = ?config(netns, Config),
    ok = linx_sysctl:write("net.core.somaxconn", 321, in(A)),
    ok = linx_sysctl:write("net.core.somaxconn", 654, in(B)),
    [{ok, 321} = linx_sysctl:read_int("net.core.somaxconn", in(A)) || _ <- lists:seq(1, 50)],
    [{ok, 654} = linx_sysctl:read_int("net.core.somaxconn", in(B)) || _ <- lists:seq(1, 50)],
    <<"321">> = linx_ct_ns:oracle({netns, A}, "net.core.somaxconn"),
    {ok, #{workers_started := 0}} = linx_port:request(stats),
    ok = linx_ct_ns:wait_until(fun() -> workers() =:= 0 end, 5000).

%% The same namespaces reached by name, by path and by pid share a worker.
one_worker_per_namespace_set(Config) ->
    [A, _] = ?config(netns, Config),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", in(A)),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", #{in => {path, "/run/netns/" ++ A}}),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", #{in => {ns, [list_to_binary("/run/netns/" ++ A)]}}),
    1 = workers(),
    {ok, _} = linx_sysctl:read("kernel.ostype"),
    {ok, _} = linx_sysctl:read("kernel.ostype", #{in => {ns, []}}),
    {ok, _} = linx_sysctl:read("kernel.ostype", #{in => {path, "/proc/self/ns/net"}}),
    2 = workers().

