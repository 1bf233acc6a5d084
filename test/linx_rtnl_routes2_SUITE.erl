%% @doc route_replace, route_get, filtered route dumps (routes/2) and the
%% route types and fields, with `ip' as the oracle: what linx makes, `ip
%% -d -j route show table all' shows as what `ip route add' makes, and
%% linx decodes both alike; route_get answers as `ip -d -j route get';
%% routes/2 gives what `ip route show table T dev D proto P type Y'
%% shows.
-module(linx_rtnl_routes2_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_testcase/2, end_per_testcase/2]).
-export([replace_runs_again/1, replace_in_batches/1, route_get_as_ip_gets/1,
         route_get_refusals/1, filtered_as_ip_shows/1, filtered_by_the_kernel/1,
         strict_dumps_of_every_object/1, types_and_fields_both_ways/1, bad_filters/1,
         dump_error_with_text/1]).

all() ->
    [replace_runs_again, replace_in_batches, route_get_as_ip_gets, route_get_refusals,
     filtered_as_ip_shows, filtered_by_the_kernel, strict_dumps_of_every_object,
     types_and_fields_both_ways, bad_filters, dump_error_with_text].

%% Each case has a netns of its own (two for types_and_fields_both_ways).
init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_if_netns(Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            [A, B] = [linx_ct_ns:unique("linx-routes2") || _ <- [a, b]],
            [begin ok = linx_ct_ns:netns_add(Ns), build(Ns) end || Ns <- [A, B]],
            [{netns, A}, {netns_b, B} | Config1]
    end.

end_per_testcase(_Case, Config) ->
    [linx_ct_ns:netns_del(?config(K, Config)) || K <- [netns, netns_b]],
    ok.

%% Two veth pairs, va/vb and vc/vd, up, with addresses (va also IPv6, no
%% DAD; the others no IPv6: no link-local address comes later), fixed MACs, forwarding on, and routes of several tables, links, protocols
%% and types (built the same in both namespaces, so indexes agree).
build(Ns) ->
    Ip = fun(Args) -> linx_ct_ns:sh_ok(["ip -n ", Ns, " ", Args]) end,
    Ip("link set lo up"),
    %% Fixed MACs: the same link-local addresses (and routes) in both.
    Ip("link add va address 02:00:00:00:00:0a type veth peer name vb address 02:00:00:00:00:0b"),
    Ip("link add vc address 02:00:00:00:00:0c type veth peer name vd address 02:00:00:00:00:0d"),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -qw net.ipv6.conf.va.accept_dad=0"
                      " net.ipv4.ip_forward=1 net.ipv6.conf.vb.disable_ipv6=1"
                      " net.ipv6.conf.vc.disable_ipv6=1 net.ipv6.conf.vd.disable_ipv6=1"]),
    [Ip(["link set ", L, " up"]) || L <- ["va", "vb", "vc", "vd"]],
    Ip("addr add 10.8.0.1/24 dev va"),
    Ip("addr add 10.7.0.1/24 dev vc"),
    Ip("addr add 2001:db8::1/64 dev va"),
    lists:foreach(Ip, ["route add 10.9.0.0/24 via 10.8.0.2 table 100 proto static",
                       "route add 10.9.1.0/24 via 10.7.0.2 table 100 proto bgp",
                       "route add 10.9.2.0/24 dev vc table 200 proto bgp",
                       "route add blackhole 10.9.3.0/24 table 200",
                       "route add 10.9.12.0/24 via 10.8.0.3 dev va proto static metric 20 src 10.8.0.1",
                       "route add 10.9.13.0/24 via 10.7.0.3 proto static",
                       "route add unreachable 10.9.14.0/24",
                       "route add prohibit 10.9.15.0/24",
                       "route add blackhole 10.9.16.0/24",
                       "-6 route add 2001:db8:1::/64 via 2001:db8::2 dev va metric 5 pref high",
                       "-6 route add 2001:db8:2::/64 dev va table 100 proto static",
                       "-6 route add unreachable 2001:db8:3::/64 table 100",
                       "rule add fwmark 5 table 100"]).

