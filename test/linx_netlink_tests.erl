%% Unit tests for the argument checks of linx_netlink and the rendering of
%% its errors. None of them needs the port program: every call here fails
%% validation before a request could be sent.
-module(linx_netlink_tests).

-include_lib("eunit/include/eunit.hrl").

%% Hides a term's type from dialyzer, for arguments invalid on purpose.
-import(linx_eunit_lib, [hide/1]).

%%--------------------------------------------------------------------
%% Netlink protocols
%%--------------------------------------------------------------------

protocol_names_test_() ->
    Names = [{route, 0}, {unused, 1}, {usersock, 2}, {firewall, 3},
             {sock_diag, 4}, {inet_diag, 4}, {nflog, 5}, {xfrm, 6},
             {selinux, 7}, {iscsi, 8}, {audit, 9}, {fib_lookup, 10},
             {connector, 11}, {netfilter, 12}, {ip6_fw, 13}, {dnrtmsg, 14},
             {kobject_uevent, 15}, {generic, 16}, {scsitransport, 18},
             {ecryptfs, 19}, {rdma, 20}, {crypto, 21}, {smc, 22}],
    [?_assertEqual({ok, N}, linx_netlink_args:protocol_number(A))
     || {A, N} <- Names].

protocol_numbers_test_() ->
    [?_assertEqual({ok, N}, linx_netlink_args:protocol_number(N))
     || N <- [0, 1, 16, 17, 31]].

bad_protocols_test_() ->
    [?_assertEqual({error, {bad_protocol, P}}, linx_netlink_args:protocol_number(P))
     || P <- [-1, 32, 1000, nosuch, "route", <<"route">>, 1.0, {route}]].

%%--------------------------------------------------------------------
%% Groups
%%--------------------------------------------------------------------

