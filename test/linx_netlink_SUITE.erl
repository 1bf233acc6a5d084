%% @doc Netlink and other sockets made inside network namespaces created
%% with `ip netns add', checked against `ip' run in the same namespace:
%% an rtnetlink link dump sees exactly the netns's links, multicast groups
%% deliver its link events, sockets belong to the caller, errors are maps,
%% and no descriptor leaks in this node or in the port program.
-module(linx_netlink_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_testcase/2, end_per_testcase/2]).
-export([route_dump/1, groups_mask/1, groups_list/1, groups_above_32/1,
         membership/1, owner/1, owner_dies/1, open_fd_close_fd/1,
         packet_socket/1, raw_icmp_socket/1, rcvbuf/1,
         unsupported_protocol/1, missing_netns/1, bad_arguments/1,
         failed_group_join_closes/1, error_text/1,
         no_leak_open_close/1, no_leak_open_fd/1, no_leak_errors/1]).

all() ->
    [{group, netlink}, {group, sockets}, {group, errors}, {group, leaks}].

groups() ->
    [{netlink, [], [route_dump, groups_mask, groups_list, groups_above_32,
                    membership, owner, owner_dies, open_fd_close_fd, rcvbuf]},
     {sockets, [], [packet_socket, raw_icmp_socket]},
     {errors, [], [unsupported_protocol, missing_netns, bad_arguments,
                   failed_group_join_closes, error_text]},
     {leaks, [], [no_leak_open_close, no_leak_open_fd, no_leak_errors]}].

init_per_suite(Config) ->
    linx_ct_ns:start_linx(Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_linx(Config).

%% Every case gets a netns of its own holding a veth pair va/vb.
init_per_testcase(_Case, Config) ->
    Name = linx_ct_ns:unique("linx-nl"),
    case linx_ct_ns:netns_add(Name) of
        ok ->
            add_veth(Name, "va", "vb"),
            [{netns, Name} | Config];
        {skip, _} = Skip ->
            Skip
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) ->
    #{in => {netns, ?config(netns, Config)}}.

%% ---------------------------------------------------------------- netlink

