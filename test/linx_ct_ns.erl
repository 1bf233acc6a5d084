%% @doc Helpers for Common Test suites: real network namespaces, processes
%% in their own namespaces, and shell oracles (`ip', `sysctl', `nsenter').
%%
%% Under `LINX_REQUIRE_NS=1' a namespace that cannot be made fails the
%% test; otherwise the test is skipped.
-module(linx_ct_ns).

-export([sh/1, sh/2, sh_ok_with_file/2,
         sh_ok/1,
         unique/1,
         netns_add/1,
         netns_del/1,
         ip_netns_list/0,
         oracle/2,
         unshare_net/0,
         unshare/1,
         unshare/2,
         kill/1,
         host_sysctl/1,
         require/1,
         wait_until/2,
         read_between/4,
         set_app_env/2,
         start_linx/1,
         stop_linx/1,
         start_with_netns/2,
         start_if_netns/1,
         stop_with_netns/1,
         in_netns/1,
         start_with_userns/2,
         stop_with_userns/2,
         nothing_left/0,
         restarted/1,
         children/1,
         proc_state/1]).

%% @doc Run a shell command; return its exit status and output
%% (`timeout' when it prints nothing for 30 s).
-spec sh(iodata()) -> {non_neg_integer() | timeout, binary()}.
sh(Cmd) ->
    sh(Cmd, 30000).

%% @doc {@link sh/1}, giving up after `Quiet' ms without output
%% (`infinity': never; the case's timetrap bounds it).
-spec sh(iodata(), timeout()) -> {non_neg_integer() | timeout, binary()}.
sh(Cmd, Quiet) ->
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", unicode:characters_to_list(Cmd)]},
                      exit_status, binary, stderr_to_stdout, use_stdio]),
    collect(Port, [], Quiet).

collect(Port, Acc, Quiet) ->
    receive
        {Port, {data, D}} -> collect(Port, [Acc, D], Quiet);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(Acc)}
    after Quiet ->
        catch port_close(Port),
        {timeout, iolist_to_binary(Acc)}
    end.

%% @doc {@link sh_ok/1} of the command `Cmd(File)' makes, `File' a
%% fresh file in /tmp holding `Text' (for `ip -batch', `nft -f'),
%% deleted afterwards.
-spec sh_ok_with_file(iodata(), fun((string()) -> iodata())) -> binary().
sh_ok_with_file(Text, Cmd) ->
    File = filename:join("/tmp", unique("linx-input")),
    ok = file:write_file(File, Text),
    try
        sh_ok(Cmd(File))
    after
        file:delete(File)
    end.

%% @doc Run a shell command that must succeed; return its trimmed output.
-spec sh_ok(iodata()) -> binary().
sh_ok(Cmd) ->
    case sh(Cmd) of
        {0, Out} -> string:trim(Out, trailing);
        {S, Out} -> ct:fail({command_failed, iolist_to_binary(Cmd), S, Out})
    end.

%% @doc A name unique to this test run.
-spec unique(string()) -> string().
unique(Prefix) ->
    Prefix ++ "-" ++ os:getpid() ++ "-" ++ integer_to_list(erlang:unique_integer([positive])).

%% @doc Make a network namespace with `ip netns add'.
-spec netns_add(string()) -> ok | {skip, term()}.
netns_add(Name) ->
    case sh(["ip netns add ", Name]) of
        {0, _} -> ok;
        Other -> require({cannot_create_netns, Name, Other})
    end.

%% @doc Remove a network namespace (no error if it is already gone).
-spec netns_del(string()) -> ok.
netns_del(Name) ->
    _ = sh(["ip netns del ", Name, " 2>/dev/null"]),
    ok.

%% @doc The names `ip netns list' prints (it prints "name" or
%% "name (id: N)").
-spec ip_netns_list() -> [binary()].
ip_netns_list() ->
    [hd(binary:split(L, <<" ">>))
     || L <- binary:split(sh_ok("ip netns list"), <<"\n">>, [global]), L =/= <<>>].

%% @doc The value of a sysctl as `sysctl -n' prints it inside a target:
%% `{netns, Name}', `{pid, OsPid}' (through nsenter) or `host'.
-spec oracle(host | {netns, string()} | {pid, integer()}, string()) -> binary().
oracle(host, Key) ->
    sh_ok(["sysctl -n ", Key]);
oracle({netns, Name}, Key) ->
    sh_ok(["ip netns exec ", Name, " sysctl -n ", Key]);
oracle({pid, Pid}, Key) ->
    sh_ok(["nsenter -t ", integer_to_list(Pid), " -n sysctl -n ", Key]).

%% @doc The host's value of a sysctl key, read with sysctl(8).
-spec host_sysctl(string()) -> binary().
host_sysctl(Key) ->
    oracle(host, Key).

%% @doc Start a process in a new network namespace (`unshare -n'); return
%% its OS pid. It lives until {@link kill/1}.
-spec unshare_net() -> {ok, integer()} | {skip, term()}.
unshare_net() ->
    unshare(["-n"]).

