%% @doc A `linx_port --cnode' for Common Test suites, run under a holder
%% process that owns its port, logs its output and outlives the process
%% that started it.
-module(linx_ct_cnode).

-export([start/2, start/3, state/0, stop/0]).
-export([setup/3, teardown/1, dist_port/1]).

-define(HOLDER, linx_ct_cnode_holder).

%% @doc Starts the C-node under a holder process that owns its port (and
%% outlives the process that asked), then waits until it answers a ping.
-spec start(node(), file:filename()) -> ok.
start(CNode, CookieFile) ->
    start(CNode, CookieFile, []).

%% @doc As {@link start/2}, with more arguments for the program.
-spec start(node(), file:filename(), [string()]) -> ok.
start(CNode, CookieFile, Extra) ->
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    Args = ["--cnode", "--name", atom_to_list(CNode), "--cookie-file", CookieFile | Extra],
    Self = self(),
    Holder = spawn(fun() ->
                           true = register(?HOLDER, self()),
                           Port = open_port({spawn_executable, Exe},
                                            [{args, Args}, {line, 1024}, exit_status,
                                             stderr_to_stdout, binary]),
                           {os_pid, OsPid} = erlang:port_info(Port, os_pid),
                           Self ! {holder, self(), OsPid},
                           hold(Port, OsPid, [])
                   end),
    receive
        {holder, Holder, _OsPid} -> wait_pong(CNode, 100)
    after 5000 ->
        ct:fail(cnode_did_not_start)
    end.

hold(Port, OsPid, Log) ->
    receive
        {Port, {data, {_, Line}}} ->
            ct:log("C-node: ~ts", [Line]),
            hold(Port, OsPid, [Line | Log]);
        {Port, {exit_status, Status}} ->
            ct:log("C-node exited with status ~p", [Status]),
            exited(OsPid, lists:reverse(Log));
        {get, From} ->
            From ! {?HOLDER, OsPid, lists:reverse(Log)},
            hold(Port, OsPid, Log);
        stop ->
            linx_ct_ns:kill(OsPid)
    end.

%% The C-node is gone; answer queries until told to go.
exited(OsPid, Log) ->
    receive
        {get, From} ->
            From ! {?HOLDER, OsPid, Log},
            exited(OsPid, Log);
        stop ->
            ok
    end.

%% @doc The C-node's OS pid and the lines it has logged so far.
-spec state() -> {integer(), [binary()]}.
state() ->
    ?HOLDER ! {get, self()},
    receive
        {?HOLDER, OsPid, Log} -> {OsPid, Log}
    after 5000 ->
        ct:fail(no_holder)
    end.

%% @doc Stops the C-node (SIGKILL) and its holder.
-spec stop() -> ok.
stop() ->
    case whereis(?HOLDER) of
        undefined ->
            ok;
        Pid ->
            Ref = monitor(process, Pid),
            Pid ! stop,
            receive {'DOWN', Ref, process, Pid, _} -> ok after 5000 -> ok end
    end.

%% @doc A C-node for a suite or group: epmd, distribution for this node
%% (unless it has it), this node's cookie in a file under `PrivDir', and
%% a C-node `Prefix_OSPID@localhost' started with `Extra' arguments.
%% Returns `cnode', `cookie_file' and `started_dist' (for
%% {@link teardown/1}) to add to the Config.
-spec setup(string(), file:filename(), [string()]) -> [{atom(), term()}].
setup(Prefix, PrivDir, Extra) ->
    _ = os:cmd("epmd -daemon"),
    Started = case node() of
                  nonode@nohost ->
                      Name = list_to_atom(Prefix ++ "_ct_" ++ os:getpid()),
                      {ok, _} = net_kernel:start([Name, shortnames]),
                      true;
                  _ ->
                      false
              end,
    CookieFile = filename:join(PrivDir, "cookie"),
    ok = file:write_file(CookieFile, atom_to_list(erlang:get_cookie())),
    ok = file:change_mode(CookieFile, 8#600),
    CNode = list_to_atom(Prefix ++ "_" ++ os:getpid() ++ "@localhost"),
    ok = start(CNode, CookieFile, Extra),
    [{cnode, CNode}, {cookie_file, CookieFile}, {started_dist, Started}].

%% @doc Stops what {@link setup/3} started.
-spec teardown(list()) -> ok.
teardown(Config) ->
    stop(),
    case proplists:get_value(started_dist, Config) of
        true -> _ = net_kernel:stop(), ok;
        _ -> ok
    end.

%% @doc The TCP port the C-node `CNode' (on this host) listens on, from epmd.
-spec dist_port(node()) -> inet:port_number().
dist_port(CNode) ->
    [Name, _] = string:split(atom_to_list(CNode), "@"),
    {port, Port, _} = erl_epmd:port_please(Name, "localhost"),
    Port.

wait_pong(_Node, 0) ->
    ct:fail(cnode_not_reachable);
wait_pong(Node, N) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(50), wait_pong(Node, N - 1)
    end.
