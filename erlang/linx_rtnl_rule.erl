%% @doc The policy routing rule requests of {@link linx_rtnl_req}: a
%% rule map (as {@link linx_rtnl:rules/1} returns it, or as a caller
%% writes it) turned into the header and attributes of an `RTM_NEWRULE'
%% or `RTM_DELRULE', through the rule table of {@link linx_rtnl_tables}.
%%
%% A rule's keys: `family' (`inet' or `inet6'; else the family of `src'
%% or `dst', else `inet'), `priority', `src' and `dst' (prefixes
%% `{Address, PrefixLen}'), `iif' and `oif' (interface names, which need
%% not exist yet), `fwmark' and `fwmask', `tos', `table', `action'
%% (`lookup', `goto', `nop', `blackhole', `unreachable', `prohibit'),
%% `goto' (the priority of the rule to go on at), `l3mdev' (a boolean),
%% `uid_range', `sport' and `dport' (`{First, Last}', a port alone for
%% one), `ip_proto' (`tcp', `udp', `icmp', `icmpv6', `sctp' or a
%% number), `protocol' (who made it: `boot', `static', ... or a number),
%% `flags' (`[invert]': the rule matches what the selector does not),
%% `suppress_prefixlen', `suppress_ifgroup' and `flow'. A rule added
%% with `lookup' and no `table' looks up `main' (254), as `ip rule add'
%% does. A bad value is `{bad_rule, {Key, Value}}'.
-module(linx_rtnl_rule).

-export([payload/3]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
-define(RT_TABLE_MAIN, 254).

%% The keys that are numbers, and their largest value.
-define(INTS, [{priority, 16#ffffffff}, {fwmark, 16#ffffffff}, {fwmask, 16#ffffffff},
               {goto, 16#ffffffff}, {suppress_prefixlen, 16#ffffffff},
               {suppress_ifgroup, 16#ffffffff}, {flow, 16#ffffffff}, {table, 16#ffffffff}]).
%% What a map from rules/1 may hold besides the keys sent: `unknown'
%% (attributes linx does not name) is not sent back.
-define(KEYS, [family, priority, src, dst, iif, oif, fwmark, fwmask, tos, table, action, goto,
               l3mdev, uid_range, sport, dport, ip_proto, protocol, flags, suppress_prefixlen,
               suppress_ifgroup, flow, unknown]).

%% @doc The payload of a request adding (`new') or deleting (`del') a
%% rule: its header and attributes. A check throws `{bad_rule, {Key,
%% Value}}' (see {@link linx_rtnl_args:checked/1}); a rule that is not a
%% map is `{bad_rule, Rule}'. `IfName' checks an interface name
%% (linx_rtnl_req:ifname/1).
-spec payload(new | del, term(), fun((term()) -> {ok, binary()} | {error, term()})) -> iolist().
payload(What, Rule, IfName) when is_map(Rule) ->
    [throw({bad_rule, KV}) || {K, _} = KV <- maps:to_list(Rule), not lists:member(K, ?KEYS)],
    {Family0, Src, SrcLen} = prefix(src, Rule, undefined),
    {Family1, Dst, DstLen} = prefix(dst, Rule, Family0),
    Family = case {maps:find(family, Rule), Family1} of
                 {error, undefined} -> inet;
                 {error, F} -> F;
                 {{ok, F0}, _} ->
                     case ?ARGS:family(F0, {bad_rule, {family, F0}}) of
                         F when F =:= Family1; Family1 =:= undefined -> F;
                         _ -> throw({bad_rule, {family, F0}})
                     end
             end,
    Ints = [{K, int(K, Max, Rule)} || {K, Max} <- ?INTS, is_map_key(K, Rule)],
    Action = action(What, Rule, Ints),
    Table = case {What, Action, lists:keymember(table, 1, Ints)} of
                {new, lookup, false} -> [{table, ?RT_TABLE_MAIN}];
                _ -> []
            end,
    Names = [{K, name(K, Rule, IfName)} || K <- [iif, oif], is_map_key(K, Rule)],
    Ranges = [{K, range(K, Rule)} || K <- [uid_range, sport, dport], is_map_key(K, Rule)],
    Named = [{K, maps:get(K, Rule)} || K <- [ip_proto, protocol], is_map_key(K, Rule)],
    L3mdev = [{l3mdev, bool(l3mdev, Rule)} || is_map_key(l3mdev, Rule)],
    Flags = maps:get(flags, Rule, []),
    Hdr = #{family => Family, src_len => SrcLen, dst_len => DstLen,
            tos => maps:get(tos, Rule, 0), action => Action,
            flags => ?ARGS:mask(Flags, fib_rule_flags, {bad_rule, {flags, Flags}})},
    {ok, HdrBin} = ?ARGS:ok_or_throw(?MSG:header(rule, Hdr), {bad_rule, {tos, maps:get(tos, Rule, 0)}}),
    Attrs = Src ++ Dst ++ Names ++ Ints ++ Table ++ Ranges ++ L3mdev,
    [HdrBin, encode(Attrs ++ Named)];
payload(_What, Rule, _IfName) ->
    throw({bad_rule, Rule}).

%% `src' or `dst': the attribute, its length for the header, and the
%% family it implies (which must agree with the one known so far).
prefix(Key, Rule, Family) ->
    case maps:find(Key, Rule) of
        error ->
            {Family, [], 0};
        {ok, {IP, Len} = P} when is_integer(Len), Len >= 0 ->
            case linx_nl_values:ip_bytes(IP) of
                {ok, F, Bytes} when Len =< byte_size(Bytes) * 8, (Family =:= undefined orelse Family =:= F) ->
                    {F, [{Key, IP}], Len};
                _ ->
                    throw({bad_rule, {Key, P}})
            end;
        {ok, Other} ->
            throw({bad_rule, {Key, Other}})
    end.

%% The action: as given, `goto' when only `goto' is given, else `lookup'
%% for an add (a delete matches any action unless one is given).
action(What, Rule, Ints) ->
    Default = case {What, lists:keymember(goto, 1, Ints)} of
                  {_, true} -> goto;
                  {new, false} -> lookup;
                  {del, false} -> unspec
              end,
    case maps:get(action, Rule, Default) of
        A when is_atom(A) ->
            case lists:keymember(A, 1, ?MSG:names(fr_act)) of
                true -> A;
                false -> throw({bad_rule, {action, A}})
            end;
        N when is_integer(N), N >= 0, N =< 255 -> N;
        Other -> throw({bad_rule, {action, Other}})
    end.

int(Key, Max, Rule) ->
    case maps:get(Key, Rule) of
        N when is_integer(N), N >= 0, N =< Max -> N;
        Other -> throw({bad_rule, {Key, Other}})
    end.

name(Key, Rule, IfName) ->
    V = maps:get(Key, Rule),
    case IfName(V) of
        {ok, Bin} -> Bin;
        {error, _} -> throw({bad_rule, {Key, V}})
    end.

bool(Key, Rule) ->
    case maps:get(Key, Rule) of
        B when is_boolean(B) -> B;
        Other -> throw({bad_rule, {Key, Other}})
    end.

%% A range `{First, Last}' (First =< Last), or one number for both.
range(Key, Rule) ->
    Max = case Key of
              uid_range -> 16#ffffffff;
              _ -> 16#ffff
          end,
    case maps:get(Key, Rule) of
        N when is_integer(N), N >= 0, N =< Max -> #{first => N, last => N};
        {F, L} when is_integer(F), is_integer(L), F >= 0, F =< L, L =< Max -> #{first => F, last => L};
        Other -> throw({bad_rule, {Key, Other}})
    end.

%% The attributes through the rule table; a value it refuses (a name it
%% does not know, a number too large) names its key.
encode(Attrs) ->
    case ?MSG:encode_attrs(rule, Attrs) of
        {ok, Io} -> Io;
        {error, {bad_value, K, V}} -> throw({bad_rule, {K, V}});
        {error, {bad_key, K}} -> throw({bad_rule, K})
    end.
