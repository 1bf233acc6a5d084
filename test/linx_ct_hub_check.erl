%% @doc Checks of a hub made by linx_ct:setup/1 or linx_cth (option
%% `hub'), for linx_ct_SUITE and linx_cth_SUITE: `ip -j -d link' and
%% `ip -j addr' of every namespace as the oracle, and `ping' from every
%% node to every other.
-module(linx_ct_hub_check).

-include_lib("stdlib/include/assert.hrl").

-export([built/2, pings/1, links/1, addrs/1]).

%% @doc The hub of `Setup' (a result of linx_ct:setup/1) is what the
%% option asks for, as `ip' shows it: in the hub namespace `lo', the
%% bridge `hub' and one port per node, named after it, up (and with a
%% carrier), and no
%% address but lo's; in each node `lo' and `eth0', up, with its address.
-spec built(map(), [atom()]) -> ok.
built(#{netns := Names, hub := #{netns := Hub, addrs := Addrs, prefix_len := Len} = H}, Nodes) ->
    ?assertEqual(#{bridge => <<"hub">>, ifname => <<"eth0">>}, maps:with([bridge, ifname], H)),
    ?assertEqual(lists:sort(Nodes), lists:sort(maps:keys(Addrs))),
    Ports = [{port(K), <<"hub">>, <<"up">>, <<"veth">>} || K <- Nodes],
    ?assertEqual(lists:sort([{<<"lo">>, none, <<"up">>, none},
                             {<<"hub">>, none, <<"up">>, <<"bridge">>} | Ports]),
                 lists:sort(links(Hub))),
    ?assertEqual([{<<"lo">>, <<"127.0.0.1">>, 8}], addrs(Hub)),
    [begin
         Ns = maps:get(K, Names),
         ?assertEqual(lists:sort([{<<"lo">>, none, <<"up">>, none},
                                  {<<"eth0">>, none, <<"up">>, <<"veth">>}]),
                      lists:sort(links(Ns))),
         ?assertEqual(lists:sort([{<<"lo">>, <<"127.0.0.1">>, 8},
                                  {<<"eth0">>, list_to_binary(inet:ntoa(maps:get(K, Addrs))), Len}]),
                      lists:sort(addrs(Ns)))
     end || K <- Nodes],
    ok.

port(K) ->
    Name = atom_to_binary(K),
    binary:part(Name, 0, min(15, byte_size(Name))).

%% @doc Every node pings every other once (`ping -c 1', each node's pings
%% one after another, the nodes at once); the replies counted.
-spec pings(map()) -> non_neg_integer().
pings(#{netns := Names, hub := #{addrs := Addrs}}) ->
    Parent = self(),
    Pids = [spawn_link(fun() ->
                               Others = [inet:ntoa(IP) || {O, IP} <- maps:to_list(Addrs), O =/= K],
                               Cmd = ["ip netns exec ", maps:get(K, Names), " sh -c 'for a in ",
                                      lists:join(" ", Others),
                                      "; do ping -n -q -c 1 -W 5 $a >/dev/null && echo reply; done'"],
                               {_, Out} = linx_ct_ns:sh(Cmd),
                               Parent ! {self(), length(binary:matches(Out, <<"reply">>))}
                       end)
            || K <- maps:keys(Addrs)],
    lists:sum([receive {P, N} -> N end || P <- Pids]).

%% @doc `ip -j -d -n Ns link': each link's name, master (or `none'),
%% `up' or `down' (up: flags UP and LOWER_UP, set at once, where the
%% operstate follows a moment later) and kind (or `none').
-spec links(binary()) -> [{binary(), binary() | none, binary(), binary() | none}].
links(Ns) ->
    [list_to_tuple([none_if_dash(F) || F <- Fields])
     || Fields <- json_lines(["ip -j -d -n ", Ns, " link show"],
                             "for l in d: print(l[\"ifname\"], l.get(\"master\", \"-\"),"
                             " \"up\" if {\"UP\", \"LOWER_UP\"} <= set(l[\"flags\"]) else \"down\","
                             " l.get(\"linkinfo\", {}).get(\"info_kind\", \"-\"))")].

%% @doc `ip -j -n Ns addr': each IPv4 address's link, address and
%% prefix length.
-spec addrs(binary()) -> [{binary(), binary(), 0..32}].
addrs(Ns) ->
    [{If, Local, binary_to_integer(Len)}
     || [If, Local, Len] <- json_lines(["ip -j -n ", Ns, " -4 addr show"],
                                       "for l in d:\n"
                                       "  for a in l.get(\"addr_info\", []): print(l[\"ifname\"], a[\"local\"], a[\"prefixlen\"])")].

none_if_dash(<<"-">>) -> none;
none_if_dash(F) -> F.

%% The command's JSON, printed by the Python lines (with the JSON in `d')
%% as lines of fields.
json_lines(Cmd, Py) ->
    Out = linx_ct_ns:sh_ok([Cmd, " | python3 -c 'import json, sys\nd = json.load(sys.stdin)\n", Py, "'"]),
    [binary:split(L, <<" ">>, [global]) || L <- binary:split(Out, <<"\n">>, [global]), L =/= <<>>].
