%% @doc Addresses beyond a prefix (linx_rtnl:addr_add/3), against real
%% namespaces with `ip -j addr show' as the oracle, both ways: lifetimes
%% (valid and preferred), a point-to-point peer, the flags a caller may
%% set; bad values named in their error; an atomic batch that deletes
%% such an address and then fails puts it back with its peer and flags.
-module(linx_rtnl_addrs_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_ip/1, made_by_ip_read_by_linx/1, bad_values_named/1,
         atomic_batch_puts_back/1]).

all() ->
    [made_by_linx_read_by_ip, made_by_ip_read_by_linx, bad_values_named, atomic_batch_puts_back].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

%% A namespace of its own for each case, with a bridge d0.
init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_with_netns("linx-addrs", Config) of
        [{netns, Ns} | _] = Config1 ->
            linx_ct_ns:sh_ok(["ip -n ", Ns, " link add d0 type bridge"]),
            Config1;
        Skip ->
            Skip
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% What linx adds, ip shows: lifetimes counting down from those given,
%% the peer, the flags.
made_by_linx_read_by_ip(Config) ->
    In = in(Config),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 5, 0, 1}, 24}, valid_lft => 600,
                                        preferred_lft => 200}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 4, 0, 1}, 24}, valid_lft => 500}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 6, 0, 1}, 32}, peer => {10, 6, 0, 2}}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{16#fd05, 0, 0, 0, 0, 0, 0, 1}, 64},
                                        flags => [nodad, noprefixroute, homeaddress, managetempaddr]},
                            In),
    [A5, A4, A6, A65] = [ip_addr(Config, L) || L <- [<<"10.5.0.1">>, <<"10.4.0.1">>, <<"10.6.0.1">>,
                                                     <<"fd05::1">>]],
    true = counted_down(maps:get(<<"valid_life_time">>, A5), 600),
    true = counted_down(maps:get(<<"preferred_life_time">>, A5), 200),
    true = maps:get(<<"dynamic">>, A5),
    %% A valid lifetime alone is the preferred one too.
    true = counted_down(maps:get(<<"preferred_life_time">>, A4), 500),
    #{<<"address">> := <<"10.6.0.2">>, <<"prefixlen">> := 32} = A6,
    #{<<"nodad">> := true, <<"noprefixroute">> := true, <<"home">> := true,
      <<"mngtmpaddr">> := true} = A65.

%% What ip adds, linx decodes with the same values.
made_by_ip_read_by_linx(Config) ->
    Ns = ?config(netns, Config),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add ", A, " dev d0"])
     || A <- ["10.5.0.1/24 valid_lft 600 preferred_lft 200", "10.6.0.1 peer 10.6.0.2/32",
              "fd05::1/64 nodad noprefixroute home mngtmpaddr"]],
    {ok, Addrs} = linx_rtnl:addrs(in(Config)),
    [A5] = [A || #{local := {10, 5, 0, 1}} = A <- Addrs],
    true = counted_down(maps:get(valid_lft, A5), 600),
    true = counted_down(maps:get(preferred_lft, A5), 200),
    [#{address := {10, 6, 0, 2}, prefixlen := 32}] = [A || #{local := {10, 6, 0, 1}} = A <- Addrs],
    %% An IPv6 address has no local one of its own.
    [Flags] = [F || #{address := {16#fd05, 0, 0, 0, 0, 0, 0, 1}, flags := F} <- Addrs],
    [] = [nodad, noprefixroute, homeaddress, managetempaddr] -- Flags.

%% Bad lifetimes and peers are refused, each named, nothing added.
bad_values_named(Config) ->
    In = in(Config),
    P = {{10, 7, 0, 1}, 24},
    Bad = [{valid_lft, 0}, {valid_lft, -1}, {preferred_lft, never}, {peer, {16#fd00, 0, 0, 0, 0, 0, 0, 1}},
           {peer, nowhere}],
    [begin
         {error, #{reason := {bad_addr, {K, V}}} = E} = linx_rtnl:addr_add(<<"d0">>, #{prefix => P, K => V}, In),
         nomatch =/= string:find(linx:format_error(E), atom_to_list(K)) orelse error({not_named, K})
     end || {K, V} <- Bad],
    {error, #{reason := {bad_addr, {preferred_lft, 50}}}} =
        linx_rtnl:addr_add(<<"d0">>, #{prefix => P, valid_lft => 10, preferred_lft => 50}, In),
    [] = [A || A <- ip_addrs(Config), maps:get(<<"local">>, A) =:= <<"10.7.0.1">>].

%% An atomic batch deletes a peer address (given with its peer, which
%% the kernel needs, as ip does) and a flagged one, then fails: both come
%% back as they were.
atomic_batch_puts_back(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.6.0.1 peer 10.6.0.2/32 dev d0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add fd05::1/64 dev d0 nodad noprefixroute"]),
    Before = [maps:without([<<"valid_life_time">>, <<"preferred_life_time">>], A) || A <- ip_addrs(Config)],
    %% A peer address is deleted with its peer, as with ip.
    Ops = [{addr_del, <<"d0">>, #{prefix => {{10, 6, 0, 1}, 32}, peer => {10, 6, 0, 2}}},
           {addr_del, <<"d0">>, {{16#fd05, 0, 0, 0, 0, 0, 0, 1}, 64}},
           {addr_del, <<"d0">>, {{10, 99, 0, 1}, 32}}],
    {error, #{reason := batch_failed, index := 3, rollback_errors := []}} =
        linx_rtnl:batch(Ops, (in(Config))#{atomic => true}),
    After = [maps:without([<<"valid_life_time">>, <<"preferred_life_time">>], A) || A <- ip_addrs(Config)],
    Before = After.

%%====================================================================
%% The oracle
%%====================================================================

ip_addrs(Config) ->
    [#{<<"addr_info">> := Info}] = linx_ct_config:ip_json(?config(netns, Config), "addr show dev d0"),
    lists:sort(Info).

ip_addr(Config, Local) ->
    [A] = [A || #{<<"local">> := L} = A <- ip_addrs(Config), L =:= Local],
    A.

%% A lifetime as shown some seconds after it was set to `Given'.
counted_down(Shown, Given) ->
    is_integer(Shown) andalso Shown =< Given andalso Shown > Given - 60.
