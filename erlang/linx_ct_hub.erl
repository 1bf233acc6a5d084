%% @doc The `hub' option of {@link linx_ct:setup/1} and {@link linx_cth}:
%% a namespace per node and one for the hub, a bridge `hub' in the hub,
%% and a veth pair from each node to it. This module only turns the
%% option into what setup/1 builds anyway (namespaces, a bridge, veth
%% entries with addresses and masters), so a hub is made in setup/1's
%% phases, one rtnetlink batch per namespace.
%%
%% Each node `K' gets `eth0' (with its address, up), and the hub the
%% other end, named after `K' (cut to 15 bytes), a port of the bridge,
%% up. The I-th node (from 1, in list order) gets the I-th host of the
%% prefix, by default of `10.254.0.0/16': `10.254.(I bsr 8).(I band 255)'.
-module(linx_ct_hub).

-export([expand/1, result/2]).

-export_type([spec/0, hub/0, partial/0]).

-type spec() :: [atom()]
              | #{nodes := [atom()], name => atom(), prefix => linx_rtnl:prefix()}.
%% The node keys, or the node keys with the hub's key (default `hub')
%% and the prefix the nodes' addresses come from.
-type hub() :: #{netns := binary(), bridge := binary(), ifname := binary(),
                 addrs := #{atom() => inet:ip_address()}, prefix_len := 0..128}.
%% What setup/1's result holds under `hub'.
-opaque partial() :: none | {atom(), map()}.
%% The hub of expand/1: its key, and the rest of hub().

-define(BRIDGE, <<"hub">>).
-define(IFNAME, <<"eth0">>).
-define(PREFIX, {{10, 254, 0, 0}, 16}).

%% @doc A spec of setup/1 with its `hub' option turned into namespaces
%% and a bridge (added to `netns' and `bridge'), the veth entries of the
%% nodes' pairs (as setup/1 keeps them, `{Node, Hub, Opts}' with names,
%% addresses and masters; kept apart since they need no automatic
%% addresses and do not count towards the limit of `veth') and the hub
%% as it will be in the result, but for the hub namespace's name
%% ({@link result/2}). A spec without `hub' comes back as it was. (The
%% pairs' options are linx_ct:veth_opts(), written as map(): linx_ct
%% calls this module.)
-spec expand(map()) -> {ok, map(), [{atom(), atom(), map()}], partial()}
                           | {error, {bad_option, {hub, term()}}}.