%% An RTM_GETLINK dump over the socket lists the netns's links, the same
%% as `ip -n NS link', and none of the host's own.
route_dump(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:open(route, in(Config)),
    try
        {ok, Names} = linx_ct_nl:dump_links(S, 5000),
        Names = ip_links(["ip -n ", Ns, " -o link"]),
        [<<"lo">>, <<"va">>, <<"vb">>] = Names,
        case ip_links("ip -o link") -- Names of
            [HostOnly | _] -> false = lists:member(HostOnly, Names);
            [] -> ok
        end
    after
        ok = socket:close(S)
    end.

%% Groups `1' (RTMGRP_LINK, a mask) delivers the netns's link events.
groups_mask(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:open(route, 1, in(Config)),
    add_veth(Ns, "ga", "gb"),
    ok = linx_ct_nl:wait_link(S, <<"ga">>, 5000),
    ok = socket:close(S).

%% Groups `[1]' (RTNLGRP_LINK, a list) does the same, options as a proplist.
groups_list(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:open(route, [1], [{in, {netns, Ns}}]),
    add_veth(Ns, "la", "lb"),
    ok = linx_ct_nl:wait_link(S, <<"lb">>, 5000),
    ok = socket:close(S).

%% Groups above 32 (here RTNLGRP_BRVLAN, 33) are joined after the socket
%% arrives, next to those of the bind mask.
groups_above_32(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:open(route, [33, 1], in(Config)),
    add_veth(Ns, "xa", "xb"),
    ok = linx_ct_nl:wait_link(S, <<"xa">>, 5000),
    ok = linx_netlink:membership_del(S, 33),
    ok = socket:close(S).

%% add_membership starts link events on a socket opened without groups;
%% after drop_membership a new link is not reported.
membership(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:open(route, in(Config)),
    ok = linx_netlink:membership_add(S, 1),
    add_veth(Ns, "ma", "mb"),
    ok = linx_ct_nl:wait_link(S, <<"ma">>, 5000),
    ok = linx_netlink:membership_del(S, 1),
    add_veth(Ns, "na", "nb"),
    {error, timeout} = linx_ct_nl:wait_link(S, <<"na">>, 500),
    {error, #{reason := {bad_group, 0}}} = linx_netlink:membership_add(S, 0),
    ok = socket:close(S),
    %% A socket that is closed: the error names the call and the group.
    {error, #{op := membership_add, group := 7, stage := setsockopt, errno := closed} = E} =
        linx_netlink:membership_add(S, 7),
    <<"linx_netlink:membership_add(Socket, 7) failed: setsockopt closed">> = linx:format_error(E),
    {error, #{op := membership_del, group := 7}} = linx_netlink:membership_del(S, 7).

%% The caller is the socket's controlling process.
owner(Config) ->
    {ok, S} = linx_netlink:open(generic, in(Config)),
    #{owner := Owner, domain := 16, type := raw} = socket:info(S),
    Owner = self(),
    {ok, #{family := 16}} = socket:sockname(S),
    ok = socket:close(S),
    {ok, I} = linx_netlink:socket_open(inet, dgram, udp, in(Config)),
    #{owner := Owner} = socket:info(I),
    ok = socket:close(I).

%% A caller that exits takes its socket (and the descriptor) with it.
owner_dies(Config) ->
    Before = fd_count(beam),
    Self = self(),
    {Pid, Ref} = spawn_monitor(
                   fun() ->
                           {ok, S} = linx_netlink:open(route, in(Config)),
                           Self ! {socket, self(), S, socket:info(S)},
                           receive stop -> ok end
                   end),
    {S, Info} = receive {socket, Pid, S0, I0} -> {S0, I0}
                after 10000 -> ct:fail(no_socket)
                end,
    #{owner := Pid} = Info,
    Before = fd_count(beam) - 1,
    Pid ! stop,
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    ok = wait_until(fun() -> socket:sockname(S) =:= {error, closed} end,
                    1000),
    case wait_until(fun() -> fd_count(beam) =:= Before end, 1000) of
        ok -> ok;
        {error, timeout} ->
            ct:fail({descriptor_not_closed, Before, fd_count(beam)})
    end.

%% open_fd gives a descriptor number of this node; it is a netlink socket
%% in the netns, and close_fd closes it.
open_fd_close_fd(Config) ->
    Before = fd_count(beam),
    {ok, Fd} = linx_netlink:open_fd(route, in(Config)),
    true = is_integer(Fd),
    {ok, "socket:" ++ _} = file:read_link("/proc/self/fd/" ++
                                              integer_to_list(Fd)),
    Before = fd_count(beam) - 1,
    %% A duplicate adopted here shows what the descriptor is.
    {ok, Dup} = socket:open(Fd, #{dup => true}),
    #{domain := 16, type := raw} = socket:info(Dup),
    {ok, [<<"lo">>, <<"va">>, <<"vb">>]} = linx_ct_nl:dump_links(Dup, 5000),
    ok = socket:close(Dup),
    ok = linx_netlink:close_fd(Fd),
    Before = fd_count(beam),
    {error, #{op := close_fd, fd := Fd, errno := ebadf} = Closed} = linx_netlink:close_fd(Fd),
    Line = iolist_to_binary(["linx_netlink:close_fd(", integer_to_list(Fd),
                             ") failed: ebadf (errno 9)"]),
    Line = linx:format_error(Closed),
    %% Options that need the socket here are refused.
    {error, #{reason := {bad_option, {rcvbuf, 4096}}}} =
        linx_netlink:open_fd(route, (in(Config))#{rcvbuf => 4096}),
    {error, #{reason := {bad_groups, [40]}}} =
        linx_netlink:open_fd(route, [40], in(Config)),
    Before = fd_count(beam).

%% rcvbuf is applied (the kernel reports at least what was asked).
rcvbuf(Config) ->
    Want = 300000,
    {ok, S} = linx_netlink:open(route, (in(Config))#{rcvbuf => Want}),
    {ok, Got} = socket:getopt(S, socket, rcvbuf),
    true = Got >= min(Want, rmem_max()),
    ok = socket:close(S),
    {ok, U} = linx_netlink:socket_open(inet, dgram, udp,
                                       (in(Config))#{rcvbuf => 65536}),
    {ok, GotU} = socket:getopt(U, socket, rcvbuf),
    true = GotU >= 65536,
    ok = socket:close(U).

rmem_max() ->
    binary_to_integer(linx_ct_ns:host_sysctl("net.core.rmem_max")).

%% ---------------------------------------------------------------- sockets

%% A packet socket (ETH_P_ALL) lives in the netns: it binds to the netns's
%% va, and not to an interface index that only the host has. (OTP 25 has
%% no sockaddr_ll map, so addresses are given in native form.)
packet_socket(Config) ->
    Ns = ?config(netns, Config),
    <<EthPAll:16/native>> = <<16#0003:16/big>>,
    {ok, P} = linx_netlink:socket_open(packet, raw, EthPAll, in(Config)),
    #{domain := 17, type := raw, owner := Self} = socket:info(P),
    Self = self(),
    {ok, #{family := packet}} = socket:sockname(P),
    NsIndexes = ip_indexes(["ip -n ", Ns, " -o link"]),
    {_, Va} = lists:keyfind(<<"va">>, 1, NsIndexes),
    ok = socket:bind(P, sockaddr_ll(Va)),
    {ok, #{family := packet,
           addr := <<16#0003:16/big, Va:32/native, _/binary>>}} =
        socket:sockname(P),
    ok = socket:close(P),
    HostOnly = [I || {_, I} <- ip_indexes("ip -o link")]
        -- [I || {_, I} <- NsIndexes],
    case HostOnly of
        [Index | _] ->
            {ok, Q} = linx_netlink:socket_open(packet, dgram,
                                               {ethertype, 16#0003},
                                               in(Config)),
            #{type := dgram} = socket:info(Q),
            {error, enodev} = socket:bind(Q, sockaddr_ll(Index)),
            ok = socket:close(Q);
        [] ->
            ok
    end.

%% struct sockaddr_ll after its family: protocol (ETH_P_ALL, network byte
%% order), ifindex, hatype, pkttype, halen, addr.
sockaddr_ll(Index) ->
    #{family => 17,
      addr => <<16#0003:16/big, Index:32/native, 0:16, 0, 0, 0:64>>}.

%% A raw ICMP socket lives in the netns: 127.0.0.1 is unreachable while
%% the netns's lo is down, and answers an echo request once it is up.
raw_icmp_socket(Config) ->
    Ns = ?config(netns, Config),
    {ok, S} = linx_netlink:socket_open(inet, raw, icmp, in(Config)),
    #{domain := inet, type := raw, protocol := icmp} = socket:info(S),
    Lo = #{family => inet, addr => {127, 0, 0, 1}, port => 0},
    Id = erlang:unique_integer([positive]) band 16#ffff,
    Echo = icmp_echo(Id, 1),
    {error, enetunreach} = socket:sendto(S, Echo, Lo),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link set lo up"]),
    ok = socket:sendto(S, Echo, Lo),
    ok = wait_echo_reply(S, Id, deadline(5000)),
    ok = socket:close(S).

icmp_echo(Id, Seq) ->
    Data = <<"linx">>,
    Sum = checksum(<<8, 0, 0:16, Id:16, Seq:16, Data/binary>>),
    <<8, 0, Sum:16, Id:16, Seq:16, Data/binary>>.

checksum(Bin) ->
    checksum(Bin, 0).

checksum(<<W:16, Rest/binary>>, Acc) -> checksum(Rest, Acc + W);
checksum(<<B>>, Acc) -> checksum(<<>>, Acc + (B bsl 8));
checksum(<<>>, Acc) when Acc > 16#ffff ->
    checksum(<<>>, (Acc band 16#ffff) + (Acc bsr 16));
checksum(<<>>, Acc) -> bnot Acc band 16#ffff.

%% A raw IPv4 socket reads whole IP packets: skip the header, look for an
%% echo reply (type 0) with our id. The request itself comes back too.
wait_echo_reply(S, Id, Deadline) ->
    case socket:recv(S, 0, remaining(Deadline)) of
        {ok, <<_:4, Ihl:4, _/binary>> = Packet} ->
            HeaderLen = Ihl * 4,
            case Packet of
                <<_:HeaderLen/binary, 0, 0, _:16, Id:16, _/binary>> -> ok;
                _ -> wait_echo_reply(S, Id, Deadline)
            end;
        {error, _} = Error ->
            Error
    end.

%% ----------------------------------------------------------------- errors

%% A protocol number the kernel does not have fails in the port program.
unsupported_protocol(Config) ->
    P = unsupported_netlink_protocol(),
    {error, #{op := netlink_open, stage := socket, errno := eprotonosupport,
              code := 93, protocol := P, in := {netns, _}}} =
        linx_netlink:open(P, in(Config)),
    {error, #{stage := socket, errno := eprotonosupport}} =
        linx_netlink:open_fd(P, in(Config)),
    {error, #{op := socket_open, stage := socket, domain := netlink,
              type := raw, protocol := P, errno := eprotonosupport}} =
        linx_netlink:socket_open(netlink, raw, P, in(Config)).

%% The first netlink protocol from 31 down that this kernel refuses, asked
%% of the kernel directly.
unsupported_netlink_protocol() ->
    Refused = [P || P <- lists:seq(31, 17, -1),
                    socket:open(16, raw, P) =:= {error, eprotonosupport}],
    case Refused of
        [P | _] -> P;
        [] -> ct:fail(no_unsupported_netlink_protocol)
    end.

%% A netns that does not exist.
missing_netns(_Config) ->
    In = #{in => {netns, "linx-no-such-ns"}},
    {error, #{op := netlink_open, stage := open_ns, errno := enoent,
              code := 2, protocol := route,
              in := {netns, "linx-no-such-ns"}}} =
        linx_netlink:open(route, In),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_netlink:open_fd(route, In),
    {error, #{op := socket_open, stage := open_ns, errno := enoent}} =
        linx_netlink:socket_open(inet, raw, icmp, In),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_netlink:open(route, #{in => {path, "/run/netns/linx-no-such-ns"}}).

%% Bad arguments never reach the port.
bad_arguments(Config) ->
    {error, #{reason := {bad_protocol, nosuch}}} = linx_netlink:open(nosuch, in(Config)),
    {error, #{reason := {bad_protocol, 32}}} = linx_netlink:open(32, in(Config)),
    {error, #{reason := {bad_protocol, -1}}} = linx_netlink:open_fd(-1, in(Config)),
    [{error, #{reason := {bad_groups, G}}} =
         linx_netlink:open(route, G, in(Config))
     || G <- [-1, 1 bsl 32, [0], [a], all]],
    [{error, #{reason := {bad_rcvbuf, R}}} =
         linx_netlink:open(route, (in(Config))#{rcvbuf => R})
     || R <- [0, -1, big, 1.5]],
    [{error, #{reason := {bad_in, In}}} = linx_netlink:open(route, #{in => In})
     || In <- [other, {pid, 0}, {netns, ""}, {netns, "a/b"}, {ns, [1]}]],
    {error, #{reason := {bad_in, nowhere}}} =
        linx_netlink:socket_open(inet, raw, icmp, #{in => nowhere}),
    {error, #{reason := {bad_domain, unix}}} =
        linx_netlink:socket_open(unix, raw, 0, in(Config)),
    {error, #{reason := {bad_type, rdm_x}}} =
        linx_netlink:socket_open(inet, rdm_x, 0, in(Config)),
    {error, #{reason := {bad_protocol, sctp_x}}} =
        linx_netlink:socket_open(inet, stream, sctp_x, in(Config)),
    {error, #{reason := {bad_option, {timeout, -1}}}} =
        linx_netlink:open(route, (in(Config))#{timeout => -1}).

%% A group the protocol does not have cannot be joined: the socket that
%% arrived is closed and the error says where it failed.
failed_group_join_closes(Config) ->
    Before = fd_count(beam),
    {error, #{op := netlink_open, stage := setsockopt, errno := einval,
              code := 22}} =
        linx_netlink:open(route, [16#ffff], in(Config)),
    case fd_count(beam) of
        Before -> ok;
        After -> ct:fail({descriptor_not_closed, Before, After})
    end.

%% Errors render as one readable line.
error_text(Config) ->
    Ns = ?config(netns, Config),
    P = unsupported_netlink_protocol(),
    {error, E} = linx_netlink:open(P, in(Config)),
    Want = iolist_to_binary(
             io_lib:format("netlink open ~b in netns \"~s\" failed: socket "
                           "eprotonosupport (errno 93)", [P, Ns])),
    Want = linx:format_error(E),
    {error, M} = linx_netlink:socket_open(inet, raw, icmp,
                                          #{in => {netns, "linx-no-such-ns"}}),
    %% The line names the function called.
    <<"linx_netlink:socket_open: socket open inet raw icmp in netns \"linx-no-such-ns\" failed: "
      "open_ns enoent (errno 2)">> = linx:format_error(M),
    {error, B} = linx_netlink:open(nosuch, #{}),
    {match, _} = re:run(linx:format_error(B), "nosuch").

%% ------------------------------------------------------------------ leaks

%% 20,000 opens and closes leave as many descriptors open, in this node
%% and in the port program, as there were before.
no_leak_open_close(Config) ->
    In = in(Config),
    no_leak(fun() -> {ok, S} = linx_netlink:open(route, In), ok = socket:close(S) end, 20000).

%% The same for 2,000 open_fd/close_fd pairs.
no_leak_open_fd(Config) ->
    In = in(Config),
    no_leak(fun() -> {ok, Fd} = linx_netlink:open_fd(route, In), ok = linx_netlink:close_fd(Fd) end, 2000).

%% And for 1,000 opens that fail, in the port program or after the socket
%% has arrived.
no_leak_errors(Config) ->
    In = in(Config),
    P = unsupported_netlink_protocol(),
    Missing = #{in => {netns, "linx-no-such-ns"}},
    BadGroup = [16#ffff],
    Cycle = fun() ->
                    {error, #{stage := socket}} = linx_netlink:open(P, In),
                    {error, #{stage := open_ns}} =
                        linx_netlink:open(route, Missing),
                    {error, #{stage := setsockopt}} =
                        linx_netlink:open(route, BadGroup, In)
            end,
    no_leak(Cycle, 334).

no_leak(Cycle, N) ->
    %% One cycle first, so that the port's worker for the netns exists.
    Cycle(),
    Beam = fd_count(beam),
    Port = fd_count(port),
    no_leak(Cycle, N, Beam, Port).

%% Checked every 1,000 cycles, so that a leak fails the case before it
%% runs this node out of descriptors.
no_leak(_Cycle, 0, Beam, Port) ->
    ct:log("descriptors: this node ~b, port program ~b (before) -> "
           "~b, ~b (after)", [Beam, Port, fd_count(beam), fd_count(port)]);
no_leak(Cycle, N, Beam, Port) ->
    Chunk = min(N, 1000),
    ok = repeat(Cycle, Chunk),
    case {fd_count(beam), fd_count(port)} of
        {Beam, PortNow} when PortNow =< Port ->
            no_leak(Cycle, N - Chunk, Beam, Port);
        {BeamNow, PortNow} ->
            ct:fail({descriptors_leaked, #{this_node => {Beam, BeamNow},
                                           port_program => {Port, PortNow},
                                           cycles_left => N - Chunk}})
    end.

repeat(_Fun, 0) ->
    ok;
repeat(Fun, N) ->
    Fun(),
    repeat(Fun, N - 1).

%% ---------------------------------------------------------------- helpers

%% A veth pair inside a netns (`name' keeps iproute2 from reading a short
%% name such as `ma' as an abbreviated keyword).
add_veth(Ns, A, B) ->
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add name ", A,
                      " type veth peer name ", B]).

%% Interface names as `ip -o link' prints them (`2: vb@va: <...'), sorted.
ip_links(Cmd) ->
    lists:sort([Name || {Name, _} <- ip_indexes(Cmd)]).

