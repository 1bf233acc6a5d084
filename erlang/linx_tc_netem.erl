%% @doc netem's options both ways: `struct tc_netem_qopt' followed by the
%% `TCA_NETEM_*' attributes (not nested: netem's `TCA_OPTIONS' holds the
%% struct first), as tc sends them for the same options.
%%
%% Options: `delay' and `jitter' (microseconds), `delay_correlation',
%% `distribution' (`normal', `pareto', `paretonormal', `experimental':
%% iproute2's table of that name, or the table itself, a list of signed
%% 16-bit integers), `loss', `loss_correlation', `duplicate',
%% `duplicate_correlation', `reorder', `reorder_correlation', `gap',
%% `corrupt', `corrupt_correlation' (percent, 0 to 100), `rate' (bits per
%% second), `packet_overhead', `cell_size', `cell_overhead', `limit'
%% (packets, 1000 unless given), `ecn' (boolean).
-module(linx_tc_netem).

-export([encode/1, decode/1, distribution/1]).

-define(T, linx_tc_tables).
-define(U32_MAX, 16#ffffffff).

-define(KEYS, [delay, jitter, delay_correlation, distribution, loss, loss_correlation,
               duplicate, duplicate_correlation, reorder, reorder_correlation, gap, corrupt,
               corrupt_correlation, rate, packet_overhead, cell_size, cell_overhead, limit, ecn]).

%% Where iproute2 keeps its distribution tables on the common systems.
-define(DIST_DIRS, ["/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc",
                    "/usr/lib64/tc", "/usr/lib/tc", "/usr/share/tc"]).

%% @doc The bytes of netem's `TCA_OPTIONS' for `Opts'; throws `{Field,
%% Value}' for one that does not encode.
-spec encode(map()) -> iodata().
encode(Opts) ->
    case maps:keys(maps:without(?KEYS, Opts)) of
        [] -> ok;
        [K | _] -> throw({K, maps:get(K, Opts)})
    end,
    Delay = time(Opts, delay),
    Jitter = time(Opts, jitter),
    Qopt = #{latency => min(ticks(Delay), ?U32_MAX), jitter => min(ticks(Jitter), ?U32_MAX),
             limit => int(Opts, limit, 1000, ?U32_MAX), loss => pct(Opts, loss),
             gap => int(Opts, gap, 0, ?U32_MAX), duplicate => pct(Opts, duplicate)},
    {ok, Head} = linx_nl_attrs:encode_struct(?T:struct(netem_qopt), Qopt),
    %% tc sends the correlations with any of them, and with a reorder or
    %% a corrupt probability
    Corr = case lists:any(fun(K) -> is_map_key(K, Opts) end,
                          [delay_correlation, loss_correlation, duplicate_correlation,
                           reorder, corrupt]) of
               true -> [{corr, #{delay_corr => pct(Opts, delay_correlation),
                                 loss_corr => pct(Opts, loss_correlation),
                                 dup_corr => pct(Opts, duplicate_correlation)}}];
               false -> []
           end,
    Pairs = Corr
        ++ [{delay_dist, dist(maps:get(distribution, Opts))} || is_map_key(distribution, Opts)]
        ++ prob(Opts, reorder, reorder_correlation)
        ++ prob(Opts, corrupt, corrupt_correlation)
        ++ rate(Opts)
        ++ [{ecn, 1} || maps:get(ecn, Opts, false) =:= true]
        ++ [{latency64, Delay * 1000} || ticks(Delay) > ?U32_MAX]
        ++ [{jitter64, Jitter * 1000} || ticks(Jitter) > ?U32_MAX],
    is_boolean(maps:get(ecn, Opts, false)) orelse throw({ecn, maps:get(ecn, Opts)}),
    case linx_nl_attrs:encode({?T, netem}, Pairs) of
        {ok, Io} -> [Head, Io];
        {error, {bad_value, K2, V}} -> throw({K2, V})
    end.

prob(Opts, Key, CorrKey) ->
    case {is_map_key(Key, Opts), Opts} of
        {true, _} -> [{Key, #{probability => pct(Opts, Key), correlation => pct(Opts, CorrKey)}}];
        {false, #{CorrKey := V}} -> throw({CorrKey, V});
        {false, _} -> []
    end.

rate(#{rate := Bits} = Opts) when is_integer(Bits), Bits >= 8, Bits < 1 bsl 64 ->
    Rate = Bits div 8,
    Struct = #{rate => min(Rate, ?U32_MAX),
               packet_overhead => sint(Opts, packet_overhead),
               cell_size => int(Opts, cell_size, 0, ?U32_MAX),
               cell_overhead => sint(Opts, cell_overhead)},
    [{rate, Struct} | [{rate64, Rate} || Rate >= ?U32_MAX]];
rate(#{rate := Bits}) ->
    throw({rate, Bits});
rate(Opts) ->
    case [K || K <- [packet_overhead, cell_size, cell_overhead], is_map_key(K, Opts)] of
        [] -> [];
        [K | _] -> throw({K, maps:get(K, Opts)})
    end.

time(Opts, Key) -> int(Opts, Key, 0, 1 bsl 50).

ticks(Us) -> (Us * 1000 + 32) div 64.

int(Opts, Key, Default, Max) ->
    case Opts of
        #{Key := N} when is_integer(N), N >= 0, N =< Max -> N;
        #{Key := N} -> throw({Key, N});
        #{} -> Default
    end.

sint(Opts, Key) ->
    case Opts of
        #{Key := N} when is_integer(N), N >= -16#80000000, N =< 16#7fffffff -> N;
        #{Key := N} -> throw({Key, N});
        #{} -> 0
    end.

pct(Opts, Key) ->
    case Opts of
        #{Key := P} ->
            case linx_tc_values:percent(P) of
                {ok, N} -> N;
                error -> throw({Key, P})
            end;
        #{} ->
            0
    end.

dist(Name) when is_atom(Name) ->
    case distribution(Name) of
        {ok, Table} -> dist(Table);
        {error, _} -> throw({distribution, Name})
    end;
dist(Table) when is_list(Table), Table =/= [], length(Table) =< 16384 ->
    try << <<N:16/signed-native>> || N <- Table, is_integer(N), N >= -32768, N =< 32767 >> of
        Bin when byte_size(Bin) =:= 2 * length(Table) -> Bin;
        _ -> throw({distribution, Table})
    catch
        error:_ -> throw({distribution, Table})
    end;
dist(Other) ->
    throw({distribution, Other}).

%% @doc iproute2's distribution table `Name' (its file `Name.dist': a
%% text of signed integers, `#' starting a comment), from the first of
%% the usual directories that has it.
-spec distribution(atom()) -> {ok, [integer()]} | {error, {no_distribution, atom()}}.
distribution(Name) ->
    Files = [filename:join(D, atom_to_list(Name) ++ ".dist") || D <- ?DIST_DIRS],
    case [B || F <- Files, {ok, B} <- [file:read_file(F)]] of
        [Text | _] ->
            Lines = [hd(binary:split(L, <<"#">>)) || L <- binary:split(Text, <<"\n">>, [global])],
            Words = lists:append([string:lexemes(L, " \t\r") || L <- Lines]),
            try {ok, [binary_to_integer(W) || W <- Words]}
            catch error:badarg -> {error, {no_distribution, Name}}
            end;
        [] ->
            {error, {no_distribution, Name}}
    end.

%% @doc netem's options as a map (the distribution table, which the
%% kernel does not dump, is left out).
-spec decode(binary()) -> {ok, map()} | error.
decode(<<Head:24/binary, Attrs/binary>>) ->
    {ok, Q0, <<>>} = linx_nl_attrs:decode_struct(?T:struct(netem_qopt), Head),
    Q = maps:from_list(Q0),
    {ok, A} = linx_nl_attrs:decode({?T, netem}, Attrs),
    Delay = case A of
                #{latency64 := Ns} -> Ns div 1000;
                #{} -> us(maps:get(latency, Q))
            end,
    Jitter = case A of
                 #{jitter64 := JNs} -> JNs div 1000;
                 #{} -> us(maps:get(jitter, Q))
             end,
    Base = #{delay => Delay, jitter => Jitter, limit => maps:get(limit, Q),
             loss => pct(maps:get(loss, Q)), gap => maps:get(gap, Q),
             duplicate => pct(maps:get(duplicate, Q))},
    Corr = case A of
               #{corr := C0} ->
                   C = maps:from_list(C0),
                   #{delay_correlation => pct(maps:get(delay_corr, C)),
                     loss_correlation => pct(maps:get(loss_corr, C)),
                     duplicate_correlation => pct(maps:get(dup_corr, C))};
               #{} -> #{}
           end,
    Probs = maps:from_list(
              lists:append([[{K, pct(maps:get(probability, maps:from_list(P)))},
                             {CK, pct(maps:get(correlation, maps:from_list(P)))}]
                            || {K, CK} <- [{reorder, reorder_correlation},
                                           {corrupt, corrupt_correlation}],
                               P <- [maps:get(K, A, undefined)], P =/= undefined])),
    Rate = case A of
               #{rate := R0} ->
                   R = maps:from_list(R0),
                   Bytes = maps:get(rate64, A, maps:get(rate, R)),
                   #{rate => Bytes * 8, packet_overhead => maps:get(packet_overhead, R),
                     cell_size => maps:get(cell_size, R),
                     cell_overhead => maps:get(cell_overhead, R)};
               #{} -> #{}
           end,
    Ecn = #{ecn => maps:get(ecn, A, 0) =/= 0},
    {ok, maps:merge(maps:merge(Base, Corr), maps:merge(maps:merge(Probs, Rate), Ecn))};
decode(_) ->
    error.

us(Ticks) -> (Ticks * 64 + 500) div 1000.

pct(N) -> N * 100 / ?U32_MAX.
