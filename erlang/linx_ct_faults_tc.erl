%% @doc The qdiscs of {@link linx_ct_faults}: a root qdisc of handle
%% `fa17:' on a link (tbf or netem), or an htb there whose class
%% `fa17:M' (with u32 filters at priorities 2M and 2M+1) holds the
%% traffic to one namespace's addresses. Only qdiscs of that handle are
%% changed or deleted; a kind the kernel lacks is `{unsupported, Kind}'.
-module(linx_ct_faults_tc).

-export([root/3, to_classes/3, each/2]).

-define(MAJOR, 16#fa17).
-define(ROOT, {?MAJOR, 0}).
%% The default class of the htb: not limited.
-define(FAST, 100000000000).

-type tc_spec() :: none | {tbf, pos_integer()} | {netem, map()} | {htb, map()}.

%% @doc Makes the root qdisc of handle `fa17:' on `If' in `Ns' what
%% `TcSpec' says (`none': deleted, when there is one).
-spec root(binary(), binary() | integer(), tc_spec()) -> ok | {error, term()}.
root(Ns, If, TcSpec) ->
    case ours(Ns, If) of
        {ok, Current} -> root(Ns, If, Current, TcSpec);
        {error, _} = Error -> Error
    end.

root(_Ns, _If, none, none) ->
    ok;
