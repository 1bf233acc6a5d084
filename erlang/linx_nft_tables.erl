%% @doc The nf_tables tables: every message type, fixed header, object
%% attribute and name that {@link linx_nft_msg} and {@link linx_nft} use,
%% written once. Pure data, read through {@link linx_nl_attrs}.
%%
%% The numbers and layouts are those of the kernel's UAPI headers
%% (`linux/netfilter/nfnetlink.h', `linux/netfilter/nf_tables.h',
%% `linux/netfilter.h', `linux/netfilter_arp.h',
%% `linux/netfilter/nf_nat.h'). nf_tables sends its integers in network
%% byte order (the headers' `NLA_U32' is a `__be32' there): the codecs
%% say so, `be32', `be64', and `sbe32' for the signed ones (a hook
%% priority, a verdict code). The expressions' own tables, and the data
%% and verdicts they hold, are in {@link linx_nft_exprs}.
-module(linx_nft_tables).

-export([table/1, header/0, messages/0, names/1, hooks/1]).

%% @doc The nf_tables message types linx knows (`NFT_MSG_*', the low
%% byte of a message type whose high byte is `NFNL_SUBSYS_NFTABLES'):
%% `{Number, Object, What}'.
-spec messages() -> [{0..255, table | chain | rule | set | element | gen, new | get | del}].
messages() ->
    [{0, table, new}, {1, table, get}, {2, table, del},
     {3, chain, new}, {4, chain, get}, {5, chain, del},
     {6, rule, new}, {7, rule, get}, {8, rule, del},
     {9, set, new}, {10, set, get}, {11, set, del},
     {12, element, new}, {13, element, get}, {14, element, del},
     {15, gen, new}, {16, gen, get}].

%% @doc `struct nfgenmsg', which every message starts with: the family,
%% `NFNETLINK_V0', and `res_id' (big-endian; the subsystem in a batch's
%% begin message, the ruleset generation in a dump's replies).
-spec header() -> [{atom(), linx_nl_attrs:codec()}].
header() ->
    [{family, {enum, u8, names(family)}}, {'_', u8}, {'_', be16}].

%% @doc The attribute table `Name': `{Entries, Options}' as
%% {@link linx_nl_attrs} reads it.
-spec table(atom()) -> {[linx_nl_attrs:entry()], map()}.
table(table) ->
    %% NFTA_TABLE_*
    {[{1, name, string}, {2, flags, {bits, be32, names(table_flags)}}, {3, use, be32},
      {4, handle, be64}, {5, pad, skip}, {6, userdata, binary}, {7, owner, be32}], opts()};
table(chain) ->
    %% NFTA_CHAIN_*
    {[{1, table, string}, {2, handle, be64}, {3, name, string},
      {4, hook, {nested, {?MODULE, hook}}, [spread]},
      {5, policy, {enum, be32, names(policy)}}, {6, use, be32},
      {7, type, {symbol, #{<<"filter">> => filter, <<"nat">> => nat, <<"route">> => route}}},
      {8, counters, {nested, {linx_nft_exprs, counter}}}, {9, pad, skip},
      {10, flags, {bits, be32, names(chain_flags)}}, {11, id, be32}, {12, userdata, binary}],
     opts()};
table(hook) ->
    %% NFTA_HOOK_*: the hook's number (named by the family, see hooks/1),
    %% its priority (signed), its device, or devices (NFTA_DEVICE_NAME).
    {[{1, hooknum, be32}, {2, priority, sbe32}, {3, dev, string}, {4, devs, {list, 1, string}}],
     opts()};
table(rule) ->
    %% NFTA_RULE_*: the expressions are decoded by linx_nft_msg, an
    %% expression's data by the table of its kind.
    {[{1, table, string}, {2, chain, string}, {3, handle, be64}, {4, expressions, binary},
      {5, compat, binary}, {6, position, be64}, {7, userdata, binary}, {8, pad, skip},
      {9, id, be32}, {10, position_id, be32}, {11, chain_id, be32}], opts()};
table(list) ->
    %% NFTA_LIST_*: a rule's expressions, each an element
    {[{1, elem, binary}], opts()};
table(expr) ->
    %% NFTA_EXPR_*, the value of each element: the data is a nest that
    %% the table of the expression's kind decodes
    {[{1, name, string}, {2, data, binary}], opts()};
table(set) ->
    %% NFTA_SET_*: the key's and data's types are nft's (informational to
    %% the kernel), their lengths in bytes; timeouts in milliseconds.
    {[{1, table, string}, {2, name, string}, {3, flags, {bits, be32, names(set_flags)}},
      {4, key_type, be32}, {5, key_len, be32}, {6, data_type, be32}, {7, data_len, be32},
      {8, policy, {enum, be32, [{performance, 0}, {memory, 1}]}},
      {9, desc, {nested, {?MODULE, set_desc}}}, {10, id, be32}, {11, timeout, be64},
      {12, gc_interval, be32}, {13, userdata, binary}, {14, pad, skip}, {15, obj_type, be32},
      {16, handle, be64}, {17, expr, binary}, {18, expressions, binary}], opts()};
table(set_desc) ->
    %% NFTA_SET_DESC_*: the size, and the length of each field of a
    %% concatenation (NFTA_SET_FIELD_LEN in an NFTA_LIST_ELEM each)
    {[{1, size, be32}, {2, concat, {list, 1, {nested, {?MODULE, set_field}}}}], opts()};
table(set_field) ->
    {[{1, len, be32}], opts()};
table(element_list) ->
    %% NFTA_SET_ELEM_LIST_*: the elements, each an NFTA_LIST_ELEM
    {[{1, table, string}, {2, set, string}, {3, elements, binary}, {4, set_id, be32}], opts()};
table(element) ->
    %% NFTA_SET_ELEM_*: key and data are NFTA_DATA_* nests
    {[{1, key, {nested, {linx_nft_exprs, data}}}, {2, data, {nested, {linx_nft_exprs, data}}},
      {3, flags, {bits, be32, [{interval_end, 1}, {catchall, 2}]}}, {4, timeout, be64},
      {5, expiration, be64}, {6, userdata, binary}, {7, expr, binary}, {8, pad, skip},
      {9, objref, string}, {10, key_end, {nested, {linx_nft_exprs, data}}},
      {11, expressions, binary}], opts()};
table(gen) ->
    %% NFTA_GEN_*: an event's end of a transaction (NFT_MSG_NEWGEN)
    {[{1, id, be32}, {2, proc_pid, be32}, {3, proc_name, string}], opts()};
table(batch) ->
    %% NFNL_BATCH_* (the attributes of a batch's begin message)
    {[{1, genid, be32}], opts()}.

opts() ->
    #{empty_unknown => drop}.

%% @doc Names of numbers.
-spec names(atom()) -> linx_nl_attrs:names().
names(family) ->
    linx_nft_exprs:names(family);
names(table_flags) ->
    %% NFT_TABLE_F_*
    [{dormant, 1}, {owner, 2}, {persist, 4}];
names(chain_flags) ->
    %% NFT_CHAIN_*
    [{base, 1}, {hw_offload, 2}, {binding, 4}];
names(set_flags) ->
    %% NFT_SET_*
    [{anonymous, 1}, {constant, 2}, {interval, 4}, {map, 8}, {timeout, 16}, {eval, 32},
     {object, 64}, {concat, 128}, {expr, 256}];
names(policy) ->
    %% NF_DROP, NF_ACCEPT
    [{drop, 0}, {accept, 1}].

%% @doc The hooks of a family, by nft's names: `NF_INET_*' for ip, ip6
%% and inet (and `NF_BR_*', the same numbers, for bridge),
%% `NF_NETDEV_*', `NF_ARP_*'.
-spec hooks(atom() | integer()) -> linx_nl_attrs:names().
hooks(netdev) ->
    [{ingress, 0}, {egress, 1}];
hooks(arp) ->
    [{input, 0}, {output, 1}, {forward, 2}];
hooks(bridge) ->
    [{prerouting, 0}, {input, 1}, {forward, 2}, {output, 3}, {postrouting, 4}];
hooks(_Family) ->
    [{prerouting, 0}, {input, 1}, {forward, 2}, {output, 3}, {postrouting, 4},
     {ingress, 5}].
