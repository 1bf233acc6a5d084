%% Network namespaces made by linx: the same on disk as `ip netns', checked
%% with `ip netns list / identify / exec' both ways; namespaces with no
%% name, gone with their owner, their release and the port program; and
%% bad input, including a `/run/netns' that is missing or read-only (in a
%% private mount namespace of a port program of its own).
-module(linx_netns_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([add_is_seen_by_ip/1,
         ip_netns_is_seen_by_linx/1,
         loopback_up_on_request/1,
         identify_matches_ip/1,
         bad_names_and_missing_ones/1,
         anonymous_is_a_target/1,
         veth_peer_in_another_namespace/1,
         anonymous_dies_with_its_owner/1,
         held_cap_then_room_again/1,
         anonymous_dies_with_the_port/1,
         thousand_cycles_leave_nothing/1,
         run_netns_missing_or_read_only/1]).

-define(KEY, <<"net.ipv4.ip_forward">>).

all() ->
    [{group, named}, {group, anonymous}, {group, run_netns}].

groups() ->
    [{named, [], [add_is_seen_by_ip,
                  ip_netns_is_seen_by_linx,
                  loopback_up_on_request,
                  identify_matches_ip,
                  bad_names_and_missing_ones]},
     {anonymous, [], [anonymous_is_a_target,
                      veth_peer_in_another_namespace,
                      anonymous_dies_with_its_owner,
                      anonymous_dies_with_the_port,
                      thousand_cycles_leave_nothing,
                      held_cap_then_room_again]},
     {run_netns, [], [run_netns_missing_or_read_only]}].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    _ = application:stop(linx),
    ok.

%%--------------------------------------------------------------------

%% A namespace linx adds is one `ip netns' lists and runs commands in, a
%% target of linx, refused a second time, and gone everywhere once deleted.
add_is_seen_by_ip(_Config) ->
    Name = name(),
    ok = linx_netns:add(Name),
    try
        ?assert(lists:member(Name, linx_ct_ns:ip_netns_list())),
        ?assert(lists:member(Name, ok(linx_netns:list()))),
        ?assert(linx_netns:exists(Name)),
        %% Usable by ip: a command runs inside, in a namespace of its own.
        Inside = linx_ct_ns:sh_ok(["ip netns exec ", Name, " readlink /proc/self/ns/net"]),
        ?assertNotEqual(list_to_binary(ok(file:read_link("/proc/self/ns/net"))), Inside),
        %% And by linx: a write lands there only.
        Host = linx_ct_ns:host_sysctl("net.ipv4.ip_forward"),
        Other = other(Host),
        ok = linx_sysctl:write(?KEY, Other, #{in => {netns, Name}}),
        ?assertEqual(Other, linx_ct_ns:oracle({netns, binary_to_list(Name)}, "net.ipv4.ip_forward")),
        ?assertEqual(Host, linx_ct_ns:host_sysctl("net.ipv4.ip_forward")),
        %% A name that is taken.
        {error, #{op := netns_add, stage := create, errno := eexist, name := Name} = E} =
            linx_netns:add(Name),
        ?assertEqual(<<"netns add \"", Name/binary, "\" failed: create eexist (errno 17)">>,
                     linx:format_error(E))
    after
        ok = linx_netns:del(Name)
    end,
    ?assertNot(lists:member(Name, linx_ct_ns:ip_netns_list())),
    ?assertNot(linx_netns:exists(Name)),
    ?assertNot(filelib:is_file(<<"/run/netns/", Name/binary>>)).

%% A namespace `ip netns add' made is listed by linx, and deleted by it.
ip_netns_is_seen_by_linx(_Config) ->
    Name = name(),
    ok = linx_ct_ns:netns_add(binary_to_list(Name)),
    ?assert(lists:member(Name, ok(linx_netns:list()))),
    %% linx removes what ip made, and ip sees it gone.
    ok = linx_netns:del(Name),
    ?assertNot(lists:member(Name, linx_ct_ns:ip_netns_list())),
    {error, #{stage := unlink, errno := enoent}} = linx_netns:del(Name).

%% `lo => up' brings the loopback up; by default it stays down.
loopback_up_on_request(_Config) ->
    Up = name(),
    Down = name(),
    ok = linx_netns:add(Up, #{lo => up}, #{}),
    ok = linx_netns:add(Down),
    try
        ?assert(lists:member(<<"UP">>, lo_flags(Up))),
        ?assertNot(lists:member(<<"UP">>, lo_flags(Down)))
    after
        ok = linx_netns:del(Up),
        ok = linx_netns:del(Down)
    end,
    %% lo is the namespace's, not an option: given as one it is refused.
    {error, #{reason := {bad_option, {lo, sideways}}}} = linx_netns:add(name(), #{lo => sideways}),
    {error, #{reason := {bad_spec, #{lo := sideways}}}} = linx_netns:add(name(), #{lo => sideways}, #{}),
    {error, #{reason := {bad_option, {lo, up}}}} = linx_netns:new(#{lo => up}).

%% identify/1 names a process's namespace as `ip netns identify' does.
identify_matches_ip(_Config) ->
    Name = name(),
    ok = linx_netns:add(Name),
    Holder = spawn_in(Name),
    try
        Pid = os_pid(Holder),
        Ip = [N || N <- binary:split(linx_ct_ns:sh_ok(["ip netns identify ", integer_to_list(Pid)]),
                                    <<"\n">>, [global]), N =/= <<>>],
        ?assertEqual([Name], Ip),
        ?assertEqual({ok, [Name]}, linx_netns:identify(Pid)),
        %% A process whose namespace has no name.
        ?assertEqual({ok, []}, linx_netns:identify(list_to_integer(os:getpid())))
    after
        stop(Holder),
        ok = linx_netns:del(Name)
    end,
    %% A process that is gone.
    Dead = dead_pid(),
    {error, #{op := netns_identify, stage := open_ns, errno := esrch}} = linx_netns:identify(Dead),
    {error, #{reason := {bad_option, {pid, 0}}}} = linx_netns:identify(0).

%% Bad names and options are refused, the longest name works, and a
%% missing namespace is a rendered error.
bad_names_and_missing_ones(_Config) ->
    Long = binary:copy(<<"x">>, 256),
    [?assertMatch({error, #{reason := {bad_name, N}}}, linx_netns:add(N))
     || N <- [<<>>, <<".">>, <<"..">>, <<"a/b">>, <<"../etc">>, <<"a", 0, "b">>, Long, 42]],
    [?assertMatch({error, #{reason := {bad_name, N}}}, linx_netns:del(N)) || N <- [<<"..">>, <<"/x">>]],
    %% 255 bytes is the longest name, and it works.
    Longest = iolist_to_binary([name(), binary:copy(<<"y">>, 255)]),
    Max = binary:part(Longest, 0, 255),
    ok = linx_netns:add(Max),
    ok = linx_netns:del(Max),
    {error, #{op := netns_del, stage := unlink, errno := enoent} = E} =
        linx_netns:del(name()),
    ?assertMatch(<<"netns del \"", _/binary>>, linx:format_error(E)),
    {error, #{reason := {bad_option, {timeout, -1}}}} = linx_netns:list(#{timeout => -1}),
    {error, #{reason := {bad_option, {via, 'nowhere@host'}}}} = linx_netns:new(#{via => 'nowhere@host'}),
    {error, #{reason := {bad_option, {handle, nope}}}} = linx_netns:release(nope),
    %% The port serves on after all of it.
    {ok, _} = linx_netns:list().

%% A namespace with no name is a target of sysctl and netlink until
%% released.
anonymous_is_a_target(_Config) ->
    Before = linx_ct_ns:ip_netns_list(),
    {ok, H} = linx_netns:new(#{lo => up}, #{}),
    ?assertEqual([H], linx_netns:owned()),
    %% Nothing named appears.
    ?assertEqual(Before, linx_ct_ns:ip_netns_list()),
    Host = linx_ct_ns:host_sysctl("net.ipv4.ip_forward"),
    Other = other(Host),
    ok = linx_sysctl:write(?KEY, Other, #{in => H}),
    ?assertEqual({ok, Other}, linx_sysctl:read(?KEY, #{in => H})),
    ?assertEqual(Host, linx_ct_ns:host_sysctl("net.ipv4.ip_forward")),
    %% Netlink there sees only its loopback, which is up.
    {ok, [#{ifname := <<"lo">>, flags := LoFlags}]} = linx_rtnl:links(#{in => H}),
    ?assert(lists:member(up, LoFlags)),
    %% Released: gone as a target, and a second release says so.
    ok = linx_netns:release(H),
    ?assertEqual([], linx_netns:owned()),
    {error, #{stage := open_ns, errno := enoent}} = linx_sysctl:read(?KEY, #{in => H}),
    {error, #{op := netns_release, stage := open_ns, errno := enoent}} = linx_netns:release(H).

%% A netlink call names other namespaces by descriptor (ns_fds): a veth
%% pair made in a named namespace with its peer in one with no name.
veth_peer_in_another_namespace(_Config) ->
    Name = name(),
    ok = linx_netns:add(Name),
    {ok, H} = linx_netns:new(),
    try
        Msg = veth_request(<<"lxa">>, <<"lxb">>),
        {match, [{Offset, 4}]} = re:run(Msg, <<16#FFFFFFFF:32/native>>, [{capture, first}]),
        {ok, [Ack]} = linx_netlink:call(route, Msg, #{in => {netns, Name}, ns_fds => [{Offset, H}]}),
        %% NLMSG_ERROR with error 0: the ack.
        <<_:32, 2:16/native, _:16, _:64, 0:32/native, _/binary>> = Ack,
        Here = linx_ct_ns:sh_ok(["ip -n ", Name, " -o link show"]),
        ?assertNotEqual(nomatch, binary:match(Here, <<"lxa@">>)),
        ?assertEqual(nomatch, binary:match(Here, <<"lxb">>)),
        {ok, Links} = linx_rtnl:links(#{in => H}),
        ?assertEqual([<<"lo">>, <<"lxb">>], lists:sort([N || #{ifname := N} <- Links])),
        %% An offset outside the message is refused before anything is sent.
        {error, #{reason := {bad_option, {ns_fds, _}}}} =
            linx_netlink:call(route, Msg, #{ns_fds => [{byte_size(Msg) - 3, H}]}),
        %% A released handle: the namespace cannot be opened.
        {ok, Gone} = linx_netns:new(),
        ok = linx_netns:release(Gone),
        {error, #{op := netlink_call, stage := open_ns, errno := enoent}} =
            linx_netlink:call(route, Msg, #{in => {netns, Name}, ns_fds => [{Offset, Gone}]})
    after
        ok = linx_netns:release(H),
        ok = linx_netns:del(Name)
    end.

%% A namespace with no name is gone once the process that made it exits.
anonymous_dies_with_its_owner(_Config) ->
    PortPid = port_pid(),
    Before = held_inodes(PortPid),
    Self = self(),
    Owner = spawn(fun() ->
                          {ok, H} = linx_netns:new(),
                          Self ! {made, H},
                          receive stop -> ok end
                  end),
    H = receive {made, Made} -> Made after 10000 -> ct:fail(no_handle) end,
    %% Used once, so that a worker thread is inside it too.
    {ok, _} = linx_sysctl:read(?KEY, #{in => H}),
    [Inode] = held_inodes(PortPid) -- Before,
    ?assert(lists:member(Inode, all_net_inodes())),
    exit(Owner, kill),
    ok = linx_ct_ns:wait_until(fun() -> not lists:member(Inode, all_net_inodes()) end, 15000),
    ?assertEqual(nomatch, binary:match(read_all("/proc/self/mountinfo"), Inode)),
    {error, #{stage := open_ns, errno := enoent}} = linx_sysctl:read(?KEY, #{in => H}).

%% The port program holds at most 4,096 namespaces (docs/limits.md): one
%% more is refused with a line that says why, and releasing one makes room.
held_cap_then_room_again(_Config) ->
    Handles = [ok(linx_netns:new()) || _ <- lists:seq(1, 4096)],
    try
        {error, Busy} = linx_netns:new(),
        #{stage := busy, errno := held} = Busy,
        Line = linx:format_error(Busy),
        {_, _} = binary:match(Line, <<"holds 4096 namespaces already">>),
        ok = linx_netns:release(hd(Handles)),
        {ok, H} = linx_netns:new(),
        ok = linx_netns:release(H)
    after
        [linx_netns:release(H) || H <- tl(Handles)]
    end,
    ?assertEqual([], linx_netns:owned()).

%% A namespace with no name is gone when the port program dies; its owner
%% is told.
anonymous_dies_with_the_port(_Config) ->
    {ok, H} = linx_netns:new(),
    Old = port_pid(),
    linx_ct_ns:kill(Old),
    receive
        {linx_netns_released, H, port_exited} -> ok
    after 10000 ->
        ct:fail(no_release_message)
    end,
    ?assertEqual([], linx_netns:owned()),
    ok = linx_ct_ns:wait_until(fun() ->
                                       case catch linx_port:os_pid() of
                                           P when is_integer(P) -> P =/= Old;
                                           _ -> false
                                       end
                               end, 10000),
    %% The new program holds no such namespace.
    {error, #{stage := open_ns, errno := enoent}} = linx_sysctl:read(?KEY, #{in => H}),
    {ok, H2} = linx_netns:new(),
    ok = linx_netns:release(H2).

%% A thousand new/release cycles leave no descriptor, mount, name or
%% handle behind.
thousand_cycles_leave_nothing(_Config) ->
    PortPid = port_pid(),
    Fds = fd_count(PortPid),
    Mounts = read_all("/proc/self/mountinfo"),
    Names = linx_ct_ns:ip_netns_list(),
    lists:foreach(fun(I) ->
                          {ok, H} = linx_netns:new(),
                          case I rem 10 of
                              0 -> {ok, _} = linx_sysctl:read(?KEY, #{in => H});
                              _ -> ok
                          end,
                          ok = linx_netns:release(H)
                  end, lists:seq(1, 1000)),
    ?assertEqual([], linx_netns:owned()),
    ?assertEqual([], held_inodes(PortPid)),
    %% The worker of the last namespace read in closes its descriptors as
    %% it ends, which may be just after the last release returned.
    ?assertEqual(ok, linx_ct_ns:wait_until(fun() -> fd_count(PortPid) =:= Fds end, 5000)),
    ?assertEqual(Mounts, read_all("/proc/self/mountinfo")),
    ?assertEqual(Names, linx_ct_ns:ip_netns_list()),
    ?assertEqual(PortPid, linx_port:os_pid()).

%% A `/run/netns' that is missing is made; a read-only one is refused with
%% erofs, leaving nothing half made.
run_netns_missing_or_read_only(_Config) ->
    Exe = filename:join(code:priv_dir(linx), "linx_port"),
    %% A fresh /run: /run/netns does not exist; add makes it, a shared
    %% mount point with the namespace bound on the new file.
    Fresh = raw_port(["mount -t tmpfs linx-test /run && exec ", Exe]),
    ?assertEqual(ok, raw_call(Fresh, {netns_add, <<"inside">>, false})),
    ?assertEqual({ok, [<<"inside">>]}, raw_call(Fresh, netns_list)),
    ?assertEqual(ok, raw_call(Fresh, {netns_delete, <<"inside">>})),
    ?assertEqual({ok, []}, raw_call(Fresh, netns_list)),
    port_close(Fresh),
    %% Nothing of it reached this node's mount namespace.
    ?assertNot(lists:member(<<"inside">>, linx_ct_ns:ip_netns_list())),
    %% A read-only /run: refused with erofs, and nothing is left half made.
    ReadOnly = raw_port(["mount -t tmpfs -o ro linx-test /run && exec ", Exe]),
    ?assertMatch({error, {mount, erofs}}, raw_call(ReadOnly, {netns_add, <<"inside">>, false})),
    ?assertEqual({ok, []}, raw_call(ReadOnly, netns_list)),
    %% Bad names never reach the file system.
    ?assertEqual({error, {badarg, name}}, raw_call(ReadOnly, {netns_add, <<"../x">>, false})),
    ?assertEqual({error, {badarg, arity}}, raw_call(ReadOnly, {netns_add, <<"x">>})),
    ?assertEqual({error, {badarg, lo}}, raw_call(ReadOnly, {netns_add, <<"x">>, maybe})),
    port_close(ReadOnly).

%%--------------------------------------------------------------------

name() ->
    list_to_binary(linx_ct_ns:unique("lxns")).

ok({ok, V}) -> V.

other(<<"0">>) -> <<"1">>;
other(_) -> <<"0">>.

lo_flags(Name) ->
    Out = linx_ct_ns:sh_ok(["ip -n ", Name, " -o link show lo"]),
    {match, [Flags]} = re:run(Out, "<([^>]*)>", [{capture, all_but_first, binary}]),
    binary:split(Flags, <<",">>, [global]).

%% A process inside netns Name, until stop/1.
spawn_in(Name) ->
    Self = self(),
    spawn(fun() ->
                  Port = open_port({spawn_executable, os:find_executable("ip")},
                                   [{args, ["netns", "exec", binary_to_list(Name), "sleep", "3600"]},
                                    exit_status]),
                  {os_pid, Pid} = erlang:port_info(Port, os_pid),
                  Self ! {pid, self(), Pid},
                  receive stop -> linx_ct_ns:kill(Pid) end,
                  Self ! {stopped, self()}
          end).

os_pid(Holder) ->
    receive
        {pid, Holder, Pid} ->
            %% `ip netns exec' enters the namespace, then execs sleep.
            ok = linx_ct_ns:wait_until(fun() -> comm(Pid) =:= <<"sleep\n">> end, 5000),
            Pid
    after 5000 -> ct:fail(no_holder)
    end.

stop(Holder) ->
    Holder ! stop,
    receive {stopped, Holder} -> ok after 10000 -> ct:fail(holder_did_not_stop) end.

comm(Pid) ->
    case file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/comm") of
        {ok, C} -> C;
        _ -> <<>>
    end.

dead_pid() ->
    Port = open_port({spawn_executable, "/bin/true"}, [exit_status]),
    {os_pid, Pid} = erlang:port_info(Port, os_pid),
    receive {Port, {exit_status, 0}} -> ok end,
    ok = linx_ct_ns:wait_until(fun() -> not filelib:is_file("/proc/" ++ integer_to_list(Pid)) end, 5000),
    Pid.

port_pid() ->
    linx_port:os_pid().

%% The network namespaces the port program holds open by descriptor, as
%% the `net:[Inode]' text of their links.
held_inodes(PortPid) ->
    Dir = "/proc/" ++ integer_to_list(PortPid) ++ "/fd",
    {ok, Fds} = file:list_dir(Dir),
    lists:usort([Inode || Fd <- Fds,
                          {ok, "net:[" ++ _ = Link} <- [file:read_link(filename:join(Dir, Fd))],
                          Inode <- [inode_of(Link)]]).

inode_of(Link) ->
    {match, [I]} = re:run(Link, "\\[([0-9]+)\\]", [{capture, all_but_first, binary}]),
    I.

%% Every network namespace some thread of some process is in, or some
%% process holds by descriptor.
all_net_inodes() ->
    Links = [Link || Path <- filelib:wildcard("/proc/[0-9]*/task/[0-9]*/ns/net")
                            ++ filelib:wildcard("/proc/[0-9]*/fd/*"),
                     {ok, "net:[" ++ _ = Link} <- [file:read_link(Path)]],
    lists:usort([inode_of(L) || L <- Links]).

fd_count(PortPid) ->
    {ok, Fds} = file:list_dir("/proc/" ++ integer_to_list(PortPid) ++ "/fd"),
    length(Fds).

read_all(Path) ->
    {ok, Bin} = file:read_file(Path),
    Bin.

%% RTM_NEWLINK of a veth pair A/B, B's IFLA_NET_NS_FD a placeholder.
veth_request(A, B) ->
    IfInfo = <<0:8, 0:8, 0:16, 0:32/native, 0:32/native, 0:32/native>>,
    Peer = [IfInfo | linx_nl_codec:encode_attrs([{3, {string, B}}, {28, {u32, 16#FFFFFFFF}}])],
    Attrs = [{3, {string, A}},
             {18, {nested, [{1, {string, <<"veth">>}}, {2, {nested, [{1, Peer}]}}]}}],
    Flags = 16#1 bor 16#4 bor 16#200 bor 16#400,    % REQUEST, ACK, EXCL, CREATE
    linx_nl_codec:encode(#{type => 16, flags => Flags, seq => 1,
                     payload => [IfInfo, linx_nl_codec:encode_attrs(Attrs)]}).

%% A port program of its own, in a private mount namespace set up by Sh.
raw_port(Sh) ->
    Port = open_port({spawn_executable, os:find_executable("unshare")},
                     [{args, ["--mount", "--propagation", "private", "sh", "-c",
                              lists:flatten(Sh)]},
                      {packet, 4}, binary, exit_status]),
    {0, {ready, _}} = raw_frame(Port, no_ready_frame),
    Port.

raw_call(Port, Op) ->
    Id = erlang:unique_integer([positive]),
    true = port_command(Port, term_to_binary({Id, Op})),
    raw_reply(Port, Id).

raw_reply(Port, Id) ->
    case raw_frame(Port, no_reply) of
        {Id, Reply} -> Reply;
        {0, _Log} -> raw_reply(Port, Id)
    end.

%% The next frame of the program, decoded; the case fails when the
%% program exits, or with Silence when no frame comes within 10 s.
raw_frame(Port, Silence) ->
    receive
        {Port, {data, Bin}} ->
            binary_to_term(Bin);
        {Port, {exit_status, S}} ->
            ct:fail({raw_port_exited, S})
    after 10000 ->
        ct:fail(Silence)
    end.
