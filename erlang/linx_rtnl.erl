%% @doc rtnetlink as Erlang maps: links, addresses, routes, nexthops,
%% neighbours, bridge forwarding entries and rules of any network
%% namespace, and their change events. Guide, with every map's keys
%% ("Maps", "Kinds", "Rules", "Nexthops", ...): docs/rtnetlink.md.
%%
%% Every call takes the transport options of {@link linx_netlink:call/3}
%% (`in', default `self'; `timeout'; `via', a C-node) as a map or a
%% proplist, and no other (but `stats' of {@link links/1} and {@link
%% link/2}, `atomic' of {@link batch/2}): any other key is `{error,
%% {bad_option, {Key, Value}}}'. Each call is one request on a netlink
%% socket the port program keeps inside the target. Maps keep what they
%% do not name in `unknown', as `{Type, Binary}'.
%%
%% == Errors ==
%% A refusal by the kernel is `{error, #{stage := netlink, errno :=
%% eexist, code := 17, message := Text, op := addr_add, in := In}}'
%% (`message': the kernel's extended-ack text, if any). A bad argument is
%% `{error, {Tag, Term}}', `Tag' one of `bad_ifname', `bad_link',
%% `bad_address', `bad_prefix', `bad_addr', `bad_route', `bad_filter',
%% `bad_neigh', `bad_fdb', `bad_rule', `bad_nexthop', `bad_spec',
%% `bad_change', `bad_netns', `bad_groups', found before anything is
%% sent. {@link format_error/1} renders any of them as one line.
-module(linx_rtnl).

-include("linx_owned.hrl").

-export([links/0, links/1, link/1, link/2, link_add/1, link_add/2, link_set/2, link_set/3,
         link_del/1, link_del/2]).
-export([addrs/0, addrs/1, addr_add/2, addr_add/3, addr_del/2, addr_del/3]).
-export([addr_replace/2, addr_replace/3]).
-export([routes/0, routes/1, route_add/1, route_add/2, route_del/1, route_del/2]).
-export([routes/2, route_replace/1, route_replace/2, route_append/1, route_append/2,
         route_get/1, route_get/2]).
-export([neighs/0, neighs/1, neigh_add/1, neigh_add/2, neigh_del/1, neigh_del/2]).
-export([rules/0, rules/1, rule_add/1, rule_add/2, rule_del/1, rule_del/2]).
-export([batch/1, batch/2]).
-export([nexthops/0, nexthops/1, nexthop_add/1, nexthop_add/2, nexthop_replace/1,
         nexthop_replace/2, nexthop_del/1, nexthop_del/2]).
-export([subscribe/1, subscribe/2, unsubscribe/1]).
-export([format_mac/1, parse_mac/1, format_error/1]).
-export([neighs/2, fdb/0, fdb/1, fdb/2, fdb_add/1, fdb_add/2, fdb_del/1, fdb_del/2]).

-export_type([link_ref/0, netns_ref/0, prefix/0, addr_spec/0, group/0]).

-type link_ref() :: binary() | string() | pos_integer().
%% A link by name or by index.

-type netns_ref() :: {pid, pos_integer()} | linx_opts:in().
%% Another network namespace: `{pid, P}', by a process inside it
%% (`IFLA_NET_NS_PID'; the pid as the port program sees it), or any other
%% target (`{netns, Name}', a {@link linx_netns:handle()}, `{ns, Paths}',
%% ...), whose namespace file the port program opens and passes as
%% `IFLA_NET_NS_FD'.

-type prefix() :: {inet:ip_address(), 0..128}.

-type addr_spec() :: prefix() | #{prefix := prefix(), atom() => term()}.
%% An address to add or remove: its prefix, or a map with the prefix and
%% the address's `label', `broadcast', `scope', `flags', `peer',
%% `valid_lft' and `preferred_lft' (their values: docs/rtnetlink.md).

-type group() :: link | notify | neigh | tc | ipv4_addr | ipv4_mroute | ipv4_route
               | ipv4_rule | ipv6_addr | ipv6_mroute | ipv6_route | ipv6_ifinfo
               | ipv6_prefix | ipv6_rule | nsid | nexthop | pos_integer().
