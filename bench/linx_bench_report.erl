%% The report of `make bench': one row per case with its target, the
%% table and notes printed at the end, the machine it ran on, and the same
%% as JSON.
-module(linx_bench_report).

-include("linx_bench.hrl").

-export([row_ping/1, row_read/2, row_nsenter/2, row_cached/1, row_no_cache/2,
         row_list/1, row_netlink/1, row_rss/2, row_port_start/1, row_app_start/1,
         row_batch/1, row_cnode/1]).
-export([machine_info/0, loadavg/0, print_machine/1, print_table/1, write_json/3]).

%%====================================================================
%% Rows
%%====================================================================

%% A row of the report. `target' is {le | ge, Limit, Of}, Of one of
%% ratio, p50 and ops; `met' is derived from it unless given.
row(Id, Name, Fields) ->
    Row = maps:merge(#{id => Id, name => Name, status => ok, unit => us,
                       p50 => undefined, p99 => undefined, ops => undefined,
                       baseline => undefined, ratio => undefined,
                       target => undefined, note => "", extra => #{}},
                     Fields),
    Row#{met => maps:get(met, Fields, met(Row))}.

%% A case that could not run: the cells say n/a and the note says why.
na_row(Id, Name, Target, Why) ->
    row(Id, Name, #{status => na, target => Target, note => Why, met => undefined}).

met(#{status := na}) -> undefined;
met(#{target := undefined}) -> undefined;
met(#{target := {Cmp, Limit, Of}} = Row) -> compare(Cmp, maps:get(Of, Row), Limit).

compare(_, undefined, _) -> undefined;
compare(le, Value, Limit) -> Value =< Limit;
compare(ge, Value, Limit) -> Value >= Limit.

latency(#{p50 := P50, p99 := P99, ops := Ops, n := N} = Stats) ->
    Errors = length(maps:get(errors, Stats, [])),
    #{p50 => P50, p99 => P99, ops => Ops, extra => #{samples => N, errors => Errors}}.

with(Fields, Stats) ->
    maps:merge(latency(Stats), Fields).

row_ping(Ping) ->
    row(<<"P1a">>, "ping",
        with(#{baseline => {?ECHO_REF_US, us, "echo port (ref.)"},
               ratio => maps:get(p50, Ping) / ?ECHO_REF_US,
               note => "bare {packet,4} echo through linx_port; the baseline of P1b"},
             Ping)).

row_read(Read, Ping) ->
    row(<<"P1b">>, "read netns",
        with(#{baseline => {maps:get(p50, Ping), us, "ping"},
               ratio => maps:get(p50, Read) / maps:get(p50, Ping),
               target => {le, 1.3, ratio},
               note => linx_bench:fmt("p50(read) - p50(ping) = ~ts µs; interleaved with P1a in blocks of ~b",
                           [us(maps:get(p50, Read) - maps:get(p50, Ping)), ?SEQ_BLOCK])},
             Read)).

row_nsenter(Nsenter, Read) ->
    row(<<"P1c">>, "nsenter cat",
        with(#{baseline => {maps:get(p50, Read), us, "read"},
               ratio => maps:get(p50, Nsenter) / maps:get(p50, Read),
               target => {ge, 40, ratio}},
             Nsenter)).

row_cached({na, Why}) ->
    na_row(<<"P2a">>, "32 callers, 4 netns, cached", {ge, 100000, ops}, Why);
row_cached(Load) ->
    row(<<"P2a">>, "32 callers, 4 netns, cached",
        with(#{target => {ge, 100000, ops}, note => load_note(Load)}, Load)).

row_no_cache({na, Why}, _Cached) ->
    na_row(<<"P2b">>, "same, worker cache off", {ge, 3, ratio}, Why);
row_no_cache(_NoCache, {na, _}) ->
    na_row(<<"P2b">>, "same, worker cache off", {ge, 3, ratio}, "P2a did not run");
row_no_cache(NoCache, Cached) ->
    row(<<"P2b">>, "same, worker cache off",
        with(#{baseline => {maps:get(ops, Cached), ops, "P2a"},
               ratio => maps:get(ops, Cached) / maps:get(ops, NoCache),
               target => {ge, 3, ratio},
               note => "ratio = rate(P2a) / rate(P2b); " ++ load_note(NoCache)},
             NoCache)).

load_note(#{errors := Errors}) ->
    linx_bench:fmt("~b callers for ~.1f s after ~.1f s warm-up~ts",
        [?LOAD_PROCS, ?LOAD_RUN_MS / 1000, ?LOAD_WARM_MS / 1000, linx_bench_cases:errors_text(Errors)]).

row_list(#{sysctl := Sysctl, keys := Keys} = List) ->
    Equal = maps:get(plus, Keys) =:= [] andalso maps:get(minus, Keys) =:= [],
    Row = row(<<"P3">>, "list whole tree",
              with(#{baseline => {maps:get(p50, Sysctl), us, "sysctl -a"},
                     ratio => maps:get(p50, List) / maps:get(p50, Sysctl),
                     target => {le, 0.5, ratio},
                     note => keys_note(Keys, Equal)},
                   List)),
    Row#{met := maps:get(met, Row) andalso Equal,
         extra := (maps:get(extra, Row))#{keys_equal => Equal,
                                           keys => maps:get(count, Keys),
                                           keys_plus => maps:get(plus, Keys),
                                           keys_minus => maps:get(minus, Keys),
                                           keys_empty_value => maps:get(empty, Keys),
                                           sysctl_p99_us => maps:get(p99, Sysctl)}}.

keys_note(Keys, Equal) ->
    #{count := Count, plus := Plus, minus := Minus, hidden := Hidden, empty := Empty} = Keys,
    Yes = case Equal of true -> "yes"; false -> "no" end,
    linx_bench:fmt("keys equal: ~ts (+~b -~b), ~b keys (~b in slash form)~ts; compared with "
        "`sysctl -a --deprecated`, since plain `sysctl -a` (the one timed) hides ~b "
        "deprecated key(s)~ts; not counted: ~b key(s) with an empty value, for which "
        "sysctl prints no line (~ts)",
        [Yes, length(Plus), length(Minus), Count, maps:get(slash, Keys),
         key_sample(Plus, Minus), length(Hidden), example(Hidden), length(Empty),
         key_list(Empty)]).

key_sample([], []) -> "";
key_sample(Plus, Minus) ->
    linx_bench:fmt(" [only linx: ~ts; only sysctl: ~ts]", [key_list(Plus), key_list(Minus)]).

key_list([]) -> "-";
key_list(Keys) when length(Keys) =< 5 -> lists:join(", ", [binary_to_list(K) || K <- Keys]);
key_list(Keys) -> key_list(lists:sublist(Keys, 5)) ++ linx_bench:fmt(" and ~b more", [length(Keys) - 5]).

example([]) -> "";
example([K | _]) -> linx_bench:fmt(", e.g. ~ts", [K]).

row_netlink({na, Why}) ->
    na_row(<<"P4">>, "netlink open", {le, 150, p50}, Why);
row_netlink(Open) ->
    row(<<"P4">>, "netlink open",
        with(#{target => {le, 150, p50}, note => "route socket in a netns; the close is not timed"},
             Open)).

row_rss(Idle, Loaded) ->
    row(<<"P5a">>, "idle RSS",
        #{unit => kb, p50 => Idle, target => {le, 5120, p50},
          note => linx_bench:fmt("VmRSS of a fresh port after ~b ms idle; ~b kB right after the load runs",
                      [?IDLE_WAIT_MS, Loaded]),
          extra => #{rss_after_load_kb => Loaded}}).

row_port_start(Start) ->
    row(<<"P5b">>, "start to ready (port)",
        with(#{target => {le, 20000, p50}, ops => undefined,
               note => "open_port of priv/linx_port until its ready frame"},
             Start)).

row_app_start(Start) ->
    row(<<"P5b'">>, "start to ready (app restart)",
        with(#{target => {le, 20000, p50}, ops => undefined,
               note => "application:ensure_all_started(linx) after application:stop(linx)"},
             Start)).

row_batch({na, Why}) ->
    na_row(<<"P6">>, "batch of 100 reads", undefined, Why);
row_batch({Batch, Seq}) ->
    Row = row(<<"P6">>, "batch of 100 reads",
              with(#{baseline => {maps:get(p50, Seq), us, "100 reads"},
                     ratio => maps:get(p50, Batch) / maps:get(p50, Seq),
                     note => "per batch; ops/s counts reads; baseline: 100 sequential "
                             "sysctl_read port requests"},
                   Batch)),
    Row#{ops := maps:get(ops, Row) * ?BATCH_SIZE}.

row_cnode({na, Why}) ->
    na_row(<<"P7">>, "C-node call", {le, 1.2, ratio}, Why);
row_cnode({Cnode, Erl}) ->
    row(<<"P7">>, "C-node call",
        with(#{baseline => {maps:get(p50, Erl), us, "Erlang node"},
               ratio => maps:get(p50, Cnode) / maps:get(p50, Erl),
               target => {le, 1.2, ratio},
               note => linx_bench:fmt("gen_server:call({linx, CNode}, {ping, <<>>}) vs the same call to a "
                           "gen_server on a peer node, both on this host; interleaved in blocks "
                           "of ~b", [?SEQ_BLOCK])},
             Cnode)).

%%====================================================================
%% Printing
%%====================================================================

print_machine(M) ->
    io:format("~nlinx benchmarks — ~b cores, Linux ~ts, OTP ~ts, linx_port ~ts, load ~ts~n~n",
              [maps:get(nproc, M), maps:get(uname_r, M), maps:get(otp_release, M),
               maps:get(linx_port, M), maps:get(loadavg, M)]).

-define(COLUMNS, [{"case", left}, {"p50 (µs)", right}, {"p99 (µs)", right},
                  {"ops/s", right}, {"baseline", left}, {"ratio", right},
                  {"target", left}, {"met?", left}]).

print_table(Rows) ->
    Cells = [row_cells(R) || R <- Rows],
    Headers = [H || {H, _} <- ?COLUMNS],
    Aligns = [A || {_, A} <- ?COLUMNS],
    Widths = column_widths([Headers | Cells]),
    io:format("~n"),
    print_line(Headers, Widths, [left || _ <- Aligns]),
    print_line([lists:duplicate(W, $-) || W <- Widths], Widths, Aligns),
    lists:foreach(fun(C) -> print_line(C, Widths, Aligns) end, Cells),
    print_notes(Rows),
    print_summary(Rows).

column_widths(Lines) ->
    lists:foldl(fun(Line, Ws) -> [max(W, string:length(C)) || {W, C} <- lists:zip(Ws, Line)] end,
                [0 || _ <- ?COLUMNS], Lines).

print_line(Cells, Widths, Aligns) ->
    Padded = [pad(C, W, A) || {C, W, A} <- lists:zip3(Cells, Widths, Aligns)],
    io:format("~ts~n", [string:trim(lists:join("  ", Padded), trailing)]).

pad(Text, Width, Align) ->
    Fill = lists:duplicate(Width - string:length(Text), $\s),
    case Align of
        left -> [Text, Fill];
        right -> [Fill, Text]
    end.

row_cells(#{status := na} = Row) ->
    [case_label(Row), "n/a", "n/a", "n/a", "n/a", "n/a", target_cell(Row), "n/a"];
row_cells(Row) ->
    [case_label(Row), value_cell(maps:get(p50, Row), Row), value_cell(maps:get(p99, Row), Row),
     rate_cell(maps:get(ops, Row)), baseline_cell(maps:get(baseline, Row)),
     ratio_cell(maps:get(ratio, Row)), target_cell(Row), met_cell(maps:get(met, Row))].

case_label(#{id := Id, name := Name}) ->
    linx_bench:fmt("~-5ts ~ts", [Id, Name]).

value_cell(undefined, _Row) -> "—";
value_cell(Kb, #{unit := kb}) -> group(Kb) ++ " kB";
value_cell(Us, _Row) -> us(Us).

rate_cell(undefined) -> "—";
rate_cell(Ops) -> group(round(Ops)).

baseline_cell(undefined) -> "—";
baseline_cell({Value, us, What}) -> linx_bench:fmt("~ts ~ts µs", [What, us(Value)]);
baseline_cell({Value, ops, What}) -> linx_bench:fmt("~ts ~ts/s", [What, group(round(Value))]).

ratio_cell(undefined) -> "—";
ratio_cell(R) when R >= 10 -> linx_bench:fmt("~.1f×", [R]);
ratio_cell(R) -> linx_bench:fmt("~.2f×", [R]).

target_cell(#{target := undefined}) -> "info";
target_cell(#{target := {Cmp, Limit, Of}} = Row) -> [cmp_sign(Cmp), " ", limit(Limit, Of, Row)].

cmp_sign(le) -> "≤";
cmp_sign(ge) -> "≥".

limit(Limit, ratio, _Row) -> linx_bench:fmt("~tp×", [Limit]);
limit(Limit, ops, _Row) -> group(Limit) ++ "/s";
limit(Limit, p50, #{unit := kb}) -> group(Limit) ++ " kB";
limit(Limit, p50, _Row) when Limit >= 1000 -> linx_bench:fmt("~tp ms", [Limit div 1000]);
limit(Limit, p50, _Row) -> linx_bench:fmt("~tp µs", [Limit]).

met_cell(true) -> "yes";
met_cell(false) -> "NO";
met_cell(undefined) -> "—".

%% µs with a precision that suits the size.
us(X) when X < 10 -> linx_bench:fmt("~.2f", [X]);
us(X) when X < 1000 -> linx_bench:fmt("~.1f", [X]);
us(X) -> group(round(X)).

%% An integer with thousands separators.
group(N) when N < 0 -> "-" ++ group(-N);
group(N) when N < 1000 -> integer_to_list(N);
group(N) -> group(N div 1000) ++ linx_bench:fmt(",~3..0b", [N rem 1000]).

print_notes(Rows) ->
    io:format("~nnotes:~n"),
    lists:foreach(fun print_note/1, Rows).

print_note(#{note := ""}) -> ok;
print_note(#{id := Id, note := Note}) -> io:format("  ~-5ts ~ts~n", [Id, Note]).

print_summary(Rows) ->
    Judged = [M || #{met := M} <- Rows, M =/= undefined],
    NotRun = length([R || #{status := na} = R <- Rows]),
    io:format("~ntargets met: ~b of ~b (~b case(s) n/a)~n",
              [length([M || M <- Judged, M]), length(Judged), NotRun]).


%%====================================================================
%% Machine information
%%====================================================================

machine_info() ->
    #{nproc => list_to_integer(cmd_line("nproc")),
      uname_r => cmd_line("uname -r"),
      otp_release => erlang:system_info(otp_release),
      erts => erlang:system_info(version),
      schedulers => erlang:system_info(schedulers_online),
      cpu => cpu_model(),
      loadavg => loadavg(),
      linx_port => binary_to_list(maps:get(version, linx_port:info())),
      git => cmd_line("git describe --always --dirty 2>/dev/null"),
      date => calendar:system_time_to_rfc3339(erlang:system_time(second), [{offset, "Z"}])}.

cmd_line(Cmd) ->
    string:trim(os:cmd(Cmd)).

cpu_model() ->
    case file:read_file("/proc/cpuinfo") of
        {ok, Info} ->
            case re:run(Info, "^model name\\s*:\\s*(.*)$", [multiline, {capture, all_but_first, list}]) of
                {match, [Model]} -> Model;
                nomatch -> "unknown"
            end;
        {error, _} ->
            "unknown"
    end.

loadavg() ->
    case file:read_file("/proc/loadavg") of
        {ok, Bin} -> lists:join(" ", lists:sublist(string:lexemes(binary_to_list(Bin), " "), 3));
        {error, _} -> "unknown"
    end.

%%====================================================================
%% JSON
%%====================================================================

write_json(File, Machine, Rows) ->
    Doc = #{machine => json_strings(Machine),
            cases => [row_json(R) || R <- Rows],
            summary => #{met => length([R || #{met := true} = R <- Rows]),
                         judged => length([R || #{met := M} = R <- Rows, M =/= undefined])}},
    ok = filelib:ensure_dir(File),
    file:write_file(File, [json(Doc, 0), "\n"]).

json_strings(Map) ->
    maps:map(fun(_, V) when is_list(V) -> text(V); (_, V) -> V end, Map).

row_json(Row) ->
    Status = case maps:get(status, Row) of ok -> <<"ok">>; na -> <<"n/a">> end,
    Base = row_json_base(Row),
    maps:merge(Base#{status => Status, unit => unit_json(maps:get(unit, Row)),
                     p50 => maps:get(p50, Row), p99 => maps:get(p99, Row),
                     ops_per_s => maps:get(ops, Row),
                     baseline => baseline_json(maps:get(baseline, Row)),
                     ratio => maps:get(ratio, Row)},
               maps:get(extra, Row)).

row_json_base(#{id := Id, name := Name, note := Note, met := Met} = Row) ->
    #{id => Id, name => text(Name), note => text(Note), met => Met,
      target => target_json(maps:get(target, Row), maps:get(unit, Row))}.

baseline_json(undefined) -> undefined;
baseline_json({Value, Unit, What}) -> #{value => Value, unit => unit_json(Unit), what => text(What)}.

target_json(undefined, _) -> undefined;
target_json({Cmp, Limit, Of}, Unit) ->
    #{op => case Cmp of le -> <<"<=">>; ge -> <<">=">> end,
      value => Limit,
      applies_to => atom_to_binary(Of),
      unit => case Of of ratio -> <<"x">>; ops -> <<"ops/s">>; p50 -> unit_json(Unit) end}.

unit_json(us) -> <<"us">>;
unit_json(kb) -> <<"kB">>;
unit_json(ops) -> <<"ops/s">>.

text(Chars) ->
    unicode:characters_to_binary(Chars).

%% A small JSON encoder: maps (keys sorted), lists, binaries (UTF-8
%% strings), numbers, true/false, undefined as null, other atoms as strings.
json(Map, _Indent) when is_map(Map), map_size(Map) =:= 0 ->
    "{}";
json(Map, Indent) when is_map(Map) ->
    Members = [[json_string(key_text(K)), ": ", json(V, Indent + 2)]
               || {K, V} <- lists:sort(maps:to_list(Map))],
    block("{", "}", Members, Indent);
json([], _Indent) ->
    "[]";
json(List, Indent) when is_list(List) ->
    block("[", "]", [json(V, Indent + 2) || V <- List], Indent);
json(Bin, _Indent) when is_binary(Bin) ->
    json_string(Bin);
json(Int, _Indent) when is_integer(Int) ->
    integer_to_list(Int);
json(Float, _Indent) when is_float(Float) ->
    float_to_list(Float, [{decimals, 3}, compact]);
json(undefined, _Indent) ->
    "null";
json(Bool, _Indent) when is_boolean(Bool) ->
    atom_to_list(Bool);
json(Atom, _Indent) when is_atom(Atom) ->
    json_string(atom_to_binary(Atom)).

block(Open, Close, Items, Indent) ->
    Inner = lists:duplicate(Indent + 2, $\s),
    [Open, "\n", Inner, lists:join([",\n", Inner], Items), "\n",
     lists:duplicate(Indent, $\s), Close].

key_text(K) when is_atom(K) -> atom_to_binary(K);
key_text(K) when is_binary(K) -> K.

json_string(Bin) ->
    [$", [json_char(C) || <<C>> <= Bin], $"].

json_char($") -> "\\\"";
json_char($\\) -> "\\\\";
json_char($\n) -> "\\n";
json_char($\t) -> "\\t";
json_char(C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
json_char(C) -> C.

