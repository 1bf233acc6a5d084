%% The output of `make bench': the table of rows made by
%% linx_bench_report (with notes, the summary and the load average) and the
%% same as JSON.
-module(linx_bench_table).

-export([print_machine/1, print/2, write_json/3]).
-export([us/1, group/1]).

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

%% The table, its notes and the summary, headed by the machine's load
%% average at the start and at the end of the run (other work on the
%% machine shows there).
print(Rows, Machine) ->
    Cells = [row_cells(R) || R <- Rows],
    Headers = [H || {H, _} <- ?COLUMNS],
    Aligns = [A || {_, A} <- ?COLUMNS],
    Widths = column_widths([Headers | Cells]),
    io:format("~nload average (1, 5, 15 min): ~ts at the start, ~ts at the end~n~n",
              [maps:get(loadavg, Machine), maps:get(loadavg_end, Machine)]),
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
cmp_sign(lt) -> "<";
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
    #{op => case Cmp of le -> <<"<=">>; lt -> <<"<">>; ge -> <<">=">> end,
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

