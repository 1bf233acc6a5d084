%% @doc linx as a new user gets it: built without cargo (LINX_PORT) or
%% into another CARGO_TARGET_DIR, installed with `make install' for an
%% unprivileged node, run by an unprivileged node through `sudo -n', with
%% docs in the shell, one version, the program's own word on a bad option,
%% and its exit in the log.
%%
%% The users, group, sudoers rule, installed files and namespaces a case
%% makes are removed in end_per_testcase, whatever the outcome.
-module(linx_packaging_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_testcase/2, end_per_testcase/2]).
-export([version_agrees/1, doc_chunks/1, doc_chunks_iex/1,
         bad_option_reaches_caller/1, exit_logged_after_kill/1,
         token_refuses_descendant/1, sudo_path/1, make_install/1,
         linx_port_without_cargo/1, cargo_target_dir/1]).
%% logger handler
-export([log/2]).

%% The system's directories without cargo (rustup puts it in ~/.cargo/bin).
-define(NO_CARGO_PATH, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").
-define(PORT_CAPS, ["cap_sys_admin", "cap_net_admin", "cap_sys_ptrace", "cap_sys_chroot",
                    "cap_net_raw", "cap_dac_override", "cap_dac_read_search"]).

all() ->
    [{group, app}, {group, privileges}, {group, build}].

groups() ->
    [{app, [], [version_agrees, doc_chunks, doc_chunks_iex, bad_option_reaches_caller,
                exit_logged_after_kill, token_refuses_descendant]},
     {privileges, [], [sudo_path, make_install]},
     {build, [], [linx_port_without_cargo, cargo_target_dir]}].

init_per_suite(Config) ->
    os:unsetenv("LINX_PORT"),
    %% What cases make and end_per_testcase removes, in a table whose owner
    %% outlives the cases.
    Self = self(),
    Holder = spawn(fun() ->
                           linx_packaging_undo = ets:new(linx_packaging_undo, [named_table, public, bag]),
                           Self ! {self(), ready},
                           receive stop -> ok end
                   end),
    receive {Holder, ready} -> ok end,
    [{root, root()}, {holder, Holder} | Config].

end_per_suite(Config) ->
    ?config(holder, Config) ! stop,
    ok.

init_per_testcase(_Case, Config) ->
    Config.

end_per_testcase(_Case, Config) ->
    _ = application:stop(linx),
    _ = logger:remove_handler(linx_packaging_capture),
    [application:unset_env(linx, K) || K <- [port_executable, exec, policy, port_args]],
    [os:unsetenv(V) || V <- ["LINX_PORT", "LINX_INTRUDER_PID"]],
    %% Undo what the case made, the last first.
    Made = lists:reverse(lists:sort(ets:tab2list(linx_packaging_undo))),
    true = ets:delete_all_objects(linx_packaging_undo),
    lists:foreach(fun({_, What}) -> undo(What) end, Made),
    Config.

%%====================================================================
%% app
%%====================================================================

%% linx:version() (from the program), the app's vsn, Cargo's version,
%% `linx_port --version' and the CHANGELOG's latest entry agree.
version_agrees(Config) ->
    Root = ?config(root, Config),
    {ok, Cargo} = file:read_file(filename:join(Root, "Cargo.toml")),
    {match, [V]} = re:run(Cargo, "\\A\\[package\\][^\\[]*?^version\\s*=\\s*\"([^\"]+)\"",
                          [multiline, dotall, {capture, all_but_first, binary}]),
    {ok, _} = application:ensure_all_started(linx),
    {ok, Vsn} = application:get_key(linx, vsn),
    V = list_to_binary(Vsn),
    V = linx:version(),
    Expected = <<"linx_port ", V/binary>>,
    Expected = sh_ok([program(), " --version"]),
    {ok, Changelog} = file:read_file(filename:join(Root, "CHANGELOG.md")),
    {match, [V]} = re:run(Changelog, "^## ([^ \n]+)", [multiline, {capture, all_but_first, binary}]),
    ok.

%% The doc chunks are where code:get_doc/1 finds them, with module and
%% function docs, and the shell renders them.
doc_chunks(_Config) ->
    [begin
         {ok, {docs_v1, _, erlang, <<"application/erlang+html">>, #{<<"en">> := [_ | _]}, _, _}} =
             code:get_doc(M)
     end || M <- [linx, linx_sysctl, linx_netlink, linx_port, linx_stats]],
    {ok, Docs} = code:get_doc(linx_sysctl),
    {docs_v1, _, _, _, _, _, Fns} = Docs,
    [#{<<"en">> := [_ | _]}] = [D || {{function, read, 2}, _, _, D, _} <- Fns],
    Text = unicode:characters_to_binary(shell_docs:render(linx_sysctl, read, Docs)),
    {match, _} = re:run(Text, "Reads a sysctl"),
    ok.

%% iex's h/1 shows the same docs.
doc_chunks_iex(_Config) ->
    Ebin = filename:dirname(code:which(linx_sysctl)),
    Out = sh_ok(["elixir -pa ", Ebin,
                 " -e 'require IEx.Helpers; IEx.Helpers.h(:linx_sysctl.read)'"]),
    {match, _} = re:run(Out, "Reads a sysctl"),
    {match, _} = re:run(Out, "@spec read\\(key\\(\\), opts\\(\\)\\)"),
    ok.

%% An option the program refuses reaches the caller with the program's own
%% message, not as `{exit_status, 2}'.
bad_option_reaches_caller(_Config) ->
    ok = load(),
    process_flag(trap_exit, true),
    Cases = [{policy, #{ops => [launch]}, "--allow-ops: unknown name \"launch\""},
             {policy, #{targets => [anywhere]}, "--allow-targets: unknown name \"anywhere\""},
             {port_args, ["--bogus"], "--bogus"},
             {port_args, ["--idle-ms", "0"], "--idle-ms needs a positive number"}],
    [begin
         ok = application:set_env(linx, Key, Value),
         {error, {port_start_failed, {bad_option, Text}}} = linx_port:start_link(),
         receive {'EXIT', _, {port_start_failed, _}} -> ok after 5000 -> ct:fail(no_exit) end,
         {match, _} = re:run(Text, Expected, [unicode]),
         application:unset_env(linx, Key)
     end || {Key, Value, Expected} <- Cases],
    ok.

%% A kill -9 of the program is logged with its OS pid and the signal, and
%% the restart with the new OS pid.
exit_logged_after_kill(_Config) ->
    {ok, _} = application:ensure_all_started(linx),
    ok = capture_logs(),
    Old = linx_port:os_pid(),
    linx_ct_ns:kill(Old),
    OldText = integer_to_list(Old),
    {warning, Exit} = await_log("OS pid " ++ OldText ++ "\\) ended"),
    {match, _} = re:run(Exit, "exit status 137 \\(killed by signal 9, SIGKILL\\).*restarting"),
    {notice, Restart} = await_log("restarted as OS pid"),
    {match, [New]} = re:run(Restart, "OS pid ([0-9]+)", [{capture, all_but_first, list}]),
    New = integer_to_list(linx_port:os_pid()),
    true = New =/= OldText,
    ct:comment("~ts / ~ts", [Exit, Restart]).

%% A descendant of the port running the program's own executable, which
%% connects first with a wrong start token, is refused: the token, not the
%% file it runs, makes the peer. The real program is then taken.
token_refuses_descendant(Config) ->
    Pidfile = filename:join(?config(priv_dir, Config), "intruder.pid"),
    os:putenv("LINX_INTRUDER_PID", Pidfile),
    ok = load(),
    ok = application:set_env(linx, exec,
                             filename:join(?config(data_dir, Config), "token_intruder.py")),
    ok = capture_logs(),
    {ok, _} = application:ensure_all_started(linx),
    {ok, PidText} = file:read_file(Pidfile),
    Intruder = string:trim(PidText),
    {warning, Refused} = await_log("refused: wrong start token"),
    {match, _} = re:run(Refused, "from \\{ok," ++ binary_to_list(Intruder) ++ "\\}"),
    %% The intruder runs the program, as a child of the port.
    {ok, Exe} = file:read_link("/proc/" ++ binary_to_list(Intruder) ++ "/exe"),
    {ok, Exe} = file:read_link("/proc/" ++ integer_to_list(linx_port:os_pid()) ++ "/exe"),
    {ok, Sock} = linx_port:request_fd({netlink_open, 0, 0, self},
                                      {adopt, #{domain => 16, type => raw, protocol => 0}}, 5000),
    ok = socket:close(Sock).

%%====================================================================
%% privileges
%%====================================================================

%% The README's `exec => "sudo -n"': a node running as an unprivileged user,
%% with a sudoers rule for the program only, reads and writes a sysctl in a
%% network namespace.
sudo_path(Config) ->
    _ = require_tool("sudo"),
    Program = sh_ok(["readlink -f ", program()]),
    User = unique_name("lxs"),
    Ns = linx_ct_ns:unique("linx-sudo"),
    useradd(User, []),
    Sudoers = "/etc/sudoers.d/linx_ct_" ++ User,
    remember({file, Sudoers}),
    ok = file:write_file(Sudoers, [User, " ALL=(root) NOPASSWD: ", Program, "\n"]),
    ok = file:change_mode(Sudoers, 8#440),
    _ = sh_ok(["visudo -cf ", Sudoers]),
    remember({netns, Ns}),
    ok = linx_ct_ns:netns_add(Ns),
    Result = run_node_as(User, Config,
                         [{port_executable, Program}, {exec, "sudo -n"}],
                         netns_script(Ns, 91)),
    {User, ok, {ok, <<"91">>}, "root"} = Result,
    <<"91">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    %% The rule is limited to the program: the user cannot run anything else.
    {S, _} = sh(["runuser -u ", User, " -- sudo -n /bin/true"]),
    true = S =/= 0.

%% `make install' installs the program owned by root and the group, mode
%% 0750, with the capabilities; a member of the group runs an unprivileged
%% node with it, anyone else cannot run it.
make_install(Config) ->
    Root = ?config(root, Config),
    %% Where other users can reach it, wherever the checkout is.
    Prefix = shared_dir("prefix"),
    Group = unique_name("lxg"),
    Installed = filename:join(Prefix, "libexec/linx/linx_port"),
    remember({uninstall, Root, Prefix, Group}),
    _ = sh_ok(["make -s -C ", Root, " install PREFIX=", Prefix, " LINX_GROUP=", Group]),
    Stat = sh_ok(["stat -c '%a %U %G' ", Installed]),
    Stat = iolist_to_binary(["750 root ", Group]),
    Caps = sh_ok(["getcap ", Installed]),
    {match, _} = re:run(Caps, "=ep$"),
    [{match, _} = re:run(Caps, Cap) || Cap <- ?PORT_CAPS],
    Member = unique_name("lxm"),
    useradd(Member, ["-G ", Group]),
    Outsider = unique_name("lxo"),
    useradd(Outsider, []),
    {S, Out} = sh(["runuser -u ", Outsider, " -- ", Installed, " --version"]),
    {true, {match, _}} = {S =/= 0, re:run(Out, "Permission denied")},
    Ns = linx_ct_ns:unique("linx-inst"),
    remember({netns, Ns}),
    ok = linx_ct_ns:netns_add(Ns),
    {Member, ok, {ok, <<"93">>}, Member} =
        run_node_as(Member, Config, [{port_executable, Installed}], netns_script(Ns, 93)),
    <<"93">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.ip_default_ttl"),
    ct:comment("~ts", [Caps]).

%%====================================================================
%% build
%%====================================================================

%% With LINX_PORT, rebar3 compile needs no cargo and builds nothing; the
%% node then starts that program. Without cargo and without a program, one
%% line says what to install.
linx_port_without_cargo(Config) ->
    {S0, _} = sh(["env PATH=", ?NO_CARGO_PATH, " sh -c 'command -v cargo'"]),
    true = S0 =/= 0 orelse ct:fail(cargo_on_the_system_path),
    Copy = copy_project(Config, "nocargo", ["erlang", "src", "scripts", "Cargo.toml",
                                            "Cargo.lock", "Makefile", "rebar.config"]),
    Bin = filename:join(?config(priv_dir, Config), "installed_linx_port"),
    {ok, _} = file:copy(program(), Bin),
    ok = file:change_mode(Bin, 8#755),
    _ = sh_ok(["cd ", Copy, " && env PATH=", ?NO_CARGO_PATH, " LINX_PORT=", Bin,
               " rebar3 compile"]),
    true = filelib:is_regular(filename:join(Copy, "_build/default/lib/linx/ebin/linx.beam")),
    false = filelib:is_dir(filename:join(Copy, "target")),
    {S1, Out} = sh(["cd ", Copy, " && env -u LINX_PORT PATH=", ?NO_CARGO_PATH,
                    " rebar3 compile"]),
    true = S1 =/= 0,
    {match, [Line]} = re:run(Out, "linx: .*$", [multiline, {capture, first, binary}]),
    {match, _} = re:run(Line, "^linx: cannot build the port program: install Rust \\(cargo.*"
                        "or set LINX_PORT=/path/to/linx_port$"),
    %% At run time LINX_PORT names the program the node starts.
    os:putenv("LINX_PORT", Bin),
    {ok, _} = application:ensure_all_started(linx),
    {ok, Bin} = file:read_link("/proc/" ++ integer_to_list(linx_port:os_pid()) ++ "/exe"),
    ct:comment("~ts", [Line]).

%% CARGO_TARGET_DIR=/x rebar3 compile finds the program where cargo put it.
%% A rebuild that changes nothing leaves priv/linx_port (and its
%% capabilities) alone; one that replaces a capable copy says so.
cargo_target_dir(Config) ->
    Root = ?config(root, Config),
    Copy = copy_project(Config, "targetdir", ["erlang", "src", "scripts", "Cargo.toml",
                                              "Cargo.lock", "Makefile", "rebar.config"]),
    Target = filename:join(?config(priv_dir, Config), "cargo-target"),
    %% Reuse the compiled dependencies: only linx itself is built again.
    Seed = filename:join(Root, "target/release"),
    _ = [sh_ok(["mkdir -p ", Target, "/release && cp -a ", Seed, "/", D, " ", Target, "/release/"])
         || D <- ["deps", "build", ".fingerprint"],
            filelib:is_dir(filename:join(Seed, D))],
    Compile = ["cd ", Copy, " && env -u LINX_PORT CARGO_TARGET_DIR=", Target, " rebar3 compile"],
    _ = sh_ok(Compile),
    Priv = filename:join(Copy, "priv/linx_port"),
    Built = filename:join(Target, "release/linx_port"),
    _ = sh_ok(["cmp ", Built, " ", Priv]),
    false = filelib:is_dir(filename:join(Copy, "target")),
    %% Unchanged: capabilities stay.
    _ = sh_ok(["setcap cap_net_admin+ep ", Priv]),
    _ = sh_ok(Compile),
    {match, _} = re:run(sh_ok(["getcap ", Priv]), "cap_net_admin"),
    %% Changed (here: by hand): replaced, with a warning.
    _ = sh_ok(["printf x >> ", Priv, " && setcap cap_net_admin+ep ", Priv]),
    Out = sh_ok([Compile, " 2>&1"]),
    {match, _} = re:run(Out, "linx: warning: the rebuilt priv/linx_port lost its capabilities"),
    <<>> = sh_ok(["getcap ", Priv]),
    _ = sh_ok(["cmp ", Built, " ", Priv]),
    ok.

%%====================================================================
%% logger handler: sends each event's level and text to the test
%%====================================================================

log(#{level := Level, msg := Msg}, #{config := #{pid := Pid}}) ->
    Text = case Msg of
               {string, S} -> S;
               {report, R} -> io_lib:format("~0tp", [R]);
               {Format, Args} -> io_lib:format(Format, Args)
           end,
    Pid ! {linx_log, Level, unicode:characters_to_binary(Text)},
    ok.

capture_logs() ->
    logger:add_handler(linx_packaging_capture, ?MODULE,
                       #{level => all, config => #{pid => self()}}).

%% The first captured event whose text matches `Re', within 10 s.
await_log(Re) ->
    receive
        {linx_log, Level, Text} ->
            case re:run(Text, Re) of
                {match, _} -> {Level, Text};
                nomatch -> await_log(Re)
            end
    after 10000 ->
        ct:fail({no_log_line, Re})
    end.

%%====================================================================
%% Helpers
%%====================================================================

%% The project's root: where linx's sources were compiled from.
root() ->
    Source = proplists:get_value(source, linx:module_info(compile)),
    filename:dirname(filename:dirname(Source)).

program() ->
    filename:join(code:priv_dir(linx), "linx_port").

load() ->
    case application:load(linx) of
        ok -> ok;
        {error, {already_loaded, linx}} -> ok
    end.

unique_name(Prefix) ->
    %% User and group names: short, no dots.
    Prefix ++ integer_to_list(erlang:unique_integer([positive]) rem 100000)
        ++ integer_to_list(list_to_integer(os:getpid()) rem 10000).

require_tool(Tool) ->
    case os:find_executable(Tool) of
        false -> linx_ct_ns:require({missing, Tool});
        Path -> Path
    end.

useradd(User, Extra) ->
    remember({user, User}),
    _ = sh_ok(["useradd --system --no-create-home --shell /usr/sbin/nologin ", Extra, " ", User]),
    ok.

%% Remember something to remove at the end of the case.
remember(What) ->
    true = ets:insert(linx_packaging_undo, {erlang:unique_integer([monotonic]), What}),
    ok.

undo({user, User}) ->
    _ = sh(["userdel ", User, " 2>/dev/null"]);
undo({file, F}) ->
    _ = file:delete(F);
undo({netns, Ns}) ->
    linx_ct_ns:netns_del(Ns);
undo({dir, Dir}) ->
    _ = sh(["rm -rf ", Dir]);
undo({uninstall, Root, Prefix, Group}) ->
    _ = sh(["make -s -C ", Root, " uninstall PREFIX=", Prefix]),
    _ = sh(["groupdel ", Group, " 2>/dev/null"]);
undo(_) ->
    ok.

%% A fresh directory under /tmp that every user can read and enter,
%% removed after the case.
shared_dir(Name) ->
    Dir = filename:join("/tmp", unique_name("linx-ct-" ++ Name)),
    remember({dir, Dir}),
    ok = file:make_dir(Dir),
    ok = file:change_mode(Dir, 8#755),
    Dir.

%% Copy the named parts of the project into a fresh directory.
copy_project(Config, Name, Parts) ->
    Root = ?config(root, Config),
    Dir = filename:join(?config(priv_dir, Config), Name),
    _ = sh_ok(["mkdir -p ", Dir, " && cd ", Root, " && cp -a ", lists:join(" ", Parts), " ", Dir]),
    Dir.

%% What a node run as another user does with a sysctl in netns `Ns':
%% `{User, WriteResult, ReadResult, OwnerOfProgram}'.
netns_script(Ns, Value) ->
    io_lib:format(
      "{ok, _} = application:ensure_all_started(linx),~n"
      "In = #{in => {netns, ~p}},~n"
      "W = linx_sysctl:write(\"net.ipv4.ip_default_ttl\", ~b, In),~n"
      "R = linx_sysctl:read(\"net.ipv4.ip_default_ttl\", In),~n"
      "Pid = integer_to_list(linx_port:os_pid()),~n"
      "%% the program itself: the port, or its child under a wrapper~n"
      "Owner = string:trim(os:cmd(\"(ps -o user= --ppid \" ++ Pid ++ \"; ps -o user= -p \" ++ Pid ++ \") | head -n 1\")),~n"
      "{string:trim(os:cmd(\"id -un\")), W, R, Owner}.~n", [list_to_binary(Ns), Value]).

%% Run a fresh node as `User' with linx's code and app env `Env'; it
%% evaluates `Script' (Erlang expressions) and the result comes back.
%% The node gets a copy of linx's ebin in a directory it can read: the
%% checkout (and the test's own directories in it) may be private to root.
run_node_as(User, _Config, Env, Script) ->
    Dir = shared_dir("node-" ++ User),
    Ebin = filename:join([Dir, "linx", "ebin"]),
    _ = sh_ok(["mkdir -p ", Ebin, " && cp -a ", filename:dirname(code:which(linx)), "/. ", Ebin,
               " && chmod -R a+rX ", Dir]),
    File = filename:join(Dir, "script.erl"),
    Sets = [io_lib:format("ok = application:set_env(linx, ~p, ~p),~n", [K, V]) || {K, V} <- Env],
    ok = file:write_file(File, ["ok = application:load(linx),\n", Sets, Script]),
    ok = file:change_mode(File, 8#644),
    Eval = io_lib:format("io:format(\"linx-result: ~~w~~n\", [file:script(~p)]), halt().", [File]),
    Cmd = ["cd ", Dir, " && runuser -u ", User, " -- env HOME=", Dir,
           " erl -noshell -pa ", Ebin, " -eval '", Eval, "'"],
    {0, Out} = sh(Cmd),
    case re:run(Out, "^linx-result: (.*)$", [multiline, {capture, all_but_first, list}]) of
        {match, [Printed]} ->
            {ok, Tokens, _} = erl_scan:string(Printed ++ "."),
            {ok, Term} = erl_parse:parse_term(Tokens),
            case Term of
                {ok, Result} -> Result;
                Other -> ct:fail({node_failed, Other, Out})
            end;
        nomatch ->
            ct:fail({node_failed, Out})
    end.

sh(Cmd) ->
    sh(Cmd, 300000).

%% A shell command's exit status and output (stderr included).
sh(Cmd, Timeout) ->
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", unicode:characters_to_list(Cmd)]},
                      exit_status, binary, stderr_to_stdout, use_stdio]),
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    collect(Port, [], Deadline).

collect(Port, Acc, Deadline) ->
    receive
        {Port, {data, D}} -> collect(Port, [Acc, D], Deadline);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(Acc)}
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
        catch port_close(Port),
        {timeout, iolist_to_binary(Acc)}
    end.

sh_ok(Cmd) ->
    case sh(Cmd) of
        {0, Out} -> string:trim(Out, trailing);
        {S, Out} -> ct:fail({command_failed, iolist_to_binary(Cmd), S, Out})
    end.
