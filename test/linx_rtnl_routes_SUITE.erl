%% @doc Routes as linx_rtnl:routes/1 returns them can be deleted and
%% added back as they are, with `ip -d -j route show table all' and
%% `ip nexthop' as oracles: multipath routes, routes through nexthop
%% objects (`nhid'), with
%% a gateway of the other family (`via'), metrics, a realm, a tos, the
%% onlink flag, a source prefix, an expiry, an encapsulation, in other
%% tables, of the types that drop packets, and the kernel's own.
-module(linx_rtnl_routes_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([nexthop_route_del_and_add/1, decoded_as_ip_shows/1, every_route_comes_back/1,
         multipath_made_by_linx/1]).

all() ->
    [nexthop_route_del_and_add, decoded_as_ip_shows, every_route_comes_back, multipath_made_by_linx].

%% Each case has a netns of its own with the routes of routes/0 below.
init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_if_netns(Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            Ns = linx_ct_ns:unique("linx-routes"),
            ok = linx_ct_ns:netns_add(Ns),
            build(Ns),
            [{netns, Ns} | Config1]
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

%% Link va (IPv4 and IPv6, no DAD: its addresses and their routes are
%% there at once) and its peer vb (IPv4 only: only one link has the
%% kernel's fe80::/64 and ff00::/8 routes, see every_route_comes_back/1).
build(Ns) ->
    Ip = fun(Args) -> linx_ct_ns:sh_ok(["ip -n ", Ns, " ", Args]) end,
    Ip("link set lo up"),
    Ip("link add va type veth peer name vb"),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -qw net.ipv6.conf.vb.disable_ipv6=1"
                      " net.ipv6.conf.va.accept_dad=0"]),
    Ip("link set va up"),
    Ip("link set vb up"),
    Ip("addr add 10.8.0.1/24 dev va"),
    Ip("addr add 2001:db8::1/64 dev va"),
    lists:foreach(Ip, routes()).

routes() ->
    ["nexthop add id 1 dev va",
     "nexthop add id 2 via 10.8.0.2 dev va",
     "nexthop add id 3 blackhole",
     "-6 nexthop add id 4 dev va",
     "route add 10.9.0.0/24 nhid 1",
     "route add 10.9.1.0/24 nhid 2 table 100",
     "route add 10.9.2.0/24 nhid 3",
     "-6 route add 2001:db8:9::/64 nhid 4",
     "route add 10.9.3.0/24 via inet6 2001:db8::2 dev va",
     "route add 10.9.4.0/24 dev va mtu 1400 advmss 1300",
     "route add 10.9.5.0/24 dev va realm 5",
     "route add 10.9.6.0/24 dev va tos 0x10",
     "route add 10.9.7.0/24 via 10.99.0.1 dev va onlink",
     "route add blackhole 10.9.8.0/24",
     "route add unreachable 10.9.9.0/24 metric 7",
     "route add prohibit 10.9.10.0/24 table 200",
     "route add throw 10.9.11.0/24 table 200",
     "route add 10.9.12.0/24 via 10.8.0.3 dev va proto static metric 20 src 10.8.0.1",
     "route add 10.9.20.0/24 encap ip id 5 dst 10.8.0.9 dev va",
     "-6 route add 2001:db8:1::/64 via 2001:db8::2 dev va metric 5 pref high",
     "-6 route add 2001:db8:5::/64 from 2001:db8:6::/64 dev va",
     "-6 route add 2001:db8:7::/64 dev va expires 600",
     "route add 10.9.30.0/24 nexthop via 10.8.0.2 dev va weight 2 nexthop via 10.8.0.3 dev va onlink"].

%%====================================================================
%% Cases
%%====================================================================

%% A route through a nexthop object (`ip route add ... nhid 1'): routes/1
%% gives its nhid, route_del/2 of it as given removes it (it answered
%% esrch: the nexthop's device came back and nhid did not), route_add/2
%% puts it back through the same nexthop.
nexthop_route_del_and_add(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Show = fun() -> linx_ct_ns:sh_ok(["ip -d -j -n ", Ns, " route show 10.9.0.0/24"]) end,
    Before = Show(),
    true = string:find(Before, "\"nhid\":1") =/= nomatch,
    [R] = [R || #{dst := {{10, 9, 0, 0}, 24}} = R <- routes(In)],
    ok = linx_rtnl:route_del(R, In),
    #{nhid := 1} = R,
    <<"[]">> = Show(),
    <<"id 1 dev va scope host">> = linx_ct_ns:sh_ok(["ip -n ", Ns, " nexthop show id 1"]),
    ok = linx_rtnl:route_add(R, In),
    Before = Show().

%% What routes/1 says of the routes ip shows.
decoded_as_ip_shows(Config) ->
    Routes = maps:from_list([{Dst, R} || #{dst := Dst} = R <- routes(in(Config))]),
    V6 = fun(N) -> {{16#2001, 16#db8, N, 0, 0, 0, 0, 0}, 64} end,
    [D9, D1, D5, D7] = [V6(N) || N <- [9, 1, 5, 7]],
    #{{{10, 9, 0, 0}, 24} := #{nhid := 1},
      {{10, 9, 1, 0}, 24} := #{nhid := 2, table := 100, gateway := {10, 8, 0, 2}},
      {{10, 9, 2, 0}, 24} := #{nhid := 3, type := blackhole},
      D9 := #{nhid := 4},
      {{10, 9, 3, 0}, 24} := #{via := {16#2001, 16#db8, 0, 0, 0, 0, 0, 2}},
      {{10, 9, 4, 0}, 24} := #{metrics := #{mtu := 1400, advmss := 1300}},
      {{10, 9, 5, 0}, 24} := #{flow := 5},
      {{10, 9, 6, 0}, 24} := #{tos := 16},
      {{10, 9, 7, 0}, 24} := #{flags := [onlink]},
      {{10, 9, 20, 0}, 24} := #{encap_type := 2, encap := <<_/binary>>},
      D1 := #{pref := high, metric := 5},
      D5 := #{src := {16#2001, 16#db8, 6, 0, 0, 0, 0, 0}, src_len := 64},
      D7 := #{expires := Expires},
      {{10, 9, 30, 0}, 24} := #{multipath := [#{gateway := {10, 8, 0, 2}, oif := Va, weight := 2},
                                               #{gateway := {10, 8, 0, 3}, oif := Va, weight := 1,
                                                 flags := [onlink]}]}} = Routes,
    {ok, #{index := Va}} = linx_rtnl:link(<<"va">>, in(Config)),
    true = Expires > 0 andalso Expires =< 600,
    %% Nothing of these is left unnamed but a dump's IPv6 multipath, which
    %% none has.
    [] = [{Dst, U} || {Dst, #{unknown := U}} <- maps:to_list(Routes), U =/= []].

%% Every route routes/1 returns (those above, the kernel's for the
%% addresses and links, in the main and local tables): route_del/2 of it
%% as returned removes that route and only it, route_add/2 of it puts it
%% back as it was, by `ip -d -j route show table all' (IPv4 and IPv6). Two
%% exceptions, both the kernel's: an IPv6 route of metric 0 (the kernel's
%% local routes) comes back with metric 1024, as it gives any IPv6 route
%% added with metric 0; and an expiry counts down (compared as present).
%% A route with the destination, table, tos and metric of another (two
%% links in one subnet, or both with IPv6: fe80::/64 on each) would come
%% back with eexist, as it does from `ip route add': build/1 has none.
every_route_comes_back(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Routes = routes(In),
    true = length(Routes) >= 30,
    lists:foreach(fun(R) -> comes_back(Ns, In, R) end, Routes).

comes_back(Ns, In, R) ->
    Before = ip_routes(Ns),
    case linx_rtnl:route_del(R, In) of
        ok -> ok;
        DelError -> ct:fail({route_del, R, DelError})
    end,
    Gone = case Before -- ip_routes(Ns) of
               [G] -> G;
               Other -> ct:fail({route_del, R, removed, Other})
           end,
    case linx_rtnl:route_add(R, In) of
        ok -> ok;
        AddError -> ct:fail({route_add, R, AddError})
    end,
    Expected = case R of
                   #{family := inet6, metric := 0} ->
                       lists:sort([re:replace(Gone, "\"metric\":0,", "\"metric\":1024,",
                                              [{return, binary}])
                                   | Before -- [Gone]]);
                   _ ->
                       Before
               end,
    case ip_routes(Ns) of
        Expected -> ok;
        After -> ct:fail({not_back, R, {missing, Expected -- After}, {new, After -- Expected}})
    end.

%% A multipath route made by linx (next hops by link name, weights, the
%% onlink flag) is the one ip shows; a bad next hop is refused.
multipath_made_by_linx(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    ok = linx_rtnl:route_add(#{dst => {{10, 9, 31, 0}, 24},
                               multipath => [#{gateway => {10, 8, 0, 2}, oif => <<"va">>, weight => 3},
                                             #{gateway => {10, 99, 0, 1}, oif => <<"va">>,
                                               flags => [onlink]}]}, In),
    [#{<<"nexthops">> := [#{<<"gateway">> := <<"10.8.0.2">>, <<"dev">> := <<"va">>, <<"weight">> := 3},
                          #{<<"gateway">> := <<"10.99.0.1">>, <<"dev">> := <<"va">>,
                            <<"weight">> := 1, <<"flags">> := [<<"onlink">>]}]}] =
        linx_ct_config:ip_json(Ns, "-d route show 10.9.31.0/24"),
    [{error, #{reason := {bad_route, _}}} = linx_rtnl:route_add(#{dst => {{10, 9, 32, 0}, 24}, multipath => M}, In)
     || M <- [[], [#{gateway => {10, 8, 0, 2}, weight => 0}], [#{gateway => nowhere}], [x],
              [#{gateway => {10, 8, 0, 2}, colour => red}],
              [#{gateway => {10, 8, 0, 2}}, #{gateway => {16#2001, 16#db8, 0, 0, 0, 0, 0, 2}}]]].

%%====================================================================
%% Helpers
%%====================================================================

in(Config) ->
    #{in => {netns, list_to_binary(?config(netns, Config))}}.

routes(In) ->
    {ok, Routes} = linx_rtnl:routes(In),
    Routes.

%% The routes of every table, IPv4 and IPv6, as ip's JSON objects
%% (sorted; a countdown of `expires' left out).
ip_routes(Ns) ->
    Json = [linx_ct_ns:sh_ok(["ip -d -j -n ", Ns, " ", F, " route show table all"])
            || F <- ["-4", "-6"]],
    lists:sort([re:replace(O, "\"expires\":[0-9]+", "\"expires\":_", [{return, binary}])
                || J <- Json, O <- objects(J)]).

%% The top-level objects of a JSON array, as text.
objects(<<"[", Rest/binary>>) ->
    objects(Rest, 0, <<>>, []).

objects(<<"{", Rest/binary>>, Depth, Cur, Acc) ->
    objects(Rest, Depth + 1, <<Cur/binary, "{">>, Acc);
objects(<<"}", Rest/binary>>, 1, Cur, Acc) ->
    objects(Rest, 0, <<>>, [<<Cur/binary, "}">> | Acc]);
objects(<<"}", Rest/binary>>, Depth, Cur, Acc) ->
    objects(Rest, Depth - 1, <<Cur/binary, "}">>, Acc);
objects(<<"\"", Rest/binary>>, Depth, Cur, Acc) when Depth > 0 ->
    [Str, Rest1] = binary:split(Rest, <<"\"">>),
    objects(Rest1, Depth, <<Cur/binary, "\"", Str/binary, "\"">>, Acc);
objects(<<C, Rest/binary>>, Depth, Cur, Acc) when Depth > 0 ->
    objects(Rest, Depth, <<Cur/binary, C>>, Acc);
objects(<<_, Rest/binary>>, 0, Cur, Acc) ->
    objects(Rest, 0, Cur, Acc);
objects(<<>>, 0, <<>>, Acc) ->
    lists:reverse(Acc).
