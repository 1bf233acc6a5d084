%% @doc A `linx_port --cnode' for Common Test suites, run under a holder
%% process that owns its port, logs its output and outlives the process
%% that started it.
-module(linx_ct_cnode).

-export([start/2, start/3, state/0, stop/0]).

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

wait_pong(_Node, 0) ->
    ct:fail(cnode_not_reachable);
wait_pong(Node, N) ->
    case net_adm:ping(Node) of
        pong -> ok;
        pang -> timer:sleep(50), wait_pong(Node, N - 1)
    end.