groups_mask_test_() ->
    [?_assertEqual({ok, 0, []}, linx_netlink_args:split_groups(0)),
     ?_assertEqual({ok, 1, []}, linx_netlink_args:split_groups(1)),
     ?_assertEqual({ok, 16#ffffffff, []},
                   linx_netlink_args:split_groups(16#ffffffff))].

groups_list_test_() ->
    [?_assertEqual({ok, 0, []}, linx_netlink_args:split_groups([])),
     ?_assertEqual({ok, 1, []}, linx_netlink_args:split_groups([1])),
     ?_assertEqual({ok, 2#101, []}, linx_netlink_args:split_groups([3, 1])),
     ?_assertEqual({ok, 1 bsl 31, []}, linx_netlink_args:split_groups([32])),
     ?_assertEqual({ok, 1, [33]}, linx_netlink_args:split_groups([1, 33])),
     ?_assertEqual({ok, 2#11, [33, 40, 16#ffffffff]},
                   linx_netlink_args:split_groups([40, 2, 33, 1, 16#ffffffff, 33])),
     ?_assertEqual({ok, 1, []}, linx_netlink_args:split_groups([1, 1]))].

bad_groups_test_() ->
    [?_assertEqual({error, {bad_groups, G}}, linx_netlink_args:split_groups(G))
     || G <- [-1, 1 bsl 32, [0], [-1], [1, 0], [16#100000000], [a], [1 | 2],
              all, <<1>>, 1.0]].

%%--------------------------------------------------------------------
%% socket_open/4 arguments
%%--------------------------------------------------------------------

domains_test_() ->
    [?_assertEqual({ok, N}, linx_netlink_args:domain_number(D))
     || {D, N} <- [{local, 1}, {inet, 2}, {inet6, 10}, {netlink, 16},
                   {packet, 17}, {0, 0}, {38, 38}]].

bad_domains_test_() ->
    [?_assertEqual({error, {bad_domain, D}}, linx_netlink_args:domain_number(D))
     || D <- [-1, unix, "inet", 1 bsl 31, 2.0]].

types_test_() ->
    [?_assertEqual({ok, N}, linx_netlink_args:type_number(T))
     || {T, N} <- [{stream, 1}, {dgram, 2}, {raw, 3}, {seqpacket, 5},
                   {10, 10}]].

bad_types_test_() ->
    [?_assertEqual({error, {bad_type, T}}, linx_netlink_args:type_number(T))
     || T <- [-1, rdm_x, "raw", 1 bsl 31]].

socket_protocols_test_() ->
    <<EthPAll:16/native>> = <<16#0003:16/big>>,
    [?_assertEqual({ok, N}, linx_netlink_args:socket_protocol_number(P))
     || {P, N} <- [{default, 0}, {ip, 0}, {icmp, 1}, {tcp, 6}, {udp, 17},
                   {ipv6, 41}, {icmpv6, 58}, {raw, 255}, {132, 132},
                   {{ethertype, 16#0003}, EthPAll},
                   {{ethertype, 16#86dd}, element(1, swap16(16#86dd))}]].

swap16(E) ->
    <<N:16/native>> = <<E:16/big>>,
    {N}.

bad_socket_protocols_test_() ->
    [?_assertEqual({error, {bad_protocol, P}},
                   linx_netlink_args:socket_protocol_number(P))
     || P <- [-1, sctp_x, "tcp", {ethertype, 16#10000}, {ethertype, -1},
              1 bsl 31]].

%%--------------------------------------------------------------------
%% Validation through the API (nothing reaches the port)
%%--------------------------------------------------------------------

open_validation_test_() ->
    [?_assertMatch({error, #{reason := {bad_protocol, nosuch}}},
                   linx_netlink:open(nosuch, #{})),
     ?_assertMatch({error, #{reason := {bad_protocol, 32}}}, linx_netlink:open(32, #{})),
     ?_assertMatch({error, #{reason := {bad_in, other}}},
                   linx_netlink:open(route, #{in => other})),
     ?_assertMatch({error, #{reason := {bad_in, {netns, "a/b"}}}},
                   linx_netlink:open(route, [{in, {netns, "a/b"}}])),
     ?_assertMatch({error, #{reason := {bad_groups, -1}}},
                   linx_netlink:open(route, -1, #{})),
     ?_assertMatch({error, #{reason := {bad_groups, [0]}}},
                   linx_netlink:open(route, [0], #{})),
     ?_assertMatch({error, #{reason := {bad_rcvbuf, 0}}},
                   linx_netlink:open(route, #{rcvbuf => 0})),
     ?_assertMatch({error, #{reason := {bad_rcvbuf, big}}},
                   linx_netlink:open(route, #{rcvbuf => big})),
     ?_assertMatch({error, #{reason := {bad_option, {timeout, -1}}}},
                   linx_netlink:open(route, #{timeout => -1})),
     ?_assertMatch({error, #{reason := {bad_option, not_opts}}},
                   linx_netlink:open(route, hide(not_opts))),
     %% The protocol is checked first.
     ?_assertMatch({error, #{reason := {bad_protocol, x}}},
                   linx_netlink:open(x, #{in => bad}))].

open_fd_validation_test_() ->
    [?_assertMatch({error, #{reason := {bad_protocol, nosuch}}},
                   linx_netlink:open_fd(nosuch, #{})),
     ?_assertMatch({error, #{reason := {bad_option, {rcvbuf, 65536}}}},
                   linx_netlink:open_fd(route, #{rcvbuf => 65536})),
     ?_assertMatch({error, #{reason := {bad_groups, [1, 33]}}},
                   linx_netlink:open_fd(route, [1, 33], #{})),
     %% groups are an argument, not an option: given as one they are refused.
     ?_assertMatch({error, #{reason := {bad_option, {groups, [1]}}}},
                   linx_netlink:open_fd(route, #{groups => [1]})),
     ?_assertMatch({error, #{reason := {bad_groups, [0, 33]}}},
                   linx_netlink:open_fd(route, [0, 33], #{})),
     ?_assertMatch({error, #{reason := {bad_in, nowhere}}},
                   linx_netlink:open_fd(route, #{in => nowhere}))].

socket_open_validation_test_() ->
    [?_assertMatch({error, #{reason := {bad_domain, unix}}},
                   linx_netlink:socket_open(unix, raw, 0, #{})),
     ?_assertMatch({error, #{reason := {bad_type, rdm_x}}},
                   linx_netlink:socket_open(inet, rdm_x, 0, #{})),
     ?_assertMatch({error, #{reason := {bad_protocol, sctp_x}}},
                   linx_netlink:socket_open(inet, stream, sctp_x, #{})),
     ?_assertMatch({error, #{reason := {bad_in, {pid, 0}}}},
                   linx_netlink:socket_open(inet, raw, icmp,
                                            #{in => {pid, 0}})),
     ?_assertMatch({error, #{reason := {bad_rcvbuf, -5}}},
                   linx_netlink:socket_open(inet, dgram, udp,
                                            #{rcvbuf => -5})),
     %% Arguments are checked in order.
     ?_assertMatch({error, #{reason := {bad_domain, x}}},
                   linx_netlink:socket_open(x, y, z, #{in => bad}))].

membership_validation_test_() ->
    %% The group is checked before the socket is looked at.
    [?_assertMatch({error, #{reason := {bad_group, G}}},
                   linx_netlink:membership_add(hide(no_socket), G))
     || G <- [0, -1, 1 bsl 32, a]] ++
    [?_assertMatch({error, #{reason := {bad_group, 0}}},
                   linx_netlink:membership_del(hide(no_socket), 0))].

close_fd_validation_test_() ->
    [?_assertMatch({error, #{reason := {bad_fd, -1}}}, linx_netlink:close_fd(hide(-1))),
     ?_assertMatch({error, #{reason := {bad_fd, x}}}, linx_netlink:close_fd(hide(x))),
     ?_test(close_fd_not_open(unused_fd()))].

%% A descriptor that is not open: the error names the call and the
%% descriptor.
close_fd_not_open(Fd) ->
    E = linx_netlink:close_fd(Fd),
    ?assertMatch({error, #{op := close_fd, fd := Fd, stage := close, errno := ebadf,
                           code := 9}}, E),
    ?assertEqual(iolist_to_binary(["linx_netlink:close_fd(", integer_to_list(Fd),
                                   ") failed: ebadf (errno 9)"]),
                 linx:format_error(E)).

%% A descriptor that is not a socket is left alone.
close_fd_not_a_socket_test() ->
    Path = filename:join("/tmp", "linx-netlink-tests-" ++ os:getpid()),
    ok = file:write_file(Path, <<"x">>),
    {ok, File} = file:open(Path, [read, raw, binary]),
    try
        [Fd] = [list_to_integer(N)
                || N <- element(2, file:list_dir("/proc/self/fd")),
                   file:read_link("/proc/self/fd/" ++ N) =:= {ok, Path}],
        E = linx_netlink:close_fd(Fd),
        ?assertMatch({error, #{fd := Fd, errno := enotsock, code := 88}}, E),
        ?assertEqual(iolist_to_binary(["linx_netlink:close_fd(", integer_to_list(Fd),
                                       ") failed: enotsock (errno 88): not a socket, left open"]),
                     linx:format_error(E)),
        ?assertEqual({ok, <<"x">>}, file:pread(File, 0, 1))
    after
        ok = file:close(File),
        ok = file:delete(Path)
    end.

%% A descriptor number nothing in this node has open.
unused_fd() ->
    {ok, Names} = file:list_dir("/proc/self/fd"),
    lists:max([list_to_integer(N) || N <- Names]) + 1000.

%%--------------------------------------------------------------------
%% linx:format_error/1
%%--------------------------------------------------------------------

format_error_test_() ->
    Netlink = #{op => netlink_open, stage => socket, errno => eprotonosupport,
                code => 93, protocol => route, in => {netns, <<"blue">>}},
    Socket = #{op => socket_open, stage => open_ns, errno => enoent,
               code => 2, domain => packet, type => raw, protocol => 768,
               in => self},
    [?_assertEqual(<<"netlink open route in netns \"blue\" failed: "
                     "socket eprotonosupport (errno 93)">>,
                   fmt(Netlink)),
     ?_assertEqual(fmt(Netlink), fmt({error, Netlink})),
     ?_assertEqual(<<"netlink open 31 failed: socket eprotonosupport "
                     "(errno 93)">>,
                   fmt(Netlink#{protocol => 31, in => self})),
     ?_assertEqual(<<"netlink open generic in pid 42 failed: setns eperm "
                     "(errno 1)">>,
                   fmt(Netlink#{protocol => generic, in => {pid, 42},
                                stage => setns, errno => eperm, code => 1})),
     ?_assertEqual(<<"netlink open route failed: busy queue">>,
                   fmt(Netlink#{in => self, stage => busy, errno => queue,
                                code => 0})),
     ?_assertEqual(<<"socket open packet raw 768 failed: open_ns enoent "
                     "(errno 2)">>,
                   fmt(Socket)),
     ?_assertEqual(<<"socket open inet raw icmp in netns \"blue\" failed: "
                     "socket eperm (errno 1)">>,
                   fmt(Socket#{domain => inet, protocol => icmp,
                               in => {netns, "blue"}, stage => socket,
                               errno => eperm, code => 1}))] ++
        %% The module that returns an error renders it the same way.
        [?_assertEqual(linx_netlink:format_error(O), linx:format_error(O))
         || E <- [Netlink, {error, Socket}],
            {error, O} <- [linx_error:owned(linx_netlink, open, {error, E})]].

format_error_reasons_test_() ->
    Reasons = [{bad_protocol, nosuch}, {bad_protocol, 32},
               {bad_groups, [0]}, {bad_group, 0}, {bad_rcvbuf, -1},
               {bad_domain, unix}, {bad_type, "x\ny"}, {bad_fd, -1},
               {bad_option, {rcvbuf, 1}}, {bad_option, {groups, [33]}}, {bad_groups, [33]},
               ebadf, enotsock, {setsockopt, {invalid, x}}],
    linx_eunit_lib:one_line_tests(linx_netlink, Reasons).

format_error_text_test_() ->
    [?_assertEqual(<<"ebadf (errno 9)">>, fmt(ebadf)),
     ?_assertEqual(<<"invalid protocol nosuch: expected a protocol name "
                     "(such as route, generic, tcp or icmp) or a number "
                     "(0..31 for netlink)">>,
                   fmt({bad_protocol, nosuch})),
     ?_assertEqual(<<"invalid netlink groups [0]: expected a bit mask below "
                     "2^32 or a list of group numbers from 1">>,
                   fmt({error, {bad_groups, [0]}}))].

fmt(Reason) ->
    %% The module's own rendering; linx:format_error/1 renders an owned
    %% error with it (see owned_rendering tests).
    linx_netlink:format_error(Reason).

%% The ns_fds option of netlink_call: entries inside the message, at
%% most 16, each a target; a bad one is named in the error.
ns_fds_test_() ->
    Msg = <<0:(24 * 8)>>,
    Call = fun(NsFds) -> linx_netlink_args:netlink_call(route, Msg, #{ns_fds => NsFds}) end,
    [?_assertMatch({ok, #{ns_fds := [{20, {netns, <<"red">>}}, {0, {held, 7}}]}, 0, Msg},
                   Call([{20, {netns, "red"}}, {0, {linx_netns, 7}}])),
     ?_assertEqual({error, {bad_option, {ns_fds, {21, self}}}}, Call([{0, self}, {21, self}])),
     ?_assertEqual({error, {bad_option, {ns_fds, {0, nowhere}}}}, Call([{0, nowhere}])),
     ?_assertEqual({error, {bad_option, {ns_fds, {-1, self}}}}, Call([{-1, self}])),
     ?_assertEqual({error, {bad_option, {ns_fds, oops}}}, Call(oops)),
     ?_assertMatch({error, {bad_option, {ns_fds, [_ | _]}}}, Call(lists:duplicate(17, {0, self})))].
