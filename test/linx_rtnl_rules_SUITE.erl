%% @doc Policy routing rules (linx_rtnl:rules/1, rule_add/2, rule_del/2)
%% against real namespaces, with `ip -j rule show' as the oracle, both
%% ways: what linx adds ip reads with the same values, and what ip adds
%% linx decodes with the same values, for every field and action; a
%% rule deleted by its dumped map or its priority, and no other; the
%% rule events; bad fields refused before anything is sent, each named in
%% its one-line error; the kernel's refusals.
-module(linx_rtnl_rules_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_ip/1, made_by_ip_read_by_linx/1, deleted_by_map_or_priority/1,
         rule_events/1, bad_fields_named/1, kernel_refusals/1, rules_in_a_batch/1]).

all() ->
    [made_by_linx_read_by_ip, made_by_ip_read_by_linx, deleted_by_map_or_priority, rule_events,
     bad_fields_named, kernel_refusals, rules_in_a_batch].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

% A namespace of its own for each case.
init_per_testcase(_Case, Config) ->
    linx_ct_ns:start_with_netns("linx-rules", Config).

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% The rules of both cases, as linx takes them and as `ip rule add'
%% writes them: every field, every action, both families.
rules() ->
    [{#{priority => 10, src => {{10, 1, 0, 0}, 16}, dst => {{10, 2, 0, 0}, 24}, iif => <<"a0">>,
        oif => <<"b0">>, fwmark => 16#10, fwmask => 16#ff, tos => 16#10, table => 100},
      "priority 10 from 10.1.0.0/16 to 10.2.0.0/24 iif a0 oif b0 fwmark 0x10/0xff tos 0x10 table 100"},
     {#{priority => 11, src => {{10, 3, 0, 0}, 16}, flags => [invert], action => blackhole},
      "priority 11 not from 10.3.0.0/16 blackhole"},
     {#{priority => 12, action => unreachable}, "priority 12 unreachable"},
     {#{priority => 13, action => prohibit}, "priority 13 prohibit"},
     {#{priority => 14, goto => 20}, "priority 14 goto 20"},
     {#{priority => 20, action => nop}, "priority 20 nop"},
     {#{priority => 15, uid_range => {100, 200}, ip_proto => udp, sport => 53, dport => {1000, 2000},
        table => 200, protocol => static},
      "priority 15 uidrange 100-200 ipproto udp sport 53 dport 1000-2000 lookup 200 protocol static"},
     {#{priority => 16, fwmark => 7, suppress_prefixlen => 0},
      "priority 16 fwmark 7 lookup main suppress_prefixlength 0"},
     {#{priority => 17, src => {{10, 9, 0, 0}, 16}, table => 300, flow => 5},
      "priority 17 from 10.9.0.0/16 lookup 300 realms 5"},
     {#{priority => 30, src => {{16#fd00, 0, 0, 0, 0, 0, 0, 0}, 8}, table => 50},
      "-6 rule add priority 30 from fd00::/8 table 50"}].

%% What linx adds, ip reads with the same values.
made_by_linx_read_by_ip(Config) ->
    Ns = ?config(netns, Config),
    [ok = linx_rtnl:rule_add(R, in(Config)) || {R, _} <- rules()],
    Want = lists:sort([from_linx(R) || {R, _} <- rules()] ++ defaults()),
    Want = from_ip(Ns).

%% What ip adds, linx decodes with the same values (and ip with them).
made_by_ip_read_by_linx(Config) ->
    Ns = ?config(netns, Config),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " ", ip_args(Args)]) || {_, Args} <- rules()],
    {ok, Rules} = linx_rtnl:rules(in(Config)),
    ct:log("~p", [Rules]),
    Ip = from_ip(Ns),
    Ip = lists:sort([from_linx(R) || R <- Rules]),
    %% And each given field comes back as it was given.
    ByPrio = maps:from_list([{P, R} || #{priority := P} = R <- Rules]),
    [R = maps:with(maps:keys(R), maps:get(P, ByPrio))
     || {#{priority := P} = R0, _} <- rules(), R <- [maps:merge(R0, maps:from_list(ranges(R0)))]].

%% A dumped rule deleted by its map, another by its priority: each
%% removes that rule, and no other.
deleted_by_map_or_priority(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    [ok = linx_rtnl:rule_add(R, In) || {R, _} <- rules()],
    {ok, Rules} = linx_rtnl:rules(In),
    [R15] = [R || #{priority := 15} = R <- Rules],
    ok = linx_rtnl:rule_del(R15, In),
    ok = linx_rtnl:rule_del(#{priority => 30, family => inet6}, In),
    Left = [P || #{<<"priority">> := P} <- ip_rules(Ns)],
    Want = lists:sort([P || {#{priority := P}, _} <- rules(), P =/= 15, P =/= 30] ++ [0, 0, 32766, 32766, 32767]),
    Want = lists:sort(Left),
    {error, #{stage := netlink, errno := enoent, op := rule_del}} = linx_rtnl:rule_del(R15, In).

%% Rule changes reach a subscriber of the rule groups, decoded.
rule_events(Config) ->
    In = in(Config),
    {ok, Ref} = linx_rtnl:subscribe([ipv4_rule, ipv6_rule], In),
    ok = linx_rtnl:rule_add(#{priority => 40, fwmark => 9, table => 90}, In),
    ok = linx_rtnl:rule_add(#{priority => 41, dst => {{16#fd01, 0, 0, 0, 0, 0, 0, 0}, 16}, table => 91}, In),
    ok = linx_rtnl:rule_del(#{priority => 40}, In),
    {rule, new, #{priority := 40, fwmark := 9, table := 90, family := inet}} = event(Ref),
    {rule, new, #{priority := 41, dst := {{16#fd01, 0, 0, 0, 0, 0, 0, 0}, 16}, family := inet6}} = event(Ref),
    {rule, del, #{priority := 40, table := 90}} = event(Ref),
    ok = linx_rtnl:unsubscribe(Ref).

event(Ref) ->
    receive
        {linx_rtnl, Ref, Event} -> Event
    after 5000 ->
        error(no_event)
    end.

%% Each bad field is refused before anything is sent, named in a
%% one-line error; the namespace keeps its default rules only.
bad_fields_named(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Bad = [{src, {{10, 0, 0, 0}, 33}}, {dst, nowhere}, {iif, <<"much-too-long-name">>},
           {oif, <<"a/b">>}, {fwmark, -1}, {table, 1 bsl 32}, {action, jump}, {sport, {9, 3}},
           {dport, 70000}, {uid_range, {5}}, {ip_proto, smtp}, {protocol, nobody}, {l3mdev, yes},
           {family, ipx}, {flags, [sideways]}, {tos, 256}, {colour, red}],
    [begin
         {error, #{reason := {bad_rule, {K, V}}} = E} = linx_rtnl:rule_add(#{priority => 50, K => V}, In),
         Line = linx:format_error(E),
         nomatch =/= string:find(Line, atom_to_list(K)) orelse error({not_named, K, Line}),
         [_] = string:split(Line, "\n", all)
     end || {K, V} <- Bad],
    {error, #{reason := {bad_rule, {dst, _}}}} =
        linx_rtnl:rule_add(#{src => {{10, 0, 0, 0}, 8}, dst => {{16#fd00, 0, 0, 0, 0, 0, 0, 0}, 8}}, In),
    {error, #{reason := {bad_rule, not_a_map}}} = linx_rtnl:rule_add(not_a_map, In),
    5 = length(ip_rules(Ns)).

%% The kernel's refusals: a rule added twice, a goto to itself.
kernel_refusals(Config) ->
    In = in(Config),
    ok = linx_rtnl:rule_add(#{priority => 60, table => 60}, In),
    {error, #{stage := netlink, errno := eexist, op := rule_add} = E} =
        linx_rtnl:rule_add(#{priority => 60, table => 60}, In),
    <<"netlink rule_add", _/binary>> = linx:format_error(E),
    {error, #{stage := netlink, errno := einval}} = linx_rtnl:rule_add(#{priority => 61, goto => 61}, In).

%% Rules in a batch, one result each; an atomic batch refuses them
%% before sending anything (it could not undo them).
rules_in_a_batch(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Ops = [{rule_add, #{priority => 70, fwmark => 1, table => 70}},
           {rule_add, #{priority => 71, dst => {{10, 71, 0, 0}, 16}, action => prohibit}},
           {rule_del, #{priority => 70}},
           {rule_del, #{priority => 72}}],
    {ok, [ok, ok, ok, {error, #{stage := netlink, errno := enoent, op := rule_del}}]} =
        linx_rtnl:batch(Ops, In),
    [71] = [P || #{<<"priority">> := P} <- ip_rules(Ns), P >= 70, P < 100],
    Atomic = {rule_add, #{priority => 73, table => 73}},
    {error, #{reason := {bad_op, Atomic, not_undoable}} = E} =
        linx_rtnl:batch([Atomic], In#{atomic => true}),
    <<"invalid batch op {rule_add,", _/binary>> = linx:format_error(E),
    [] = [P || #{<<"priority">> := P} <- ip_rules(Ns), P =:= 73].

%%====================================================================
%% The oracle: linx's rules and ip's, written alike
%%====================================================================

%% The kernel's own rules of both families, as from_linx/1 writes them.
defaults() ->
    [#{family => F, priority => P, table => T, action => lookup}
     || {F, P, T} <- [{inet, 0, 255}, {inet, 32766, 254}, {inet, 32767, 253},
                      {inet6, 0, 255}, {inet6, 32766, 254}]].

%% A rule map of linx's (or one given to it) with the fields ip shows:
%% prefixes as text, ranges as pairs, the kernel's defaults left out.
from_linx(R) ->
    Family = case R of
                 #{family := F} -> F;
                 #{src := {{_, _, _, _, _, _, _, _}, _}} -> inet6;
                 #{dst := {{_, _, _, _, _, _, _, _}, _}} -> inet6;
                 #{} -> inet
             end,
    Action = case R of
                 #{action := A} when A =/= lookup -> A;
                 #{goto := _} -> goto;
                 #{} -> lookup
             end,
    Table = [{table, maps:get(table, R, 254)} || Action =:= lookup],
    Kept = maps:to_list(maps:with([iif, oif, fwmark, goto, ip_proto, flow], R)),
    Shown = [KV || {K, V} = KV <- maps:to_list(maps:with([tos, fwmask, suppress_prefixlen, protocol], R)),
                   not lists:member({K, V}, [{tos, 0}, {fwmask, 16#ffffffff},
                                             {suppress_prefixlen, 16#ffffffff},
                                             {protocol, unspec}, {protocol, kernel}])],
    Not = [{flags, [invert]} || lists:member(invert, maps:get(flags, R, []))],
    Prefixes = [{K, {list_to_binary(inet:ntoa(IP)), Len}} || {K, {IP, Len}} <- maps:to_list(maps:with([src, dst], R))],
    maps:from_list([{family, Family}, {priority, maps:get(priority, R)}, {action, Action}]
                   ++ Table ++ Kept ++ Shown ++ Not ++ Prefixes ++ ranges(R)).

%% The ranges of a rule as pairs (a port alone is one).
ranges(R) ->
    [{K, case V of N when is_integer(N) -> {N, N}; Pair -> Pair end}
     || {K, V} <- maps:to_list(maps:with([sport, dport, uid_range], R))].

%% ip's rules of both families, in from_linx/1's terms.
from_ip(Ns) ->
    lists:sort([from_ip(F, R) || F <- [inet, inet6], R <- ip_rules(Ns, F)]).

from_ip(Family, R) ->
    Action = case R of
                 #{<<"action">> := A} -> binary_to_atom(A);
                 #{<<"goto">> := _} -> goto;
                 #{<<"nop">> := _} -> nop;
                 #{} -> lookup
             end,
    Pairs = [{K, V} || {Key, K, Conv} <- ip_fields(), {ok, V0} <- [maps:find(Key, R)], V <- [Conv(V0)]],
    Prefixes = [{K, {maps:get(Key, R), maps:get(LenKey, R)}}
                || {Key, LenKey, K} <- [{<<"src">>, <<"srclen">>, src}, {<<"dst">>, <<"dstlen">>, dst}],
                   is_map_key(LenKey, R)],
    Ranges = [{K, {maps:get(S, R), maps:get(E, R)}}
              || {S, E, K} <- [{<<"uid_start">>, <<"uid_end">>, uid_range},
                               {<<"sport_start">>, <<"sport_end">>, sport},
                               {<<"dport_start">>, <<"dport_end">>, dport}],
                 is_map_key(S, R)]
        ++ [{K, {P, P}} || {Key, K} <- [{<<"sport">>, sport}, {<<"dport">>, dport}],
                           {ok, P} <- [maps:find(Key, R)]],
    Not = [{flags, [invert]} || is_map_key(<<"not">>, R)],
    maps:from_list([{family, Family}, {action, Action} | Pairs ++ Prefixes ++ Ranges ++ Not]).

ip_fields() ->
    Hex = fun(<<"0x", H/binary>>) -> binary_to_integer(H, 16) end,
    Table = fun(<<"local">>) -> 255; (<<"main">>) -> 254; (<<"default">>) -> 253;
               (T) -> binary_to_integer(T) end,
    Same = fun(V) -> V end,
    [{<<"priority">>, priority, Same}, {<<"tos">>, tos, Hex}, {<<"fwmark">>, fwmark, Hex},
     {<<"fwmask">>, fwmask, Hex}, {<<"iif">>, iif, Same}, {<<"oif">>, oif, Same},
     {<<"table">>, table, Table}, {<<"goto">>, goto, Same},
     {<<"ipproto">>, ip_proto, fun binary_to_atom/1}, {<<"protocol">>, protocol, fun binary_to_atom/1},
     {<<"suppress_prefixlen">>, suppress_prefixlen, Same},
     {<<"flow_to">>, flow, fun binary_to_integer/1}].

ip_rules(Ns) ->
    ip_rules(Ns, inet) ++ ip_rules(Ns, inet6).

ip_rules(Ns, Family) ->
    Flag = case Family of inet -> "-4 "; inet6 -> "-6 " end,
    linx_ct_config:ip_json(Ns, [Flag, "rule show"]).

%% `ip rule add' arguments from a case of rules/0 (an IPv6 one says so).
ip_args("-6 " ++ Rest) -> ["-6 ", Rest];
ip_args(Args) -> ["rule add ", Args].
