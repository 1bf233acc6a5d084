%% @doc The traffic control tables: every message type, fixed header,
%% attribute and struct that {@link linx_tc_msg} and {@link linx_tc_kinds}
%% use, written once. Pure data, read through {@link linx_nl_attrs}.
%%
%% The numbers and layouts are those of the kernel's UAPI headers
%% (`linux/rtnetlink.h' for `struct tcmsg' and `TCA_*',
%% `linux/pkt_sched.h' for the qdiscs' `TCA_HTB_*', `TCA_TBF_*',
%% `TCA_NETEM_*' and their structs, `linux/pkt_cls.h' for `TCA_U32_*',
%% `TCA_ACT_*' and `struct tc_u32_sel', `linux/tc_act/tc_mirred.h').
%% A kind's own options (`TCA_OPTIONS') are a table named after the kind.
-module(linx_tc_tables).

-export([messages/0, header/0, table/1, struct/1, names/1]).

%% @doc The traffic control message types: `{Number, Object, What}'
%% (`RTM_NEWQDISC' ... `RTM_GETTFILTER').
-spec messages() -> [{36..46, qdisc | class | filter, new | del | get}].
messages() ->
    [{36, qdisc, new}, {37, qdisc, del}, {38, qdisc, get},
     {40, class, new}, {41, class, del}, {42, class, get},
     {44, filter, new}, {45, filter, del}, {46, filter, get}].

%% @doc `struct tcmsg', which every message starts with (`info' is a
%% qdisc's reference count, or a filter's priority and protocol).
-spec header() -> [{atom(), linx_nl_attrs:codec()}].
header() ->
    [{family, u8}, {'_', u8}, {'_', u16}, {index, s32}, {handle, u32}, {parent, u32},
     {info, u32}].

