%% @doc The bodies of {@link linx_ct}'s faults: partitions between groups
%% of namespaces, and impairments (loss, rate, netem's delay and the
%% rest) on a link, a veth pair or the way from one namespace to another.
%% Guide: docs/namespaces.md ("Faults") in the source tree.
%%
%% Nothing is remembered here: what a fault made is recognisable in the
%% namespace itself, so a cleanup needs no state and works after a crash.
%% <ul>
%% <li>nftables: the table `inet linx_faults' with base chains `input'
%%   and `output' (filter, priority -300, policy accept). A partition's
%%   rules carry the comment `linx partition <Id>' (`Id' from the two
%%   groups), a loss rule `linx impair dev <Ifname>' or `linx impair to
%%   <Netns>'.</li>
%% <li>tc: a root qdisc with handle `fa17:' (tbf, netem, or htb with a
%%   default class `fa17:1' and one class `fa17:M' per destination, its
%%   u32 filters at priorities 2M (IPv4) and 2M+1 (IPv6)).</li>
%% </ul>
-module(linx_ct_faults).

-export([partition/2, heal/1, heal/2, impair/2, clear/1]).

%% Namespace by namespace, up to the first error.
-import(linx_ct_faults_tc, [each/2]).

-export_type([where/0, spec/0]).

