#!/usr/bin/env escript
%% Writes the seed corpus of the `wire' fuzz target: requests of every op
%% and target as the Erlang side encodes them (term_to_binary/1), wrong
%% shapes, truncated and mutated encodings, and a few framed streams.
%% Deterministic: run it again and the same files come out.
%%
%% Usage: escript fuzz/make_corpus.escript fuzz/corpus/wire
-mode(compile).

main([Dir]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    rand:seed(exsss, {1, 2, 3}),
    Valid = valid(),
    Files =
        [{"op-" ++ Name, term_to_binary(T)} || {Name, T} <- Valid] ++
        [{"bad-" ++ Name, term_to_binary(T)} || {Name, T} <- wrong()] ++
        [{"trunc-" ++ Name, truncate(term_to_binary(T))} || {Name, T} <- pick(Valid, 6)] ++
        [{"flip-" ++ Name, flip(term_to_binary(T))} || {Name, T} <- pick(Valid, 6)] ++
        [{"long-" ++ Name, Bin} || {Name, Bin} <- lying_lengths()] ++
        [{"frames-" ++ Name, frames(Ts)} || {Name, Ts} <- streams(Valid)] ++
        [{"dist-" ++ Name, Bin} || {Name, Bin} <- dist()],
    [ok = file:write_file(filename:join(Dir, Name), Bin) || {Name, Bin} <- Files],
    io:format("~b files in ~s~n", [length(Files), Dir]);
main(_) ->
    io:format(standard_error, "usage: make_corpus.escript DIR~n", []),
    halt(2).

targets() ->
    [{"self", self},
     {"netns", {netns, <<"blue">>}},
     {"pid", {pid, 1}},
     {"ns", {ns, [<<"/proc/1/ns/net">>, <<"/run/netns/blue">>]}},
     {"ns0", {ns, []}}].

valid() ->
    [{"read-" ++ N, {1, {sysctl_read, <<"net/ipv4/ip_forward">>, T}}} || {N, T} <- targets()] ++
    [{"write-" ++ N, {2, {sysctl_write, <<"net/core/somaxconn">>, <<"4096">>, T}}} || {N, T} <- targets()] ++
    [{"list-self", {3, {sysctl_list, <<"net/ipv4/conf/br.100">>, self}}},
     {"list-root", {4, {sysctl_list, <<>>, {netns, <<"blue">>}}}},
     {"netlink", {5, {netlink_open, 16, 16#ffffffff, {netns, <<"blue">>}}}},
     {"socket", {6, {socket_open, 17, 3, 768, {pid, 4242}}}},
     {"batch", {7, {batch, {netns, <<"blue">>},
                    [{sysctl_read, <<"kernel/ostype">>},
                     {sysctl_write, <<"net/core/somaxconn">>, <<"1 2">>},
                     {sysctl_list, <<"net/ipv4/conf">>}]}}},
     {"batch-empty", {8, {batch, self, []}}},
     {"version", {9, version}},
     {"stats", {10, stats}},
     {"ping", {11, {ping, {a, [1, 2.5, <<"x">>, "str", #{k => v}], -7, 1 bsl 70}}}},
     {"id-max", {18446744073709551615, version}},
     {"id-big", {1 bsl 40, {sysctl_read, <<"kernel/ostype">>, self}}},
     {"id-zero", {0, version}}].

wrong() ->
    [{"id-neg", {-1, version}},
     {"id-huge", {1 bsl 64, version}},
     {"id-atom", {one, version}},
     {"triple", {1, version, extra}},
     {"op-unknown", {1, launch}},
     {"arity", {1, {sysctl_read, <<"a">>}}},
     {"path-list", {1, {sysctl_read, "kernel/ostype", self}}},
     {"path-dotdot", {1, {sysctl_read, <<"net/../../etc/passwd">>, self}}},
     {"path-abs", {1, {sysctl_list, <<"/etc">>, self}}},
     {"path-nul", {1, {sysctl_read, <<"kernel/ostype", 0, "x">>, self}}},
     {"value-int", {1, {sysctl_write, <<"a">>, 1, self}}},
     {"target-pid0", {1, {sysctl_read, <<"a">>, {pid, 0}}}},
     {"target-netns-slash", {1, {sysctl_read, <<"a">>, {netns, <<"../x">>}}}},
     {"target-netns-latin1", {1, {sysctl_read, <<"a">>, {netns, <<255, 254>>}}}},
     {"target-ns-int", {1, {sysctl_read, <<"a">>, {ns, [1]}}}},
     {"netlink-proto", {1, {netlink_open, 32, 0, self}}},
     {"socket-type", {1, {socket_open, 2, 2050, 0, self}}},
     {"batch-step", {1, {batch, self, [{sysctl_frob, <<"a">>}]}}},
     {"deep", {1, {ping, lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 70))}}},
     {"pid", {1, {ping, list_to_pid("<0.1.0>")}}},
     {"float", {1, 1.5}}].

%% Length fields that promise more than the frame holds.
lying_lengths() ->
    [{"binary", <<131, 104, 2, 97, 1, 104, 3, 100, 0, 11, "sysctl_read", 109, 255, 255, 255, 255, "kernel">>},
     {"list", <<131, 104, 2, 97, 1, 108, 255, 255, 255, 255, 106>>},
     {"tuple", <<131, 105, 255, 255, 255, 255, 97, 1>>},
     {"map", <<131, 104, 2, 97, 1, 116, 127, 255, 255, 255>>},
     {"string", <<131, 104, 2, 97, 1, 107, 255, 255, 1, 2>>},
     {"atom", <<131, 104, 2, 97, 1, 118, 255, 255, $v>>},
     {"bigint", <<131, 104, 2, 111, 255, 255, 255, 255, 0, 1>>},
     {"bits", <<131, 104, 2, 97, 1, 77, 0, 0, 0, 1, 0, 255>>}].

%% Bodies of distribution messages (after the pass-through byte), as the
%% C-node receives them: a control term and a message.
dist() ->
    Pid = list_to_pid("<0.42.0>"),
    Ref = list_to_ref("#Ref<0.1.2.3>"),
    Call = fun(Op) -> {'$gen_call', {Pid, Ref}, Op} end,
    [{"reg-send", <<(term_to_binary({6, Pid, '', linx}))/binary,
                    (term_to_binary(Call({sysctl_read, <<"kernel/ostype">>, self})))/binary>>},
     {"reg-send-batch", <<(term_to_binary({6, Pid, '', linx}))/binary,
                          (term_to_binary(Call({batch, self, [{sysctl_read, <<"a">>}]})))/binary>>},
     {"reg-send-net-kernel", <<(term_to_binary({6, Pid, '', net_kernel}))/binary,
                               (term_to_binary({'$gen_call', {Pid, Ref}, {is_auth, node()}}))/binary>>},
     {"send", <<(term_to_binary({2, '', Pid}))/binary, (term_to_binary({Pid, Ref, version}))/binary>>},
     {"link", term_to_binary({1, Pid, Pid})},
     {"monitor", term_to_binary({19, Pid, linx, Ref})}].

streams(Valid) ->
    [{"three", [T || {_, T} <- pick(Valid, 3)]},
     {"all", [T || {_, T} <- Valid]}].

frames(Terms) ->
    << <<(byte_size(B)):32, B/binary>> || T <- Terms, B <- [term_to_binary(T)] >>.

pick(List, N) ->
    [lists:nth(rand:uniform(length(List)), List) || _ <- lists:seq(1, N)].

truncate(Bin) ->
    binary:part(Bin, 0, rand:uniform(byte_size(Bin) - 1)).

flip(Bin) ->
    Pos = rand:uniform(byte_size(Bin) - 1),
    <<Head:Pos/binary, _, Tail/binary>> = Bin,
    <<Head/binary, (rand:uniform(256) - 1), Tail/binary>>.
