%% @doc Privileges and policy: the port drops what it does not need, can be
%% started through a wrapper or as an unprivileged user with file
%% capabilities, and enforces the policy it was started with.
-module(linx_privs_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([capabilities_dropped/1, exec_wrapper/1, hung_under_wrapper/1, slow_start_not_hung/1,
         unprivileged_with_file_caps/1,
         policy_allows_and_refuses/1, policy_refuses_batches/1, bad_policy_refused/1]).

all() ->
    [capabilities_dropped, exec_wrapper, hung_under_wrapper, slow_start_not_hung,
     unprivileged_with_file_caps,
     policy_allows_and_refuses, policy_refuses_batches, bad_policy_refused].

init_per_testcase(_Case, Config) ->
    Ns = linx_ct_ns:unique("linx-pv"),
    case linx_ct_ns:netns_add(Ns) of
        ok -> [{netns, Ns} | Config];
        Skip -> Skip
    end.

end_per_testcase(_Case, Config) ->
    _ = application:stop(linx),
    [application:unset_env(linx, K) || K <- [exec, policy, port_executable, liveness_ms]],
    linx_ct_ns:netns_del(?config(netns, Config)),
    case ?config(caps_copy, Config) of
        undefined -> ok;
        Copy -> file:delete(Copy)
    end.

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

status(OsPid) ->
    {ok, Bin} = file:read_file("/proc/" ++ integer_to_list(OsPid) ++ "/status"),
    maps:from_list([{K, string:trim(V)} || Line <- binary:split(Bin, <<"\n">>, [global, trim_all]),
                                           [K, V] <- [binary:split(Line, <<":">>)]]).

%% The port keeps only the capabilities it needs, and sets no_new_privs.
capabilities_dropped(Config) ->
    {ok, _} = application:ensure_all_started(linx),
    S = status(linx_port:os_pid()),
    %% dac_override, dac_read_search, net_admin, net_raw, sys_chroot,
    %% sys_ptrace, sys_admin
    <<"00000000002c3006">> = maps:get(<<"CapEff">>, S),
    <<"00000000002c3006">> = maps:get(<<"CapPrm">>, S),
    <<"00000000002c3006">> = maps:get(<<"CapBnd">>, S),
    <<"0000000000000000">> = maps:get(<<"CapInh">>, S),
    <<"1">> = maps:get(<<"NoNewPrivs">>, S),
    %% And still does its work.
    ok = linx_sysctl:write("net.ipv4.ip_forward", 1, in(Config)),
    <<"1">> = linx_ct_ns:oracle({netns, ?config(netns, Config)}, "net.ipv4.ip_forward"),
    {ok, S1} = linx_netlink:open(route, in(Config)),
    ok = socket:close(S1).

%% Started through a wrapper that runs it as a child: sysctls work, and the
%% fd channel accepts the program (a descendant running the program's own
%% executable) so sockets work too.
exec_wrapper(Config) ->
    Wrapper = filename:join(?config(data_dir, Config), "fork_wrapper.sh"),
    linx_ct_ns:set_app_env(exec, Wrapper),
    {ok, _} = application:ensure_all_started(linx),
    WrapperPid = linx_port:os_pid(),
    {ok, Exe} = file:read_link("/proc/" ++ integer_to_list(WrapperPid) ++ "/exe"),
    false = lists:suffix("linx_port", Exe),
    ok = linx_sysctl:write("net.core.somaxconn", 777, in(Config)),
    <<"777">> = linx_ct_ns:oracle({netns, ?config(netns, Config)}, "net.core.somaxconn"),
    {ok, S} = linx_netlink:open(route, in(Config)),
    {ok, #{family := 16}} = socket:sockname(S),
    ok = socket:close(S).

%% A program that stops answering under a wrapper that forked it: the
%% watchdog's SIGKILL reaches the wrapper (the port's OS process), and the
%% program under it, stopped and so never reading the end of its input,
%% goes too (the kernel kills it when its parent ends), while a new one
%% serves.
hung_under_wrapper(Config) ->
    linx_ct_ns:set_app_env(exec, filename:join(?config(data_dir, Config), "fork_wrapper.sh")),
    linx_ct_ns:set_app_env(liveness_ms, 300),
    {ok, _} = application:ensure_all_started(linx),
    WrapperPid = linx_port:os_pid(),
    OldServer = whereis(linx_port),
    [Program] = linx_ct_ns:children(WrapperPid),
    %% Alive, asleep or (still spinning after its start) running.
    true = lists:member(linx_ct_ns:proc_state(Program), [$S, $R]),
    #{port_hangs := Hangs} = linx_stats:snapshot(),
    os:cmd("kill -STOP " ++ integer_to_list(Program)),
    {error, {port_hung, _}} = linx_port:request({ping, <<>>}, 10000),
    ok = linx_ct_ns:wait_until(fun() -> linx_ct_ns:proc_state(Program) =:= gone end, 5000),
    ok = linx_ct_ns:wait_until(fun() -> linx_ct_ns:proc_state(WrapperPid) =:= gone end, 5000),
    %% The server was restarted with a new program, which answers.
    %% (The old server may still be registered while it answers its
    %% callers and stops: the new one is another process.)
    ok = linx_ct_ns:wait_until(fun() ->
                                       New = whereis(linx_port),
                                       New =/= undefined andalso New =/= OldServer
                               end, 5000),
    ok = linx_sysctl:write("net.core.somaxconn", 778, in(Config)),
    <<"778">> = linx_ct_ns:oracle({netns, ?config(netns, Config)}, "net.core.somaxconn"),
    [New] = linx_ct_ns:children(linx_port:os_pid()),
    true = New =/= Program,
    %% One hang: the new program was not taken for hung.
    #{port_hangs := Hangs1} = linx_stats:snapshot(),
    Hangs1 = Hangs + 1.

%% A program slow to start (its wrapper waits a second, more than three
%% times liveness_ms, before it runs it) is not taken for hung: the watch
%% starts with its ready frame. Its first request, to a netns, is served.
slow_start_not_hung(Config) ->
    linx_ct_ns:set_app_env(exec, filename:join(?config(data_dir, Config), "slow_wrapper.sh")),
    linx_ct_ns:set_app_env(liveness_ms, 300),
    T0 = erlang:monotonic_time(millisecond),
    {ok, _} = application:ensure_all_started(linx),
    true = erlang:monotonic_time(millisecond) - T0 >= 1000,
    Server = whereis(linx_port),
    #{port_hangs := 0, port_restarts := 0} = linx_stats:snapshot(),
    ok = linx_sysctl:write("net.core.somaxconn", 779, in(Config)),
    <<"779">> = linx_ct_ns:oracle({netns, ?config(netns, Config)}, "net.core.somaxconn"),
    {ok, S} = linx_netlink:open(route, in(Config)),
    ok = socket:close(S),
    Server = whereis(linx_port),
    #{port_hangs := 0, port_restarts := 0} = linx_stats:snapshot().

%% As user nobody with file capabilities (what `make setcap' sets) the port
%% reads and writes net sysctls in a netns and opens sockets there, and is
%% refused what its capabilities do not cover.
unprivileged_with_file_caps(Config) ->
    Copy = "/tmp/" ++ linx_ct_ns:unique("linx_port_caps"),
    {ok, _} = file:copy(filename:join(code:priv_dir(linx), "linx_port"), Copy),
    ok = file:change_mode(Copy, 8#755),
    linx_ct_ns:sh_ok(["setcap ", caps(), "+ep ", Copy]),
    linx_ct_ns:set_app_env(port_executable, Copy),
    linx_ct_ns:set_app_env(exec, ["setpriv", "--reuid=65534", "--regid=65534",
                                     "--clear-groups", "--inh-caps=-all"]),
    {ok, _} = application:ensure_all_started(linx),
    OsPid = linx_port:os_pid(),
    <<"65534", _/binary>> = maps:get(<<"Uid">>, status(OsPid)),
    Ns = ?config(netns, Config),
    ok = linx_sysctl:write("net.ipv4.ip_forward", 1, in(Config)),
    <<"1">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_forward"),
    {ok, 1} = linx_sysctl:read_int("net.ipv4.ip_forward", in(Config)),
    {ok, S} = linx_netlink:open(route, in(Config)),
    ok = socket:close(S),
    %% kernel.* writes need uid 0, which capabilities do not give.
    {error, #{stage := write, errno := eacces}} = linx_sysctl:write("kernel.domainname", <<"x">>),
    [{caps_copy, Copy} | Config].

caps() ->
    "cap_sys_admin,cap_net_admin,cap_sys_ptrace,cap_sys_chroot,cap_net_raw,"
    "cap_dac_override,cap_dac_read_search".

%% The policy is enforced inside the port: allowed ops, targets and write
%% prefixes work; everything else is refused and changes nothing.
policy_allows_and_refuses(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:set_app_env(policy, #{ops => [sysctl_read, sysctl_write, sysctl_list],
                                        targets => [netns, self],
                                        write_prefixes => [<<"net.ipv4.conf">>, "net/core/somaxconn"]}),
    {ok, _} = application:ensure_all_started(linx),
    ok = linx_sysctl:write("net.ipv4.conf.all.forwarding", 1, in(Config)),
    <<"1">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.conf.all.forwarding"),
    ok = linx_sysctl:write("net.core.somaxconn", 999, in(Config)),
    {ok, _} = linx_sysctl:list("net.ipv4.conf.lo", in(Config)),
    Before = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    {error, #{stage := policy, errno := path}} = linx_sysctl:write("net.ipv4.ip_default_ttl", 99, in(Config)),
    Before = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    %% Prefixes match whole segments.
    {error, #{stage := policy, errno := path}} = linx_sysctl:write("net.core.somaxconnx", 1, in(Config)),
    {error, #{stage := policy, errno := target}} =
        linx_sysctl:read("net.ipv4.ip_forward", #{in => {path, "/run/netns/" ++ Ns}}),
    {error, #{stage := policy, errno := op}} = linx_netlink:open(route, in(Config)),
    %% Raw requests, as a compromised caller would send them, fare no better.
    {error, {policy, path}} = linx_port:request({sysctl_write, <<"kernel/hostname">>, <<"pwned">>, self}),
    {error, {policy, op}} = linx_port:request({socket_open, 17, 3, 768, self}),
    true = linx_ct_ns:host_sysctl("kernel.hostname") =/= <<"pwned">>.

%% A batch is checked step by step: one refused step refuses the batch.
policy_refuses_batches(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:set_app_env(policy, #{write_prefixes => ["net.core"]}),
    {ok, _} = application:ensure_all_started(linx),
    Target = {netns, list_to_binary(Ns)},
    Before = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    {error, {policy, path}} =
        linx_port:request({batch, Target, [{sysctl_write, <<"net/core/somaxconn">>, <<"1000">>},
                                           {sysctl_write, <<"net/ipv4/ip_default_ttl">>, <<"9">>}]}),
    Before = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    {ok, [ok]} = linx_port:request({batch, Target, [{sysctl_write, <<"net/core/somaxconn">>, <<"1000">>}]}),
    <<"1000">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    %% An empty prefix list allows no write at all.
    ok = application:stop(linx),
    linx_ct_ns:set_app_env(policy, #{write_prefixes => []}),
    {ok, _} = application:ensure_all_started(linx),
    {error, #{stage := policy, errno := path}} = linx_sysctl:write("net.core.somaxconn", 1, #{in => Target}),
    {ok, _} = linx_sysctl:read("net.core.somaxconn", #{in => Target}).

%% A malformed policy stops the application from starting, loudly.
bad_policy_refused(_Config) ->
    [begin
         linx_ct_ns:set_app_env(policy, P),
         {error, {linx, _}} = application:ensure_all_started(linx)
     end || P <- [#{ops => [launch]}, #{targets => [anywhere]}, #{write_prefixes => ["../etc"]},
                  #{frob => 1}, not_a_map]],
    ok.
