%% @doc 100,000 random and damaged frames written straight to a live
%% `linx_port' program, with valid requests between them: the program
%% never exits, answers every frame exactly once (under the frame's own id
%% when it has a readable one, under id 0 otherwise), and answers the valid
%% requests correctly.
%%
%% Which id a frame is answered under is predicted by
%% `linx_fuzz_model:port_view/1',
%% a model of the program's ETF check and request decoding written on the
%% bytes (no atoms are created). The frames come from `rand' with a seed
%% that is logged; `LINX_FUZZ_SEED=A,B,C' replays a run and
%% `LINX_FUZZ_FRAMES=N' changes the count.
-module(linx_fuzz_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1]).
-export([random_and_damaged_frames/1, model_agrees_on_known_frames/1]).

%% Frames in flight at once: enough to keep the program busy, few enough
%% that a frame nobody answers is noticed quickly.
-define(WINDOW, 256).
-define(FRAMES, 100000).
%% Every VALID_EVERY-th frame is a valid request whose answer is checked.
-define(VALID_EVERY, 100).
-define(REPLY_TIMEOUT, 10000).
-define(MAX_DEPTH, linx_fuzz_model:max_depth()).

suite() ->
    [{timetrap, {minutes, 5}}].

all() ->
    [model_agrees_on_known_frames, random_and_damaged_frames].

init_per_suite(Config) ->
    case application:load(linx) of
        ok -> ok;
        {error, {already_loaded, linx}} -> ok
    end,
    %% The atoms the program's replies use must exist for them to decode
    %% with [safe], as linx_port makes sure when it starts.
    ok = linx_wire:ensure_atoms(),
    Netns = linx_ct_ns:unique("linx-fuzz"),
    case linx_ct_ns:netns_add(Netns) of
        ok -> [{netns, list_to_binary(Netns)} | Config];
        {skip, _} = Skip -> Skip
    end.

end_per_suite(Config) ->
    linx_ct_ns:netns_del(binary_to_list(?config(netns, Config))).

%% ---------------------------------------------------------------- cases

%% The model predicts the right id for frames whose fate is known.
model_agrees_on_known_frames(_Config) ->
    P = open(),
    Known = [{{id, 7}, term_to_binary({7, version})},
             {{id, 1 bsl 63}, term_to_binary({1 bsl 63, stats})},
             {{id, (1 bsl 64) - 1}, term_to_binary({(1 bsl 64) - 1, nonsense})},
             {anon, term_to_binary({0, version})},
             {anon, term_to_binary({-1, version})},
             {anon, term_to_binary({1 bsl 64, version})},
             {anon, term_to_binary({8, self()})},
             {anon, term_to_binary({9, lists:duplicate(100, version)}, [compressed])},
             {anon, term_to_binary({10, {ping, nest(?MAX_DEPTH, 1)}})},
             {{id, 11}, term_to_binary({11, {ping, nest(?MAX_DEPTH - 2, 1)}})},
             {anon, <<(term_to_binary({12, version}))/binary, 0>>},
             {anon, <<131, 104, 2, 97, 13, 77, 0, 0, 0, 1, 0, 255>>},
             {{id, 14}, <<131, 104, 2, 97, 14, 77, 0, 0, 0, 1, 3, 5>>},
             {anon, <<131, 104, 2, 97, 15, 118, 0, 1, 255>>},
             {anon, <<131, 104, 2, 97, 16, 70, 127, 240, 0, 0, 0, 0, 0, 0>>},
             {anon, <<131, 104, 2, 110, 1, 2, 17, 100, 0, 1, $a>>},
             {{id, 18}, <<131, 104, 2, 110, 1, 0, 18, 100, 0, 1, $a>>},
             {anon, <<131, 104, 2, 97, 19, 108, 255, 255, 255, 255, 106>>},
             {anon, <<>>}],
    [begin
         Predicted = linx_fuzz_model:port_view(Bin),
         Predicted =:= Want orelse ct:fail({model_says, Predicted, Want, Bin}),
         port_command(P, Bin),
         {Got, _} = recv(P),
         Got =:= Want orelse ct:fail({answered_under, Got, Want, Bin})
     end || {Want, Bin} <- Known],
    true = port_close(P).

%% 100,000 frames, ?WINDOW in flight, every ?VALID_EVERY-th one valid.
random_and_damaged_frames(Config) ->
    Seed = seed(),
    N = case os:getenv("LINX_FUZZ_FRAMES") of
            false -> ?FRAMES;
            S -> list_to_integer(S)
        end,
    ct:pal("frames: ~b, seed: ~w (replay with LINX_FUZZ_SEED=~s)",
           [N, Seed, lists:join(",", [integer_to_list(I) || I <- Seed])]),
    _ = rand:seed(exsss, list_to_tuple(Seed)),
    Netns = ?config(netns, Config),
    {ok, Ostype} = file:read_file("/proc/sys/kernel/ostype"),
    Host = host_values(),
    P = open(),
    T0 = erlang:monotonic_time(millisecond),
    St0 = #{port => P, netns => Netns, ostype => Ostype, n => N, sent => 0,
            inflight => 0, expect => #{}, anon => 0,
            by_id => 0, by_zero => 0, logs => 0, checked => 0,
            kinds => #{}},
    St = run(St0),
    Ms = max(1, erlang:monotonic_time(millisecond) - T0),
    #{by_id := ById, by_zero := ByZero, checked := Checked, kinds := Kinds,
      logs := Logs} = St,
    ct:pal("~b frames in ~b ms (~b/s): ~b answered under their id, ~b under id 0, "
           "~b answers checked, ~b log frames; kinds: ~w",
           [N, Ms, N * 1000 div Ms, ById, ByZero, Checked, Logs, Kinds]),
    N = ById + ByZero,
    %% The writes among the frames went to the suite's netns only.
    Host = host_values(),
    %% Still alive and serving.
    port_command(P, term_to_binary({42, {sysctl_read, <<"kernel/ostype">>, self}})),
    {{id, 42}, {42, {ok, Ostype}}} = recv(P),
    receive {P, {exit_status, Status}} -> ct:fail({port_exited, Status})
    after 100 -> ok
    end,
    true = port_close(P).

%% The host's values of the keys the frames write in the suite's netns.
host_values() ->
    [file:read_file("/proc/sys/" ++ K) || K <- ["net/core/somaxconn", "net/ipv4/ip_default_ttl"]].

seed() ->
    case os:getenv("LINX_FUZZ_SEED") of
        false ->
            <<A:32, B:32, C:32>> = crypto:strong_rand_bytes(12),
            [A, B, C];
        S ->
            [list_to_integer(I) || I <- string:lexemes(S, ",")]
    end.

%% ---------------------------------------------------------------- driver

run(#{sent := N, n := N, inflight := 0} = St) ->
    finish(St);
run(#{sent := Sent, n := N, inflight := In} = St) when Sent < N, In < ?WINDOW ->
    run(send(St));
run(St) ->
    run(receive_one(St)).

finish(#{expect := Expect, anon := Anon} = St) ->
    %% Every frame was answered once: nothing is left expected.
    case {maps:size(Expect), Anon} of
        {0, 0} -> St;
        _ -> ct:fail({unanswered, #{anon_left => Anon, expected_ids => Expect}})
    end.

send(#{port := P, sent := Sent, kinds := Kinds} = St) ->
    I = Sent + 1,
    %% Random and sparse: a damaged id must not become the id of another
    %% frame in flight (ids in sequence are one bit flip apart).
    Id = (1 bsl 40) + rand:uniform(1 bsl 62),
    {Kind, Bin, Check} = frame(I, Id, St),
    View = linx_fuzz_model:port_view(Bin),
    port_command(P, Bin),
    St1 = St#{sent := I, inflight := maps:get(inflight, St) + 1,
              kinds := maps:update_with(Kind, fun(C) -> C + 1 end, 1, Kinds)},
    case View of
        anon ->
            Check =:= any orelse ct:fail({checked_frame_has_no_id, Kind, Bin}),
            St1#{anon := maps:get(anon, St) + 1};
        {id, FrameId} ->
            Entry = {Check, Kind, Bin},
            St1#{expect := maps:update_with(FrameId, fun(L) -> [Entry | L] end,
                                            [Entry], maps:get(expect, St))}
    end.

receive_one(#{port := P} = St) ->
    receive
        {P, {data, Reply}} ->
            answer(Reply, St);
        {P, {exit_status, S}} ->
            ct:fail({port_exited, S, maps:with([sent, inflight], St)})
    after ?REPLY_TIMEOUT ->
        ct:fail({no_reply, maps:with([sent, inflight, anon, expect], St)})
    end.

answer(Reply, #{expect := Expect, inflight := In} = St) ->
    well_formed(Reply),
    case linx_fuzz_model:reply_view(Reply) of
        anon ->
            case catch binary_to_term(Reply, [safe]) of
                {0, {log, _, _}} ->
                    St#{logs := maps:get(logs, St) + 1};
                _ ->
                    maps:get(anon, St) > 0 orelse
                        ct:fail({more_id0_answers_than_predicted, Reply,
                                 maps:with([sent, expect], St)}),
                    St#{anon := maps:get(anon, St) - 1, inflight := In - 1,
                        by_zero := maps:get(by_zero, St) + 1}
            end;
        {id, Id} ->
            case maps:get(Id, Expect, []) of
                [] ->
                    ct:fail({answer_for_unknown_id, Id, Reply});
                [{Check, Kind, Bin} | Rest] ->
                    check(Check, Kind, Bin, Reply),
                    Expect1 = case Rest of
                                  [] -> maps:remove(Id, Expect);
                                  _ -> Expect#{Id := Rest}
                              end,
                    Checked = maps:get(checked, St) + case Check of any -> 0; _ -> 1 end,
                    St#{expect := Expect1, inflight := In - 1, checked := Checked,
                        by_id := maps:get(by_id, St) + 1}
            end
    end.

check(any, _Kind, _Bin, _Reply) ->
    ok;
check(Check, Kind, Bin, Reply) ->
    {_, Result} = binary_to_term(Reply, [safe]),
    case {Check, Result} of
        {{ok, Want}, {ok, Got}} when Want == Got -> ok;
        {error, {error, {_, _}}} -> ok;
        _ -> ct:fail({wrong_answer, Kind, Check, Result, binary_to_term(Bin)})
    end.

%% A reply is one term `{Id, Result}': readable with [safe], or (when it
%% echoes atoms this node does not know) at least a well-formed encoding.
well_formed(Reply) ->
    try binary_to_term(Reply, [safe]) of
        {_, _} -> ok
    catch error:badarg ->
        <<131, T/binary>> = Reply,
        <<>> = linx_fuzz_model:skip_term(T)
    end.

