%% @doc The fd channel trusts only the port program: a foreign process that
%% connects before the port is refused and cannot inject a descriptor, and
%% once the port is verified nobody else can connect at all.
-module(linx_fdchan_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([connect_after_start_refused/1, intruder_before_port_rejected/1]).

all() ->
    [connect_after_start_refused, intruder_before_port_rejected].

init_per_testcase(_, Config) ->
    {ok, _} = application:ensure_all_started(linx),
    Config.

end_per_testcase(_, _Config) ->
    _ = application:stop(linx),
    application:unset_env(linx, port_executable),
    os:unsetenv("LINX_REAL_PORT"),
    os:unsetenv("LINX_INTRUDER_LOG"),
    ok.

%% Once the port is verified the listener is closed: connections are refused,
%% from this node and from another process.
connect_after_start_refused(Config) ->
    #{fd_channel := Name} = linx_port:info(),
    {ok, S} = socket:open(local, seqpacket, default),
    {error, econnrefused} = socket:connect(S, #{family => local, path => <<0, Name/binary>>}),
    ok = socket:close(S),
    Intruder = filename:join(?config(data_dir, Config), "intruder.py"),
    <<"refused">> = linx_ct_ns:sh_ok(["python3 ", Intruder, " ", Name]),
    {ok, Sock} = linx_netlink_open(),
    ok = socket:close(Sock).

%% An intruder connects first and sends a descriptor tagged with the id the
%% first request will get: it is rejected, and request 1 gets a real
%% netlink socket made by the port.
intruder_before_port_rejected(Config) ->
    %% What a normally started linx holds: port pipes and the fd channel.
    ok = application:stop(linx),
    Data = ?config(data_dir, Config),
    Log = filename:join(?config(priv_dir, Config), "intruder.log"),
    Real = filename:join(code:priv_dir(linx), "linx_port"),
    os:putenv("LINX_REAL_PORT", Real),
    os:putenv("LINX_INTRUDER_LOG", Log),
    linx_ct_ns:set_app_env(port_executable, filename:join(Data, "wrapper.sh")),
    {ok, _} = application:ensure_all_started(linx),
    %% The intruder connected before the port started; its send either went
    %% out or found the connection already closed by linx (EPIPE).
    {ok, Said} = file:read_file(Log),
    true = lists:member(Said, [<<"sent\n">>, <<"send_failed:32\n">>]),
    {ok, Sock} = linx_netlink_open(),
    #{domain := 16, type := raw} = socket:info(Sock),
    {ok, #{family := 16}} = socket:sockname(Sock),
    ok = socket:close(Sock),
    %% The intruder's descriptor (its /etc/hostname) never entered this node.
    false = lists:member("/etc/hostname", fd_links(os:getpid())).

fd_links(OsPid) ->
    Dir = "/proc/" ++ OsPid ++ "/fd/",
    {ok, Fds} = file:list_dir(Dir),
    [L || F <- Fds, {ok, L} <- [file:read_link(Dir ++ F)]].

linx_netlink_open() ->
    linx_port:request_fd({netlink_open, 0, 0, self},
                         {adopt, #{domain => 16, type => raw, protocol => 0}}, 5000).
