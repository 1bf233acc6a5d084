%% @doc Rules made by linx_nft, in the short form, seen working on real
%% traffic between namespaces joined by veth: `{random, 20}' with `drop'
%% drops 15-25% of 2,000 pings (and its counter counts exactly those);
%% `masquerade' makes a client's datagrams reach a server from the
%% router's address; `{dnat, Ip, Port}' forwards a TCP port of the router
%% to a server in a third namespace. Sockets in the namespaces come from
%% linx_netlink:socket_open/4.
-module(linx_nft_traffic_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([random_drops_a_fifth/1, masquerade_hides_the_client/1, dnat_forwards_a_port/1]).

-define(CLIENT, {10, 81, 1, 2}).
-define(ROUTER_IN, {10, 81, 1, 1}).
-define(ROUTER_OUT, {10, 81, 2, 1}).
-define(SERVER, {10, 81, 2, 2}).

all() ->
    [random_drops_a_fifth, masquerade_hides_the_client, dnat_forwards_a_port].

init_per_suite(Config) ->
    case linx_ct_ns:sh("nft --version && ping -V") of
        {0, _} -> linx_ct_ns:start_if_netns(Config);
        _ -> linx_ct_ns:require(no_nft_or_ping)
    end.

end_per_suite(_Config) ->
    ok.

%% A client, a router and a server: C (c0) --- (r0) R (r1) --- (s0) S,
%% the router forwarding, the client's default route through it.
init_per_testcase(_Case, Config) ->
    [C, R, S] = Names = [linx_ct_ns:unique(P) || P <- ["linx-nftt-c", "linx-nftt-r", "linx-nftt-s"]],
    [ok = linx_ct_ns:netns_add(N) || N <- Names],
    Sfx = integer_to_list(erlang:unique_integer([positive]) rem 100000),
    [C0, R0, R1, S0] = [P ++ Sfx || P <- ["c0x", "r0x", "r1x", "s0x"]],
    [linx_ct_ns:sh_ok(Cmd)
     || Cmd <- [["ip link add ", C0, " netns ", C, " type veth peer name ", R0, " netns ", R],
                ["ip link add ", R1, " netns ", R, " type veth peer name ", S0, " netns ", S],
                ["ip -n ", C, " addr add 10.81.1.2/24 dev ", C0],
                ["ip -n ", R, " addr add 10.81.1.1/24 dev ", R0],
                ["ip -n ", R, " addr add 10.81.2.1/24 dev ", R1],
                ["ip -n ", S, " addr add 10.81.2.2/24 dev ", S0]]
                ++ [["ip -n ", N, " link set ", L, " up"]
                    || {N, L} <- [{C, C0}, {R, R0}, {R, R1}, {S, S0}, {C, "lo"}, {R, "lo"},
                                  {S, "lo"}]]
                ++ [["ip -n ", C, " route add default via 10.81.1.1"]]],
    ok = linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1, in(R)),
    [{c, C}, {r, R}, {s, S}, {r_out, R1} | Config].

end_per_testcase(_Case, Config) ->
    [linx_ct_ns:netns_del(?config(K, Config)) || K <- [c, r, s]].

in(Ns) -> #{in => {netns, list_to_binary(Ns)}}.

