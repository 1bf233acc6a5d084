%% @doc linx_port as a C-node (`--cnode'), reached over Erlang distribution
%% from a peer node that runs neither the linx application nor a port:
%% gen_server calls and plain `{Pid, Ref, Op}' messages, sysctl read, write
%% and list and netlink_call in a netns (checked with `ip netns exec' and
%% `ip -n'), descriptors handed over on the same host, a wrong cookie
%% refused, ticks answered, and a C-node killed with SIGKILL while callers
%% wait: they get errors within their timeout plus one second, and calls
%% work again once it is restarted.
-module(linx_cnode_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([calls/1, rtnl_links_via/1, plain_messages/1, unknown_name_fails_at_once/1,
         read_write_list/1, app_env_default/1, netlink_call_dump/1,
         netlink_call_errors/1, netlink_call_port_mode/1,
         netlink_open_same_host/1, netlink_open_other_host/1,
         bad_fd_channel/1, unreachable/1, wrong_cookie/1, loopback_only/1,
         ticks_keep_the_connection/1, caller_node_goes_down/1,
         kill_under_load_and_restart/1, cnode_requests_counted/1]).

%% Run on the peer node.
-export([plain_request/2, call_timed/3, stay_connected/2, load/4,
         open_and_dump/2, start_blocked_calls/3]).

-define(PEER_TIMEOUT, 30000).

all() ->
    [{group, cnode}].

groups() ->
    [{cnode, [],
      [calls, plain_messages, unknown_name_fails_at_once, read_write_list,
       app_env_default, netlink_call_dump, netlink_call_errors,
       netlink_call_port_mode, rtnl_links_via, netlink_open_same_host, netlink_open_other_host,
       bad_fd_channel, unreachable, wrong_cookie, loopback_only,
       ticks_keep_the_connection, caller_node_goes_down,
       kill_under_load_and_restart, cnode_requests_counted]}].

%%====================================================================
%% Set-up: epmd, a distributed CT node, the C-node, a peer, a netns
%%====================================================================

init_per_suite(Config) ->
    _ = os:cmd("epmd -daemon"),
    Started = case node() of
                  nonode@nohost ->
                      Name = list_to_atom("linx_ct_" ++ os:getpid()),
                      {ok, _} = net_kernel:start([Name, shortnames]),
                      true;
                  _ ->
                      false
              end,
    Cookie = atom_to_list(erlang:get_cookie()),
    CookieFile = filename:join(?config(priv_dir, Config), "cookie"),
    ok = file:write_file(CookieFile, Cookie),
    ok = file:change_mode(CookieFile, 8#600),
    CNode = list_to_atom("linx_ct_cnode_" ++ os:getpid() ++ "@localhost"),
    Config1 = [{cnode, CNode}, {cookie, Cookie}, {cookie_file, CookieFile},
               {started_dist, Started} | Config],
    ok = start_cnode(Config1),
    {ok, Peer, PeerNode} = start_peer(peer_name("linx_ct_peer"), Cookie, []),
    Ns = linx_ct_ns:unique("linx-cn"),
    case linx_ct_ns:netns_add(Ns) of
        ok ->
            linx_ct_ns:sh_ok(["ip -n ", Ns, " link add v0 type veth peer name v1"]),
            [{peer, Peer}, {peer_node, PeerNode}, {netns, Ns} | Config1];
        {skip, _} = Skip ->
            end_per_suite([{peer, Peer} | Config1]),
            Skip
    end.

end_per_suite(Config) ->
    linx_ct_cnode:stop(),
    case ?config(peer, Config) of
        undefined -> ok;
        Peer -> catch peer:stop(Peer)
    end,
    case ?config(netns, Config) of
        undefined -> ok;
        Ns -> linx_ct_ns:netns_del(Ns)
    end,
    _ = application:stop(linx),
    case ?config(started_dist, Config) of
        true -> _ = net_kernel:stop(), ok;
        _ -> ok
    end.

start_cnode(Config) ->
    linx_ct_cnode:start(?config(cnode, Config), ?config(cookie_file, Config)).

peer_name(Prefix) ->
    list_to_atom(Prefix ++ "_" ++ integer_to_list(erlang:unique_integer([positive]))).

%% A peer node with this node's cookie (or another one) and the code
%% of linx, its test helpers and this suite.
start_peer(Name, Cookie, Extra) ->
    Paths = lists:usort([filename:dirname(code:which(M))
                         || M <- [linx_sysctl, linx_ct_nl, ?MODULE]]),
    Args = ["-setcookie", Cookie | lists:append([["-pa", P] || P <- Paths])] ++ Extra,
    peer:start(#{name => Name, args => Args}).

on_peer(Config, F, A) ->
    on_peer(Config, ?MODULE, F, A).

on_peer(Config, M, F, A) ->
    erpc:call(?config(peer_node, Config), M, F, A, ?PEER_TIMEOUT).

via(Config) ->
    #{via => ?config(cnode, Config)}.

in_ns(Config) ->
    #{via => ?config(cnode, Config), in => {netns, ?config(netns, Config)}}.

%%====================================================================
%% Cases
%%====================================================================

%% gen_server:call from another node: version, stats and os_pid.
calls(Config) ->
    C = ?config(cnode, Config),
    {OsPid, _} = linx_ct_cnode:state(),
    {ok, Version} = on_peer(Config, gen_server, call, [{linx, C}, version]),
    true = is_binary(Version),
    {ok, #{requests := N}} = on_peer(Config, gen_server, call, [{linx, C}, stats]),
    true = N >= 1,
    {ok, OsPid} = on_peer(Config, gen_server, call, [{linx, C}, os_pid]),
    {error, {badarg, op}} = on_peer(Config, gen_server, call, [{linx, C}, no_such_op]),
    %% The C-node is a hidden node: it does not join the peer's cluster.
    false = lists:member(C, on_peer(Config, erlang, nodes, [])),
    true = lists:member(C, on_peer(Config, erlang, nodes, [hidden])).

%% `{Pid, Ref, Op}' sent to {linx, Node} is answered with `{Ref, Result}'.
plain_messages(Config) ->
    C = ?config(cnode, Config),
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
    Want = <<Ostype/binary, "\n">>,
    {ok, Want} = on_peer(Config, plain_request, [C, {sysctl_read, <<"kernel/ostype">>, self}]),
    {ok, {any, [term]}} = on_peer(Config, plain_request, [C, {ping, {any, [term]}}]).

plain_request(C, Op) ->
    Ref = make_ref(),
    {linx, C} ! {self(), Ref, Op},
    receive
        {Ref, Result} -> Result
    after 5000 ->
        timeout
    end.

%% A call to a name the C-node does not have fails at once (MONITOR_P_EXIT
%% noproc), not after its timeout.
unknown_name_fails_at_once(Config) ->
    C = ?config(cnode, Config),
    {{'EXIT', {noproc, _}}, Ms} = on_peer(Config, call_timed, [{nosuch, C}, hello, 5000]),
    true = Ms < 1000.

call_timed(Dest, Msg, Timeout) ->
    T0 = erlang:monotonic_time(millisecond),
    Result = (catch gen_server:call(Dest, Msg, Timeout)),
    {Result, erlang:monotonic_time(millisecond) - T0}.

%% linx_sysctl with `via' reads, writes and lists in a netns, as
%% `ip netns exec NAME sysctl' sees it.
read_write_list(Config) ->
    Ns = ?config(netns, Config),
    In = in_ns(Config),
    [begin
         Want = linx_ct_ns:oracle({netns, Ns}, Key),
         {ok, Want} = on_peer(Config, linx_sysctl, read, [Key, In])
     end || Key <- ["net.ipv4.ip_forward", "net.core.somaxconn", "net.ipv4.conf.v0.forwarding"]],
    HostBefore = linx_ct_ns:host_sysctl("net.ipv4.ip_forward"),
    New = case linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_forward") of <<"1">> -> 0; _ -> 1 end,
    ok = on_peer(Config, linx_sysctl, write, ["net.ipv4.ip_forward", New, In]),
    NewBin = integer_to_binary(New),
    NewBin = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_forward"),
    HostBefore = linx_ct_ns:host_sysctl("net.ipv4.ip_forward"),
    ok = on_peer(Config, linx_sysctl, write, ["net.ipv4.ip_local_port_range", [20000, 30000], In]),
    {ok, [20000, 30000]} = on_peer(Config, linx_sysctl, read_ints, ["net.ipv4.ip_local_port_range", In]),
    {ok, Listed} = on_peer(Config, linx_sysctl, list, ["net.ipv4.conf.v0", In]),
    true = length(Listed) > 10,
    [V = linx_ct_ns:oracle({netns, Ns}, binary_to_list(K)) || {K, V} <- lists:sublist(Listed, 5)],
    %% Errors are the same maps as in port mode.
    {error, #{stage := read, errno := enoent}} =
        on_peer(Config, linx_sysctl, read, ["net.ipv4.no_such_key", In]).

%% The application environment's `via' is the default.
app_env_default(Config) ->
    C = ?config(cnode, Config),
    ok = on_peer(Config, application, load, [linx]),
    ok = on_peer(Config, application, set_env, [linx, via, C]),
    try
        Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
        {ok, Ostype} = on_peer(Config, linx_sysctl, read, ["kernel.ostype"]),
        %% `via => local' still means this node's own port, not running there.
        {error, #{reason := not_running}} = on_peer(Config, linx_sysctl, read, ["kernel.ostype", #{via => local}])
    after
        on_peer(Config, application, unset_env, [linx, via])
    end.

%% An RTM_GETLINK dump through netlink_call lists what `ip -n' lists.
netlink_call_dump(Config) ->
    Ns = ?config(netns, Config),
    {ok, Replies} = on_peer(Config, linx_netlink, call, [route, linx_ct_nl:getlink_request(7), in_ns(Config)]),
    Msgs = lists:append([linx_ct_nl:messages(B) || B <- Replies]),
    %% One binary per message, the last one the NLMSG_DONE.
    true = length(Msgs) =:= length(Replies),
    {3, _, 7, _} = lists:last(Msgs),
    Names = lists:sort([N || M <- Msgs, {ok, N} <- [linx_ct_nl:link_name(M)]]),
    Names = ip_links(Ns),
    [<<"lo">>, <<"v0">>, <<"v1">>] = Names.

ip_links(Ns) ->
    Out = linx_ct_ns:sh_ok(["ip -n ", Ns, " -o link"]),
    lists:sort([hd(binary:split(string:trim(Name, trailing, ":"), <<"@">>))
                || Line <- binary:split(Out, <<"\n">>, [global, trim_all]),
                   [_, Name | _] <- [binary:split(Line, <<" ">>, [global, trim_all])]]).

%% Plain requests end with their reply or their NLMSG_ERROR (error or
%% ack); a message the kernel never answers times out in the program.
netlink_call_errors(Config) ->
    In = in_ns(Config),
    %% RTM_GETLINK of a missing ifindex, with NLM_F_ACK: one NLMSG_ERROR, ENODEV.
    {ok, [Err]} = on_peer(Config, linx_netlink, call, [route, getlink(9999, 16#5), In]),
    [{2, _, 9, <<Errno:32/signed-native, _/binary>>}] = linx_ct_nl:messages(Err),
    -19 = Errno,
    %% Of lo without an ack: the one reply. With an ack: the reply and the ack.
    {ok, [Link]} = on_peer(Config, linx_netlink, call, [route, getlink(1, 16#1), In]),
    {ok, <<"lo">>} = linx_ct_nl:link_name(hd(linx_ct_nl:messages(Link))),
    {ok, [_, Ack]} = on_peer(Config, linx_netlink, call, [route, getlink(1, 16#5), In]),
    [{2, _, 9, <<0:32, _/binary>>}] = linx_ct_nl:messages(Ack),
    %% No NLM_F_REQUEST: the kernel ignores it, nothing ever comes back.
    NoReply = <<16:32/native, 1:16/native, 0:16/native, 1:32/native, 0:32/native>>,
    {error, #{op := netlink_call, stage := recv, errno := etimedout}} =
        on_peer(Config, linx_netlink, call, [route, NoReply, In#{timeout => 10000}]),
    {error, #{reason := {bad_message, <<1, 2>>}}} = on_peer(Config, linx_netlink, call, [route, <<1, 2>>, In]),
    {error, #{reason := {bad_protocol, nope}}} = on_peer(Config, linx_netlink, call, [nope, NoReply, In]).

getlink(Index, Flags) ->
    <<32:32/native, 18:16/native, Flags:16/native, 9:32/native, 0:32/native,
      0:8, 0:8, 0:16/native, Index:32/signed-native, 0:32/native, 0:32/native>>.

%% linx_rtnl through the C-node returns what the local port returns:
%% links, and routes of a filtered dump.
rtnl_links_via(Config) ->
    Ns = ?config(netns, Config),
    {ok, _} = application:ensure_all_started(linx),
    %% Judged once two local reads around it agree (a link's operstate
    %% may still move just after it came up).
    {Local, Via} = linx_ct_ns:read_between(fun() -> {ok, L} = linx_rtnl:links(#{in => {netns, Ns}}), L end,
                                           fun() -> {ok, L} = linx_rtnl:links(in_ns(Config)), L end,
                                           fun(_, _) -> true end, 10000),
    Local = Via,
    [<<"lo">>, <<"v0">>, <<"v1">>] = lists:sort([N || #{ifname := N} <- Local]),
    %% A filtered route dump (sent with strict checking) comes through too.
    linx_ct_ns:sh_ok(["ip -n ", Ns, " route replace blackhole 10.99.1.0/24 table 100"]),
    Filter = #{table => 100, type => blackhole},
    {ok, [#{dst := {{10, 99, 1, 0}, 24}}] = Routes} = linx_rtnl:routes(Filter, #{in => {netns, Ns}}),
    {ok, Routes} = linx_rtnl:routes(Filter, in_ns(Config)).

%% netlink_call is an op of port mode too.
netlink_call_port_mode(Config) ->
    Ns = ?config(netns, Config),
    {ok, _} = application:ensure_all_started(linx),
    {ok, Replies} = linx_netlink:call(route, linx_ct_nl:getlink_request(3), #{in => {netns, Ns}}),
    Names = lists:sort([N || B <- Replies, M <- linx_ct_nl:messages(B), {ok, N} <- [linx_ct_nl:link_name(M)]]),
    Names = ip_links(Ns).

%% On the same host the socket itself comes over: a dump on it lists the
%% netns's links, and the raw descriptor form works too.
netlink_open_same_host(Config) ->
    Ns = ?config(netns, Config),
    Want = ip_links(Ns),
    {ok, Want} = on_peer(Config, open_and_dump, [route, in_ns(Config)]),
    {ok, Fd} = on_peer(Config, linx_netlink, open_fd, [route, in_ns(Config)]),
    ok = on_peer(Config, linx_netlink, close_fd, [Fd]),
    {error, #{op := netlink_open, stage := socket, errno := eprotonosupport}} =
        on_peer(Config, linx_netlink, open, [31, in_ns(Config)]).

%% Requests through a C-node are counted in linx:stats/0 of the calling
%% node, as local ones are: reads, their errors and socket opens.
cnode_requests_counted(Config) ->
    {ok, _} = application:ensure_all_started(linx),
    #{requests := R0, errors := E0} = linx_stats:snapshot(),
    {ok, _} = linx_sysctl:read("kernel.ostype", via(Config)),
    {error, #{errno := enoent}} = linx_sysctl:read("kernel.no_such_key", via(Config)),
    {ok, S} = linx_netlink:open(route, via(Config)),
    ok = socket:close(S),
    #{requests := R1, errors := E1} = linx_stats:snapshot(),
    2 = maps:get(sysctl_read, R1, 0) - maps:get(sysctl_read, R0, 0),
    1 = maps:get(netlink_open, R1, 0) - maps:get(netlink_open, R0, 0),
    1 = maps:get({read, enoent}, E1, 0) - maps:get({read, enoent}, E0, 0).

open_and_dump(Protocol, Opts) ->
    case linx_netlink:open(Protocol, Opts) of
        {ok, S} ->
            try linx_ct_nl:dump_links(S, 5000) after socket:close(S) end;
        Error ->
            Error
    end.

%% A C-node on another host cannot hand over descriptors.
netlink_open_other_host(Config) ->
    Far = 'linx@192.0.2.1',
    {error, #{reason := {netlink_open, remote}}} = on_peer(Config, linx_netlink, open, [route, #{via => Far}]),
    {error, #{reason := {socket_open, remote}}} =
        on_peer(Config, linx_netlink, socket_open, [inet, dgram, udp, #{via => Far}]),
    <<"netlink_open through a C-node on another host", _/binary>> =
        linx:format_error({netlink_open, remote}).

%% The C-node connects only to names of the form linx-<letters, digits>.
bad_fd_channel(Config) ->
    C = ?config(cnode, Config),
    Op = {netlink_open, 0, 0, self},
    {error, {badarg, fd_socket}} =
        on_peer(Config, gen_server, call, [{linx, C}, {fd_to, <<"/tmp/x">>, 1, Op}]),
    {error, {send_fd, econnrefused}} =
        on_peer(Config, gen_server, call, [{linx, C}, {fd_to, <<"linx-nobody-listens">>, 1, Op}]).

%% A node that is not there: an error at once, never a hang.
unreachable(Config) ->
    {error, #{reason := {nodedown, 'nobody@localhost'}}} =
        on_peer(Config, linx_sysctl, read, ["kernel.ostype", #{via => 'nobody@localhost', timeout => 3000}]),
    {error, #{reason := {bad_via, nobody}}} = on_peer(Config, linx_sysctl, read, ["kernel.ostype", #{via => nobody}]),
    <<"linx C-node nobody@localhost cannot be reached", _/binary>> =
        linx:format_error({nodedown, 'nobody@localhost'}).

%% A node with another cookie cannot connect; the C-node logs the refusal.
wrong_cookie(Config) ->
    C = ?config(cnode, Config),
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [linx_sysctl, ?MODULE]]),
    {ok, Bad, _} = peer:start(#{name => peer_name("linx_ct_badcookie"), connection => standard_io,
                             args => ["-setcookie", "not-the-cookie"
                                      | lists:append([["-pa", P] || P <- Paths])]}),
    try
        {error, {nodedown, C}} = peer:call(Bad, linx_remote, request, [version, 3000, C], 10000),
        false = lists:member(C, peer:call(Bad, erlang, nodes, [hidden], 10000))
    after
        peer:stop(Bad)
    end,
    %% The C-node's log line comes through its holder in its own time.
    ok = linx_ct_ns:wait_until(fun() ->
                                       {_, Log} = linx_ct_cnode:state(),
                                       lists:any(fun(L) -> binary:match(L, <<"refused: wrong cookie">>) =/= nomatch end, Log)
                               end, 5000),
    %% The right cookie still works.
    {ok, _} = on_peer(Config, gen_server, call, [{linx, C}, version]).

%% Without --listen the C-node listens on loopback only: the port epmd
%% gives for it is bound to 127.0.0.1 and to nothing else.
loopback_only(Config) ->
    C = ?config(cnode, Config),
    [Name, _] = string:split(atom_to_list(C), "@"),
    {port, Port, _} = erl_epmd:port_please(Name, "localhost"),
    Hex = integer_to_list(Port, 16),
    {ok, Tcp} = file:read_file("/proc/net/tcp"),
    {ok, Tcp6} = file:read_file("/proc/net/tcp6"),
    %% Listening sockets (state 0A) on that port, by local address.
    Listening = [Addr || Line <- binary:split(<<Tcp/binary, Tcp6/binary>>, <<"\n">>, [global]),
                         [_, Local, _, <<"0A">> | _] <- [binary:split(Line, <<" ">>, [global, trim_all])],
                         [Addr, P] <- [binary:split(Local, <<":">>)],
                         string:uppercase(binary_to_list(P)) =:= string:right(Hex, 4, $0)],
    [<<"0100007F">>] = Listening,
    {_, Log} = linx_ct_cnode:state(),
    true = lists:any(fun(L) -> binary:match(L, <<"listening on 127.0.0.1:">>) =/= nomatch end, Log).

%% A caller's node that goes away while its requests run: their replies
%% are dropped, and the C-node goes on serving everyone else.
caller_node_goes_down(Config) ->
    C = ?config(cnode, Config),
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [linx_sysctl, ?MODULE]]),
    {ok, Gone, _} = peer:start(#{name => peer_name("linx_ct_gone"), connection => standard_io,
                                 args => ["-setcookie", ?config(cookie, Config)
                                          | lists:append([["-pa", P] || P <- Paths])]}),
    ok = peer:call(Gone, ?MODULE, start_blocked_calls, [C, ?config(netns, Config), 4], 10000),
    timer:sleep(300),
    peer:stop(Gone),
    %% Their netlink requests time out in the C-node after 5 s; the replies
    %% have nowhere to go.
    timer:sleep(6000),
    {ok, _} = on_peer(Config, gen_server, call, [{linx, C}, version]),
    {ok, _} = on_peer(Config, linx_sysctl, read, ["kernel.ostype", via(Config)]),
    {_, Log} = linx_ct_cnode:state(),
    [] = [L || L <- Log, binary:match(L, [<<"panic">>, <<"could not be encoded">>]) =/= nomatch].

start_blocked_calls(C, Ns, N) ->
    NoReply = <<16:32/native, 1:16/native, 0:16/native, 1:32/native, 0:32/native>>,
    [spawn(fun() ->
                   linx_netlink:call(route, NoReply, #{via => C, in => {netns, Ns}, timeout => 20000})
           end) || _ <- lists:seq(1, N)],
    %% Let the callers send their requests (and check the connection).
    timer:sleep(200),
    {ok, _} = gen_server:call({linx, C}, version),
    ok.

%% A peer with a 4 s net_ticktime stays connected while idle: the C-node
%% answers its ticks.
ticks_keep_the_connection(Config) ->
    C = ?config(cnode, Config),
    %% Controlled over stdio: its distribution talks only to the C-node
    %% (this node ticks every 15 s, too rarely for a 4 s net_ticktime).
    Paths = lists:usort([filename:dirname(code:which(M)) || M <- [linx_sysctl, ?MODULE]]),
    {ok, Fast, _} = peer:start(#{name => peer_name("linx_ct_ticks"), connection => standard_io,
                                 args => ["-setcookie", ?config(cookie, Config),
                                          "-kernel", "net_ticktime", "4"
                                          | lists:append([["-pa", P] || P <- Paths])]}),
    try
        connected = peer:call(Fast, ?MODULE, stay_connected, [C, 10000], 20000)
    after
        peer:stop(Fast)
    end.

stay_connected(C, Ms) ->
    {ok, _} = gen_server:call({linx, C}, version),
    true = erlang:monitor_node(C, true),
    receive
        {nodedown, C} -> nodedown
    after Ms ->
        {ok, _} = gen_server:call({linx, C}, version),
        connected
    end.

%% SIGKILL while callers wait (some on a netlink request the kernel never
%% answers, some reading in a loop): each gets an error, through the
%% connection's monitor, within its timeout plus one second. Then the
%% C-node is started again and the same calls work.
kill_under_load_and_restart(Config) ->
    C = ?config(cnode, Config),
    {OsPid, _} = linx_ct_cnode:state(),
    Timeout = 8000,
    Collector = on_peer(Config, load, [C, ?config(netns, Config), Timeout, self()]),
    receive {load_started, Collector} -> ok after 10000 -> ct:fail(load_not_started) end,
    timer:sleep(500),
    linx_ct_ns:kill(OsPid),
    Results = receive
                  {load_done, Collector, R} -> R
              after Timeout + 5000 ->
                  ct:fail(callers_hang)
              end,
    ct:log("results: ~p", [Results]),
    16 = length(Results),
    [true = Ms =< Timeout + 1000 || {_, _, Ms} <- Results],
    [{error, #{reason := {nodedown, C}}} = E || {_, E, _} <- Results],
    linx_ct_cnode:stop(),
    ok = start_cnode(Config),
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
    {ok, Ostype} = on_peer(Config, linx_sysctl, read, ["kernel.ostype", via(Config)]),
    {ok, NewPid} = on_peer(Config, gen_server, call, [{linx, C}, os_pid]),
    true = NewPid =/= OsPid.

%% On the peer: 8 callers blocked on a netlink request that never gets an
%% answer and 8 reading in a loop, until each meets an error. Reports
%% `{Kind, LastResult, ElapsedMs}' for each to `ReportTo'.
load(C, Ns, Timeout, ReportTo) ->
    spawn(fun() ->
        NoReply = <<16:32/native, 1:16/native, 0:16/native, 1:32/native, 0:32/native>>,
        Me = self(),
        Blocked = [spawn(fun() ->
                                 T0 = erlang:monotonic_time(millisecond),
                                 R = linx_netlink:call(route, NoReply, #{via => C, in => {netns, Ns},
                                                                         timeout => Timeout}),
                                 Me ! {done, blocked, R, erlang:monotonic_time(millisecond) - T0}
                         end) || _ <- lists:seq(1, 8)],
        Readers = [spawn(fun() -> read_until_error(Me, C, Timeout) end) || _ <- lists:seq(1, 8)],
        ReportTo ! {load_started, self()},
        Results = [receive {done, K, R, Ms} -> {K, R, Ms} end || _ <- Blocked ++ Readers],
        ReportTo ! {load_done, self(), Results}
    end).

read_until_error(Report, C, Timeout) ->
    T0 = erlang:monotonic_time(millisecond),
    case linx_sysctl:read("kernel.ostype", #{via => C, timeout => Timeout}) of
        {ok, _} -> read_until_error(Report, C, Timeout);
        Error -> Report ! {done, reader, Error, erlang:monotonic_time(millisecond) - T0}
    end.