%% `{Name, Index}' for each line of `ip -o link'.
ip_indexes(Cmd) ->
    Out = linx_ct_ns:sh_ok(Cmd),
    [begin
         [Index, Field | _] = binary:split(Line, <<" ">>, [global, trim_all]),
         [Name | _] = binary:split(string:trim(Field, trailing, ":"), <<"@">>),
         {Name, binary_to_integer(string:trim(Index, trailing, ":"))}
     end || Line <- binary:split(Out, <<"\n">>, [global, trim_all])].

fd_count(beam) ->
    fd_count(os:getpid());
fd_count(port) ->
    fd_count(integer_to_list(linx_port:os_pid()));
fd_count(OsPid) ->
    {ok, Fds} = file:list_dir("/proc/" ++ OsPid ++ "/fd"),
    length(Fds).

%% A bounded wait for something another process finishes asynchronously.
wait_until(Fun, Ms) ->
    wait_until_(Fun, deadline(Ms)).

wait_until_(Fun, Deadline) ->
    case Fun() of
        true ->
            ok;
        false ->
            case remaining(Deadline) of
                0 -> {error, timeout};
                _ -> receive after 1 -> wait_until_(Fun, Deadline) end
            end
    end.

deadline(Ms) ->
    erlang:monotonic_time(millisecond) + Ms.

remaining(Deadline) ->
    max(0, Deadline - erlang:monotonic_time(millisecond)).
