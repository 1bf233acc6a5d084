%% @doc The route questions of {@link linx_rtnl}: which route the kernel
%% would use for a destination (`RTM_GETROUTE' for one destination, as
%% `ip route get'), and a route dump filtered by table, device, family,
%% protocol and type (as `ip route show table T dev D proto P type Y').
%% No I/O of its own: a link named by its name is turned into an index by
%% the function `Resolve' the caller passes (see {@link linx_rtnl_req}).
%%
%% A filtered dump is sent on a socket with strict checking (see
%% {@link linx_netlink:call/3}, option `strict'): the kernel (4.20 and
%% later) filters it by the header's family, table, protocol and type and
%% by `RTA_TABLE' and `RTA_OIF', and leaves out its cached routes. What
%% comes back is filtered here again by {@link keep/2}, so the answer is
%% the same from a kernel that did not filter.
-module(linx_rtnl_route_query).

-include("linx_nl.hrl").

-export([filter/2, keep/2, get/2]).

-export_type([filter/0]).

-type filter() :: #{table => pos_integer(), oif => pos_integer(), family => inet | inet6,
                    protocol => 0..255, type => 0..255}.
%% A checked filter: the table's and the types' numbers, the link's index.

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
-define(RT_TABLES, [{default, 253}, {main, 254}, {local, 255}]).

%%====================================================================
%% Filtered dumps
%%====================================================================

%% @doc The dump request of the routes `Filter' asks for, and the filter
%% checked (for {@link keep/2}). `Filter' is a map of `table' (a number,
%% `main', `local', `default', or `all'), `oif' (a link), `family'
%% (`inet' or `inet6'), `protocol' and `type' (names of routes/1's, or
%% numbers); a bad key or value is `{error, {bad_filter, {Key, Value}}}'
%% (checked before `oif' is looked up), anything but a map `{error,
%% {bad_filter, Filter}}'.
-spec filter(term(), linx_rtnl_req:resolve()) ->
          {ok, linx_nl_codec:msg_in(), filter()} | {error, term()}.
filter(Filter, Resolve) when is_map(Filter) ->
    ?ARGS:checked(fun() ->
                          Checked0 = maps:fold(fun check/3, #{}, Filter),
                          Checked = case Checked0 of
                                        #{oif := Ref} ->
                                            {ok, I} = ?ARGS:ok_or_throw(Resolve(Ref)),
                                            Checked0#{oif := I};
                                        #{} ->
                                            Checked0
                                    end,
                          {ok, dump_request(Checked), Checked}
                  end);
filter(Filter, _Resolve) ->
    {error, {bad_filter, Filter}}.

check(table, all, Acc) ->
    Acc;
check(table, T, Acc) ->
    case linx_nl_values:number(T, ?RT_TABLES) of
        {ok, N} when N >= 1, N =< 16#ffffffff -> Acc#{table => N};
        _ -> throw({bad_filter, {table, T}})
    end;
check(oif, Ref, Acc) ->
    _ = ?ARGS:ok_or_throw(linx_rtnl_req:link_id(Ref), {bad_filter, {oif, Ref}}),
    Acc#{oif => Ref};
check(family, F, Acc) when F =:= inet; F =:= inet6 ->
    Acc#{family => F};
check(K, V, Acc) when K =:= protocol; K =:= type ->
    Acc#{K => ?ARGS:name(V, names(K), {bad_filter, {K, V}})};
check(K, V, _Acc) ->
    throw({bad_filter, {K, V}}).

names(protocol) -> rt_proto;
names(type) -> rt_type.

%% The dump: the family, protocol and type in the header, the table and
%% the device as attributes.
dump_request(Filter) ->
    {ok, Hdr} = ?MSG:header(route, maps:with([family, protocol, type], Filter)),
    {ok, Attrs} = ?MSG:encode_attrs(route, maps:to_list(maps:with([table, oif], Filter))),
    #{type => ?MSG:message_type(route, get), flags => ?NLM_F_DUMP, payload => [Hdr, Attrs]}.

%% @doc Whether a route of the dump is one the filter asks for: of its
%% family, table, protocol and type, through its device (`oif', or that
%% of one of its next hops), and not a cached route (flag `cloned').
-spec keep(filter(), map()) -> boolean().
keep(Filter, Route) ->
    not lists:member(cloned, maps:get(flags, Route, []))
        andalso maps:fold(fun(K, V, Acc) -> Acc andalso matches(K, V, Route) end, true, Filter).

matches(oif, I, Route) ->
    maps:get(oif, Route, none) =:= I
        orelse lists:any(fun(Hop) -> maps:get(oif, Hop, none) =:= I end,
                         maps:get(multipath, Route, []));
matches(K, N, Route) when K =:= protocol; K =:= type ->
    linx_nl_values:number(maps:get(K, Route, 0), ?MSG:names(names(K))) =:= {ok, N};
matches(K, V, Route) ->
    maps:get(K, Route, none) =:= V.

%%====================================================================
%% Route lookups
%%====================================================================

%% @doc The request asking which route the kernel would use for
%% `Destination': an IP address, or a map of `dst' and any of `src',
%% `iif' and `oif' (links), `mark', `uid', `ip_proto' (`tcp', `udp',
%% `icmp', `icmpv6' or a number), `sport', `dport' and `fibmatch'
%% (`true': the route as it is in its table, `RTM_F_FIB_MATCH'). A bad
%% key or value is `{error, {bad_route, {Key, Value}}}' (checked before a
%% link is looked up), anything else `{error, {bad_route, Destination}}'.
-spec get(term(), linx_rtnl_req:resolve()) -> {ok, linx_nl_codec:msg_in()} | {error, term()}.
get(#{dst := _} = Dest, Resolve) ->
    ?ARGS:checked(fun() -> get_request(Dest, Resolve) end);
get(Dest, Resolve) when tuple_size(Dest) =:= 4; tuple_size(Dest) =:= 8 ->
    get(#{dst => Dest}, Resolve);
get(Dest, _Resolve) ->
    {error, {bad_route, Dest}}.

get_request(#{dst := Dst} = Dest, Resolve) ->
    Family = family(dst, Dst, undefined),
    Checked = maps:fold(fun(K, V, Acc) -> [get_attr(K, V, Family) | Acc] end, [], Dest),
    Links = [{K, I} || {K, {link, Ref}} <- Checked, {ok, I} <- [?ARGS:ok_or_throw(Resolve(Ref))]],
    Attrs = [A || {_, V} = A <- Checked, not is_tuple(V) orelse element(1, V) =/= link] ++ Links,
    Bits = fun(Key) -> case lists:keyfind(Key, 1, Attrs) of
                           false -> 0;
                           _ when Family =:= inet -> 32;
                           _ -> 128
                       end
           end,
    %% The table the route was found in, not main (RTM_F_LOOKUP_TABLE),
    %% as ip asks.
    Flags = case maps:get(fibmatch, Dest, false) of
                true -> [lookup_table, fib_match];
                false -> [lookup_table]
            end,
    {ok, Hdr} = ?MSG:header(route, #{family => Family, dst_len => Bits(dst), src_len => Bits(src),
                                     flags => Flags}),
    {ok, Io} = ?MSG:encode_attrs(route, lists:keysort(1, [A || {K, _} = A <- Attrs, K =/= fibmatch])),
    {ok, #{type => ?MSG:message_type(route, get), payload => [Hdr, Io]}}.

get_attr(K, IP, Family) when K =:= dst; K =:= src ->
    _ = family(K, IP, Family),
    {K, IP};
get_attr(K, Ref, _Family) when K =:= iif; K =:= oif ->
    _ = ?ARGS:ok_or_throw(linx_rtnl_req:link_id(Ref), {bad_route, {K, Ref}}),
    {K, {link, Ref}};
get_attr(K, N, _Family) when (K =:= mark orelse K =:= uid), is_integer(N), N >= 0, N =< 16#ffffffff ->
    {K, N};
get_attr(K, N, _Family) when (K =:= sport orelse K =:= dport), is_integer(N), N >= 0, N =< 16#ffff ->
    {K, N};
get_attr(ip_proto, P, _Family) ->
    {ip_proto, ?ARGS:name(P, ip_proto, {bad_route, {ip_proto, P}})};
get_attr(fibmatch, B, _Family) when is_boolean(B) ->
    {fibmatch, B};
get_attr(K, V, _Family) ->
    throw({bad_route, {K, V}}).

%% The family of an address of the lookup, which must be that of `dst'.
family(Key, IP, Family) ->
    case linx_nl_values:ip_bytes(IP) of
        {ok, F, _} when Family =:= undefined; F =:= Family -> F;
        _ -> throw({bad_route, {Key, IP}})
    end.