%% A nat table of the router with one chain at `Hook'.
nat_chain(Hook, Prio) ->
    [{add, table, #{family => ip, name => <<"nat">>}},
     {add, chain, #{family => ip, table => <<"nat">>, name => <<"c">>, type => nat, hook => Hook,
                    priority => Prio, policy => accept}}].

rule(Exprs) ->
    {add, rule, #{family => ip, table => <<"nat">>, chain => <<"c">>, expressions => Exprs}}.

%% `{random, 20}' then `drop' on the pings the router gets: 15-25% of
%% 2,000 are lost, and the rule's counter has counted each one lost.
random_drops_a_fifth(Config) ->
    C = ?config(c, Config),
    R = ?config(r, Config),
    ok = linx_nft:apply(
           [{add, table, #{family => inet, name => <<"f">>}},
            {add, chain, #{family => inet, table => <<"f">>, name => <<"in">>, type => filter,
                           hook => input, priority => 0, policy => accept}},
            {add, rule, #{family => inet, table => <<"f">>, chain => <<"in">>,
                          expressions => [{match, meta, l4proto, icmp}, {random, 20}, counter,
                                          drop]}}],
           in(R)),
    Out = linx_ct_ns:sh_ok(["ip netns exec ", C, " ping -q -n -c 2000 -i 0.002 -W 1 10.81.1.1"
                            " | grep transmitted || true"]),
    ct:log("~s", [Out]),
    {match, [Sent, Received]} =
        re:run(Out, "(\\d+) packets transmitted, (\\d+) received", [{capture, all_but_first, list}]),
    2000 = list_to_integer(Sent),
    Lost = 2000 - list_to_integer(Received),
    ct:comment("~b of 2000 dropped", [Lost]),
    true = Lost >= 300 andalso Lost =< 500,
    {ok, [#{expressions := Exprs}]} = linx_nft:rules(in(R)),
    [Lost] = [N || {counter, #{packets := N}} <- Exprs].

%% Datagrams from the client reach the server from the client's address,
%% until `masquerade' on the router's way out: then from the router's.
masquerade_hides_the_client(Config) ->
    [C, R, S] = [?config(K, Config) || K <- [c, r, s]],
    {ok, Server} = udp(S, ?SERVER, 5353),
    %% The server's way back to the client, for the first datagram.
    linx_ct_ns:sh_ok(["ip -n ", S, " route add 10.81.1.0/24 via 10.81.2.1"]),
    ?CLIENT = from(C, Server),
    Out = list_to_binary(?config(r_out, Config)),
    ok = linx_nft:apply(nat_chain(postrouting, 100)
                        ++ [rule([{match, meta, oifname, Out}, masquerade])], in(R)),
    %% A new flow (another client socket): masqueraded.
    ?ROUTER_OUT = from(C, Server),
    ok = socket:close(Server).

%% A connection to the router's port 8080 reaches the server's port 80
%% once the router has `{dnat, Server, 80}' for it; before, nothing
%% listens there.
dnat_forwards_a_port(Config) ->
    [C, R, S] = [?config(K, Config) || K <- [c, r, s]],
    linx_ct_ns:sh_ok(["ip -n ", S, " route add default via 10.81.2.1"]),
    {ok, L} = linx_netlink:socket_open(inet, stream, tcp, in(S)),
    ok = socket:bind(L, #{family => inet, addr => ?SERVER, port => 80}),
    ok = socket:listen(L),
    {error, econnrefused} = connect(C, ?ROUTER_IN, 8080),
    ok = linx_nft:apply(nat_chain(prerouting, -100)
                        ++ [rule([{match, tcp, dport, 8080}, {dnat, ?SERVER, 80}])], in(R)),
    {ok, Client} = connect(C, ?ROUTER_IN, 8080),
    {ok, A} = socket:accept(L, 5000),
    {ok, #{addr := ?CLIENT}} = socket:peername(A),
    ok = socket:send(Client, <<"hello">>),
    {ok, <<"hello">>} = socket:recv(A, 5, 5000),
    ok = socket:send(A, <<"back">>),
    {ok, <<"back">>} = socket:recv(Client, 4, 5000),
    [ok = socket:close(X) || X <- [Client, A, L]].

%% A UDP socket in `Ns' bound to `Ip':`Port'.
udp(Ns, Ip, Port) ->
    {ok, Sock} = linx_netlink:socket_open(inet, dgram, udp, in(Ns)),
    ok = socket:bind(Sock, #{family => inet, addr => Ip, port => Port}),
    {ok, Sock}.

%% The source address the server sees of a datagram sent from a new
%% socket of the client.
from(C, Server) ->
    {ok, Client} = linx_netlink:socket_open(inet, dgram, udp, in(C)),
    ok = socket:sendto(Client, <<"hi">>, #{family => inet, addr => ?SERVER, port => 5353}),
    {ok, {#{addr := Addr}, <<"hi">>}} = socket:recvfrom(Server, 0, 5000),
    ok = socket:close(Client),
    Addr.

%% A TCP connection from namespace `Ns'.
connect(Ns, Ip, Port) ->
    {ok, Sock} = linx_netlink:socket_open(inet, stream, tcp, in(Ns)),
    case socket:connect(Sock, #{family => inet, addr => Ip, port => Port}, 5000) of
        ok -> {ok, Sock};
        {error, _} = Error -> socket:close(Sock), Error
    end.
