%% @doc rtnetlink as Erlang maps: links, addresses, routes and neighbours
%% of any network namespace, and their change events.
%% Guide: docs/rtnetlink.md in the source tree.
%%
%% Every call takes the options of {@link linx_netlink:call/3}: `in'
%% (where, default `self'), `timeout' and `via' (a C-node, on this host
%% or another). Requests and dumps go through `linx_netlink:call/3', a
%% fresh netlink socket inside the target; nothing is left open.
%%
%% ```
%% Blue = #{in => {netns, <<"blue">>}},
%% ok = linx_rtnl:link_add(#{ifname => <<"v0">>, kind => veth,
%%                           peer => #{ifname => <<"v1">>, netns => {pid, 4242}}}, Blue),
%% ok = linx_rtnl:link_set(<<"v0">>, #{state => up, mtu => 9000}, Blue),
%% ok = linx_rtnl:addr_add(<<"v0">>, {{10, 0, 0, 1}, 24}, Blue),
%% ok = linx_rtnl:route_add(#{dst => {{10, 1, 0, 0}, 16}, gateway => {10, 0, 0, 2},
%%                            table => 100, metric => 10}, Blue),
%% {ok, [#{ifname := <<"lo">>, flags := [up, loopback, running, lower_up]} | _]} =
%%     linx_rtnl:links(Blue),
%% {ok, #{mtu := 9000, kind := veth}} = linx_rtnl:link(<<"v0">>, Blue).
%% '''
%%
%% == Maps ==
%% Links: `index', `ifname' (binary), `flags' (`up', `broadcast',
%% `loopback', `running', `lower_up', ... lowest bit first), `type'
%% (`ether', `loopback', `none' or the `ARPHRD_*' number), `mtu',
%% `min_mtu', `max_mtu', `txqlen', `qdisc', `operstate' (`up', `down',
%% `lowerlayerdown', `unknown', ...), `linkmode', `group', `master' and
%% `link' (indexes), `link_netnsid', `address' and `broadcast' (MAC
%% binaries, see {@link format_mac/1}), `perm_address', `kind' and
%% `slave_kind' (an atom for the kinds linx knows, else a binary),
%% `info_data' and `info_slave_data' (the kind's own attributes, raw),
%% `info_unknown' (the
%% attributes of `IFLA_LINKINFO' it does not name, in order, as
%% `{Type, Binary}'; only when there are some), `promiscuity',
%% `num_tx_queues', `num_rx_queues', `carrier', `carrier_changes',
%% `gso_max_size', `gso_max_segs', `gso_ipv4_max_size', `gro_max_size',
%% `gro_ipv4_max_size', `tso_max_size', `tso_max_segs', `allmulti',
%% `alias', `alt_names', `proto_down'.
%%
%% Addresses: `family' (`inet' or `inet6'), `index', `prefixlen',
%% `address' and `local' (inet tuples), `broadcast', `label', `scope'
%% (`universe', `link', `host', ...), `flags' (`permanent',
%% `noprefixroute', `tentative', ...), `valid_lft' and `preferred_lft'
%% (seconds or `forever').
%%
%% Routes: `family', `dst' (`{Address, PrefixLen}' or `default'), `src',
%% `gateway', `oif', `iif', `table', `metric', `prefsrc', `protocol'
%% (`kernel', `boot', `static', ...), `scope', `type' (`unicast',
%% `local', `broadcast', ...), `tos', `flags', `pref' (IPv6).
%%
%% Neighbours: `family', `index', `dst', `lladdr', `state' (`permanent',
%% `reachable', `stale', `noarp', ...), `flags' (`router', ...),
%% `probes'.
%%
%% Every map also has `unknown': the attributes it does not name, in
%% order, as `{Type, Binary}'. A link's statistics (`IFLA_STATS',
%% `IFLA_STATS64'), which the kernel sends even when asked not to, are
%% left out.
%%
%% == Errors ==
%% A refusal by the kernel is `{error, Info}' with
%% `#{stage := netlink, errno := eexist, code := 17, message := Text,
%% op := addr_add, in := In}' (`message', the kernel's extended-ack text,
%% only when it sent one); see {@link linx_nl}. Bad arguments are
%% `{error, {bad_ifname | bad_link | bad_address | bad_prefix | bad_route
%% | bad_neigh | bad_spec | bad_change | bad_netns | bad_groups, Term}}',
%% checked before anything is sent. Failures of the port or the C-node
%% are those of {@link linx_netlink:call/3}. {@link format_error/1}
%% renders any of them.
-module(linx_rtnl).

-include("linx_nl.hrl").

-export([links/1, link/2, link_add/2, link_set/3, link_del/2]).
-export([addrs/1, addr_add/3, addr_del/3]).
-export([routes/1, route_add/2, route_del/2]).
-export([neighbours/1, neigh_add/2, neigh_del/2]).
-export([subscribe/2, unsubscribe/1]).
-export([format_mac/1, parse_mac/1, format_error/1]).

-export_type([link_ref/0, netns_ref/0, prefix/0, group/0]).

-type link_ref() :: binary() | string() | pos_integer().
%% A link by name or by index.

-type netns_ref() :: {pid, pos_integer()} | linx_opts:in().
%% Another network namespace: `{pid, P}', by a process inside it
%% (`IFLA_NET_NS_PID'; the pid as the port program sees it), or any other
%% target (`{netns, Name}', a {@link linx_netns:handle()}, `{ns, Paths}',
%% ...), whose namespace file the port program opens and passes as
%% `IFLA_NET_NS_FD'.

-type prefix() :: {inet:ip_address(), 0..128}.

-type group() :: link | notify | neigh | tc | ipv4_addr | ipv4_mroute | ipv4_route
               | ipv4_rule | ipv6_addr | ipv6_mroute | ipv6_route | ipv6_ifinfo
               | ipv6_prefix | ipv6_rule | nsid | pos_integer().
%% An rtnetlink multicast group (`RTNLGRP_*').