-type where() :: {binary(), binary()} | pair() | {from, binary(), to, binary()} | binary().
%% `{Netns, Ifname}': what leaves that interface; a pair of
%% {@link linx_ct:veth/3}: both its ends; `{from, NetnsA, to, NetnsB}':
%% what A sends to B's addresses; a namespace (for clear/1 only).
%% (`pair()' is linx_ct's, written out: linx_ct calls this module.)
-type pair() :: #{a := {binary(), binary()}, b := {binary(), binary()}, addrs => tuple()}.
-type spec() :: #{loss => 0..100, rate => pos_integer(), delay => number(), jitter => number(),
                  duplicate => number(), reorder => number(), corrupt => number()}.

-define(TABLE, <<"linx_faults">>).
-define(MAJOR, 16#fa17).
-define(ROOT, {?MAJOR, 0}).
-define(NETEM_KEYS, [delay, jitter, duplicate, reorder, corrupt]).

%%====================================================================
%% Partitions
%%====================================================================

%% @doc See {@link linx_ct:partition/2}.
-spec partition([binary()], [binary()]) -> ok | {error, term()}.
partition(A, B) ->
    case groups(A, B) of
        ok ->
            Comment = partition_comment(A, B),
            case addrs_of(lists:usort(A ++ B)) of
                {ok, Addrs} ->
                    Other = fun(Ns) ->
                                    Far = case lists:member(Ns, A) of true -> B; false -> A end,
                                    lists:append([maps:get(N, Addrs) || N <- Far])
                            end,
                    each(A ++ B, fun(Ns) -> change(Ns, Comment, drop_rules(Comment, Other(Ns))) end);
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% @doc See {@link linx_ct:heal/2}.
-spec heal([binary()], [binary()]) -> ok | {error, term()}.
heal(A, B) ->
    case groups(A, B) of
        ok ->
            Comment = partition_comment(A, B),
            each(A ++ B, fun(Ns) -> change(Ns, fun(C) -> C =:= Comment end, []) end);
        {error, _} = Error ->
            Error
    end.

%% @doc See {@link linx_ct:heal/1}.
-spec heal([binary()]) -> ok | {error, term()}.
heal(Namespaces) when is_list(Namespaces) ->
    case lists:all(fun is_binary/1, Namespaces) of
        true ->
            Partition = fun(C) -> prefixed(<<"linx partition ">>, C) end,
            each(Namespaces, fun(Ns) -> change(Ns, Partition, []) end);
        false -> {error, {bad_fault, {namespaces, Namespaces}}}
    end;
heal(Other) ->
    {error, {bad_fault, {namespaces, Other}}}.

groups(A, B) ->
    Ok = fun(G) -> is_list(G) andalso G =/= [] andalso lists:all(fun is_binary/1, G) end,
    case Ok(A) andalso Ok(B) andalso [N || N <- A, lists:member(N, B)] =:= [] of
        true -> ok;
        false -> {error, {bad_fault, {groups, {A, B}}}}
    end.

%% The same for (A, B) and (B, A), whatever the order inside each.
partition_comment(A, B) ->
    Id = erlang:phash2(lists:sort([lists:usort(A), lists:usort(B)]), 1 bsl 32),
    iolist_to_binary(io_lib:format("linx partition ~8.16.0b", [Id])).

%% Drop what comes from and what goes to the addresses.
drop_rules(Comment, Addrs) ->
    [rule(Chain, Comment, [{match, family(IP), Dir, IP}, drop])
     || IP <- Addrs, {Chain, Dir} <- [{<<"input">>, saddr}, {<<"output">>, daddr}]].

%%====================================================================
%% Impairments
%%====================================================================

%% @doc See {@link linx_ct:impair/2}.
-spec impair(where(), spec()) -> ok | {error, term()}.
impair(Where, Spec) ->
    case {check_spec(Spec), ends(Where)} of
        {ok, {ok, _}} when is_binary(Where) -> {error, {bad_fault, {where, Where}}};
        {ok, {ok, Ends}} -> each(Ends, fun(End) -> impair_end(End, Spec) end);
        {{error, _} = Error, _} -> Error;
        {ok, {error, _} = Error} -> Error
    end.

%% @doc See {@link linx_ct:clear/1}.
-spec clear(where()) -> ok | {error, term()}.
clear(Netns) when is_binary(Netns) ->
    case linx_nft:apply([{delete, table, #{family => inet, name => ?TABLE}}], in(Netns)) of
        ok -> clear_qdiscs(Netns);
        {error, #{errno := enoent}} -> clear_qdiscs(Netns);
        {error, _} = Error -> Error
    end;
clear(Where) ->
    case ends(Where) of
        {ok, Ends} -> each(Ends, fun(End) -> impair_end(End, #{}) end);
        {error, _} = Error -> Error
    end.

check_spec(Spec) when is_map(Spec) ->
    case [KV || KV <- maps:to_list(Spec), not good(KV)] of
        [] -> ok;
        [KV | _] -> {error, {bad_fault, KV}}
    end;
check_spec(Spec) ->
    {error, {bad_fault, {spec, Spec}}}.

good({loss, P}) -> is_integer(P) andalso P >= 0 andalso P =< 100;
good({rate, R}) -> is_integer(R) andalso R >= 8 andalso R < 1 bsl 64;
good({K, Ms}) when K =:= delay; K =:= jitter -> is_number(Ms) andalso Ms >= 0 andalso Ms < 1 bsl 32;
good({K, P}) when K =:= duplicate; K =:= reorder; K =:= corrupt -> is_number(P) andalso P >= 0 andalso P =< 100;
good(_) -> false.

%% Where, as the ends it names: `{dev, Netns, Ifname}' (what leaves that
%% link) or `{to, Netns, PeerNetns}' (what Netns sends to PeerNetns).
ends({Ns, If}) when is_binary(Ns), is_binary(If) -> {ok, [{dev, Ns, If}]};
ends(#{a := {Na, Ia}, b := {Nb, Ib}}) when is_binary(Na), is_binary(Ia), is_binary(Nb), is_binary(Ib) ->
    {ok, [{dev, Na, Ia}, {dev, Nb, Ib}]};
ends({from, A, to, B}) when is_binary(A), is_binary(B), A =/= B -> {ok, [{to, A, B}]};
ends(Ns) when is_binary(Ns) -> {ok, []};
ends(Where) -> {error, {bad_fault, {where, Where}}}.

%% One end made to match Spec (#{}: its faults removed): tc first (a
%% kind the kernel refuses leaves everything as it was), then the loss
%% rule, replacing the end's earlier one in the same transaction.
impair_end({dev, Ns, If} = End, Spec) ->
    Comment = <<"linx impair dev ", If/binary>>,
    Loss = [rule(<<"output">>, Comment, [{match, meta, oifname, If}, {random, P}, drop])
            || {ok, P} <- [maps:find(loss, Spec)]],
    then(dev_qdisc(End, Spec), fun() -> change(Ns, Comment, Loss) end);
impair_end({to, Ns, Peer} = End, Spec) ->
    Comment = <<"linx impair to ", Peer/binary>>,
    case addrs_of([Ns, Peer]) of
        {ok, #{Peer := PeerAddrs}} ->
            Loss = [rule(<<"output">>, Comment, [{match, family(IP), daddr, IP}, {random, P}, drop])
                    || {ok, P} <- [maps:find(loss, Spec)], IP <- PeerAddrs],
            then(linx_ct_faults_tc:to_classes(End, PeerAddrs, tc_spec(Spec)),
                 fun() -> change(Ns, Comment, Loss) end);
        {error, _} = Error ->
            Error
    end.

then(ok, Fun) -> Fun();
then({error, _} = Error, _Fun) -> Error.

%% What tc does for Spec: `none', `{tbf, Rate}' or `{netem, Options}'.
tc_spec(Spec) ->
    Netem = maps:with(?NETEM_KEYS, Spec),
    case {maps:size(Netem), maps:find(rate, Spec)} of
        {0, error} -> none;
        {0, {ok, Rate}} -> {tbf, Rate};
        {_, Rate} ->
            Us = fun(Ms) -> round(Ms * 1000) end,
            Opts = maps:map(fun(K, V) when K =:= delay; K =:= jitter -> Us(V);
                               (_, V) -> V end, Netem),
            {netem, case Rate of {ok, R} -> Opts#{rate => R}; error -> Opts end}
    end.

dev_qdisc({dev, Ns, If}, Spec) ->
    linx_ct_faults_tc:root(Ns, If, tc_spec(Spec)).

%% Every root qdisc of handle fa17: in Netns, deleted.
clear_qdiscs(Netns) ->
    case linx_tc:qdiscs(in(Netns)) of
        {ok, Qdiscs} ->
            each([L || #{link := L, parent := root, handle := ?ROOT} <- Qdiscs],
                 fun(L) -> linx_tc:qdisc_del(#{link => L, parent => root}, in(Netns)) end);
        {error, _} = Error ->
            Error
    end.

%%====================================================================
%% nftables
%%====================================================================

%% In Ns, one transaction: the rules whose comment matches deleted, the
%% new ones added (with the table and chains, when there are any).
change(Ns, Comment, Rules) when is_binary(Comment) ->
    change(Ns, fun(C) -> C =:= Comment end, Rules);
change(Ns, Old, Rules) ->
    case linx_nft:rules(in(Ns)) of
        {ok, All} ->
            Del = [{delete, rule, maps:with([family, table, chain, handle], R)}
                   || #{family := inet, table := ?TABLE, comment := C} = R <- All, Old(C)],
            Base = case Rules of
                       [] -> [];
                       _ -> table_ops()
                   end,
            case Base ++ Del ++ Rules of
                [] -> ok;
                Ops -> linx_nft:apply(Ops, in(Ns))
            end;
        {error, _} = Error ->
            Error
    end.

table_ops() ->
    [{add, table, #{family => inet, name => ?TABLE}}
     | [{add, chain, #{family => inet, table => ?TABLE, name => atom_to_binary(Hook), type => filter,
                       hook => Hook, priority => -300, policy => accept}}
        || Hook <- [input, output]]].

rule(Chain, Comment, Exprs) ->
    {add, rule, #{family => inet, table => ?TABLE, chain => Chain, comment => Comment,
                  expressions => Exprs}}.

family(IP) when tuple_size(IP) =:= 4 -> ip;
family(_) -> ip6.

prefixed(Prefix, Bin) when is_binary(Bin) ->
    binary:longest_common_prefix([Prefix, Bin]) =:= byte_size(Prefix);
prefixed(_, _) ->
    false.

%%====================================================================
%% Helpers
%%====================================================================

%% The addresses of each namespace now, loopback and link-local left out.
addrs_of(Namespaces) ->
    addrs_of(Namespaces, #{}).

addrs_of([], Acc) ->
    {ok, Acc};
addrs_of([Ns | Rest], Acc) ->
    case linx_rtnl:addrs(in(Ns)) of
        {ok, Addrs} ->
            IPs = [maps:get(local, A, IP) || #{address := IP, scope := Scope} = A <- Addrs,
                                             Scope =/= host, Scope =/= link],
            addrs_of(Rest, Acc#{Ns => IPs});
        {error, _} = Error ->
            Error
    end.

in(Ns) -> #{in => {netns, Ns}}.

