%% @doc Writes land where their target says, or are refused: a key outside
%% `net.*' through a target that enters only a network namespace is
%% refused with `not_in_target' (it would reach the host's namespaces)
%% unless `host_keys => true' says so, and a write the kernel takes only
%% part of is reported as partial (and rolled back by apply). Checked with
%% sysctl(8) on the host and in the namespace.
-module(linx_write_target_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1]).
-export([netns_write_outside_net_refused/1, apply_outside_net_refused/1,
         host_keys_means_it/1, net_keys_still_written/1,
         partial_write_reported/1, partial_write_rolled_back_by_apply/1]).

%% A key outside net.* whose host value the tests write back unchanged,
%% so that even a wrong acceptance changes nothing.
-define(HOST_KEY, "kernel.printk_ratelimit").

suite() ->
    [{timetrap, {minutes, 2}}].

all() ->
    [netns_write_outside_net_refused, apply_outside_net_refused, host_keys_means_it,
     net_keys_still_written, partial_write_reported, partial_write_rolled_back_by_apply].

init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-wt", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%% {netns, N}, {ns, [/run/netns/N]} and {pid, P} of a process in its own
%% network namespace only: refused, with a sentence saying why.
netns_write_outside_net_refused(Config) ->
    Ns = ?config(netns, Config),
    Value = linx_ct_ns:host_sysctl(?HOST_KEY),
    {ok, Pid} = linx_ct_ns:unshare_net(),
    try
        Ins = [{netns, list_to_binary(Ns)}, {ns, ["/run/netns/" ++ Ns]}, {pid, Pid}],
        [{error, #{op := write, stage := write, errno := not_in_target, code := 0,
                   key := <<?HOST_KEY>>, in := In}} =
             linx_sysctl:write(?HOST_KEY, Value, #{in => In}) || In <- Ins],
        {error, E1} = linx_sysctl:write(?HOST_KEY, Value, #{in => {netns, list_to_binary(Ns)}}),
        Expected = iolist_to_binary(
                     ["sysctl write \"kernel.printk_ratelimit\" failed: {netns, \"", Ns,
                      "\"} enters only the network namespace, so this key would be written "
                      "in the host's namespaces; use in => {pid, OsPid} for a process's "
                      "namespaces, or host_keys => true to mean it"]),
        Expected = linx:format_error(E1),
        Value = linx_ct_ns:host_sysctl(?HOST_KEY)
    after
        linx_ct_ns:kill(Pid)
    end.

%% Apply refuses before writing anything: the net.* key before it is not
%% written either.
apply_outside_net_refused(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=4242"]),
    Value = linx_ct_ns:host_sysctl(?HOST_KEY),
    {error, #{failed := <<?HOST_KEY>>, rolled_back := [],
              reason := #{op := apply, stage := write, errno := not_in_target}} = E} =
        linx_sysctl:apply([{"net.core.somaxconn", 1111}, {?HOST_KEY, Value}],
                          #{in => {netns, list_to_binary(Ns)}}),
    {_, _} = binary:match(linx:format_error(E), <<"enters only the network namespace">>),
    <<"4242">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn").

%% With host_keys => true the same writes go through (to the host's key,
%% written back with its own value).
host_keys_means_it(Config) ->
    Ns = list_to_binary(?config(netns, Config)),
    Value = linx_ct_ns:host_sysctl(?HOST_KEY),
    ok = linx_sysctl:write(?HOST_KEY, Value, #{in => {netns, Ns}, host_keys => true}),
    {ok, [{<<?HOST_KEY>>, Value}]} =
        linx_sysctl:apply([{?HOST_KEY, Value}], #{in => {netns, Ns}, host_keys => true}),
    Value = linx_ct_ns:host_sysctl(?HOST_KEY).

%% net.* keys are the namespace's own: written there, with or without
%% host_keys.
net_keys_still_written(Config) ->
    Ns = ?config(netns, Config),
    In = {netns, list_to_binary(Ns)},
    ok = linx_sysctl:write("net.core.somaxconn", 2345, #{in => In}),
    <<"2345">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    ok = linx_sysctl:write("net.core.somaxconn", 3456, #{in => In, host_keys => true}),
    <<"3456">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn").

%% "77 5" to a one-integer key: the kernel takes "77 " and stops; the
%% value has changed, and the error says so.
partial_write_reported(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=4242"]),
    {error, #{op := write, stage := write, errno := partial, code := 0,
              written := Written, total := 4} = E} =
        linx_sysctl:write("net.core.somaxconn", [77, 5], #{in => {netns, list_to_binary(Ns)}}),
    true = Written > 0 andalso Written < 4,
    <<"77">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    Expected = iolist_to_binary(
                 io_lib:format("sysctl write \"net.core.somaxconn\" in netns \"~ts\" failed on "
                               "/proc/sys/net/core/somaxconn: the kernel took ~b of 4 bytes "
                               "(partial write; the value has changed)", [Ns, Written])),
    Expected = linx:format_error(E).

%% Apply restores the partially written key with the ones before it.
partial_write_rolled_back_by_apply(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=4242"]),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.ipv4.ip_forward=0"]),
    {error, #{failed := <<"net.core.somaxconn">>, rolled_back := Rolled,
              reason := #{errno := partial}}} =
        linx_sysctl:apply([{"net.ipv4.ip_forward", 1}, {"net.core.somaxconn", [77, 5]}],
                          #{in => {netns, list_to_binary(Ns)}}),
    true = lists:member(<<"net.ipv4.ip_forward">>, Rolled),
    <<"4242">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    <<"0">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_forward").
