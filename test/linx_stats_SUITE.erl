%% @doc linx:stats/0 counts every request, whichever way it travels: the
%% caller's own round trip, the gen_server call taken while the server
%% starts, socket opens (whose descriptor comes on the fd channel),
%% requests answered in parts and requests refused because the server is
%% not running.
-module(linx_stats_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([direct_path_counted/1]).
-export([fd_requests_counted/1]).
-export([parts_error_counted/1]).
-export([call_during_start_counted/1]).
-export([not_running_counted/1]).

all() ->
    [direct_path_counted, fd_requests_counted, parts_error_counted,
     call_during_start_counted, not_running_counted].

init_per_suite(Config) ->
    linx_ct_ns:start_linx(Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_linx(Config).

%% A read on the usual path, and one that fails, are counted.
direct_path_counted(_Config) ->
    Reads = requests(sysctl_read),
    Enoent = errors({read, enoent}),
    {ok, <<"Linux">>} = linx_sysctl:read("kernel.ostype"),
    {error, #{errno := enoent}} = linx_sysctl:read("kernel.no_such_key"),
    Reads2 = Reads + 2,
    Reads2 = requests(sysctl_read),
    Enoent1 = Enoent + 1,
    Enoent1 = errors({read, enoent}).

%% Socket opens are counted, and so are their failures.
fd_requests_counted(_Config) ->
    Opens = requests(netlink_open),
    Refused = errors({socket, eprotonosupport}),
    {ok, S} = linx_netlink:open(route, #{}),
    ok = socket:close(S),
    {ok, Fd} = linx_netlink:open_fd(route, #{}),
    ok = linx_netlink:close_fd(Fd),
    {error, #{stage := socket, errno := eprotonosupport}} = linx_netlink:open(31, #{}),
    Opens3 = Opens + 3,
    Opens3 = requests(netlink_open),
    Refused1 = Refused + 1,
    Refused1 = errors({socket, eprotonosupport}).

%% A request that may be answered in parts counts its result, not the
%% result with the parts' accumulator: its error too.
parts_error_counted(_Config) ->
    Calls = requests(netlink_call),
    Enoent = errors({open_ns, enoent}),
    Dump = <<16:32/native, 18:16/native, 16#301:16/native, 1:32/native, 0:32/native>>,
    In = #{in => {netns, <<"linx_stats_no_such_netns">>}},
    {{error, #{stage := open_ns, errno := enoent}}, acc} =
        linx_netlink:call(route, Dump, In, fun(_Replies, Acc) -> Acc end, acc),
    Calls1 = Calls + 1,
    Calls1 = requests(netlink_call),
    Enoent1 = Enoent + 1,
    Enoent1 = errors({open_ns, enoent}).

%% While the server waits for a starting port program, a request goes
%% through a gen_server call; it is counted once it is answered. The
%% program is held back by a wrapper that waits on a FIFO, so the request
%% is certainly queued in the server before the program starts.
call_during_start_counted(Config) ->
    Dir = ?config(priv_dir, Config),
    Fifo = filename:join(Dir, "go"),
    Wrapper = filename:join(Dir, "wait_then_exec.sh"),
    Real = filename:join(code:priv_dir(linx), "linx_port"),
    ok = file:write_file(Wrapper, ["#!/bin/sh\nread line < ", Fifo, "\nexec ", Real, " \"$@\"\n"]),
    ok = file:change_mode(Wrapper, 8#755),
    _ = linx_ct_ns:sh_ok(["mkfifo ", Fifo]),
    ok = supervisor:terminate_child(linx_sup, linx_port),
    ok = linx_ct_ns:set_app_env(port_executable, Wrapper),
    Self = self(),
    try
        _ = spawn_link(fun() -> Self ! {restarted, supervisor:restart_child(linx_sup, linx_port)} end),
        ok = linx_ct_ns:wait_until(fun() -> whereis(linx_port) =/= undefined end, 5000),
        Reads = requests(sysctl_read),
        _ = spawn_link(fun() -> Self ! {read, linx_sysctl:read("kernel.ostype")} end),
        %% The server is still in init/1: the call waits in its queue.
        ok = linx_ct_ns:wait_until(fun() -> queued(linx_port) >= 1 end, 5000),
        Reads = requests(sysctl_read),
        _ = linx_ct_ns:sh_ok(["echo go > ", Fifo]),
        receive {restarted, {ok, _}} -> ok after 10000 -> ct:fail(no_restart) end,
        receive {read, {ok, <<"Linux">>}} -> ok after 10000 -> ct:fail(no_reply) end,
        Reads1 = Reads + 1,
        Reads1 = requests(sysctl_read)
    after
        application:unset_env(linx, port_executable)
    end.

%% With the server gone, a request fails at once with not_running, and
%% that is counted too.
not_running_counted(_Config) ->
    ok = supervisor:terminate_child(linx_sup, linx_port),
    try
        NotRunning = errors({not_running, none}),
        {error, #{reason := not_running}} = linx_sysctl:read("kernel.ostype"),
        {error, #{reason := not_running}} = linx_netlink:open(route, #{}),
        NotRunning2 = NotRunning + 2,
        NotRunning2 = errors({not_running, none})
    after
        {ok, _} = supervisor:restart_child(linx_sup, linx_port)
    end.

%%====================================================================
%% Helpers
%%====================================================================

requests(Op) ->
    maps:get(Op, maps:get(requests, linx_stats:snapshot()), 0).

errors(Key) ->
    maps:get(Key, maps:get(errors, linx_stats:snapshot()), 0).

queued(Name) ->
    {message_queue_len, N} = process_info(whereis(Name), message_queue_len),
    N.
