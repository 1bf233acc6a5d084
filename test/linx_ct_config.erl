%% @doc The configuration of a network namespace as `ip -j' shows it, as
%% one term to compare before and after a change (for
%% linx_rtnl_batch_SUITE): its links (name, index, kind, MTU, address,
%% master, txqlen, up or not, veth peer), addresses, routes of every table
%% (without their `flags', which say `linkdown' and the like) and
%% permanent neighbours. Operational state (carrier, operstate,
%% statistics, lifetimes) is left out, and so is what the kernel makes
%% for IPv6 by itself on a link that is up and has a carrier: its
%% link-local address (from the link's address when it came up, so it
%% depends on the link's history) and the routes `fe80::/64', `ff00::/8'
%% and that of the link-local address.
-module(linx_ct_config).

-export([snapshot/1, settled/1, same_as/2, diff/2, ip_json/2]).

-type config() :: #{links := [map()], addrs := [map()], routes := [map()], neighs := [map()]}.
-export_type([config/0]).

%% @doc The configuration of netns `Ns' now.
-spec snapshot(string()) -> config().
snapshot(Ns) ->
    #{links => links(Ns), addrs => addrs(Ns), routes => routes(Ns), neighs => neighs(Ns)}.

%% @doc The configuration of `Ns' once two snapshots in a row agree (the
%% kernel may still be adding a link-local address or its routes).
-spec settled(string()) -> config().
settled(Ns) ->
    {Config, _} = linx_ct_ns:read_between(fun() -> snapshot(Ns) end, fun() -> snapshot(Ns) end,
                                          fun(A, B) -> A =:= B end, 10000),
    Config.

%% @doc Waits (up to 5 s) until the configuration of `Ns' is `Before'
%% again; fails the test with what differs if it does not get there.
-spec same_as(string(), config()) -> ok.
same_as(Ns, Before) ->
    case linx_ct_ns:wait_until(fun() -> snapshot(Ns) =:= Before end, 5000) of
        ok -> ok;
        {error, timeout} -> ct:fail({configuration_differs, diff(Before, snapshot(Ns))})
    end.

%% @doc What `After' lacks and what it has more, per kind of object.
-spec diff(config(), config()) -> map().
diff(Before, After) ->
    maps:from_list([{K, #{gone => V -- maps:get(K, After), new => maps:get(K, After) -- V}}
                    || {K, V} <- maps:to_list(Before), V =/= maps:get(K, After)]).

%% @doc `ip -j -n Ns Args' as a term (JSON objects as maps with binary
%% keys: linx_ct_ip:json/1).
-spec ip_json(string(), iodata()) -> term().
ip_json(Ns, Args) ->
    linx_ct_ip:json(["ip -j -n ", Ns, " ", Args]).

links(Ns) ->
    lists:sort([#{ifname => maps:get(<<"ifname">>, E),
                  index => maps:get(<<"ifindex">>, E),
                  kind => maps:get(<<"info_kind">>, maps:get(<<"linkinfo">>, E, #{}), none),
                  mtu => maps:get(<<"mtu">>, E),
                  address => maps:get(<<"address">>, E, none),
                  master => maps:get(<<"master">>, E, none),
                  txqlen => maps:get(<<"txqlen">>, E, none),
                  up => lists:member(<<"UP">>, maps:get(<<"flags">>, E, [])),
                  peer => maps:get(<<"link">>, E, none)}
                || E <- ip_json(Ns, "-d link show")]).

addrs(Ns) ->
    Keys = [<<"family">>, <<"local">>, <<"prefixlen">>, <<"scope">>, <<"label">>,
            <<"broadcast">>, <<"nodad">>, <<"noprefixroute">>],
    lists:sort([(maps:with(Keys, A))#{dev => maps:get(<<"ifname">>, E)}
                || E <- ip_json(Ns, "addr show"), A <- maps:get(<<"addr_info">>, E, []),
                   not link_local(A)]).

link_local(#{<<"family">> := <<"inet6">>, <<"scope">> := <<"link">>}) -> true;
link_local(_) -> false.

routes(Ns) ->
    lists:sort([maps:remove(<<"flags">>, R)
                || Family <- ["-4", "-6"], R <- ip_json(Ns, [Family, " route show table all"]),
                   not kernel_ipv6(R)]).

kernel_ipv6(#{<<"protocol">> := <<"kernel">>, <<"dst">> := <<"fe80:", _/binary>>}) -> true;
kernel_ipv6(#{<<"protocol">> := <<"kernel">>, <<"dst">> := <<"ff00::/8">>}) -> true;
kernel_ipv6(_) -> false.

neighs(Ns) ->
    lists:sort(ip_json(Ns, "neigh show nud permanent")).
