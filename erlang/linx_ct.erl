%% @doc Network set-ups for test suites: namespaces, veth pairs between
%% them with addresses, and sysctls, made with linx and removed again.
%% Guide: docs/namespaces.md in the source tree.
%%
%% These are the plain functions behind the Common Test hook
%% {@link linx_cth}, for suites that prefer to set up by hand:
%% ```
%% init_per_suite(Config) ->
%%     {ok, A} = linx_ct:netns("client"),
%%     {ok, B} = linx_ct:netns("server"),
%%     {ok, Pair} = linx_ct:veth(A, B, #{addrs => {{{10, 9, 0, 1}, 24}, {{10, 9, 0, 2}, 24}}}),
%%     {ok, _} = linx_ct:sysctl(B, #{<<"net.ipv4.ip_forward">> => 1}),
%%     [{netns, [A, B]}, {pair, Pair} | Config].
%%
%% end_per_suite(Config) ->
%%     linx_ct:cleanup(?config(netns, Config)).
%% '''
%% A namespace made here is a named one (`ip netns list' shows it, `ip
%% netns exec' enters it, and every linx call takes `{netns, Name}'), with
%% `lo' up, and a unique name: the prefix, `-', this node's OS pid and a
%% counter. Deleting a namespace deletes the veth ends inside it, and a
%% veth pair goes with either of its ends, so {@link cleanup/1} of the
%% namespaces is all the cleaning there is.
%%
%% A call that fails undoes what it made and nothing else: whatever was
%% there before it (a namespace made by hand with `ip netns add', a pair
%% made by an earlier call, an address, a sysctl's value) is left as it
%% was, also when it has the name the call wanted (`eexist').
%%
%% Each function starts the `linx' application if it is not running.
-module(linx_ct).

-export([netns/1, netns/2, veth/3, addr/3, sysctl/2, setup/1, cleanup/1, leftovers/1]).
-export([ifname/1]).
-export([partition/2, heal/1, heal/2, impair/2, clear/1]).

-export_type([pair/0, veth_opts/0, spec/0, setup/0]).
-export_type([where/0, fault/0]).

%% How many names netns/2 tries before it gives up on `eexist'.
-define(TRIES, 5).
%% Most veth pairs setup/1 makes (their automatic addresses are 10.K.0.x).
-define(MAX_PAIRS, 250).

-type pair() :: #{a := {binary(), binary()}, b := {binary(), binary()},
                  addrs => {linx_rtnl:prefix(), linx_rtnl:prefix()}}.
%% A veth pair: `{Netns, Ifname}' of each end, and the addresses given.

-type veth_opts() :: #{names => {iodata(), iodata()},
                       addrs => {linx_rtnl:prefix() | none, linx_rtnl:prefix() | none},
                       up => boolean(),
                       mtu => pos_integer(),
                       master => {binary() | none, binary() | none}}.
%% `names': the interface names in A and in B (default `to_<B>' in A and
%% `to_<A>' in B, cut to 15 bytes); `addrs': an address for each end
%% (`none': none); `up' (default `true'); `mtu'; `master': a bridge for
%% each end (`none': none).

-type key() :: atom().
-type spec() :: #{netns => [key()] | non_neg_integer(),
                  bridge => #{key() => [binary()]},
                  veth => [{key(), key()} | {key(), key(), veth_opts()}],
                  addrs => boolean(),
                  routes => #{key() => [map()]},
                  sysctl => #{key() => #{linx_sysctl:key() => linx_sysctl:value()}},
                  hub => linx_ct_hub:spec()}.
%% What setup/1 makes (the options of linx_cth, without `scope').
-type setup() :: #{netns := #{key() => binary()},
                   veth := #{{key(), key()} => pair()},
                   hub => linx_ct_hub:hub()}.
%% The namespaces' names, and the pairs (and the hub, with `hub').