root(Ns, If, _Current, none) ->
    linx_tc:qdisc_del(#{link => If, parent => root}, in(Ns));
root(Ns, If, Current, {Kind, Opts0}) ->
    Opts = options(Kind, Opts0),
    Q = #{link => If, parent => root, handle => ?ROOT, kind => Kind, options => Opts},
    case Current of
        none ->
            %% Made and put in place, or refused with nothing changed.
            kind(Kind, linx_tc:qdisc_replace(Q, in(Ns)));
        #{kind := K} when K =:= Kind ->
            linx_tc:qdisc_replace(Q, in(Ns));
        _ ->
            %% The kernel keeps a handle's kind: the qdisc of another kind
            %% is put in place without a handle first (which the kernel
            %% refuses, changing nothing, when it lacks the kind), then
            %% made again with ours.
            case kind(Kind, linx_tc:qdisc_replace(maps:remove(handle, Q), in(Ns))) of
                ok ->
                    then(linx_tc:qdisc_del(#{link => If, parent => root}, in(Ns)),
                         fun() -> linx_tc:qdisc_add(Q, in(Ns)) end);
                {error, _} = Error ->
                    Error
            end
    end.

options(tbf, Rate) ->
    #{rate => Rate, burst => max(Rate div 800, 4000), latency => 50000};
options(htb, _) ->
    #{default => 1};
options(netem, Opts) ->
    Opts.

%% The root qdisc of handle fa17: on the link (with its kind as an atom),
%% or none.
ours(Ns, If) ->
    case linx_tc:qdiscs(#{link => If}, in(Ns)) of
        {ok, Qs} ->
            case [Q || #{parent := root, handle := ?ROOT} = Q <- Qs] of
                [#{kind := K} | _] -> {ok, #{kind => binary_to_atom(K)}};
                [] -> {ok, none}
            end;
        {error, _} = Error ->
            Error
    end.

%% A kind the kernel does not have.
kind(Kind, {error, #{errno := enoent, message := Text}} = Error) ->
    case binary:match(Text, <<"kind is unknown">>) of
        nomatch -> Error;
        _ -> {error, {unsupported, Kind}}
    end;
kind(_Kind, Result) ->
    Result.

%%====================================================================
%% The way to a namespace
%%====================================================================

%% @doc Makes what namespace `Ns' sends to `PeerAddrs' (the addresses of
%% namespace `Peer') go through a class of its own, limited and netem'd
%% as `TcSpec' says (`none': that class and its filters deleted), on the
%% links that lead there: those with an address in the same subnet, or
%% else every link with an address.
-spec to_classes({to, binary(), binary()}, [inet:ip_address()], tc_spec()) -> ok | {error, term()}.
to_classes({to, Ns, _Peer}, PeerAddrs, TcSpec) ->
    case links_to(Ns, PeerAddrs) of
        {ok, Links} -> each(Links, fun(L) -> to_class(Ns, L, PeerAddrs, TcSpec) end);
        {error, _} = Error -> Error
    end.

to_class(Ns, L, Addrs, TcSpec) ->
    case {ours(Ns, L), TcSpec} of
        {{ok, #{kind := htb}}, _} -> to_class(Ns, L, Addrs, TcSpec, false);
        {{ok, _}, none} -> ok;
        {{ok, _}, _} ->
            then(root(Ns, L, {htb, #{}}),
                 fun() ->
                         then(linx_tc:class_replace(class(L, 1, ?FAST), in(Ns)),
                              fun() -> to_class(Ns, L, Addrs, TcSpec, true) end)
                 end);
        {{error, _} = Error, _} -> Error
    end.

to_class(Ns, L, Addrs, TcSpec, Made) ->
    case {linx_tc:filters(L, ?ROOT, in(Ns)), linx_tc:classes(L, in(Ns))} of
        {{ok, Filters}, {ok, Classes}} ->
            Matches = [matches(IP) || IP <- Addrs],
            Found = [M || #{options := #{match := Match, classid := {?MAJOR, M}}} <- Filters,
                          lists:member(Match, Matches)],
            Used = [M || #{handle := {?MAJOR, M}} <- Classes],
            M = case Found of
                    [F | _] -> F;
                    [] -> hd([N || N <- lists:seq(2, 16#7ffe), not lists:member(N, Used)])
                end,
            Prios = [{P, Proto} || #{prio := P, protocol := Proto} <- Filters,
                                   P =:= 2 * M orelse P =:= 2 * M + 1],
            Del = fun() ->
                          _ = [linx_tc:filter_del(#{link => L, parent => ?ROOT, prio => P,
                                                    protocol => Proto}, in(Ns))
                               || {P, Proto} <- lists:usort(Prios)],
                          ok
                  end,
            case TcSpec of
                none when Found =:= [] ->
                    ok;
                none ->
                    ok = Del(),
                    linx_tc:class_del(#{link => L, handle => {?MAJOR, M}, parent => ?ROOT}, in(Ns));
                _ ->
                    case set_class(Ns, L, M, TcSpec, lists:member(M, Used)) of
                        ok ->
                            ok = Del(),
                            each(lists:zip(Addrs, Matches),
                                 fun({IP, Match}) ->
                                         linx_tc:filter_add(filter(L, M, IP, Match), in(Ns))
                                 end);
                        {error, _} = Error ->
                            %% netem refused: what this call made goes.
                            _ = [linx_tc:class_del(#{link => L, handle => {?MAJOR, M}, parent => ?ROOT}, in(Ns))
                                 || not lists:member(M, Used)],
                            _ = [linx_tc:qdisc_del(#{link => L, parent => root}, in(Ns)) || Made],
                            Error
                    end
            end;
        {{error, _} = Error, _} ->
            Error;
        {_, {error, _} = Error} ->
            Error
    end.

%% The class fa17:M at the rate, with netem under it when asked. When
%% the class is there already, netem goes first: a kernel without it
%% refuses before anything changed.
set_class(Ns, L, M, {tbf, Rate}, _Exists) ->
    linx_tc:class_replace(class(L, M, Rate), in(Ns));
set_class(Ns, L, M, {netem, Opts}, Exists) ->
    Class = fun() -> linx_tc:class_replace(class(L, M, maps:get(rate, Opts, ?FAST)), in(Ns)) end,
    Netem = fun() ->
                    kind(netem, linx_tc:qdisc_replace(#{link => L, parent => {?MAJOR, M}, kind => netem,
                                                        options => maps:remove(rate, Opts)}, in(Ns)))
            end,
    case Exists of
        true -> then(Netem(), Class);
        false -> then(Class(), Netem)
    end.

class(L, M, Rate) ->
    #{link => L, parent => ?ROOT, handle => {?MAJOR, M}, kind => htb,
      options => #{rate => Rate, ceil => Rate}}.

filter(L, M, IP, Match) ->
    {Proto, Prio} = case tuple_size(IP) of
                        4 -> {ip, 2 * M};
                        8 -> {ipv6, 2 * M + 1}
                    end,
    #{link => L, parent => ?ROOT, prio => Prio, protocol => Proto, kind => u32,
      options => #{match => Match, classid => {?MAJOR, M}}}.

%% The u32 match of a destination address (IPv6: its four words, at
%% offset 24 of the header).
matches({_, _, _, _} = IP) ->
    [{dst, IP, 32}];
matches(IP) ->
    <<W1:32, W2:32, W3:32, W4:32>> = << <<X:16>> || X <- tuple_to_list(IP) >>,
    [{u32, W, 16#ffffffff, 24 + 4 * I} || {I, W} <- lists:zip([0, 1, 2, 3], [W1, W2, W3, W4])].

%% The links (indexes) of Ns in the subnet of one of the addresses, or
%% else all those with an address other than loopback.
links_to(Ns, Addrs) ->
    case linx_rtnl:addrs(in(Ns)) of
        {ok, Mine} ->
            Own = [{I, IP, Len} || #{index := I, address := IP0, prefixlen := Len, scope := S} = A <- Mine,
                                   S =/= host, S =/= link, IP <- [maps:get(local, A, IP0)]],
            case lists:usort([I || {I, Mine1, Len} <- Own, Peer <- Addrs, same(Mine1, Peer, Len)]) of
                [] -> {ok, lists:usort([I || {I, _, _} <- Own])};
                Links -> {ok, Links}
            end;
        {error, _} = Error ->
            Error
    end.

same(A, B, Len) when tuple_size(A) =:= tuple_size(B) ->
    Size = case tuple_size(A) of 4 -> 8; 8 -> 16 end,
    Bin = fun(T) -> << <<X:Size>> || X <- tuple_to_list(T) >> end,
    <<PA:Len/bits, _/bits>> = Bin(A),
    <<PB:Len/bits, _/bits>> = Bin(B),
    PA =:= PB;
same(_, _, _) ->
    false.

then(ok, Fun) -> Fun();
then({error, _} = Error, _Fun) -> Error.

in(Ns) -> #{in => {netns, Ns}}.

%% @doc `Fun' on each of `List', in order, up to the first error (the
%% faults' modules all go namespace by namespace, link by link, so).
-spec each(list(), fun((term()) -> ok | {error, term()})) -> ok | {error, term()}.
each([], _Fun) ->
    ok;
each([X | Rest], Fun) ->
    case Fun(X) of
        ok -> each(Rest, Fun);
        {error, _} = Error -> Error
    end.
