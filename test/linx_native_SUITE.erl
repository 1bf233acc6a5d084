%% @doc Conformance of {@link linx_native} to the NIF contracts it serves,
%% each sentence of them checked against a real network namespace
%% (`ip netns add') and a real user-namespace container (`unshare -U -r
%% -n -u'), with `cat', `ls' and `ip' run through `nsenter' as oracles.
%% The write case runs the port program under `strace' to see its
%% `write(2)' calls.
-module(linx_native_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_group/2, end_per_group/2,
         init_per_testcase/2, end_per_testcase/2]).
-export([bytes_come_back_untrimmed/1, one_write_without_newline/1,
         no_ns_paths_enter_nothing/1, unreadable_entries_are_skipped/1,
         missing_root_and_missing_ns_file/1, socket_sees_target_links/1,
         bind_netlink_receives_link_events/1, close_fd_is_always_ok/1,
         version_is_a_charlist/1]).

-define(TTL, "/proc/sys/net/ipv4/ip_default_ttl").

all() ->
    [{group, netns}, {group, userns}].

groups() ->
    Cases = [bytes_come_back_untrimmed, one_write_without_newline,
             no_ns_paths_enter_nothing, unreadable_entries_are_skipped,
             missing_root_and_missing_ns_file, socket_sees_target_links,
             bind_netlink_receives_link_events, close_fd_is_always_ok,
             version_is_a_charlist],
    [{netns, [], Cases}, {userns, [], Cases}].

