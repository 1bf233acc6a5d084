%% @doc Counters of the linx application, kept across port restarts:
%% requests and latency per op, errors per stage and errno, port starts,
%% port programs killed for not answering.
%%
%% A small process owns them; callers update them themselves, with no
%% message to any server. The latencies of the program's own ops are
%% `counters' (an atomic add each, a few tens of nanoseconds, where an
%% ETS update cost the hot path most of a microsecond); errors and any
%% other op go into a public ETS table. Latencies go into log-linear
%% microsecond buckets (as in HDR histograms): exact up to 31 µs, then 16
%% buckets per power of two, so a bucket's upper bound is at most 6.25%
%% above any latency in it. {@link linx:stats/0} reports p50 and p99 as
%% the upper bound of the bucket that holds them.
-module(linx_stats).
-behaviour(gen_server).

-export([start_link/0]).
-export([timed/2, timed/3, record/3, port_started/0, starts/0, port_hung/0]).
-export([snapshot/0, op_name/1]).

%% gen_server callbacks
-export([init/1, handle_call/3, handle_cast/2]).

-define(TAB, linx_stats).
%% Sub-buckets per power of two (2^?SUB_BITS): the relative error bound
%% is 1 / 2^?SUB_BITS.
-define(SUB_BITS, 4).
%% The ops whose latencies are counters, and the buckets each has (a
%% latency of 2^28 µs or more goes into the table).
-define(OPS, [sysctl_read, sysctl_write, sysctl_list, batch, netlink_open, socket_open,
              netlink_call, netlink_batch, netns_add, netns_delete, netns_list, netns_identify, netns_new,
              netns_release, netlink_bind_fd, ping, version, stats]).
-define(BUCKETS, 400).
-define(HIST, linx_stats_hist).

-type snapshot() :: #{requests := #{atom() => non_neg_integer()},
                      errors := #{{atom(), term()} => non_neg_integer()},
                      latency_us := #{atom() => #{p50 := non_neg_integer(),
                                                  p99 := non_neg_integer()}},
                      port_restarts := non_neg_integer(),
                      port_hangs := non_neg_integer()}.
-export_type([snapshot/0]).

%% @doc Starts the owner of the counters.
-spec start_link() -> {ok, pid()} | ignore | {error, term()}.
start_link() ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, [], []).

%% @doc Runs `Fun', the round trip of one request of `Op', and counts it
%% with its latency and result; returns the result.
-spec timed(term(), fun(() -> Result)) -> Result.
timed(Op, Fun) ->
    timed(Op, Fun, fun(Result) -> Result end).

%% @doc {@link timed/2} for a round trip whose return value holds the
%% result, such as `{Result, Acc}': `ResultOf(Return)' is what is
%% counted. Returns the return value.
-spec timed(term(), fun(() -> Return), fun((Return) -> term())) -> Return.
timed(Op, Fun, ResultOf) ->
    T0 = erlang:monotonic_time(microsecond),
    Return = Fun(),
    ok = record(Op, erlang:monotonic_time(microsecond) - T0, ResultOf(Return)),
    Return.

%% @doc Counts one request of `Op' that took `Micros' and gave `Result'.
-spec record(term(), non_neg_integer(), term()) -> ok.
record(Op, Micros, Result) ->
    ok = count_latency(op_name(Op), bucket(Micros)),
    case Result of
        {error, {Stage, Reason}} when is_atom(Stage) -> bump({err, Stage, Reason});
        {error, Reason} -> bump({err, Reason, none});
        _ -> ok
    end.

