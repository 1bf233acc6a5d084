%% @doc Bridge forwarding entries (linx_rtnl:fdb/1,2, fdb_add/2,
%% fdb_del/2) and proxy neighbours (neigh_add/2 with `proxy', neighs/2)
%% against real namespaces, with `bridge -j fdb show' and `ip -j neigh
%% show proxy' as the oracles, both ways: what linx adds bridge reads,
%% what bridge adds linx reads, entry for entry (the bridge's and a
%% port's own, permanent, static and dynamic, a vxlan link's remotes with
%% dst, port and vni), filtered by bridge and by link; an entry dumped,
%% deleted and added back the same; a VLAN entry sent byte for byte as
%% `bridge' sends it; bad fields named; events, resyncs and batches.
-module(linx_rtnl_fdb_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_bridge/1, made_by_bridge_read_by_linx/1, filters_as_bridge/1,
         dumped_deleted_added_back/1, master_and_self/1, vlan_as_bridge_sends_it/1,
         proxy_neighbours/1, bad_fields_named/1, fdb_events_and_resync/1, fdb_in_a_batch/1]).

all() ->
    [made_by_linx_read_by_bridge, made_by_bridge_read_by_linx, filters_as_bridge,
     dumped_deleted_added_back, master_and_self, vlan_as_bridge_sends_it, proxy_neighbours,
     bad_fields_named, fdb_events_and_resync, fdb_in_a_batch].

%% Turns `bridge -j fdb show' into one line per entry, as line/2 writes
%% linx's: mac, link, flags, state and the optional fields.
-define(SCRIPT, "import json, sys\n"
                "for e in json.load(sys.stdin):\n"
                "    p = [e['mac'], e.get('ifname', sys.argv[1]), ','.join(sorted(e.get('flags', []))),\n"
                "         'state=' + e.get('state', '')]\n"
                "    for k in ('master', 'dst', 'port', 'vni', 'vlan'):\n"
                "        if k in e: p.append('%s=%s' % (k, e[k]))\n"
                "    print(' '.join(p))\n").

init_per_suite(Config) ->
    Script = filename:join(?config(priv_dir, Config), "fdb_lines.py"),
    ok = file:write_file(Script, ?SCRIPT),
    [{script, Script} | linx_ct_ns:start_if_netns(Config)].

end_per_suite(_Config) ->
    ok.

%% A namespace of its own for each case, without IPv6 (so that no link
%% sends anything for the bridge to learn, nor gets a multicast address,
%% while a case runs): a bridge br0 with the port v0, whose peer is v1,
%% all up, and a vxlan link vx0.
init_per_testcase(_Case, Config0) ->
    case linx_ct_ns:start_with_netns("linx-fdb", Config0) of
        {skip, _} = Skip ->
            Skip;
        Config ->
            Ns = ?config(netns, Config),
            linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
                              " net.ipv6.conf.default.disable_ipv6=1"]),
            [linx_ct_ns:sh_ok(["ip -n ", Ns, " link ", C])
             || C <- ["add br0 type bridge", "add v0 type veth peer name v1", "set v0 master br0",
                      "set br0 up", "set v0 up", "set v1 up",
                      "add vx0 type vxlan id 42 dstport 4789 local 10.0.0.1 nolearning"]],
            Config
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% The entries of the cases, as linx takes them and as `bridge fdb add'
%% writes them.
entries() ->
    [{#{mac => <<"02:00:00:00:00:01">>, dev => <<"v0">>, master => true},
      "02:00:00:00:00:01 dev v0 master permanent"},
     {#{mac => <<2, 0, 0, 0, 0, 2>>, dev => <<"v0">>, master => true, state => static},
      "02:00:00:00:00:02 dev v0 master static"},
     {#{lladdr => "02:00:00:00:00:03", dev => <<"v0">>, master => true, state => dynamic},
      "02:00:00:00:00:03 dev v0 master dynamic"},
     {#{mac => <<"02:00:00:00:00:04">>, dev => <<"v0">>, master => true, extern_learn => true},
      "02:00:00:00:00:04 dev v0 master extern_learn"},
     {#{mac => <<"02:00:00:00:00:05">>, dev => <<"v0">>},
      "02:00:00:00:00:05 dev v0"},
     {#{mac => <<"02:00:00:00:00:06">>, dev => <<"v1">>, self => true, state => permanent},
      "02:00:00:00:00:06 dev v1 self permanent"},
     {#{mac => <<"00:00:00:00:00:00">>, dev => <<"vx0">>, dst => {10, 0, 0, 2}, port => 4790,
        vni => 7},
      "00:00:00:00:00:00 dev vx0 dst 10.0.0.2 port 4790 vni 7"},
     {#{mac => <<"02:00:00:00:00:07">>, dev => <<"vx0">>, dst => {10, 0, 0, 3}, state => static},
      "02:00:00:00:00:07 dev vx0 dst 10.0.0.3 static"},
     {#{mac => <<"02:00:00:00:00:08">>, dev => <<"vx0">>, dst => {10, 0, 0, 6}, vni => 8, self => true},
      "02:00:00:00:00:08 dev vx0 dst 10.0.0.6 vni 8 self"}].

%% What linx adds, bridge reads with the same values (and linx too); the
%% same entries deleted and added by bridge are printed the same.
made_by_linx_read_by_bridge(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    [ok = linx_rtnl:fdb_add(E, In) || {E, _} <- entries()],
    Lines = same_as_bridge(Config, #{}, ""),
    Mine = added_lines(Lines),
    9 = length(Mine),
    [linx_ct_ns:sh_ok(["bridge -n ", Ns, " fdb del ", Args]) || {_, Args} <- entries()],
    [] = added_lines(bridge_lines(Config, "")),
    [linx_ct_ns:sh_ok(["bridge -n ", Ns, " fdb add ", Args]) || {_, Args} <- entries()],
    Mine = added_lines(bridge_lines(Config, "")).

%% What bridge adds, linx reads with the same values.
made_by_bridge_read_by_linx(Config) ->
    Ns = ?config(netns, Config),
    [linx_ct_ns:sh_ok(["bridge -n ", Ns, " fdb add ", Args]) || {_, Args} <- entries()],
    9 = length(added_lines(same_as_bridge(Config, #{}, ""))),
    {ok, Fdb} = linx_rtnl:fdb(in(Config)),
    {ok, #{index := Br}} = linx_rtnl:link(<<"br0">>, in(Config)),
    [#{master := Br, flags := [], state := [noarp]}] = [E || #{mac := <<2, 0, 0, 0, 0, 2>>} = E <- Fdb],
    [#{master := Br, flags := [extern_learn]}] = [E || #{mac := <<2, 0, 0, 0, 0, 4>>} = E <- Fdb],
    [#{dst := {10, 0, 0, 2}, port := 4790, vni := 7, flags := [self]}] =
        [E || #{mac := <<0:48>>} = E <- Fdb].

%% The lines of the entries of entries() among `Lines'.
added_lines(Lines) ->
    Macs = [hd(string:split(Args, " ")) || {_, Args} <- entries()],
    [L || L <- Lines, lists:any(fun(M) -> string:prefix(L, M) =/= nomatch end, Macs)].

