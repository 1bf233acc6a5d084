%% Unit tests for key validation, value rendering, targets and error
%% formatting. None of them needs the port program.
-module(linx_sysctl_tests).

-include_lib("eunit/include/eunit.hrl").

%% Hides a term's type from dialyzer, for arguments invalid on purpose.
-import(linx_eunit_lib, [hide/1]).

%%--------------------------------------------------------------------
%% key_to_path/1
%%--------------------------------------------------------------------

%% {Key, Path}: the dot form becomes slashes, the slash form stays as it is
%% (dots and other printable bytes included).
key_path_test_() ->
    Cases = [%% dot form
             {<<"net.ipv4.ip_forward">>, <<"net/ipv4/ip_forward">>},
             {"net.ipv4.ip_forward", <<"net/ipv4/ip_forward">>},
             {'net.ipv4.ip_forward', <<"net/ipv4/ip_forward">>},
             {<<"kernel">>, <<"kernel">>},
             {<<"net.ipv6.conf.eth-0.disable_ipv6">>, <<"net/ipv6/conf/eth-0/disable_ipv6">>},
             {<<"Net.IPv4.A_b-9">>, <<"Net/IPv4/A_b-9">>},
             %% slash form
             {<<"net/ipv4/ip_forward">>, <<"net/ipv4/ip_forward">>},
             {<<"net/ipv4/conf/br.100/forwarding">>, <<"net/ipv4/conf/br.100/forwarding">>},
             {"net/ipv4/conf/br.100/forwarding", <<"net/ipv4/conf/br.100/forwarding">>},
             {'net/ipv4/conf/br.100/forwarding', <<"net/ipv4/conf/br.100/forwarding">>},
             {<<"net/ipv6/conf/eth0:1@x y/mtu">>, <<"net/ipv6/conf/eth0:1@x y/mtu">>},
             {<<"net/ipv4/conf/...x/forwarding">>, <<"net/ipv4/conf/...x/forwarding">>},
             {"net/ipv4/conf/d\x{e9}j\x{e0}/mtu", <<"net/ipv4/conf/d\x{e9}j\x{e0}/mtu"/utf8>>}],
    [?_assertEqual({ok, Path}, linx_sysctl:key_to_path(Key)) || {Key, Path} <- Cases].

