%% @doc PropEr round trips of the traffic control kinds, run by EUnit:
%% for each kind linx types (the qdiscs htb, tbf, pfifo, bfifo, netem;
%% htb classes; u32 filters with mirred actions), generated valid
%% options encoded by linx_tc_kinds and decoded again give the values
%% given (sizes made from a rate's ticks to the byte where a byte is at
%% least one tick, percentages to 10^-6), and the decoded options encode
%% to the same bytes. A whole request of linx_tc_msg decodes to its
%% object; random bytes never make a decoder raise, nor random specs
%% the request builder.
-module(linx_tc_prop_tests).

-include("linx_proper.hrl").

-import(proper_types, [integer/2, list/1, binary/0, oneof/1, elements/1, boolean/0,
                       vector/2, float/2]).

-define(NUMTESTS, 300).
-define(K, linx_tc_kinds).
-define(TICKS_PER_SEC, 15625000).

%% Each typed kind: `{Object, Kind, Generator}'.
kinds() ->
    [{qdisc, htb, htb_qdisc()}, {class, htb, htb_class()}, {qdisc, tbf, tbf()},
     {qdisc, pfifo, fifo()}, {qdisc, bfifo, fifo()}, {qdisc, netem, netem()},
     {filter, u32, u32_filter()}].

resolve(L) when is_integer(L) -> {ok, L}.

%%====================================================================
%% Round trips
%%====================================================================

kinds_round_trip_test_() ->
    {timeout, 120,
     [{atom_to_list(O) ++ " " ++ atom_to_list(K),
       fun() -> ?RUN(?FORALL(Opts, Gen, round_trip(O, K, Opts)), ?NUMTESTS) end}
      || {O, K, Gen} <- kinds()]}.

round_trip(_Object, _Kind, Opts) when Opts =:= #{} ->
    true;
round_trip(Object, Kind, Opts) ->
    {ok, Bin} = ?K:encode(Object, Kind, Opts, fun resolve/1),
    Decoded = ?K:decode(Object, atom_to_binary(Kind), Bin),
    true = is_map(Decoded),
    [same(Object, Kind, Key, Value, Decoded) || {Key, Value} <- maps:to_list(Opts)],
    %% the kernel does not give netem's distribution table back
    {ok, Again} = ?K:encode(Object, Kind, maps:remove(distribution, Opts), fun resolve/1),
    {ok, Again} = ?K:encode(Object, Kind, Decoded, fun resolve/1),
    true.

%% The value under `Key' of the decoded options is the one given.
same(_, netem, distribution, _, Decoded) ->
    false = is_map_key(distribution, Decoded);
same(_, _, Key, Given, Decoded) when is_float(map_get(Key, Decoded)) ->
    %% a percentage, given as an integer or a float
    true = abs(maps:get(Key, Decoded) - Given) < 1.0e-6;
same(_, _, Key, Given, Decoded) when Key =:= burst; Key =:= cburst; Key =:= mtu ->
    Rate = maps:get(case Key of
                        burst -> rate;
                        cburst -> ceil;
                        mtu -> peakrate
                    end, Decoded) div 8,
    Got = maps:get(Key, Decoded),
    true = case Rate =< ?TICKS_PER_SEC of
               true -> Got =:= Given;
               false -> abs(Got - Given) =< Rate div ?TICKS_PER_SEC + 1
           end;
same(filter, u32, match, Given, Decoded) ->
    Expected = merged(Given),
    Expected = maps:get(match, Decoded);
same(filter, u32, actions, Given, Decoded) ->
    Expected = [{mirred, maps:merge(#{action => redirect, direction => egress, index => 0,
                                      control => case maps:get(action, M, redirect) of
                                                     redirect -> stolen;
                                                     mirror -> pipe
                                                 end}, M)}
                || {mirred, M} <- Given],
    Expected = maps:get(actions, Decoded);
same(filter, u32, classid, {Major, Minor}, Decoded) ->
    {Major, Minor} = maps:get(classid, Decoded);
same(_, _, Key, Given, Decoded) ->
    Given = maps:get(Key, Decoded).

