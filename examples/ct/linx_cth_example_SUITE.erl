%% The README's example: a UDP echo across two namespaces joined by a veth
%% pair, all made by the linx_cth hook and removed after the suite.
-module(linx_cth_example_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0]).
-export([udp_echo/1, forwarding_set/1]).

suite() ->
    [{ct_hooks, [{linx_cth, #{netns => [client, server],
                              veth => [{client, server}],
                              sysctl => #{server => #{<<"net.ipv4.ip_forward">> => 1}}}}]}].

all() ->
    [udp_echo, forwarding_set].

udp_echo(Config) ->
    {_, ServerIp} = linx_cth:veth_end(server, client, Config),
    %% A UDP socket made inside each namespace, used from this node.
    {ok, Server} = linx_netlink:socket_open(inet, dgram, udp,
                                            #{in => {netns, linx_cth:netns(server, Config)}}),
    ok = socket:bind(Server, #{family => inet, addr => ServerIp, port => 7007}),
    {ok, Client} = linx_netlink:socket_open(inet, dgram, udp,
                                            #{in => {netns, linx_cth:netns(client, Config)}}),
    ok = socket:sendto(Client, <<"ping">>, #{family => inet, addr => ServerIp, port => 7007}),
    {ok, {From, <<"ping">>}} = socket:recvfrom(Server, 0, 5000),
    ok = socket:sendto(Server, <<"pong">>, From),
    {ok, {#{addr := ServerIp}, <<"pong">>}} = socket:recvfrom(Client, 0, 5000),
    report(Config).

forwarding_set(Config) ->
    {ok, <<"1">>} = linx_sysctl:read(<<"net.ipv4.ip_forward">>,
                                     #{in => {netns, linx_cth:netns(server, Config)}}),
    {ok, <<"0">>} = linx_sysctl:read(<<"net.ipv4.ip_forward">>,
                                     #{in => {netns, linx_cth:netns(client, Config)}}).

%% For the suite that runs this one: what was made, as `ip' saw it.
report(Config) ->
    case os:getenv("LINX_CTH_REPORT") of
        false -> ok;
        File ->
            Names = [linx_cth:netns(K, Config) || K <- [client, server]],
            Seen = [{N, os:cmd("ip -o -n " ++ binary_to_list(N) ++ " addr show")} || N <- Names],
            ok = file:write_file(File, io_lib:format("~p.~n", [Seen]), [append])
    end.
