%% Link kinds and their own attributes (IFLA_INFO_DATA) through the kind
%% tables of linx_rtnl_tables, both ways, in a real namespace.
%%
%% Kinds this kernel has (vxlan, macvlan, macvtap, bridge, ifb, veth):
%% what linx makes, `ip -j -d link show' shows with the values asked for,
%% and linx reads back as the same keys; what `ip link add ... type KIND'
%% makes, linx decodes into the same keys and values.
%%
%% Kinds it lacks (vlan, ipvlan, bond, vrf, gre, gretap, ip6gre, ipip,
%% sit, ip6tnl, geneve, dummy, wireguard): linx's request carries, in
%% IFLA_LINKINFO, the kind and the very attributes `ip link add' sends for
%% the same options (captured with strace), the parent link too; ip's
%% request decodes into the keys linx was given; the kernel's refusal is a
%% one-line `{error, #{stage := netlink}}'.
%%
%% Also: links named in a batch (a parent, a tunnel's link), link_set
%% against `ip link set' both ways (alias, group, nomaster, netns, ...),
%% and the `stats' option against `ip -j -s link show'.
-module(linx_rtnl_kinds_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([linx_makes_ip_reads/1, ip_makes_linx_reads/1, missing_kinds_match_ip/1,
         bad_data_names_the_field/1, kind_without_table_stays_raw/1, links_named_in_a_batch/1,
         link_set_as_ip_link_set/1, ip_link_set_read_by_linx/1, stats_match_ip/1]).

-define(IFLA_LINK, 5).
-define(IFLA_LINKINFO, 18).
-define(IFLA_INFO_KIND, 1).
-define(IFLA_INFO_DATA, 2).
-define(RTM_NEWLINK, 16).

all() ->
    [linx_makes_ip_reads, ip_makes_linx_reads, missing_kinds_match_ip,
     bad_data_names_the_field, kind_without_table_stays_raw, links_named_in_a_batch,
     link_set_as_ip_link_set, ip_link_set_read_by_linx, stats_match_ip].

%% The namespace has a veth pair, kvp0 / kvp0p: the parent of the links
%% that need one.
init_per_suite(Config) ->
    case linx_ct_ns:start_with_netns("linx-kinds", Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config1),
                              " link add kvp0 type veth peer name kvp0p"]),
            Config1
    end.

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%--------------------------------------------------------------------
%% The cases: a link's name, its kind, the arguments of `ip link add
%% NAME', linx's spec (beyond ifname and kind) and data, and what ip
%% shows (`@link' the parent, `@kind' the kind; the others are keys of
%% info_data). A link named in `spec' or `data' is by name: linx reads
%% it back as its index.
%%--------------------------------------------------------------------

kernel_kinds() ->
    [#{name => "kvx0", kind => vxlan,
       ip => "type vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dev kvp0 dstport 4789 ttl 10 "
             "tos 0x10 ageing 100 maxaddress 5 proxy l2miss l3miss nolearning rsc noudpcsum",
       data => #{id => 42, group => {10, 0, 0, 2}, local => {10, 0, 0, 1}, link => <<"kvp0">>,
                 port => 4789, ttl => 10, tos => 16, ageing => 100, limit => 5, proxy => true,
                 l2miss => true, l3miss => true, learning => false, rsc => true, udp_csum => false},
       shows => #{<<"id">> => 42, <<"remote">> => <<"10.0.0.2">>, <<"local">> => <<"10.0.0.1">>,
                  <<"link">> => <<"kvp0">>, <<"port">> => 4789, <<"ttl">> => 10,
                  <<"tos">> => <<"0x10">>, <<"ageing">> => 100, <<"limit">> => 5,
                  <<"proxy">> => true, <<"l2miss">> => true, <<"l3miss">> => true,
                  <<"learning">> => false, <<"rsc">> => true, <<"udp_csum">> => false}},
     #{name => "kvx1", kind => vxlan,
       ip => "type vxlan id 43 group 239.1.1.1 dev kvp0 dstport 8472",
       data => #{id => 43, group => {239, 1, 1, 1}, link => <<"kvp0">>, port => 8472},
       shows => #{<<"id">> => 43, <<"group">> => <<"239.1.1.1">>, <<"port">> => 8472}},
     #{name => "kmv0", kind => macvlan, ip => "link kvp0 type macvlan mode private bcqueuelen 500",
       spec => #{link => <<"kvp0">>}, data => #{mode => private, bc_queue_len => 500},
       shows => #{<<"@link">> => <<"kvp0">>, <<"mode">> => <<"private">>, <<"bcqueuelen">> => 500}},
     #{name => "kmv1", kind => macvlan, ip => "link kvp0 type macvlan mode source",
       spec => #{link => <<"kvp0">>}, data => #{mode => source},
       shows => #{<<"@link">> => <<"kvp0">>, <<"mode">> => <<"source">>}},
     #{name => "kmt0", kind => macvtap, ip => "link kvp0 type macvtap mode vepa",
       spec => #{link => <<"kvp0">>}, data => #{mode => vepa},
       shows => #{<<"@link">> => <<"kvp0">>, <<"mode">> => <<"vepa">>}},
     #{name => "kbr0", kind => bridge,
       ip => "type bridge stp_state 1 ageing_time 12300 forward_delay 500 hello_time 300 "
             "max_age 2500 priority 7 mcast_snooping 0 nf_call_iptables 1 mcast_querier 1 "
             "mcast_hash_max 1024 mcast_startup_query_interval 3000 group_fwd_mask 8 "
             "no_linklocal_learn 1",
       data => #{stp_state => 1, ageing_time => 12300, forward_delay => 500, hello_time => 300,
                 max_age => 2500, priority => 7, mcast_snooping => false, nf_call_iptables => true,
                 mcast_querier => true, mcast_hash_max => 1024, mcast_startup_query_intvl => 3000,
                 group_fwd_mask => 8, multi_boolopt => [no_ll_learn]},
       shows => #{<<"stp_state">> => 1, <<"ageing_time">> => 12300, <<"forward_delay">> => 500,
                  <<"hello_time">> => 300, <<"max_age">> => 2500, <<"priority">> => 7,
                  <<"mcast_snooping">> => 0, <<"nf_call_iptables">> => 1, <<"mcast_querier">> => 1,
                  <<"mcast_hash_max">> => 1024, <<"mcast_startup_query_intvl">> => 3000,
                  <<"group_fwd_mask">> => <<"0x8">>, <<"no_linklocal_learn">> => 1,
                  <<"mcast_vlan_snooping">> => 0}},
     #{name => "kifb0", kind => ifb, ip => "type ifb", shows => #{<<"@kind">> => <<"ifb">>}},
     #{name => "kve0", kind => veth, ip => "type veth peer name kve0p",
       spec => #{peer => #{ifname => <<"kve0p">>}},
       shows => #{<<"@kind">> => <<"veth">>, <<"@link">> => <<"kve0p">>}}].