-define(RTM_NEWLINK, 16).
-define(RTM_DELLINK, 17).
-define(RTM_GETLINK, 18).
-define(RTM_NEWADDR, 20).
-define(RTM_DELADDR, 21).
-define(RTM_GETADDR, 22).
-define(RTM_NEWROUTE, 24).
-define(RTM_DELROUTE, 25).
-define(RTM_GETROUTE, 26).
-define(RTM_NEWNEIGH, 28).
-define(RTM_DELNEIGH, 29).
-define(RTM_GETNEIGH, 30).

-define(IFLA_ADDRESS, 1).
-define(IFLA_IFNAME, 3).
-define(IFLA_MTU, 4).
-define(IFLA_MASTER, 10).
-define(IFLA_TXQLEN, 13).
-define(IFLA_LINKINFO, 18).
-define(IFLA_NET_NS_PID, 19).
-define(IFLA_NET_NS_FD, 28).
%% The placeholder value of an IFLA_NET_NS_FD whose descriptor the port
%% program writes in (see ns_fd_mark/1): one per place in a message.
-define(NS_FD_MARK, 16#FFFFFF00).
-define(IFLA_EXT_MASK, 29).
-define(IFLA_INFO_KIND, 1).
-define(IFLA_INFO_DATA, 2).
-define(VETH_INFO_PEER, 1).
-define(RTEXT_FILTER_SKIP_STATS, 8).
-define(IFF_UP, 1).

-define(IFA_ADDRESS, 1).
-define(IFA_LOCAL, 2).
-define(IFA_LABEL, 3).
-define(IFA_BROADCAST, 4).
-define(IFA_FLAGS, 8).

-define(RTA_DST, 1).
-define(RTA_OIF, 4).
-define(RTA_GATEWAY, 5).
-define(RTA_PRIORITY, 6).
-define(RTA_PREFSRC, 7).
-define(RTA_TABLE, 15).

-define(NDA_DST, 1).
-define(NDA_LLADDR, 2).

-define(RT_TABLE_MAIN, 254).

-define(GROUPS, #{link => 1, notify => 2, neigh => 3, tc => 4, ipv4_addr => 5,
                  ipv4_mroute => 6, ipv4_route => 7, ipv4_rule => 8, ipv6_addr => 9,
                  ipv6_mroute => 10, ipv6_route => 11, ipv6_ifinfo => 12,
                  ipv6_prefix => 18, ipv6_rule => 19, nsid => 28}).

%%====================================================================
%% Links
%%====================================================================

%% @doc Every link of the namespace (statistics are not asked for).
-spec links(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:link()]} | {error, term()}.
links(Opts) ->
    Req = #{type => ?RTM_GETLINK, flags => ?NLM_F_DUMP,
            payload => [linx_rtnl_msg:ifinfomsg(0, 0, 0, 0), skip_stats()]},
    dump(Req, Opts, links, fun linx_rtnl_msg:decode_link/1).

