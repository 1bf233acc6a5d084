%% @doc The nf_tables expressions: one attribute table per expression
%% kind (the value of its `NFTA_EXPR_DATA'), read through
%% {@link linx_nl_attrs}. Pure data.
%%
%% An expression is `{Kind, Map}', `Kind' one of {@link kinds/0} and
%% `Map' the keys of its table below; registers (`sreg', `dreg', ...)
%% are numbers (`NFT_REG_VERDICT' 0, `NFT_REG_1' ... 4, `NFT_REG32_00'
%% ... 8 to 23), and values compared or loaded are `NFTA_DATA_*' maps
%% (`#{value => Bytes}' or `#{verdict => #{code => drop}}'). The numbers are those of
%% `linux/netfilter/nf_tables.h' (and `nf_nat.h', `nf_log.h' for flags);
%% every integer is big-endian on the wire.
-module(linx_nft_exprs).

-export([kinds/0, table/1, names/1]).

%% @doc The expression kinds that have a table, by their kernel names.
-spec kinds() -> [atom()].
kinds() ->
    [meta, payload, cmp, bitwise, byteorder, immediate, counter, lookup, limit, ct, nat, masq,
     redir, reject, log, numgen, quota, fib, queue].

-define(DATA, {nested, {?MODULE, data}}).