missing_kinds() ->
    [#{name => "kvl0", kind => vlan,
       ip => "link kvp0 type vlan id 5 protocol 802.1ad gvrp on reorder_hdr off",
       spec => #{link => <<"kvp0">>},
       data => #{id => 5, protocol => '802.1ad', flags => #{gvrp => true, reorder_hdr => false}},
       decoded => #{id => 5, protocol => '802.1ad', flags => [gvrp]}},
     #{name => "kvl1", kind => vlan, ip => "link kvp0 type vlan id 4094 loose_binding on",
       spec => #{link => <<"kvp0">>}, data => #{id => 4094, flags => [loose_binding]}},
     #{name => "kiv0", kind => ipvlan, ip => "link kvp0 type ipvlan mode l3 private",
       spec => #{link => <<"kvp0">>}, data => #{mode => l3, flags => [private]}},
     #{name => "kbo0", kind => bond,
       ip => "type bond mode active-backup miimon 100 updelay 200 downdelay 300 use_carrier 1 "
             "xmit_hash_policy layer3+4 min_links 2 arp_validate none",
       data => #{mode => 'active-backup', miimon => 100, updelay => 200, downdelay => 300,
                 use_carrier => true, xmit_hash_policy => 'layer3+4', min_links => 2,
                 arp_validate => none}},
     #{name => "kvr0", kind => vrf, ip => "type vrf table 10", data => #{table => 10}},
     #{name => "kgr0", kind => gre,
       ip => "type gre local 10.0.0.1 remote 10.0.0.2 ttl 64 tos 0x10 ikey 5 okey 6 dev kvp0",
       data => maps:merge(tunnel_defaults(),
                          #{ikey => 5, okey => 6, iflags => [key], oflags => [key],
                            local => {10, 0, 0, 1}, remote => {10, 0, 0, 2}, pmtudisc => true,
                            tos => 16, ttl => 64, link => <<"kvp0">>})},
     #{name => "kgt0", kind => gretap, ip => "type gretap local 10.0.0.1 remote 10.0.0.2 ttl 64 key 9",
       data => maps:merge(tunnel_defaults(),
                          #{ikey => 9, okey => 9, iflags => [key], oflags => [key],
                            local => {10, 0, 0, 1}, remote => {10, 0, 0, 2}, pmtudisc => true,
                            tos => 0, ttl => 64})},
     #{name => "k6g0", kind => ip6gre, ip => "type ip6gre local fd00::1 remote fd00::2 ttl 64",
       data => maps:merge(tunnel_defaults(),
                          #{ikey => 0, okey => 0, iflags => [], oflags => [],
                            local => {16#fd00, 0, 0, 0, 0, 0, 0, 1},
                            remote => {16#fd00, 0, 0, 0, 0, 0, 0, 2}, ttl => 64, encap_limit => 4,
                            flowinfo => 0, flags => 0, erspan_ver => 1, encap_flags => 2})},
     #{name => "kip0", kind => ipip,
       ip => "type ipip local 10.0.0.1 remote 10.0.0.2 ttl 64 tos 0x10 dev kvp0",
       data => maps:merge(iptun_defaults(),
                          #{local => {10, 0, 0, 1}, remote => {10, 0, 0, 2}, pmtudisc => true,
                            tos => 16, ttl => 64, link => <<"kvp0">>})},
     #{name => "ksi0", kind => sit, ip => "type sit local 10.0.0.1 remote 10.0.0.2 ttl 64",
       data => maps:merge(iptun_defaults(),
                          #{local => {10, 0, 0, 1}, remote => {10, 0, 0, 2}, pmtudisc => true,
                            tos => 0, ttl => 64, link => 0, flags => 0})},
     #{name => "k6t0", kind => ip6tnl, ip => "type ip6tnl local fd00::1 remote fd00::2 ttl 64 dev kvp0",
       data => maps:merge(iptun_defaults(),
                          #{local => {16#fd00, 0, 0, 0, 0, 0, 0, 1},
                            remote => {16#fd00, 0, 0, 0, 0, 0, 0, 2}, ttl => 64, encap_limit => 4,
                            flowinfo => 0, flags => 0, link => <<"kvp0">>, encap_flags => 2})},
     #{name => "kgn0", kind => geneve, ip => "type geneve id 7 remote 10.0.0.2 ttl 9 tos 0x10 dstport 6081",
       data => #{id => 7, remote => {10, 0, 0, 2}, label => 0, ttl => 9, tos => 16, port => 6081}},
     #{name => "kdu0", kind => dummy, ip => "type dummy"},
     #{name => "kwg0", kind => wireguard, ip => "type wireguard"}].

