%% @doc A Common Test hook that gives a suite (or each of its test cases)
%% fresh network namespaces, veth pairs between them with addresses, and
%% sysctls, and removes all of it afterwards: when the suite or case ends,
%% also when a case crashes or times out, and when the hook ends.
%% Guide: docs/namespaces.md in the source tree.
%%
%% ```
%% suite() ->
%%     [{ct_hooks, [{linx_cth, #{netns => [client, server],
%%                               veth => [{client, server}],
%%                               sysctl => #{server => #{<<"net.ipv4.ip_forward">> => 1}}}}]}].
%%
%% a_case(Config) ->
%%     Server = linx_cth:netns(server, Config),          % <<"server-4242-7">>
%%     {ServerIf, ServerIp} = linx_cth:veth_end(server, client, Config),
%%     ...
%% '''
%%
%% == Options ==
%% <ul>
%% <li>`netns': a list of atoms, one namespace each, or a count `N' (the
%%     namespaces `ns1' ... `nsN'). Each is a named namespace with `lo'
%%     up (see {@link linx_ct:netns/2}).</li>
%% <li>`veth': `[{A, B}]', a veth pair between namespaces `A' and `B'.
%%     Its ends are called `to_B' in `A' and `to_A' in `B'; the K-th pair
%%     (from 1) gets `10.K.0.1/24' in `A' and `10.K.0.2/24' in `B', unless
%%     `addrs => false'. At most 250 pairs.</li>
%% <li>`sysctl': `#{A => Settings}', written in `A' with
%%     {@link linx_sysctl:apply/2} after the pairs are made.</li>
%% <li>`bridge', `routes', and `veth' entries `{A, B, Opts}' (addresses,
%%     names, masters): see {@link linx_ct:setup/1}, which builds the
%%     set-up, each phase one rtnetlink batch per namespace.</li>
%% <li>`hub': `[Node]' or `#{nodes := [Node], name => HubKey, prefix =>
%%     {IP, Len}}', a namespace per node and a hub namespace with a bridge
%%     `hub' that each node's `eth0' is plugged into (by default the I-th
%%     node has `10.254.(I bsr 8).(I band 255)/16'; see
%%     {@link linx_ct:setup/1}); {@link hub_addr/2} reads a node's
%%     address.</li>
%% <li>`faults': `#{Where => Spec}', applied after the set-up with
%%     {@link impair/3} (`Where': `{A, B}' the veth pair between `A' and
%%     `B', or the way between two hub nodes, both ways; `{A, to, B}' the
%%     way from `A' to `B'; `Spec' as {@link linx_ct:impair/2} takes). A
%%     fault that cannot be made fails the init, as a set-up does. After
%%     every test case (also one that crashed or timed out) the faults in
%%     the suite's namespaces are cleared ({@link linx_ct:clear/1}) and
%%     these made again, so a case's own faults ({@link partition/3},
%%     {@link impair/3}) never reach the next case (nor, in a parallel
%%     group, do they survive the end of any case beside it).</li>
%% <li>`scope': `suite' (default: made before `init_per_suite', removed
%%     after `end_per_suite') or `testcase' (made before each
%%     `init_per_testcase', removed after each `end_per_testcase').</li>
%% </ul>
%%
%% == In Config ==
%% `{linx_cth, #{netns => #{A => Name}, veth => #{{A, B} => Pair}}}'
%% (and `hub => Hub' with the option `hub'), read with {@link netns/2},
%% {@link veth_end/3}, {@link hub_addr/2} and {@link setup/1}.
%%
%% With `scope => testcase' Config also holds `{linx_cth_ref, Ref}', by
%% which the hook knows, when the case ends, which of the set-ups it made
%% is that case's.
%%
%% == What it removes ==
%% Only what it made, and all of that: a case's end (or its
%% `init_per_testcase' failing or skipping) removes the namespaces made
%% for that case, not those of a case running beside it in a parallel
%% group; the suite's end removes the suite's. A namespace a test made
%% itself stays, also when the test put its name in the set-up in Config.
%% The namespaces' names are fresh ones (see {@link linx_ct:netns/2}), so
%% a namespace that was there before, made by hand or by another run, is
%% never one of them. A set-up that fails fails the suite's (or case's)
%% init, with the reason, and whatever was made of it is removed.
-module(linx_cth).

%% Common Test hook callbacks
-export([id/1, init/2,
         pre_init_per_suite/3, post_end_per_suite/4,
         pre_init_per_testcase/4, post_init_per_testcase/5, post_end_per_testcase/5,
         terminate/1]).
%% Reading the set-up from Config
-export([setup/1, netns/2, veth_end/3]).
-export([hub_addr/2]).
%% Faults
-export([partition/3, heal/3, impair/3, clear/2]).

-export_type([opts/0, setup/0]).

-type opts() :: #{netns => [atom()] | pos_integer(),
                  veth => [{atom(), atom()} | {atom(), atom(), linx_ct:veth_opts()}],
                  addrs => boolean(),
                  bridge => #{atom() => [binary()]},
                  routes => #{atom() => [map()]},
                  sysctl => #{atom() => #{linx_sysctl:key() => linx_sysctl:value()}},
                  hub => linx_ct_hub:spec(),
                  faults => #{term() => linx_ct:fault()},
                  scope => suite | testcase}.

-type setup() :: #{netns := #{atom() => binary()},
                   veth := #{{atom(), atom()} => linx_ct:pair()},
                   hub => linx_ct_hub:hub()}.

%% Whose set-up: the suite's, or a test case's (the ref is also in the
%% case's Config).
-type owner() :: suite | {testcase, atom(), atom(), reference()}.

-record(state, {opts :: opts(),
                %% The namespaces made and not yet removed, by owner.
                made = [] :: [{owner(), [binary()]}]}).

%%====================================================================
%% Reading the set-up
%%====================================================================

%% @doc The set-up the hook made, from a test's `Config'.
-spec setup(list()) -> setup().
setup(Config) ->
    case lists:keyfind(linx_cth, 1, Config) of
        {linx_cth, Setup} -> Setup;
        false -> error({no_linx_cth_setup, Config})
    end.

