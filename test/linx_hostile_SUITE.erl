%% @doc Hostile sysctl paths and namespace files: every one is refused with
%% a precise error, and nothing outside `/proc/sys' is ever read or written.
%%
%% A canary file in /tmp (known content, times set to a fixed past date, so
%% that a read would move its access time) is the target of the escapes
%% tried here; after every case its content and times are checked, and no
%% reply may contain its content. Paths go through `linx_sysctl' (which
%% refuses most before they reach the port) and raw through
%% `linx_port:request/1' (where the port program must refuse them itself).
%% Symlinks and mounts are tried in a private mount namespace whose
%% `/proc/sys' is a tmpfs the test fills: the real `/proc/sys' has neither.
-module(linx_hostile_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("kernel/include/file.hrl").

-export([suite/0, all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_group/2, end_per_group/2, end_per_testcase/2]).
-export([api_refuses_hostile_keys/1, port_refuses_hostile_paths/1,
         batch_and_apply_refuse_hostile_paths/1,
         symlinks_refused/1, mounts_refused/1, list_with_symlinks/1,
         not_namespaces/1, wrong_type_netns/1, ns_list_takes_the_file_type/1,
         setns_with_expected_type/1]).

%% Written wherever a hostile path leads; no sysctl would take it.
-define(VALUE, <<"linx-hostile">>).

suite() ->
    [{timetrap, {minutes, 2}}].

all() ->
    [{group, paths}, {group, mounts}, {group, ns_files}].

groups() ->
    [{paths, [], [api_refuses_hostile_keys, port_refuses_hostile_paths,
                  batch_and_apply_refuse_hostile_paths]},
     {mounts, [], [symlinks_refused, mounts_refused, list_with_symlinks]},
     {ns_files, [], [not_namespaces, wrong_type_netns, ns_list_takes_the_file_type,
                     setns_with_expected_type]}].

init_per_suite(Config) ->
    {ok, _} = application:ensure_all_started(linx),
    Secret = binary:encode_hex(crypto:strong_rand_bytes(16)),
    Path = "/tmp/" ++ linx_ct_ns:unique("linx-canary"),
    ok = file:write_file(Path, <<"linx canary ", Secret/binary, "\n">>),
    Canary = #{path => list_to_binary(Path), secret => Secret},
    reset_canary(Canary),
    [{canary, Canary} | Config].

end_per_suite(Config) ->
    #{path := Path} = ?config(canary, Config),
    ok = file:delete(Path),
    ok = application:stop(linx).

%% The mount group's target: a process in its own mount (and net)
%% namespace whose /proc/sys is a tmpfs holding symlinks and mounts that
%% lead out of it.
init_per_group(mounts, Config) ->
    case linx_ct_ns:unshare(["-m", "-n", "--propagation", "private"]) of
        {ok, Pid} ->
            #{path := Canary} = ?config(canary, Config),
            "/tmp/" ++ Name = binary_to_list(Canary),
            Setup = ["mount -t tmpfs linx-hostile /proc/sys",
                     "mkdir /proc/sys/kernel /proc/sys/mnt /proc/sys/sub",
                     "printf \"fake\\n\" > /proc/sys/kernel/ostype",
                     "ln -s " ++ binary_to_list(Canary) ++ " /proc/sys/abs",
                     "ln -s ../../tmp/" ++ Name ++ " /proc/sys/rel",
                     "ln -s /tmp /proc/sys/tmpdir",
                     "ln -s kernel/ostype /proc/sys/inside",
                     "ln -s /proc/self/root /proc/sys/magic",
                     "touch /proc/sys/mnt/bound",
                     "mount --bind " ++ binary_to_list(Canary) ++ " /proc/sys/mnt/bound",
                     "mount -t tmpfs linx-hostile-sub /proc/sys/sub",
                     "printf \"sub\\n\" > /proc/sys/sub/x"],
            linx_ct_ns:sh_ok(["nsenter -t ", integer_to_list(Pid), " -m sh -ec '",
                              lists:join(" && ", Setup), "'"]),
            [{pid, Pid}, {name, list_to_binary(Name)} | Config];
        {skip, _} = Skip ->
            Skip
    end;
init_per_group(_, Config) ->
    Config.

end_per_group(mounts, Config) ->
    linx_ct_ns:kill(?config(pid, Config));
end_per_group(_, _Config) ->
    ok.

%% After every case: the canary was neither read nor written.
end_per_testcase(_Case, Config) ->
    case check_canary(?config(canary, Config)) of
        ok -> ok;
        Changed -> {fail, Changed}
    end.

%% ---------------------------------------------------------------- paths

%% {Label, Path, through linx_sysctl, raw through the port}: `bad_key'
%% (refused in Erlang), `badarg' (`{badarg, path}' from the port) or
%% `{errno, E}' (the kernel refuses: `{read | write | list, E}').
hostile(Config) ->
    #{path := <<"/", C/binary>>} = ?config(canary, Config),
    Levels = fun(N) -> iolist_to_binary(lists:join("/", lists:duplicate(N, "a"))) end,
    %% 17 names of 240 bytes and 16 slashes: 4096 bytes, no room for the NUL.
    PathMax = iolist_to_binary(lists:join("/", lists:duplicate(17, binary:copy(<<"b">>, 240)))),
    4096 = byte_size(PathMax),
    [{dotdot, <<"..">>, bad_key, badarg},
     {dotdot_inside, <<"a/../..">>, bad_key, badarg},
     {dotdot_to_canary, <<"../../../", C/binary>>, bad_key, badarg},
     {net_then_dotdot, <<"net/../../../etc/passwd">>, bad_key, badarg},
     {net_then_dotdot_to_canary, <<"net/../../../", C/binary>>, bad_key, badarg},
     {trailing_dotdot, <<"kernel/ostype/..">>, bad_key, badarg},
     {absolute_canary, <<"/", C/binary>>, bad_key, badarg},
     {absolute_proc_sys, <<"/proc/sys/kernel/ostype">>, bad_key, badarg},
     {proc_self_root, <<"/proc/self/root/", C/binary>>, bad_key, badarg},
     {proc_self_cwd, <<"/proc/self/cwd/", C/binary>>, bad_key, badarg},
     {proc_self_fd, <<"/proc/self/fd/0">>, bad_key, badarg},
     {proc_self_relative, <<"proc/self/root/", C/binary>>, {errno, enoent}, {errno, enoent}},
     {relative_canary, C, {errno, enoent}, {errno, enoent}},
     {nul, <<"kernel/ostype", 0, "/../../", C/binary>>, bad_key, badarg},
     {nul_only, <<0>>, bad_key, badarg},
     {bytes_5000, binary:copy(<<"a">>, 5000), bad_key, badarg},
     {bytes_4097, <<PathMax/binary, "b">>, bad_key, badarg},
     {bytes_4096, PathMax, {errno, enametoolong}, {errno, enametoolong}},
     %% procfs looks a name up without checking NAME_MAX: not found.
     {name_of_300_bytes, binary:copy(<<"a">>, 300), {errno, enoent}, {errno, enoent}},
     {levels_33, Levels(33), badarg, badarg},
     {levels_32, Levels(32), {errno, enoent}, {errno, enoent}},
     {trailing_slash, <<"kernel/ostype/">>, bad_key, badarg},
     {dot, <<".">>, bad_key, badarg},
     {dot_inside, <<"kernel/./ostype">>, bad_key, badarg},
     {empty_segment, <<"kernel//ostype">>, bad_key, badarg},
     {through_a_file, <<"kernel/ostype/x">>, {errno, enotdir}, {errno, enotdir}},
     {three_dots, <<"...">>, bad_key, {errno, enoent}},
     {backslashes, <<"..\\..\\etc\\passwd">>, bad_key, {errno, enoent}},
     {newline, <<"kernel/ostype\n">>, bad_key, {errno, enoent}},
     {percent_encoded, <<"%2e%2e/%2e%2e/etc/passwd">>, {errno, enoent}, {errno, enoent}},
     {one_dot_leaders, <<"\x{2025}/etc/passwd"/utf8>>, {errno, enoent}, {errno, enoent}}].

