%% @doc The options of each qdisc, class and filter kind linx types,
%% both ways: a map of what a user means (rates in bits per second,
%% sizes in bytes, times in microseconds, probabilities in percent) ⇄
%% the bytes of `TCA_OPTIONS', through the tables of
%% {@link linx_tc_tables}. A kind with no typing here takes and gives
%% its options as bytes. Pure, no I/O (but for a netem distribution
%% named by a file of iproute2's, read when asked for).
%% Sizes given with a rate travel as ticks ({@link linx_tc_values}).
-module(linx_tc_kinds).

-export([encode/4, decode/3]).

-import(linx_tc_values, [ticks/2, bytes/2]).

-define(T, linx_tc_tables).
-define(U32_MAX, 16#ffffffff).
-define(LINKLAYER_ETHERNET, 1).

%%====================================================================
%% Encoding
%%====================================================================

%% @doc `TCA_OPTIONS' of an object of `Kind' with the options `Opts':
%% `{ok, none}' when there are none to send, `{error, {Field, Value}}'
%% for a field that does not encode, `{error, {resolve, Error}}' when
%% the resolver could not find a filter action's link.
-spec encode(qdisc | class | filter, atom() | binary(), term(),
             linx_tc_values:resolver()) ->
          {ok, binary() | none} | {error, term()}.
encode(Object, Kind, Opts, Resolve) when is_binary(Kind) ->
    case known(Kind) of
        {ok, K} -> encode(Object, K, Opts, Resolve);
        error -> raw(Opts)
    end;
encode(Object, Kind, Opts, Resolve) when is_map(Opts) ->
    try enc(Object, Kind, Opts, Resolve) of
        none -> {ok, none};
        Io -> {ok, iolist_to_binary(Io)}
    catch
        throw:{error, _} = Error -> {error, {resolve, Error}};
        throw:{Field, Value} -> {error, {Field, Value}}
    end;
encode(_Object, _Kind, Opts, _Resolve) ->
    raw(Opts).

raw(Bin) when is_binary(Bin) -> {ok, Bin};
raw(Opts) when Opts =:= #{} -> {ok, none};
raw(Opts) -> {error, {options, Opts}}.

known(Bin) ->
    Names = [htb, tbf, pfifo, bfifo, ingress, clsact, netem, u32],
    case [K || K <- Names, atom_to_binary(K) =:= Bin] of
        [K] -> {ok, K};
        [] -> error
    end.

enc(qdisc, htb, Opts, _) ->
    %% version and direct_packets are the kernel's, read only
    only(Opts, [default, r2q, direct_qlen, version, direct_packets]),
    Init = #{version => 3, r2q => int(Opts, r2q, 10, ?U32_MAX),
             default => int(Opts, default, 0, ?U32_MAX)},
    attrs(htb, [{init, Init}] ++ opt(Opts, direct_qlen, ?U32_MAX));
enc(class, htb, Opts, _) ->
    %% level is the kernel's, read only
    only(Opts, [rate, ceil, burst, cburst, prio, quantum, level]),
    Rate = rate(Opts, rate, required),
    Ceil = rate(Opts, ceil, Rate),
    Burst = int(Opts, burst, Rate div 1000 + 1600, ?U32_MAX),
    CBurst = int(Opts, cburst, Ceil div 1000 + 1600, ?U32_MAX),
    Parms = maps:merge(maps:merge(ratespec(rate, Rate), ratespec(ceil, Ceil)),
                       #{buffer => ticks(Burst, Rate), cbuffer => ticks(CBurst, Ceil),
                         quantum => int(Opts, quantum, 0, ?U32_MAX),
                         prio => int(Opts, prio, 0, 7)}),
    attrs(htb, [{parms, Parms}] ++ rate64(rate64, Rate) ++ rate64(ceil64, Ceil));
enc(qdisc, tbf, Opts, _) ->
    only(Opts, [rate, burst, limit, latency, peakrate, mtu]),
    Rate = rate(Opts, rate, required),
    Burst = int(Opts, burst, required, ?U32_MAX),
    Peak = rate(Opts, peakrate, 0),
    Mtu = case Peak of
              0 -> 0;
              _ -> int(Opts, mtu, 1600, ?U32_MAX)
          end,
    Limit = case {Opts, Peak} of
                {#{limit := _}, _} -> int(Opts, limit, required, ?U32_MAX);
                {#{latency := _}, 0} -> latency_limit(Opts, Rate, Burst);
                {#{latency := _}, _} -> min(latency_limit(Opts, Rate, Burst),
                                            latency_limit(Opts, Peak, Mtu));
                _ -> throw({limit, missing})
            end,
    Limit =< ?U32_MAX orelse throw({latency, maps:get(latency, Opts)}),
    Parms = maps:merge(maps:merge(ratespec(rate, Rate), ratespec(peak, Peak)),
                       #{limit => Limit, buffer => ticks(Burst, Rate),
                         mtu => case Peak of
                                    0 -> 0;
                                    _ -> ticks(Mtu, Peak)
                                end}),
    attrs(tbf, [{parms, Parms}] ++ rate64(rate64, Rate) ++ rate64(prate64, Peak)
          ++ [{burst, Burst}]);
enc(qdisc, Fifo, Opts, _) when Fifo =:= pfifo; Fifo =:= bfifo ->
    only(Opts, [limit]),
    case Opts of
        #{limit := _} -> <<(int(Opts, limit, required, ?U32_MAX)):32/native>>;
        #{} -> none
    end;
enc(qdisc, Kind, Opts, _) when Kind =:= ingress; Kind =:= clsact ->
    only(Opts, []),
    none;
enc(qdisc, netem, Opts, _) ->
    linx_tc_netem:encode(Opts);
enc(filter, u32, Opts, Resolve) ->
    linx_tc_u32:encode(Opts, Resolve);
enc(_Object, _Kind, Opts, _) when Opts =:= #{} ->
    none;
enc(_Object, _Kind, Opts, _) ->
    throw({options, Opts}).

%% The limit of a queue that holds `latency' (microseconds) at `Rate'
%% (bytes per second), and a burst.
latency_limit(Opts, Rate, Burst) ->
    Latency = int(Opts, latency, required, 1 bsl 40),
    (Rate * Latency) div 1000000 + Burst.