-spec count_latency(atom(), non_neg_integer()) -> ok.
count_latency(Name, Bucket) ->
    case persistent_term:get(?HIST, none) of
        {#{Name := Ix}, Counters} when Bucket < ?BUCKETS ->
            counters:add(Counters, Ix + Bucket, 1);
        _ ->
            bump({lat, Name, Bucket})
    end.

%% Adds one to the table's counter `Key'; nothing while there is no
%% table (the application is not running).
-spec bump(term()) -> ok.
bump(Key) ->
    try ets:update_counter(?TAB, Key, 1, {Key, 0}) of
        _ -> ok
    catch
        error:badarg -> ok
    end.

%% The latency counters as `{{lat, Op, Bucket}, N}' rows, those that are
%% not 0.
-spec latency_rows() -> [{{lat, atom(), non_neg_integer()}, pos_integer()}].
latency_rows() ->
    case persistent_term:get(?HIST, none) of
        {Index, Counters} ->
            [{{lat, Name, B}, N} || {Name, Ix} <- maps:to_list(Index), B <- lists:seq(0, ?BUCKETS - 1),
                                    N <- [counters:get(Counters, Ix + B)], N > 0];
        none ->
            []
    end.

%% @doc Counts a start of the port program.
-spec port_started() -> ok.
port_started() ->
    bump(starts).

%% @doc How many times the port program has started so far.
-spec starts() -> non_neg_integer().
starts() ->
    try ets:lookup(?TAB, starts) of
        [{starts, N}] -> N;
        [] -> 0
    catch
        error:badarg -> 0
    end.

%% @doc Counts a port program killed for not answering (see
%% {@link linx_port_watch}).
-spec port_hung() -> ok.
port_hung() ->
    bump(hangs).

%% @doc The counters as maps.
-spec snapshot() -> snapshot().
snapshot() ->
    Rows = latency_rows() ++ try ets:tab2list(?TAB) catch error:badarg -> [] end,
    Lat = lists:foldl(fun({{lat, Op, B}, N}, Acc) ->
                              maps:update_with(Op, fun(M) -> M#{B => maps:get(B, M, 0) + N} end,
                                               #{B => N}, Acc);
                         (_, Acc) -> Acc
                      end, #{}, Rows),
    Errors = maps:from_list([{{S, R}, N} || {{err, S, R}, N} <- Rows]),
    Starts = proplists:get_value(starts, Rows, 0),
    #{requests => maps:map(fun(_, Buckets) -> lists:sum(maps:values(Buckets)) end, Lat),
      errors => Errors,
      latency_us => maps:map(fun(_, Buckets) -> percentiles(Buckets) end, Lat),
      port_restarts => max(0, Starts - 1),
      port_hangs => proplists:get_value(hangs, Rows, 0)}.

-spec percentiles(#{non_neg_integer() => pos_integer()}) ->
          #{p50 := non_neg_integer(), p99 := non_neg_integer()}.
percentiles(Buckets) ->
    Sorted = lists:sort(maps:to_list(Buckets)),
    Total = lists:sum([N || {_, N} <- Sorted]),
    #{p50 => rank(Sorted, (Total + 1) div 2), p99 => rank(Sorted, max(1, (Total * 99 + 99) div 100))}.

%% The upper bound (µs) of the bucket holding the Rank-th sample.
-spec rank([{non_neg_integer(), pos_integer()}], pos_integer()) -> non_neg_integer().
rank([{B, N} | _], Rank) when Rank =< N -> upper(B);
rank([{_, N} | Rest], Rank) -> rank(Rest, Rank - N);
rank([], _) -> 0.

%% A latency's bucket: below 2^(SUB_BITS+1) the latency itself; above,
%% its top SUB_BITS+1 bits M (2^SUB_BITS =< M < 2^(SUB_BITS+1)) and the
%% shift S that drops the rest, as S * 2^SUB_BITS + M. Buckets sort as
%% their latencies do.
-spec bucket(non_neg_integer()) -> non_neg_integer().
bucket(Micros) ->
    case bit_length(Micros) - (?SUB_BITS + 1) of
        Shift when Shift =< 0 -> Micros;
        Shift -> (Shift bsl ?SUB_BITS) + (Micros bsr Shift)
    end.

%% The largest latency in bucket B.
-spec upper(non_neg_integer()) -> non_neg_integer().
upper(B) when B < 2 bsl ?SUB_BITS ->
    B;
upper(B) ->
    Shift = (B bsr ?SUB_BITS) - 1,
    M = (B band ((1 bsl ?SUB_BITS) - 1)) bor (1 bsl ?SUB_BITS),
    ((M + 1) bsl Shift) - 1.

-spec bit_length(non_neg_integer()) -> non_neg_integer().
bit_length(N) when N >= 16#100 -> 8 + bit_length(N bsr 8);
bit_length(N) when N >= 16#10 -> 4 + bit_length(N bsr 4);
bit_length(0) -> 0;
bit_length(N) -> 1 + bit_length(N bsr 1).

%% @doc The name an op is counted under: its first element.
-spec op_name(term()) -> atom().
op_name(Op) when is_atom(Op) -> Op;
op_name(Op) when is_tuple(Op), tuple_size(Op) > 0, is_atom(element(1, Op)) -> element(1, Op);
op_name(_) -> other.

%% @private
-spec init([]) -> {ok, undefined}.
init([]) ->
    ?TAB = ets:new(?TAB, [named_table, public, {write_concurrency, true}]),
    %% Op I's bucket B is counter I * BUCKETS + B + 1.
    Index = maps:from_list(lists:zip(?OPS, lists:seq(1, length(?OPS) * ?BUCKETS, ?BUCKETS))),
    ok = persistent_term:put(?HIST, {Index, counters:new(length(?OPS) * ?BUCKETS, [])}),
    {ok, undefined}.

%% @private
-spec handle_call(term(), gen_server:from(), undefined) -> {reply, ok, undefined}.
handle_call(_Request, _From, State) ->
    {reply, ok, State}.

%% @private
-spec handle_cast(term(), undefined) -> {noreply, undefined}.
handle_cast(_Msg, State) ->
    {noreply, State}.
