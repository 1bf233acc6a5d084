%% @doc The address requests of {@link linx_rtnl_req}: an address map
%% (`prefix' and the address's `label', `broadcast', `scope', `flags',
%% `peer', `valid_lft' and `preferred_lft') turned into the header and
%% attributes of an `RTM_NEWADDR' or `RTM_DELADDR', through the address
%% table of {@link linx_rtnl_tables}. A bad value throws
%% `{bad_addr, {Key, Value}}'.
-module(linx_rtnl_addr).

-export([payload/3]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).

%% @doc The header and attributes of an address request, its prefix
%% checked already: the other keys are checked here (a check throws, see
%% {@link linx_rtnl_args:checked/1}).
-spec payload(non_neg_integer(), inet | inet6, map()) -> iolist().
payload(Index, Family, #{prefix := {IP, Len}} = Addr) ->
    [throw({bad_addr, KV})
     || KV <- maps:to_list(maps:without([prefix, label, broadcast, scope, flags, peer, valid_lft,
                                         preferred_lft], Addr))],
    Scope = case maps:find(scope, Addr) of
                error -> 0;
                {ok, S} -> ?ARGS:name(S, scope, {bad_addr, {scope, S}})
            end,
    Flags = maps:get(flags, Addr, []),
    Fl = ?ARGS:mask(Flags, addr_add_flags, {bad_addr, {flags, Flags}}),
    %% IFA_LABEL: at most IFNAMSIZ - 1 bytes.
    Label = [{label, ?ARGS:name_text(L, 15, {bad_addr, {label, L}})}
             || {ok, L} <- [maps:find(label, Addr)]],
    Brd = case maps:find(broadcast, Addr) of
              error -> [];
              {ok, B} ->
                  case linx_nl_values:ip_bytes(B) of
                      {ok, Family, _} -> [{broadcast, B}];
                      _ -> throw({bad_addr, {broadcast, B}})
                  end
          end,
    %% A point-to-point address: the peer is IFA_ADDRESS, ours IFA_LOCAL.
    Peer = case maps:find(peer, Addr) of
               error -> IP;
               {ok, P} ->
                   case linx_nl_values:ip_bytes(P) of
                       {ok, Family, _} -> P;
                       _ -> throw({bad_addr, {peer, P}})
                   end
           end,
    {ok, Hdr} = ?MSG:header(addr, #{family => Family, prefixlen => Len,
                                    flags => Fl band 16#ff, scope => Scope,
                                    index => Index}),
    {ok, Attrs} = ?MSG:encode_attrs(addr, [{local, IP}, {address, Peer} | Label ++ Brd]
                                    ++ [{flags, Fl} || Fl > 255] ++ lifetimes(Addr)),
    [Hdr, Attrs].

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
