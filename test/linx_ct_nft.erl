%% @doc `nft' as the oracle of linx_nft (for linx_nft_SUITE): a ruleset
%% written twice, as nft's text and as the objects linx takes, which
%% must mean the same; `nft -j list ruleset' as a term, without what
%% differs from one namespace to another (handles, nft's version).
-module(linx_ct_nft).

-export([text/0, objects/0, objects/1, ops/0, ops/1, short_forms/0, lookup_text/0, lookup_rule/0,
         json/1, strip/1, nft/2]).
-export([sets_text/0, sets_ops/0, sets_decoded/0]).

%%====================================================================
%% One ruleset, two ways
%%====================================================================

%% @doc The ruleset as nft's text: a table in each family, base chains
%% of each type, a regular chain, rules with every expression kind the
%% kernel here has.
-spec text() -> iolist().
text() ->
    ["table ip t4 {\n comment \"four\"\n"
     " chain in {\n  type filter hook input priority 10; policy accept;\n }\n"
     " chain out {\n  type route hook output priority -150; policy accept;\n }\n}\n"
     "table ip6 t6 {\n flags dormant\n"
     " chain fw {\n  type filter hook forward priority 0; policy drop;\n }\n}\n"
     "table arp ta {\n chain in {\n  type filter hook input priority 0; policy accept;\n }\n}\n"
     "table bridge tb {\n"
     " chain pre {\n  type filter hook prerouting priority -200; policy accept;\n }\n}\n"
     "table netdev tn {\n"
     " chain ing {\n  type filter hook ingress device lo priority -5; policy accept;\n }\n}\n"
     "table inet t {\n"
     " chain in {\n  type filter hook input priority 0; policy accept; comment \"main\"\n",
     [["  ", Rule, "\n"] || {_, Rule, _} <- rules()],
     " }\n"
     " chain other {\n  return\n }\n"
     " chain pre {\n  type nat hook prerouting priority -100; policy accept;\n",
     [["  ", T, "\n"] || T <- lists:sublist(nat_texts(), 2)],
     " }\n"
     " chain post {\n  type nat hook postrouting priority 100; policy accept;\n",
     [["  ", T, "\n"] || T <- lists:nthtail(2, nat_texts())],
     " }\n}\n"].

%% The rules of chain `in' of table `t': `{Comment, Text, Expressions}'.
rules() ->
    [{<<"hello">>, "ip saddr 10.0.0.1 counter drop comment \"hello\"",
      ip4() ++ [payload(network, 12, 4), eq(<<10, 0, 0, 1>>),
                {counter, #{bytes => 0, packets => 0}}, verdict(drop)]},
     {none, "tcp dport 22 accept", tcp() ++ [payload(transport, 2, 2), eq(<<22:16>>), verdict(accept)]},
     {none, "ct state established,related accept",
      [{ct, #{dreg => 1, key => state}},
       {bitwise, #{sreg => 1, dreg => 1, len => 4, op => mask_xor, mask => #{value => <<6, 0, 0, 0>>},
                   'xor' => #{value => <<0:32>>}}},
       {cmp, #{sreg => 1, op => neq, data => #{value => <<0:32>>}}}, verdict(accept)]},
     {none, "ct mark 7 continue", [{ct, #{dreg => 1, key => mark}}, eq(<<7:32/native>>), verdict(continue)]},
     {none, "meta l4proto icmp limit rate 10/second accept",
      [meta(l4proto), eq(<<1>>),
       {limit, #{rate => 10, unit => 1, burst => 5, type => pkts, flags => []}}, verdict(accept)]},
     {none, "numgen random mod 100 < 20 drop",
      [{numgen, #{dreg => 1, modulus => 100, offset => 0, type => random}},
       {byteorder, #{sreg => 1, dreg => 1, op => hton, len => 4, size => 4}},
       {cmp, #{sreg => 1, op => lt, data => #{value => <<20:32>>}}}, verdict(drop)]},
     {none, "log prefix \"x \" group 2", [{log, #{group => 2, prefix => <<"x ">>}}]},
     {none, "log prefix \"y \" level info flags tcp sequence",
      [{log, #{prefix => <<"y ">>, level => info, flags => [tcpseq]}}]},
     {none, "quota 1000 bytes", [{quota, #{bytes => 1000, consumed => 0, flags => []}}]},
     {none, "fib daddr type local accept",
      [{fib, #{dreg => 1, result => addrtype, flags => [daddr]}}, eq(<<2:32/native>>), verdict(accept)]},
     {none, "ip6 daddr ::1 reject with icmpx port-unreachable",
      [meta(nfproto), eq(<<10>>), payload(network, 24, 16), eq(<<1:128>>),
       {reject, #{type => icmpx_unreach, icmp_code => 1}}]},
     {none, "tcp dport 23 reject with tcp reset",
      tcp() ++ [payload(transport, 2, 2), eq(<<23:16>>), {reject, #{type => tcp_rst}}]},
     {none, "ip saddr 10.2.0.0/20 accept",
      ip4() ++ [payload(network, 12, 4),
                {bitwise, #{sreg => 1, dreg => 1, len => 4, op => mask_xor,
                            mask => #{value => <<255, 255, 240, 0>>}, 'xor' => #{value => <<0:32>>}}},
                eq(<<10, 2, 0, 0>>), verdict(accept)]},
     {none, "udp sport 53-60 drop",
      [meta(l4proto), eq(<<17>>), payload(transport, 0, 2),
       {cmp, #{sreg => 1, op => gte, data => #{value => <<53:16>>}}},
       {cmp, #{sreg => 1, op => lte, data => #{value => <<60:16>>}}}, verdict(drop)]},
     {none, "meta mark 3 jump other", [meta(mark), eq(<<3:32/native>>), verdict(jump, <<"other">>)]},
     {none, "meta mark 4 goto other", [meta(mark), eq(<<4:32/native>>), verdict(goto, <<"other">>)]}].

%% @doc The rules that have a short form (linx_nft_rule): nft's text and
%% the statements.
-spec short_forms() -> #{string() => list()}.
short_forms() ->
    #{"tcp dport 22 accept" => [{match, tcp, dport, 22}, accept],
      "ct state established,related accept" => [{ct, state, [established, related]}, accept],
      "ct mark 7 continue" => [{ct, mark, 7}, continue],
      "meta l4proto icmp limit rate 10/second accept" =>
          [{match, meta, l4proto, icmp}, {limit, 10, second}, accept],
      "numgen random mod 100 < 20 drop" => [{random, 20}, drop],
      "ip6 daddr ::1 reject with icmpx port-unreachable" =>
          [{match, ip6, daddr, {0, 0, 0, 0, 0, 0, 0, 1}}, reject],
      "meta mark 3 jump other" => [{match, meta, mark, 3}, {jump, <<"other">>}],
      "meta mark 4 goto other" => [{match, meta, mark, 4}, {goto, <<"other">>}],
      "tcp dport 8080 redirect to :80" => [{match, tcp, dport, 8080}, {redirect, 80}],
      "ip daddr 10.3.0.1 tcp dport 80 dnat ip to 10.2.0.2:8080" =>
          [{match, ip, daddr, {10, 3, 0, 1}}, {match, tcp, dport, 80}, {dnat, {10, 2, 0, 2}, 8080}],
      "oifname \"veth0\" masquerade" => [{match, meta, oifname, <<"veth0">>}, masquerade],
      "ip saddr 10.2.0.0/20 accept" => [{match, ip, saddr, {{10, 2, 0, 0}, 20}}, accept],
      "udp sport 53-60 drop" => [{match, udp, sport, {53, 60}}, drop]}.

%% @doc The same ruleset as linx's objects, in the order nft makes them.
-spec objects() -> #{tables := [map()], chains := [map()], rules := [map()]}.
objects() ->
    objects(terms).

%% @doc {@link objects/0}, its rules' expressions as linx's terms
%% (`terms') or, where they have one, in the short form (`short') or as
%% nft's text of it (`text').
-spec objects(terms | short | text) -> #{tables := [map()], chains := [map()], rules := [map()]}.
objects(Form) ->
    #{rules := Rules} = Objects = objects_terms(),
    Texts = [T || {_, T, _} <- rules()] ++ ["return" | nat_texts()],
    Short = short_forms(),
    Pick = fun(#{expressions := E} = R, Text) ->
                   case {Form, maps:find(Text, Short)} of
                       {short, {ok, S}} -> R#{expressions := S};
                       {text, {ok, _}} -> R#{expressions := list_to_binary(Text)};
                       _ -> R#{expressions := E}
                   end
           end,
    Objects#{rules := [Pick(R, T) || {R, T} <- lists:zip(Rules, Texts)]}.

nat_texts() ->
    ["tcp dport 8080 redirect to :80", "ip daddr 10.3.0.1 tcp dport 80 dnat ip to 10.2.0.2:8080",
     "oifname \"veth0\" masquerade", "oifname \"veth1\" masquerade random",
     "ip daddr 10.1.0.0/16 tcp dport 80 snat ip to 10.0.0.1:1000-2000"].

objects_terms() ->
    Base = fun(Family, Table, Name, Type, Hook, Prio, Policy) ->
                   #{family => Family, table => Table, name => Name, type => Type, hook => Hook,
                     priority => Prio, policy => Policy, flags => [base]}
           end,
    In = fun(Chain, Exprs) ->
                 #{family => inet, table => <<"t">>, chain => Chain, expressions => Exprs}
         end,
    #{tables =>
          [#{family => ip, name => <<"t4">>, flags => [], comment => <<"four">>},
           #{family => ip6, name => <<"t6">>, flags => [dormant]},
           #{family => arp, name => <<"ta">>, flags => []},
           #{family => bridge, name => <<"tb">>, flags => []},
           #{family => netdev, name => <<"tn">>, flags => []},
           #{family => inet, name => <<"t">>, flags => []}],
      chains =>
          [Base(ip, <<"t4">>, <<"in">>, filter, input, 10, accept),
           Base(ip, <<"t4">>, <<"out">>, route, output, -150, accept),
           Base(ip6, <<"t6">>, <<"fw">>, filter, forward, 0, drop),
           Base(arp, <<"ta">>, <<"in">>, filter, input, 0, accept),
           Base(bridge, <<"tb">>, <<"pre">>, filter, prerouting, -200, accept),
           (Base(netdev, <<"tn">>, <<"ing">>, filter, ingress, -5, accept))#{dev => <<"lo">>,
                                                                            devs => [<<"lo">>]},
           (Base(inet, <<"t">>, <<"in">>, filter, input, 0, accept))#{comment => <<"main">>},
           #{family => inet, table => <<"t">>, name => <<"other">>},
           Base(inet, <<"t">>, <<"pre">>, nat, prerouting, -100, accept),
           Base(inet, <<"t">>, <<"post">>, nat, postrouting, 100, accept)],
      rules =>
          [case Comment of
               none -> In(<<"in">>, Exprs);
               _ -> (In(<<"in">>, Exprs))#{comment => Comment}
           end || {Comment, _, Exprs} <- rules()]
          ++ [In(<<"other">>, [verdict(return)]),
              In(<<"pre">>, tcp() ++ [payload(transport, 2, 2), eq(<<8080:16>>), load(1, <<80:16>>),
                                      {redir, #{reg_proto_min => 1, reg_proto_max => 1,
                                                flags => [proto_specified]}}]),
              In(<<"pre">>, ip4() ++ [payload(network, 16, 4), eq(<<10, 3, 0, 1>>)] ++ tcp()
                  ++ [payload(transport, 2, 2), eq(<<80:16>>), load(1, <<10, 2, 0, 2>>),
                      load(2, <<8080:16>>), nat(dnat, 2)]),
              In(<<"post">>, [meta(oifname), eq(<<"veth0", 0:88>>), {masq, #{}}]),
              In(<<"post">>, [meta(oifname), eq(<<"veth1", 0:88>>), {masq, #{flags => [random]}}]),
              In(<<"post">>, ip4() ++ [payload(network, 16, 2), eq(<<10, 1>>)] ++ tcp()
                  ++ [payload(transport, 2, 2), eq(<<80:16>>), load(1, <<10, 0, 0, 1>>),
                      load(2, <<1000:16>>), load(3, <<2000:16>>),
                      nat(snat, 2, 3)])]}.

%% @doc The ops that make {@link objects/0}, in order.
-spec ops() -> [linx_nft:op()].
ops() ->
    ops(terms).

%% @doc The ops that make {@link objects/1}.
-spec ops(terms | short | text) -> [linx_nft:op()].
ops(Form) ->
    #{tables := T, chains := C, rules := R} = objects(Form),
    [{add, table, X} || X <- T] ++ [{add, chain, X} || X <- C] ++ [{add, rule, X} || X <- R].

%% @doc A rule with an anonymous set (nft makes the set; linx decodes
%% its lookup), added to the ruleset of {@link text/0}.
-spec lookup_text() -> iolist().
lookup_text() ->
    "add rule inet t in ip saddr { 10.9.0.1, 10.9.0.2 } drop\n".

-spec lookup_rule() -> map().
lookup_rule() ->
    #{family => inet, table => <<"t">>, chain => <<"in">>,
      expressions => ip4() ++ [payload(network, 12, 4),
                               {lookup, #{set => <<"__set0">>, sreg => 1, flags => []}},
                               verdict(drop)]}.

%%====================================================================
%% Expressions
%%====================================================================

meta(Key) -> {meta, #{dreg => 1, key => Key}}.
eq(Bin) -> {cmp, #{sreg => 1, op => eq, data => #{value => Bin}}}.
payload(Base, Offset, Len) -> {payload, #{base => Base, dreg => 1, offset => Offset, len => Len}}.
verdict(Code) -> {immediate, #{dreg => 0, data => #{verdict => #{code => Code}}}}.
verdict(Code, Chain) -> {immediate, #{dreg => 0, data => #{verdict => #{code => Code, chain => Chain}}}}.
load(Reg, Bin) -> {immediate, #{dreg => Reg, data => #{value => Bin}}}.
ip4() -> [meta(nfproto), eq(<<2>>)].
tcp() -> [meta(l4proto), eq(<<6>>)].
nat(Type, ProtoReg) ->
    nat(Type, ProtoReg, ProtoReg).

nat(Type, ProtoMin, ProtoMax) ->
    {nat, #{type => Type, family => ip, flags => [map_ips, proto_specified], reg_addr_min => 1,
            reg_addr_max => 1, reg_proto_min => ProtoMin, reg_proto_max => ProtoMax}}.

%%====================================================================
%% nft
%%====================================================================

%% @doc `nft -j list ruleset' in netns `Ns' as a term, without the
%% handles and nft's metainfo.
-spec json(string()) -> term().
json(Ns) ->
    #{<<"nftables">> := Objects} = linx_ct_ip:json(["ip netns exec ", Ns, " nft -j list ruleset"]),
    [unhandled(O) || O <- Objects, not is_map_key(<<"metainfo">>, O)].

unhandled(M) when is_map(M) ->
    maps:map(fun(_, V) -> unhandled(V) end, maps:remove(<<"handle">>, M));
unhandled(L) when is_list(L) ->
    [unhandled(X) || X <- L];
unhandled(X) ->
    X.

%% @doc Dumped objects without what the kernel adds (handles, places,
%% use counts).
-spec strip(#{atom() => [map()]}) -> #{atom() => [map()]}.
strip(Ruleset) ->
    maps:map(fun(_, Objects) -> [maps:without([handle, position, use], O) || O <- Objects] end,
             Ruleset).

%% @doc `nft -f -' in netns `Ns' with `Text' on its input (through a file).
-spec nft(string(), iodata()) -> binary().
nft(Ns, Text) ->
    linx_ct_ns:sh_ok_with_file(Text, fun(File) -> ["ip netns exec ", Ns, " nft -f ", File] end).

%%====================================================================
%% Sets and maps
%%====================================================================

%% @doc Sets and maps of each key type, with elements, as nft's text.
-spec sets_text() -> iolist().
sets_text() ->
    ["table inet s {\n",
     [[" ", Kind, " ", Name, " {\n  type ", Type, "\n", Flags, "  elements = { ", Elems, " }\n }\n"]
      || {Kind, Name, Type, Flags, Elems, _} <- sets()],
     " chain other {\n }\n}\n"].

%% @doc The same as linx's ops: the table, the chain, each set, then its
%% elements.
-spec sets_ops() -> [linx_nft:op()].
sets_ops() ->
    S = fun(Map) -> Map#{family => inet, table => <<"s">>} end,
    [{add, table, #{family => inet, name => <<"s">>}},
     {add, chain, #{family => inet, table => <<"s">>, name => <<"other">>}}]
    ++ lists:append([[{add, set, S(Set)},
                      {add, element, S((maps:with([key, data], Set))#{set => maps:get(name, Set),
                                                                      elements => Elems})}]
                     || {_, _, _, _, _, {Set, Elems}} <- sets()]).

%% @doc The sets as linx decodes them (what their ops make), without
%% handles and nft's user data.
-spec sets_decoded() -> [map()].
sets_decoded() ->
    [maps:merge(Set#{family => inet, table => <<"s">>},
                #{elements => lists:sort([case E of
                                              {K, D} -> #{key => K, data => D};
                                              _ -> #{key => E}
                                          end || E <- Elems])})
     || {_, _, _, _, _, {Set, Elems}} <- sets()].

sets() ->
    [{"set", "a4", "ipv4_addr", "", "10.0.0.1, 10.0.0.2",
      {#{name => <<"a4">>, key => ipv4_addr}, [{10, 0, 0, 1}, {10, 0, 0, 2}]}},
     {"set", "a6", "ipv6_addr", "", "::1",
      {#{name => <<"a6">>, key => ipv6_addr}, [{0, 0, 0, 0, 0, 0, 0, 1}]}},
     {"set", "e", "ether_addr", "", "02:00:00:00:00:01",
      {#{name => <<"e">>, key => ether_addr}, [<<2, 0, 0, 0, 0, 1>>]}},
     {"set", "p", "inet_proto", "", "6", {#{name => <<"p">>, key => inet_proto}, [6]}},
     {"set", "svc", "inet_service", "", "22, 80",
      {#{name => <<"svc">>, key => inet_service}, [22, 80]}},
     {"set", "m", "mark", "", "5", {#{name => <<"m">>, key => mark}, [5]}},
     {"set", "i", "ifname", "", "\"eth0\"", {#{name => <<"i">>, key => ifname}, [<<"eth0">>]}},
     {"set", "c", "ipv4_addr . inet_service", "", "10.0.0.1 . 22",
      {#{name => <<"c">>, key => [ipv4_addr, inet_service]}, [[{10, 0, 0, 1}, 22]]}},
     {"map", "mp", "ipv4_addr : ipv4_addr", "", "10.0.0.1 : 10.9.9.9",
      {#{name => <<"mp">>, key => ipv4_addr, data => ipv4_addr, flags => [map]},
       [{{10, 0, 0, 1}, {10, 9, 9, 9}}]}},
     {"map", "vm", "inet_service : verdict", "", "22 : accept, 23 : drop, 24 : jump other",
      {#{name => <<"vm">>, key => inet_service, data => verdict, flags => [map]},
       [{22, accept}, {23, drop}, {24, {jump, <<"other">>}}]}}].