%% @equiv netns(Prefix, #{})
-spec netns(iodata()) -> {ok, binary()} | {error, term()}.
netns(Prefix) ->
    netns(Prefix, #{}).

%% @doc Makes a network namespace named after `Prefix' (unique: the
%% prefix, this node's OS pid and a counter), with `lo' up unless
%% `#{lo => down}'.
%%
%% A name that is taken already (by a namespace made by hand, or left by
%% an earlier node that had this OS pid) is left alone: the next count is
%% tried, a few times, and then the `eexist' error of
%% {@link linx_netns:add/3} is returned, naming the namespace.
-spec netns(iodata(), #{lo => up | down}) -> {ok, binary()} | {error, term()}.
netns(Prefix, Opts) ->
    ok = started(),
    fresh(Prefix, #{lo => maps:get(lo, Opts, up)}, ?TRIES).

%% @doc Makes a veth pair between namespaces `A' and `B' (names of
%% namespaces, as {@link netns/1} returns, or any others), optionally with
%% an address on each end, and brings both ends up.
%%
%% When it fails, it removes the pair if it made it (an address the
%% kernel refused, say), and nothing else: an end's name that is taken in
%% `A' or `B' (as by a second call with the same namespaces) is `eexist',
%% a missing namespace `enoent', and the interface that has that name, the
%% pair it belongs to and its addresses stay as they were.
-spec veth(binary(), binary(), veth_opts()) -> {ok, pair()} | {error, term()}.
veth(A, B, Opts) ->
    ok = started(),
    P = {A, B, Opts},
    {NameA, NameB} = names(A, B, Opts),
    Spec = veth_spec(P, B),
    %% One batch in each namespace: the addresses, then the ends up.
    Steps = [fun() -> batch(Ns, end_ops(P, Ns)) end || Ns <- lists:usort([A, B])],
    %% The kernel makes both ends or neither: when this fails, nothing
    %% was made, and what has these names belongs to someone else.
    case linx_rtnl:link_add(Spec, #{in => {netns, A}}) of
        ok ->
            case run(Steps) of
                ok ->
                    {ok, (maps:with([addrs], Opts))#{a => {A, NameA}, b => {B, NameB}}};
                {error, _} = Error ->
                    %% Leave no half-made pair: deleting one end deletes both.
                    _ = linx_rtnl:link_del(NameA, #{in => {netns, A}}),
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% @doc Adds an address to interface `Ifname' of namespace `Netns'. An
%% address the interface has already is `eexist', and stays.
-spec addr(binary(), iodata(), linx_rtnl:prefix()) -> ok | {error, term()}.
addr(Netns, Ifname, Prefix) ->
    ok = started(),
    linx_rtnl:addr_add(iolist_to_binary(Ifname), addr_spec(Prefix), #{in => {netns, Netns}}).

%% An address without duplicate address detection (an IPv6 one would
%% wait for it before it can be used; IPv4 has none).
addr_spec({IP, _} = Prefix) when tuple_size(IP) =:= 8 -> #{prefix => Prefix, flags => [nodad]};
addr_spec(Prefix) -> #{prefix => Prefix}.

%% @doc Writes sysctls in namespace `Netns', all or none
%% ({@link linx_sysctl:apply/2}: on a failure the keys written already
%% get their old values back); returns the values they had just before
%% this call. Nothing is kept to restore them later: in a namespace made
%% by {@link netns/1} they go with the namespace; in any other, giving the
%% returned values back to this function restores them.
-spec sysctl(binary(), #{linx_sysctl:key() => linx_sysctl:value()} | [{linx_sysctl:key(), linx_sysctl:value()}]) ->
          {ok, [{binary(), binary()}]} | {error, term()}.
sysctl(Netns, Settings) ->
    ok = started(),
    linx_sysctl:apply(Settings, #{in => {netns, Netns}}).

%% @doc Makes a whole network from one spec, as {@link linx_cth} does
%% from its options (which it takes: `netns', `veth', `addrs',
%% `sysctl'), and also:
%% <ul>
%% <li>`bridge => #{A => [Name]}': bridges made in namespace `A', up;</li>
%% <li>`veth' entries `{A, B, Opts}' with the options of {@link veth/3}
%%   and `master => {BridgeInA | none, BridgeInB | none}';</li>
%% <li>`routes => #{A => [Route]}': routes of {@link linx_rtnl:route_add/2}
%%   added in `A' after the addresses.</li>
%% <li>`hub => [Node]' or `hub => #{nodes := [Node], name => HubKey,
%%   prefix => {IP, Len}}': a namespace for each node (it may be in
%%   `netns' too) and one for the hub (key `hub' unless `name'), with a
%%   bridge `hub', up; each node has `eth0', up, with the I-th host of the
%%   prefix (default `10.254.0.0/16': `10.254.(I bsr 8).(I band 255)'),
%%   the other end of its pair in the hub, named after the node's key (cut
%%   to 15 bytes), a port of the bridge, up. The result has `hub =>
%%   #{netns, bridge, ifname, addrs => #{Node => IP}, prefix_len}', and
%%   each node's pair in `veth' as `{Node, HubKey}'. A hub spec that
%%   cannot be built (no nodes, a key twice, a node named like the hub,
%%   too many nodes for the prefix, a key that names no interface) is
%%   `{error, {bad_option, {hub, Hub}}}'.</li>
%% </ul>
%% The namespaces are made at once, then in each one rtnetlink batch
%% makes its bridges and the pairs it starts and another sets addresses,
%% masters, up and routes ({@link linx_rtnl:batch/2}), all namespaces at
%% once. Returns the namespaces' names and the pairs, as {@link
%% linx_cth:setup/1} does; on a failure every namespace it made is
%% removed, and nothing else.
-spec setup(spec()) -> {ok, setup()} | {error, term()}.
setup(Spec) ->
    ok = started(),
    make(Spec).

%% @doc Deletes the namespaces named (and with them their interfaces and
%% veth pairs), and no other; one already gone is not an error. It deletes
%% whatever has those names, so give it the names {@link netns/1} returned,
%% not those of namespaces made elsewhere. Returns the names that could
%% not be deleted, with why.
-spec cleanup([binary()]) -> ok | {error, [{binary(), term()}]}.
cleanup(Names) ->
    _ = started(),
    Failed = [{N, E} || N <- Names,
                        {error, E} <- [linx_netns:del(N)],
                        not gone(E)],
    case Failed of
        [] -> ok;
        _ -> {error, Failed}
    end.

%% @doc The namespaces whose name starts with `Prefix' and this node's OS
%% pid: what {@link netns/1} made here and nobody deleted.
-spec leftovers(iodata()) -> [binary()].
leftovers(Prefix) ->
    _ = started(),
    Start = iolist_to_binary([Prefix, "-", os:getpid(), "-"]),
    case linx_netns:list() of
        {ok, Names} -> [N || N <- Names, binary:longest_common_prefix([N, Start]) =:= byte_size(Start)];
        {error, _} -> []
    end.

%%====================================================================
%% Faults (bodies in linx_ct_faults; guide: docs/namespaces.md, "Faults")
%%====================================================================

-type where() :: linx_ct_faults:where().
-type fault() :: linx_ct_faults:spec().

%% @doc Cuts each namespace of `GroupA' off from each of `GroupB', both
%% ways: drop rules (table `inet linx_faults') for the other group's
%% addresses of now, IPv4 and IPv6; inside each group traffic goes on.
-spec partition([binary()], [binary()]) -> ok | {error, term()}.
partition(GroupA, GroupB) -> run_started(fun() -> linx_ct_faults:partition(GroupA, GroupB) end).

%% @doc Undoes the partition between `GroupA' and `GroupB' (either order), and no other.
-spec heal([binary()], [binary()]) -> ok | {error, term()}.
heal(GroupA, GroupB) -> run_started(fun() -> linx_ct_faults:heal(GroupA, GroupB) end).

%% @doc Undoes every partition in these namespaces.
-spec heal([binary()]) -> ok | {error, term()}.
heal(Namespaces) -> run_started(fun() -> linx_ct_faults:heal(Namespaces) end).

%% @doc Makes `Where''s faults those of `Spec' (`loss' by nftables,
%% `rate' by tbf or htb, the others by netem: `{error, {unsupported,
%% netem}}', nothing changed, where the kernel lacks it). A bad key or
%% value is `{error, {bad_fault, {Key, Value}}}', before any change.
-spec impair(where(), fault()) -> ok | {error, term()}.
impair(Where, Spec) -> run_started(fun() -> linx_ct_faults:impair(Where, Spec) end).

%% @doc Removes `Where''s faults; of a namespace, all linx made there
%% (table `inet linx_faults', root qdiscs of handle `fa17:'), no other.
-spec clear(where()) -> ok | {error, term()}.
clear(Where) -> run_started(fun() -> linx_ct_faults:clear(Where) end).

%%====================================================================
%% Internal
%%====================================================================

run_started(Fun) -> ok = started(), Fun().

-spec started() -> ok | {error, term()}.
started() ->
    case application:ensure_all_started(linx) of
        {ok, _} -> ok;
        {error, _} = Error -> Error
    end.

%% A namespace of a name not taken yet, trying the next count while a
%% name is taken.
-spec fresh(iodata(), linx_netns:spec(), pos_integer()) -> {ok, binary()} | {error, term()}.
fresh(Prefix, Spec, Tries) ->
    Name = iolist_to_binary([Prefix, "-", os:getpid(), "-",
                             integer_to_list(erlang:unique_integer([positive, monotonic]))]),
    case linx_netns:add(Name, Spec, #{}) of
        ok -> {ok, Name};
        {error, #{stage := create, errno := eexist}} when Tries > 1 -> fresh(Prefix, Spec, Tries - 1);
        {error, _} = Error -> Error
    end.

-spec gone(term()) -> boolean().
gone(#{errno := enoent}) -> true;
gone(_) -> false.

%% Interface names: given, or `to_<other namespace>' (at most 15 bytes).
-spec names(binary() | key(), binary() | key(), veth_opts()) -> {binary(), binary()}.
%% (`A' and `B': namespaces' names, or setup/1's keys.)
names(_A, _B, #{names := {NameA, NameB}}) ->
    {iolist_to_binary(NameA), iolist_to_binary(NameB)};
names(A, B, _Opts) ->
    {ifname(name_text(B)), ifname(name_text(A))}.

name_text(Key) when is_atom(Key) -> atom_to_binary(Key);
name_text(Name) -> Name.

%% @doc The name {@link veth/3} gives the end that faces namespace
%% `Netns': `to_' and the namespace's prefix, cut to 15 bytes.
-spec ifname(binary()) -> binary().
ifname(Netns) ->
    %% The namespace's prefix (before the pid part) names the far side.
    [Prefix | _] = binary:split(Netns, <<"-">>),
    Name = <<"to_", Prefix/binary>>,
    binary:part(Name, 0, min(15, byte_size(Name))).

-spec batch(binary(), [linx_rtnl_req:batch_op()]) -> ok | {error, term()}.
batch(_Netns, []) ->
    ok;
batch(Netns, Ops) ->
    case linx_rtnl:batch(Ops, #{in => {netns, Netns}}) of
        {ok, Results} -> linx_error:first_error(Results);
        {error, _} = Error -> Error
    end.

-spec run([fun(() -> ok | {error, term()})]) -> ok | {error, term()}.
run([]) ->
    ok;
run([Step | Rest]) ->
    case Step() of
        ok -> run(Rest);
        {error, _} = Error -> Error
    end.

%% The set-up of setup/1: the spec checked, the namespaces made, then
%% what goes in them; on a failure there, the namespaces removed.
-spec make(term()) -> {ok, setup()} | {error, term()}.
make(Spec0) when is_map(Spec0) ->
    %% A hub is namespaces, a bridge and pairs (linx_ct_hub).
    case linx_ct_hub:expand(Spec0) of
        {ok, Spec, HubPairs, Hub} ->
            case check(Spec) of
                {ok, Keys, Pairs} -> make(Spec, make_netns(Keys), Pairs ++ HubPairs, Hub);
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end;
make(Spec) ->
    {error, {bad_option, Spec}}.

make(Spec, {ok, Names}, Pairs, Hub) ->
    case links(Spec, Pairs, Names) of
        ok ->
            {ok, maps:merge(linx_ct_hub:result(Hub, Names),
                            #{netns => Names,
                              veth => maps:from_list([{{A, B}, pair(P, Names)} || {A, B, _} = P <- Pairs])})};
        {error, _} = Error ->
            _ = cleanup(maps:values(Names)),
            Error
    end;
make(_Spec, {error, _} = Error, _Pairs, _Hub) ->
    Error.

%%====================================================================
%% setup/1: the spec
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
%% setup/1: making it
%%====================================================================

%% All namespaces at once; on a failure, those made are removed.
make_netns(Keys) ->
    Results = parallel([fun() -> {K, netns(atom_to_list(K))} end || K <- Keys]),
    case [{K, E} || {K, {error, E}} <- Results] of
        [] ->
            {ok, maps:from_list([{K, N} || {K, {ok, N}} <- Results])};
        [{K, E} | _] ->
            _ = cleanup([N || {_, {ok, N}} <- Results]),
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
                       ++ [{link_add, veth_spec(P, maps:get(B, Names))} || {A, B, _} = P <- Pairs, A =:= K]
           end,
    Set = fun(K) ->
                  [{link_set, Br, #{state => up}}
                   || Br <- maps:get(K, maps:get(bridge, Spec, #{}), [])]
                      ++ lists:append([end_ops(P, K) || P <- Pairs])
                      ++ [{route_add, R} || R <- maps:get(K, maps:get(routes, Spec, #{}), [])]
          end,
    Sysctl = fun(K) ->
                     case maps:find(K, maps:get(sysctl, Spec, #{})) of
                         {ok, S} -> phase_result(K, sysctl, sysctl(maps:get(K, Names), S));
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

%% The link_add of a pair, made in A with its peer in namespace PeerNs.
veth_spec({A, B, Opts}, PeerNs) ->
    {NameA, NameB} = names(A, B, Opts),
    %% An MTU goes to both ends.
    Mtu = maps:with([mtu], Opts),
    Mtu#{ifname => NameA, kind => veth,
         peer => Mtu#{ifname => NameB, netns => {netns, PeerNs}}}.

%% What is set on the ends of pair P in namespace K (both, for a pair
%% within one): the address, the master, up.
end_ops({A, B, Opts}, K) ->
    Ifs = names(A, B, Opts),
    lists:append([end_ops(element(N, Ifs), N, Opts) || {N, Ns} <- [{1, A}, {2, B}], Ns =:= K]).

end_ops(If, N, Opts) ->
    Addr = [{addr_add, If, addr_spec(Pr)}
            || {ok, Addrs} <- [maps:find(addrs, Opts)], Pr <- [element(N, Addrs)], Pr =/= none],
    Master = [{link_set, If, #{master => M}}
              || {ok, Ms} <- [maps:find(master, Opts)], M <- [element(N, Ms)], M =/= none],
    Up = [{link_set, If, #{state => up}} || maps:get(up, Opts, true)],
    Addr ++ Master ++ Up.

pair({A, B, Opts}, Names) ->
    {NameA, NameB} = names(A, B, Opts),
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