%% @doc The name of namespace `Key' (for `{netns, Name}', `ip -n Name').
-spec netns(atom(), list()) -> binary().
netns(Key, Config) ->
    #{netns := #{Key := Name}} = setup(Config),
    Name.

%% @doc The end in namespace `Here' of the veth pair between `Here' and
%% `There': its interface name and address (`undefined' without one).
-spec veth_end(atom(), atom(), list()) -> {binary(), inet:ip_address() | undefined}.
veth_end(Here, There, Config) ->
    #{veth := Pairs} = setup(Config),
    case Pairs of
        #{{Here, There} := #{a := {_, If}} = Pair} -> {If, address(Pair, 1)};
        #{{There, Here} := #{b := {_, If}} = Pair} -> {If, address(Pair, 2)};
        _ -> error({no_veth, Here, There})
    end.

address(#{addrs := Addrs}, N) -> element(1, element(N, Addrs));
address(_, _) -> undefined.

%%====================================================================
%% Faults
%%====================================================================

%% @doc Cuts the namespaces of keys `KeysA' off from those of `KeysB',
%% both ways ({@link linx_ct:partition/2}).
-spec partition([atom()], [atom()], list()) -> ok | {error, term()}.
partition(KeysA, KeysB, Config) ->
    linx_cth_faults:partition(KeysA, KeysB, setup(Config)).

%% @doc Undoes the partition between `KeysA' and `KeysB' ({@link linx_ct:heal/2}).
-spec heal([atom()], [atom()], list()) -> ok | {error, term()}.
heal(KeysA, KeysB, Config) ->
    linx_cth_faults:heal(KeysA, KeysB, setup(Config)).

%% @doc Impairs `Where' as `Spec' says ({@link linx_ct:impair/2}):
%% `{A, B}', the veth pair between `A' and `B' (both ends), or the way
%% between two hub nodes, both ways; `{A, to, B}', the way from `A' to `B'.
-spec impair({atom(), atom()} | {atom(), to, atom()}, linx_ct:fault(), list()) -> ok | {error, term()}.
impair(Where, Spec, Config) ->
    linx_cth_faults:impair(Where, Spec, setup(Config)).

%% @doc Removes the faults of `Where' (as for {@link impair/3}), or with
%% a key `A', every fault in namespace `A' ({@link linx_ct:clear/1}).
-spec clear(atom() | {atom(), atom()} | {atom(), to, atom()}, list()) -> ok | {error, term()}.
clear(Where, Config) ->
    linx_cth_faults:clear(Where, setup(Config)).

%%====================================================================
%% Hook callbacks
%%====================================================================

%% @private
-spec id(opts()) -> term().
id(_Opts) ->
    %% One instance per suite that installs it.
    {?MODULE, erlang:unique_integer([positive])}.

%% @private
-spec init(term(), opts()) -> {ok, #state{}}.
init(_Id, Opts) when is_map(Opts) ->
    {ok, #state{opts = Opts}};
init(_Id, Opts) ->
    error({bad_linx_cth_options, Opts}).

%% @private
-spec pre_init_per_suite(atom(), list() | term(), #state{}) -> {term(), #state{}}.
pre_init_per_suite(_Suite, Config, #state{opts = Opts} = State) when is_list(Config) ->
    case maps:get(scope, Opts, suite) of
        suite -> make(suite, Config, State);
        testcase -> {Config, State}
    end;
pre_init_per_suite(_Suite, SkipOrFail, State) ->
    {SkipOrFail, State}.

%% @private
-spec post_end_per_suite(atom(), list(), term(), #state{}) -> {term(), #state{}}.
post_end_per_suite(_Suite, _Config, Return, State) ->
    {Return, remove_all(State)}.

%% @private
-spec pre_init_per_testcase(atom(), atom(), list() | term(), #state{}) -> {term(), #state{}}.
pre_init_per_testcase(Suite, Case, Config, #state{opts = Opts} = State) when is_list(Config) ->
    case maps:get(scope, Opts, suite) of
        testcase ->
            Ref = make_ref(),
            make({testcase, Suite, Case, Ref},
                 [{linx_cth_ref, Ref} | lists:keydelete(linx_cth_ref, 1, Config)], State);
        suite ->
            {Config, State}
    end;
pre_init_per_testcase(_Suite, _Case, SkipOrFail, State) ->
    {SkipOrFail, State}.

%% @private
%% An init_per_testcase that failed or skipped (`Return' is then
%% `{skip, _}', `{fail, _}' or `{error, _}'; `ok' when it did not):
%% Common Test does not call post_end_per_testcase then, so the case's
%% set-up goes now.
-spec post_init_per_testcase(atom(), atom(), list(), term(), #state{}) -> {term(), #state{}}.
post_init_per_testcase(Suite, Case, Config, {Tag, _} = Return, State)
  when Tag =:= skip; Tag =:= skipped; Tag =:= auto_skip; Tag =:= fail; Tag =:= failed; Tag =:= error ->
    {Return, remove_case(Suite, Case, Config, State)};
post_init_per_testcase(_Suite, _Case, _Config, Return, State) ->
    {Return, State}.

%% @private
%% Called after end_per_testcase, also when the case crashed or its
%% timetrap fired.
-spec post_end_per_testcase(atom(), atom(), list(), term(), #state{}) -> {term(), #state{}}.
post_end_per_testcase(Suite, Case, Config, Return, #state{opts = Opts} = State) ->
    %% The suite's namespaces get their faults of the options back.
    _ = [linx_cth_faults:reset(Opts, Config) || maps:get(scope, Opts, suite) =:= suite],
    {Return, remove_case(Suite, Case, Config, State)}.

%% @private
-spec terminate(#state{}) -> ok.
terminate(State) ->
    _ = remove_all(State),
    ok.

%%====================================================================
%% Hubs
%%====================================================================

%% @doc The address of hub node `Key' (on its `eth0'), from a test's
%% `Config'.
-spec hub_addr(atom(), list()) -> inet:ip_address().
hub_addr(Key, Config) ->
    case setup(Config) of
        #{hub := #{addrs := #{Key := IP}}} -> IP;
        _ -> error({no_hub_node, Key})
    end.

%%====================================================================
%% Internal
%%====================================================================

-spec make(owner(), list(), #state{}) -> {list() | {fail, term()}, #state{}}.
make(Owner, Config, #state{opts = Opts} = State) ->
    case build(Opts) of
        {ok, Setup, Made} ->
            {[{linx_cth, Setup} | lists:keydelete(linx_cth, 1, Config)],
             State#state{made = [{Owner, Made} | State#state.made]}};
        {error, Reason, Made} ->
            _ = linx_ct:cleanup(Made),
            {{fail, {linx_cth, Reason}}, State}
    end.

%% Remove what was made for test case Case: the set-up whose ref is in
%% its Config, or else the one set-up made for a case of that name (if
%% there are several, none: the hook's end removes them).
-spec remove_case(atom(), atom(), list(), #state{}) -> #state{}.
remove_case(Suite, Case, Config, #state{made = Made} = State) ->
    Ref = case lists:keyfind(linx_cth_ref, 1, Config) of
              {linx_cth_ref, R} -> R;
              false -> none
          end,
    Case1 = [Owner || {{testcase, S, C, _} = Owner, _} <- Made, S =:= Suite, C =:= Case],
    case [Owner || {testcase, _, _, R} = Owner <- Case1, R =:= Ref] of
        [Owner] -> remove(Owner, State);
        [] when length(Case1) =:= 1 -> remove(hd(Case1), State);
        [] -> State
    end.

-spec remove(owner(), #state{}) -> #state{}.
remove(Owner, #state{made = Made} = State) ->
    {value, {Owner, Names}, Rest} = lists:keytake(Owner, 1, Made),
    _ = linx_ct:cleanup(Names),
    State#state{made = Rest}.

-spec remove_all(#state{}) -> #state{}.
remove_all(#state{made = Made} = State) ->
    _ = linx_ct:cleanup(lists:append([Names || {_, Names} <- Made])),
    State#state{made = []}.

%% The set-up of the options (linx_ct:setup/1, which removes what it made
%% when it fails), and the namespaces made.
-spec build(opts()) -> {ok, setup(), [binary()]} | {error, term(), [binary()]}.
build(Opts) ->
    case linx_ct:setup(maps:without([scope, faults], Opts)) of
        {ok, #{netns := Names} = Setup} ->
            case linx_cth_faults:apply(Opts, Setup) of
                ok -> {ok, Setup, maps:values(Names)};
                {error, Reason} -> {error, Reason, maps:values(Names)}
            end;
        {error, Reason} ->
            {error, Reason, []}
    end.