%% An rtnetlink multicast group (`RTNLGRP_*').

%%====================================================================
%% Links
%%====================================================================

%% @equiv links(#{})
-spec links() -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links() -> links(#{}).

%% @doc Every link of the namespace. With the option `stats => true'
%% each has `stats', its counters (`IFLA_STATS64': `rx_packets',
%% `tx_bytes', `rx_dropped', ...); without it they are left out.
-spec links(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links(Opts) ->
    ?OWNED(linx_rtnl_call:links(Opts)).

%% @equiv link(Ref, #{})
-spec link(link_ref()) -> {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref) -> link(Ref, #{}).

%% @doc One link, by name or index; `{error, #{errno := enodev}}' when
%% there is none. The option `stats => true' adds `stats', as
%% {@link links/1} does.
-spec link(link_ref(), linx_netlink:opts()) -> {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref, Opts) ->
    ?OWNED(linx_rtnl_call:link(Ref, Opts)).

%% @equiv link_add(Spec, #{})
-spec link_add(map()) -> ok | {error, term()}.
link_add(Spec) -> link_add(Spec, #{}).

%% @doc Creates a link. `Spec' has `ifname' and `kind' (`veth',
%% `bridge', `vlan', `vxlan', ...), and may have `mtu', `address',
%% `broadcast', `txqlen', `master', `link' (the parent), `state', `data'
%% (the kind's own keys: docs/rtnetlink.md, "Kinds"), `netns' ({@type
%% netns_ref()}) and, for `veth', `peer' (`#{ifname, netns, address,
%% mtu}').
-spec link_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
link_add(Spec, Opts) ->
    ?OWNED(linx_rtnl_call:link_add(Spec, Opts)).

%% @equiv link_set(Ref, Changes, #{})
-spec link_set(link_ref(), map()) -> ok | {error, term()}.
link_set(Ref, Changes) -> link_set(Ref, Changes, #{}).

%% @doc Changes a link, as `ip link set' does: `Changes' may have `state'
%% (`up' | `down'), `mtu', `address', `broadcast', `master' (a link, or
%% `none' to leave its master), `ifname' (rename), `txqlen', `alias'
%% (text of up to 255 bytes; empty removes it), `group' (a number) and
%% `netns' (move it to another namespace, {@type netns_ref()}).
-spec link_set(link_ref(), map(), linx_netlink:opts()) -> ok | {error, term()}.
link_set(Ref, Changes, Opts) ->
    ?OWNED(linx_rtnl_call:link_set(Ref, Changes, Opts)).

%% @equiv link_del(Ref, #{})
-spec link_del(link_ref()) -> ok | {error, term()}.
link_del(Ref) -> link_del(Ref, #{}).

%% @doc Deletes a link (for a veth pair, both ends).
-spec link_del(link_ref(), linx_netlink:opts()) -> ok | {error, term()}.
link_del(Ref, Opts) ->
    ?OWNED(linx_rtnl_call:request(linx_rtnl_req:link_del(Ref), Opts, link_del)).

%%====================================================================
%% Addresses
%%====================================================================

%% @equiv addrs(#{})
-spec addrs() -> {ok, [linx_rtnl_msg:addr()]} | {error, term()}.
addrs() -> addrs(#{}).

%% @doc Every IPv4 and IPv6 address of the namespace.
-spec addrs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:addr()]} | {error, term()}.
addrs(Opts) ->
    ?OWNED(linx_rtnl_call:objects(addr, Opts, addrs)).

%% @equiv addr_add(Link, Addr, #{})
-spec addr_add(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_add(Link, Addr) -> addr_add(Link, Addr, #{}).

%% @doc Adds an address to a link: `Addr' is a prefix or a map with
%% the prefix and more ({@type addr_spec()}). Adding one that is there
%% already is `{error, #{errno := eexist}}'.
-spec addr_add(link_ref(), addr_spec(), linx_netlink:opts()) -> ok | {error, term()}.
addr_add(Link, Addr, Opts) ->
    ?OWNED(linx_rtnl_call:addr(new, Link, Addr, Opts, addr_add)).

%% @equiv addr_del(Link, Addr, #{})
-spec addr_del(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_del(Link, Addr) -> addr_del(Link, Addr, #{}).

%% @doc Removes an address from a link.
-spec addr_del(link_ref(), addr_spec(), linx_netlink:opts()) -> ok | {error, term()}.
addr_del(Link, Addr, Opts) ->
    ?OWNED(linx_rtnl_call:addr(del, Link, Addr, Opts, addr_del)).

%% @equiv addr_replace(Link, Addr, #{})
-spec addr_replace(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_replace(Link, Addr) -> addr_replace(Link, Addr, #{}).

%% @doc Adds an address, or changes the one the link has (as `ip addr
%% replace'): its lifetimes, as given (none given is for ever), and for
%% IPv6 its flags; the same call again is `ok'.
-spec addr_replace(link_ref(), addr_spec(), linx_netlink:opts()) -> ok | {error, term()}.
addr_replace(Link, Addr, Opts) ->
    ?OWNED(linx_rtnl_call:addr(replace, Link, Addr, Opts, addr_replace)).

%%====================================================================
%% Routes
%%====================================================================

%% @equiv routes(#{})
-spec routes() -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes() -> routes(#{}).

%% @doc Every route of every table, IPv4 and IPv6.
-spec routes(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes(Opts) ->
    ?OWNED(linx_rtnl_call:objects(route, Opts, routes)).

%% @equiv route_add(Route, #{})
-spec route_add(map()) -> ok | {error, term()}.
route_add(Route) -> route_add(Route, #{}).

%% @doc Adds a route, as `ip route add'. `Route' has the keys of
%% {@link routes/1}'s maps (`dst', `gateway', `oif', `table', `metric',
%% `type', ...; they and the defaults `ip route add' picks:
%% docs/rtnetlink.md, "Maps"). A route from {@link routes/1} deleted by
%% {@link route_del/2} is added back as it was (docs/rtnetlink.md says
%% when the kernel makes it differ).
-spec route_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_add(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(new, Route, Opts, route_add)).

%% @equiv route_del(Route, #{})
-spec route_del(map()) -> ok | {error, term()}.
route_del(Route) -> route_del(Route, #{}).

%% @doc Deletes a route matching `Route' (the keys of
%% {@link route_add/2}; a map from {@link routes/1} works as it is and
%% matches that route only).
-spec route_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_del(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(del, Route, Opts, route_del)).

%% @equiv route_replace(Route, #{})
-spec route_replace(map()) -> ok | {error, term()}.
route_replace(Route) -> route_replace(Route, #{}).

%% @doc Adds a route, or replaces the one with its destination, table,
%% tos and metric, as `ip route replace' (docs/rtnetlink.md, "Routes"):
%% every key becomes that of `Route' (the keys of {@link route_add/2}).
%% Replacing twice with the same map is `ok' twice.
-spec route_replace(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_replace(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(replace, Route, Opts, route_replace)).

%% @equiv route_append(Route, #{})
-spec route_append(map()) -> ok | {error, term()}.
route_append(Route) -> route_append(Route, #{}).

%% @doc Adds a route after those with its destination, table, tos and
%% metric, as `ip route append' does (`NLM_F_CREATE | NLM_F_APPEND'):
%% for IPv4 a second route the kernel uses when the first is dead; for
%% IPv6 a next hop added to a multipath route.
-spec route_append(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_append(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(append, Route, Opts, route_append)).

%% @equiv route_get(Destination, #{})
-spec route_get(inet:ip_address() | map()) -> {ok, linx_rtnl_msg:route()} | {error, term()}.
route_get(Destination) -> route_get(Destination, #{}).

%% @doc The route the kernel would use for `Destination', as `ip route
%% get': an IP address, or a map of `dst' and any of `src', `iif',
%% `oif', `mark', `uid', `ip_proto', `sport', `dport' and `fibmatch'
%% (`true': the route as it is in its table). No route is `{error,
%% #{errno := enetunreach}}'; a bad key `{bad_route, {Key, Value}}'.
-spec route_get(inet:ip_address() | map(), linx_netlink:opts()) ->
          {ok, linx_rtnl_msg:route()} | {error, term()}.
route_get(Destination, Opts) ->
    ?OWNED(linx_rtnl_call:route_get(Destination, Opts)).

%% @doc The routes `Filter' asks for, as `ip route show table T dev D
%% proto P type Y': a map of any of `table', `oif', `family', `protocol'
%% and `type' (docs/rtnetlink.md, "Routes"). A bad key or value is
%% `{error, {bad_filter, {Key, Value}}}'.
-spec routes(map(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes(Filter, Opts) ->
    ?OWNED(linx_rtnl_call:routes(Filter, Opts)).

%%====================================================================
%% Nexthops
%%====================================================================

%% @equiv nexthops(#{})
-spec nexthops() -> {ok, [linx_rtnl_msg:nexthop()]} | {error, term()}.
nexthops() -> nexthops(#{}).

%% @doc Every nexthop object of the namespace (`ip nexthop'): maps of
%% `id', `family', `protocol', `flags' and `oif' and `gateway', or
%% `blackhole => true', or `group' (`[{Id, Weight}]') and `group_type'.
-spec nexthops(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:nexthop()]} | {error, term()}.
nexthops(Opts) ->
    ?OWNED(linx_rtnl_call:objects(nexthop, Opts, nexthops)).

%% @equiv nexthop_add(Spec, #{})
-spec nexthop_add(map()) -> ok | {error, term()}.
nexthop_add(Spec) -> nexthop_add(Spec, #{}).

%% @doc Adds a nexthop object, as `ip nexthop add': `Spec' has `id' and
%% `oif' (a link) with an optional `gateway', or `blackhole => true', or
%% `group' (ids or `{Id, Weight}'; see {@link linx_rtnl_nexthop}). A
%% route uses it with `nhid'. A bad field is `{bad_nexthop, {Key, Value}}'.
-spec nexthop_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
nexthop_add(Spec, Opts) ->
    ?OWNED(linx_rtnl_call:nexthop(add, Spec, Opts, nexthop_add)).

%% @equiv nexthop_replace(Spec, #{})
-spec nexthop_replace(map()) -> ok | {error, term()}.
nexthop_replace(Spec) -> nexthop_replace(Spec, #{}).

%% @doc Replaces the nexthop of `Spec''s `id' (the keys of
%% {@link nexthop_add/2}), or adds it when there is none, as `ip nexthop
%% replace': the routes through it stay.
-spec nexthop_replace(map(), linx_netlink:opts()) -> ok | {error, term()}.
nexthop_replace(Spec, Opts) ->
    ?OWNED(linx_rtnl_call:nexthop(replace, Spec, Opts, nexthop_replace)).

%% @equiv nexthop_del(Nexthop, #{})
-spec nexthop_del(pos_integer() | map()) -> ok | {error, term()}.
nexthop_del(Nexthop) -> nexthop_del(Nexthop, #{}).

%% @doc Deletes a nexthop object by its id: an id, or a map with `id' (a
%% map from {@link nexthops/1} works as it is). The kernel deletes the
%% routes through it too, and takes it out of the groups it is in.
-spec nexthop_del(pos_integer() | map(), linx_netlink:opts()) -> ok | {error, term()}.
nexthop_del(Nexthop, Opts) ->
    ?OWNED(linx_rtnl_call:nexthop(del, Nexthop, Opts, nexthop_del)).

%%====================================================================
%% Neighbours
%%====================================================================

%% @equiv neighs(#{})
-spec neighs() -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs() -> neighs(#{}).

%% @doc Every IPv4 (ARP) and IPv6 (NDP) neighbour entry of the namespace
%% (not the proxy entries: see {@link neighs/2}; nor the bridge's
%% forwarding entries, which are neighbours of family `bridge': see
%% {@link fdb/1}).
-spec neighs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs(Opts) ->
    ?OWNED(linx_rtnl_call:neighs(Opts)).

%% @equiv neigh_add(Neigh, #{})
-spec neigh_add(map()) -> ok | {error, term()}.
neigh_add(Neigh) -> neigh_add(Neigh, #{}).

%% @doc Adds a neighbour entry: `Neigh' has `index' (a link), `dst' (an
%% inet tuple) and `lladdr' (a MAC), and may have `state' (default
%% `[permanent]') and `flags' (`[router]'). With `proxy => true' it is a
%% proxy entry, without `lladdr', as `ip neigh add proxy IP dev L'.
-spec neigh_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_add(Neigh, Opts) ->
    ?OWNED(linx_rtnl_call:neigh(new, Neigh, Opts, neigh_add)).

%% @equiv neigh_del(Neigh, #{})
-spec neigh_del(map()) -> ok | {error, term()}.
neigh_del(Neigh) -> neigh_del(Neigh, #{}).

%% @doc Deletes the neighbour entry of `index' and `dst' (a map from
%% {@link neighs/1} works as it is).
-spec neigh_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_del(Neigh, Opts) ->
    ?OWNED(linx_rtnl_call:neigh(del, Neigh, Opts, neigh_del)).

%% @doc The IPv4 and IPv6 neighbour entries `Filter' keeps: `proxy =>
%% true' (the proxy entries, as `ip neigh show proxy'), `family' and
%% `index' (or `dev'). A bad key is `{bad_neigh, {Key, Value}}'.
-spec neighs(map(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs(Filter, Opts) ->
    ?OWNED(linx_rtnl_call:neighs(Filter, Opts)).

%%====================================================================
%% Bridge forwarding database
%%====================================================================

%% @equiv fdb(#{})
-spec fdb() -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
fdb() -> fdb(#{}).

%% @doc Every bridge forwarding (fdb) entry, as `bridge fdb show': maps
%% of `family' (`bridge'), `index' (the link), `mac', `state', `flags'
%% and, when it has them, `vlan', `master', `dst', `port', `vni'.
-spec fdb(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
fdb(Opts) -> fdb(#{}, Opts).

%% @doc The fdb entries `Filter' keeps: `master' (a bridge, as `bridge
%% fdb show br B') or `index' (or `dev': one link). A bad key or value is
%% `{error, {bad_fdb, {Key, Value}}}'.
-spec fdb(map(), linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
fdb(Filter, Opts) ->
    ?OWNED(linx_rtnl_call:fdb(Filter, Opts)).

%% @equiv fdb_add(Entry, #{})
-spec fdb_add(map()) -> ok | {error, term()}.
fdb_add(Entry) -> fdb_add(Entry, #{}).

%% @doc Adds an fdb entry, as `bridge fdb add': `Entry' has `mac' and
%% `index' (or `dev'), and may have `vlan', `master => true' or `self =>
%% true', `state', ... ({@link linx_rtnl_fdb}; docs/rtnetlink.md,
%% "Bridge forwarding entries"). A map from {@link fdb/1} works as it is.
-spec fdb_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
fdb_add(Entry, Opts) ->
    ?OWNED(linx_rtnl_call:fdb_change(new, Entry, Opts, fdb_add)).

%% @equiv fdb_del(Entry, #{})
-spec fdb_del(map()) -> ok | {error, term()}.
fdb_del(Entry) -> fdb_del(Entry, #{}).

%% @doc Deletes an fdb entry: the keys of {@link fdb_add/2} (`mac', the
%% link, `vlan', `master' or `self', and for a vxlan link `dst'); a map
%% from {@link fdb/1} works as it is.
-spec fdb_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
fdb_del(Entry, Opts) ->
    ?OWNED(linx_rtnl_call:fdb_change(del, Entry, Opts, fdb_del)).

%%====================================================================
%% Rules
%%====================================================================

%% @equiv rules(#{})
-spec rules() -> {ok, [linx_rtnl_msg:rule()]} | {error, term()}.
rules() -> rules(#{}).

%% @doc Every policy routing rule of the namespace, IPv4 and IPv6, in the
%% kernel's order (by priority within each family).
-spec rules(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:rule()]} | {error, term()}.
rules(Opts) ->
    ?OWNED(linx_rtnl_call:objects(rule, Opts, rules)).

%% @equiv rule_add(Rule, #{})
-spec rule_add(map()) -> ok | {error, term()}.
rule_add(Rule) -> rule_add(Rule, #{}).

%% @doc Adds a policy routing rule, as `ip rule add' does: `Rule' has the
%% keys of {@link linx_rtnl_rule} (`priority', `src', `dst', `iif',
%% `oif', `fwmark', `table', `action', ...); with none of `table', `goto'
%% and `action' it looks up `main'.
-spec rule_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
rule_add(Rule, Opts) ->
    ?OWNED(linx_rtnl_call:request(linx_rtnl_req:rule(new, Rule), Opts, rule_add)).

%% @equiv rule_del(Rule, #{})
-spec rule_del(map()) -> ok | {error, term()}.
rule_del(Rule) -> rule_del(Rule, #{}).

%% @doc Deletes the first rule that matches every key `Rule' gives (a map
%% from {@link rules/1} works as it is; `#{priority => P}' deletes the
%% rule of that priority).
-spec rule_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
rule_del(Rule, Opts) ->
    ?OWNED(linx_rtnl_call:request(linx_rtnl_req:rule(del, Rule), Opts, rule_del)).

%%====================================================================
%% Events
%%====================================================================

%% @equiv subscribe(Groups, #{})
-spec subscribe([group()]) -> {ok, reference()} | {error, term()}.
subscribe(Groups) -> subscribe(Groups, #{}).

%% @doc Subscribes the caller to rtnetlink events of `Groups' in the
%% namespace of `Opts' (`in', `timeout', `via' a C-node on this host,
%% `rcvbuf', `list_existing', `resync'). Each arrives as `{linx_rtnl,
%% Ref, Event}': `{Kind, new | del, Map}' (`Kind' `link', `addr',
%% `route', `nexthop', `neigh' or `rule'; the maps of the dumps),
%% `{other, Type, Payload}', `{resync, [{Kind, new, Map}]}' (everything
%% now: docs/rtnetlink.md, "Events a subscriber can trust") or `{error,
%% Reason}'. It ends on {@link unsubscribe/1} or when the caller exits.
-spec subscribe([group()], linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
subscribe(Groups, Opts) ->
    ?OWNED(linx_rtnl_call:subscribe(Groups, Opts)).

%% @doc Ends a subscription of the calling process; events of `Ref' still
%% in its mailbox are removed. `ok' also when it has already ended.
-spec unsubscribe(reference()) -> ok.
unsubscribe(Ref) ->
    linx_rtnl_events:stop(Ref).

%%====================================================================
%% Batches
%%====================================================================

%% @equiv batch(Ops, #{})
-spec batch([linx_rtnl_req:batch_op()]) -> {ok, [ok | {error, term()}]} | {error, term()}.
batch(Ops) -> batch(Ops, #{}).

%% @doc Applies many changes in one request to the port program, in
%% order: each op is a change of this module as a tuple of its name and
%% arguments (`{link_add, Spec}', `{addr_add, Link, Addr}', ...). Returns
%% `{ok, Results}', `ok' or the op's `{error, Reason}' per op; a bad op
%% is `{error, {bad_op, Op, Reason}}' and nothing is sent. Names made by
%% earlier ops, and `atomic => true' (undone at the first op that fails,
%% `{error, #{reason := batch_failed, ...}}'): docs/rtnetlink.md, "Batches".
-spec batch([linx_rtnl_req:batch_op()], linx_netlink:opts()) ->
          {ok, [ok | {error, term()}]} | {error, term()}.
batch(Ops, Opts) ->
    ?OWNED(linx_rtnl_batch:run(Ops, Opts)).

%%====================================================================
%% MAC addresses and errors
%%====================================================================

%% @doc A MAC (or any link-layer) address as text: `<<"02:00:5e:10:00:01">>'.
-spec format_mac(binary()) -> binary().
format_mac(Bin) ->
    linx_nl_values:format_mac(Bin).

%% @doc Parses a link-layer address written as bytes of two hex digits
%% (either case) with one `:' or `-' between each two, the same
%% throughout: `"02:00:5e:10:00:01"' (binary or string); `error' for
%% anything else.
-spec parse_mac(binary() | string()) -> {ok, binary()} | error.
parse_mac(Text) ->
    linx_nl_values:parse_mac(Text).

%% @doc Renders an error of this module (or any linx error) as one line.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun linx_rtnl_error:format_reason/1).