%% `bridge fdb show br br0', `dev vx0' and `dev v0' against fdb/2 of the
%% same filter.
filters_as_bridge(Config) ->
    In = in(Config),
    [ok = linx_rtnl:fdb_add(E, In) || {E, _} <- entries()],
    {ok, #{index := V0}} = linx_rtnl:link(<<"v0">>, In),
    Br = same_as_bridge(Config, #{master => <<"br0">>}, "br br0"),
    Vx = same_as_bridge(Config, #{dev => <<"vx0">>}, "dev vx0"),
    V = same_as_bridge(Config, #{index => V0}, "dev v0"),
    true = Br =/= [] andalso Vx =/= [] andalso V =/= [],
    [] = [L || L <- Br, string:find(L, " vx0 ") =/= nomatch],
    [] = [L || L <- Vx, string:find(L, " vx0 ") =:= nomatch],
    {error, #{errno := enodev}} = linx_rtnl:fdb(#{master => <<"nothere">>}, In).

%% Every entry linx dumps is deleted by its map (bridge no longer shows
%% it) and added back by the same map: bridge then shows what it showed
%% before, and linx dumps the same maps.
dumped_deleted_added_back(Config) ->
    In = in(Config),
    [ok = linx_rtnl:fdb_add(E, In) || {E, _} <- entries()],
    Before = bridge_lines(Config, ""),
    {ok, Fdb} = linx_rtnl:fdb(In),
    Macs = [element(2, linx_nl_values:mac(maps:get(mac, E, maps:get(lladdr, E, none))))
            || {E, _} <- entries()],
    Mine = [E || #{mac := M} = E <- Fdb, lists:member(M, Macs)],
    9 = length(Mine),
    [begin
         ok = linx_rtnl:fdb_del(E, In),
         [_] = Before -- bridge_lines(Config, ""),
         ok = linx_rtnl:fdb_add(E, In),
         Before = bridge_lines(Config, "")
     end || E <- Mine],
    {ok, Again} = linx_rtnl:fdb(In),
    Strip = fun(L) -> lists:sort([maps:remove(unknown, X) || X <- L]) end,
    true = Strip(Fdb) =:= Strip(Again),
    ok = linx_rtnl:fdb_del(hd(Mine), In),
    {error, #{stage := netlink, errno := enoent, op := fdb_del}} = linx_rtnl:fdb_del(hd(Mine), In).

%% One MAC in the bridge's table and in the port's own: two entries; the
%% port's deleted, the bridge's stays.
master_and_self(Config) ->
    In = in(Config),
    Mac = <<"02:00:00:00:00:aa">>,
    ok = linx_rtnl:fdb_add(#{mac => Mac, dev => <<"v0">>, master => true}, In),
    ok = linx_rtnl:fdb_add(#{mac => Mac, dev => <<"v0">>, self => true}, In),
    Two = [L || L <- bridge_lines(Config, ""), string:prefix(L, Mac) =/= nomatch],
    [<<"02:00:00:00:00:aa v0  state=permanent master=br0">>,
     <<"02:00:00:00:00:aa v0 self state=permanent">>] = lists:sort(Two),
    ok = linx_rtnl:fdb_del(#{mac => Mac, dev => <<"v0">>, self => true}, In),
    [<<"02:00:00:00:00:aa v0  state=permanent master=br0">>] =
        [L || L <- bridge_lines(Config, ""), string:prefix(L, Mac) =/= nomatch].

%% A VLAN entry is the request `bridge fdb add ... vlan N' sends, byte
%% for byte (read with strace); the kernel answers both alike (this one
%% has no VLAN filtering, and refuses the VLAN; with it, both add it).
vlan_as_bridge_sends_it(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    {ok, #{index := V0}} = linx_rtnl:link(<<"v0">>, In),
    {ok, #{index := Vx}} = linx_rtnl:link(<<"vx0">>, In),
    Cases = [{#{mac => <<"02:00:00:00:00:b1">>, index => V0, master => true, state => static,
                vlan => 10}, "02:00:00:00:00:b1 dev v0 master static vlan 10"},
             {#{mac => <<"02:00:00:00:00:b2">>, index => V0, sticky => true, vlan => 4094},
              "02:00:00:00:00:b2 dev v0 sticky vlan 4094"},
             {#{mac => <<"02:00:00:00:00:b3">>, index => Vx, dst => {10, 0, 0, 4}, vni => 9,
                src_vni => 5, port => 8472, vlan => 3, via => <<"v1">>},
              "02:00:00:00:00:b3 dev vx0 dst 10.0.0.4 port 8472 vlan 3 vni 9 src_vni 5 via v1"}],
    [begin
         {Status, Out} = linx_ct_ns:sh(["strace -f -e trace=sendmsg -xx -s 1000 ip netns exec ", Ns,
                                        " bridge fdb add ", Args, " 2>&1"]),
         Sent = types(sent_payload(Out)),
         {ok, #{payload := Mine}} = linx_rtnl_fdb:request(new, E, fun(R) -> linx_rtnl_call:index(R, In) end),
         ct:log("~s~nbridge: ~p~nlinx:   ~p", [Args, Sent, iolist_to_binary(Mine)]),
         Sent = types(iolist_to_binary(Mine)),
         Result = linx_rtnl:fdb_add(E, In),
         case Status of
             0 -> {error, #{errno := eexist}} = Result;
             _ -> {error, #{stage := netlink}} = Result
         end
     end || {E, Args} <- Cases].

%% The payload of the RTM_NEWNEIGH (type 0x1c) strace saw sent.
sent_payload(Out) ->
    {match, [Hex]} = re:run(Out, "nlmsg_type=(?:0x1c|RTM_NEWNEIGH)[^}]*}, \"([^\"]*)\"",
                            [{capture, all_but_first, list}]),
    << <<(list_to_integer(H, 16))>> || H <- bytes(Hex) >>.

bytes([$\\, $x, A, B | Rest]) -> [[A, B] | bytes(Rest)];
bytes([]) -> [].

%% A payload with its attribute types as the kernel reads them (without
%% NLA_F_NET_BYTEORDER, which linx sets on a value in network byte order
%% and bridge does not).
types(<<Hdr:12/binary, Attrs/binary>>) ->
    <<Hdr/binary, (types(Attrs, <<>>))/binary>>.

types(<<Len:16/native, Type:16/native, Rest/binary>>, Acc) when Len >= 4 ->
    Size = (Len - 4 + 3) div 4 * 4,
    <<Value:Size/binary, More/binary>> = Rest,
    types(More, <<Acc/binary, Len:16/native, (Type band 16#3fff):16/native, Value/binary>>);
types(<<>>, Acc) ->
    Acc.

%% Proxy neighbours: added by linx, read by `ip neigh show proxy' and by
%% neighs/2 alike; neighs/1 leaves them out; deleted by their map.
proxy_neighbours(Config) ->
    Ns = ?config(netns, Config),
    In = in(Config),
    ok = linx_rtnl:neigh_add(#{proxy => true, index => <<"v0">>, dst => {10, 1, 1, 1}}, In),
    ok = linx_rtnl:neigh_add(#{proxy => true, index => <<"v1">>, dst => {16#2001, 16#db8, 0, 0, 0, 0, 0, 1}}, In),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " neigh add proxy 10.1.1.2 dev v0"]),
    Ip = lists:sort([string:trim(L) || L <- string:split(linx_ct_ns:sh_ok(["ip -n ", Ns, " neigh show proxy"]),
                                                         "\n", all)]),
    {ok, Proxies} = linx_rtnl:neighs(#{proxy => true}, In),
    ct:log("ip:~n~p~nlinx:~n~p", [Ip, Proxies]),
    {ok, Links} = linx_rtnl:links(In),
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    Ip = lists:sort([iolist_to_binary([inet:ntoa(D), " dev ", maps:get(I, Names), " proxy"])
                     || #{dst := D, index := I, flags := [proxy]} <- Proxies]),
    3 = length(Proxies),
    {ok, Plain} = linx_rtnl:neighs(In),
    [] = [N || #{flags := F} = N <- Plain, lists:member(proxy, F)],
    {ok, [#{dst := {16#2001, 16#db8, 0, 0, 0, 0, 0, 1}}]} =
        linx_rtnl:neighs(#{proxy => true, family => inet6}, In),
    {ok, [_, _]} = linx_rtnl:neighs(#{proxy => true, dev => <<"v0">>}, In),
    [ok = linx_rtnl:neigh_del(P, In) || P <- Proxies],
    <<>> = linx_ct_ns:sh_ok(["ip -n ", Ns, " neigh show proxy"]),
    {ok, []} = linx_rtnl:neighs(#{proxy => true}, In).

%% Each bad field is refused before anything is sent, named in its
%% one-line error; bridge shows no new entry.
bad_fields_named(Config) ->
    In = in(Config),
    Before = bridge_lines(Config, ""),
    Good = #{mac => <<"02:00:00:00:00:c1">>, dev => <<"v0">>},
    Bad = [{mac, <<"02:00:00:00:00">>}, {lladdr, 42}, {vlan, 4095}, {vlan, -1}, {state, asleep},
           {state, [asleep]}, {master, yes}, {self, 1}, {flags, [proxy]}, {flags, self},
           {extern_learn, maybe}, {sticky, 2}, {dst, nowhere}, {port, 70000}, {vni, -1},
           {src_vni, 1 bsl 32}, {family, inet}, {colour, red}],
    [begin
         Entry = maps:put(K, V, maps:remove(case K of lladdr -> mac; _ -> lladdr end, Good)),
         {error, #{reason := {bad_fdb, {K, V}}} = E} = linx_rtnl:fdb_add(Entry, In),
         {error, #{reason := {bad_fdb, {K, V}}}} = linx_rtnl:fdb_del(Entry, In),
         Line = linx_rtnl:format_error(E),
         ct:log("~s", [Line]),
         nomatch = binary:match(Line, <<"\n">>),
         {_, _} = binary:match(Line, atom_to_binary(K))
     end || {K, V} <- Bad],
    {error, #{reason := {bad_fdb, {mac, missing}}}} = linx_rtnl:fdb_add(#{dev => <<"v0">>}, In),
    {error, #{reason := {bad_fdb, {lladdr, <<0:48>>}}}} = linx_rtnl:fdb_add(Good#{lladdr => <<0:48>>}, In),
    {error, #{reason := {bad_fdb, {index, missing}}}} = linx_rtnl:fdb_add(#{mac => <<0:48>>}, In),
    {error, #{reason := {bad_fdb, not_a_map}}} = linx_rtnl:fdb_add(not_a_map, In),
    {error, #{reason := {bad_ifname, _}}} = linx_rtnl:fdb_add(Good#{dev => <<"a/b">>}, In),
    {error, #{reason := {bad_fdb, {bridge, <<"br0">>}}}} = linx_rtnl:fdb(#{bridge => <<"br0">>}, In),
    {error, #{reason := {bad_neigh, {proxy, yes}}}} = linx_rtnl:neighs(#{proxy => yes}, In),
    {error, #{reason := {bad_neigh, {family, bridge}}}} = linx_rtnl:neighs(#{family => bridge}, In),
    {error, #{reason := {bad_neigh, {proxy, 1}}}} =
        linx_rtnl:neigh_add(#{proxy => 1, index => 1, dst => {10, 0, 0, 1}}, In),
    Before = bridge_lines(Config, "").

%% fdb changes arrive on the neigh group, decoded as entries; a resync
%% holds the entries there are.
fdb_events_and_resync(Config) ->
    In = in(Config),
    {ok, #{index := Br}} = linx_rtnl:link(<<"br0">>, In),
    {ok, #{index := V0}} = linx_rtnl:link(<<"v0">>, In),
    {ok, Ref} = linx_rtnl:subscribe([neigh], In),
    Mac = <<2, 0, 0, 0, 0, 16#d1>>,
    ok = linx_rtnl:fdb_add(#{mac => Mac, index => V0, master => true, state => static}, In),
    {neigh, new, #{family := bridge, index := V0, mac := Mac, master := Br, state := [noarp]}} =
        event(Ref, Mac),
    ok = linx_rtnl:fdb_del(#{mac => Mac, index => V0, master => true}, In),
    {neigh, del, #{family := bridge, mac := Mac}} = event(Ref, Mac),
    ok = linx_rtnl:unsubscribe(Ref),
    ok = linx_rtnl:fdb_add(#{mac => Mac, index => V0, master => true}, In),
    {ok, Ref2} = linx_rtnl:subscribe([neigh], In#{list_existing => true}),
    {resync, Objects} = receive {linx_rtnl, Ref2, R} -> R after 5000 -> ct:fail(no_resync) end,
    [_] = [E || {neigh, new, #{family := bridge, mac := M, master := B} = E} <- Objects, M =:= Mac, B =:= Br],
    {ok, Fdb} = linx_rtnl:fdb(In),
    true = length(Fdb) =:= length([E || {neigh, new, #{family := bridge} = E} <- Objects]),
    ok = linx_rtnl:unsubscribe(Ref2).

%% The first event about `Mac' (others, such as the kernel's own
%% neighbours, are passed over).
event(Ref, Mac) ->
    receive
        {linx_rtnl, Ref, {neigh, _, #{mac := Mac}} = Event} -> Event;
        {linx_rtnl, Ref, {neigh, _, _}} -> event(Ref, Mac)
    after 5000 ->
        ct:fail({no_event, Mac})
    end.

%% fdb_add and fdb_del as batch ops; in an atomic batch that fails, an
%% add is undone by its delete, a dumped entry's delete by adding it
%% back; a delete without the entry's state cannot be undone.
fdb_in_a_batch(Config) ->
    In = in(Config),
    E1 = #{mac => <<"02:00:00:00:00:e1">>, dev => <<"v0">>, master => true},
    E2 = #{mac => <<"02:00:00:00:00:e2">>, dev => <<"vx0">>, dst => {10, 0, 0, 5}},
    {ok, [ok, ok]} = linx_rtnl:batch([{fdb_add, E1}, {fdb_add, E2}], In),
    Before = bridge_lines(Config, ""),
    {ok, Fdb} = linx_rtnl:fdb(#{dev => <<"v0">>}, In),
    [D1] = [E || #{mac := <<2, 0, 0, 0, 0, 16#e1>>} = E <- Fdb],
    E3 = #{mac => <<"02:00:00:00:00:e3">>, dev => <<"v0">>, master => true},
    {error, #{reason := batch_failed, index := 3, error := #{errno := eexist}}} =
        linx_rtnl:batch([{fdb_del, D1}, {fdb_add, E3}, {fdb_add, E2}], In#{atomic => true}),
    Before = bridge_lines(Config, ""),
    {error, #{reason := {bad_op, {fdb_del, E1}, not_undoable}}} =
        linx_rtnl:batch([{fdb_del, E1}], In#{atomic => true}),
    {ok, [ok, {error, #{op := fdb_del, errno := enoent}}]} =
        linx_rtnl:batch([{fdb_del, E1}, {fdb_del, E1}], In),
    {error, #{reason := {bad_op, {fdb_add, #{}}, {bad_fdb, {mac, missing}}}}} =
        linx_rtnl:batch([{fdb_add, #{}}], In).

%%====================================================================
%% Helpers
%%====================================================================

%% `bridge fdb show' with `Args', as lines, and fdb/2 of `Filter' written
%% the same way: equal (sorted). Returns the lines.
same_as_bridge(Config, Filter, Args) ->
    In = in(Config),
    {ok, Fdb} = linx_rtnl:fdb(Filter, In),
    {ok, Links} = linx_rtnl:links(In),
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    Mine = lists:sort([line(E, Names) || E <- Fdb]),
    Theirs = bridge_lines(Config, Args),
    ct:log("bridge fdb show ~s:~n~p~nlinx ~p:~n~p", [Args, Theirs, Filter, Mine]),
    Theirs = Mine.

bridge_lines(Config, Args) ->
    %% `dev D' leaves out the link's name
    Dev = case Args of
              "dev " ++ D -> D;
              _ -> "-"
          end,
    Out = linx_ct_ns:sh_ok(["bridge -j -n ", ?config(netns, Config), " fdb show ", Args,
                            " | python3 ", ?config(script, Config), " ", Dev]),
    lists:sort([L || L <- string:split(Out, "\n", all), L =/= <<>>]).

%% An entry as the script writes bridge's.
line(#{mac := Mac, index := I, flags := Flags, state := State} = E, Names) ->
    Opt = [[" ", atom_to_list(K), "=", text(K, V, Names)]
           || K <- [master, dst, port, vni, vlan], {ok, V} <- [maps:find(K, E)]],
    iolist_to_binary([linx_rtnl:format_mac(Mac), " ", maps:get(I, Names), " ",
                      lists:join(",", lists:sort([atom_to_list(F) || F <- Flags])),
                      " state=", state(State), Opt]).

text(master, I, Names) -> maps:get(I, Names);
text(dst, IP, _) -> inet:ntoa(IP);
text(_, N, _) -> integer_to_list(N).

%% The state as bridge names it.
state(S) ->
    case [Name || {Nud, Name} <- [{permanent, "permanent"}, {noarp, "static"}, {stale, "stale"}],
                  lists:member(Nud, S)] of
        [Name | _] -> Name;
        [] -> ""
    end.
