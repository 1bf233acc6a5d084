%% @doc The neighbour requests of {@link linx_rtnl_req}: a neighbour map
%% (`index', a link by name or index; `dst', an IP address; `lladdr', a
%% MAC; `state', a list of `NUD_*' names, `[permanent]' by default;
%% `flags', a list of `router' and `proxy'; `proxy', a boolean) turned
%% into the header and attributes of an `RTM_NEWNEIGH' or
%% `RTM_DELNEIGH', through the neighbour table of
%% {@link linx_rtnl_tables}. A bad value throws `{bad_neigh, {Key,
%% Value}}' (a bad `lladdr' `{bad_address, Mac}').
%%
%% The bridge forwarding entries, neighbours of family `bridge', are
%% {@link linx_rtnl_fdb}'s.
-module(linx_rtnl_neigh).

-export([payload/2]).

-define(MSG, linx_rtnl_msg).
-define(ARGS, linx_rtnl_args).

%% @doc The header and attributes of a neighbour request, `index' and
%% `dst' present: each key is checked here (a check throws, see
%% {@link linx_rtnl_args:checked/1}); a link named by its name is turned
%% into an index by `Resolve'.
-spec payload(map(), fun((term()) -> {ok, non_neg_integer()} | {error, term()})) -> iolist().
payload(#{index := Link, dst := IP} = Neigh, Resolve) ->
    Bad = fun(K) -> {bad_neigh, {K, maps:get(K, Neigh)}} end,
    {ok, Family, _} = ?ARGS:ok_or_throw(linx_nl_values:ip_bytes(IP), Bad(dst)),
    {ok, Index} = ?ARGS:ok_or_throw(Resolve(Link)),
    State = ?ARGS:mask(maps:get(state, Neigh, [permanent]), nud,
                       {bad_neigh, {state, maps:get(state, Neigh, none)}}),
    Proxy = case maps:get(proxy, Neigh, false) of
                P when is_boolean(P) -> [proxy || P];
                P -> throw({bad_neigh, {proxy, P}})
            end,
    Flags = case maps:get(flags, Neigh, []) of
                F when is_list(F) -> [throw(Bad(flags)) || X <- F, X =/= router, X =/= proxy],
                                     lists:usort(F ++ Proxy);
                _ -> throw(Bad(flags))
            end,
    Ll = [{lladdr, mac(Mac)} || {ok, Mac} <- [maps:find(lladdr, Neigh)]],
    {ok, Hdr} = ?MSG:header(neigh, #{family => Family, index => Index, state => State,
                                     flags => Flags}),
    {ok, Attrs} = ?MSG:encode_attrs(neigh, [{dst, IP} | Ll]),
    [Hdr, Attrs].

%% A MAC address's 6 bytes (see linx_nl_values:mac/1); anything else
%% throws `{bad_address, Mac}'.
mac(Mac) ->
    {ok, Bin} = ?ARGS:ok_or_throw(linx_nl_values:mac(Mac), {bad_address, Mac}),
    Bin.
