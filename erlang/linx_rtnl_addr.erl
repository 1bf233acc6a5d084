%% @doc The address requests of {@link linx_rtnl_req}: an address map
%% (`prefix' and the address's `label', `broadcast', `scope', `flags',
%% `peer', `valid_lft' and `preferred_lft') turned into the header and
%% attributes of an `RTM_NEWADDR' or `RTM_DELADDR', through the address
%% table of {@link linx_rtnl_tables}. A bad value throws
%% `{bad_addr, {Key, Value}}'.
%%
%% As `ip addr add' sends them: flags that fit the header's byte go
%% there, larger ones (`managetempaddr', `noprefixroute', `mcautojoin')
%% all in `IFA_FLAGS' (the kernel then reads only that). What the kernel
%% would keep but not use is refused rather than dropped: a label on an
%% IPv6 address (which has none), and the IPv6 flags (`nodad',
%% `optimistic', `homeaddress', `managetempaddr') on an IPv4 one.
-module(linx_rtnl_addr).

-export([payload/3, settable_flags/1]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).
-define(KEYS, [prefix, label, broadcast, scope, flags, peer, valid_lft, preferred_lft]).

%% @doc The header and attributes of an address request, its prefix
%% checked already: the other keys are checked here (a check throws, see
%% {@link linx_rtnl_args:checked/1}).
-spec payload(non_neg_integer(), inet | inet6, map()) -> iolist().
payload(Index, Family, #{prefix := {IP, Len}} = Addr) ->
    [throw({bad_addr, KV}) || KV <- maps:to_list(maps:without(?KEYS, Addr))],
    Scope = case maps:find(scope, Addr) of
                error -> 0;
                {ok, S} -> ?ARGS:name(S, scope, {bad_addr, {scope, S}})
            end,
    Flags = maps:get(flags, Addr, []),
    Fl = ?ARGS:mask(Flags, addr_add_flags, {bad_addr, {flags, Flags}}),
    [throw({bad_addr, {flags, Flags}}) || F <- Flags, not lists:member(F, settable_flags(Family))],
    %% IFA_LABEL: at most IFNAMSIZ - 1 bytes, IPv4 only.
    Label = case maps:find(label, Addr) of
                error -> [];
                {ok, L} when Family =:= inet -> [{label, ?ARGS:name_text(L, 15, {bad_addr, {label, L}})}];
                {ok, L} -> throw({bad_addr, {label, L}})
            end,
    Brd = [{broadcast, same_family(broadcast, B, Family)} || {ok, B} <- [maps:find(broadcast, Addr)]],
    %% A point-to-point address: the peer is IFA_ADDRESS, ours IFA_LOCAL.
    Peer = case maps:find(peer, Addr) of
               error -> IP;
               {ok, P} -> same_family(peer, P, Family)
           end,
    {HdrFlags, FlagsAttr} = if Fl > 16#ff -> {0, [{flags, Fl}]};
                               true -> {Fl, []}
                            end,
    {ok, Hdr} = ?MSG:header(addr, #{family => Family, prefixlen => Len,
                                    flags => HdrFlags, scope => Scope,
                                    index => Index}),
    {ok, Attrs} = ?MSG:encode_attrs(addr, [{local, IP}, {address, Peer} | Label ++ Brd]
                                    ++ FlagsAttr ++ lifetimes(Addr)),
    [Hdr, Attrs].

%% @doc The IFA_F_* flags a caller may give an address of `Family'.
-spec settable_flags(inet | inet6 | term()) -> [atom()].
settable_flags(inet6) ->
    [nodad, optimistic, homeaddress, managetempaddr, noprefixroute, mcautojoin];
settable_flags(_) ->
    [noprefixroute, mcautojoin].

same_family(Key, IP, Family) ->
    case linx_nl_values:ip_bytes(IP) of
        {ok, Family, _} -> IP;
        _ -> throw({bad_addr, {Key, IP}})
    end.

%% IFA_CACHEINFO from `valid_lft' and `preferred_lft' (seconds, or
%% `forever'): one alone is both, but a preferred lifetime alone leaves
%% the address valid for ever.
lifetimes(Addr) ->
    %% A valid lifetime of 0 the kernel refuses; a preferred one of 0
    %% makes the address deprecated at once.
    Lft = fun(K, Default) ->
                  case maps:get(K, Addr, Default) of
                      forever -> 16#ffffffff;
                      N when is_integer(N), N >= 0, N =< 16#ffffffff, (N > 0 orelse K =:= preferred_lft) -> N;
                      Bad -> throw({bad_addr, {K, Bad}})
                  end
          end,
    case {is_map_key(valid_lft, Addr), is_map_key(preferred_lft, Addr)} of
        {false, false} ->
            [];
        {Valid, _} ->
            V = Lft(valid_lft, forever),
            Pref = Lft(preferred_lft, if Valid -> V; true -> forever end),
            Pref =< V orelse throw({bad_addr, {preferred_lft, maps:get(preferred_lft, Addr)}}),
            [{cacheinfo, #{valid_lft => V, preferred_lft => Pref}}]
    end.
