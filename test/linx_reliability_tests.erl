%% Unit tests for what careless or hostile arguments get before anything
%% reaches the port program: improper lists, timeouts, sizes, and the
%% texts of the errors the port program gives for writes it refuses or
%% takes only part of. None of them needs the port program: every call
%% here returns before a request would be sent.
-module(linx_reliability_tests).

-include_lib("eunit/include/eunit.hrl").

-define(KEY, <<"net.core.somaxconn">>).

%%--------------------------------------------------------------------
%% Improper lists: an error, never an exception
%%--------------------------------------------------------------------

improper_option_lists_test_() ->
    Opts = [{in, self} | foo],
    [?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_sysctl:read(?KEY, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_sysctl:write(?KEY, 1, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_sysctl:list(<<"net">>, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_sysctl:apply([{?KEY, 1}], Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_netlink:open(route, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_netlink:open_fd(route, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_netlink:socket_open(inet, dgram, udp, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, Opts}}}, linx_netlink:call(route, <<0:128>>, Opts)),
     ?_assertMatch({error, #{reason := {bad_option, [foo | bar]}}}, linx_sysctl:read(?KEY, [foo | bar]))].

improper_settings_test_() ->
    [?_assertMatch({error, #{reason := {bad_settings, foo}}}, linx_sysctl:apply([{?KEY, 1} | foo], #{})),
     ?_assertMatch({error, #{reason := {bad_settings, foo}}}, linx_sysctl:apply([{?KEY, 1} | foo])),
     ?_assertMatch({error, #{reason := {bad_settings, bar}}}, linx_sysctl:apply(bar, #{}))].

improper_arguments_test_() ->
    [?_assertMatch({error, #{reason := {unsupported_type, [1, 2 | 3]}}}, linx_sysctl:write(?KEY, [1, 2 | 3], #{})),
     ?_assertMatch({error, #{reason := {unsupported_type, [<<"1">> | 2]}}},
                   linx_sysctl:write(?KEY, [<<"1">> | 2], #{})),
     ?_assertMatch({error, #{reason := {bad_key, "net" ++ foo}}}, linx_sysctl:read("net" ++ foo)),
     ?_assertMatch({error, #{reason := {bad_in, {ns, [<<"/proc/1/ns/net">> | x]}}}},
                   linx_sysctl:read(?KEY, #{in => {ns, [<<"/proc/1/ns/net">> | x]}})),
     ?_assertMatch({error, #{reason := {bad_in, {netns, "blue" ++ x}}}},
                   linx_sysctl:read(?KEY, #{in => {netns, "blue" ++ x}})),
     ?_assertMatch({error, #{reason := {bad_groups, [1 | 2]}}}, linx_netlink:open(route, [1 | 2], #{})),
     ?_assertMatch({error, #{reason := {bad_message, [<<0:128>> | x]}}},
                   linx_netlink:call(route, [<<0:128>> | x], #{}))].

%%--------------------------------------------------------------------
%% Timeouts
%%--------------------------------------------------------------------

bad_timeouts_test_() ->
    [{lists:flatten(io_lib:format("~0tp", [T])),
      fun() ->
              Opts = #{timeout => T},
              E = {error, {bad_option, {timeout, T}}},
              ?assertEqual(E, linx_eunit_lib:reason(linx_sysctl:read(?KEY, Opts))),
              ?assertEqual(E, linx_eunit_lib:reason(linx_sysctl:write(?KEY, 1, Opts))),
              ?assertEqual(E, linx_eunit_lib:reason(linx_sysctl:apply([{?KEY, 1}], Opts))),
              ?assertEqual(E, linx_eunit_lib:reason(linx_netlink:open(route, Opts))),
              ?assertEqual(E, linx_eunit_lib:reason(linx_netlink:socket_open(inet, dgram, udp, Opts))),
              ?assertEqual(E, linx_eunit_lib:reason(linx_netlink:call(route, <<16:32/native, 0:96>>, Opts))),
              ?assertEqual({error, {bad_timeout, T}}, linx_port:request(version, T)),
              ?assertEqual({error, {bad_timeout, T}}, linx_remote:request(version, T, 'linx@nohost'))
      end} || T <- [1 bsl 32, 1 bsl 33, -1, 1.5, foo]].

max_timeout_test() ->
    ?assert(linx_port:valid_timeout(16#FFFFFFFF)),
    ?assert(linx_port:valid_timeout(0)),
    ?assert(linx_port:valid_timeout(infinity)),
    ?assertNot(linx_port:valid_timeout(16#100000000)).

%% A write that cannot be waited for at all is refused: it would always
%% be "timed out" while it happens anyway.
zero_timeout_writes_test_() ->
    E = {error, {bad_option, {timeout, 0}}},
    [?_assertEqual(E, linx_eunit_lib:reason(linx_sysctl:write(?KEY, 1, #{timeout => 0}))),
     ?_assertEqual(E, linx_eunit_lib:reason(linx_sysctl:apply([{?KEY, 1}], #{timeout => 0})))].

host_keys_option_test_() ->
    [?_assertMatch({error, #{reason := {bad_option, {host_keys, yes}}}},
                   linx_sysctl:write(<<"kernel.hostname">>, <<"x">>, #{host_keys => yes})),
     ?_assertEqual({ok, {host_keys, {netns, <<"b">>}}},
                   linx_opts:write_target(#{host_keys => true}, {netns, <<"b">>})),
     ?_assertEqual({ok, {netns, <<"b">>}}, linx_opts:write_target(#{}, {netns, <<"b">>})),
     ?_assertEqual({ok, self}, linx_opts:write_target(#{host_keys => false}, self))].

%%--------------------------------------------------------------------
%% Sizes
%%--------------------------------------------------------------------

frame_limit_test_() ->
    Max = linx_wire:max_frame(),
    %% {1, {x, Bin}} takes 16 bytes besides Bin's bytes.
    Fits = binary:copy(<<"x">>, Max - 16),
    Over = binary:copy(<<"x">>, Max - 15),
    [?_assertEqual(16#1000000, Max),
     ?_assertMatch({ok, B} when byte_size(B) =:= Max, linx_wire:encode(1, {x, Fits})),
     ?_assertEqual({error, {badarg, too_large}}, linx_wire:encode(1, {x, Over})),
     ?_assertEqual(ok, linx_wire:fits({x, <<"small">>})),
     ?_assertEqual({error, {badarg, too_large}}, linx_wire:fits({x, Over})),
     ?_assertEqual({error, {badarg, too_large}},
                   linx_remote:request({x, Over}, infinity, 'linx@nohost'))].

%%--------------------------------------------------------------------
%% Texts
%%--------------------------------------------------------------------

write_error(Errno, Extra) ->
    maps:merge(#{op => write, stage => write, errno => Errno, code => 0,
                 key => ?KEY, path => <<"/proc/sys/net/core/somaxconn">>, in => self},
               Extra).

partial_test_() ->
    Ctx = #{op => write, key => ?KEY, path => <<"/proc/sys/net/core/somaxconn">>, in => self},
    {error, E} = linx_error:reply({error, {write, {partial, 3, 4}}}, Ctx),
    [?_assertEqual(write_error(partial, #{written => 3, total => 4}), E),
     ?_assertEqual(<<"sysctl write \"net.core.somaxconn\" failed on /proc/sys/net/core/somaxconn: "
                     "the kernel took 3 of 4 bytes (partial write; the value has changed)">>,
                   linx_sysctl:format_error(E))].

not_in_target_test_() ->
    E = (write_error(not_in_target, #{in => {netns, <<"blue">>}}))#{key => <<"kernel.hostname">>},
    Ns = E#{in => {ns, [<<"/proc/1/ns/net">>]}},
    [?_assertEqual(<<"sysctl write \"kernel.hostname\" failed: {netns, \"blue\"} enters only the "
                     "network namespace, so this key would be written in the host's namespaces; "
                     "use in => {pid, OsPid} for a process's namespaces, or host_keys => true "
                     "to mean it">>, linx_sysctl:format_error({error, E})),
     ?_assertMatch(<<"sysctl write \"kernel.hostname\" failed: {ns, [\"/proc/1/ns/net\"]} enters", _/binary>>,
                   linx_sysctl:format_error(Ns))].

too_large_test_() ->
    E = write_error(too_large, #{stage => badarg}),
    Line = linx_sysctl:format_error(E),
    [?_assertMatch({_, _}, binary:match(Line, <<"too large">>)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({badarg, too_large}), <<"16 MiB">>)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({decode, too_large}), <<"too large">>)),
     ?_assertMatch({_, _}, binary:match(linx_netlink:format_error(#{op => netlink_call, stage => badarg,
                                                           errno => too_large, code => 0,
                                                           protocol => route, in => self}),
                                        <<"too large">>))].

adopt_emfile_text_test() ->
    Line = linx_netlink:format_error(#{op => netlink_open, stage => adopt, errno => emfile, code => 24,
                               protocol => route, in => self}),
    ?assertEqual(<<"netlink open route failed: adopt emfile (errno 24): this node had no "
                   "descriptor free to take the socket">>, Line).

one_line_test_() ->
    linx_eunit_lib:one_line_tests(
      linx_sysctl, [{bad_settings, foo}, {bad_option, {timeout, 0}},
                    write_error(partial, #{written => 1, total => 2}),
                    write_error(not_in_target, #{in => {pid, 42}}),
                    {bad_timeout, 1 bsl 33}]).
