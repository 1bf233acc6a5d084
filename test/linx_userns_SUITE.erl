%% @doc Targets with a user namespace: rootless containers made with
%% `unshare -Urn'. A multi-threaded process cannot enter a user namespace,
%% so the port serves them through a single-threaded helper process. Tested
%% as root, and with the node and the port running as an unprivileged user
%% who reaches its own rootless netns and is refused everywhere else.
-module(linx_userns_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([root_reaches_rootless_netns/1, helpers_retire_and_restart/1,
         helper_entry_failure_is_an_error/1, unprivileged_node/1]).

all() ->
    [root_reaches_rootless_netns, helpers_retire_and_restart,
     helper_entry_failure_is_an_error, unprivileged_node].

-define(NOBODY, "--reuid=65534 --regid=65534 --clear-groups").

init_per_testcase(Case, Config) ->
    Env = case Case of
              helpers_retire_and_restart -> [{port_args, ["--idle-ms", "100"]}];
              _ -> []
          end,
    linx_ct_ns:start_with_userns(Env, Config).

end_per_testcase(_Case, Config) ->
    linx_ct_ns:stop_with_userns([port_args], Config).

stats() ->
    {ok, S} = linx_port:request(stats),
    S.

%% As root, {pid, N} of a rootless container reads and writes its net
%% sysctls (oracle: nsenter into its user and net namespaces); the host
%% keeps its own values.
root_reaches_rootless_netns(Config) ->
    Pid = ?config(pid, Config),
    P = integer_to_list(Pid),
    In = #{in => {pid, Pid}},
    Oracle = fun(Key) -> linx_ct_ns:sh_ok(["nsenter -t ", P, " -U -n sysctl -n ", Key]) end,
    Want = Oracle("net.core.somaxconn"),
    {ok, Want} = linx_sysctl:read("net.core.somaxconn", In),
    HostTtl = linx_ct_ns:host_sysctl("net.ipv4.ip_default_ttl"),
    ok = linx_sysctl:write("net.ipv4.ip_default_ttl", 33, In),
    <<"33">> = Oracle("net.ipv4.ip_default_ttl"),
    HostTtl = linx_ct_ns:host_sysctl("net.ipv4.ip_default_ttl"),
    {ok, Conf} = linx_sysctl:list("net.ipv4.conf", In),
    [<<"all">>, <<"default">>, <<"lo">>] =
        lists:usort([lists:nth(4, binary:split(K, <<".">>, [global])) || {K, _} <- Conf]),
    %% Batches go through the helper too.
    {ok, [ok, {ok, <<"34\n">>}]} =
        linx_port:request({batch, {pid, Pid}, [{sysctl_write, <<"net/ipv4/ip_default_ttl">>, <<"34">>},
                                               {sysctl_read, <<"net/ipv4/ip_default_ttl">>}]}),
    %% Sockets in its netns (entered without the user namespace, as root may).
    {ok, S} = linx_netlink:open(route, In),
    ok = socket:close(S),
    #{helpers := 1, helpers_started := 1} = stats().

%% An idle helper ends; the next request starts a new one.
helpers_retire_and_restart(Config) ->
    In = #{in => {pid, ?config(pid, Config)}},
    {ok, _} = linx_sysctl:read("net.core.somaxconn", In),
    #{helpers_started := 1} = stats(),
    ok = linx_ct_ns:wait_until(fun() -> maps:get(helpers, stats()) =:= 0 end, 5000),
    {ok, _} = linx_sysctl:read("net.core.somaxconn", In),
    #{helpers := 1, helpers_started := 2} = stats().

%% A target that dies between resolution and the helper's entry, or that
%% cannot be entered, answers with an error and leaves the port serving.
helper_entry_failure_is_an_error(Config) ->
    Pid = ?config(pid, Config),
    linx_ct_ns:kill(Pid),
    {error, #{stage := open_ns, errno := esrch}} = linx_sysctl:read("net.core.somaxconn", #{in => {pid, Pid}}),
    {ok, <<"Linux">>} = linx_sysctl:read("kernel.ostype").

%% The node and the port as user nobody: its own rootless netns is reached
%% through a helper; root's netns and root's processes are refused.
unprivileged_node(_Config) ->
    Ns = linx_ct_ns:unique("linx-un"),
    ok = linx_ct_ns:netns_add(Ns),
    {ok, Own} = linx_ct_ns:unshare(["--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-U", "-r", "-n"],
                                   "/usr/bin/setpriv"),
    %% The checkout may not be readable by nobody: give it its own copy.
    Ebin = world_readable_copy(),
    try
        %% Links enough for a dump the port's own workers send in parts;
        %% through a helper (whose parent relays one reply per request) it
        %% comes whole.
        Batch = filename:join(filename:dirname(filename:dirname(Ebin)), "veth.batch"),
        ok = file:write_file(Batch, [io_lib:format("link add hva~b type veth peer name hvb~b~n", [I, I])
                                     || I <- lists:seq(1, 60)]),
        _ = linx_ct_ns:sh_ok(["nsenter -t ", integer_to_list(Own), " -U -n ip -batch ", Batch]),
        Script = io_lib:format(
            "{ok, _} = application:ensure_all_started(linx),"
            "In = #{in => {pid, ~b}},"
            "R1 = linx_sysctl:write(\"net.ipv4.ip_default_ttl\", 21, In),"
            "R2 = linx_sysctl:read(\"net.ipv4.ip_default_ttl\", In),"
            "R3 = linx_sysctl:read(\"net.ipv4.ip_forward\", #{in => {netns, <<\"~s\">>}}),"
            "R4 = linx_sysctl:read(\"net.ipv4.ip_forward\", #{in => {pid, 1}}),"
            "R5 = linx_sysctl:write(\"net.ipv4.ip_default_ttl\", 22),"
            "R6 = case linx_rtnl:links(In) of {ok, L} -> {ok, length(L)}; E6 -> E6 end,"
            "Req = <<32:32/native, 18:16/native, 16#301:16/native, 1:32, 0:32, 0:128>>,"
            "R7 = case linx_netlink:call(route, Req, In, fun(_, N) -> N + 1 end, 0) of"
            "         {{ok, Bs}, Parts} -> {iolist_size(Bs) > 65536, Parts}; E7 -> E7 end,"
            "R8 = case linx_netlink:open(route, In) of {ok, S} -> socket:close(S); E8 -> E8 end,"
            "io:format(\"~~0p~~n\", [{R1, R2, R3, R4, R5, R6, R7, R8}]), halt().",
            [Own, Ns]),
        Out = linx_ct_ns:sh_ok(["setpriv ", ?NOBODY, " env HOME=/tmp erl -noshell -pa ", Ebin,
                                " -eval '", Script, "' 2>/dev/null | tail -1"]),
        ct:pal("nobody node said: ~ts", [Out]),
        {ok, Tokens, _} = erl_scan:string(binary_to_list(Out) ++ "."),
        {ok, {R1, R2, R3, R4, R5, R6, R7, R8}} = erl_parse:parse_term(Tokens),
        ct:pal("as nobody: ~p", [{R1, R2, R3, R4, R5, R6, R7, R8}]),
        %% Netlink in its rootless netns goes through the helper too.
        {ok, 121} = R6,
        {true, 0} = R7,
        ok = R8,
        ok = R1,
        {ok, <<"21">>} = R2,
        <<"21">> = linx_ct_ns:sh_ok(["nsenter -t ", integer_to_list(Own), " -U -n sysctl -n net.ipv4.ip_default_ttl"]),
        {error, #{stage := setns, errno := eperm}} = R3,
        {error, #{stage := open_ns, errno := eacces}} = R4,
        {error, #{stage := write, errno := eacces}} = R5
    after
        linx_ct_ns:kill(Own),
        linx_ct_ns:netns_del(Ns),
        linx_ct_ns:sh(["rm -rf ", filename:dirname(filename:dirname(Ebin))])
    end.

%% A copy of the application (ebin and priv) that user nobody can read.
world_readable_copy() ->
    Root = filename:join("/tmp", linx_ct_ns:unique("linx-app")),
    Lib = filename:join(Root, "linx"),
    Src = code:lib_dir(linx),
    [begin
         Dir = filename:join(Lib, Sub),
         ok = filelib:ensure_path(Dir),
         {ok, Files} = file:list_dir(filename:join(Src, Sub)),
         [{ok, _} = file:copy(filename:join([Src, Sub, F]), filename:join(Dir, F))
          || F <- Files, filelib:is_regular(filename:join([Src, Sub, F]))]
     end || Sub <- ["ebin", "priv"]],
    ok = file:change_mode(filename:join([Lib, "priv", "linx_port"]), 8#755),
    linx_ct_ns:sh_ok(["chmod -R a+rX ", Root]),
    filename:join(Lib, "ebin").