%% @doc One link, by name or index; `{error, #{errno := enodev}}' when
%% there is none.
-spec link(link_ref(), linx_netlink:opts()) -> {ok, linx_rtnl_msg:link()} | {error, term()}.
link(Ref, Opts) ->
    case link_id(Ref) of
        {ok, Index, NameAttrs} ->
            Req = #{type => ?RTM_GETLINK,
                    payload => [linx_rtnl_msg:ifinfomsg(0, Index, 0, 0),
                                linx_nl:encode_attrs(NameAttrs), skip_stats()]},
            case dump(Req, Opts, link, fun linx_rtnl_msg:decode_link/1) of
                {ok, [Link | _]} -> {ok, Link};
                {ok, []} -> {error, {bad_link, Ref}};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

%% @doc Creates a link. `Spec' has `ifname' and `kind' (`veth', `bridge',
%% or any kind the kernel has, as an atom or binary), and may have `mtu',
%% `address' (MAC binary or text), `txqlen', `master' (a link),
%% `state' (`up' or `down'), `data' (the kind's own attributes as
%% {@type linx_nl:attr()}, sent as `IFLA_INFO_DATA'), `netns' (create
%% it in another namespace, {@type netns_ref()}) and, for `veth',
%% `peer': `#{ifname => Name, netns => NetnsRef, address => Mac, mtu => N}'.
-spec link_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
link_add(#{ifname := Name, kind := Kind} = Spec, Opts) ->
    Checked = [ifname(Name), kind_name(Kind), link_attrs(maps:without([ifname, kind], Spec), Opts, 0)],
    case linx_error:first_error(Checked) of
        ok ->
            [{ok, NameBin}, {ok, KindBin}, {ok, Attrs, {Flags, Change}}] = Checked,
            case info_data(Spec, KindBin) of
                {ok, Data} ->
                    Info = [{?IFLA_INFO_KIND, KindBin} | Data],
                    Req = #{type => ?RTM_NEWLINK, flags => ?NLM_F_CREATE bor ?NLM_F_EXCL,
                            payload => [linx_rtnl_msg:ifinfomsg(0, 0, Flags, Change),
                                        linx_nl:encode_attrs(
                                          [{?IFLA_IFNAME, {string, NameBin}} | Attrs]
                                          ++ [{?IFLA_LINKINFO, {nested, Info}}])]},
                    ack(Req, ns_fd_marks([{0, maps:get(netns, Spec, self)},
                                          {1, peer_netns(Spec)}], Opts), link_add);
                {error, _} = Error ->
                    Error
            end;
        Error ->
            Error
    end;
link_add(Spec, _Opts) ->
    {error, {bad_spec, Spec}}.

%% @doc Changes a link: `Changes' may have `state' (`up' | `down'),
%% `mtu', `address', `master' (a link, or `none' to leave its master),
%% `ifname' (rename), `txqlen' and `netns' (move it to another
%% namespace, {@type netns_ref()}).
-spec link_set(link_ref(), map(), linx_netlink:opts()) -> ok | {error, term()}.
link_set(Ref, Changes, Opts) when is_map(Changes) ->
    case index(Ref, Opts) of
        {ok, Index} ->
            case link_attrs(Changes, Opts, 0) of
                {ok, Attrs, {Flags, Change}} ->
                    Req = #{type => ?RTM_NEWLINK,
                            payload => [linx_rtnl_msg:ifinfomsg(0, Index, Flags, Change),
                                        linx_nl:encode_attrs(Attrs)]},
                    ack(Req, ns_fd_marks([{0, maps:get(netns, Changes, self)}], Opts), link_set);
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end;
link_set(_Ref, Changes, _Opts) ->
    {error, {bad_change, Changes}}.

%% @doc Deletes a link (for a veth pair, both ends).
-spec link_del(link_ref(), linx_netlink:opts()) -> ok | {error, term()}.
link_del(Ref, Opts) ->
    case link_id(Ref) of
        {ok, Index, NameAttrs} ->
            Req = #{type => ?RTM_DELLINK,
                    payload => [linx_rtnl_msg:ifinfomsg(0, Index, 0, 0),
                                linx_nl:encode_attrs(NameAttrs)]},
            ack(Req, Opts, link_del);
        {error, _} = Error ->
            Error
    end.

%%====================================================================
%% Addresses
%%====================================================================

%% @doc Every IPv4 and IPv6 address of the namespace.
-spec addrs(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:addr()]} | {error, term()}.
addrs(Opts) ->
    Req = #{type => ?RTM_GETADDR, flags => ?NLM_F_DUMP,
            payload => linx_rtnl_msg:ifaddrmsg(0, 0, 0, 0, 0)},
    dump(Req, Opts, addrs, fun linx_rtnl_msg:decode_addr/1).