expand(#{hub := Hub} = Spec) ->
    case parse(Hub) of
        {ok, Nodes, HubKey, Prefix} ->
            case conflicts(Spec, Nodes, HubKey) of
                ok -> {ok, merge(Spec, Nodes, HubKey), pairs(Nodes, HubKey, Prefix), hub(Nodes, HubKey, Prefix)};
                bad -> {error, {bad_option, {hub, Hub}}}
            end;
        bad ->
            {error, {bad_option, {hub, Hub}}}
    end;
expand(Spec) ->
    {ok, Spec, [], none}.

%% @doc The hub of {@link expand/1} with the name of its namespace, from
%% the namespaces setup/1 made.
-spec result(partial(), #{atom() => binary()}) -> #{hub => hub()}.
result(none, _Names) ->
    #{};
result({Key, Hub}, Names) ->
    #{hub => Hub#{netns => maps:get(Key, Names)}}.

%%====================================================================
%% Internal
%%====================================================================

parse(Nodes) when is_list(Nodes) ->
    parse(#{nodes => Nodes});
parse(#{nodes := Nodes} = Hub) ->
    HubKey = maps:get(name, Hub, hub),
    Prefix = maps:get(prefix, Hub, ?PREFIX),
    Ports = [port_name(K) || K <- Nodes, is_atom(K)],
    case maps:size(maps:without([nodes, name, prefix], Hub)) =:= 0
        andalso Nodes =/= []
        andalso lists:all(fun is_atom/1, Nodes)
        andalso is_atom(HubKey)
        andalso not lists:member(HubKey, Nodes)
        andalso length(lists:usort(Ports)) =:= length(Nodes)
        andalso lists:all(fun valid_port/1, Ports)
        andalso fits(Prefix, length(Nodes)) of
        true -> {ok, Nodes, HubKey, Prefix};
        false -> bad
    end;
parse(_) ->
    bad.

%% The hub's end of node K's pair: the key, cut to 15 bytes.
port_name(K) ->
    Name = atom_to_binary(K),
    binary:part(Name, 0, min(15, byte_size(Name))).

%% A name the kernel takes for an interface, and not one the hub has
%% already (its bridge, lo).
valid_port(Name) ->
    Name =/= <<>> andalso Name =/= <<".">> andalso Name =/= <<"..">>
        andalso Name =/= ?BRIDGE andalso Name =/= <<"lo">>
        andalso nomatch =:= binary:match(Name, [<<"/">>, <<":">>, <<" ">>, <<"\t">>, <<"\n">>,
                                                <<"\r">>, <<"\v">>, <<"\f">>, <<0>>]).

%% Room for N hosts in the prefix (not its first address, nor an IPv4
%% prefix's last, the broadcast).
fits({IP, Len}, N) when is_integer(Len) ->
    case family(IP) of
        {ok, Bits} when Len >= 0, Len =< Bits ->
            Hosts = (1 bsl (Bits - Len)) - case Bits of 32 -> 2; 128 -> 1 end,
            N =< Hosts;
        _ ->
            false
    end;
fits(_, _) ->
    false.

family(IP) when tuple_size(IP) =:= 4 -> bits(IP, 8, 32);
family(IP) when tuple_size(IP) =:= 8 -> bits(IP, 16, 128);
family(_) -> error.

bits(IP, Each, Total) ->
    case lists:all(fun(P) -> is_integer(P) andalso P >= 0 andalso P < 1 bsl Each end, tuple_to_list(IP)) of
        true -> {ok, Total};
        false -> error
    end.

%% The I-th host of the prefix.
host({IP, Len}, I) ->
    {Each, Total} = case tuple_size(IP) of 4 -> {8, 32}; 8 -> {16, 128} end,
    Int = lists:foldl(fun(P, Acc) -> Acc bsl Each bor P end, 0, tuple_to_list(IP)),
    Net = Int band bnot ((1 bsl (Total - Len)) - 1),
    Host = Net + I,
    list_to_tuple([(Host bsr (Each * S)) band ((1 bsl Each) - 1)
                   || S <- lists:seq(Total div Each - 1, 0, -1)]).

%% What the rest of the spec must not have: a veth entry between a node
%% and the hub (its pair would be a node's), a `netns' that is not a
%% list or count.
conflicts(Spec, Nodes, HubKey) ->
    Ends = fun(P) -> lists:sort([element(1, P), element(2, P)]) end,
    Hubbed = [P || P <- maps:get(veth, Spec, []), is_tuple(P), tuple_size(P) >= 2,
                   N <- Nodes, Ends(P) =:= lists:sort([N, HubKey])],
    case {Hubbed, maps:get(netns, Spec, [])} of
        {[], Ns} when is_list(Ns); is_integer(Ns), Ns >= 0 -> ok;
        _ -> bad
    end.

%% The spec with the nodes and the hub in `netns' and the bridge in
%% `bridge', without `hub'.
merge(Spec, Nodes, HubKey) ->
    Netns = case maps:get(netns, Spec, []) of
                N when is_integer(N) -> [list_to_atom("ns" ++ integer_to_list(I)) || I <- lists:seq(1, N)];
                Keys -> Keys
            end,
    Bridges = maps:get(bridge, Spec, #{}),
    Added = [K || K <- Nodes ++ [HubKey], not lists:member(K, Netns)],
    (maps:without([hub], Spec))#{
      netns => Netns ++ Added,
      bridge => case is_map(Bridges) of
                    true -> Bridges#{HubKey => maps:get(HubKey, Bridges, []) ++ [?BRIDGE]};
                    false -> Bridges
                end}.

%% Each node's pair, made in the node with its end in the hub.
pairs(Nodes, HubKey, {_, Len} = Prefix) ->
    [{K, HubKey, #{names => {?IFNAME, port_name(K)},
                   addrs => {{host(Prefix, I), Len}, none},
                   master => {none, ?BRIDGE}}}
     || {I, K} <- lists:zip(lists:seq(1, length(Nodes)), Nodes)].

hub(Nodes, HubKey, {_, Len} = Prefix) ->
    {HubKey, #{bridge => ?BRIDGE, ifname => ?IFNAME, prefix_len => Len,
      addrs => maps:from_list([{K, host(Prefix, I)}
                               || {I, K} <- lists:zip(lists:seq(1, length(Nodes)), Nodes)])}}.