%% @doc Start a process with `unshare Flags sleep 3600' (Flags must include
%% `-n'); return its OS pid once its net namespace is a new one.
-spec unshare([string()]) -> {ok, integer()} | {skip, term()}.
unshare(Flags) ->
    unshare(Flags, "/usr/bin/unshare").

%% @doc As {@link unshare/1}, through another program that ends up
%% exec'ing `unshare' (e.g. `setpriv ... unshare -Urn').
-spec unshare([string()], string()) -> {ok, integer()} | {skip, term()}.
unshare(Flags, Program) ->
    Self = self(),
    Holder = spawn(fun() ->
        Port = open_port({spawn_executable, Program},
                         [{args, Flags ++ ["sleep", "3600"]}, exit_status]),
        {os_pid, Pid} = erlang:port_info(Port, os_pid),
        Self ! {unshared, self(), Pid},
        receive stop -> ok end
    end),
    receive
        {unshared, Holder, Pid} ->
            Deadline = erlang:monotonic_time(millisecond) + 5000,
            wait_netns_differs(Pid, Deadline)
    after 5000 ->
        require(unshare_did_not_start)
    end.

%% unshare(1) calls unshare(2) and then execs sleep, so the pid is right at
%% once but its namespace changes a moment later: poll (bounded) until
%% /proc/PID/ns/net differs from ours.
wait_netns_differs(Pid, Deadline) ->
    Own = file:read_link("/proc/self/ns/net"),
    case file:read_link("/proc/" ++ integer_to_list(Pid) ++ "/ns/net") of
        {ok, _} = Own ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true ->
                    require({unshare_did_not_take_effect, Pid});
                false ->
                    receive after 1 -> ok end,
                    wait_netns_differs(Pid, Deadline)
            end;
        {ok, _} ->
            {ok, Pid};
        {error, _} = E ->
            require({unshare_failed, Pid, E})
    end.

%% @doc Kill an OS process with SIGKILL.
-spec kill(integer()) -> ok.
kill(Pid) ->
    _ = sh(["kill -9 ", integer_to_list(Pid), " 2>/dev/null"]),
    %% kill(2) returns before the process has left its namespaces: wait
    %% (bounded) until its namespace files are gone, as they are for a
    %% process that has exited, reaped or not.
    NsFile = "/proc/" ++ integer_to_list(Pid) ++ "/ns/net",
    _ = wait_until(fun() -> not ns_file_readable(NsFile) end, 5000),
    ok.

ns_file_readable(NsFile) ->
    case file:read_link(NsFile) of
        {ok, _} -> true;
        {error, _} -> false
    end.

%% @doc Fail when namespaces are required (LINX_REQUIRE_NS=1), else skip.
-spec require(term()) -> {skip, term()}.
require(Why) ->
    case os:getenv("LINX_REQUIRE_NS") of
        "1" -> ct:fail({namespace_required, Why});
        _ -> {skip, Why}
    end.

%% @doc Poll `Fun' (every 5 ms) until it returns true, for at most `Ms'
%% milliseconds: `ok', or `{error, timeout}'.
-spec wait_until(fun(() -> boolean()), non_neg_integer()) -> ok | {error, timeout}.
wait_until(Fun, Ms) ->
    poll(Fun, erlang:monotonic_time(millisecond) + Ms).

poll(Fun, Deadline) ->
    case Fun() of
        true ->
            ok;
        false ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {error, timeout};
                false -> receive after 5 -> ok end, poll(Fun, Deadline)
            end
    end.

%% @doc Reads a live kernel state two ways: `Outer', `Inner', then `Outer'
%% again, repeated until the two outer reads are equal and
%% `Fits(InnerResult, OuterResult)' holds (the state held still around the
%% inner read), or for at most `Ms' milliseconds. Returns the last
%% `{OuterResult, InnerResult}', which the caller then compares.
-spec read_between(fun(() -> A), fun(() -> B), fun((B, A) -> boolean()), non_neg_integer()) ->
          {A, B}.
read_between(Outer, Inner, Fits, Ms) ->
    between(Outer, Inner, Fits, erlang:monotonic_time(millisecond) + Ms).

between(Outer, Inner, Fits, Deadline) ->
    Before = Outer(),
    Seen = Inner(),
    After = Outer(),
    Stable = Before =:= After andalso Fits(Seen, After),
    case Stable orelse erlang:monotonic_time(millisecond) > Deadline of
        true -> {After, Seen};
        false -> between(Outer, Inner, Fits, Deadline)
    end.

%% @doc Set a key of linx's application environment for the next start.
%% Loads linx first: loading sets the defaults of `linx.app.src', which
%% would replace a value set before.
-spec set_app_env(atom(), term()) -> ok.
set_app_env(Key, Value) ->
    case application:load(linx) of
        ok -> ok;
        {error, {already_loaded, linx}} -> ok
    end,
    application:set_env(linx, Key, Value).

%% @doc `init_per_suite' of a suite that needs linx and nothing more:
%% starts it.
-spec start_linx(list()) -> list().
start_linx(Config) ->
    {ok, _} = application:ensure_all_started(linx),
    Config.

%% @doc `end_per_suite' of {@link start_linx/1}: stops linx, which must
%% still be running.
-spec stop_linx(list()) -> ok.
stop_linx(_Config) ->
    ok = application:stop(linx).

%% @doc `init_per_suite' of a suite that needs one network namespace:
%% makes it (named after `Prefix'), starts linx and adds `{netns, Name}'
%% to `Config'; or skips (fails under LINX_REQUIRE_NS=1).
-spec start_with_netns(string(), list()) -> list() | {skip, term()}.
start_with_netns(Prefix, Config) ->
    Ns = unique(Prefix),
    case netns_add(Ns) of
        ok ->
            {ok, _} = application:ensure_all_started(linx),
            [{netns, Ns} | Config];
        Skip ->
            Skip
    end.

%% @doc `init_per_suite' of a suite that makes its own namespaces: checks
%% that this machine can make one (else skips, or fails under
%% LINX_REQUIRE_NS=1) and starts linx.
-spec start_if_netns(list()) -> list() | {skip, term()}.
start_if_netns(Config) ->
    Probe = unique("linx-probe"),
    case netns_add(Probe) of
        ok ->
            netns_del(Probe),
            {ok, _} = application:ensure_all_started(linx),
            Config;
        Skip ->
            Skip
    end.

%% @doc `end_per_suite' of {@link start_with_netns/2}: stops linx and
%% removes the namespace.
-spec stop_with_netns(list()) -> ok.
stop_with_netns(Config) ->
    _ = application:stop(linx),
    netns_del(proplists:get_value(netns, Config)).

%% @doc The options of a call into the namespace of {@link
%% start_with_netns/2}: `#{in => {netns, Name}}'.
-spec in_netns(list()) -> #{in := {netns, binary()}}.
in_netns(Config) ->
    #{in => {netns, list_to_binary(proplists:get_value(netns, Config))}}.

%% @doc `init_per_testcase' of a suite whose cases target a process in a
%% user and a network namespace of its own (`unshare -U -r -n'): sets
%% linx's application environment `Env' for this start, starts linx and
%% adds `{pid, OsPid}' to `Config'; or skips (fails under
%% LINX_REQUIRE_NS=1).
-spec start_with_userns([{atom(), term()}], list()) -> list() | {skip, term()}.
start_with_userns(Env, Config) ->
    lists:foreach(fun({Key, Value}) -> ok = set_app_env(Key, Value) end, Env),
    {ok, _} = application:ensure_all_started(linx),
    case unshare(["-U", "-r", "-n"]) of
        {ok, Pid} -> [{pid, Pid} | Config];
        Skip -> Skip
    end.