%% The matches as decoding gives them back: prefixes masked, a source and
%% destination port at one offset as one key in the place of the first.
merged(Ms) ->
    Ports = [M || {P, _} = M <- Ms, P =:= sport orelse P =:= dport],
    lists:flatmap(fun({src, {A, B, C, D}, L}) -> [{src, masked({A, B, C, D}, L), L}];
                     ({dst, IP, L}) -> [{dst, masked(IP, L), L}];
                     ({P, _} = M) when P =:= sport; P =:= dport ->
                         case hd(Ports) =:= M of
                             true -> lists:sort(fun({sport, _}, _) -> true;
                                                   (_, _) -> false
                                                end, Ports);
                             false -> []
                         end;
                     (M) -> [M]
                  end, Ms).

masked({A, B, C, D}, L) ->
    <<N:32>> = <<A, B, C, D>>,
    Mask = (16#ffffffff bsl (32 - L)) band 16#ffffffff,
    <<W, X, Y, Z>> = <<(N band Mask):32>>,
    {W, X, Y, Z}.

%% A whole qdisc, class or filter request decodes to its object.
requests_round_trip_test() ->
    Resolve = fun(_) -> {ok, 7} end,
    [begin
         {ok, #{payload := P}} = linx_tc_msg:request({new, 0}, O, Spec, Resolve),
         {ok, Got} = linx_tc_msg:decode(O, iolist_to_binary(P)),
         ?assertEqual(Want, maps:with(maps:keys(Want), Got))
     end || {O, Spec, Want} <-
                [{qdisc, #{link => <<"x">>, kind => pfifo, handle => <<"1:">>,
                           options => #{limit => 5}},
                  #{link => 7, kind => <<"pfifo">>, handle => {1, 0}, parent => root,
                    options => #{limit => 5}}},
                 {qdisc, #{link => 7, kind => clsact},
                  #{handle => {16#ffff, 0}, parent => ingress}},
                 {class, #{link => 7, kind => htb, parent => "1:", handle => "1:a",
                           options => #{rate => 8000}},
                  #{handle => {1, 10}, parent => {1, 0}}},
                 {filter, #{link => 7, kind => u32, parent => egress, prio => 9,
                            protocol => ipv6, chain => 3, handle => 16#80000800},
                  #{parent => egress, prio => 9, protocol => ipv6, chain => 3,
                    handle => 16#80000800}}]].

%% Random bytes as any kind's options, or as a message, never raise.
random_bytes_never_raise_test() ->
    Kinds = [{O, atom_to_binary(K)} || {O, K, _} <- kinds()]
        ++ [{qdisc, <<"ingress">>}, {qdisc, <<"sfq">>}],
    ?RUN(?FORALL({Bin, {O, K}}, {binary(), elements(Kinds)},
                 begin
                     _ = ?K:decode(O, K, Bin),
                     _ = linx_tc_msg:decode(O, Bin),
                     true
                 end), 2000).

%% Any spec, however wrong, gives a request or an error value: never an
%% exception.
random_specs_never_raise_test() ->
    Resolve = fun(L) when is_integer(L), L > 0 -> {ok, L};
                 (L) -> {error, {bad_link, L}}
              end,
    ?RUN(?FORALL({O, Spec}, {elements([qdisc, class, filter]), any_spec()},
                 case linx_tc_msg:request({new, 0}, O, Spec, Resolve) of
                     {ok, #{payload := _}} -> true;
                     {error, _} -> true
                 end), 3000).

any_spec() ->
    ?BIND({Base, Opts}, {some([{link, junk()}, {kind, elements([htb, tbf, pfifo, bfifo, netem,
                                                                u32, clsact, <<"sfq">>, 7])},
                               {handle, junk()}, {parent, junk()}, {prio, junk()},
                               {protocol, junk()}, {chain, junk()}, {colour, junk()}]),
                         oneof([junk(), some([{K, junk()} || K <- option_keys()])])},
          Base#{options => Opts}).

option_keys() ->
    [default, r2q, direct_qlen, rate, ceil, burst, cburst, prio, quantum, limit, latency,
     peakrate, mtu, delay, jitter, loss, loss_correlation, reorder, reorder_correlation, gap,
     corrupt, distribution, ecn, packet_overhead, cell_size, match, keys, classid, actions,
     terminal, hash, flags, version, level].

junk() ->
    oneof([integer(-2, 3), integer(0, 1 bsl 40), float(-1.0, 200.0), elements([root, ingress,
           egress, clsact, true, false, normal, x, mirred, redirect, mirror]),
           binary(), elements(["1:10", <<"ffff:">>, <<"1:2:3">>, "x"]),
           {integer(-1, 70000), integer(-1, 70000)},
           list(oneof([integer(-1, 70000), {elements([src, dst, protocol, sport, dport, u32]),
                                              integer(-1, 70000)},
                       {elements([src, dst]), {integer(0, 300), 0, 0, 1}, integer(-1, 33)},
                       {mirred, #{link => 1, action => mirror}},
                       #{value => 1, mask => 2, off => 3}]))]).

%%====================================================================
%% Generators: maps built after generation, keys a random subset
%%====================================================================

some(Pairs) ->
    ?BIND(Chosen, [oneof([none, {some, {K, G}}]) || {K, G} <- Pairs],
          maps:from_list([P || {some, P} <- Chosen])).

rate() -> ?BIND(N, integer(4000, 1 bsl 40), N * 8).
word() -> integer(0, 16#ffffffff).
pct() -> oneof([integer(0, 100), float(0.0, 100.0)]).

htb_qdisc() ->
    some([{default, integer(0, 16#ffff)}, {r2q, integer(1, 100000)},
          {direct_qlen, integer(0, 100000)}]).

htb_class() ->
    ?BIND({Rate, M}, {rate(), some([{ceil, rate()}, {burst, integer(0, 1 bsl 20)},
                                   {cburst, integer(0, 1 bsl 20)}, {prio, integer(0, 7)},
                                   {quantum, integer(0, 100000)}])},
         M#{rate => Rate}).

tbf() ->
    ?BIND({Rate, Burst, Limit, Peak},
         {rate(), integer(0, 1 bsl 20), integer(0, 1 bsl 30),
          oneof([none, {rate(), integer(64, 1 bsl 16)}])},
         case Peak of
             none -> #{rate => Rate, burst => Burst, limit => Limit};
             {P, Mtu} -> #{rate => Rate, burst => Burst, limit => Limit, peakrate => P,
                           mtu => Mtu}
         end).

fifo() ->
    some([{limit, word()}]).

netem() ->
    ?BIND({M, Rate}, {some([{delay, integer(0, 1 bsl 30)}, {jitter, integer(0, 1 bsl 30)},
                           {delay_correlation, pct()}, {loss, pct()},
                           {loss_correlation, pct()}, {duplicate, pct()},
                           {duplicate_correlation, pct()}, {reorder, pct()},
                           {reorder_correlation, pct()}, {gap, word()}, {corrupt, pct()},
                           {corrupt_correlation, pct()}, {limit, word()},
                           {ecn, boolean()},
                           {distribution, list(integer(-32768, 32767))}]),
                     oneof([none, some([{packet_overhead, integer(-1000, 1000)},
                                        {cell_size, integer(0, 10000)},
                                        {cell_overhead, integer(-100, 100)}])])},
         case {Rate, correlated(M)} of
             {none, M1} -> maps:remove(distribution, M1);
             {R, #{distribution := [_ | _]} = M1} -> maps:merge(M1, R#{rate => 8000000});
             {R, M1} -> maps:merge(maps:remove(distribution, M1), R#{rate => 8000})
         end).

u32_filter() ->
    ?BIND({Matches, Extra},
         {?BIND(Ms, some([{src, {src, ip(), integer(0, 32)}}, {dst, {dst, ip(), integer(0, 32)}},
                         {protocol, {protocol, integer(0, 255)}},
                         {sport, {sport, integer(0, 16#ffff)}},
                         {dport, {dport, integer(0, 16#ffff)}}]),
               shuffled(maps:values(Ms))),
          some([{classid, {integer(0, 16#ffff), integer(0, 16#ffff)}},
                {terminal, boolean()},
                {actions, list(mirred())}])},
         Extra#{match => Matches}).

%% A reorder or corrupt correlation only with its probability.
correlated(M) ->
    maps:without([C || {P, C} <- [{reorder, reorder_correlation}, {corrupt, corrupt_correlation}],
                       not is_map_key(P, M)], M).

shuffled(L) ->
    ?BIND(Keys, vector(length(L), integer(0, 1000)),
         [X || {_, X} <- lists:sort(lists:zip(Keys, L))]).

ip() -> {integer(0, 255), integer(0, 255), integer(0, 255), integer(0, 255)}.

mirred() ->
    ?BIND({M, Link}, {some([{action, elements([redirect, mirror])},
                           {direction, elements([egress, ingress])}]),
                     integer(1, 1 bsl 20)},
         {mirred, M#{link => Link}}).