%% ---------------------------------------------------------------- frames

%% {Kind, Bytes, Check}: Check is `any', `error' (the answer must be an
%% error) or `{ok, Result}' (the answer must be `{ok, Result}').
frame(I, Id, #{ostype := Ostype}) when I rem ?VALID_EVERY =:= 0 ->
    case (I div ?VALID_EVERY) rem 2 of
        0 -> {valid, term_to_binary({Id, version}), {ok, version()}};
        1 -> {valid, term_to_binary({Id, {sysctl_read, <<"kernel/ostype">>, self}}), {ok, Ostype}}
    end;
frame(_I, Id, St) ->
    case rand:uniform(100) of
        R when R =< 15 -> {random, random_bytes(), any};
        R when R =< 40 -> {flipped, flip(template_bin(Id, St)), any};
        R when R =< 50 -> {truncated, truncate(template_bin(Id, St)), any};
        R when R =< 58 -> {extended, extend(template_bin(Id, St)), any};
        R when R =< 78 -> wrong_types(Id, St);
        R when R =< 86 -> deep(Id);
        R when R =< 92 -> {lying_length, lying_length(Id), any};
        R when R =< 96 -> {foreign_term, foreign(Id), any};
        _ -> ping(Id)
    end.

version() ->
    %% Every program built from this tree reports the same version; it is
    %% learnt from the ready frame (see open/0).
    persistent_term:get({?MODULE, version}).

random_bytes() ->
    Bytes = crypto:strong_rand_bytes(rand:uniform(80) - 1),
    case {rand:uniform(2), Bytes} of
        {1, <<_, Rest/binary>>} -> <<131, Rest/binary>>;
        _ -> Bytes
    end.

template_bin(Id, St) ->
    term_to_binary({Id, pick(templates(St))}).

%% Valid requests. Writes only ever go to the suite's own netns, named as
%% `{netns, Name}', which no damage to the bytes turns into the host.
templates(#{netns := Ns}) ->
    Path = <<"/run/netns/", Ns/binary>>,
    [version,
     stats,
     {ping, <<"ping">>},
     {ping, {a, [1, 2.5], #{k => <<"v">>}, -7, 1 bsl 70}},
     {sysctl_read, <<"kernel/ostype">>, self},
     {sysctl_read, <<"net/ipv4/ip_forward">>, {netns, Ns}},
     {sysctl_read, <<"net/core/somaxconn">>, {ns, [Path]}},
     {sysctl_read, <<"kernel/hostname">>, {pid, 1}},
     {sysctl_read, <<"kernel/no_such_key">>, self},
     {sysctl_list, <<"net/ipv4/conf/lo">>, {netns, Ns}},
     {sysctl_list, <<"kernel/random">>, self},
     {sysctl_write, <<"net/core/somaxconn">>, <<"4096">>, {netns, Ns}},
     {sysctl_write, <<"net/ipv4/ip_default_ttl">>, <<"65">>, {netns, Ns}},
     {netlink_open, 0, 0, self},
     {socket_open, 2, 2, 0, {netns, Ns}},
     {batch, {netns, Ns}, [{sysctl_read, <<"net/core/somaxconn">>},
                           {sysctl_write, <<"net/core/somaxconn">>, <<"4097">>},
                           {sysctl_list, <<"net/unix">>}]},
     {batch, self, [{sysctl_read, <<"kernel/ostype">>}]},
     {sysctl_apply, {netns, Ns}, [{<<"net/core/somaxconn">>, <<"4098">>}]}].

%% Change 1 to 4 bytes after the version byte.
flip(Bin) ->
    lists:foldl(fun(_, B) ->
                        Pos = rand:uniform(byte_size(B) - 1),
                        <<H:Pos/binary, Old, T/binary>> = B,
                        New = case rand:uniform(2) of
                                  1 -> Old bxor (1 bsl (rand:uniform(8) - 1));
                                  2 -> rand:uniform(256) - 1
                              end,
                        <<H/binary, New, T/binary>>
                end, Bin, lists:seq(1, rand:uniform(4))).

truncate(Bin) ->
    binary:part(Bin, 0, rand:uniform(byte_size(Bin)) - 1).

extend(Bin) ->
    <<Bin/binary, (crypto:strong_rand_bytes(rand:uniform(8)))/binary>>.

%% Ops of the right shape with at least one field of a wrong type or out
%% of range: each must be answered under its id with an error.
wrong_types(Id, #{netns := Ns}) ->
    Target = {netns, Ns},
    Fields =
        case rand:uniform(8) of
            1 -> [sysctl_read, {path, <<"kernel/ostype">>}, {target, self}];
            2 -> [sysctl_write, {path, <<"net/core/somaxconn">>}, {value, <<"4096">>}, {target, Target}];
            3 -> [sysctl_list, {path, <<"kernel/random">>}, {target, self}];
            4 -> [netlink_open, {int, 0, 0, 31}, {int, 0, 0, (1 bsl 32) - 1}, {target, self}];
            5 -> [socket_open, {int, 2, 0, 63}, {int, 2, 0, 15}, {int, 0, 0, 65535}, {target, Target}];
            6 -> [batch, {target, Target}, {steps, [{sysctl_read, <<"net/core/somaxconn">>}]}];
            7 -> [batch, {target, self}, {steps, [{sysctl_read, <<"kernel/ostype">>}]}];
            8 -> [sysctl_apply, {target, Target}, {steps, [{<<"net/core/somaxconn">>, <<"4099">>}]}]
        end,
    [Tag | Specs] = Fields,
    Bad = rand:uniform(length(Specs)),
    Args = [case K of
                Bad -> wrong(Spec);
                _ -> right(Spec)
            end || {K, Spec} <- lists:zip(lists:seq(1, length(Specs)), Specs)],
    {wrong_type, term_to_binary({Id, list_to_tuple([Tag | Args])}), error}.

right({int, V, _, _}) -> V;
right({_, V}) -> V.

wrong({path, _}) -> pick(["kernel/ostype", kernel, 42, {<<"a">>}, [<<"a">>], 1.5, #{}]);
wrong({value, _}) -> pick(["4096", 4096, [<<"1">>], '4096', {}, -1.0]);
wrong({target, _}) ->
    pick([other, {pid, 0}, {pid, -5}, {pid, <<"1">>}, {pid, 1 bsl 40}, {netns, blue},
          {netns, <<255, 254>>}, {netns, "blue"}, {ns, <<"/proc/1/ns/net">>}, {ns, [1]},
          {ns, [<<"a">> | <<"b">>]}, {self}, [self], {pid, 1, 2}, {netns}]);
wrong({int, _, Min, Max}) ->
    pick([Min - 1, Max + 1, 1 bsl 70, -(1 bsl 70), 1.0, atom, <<"1">>, [1]]);
wrong({steps, _}) ->
    pick([not_a_list, [{sysctl_frob, <<"a">>}], [{sysctl_read}], [{sysctl_read, "a"}],
          [{sysctl_write, <<"a">>, 1}], [x], [{<<"a">>}], [{<<"a">>, 1}], <<"steps">>,
          [{sysctl_read, <<"a">>} | improper]]).

%% Nested lists, tuples and maps around a ping payload, 1 to 100 deep:
%% up to the depth limit it is echoed, beyond it the frame is refused.
deep(Id) ->
    D = rand:uniform(100),
    Term = nest(D, rand:uniform(3)),
    Bin = term_to_binary({Id, {ping, Term}}),
    case linx_fuzz_model:port_view(Bin) of
        {id, _} -> {deep, Bin, {ok, Term}};
        anon -> {too_deep, Bin, any}
    end.

nest(0, _) -> leaf;
nest(D, 1) -> [nest(D - 1, 2)];
nest(D, 2) -> {nest(D - 1, 3), x};
nest(D, 3) -> #{k => nest(D - 1, 1)}.

%% Length fields inside the term that promise far more than follows.
lying_length(Id) ->
    IdBin = binary:part(term_to_binary(Id), 1, byte_size(term_to_binary(Id)) - 1),
    Big = case rand:uniform(3) of
              1 -> 16#FFFFFFFF;
              2 -> 16#7FFFFFFF;
              3 -> 100 + rand:uniform(1 bsl 20)
          end,
    Small = 100 + rand:uniform(65000),
    Lie = pick([<<109, Big:32, "abc">>,
                <<108, Big:32, 106>>,
                <<116, Big:32, 97, 1, 97, 2>>,
                <<104, 3, 100, 0, 11, "sysctl_read", 109, Big:32, "kernel/ostype", 100, 0, 4, "self">>,
                <<107, Small:16, "ab">>,
                <<118, Small:16, "v">>,
                <<100, Small:16, "v">>,
                <<111, Big:32, 0, 1>>,
                <<110, 255, 0, 1, 2>>,
                <<77, Big:32, 1, 255>>,
                <<105, Big:32, 97, 1>>]),
    case rand:uniform(4) of
        1 -> <<131, 105, Big:32, IdBin/binary, Lie/binary>>;
        _ -> <<131, 104, 2, IdBin/binary, Lie/binary>>
    end.

%% Terms the program refuses as a whole: pids, references, funs,
%% compressed encodings, floats in the old text format.
foreign(Id) ->
    pick([term_to_binary({Id, {ping, self()}}),
          term_to_binary({Id, {ping, make_ref()}}),
          term_to_binary({Id, {ping, fun() -> ok end}}),
          term_to_binary({Id, {ping, fun erlang:self/0}}),
          term_to_binary({Id, {ping, lists:seq(1, 300)}}, [compressed]),
          term_to_binary({Id, {ping, 1.5}}, [{minor_version, 0}]),
          term_to_binary({Id, {ping, hd(erlang:ports())}})]).

%% A random ping payload, echoed as it was sent (as far as `==' sees).
ping(Id) ->
    Term = random_term(3),
    Bin = term_to_binary({Id, {ping, Term}}),
    case linx_fuzz_model:port_view(Bin) of
        {id, _} -> {ping, Bin, {ok, Term}};
        anon -> {ping_refused, Bin, any}
    end.

random_term(0) ->
    random_leaf();
random_term(D) ->
    case rand:uniform(6) of
        1 -> [random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        2 -> list_to_tuple([random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        3 -> maps:from_list([{random_leaf(), random_term(D - 1)} || _ <- lists:seq(1, rand:uniform(3) - 1)]);
        _ -> random_leaf()
    end.

%% Negative numbers stay out of lists: see the note in proptest_codec.rs
%% (eetf writes a list of small integers as a string without checking their
%% sign), hence the tuple around them.
random_leaf() ->
    case rand:uniform(9) of
        1 -> rand:uniform(256) - 1;
        2 -> {rand:uniform(1 bsl 40) - (1 bsl 39)};
        3 -> {(rand:uniform(1 bsl 127) - (1 bsl 126))};
        4 -> rand:uniform() * 1.0e10 - 5.0e9;
        5 -> crypto:strong_rand_bytes(rand:uniform(20) - 1);
        6 -> pick([ok, error, self, 'hello world', 'ünïcödé', '']);
        7 -> lists:seq(0, rand:uniform(5));
        8 -> <<(crypto:strong_rand_bytes(1))/binary, 5:3>>;
        9 -> []
    end.

pick(L) ->
    lists:nth(rand:uniform(length(L)), L).

%% ---------------------------------------------------------------- port

binary_path() ->
    filename:join(code:priv_dir(linx), "linx_port").

open() ->
    P = open_port({spawn_executable, binary_path()}, [{packet, 4}, binary, exit_status]),
    receive
        {P, {data, Ready}} ->
            {0, {ready, Version}} = binary_to_term(Ready, [safe]),
            persistent_term:put({?MODULE, version}, Version),
            P;
        {P, {exit_status, S}} ->
            ct:fail({port_exited, S})
    after 5000 ->
        ct:fail(no_ready_frame)
    end.

%% One reply: {Id as the model reads it, the term}.
recv(P) ->
    receive
        {P, {data, Bin}} ->
            case binary_to_term(Bin, [safe]) of
                {0, {log, _, _}} -> recv(P);
                T -> {linx_fuzz_model:reply_view(Bin), T}
            end;
        {P, {exit_status, S}} -> ct:fail({port_exited, S})
    after 5000 -> ct:fail(no_reply)
    end.