%% @doc `end_per_testcase' of {@link start_with_userns/2}: kills the
%% process, stops linx and unsets the environment keys `Keys'.
-spec stop_with_userns([atom()], list()) -> ok.
stop_with_userns(Keys, Config) ->
    kill(proplists:get_value(pid, Config)),
    _ = application:stop(linx),
    lists:foreach(fun(Key) -> application:unset_env(linx, Key) end, Keys).

%% @doc The port's server comes back (bounded wait) to nothing pending
%% and nothing parked; fails the test otherwise.
-spec nothing_left() -> ok.
nothing_left() ->
    case wait_until(fun() ->
                            case catch linx_port:info() of
                                #{pending := 0, parked := 0} -> true;
                                _ -> false
                            end
                    end, 5000) of
        ok -> ok;
        {error, timeout} -> ct:fail({left_behind, catch linx_port:info()})
    end.

%% @doc Whether a new `linx_port' server (not `Old') runs and answers.
-spec restarted(pid() | undefined) -> boolean().
restarted(Old) ->
    case whereis(linx_port) of
        undefined -> false;
        Old -> false;
        _ -> is_map(catch linx_port:info())
    end.

%% @doc The OS pids of the children of OS process `Pid', from every one of
%% its threads.
-spec children(integer()) -> [integer()].
children(Pid) ->
    Task = "/proc/" ++ integer_to_list(Pid) ++ "/task/",
    Tids = case file:list_dir(Task) of
               {ok, Names} -> Names;
               {error, _} -> []
           end,
    lists:append([[binary_to_integer(C) || C <- binary:split(Bin, [<<" ">>, <<"\n">>],
                                                             [global, trim_all])]
                  || Tid <- Tids, {ok, Bin} <- [file:read_file(Task ++ Tid ++ "/children")]]).

%% @doc The state letter of OS process `Pid' (`$S', `$R', `$T', ...), or
%% `gone' once it has ended: exited, or a zombie (nothing of it runs).
-spec proc_state(integer()) -> char() | gone.
proc_state(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat") of
        {ok, Stat} ->
            %% After the command name, which may itself hold ") ".
            [_, <<State, _/binary>>] = string:split(Stat, <<") ">>, trailing),
            case State of
                $Z -> gone;
                _ -> State
            end;
        {error, enoent} ->
            gone
    end.
