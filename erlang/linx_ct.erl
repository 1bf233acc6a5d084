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

-export_type([pair/0, veth_opts/0]).

%% How many names netns/2 tries before it gives up on `eexist'.
-define(TRIES, 5).

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
%% (`none': none); `up' (default `true'); `mtu'; `master' (in
%% {@link setup/1} only): a bridge for each end.

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
    {NameA, NameB} = names(A, B, Opts),
    %% An MTU goes to both ends.
    Mtu = maps:with([mtu], Opts),
    Spec = Mtu#{ifname => NameA, kind => veth,
                peer => Mtu#{ifname => NameB, netns => {netns, B}}},
    Addrs = case Opts of
                #{addrs := {PA, PB}} -> [{A, NameA, PA}, {B, NameB, PB}];
                _ -> []
            end,
    Up = case maps:get(up, Opts, true) of
             true -> [{A, NameA}, {B, NameB}];
             false -> []
         end,
    %% One batch in each namespace: the addresses, then the ends up.
    Ops = fun(Ns) ->
                  [{addr_add, If, #{prefix => P, flags => [nodad]}} || {N, If, P} <- Addrs, N =:= Ns, P =/= none]
                      ++ [{link_set, If, #{state => up}} || {N, If} <- Up, N =:= Ns]
          end,
    Steps = [fun() -> batch(Ns, Ops(Ns)) end || Ns <- lists:usort([A, B])],
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
    linx_rtnl:addr_add(iolist_to_binary(Ifname), #{prefix => Prefix, flags => [nodad]}, #{in => {netns, Netns}}).

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
%% </ul>
%% The namespaces are made at once, then in each one rtnetlink batch
%% makes its bridges and the pairs it starts and another sets addresses,
%% masters, up and routes ({@link linx_rtnl:batch/2}), all namespaces at
%% once. Returns the namespaces' names and the pairs, as {@link
%% linx_cth:setup/1} does; on a failure every namespace it made is
%% removed, and nothing else.
-spec setup(linx_ct_setup:spec()) -> {ok, linx_ct_setup:setup()} | {error, term()}.
setup(Spec) ->
    ok = started(),
    linx_ct_setup:setup(Spec).

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
%% Internal
%%====================================================================

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
-spec names(binary(), binary(), veth_opts()) -> {binary(), binary()}.
names(_A, _B, #{names := {NameA, NameB}}) ->
    {iolist_to_binary(NameA), iolist_to_binary(NameB)};
names(A, B, _Opts) ->
    {ifname(B), ifname(A)}.

%% @doc The name {@link veth/3} gives the end that faces namespace
%% `Netns': `to_' and the namespace's prefix, cut to 15 bytes.
-spec ifname(binary()) -> binary().
ifname(Netns) ->
    %% The namespace's prefix (before the pid part) names the far side.
    [Prefix | _] = binary:split(Netns, <<"-">>),
    Name = <<"to_", Prefix/binary>>,
    binary:part(Name, 0, min(15, byte_size(Name))).

-spec batch(binary(), [linx_rtnl_batch:op()]) -> ok | {error, term()}.
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
