%% @doc Qdiscs and filters made by linx_tc, seen working on real TCP
%% traffic between two namespaces joined by veth: a tbf at 10 Mbit/s
%% holds a 5 MB transfer between 8 and 11 Mbit/s; an htb class at
%% 10 Mbit/s that a u32 filter sends one destination to holds that
%% destination there and leaves another at full speed. Sockets in the
%% namespaces come from linx_netlink:socket_open/4; the rate is measured
%% by the receiver, from its first byte to its last.
-module(linx_tc_traffic_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([tbf_holds_ten_megabits/1, u32_limits_one_destination/1]).

-define(A, {10, 83, 0, 1}).
-define(B, {10, 83, 0, 2}).
-define(B2, {10, 83, 0, 3}).
-define(MB, 1000000).

all() ->
    [tbf_holds_ten_megabits, u32_limits_one_destination].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

%% A (a0, 10.83.0.1) --- (b0, 10.83.0.2 and .3) B.
init_per_testcase(_Case, Config) ->
    [A, B] = Names = [linx_ct_ns:unique(P) || P <- ["linx-tct-a", "linx-tct-b"]],
    [ok = linx_ct_ns:netns_add(N) || N <- Names],
    [linx_ct_ns:sh_ok(Cmd)
     || Cmd <- [["ip link add a0 netns ", A, " type veth peer name b0 netns ", B],
                ["ip -n ", A, " addr add 10.83.0.1/24 dev a0"],
                ["ip -n ", B, " addr add 10.83.0.2/24 dev b0"],
                ["ip -n ", B, " addr add 10.83.0.3/24 dev b0"],
                ["ip -n ", A, " link set a0 up"], ["ip -n ", B, " link set b0 up"],
                ["ip -n ", A, " link set lo up"], ["ip -n ", B, " link set lo up"]]],
    [{a, A}, {b, B} | Config].

end_per_testcase(_Case, Config) ->
    [linx_ct_ns:netns_del(?config(K, Config)) || K <- [a, b]].

in(Ns) -> #{in => {netns, list_to_binary(Ns)}}.

%% A tbf of 10 Mbit/s on A's side: 5 MB go at 8-11 Mbit/s.
tbf_holds_ten_megabits(Config) ->
    A = ?config(a, Config),
    ok = linx_tc:qdisc_add(#{link => <<"a0">>, handle => {1, 0}, kind => tbf,
                             options => #{rate => 10000000, burst => 32768, latency => 50000}},
                           in(A)),
    Mbits = transfer(Config, ?B, 5 * ?MB),
    ct:log("tbf at 10 Mbit/s: ~.2f Mbit/s", [Mbits]),
    true = Mbits >= 8.0 andalso Mbits =< 11.0.

%% htb on A's side: class 1:10 at 10 Mbit/s, the default 1:20 at
%% 1 Gbit/s; a u32 filter sends what goes to 10.83.0.2 to 1:10. That
%% destination gets 8-11 Mbit/s, 10.83.0.3 more than five times as much.
u32_limits_one_destination(Config) ->
    In = in(?config(a, Config)),
    Link = <<"a0">>,
    ok = linx_tc:qdisc_add(#{link => Link, handle => {1, 0}, kind => htb,
                             options => #{default => 16#20}}, In),
    [ok = linx_tc:class_add(#{link => Link, parent => {1, 0}, handle => {1, Minor},
                              kind => htb, options => #{rate => Rate, ceil => Rate}}, In)
     || {Minor, Rate} <- [{16#10, 10000000}, {16#20, 1000000000}]],
    ok = linx_tc:filter_add(#{link => Link, parent => {1, 0}, prio => 1, protocol => ip,
                              kind => u32,
                              options => #{match => [{dst, ?B, 32}], classid => {1, 16#10}}},
                            In),
    Slow = transfer(Config, ?B, 2 * ?MB),
    Fast = transfer(Config, ?B2, 5 * ?MB),
    ct:log("to 10.83.0.2 (1:10, 10 Mbit/s): ~.2f Mbit/s; to 10.83.0.3: ~.2f Mbit/s",
           [Slow, Fast]),
    true = Slow >= 8.0 andalso Slow =< 11.0,
    true = Fast > 5 * Slow.

%% Sends `Bytes' over TCP from A to `Dst' in B: the receiver's rate in
%% Mbit/s.
transfer(Config, Dst, Bytes) ->
    linx_ct_traffic:transfer(?config(a, Config), ?config(b, Config), Dst, Bytes).