%% @doc Adds an address to a link. Besides `in', `timeout' and `via',
%% `Opts' may have `label', `broadcast' (an IPv4 address), `scope' and
%% `flags' (such as `[nodad, noprefixroute]'). Adding one that is there
%% already is `{error, #{errno := eexist}}'.
-spec addr_add(link_ref(), prefix(), linx_netlink:opts()) -> ok | {error, term()}.
addr_add(Link, Prefix, Opts) ->
    addr(?RTM_NEWADDR, ?NLM_F_CREATE bor ?NLM_F_EXCL, Link, Prefix, Opts, addr_add).

%% @doc Removes an address from a link.
-spec addr_del(link_ref(), prefix(), linx_netlink:opts()) -> ok | {error, term()}.
addr_del(Link, Prefix, Opts) ->
    addr(?RTM_DELADDR, 0, Link, Prefix, Opts, addr_del).

addr(Type, Flags, Link, {IP, Len} = Prefix, Opts, Op) when is_integer(Len), Len >= 0 ->
    case linx_rtnl_msg:ip_bytes(IP) of
        {ok, Family, Bytes} when Len =< byte_size(Bytes) * 8 ->
            case {index(Link, Opts), addr_extra(Family, opts_map(Opts))} of
                {{ok, Index}, {ok, Scope, IfaFlags, Extra}} ->
                    Req = #{type => Type, flags => Flags,
                            payload => [linx_rtnl_msg:ifaddrmsg(Family, Len, IfaFlags, Scope, Index),
                                        linx_nl:encode_attrs([{?IFA_LOCAL, Bytes},
                                                              {?IFA_ADDRESS, Bytes} | Extra])]},
                    ack(Req, Opts, Op);
                {{error, _} = Error, _} ->
                    Error;
                {_, {error, _} = Error} ->
                    Error
            end;
        _ ->
            {error, {bad_prefix, Prefix}}
    end;
addr(_Type, _Flags, _Link, Prefix, _Opts, _Op) ->
    {error, {bad_prefix, Prefix}}.

addr_extra(Family, Map) ->
    try
        Scope = case maps:find(scope, Map) of
                    error -> 0;
                    {ok, S} -> ok_or_throw(linx_rtnl_msg:scope_number(S), {bad_option, {scope, S}})
                end,
        {ok, Fl} = ok_or_throw(flag_mask(maps:get(flags, Map, [])), {bad_option, {flags, maps:get(flags, Map, [])}}),
        Label = [{?IFA_LABEL, {string, L}} || {ok, L} <- [maps:find(label, Map)],
                                              ok =:= check_text(L, {label, L})],
        Brd = case maps:find(broadcast, Map) of
                  error -> [];
                  {ok, B} ->
                      case linx_rtnl_msg:ip_bytes(B) of
                          {ok, Family, BB} -> [{?IFA_BROADCAST, BB}];
                          _ -> throw({bad_option, {broadcast, B}})
                      end
              end,
        {ok, Scope, Fl, Label ++ Brd ++ [{?IFA_FLAGS, {u32, Fl}} || Fl > 255]}
    catch
        throw:Reason -> {error, Reason}
    end.

flag_mask(Flags) ->
    Table = [{nodad, 16#2}, {optimistic, 16#4}, {homeaddress, 16#10},
             {managetempaddr, 16#100}, {noprefixroute, 16#200}, {mcautojoin, 16#400}],
    try
        {ok, lists:foldl(fun(F, Acc) -> {F, B} = lists:keyfind(F, 1, Table), Acc bor B end,
                         0, Flags)}
    catch
        error:_ -> error
    end.

%%====================================================================
%% Routes
%%====================================================================

%% @doc Every route of every table, IPv4 and IPv6.
-spec routes(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:route()]} | {error, term()}.
routes(Opts) ->
    Req = #{type => ?RTM_GETROUTE, flags => ?NLM_F_DUMP, payload => linx_rtnl_msg:rtmsg(#{})},
    dump(Req, Opts, routes, fun linx_rtnl_msg:decode_route/1).

%% @doc Adds a route. `Route' may have `dst' (`{Address, PrefixLen}' or
%% `default', the default), `gateway', `oif' (a link), `table' (default
%% main, 254), `metric', `prefsrc', `scope', `type' (default `unicast'),
%% `protocol' (default `boot', as `ip route add') and `family' (needed
%% only for a default route without a gateway). Without a gateway the
%% scope is `link', with one `universe'.
-spec route_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_add(Route, Opts) ->
    route(?RTM_NEWROUTE, ?NLM_F_CREATE bor ?NLM_F_EXCL, Route, Opts, route_add).

