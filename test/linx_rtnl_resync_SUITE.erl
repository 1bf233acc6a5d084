%% @doc Subscriptions a subscriber can trust (linx_rtnl:subscribe/2),
%% against real namespaces: with `list_existing' the objects there are
%% come first, as one `{resync, Objects}', then the changes; when the
%% kernel drops events (5,000 link changes at a subscription whose socket
%% has the smallest receive buffer, which holds two link messages), the
%% subscription dumps again by itself, and a view kept from its messages
%% ends equal to a fresh dump; with `resync => false' the loss is
%% `{error, enobufs}' as before; bad options are refused.
-module(linx_rtnl_resync_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([existing_objects_first/1, resync_after_dropped_events/1, no_resync_when_asked/1,
         bad_options/1]).

%% Bridges of the flood, and changes made to them.
-define(BRIDGES, 50).
-define(CHANGES, 5000).

all() ->
    [existing_objects_first, resync_after_dropped_events, no_resync_when_asked, bad_options].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

% A namespace of its own for each case.
init_per_testcase(_Case, Config) ->
    linx_ct_ns:start_with_netns("linx-resync", Config).

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% The links, IPv4 addresses and rules there are arrive first, as ip
%% shows them; a change made afterwards comes after them.
existing_objects_first(Config) ->
    Ns = ?config(netns, Config),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " ", C])
     || C <- ["link add x0 type bridge", "link add x1 type bridge",
              "addr add 10.61.0.1/24 dev x0", "addr add fd61::1/64 dev x1 nodad",
              "rule add priority 90 table 90"]],
    {ok, Ref} = linx_rtnl:subscribe([link, ipv4_addr, ipv4_rule], (in(Config))#{list_existing => true}),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add x2 type bridge"]),
    {resync, Objects} = next(Ref),
    Links = lists:sort([N || {link, new, #{ifname := N}} <- Objects]),
    Links = lists:sort([N || #{<<"ifname">> := N} <- linx_ct_config:ip_json(Ns, "link show")]) -- [<<"x2">>],
    [<<"lo">>, <<"x0">>, <<"x1">>] = Links,
    [{{10, 61, 0, 1}, 24}] = [{A, L} || {addr, new, #{address := A, prefixlen := L}} <- Objects],
    [] = [F || {addr, new, #{family := F}} <- Objects, F =/= inet],
    [0, 90, 32766, 32767] = lists:sort([P || {rule, new, #{priority := P}} <- Objects]),
    [] = [K || {K, _, _} <- Objects, K =/= link, K =/= addr, K =/= rule],
    {link, new, #{ifname := <<"x2">>}} = next(Ref),
    ok = linx_rtnl:unsubscribe(Ref).

%% 5,000 link changes at a subscription whose socket has the smallest
%% receive buffer: the kernel drops events, the
%% subscription dumps again, and the view kept from what arrives (events
%% applied in order, a resync replacing everything) equals a fresh dump.
resync_after_dropped_events(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    File = filename:join(?config(priv_dir, Config), "bridges.batch"),
    %% Up: the kernel tells a change of a link that is down to no one.
    ok = file:write_file(File, [io_lib:format("link add f~b type bridge~nlink set f~b up~n", [I, I])
                                || I <- lists:seq(1, ?BRIDGES)]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", File]),
    {ok, Ref} = linx_rtnl:subscribe([link], In#{list_existing => true, rcvbuf => 1}),
    {resync, First} = next(Ref),
    View0 = apply_all(First, #{}),
    ok = file:write_file(File, [io_lib:format("link set dev f~b alias a~b~n", [I rem ?BRIDGES + 1, I])
                                || I <- lists:seq(1, ?CHANGES)]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", File]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link set dev f1 alias last"]),
    {View, Resyncs} = linx_ct_events:follow(linx_rtnl, Ref, fun apply_all/2, View0,
                                           fun(V) -> alias_of(<<"f1">>, V) =:= <<"last">> end),
    ct:log("~b resyncs", [Resyncs]),
    true = Resyncs >= 1,
    {ok, Links} = linx_rtnl:links(In),
    Fresh = maps:from_list([{I, maps:with([ifname, alias], L)} || #{index := I} = L <- Links]),
    Fresh = maps:map(fun(_, L) -> maps:with([ifname, alias], L) end, View),
    ok = linx_rtnl:unsubscribe(Ref).

%% With `resync => false' a loss is reported, not repaired.
no_resync_when_asked(Config) ->
    Ns = ?config(netns, Config),
    File = filename:join(?config(priv_dir, Config), "aliases.batch"),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add g0 up type bridge"]),
    {ok, Ref} = linx_rtnl:subscribe([link], (in(Config))#{resync => false, rcvbuf => 1}),
    ok = file:write_file(File, [io_lib:format("link set dev g0 alias a~b~n", [I]) || I <- lists:seq(1, ?CHANGES)]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", File]),
    {error, enobufs} = linx_ct_events:first(linx_rtnl, Ref, fun({error, _}) -> true;
                                                         ({resync, _}) -> true;
                                                         (_) -> false
                                                      end),
    ok = linx_rtnl:unsubscribe(Ref).

%% Options that are not booleans, and unknown ones, are refused.
bad_options(Config) ->
    In = in(Config),
    {error, #{reason := {bad_option, {list_existing, yes}}}} =
        linx_rtnl:subscribe([link], In#{list_existing => yes}),
    {error, #{reason := {bad_option, {resync, 1}}}} = linx_rtnl:subscribe([link], In#{resync => 1}),
    {error, #{reason := {bad_option, {colour, red}}}} = linx_rtnl:subscribe([link], In#{colour => red}),
    {error, #{reason := {bad_rcvbuf, 0}}} = linx_rtnl:subscribe([link], In#{rcvbuf => 0}).

%%====================================================================
%% A subscriber's view
%%====================================================================

apply_all([{link, new, #{index := I} = L} | Rest], View) -> apply_all(Rest, View#{I => L});
apply_all([{link, del, #{index := I}} | Rest], View) -> apply_all(Rest, maps:remove(I, View));
apply_all([], View) -> View;
apply_all([Other | _], _View) -> ct:fail({unexpected, Other}).

alias_of(Name, View) ->
    case [maps:get(alias, L, none) || L <- maps:values(View), maps:get(ifname, L) =:= Name] of
        [A] -> A;
        [] -> none
    end.

next(Ref) ->
    linx_ct_events:next(linx_rtnl, Ref).
