%% @doc A C-node flooded with connections it refuses (garbage instead of
%% a handshake, a wrong cookie, idle handshakes cut off) logs at most one
%% line a second per kind: the first at once, then how many more came,
%% so that the lines still account for every refused connection.
-module(linx_cnode_flood_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0, init_per_suite/1, end_per_suite/1]).
-export([refused_connections_log_a_line_a_second/1]).

%% Connections of each of the three kinds.
-define(EACH, 100).
%% DFLAG_HANDSHAKE_23: the name message of protocol version 6.
-define(HANDSHAKE_23, 16#1000000).

suite() ->
    [{timetrap, {minutes, 2}}].

all() ->
    [refused_connections_log_a_line_a_second].

init_per_suite(Config) ->
    linx_ct_cnode:setup("linx_fld_cnode", ?config(priv_dir, Config), []) ++ Config.

end_per_suite(Config) ->
    linx_ct_cnode:teardown(Config).

%%====================================================================
%% Cases
%%====================================================================

%% 300 refused connections: 100 that send garbage for a name, 100 that
%% answer the challenge with a wrong cookie's digest, 100 that send
%% nothing (the 17th and later cut off the oldest; the last 16 fail when
%% closed). Each kind logs at most one line a second of the flood (plus
%% the first), and the lines count 300 connections in all; the C-node
%% still answers.
refused_connections_log_a_line_a_second(Config) ->
    C = ?config(cnode, Config),
    Port = linx_ct_cnode:dist_port(C),
    {_, Before} = linx_ct_cnode:state(),
    T0 = erlang:monotonic_time(millisecond),
    [ok = garbage(Port) || _ <- lists:seq(1, ?EACH)],
    [ok = wrong_cookie(Port) || _ <- lists:seq(1, ?EACH)],
    Idle = [connect(Port) || _ <- lists:seq(1, ?EACH)],
    [ok = gen_tcp:close(S) || S <- Idle],
    Seconds = (erlang:monotonic_time(millisecond) - T0) div 1000 + 1,
    Refused = 3 * ?EACH,
    %% The last reports come when their second is over.
    Counted = fun() -> lists:sum([N || {_, N} <- counts(new_lines(Before))]) end,
    ok = linx_ct_ns:wait_until(fun() -> Counted() >= Refused end, 10000),
    Lines = new_lines(Before),
    ct:pal("~b refused connections in ~b s logged as ~b lines:~n~ts",
           [Refused, Seconds, length(Lines), lists:join("\n", Lines)]),
    Refused = Counted(),
    PerKind = count([K || {K, _} <- counts(Lines)]),
    [] = [{K, N} || {K, N} <- maps:to_list(PerKind), N > Seconds + 1],
    [] = maps:keys(PerKind) -- [failed, wrong_cookie, cut_off],
    %% Each of the first two phases gave its own kind.
    #{failed := _, wrong_cookie := _} = PerKind,
    {ok, _} = gen_server:call({linx, C}, version).

%%====================================================================
%% Helpers
%%====================================================================

connect(Port) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {packet, 2}, {active, false}]),
    S.

%% Something that is no name message: the C-node closes the connection.
garbage(Port) ->
    S = connect(Port),
    ok = gen_tcp:send(S, <<"GET / HTTP/1.0">>),
    closed(S).

%% A version 6 handshake whose challenge reply is a digest of another
%% cookie: the C-node closes the connection.
wrong_cookie(Port) ->
    S = connect(Port),
    Name = <<"flood@localhost">>,
    ok = gen_tcp:send(S, <<$N, ?HANDSHAKE_23:64, 1:32, (byte_size(Name)):16, Name/binary>>),
    {ok, <<$s, "ok">>} = gen_tcp:recv(S, 0, 5000),
    {ok, <<$N, _Flags:64, Challenge:32, _/binary>>} = gen_tcp:recv(S, 0, 5000),
    Digest = erlang:md5(["not-the-cookie", integer_to_list(Challenge)]),
    ok = gen_tcp:send(S, <<$r, 0:32, Digest/binary>>),
    closed(S).

closed(S) ->
    {error, _} = gen_tcp:recv(S, 0, 5000),
    gen_tcp:close(S).

%% The C-node's lines logged after `Before'.
new_lines(Before) ->
    {_, Log} = linx_ct_cnode:state(),
    lists:nthtail(length(Before), Log).

%% Each line of a refused connection as `{Kind, Connections}': a first
%% line stands for one, a report for the count it gives.
counts(Lines) ->
    [Count || L <- Lines, {Kind, _} = Count <- [count_line(L)], Kind =/= other].

count_line(Line) ->
    Report = "^linx_port: (.*): ([0-9]+) more like this in the last",
    case re:run(Line, Report, [{capture, all_but_first, binary}]) of
        {match, [What, N]} -> {report_kind(What), binary_to_integer(N)};
        nomatch -> {line_kind(Line), 1}
    end.

report_kind(<<"handshakes failed">>) -> failed;
report_kind(<<"connections refused: wrong cookie">>) -> wrong_cookie;
report_kind(<<"handshakes cut off: too many in progress">>) -> cut_off;
report_kind(What) -> {other, What}.

line_kind(Line) ->
    Kinds = [{"^linx_port: handshake with .* failed", failed},
             {"^linx_port: connection from .* refused: wrong cookie$", wrong_cookie},
             {"^linx_port: handshake from .* cut off: too many in progress$", cut_off}],
    case [K || {Re, K} <- Kinds, re:run(Line, Re) =/= nomatch] of
        [Kind] -> Kind;
        [] -> other
    end.

count(Kinds) ->
    lists:foldl(fun(K, Acc) -> maps:update_with(K, fun(N) -> N + 1 end, 1, Acc) end, #{}, Kinds).