%% @doc Deletes a route matching `Route' (the keys of
%% {@link route_add/2}; a map from {@link routes/1} works as it is).
-spec route_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
route_del(Route, Opts) ->
    route(?RTM_DELROUTE, 0, Route, Opts, route_del).

route(Type, Flags, Route, Opts, Op) when is_map(Route) ->
    try
        Family0 = case maps:find(family, Route) of
                      {ok, F} -> ok_or_throw(linx_rtnl_msg:family_number(F), {bad_route, Route});
                      error -> undefined
                  end,
        {Family1, DstAttrs, DstLen} =
            case maps:get(dst, Route, default) of
                default -> {Family0, [], 0};
                {IP, Len} when is_integer(Len), Len >= 0 ->
                    case linx_rtnl_msg:ip_bytes(IP) of
                        {ok, Fm, B} when Len =< byte_size(B) * 8 -> {Fm, [{?RTA_DST, B}], Len};
                        _ -> throw({bad_route, Route})
                    end;
                _ -> throw({bad_route, Route})
            end,
        {Family2, GwAttrs} = ip_attr(gateway, ?RTA_GATEWAY, Route, Family1),
        {Family, SrcAttrs} = ip_attr(prefsrc, ?RTA_PREFSRC, Route, Family2),
        Family =/= undefined orelse throw({bad_route, Route}),
        Table = int_key(table, Route, ?RT_TABLE_MAIN, 16#ffffffff),
        Metric = case maps:find(metric, Route) of
                     error -> [];
                     {ok, M} -> [{?RTA_PRIORITY, {u32, int_key(metric, Route, M, 16#ffffffff)}}]
                 end,
        Oif = case maps:find(oif, Route) of
                  error -> [];
                  {ok, L} -> {ok, I} = ok_or_throw(index(L, Opts)), [{?RTA_OIF, {u32, I}}]
              end,
        Del = Type =:= ?RTM_DELROUTE,
        DefScope = if Del -> 255; GwAttrs =:= [] -> 253; true -> 0 end,
        Scope = name_key(scope, Route, DefScope, fun linx_rtnl_msg:scope_number/1),
        RtType = name_key(type, Route, if Del -> 0; true -> 1 end, fun linx_rtnl_msg:rt_type_number/1),
        Proto = name_key(protocol, Route, if Del -> 0; true -> 3 end, fun linx_rtnl_msg:rt_proto_number/1),
        Hdr = linx_rtnl_msg:rtmsg(#{family => Family, dst_len => DstLen,
                                    table => if Table < 256 -> Table; true -> 0 end,
                                    protocol => Proto, scope => Scope, type => RtType}),
        Attrs = DstAttrs ++ GwAttrs ++ SrcAttrs ++ Oif ++ Metric ++ [{?RTA_TABLE, {u32, Table}}],
        ack(#{type => Type, flags => Flags, payload => [Hdr, linx_nl:encode_attrs(Attrs)]}, Opts, Op)
    catch
        throw:{error, _} = Error -> Error;
        throw:Reason -> {error, Reason}
    end;
route(_Type, _Flags, Route, _Opts, _Op) ->
    {error, {bad_route, Route}}.

%% An address key of a route: its attribute, and the family it implies
%% (which must agree with the one known so far).
ip_attr(Key, Type, Route, Family) ->
    case maps:find(Key, Route) of
        error ->
            {Family, []};
        {ok, IP} ->
            case linx_rtnl_msg:ip_bytes(IP) of
                {ok, F, B} when Family =:= undefined; Family =:= F -> {F, [{Type, B}]};
                _ -> throw({bad_route, Route})
            end
    end.

%%====================================================================
%% Neighbours
%%====================================================================

%% @doc Every IPv4 (ARP) and IPv6 (NDP) neighbour entry of the namespace.
-spec neighbours(linx_netlink:opts()) -> {ok, [linx_rtnl_msg:neigh()]} | {error, term()}.
neighbours(Opts) ->
    Req = #{type => ?RTM_GETNEIGH, flags => ?NLM_F_DUMP, payload => linx_rtnl_msg:ndmsg(0, 0, 0, 0)},
    case dump(Req, Opts, neighbours, fun linx_rtnl_msg:decode_neigh/1) of
        {ok, All} -> {ok, [N || #{family := F} = N <- All, F =:= inet orelse F =:= inet6]};
        Error -> Error
    end.

%% @doc Adds a neighbour entry: `Neigh' has `index' (a link), `dst' (an
%% inet tuple) and `lladdr' (a MAC), and may have `state' (a list of
%% states, default `[permanent]') and `flags' (such as `[router]').
-spec neigh_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_add(Neigh, Opts) ->
    neigh(?RTM_NEWNEIGH, ?NLM_F_CREATE bor ?NLM_F_EXCL, Neigh, Opts, neigh_add).

%% @doc Deletes the neighbour entry of `index' and `dst' (a map from
%% {@link neighbours/1} works as it is).
-spec neigh_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
neigh_del(Neigh, Opts) ->
    neigh(?RTM_DELNEIGH, 0, Neigh, Opts, neigh_del).

neigh(Type, Flags, #{index := Link, dst := IP} = Neigh, Opts, Op) ->
    try
        {ok, Family, Dst} = ok_or_throw(linx_rtnl_msg:ip_bytes(IP), {bad_neigh, Neigh}),
        {ok, Index} = ok_or_throw(index(Link, Opts)),
        {ok, State} = ok_or_throw(linx_rtnl_msg:nud_bits(maps:get(state, Neigh, [permanent])),
                                  {bad_neigh, Neigh}),
        NtfFlags = case maps:get(flags, Neigh, []) of
                       [] -> 0;
                       [router] -> 16#80;
                       _ -> throw({bad_neigh, Neigh})
                   end,
        Ll = case maps:find(lladdr, Neigh) of
                 error -> [];
                 {ok, Mac} ->
                     {ok, MacBin} = ok_or_throw(mac(Mac), {bad_neigh, Neigh}),
                     [{?NDA_LLADDR, MacBin}]
             end,
        Req = #{type => Type, flags => Flags,
                payload => [linx_rtnl_msg:ndmsg(Family, Index, State, NtfFlags),
                            linx_nl:encode_attrs([{?NDA_DST, Dst} | Ll])]},
        ack(Req, Opts, Op)
    catch
        throw:{error, _} = Error -> Error;
        throw:Reason -> {error, Reason}
    end;