ratespec(Prefix, Rate) ->
    Key = fun(F) -> list_to_atom(atom_to_list(Prefix) ++ "_" ++ atom_to_list(F)) end,
    #{Key(linklayer) => ?LINKLAYER_ETHERNET, Key(rate) => min(Rate, ?U32_MAX)}.

rate64(_Key, Rate) when Rate < ?U32_MAX -> [];
rate64(Key, Rate) -> [{Key, Rate}].

attrs(Table, Pairs) ->
    case linx_nl_attrs:encode({?T, Table}, Pairs) of
        {ok, Io} -> Io;
        {error, {bad_value, K, V}} -> throw({K, V})
    end.

only(Opts, Keys) ->
    case maps:keys(maps:without(Keys, Opts)) of
        [] -> ok;
        [K | _] -> throw({K, maps:get(K, Opts)})
    end.

int(Opts, Key, Default, Max) ->
    case Opts of
        #{Key := N} when is_integer(N), N >= 0, N =< Max -> N;
        #{Key := N} -> throw({Key, N});
        #{} when Default =:= required -> throw({Key, missing});
        #{} -> Default
    end.

opt(Opts, Key, Max) ->
    case Opts of
        #{Key := _} -> [{Key, int(Opts, Key, 0, Max)}];
        #{} -> []
    end.

%% A rate in bits per second as bytes per second.
rate(Opts, Key, Default) ->
    case Opts of
        #{Key := N} when is_integer(N), N >= 8, N < 1 bsl 64 -> N div 8;
        #{Key := N} -> throw({Key, N});
        #{} when Default =:= required -> throw({Key, missing});
        #{} -> Default
    end.

%%====================================================================
%% Decoding
%%====================================================================

%% @doc The options of `Kind' as a map, or their bytes when linx has no
%% typing for the kind or they do not decode.
-spec decode(qdisc | class | filter, binary() | undefined, binary()) -> map() | binary().
decode(Object, Kind, Bin) when is_binary(Kind) ->
    case known(Kind) of
        {ok, K} ->
            try dec(Object, K, Bin) of
                {ok, Map} -> Map;
                _ -> Bin
            catch
                error:_ -> Bin
            end;
        error ->
            Bin
    end;
decode(_Object, _Kind, Bin) ->
    Bin.

dec(qdisc, htb, Bin) ->
    {ok, #{init := Init} = M} = linx_nl_attrs:decode({?T, htb}, Bin),
    {ok, maps:merge(maps:with([direct_qlen], M),
                    maps:with([default, r2q, version, direct_packets], maps:from_list(Init)))};
dec(class, htb, Bin) ->
    {ok, #{parms := P0} = M} = linx_nl_attrs:decode({?T, htb}, Bin),
    P = maps:from_list(P0),
    Rate = big(M, rate64, maps:get(rate_rate, P)),
    Ceil = big(M, ceil64, maps:get(ceil_rate, P)),
    {ok, #{rate => Rate * 8, ceil => Ceil * 8, burst => bytes(maps:get(buffer, P), Rate),
           cburst => bytes(maps:get(cbuffer, P), Ceil), prio => maps:get(prio, P),
           quantum => maps:get(quantum, P), level => maps:get(level, P)}};
dec(qdisc, tbf, Bin) ->
    {ok, #{parms := P0} = M} = linx_nl_attrs:decode({?T, tbf}, Bin),
    P = maps:from_list(P0),
    Rate = big(M, rate64, maps:get(rate_rate, P)),
    Peak = big(M, prate64, maps:get(peak_rate, P)),
    Base = #{rate => Rate * 8, burst => bytes(maps:get(buffer, P), Rate),
             limit => maps:get(limit, P)},
    {ok, case Peak of
             0 -> Base;
             _ -> Base#{peakrate => Peak * 8, mtu => bytes(maps:get(mtu, P), Peak)}
         end};
dec(qdisc, Fifo, <<Limit:32/native>>) when Fifo =:= pfifo; Fifo =:= bfifo ->
    {ok, #{limit => Limit}};
dec(qdisc, Kind, _Bin) when Kind =:= ingress; Kind =:= clsact ->
    {ok, #{}};
dec(qdisc, netem, Bin) ->
    linx_tc_netem:decode(Bin);
dec(filter, u32, Bin) ->
    linx_tc_u32:decode(Bin);
dec(_Object, _Kind, _Bin) ->
    error.

big(M, Key, Small) ->
    case M of
        #{Key := N} -> N;
        #{} -> Small
    end.