%% @doc The table of an expression kind (`counter' is also a chain's
%% `NFTA_CHAIN_COUNTERS'), or of the data (`NFTA_DATA_*') an expression
%% loads or compares, and its verdict (`NFTA_VERDICT_*').
-spec table(atom()) -> {[linx_nl_attrs:entry()], map()}.
table(data) ->
    %% NFTA_DATA_*
    {[{1, value, binary}, {2, verdict, {nested, {?MODULE, verdict}}}], opts()};
table(verdict) ->
    %% NFTA_VERDICT_*
    {[{1, code, {enum, sbe32, names(verdict)}}, {2, chain, string}, {3, chain_id, be32}], opts()};
table(meta) ->
    %% NFTA_META_*
    {[{1, dreg, be32}, {2, key, {enum, be32, names(meta_key)}}, {3, sreg, be32}], opts()};
table(payload) ->
    %% NFTA_PAYLOAD_*
    {[{1, dreg, be32}, {2, base, {enum, be32, names(payload_base)}}, {3, offset, be32},
      {4, len, be32}, {5, sreg, be32}, {6, csum_type, {enum, be32, names(csum_type)}},
      {7, csum_offset, be32}, {8, csum_flags, {bits, be32, [{pseudohdr, 1}]}}], opts()};
table(cmp) ->
    %% NFTA_CMP_*
    {[{1, sreg, be32}, {2, op, {enum, be32, names(cmp_op)}}, {3, data, ?DATA}], opts()};
table(bitwise) ->
    %% NFTA_BITWISE_*
    {[{1, sreg, be32}, {2, dreg, be32}, {3, len, be32}, {4, mask, ?DATA}, {5, 'xor', ?DATA},
      {6, op, {enum, be32, [{mask_xor, 0}, {lshift, 1}, {rshift, 2}]}}, {7, data, ?DATA}],
     opts()};
table(byteorder) ->
    %% NFTA_BYTEORDER_*
    {[{1, sreg, be32}, {2, dreg, be32}, {3, op, {enum, be32, [{ntoh, 0}, {hton, 1}]}},
      {4, len, be32}, {5, size, be32}], opts()};
table(immediate) ->
    %% NFTA_IMMEDIATE_*
    {[{1, dreg, be32}, {2, data, ?DATA}], opts()};
table(counter) ->
    %% NFTA_COUNTER_*
    {[{1, bytes, be64}, {2, packets, be64}, {3, pad, skip}], opts()};
table(lookup) ->
    %% NFTA_LOOKUP_*
    {[{1, set, string}, {2, sreg, be32}, {3, dreg, be32}, {4, set_id, be32},
      {5, flags, {bits, be32, [{inv, 1}]}}], opts()};
table(limit) ->
    %% NFTA_LIMIT_*: `rate' per `unit' seconds
    {[{1, rate, be64}, {2, unit, be64}, {3, burst, be32},
      {4, type, {enum, be32, [{pkts, 0}, {pkt_bytes, 1}]}}, {5, flags, {bits, be32, [{inv, 1}]}},
      {6, pad, skip}], opts()};
table(ct) ->
    %% NFTA_CT_*
    {[{1, dreg, be32}, {2, key, {enum, be32, names(ct_key)}},
      {3, direction, {enum, u8, [{original, 0}, {reply, 1}]}}, {4, sreg, be32}], opts()};
table(nat) ->
    %% NFTA_NAT_*
    {[{1, type, {enum, be32, [{snat, 0}, {dnat, 1}]}},
      {2, family, {enum, be32, names(family)}},
      {3, reg_addr_min, be32}, {4, reg_addr_max, be32}, {5, reg_proto_min, be32},
      {6, reg_proto_max, be32}, {7, flags, {bits, be32, names(nat_flags)}}], opts()};
table(masq) ->
    %% NFTA_MASQ_*
    {[{1, flags, {bits, be32, names(nat_flags)}}, {2, reg_proto_min, be32},
      {3, reg_proto_max, be32}], opts()};
table(redir) ->
    %% NFTA_REDIR_*
    {[{1, reg_proto_min, be32}, {2, reg_proto_max, be32},
      {3, flags, {bits, be32, names(nat_flags)}}], opts()};
table(reject) ->
    %% NFTA_REJECT_*
    {[{1, type, {enum, be32, [{icmp_unreach, 0}, {tcp_rst, 1}, {icmpx_unreach, 2}]}},
      {2, icmp_code, u8}], opts()};
table(log) ->
    %% NFTA_LOG_*: the group and the queue threshold are 16 bits in the
    %% kernel's policy (NLA_U16), whatever the header's comment says.
    {[{1, group, be16}, {2, prefix, string}, {3, snaplen, be32}, {4, qthreshold, be16},
      {5, level, {enum, be32, names(log_level)}}, {6, flags, {bits, be32, names(log_flags)}}],
     opts()};
table(numgen) ->
    %% NFTA_NG_*
    {[{1, dreg, be32}, {2, modulus, be32}, {3, type, {enum, be32, [{inc, 0}, {random, 1}]}},
      {4, offset, be32}], opts()};
table(quota) ->
    %% NFTA_QUOTA_*
    {[{1, bytes, be64}, {2, flags, {bits, be32, [{inv, 1}, {depleted, 2}]}}, {3, pad, skip},
      {4, consumed, be64}], opts()};
table(fib) ->
    %% NFTA_FIB_*
    {[{1, dreg, be32},
      {2, result, {enum, be32, [{unspec, 0}, {oif, 1}, {oifname, 2}, {addrtype, 3}]}},
      {3, flags, {bits, be32, names(fib_flags)}}], opts()};
table(queue) ->
    %% NFTA_QUEUE_*
    {[{1, num, be16}, {2, total, be16}, {3, flags, {bits, be16, [{bypass, 1}, {fanout, 2}]}},
      {4, sreg_qnum, be32}], opts()}.

opts() ->
    #{empty_unknown => drop}.

%% @doc Names of numbers.
-spec names(atom()) -> linx_nl_attrs:names().
names(family) ->
    %% NFPROTO_*, by nft's names
    [{unspec, 0}, {inet, 1}, {ip, 2}, {arp, 3}, {netdev, 5}, {bridge, 7}, {ip6, 10}];
names(verdict) ->
    %% NF_* (linux/netfilter.h) and NFT_* (enum nft_verdicts)
    [{drop, 0}, {accept, 1}, {stolen, 2}, {queue, 3}, {repeat, 4}, {stop, 5},
     {continue, -1}, {break, -2}, {jump, -3}, {goto, -4}, {return, -5}];
names(meta_key) ->
    %% enum nft_meta_keys
    lists:zip([len, protocol, priority, mark, iif, oif, iifname, oifname, iiftype, oiftype,
               skuid, skgid, nftrace, rtclassid, secmark, nfproto, l4proto, bri_iifname,
               bri_oifname, pkttype, cpu, iifgroup, oifgroup, cgroup, prandom, secpath,
               iifkind, oifkind, bri_iifpvid, bri_iifvproto, time_ns, time_day, time_hour,
               sdif, sdifname], lists:seq(0, 34));
names(ct_key) ->
    %% enum nft_ct_keys
    lists:zip([state, direction, status, mark, secmark, expiration, helper, l3protocol,
               src, dst, protocol, proto_src, proto_dst, labels, pkts, bytes, avgpkt, zone,
               eventmask, src_ip, dst_ip, src_ip6, dst_ip6, id], lists:seq(0, 23));
names(payload_base) ->
    %% enum nft_payload_bases
    [{ll, 0}, {network, 1}, {transport, 2}, {inner, 3}];
names(csum_type) ->
    [{none, 0}, {inet, 1}, {sctp, 2}];
names(cmp_op) ->
    %% enum nft_cmp_ops
    [{eq, 0}, {neq, 1}, {lt, 2}, {lte, 3}, {gt, 4}, {gte, 5}];
names(nat_flags) ->
    %% NF_NAT_RANGE_*
    [{map_ips, 1}, {proto_specified, 2}, {random, 4}, {persistent, 8}, {fully_random, 16},
     {proto_offset, 32}, {netmap, 64}];
names(log_level) ->
    %% enum nft_log_level
    lists:zip([emerg, alert, crit, err, warn, notice, info, debug, audit], lists:seq(0, 8));
names(log_flags) ->
    %% NF_LOG_*
    [{tcpseq, 1}, {tcpopt, 2}, {ipopt, 4}, {uid, 8}, {macdecode, 32}];
names(fib_flags) ->
    %% NFTA_FIB_F_*
    [{saddr, 1}, {daddr, 2}, {mark, 4}, {iif, 8}, {oif, 16}, {present, 32}].