bad_keys_test_() ->
    Long = binary:copy(<<"a">>, 4097),
    Bad = [<<>>, "", '',
           %% dot form
           <<".">>, <<"..">>, <<".net.ipv4">>, <<"net.ipv4.">>,
           <<"net..ipv4">>, <<"net.ip v4">>, <<"net.ipv4:x">>,
           <<"net.ipv4.conf.eth@0">>, <<"net.ipv4\n">>, <<"net.ip", 0, "v4">>,
           <<"net.ipv4.conf.d", 16#c3, 16#a9, "j">>,
           %% slash form
           <<"/">>, <<"//">>, <<"/net/ipv4">>, <<"net/ipv4/">>,
           <<"net//ipv4">>, <<"net/../ipv4">>, <<"../net">>,
           <<"net/ipv4/..">>, <<"net/./ipv4">>, <<"./net">>, <<"net/.">>,
           <<"net/ip", 0, "v4">>, <<"net/ipv4/conf/eth0", 0>>,
           <<"net/ipv4/x\ny">>, <<"net/ipv4/x\ty">>, <<"net/ipv4/x", 127>>,
           "net/../ipv4",
           %% too long
           Long,
           %% not keys at all
           42, {a}, [1, 2], [a, b], #{}, 1.5, self(), [<<"net">> | hide(x)]],
    [{lists:flatten(io_lib:format("~0tP", [K, 6])),
      ?_assertEqual({error, {bad_key, K}}, linx_sysctl:key_to_path(K))}
     || K <- Bad].

max_key_length_test() ->
    Max = binary:copy(<<"a">>, 4096),
    ?assertEqual({ok, Max}, linx_sysctl:key_to_path(Max)).

%%--------------------------------------------------------------------
%% path_to_key/1
%%--------------------------------------------------------------------

path_to_key_test_() ->
    [?_assertEqual(<<"net.ipv4.ip_forward">>,
                   linx_sysctl:path_to_key(
                       <<"net/ipv4/ip_forward">>)),
     ?_assertEqual(<<"net/ipv4/conf/br.100/forwarding">>,
                   linx_sysctl:path_to_key(
                       <<"net/ipv4/conf/br.100/forwarding">>)),
     ?_assertEqual(<<"net/ipv4/conf/eth0:1/forwarding">>,
                   linx_sysctl:path_to_key(
                       <<"net/ipv4/conf/eth0:1/forwarding">>)),
     ?_assertEqual(<<"kernel">>, linx_sysctl:path_to_key(<<"kernel">>)),
     ?_assertEqual(<<>>, linx_sysctl:path_to_key(<<>>)),
     %% Not a dot-form path: the path is its own key.
     [?_assertEqual(P, linx_sysctl:path_to_key(P))
      || P <- [<<"net//ipv4">>, <<"net/ipv4/">>, <<"/net">>, <<"/">>, <<"net/a b">>,
               <<"net/", 200, "/x">>]]].

round_trip_test_() ->
    Paths = [<<"net/ipv4/ip_forward">>,
             <<"net/ipv4/conf/br.100/forwarding">>,
             <<"net/ipv4/conf/eth0:1/forwarding">>,
             <<"net/ipv6/conf/all/disable_ipv6">>,
             <<"kernel/pid_max">>,
             <<"net/ipv4/neigh/br-lan/gc_stale_time">>],
    [?_assertEqual({ok, P},
                   linx_sysctl:key_to_path(linx_sysctl:path_to_key(P)))
     || P <- Paths].

%%--------------------------------------------------------------------
%% render_value/1
%%--------------------------------------------------------------------

render_value_test_() ->
    [?_assertEqual({ok, <<"1">>}, linx_sysctl:render_value(1)),
     ?_assertEqual({ok, <<"0">>}, linx_sysctl:render_value(0)),
     ?_assertEqual({ok, <<"-1">>}, linx_sysctl:render_value(-1)),
     ?_assertEqual({ok, <<"18446744073709551615">>},
                   linx_sysctl:render_value(18446744073709551615)),
     ?_assertEqual({ok, <<"32768 60999">>},
                   linx_sysctl:render_value([32768, 60999])),
     ?_assertEqual({ok, <<"4096 -1 0">>},
                   linx_sysctl:render_value([4096, -1, 0])),
     ?_assertEqual({ok, <<"7">>}, linx_sysctl:render_value([7])),
     %% a charlist is a list of integers: text goes in a binary
     ?_assertEqual({ok, <<"97 98">>}, linx_sysctl:render_value("ab")),
     ?_assertEqual({ok, <<"cubic">>}, linx_sysctl:render_value(<<"cubic">>)),
     ?_assertEqual({ok, <<"4096\t87380 6291456">>},
                   linx_sysctl:render_value(<<"4096\t87380 6291456">>)),
     ?_assertEqual({ok, <<>>}, linx_sysctl:render_value(<<>>)),
     ?_assertEqual({ok, <<>>}, linx_sysctl:render_value([])),
     ?_assertEqual({ok, <<"bbr reno">>},
                   linx_sysctl:render_value([<<"bbr">>, " ", [<<"reno">>]])),
     ?_assertEqual({ok, <<"ab">>}, linx_sysctl:render_value([$a, <<"b">>])),
     ?_assertEqual({error, {bad_value, {contains, newline}}},
                   linx_sysctl:render_value(<<"1\n">>)),
     ?_assertEqual({error, {bad_value, {contains, newline}}},
                   linx_sysctl:render_value([<<"a">>, $\n, <<"b">>])),
     ?_assertEqual({error, {bad_value, {contains, nul}}},
                   linx_sysctl:render_value(<<"1", 0>>)),
     ?_assertEqual({error, {bad_value, {contains, nul}}},
                   linx_sysctl:render_value([<<"a">>, 0])),
     ?_assertEqual({error, {unsupported_type, 1.5}},
                   linx_sysctl:render_value(1.5)),
     ?_assertEqual({error, {unsupported_type, true}},
                   linx_sysctl:render_value(true)),
     ?_assertEqual({error, {unsupported_type, #{a => 1}}},
                   linx_sysctl:render_value(#{a => 1})),
     ?_assertEqual({error, {unsupported_type, {1, 2}}},
                   linx_sysctl:render_value({1, 2})),
     ?_assertEqual({error, {unsupported_type, [1, a]}},
                   linx_sysctl:render_value([1, a])),
     ?_assertEqual({error, {unsupported_type, [1 | hide(2)]}},
                   linx_sysctl:render_value([1 | hide(2)])),
     ?_assertEqual({error, {unsupported_type, <<1:3>>}},
                   linx_sysctl:render_value(<<1:3>>)),
     ?_assertMatch({error, {unsupported_type, _}},
                   linx_sysctl:render_value(self()))].

%%--------------------------------------------------------------------
%% target/1
%%--------------------------------------------------------------------

target_test_() ->
    [?_assertEqual({ok, self}, linx_sysctl:target(self)),
     ?_assertEqual({ok, {pid, 1}}, linx_sysctl:target({pid, 1})),
     ?_assertEqual({ok, {pid, 4242}}, linx_sysctl:target({pid, 4242})),
     ?_assertEqual({ok, {netns, <<"blue">>}},
                   linx_sysctl:target({netns, <<"blue">>})),
     ?_assertEqual({ok, {netns, <<"blue">>}},
                   linx_sysctl:target({netns, "blue"})),
     ?_assertEqual({ok, {netns, <<"a.b">>}},
                   linx_sysctl:target({netns, "a.b"})),
     ?_assertEqual({ok, {netns, binary:copy(<<"n">>, 255)}},
                   linx_sysctl:target({netns, binary:copy(<<"n">>, 255)})),
     ?_assertEqual({ok, {ns, [<<"/proc/1/ns/net">>]}},
                   linx_sysctl:target({path, <<"/proc/1/ns/net">>})),
     ?_assertEqual({ok, {ns, [<<"/proc/1/ns/net">>]}},
                   linx_sysctl:target({path, "/proc/1/ns/net"})),
     ?_assertEqual({ok, {ns, []}}, linx_sysctl:target({ns, []})),
     ?_assertEqual({ok, {ns, [<<"/proc/1/ns/user">>, <<"/proc/1/ns/net">>]}},
                   linx_sysctl:target({ns, ["/proc/1/ns/user",
                                            <<"/proc/1/ns/net">>]}))].

bad_target_test_() ->
    Bad = [undefined, other, {pid, 0}, {pid, -1}, {pid, "1"}, {pid, 1.0},
           {netns, <<>>}, {netns, ""}, {netns, <<".">>}, {netns, ".."},
           {netns, <<"a/b">>}, {netns, <<"a", 0, "b">>},
           {netns, binary:copy(<<"n">>, 256)}, {netns, blue}, {netns, 1},
           {path, <<>>}, {path, ""}, {path, <<"/proc/1/ns/net", 0>>},
           {path, net}, {path, 1},
           {ns, <<"/proc/1/ns/net">>}, {ns, "/proc/1/ns/net"},
           {ns, [<<>>]}, {ns, [<<"/a">> | hide(<<"/b">>)]}, {ns, [<<"/a">>, x]},
           {ns, [<<"a", 0>>]},
           {self}, {pid, 1, 2}, "self", 42],
    [{lists:flatten(io_lib:format("~0tP", [V, 6])),
      ?_assertEqual({error, {bad_in, V}}, linx_sysctl:target(V))}
     || V <- Bad].

%%--------------------------------------------------------------------
%% Validation happens before the port is asked (it is not running here)
%%--------------------------------------------------------------------

validation_before_port_test_() ->
    [?_assertMatch({error, #{reason := {bad_key, <<"a..b">>}}},
                   linx_sysctl:read(<<"a..b">>)),
     ?_assertMatch({error, #{reason := {bad_key, 42}}}, linx_sysctl:read_int(hide(42))),
     ?_assertMatch({error, #{reason := {bad_key, <<"/x">>}}},
                   linx_sysctl:read_ints(<<"/x">>)),
     ?_assertMatch({error, #{reason := {bad_key, <<"x/">>}}},
                   linx_sysctl:write(<<"x/">>, 1)),
     ?_assertMatch({error, #{reason := {bad_value, {contains, newline}}}},
                   linx_sysctl:write(<<"net.ipv4.ip_forward">>, <<"1\n">>)),
     ?_assertMatch({error, #{reason := {unsupported_type, 1.0}}},
                   linx_sysctl:write(<<"net.ipv4.ip_forward">>, hide(1.0))),
     ?_assertMatch({error, #{reason := {bad_in, {netns, <<"a/b">>}}}},
                   linx_sysctl:read(<<"net.ipv4.ip_forward">>,
                                    #{in => {netns, <<"a/b">>}})),
     ?_assertMatch({error, #{reason := {bad_in, nowhere}}},
                   linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1,
                                     [{in, nowhere}])),
     ?_assertMatch({error, #{reason := {bad_option, {timeout, -1}}}},
                   linx_sysctl:read(<<"net.ipv4.ip_forward">>,
                                    #{timeout => hide(-1)})),
     ?_assertMatch({error, #{reason := {bad_key, <<"net..">>}}},
                   linx_sysctl:list(<<"net..">>)),
     ?_assertMatch({error, #{reason := {bad_key, 7}}}, linx_sysctl:list(hide(7), #{}))].

port_not_running_test_() ->
    case whereis(linx_port) of
        undefined ->
            [?_assertMatch({error, #{reason := not_running}},
                           linx_sysctl:read(<<"net.ipv4.ip_forward">>)),
             ?_assertMatch({error, #{reason := not_running}},
                           linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1,
                                             #{in => self, unknown => 1})),
             ?_assertMatch({error, #{reason := not_running}}, linx_sysctl:list()),
             ?_assertMatch({error, #{reason := not_running}}, linx_sysctl:list(""))];
        _ ->
            []
    end.

%%--------------------------------------------------------------------
%% linx:format_error/1 and linx:errno_code/1
%%--------------------------------------------------------------------

format_error_test_() ->
    Write = #{op => write, key => <<"net.ipv4.ip_forward">>,
              path => <<"/proc/sys/net/ipv4/ip_forward">>,
              stage => write, errno => eacces, code => 13},
    Read = #{op => read, key => <<"k">>, path => <<"/proc/sys/k">>,
             stage => open_ns, errno => enoent, code => 2, in => self},
    [?_assertEqual(<<"sysctl write \"net.ipv4.ip_forward\" failed on "
                     "/proc/sys/net/ipv4/ip_forward: eacces (errno 13)">>,
                   fmt(Write)),
     ?_assertEqual(fmt(Write), fmt({error, Write})),
     ?_assertEqual(fmt(Write), fmt(Write#{in => self})),
     ?_assertEqual(<<"sysctl read \"k\" failed on /proc/sys/k: "
                     "open_ns enoent (errno 2)">>,
                   fmt(Read)),
     ?_assertEqual(<<"sysctl read \"k\" in netns \"blue\" failed on "
                     "/proc/sys/k: open_ns enoent (errno 2)">>,
                   fmt(Read#{in => {netns, <<"blue">>}})),
     ?_assertEqual(<<"sysctl write \"k\" failed on /proc/sys/k: "
                     "badarg value">>,
                   fmt(Write#{key => <<"k">>, path => <<"/proc/sys/k">>,
                              stage => badarg, errno => value, code => 0})),
     ?_assertEqual(<<"sysctl list \"net/ipv4/conf/br.100\" in pid 42 failed on "
                     "/proc/sys/net/ipv4/conf/br.100: setns eperm (errno 1)">>,
                   fmt(#{op => list, key => <<"net/ipv4/conf/br.100">>,
                         path => <<"/proc/sys/net/ipv4/conf/br.100">>,
                         stage => setns, errno => eperm, code => 1,
                         in => {pid, 42}})),
     ?_assertEqual(<<"sysctl read \"k\" failed on /proc/sys/k: "
                     "panic worker panicked">>,
                   fmt(Read#{stage => panic, errno => <<"worker panicked">>,
                             code => 0}))] ++
        [?_assertEqual(linx_sysctl:format_error(O), linx:format_error(O))
         || E <- [Write, {error, Read}],
            {error, O} <- [linx_error:owned(linx_sysctl, write, {error, E})]].

format_error_reasons_test_() ->
    Reasons = [{bad_key, <<"a..b">>}, {bad_key, "a..b"}, {bad_key, 42},
               {bad_value, {contains, newline}},
               {bad_value, {contains, nul}},
               {unsupported_type, 1.5}, {unsupported_type, #{a => "x\ny"}},
               {bad_in, {netns, <<"a/b">>}}, {bad_option, {timeout, -1}},
               {not_integer, <<"cubic">>}, timeout, not_running,
               {port_exited, 137}, {port_exited, killed},
               {unexpected_reply, {ok, 1}}, {setns, eperm},
               something_else,
               {some, [<<"deep">>, "term\n", lists:seq(1, 60)]}],
    linx_eunit_lib:one_line_tests(linx_sysctl, Reasons).

format_error_text_test_() ->
    [?_assertEqual(<<"linx port request timed out">>, fmt(timeout)),
     ?_assertEqual(<<"linx port is not running">>, fmt({error, not_running})),
     ?_assertEqual(<<"linx port program exited with status 137">>,
                   fmt({port_exited, 137})),
     ?_assertEqual(<<"invalid sysctl value: it contains a newline">>,
                   fmt({bad_value, {contains, newline}})),
     ?_assertEqual(<<"invalid sysctl value: it contains a NUL byte">>,
                   fmt({bad_value, {contains, nul}})),
     ?_assertEqual(<<"sysctl value <<\"cubic\">> is not an integer">>,
                   fmt({not_integer, <<"cubic">>})),
     ?_assertMatch(<<"invalid sysctl key <<\"a..b\">>", _/binary>>,
                   fmt({bad_key, <<"a..b">>})),
     ?_assertMatch(<<"invalid sysctl key \"a..b\"", _/binary>>,
                   fmt({bad_key, "a..b"})),
     ?_assertMatch(<<"unsupported sysctl value 1.5", _/binary>>,
                   fmt({unsupported_type, 1.5})),
     ?_assertMatch(<<"invalid namespace target (option in) "
                     "{netns,<<\"a/b\">>}", _/binary>>,
                   fmt({bad_in, {netns, <<"a/b">>}})),
     ?_assertEqual(<<"setns failed: eperm (errno 1)">>, fmt({setns, eperm})),
     ?_assertEqual(<<"{some,thing}">>, fmt({some, thing}))].

errno_code_test_() ->
    Table = [{eperm, 1}, {enoent, 2}, {esrch, 3}, {eintr, 4}, {eio, 5},
             {enxio, 6}, {e2big, 7}, {ebadf, 9}, {echild, 10}, {eagain, 11},
             {enomem, 12}, {eacces, 13}, {efault, 14}, {ebusy, 16},
             {eexist, 17}, {exdev, 18}, {enodev, 19}, {enotdir, 20},
             {eisdir, 21}, {einval, 22}, {enfile, 23}, {emfile, 24},
             {enotty, 25}, {efbig, 27}, {enospc, 28}, {espipe, 29},
             {erofs, 30}, {emlink, 31}, {epipe, 32}, {edom, 33},
             {erange, 34}, {enametoolong, 36}, {enosys, 38},
             {enotempty, 39}, {eloop, 40}, {eproto, 71},
             {eprotonosupport, 93}, {eopnotsupp, 95}, {eafnosupport, 97},
             {eaddrinuse, 98}, {etimedout, 110}, {econnrefused, 111},
             {ealready, 114}],
    [{atom_to_list(Errno), ?_assertEqual(Code, linx:errno_code(Errno))}
     || {Errno, Code} <- Table] ++
        [?_assertEqual(11, linx:errno_code(ewouldblock)),
         ?_assertEqual(95, linx:errno_code(enotsup)),
         ?_assertEqual(133, linx:errno_code(ehwpoison)),
         ?_assertEqual(0, linx:errno_code(eunknown)),
         ?_assertEqual(0, linx:errno_code(not_an_errno)),
         ?_assertEqual(0, linx:errno_code(path))].

fmt(Reason) ->
    %% The module's own rendering; linx:format_error/1 renders an owned
    %% error with it (see owned_rendering tests).
    linx_sysctl:format_error(Reason).
