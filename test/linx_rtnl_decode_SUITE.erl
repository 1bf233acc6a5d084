%% @doc The fast decoding of dumps against the plain one, on real dumps
%% of a namespace with links of several kinds, addresses, thousands of
%% routes (with metrics and next hops), rules and neighbours: each
%% object's fixed header read by its plan (linx_nl_struct) as
%% linx_nl_attrs:decode_struct/2 reads it, and each dump of linx_rtnl
%% (decoded in parts on other schedulers while it comes) equal to the
%% same request's replies taken whole and decoded one after the other.
-module(linx_rtnl_decode_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([headers_read_alike/1, dumps_decode_alike/1]).

-define(ROUTES, 3000).

all() ->
    [headers_read_alike, dumps_decode_alike].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_with_netns("linx-decode", Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            populate(?config(netns, Config1)),
            Config1
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

populate(Ns) ->
    Lines = ["link add d0 up type bridge\n",
             "link add a0 up type veth peer name b0\n",
             "link set b0 up master d0\n",
             "addr add 10.0.0.1/24 dev d0\n",
             "addr add fd00::1/64 dev d0 nodad\n",
             "addr add 10.1.0.1/24 dev a0 valid_lft 300 preferred_lft 200\n",
             "route add 10.9.0.0/16 nexthop via 10.0.0.2 dev d0 weight 2 nexthop via 10.0.0.3 dev d0\n",
             "route add 10.8.0.0/16 via 10.0.0.2 dev d0 mtu 1400 metric 7 table 100\n",
             "route add fd01::/64 via fd00::2 dev d0\n",
             "neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev d0\n",
             "neigh add fd00::5 lladdr 02:00:00:00:00:06 dev d0\n"]
        ++ [io_lib:format("route add 172.16.~b.~b/32 dev d0~n", [I div 250, I rem 250 + 1])
            || I <- lists:seq(0, ?ROUTES - 1)]
        ++ [io_lib:format("rule add priority ~b fwmark ~b table ~b~n", [I, I, 100 + I])
            || I <- lists:seq(1, 50)],
    linx_ct_ns:sh_ok_with_file(Lines, fun(File) -> ["ip -n ", Ns, " -batch ", File] end).

kinds() -> [link, addr, route, rule, neigh].

%% The replies to a dump request of `Kind', taken whole (one frame).
payloads(Kind, Config) ->
    {ok, Msgs} = linx_nl:call(route, linx_rtnl_req:dump(Kind), in(Config)),
    New = linx_rtnl_msg:message_type(Kind, new),
    [P || #{type := T, payload := P} <- Msgs, T =:= New].

%% Every object's header, read by its plan and by decode_struct/2.
headers_read_alike(Config) ->
    [begin
         Fields = linx_rtnl_tables:header(Kind),
         Plan = linx_nl_struct:plan(Fields),
         Payloads = payloads(Kind, Config),
         true = Payloads =/= [],
         [{Kind, P, Same} = {Kind, P, linx_nl_attrs:decode_struct(Fields, P)}
          || P <- Payloads, Same <- [linx_nl_struct:decode(Plan, P)]]
     end || Kind <- kinds()],
    ok.

%% Each dump of linx_rtnl, as the replies taken whole decode one after
%% the other. The routes come in parts (checked), so that their decoding
%% runs on other schedulers. The kernel may change an object between
%% the two dumps (a neighbour's state): they are compared until alike.
dumps_decode_alike(Config) ->
    Opts = in(Config),
    true = erlang:system_info(schedulers_online) > 1 orelse {skip, one_scheduler},
    #{flags := Flags} = RouteDump = linx_rtnl_req:dump(route),
    %% NLM_F_REQUEST, as linx_nl sets it.
    Req = iolist_to_binary(linx_nl_codec:encode(RouteDump#{flags => Flags bor 1, seq => 1})),
    {{ok, _}, Parts} = linx_netlink:call(route, Req, Opts, fun(_, N) -> N + 1 end, 0),
    ct:log("the route dump came in ~b parts and the rest", [Parts]),
    true = Parts >= 2,
    Calls = [{link, fun linx_rtnl:links/1, fun(P) -> linx_rtnl_msg:decode_link(P, false) end},
             {addr, fun linx_rtnl:addrs/1, fun linx_rtnl_msg:decode_addr/1},
             {route, fun linx_rtnl:routes/1, fun linx_rtnl_msg:decode_route/1},
             {rule, fun linx_rtnl:rules/1, fun linx_rtnl_msg:decode_rule/1},
             {neigh, fun linx_rtnl:neighs/1, fun linx_rtnl_msg:decode_neigh/1}],
    [begin
         Alike = fun() ->
                         {ok, Dumped} = Dump(Opts),
                         Whole = [Map || P <- payloads(Kind, Config), {ok, Map} <- [Decode(P)]],
                         Dumped =:= case Kind of
                                        neigh -> linx_rtnl_msg:ip_neighs(Whole);
                                        _ -> Whole
                                    end
                 end,
         ok = linx_ct_ns:wait_until(Alike, 5000)
     end || {Kind, Dump, Decode} <- Calls],
    {ok, Routes} = linx_rtnl:routes(Opts),
    true = length(Routes) > ?ROUTES,
    ok.
