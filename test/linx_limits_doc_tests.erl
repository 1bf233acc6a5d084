%% @doc docs/limits.md states every cap the program enforces, with the
%% value the source holds: each constant below is read from the Rust
%% source and must appear, rendered as the table renders it, in the row
%% the table gives it. A cap changed in the source, or one added to this
%% list and missing from the table, fails here.
-module(linx_limits_doc_tests).

-include_lib("eunit/include/eunit.hrl").

%% {Source file, constant, how the table writes it, the row's first cell}
-define(CAPS,
        [{"src/frame.rs", "MAX_FRAME", mib, "frame"},
         {"src/ops/sysctl.rs", "MAX_VALUE", mib, "value read"},
         {"src/ops/sysctl.rs", "MAX_VALUE", mib, "value in a list"},
         {"src/ops/sysctl.rs", "MAX_DEPTH", levels, "list"},
         {"src/ops/sysctl.rs", "MAX_LIST_BYTES", mib, "list"},
         {"src/dispatch/request.rs", "MAX_BATCH", count, "batch"},
         {"src/dispatch/request.rs", "MAX_NS_FDS", count,
          "namespace descriptors in one netlink call"},
         {"src/wire/etf_check.rs", "MAX_DEPTH", levels, "ETF request"},
         {"src/wire/etf_check.rs", "MAX_TERMS", count, "ETF request"},
         {"src/ns/held.rs", "MAX_HELD", count, "held namespaces"},
         {"src/cnode/limits.rs", "MAX_HANDSHAKES", count, "C-node handshakes"},
         {"src/cnode/limits.rs", "MAX_HANDSHAKES_PER_PEER", count, "C-node handshakes"},
         {"src/cnode/limits.rs", "MAX_CONNECTIONS", count, "C-node connections"},
         {"src/cnode/limits.rs", "MAX_CONNECTIONS_PER_PEER", count, "C-node connections"},
         {"src/cnode/out.rs", "MAX_PENDING", mib, "C-node output"}]).

caps_in_table_test_() ->
    Table = rows(read("docs/limits.md")),
    [{Const ++ " in row " ++ Row,
      fun() ->
              Value = constant(read(File), Const),
              Text = render(Kind, Value),
              case lists:keyfind(Row, 1, Table) of
                  false ->
                      ?assertEqual({row, Row}, missing);
                  {_, Line} ->
                      ?assertMatch({Text, {_, _}},
                                   {Text, binary:match(Line, list_to_binary(Text))})
              end
      end}
     || {File, Const, Kind, Row} <- ?CAPS].

%% The reader of constants and the renderer, on made-up input.
parse_test_() ->
    Src = <<"/// doc\npub const A: usize = 16 << 20;\nconst B: usize = 10_000;\n"
            "pub const C: u64 = 4096;\n">>,
    [?_assertEqual(16 bsl 20, constant(Src, "A")),
     ?_assertEqual(10000, constant(Src, "B")),
     ?_assertEqual(4096, constant(Src, "C")),
     ?_assertError({no_constant, "D"}, constant(Src, "D")),
     ?_assertEqual("16 MiB", render(mib, 16 bsl 20)),
     ?_assertEqual("4,096", render(count, 4096)),
     ?_assertEqual("262,144", render(count, 1 bsl 18)),
     ?_assertEqual("10,000", render(count, 10000)),
     ?_assertEqual("16", render(count, 16)),
     ?_assertEqual("32 levels", render(levels, 32))].

%%====================================================================
%% Helpers
%%====================================================================

read(Rel) ->
    {ok, Bin} = file:read_file(filename:join(root(), Rel)),
    Bin.

root() ->
    %% eunit runs from the project root, or from _build/test/lib/linx.
    Here = filename:dirname(code:which(?MODULE)),
    hd([D || D <- [".", filename:join(Here, "../../../../.."), filename:join(Here, "..")],
             filelib:is_regular(filename:join(D, "docs/limits.md"))]).

constant(Src, Name) ->
    Re = "(?m)^\\s*(?:pub )?const " ++ Name ++ ": \\w+ = ([0-9_]+)(?: << ([0-9]+))?;",
    case re:run(Src, Re, [{capture, all_but_first, list}]) of
        {match, [N]} -> int(N);
        {match, [N, ""]} -> int(N);
        {match, [N, Shift]} -> int(N) bsl int(Shift);
        nomatch -> erlang:error({no_constant, Name})
    end.

int(Digits) -> list_to_integer([C || C <- Digits, C =/= $_]).

render(mib, Bytes) -> integer_to_list(Bytes bsr 20) ++ " MiB";
render(levels, N) -> integer_to_list(N) ++ " levels";
render(count, N) -> thousands(integer_to_list(N)).

thousands(Digits) when length(Digits) =< 3 -> Digits;
thousands(Digits) ->
    {Head, Tail} = lists:split(length(Digits) - 3, Digits),
    thousands(Head) ++ "," ++ Tail.

%% [{FirstCell, WholeLine}] of the table's rows.
rows(Doc) ->
    [{string:trim(binary_to_list(First)), Line}
     || Line <- binary:split(Doc, <<"\n">>, [global]),
        <<"| ", Rest/binary>> <- [Line],
        [First | _] <- [binary:split(Rest, <<" |">>)]].
