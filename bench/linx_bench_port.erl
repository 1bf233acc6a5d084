%% The port program as an OS process, for `make bench': starting the
%% application's port with other arguments, and its memory and CPU time
%% read from /proc.
-module(linx_bench_port).

-export([with_port_args/2, restart_app/0]).
-export([vm_rss/1, clock_tick/0, cpu_ticks/1, thread_ns/1]).

%%====================================================================
%% Port arguments
%%====================================================================

%% Runs Fun with the port started with Args, then restores the
%% application to its defaults. The program is first tried alone with
%% Args, so that a refusal is reported in its own words.
with_port_args(Args, Fun) ->
    case probe_args(Args) of
        ok -> with_port_args_started(Args, Fun);
        {error, Text} -> {na, linx_bench:fmt("linx_port refused ~ts: ~ts",
                                             [lists:join(" ", Args), Text])}
    end.

with_port_args_started(Args, Fun) ->
    ok = application:stop(linx),
    ok = application:set_env(linx, port_args, Args),
    try quiet(fun() -> application:ensure_all_started(linx) end) of
        {ok, _} -> Fun();
        {error, Reason} -> {na, linx_bench:fmt("the port did not start with ~ts: ~0tP",
                                               [lists:join(" ", Args), Reason, 12])}
    after
        restart_app()
    end.

%% ok once the program started with Args alone sends its ready frame (or
%% is still running after a second); {error, Text} if it exits first, Text
%% being its exit status and what it printed.
probe_args(Args) ->
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    Port = open_port({spawn_executable, Exe},
                     [{args, Args}, binary, exit_status, stderr_to_stdout, use_stdio]),
    probe_wait(Port, <<>>).

probe_wait(Port, Out) ->
    receive
        {Port, {data, Data}} ->
            All = <<Out/binary, Data/binary>>,
            case is_ready_frame(All) of
                true -> port_close(Port), ok;
                false -> probe_wait(Port, All)
            end;
        {Port, {exit_status, Status}} ->
            {error, linx_bench:fmt("exit status ~b: ~ts", [Status, string:trim(Out)])}
    after 1000 ->
            port_close(Port),
            ok
    end.

is_ready_frame(<<Len:32, Frame:Len/binary, _/binary>>) ->
    case catch binary_to_term(Frame) of
        {0, {ready, _}} -> true;
        _ -> false
    end;
is_ready_frame(_) ->
    false.

restart_app() ->
    _ = application:stop(linx),
    ok = application:unset_env(linx, port_args),
    {ok, _} = application:ensure_all_started(linx),
    ok.

%% Runs Fun with the logger silenced (for starts that are expected to fail).
quiet(Fun) ->
    #{level := Level} = logger:get_primary_config(),
    ok = logger:set_primary_config(level, none),
    try
        Fun()
    after
        logger:set_primary_config(level, Level)
    end.

%%====================================================================
%% /proc
%%====================================================================

vm_rss(OsPid) ->
    {ok, Status} = file:read_file(proc(OsPid, "status")),
    {match, [Kb]} = re:run(Status, "^VmRSS:\\s+(\\d+) kB", [multiline, {capture, all_but_first, binary}]),
    binary_to_integer(Kb).

clock_tick() ->
    list_to_integer(string:trim(os:cmd("getconf CLK_TCK"))).

%% utime + stime (fields 14 and 15; the command name, field 2, may hold
%% spaces, so count from its closing parenthesis).
cpu_ticks(OsPid) ->
    {ok, Stat} = file:read_file(proc(OsPid, "stat")),
    [_, AfterName] = string:split(Stat, ")", trailing),
    Fields = string:lexemes(AfterName, " "),
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

%% #{Tid => run time in ns} of the live threads.
thread_ns(OsPid) ->
    {ok, Tids} = file:list_dir(proc(OsPid, "task")),
    maps:from_list([{Tid, binary_to_integer(hd(string:lexemes(Line, " ")))}
                    || Tid <- Tids,
                       {ok, Line} <- [file:read_file(proc(OsPid, "task/" ++ Tid ++ "/schedstat"))]]).

proc(OsPid, File) ->
    "/proc/" ++ integer_to_list(OsPid) ++ "/" ++ File.