%% @doc The attribute table `Name': `{Entries, Options}' as
%% {@link linx_nl_attrs} reads it.
-spec table(atom()) -> {[linx_nl_attrs:entry()], map()}.
table(tc) ->
    %% TCA_*: the statistics are left out; the options are decoded by
    %% the kind's table (linx_tc_kinds).
    {[{1, kind, string}, {2, options, binary}, {3, stats, skip}, {4, xstats, skip},
      {5, rate, skip}, {6, fcnt, skip}, {7, stats2, skip}, {8, stab, binary}, {9, pad, skip},
      {10, dump_invisible, flag}, {11, chain, u32}, {12, hw_offload, bool8},
      {13, ingress_block, u32}, {14, egress_block, u32}, {15, dump_flags, skip},
      {16, ext_warn_msg, string}],
     #{empty_unknown => drop}};
table(htb) ->
    %% TCA_HTB_* (the rate tables, TCA_HTB_RTAB and _CTAB, are needed by
    %% the kernel only when the rates say no link layer: linx says
    %% ethernet and sends none)
    {[{1, parms, {struct, struct(htb_opt)}}, {2, init, {struct, struct(htb_glob)}},
      {3, ctab, skip}, {4, rtab, skip}, {5, direct_qlen, u32}, {6, rate64, u64},
      {7, ceil64, u64}, {8, pad, skip}, {9, offload, flag}],
     #{empty_unknown => drop}};
table(tbf) ->
    %% TCA_TBF_* (rate tables as for htb)
    {[{1, parms, {struct, struct(tbf_qopt)}}, {2, rtab, skip}, {3, ptab, skip},
      {4, rate64, u64}, {5, prate64, u64}, {6, burst, u32}, {7, pburst, u32}, {8, pad, skip}],
     #{empty_unknown => drop}};
table(netem) ->
    %% TCA_NETEM_*, after struct tc_netem_qopt in TCA_OPTIONS
    {[{1, corr, {struct, struct(netem_corr)}}, {2, delay_dist, binary},
      {3, reorder, {struct, struct(netem_prob)}}, {4, corrupt, {struct, struct(netem_prob)}},
      {5, loss, binary}, {6, rate, {struct, struct(netem_rate)}}, {7, ecn, u32},
      {8, rate64, u64}, {9, pad, skip}, {10, latency64, s64}, {11, jitter64, s64},
      {12, slot, binary}, {13, slot_dist, binary}, {14, prng_seed, u64}],
     #{empty_unknown => drop}};
table(u32) ->
    %% TCA_U32_* (the selector, struct tc_u32_sel and its keys, is read
    %% by linx_tc_kinds; the actions by table(act))
    {[{1, classid, u32}, {2, hash, u32}, {3, link, u32}, {4, divisor, u32}, {5, sel, binary},
      {6, police, binary}, {7, act, binary}, {8, indev, string}, {9, pcnt, skip},
      {10, mark, binary}, {11, flags, u32}, {12, pad, skip}],
     #{empty_unknown => drop}};
table(act) ->
    %% TCA_ACT_*: one action of a filter's list
    {[{1, kind, string}, {2, options, binary}, {3, index, u32}, {4, stats, skip},
      {5, pad, skip}, {6, cookie, binary}, {7, flags, u32}, {8, hw_stats, skip},
      {9, used_hw_stats, skip}, {10, in_hw_count, u32}],
     #{empty_unknown => drop}};
table(mirred) ->
    %% TCA_MIRRED_*
    {[{1, tm, skip}, {2, parms, {struct, struct(mirred)}}, {3, pad, skip}],
     #{empty_unknown => drop}}.

%% @doc The fixed-size structs of the kinds' options, as
%% {@link linx_nl_attrs} struct fields. A `struct tc_ratespec' inside
%% another struct has its fields prefixed (`rate_', `ceil_', `peak_').
-spec struct(atom()) -> [{atom(), linx_nl_attrs:codec()}].
struct(htb_glob) ->
    [{version, u32}, {r2q, u32}, {default, u32}, {debug, u32}, {direct_packets, u32}];
struct(htb_opt) ->
    ratespec(rate) ++ ratespec(ceil)
        ++ [{buffer, u32}, {cbuffer, u32}, {quantum, u32}, {level, u32}, {prio, u32}];
struct(tbf_qopt) ->
    ratespec(rate) ++ ratespec(peak) ++ [{limit, u32}, {buffer, u32}, {mtu, u32}];
struct(fifo) ->
    [{limit, u32}];
struct(netem_qopt) ->
    [{latency, u32}, {limit, u32}, {loss, u32}, {gap, u32}, {duplicate, u32}, {jitter, u32}];
struct(netem_corr) ->
    [{delay_corr, u32}, {loss_corr, u32}, {dup_corr, u32}];
struct(netem_prob) ->
    [{probability, u32}, {correlation, u32}];
struct(netem_rate) ->
    [{rate, u32}, {packet_overhead, s32}, {cell_size, u32}, {cell_overhead, s32}];
struct(u32_sel) ->
    [{flags, u8}, {offshift, u8}, {nkeys, u8}, {'_', u8}, {offmask, be16}, {off, u16},
     {offoff, s16}, {hoff, s16}, {hmask, be32}];
struct(u32_key) ->
    [{mask, be32}, {value, be32}, {off, s32}, {offmask, s32}];
struct(mirred) ->
    %% tc_gen, then eaction and ifindex
    [{index, u32}, {capab, u32}, {control, s32}, {refcnt, s32}, {bindcnt, s32},
     {eaction, s32}, {ifindex, u32}].

ratespec(Prefix) ->
    [{list_to_atom(atom_to_list(Prefix) ++ "_" ++ atom_to_list(Field)), Codec}
     || {Field, Codec} <- [{cell_log, u8}, {linklayer, u8}, {overhead, u16}, {cell_align, s16},
                           {mpu, u16}, {rate, u32}]].

%% @doc Names of numbers: `protocol' (a filter's, `ETH_P_*'), `control'
%% (`TC_ACT_*'), `eaction' (`TCA_EGRESS_REDIR' ...), `parent' (the
%% special parents: `TC_H_ROOT', `TC_H_INGRESS' of an ingress or clsact
%% qdisc), `filter_parent' (as `parent', and a clsact qdisc's two hooks,
%% `TC_H_MIN_INGRESS' and `TC_H_MIN_EGRESS' under `TC_H_CLSACT').
-spec names(atom()) -> [{atom(), integer()}].
names(protocol) ->
    [{all, 16#0003}, {ip, 16#0800}, {arp, 16#0806}, {'802.1q', 16#8100}, {ipv6, 16#86dd},
     {'802.1ad', 16#88a8}];
names(control) ->
    [{unspec, -1}, {ok, 0}, {reclassify, 1}, {shot, 2}, {pipe, 3}, {stolen, 4}, {queued, 5},
     {repeat, 6}, {redirect, 7}, {trap, 8}];
names(eaction) ->
    [{egress_redirect, 1}, {egress_mirror, 2}, {ingress_redirect, 3}, {ingress_mirror, 4}];
names(parent) ->
    [{root, 16#ffffffff}, {ingress, 16#fffffff1}, {clsact, 16#fffffff1}];
names(filter_parent) ->
    [{root, 16#ffffffff}, {ingress, 16#fffffff2}, {egress, 16#fffffff3}].
