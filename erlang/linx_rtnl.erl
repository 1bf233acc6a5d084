%% @doc rtnetlink as Erlang maps: links, addresses, routes, neighbours
%% and rules of any network namespace, and their change events.
%% Guide: docs/rtnetlink.md in the source tree.
%%
%% Every call takes the transport options of {@link linx_netlink:call/3}:
%% `in' (where, default `self'), `timeout' and `via' (a C-node, on this
%% host or another), as a map or a proplist, and no other (but `stats'
%% of {@link links/1} and {@link link/2}, `atomic' of {@link batch/2}):
%% any other key is `{error, {bad_option, {Key, Value}}}'. Requests and dumps go
%% through `linx_netlink:call/3', on a netlink socket the port program
%% keeps inside the target (closed after 10 s unused); {@link batch/2}
%% sends many changes in one request.
%%
%% Maps: links, addresses, routes, neighbours and rules, with the keys
%% docs/rtnetlink.md lists ("Maps", "Kinds", "Rules"); every one also has
%% `unknown', the attributes it does not name, as `{Type, Binary}'.
%%
%% == Errors ==
%% A refusal by the kernel is `{error, Info}' with `#{stage := netlink,
%% errno := eexist, code := 17, message := Text, op := addr_add, in :=
%% In}' (`message', the kernel's extended-ack text, when it sent one; see
%% {@link linx_nl}). Bad arguments are `{error, {bad_ifname | bad_link |
%% bad_address | bad_prefix | bad_addr | bad_route | bad_neigh | bad_rule
%% | bad_spec | bad_change | bad_netns | bad_groups, Term}}', checked
%% before anything is sent; names and MACs as docs/rtnetlink.md says.
%% Failures of the port or the C-node are those of
%% {@link linx_netlink:call/3}. {@link format_error/1} renders any of them.
-module(linx_rtnl).

-include("linx_owned.hrl").

-export([links/0, links/1, link/1, link/2, link_add/1, link_add/2, link_set/2, link_set/3,
         link_del/1, link_del/2]).
-export([addrs/0, addrs/1, addr_add/2, addr_add/3, addr_del/2, addr_del/3]).
-export([addr_replace/2, addr_replace/3]).
-export([routes/0, routes/1, route_add/1, route_add/2, route_del/1, route_del/2]).
-export([neighs/0, neighs/1, neigh_add/1, neigh_add/2, neigh_del/1, neigh_del/2]).
-export([rules/0, rules/1, rule_add/1, rule_add/2, rule_del/1, rule_del/2]).
-export([batch/1, batch/2]).
-export([subscribe/1, subscribe/2, unsubscribe/1]).
-export([format_mac/1, parse_mac/1, format_error/1]).

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
%% the address's `label' (IPv4: text of up to 15 bytes, the link's name
%% when not given), `broadcast' (IPv4), `scope', `flags' (`noprefixroute'
%% and `mcautojoin'; for IPv6 also `nodad', `optimistic', `homeaddress'
%% and `managetempaddr'), `peer' (point to point) and `valid_lft' and
%% `preferred_lft' (seconds or `forever').

-type group() :: link | notify | neigh | tc | ipv4_addr | ipv4_mroute | ipv4_route
               | ipv4_rule | ipv6_addr | ipv6_mroute | ipv6_route | ipv6_ifinfo
               | ipv6_prefix | ipv6_rule | nsid | pos_integer().
%% An rtnetlink multicast group (`RTNLGRP_*').

%%====================================================================
%% Links
%%====================================================================

%% @equiv links(#{})
-spec links() -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links() ->
    links(#{}).

%% @doc Every link of the namespace. With the option `stats => true'
%% each has `stats', its counters (`IFLA_STATS64': `rx_packets',
%% `tx_bytes', `rx_dropped', ...); without it they are left out.
-spec links(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links(Opts) ->
    ?OWNED(linx_rtnl_call:links(Opts)).

%% @equiv link(Ref, #{})
-spec link(link_ref()) -> {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref) ->
    link(Ref, #{}).

%% @doc One link, by name or index; `{error, #{errno := enodev}}' when
%% there is none. The option `stats => true' adds `stats', as
%% {@link links/1} does.
-spec link(link_ref(), linx_netlink:opts()) -> {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref, Opts) ->
    ?OWNED(linx_rtnl_call:link(Ref, Opts)).

%% @equiv link_add(Spec, #{})
-spec link_add(map()) -> ok | {error, term()}.
link_add(Spec) ->
    link_add(Spec, #{}).

%% @doc Creates a link. `Spec' has `ifname' and `kind' (`veth', `bridge',
%% `vlan', `vxlan', ... or any kind the kernel has, as an atom or binary),
%% and may have `mtu', `address' and `broadcast' (MACs, see the module
%% documentation), `txqlen', `master' and `link' (the parent,
%% `IFLA_LINK': links by name or index), `state' (`up' or `down'),
%% `data' (the kind's own attributes: a map of the keys of its table,
%% see docs/rtnetlink.md, "Kinds", or raw {@type linx_nl_codec:attr()}
%% for a kind without one), `netns' (create it in another namespace,
%% {@type netns_ref()}) and, for `veth', `peer': `#{ifname => Name,
%% netns => NetnsRef, address => Mac, mtu => N}'.
-spec link_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
link_add(Spec, Opts) ->
    ?OWNED(linx_rtnl_call:link_add(Spec, Opts)).

%% @equiv link_set(Ref, Changes, #{})
-spec link_set(link_ref(), map()) -> ok | {error, term()}.
link_set(Ref, Changes) ->
    link_set(Ref, Changes, #{}).

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
link_del(Ref) ->
    link_del(Ref, #{}).

%% @doc Deletes a link (for a veth pair, both ends).
-spec link_del(link_ref(), linx_netlink:opts()) -> ok | {error, term()}.
link_del(Ref, Opts) ->
    ?OWNED(linx_rtnl_call:request(linx_rtnl_req:link_del(Ref), Opts, link_del)).

%%====================================================================
%% Addresses
%%====================================================================

%% @equiv addrs(#{})
-spec addrs() -> {ok, [linx_rtnl_msg:addr()]} | {error, term()}.
addrs() ->
    addrs(#{}).

%% @doc Every IPv4 and IPv6 address of the namespace.
-spec addrs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:addr()]} | {error, term()}.
addrs(Opts) ->
    ?OWNED(linx_rtnl_call:objects(addr, Opts, addrs)).

%% @equiv addr_add(Link, Addr, #{})
-spec addr_add(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_add(Link, Addr) ->
    addr_add(Link, Addr, #{}).

%% @doc Adds an address to a link: `Addr' is a prefix or a map with
%% the prefix and more ({@type addr_spec()}). Adding one that is there
%% already is `{error, #{errno := eexist}}'.
-spec addr_add(link_ref(), addr_spec(), linx_netlink:opts()) -> ok | {error, term()}.
addr_add(Link, Addr, Opts) ->
    ?OWNED(linx_rtnl_call:addr(new, Link, Addr, Opts, addr_add)).

%% @equiv addr_del(Link, Addr, #{})
-spec addr_del(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_del(Link, Addr) ->
    addr_del(Link, Addr, #{}).

%% @doc Removes an address from a link.
-spec addr_del(link_ref(), addr_spec(), linx_netlink:opts()) -> ok | {error, term()}.
addr_del(Link, Addr, Opts) ->
    ?OWNED(linx_rtnl_call:addr(del, Link, Addr, Opts, addr_del)).

%% @equiv addr_replace(Link, Addr, #{})
-spec addr_replace(link_ref(), addr_spec()) -> ok | {error, term()}.
addr_replace(Link, Addr) ->
    addr_replace(Link, Addr, #{}).

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
routes() ->
    routes(#{}).

%% @doc Every route of every table, IPv4 and IPv6.
-spec routes(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes(Opts) ->
    ?OWNED(linx_rtnl_call:objects(route, Opts, routes)).

%% @equiv route_add(Route, #{})
-spec route_add(map()) -> ok | {error, term()}.
route_add(Route) ->
    route_add(Route, #{}).

%% @doc Adds a route. `Route' may have `dst' (`{Address, PrefixLen}' or
%% `default', the default), `gateway', `via', `oif' (a link), `nhid',
%% `table' (default main, 254), `metric', `prefsrc', `src' and `src_len',
%% `metrics', `flow', `tos', `flags' (only `onlink' is sent), `pref',
%% `expires', `encap_type' and `encap', `multipath' (next hops, each a
%% map of `gateway' or `via', `oif', `weight' and `flags'), `scope',
%% `type' (default `unicast'), `protocol' (default `boot', as `ip route
%% add') and `family' (needed only for a default route without a
%% gateway). Without a gateway, `via', `multipath' or `nhid' the scope
%% is `link', else `universe'. With
%% `nhid', `gateway', `via' and `oif' are left out: the kernel takes them
%% from the nexthop object (and routes/1 gives them too).
%%
%% A route from {@link routes/1} is added back as it was after
%% {@link route_del/2} of it, except: a route with the destination,
%% table, tos and metric of another is refused (`eexist'), as by `ip
%% route add' (two links in one subnet; the kernel's `fe80::/64' of each
%% link with IPv6); an IPv6 route of metric 0 (the kernel's local routes)
%% comes back with metric 1024, as the kernel makes any IPv6 route added
%% with metric 0.
-spec route_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_add(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(new, Route, Opts, route_add)).

%% @equiv route_del(Route, #{})
-spec route_del(map()) -> ok | {error, term()}.
route_del(Route) ->
    route_del(Route, #{}).

%% @doc Deletes a route matching `Route' (the keys of
%% {@link route_add/2}; a map from {@link routes/1} works as it is and
%% matches that route only).
-spec route_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_del(Route, Opts) ->
    ?OWNED(linx_rtnl_call:route(del, Route, Opts, route_del)).

%%====================================================================
%% Neighbours
%%====================================================================

%% @equiv neighs(#{})
-spec neighs() -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs() ->
    neighs(#{}).

%% @doc Every IPv4 (ARP) and IPv6 (NDP) neighbour entry of the namespace.
-spec neighs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighs(Opts) ->
    ?OWNED(linx_rtnl_call:neighs(Opts)).

%% @equiv neigh_add(Neigh, #{})
-spec neigh_add(map()) -> ok | {error, term()}.
neigh_add(Neigh) ->
    neigh_add(Neigh, #{}).

%% @doc Adds a neighbour entry: `Neigh' has `index' (a link), `dst' (an
%% inet tuple) and `lladdr' (a MAC), and may have `state' (a list of
%% states, default `[permanent]') and `flags' (such as `[router]').
-spec neigh_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_add(Neigh, Opts) ->
    ?OWNED(linx_rtnl_call:neigh(new, Neigh, Opts, neigh_add)).

%% @equiv neigh_del(Neigh, #{})
-spec neigh_del(map()) -> ok | {error, term()}.
neigh_del(Neigh) ->
    neigh_del(Neigh, #{}).

%% @doc Deletes the neighbour entry of `index' and `dst' (a map from
%% {@link neighs/1} works as it is).
-spec neigh_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_del(Neigh, Opts) ->
    ?OWNED(linx_rtnl_call:neigh(del, Neigh, Opts, neigh_del)).

%%====================================================================
%% Rules
%%====================================================================

%% @equiv rules(#{})
-spec rules() -> {ok, [linx_rtnl_msg:rule()]} | {error, term()}.
rules() ->
    rules(#{}).

%% @doc Every policy routing rule of the namespace, IPv4 and IPv6, in the
%% kernel's order (by priority within each family).
-spec rules(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:rule()]} | {error, term()}.
rules(Opts) ->
    ?OWNED(linx_rtnl_call:objects(rule, Opts, rules)).

%% @equiv rule_add(Rule, #{})
-spec rule_add(map()) -> ok | {error, term()}.
rule_add(Rule) ->
    rule_add(Rule, #{}).

%% @doc Adds a policy routing rule, as `ip rule add' does: `Rule' has the
%% keys of {@link linx_rtnl_rule} (`priority', `src', `dst', `iif',
%% `oif', `fwmark', `table', `action', ...); with none of `table', `goto'
%% and `action' it looks up `main'.
-spec rule_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
rule_add(Rule, Opts) ->
    ?OWNED(linx_rtnl_call:request(linx_rtnl_req:rule(new, Rule), Opts, rule_add)).

%% @equiv rule_del(Rule, #{})
-spec rule_del(map()) -> ok | {error, term()}.
rule_del(Rule) ->
    rule_del(Rule, #{}).

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
subscribe(Groups) ->
    subscribe(Groups, #{}).

%% @doc Subscribes the caller to rtnetlink events of `Groups' (a list of
%% {@type group()}) in the namespace of `Opts' (`in', `timeout'; `via' a
%% C-node on this host; `rcvbuf', the socket's; `list_existing' and
%% `resync', below). Each event arrives as
%% `{linx_rtnl, Ref, Event}', `Event' being `{link | addr | route |
%% neigh | rule, new | del, Map}' (the maps of the dumps), `{other, Type,
%% Payload}', `{resync, Objects}' (every link, address, route, neighbour
%% or rule of the groups now, as `{Kind, new, Map}': what the subscriber
%% holds is to be replaced; sent first with `list_existing => true', and
%% after the kernel dropped events because they were not read fast
%% enough; with `resync => false' that is `{error, enobufs}' instead), or
%% `{error, Reason}' (`{malformed, Where}', `{resync, Why}').
%% Events come from a process that owns the socket; it ends, closing the
%% socket, on {@link unsubscribe/1} or when the caller exits.
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
batch(Ops) ->
    batch(Ops, #{}).

%% @doc Applies many changes in one request to the port program (a large
%% batch without `atomic' in a few frames, sent while the program works
%% on those before), which sends them on a socket it keeps in the
%% target, in order (see docs/rtnetlink.md, "Batches").
%% Each op is a change of this module as a tuple: `{link_add, Spec}',
%% `{link_set, Link, Changes}', `{link_del, Link}', `{addr_add, Link,
%% Addr}', `{addr_del, Link, Addr}', `{addr_replace, Link, Addr}',
%% `{route_add, Route}', `{route_del,
%% Route}', `{neigh_add, Neigh}', `{neigh_del, Neigh}'. A link named by
%% its name is looked up when its op is sent, so an op may name a link an
%% earlier op made. All ops run in the one target of `Opts' (`in').
%%
%% Returns `{ok, Results}', one result per op in order: `ok' or the
%% op's `{error, Reason}', as the op's own function would give it; every
%% op is tried. A bad op is `{error, {bad_op, Op, Reason}}' and nothing
%% is sent. With the option `atomic => true' the ops stop at the first
%% that fails, those before it are undone, and the call returns
%% `{error, #{reason := batch_failed, index, op, error, rolled_back,
%% rollback_errors}}'; an op it cannot undo is `{bad_op, Op,
%% not_undoable}'. See docs/rtnetlink.md, "Batches".
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
