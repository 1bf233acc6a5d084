%% @doc sysctl errors through the linx application: arguments refused
%% before anything reaches the port, and what the port and the kernel
%% answer for keys, namespaces and processes that are not there or not
%% writable, each error with its fields and its one line of text. The
%% reads and writes that work are linx_sysctl_SUITE's.
-module(linx_sysctl_errors_SUITE).

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([bad_keys/1, bad_values/1, bad_in/1,
         missing_key/1, missing_list_root/1, missing_ns_file/1, not_a_namespace/1,
         deleted_netns/1, dead_pid/1, read_only_key/1, error_text/1]).

all() ->
    [{group, refused}, {group, failed}].

groups() ->
    [{refused, [], [bad_keys, bad_values, bad_in]},
     {failed, [], [missing_key, missing_list_root, missing_ns_file, not_a_namespace,
                   deleted_netns, dead_pid, read_only_key, error_text]}].

init_per_suite(Config) ->
    linx_ct_ns:start_linx(Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_linx(Config).

%% --------------------------------------------------------------- refused

%% Malformed keys never reach the port.
bad_keys(_Config) ->
    [{error, #{reason := {bad_key, K}}} = linx_sysctl:read(K)
     || K <- [<<>>, "", <<".net">>, <<"net.">>, <<"net..ipv4">>, <<"net/../etc">>,
              <<"/proc/sys/net">>, <<"net/">>, <<"net//ipv4">>, <<"a.b c">>,
              <<"net/./ipv4">>, <<"a", 0, "b">>, 42, {a}, 1.5]],
    {error, #{reason := {bad_key, <<"../x">>}}} = linx_sysctl:write(<<"../x">>, 1),
    {error, #{reason := {bad_key, <<"/x">>}}} = linx_sysctl:list(<<"/x">>).

%% Values with a newline or NUL, and unsupported types, are refused.
bad_values(_Config) ->
    {error, #{reason := {bad_value, {contains, newline}}}} = linx_sysctl:write("net.core.somaxconn", <<"1\n2">>),
    {error, #{reason := {bad_value, {contains, nul}}}} = linx_sysctl:write("net.core.somaxconn", <<"1", 0>>),
    {error, #{reason := {unsupported_type, 1.5}}} = linx_sysctl:write("net.core.somaxconn", 1.5),
    {error, #{reason := {unsupported_type, foo}}} = linx_sysctl:write("net.core.somaxconn", foo),
    {error, #{reason := {unsupported_type, #{}}}} = linx_sysctl:write("net.core.somaxconn", #{}).

%% Bad `in' options are refused with the option.
bad_in(_Config) ->
    [{error, #{reason := {bad_in, In}}} = linx_sysctl:read("kernel.ostype", #{in => In})
     || In <- [other, {pid, 0}, {pid, -3}, {pid, "1"}, {netns, ""}, {netns, "a/b"},
               {netns, ".."}, {path, ""}, {ns, not_a_list}, {ns, [1]}, {netns, 1}]].

%% ---------------------------------------------------------------- failed

%% A key that does not exist: enoent, with the path in the error.
missing_key(_Config) ->
    {error, #{stage := read, errno := enoent, code := 2, key := <<"kernel.no_such_key">>,
              path := <<"/proc/sys/kernel/no_such_key">>}} =
        linx_sysctl:read("kernel.no_such_key"),
    {error, #{stage := write, errno := enoent}} = linx_sysctl:write("kernel.no_such_key", 1).

%% A list root that does not exist.
missing_list_root(_Config) ->
    {error, #{stage := list, errno := enoent}} = linx_sysctl:list("no.such.tree").

%% A namespace file that does not exist.
missing_ns_file(_Config) ->
    {error, #{stage := open_ns, errno := enoent}} =
        linx_sysctl:read("kernel.ostype", #{in => {path, "/run/netns/linx-no-such-ns"}}),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_sysctl:read("kernel.ostype", #{in => {netns, "linx-no-such-ns"}}).

%% A file that is not a namespace.
not_a_namespace(_Config) ->
    [{error, #{stage := open_ns, errno := einval}} =
         linx_sysctl:read("kernel.ostype", #{in => {path, P}})
     || P <- ["/etc/hostname", "/dev/null", "/proc/sys"]].

%% A netns deleted after use is gone for the next request.
deleted_netns(_Config) ->
    Ns = linx_ct_ns:unique("linx-gone"),
    ok = linx_ct_ns:netns_add(Ns),
    {ok, _} = linx_sysctl:read("net.ipv4.ip_forward", #{in => {netns, Ns}}),
    linx_ct_ns:netns_del(Ns),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_sysctl:read("net.ipv4.ip_forward", #{in => {netns, Ns}}).

%% A pid that no longer exists.
dead_pid(_Config) ->
    Port = open_port({spawn_executable, "/bin/true"}, [exit_status]),
    {os_pid, Pid} = erlang:port_info(Port, os_pid),
    receive {Port, {exit_status, 0}} -> ok end,
    {error, #{stage := open_ns, errno := esrch}} =
        linx_sysctl:read("net.ipv4.ip_forward", #{in => {pid, Pid}}).

%% A read-only key refuses writes, even for root.
read_only_key(_Config) ->
    {error, #{stage := write, errno := eacces, code := 13}} = linx_sysctl:write("kernel.ostype", <<"x">>),
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
    {ok, Ostype} = linx_sysctl:read("kernel.ostype").

%% Errors render as one readable line.
error_text(_Config) ->
    {error, E} = linx_sysctl:write("kernel.ostype", <<"x">>),
    <<"sysctl write \"kernel.ostype\" failed on /proc/sys/kernel/ostype: eacces (errno 13)">> =
        iolist_to_binary(linx:format_error(E)),
    {error, B} = linx_sysctl:read(<<"a..b">>),
    Text = iolist_to_binary(linx:format_error(B)),
    {match, _} = re:run(Text, "a\\.\\.b").
