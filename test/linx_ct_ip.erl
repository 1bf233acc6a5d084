%% @doc `ip -j' as the oracle of linx_rtnl's dumps (for linx_rtnl_SUITE):
%% its JSON as a term, and linx's links, addresses, routes and neighbours
%% compared with ip's field by field, after naming things the way ip does
%% (flags in capitals, addresses as text, tables and scopes by name).
%% A field that differs fails the test.
-module(linx_ct_ip).

-export([json/1, json/2,
         ip_json/3,
         by_name/1,
         compare_links/2,
         compare_addr/3,
         compare_route/3,
         compare_neigh/3]).

%% @doc `ip -j -n NS Args' as an Erlang term, NS the namespace named by
%% `Key' in `Config' (see {@link json/1}).
-spec ip_json(list(), atom(), iodata()) -> term().
ip_json(Config, Key, Args) ->
    json(["ip -j -n ", proplists:get_value(Key, Config), " ", Args]).

%% @doc The JSON a shell command prints, as an Erlang term: objects as
%% maps with binary keys (python3 and the script json2term.py of
%% linx_rtnl_SUITE's data directory turn it into one).
-spec json(iodata()) -> term().
json(Cmd) ->
    json(Cmd, maps).

%% @doc {@link json/1}, with objects as maps, or as lists of `{Key,
%% Value}' (`pairs': for JSON that repeats a key in an object, as `tc -j'
%% does).
-spec json(iodata(), maps | pairs) -> term().
json(Cmd, Objects) ->
    Script = filename:join([filename:dirname(code:which(?MODULE)), "linx_rtnl_SUITE_data",
                            "json2term.py"]),
    Out = linx_ct_ns:sh_ok([Cmd, " | python3 ", Script, [" pairs" || Objects =:= pairs]]),
    {ok, Tokens, _} = erl_scan:string(binary_to_list(Out)),
    {ok, Term} = erl_parse:parse_term(Tokens),
    Term.