neigh(_Type, _Flags, Neigh, _Opts, _Op) ->
    {error, {bad_neigh, Neigh}}.

%%====================================================================
%% Events
%%====================================================================

%% @doc Subscribes the caller to rtnetlink events of `Groups' (a list of
%% {@type group()}) in the namespace of `Opts' (`in', `timeout'; `via' a
%% C-node on this host). Each event arrives as
%% `{linx_rtnl, Ref, Event}', `Event' being `{link | addr | route |
%% neigh, new | del, Map}' (the maps of the dumps), `{other, Type,
%% Payload}', or `{error, Reason}' (`enobufs' when the kernel dropped
%% events because they were not read fast enough, `{malformed, Where}').
%% Events come from a process that owns the socket; it ends, closing the
%% socket, on {@link unsubscribe/1} or when the caller exits.
-spec subscribe([group()], linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
subscribe(Groups, Opts) ->
    case group_numbers(Groups, []) of
        {ok, Numbers} -> linx_rtnl_events:start(self(), Numbers, Opts);
        {error, _} = Error -> Error
    end.

%% @doc Ends a subscription of the calling process; events of `Ref' still
%% in its mailbox are removed. `ok' also when it has already ended.
-spec unsubscribe(reference()) -> ok.
unsubscribe(Ref) ->
    linx_rtnl_events:stop(Ref).

%%====================================================================
%% MAC addresses and errors
%%====================================================================

%% @doc A MAC (or any link-layer) address as text: `<<"02:00:5e:10:00:01">>'.
-spec format_mac(binary()) -> binary().
format_mac(Bin) when is_binary(Bin) ->
    iolist_to_binary(lists:join($:, [io_lib:format("~2.16.0b", [B]) || <<B>> <= Bin])).

%% @doc Parses `"02:00:5e:10:00:01"' (binary or string, `:' or `-'
%% between bytes); `error' for anything else.
-spec parse_mac(binary() | string()) -> {ok, binary()} | error.
parse_mac(Text) ->
    try
        Parts = string:lexemes(unicode:characters_to_list(Text), ":-"),
        Bytes = [begin
                     2 = length(P),
                     list_to_integer(P, 16)
                 end || P <- Parts],
        case Bytes of
            [] -> error;
            _ -> {ok, list_to_binary(Bytes)}
        end
    catch
        _:_ -> error
    end.

%% @doc Renders an error of this module (or any linx error) as one line.
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error({Tag, Arg}) when Tag =:= bad_ifname; Tag =:= bad_link; Tag =:= bad_address;
                              Tag =:= bad_prefix; Tag =:= bad_route; Tag =:= bad_neigh;
                              Tag =:= bad_spec; Tag =:= bad_change; Tag =:= bad_netns;
                              Tag =:= bad_groups ->
    linx_error:line(io_lib:format("invalid ~ts: ~0tp", [what(Tag), Arg]));
format_error(Reason) ->
    linx_nl:format_error(Reason).

what(bad_ifname) -> "interface name (1 to 15 bytes, no '/', ':', NUL or white space)";
what(bad_link) -> "link (a name or an index)";
what(bad_address) -> "link-layer address";
what(bad_prefix) -> "address prefix ({InetTuple, PrefixLen})";
what(bad_route) -> "route";
what(bad_neigh) -> "neighbour";
what(bad_spec) -> "link spec (a map with ifname and kind)";
what(bad_change) -> "link change";
what(bad_netns) -> "namespace ({pid, OsPid}, or a target such as {netns, Name} or a linx_netns handle)";
what(bad_groups) -> "rtnetlink groups".

%%====================================================================
%% Internal functions
%%====================================================================

%% IFLA_EXT_MASK asking the kernel to leave the statistics out: it then
%% skips those of virtual functions (IFLA_VF_STATS), not IFLA_STATS64,
%% which linx_rtnl_msg drops.
skip_stats() ->
    linx_nl:encode_attrs([{?IFLA_EXT_MASK, {u32, ?RTEXT_FILTER_SKIP_STATS}}]).

dump(Req, Opts, Op, Decode) ->
    linx_nl_dump:dump(route, Req, Opts, Op, fun(#{payload := P}) -> Decode(P) end).

ack(Req, Opts, Op) ->
    case linx_nl:call(route, Req, Opts, Op) of
        {ok, _} -> ok;
        {error, _} = Error -> Error
    end.

%% The attribute that puts a link in another namespace: by pid, or by a
%% descriptor the port program opens (a placeholder here, see
%% ns_fd_marks/2).
netns_attr({pid, P}, {A, FC}, _Slot) when is_integer(P), P > 0, P =< 16#7fffffff ->
    {[{?IFLA_NET_NS_PID, {u32, P}} | A], FC};
netns_attr(In, {A, FC}, Slot) ->
    case linx_opts:target(In) of
        {ok, _} -> {[{?IFLA_NET_NS_FD, {u32, ?NS_FD_MARK + Slot}} | A], FC};
        {error, _} -> throw({bad_netns, In})
    end.

%% Opts with `ns_fd_marks': for each slot whose namespace is a target,
%% the placeholder attribute to find in the encoded message and the target
%% whose descriptor replaces its value (see linx_nl:call/4).
ns_fd_marks(Slots, Opts) ->
    Marks = [{ns_fd_mark(Slot), In} || {Slot, In} <- Slots, In =/= self, not is_pid_ref(In)],
    case {Marks, linx_opts:options(Opts)} of
        {[], _} -> Opts;
        {_, {ok, Map, _, _, _, _}} -> Map#{ns_fd_marks => Marks};
        %% Bad options: the call reports them.
        {_, {error, _}} -> Opts
    end.

ns_fd_mark(Slot) ->
    <<8:16/native, ?IFLA_NET_NS_FD:16/native, (?NS_FD_MARK + Slot):32/native>>.

is_pid_ref({pid, _}) -> true;
is_pid_ref(_) -> false.

peer_netns(#{peer := #{netns := In}}) -> In;
peer_netns(_) -> self.

%% A link as an index for the header, or index 0 and its name attribute.
link_id(Index) when is_integer(Index), Index > 0, Index =< 16#7fffffff ->
    {ok, Index, []};
link_id(Name) when is_binary(Name); is_list(Name) ->
    case ifname(Name) of
        {ok, Bin} -> {ok, 0, [{?IFLA_IFNAME, {string, Bin}}]};
        {error, _} = Error -> Error
    end;
link_id(Other) ->
    {error, {bad_link, Other}}.

%% A link's index; a name is looked up (one request).
index(Ref, Opts) ->
    case link_id(Ref) of
        {ok, 0, _} ->
            case link(Ref, Opts) of
                {ok, #{index := I}} -> {ok, I};
                {error, _} = Error -> Error
            end;
        {ok, I, []} ->
            {ok, I};
        {error, _} = Error ->
            Error
    end.

%% @private An interface name: 1 to 15 bytes, as the kernel's
%% dev_valid_name() wants it.
ifname(Name) ->
    case text(Name) of
        {ok, Bin} when byte_size(Bin) >= 1, byte_size(Bin) =< 15, Bin =/= <<".">>, Bin =/= <<"..">> ->
            case binary:match(Bin, [<<"/">>, <<":">>, <<0>>, <<" ">>, <<"\t">>, <<"\n">>,
                                    <<"\r">>, <<"\v">>, <<"\f">>]) of
                nomatch -> {ok, Bin};
                _ -> {error, {bad_ifname, Name}}
            end;
        _ ->
            {error, {bad_ifname, Name}}
    end.

kind_name(K) when is_atom(K) -> {ok, atom_to_binary(K)};
kind_name(K) when is_binary(K), byte_size(K) > 0, byte_size(K) < 64 -> {ok, K};
kind_name(K) -> {error, {bad_spec, {kind, K}}}.

%% IFLA_INFO_DATA: the veth peer, or the caller's `data'.
info_data(#{peer := Peer}, <<"veth">>) when is_map(Peer) ->
    case maps:find(ifname, Peer) of
        {ok, PeerName} ->
            case {ifname(PeerName), link_attrs(maps:without([ifname], Peer), #{}, 1)} of
                {{ok, P}, {ok, Attrs, {Fl, Ch}}} ->
                    PeerMsg = [linx_rtnl_msg:ifinfomsg(0, 0, Fl, Ch),
                               linx_nl:encode_attrs([{?IFLA_IFNAME, {string, P}} | Attrs])],
                    {ok, [{?IFLA_INFO_DATA, {nested, [{?VETH_INFO_PEER, PeerMsg}]}}]};
                {{error, _} = E, _} -> E;
                {_, {error, _} = E} -> E
            end;
        error ->
            {error, {bad_spec, {peer, Peer}}}
    end;
info_data(#{peer := Peer}, _Kind) ->
    {error, {bad_spec, {peer, Peer}}};
info_data(#{data := Data}, _Kind) when is_list(Data) ->
    try iolist_to_binary(linx_nl:encode_attrs(Data)) of
        _ -> {ok, [{?IFLA_INFO_DATA, {nested, Data}}]}
    catch
        error:_ -> {error, {bad_spec, {data, Data}}}
    end;
info_data(_, _Kind) ->
    {ok, []}.

%% The attributes and {Flags, Change} of a link's settings (link_add's
%% extras, link_set's changes, a veth peer's); `Slot' numbers the place
%% of a `netns' given as a target (0 the link's, 1 a veth peer's).
link_attrs(Map, Opts, Slot) ->
    try
        {Attrs, FC} = maps:fold(fun(netns, V, Acc) -> netns_attr(V, Acc, Slot);
                                   (K, V, Acc) -> link_attr(K, V, Acc, Opts)
                                end,
                                {[], {0, 0}}, Map),
        {ok, lists:sort(Attrs), FC}
    catch
        throw:{error, _} = Error -> Error;
        throw:Reason -> {error, Reason}
    end.

link_attr(state, up, {A, _}, _Opts) -> {A, {?IFF_UP, ?IFF_UP}};
link_attr(state, down, {A, _}, _Opts) -> {A, {0, ?IFF_UP}};
link_attr(mtu, N, {A, FC}, _Opts) when is_integer(N), N > 0, N =< 16#ffffffff ->
    {[{?IFLA_MTU, {u32, N}} | A], FC};
link_attr(txqlen, N, {A, FC}, _Opts) when is_integer(N), N >= 0, N =< 16#ffffffff ->
    {[{?IFLA_TXQLEN, {u32, N}} | A], FC};
link_attr(address, Mac, {A, FC}, _Opts) ->
    {ok, Bin} = ok_or_throw(mac(Mac), {bad_address, Mac}),
    {[{?IFLA_ADDRESS, Bin} | A], FC};
link_attr(ifname, Name, {A, FC}, _Opts) ->
    {ok, Bin} = ok_or_throw(ifname(Name)),
    {[{?IFLA_IFNAME, {string, Bin}} | A], FC};
link_attr(master, none, {A, FC}, _Opts) ->
    {[{?IFLA_MASTER, {u32, 0}} | A], FC};
link_attr(master, Link, {A, FC}, Opts) ->
    {ok, I} = ok_or_throw(index(Link, Opts)),
    {[{?IFLA_MASTER, {u32, I}} | A], FC};
link_attr(K, _V, Acc, _Opts) when K =:= peer; K =:= data ->
    Acc;
link_attr(K, V, _Acc, _Opts) ->
    throw({bad_change, {K, V}}).

%% A MAC given as a binary of bytes (6 or more, as the link wants) or as
%% text.
mac(Mac) when is_binary(Mac), byte_size(Mac) >= 1, byte_size(Mac) =< 32 ->
    case parse_mac(Mac) of
        {ok, Bin} when byte_size(Mac) > 6 -> {ok, Bin};
        _ -> {ok, Mac}
    end;
mac(Mac) when is_list(Mac) ->
    parse_mac(Mac);
mac(_) ->
    error.

group_numbers([], Acc) ->
    {ok, lists:usort(Acc)};
group_numbers([G | Rest], Acc) when is_map_key(G, ?GROUPS) ->
    group_numbers(Rest, [map_get(G, ?GROUPS) | Acc]);
group_numbers([G | Rest], Acc) when is_integer(G), G >= 1, G =< 16#ffffffff ->
    group_numbers(Rest, [G | Acc]);
group_numbers(Groups, _Acc) ->
    {error, {bad_groups, Groups}}.

opts_map(Opts) when is_map(Opts) -> Opts;
opts_map(Opts) when is_list(Opts) ->
    try maps:from_list(lists:reverse(Opts)) catch error:_ -> #{} end;
opts_map(_) -> #{}.

text(B) when is_binary(B) -> {ok, B};
text(L) when is_list(L) ->
    try unicode:characters_to_binary(L) of
        B when is_binary(B) -> {ok, B};
        _ -> error
    catch
        error:_ -> error
    end;
text(_) -> error.

check_text(T, Why) ->
    case text(T) of
        {ok, _} -> ok;
        error -> throw({bad_option, Why})
    end.

int_key(Key, Map, Default, Max) ->
    case maps:get(Key, Map, Default) of
        N when is_integer(N), N >= 0, N =< Max -> N;
        _ -> throw({bad_route, Map})
    end.

name_key(Key, Map, Default, ToNumber) ->
    case maps:find(Key, Map) of
        error -> Default;
        {ok, V} -> element(2, ok_or_throw(ToNumber(V), {bad_route, Map}))
    end.

ok_or_throw({ok, _} = Ok) -> Ok;
ok_or_throw({error, _} = Error) -> throw(Error).

ok_or_throw({ok, V}, _Reason) -> {ok, V};
ok_or_throw({ok, _, _} = Ok, _Reason) -> Ok;
ok_or_throw(_, Reason) -> throw(Reason).