%% linx_sysctl refuses what it can tell is bad and passes on the rest,
%% whose errors name the kernel's reason.
api_refuses_hostile_keys(Config) ->
    Results =
        [begin
             Got = [{Op, api(Op, Path, #{})} || Op <- [read, write, list]],
             [expect_api(Label, Op, Want, R) || {Op, R} <- Got],
             Got
         end || {Label, Path, Want, _} <- hostile(Config)],
    no_canary(Config, Results).

%% The port refuses every hostile path on its own, for each op.
port_refuses_hostile_paths(Config) ->
    Results =
        [begin
             Got = [{Op, linx_port:request(raw(Op, Path, self))} || Op <- [read, write, list]],
             [expect_port(Label, Op, Want, R) || {Op, R} <- Got],
             Got
         end || {Label, Path, _, Want} <- hostile(Config)],
    no_canary(Config, Results).

%% Inside a batch every step is refused the same way; an apply refuses a
%% bad path before it writes anything, and reports where the kernel
%% refused its first step (reading the old value), with nothing to roll
%% back.
batch_and_apply_refuse_hostile_paths(Config) ->
    Results =
        [begin
             {ok, [R, W, L]} = linx_port:request(
                                 {batch, self, [{sysctl_read, Path},
                                                {sysctl_write, Path, ?VALUE},
                                                {sysctl_list, Path}]}),
             [expect_port(Label, Op, Want, Got) || {Op, Got} <- [{read, R}, {write, W}, {list, L}]],
             A = linx_port:request({sysctl_apply, self, [{Path, ?VALUE}]}),
             case {Want, A} of
                 {badarg, {error, {badarg, path}}} -> ok;
                 {{errno, E}, {error, {apply_failed, Path, {read, E}, []}}} -> ok;
                 _ -> ct:fail({Label, apply, Want, A})
             end,
             [R, W, L, A]
         end || {Label, Path, _, Want} <- hostile(Config)],
    no_canary(Config, Results).

api(read, Key, Opts) -> linx_sysctl:read(Key, Opts);
api(write, Key, Opts) -> linx_sysctl:write(Key, ?VALUE, Opts);
api(list, Key, Opts) -> linx_sysctl:list(Key, Opts).

raw(read, Path, Target) -> {sysctl_read, Path, Target};
raw(write, Path, Target) -> {sysctl_write, Path, ?VALUE, Target};
raw(list, Path, Target) -> {sysctl_list, Path, Target}.

expect_api(_, _, bad_key, {error, #{reason := {bad_key, _}}}) -> ok;
expect_api(_, _, badarg, {error, #{stage := badarg, errno := path}}) -> ok;
expect_api(_, Op, {errno, E}, {error, #{stage := Op, errno := E}}) -> ok;
expect_api(Label, Op, Want, Got) -> ct:fail({Label, Op, {want, Want}, {got, Got}}).

expect_port(_, _, badarg, {error, {badarg, path}}) -> ok;
expect_port(_, Op, {errno, E}, {error, {Op, E}}) -> ok;
expect_port(Label, Op, Want, Got) -> ct:fail({Label, Op, {want, Want}, {got, Got}}).

%% ---------------------------------------------------------------- mounts

%% No symlink is followed, wherever it points: the canary outside, /tmp,
%% a magic link, or a file beside it. The target's own files still read.
symlinks_refused(Config) ->
    Target = {pid, ?config(pid, Config)},
    Name = ?config(name, Config),
    {ok, <<"fake\n">>} = linx_port:request({sysctl_read, <<"kernel/ostype">>, Target}),
    {ok, <<"fake">>} = linx_sysctl:read(<<"kernel.ostype">>, #{in => Target}),
    Paths = [<<"abs">>, <<"rel">>, <<"tmpdir/", Name/binary>>, <<"inside">>,
             <<"magic/tmp/", Name/binary>>],
    Results =
        [begin
             Raw = [{Op, linx_port:request(raw(Op, P, Target))} || Op <- [read, write, list]],
             [expect_port(P, Op, {errno, eloop}, R) || {Op, R} <- Raw],
             Api = [{Op, api(Op, P, #{in => Target})} || Op <- [read, write, list]],
             [expect_api(P, Op, {errno, eloop}, R) || {Op, R} <- Api],
             {Raw, Api}
         end || P <- Paths],
    no_canary(Config, Results).

%% A mount under /proc/sys is not crossed: a bind mount of the canary and a
%% tmpfs are refused with exdev, and a list passes over them.
mounts_refused(Config) ->
    Target = {pid, ?config(pid, Config)},
    Results =
        [begin
             Raw = [{Op, linx_port:request(raw(Op, P, Target))} || Op <- [read, write, list]],
             [expect_port(P, Op, {errno, exdev}, R) || {Op, R} <- Raw],
             Raw
         end || P <- [<<"mnt/bound">>, <<"sub/x">>, <<"sub">>]],
    {ok, []} = linx_port:request({sysctl_list, <<"mnt">>, Target}),
    {error, #{stage := read, errno := exdev}} = linx_sysctl:read(<<"mnt/bound">>, #{in => Target}),
    no_canary(Config, Results).

%% A tree holding symlinks does not list: the walk refuses the first one
%% it meets instead of skipping it, so nothing behind one is ever read.
list_with_symlinks(Config) ->
    Target = {pid, ?config(pid, Config)},
    R = linx_port:request({sysctl_list, <<>>, Target}),
    {error, {list, eloop}} = R,
    {ok, [{<<"kernel/ostype">>, <<"fake\n">>}]} = linx_port:request({sysctl_list, <<"kernel">>, Target}),
    no_canary(Config, [R]).

%% ---------------------------------------------------------------- namespace files

%% Files that are not namespaces are refused before any setns: a regular
%% file (the canary itself, which must not be read), a directory, a device.
not_namespaces(Config) ->
    #{path := Canary} = ?config(canary, Config),
    Files = [Canary, <<"/etc/hostname">>, <<"/tmp">>, <<"/proc/sys">>, <<"/proc/self/ns">>,
             <<"/dev/null">>, <<"/dev/zero">>],
    Results =
        [begin
             R1 = linx_sysctl:read(<<"kernel.ostype">>, #{in => {path, F}}),
             {error, #{stage := open_ns, errno := einval}} = R1,
             R2 = linx_port:request({sysctl_read, <<"kernel/ostype">>, {ns, [F]}}),
             {error, {open_ns, einval}} = R2,
             %% Also after a namespace that is one.
             R3 = linx_port:request({sysctl_write, <<"kernel/ostype">>, ?VALUE,
                                     {ns, [<<"/proc/self/ns/net">>, F]}}),
             {error, {open_ns, einval}} = R3,
             [R1, R2, R3]
         end || F <- Files],
    no_canary(Config, Results).

%% `{netns, Name}' must be a network namespace: a uts namespace file
%% mounted at /run/netns/Name is refused with einval, by a fresh program
%% and through the application (whose program has served `self' already).
wrong_type_netns(_Config) ->
    Name = linx_ct_ns:unique("linx-uts"),
    NameBin = list_to_binary(Name),
    File = "/run/netns/" ++ Name,
    linx_ct_ns:sh_ok(["mkdir -p /run/netns && touch ", File,
                      " && mount --bind /proc/self/ns/uts ", File]),
    try
        Port = open_raw(),
        Ops = [raw(Op, <<"kernel/ostype">>, {netns, NameBin}) || Op <- [read, write, list]]
              ++ [{netlink_open, 0, 0, {netns, NameBin}}],
        [begin
             port_command(Port, term_to_binary({I, Op})),
             {I, {error, {open_ns, einval}}} = recv(Port)
         end || {I, Op} <- lists:zip(lists:seq(1, length(Ops)), Ops)],
        port_close(Port),
        {ok, _} = linx_sysctl:read(<<"kernel.ostype">>),
        Api = [{Op, api(Op, <<"kernel.ostype">>, #{in => {netns, Name}})} || Op <- [read, write, list]],
        [] = [R || {_, R} <- Api, not matches_einval(R)],
        %% A FIFO given as a namespace file is refused without being opened
        %% (opening it would block the port), and the port goes on.
        Fifo = "/tmp/" ++ linx_ct_ns:unique("linx-fifo"),
        linx_ct_ns:sh_ok(["mkfifo ", Fifo]),
        try
            [{error, #{stage := open_ns, errno := einval}} =
                 linx_sysctl:read(<<"kernel.ostype">>, #{in => In})
             || In <- [{path, Fifo}, {ns, [Fifo]}]],
            {ok, _} = linx_sysctl:read(<<"kernel.ostype">>)
        after
            file:delete(Fifo)
        end
    after
        linx_ct_ns:sh(["umount ", File, "; rm -f ", File])
    end.

matches_einval({error, #{stage := open_ns, errno := einval}}) -> true;
matches_einval(_) -> false.

open_raw() ->
    Bin = filename:join(code:priv_dir(linx), "linx_port"),
    Port = open_port({spawn_executable, Bin}, [{packet, 4}, binary, exit_status]),
    {0, {ready, _}} = recv(Port),
    Port.

%% `{ns, [File]}' enters a namespace of the file's own type: the uts
%% namespace of a process with its own hostname gives that hostname.
ns_list_takes_the_file_type(_Config) ->
    {ok, Pid} = linx_ct_ns:unshare(["-u", "-n"]),
    try
        P = integer_to_list(Pid),
        Host = list_to_binary(linx_ct_ns:unique("h")),
        linx_ct_ns:sh_ok(["nsenter -t ", P, " -u hostname ", Host]),
        Uts = list_to_binary("/proc/" ++ P ++ "/ns/uts"),
        Raw = <<Host/binary, "\n">>,
        {ok, Raw} = linx_port:request({sysctl_read, <<"kernel/hostname">>, {ns, [Uts]}}),
        {ok, Host} = linx_sysctl:read(<<"kernel.hostname">>, #{in => {path, Uts}})
    after
        linx_ct_ns:kill(Pid)
    end.

%% Every setns(2) the program makes (its worker threads and its helper
%% processes) names the namespace type it expects, never 0. Checked with
%% strace on a program serving targets of every kind.
setns_with_expected_type(Config) ->
    case os:find_executable("strace") of
        false -> {skip, strace_not_installed};
        Strace -> setns_traced(Strace, Config)
    end.


setns_traced(Strace, _Config) ->
    Log = filename:join("/tmp", linx_ct_ns:unique("linx-setns") ++ ".log"),
    Ns = linx_ct_ns:unique("linx-setns"),
    ok = linx_ct_ns:netns_add(Ns),
    {ok, Pid} = linx_ct_ns:unshare(["-m", "-u", "-i", "-n", "--propagation", "private"]),
    UserNs = case linx_ct_ns:unshare(["-U", "-r", "-n"]) of
                 {ok, U} -> [U];
                 {skip, _} -> []
             end,
    Bin = filename:join(code:priv_dir(linx), "linx_port"),
    Port = open_port({spawn_executable, Strace},
                     [{args, ["-f", "-qq", "-e", "trace=setns", "-o", Log, Bin]},
                      {packet, 4}, binary, exit_status]),
    try
        {0, {ready, _}} = recv(Port),
        P = integer_to_list(Pid),
        Targets = [{pid, Pid}, {netns, list_to_binary(Ns)},
                   {ns, [list_to_binary("/proc/" ++ P ++ "/ns/" ++ K) || K <- ["uts", "ipc", "net", "mnt"]]}]
                  ++ [{pid, U} || U <- UserNs],
        [begin
             port_command(Port, term_to_binary({I, {sysctl_read, <<"kernel/ostype">>, T}})),
             {I, {ok, <<"Linux\n">>}} = recv(Port)
         end || {I, T} <- lists:zip(lists:seq(1, length(Targets)), Targets)],
        {os_pid, TracerPid} = erlang:port_info(Port, os_pid),
        port_close(Port),
        %% The program sees its input end and exits; strace follows, and
        %% its log is then complete.
        ok = wait_gone(TracerPid, 200),
        {ok, Text} = file:read_file(Log),
        Calls = [L || L <- binary:split(Text, <<"\n">>, [global, trim_all]),
                      binary:match(L, <<"setns(">>) =/= nomatch],
        ct:log("setns calls:~n~s", [lists:join("\n", Calls)]),
        Types = [case re:run(C, "setns\\(\\d+, (\\w+)\\)", [{capture, all_but_first, binary}]) of
                     {match, [T]} -> T;
                     nomatch -> ct:fail({setns_call, C})
                 end || C <- Calls],
        [] = [T || T <- Types, binary:match(T, <<"CLONE_NEW">>) =:= nomatch],
        Want = [<<"CLONE_NEWNET">>, <<"CLONE_NEWUTS">>, <<"CLONE_NEWIPC">>, <<"CLONE_NEWNS">>]
               ++ [<<"CLONE_NEWUSER">> || UserNs =/= []],
        [] = Want -- lists:usort(Types)
    after
        catch port_close(Port),
        [linx_ct_ns:kill(K) || K <- [Pid | UserNs]],
        linx_ct_ns:netns_del(Ns),
        file:delete(Log)
    end.

recv(Port) ->
    receive
        {Port, {data, B}} ->
            case binary_to_term(B, [safe]) of
                {0, {log, _, _}} -> recv(Port);
                T -> T
            end;
        {Port, {exit_status, S}} -> ct:fail({port_exited, S})
    after 10000 -> ct:fail(no_reply)
    end.

wait_gone(Pid, 0) ->
    ct:fail({still_running, Pid});
wait_gone(Pid, N) ->
    case filelib:is_dir("/proc/" ++ integer_to_list(Pid)) of
        false -> ok;
        true -> receive after 25 -> wait_gone(Pid, N - 1) end
    end.

%% ---------------------------------------------------------------- the canary

%% Set the canary's access and modification times to a fixed past date
%% (equal, so that with relatime a read moves the access time) and record
%% what it must still be.
reset_canary(#{path := Path} = Canary) ->
    T = {{2001, 1, 1}, {0, 0, 0}},
    ok = file:write_file_info(Path, #file_info{atime = T, mtime = T}),
    {ok, Info} = file:read_file_info(Path),
    persistent_term:put({?MODULE, canary}, Info),
    Canary.

check_canary(#{path := Path, secret := Secret} = Canary) ->
    Before = persistent_term:get({?MODULE, canary}),
    {ok, Now} = file:read_file_info(Path),
    Fields = fun(#file_info{size = S, atime = A, mtime = M, ctime = C, inode = I}) -> {S, A, M, C, I} end,
    Result =
        case Fields(Now) =:= Fields(Before) of
            false ->
                {canary_touched, Fields(Before), Fields(Now)};
            true ->
                case file:read_file(Path) of
                    {ok, <<"linx canary ", Secret:32/binary, "\n">>} -> ok;
                    Other -> {canary_changed, Other}
                end
        end,
    reset_canary(Canary),
    Result.

%% No reply carries the canary's content.
no_canary(Config, Replies) ->
    #{secret := Secret} = ?config(canary, Config),
    nomatch = binary:match(term_to_binary(Replies), Secret),
    ok.
