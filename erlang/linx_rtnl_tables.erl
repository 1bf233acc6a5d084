%% @doc The rtnetlink tables: every message type, fixed header, attribute
%% and name that {@link linx_rtnl_msg} and {@link linx_rtnl} use, written
%% once. Pure data, read through {@link linx_nl_attrs}.
%%
%% Each attribute number (`IFLA_*', `IFLA_INFO_*', `IFA_*', `RTA_*',
%% `NDA_*', `FRA_*', `NHA_*', a kind's `IFLA_<KIND>_*') stands in exactly
%% one entry below; the numbers and layouts are those of the kernel's UAPI
%% headers (`linux/if_link.h', `linux/if_addr.h', `linux/rtnetlink.h',
%% `linux/neighbour.h', `linux/fib_rules.h', `linux/nexthop.h',
%% `linux/veth.h'). A link kind's own attributes
%% (`IFLA_INFO_DATA') are a table named after the kind: adding a kind is
%% writing its table and naming it in {@link kind_table/1}.
-module(linx_rtnl_tables).

-export([table/1, header/1, names/1, kinds/0, messages/0, kind_table/1]).

%%====================================================================
%% Message types
%%====================================================================

%% @doc Every rtnetlink message type linx knows: `{Number, Object, What}'.
-spec messages() -> [{non_neg_integer(), link | addr | route | neigh | rule | nexthop,
                      new | del | get}].
messages() ->
    [{16, link, new}, {17, link, del}, {18, link, get},
     {20, addr, new}, {21, addr, del}, {22, addr, get},
     {24, route, new}, {25, route, del}, {26, route, get},
     {28, neigh, new}, {29, neigh, del}, {30, neigh, get},
     {32, rule, new}, {33, rule, del}, {34, rule, get},
     {104, nexthop, new}, {105, nexthop, del}, {106, nexthop, get}].

%%====================================================================
%% Fixed headers
%%====================================================================

%% @doc The fixed header each message of an object starts with, as the
%% fields of a {@link linx_nl_attrs} struct (a key `'_'' is a field
%% that decoding leaves out; `family' and `change' of a link header are
%% given when encoding only).
-spec header(link | link_request | link_stats64 | addr | route | neigh | rule | nexthop) ->
          [{atom(), linx_nl_attrs:codec()}].
header(link) ->
    %% struct ifinfomsg
    [{'_', u8}, {'_', u8}, {type, {enum, u16, names(arphrd)}}, {index, s32},
     {flags, {bits, u32, names(iff)}}, {'_', u32}];
header(link_request) ->
    [{family, u8}, {'_', u8}, {type, u16}, {index, s32}, {flags, u32}, {change, u32}];
header(link_stats64) ->
    %% struct rtnl_link_stats64, the value of IFLA_STATS64 (an older
    %% kernel sends fewer fields, a newer one may send more)
    [{rx_packets, u64}, {tx_packets, u64}, {rx_bytes, u64}, {tx_bytes, u64},
     {rx_errors, u64}, {tx_errors, u64}, {rx_dropped, u64}, {tx_dropped, u64},
     {multicast, u64}, {collisions, u64}, {rx_length_errors, u64}, {rx_over_errors, u64},
     {rx_crc_errors, u64}, {rx_frame_errors, u64}, {rx_fifo_errors, u64},
     {rx_missed_errors, u64}, {tx_aborted_errors, u64}, {tx_carrier_errors, u64},
     {tx_fifo_errors, u64}, {tx_heartbeat_errors, u64}, {tx_window_errors, u64},
     {rx_compressed, u64}, {tx_compressed, u64}, {rx_nohandler, u64},
     {rx_otherhost_dropped, u64}];
header(addr) ->
    %% struct ifaddrmsg
    [{family, {enum, u8, names(family)}}, {prefixlen, u8}, {flags, {bits, u8, names(ifa_flags)}},
     {scope, {enum, u8, names(scope)}}, {index, u32}];
header(route) ->
    %% struct rtmsg
    [{family, {enum, u8, names(family)}}, {dst_len, u8}, {src_len, u8}, {tos, u8},
     {table, u8}, {protocol, {enum, u8, names(rt_proto)}}, {scope, {enum, u8, names(scope)}},
     {type, {enum, u8, names(rt_type)}}, {flags, {bits, u32, names(rtm_flags)}}];
header(rule) ->
    %% struct fib_rule_hdr: `table' only below 256 (FRA_TABLE has it all)
    [{family, {enum, u8, names(family)}}, {dst_len, u8}, {src_len, u8}, {tos, u8},
     {'_', u8}, {'_', u8}, {'_', u8}, {action, {enum, u8, names(fr_act)}},
     {flags, {bits, u32, names(fib_rule_flags)}}];
header(neigh) ->
    %% struct ndmsg
    [{family, {enum, u8, names(family)}}, {'_', u8}, {'_', u16}, {index, s32},
     {state, {bits, u16, names(nud)}}, {flags, {bits, u8, names(ntf)}},
     {type, {enum, u8, names(rt_type)}}];
header(nexthop) ->
    %% struct nhmsg (the kernel sets nh_scope; flags are RTNH_F_*)
    [{family, {enum, u8, names(family)}}, {scope, {enum, u8, names(scope)}},
     {protocol, {enum, u8, names(rt_proto)}}, {'_', u8}, {flags, {bits, u32, names(rtm_flags)}}].

%%====================================================================
%% Attribute tables
%%====================================================================

%% @doc The attribute table `Name': `{Entries, Options}' as
%% {@link linx_nl_attrs} reads it.
-spec table(atom()) -> {[linx_nl_attrs:entry()], map()}.
table(link) ->
    %% IFLA_*
    {[{1, address, mac}, {2, broadcast, mac}, {3, ifname, string}, {4, mtu, u32},
      {5, link, s32}, {6, qdisc, string},
      %% IFLA_STATS and IFLA_STATS64: the kernel sends them even when asked
      %% to skip statistics; left out (linx_rtnl_msg:decode_link/2 reads
      %% IFLA_STATS64 when asked).
      {7, stats, skip},
      {10, master, u32}, {13, txqlen, u32},
      {16, operstate, {enum, u8, names(operstate)}},
      {17, linkmode, {enum, u8, names(linkmode)}},
      {18, linkinfo, {nested, {?MODULE, linkinfo}}, [spread]},
      {19, net_ns_pid, u32}, {20, alias, string}, {23, stats64, skip}, {27, group, u32},
      {28, net_ns_fd, u32}, {29, ext_mask, u32}, {30, promiscuity, u32},
      {31, num_tx_queues, u32}, {32, num_rx_queues, u32},
      {33, carrier, bool8}, {35, carrier_changes, u32}, {37, link_netnsid, s32},
      {39, proto_down, bool8}, {40, gso_max_segs, u32}, {41, gso_max_size, u32},
      {50, min_mtu, u32}, {51, max_mtu, u32},
      %% IFLA_PROP_LIST of IFLA_ALT_IFNAME
      {52, alt_names, {list, 53, string}}, {54, perm_address, mac},
      {58, gro_max_size, u32}, {59, tso_max_size, u32}, {60, tso_max_segs, u32},
      {61, allmulti, u32}, {63, gso_ipv4_max_size, u32}, {64, gro_ipv4_max_size, u32}],
     #{}};
table(linkinfo) ->
    %% IFLA_INFO_*: spread into the link; the kind's data is decoded by
    %% linx_rtnl_msg with the kind's table.
    {[{1, kind, {symbol, kinds()}}, {2, info_data, binary}, {4, slave_kind, {symbol, kinds()}},
      {5, info_slave_data, binary}],
     #{unknown => info_unknown, empty_unknown => drop}};
table(veth) ->
    %% VETH_INFO_*: the peer is a link message of its own (header and
    %% attributes), encoded by linx_rtnl_msg.
    {[{1, peer, binary}], #{empty_unknown => drop}};
table(bridge) ->
    %% IFLA_BR_* (the timers, u64 in hundredths of a second, are read only)
    {[{1, forward_delay, u32}, {2, hello_time, u32}, {3, max_age, u32}, {4, ageing_time, u32},
      {5, stp_state, u32}, {6, priority, u16},
      {7, vlan_filtering, bool8}, {8, vlan_protocol, {enum, be16, names(vlan_protocol)}},
      {9, group_fwd_mask, u16}, {12, root_port, u16}, {13, root_path_cost, u32},
      {14, topology_change, bool8}, {15, topology_change_detected, bool8},
      {16, hello_timer, u64}, {17, tcn_timer, u64}, {18, topology_change_timer, u64},
      {19, gc_timer, u64}, {20, group_addr, mac}, {21, fdb_flush, flag},
      {22, mcast_router, u8}, {23, mcast_snooping, bool8},
      {24, mcast_query_use_ifaddr, bool8}, {25, mcast_querier, bool8},
      {26, mcast_hash_elasticity, u32}, {27, mcast_hash_max, u32},
      {28, mcast_last_member_cnt, u32}, {29, mcast_startup_query_cnt, u32},
      {30, mcast_last_member_intvl, u64}, {31, mcast_membership_intvl, u64},
      {32, mcast_querier_intvl, u64}, {33, mcast_query_intvl, u64},
      {34, mcast_query_response_intvl, u64}, {35, mcast_startup_query_intvl, u64},
      {36, nf_call_iptables, bool8}, {37, nf_call_ip6tables, bool8}, {38, nf_call_arptables, bool8},
      {39, vlan_default_pvid, u16}, {41, vlan_stats_enabled, bool8},
      {42, mcast_stats_enabled, bool8}, {43, mcast_igmp_version, u8}, {44, mcast_mld_version, u8},
      {45, vlan_stats_per_port, bool8},
      %% struct br_boolopt_multi: the options set, and the mask of those given
      {46, multi_boolopt, {masked, u32, names(br_boolopt)}}],
     #{empty_unknown => drop}};
table(vlan) ->
    %% IFLA_VLAN_* (the QoS maps, IFLA_VLAN_EGRESS_QOS and _INGRESS_QOS,
    %% are left unnamed); flags are struct ifla_vlan_flags.
    {[{1, id, u16}, {2, flags, {masked, u32, names(vlan_flags)}},
      {5, protocol, {enum, be16, names(vlan_protocol)}}],
     #{empty_unknown => drop}};
table(macvlan) ->
    %% IFLA_MACVLAN_* (macvlan and macvtap)
    {[{1, mode, {enum, u32, names(macvlan_mode)}}, {2, flags, {bits, u16, names(macvlan_flags)}},
      {3, macaddr_mode, {enum, u32, names(macaddr_mode)}}, {4, macaddr, mac},
      {5, macaddr_data, {list, 4, mac}}, {6, macaddr_count, u32},
      {7, bc_queue_len, u32}, {8, bc_queue_len_used, u32}],
     #{empty_unknown => drop}};
table(ipvlan) ->
    %% IFLA_IPVLAN_* (ipvlan and ipvtap)
    {[{1, mode, {enum, u16, names(ipvlan_mode)}}, {2, flags, {bits, u16, names(ipvlan_flags)}}],
     #{empty_unknown => drop}};
table(vxlan) ->
    %% IFLA_VXLAN_*: `group' is the remote (unicast) or the multicast
    %% group, `link' the underlying link's index.
    {[{1, id, u32}, {2, group, ip}, {3, link, u32}, {4, local, ip}, {5, ttl, u8}, {6, tos, u8},
      {7, learning, bool8}, {8, ageing, u32}, {9, limit, u32},
      {10, port_range, {struct, [{low, be16}, {high, be16}]}},
      {11, proxy, bool8}, {12, rsc, bool8}, {13, l2miss, bool8}, {14, l3miss, bool8},
      {15, port, be16}, {16, group6, ip}, {17, local6, ip}, {18, udp_csum, bool8},
      {19, udp_zero_csum6_tx, bool8}, {20, udp_zero_csum6_rx, bool8},
      {21, remcsum_tx, bool8}, {22, remcsum_rx, bool8}, {23, gbp, flag},
      {24, remcsum_nopartial, flag}, {25, collect_metadata, bool8}, {26, label, be32},
      {27, gpe, flag}, {28, ttl_inherit, flag}, {29, df, {enum, u8, names(tunnel_df)}},
      {30, vnifilter, bool8}, {31, localbypass, bool8}],
     #{empty_unknown => drop}};
table(geneve) ->
    %% IFLA_GENEVE_*
    {[{1, id, u32}, {2, remote, ip}, {3, ttl, u8}, {4, tos, u8}, {5, port, be16},
      {6, collect_metadata, flag}, {7, remote6, ip}, {8, udp_csum, bool8},
      {9, udp_zero_csum6_tx, bool8}, {10, udp_zero_csum6_rx, bool8}, {11, label, be32},
      {12, ttl_inherit, bool8}, {13, df, {enum, u8, names(tunnel_df)}},
      {14, inner_proto_inherit, flag}],
     #{empty_unknown => drop}};
table(bond) ->
    %% IFLA_BOND_* (the ARP and NS targets and the 802.3ad info are left
    %% unnamed); `active_slave' and `primary' are link indexes.
    {[{1, mode, {enum, u8, names(bond_mode)}}, {2, active_slave, u32}, {3, miimon, u32},
      {4, updelay, u32}, {5, downdelay, u32}, {6, use_carrier, bool8}, {7, arp_interval, u32},
      {9, arp_validate, {enum, u32, names(bond_arp_validate)}},
      {10, arp_all_targets, {enum, u32, names(bond_arp_all_targets)}},
      {11, primary, u32}, {12, primary_reselect, {enum, u8, names(bond_primary_reselect)}},
      {13, fail_over_mac, {enum, u8, names(bond_fail_over_mac)}},
      {14, xmit_hash_policy, {enum, u8, names(bond_xmit_hash_policy)}},
      {15, resend_igmp, u32}, {16, num_peer_notif, u8}, {17, all_slaves_active, bool8},
      {18, min_links, u32}, {19, lp_interval, u32}, {20, packets_per_slave, u32},
      {21, ad_lacp_rate, {enum, u8, names(bond_lacp_rate)}},
      {22, ad_select, {enum, u8, names(bond_ad_select)}},
      {24, ad_actor_sys_prio, u16}, {25, ad_user_port_key, u16}, {26, ad_actor_system, mac},
      {27, tlb_dynamic_lb, bool8}, {28, peer_notif_delay, u32}, {29, ad_lacp_active, bool8},
      {30, missed_max, u8}, {32, coupled_control, bool8}],
     #{empty_unknown => drop}};
table(vrf) ->
    %% IFLA_VRF_*
    {[{1, table, u32}], #{empty_unknown => drop}};
table(gre) ->
    %% IFLA_GRE_* (gre, gretap, ip6gre, ip6gretap): `link' the underlying
    %% link's index, keys and flags in network byte order.
    {[{1, link, u32}, {2, iflags, {bits, be16, names(gre_flags)}},
      {3, oflags, {bits, be16, names(gre_flags)}}, {4, ikey, be32}, {5, okey, be32},
      {6, local, ip}, {7, remote, ip}, {8, ttl, u8}, {9, tos, u8}, {10, pmtudisc, bool8},
      {11, encap_limit, u8}, {12, flowinfo, be32}, {13, flags, u32}, {14, encap_type, u16},
      {15, encap_flags, u16}, {16, encap_sport, be16}, {17, encap_dport, be16},
      {18, collect_metadata, flag}, {19, ignore_df, bool8}, {20, fwmark, u32},
      {21, erspan_index, u32}, {22, erspan_ver, u8}, {23, erspan_dir, u8},
      {24, erspan_hwid, u16}],
     #{empty_unknown => drop}};
table(iptun) ->
    %% IFLA_IPTUN_* of ipip and sit (whose flags are 16 bits)
    {[{1, link, u32}, {2, local, ip}, {3, remote, ip}, {4, ttl, u8}, {5, tos, u8},
      {6, encap_limit, u8}, {7, flowinfo, be32}, {8, flags, u16}, {9, proto, u8},
      {10, pmtudisc, bool8}, {11, '6rd_prefix', ip}, {12, '6rd_relay_prefix', ip},
      {13, '6rd_prefixlen', u16}, {14, '6rd_relay_prefixlen', u16}, {15, encap_type, u16},
      {16, encap_flags, u16}, {17, encap_sport, be16}, {18, encap_dport, be16},
      {19, collect_metadata, flag}, {20, fwmark, u32}],
     #{empty_unknown => drop}};
table(ip6tnl) ->
    %% IFLA_IPTUN_* of ip6tnl (whose flags are 32 bits)
    {[{1, link, u32}, {2, local, ip}, {3, remote, ip}, {4, ttl, u8},
      {6, encap_limit, u8}, {7, flowinfo, be32}, {8, flags, u32}, {9, proto, u8},
      {15, encap_type, u16}, {16, encap_flags, u16}, {17, encap_sport, be16},
      {18, encap_dport, be16}, {19, collect_metadata, flag}, {20, fwmark, u32}],
     #{empty_unknown => drop}};
table(addr) ->
    %% IFA_*
    {[{1, address, ip}, {2, local, ip}, {3, label, string}, {4, broadcast, ip}, {5, anycast, ip},
      {6, cacheinfo, {struct, [{preferred_lft, {enum, u32, names(lifetime)}},
                               {valid_lft, {enum, u32, names(lifetime)}},
                               {'_', u32}, {'_', u32}]}, [spread]},
      {7, multicast, ip}, {8, flags, {bits, u32, names(ifa_flags)}},
      {9, metric, u32}, {11, protocol, u8}],
     #{}};
table(route) ->
    %% RTA_*. RTA_VIA is a struct rtvia (a u16 family, then the address),
    %% RTA_ENCAP nested attributes of its RTA_ENCAP_TYPE: both are kept as
    %% bytes here (linx_rtnl_msg reads the address of the first). A dump
    %% gives a route's expiry in RTA_CACHEINFO, a request in RTA_EXPIRES
    %% (seconds).
    {[{1, dst, ip}, {2, src, ip}, {3, iif, u32}, {4, oif, u32}, {5, gateway, ip},
      {6, metric, u32}, {7, prefsrc, ip},
      {8, metrics, {nested, {?MODULE, route_metrics}}},
      %% RTA_MULTIPATH: struct rtnexthop each, with attributes of this
      %% table; read and written by linx_rtnl_msg and linx_rtnl_route.
      {9, multipath, binary},
      {11, flow, u32},
      %% struct rta_cacheinfo: only rta_expires (clock ticks) is kept
      {12, cacheinfo, {struct, [{'_', u32}, {'_', u32}, {cache_expires, s32}, {'_', u32},
                                {'_', u32}, {'_', u32}, {'_', u32}, {'_', u32}]}, [spread]},
      {15, table, u32}, {16, mark, u32}, {18, via, binary},
      {20, pref, {enum, u8, names(route_pref)}}, {21, encap_type, u16}, {22, encap, binary},
      {23, expires, u32},
      %% RTA_UID, RTA_TTL_PROPAGATE, RTA_IP_PROTO, RTA_SPORT, RTA_DPORT: a
      %% route lookup's (linx_rtnl_route_query) and its answer's
      {25, uid, u32}, {26, ttl_propagate, u8}, {27, ip_proto, {enum, u8, names(ip_proto)}},
      {28, sport, be16}, {29, dport, be16}, {30, nhid, u32}],
     #{}};
table(route_metrics) ->
    %% RTAX_* (linux/rtnetlink.h), the metrics of a route (RTA_METRICS)
    {[{1, lock, u32}, {2, mtu, u32}, {3, window, u32}, {4, rtt, u32}, {5, rttvar, u32},
      {6, ssthresh, u32}, {7, cwnd, u32}, {8, advmss, u32}, {9, reordering, u32},
      {10, hoplimit, u32}, {11, initcwnd, u32}, {12, features, u32}, {13, rto_min, u32},
      {14, initrwnd, u32}, {15, quickack, u32}, {16, cc_algo, string},
      {17, fastopen_no_cookie, u32}],
     #{empty_unknown => drop}};
table(rule) ->
    %% FRA_*: the source and destination prefixes' lengths are in the
    %% header; FRA_UID_RANGE and the port ranges are two numbers each.
    {[{1, dst, ip}, {2, src, ip}, {3, iif, string}, {4, goto, u32}, {6, priority, u32},
      {10, fwmark, u32}, {11, flow, u32}, {13, suppress_ifgroup, u32},
      {14, suppress_prefixlen, u32}, {15, table, u32}, {16, fwmask, u32}, {17, oif, string},
      {19, l3mdev, bool8}, {20, uid_range, {struct, [{first, u32}, {last, u32}]}},
      {21, protocol, {enum, u8, names(rt_proto)}}, {22, ip_proto, {enum, u8, names(ip_proto)}},
      {23, sport, {struct, [{first, u16}, {last, u16}]}},
      {24, dport, {struct, [{first, u16}, {last, u16}]}}],
     #{}};
table(neigh) ->
    %% NDA_*: NDA_PORT, NDA_VNI, NDA_SRC_VNI and NDA_IFINDEX are a vxlan
    %% fdb entry's remote port (network byte order), VNIs and the link to
    %% reach the remote through.
    {[{1, dst, ip}, {2, lladdr, mac}, {4, probes, u32}, {5, vlan, u16}, {6, port, be16},
      {7, vni, u32}, {8, via, u32}, {9, master, u32}, {11, src_vni, u32}, {12, protocol, u8}],
     #{}};
table(nexthop) ->
    %% NHA_*: NHA_GROUP is an array of struct nexthop_grp, read and
    %% written by linx_rtnl_msg and linx_rtnl_nexthop; `groups' and
    %% `master' filter a dump.
    {[{1, id, u32}, {2, group, binary}, {3, group_type, {enum, u16, names(nh_group_type)}},
      {4, blackhole, flag}, {5, oif, u32}, {6, gateway, ip}, {7, encap_type, u16},
      {8, encap, binary}, {9, groups, flag}, {10, master, u32}, {11, fdb, flag},
      {12, res_group, {nested, {?MODULE, nexthop_res_group}}}, {13, res_bucket, binary}],
     #{}};
table(nexthop_res_group) ->
    %% NHA_RES_GROUP_* of a resilient group: the timers in clock ticks
    %% (hundredths of a second); `unbalanced_time' is read only.
    {[{0, pad, skip}, {1, buckets, u16}, {2, idle_timer, u32}, {3, unbalanced_timer, u32},
      {4, unbalanced_time, u64}],
     #{empty_unknown => drop}}.

%% @doc The table of a link kind's own attributes, `none' for a kind
%% without one (its `info_data' then stays a binary).
-spec kind_table(atom() | binary()) -> linx_nl_attrs:table() | none.
kind_table(veth) -> {?MODULE, veth};
kind_table(bridge) -> {?MODULE, bridge};
kind_table(vlan) -> {?MODULE, vlan};
kind_table(macvlan) -> {?MODULE, macvlan};
kind_table(ipvlan) -> {?MODULE, ipvlan};
kind_table(vxlan) -> {?MODULE, vxlan};
kind_table(geneve) -> {?MODULE, geneve};
kind_table(bond) -> {?MODULE, bond};
kind_table(vrf) -> {?MODULE, vrf};
kind_table(gre) -> {?MODULE, gre};
kind_table(ipip) -> {?MODULE, iptun};
kind_table(ip6tnl) -> {?MODULE, ip6tnl};
kind_table(Kind) ->
    case same_table(Kind) of
        none -> none;
        Other -> kind_table(Other)
    end.

%% The kinds whose attributes are another kind's.
same_table(macvtap) -> macvlan;
same_table(ipvtap) -> ipvlan;
same_table(gretap) -> gre;
same_table(ip6gre) -> gre;
same_table(ip6gretap) -> gre;
same_table(sit) -> ipip;
same_table(_) -> none.

%%====================================================================
%% Names
%%====================================================================

%% @doc A table of names: `[{Name, Number}]' (for flags, `Number' is the
%% bit).
-spec names(atom()) -> linx_nl_attrs:names().
names(family) ->
    [{unspec, 0}, {inet, 2}, {bridge, 7}, {inet6, 10}];
names(iff) ->
    [{up, 16#1}, {broadcast, 16#2}, {debug, 16#4}, {loopback, 16#8},
     {pointopoint, 16#10}, {notrailers, 16#20}, {running, 16#40},
     {noarp, 16#80}, {promisc, 16#100}, {allmulti, 16#200},
     {master, 16#400}, {slave, 16#800}, {multicast, 16#1000},
     {portsel, 16#2000}, {automedia, 16#4000}, {dynamic, 16#8000},
     {lower_up, 16#10000}, {dormant, 16#20000}, {echo, 16#40000}];
names(ifa_flags) ->
    [{secondary, 16#1}, {nodad, 16#2}, {optimistic, 16#4},
     {dadfailed, 16#8}, {homeaddress, 16#10}, {deprecated, 16#20},
     {tentative, 16#40}, {permanent, 16#80}, {managetempaddr, 16#100},
     {noprefixroute, 16#200}, {mcautojoin, 16#400}, {stable_privacy, 16#800}];
names(nud) ->
    [{incomplete, 16#1}, {reachable, 16#2}, {stale, 16#4}, {delay, 16#8},
     {probe, 16#10}, {failed, 16#20}, {noarp, 16#40}, {permanent, 16#80}];
names(ntf) ->
    [{use, 16#1}, {self, 16#2}, {master, 16#4}, {proxy, 16#8},
     {extern_learn, 16#10}, {offloaded, 16#20}, {sticky, 16#40}, {router, 16#80}];
names(rtm_flags) ->
    %% RTNH_F_* (the low byte) and RTM_F_*
    [{dead, 16#1}, {pervasive, 16#2}, {onlink, 16#4}, {offload, 16#8},
     {linkdown, 16#10}, {unresolved, 16#20}, {trap, 16#40},
     {notify, 16#100}, {cloned, 16#200}, {equalize, 16#400},
     {prefix, 16#800}, {lookup_table, 16#1000}, {fib_match, 16#2000},
     {rt_offload, 16#4000}, {rt_trap, 16#8000}];
names(fr_act) ->
    %% FR_ACT_*: what a rule does when it matches
    [{unspec, 0}, {lookup, 1}, {goto, 2}, {nop, 3}, {blackhole, 6}, {unreachable, 7},
     {prohibit, 8}];
names(fib_rule_flags) ->
    [{permanent, 16#1}, {invert, 16#2}, {unresolved, 16#4}, {iif_detached, 16#8},
     {find_saved, 16#10}, {oif_detached, 16#20}];
names(ip_proto) ->
    [{icmp, 1}, {tcp, 6}, {udp, 17}, {icmpv6, 58}, {sctp, 132}];
names(operstate) ->
    [{unknown, 0}, {notpresent, 1}, {down, 2}, {lowerlayerdown, 3}, {testing, 4},
     {dormant, 5}, {up, 6}];
names(linkmode) ->
    [{default, 0}, {dormant, 1}];
names(scope) ->
    [{universe, 0}, {site, 200}, {link, 253}, {host, 254}, {nowhere, 255}];
names(rt_type) ->
    [{unspec, 0}, {unicast, 1}, {local, 2}, {broadcast, 3}, {anycast, 4},
     {multicast, 5}, {blackhole, 6}, {unreachable, 7}, {prohibit, 8},
     {throw, 9}, {nat, 10}, {xresolve, 11}];
names(rt_proto) ->
    [{unspec, 0}, {redirect, 1}, {kernel, 2}, {boot, 3}, {static, 4},
     {ra, 9}, {dhcp, 16}, {keepalived, 18}, {babel, 42}, {bgp, 186},
     {isis, 187}, {ospf, 188}, {rip, 189}, {eigrp, 192}];
names(route_pref) ->
    [{medium, 0}, {high, 1}, {low, 3}];
names(lifetime) ->
    [{forever, 16#ffffffff}];
names(arphrd) ->
    [{ether, 1}, {loopback, 772}, {none, 65534}, {ipip, 768},
     {tunnel6, 769}, {sit, 776}, {ipgre, 778}, {ip6gre, 823},
     {ieee80211, 801}, {void, 16#ffff}];
names(group) ->
    %% RTNLGRP_*
    [{link, 1}, {notify, 2}, {neigh, 3}, {tc, 4}, {ipv4_addr, 5},
     {ipv4_mroute, 6}, {ipv4_route, 7}, {ipv4_rule, 8}, {ipv6_addr, 9},
     {ipv6_mroute, 10}, {ipv6_route, 11}, {ipv6_ifinfo, 12},
     {ipv6_prefix, 18}, {ipv6_rule, 19}, {nsid, 28}, {nexthop, 32}];
names(nh_group_type) ->
    %% NEXTHOP_GRP_TYPE_*
    [{mpath, 0}, {resilient, 1}];
names(vlan_protocol) ->
    %% ETH_P_8021Q, ETH_P_8021AD
    [{'802.1q', 16#8100}, {'802.1ad', 16#88a8}];
names(vlan_flags) ->
    [{reorder_hdr, 16#1}, {gvrp, 16#2}, {loose_binding, 16#4}, {mvrp, 16#8},
     {bridge_binding, 16#10}];
names(br_boolopt) ->
    [{no_ll_learn, 16#1}, {mcast_vlan_snooping, 16#2}, {mst_enable, 16#4}];
names(macvlan_mode) ->
    [{private, 1}, {vepa, 2}, {bridge, 4}, {passthru, 8}, {source, 16}];
names(macvlan_flags) ->
    [{nopromisc, 16#1}, {nodst, 16#2}];
names(macaddr_mode) ->
    [{add, 0}, {del, 1}, {flush, 2}, {set, 3}];
names(ipvlan_mode) ->
    [{l2, 0}, {l3, 1}, {l3s, 2}];
names(ipvlan_flags) ->
    [{private, 16#1}, {vepa, 16#2}];
names(tunnel_df) ->
    [{unset, 0}, {set, 1}, {inherit, 2}];
names(bond_mode) ->
    [{'balance-rr', 0}, {'active-backup', 1}, {'balance-xor', 2}, {broadcast, 3},
     {'802.3ad', 4}, {'balance-tlb', 5}, {'balance-alb', 6}];
names(bond_arp_validate) ->
    [{none, 0}, {active, 1}, {backup, 2}, {all, 3}, {filter, 4}, {filter_active, 5},
     {filter_backup, 6}];
names(bond_arp_all_targets) ->
    [{any, 0}, {all, 1}];
names(bond_primary_reselect) ->
    [{always, 0}, {better, 1}, {failure, 2}];
names(bond_fail_over_mac) ->
    [{none, 0}, {active, 1}, {follow, 2}];
names(bond_xmit_hash_policy) ->
    [{layer2, 0}, {'layer3+4', 1}, {'layer2+3', 2}, {'encap2+3', 3}, {'encap3+4', 4},
     {'vlan+srcmac', 5}];
names(bond_lacp_rate) ->
    [{slow, 0}, {fast, 1}];
names(bond_ad_select) ->
    [{stable, 0}, {bandwidth, 1}, {count, 2}];
names(gre_flags) ->
    %% GRE_* of the GRE header, in network byte order
    [{seq, 16#1000}, {key, 16#2000}, {routing, 16#4000}, {csum, 16#8000}];
names(addr_add_flags) ->
    %% The IFA_F_* flags a caller may set on an address it adds.
    [F || {Name, _} = F <- names(ifa_flags),
          lists:member(Name, [nodad, optimistic, homeaddress, managetempaddr, noprefixroute,
                              mcautojoin])].

%% @doc The link kinds linx names with an atom, by the kernel's name; any
%% other kind stays the kernel's binary (atoms are never made from what
%% it sends).
-spec kinds() -> #{binary() => atom()}.
kinds() ->
    #{<<"veth">> => veth, <<"bridge">> => bridge, <<"dummy">> => dummy, <<"vlan">> => vlan,
      <<"macvlan">> => macvlan, <<"macvtap">> => macvtap, <<"ipvlan">> => ipvlan,
      <<"ipvtap">> => ipvtap, <<"vxlan">> => vxlan, <<"geneve">> => geneve, <<"bond">> => bond,
      <<"team">> => team, <<"tun">> => tun, <<"tap">> => tap, <<"wireguard">> => wireguard,
      <<"gre">> => gre, <<"gretap">> => gretap, <<"ip6gre">> => ip6gre,
      <<"ip6gretap">> => ip6gretap, <<"ipip">> => ipip, <<"sit">> => sit, <<"ip6tnl">> => ip6tnl,
      <<"vti">> => vti, <<"vti6">> => vti6, <<"vrf">> => vrf, <<"macsec">> => macsec,
      <<"netkit">> => netkit, <<"nlmon">> => nlmon, <<"ifb">> => ifb, <<"erspan">> => erspan,
      <<"ip6erspan">> => ip6erspan, <<"bareudp">> => bareudp, <<"xfrm">> => xfrm,
      <<"hsr">> => hsr, <<"can">> => can, <<"vcan">> => vcan, <<"ipoib">> => ipoib}.