%%====================================================================
%% Replace
%%====================================================================

%% route_replace adds a route, replaces it again as often as it is run,
%% and changes its gateway, protocol and metrics (the route with the same
%% destination, table, tos and metric; IPv4 and IPv6); ip shows one
%% route each time. route_append adds a second IPv4 route beside it.
replace_runs_again(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    R = #{dst => {{10, 9, 20, 0}, 24}, gateway => {10, 8, 0, 2}},
    ok = linx_rtnl:route_replace(R, In),
    ok = linx_rtnl:route_replace(R, In),
    [#{<<"gateway">> := <<"10.8.0.2">>, <<"protocol">> := <<"boot">>}] = Show = show(Ns, "10.9.20.0/24"),
    ok = linx_rtnl:route_replace(R, In),
    Show = show(Ns, "10.9.20.0/24"),
    ok = linx_rtnl:route_replace(R#{gateway => {10, 7, 0, 2}, protocol => static,
                                    metrics => #{mtu => 1300}}, In),
    [#{<<"gateway">> := <<"10.7.0.2">>, <<"dev">> := <<"vc">>, <<"protocol">> := <<"static">>,
       <<"metrics">> := [#{<<"mtu">> := 1300}]}] = show(Ns, "10.9.20.0/24"),
    %% Another metric is another route: replacing adds it.
    ok = linx_rtnl:route_replace(R#{metric => 9}, In),
    2 = length(show(Ns, "10.9.20.0/24")),
    V6 = #{dst => {{16#2001, 16#db8, 16#20, 0, 0, 0, 0, 0}, 64}, oif => <<"va">>},
    [ok = linx_rtnl:route_replace(V6#{gateway => {16#2001, 16#db8, 0, 0, 0, 0, 0, G}}, In) || G <- [2, 3, 3]],
    [#{<<"gateway">> := <<"2001:db8::3">>}] = show(Ns, "-6", "2001:db8:20::/64"),
    ok = linx_rtnl:route_append(#{dst => {{10, 9, 21, 0}, 24}, gateway => {10, 8, 0, 2}}, In),
    ok = linx_rtnl:route_append(#{dst => {{10, 9, 21, 0}, 24}, gateway => {10, 7, 0, 2}}, In),
    [#{<<"gateway">> := <<"10.8.0.2">>}, #{<<"gateway">> := <<"10.7.0.2">>}] = show(Ns, "10.9.21.0/24"),
    {error, #{reason := {bad_route, _}}} = linx_rtnl:route_replace(#{dst => nowhere}, In).

%% {route_replace, Route} in a batch: run twice in one, and undone by an
%% atomic batch that fails: the route it replaced comes back as it was
%% (read before), the one it added goes.
replace_in_batches(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    R = #{dst => {{10, 9, 12, 0}, 24}, metric => 20, gateway => {10, 7, 0, 9}},
    New = #{dst => {{10, 9, 22, 0}, 24}, oif => <<"vc">>},
    Before = ip_routes(Ns),
    Bad = {route_add, #{dst => {{10, 9, 23, 0}, 24}, gateway => {10, 99, 0, 1}}},
    {error, #{reason := batch_failed, index := 3, rolled_back := [_, _]}} =
        linx_rtnl:batch([{route_replace, R}, {route_replace, New}, Bad], In#{atomic => true}),
    Before = ip_routes(Ns),
    {ok, [ok, ok, ok]} = linx_rtnl:batch([{route_replace, R}, {route_replace, R}, {route_replace, New}], In),
    [#{<<"gateway">> := <<"10.7.0.9">>, <<"metric">> := 20}] = show(Ns, "10.9.12.0/24"),
    [#{<<"dev">> := <<"vc">>}] = show(Ns, "10.9.22.0/24").

%%====================================================================
%% route_get
%%====================================================================

%% route_get says what `ip -d -j route get' says, for destinations on a
%% link, through a gateway, from a source and out of a link, with a mark
%% (a rule sends it to table 100), as seen coming in on a link, with a
%% uid, protocol and ports, local, IPv6, and the route as in its table
%% (fibmatch).
route_get_as_ip_gets(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Names = names(In),
    Cases = [{{10, 8, 0, 5}, "10.8.0.5"},
             {{10, 9, 12, 7}, "10.9.12.7"},
             {#{dst => {10, 9, 12, 7}, src => {10, 8, 0, 1}, oif => <<"va">>},
              "10.9.12.7 from 10.8.0.1 oif va"},
             {#{dst => {10, 9, 0, 7}, mark => 5}, "10.9.0.7 mark 5"},
             {#{dst => {10, 9, 12, 7}, src => {10, 8, 0, 2}, iif => <<"va">>},
              "10.9.12.7 from 10.8.0.2 iif va"},
             {#{dst => {10, 9, 12, 7}, uid => 7, ip_proto => tcp, sport => 1000, dport => 80},
              "10.9.12.7 uid 7 ipproto tcp sport 1000 dport 80"},
             {{10, 8, 0, 1}, "10.8.0.1"},
             {{16#2001, 16#db8, 1, 0, 0, 0, 0, 5}, "2001:db8:1::5"},
             {#{dst => {10, 9, 12, 7}, fibmatch => true}, "fibmatch 10.9.12.7"},
             {#{dst => {10, 9, 0, 7}, mark => 5, fibmatch => true}, "fibmatch 10.9.0.7 mark 5"},
             {#{dst => {16#2001, 16#db8, 1, 0, 0, 0, 0, 5}, fibmatch => true},
              "fibmatch 2001:db8:1::5"}],
    lists:foreach(fun({Dest, Args}) ->
                          %% Every attribute of the answer is named (uid, cacheinfo, ...).
                          {ok, #{unknown := []} = Route} = linx_rtnl:route_get(Dest, In),
                          [Ip] = linx_ct_config:ip_json(Ns, ["-d route get ", Args]),
                          same_as_ip(Dest, as_ip(Route, Names), Ip)
                  end, Cases).

%% Where ip gets an error, route_get gets the same errno: no route, an
%% unreachable, a prohibit and a blackhole route, fibmatch or not; bad lookups are refused before anything is sent.
route_get_refusals(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    {error, #{errno := enetunreach}} = linx_rtnl:route_get({10, 77, 0, 1}, In),
    {error, #{errno := ehostunreach}} = linx_rtnl:route_get({10, 9, 14, 1}, In),
    {error, #{errno := eacces}} = linx_rtnl:route_get({10, 9, 15, 1}, In),
    {error, #{errno := einval}} = linx_rtnl:route_get({10, 9, 16, 1}, In),
    {error, #{errno := ehostunreach}} = linx_rtnl:route_get(#{dst => {10, 9, 14, 1}, fibmatch => true}, In),
    [{2, <<"RTNETLINK answers: Network is unreachable", _/binary>>},
     {2, <<"RTNETLINK answers: No route to host", _/binary>>},
     {2, <<"RTNETLINK answers: Permission denied", _/binary>>},
     {2, <<"RTNETLINK answers: Invalid argument", _/binary>>},
     {2, <<"RTNETLINK answers: No route to host", _/binary>>}] =
        [linx_ct_ns:sh(["ip -n ", Ns, " route get ", A])
         || A <- ["10.77.0.1", "10.9.14.1", "10.9.15.1", "10.9.16.1", "fibmatch 10.9.14.1"]],
    [{error, #{reason := {bad_route, Bad}}} = linx_rtnl:route_get(D, In)
     || {D, Bad} <- [{nowhere, nowhere}, {#{src => {10, 8, 0, 1}}, #{src => {10, 8, 0, 1}}},
                     {#{dst => {10, 8, 0, 1}, src => {16#fe80, 0, 0, 0, 0, 0, 0, 1}},
                      {src, {16#fe80, 0, 0, 0, 0, 0, 0, 1}}},
                     {#{dst => {10, 8, 0, 1}, oif => <<"a/b">>}, {oif, <<"a/b">>}},
                     {#{dst => {10, 8, 0, 1}, dport => 70000}, {dport, 70000}},
                     {#{dst => {10, 8, 0, 1}, ip_proto => dccp}, {ip_proto, dccp}},
                     {#{dst => {10, 8, 0, 1}, fibmatch => yes}, {fibmatch, yes}},
                     {#{dst => {10, 8, 0, 1}, colour => red}, {colour, red}}]],
    {error, #{errno := enodev}} = linx_rtnl:route_get(#{dst => {10, 8, 0, 1}, oif => <<"nosuch">>}, In).

%%====================================================================
%% Filtered dumps
%%====================================================================

%% routes/2 gives the routes `ip route show' gives for the same filter,
%% each filter key alone and all at once; a table the kernel does not
%% have has no routes.
filtered_as_ip_shows(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    Cases = [{#{}, "table all"},
             {#{table => 100}, "table 100"},
             {#{table => all}, "table all"},
             {#{table => main, oif => <<"va">>}, "table main dev va"},
             {#{table => local, family => inet}, "table local"},
             {#{oif => <<"vc">>}, "table all dev vc"},
             {#{protocol => static}, "table all proto static"},
             {#{protocol => bgp, table => 200}, "table 200 proto bgp"},
             {#{protocol => 186}, "table all proto bgp"},
             {#{type => blackhole}, "table all type blackhole"},
             {#{type => unreachable, family => inet6}, "table all type unreachable"},
             {#{family => inet6, table => 100, oif => <<"va">>, protocol => static, type => unicast},
              "table 100 dev va proto static type unicast"},
             {#{family => inet6}, "table all"}],
    lists:foreach(fun({Filter, Args}) ->
                          {ok, Routes} = linx_rtnl:routes(Filter, In),
                          Fams = case Filter of
                                     #{family := inet} -> ["-4"];
                                     #{family := inet6} -> ["-6"];
                                     #{} -> ["-4", "-6"]
                                 end,
                          Ip = lists:sort([{Dst, maps:get(<<"type">>, R, <<"unicast">>)}
                                           || F <- Fams,
                                              #{<<"dst">> := Dst} = R <- ip_show(Ns, [F, " route show ", Args])]),
                          {Filter, Ip} = {Filter, lists:sort([{dst_text(R), atom_to_binary(T)}
                                                              || #{type := T} = R <- Routes])}
                  end, Cases),
    true = length(element(2, linx_rtnl:routes(#{}, In))) > 20,
    {ok, []} = linx_rtnl:routes(#{table => 4242}, In),
    {ok, []} = linx_rtnl:routes(#{table => 4242, family => inet6}, In),
    {2, <<"Error: ipv6: FIB table does not exist.", _/binary>>} =
        linx_ct_ns:sh(["ip -n ", Ns, " -6 route show table 4242 2>&1"]).

%% The kernel filters the dump itself: the replies of the strict dump
%% routes/2 sends are those routes/2 keeps (nothing is left to filter
%% here), and fewer than those of every route.
filtered_by_the_kernel(Config) ->
    In = in(Config),
    Resolve = linx_rtnl_call:resolver(In),
    {ok, All} = linx_rtnl:routes(In),
    lists:foreach(fun(Filter) ->
                          {ok, Req, Checked} = linx_rtnl_route_query:filter(Filter, Resolve),
                          {ok, Sent} = linx_nl:dump(route, Req, In#{strict => true}, routes,
                                                    fun(#{payload := P}) -> linx_rtnl_msg:decode_route(P) end),
                          true = Sent =/= [] andalso length(Sent) < length(All),
                          Sent = [R || R <- Sent, linx_rtnl_route_query:keep(Checked, R)]
                  end, [#{table => 100}, #{oif => <<"vc">>}, #{protocol => bgp},
                        #{type => blackhole, table => 200}, #{family => inet6, table => local}]).

%% A dump of every kind of object linx dumps (links, addresses, routes,
%% neighbours, rules) asks for nothing a strictly checking socket
%% refuses: each gives the same objects both ways.
strict_dumps_of_every_object(Config) ->
    In = in(Config),
    lists:foreach(fun(Kind) ->
                          Dump = fun(Strict) ->
                                         linx_nl:dump(route, linx_rtnl_req:dump(Kind), In#{strict => Strict}, Kind,
                                                      fun(#{payload := P}) -> linx_rtnl_msg:decode_object(Kind, P) end)
                                 end,
                          %% The kernel adds neighbours (IPv6 multicast) on its
                          %% own: the two dumps agree once nothing changed
                          %% between them.
                          Same = fun() ->
                                         {ok, Lenient} = Dump(false),
                                         Lenient =/= [] andalso {ok, Lenient} =:= Dump(true)
                                 end,
                          {Kind, ok} = {Kind, linx_ct_ns:wait_until(Same, 10000)}
                  end, [link, addr, route, neigh, rule]),
    {error, #{reason := {bad_option, {strict, yes}}}} =
        linx_netlink:call(route, <<16:32/native, 18:16/native, 16#301:16/native, 0:64>>, In#{strict => yes}).

%%====================================================================
%% Types and fields, both ways
%%====================================================================

%% Each route type (local, blackhole, unreachable, prohibit; IPv4 and
%% IPv6) and field (metrics, realm, pref, expires): linx adds it in one
%% namespace, ip in the other; `ip -d -j route show table all' shows the
%% same in both, routes/1 decodes the same in both, and what it decodes
%% has the values given.
types_and_fields_both_ways(Config) ->
    [A, B] = [?config(K, Config) || K <- [netns, netns_b]],
    [InA, InB] = [#{in => {netns, list_to_binary(N)}} || N <- [A, B]],
    V6 = fun(N) -> {16#2001, 16#db8, N, 0, 0, 0, 0, 0} end,
    [V41, V42, V43, V44, V46, V47, V48] = [V6(N) || N <- [16#41, 16#42, 16#43, 16#44, 16#46, 16#47, 16#48]],
    Cases = [{#{dst => {{10, 9, 40, 1}, 32}, type => local, oif => <<"va">>}, "local 10.9.40.1 dev va"},
             {#{dst => {{10, 9, 41, 0}, 24}, type => blackhole}, "blackhole 10.9.41.0/24"},
             {#{dst => {{10, 9, 42, 0}, 24}, type => unreachable, metric => 7},
              "unreachable 10.9.42.0/24 metric 7"},
             {#{dst => {{10, 9, 43, 0}, 24}, type => prohibit, table => 200},
              "prohibit 10.9.43.0/24 table 200"},
             {#{dst => {V41, 64}, type => blackhole}, "blackhole 2001:db8:41::/64"},
             {#{dst => {V42, 64}, type => unreachable}, "unreachable 2001:db8:42::/64"},
             {#{dst => {V43, 64}, type => prohibit, table => 200}, "prohibit 2001:db8:43::/64 table 200"},
             {#{dst => {V44, 128}, type => local, oif => <<"va">>}, "local 2001:db8:44:: dev va"},
             {#{dst => {{10, 9, 44, 0}, 24}, oif => <<"va">>,
                metrics => #{mtu => 1400, advmss => 1300, hoplimit => 30, initcwnd => 10,
                             window => 20000, rtt => 100}},
              "10.9.44.0/24 dev va mtu 1400 advmss 1300 hoplimit 30 initcwnd 10 window 20000 rtt 100"},
             {#{dst => {{10, 9, 45, 0}, 24}, oif => <<"va">>, metrics => #{mtu => 1400, lock => 4}},
              "10.9.45.0/24 dev va mtu lock 1400"},
             {#{dst => {{10, 9, 46, 0}, 24}, oif => <<"va">>, flow => 5}, "10.9.46.0/24 dev va realm 5"},
             {#{dst => {{10, 9, 47, 0}, 24}, oif => <<"va">>, flow => 3 bsl 16 bor 5},
              "10.9.47.0/24 dev va realms 3/5"},
             {#{dst => {V46, 64}, gateway => {16#2001, 16#db8, 0, 0, 0, 0, 0, 2}, oif => <<"va">>,
                pref => low}, "2001:db8:46::/64 via 2001:db8::2 dev va pref low"},
             {#{dst => {V47, 64}, oif => <<"va">>, expires => 600},
              "2001:db8:47::/64 dev va expires 600"},
             {#{dst => {V48, 64}, oif => <<"va">>, metrics => #{mtu => 1400, hoplimit => 9}},
              "2001:db8:48::/64 dev va mtu 1400 hoplimit 9"}],
    lists:foreach(fun({Route, Args}) ->
                          ok = linx_rtnl:route_add(Route, InA),
                          linx_ct_ns:sh_ok(["ip -n ", B, " route add ", Args])
                  end, Cases),
    same(ip, ip_routes(A), ip_routes(B)),
    {ok, RoutesA} = linx_rtnl:routes(InA),
    {ok, RoutesB} = linx_rtnl:routes(InB),
    same(linx, RoutesA, RoutesB),
    {ok, #{index := Va}} = linx_rtnl:link(<<"va">>, InB),
    lists:foreach(fun({Route, _}) ->
                          Dst = maps:get(dst, Route),
                          [Got] = [R || #{dst := D, type := T} = R <- RoutesB, D =:= Dst,
                                        T =:= maps:get(type, Route, unicast)],
                          Given = maps:without([oif, expires], Route),
                          Given = maps:with(maps:keys(Given), Got),
                          [Va = maps:get(oif, Got) || is_map_key(oif, Route)],
                          [true = E > 0 andalso E =< 600 || #{expires := E} <- [Got], is_map_key(expires, Route)]
                  end, Cases).

%%====================================================================
%% Errors
%%====================================================================

%% A bad filter names its key and value (or is not a map), before
%% anything is sent; it renders on one line. A namespace that is not
%% there is an error (not a table without routes).
bad_filters(Config) ->
    In = in(Config),
    [{error, #{reason := {bad_filter, Bad}}} = linx_rtnl:routes(F, In)
     || {F, Bad} <- [{#{table => 0}, {table, 0}}, {#{table => mine}, {table, mine}},
                     {#{table => 1 bsl 32}, {table, 1 bsl 32}}, {#{oif => 1.5}, {oif, 1.5}},
                     {#{family => bridge}, {family, bridge}}, {#{protocol => smtp}, {protocol, smtp}},
                     {#{type => 256}, {type, 256}}, {#{dev => <<"va">>}, {dev, <<"va">>}},
                     {[{table, 100}], [{table, 100}]}]],
    {error, #{errno := enodev}} = linx_rtnl:routes(#{oif => <<"nosuch">>}, In),
    {error, E} = linx_rtnl:routes(#{table => mine}, In),
    <<"linx_rtnl:routes: invalid route filter", _/binary>> = Line = linx:format_error(E),
    nomatch = binary:match(Line, <<"\n">>),
    {error, #{reason := {bad_option, {colour, red}}}} = linx_rtnl:routes(#{}, In#{colour => red}),
    %% No such namespace is an error, not an empty table.
    {error, #{errno := enoent}} = linx_rtnl:routes(#{table => 4242}, #{in => {netns, <<"linx-no-such-ns">>}}).

%% A dump the kernel ends with an error and extended-ack text (NLMSG_DONE
%% carries the errno, then the text, no copy of the request) is that
%% error with its message, not a malformed answer.
dump_error_with_text(Config) ->
    In = in(Config),
    {ok, Req, _} = linx_rtnl_route_query:filter(#{table => 4242, family => inet}, fun(I) -> {ok, I} end),
    {error, #{errno := enoent, message := <<"ipv4: FIB table does not exist">>}} =
        linx_nl:dump(route, Req, In#{strict => true}, routes, fun(_) -> {ok, x} end).

%%====================================================================
%% Helpers
%%====================================================================

in(Config) ->
    #{in => {netns, list_to_binary(?config(netns, Config))}}.

show(Ns, Dst) ->
    show(Ns, "-4", Dst).

show(Ns, Family, Dst) ->
    linx_ct_config:ip_json(Ns, [Family, " -d route show table all ", Dst]).

names(In) ->
    {ok, Links} = linx_rtnl:links(In),
    maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]).

%% `ip -j Args' as a term; none when the table asked for is not there
%% ("FIB table does not exist").
ip_show(Ns, Args) ->
    case linx_ct_ns:sh(["ip -j -n ", Ns, " ", Args, " 2>&1 >/dev/null"]) of
        {0, _} -> linx_ct_config:ip_json(Ns, Args);
        {_, <<"Error: ", _/binary>> = Text} ->
            {match, _} = re:run(Text, "FIB table does not exist"),
            []
    end.

%% The routes of every table, IPv4 and IPv6, as ip shows them (an
%% expiry's countdown as present).
ip_routes(Ns) ->
    lists:sort([maps:map(fun(<<"expires">>, _) -> counting; (_, V) -> V end, R)
                || F <- ["-4", "-6"], R <- linx_ct_config:ip_json(Ns, [F, " -d route show table all"])]).

same(_What, L, L) -> ok;
same(What, A, B) -> ct:fail({What, {linx_made, A -- B}, {ip_made, B -- A}}).

%% A route as ip's JSON shows it.
as_ip(Route, Names) ->
    Text = fun(IP) -> list_to_binary(inet:ntoa(IP)) end,
    Conv = fun(dst, _) -> dst_text(Route);
              (src, IP) -> Text(IP);
              (K, IP) when K =:= gateway; K =:= prefsrc -> Text(IP);
              (K, I) when K =:= oif; K =:= iif -> maps:get(I, Names);
              (table, T) -> maps:get(T, #{253 => <<"default">>, 254 => <<"main">>, 255 => <<"local">>},
                                     integer_to_binary(T));
              (scope, universe) -> <<"global">>;
              (_, A) when is_atom(A) -> atom_to_binary(A);
              (_, V) -> V
           end,
    Keys = #{type => <<"type">>, dst => <<"dst">>, src => <<"from">>, gateway => <<"gateway">>,
             oif => <<"dev">>, iif => <<"iif">>, table => <<"table">>, protocol => <<"protocol">>,
             scope => <<"scope">>, prefsrc => <<"prefsrc">>, metric => <<"metric">>, mark => <<"mark">>,
             uid => <<"uid">>, pref => <<"pref">>},
    maps:from_list([{maps:get(K, Keys), Conv(K, V)} || {K, V} <- maps:to_list(Route), is_map_key(K, Keys)]).

%% What ip shows of these keys, route_get gives; ip shows no more of the
%% first ones than route_get gives (the others it shows only at times).
same_as_ip(Dest, Linx, Ip) ->
    Always = [<<"type">>, <<"dst">>, <<"gateway">>, <<"dev">>, <<"iif">>, <<"table">>, <<"prefsrc">>,
              <<"metric">>, <<"mark">>, <<"uid">>, <<"pref">>],
    Shown = [K || K <- [<<"from">>, <<"protocol">>, <<"scope">>], is_map_key(K, Ip)],
    case {maps:with(Always ++ Shown, Linx), maps:with(Always ++ Shown, Ip)} of
        {Same, Same} -> ok;
        {L, I} -> ct:fail({route_get, Dest, {linx, L}, {ip, I}})
    end.

%% A route's destination as ip writes it: `default', an address alone
%% for a host, else the prefix.
dst_text(#{dst := default}) ->
    <<"default">>;
dst_text(#{dst := {IP, Len}}) when Len =:= 32, tuple_size(IP) =:= 4; Len =:= 128 ->
    list_to_binary(inet:ntoa(IP));
dst_text(#{dst := {IP, Len}}) ->
    iolist_to_binary([inet:ntoa(IP), "/", integer_to_list(Len)]).
