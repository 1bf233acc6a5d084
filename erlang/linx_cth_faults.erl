%% @doc The faults of {@link linx_cth}: its `faults' option, its keyed
%% helpers, and the reset after each test case. Keys name the set-up's
%% namespaces: `{A, B}' is the veth pair between A and B (both ends), or,
%% for two nodes of a hub, the way from A to B and the way from B to A;
%% `{A, to, B}' is the way from A to B; `A' alone (for clear only) every
%% fault in namespace A.
-module(linx_cth_faults).

-export([apply/2, reset/2, partition/3, heal/3, impair/3, clear/2]).

%% Namespace by namespace, up to the first error.
-import(linx_ct_faults_tc, [each/2]).

-compile({no_auto_import, [apply/2]}).

%% @doc Applies the `faults' option (`#{Where => Spec}') to the set-up.
-spec apply(map(), map()) -> ok | {error, term()}.
apply(Opts, Setup) ->
    case maps:get(faults, Opts, #{}) of
        Faults when is_map(Faults) ->
            each(lists:sort(maps:to_list(Faults)),
                 fun({Where, Spec}) -> impair(Where, Spec, Setup) end);
        Other ->
            {error, {bad_option, {faults, Other}}}
    end.

%% @doc After a test case: every fault in the namespaces of the set-up
%% in `Config' removed, and the `faults' option applied again.
-spec reset(map(), list()) -> ok | {error, term()}.
reset(Opts, Config) ->
    case lists:keyfind(linx_cth, 1, Config) of
        {linx_cth, #{netns := Names} = Setup} ->
            then(each(lists:sort(maps:values(Names)), fun linx_ct:clear/1),
                 fun() -> apply(Opts, Setup) end);
        _ ->
            ok
    end.

%% The helpers take the set-up (linx_cth:setup/1 of Config).

%% @doc {@link linx_ct:partition/2} of the namespaces of two lists of keys.
-spec partition([atom()], [atom()], map()) -> ok | {error, term()}.
partition(KeysA, KeysB, Setup) ->
    case {names(KeysA, Setup), names(KeysB, Setup)} of
        {{ok, A}, {ok, B}} -> linx_ct:partition(A, B);
        _ -> {error, {bad_fault, {groups, {KeysA, KeysB}}}}
    end.

%% @doc {@link linx_ct:heal/2} of the namespaces of two lists of keys.
-spec heal([atom()], [atom()], map()) -> ok | {error, term()}.
heal(KeysA, KeysB, Setup) ->
    case {names(KeysA, Setup), names(KeysB, Setup)} of
        {{ok, A}, {ok, B}} -> linx_ct:heal(A, B);
        _ -> {error, {bad_fault, {groups, {KeysA, KeysB}}}}
    end.

%% @doc {@link linx_ct:impair/2} of a keyed `Where'.
-spec impair(term(), map(), map()) -> ok | {error, term()}.
impair(Where, Spec, Setup) ->
    case wheres(Where, Setup) of
        {ok, Ws} -> each(Ws, fun(W) -> linx_ct:impair(W, Spec) end);
        error -> {error, {bad_fault, {where, Where}}}
    end.

%% @doc {@link linx_ct:clear/1} of a keyed `Where'.
-spec clear(term(), map()) -> ok | {error, term()}.
clear(Where, Setup) ->
    case {Where, wheres(Where, Setup)} of
        {_, {ok, Ws}} ->
            each(Ws, fun linx_ct:clear/1);
        {Key, error} when is_atom(Key) ->
            case names([Key], Setup) of
                {ok, [Name]} -> linx_ct:clear(Name);
                error -> {error, {bad_fault, {where, Where}}}
            end;
        _ ->
            {error, {bad_fault, {where, Where}}}
    end.

%%====================================================================
%% Internal
%%====================================================================

names(Keys, #{netns := Names}) when is_list(Keys) ->
    case [N || K <- Keys, {ok, N} <- [maps:find(K, Names)]] of
        Ns when length(Ns) =:= length(Keys) -> {ok, Ns};
        _ -> error
    end;
names(_, _) ->
    error.

%% A keyed Where as linx_ct's.
wheres({A, to, B}, #{netns := Names}) ->
    case Names of
        #{A := NA, B := NB} when A =/= B -> {ok, [{from, NA, to, NB}]};
        _ -> error
    end;
wheres({A, B}, #{netns := Names} = Setup) when is_atom(A), is_atom(B) ->
    Veth = maps:get(veth, Setup, #{}),
    Hub = case Setup of
              #{hub := #{addrs := Addrs}} -> Addrs;
              _ -> #{}
          end,
    case {Veth, Hub, Names} of
        {#{{A, B} := Pair}, _, _} -> {ok, [Pair]};
        {#{{B, A} := Pair}, _, _} -> {ok, [Pair]};
        {_, #{A := _, B := _}, #{A := NA, B := NB}} when A =/= B ->
            {ok, [{from, NA, to, NB}, {from, NB, to, NA}]};
        _ -> error
    end;
wheres(_, _) ->
    error.

then(ok, Fun) -> Fun();
then({error, _} = Error, _Fun) -> Error.