%% @doc Links by their name.
-spec by_name([map()]) -> #{binary() => map()}.
by_name(Links) ->
    maps:from_list([{N, L} || #{ifname := N} = L <- Links]).

%% @doc Each linx link against the ip entry of the same index: every key
%% that ip prints too must be equal (after naming things the way ip does).
%% Returns the keys compared.
-spec compare_links([map()], [map()]) -> [atom()].
compare_links(Links, Ip) ->
    Names = maps:from_list([{I, N} || #{index := I, ifname := N} <- Links]),
    IpBy = maps:from_list([{maps:get(<<"ifindex">>, E), E} || E <- Ip]),
    true = lists:sort(maps:keys(IpBy)) =:= lists:sort(maps:keys(Names)),
    Checked = lists:append([compare_link(L, maps:get(I, IpBy), Names) || #{index := I} = L <- Links]),
    ct:log("link fields compared with ip: ~p", [lists:usort(Checked)]),
    Checked.

compare_link(L, E, Names) ->
    lists:filtermap(
      fun({Key, Value}) ->
              case ip_view(Key, Value, E, Names) of
                  skip -> false;
                  {IpKey, Expected} ->
                      case ip_get(IpKey, E) of
                          undefined -> false;
                          Expected -> {true, Key};
                          Other -> ct:fail({link_field_differs, Key, maps:get(ifname, L), Value, Expected, Other})
                      end
              end
      end, maps:to_list(L)).

ip_get(<<"flags">>, E) ->
    lists:sort(maps:get(<<"flags">>, E, []) -- [<<"NO-CARRIER">>, <<"M-DOWN">>]);
ip_get([K1, K2], E) -> maps:get(K2, maps:get(K1, E, #{}), undefined);
ip_get(K, E) -> maps:get(K, E, undefined).

ip_view(index, V, _, _) -> {<<"ifindex">>, V};
ip_view(ifname, V, _, _) -> {<<"ifname">>, V};
ip_view(K, V, _, _) when K =:= mtu; K =:= txqlen; K =:= min_mtu; K =:= max_mtu;
                         K =:= promiscuity; K =:= num_tx_queues; K =:= num_rx_queues;
                         K =:= gso_max_size; K =:= gso_max_segs; K =:= link_netnsid;
                         K =:= carrier_changes; K =:= allmulti; K =:= tso_max_size;
                         K =:= tso_max_segs; K =:= gro_max_size; K =:= gso_ipv4_max_size;
                         K =:= gro_ipv4_max_size ->
    {atom_to_binary(K), V};
ip_view(qdisc, V, _, _) -> {<<"qdisc">>, V};
ip_view(operstate, V, _, _) -> {<<"operstate">>, upper(V)};
ip_view(linkmode, V, _, _) -> {<<"linkmode">>, upper(V)};
ip_view(group, 0, _, _) -> {<<"group">>, <<"default">>};
ip_view(type, V, _, _) -> {<<"link_type">>, atom_to_binary(V)};
ip_view(address, V, _, _) -> {<<"address">>, linx_rtnl:format_mac(V)};
ip_view(broadcast, V, _, _) -> {<<"broadcast">>, linx_rtnl:format_mac(V)};
ip_view(perm_address, V, _, _) -> {<<"permaddr">>, linx_rtnl:format_mac(V)};
ip_view(master, V, _, Names) -> {<<"master">>, maps:get(V, Names)};
ip_view(kind, V, _, _) -> {[<<"linkinfo">>, <<"info_kind">>], atom_to_binary(V)};
ip_view(slave_kind, V, _, _) -> {[<<"linkinfo">>, <<"info_slave_kind">>], atom_to_binary(V)};
ip_view(alias, V, _, _) -> {<<"ifalias">>, V};
ip_view(link, V, E, Names) ->
    case maps:is_key(<<"link_index">>, E) of
        true -> {<<"link_index">>, V};
        false -> {<<"link">>, maps:get(V, Names, null)}
    end;
ip_view(flags, V, _, _) ->
    %% ip leaves RUNNING out and adds NO-CARRIER / M-DOWN of its own.
    {<<"flags">>, lists:sort([upper(F) || F <- V, F =/= running])};
ip_view(_, _, _, _) ->
    skip.

%% @doc A linx address against the ip entry of the same index, local
%% address and prefix length (Infos: `{Index, AddrInfo}' of ip).
-spec compare_addr(map(), [{integer(), map()}], map()) -> ok.
compare_addr(#{index := I, prefixlen := Len} = Ad, Infos, Names) ->
    Local = ntoa(maps:get(local, Ad, maps:get(address, Ad))),
    [Info] = [Inf || {Ix, Inf} <- Infos, Ix =:= I, maps:get(<<"local">>, Inf) =:= Local,
                     maps:get(<<"prefixlen">>, Inf) =:= Len],
    _ = Names,
    Expect = [{<<"family">>, atom_to_binary(maps:get(family, Ad))},
              {<<"scope">>, scope_text(maps:get(scope, Ad))},
              {<<"valid_life_time">>, lft(maps:get(valid_lft, Ad))},
              {<<"preferred_life_time">>, lft(maps:get(preferred_lft, Ad))}]
        ++ [{<<"label">>, L} || #{label := L} <- [Ad]]
        ++ [{<<"broadcast">>, ntoa(B)} || #{broadcast := B} <- [Ad]]
        ++ [{atom_to_binary(F), true} || F <- maps:get(flags, Ad),
                                         lists:member(F, [nodad, noprefixroute, tentative,
                                                          deprecated, dadfailed, optimistic])],
    [V = maps:get(K, Info) || {K, V} <- Expect],
    ok.

%% @doc A linx route against the one ip entry of the same destination,
%% table and device (Names: interface names by index).
-spec compare_route(map(), [map()], map()) -> ok.
compare_route(R, Ip, Names) ->
    Dst = case maps:get(dst, R) of
              default -> <<"default">>;
              {A, Len} when Len =:= 32, tuple_size(A) =:= 4; Len =:= 128, tuple_size(A) =:= 8 -> ntoa(A);
              {A, Len} -> iolist_to_binary([ntoa(A), "/", integer_to_list(Len)])
          end,
    Table = table_text(maps:get(table, R)),
    Dev = maps:get(maps:get(oif, R, none), Names, undefined),
    Matches = [E || E <- Ip, maps:get(<<"dst">>, E) =:= Dst,
                    maps:get(<<"table">>, E, <<"main">>) =:= Table,
                    maps:get(<<"dev">>, E, undefined) =:= Dev],
    [E] = case Matches of
              [_] -> Matches;
              _ -> ct:fail({route_not_matched_once, R, Matches})
          end,
    Expect = [{<<"protocol">>, atom_to_binary(maps:get(protocol, R))},
              {<<"type">>, atom_to_binary(maps:get(type, R))},
              {<<"scope">>, scope_text(maps:get(scope, R))}]
        ++ [{<<"gateway">>, ntoa(G)} || #{gateway := G} <- [R]]
        ++ [{<<"prefsrc">>, ntoa(P)} || #{prefsrc := P} <- [R]]
        ++ [{<<"metric">>, M} || #{metric := M} <- [R]]
        ++ [{<<"pref">>, atom_to_binary(P)} || #{pref := P} <- [R]],
    [case maps:get(K, E, undefined) of
         undefined when K =:= <<"type">>, V =:= <<"unicast">> -> ok;
         undefined when K =:= <<"scope">>, V =:= <<"global">> -> ok;
         undefined when K =:= <<"metric">>, V =:= 0 -> ok;
         undefined when K =:= <<"protocol">>, V =:= <<"boot">> -> ok;
         V -> ok;
         Other -> ct:fail({route_field_differs, K, R, V, Other})
     end || {K, V} <- Expect],
    IpFlags = lists:sort(maps:get(<<"flags">>, E, [])),
    IpFlags = lists:sort([atom_to_binary(F) || F <- maps:get(flags, R),
                                              lists:member(F, [dead, pervasive, onlink, offload,
                                                               linkdown, unresolved, trap])]),
    ok.

%% @doc A linx neighbour against the ip entry of the same destination and
%% device (Names: interface names by index).
-spec compare_neigh(map(), [map()], map()) -> ok.
compare_neigh(#{index := I, dst := Dst} = N, Ip, Names) ->
    [E] = [E || E <- Ip, maps:get(<<"dst">>, E) =:= ntoa(Dst),
                maps:get(<<"dev">>, E) =:= maps:get(I, Names)],
    case maps:find(lladdr, N) of
        {ok, Mac} -> Lladdr = linx_rtnl:format_mac(Mac), Lladdr = maps:get(<<"lladdr">>, E);
        error -> ok
    end,
    States = [upper(S) || S <- maps:get(state, N)],
    States = maps:get(<<"state">>, E),
    Router = lists:member(router, maps:get(flags, N)),
    Router = maps:is_key(<<"router">>, E),
    ok.

upper(A) -> string:uppercase(atom_to_binary(A)).

ntoa(IP) -> list_to_binary(inet:ntoa(IP)).

scope_text(universe) -> <<"global">>;
scope_text(S) when is_atom(S) -> atom_to_binary(S);
scope_text(N) -> integer_to_binary(N).

table_text(254) -> <<"main">>;
table_text(255) -> <<"local">>;
table_text(253) -> <<"default">>;
table_text(N) -> integer_to_binary(N).

lft(forever) -> 4294967295;
lft(N) -> N.
