%% @doc A whole test network from one spec ({@link linx_ct:setup/1}, the
%% set-up of {@link linx_cth}): namespaces, bridges, veth pairs with
%% addresses and masters, routes and sysctls.
%%
%% It is made in phases, each a few requests per namespace, sent for all
%% namespaces at once: the namespaces; in each, one rtnetlink batch
%% ({@link linx_rtnl:batch/2}) with its bridges and the veth pairs it
%% starts; in each, one batch with its addresses, masters, links up and
%% routes; the sysctls. A failure stops it, and every namespace it made
%% is removed.
-module(linx_ct_setup).

-export([setup/1]).

-export_type([spec/0, setup/0]).

-type key() :: atom().
-type veth() :: {key(), key()} | {key(), key(), linx_ct:veth_opts()}.
-type spec() :: #{netns => [key()] | non_neg_integer(),
                  bridge => #{key() => [binary()]},
                  veth => [veth()],
                  addrs => boolean(),
                  routes => #{key() => [map()]},
                  sysctl => #{key() => #{linx_sysctl:key() => linx_sysctl:value()}}}.
-type setup() :: #{netns := #{key() => binary()},
                   veth := #{{key(), key()} => linx_ct:pair()}}.

-define(MAX_PAIRS, 250).

%% @doc Makes what `Spec' describes; see {@link linx_ct:setup/1}.
-spec setup(term()) -> {ok, setup()} | {error, term()}.
setup(Spec) when is_map(Spec) ->
    case check(Spec) of
        {ok, Keys, Pairs} ->
            case make_netns(Keys) of
                {ok, Names} ->
                    case links(Spec, Pairs, Names) of
                        ok ->
                            {ok, #{netns => Names,
                                   veth => maps:from_list([{{A, B}, pair(P, Names)}
                                                           || {A, B, _} = P <- Pairs])}};
                        {error, _} = Error ->
                            _ = linx_ct:cleanup(maps:values(Names)),
                            Error
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end;
setup(Spec) ->
    {error, {bad_option, Spec}}.

%%====================================================================
%% The spec
%%====================================================================

%% The namespaces' keys, and each pair as {A, B, Opts} with its names and
%% addresses filled in.
check(Spec) ->
    case keys(maps:get(netns, Spec, [])) of
        {ok, Keys} ->
            Known = fun(K) -> lists:member(K, Keys) end,
            Bad = [{K, V} || K <- [bridge, routes, sysctl],
                             {ok, V} <- [maps:find(K, Spec)],
                             not (is_map(V) andalso lists:all(Known, maps:keys(V)))],
            case {Bad, pairs(maps:get(veth, Spec, []), Known, maps:get(addrs, Spec, true), 1, [])} of
                {[], {ok, Pairs}} -> {ok, Keys, Pairs};
                {[KV | _], _} -> {error, {bad_option, KV}};
                {[], {error, _} = Error} -> Error
            end;
        {error, _} = Error ->
            Error
    end.

keys(N) when is_integer(N), N >= 0 ->
    {ok, [list_to_atom("ns" ++ integer_to_list(I)) || I <- lists:seq(1, N)]};
keys(Keys) when is_list(Keys) ->
    case lists:all(fun is_atom/1, Keys) andalso length(lists:usort(Keys)) =:= length(Keys) of
        true -> {ok, Keys};
        false -> {error, {bad_option, {netns, Keys}}}
    end;
keys(Other) ->
    {error, {bad_option, {netns, Other}}}.

pairs([], _Known, _Addrs, _K, Acc) ->
    {ok, lists:reverse(Acc)};
pairs([P | Rest], Known, Addrs, K, Acc) ->
    case P of
        {A, B} -> pair(P, A, B, #{}, Rest, Known, Addrs, K, Acc);
        {A, B, Opts} -> pair(P, A, B, Opts, Rest, Known, Addrs, K, Acc);
        _ -> {error, {bad_option, {veth, P}}}
    end;
pairs(Bad, _Known, _Addrs, _K, _Acc) ->
    {error, {bad_option, {veth, Bad}}}.

pair(P, A, B, Opts, Rest, Known, Addrs, K, Acc)
  when is_map(Opts), A =/= B, K =< ?MAX_PAIRS ->
    case Known(A) andalso Known(B) of
        true ->
            Auto = case Addrs of
                       true -> #{addrs => {{{10, K, 0, 1}, 24}, {{10, K, 0, 2}, 24}}};
                       false -> #{}
                   end,
            pairs(Rest, Known, Addrs, K + 1, [{A, B, maps:merge(Auto, Opts)} | Acc]);
        false ->
            {error, {bad_option, {veth, P}}}
    end;
pair(P, _A, _B, _Opts, _Rest, _Known, _Addrs, _K, _Acc) ->
    {error, {bad_option, {veth, P}}}.

%%====================================================================
%% Making it
%%====================================================================

%% All namespaces at once; on a failure, those made are removed.
make_netns(Keys) ->
    Results = parallel([fun() -> {K, linx_ct:netns(atom_to_list(K))} end || K <- Keys]),
    case [{K, E} || {K, {error, E}} <- Results] of
        [] ->
            {ok, maps:from_list([{K, N} || {K, {ok, N}} <- Results])};
        [{K, E} | _] ->
            _ = linx_ct:cleanup([N || {_, {ok, N}} <- Results]),
            {error, {netns, K, E}}
    end.

%% The links of every namespace: first those made there (bridges, the
%% pairs it starts), then what is set on them (addresses, masters, up,
%% routes), then the sysctls; each phase one batch per namespace, all
%% namespaces at once.
links(Spec, Pairs, Names) ->
    Made = fun(K) ->
                   [{link_add, #{ifname => Br, kind => bridge}}
                    || Br <- maps:get(K, maps:get(bridge, Spec, #{}), [])]
                       ++ [{link_add, veth_spec(P, Names)} || {A, _, _} = P <- Pairs, A =:= K]
           end,
    Set = fun(K) ->
                  [{link_set, Br, #{state => up}}
                   || Br <- maps:get(K, maps:get(bridge, Spec, #{}), [])]
                      ++ lists:append([end_ops(P, K) || P <- Pairs])
                      ++ [{route_add, R} || R <- maps:get(K, maps:get(routes, Spec, #{}), [])]
          end,
    Sysctl = fun(K) ->
                     case maps:find(K, maps:get(sysctl, Spec, #{})) of
                         {ok, S} -> phase_result(K, sysctl, linx_ct:sysctl(maps:get(K, Names), S));
                         error -> ok
                     end
             end,
    Phases = [fun(K) -> batch(K, Made(K), Names) end,
              fun(K) -> batch(K, Set(K), Names) end,
              Sysctl],
    run_phases(Phases, maps:keys(Names)).

run_phases([], _Keys) ->
    ok;
run_phases([Phase | Rest], Keys) ->
    case linx_error:first_error(parallel([fun() -> Phase(K) end || K <- Keys])) of
        ok -> run_phases(Rest, Keys);
        {error, _} = Error -> Error
    end.

batch(_K, [], _Names) ->
    ok;
batch(K, Ops, Names) ->
    case linx_rtnl:batch(Ops, #{in => {netns, maps:get(K, Names)}, timeout => 30000}) of
        {ok, Results} ->
            case [{Op, E} || {Op, {error, E}} <- lists:zip(Ops, Results)] of
                [] -> ok;
                [{Op, E} | _] -> {error, {K, Op, E}}
            end;
        {error, E} ->
            {error, {K, batch, E}}
    end.

phase_result(_K, _What, {ok, _}) -> ok;
phase_result(K, What, {error, E}) -> {error, {K, What, E}}.

%% The link_add of a pair, made in A with its peer in B.
veth_spec({_A, B, Opts} = P, Names) ->
    {NameA, NameB} = ifnames(P),
    Mtu = maps:with([mtu], Opts),
    Mtu#{ifname => NameA, kind => veth,
         peer => Mtu#{ifname => NameB, netns => {netns, maps:get(B, Names)}}}.

%% What is set on the end of pair P in namespace K: its address, its
%% master, up.
end_ops({A, B, Opts} = P, K) when K =:= A; K =:= B ->
    {NameA, NameB} = ifnames(P),
    N = if K =:= A -> 1; true -> 2 end,
    If = element(N, {NameA, NameB}),
    Addr = [{addr_add, If, #{prefix => Pr, flags => [nodad]}}
            || {ok, Addrs} <- [maps:find(addrs, Opts)], Pr <- [element(N, Addrs)], Pr =/= none],
    Master = [{link_set, If, #{master => M}}
              || {ok, Ms} <- [maps:find(master, Opts)], M <- [element(N, Ms)], M =/= none],
    Up = [{link_set, If, #{state => up}} || maps:get(up, Opts, true)],
    Addr ++ Master ++ Up;
end_ops(_P, _K) ->
    [].

ifnames({_A, _B, #{names := {NA, NB}}}) ->
    {iolist_to_binary(NA), iolist_to_binary(NB)};
ifnames({A, B, _}) ->
    {linx_ct:ifname(atom_to_binary(B)), linx_ct:ifname(atom_to_binary(A))}.

pair({A, B, Opts} = P, Names) ->
    {NameA, NameB} = ifnames(P),
    (maps:with([addrs], Opts))#{a => {maps:get(A, Names), NameA}, b => {maps:get(B, Names), NameB}}.

%% Run each fun in a process of its own; their results in order.
parallel(Funs) ->
    Parent = self(),
    Refs = [begin
                Ref = make_ref(),
                _ = spawn_link(fun() -> Parent ! {Ref, F()} end),
                Ref
            end || F <- Funs],
    [receive {Ref, R} -> R end || Ref <- Refs].