%% What ip sends for a GRE or IP tunnel when not told otherwise.
tunnel_defaults() ->
    #{fwmark => 0, encap_type => 0, encap_flags => 0, encap_sport => 0, encap_dport => 0}.

iptun_defaults() ->
    (tunnel_defaults())#{proto => 0}.

%%--------------------------------------------------------------------

%% Made by linx: ip shows what was asked for, linx reads back the same
%% keys and values.
linx_makes_ip_reads(Config) ->
    In = linx_ct_ns:in_netns(Config),
    [begin
         Name = list_to_binary(N),
         ok = linx_rtnl:link_add(spec(Case), In),
         ip_shows(Config, Case),
         linx_reads(Config, Case),
         ok = linx_rtnl:link_del(Name, In)
     end || #{name := N} = Case <- kernel_kinds()].

%% Made by ip: linx decodes it into the keys and values it would have
%% been made with.
ip_makes_linx_reads(Config) ->
    In = linx_ct_ns:in_netns(Config),
    [begin
         linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config), " link add ", N, " ", Ip]),
         ip_shows(Config, Case),
         linx_reads(Config, Case),
         ok = linx_rtnl:link_del(list_to_binary(N), In)
     end || #{name := N, ip := Ip} = Case <- kernel_kinds()].

%% Kinds this kernel lacks: linx's request and ip's, attribute by
%% attribute; ip's decoded by linx; the kernel's refusal one line.
missing_kinds_match_ip(Config) ->
    In = linx_ct_ns:in_netns(Config),
    os:find_executable("strace") =/= false orelse ct:fail("strace is needed to see ip's requests"),
    Resolve = fun(Ref) -> case linx_rtnl:link(Ref, In) of
                              {ok, #{index := I}} -> {ok, I};
                              Error -> Error
                          end
              end,
    [begin
         IpMsg = ip_request(Config, N, Ip),
         {ok, #{payload := Payload}, _} = linx_rtnl_req:link_add(spec(Case), Resolve),
         Mine = iolist_to_binary(Payload),
         {Kind, Kind} = {linkinfo(Mine, ?IFLA_INFO_KIND), linkinfo(IpMsg, ?IFLA_INFO_KIND)},
         {N, Same, Same} = {N, lists:sort(linkinfo(Mine, ?IFLA_INFO_DATA)),
                            lists:sort(linkinfo(IpMsg, ?IFLA_INFO_DATA))},
         {N, Parent, Parent} = {N, top(Mine, ?IFLA_LINK), top(IpMsg, ?IFLA_LINK)},
         %% ip's request decodes into linx's keys, as linx's own does.
         Want = decoded(Config, Case),
         Got = [begin
                    {ok, #{kind := K} = Link} = linx_rtnl_msg:decode_link(P),
                    maps:with(maps:keys(Want), maps:get(info_data, Link, #{}))
                end || P <- [Mine, IpMsg]],
         {N, [Want, Want]} = {N, Got},
         %% The kernel has no such kind: a clean refusal.
         {error, #{stage := netlink, op := link_add} = E} = linx_rtnl:link_add(spec(Case), In),
         Line = linx:format_error(E),
         nomatch = binary:match(Line, <<"\n">>)
     end || #{name := N, ip := Ip, kind := K} = Case <- missing_kinds(),
            Kind <- [atom_to_binary(K)]].

%% A key the kind's table lacks, or a value its codec cannot take: the
%% error names the kind and the field, and nothing is made.
bad_data_names_the_field(Config) ->
    In = linx_ct_ns:in_netns(Config),
    [{error, #{reason := {bad_spec, Why}}} =
         linx_rtnl:link_add(#{ifname => <<"kbad0">>, kind => Kind, link => <<"kvp0">>,
                              data => Data}, In)
     || {Kind, Data, Why} <- [{bridge, #{nosuch => 1}, {bridge, {nosuch, 1}}},
                              {bridge, #{priority => 70000}, {bridge, {priority, 70000}}},
                              {bridge, #{mcast_snooping => yes}, {bridge, {mcast_snooping, yes}}},
                              {vlan, #{id => 70000}, {vlan, {id, 70000}}},
                              {vlan, #{protocol => '802.1x'}, {vlan, {protocol, '802.1x'}}},
                              {macvlan, #{mode => nosuch}, {macvlan, {mode, nosuch}}},
                              {vxlan, #{group => not_an_ip}, {vxlan, {group, not_an_ip}}},
                              {bond, #{mode => 9000}, {bond, {mode, 9000}}}]],
    {error, #{errno := enodev}} =
        linx_rtnl:link_add(#{ifname => <<"kbad0">>, kind => gre, data => #{link => <<"nosuch0">>}}, In),
    {error, #{reason := {bad_spec, {data, #{a := 1}}}}} =
        linx_rtnl:link_add(#{ifname => <<"kbad0">>, kind => ifb, data => #{a => 1}}, In),
    {error, Bad} = linx_rtnl:link_add(#{ifname => <<"kbad0">>, kind => vlan, data => #{id => 70000}}, In),
    <<"linx_rtnl:link_add: invalid link spec", _/binary>> = Line = linx:format_error(Bad),
    {match, _} = re:run(Line, "id"),
    {error, #{errno := enodev}} = linx_rtnl:link(<<"kbad0">>, In).

%% A kind without a table takes raw attributes; the data of a kind linx
%% has no table for stays bytes.
kind_without_table_stays_raw(Config) ->
    In = linx_ct_ns:in_netns(Config),
    ok = linx_rtnl:link_add(#{ifname => <<"kraw0">>, kind => ifb, data => [{1, {u32, 42}}]}, In),
    {ok, #{kind := ifb}} = linx_rtnl:link(<<"kraw0">>, In),
    ok = linx_rtnl:link_del(<<"kraw0">>, In),
    {ok, Attrs} = linx_rtnl_msg:encode_attrs(link, #{ifname => <<"x">>,
                                                     linkinfo => #{kind => <<"nlmon">>,
                                                                   info_data => <<5:32/native>>}}),
    {ok, #{kind := nlmon, info_data := <<5:32/native>>}} =
        linx_rtnl_msg:decode_link(iolist_to_binary([linx_rtnl_msg:ifinfomsg(0, 9, 0, 0), Attrs])).

%% In a batch, the parent link and a link named in the data may be links
%% an earlier op made.
links_named_in_a_batch(Config) ->
    In = linx_ct_ns:in_netns(Config),
    {ok, [ok, ok, ok]} =
        linx_rtnl:batch([{link_add, #{ifname => <<"kbv0">>, kind => veth,
                                      peer => #{ifname => <<"kbv0p">>}}},
                         {link_add, #{ifname => <<"kbm0">>, kind => macvlan, link => <<"kbv0">>,
                                      data => #{mode => bridge}}},
                         {link_add, #{ifname => <<"kbx0">>, kind => vxlan,
                                      data => [{id, 9}, {link, <<"kbv0p">>}, {port, 4789}]}}], In),
    I = index(Config, <<"kbv0">>),
    P = index(Config, <<"kbv0p">>),
    {ok, #{link := I, info_data := #{mode := bridge}}} = linx_rtnl:link(<<"kbm0">>, In),
    {ok, #{info_data := #{link := P, id := 9}}} = linx_rtnl:link(<<"kbx0">>, In),
    [ok = linx_rtnl:link_del(L, In) || L <- [<<"kbx0">>, <<"kbm0">>, <<"kbv0">>]].

%% link_set covers `ip link set': name, MTU, address, master and no
%% master, state, alias (and none), txqlen, group, netns; ip shows each.
link_set_as_ip_link_set(Config) ->
    In = linx_ct_ns:in_netns(Config),
    ok = linx_rtnl:link_add(#{ifname => <<"kls0">>, kind => veth, peer => #{ifname => <<"kls0p">>}}, In),
    ok = linx_rtnl:link_add(#{ifname => <<"klsbr">>, kind => bridge}, In),
    ok = linx_rtnl:link_set(<<"kls0">>, #{ifname => <<"kls1">>, mtu => 1400,
                                          address => <<"02:00:5e:10:00:07">>, master => <<"klsbr">>,
                                          state => up, alias => <<"uplink">>, txqlen => 500,
                                          group => 7}, In),
    #{<<"mtu">> := 1400, <<"address">> := <<"02:00:5e:10:00:07">>, <<"master">> := <<"klsbr">>,
      <<"ifalias">> := <<"uplink">>, <<"txqlen">> := 500, <<"group">> := <<"7">>,
      <<"flags">> := Flags} = ip_link(Config, "kls1"),
    true = lists:member(<<"UP">>, Flags),
    ok = linx_rtnl:link_set(<<"kls1">>, #{master => none, alias => <<>>, state => down, group => 0}, In),
    Shown = ip_link(Config, "kls1"),
    [false, false, false, <<"default">>] =
        [is_map_key(<<"master">>, Shown), is_map_key(<<"ifalias">>, Shown),
         lists:member(<<"UP">>, maps:get(<<"flags">>, Shown)), maps:get(<<"group">>, Shown)],
    [{error, #{reason := {bad_change, KV}}} = linx_rtnl:link_set(<<"kls1">>, maps:from_list([KV]), In)
     || KV <- [{alias, binary:copy(<<"a">>, 256)}, {alias, <<"a", 0>>}, {group, -1}, {group, 1 bsl 32}]],
    %% To another namespace, and back by its handle there.
    Other = linx_ct_ns:unique("linx-kinds-b"),
    ok = linx_ct_ns:netns_add(Other),
    try
        ok = linx_rtnl:link_set(<<"kls1">>, #{netns => {netns, list_to_binary(Other)}}, In),
        {error, #{errno := enodev}} = linx_rtnl:link(<<"kls1">>, In),
        #{<<"ifname">> := <<"kls1">>} = ip_link([{netns, Other} | Config], "kls1")
    after
        linx_ct_ns:netns_del(Other)
    end,
    ok = linx_rtnl:link_del(<<"klsbr">>, In).

%% What `ip link set' changes, linx reads.
ip_link_set_read_by_linx(Config) ->
    In = linx_ct_ns:in_netns(Config),
    Ns = ?config(netns, Config),
    ok = linx_rtnl:link_add(#{ifname => <<"kli0">>, kind => veth, peer => #{ifname => <<"kli0p">>}}, In),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link set kli0 alias downlink group 9 txqlen 64 mtu 1300 up"]),
    {ok, #{alias := <<"downlink">>, group := 9, txqlen := 64, mtu := 1300, flags := [up | _]}} =
        linx_rtnl:link(<<"kli0">>, In),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link set kli0 alias ''"]),
    {ok, Link} = linx_rtnl:link(<<"kli0">>, In),
    false = is_map_key(alias, Link),
    %% An atomic batch that fails puts the alias and group back.
    {error, #{reason := batch_failed, rollback_errors := []}} =
        linx_rtnl:batch([{link_set, <<"kli0">>, #{alias => <<"x">>, group => 3}},
                         {link_del, <<"nosuch0">>}], In#{atomic => true}),
    {ok, #{group := 9} = Back} = linx_rtnl:link(<<"kli0">>, In),
    false = is_map_key(alias, Back),
    ok = linx_rtnl:link_del(<<"kli0">>, In).

%% With `stats => true', links/1 and link/2 give the counters `ip -s'
%% shows: three UDP datagrams out of ksa0 (IPv6 off, the neighbour
%% permanent, so nothing else moves them) in ksa0p. Without it, no stats.
stats_match_ip(Config) ->
    In = linx_ct_ns:in_netns(Config),
    Ns = ?config(netns, Config),
    ok = linx_rtnl:link_add(#{ifname => <<"ksa0">>, kind => veth, peer => #{ifname => <<"ksa0p">>}}, In),
    [linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -qw net.ipv6.conf.", L, ".disable_ipv6=1"])
     || L <- ["ksa0", "ksa0p"]],
    ok = linx_rtnl:addr_add(<<"ksa0">>, {{10, 9, 0, 1}, 24}, In),
    [ok = linx_rtnl:link_set(L, #{state => up}, In) || L <- [<<"ksa0">>, <<"ksa0p">>]],
    ok = linx_rtnl:neigh_add(#{index => <<"ksa0">>, dst => {10, 9, 0, 2}, lladdr => <<"02:00:00:00:00:09">>}, In),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " python3 -c \"import socket\n"
                      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      "for _ in range(3): s.sendto(b'x' * 100, ('10.9.0.2', 9))\""]),
    {ok, #{stats := #{tx_packets := 3, tx_bytes := TxBytes} = Tx}} =
        linx_rtnl:link(<<"ksa0">>, In#{stats => true}),
    {ok, #{stats := #{rx_packets := 3, rx_bytes := TxBytes} = Rx}} =
        linx_rtnl:link(<<"ksa0p">>, [{stats, true} | maps:to_list(In)]),
    {ok, Links} = linx_rtnl:links(In#{stats => true}),
    #{<<"ksa0">> := #{stats := Tx}, <<"ksa0p">> := #{stats := Rx}, <<"lo">> := #{stats := Lo}} =
        linx_ct_ip:by_name(Links),
    [begin
         #{<<"stats64">> := #{<<"rx">> := IpRx, <<"tx">> := IpTx}} = ip_show(Config, ["-s link show ", Name]),
         {Name, IpRx, IpTx} = {Name, ip_stats(rx, S), ip_stats(tx, S)}
     end || {Name, S} <- [{"ksa0", Tx}, {"ksa0p", Rx}, {"lo", Lo}]],
    %% Without the option (or with false), none.
    [false = lists:any(fun(L) -> is_map_key(stats, L) end, Ls)
     || {ok, Ls} <- [linx_rtnl:links(In), linx_rtnl:links(In#{stats => false})]],
    {ok, NoStats} = linx_rtnl:link(<<"ksa0">>, In),
    false = is_map_key(stats, NoStats),
    {error, #{reason := {bad_option, {stats, yes}}}} = linx_rtnl:links(In#{stats => yes}),
    {error, #{reason := {bad_option, {stats, true}}}} = linx_rtnl:addrs(In#{stats => true}),
    ok = linx_rtnl:link_del(<<"ksa0">>, In).

%% linx's counters under the names `ip -j -s' gives them.
ip_stats(rx, S) ->
    #{<<"bytes">> => maps:get(rx_bytes, S), <<"packets">> => maps:get(rx_packets, S),
      <<"errors">> => maps:get(rx_errors, S), <<"dropped">> => maps:get(rx_dropped, S),
      <<"over_errors">> => maps:get(rx_over_errors, S), <<"multicast">> => maps:get(multicast, S)};
ip_stats(tx, S) ->
    #{<<"bytes">> => maps:get(tx_bytes, S), <<"packets">> => maps:get(tx_packets, S),
      <<"errors">> => maps:get(tx_errors, S), <<"dropped">> => maps:get(tx_dropped, S),
      <<"carrier_errors">> => maps:get(tx_carrier_errors, S),
      <<"collisions">> => maps:get(collisions, S)}.

%%--------------------------------------------------------------------

ip_link(Config, Name) ->
    ip_show(Config, ["link show ", Name]).

%% The one link `ip -j ARGS' shows.
ip_show(Config, Args) ->
    [Link] = linx_ct_ip:ip_json(json_config(Config), netns, Args),
    Link.

spec(#{name := N, kind := K} = Case) ->
    Data = case maps:find(data, Case) of
               {ok, D} -> #{data => D};
               error -> #{}
           end,
    maps:merge(maps:merge(#{ifname => list_to_binary(N), kind => K}, maps:get(spec, Case, #{})), Data).

%% `ip -j -d link show' has the values of `shows'.
ip_shows(Config, #{name := N, shows := Shows}) ->
    [Link] = linx_ct_ip:ip_json(json_config(Config), netns, ["-d link show ", N]),
    Info = maps:get(<<"linkinfo">>, Link),
    Seen = maps:merge(maps:get(<<"info_data">>, Info, #{}),
                      #{<<"@kind">> => maps:get(<<"info_kind">>, Info),
                        <<"@link">> => maps:get(<<"link">>, Link, none)}),
    {N, Shows} = {N, maps:with(maps:keys(Shows), Seen)}.

%% linx reads the link with its kind, its parent's index and its data.
linx_reads(Config, #{name := N, kind := K} = Case) ->
    In = linx_ct_ns:in_netns(Config),
    {ok, #{kind := K} = Link} = linx_rtnl:link(list_to_binary(N), In),
    Parent = case Case of
                 #{spec := #{link := P}} -> index(Config, P);
                 #{spec := #{peer := #{ifname := P}}} -> index(Config, P);
                 #{} -> none
             end,
    {N, Parent} = {N, maps:get(link, Link, none)},
    Want = decoded(Config, Case),
    {N, Want} = {N, maps:with(maps:keys(Want), maps:get(info_data, Link, #{}))}.

%% What linx decodes a case's data into: `decoded', or the data with
%% link names as indexes.
decoded(_Config, #{decoded := D}) ->
    D;
decoded(Config, Case) ->
    maps:map(fun(link, Name) when is_binary(Name) -> index(Config, Name);
                (_K, V) -> V
             end, maps:get(data, Case, #{})).

index(Config, Name) ->
    {ok, #{index := I}} = linx_rtnl:link(Name, linx_ct_ns:in_netns(Config)),
    I.

%% The RTM_NEWLINK payload `ip link add NAME ARGS' sends (the kernel
%% refuses it), from strace's dump of what it writes.
ip_request(Config, Name, Args) ->
    {_, Out} = linx_ct_ns:sh(["strace -f -e trace=sendmsg -e write=all -xx -s 0 ip -n ",
                              ?config(netns, Config), " link add ", Name, " ", Args, " 2>&1"]),
    Bufs = buffers(string:split(Out, "\n", all), []),
    [Payload] = [P || <<_Len:32/native, ?RTM_NEWLINK:16/native, _:10/binary, P/binary>> <- Bufs],
    Payload.

buffers([Line | Rest], Acc) ->
    case re:run(Line, "^ \\* \\d+ bytes in buffer", [{capture, none}]) of
        match ->
            buffers(Rest, [<<>> | Acc]);
        nomatch ->
            case {re:run(Line, "^ \\| [0-9a-f]{5}  (.{48})", [{capture, all_but_first, binary}]), Acc} of
                {{match, [Hex]}, [Buf | More]} ->
                    buffers(Rest, [<<Buf/binary, (binary:decode_hex(hex(Hex)))/binary>> | More]);
                _ ->
                    buffers(Rest, Acc)
            end
    end;
buffers([], Acc) ->
    lists:reverse(Acc).

hex(Text) ->
    << <<C>> || <<C>> <= Text, C =/= $\s >>.

%% An attribute of a link request (after its struct ifinfomsg), `none'
%% when it has none.
top(Payload, Type) ->
    <<_:16/binary, Attrs/binary>> = Payload,
    {ok, L} = linx_nl_codec:decode_attrs(Attrs),
    proplists:get_value(Type, L, none).

%% An attribute of IFLA_LINKINFO: the kind's name, or the attributes of
%% IFLA_INFO_DATA (`[]' when there are none).
linkinfo(Payload, Type) ->
    {ok, Info} = linx_nl_codec:decode_attrs(top(Payload, ?IFLA_LINKINFO)),
    case {Type, proplists:get_value(Type, Info)} of
        {?IFLA_INFO_KIND, Kind} -> linx_nl_codec:string(Kind);
        {?IFLA_INFO_DATA, undefined} -> [];
        {?IFLA_INFO_DATA, Data} -> {ok, L} = linx_nl_codec:decode_attrs(Data), L
    end.

%% ip_json/3 reads the script of linx_rtnl_SUITE's data directory.
json_config(Config) ->
    Dir = filename:join(filename:dirname(filename:dirname(?config(data_dir, Config) ++ "x")),
                        "linx_rtnl_SUITE_data"),
    [{data_dir, Dir} | Config].
