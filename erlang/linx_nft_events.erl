%% @private
%% The nf_tables side of {@link linx_nft:subscribe/2}: the callbacks of
%% {@link linx_nl_events}, whose process owns a `NETLINK_NETFILTER'
%% socket joined to `NFNLGRP_NFTABLES' and sends what the kernel tells
%% as `{linx_nft, Ref, Event}'.
%%
%% Events are `{Object, new | del, Map}', the maps of the dumps, for
%% `table', `chain', `rule', `set' and `element' (a map with `family',
%% `table', `set' and its `elements', decoded by the set's types), and
%% `{gen, new, #{id, proc_pid, proc_name}}' at the end of each
%% transaction. A resync is `{resync, Objects}': the tables, chains,
%% sets (each with its `elements') and rules now, each `{Object, new,
%% Map}', in that order. Only the kinds asked for are sent.
%%
%% To decode an element this process keeps the types of every set it
%% has been told of (by a resync or a set event); an element of a set
%% it has not seen makes it dump the sets once more.
-module(linx_nft_events).

-behaviour(linx_nl_events).

-export([subscribe/2, stop/1, kinds/0]).
-export([tag/0, protocol/0, init/2, decode/2, objects/1]).

-define(NFNLGRP_NFTABLES, 7).

-type state() :: #{dump := map(), kinds := [atom()], sets := #{term() => map()}}.

%% @doc The kinds of event a subscription can ask for.
-spec kinds() -> [atom()].
kinds() ->
    [table, chain, rule, set, element, gen].

%% @doc A subscription of the caller to the events of `Kinds' (see
%% linx_nft:subscribe/2), once its options are checked: the transport
%% options, `rcvbuf', `list_existing' and `resync'.
-spec subscribe(term(), linx_netlink:opts()) -> {ok, reference()} | {error, term()}.
subscribe(Kinds, Opts) ->
    All = kinds(),
    Checked = case Kinds of
                  all -> {ok, All};
                  [_ | _] -> case Kinds -- All of
                                 [] -> {ok, lists:usort(Kinds)};
                                 _ -> {error, {bad_kinds, Kinds}}
                             end;
                  _ -> {error, {bad_kinds, Kinds}}
              end,
    case {Checked, linx_opts:options(Opts, [list_existing, resync, rcvbuf | linx_opts:transport()])} of
        {{ok, K}, {ok, #{opts := Map}}} ->
            linx_nl_events:start(?MODULE, K, self(), [?NFNLGRP_NFTABLES], Map);
        {{error, _} = Error, _} -> Error;
        {_, {error, _} = Error} -> Error
    end.

%% @doc Ends the caller's subscription `Ref' and removes its events from
%% the caller's mailbox.
-spec stop(reference()) -> ok.
stop(Ref) ->
    linx_nl_events:stop(tag(), Ref).

%% @private
-spec tag() -> linx_nft.
tag() -> linx_nft.

%% @private
-spec protocol() -> netfilter.
protocol() -> netfilter.

%% @private
-spec init([atom()], map()) -> state().
init(Kinds, Dump) ->
    #{dump => Dump, kinds => Kinds, sets => #{}}.

%% @private
-spec decode(linx_nl_codec:msg(), state()) -> {[term()], state()}.
decode(Msg, #{kinds := Kinds} = St) ->
    {Event, St1} = event(Msg, St),
    case Event of
        {Kind, _, _} when Kind =/= other -> {[Event || lists:member(Kind, Kinds)], St1};
        _ -> {[Event], St1}
    end.

event(Msg, St) ->
    case linx_nft_msg:decode(Msg) of
        {ok, {set, new, Set} = E} -> {E, remember([Set], St)};
        {ok, {set, del, Set} = E} -> {E, St#{sets := maps:remove(key(Set), map_get(sets, St))}};
        {ok, {element, What, List}} -> element(What, List, St);
        {ok, E} -> {E, St};
        {error, _} = Error -> {Error, St}
    end.

element(What, #{family := F, table := T, set := Name, elements := Elems} = List, St) ->
    Key = {F, T, Name},
    St1 = case St of
              #{sets := #{Key := _}} -> St;
              _ -> learn(St)
          end,
    case St1 of
        #{sets := #{Key := Set}} ->
            {{element, What, List#{elements := linx_nft_set:decode_elements(Elems, Set)}}, St1};
        _ ->
            {{element, What, List}, St1}
    end;
element(What, List, St) ->
    {{element, What, List}, St}.

%% The sets now, their types remembered.
learn(#{dump := Opts} = St) ->
    case linx_nft_call:dump(set, Opts, subscribe) of
        {ok, Sets} -> remember(Sets, St);
        {error, _} -> St
    end.

remember(Sets, #{sets := Known} = St) ->
    St#{sets := maps:merge(Known, maps:from_list([{key(S), maps:with([key, data], S)}
                                                  || S <- Sets]))}.

key(#{family := F, table := T, name := N}) -> {F, T, N};
key(_) -> none.

%% @private
-spec objects(state()) -> {{ok, [term()]} | {error, term()}, state()}.
objects(#{dump := Opts, kinds := Kinds} = St) ->
    case linx_nft_call:ruleset(Opts, subscribe) of
        {ok, #{tables := Tables, chains := Chains, sets := Sets, rules := Rules}} ->
            Objects = [{K, new, M} || {K, L} <- [{table, Tables}, {chain, Chains},
                                                  {set, Sets}, {rule, Rules}],
                                      lists:member(K, Kinds),
                                      M <- L],
            {{ok, Objects}, remember(Sets, St#{sets := #{}})};
        {error, _} = Error ->
            {Error, St}
    end.
