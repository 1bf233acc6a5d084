%% @doc The nexthop object requests of {@link linx_rtnl}: a nexthop map
%% (as {@link linx_rtnl:nexthops/1} returns it, or as a caller writes
%% it) turned into an `RTM_NEWNEXTHOP' (add, replace) or
%% `RTM_DELNEXTHOP' (by id), through the nexthop table of
%% {@link linx_rtnl_tables}.
%%
%% A nexthop's keys: `id' (1 to 2^32-1), and one of: `oif' (a link, by
%% name or index) with an optional `gateway'; `blackhole => true';
%% `group', its members, each an id or `{Id, Weight}' (weight 1 to 256,
%% default 1), with an optional `group_type' (`mpath', the default, or
%% `resilient') and `res_group' (a resilient group's `buckets',
%% `idle_timer' and `unbalanced_timer', in clock ticks); or `fdb =>
%% true' with a `gateway' (a bridge's FDB nexthop, or an FDB group with
%% `group'). Also `family' (`inet' or `inet6'; else the gateway's, else
%% `inet', and `unspec' for a group), `protocol' (who made it: `static',
%% ... or a number; default `unspec', as `ip nexthop add'), `flags'
%% (only `onlink' is sent), `encap_type' and `encap'. What a dump adds
%% (`scope', the other `flags', `unbalanced_time', `res_bucket',
%% `unknown') is accepted and not sent back. A bad value is
%% `{bad_nexthop, {Key, Value}}'; a spec that is not a map with an `id',
%% `{bad_nexthop, Spec}'.
-module(linx_rtnl_nexthop).

-include("linx_nl.hrl").

-export([request/3, id/1]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
-define(MAX_ID, 16#ffffffff).

%% The keys sent, and those a map from nexthops/1 may hold besides.
-define(KEYS, [id, family, oif, gateway, blackhole, group, group_type, res_group, fdb,
               protocol, flags, encap_type, encap]).
-define(READ_ONLY, [scope, res_bucket, unknown]).

%% @doc The request of `add' (`NLM_F_CREATE | NLM_F_EXCL'), `replace'
%% (`NLM_F_CREATE | NLM_F_REPLACE', as `ip nexthop replace': made when
%% there is none) or `del' (by id: an id, or a map with `id'); `Resolve'
%% turns `oif' into an index.
-spec request(add | replace | del, term(), linx_rtnl_req:resolve()) ->
          {ok, linx_nl_codec:msg_in()} | {error, term()}.
request(del, Spec, _Resolve) ->
    case id(Spec) of
        {ok, Id} ->
            {ok, Hdr} = ?MSG:header(nexthop, #{}),
            {ok, Attrs} = ?MSG:encode_attrs(nexthop, [{id, Id}]),
            {ok, #{type => ?MSG:message_type(nexthop, del), payload => [Hdr, Attrs]}};
        {error, _} = Error ->
            Error
    end;
request(What, Spec, Resolve) ->
    Flags = case What of
                add -> ?NLM_F_CREATE bor ?NLM_F_EXCL;
                replace -> ?NLM_F_CREATE bor ?NLM_F_REPLACE
            end,
    case id(Spec) of
        {ok, _} ->
            ?ARGS:checked(fun() ->
                                  {ok, #{type => ?MSG:message_type(nexthop, new), flags => Flags,
                                         payload => payload(Spec, Resolve)}}
                          end);
        {error, _} = Error ->
            Error
    end.

%% @doc The id of a nexthop: an id, or a map with `id'.
-spec id(term()) -> {ok, pos_integer()} | {error, {bad_nexthop, term()}}.
id(Id) when is_integer(Id), Id >= 1, Id =< ?MAX_ID -> {ok, Id};
id(#{id := Id}) when is_integer(Id), Id >= 1, Id =< ?MAX_ID -> {ok, Id};
id(#{id := Id}) -> {error, {bad_nexthop, {id, Id}}};
id(Other) -> {error, {bad_nexthop, Other}}.

%%====================================================================
%% Internal functions
%%====================================================================

%% The header and attributes of a new nexthop (a check throws).
payload(Spec, Resolve) ->
    [throw({bad_nexthop, KV}) || {K, _} = KV <- maps:to_list(Spec),
                                 not lists:member(K, ?KEYS ++ ?READ_ONLY)],
    Blackhole = bool(blackhole, Spec),
    Fdb = bool(fdb, Spec),
    Group = group(Spec),
    %% What the nexthop is: a group, a blackhole, or a device (and
    %% gateway); a key of another is refused.
    Excluded = case {Group, Blackhole} of
                   {[_ | _], _} -> [oif, gateway, blackhole];
                   {[], true} -> [oif, gateway, fdb];
                   {[], false} -> []
               end,
    [throw({bad_nexthop, {K, maps:get(K, Spec)}}) || K <- Excluded, given(K, Spec)],
    Group =:= [] andalso not Blackhole andalso not Fdb andalso not is_map_key(oif, Spec)
        andalso throw({bad_nexthop, {oif, missing}}),
    {GwFamily, Gw} = gateway(Spec),
    Family = family(Spec, GwFamily, Group),
    Oif = case maps:find(oif, Spec) of
              {ok, L} -> {ok, I} = ?ARGS:ok_or_throw(Resolve(L)), [{oif, I}];
              error -> []
          end,
    Flags = ?ARGS:mask(maps:get(flags, Spec, []), rtm_flags, {bad_nexthop, {flags, maps:get(flags, Spec, [])}})
        band onlink(),
    Protocol = maps:get(protocol, Spec, unspec),
    Hdr = case ?MSG:header(nexthop, #{family => Family, protocol => Protocol, flags => Flags}) of
              {ok, H} -> H;
              error -> throw({bad_nexthop, {protocol, Protocol}})
          end,
    Members = [{group, << <<Id:32/native, (W - 1):8, 0:24>> || {Id, W} <- Group >>} || Group =/= []],
    Res = [{res_group, maps:without([unbalanced_time], R)} || {ok, R} <- [maps:find(res_group, Spec)],
                                                             is_map(R) orelse throw({bad_nexthop, {res_group, R}})],
    Given = [{K, maps:get(K, Spec)} || K <- [group_type, encap_type, encap], is_map_key(K, Spec)],
    Attrs = [{id, maps:get(id, Spec)}] ++ Members ++ Given ++ Res ++ Oif ++ Gw
        ++ [{blackhole, true} || Blackhole] ++ [{fdb, true} || Fdb],
    [Hdr, encode(Attrs, Spec)].

%% A flag key: `true' sends it, `false' (or none) does not.
bool(Key, Spec) ->
    case maps:get(Key, Spec, false) of
        B when is_boolean(B) -> B;
        Other -> throw({bad_nexthop, {Key, Other}})
    end.

%% Given, and not as `false' (a flag left off).
given(Key, Spec) ->
    maps:get(Key, Spec, false) =/= false.

%% The members of a group, as `{Id, Weight}'.
group(#{group := [_ | _] = Members} = Spec) ->
    [case M of
         Id when is_integer(Id), Id >= 1, Id =< ?MAX_ID -> {Id, 1};
         {Id, W} when is_integer(Id), Id >= 1, Id =< ?MAX_ID, is_integer(W), W >= 1, W =< 256 -> {Id, W};
         _ -> throw({bad_nexthop, {group, maps:get(group, Spec)}})
     end || M <- Members];
group(#{group := Other}) ->
    throw({bad_nexthop, {group, Other}});
group(_) ->
    [].

gateway(Spec) ->
    case maps:find(gateway, Spec) of
        {ok, IP} ->
            case linx_nl_values:ip_bytes(IP) of
                {ok, F, _} -> {F, [{gateway, IP}]};
                error -> throw({bad_nexthop, {gateway, IP}})
            end;
        error ->
            {undefined, []}
    end.

%% The family: as given (which must agree with the gateway's), else the
%% gateway's, else `unspec' for a group and `inet' for any other.
family(#{family := F0}, GwFamily, _Group) ->
    case linx_nl_values:number(F0, ?MSG:names(family)) of
        {ok, N} when N >= 0, N =< 255 ->
            F = linx_nl_values:name(N, ?MSG:names(family)),
            (GwFamily =:= undefined orelse GwFamily =:= F) orelse throw({bad_nexthop, {family, F0}}),
            F;
        _ ->
            throw({bad_nexthop, {family, F0}})
    end;
family(_Spec, undefined, [_ | _]) -> unspec;
family(_Spec, undefined, []) -> inet;
family(_Spec, GwFamily, _Group) -> GwFamily.

%% RTNH_F_ONLINK, the one flag a request sets.
onlink() ->
    {ok, Onlink} = linx_nl_values:mask([onlink], ?MSG:names(rtm_flags)),
    Onlink.

%% The attributes through the nexthop table; a value it refuses names
%% its key as given (a resilient group's own keys under `res_group').
encode(Attrs, Spec) ->
    case ?MSG:encode_attrs(nexthop, Attrs) of
        {ok, Io} -> Io;
        {error, {bad_value, K, V}} -> throw({bad_nexthop, {K, maps:get(K, Spec, V)}});
        {error, _} -> throw({bad_nexthop, Spec})
    end.
