%% Unit tests for linx_error: the stages, errno numbers, replies turned
%% into errors, and the shared texts.
-module(linx_error_tests).

-include_lib("eunit/include/eunit.hrl").

%% The stages of src/error.rs, in its order.
stages_test_() ->
    Rust = [read, write, list, open_ns, unshare, setns, thread, open, socket,
            bind, setsockopt, send_fd, decode, badarg, busy, panic, policy,
            send, recv, create, mount, umount, unlink, loopback, ifindex],
    [?_assertEqual(Rust, linx_error:stages()),
     ?_assert(lists:all(fun linx_error:is_stage/1, Rust)),
     ?_assertNot(linx_error:is_stage(adopt)),
     ?_assertNot(linx_error:is_stage("read"))].

errnos_test_() ->
    Errnos = linx_error:errnos(),
    %% 1 to 133, but for 41 and 58, which Linux leaves unused.
    [?_assertEqual(lists:seq(1, 133) -- [41, 58], lists:usort([linx_error:errno_code(E) || E <- Errnos])),
     ?_assert(lists:all(fun(E) -> linx_error:errno_code(E) > 0 end, Errnos)),
     ?_assertEqual(13, linx_error:errno_code(eacces)),
     ?_assertEqual(0, linx_error:errno_code(<<"eacces">>))].

reply_test_() ->
    Context = #{op => read, key => <<"k">>},
    [?_assertEqual({error, timeout}, linx_error:reply({error, timeout}, Context)),
     ?_assertEqual({error, not_running}, linx_error:reply({error, not_running}, Context)),
     ?_assertEqual({error, {port_exited, 137}}, linx_error:reply({error, {port_exited, 137}}, Context)),
     ?_assertEqual({error, {nodedown, n@h}}, linx_error:reply({error, {nodedown, n@h}}, Context)),
     ?_assertEqual({error, Context#{stage => read, errno => eacces, code => 13}},
                   linx_error:reply({error, {read, eacces}}, Context)),
     ?_assertEqual({error, Context#{stage => panic, errno => <<"boom">>, code => 0}},
                   linx_error:reply({error, {panic, <<"boom">>}}, Context)),
     ?_assertEqual({error, Context#{stage => policy, errno => path, code => 0}},
                   linx_error:reply({error, {policy, path}}, Context)),
     ?_assertEqual({error, {unexpected_reply, {ok, 1}}}, linx_error:reply({ok, 1}, Context)),
     ?_assertEqual({error, {unexpected_reply, {error, {read, 1}}}},
                   linx_error:reply({error, {read, 1}}, Context))].

%% Every stage renders as a stage error, policy included.
stage_text_test_() ->
    [?_assertEqual(<<"policy failed: path">>, linx:format_error({policy, path})),
     ?_assertEqual(<<"send failed: epipe (errno 32)">>, linx:format_error({error, {send, epipe}})),
     ?_assertEqual(<<"recv failed: etimedout (errno 110)">>, linx_error:format_error({recv, etimedout})),
     ?_assertEqual(<<"{adopt,einval}">>, linx:format_error({adopt, einval}))].

%% The errors of a stalled program or helper: passed through as they are
%% (a hung port) or as maps (a helper's), and each rendered as a sentence.
stall_test_() ->
    Context = #{op => read, key => <<"k">>},
    [?_assertEqual({error, {port_hung, 3012}}, linx_error:reply({error, {port_hung, 3012}}, Context)),
     ?_assertEqual({error, Context#{stage => busy, errno => helper, code => 0}},
                   linx_error:reply({error, {busy, helper}}, Context)),
     ?_assertEqual({error, Context#{stage => thread, errno => hung, code => 0}},
                   linx_error:reply({error, {thread, hung}}, Context)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({error, {port_hung, 3012}}),
                                        <<"answered nothing for 3012 ms">>)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({busy, port}), <<"not sent">>)),
     ?_assertEqual({error, Context#{stage => busy, errno => dist, code => 0}},
                   linx_error:reply({error, {busy, dist}}, Context)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({busy, dist}), <<"C-node did not take">>)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({busy, helper}), <<"queue is full">>)),
     ?_assertMatch({_, _}, binary:match(linx:format_error({thread, hung}), <<"was killed">>))].