%% Each group: the namespace files a NIF caller would pass (`ns_paths'),
%% the network namespace file (`net'), and the nsenter prefix of the
%% oracles (`enter').
init_per_group(netns, Config) ->
    Ns = linx_ct_ns:unique("lnat"),
    case linx_ct_ns:netns_add(Ns) of
        ok ->
            Net = list_to_binary("/run/netns/" ++ Ns),
            [{netns, Ns}, {ns_paths, [Net]}, {net, Net},
             {enter, ["nsenter --net=", Net]} | Config];
        Skip ->
            Skip
    end;
init_per_group(userns, Config) ->
    case linx_ct_ns:unshare(["-U", "-r", "-n", "-u"]) of
        {ok, Pid} ->
            %% unshare(1) makes the namespaces, writes the uid and gid
            %% maps, then execs sleep: once it is sleep, it is ready.
            Comm = "/proc/" ++ integer_to_list(Pid) ++ "/comm",
            ok = linx_ct_ns:wait_until(fun() -> file:read_file(Comm) =:= {ok, <<"sleep\n">>} end, 5000),
            Dir = "/proc/" ++ integer_to_list(Pid) ++ "/ns/",
            Net = list_to_binary(Dir ++ "net"),
            [{pid, Pid}, {net, Net},
             {ns_paths, [list_to_binary(Dir ++ K) || K <- ["user", "uts", "net"]]},
             {enter, ["nsenter -t ", integer_to_list(Pid), " -U -n -u"]} | Config];
        Skip ->
            Skip
    end.

end_per_group(netns, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config));
end_per_group(userns, Config) ->
    linx_ct_ns:kill(?config(pid, Config)).

init_per_testcase(one_write_without_newline, Config) ->
    Log = filename:join(?config(priv_dir, Config), "strace.log"),
    ok = linx_ct_ns:set_app_env(exec, ["strace", "-f", "-qq", "-y", "-e", "trace=write",
                                       "-s", "64", "-o", Log]),
    {ok, _} = application:ensure_all_started(linx),
    [{strace_log, Log} | Config];
init_per_testcase(_Case, Config) ->
    {ok, _} = application:ensure_all_started(linx),
    Config.

end_per_testcase(_Case, _Config) ->
    _ = application:stop(linx),
    application:unset_env(linx, exec).

%% A command run inside the target; its output as it is (untrimmed).
inside(Config, Cmd) ->
    {0, Out} = linx_ct_ns:sh([?config(enter, Config), " ", Cmd]),
    Out.

%% read_in_ns/2 gives the file's bytes, trailing newline and all; so does
%% list_in_ns/2 for each value.
bytes_come_back_untrimmed(Config) ->
    Ns = ?config(ns_paths, Config),
    Want = inside(Config, "cat " ?TTL),
    <<_, _/binary>> = Want,
    $\n = binary:last(Want),
    {ok, Want} = linx_native:read_in_ns(<<?TTL>>, Ns),
    Range = inside(Config, "cat /proc/sys/net/ipv4/ip_local_port_range"),
    {ok, Range} = linx_native:read_in_ns(<<"/proc/sys/net/ipv4/ip_local_port_range">>, Ns),
    {ok, Entries} = linx_native:list_in_ns(<<"/proc/sys/net/ipv4">>, Ns),
    {_, Want} = lists:keyfind(<<?TTL>>, 1, Entries),
    {_, Range} = lists:keyfind(<<"/proc/sys/net/ipv4/ip_local_port_range">>, 1, Entries).

%% write_in_ns/3 is one write(2) of the bytes given, no newline added:
%% strace (the port program runs under it) shows exactly that call for
%% the file, and an empty value is a write of nothing.
one_write_without_newline(Config) ->
    Ns = ?config(ns_paths, Config),
    Old = inside(Config, "cat " ?TTL),
    ok = linx_native:write_in_ns(<<?TTL>>, <<"77">>, Ns),
    <<"77\n">> = inside(Config, "cat " ?TTL),
    ok = linx_native:write_in_ns(<<?TTL>>, <<>>, Ns),
    <<"77\n">> = inside(Config, "cat " ?TTL),
    ok = linx_native:write_in_ns(<<?TTL>>, string:trim(Old), Ns),
    Old = inside(Config, "cat " ?TTL),
    Writes = fun() ->
                     {ok, Log} = file:read_file(?config(strace_log, Config)),
                     [L || L <- binary:split(Log, <<"\n">>, [global]),
                           binary:match(L, <<"ip_default_ttl>">>) =/= nomatch]
             end,
    %% strace writes its log as the calls return: the port has answered.
    ok = linx_ct_ns:wait_until(fun() -> length(Writes()) >= 3 end, 5000),
    [W77, WEmpty, WOld] = [strip_pid(L) || L <- Writes()],
    {match, _} = re:run(W77, <<"^write\\([0-9]+</proc/sys/net/ipv4/ip_default_ttl>, \"77\", 2\\) = 2$">>),
    {match, _} = re:run(WEmpty, <<"^write\\([0-9]+</proc/sys/net/ipv4/ip_default_ttl>, \"\", 0\\) = 0$">>),
    OldText = string:trim(Old),
    OldLen = integer_to_binary(byte_size(OldText)),
    {match, _} = re:run(WOld, [<<"^write\\([0-9]+</proc/sys/net/ipv4/ip_default_ttl>, \"">>, OldText,
                               <<"\", ">>, OldLen, <<"\\) = ">>, OldLen, <<"$">>]).

strip_pid(Line) ->
    re:replace(Line, <<"^[0-9]+ +">>, <<>>, [{return, binary}]).

%% `[]' enters nothing: the values are the port's own namespaces' (the
%% host's), not the target's, which differs.
no_ns_paths_enter_nothing(Config) ->
    Ns = ?config(ns_paths, Config),
    {ok, Host} = file:read_file(?TTL),
    Other = integer_to_binary(binary_to_integer(string:trim(Host)) + 3),
    ok = linx_native:write_in_ns(<<?TTL>>, Other, Ns),
    OtherLine = <<Other/binary, "\n">>,
    {ok, OtherLine} = linx_native:read_in_ns(<<?TTL>>, Ns),
    {ok, Host} = linx_native:read_in_ns(<<?TTL>>, []),
    {ok, Entries} = linx_native:list_in_ns(<<"/proc/sys/net/ipv4">>, []),
    {_, Host} = lists:keyfind(<<?TTL>>, 1, Entries),
    {ok, Host} = file:read_file(?TTL).

%% A file the walk cannot read (route/flush is write-only) is left out of
%% the list; every other file of the directory is in it.
unreadable_entries_are_skipped(Config) ->
    Ns = ?config(ns_paths, Config),
    Dir = "/proc/sys/net/ipv4/route",
    Names = [N || N <- binary:split(inside(Config, "ls " ++ Dir), <<"\n">>, [global]), N =/= <<>>],
    true = lists:member(<<"flush">>, Names),
    Flush = list_to_binary(Dir ++ "/flush"),
    {error, {read, eacces}} = linx_native:read_in_ns(Flush, Ns),
    {ok, Entries} = linx_native:list_in_ns(list_to_binary(Dir), Ns),
    Listed = [P || {P, _} <- Entries],
    Want = [list_to_binary(Dir ++ "/" ++ binary_to_list(N)) || N <- Names, N =/= <<"flush">>],
    Want = lists:sort(Listed),
    false = lists:member(Flush, Listed).

%% A root that is not there is {list, enoent}, one that is a file
%% {list, enotdir}; a namespace file that is not there is {open_ns, enoent}.
missing_root_and_missing_ns_file(Config) ->
    Ns = ?config(ns_paths, Config),
    {error, {list, enoent}} = linx_native:list_in_ns(<<"/proc/sys/net/no_such_dir">>, Ns),
    {error, {list, enotdir}} = linx_native:list_in_ns(<<?TTL>>, Ns),
    Gone = <<"/run/netns/linx-no-such-ns">>,
    {error, {open_ns, enoent}} = linx_native:read_in_ns(<<?TTL>>, [Gone]),
    {error, {open_ns, enoent}} = linx_native:read_in_ns(<<?TTL>>, Ns ++ [Gone]),
    {error, {open_ns, enoent}} = linx_native:write_in_ns(<<?TTL>>, <<"64">>, [Gone]),
    {error, {open_ns, enoent}} = linx_native:list_in_ns(<<"/proc/sys/net">>, [Gone]),
    {error, {open, 2}} = linx_native:open_in_netns(Gone, 0).

%% A socket from open_in_netns/2 is the caller's raw descriptor, made in
%% the target's netns: a link dump on it lists that netns's links.
socket_sees_target_links(Config) ->
    Link = add_veth(Config),
    {ok, Fd} = linx_native:open_in_netns(?config(net, Config), 0),
    true = is_integer(Fd),
    {ok, S} = socket:open(Fd, #{domain => 16, type => raw, protocol => 0}),
    try
        {ok, Names} = linx_ct_nl:dump_links(S, 5000),
        Names = lists:sort(ip_links(Config)),
        true = lists:member(Link, Names)
    after
        socket:close(S)
    end.

%% bind_netlink/2 binds the caller's descriptor with the group mask
%% (RTMGRP_LINK, bit 0): link events of the target reach it.
bind_netlink_receives_link_events(Config) ->
    {ok, Fd} = linx_native:open_in_netns(?config(net, Config), 0),
    ok = linx_native:bind_netlink(Fd, 1),
    {ok, S} = socket:open(Fd, #{domain => 16, type => raw, protocol => 0}),
    try
        %% sockaddr_nl after its family: pad, nl_pid, nl_groups.
        {ok, #{family := 16, addr := <<_:16, PortId:32/native, 1:32/native>>}} =
            socket:sockname(S),
        true = PortId =/= 0,
        Link = add_veth(Config),
        ok = linx_ct_nl:wait_link(S, Link, 5000)
    after
        socket:close(S)
    end,
    %% -1 is no descriptor: the kernel's ebadf (9); so is a number this
    %% node has not opened (the highest a process may have is below it).
    {error, 9} = linx_native:bind_netlink(16#7FFFFFFF, 1),
    {error, 9} = linx_native:bind_netlink(-1, 1).

%% close_fd/1 returns ok, also for a descriptor already closed.
close_fd_is_always_ok(Config) ->
    {ok, Fd} = linx_native:open_in_netns(?config(net, Config), 0),
    FdLink = "/proc/self/fd/" ++ integer_to_list(Fd),
    {ok, "socket:[" ++ _ = Socket} = file:read_link(FdLink),
    ok = linx_native:close_fd(Fd),
    %% Closed: the number names nothing, or (reused) something else.
    true = file:read_link(FdLink) =/= {ok, Socket},
    ok = linx_native:close_fd(Fd),
    ok = linx_native:close_fd(16#7FFFFFFF),
    ok = linx_native:close_fd(-1).

%% version/0 is a charlist naming the implementation.
version_is_a_charlist(_Config) ->
    "linx_port " ++ Vsn = linx_native:version(),
    {ok, Bin} = linx_port:request(version),
    Vsn = binary_to_list(Bin).

add_veth(Config) ->
    Name = "nv" ++ integer_to_list(erlang:unique_integer([positive]) rem 1000000),
    _ = inside(Config, ["ip link add ", Name, " type veth peer name ", Name, "p"]),
    list_to_binary(Name).

ip_links(Config) ->
    Out = inside(Config, "ip -o link show"),
    [hd(binary:split(lists:nth(2, binary:split(L, <<": ">>, [global])), <<"@">>))
     || L <- binary:split(Out, <<"\n">>, [global]), L =/= <<>>].
