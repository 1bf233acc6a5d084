%% @doc Each rtnetlink attribute number is written once in erlang/: in an
%% entry of a table of linx_rtnl_tables.
%%
%% (a) Within each table (every clause of `table/1', the kind tables
%% included), attribute numbers are unique, keys are unique and numbers
%% fit an attribute type; the fields of each struct (fixed headers, struct
%% codecs) have unique keys.
%% (b) No module of erlang/ but linx_rtnl_tables defines or uses a macro
%% named `IFLA_*', `IFA_*', `RTA_*', `NDA_*', `IFLA_INFO_*', `VETH_INFO_*'
%% or `IFLA_BR_*' (read from the tokens of every .erl and .hrl, so
%% comments and strings do not count).
%% (c) Each entry a table returns is written once in the source of
%% linx_rtnl_tables, in that table's clause, and that clause writes no
%% entry the table does not return; a nested table is named by one entry
%% of one table, or by `kind_table/1' for one kind.
%% (d) No other module writes a netlink attribute with a literal number
%% (`{3, {string, Name}}'), except linx_genl for the attributes of
%% generic netlink's own control family.
%%
%% The first tests run each checker on made-up tables and sources, so
%% each kind of breakage is shown to be caught.
-module(linx_attr_numbers_tests).

-include_lib("eunit/include/eunit.hrl").

-define(TABLES, linx_rtnl_tables).

%% The prefixes of the macros only linx_rtnl_tables may hold (it holds
%% the numbers themselves, not macros).
-define(PREFIXES, ["IFLA_", "IFA_", "RTA_", "NDA_", "IFLA_INFO_", "VETH_INFO_", "IFLA_BR_"]).

%% Modules that write attributes with literal numbers of another family.
-define(OTHER_FAMILIES, [linx_genl]).

%%====================================================================
%% The checkers on made-up input: each catches its breakage
%%====================================================================

table_checker_test_() ->
    [?_assertEqual([], table_problems([{1, a, u8}, {2, b, string, [spread]}])),
     ?_assertEqual([{duplicate_numbers, [1]}],
                   table_problems([{1, a, u8}, {1, b, u8}])),
     ?_assertEqual([{duplicate_keys, [a]}],
                   table_problems([{1, a, u8}, {2, a, u32}])),
     ?_assertEqual([{duplicate_numbers, [3]}, {duplicate_keys, [a]}],
                   table_problems([{3, a, u8}, {3, a, u8}])),
     ?_assertEqual([{bad_numbers, [16#4000]}], table_problems([{16#4000, a, u8}])),
     ?_assertEqual([{duplicate_struct_fields, [x]}],
                   table_problems([{1, s, {struct, [{x, u8}, {'_', u8}, {'_', u8}, {x, u16}]}}])),
     ?_assertEqual([{duplicate_struct_fields, [y]}],
                   table_problems([{1, l, {list, 2, {struct, [{y, u8}, {y, u8}]}}}]))].

macro_checker_test_() ->
    Text = <<"-module(m).\n"
             "-define(IFLA_MTU, 4).\n"
             "-define( RTA_DST , 1).\n"
             "-define('NDA_DST', 1).\n"
             "-define(IFA_F_X(A), A).\n"
             "%% ?IFLA_IFNAME in a comment, -define(IFA_LABEL, 3).\n"
             "f() -> {?IFLA_INFO_KIND, \"?VETH_INFO_PEER\", ?IFLA_BR_PRIORITY, ? IFA_LABEL}.\n"
             "g() -> {?IFLA, ?RTAX_MTU, 'IFLA_X', ?NLA_F_NESTED}.\n">>,
    ?_assertEqual([{2, define, 'IFLA_MTU'}, {3, define, 'RTA_DST'}, {4, define, 'NDA_DST'},
                   {5, define, 'IFA_F_X'}, {7, use, 'IFLA_INFO_KIND'},
                   {7, use, 'IFLA_BR_PRIORITY'}, {7, use, 'IFA_LABEL'}],
                  macros(Text)).

written_once_checker_test_() ->
    Source = <<"-module(t).\n"
               "table(a) -> {[{1, x, u8}, {2, y, {nested, {?MODULE, b}}}], #{}};\n"
               "table(b) -> {[{1, x, u8}] ++ extra(), #{}};\n"
               "table(c) -> {[{1, z, u8}, {1, z, u8}], #{}}.\n"
               "extra() -> [{2, w, u16}].\n">>,
    Forms = forms(Source),
    Entries = #{a => [{1, x, u8}, {2, y, {nested, {t, b}}}],
                b => [{1, x, u8}, {2, w, u16}],
                c => [{1, z, u8}, {1, z, u8}]},
    [?_assertEqual([], written_problems(Forms, a, maps:get(a, Entries))),
     ?_assertEqual([{written, {2, w}, 0}], written_problems(Forms, b, maps:get(b, Entries))),
     ?_assertEqual([{written, {1, z}, 2}], written_problems(Forms, c, maps:get(c, Entries))),
     ?_assertEqual([{not_returned, {2, y}}], written_problems(Forms, a, [{1, x, u8}])),
     ?_assertEqual([{{t, b}, 2}],
                   multiply_named(#{{t, a} => [{2, y, {nested, {t, b}}}],
                                    {t, c} => [{5, v, {list, 1, {nested, {t, b}}}}]}, []))].

literal_attrs_checker_test() ->
    Forms = forms(<<"-module(m).\n"
                    "-define(IFLA_IFNAME, 3).\n"
                    "f(N) -> [{3, {string, N}}, {?IFLA_IFNAME, {u32, 1}}, {4, flag}, {ok, {u32, 1}},\n"
                    "         {5, {nested, []}}, {2, {tcp, 1}}, {N, {u8, 1}}].\n">>),
    ?assertEqual([{3, {3, string}}, {3, {3, u32}}, {3, {4, flag}}, {4, {5, nested}}],
                 literal_attrs(Forms)).

%%====================================================================
%% The checks on linx
%%====================================================================

%% (a)
tables_test_() ->
    [{atom_to_list(T), ?_assertEqual([], table_problems(linx_nl_attrs:entries({?TABLES, T})))}
     || T <- table_names()].

headers_test_() ->
    [{atom_to_list(H), ?_assertEqual([], table_problems([{0, header, {struct, ?TABLES:header(H)}}]))}
     || H <- clause_atoms(tables_forms(), header)].

%% The tables the checks read: every clause of table/1, the kind tables
%% and nested tables among them.
all_tables_named_test() ->
    Named = [{?TABLES, T} || T <- table_names()],
    Kinds = [T || K <- lists:usort(maps:values(?TABLES:kinds()) ++ clause_atoms(tables_forms(), kind_table)),
                  K =/= '_', T <- [?TABLES:kind_table(K)], T =/= none],
    Nested = [T || {_, Es} <- maps:to_list(all_entries()), E <- Es, T <- sub_tables(element(3, E))],
    ?assertEqual([], [T || T <- lists:usort(Kinds ++ Nested), not lists:member(T, Named)]).

%% (b)
macros_test_() ->
    Files = filelib:wildcard(filename:join([root(), "erlang", "*.{erl,hrl}"])),
    ?assert(length(Files) > 10),
    [{filename:basename(F), ?_assertEqual([], macros(read(F)))}
     || F <- Files, filename:basename(F) =/= "linx_rtnl_tables.erl"].

%% (c)
written_once_test_() ->
    Forms = tables_forms(),
    [{atom_to_list(T), ?_assertEqual([], written_problems(Forms, T, linx_nl_attrs:entries({?TABLES, T})))}
     || T <- table_names()].

nested_named_once_test() ->
    KindTables = [?TABLES:kind_table(K) || K <- clause_atoms(tables_forms(), kind_table), K =/= '_'],
    ?assertEqual([], multiply_named(all_entries(), KindTables)).

%% (d)
literal_attrs_test_() ->
    Files = filelib:wildcard(filename:join([root(), "erlang", "*.erl"])),
    [{filename:basename(F), ?_assertEqual([], literal_attrs(parse(F)))}
     || F <- Files,
        not lists:member(list_to_atom(filename:basename(F, ".erl")), [?TABLES | ?OTHER_FAMILIES])].

%%====================================================================
%% The checkers
%%====================================================================

%% (a) What is wrong with a table's entries: numbers or keys that stand
%% more than once, numbers that are no attribute type, struct fields
%% (other than `'_'') that stand more than once.
table_problems(Entries) ->
    Numbers = [element(1, E) || E <- Entries],
    Keys = [element(2, E) || E <- Entries],
    Fields = lists:flatmap(fun(E) -> struct_fields(element(3, E)) end, Entries),
    [P || {What, L} <- [{duplicate_numbers, duplicates(Numbers)},
                        {duplicate_keys, duplicates(Keys)},
                        {bad_numbers, [N || N <- Numbers, not (is_integer(N) andalso N >= 0
                                                               andalso N =< 16#3fff)]},
                        {duplicate_struct_fields, Fields}],
          L =/= [], P <- [{What, L}]].

struct_fields({struct, Fields}) ->
    duplicates([K || {K, _} <- Fields, K =/= '_']) ++ lists:flatmap(fun({_, C}) -> struct_fields(C) end, Fields);
struct_fields({list, _, C}) ->
    struct_fields(C);
struct_fields(_) ->
    [].

duplicates(L) ->
    lists:usort(L -- lists:usort(L)).

%% (b) The macros named with one of the prefixes that a source defines
%% or uses: `[{Line, define | use, Name}]'.
macros(Text) ->
    {ok, Tokens, _} = erl_scan:string(unicode:characters_to_list(Text)),
    macros(Tokens, []).

macros([{'-', _}, {atom, _, define}, {'(', _}, Name | Rest], Acc) ->
    macros(Rest, add_macro(Name, define, Acc));
macros([{'?', _}, Name | Rest], Acc) ->
    macros(Rest, add_macro(Name, use, Acc));
macros([_ | Rest], Acc) ->
    macros(Rest, Acc);
macros([], Acc) ->
    lists:reverse(Acc).

add_macro({Kind, Line, Name}, What, Acc) when Kind =:= var; Kind =:= atom ->
    Text = atom_to_list(Name),
    case lists:any(fun(P) -> lists:prefix(P, Text) end, ?PREFIXES) of
        true -> [{Line, What, Name} | Acc];
        false -> Acc
    end;
add_macro(_, _What, Acc) ->
    Acc.

%% (c) How the entries of table `Name' are written in the forms of its
%% module: `{written, {Number, Key}, Times}' for an entry not written
%% exactly once in the clause `table(Name)', `{not_returned, {Number,
%% Key}}' for an entry written in that clause that the table does not
%% return. An entry is a tuple of 3 or 4 elements, an integer then an
%% atom.
written_problems(Forms, Name, Entries) ->
    [Clause] = [C || {function, _, table, 1, Cs} <- Forms,
                     {clause, _, [{atom, _, A}], _, _} = C <- Cs, A =:= Name],
    Written = entry_literals(Clause),
    Returned = lists:usort([{element(1, E), element(2, E)} || E <- Entries]),
    [{written, NK, Times} || NK <- Returned,
                             Times <- [length([W || W <- Written, W =:= NK])], Times =/= 1]
        ++ [{not_returned, NK} || NK <- lists:usort(Written), not lists:member(NK, Returned)].

entry_literals({tuple, _, [{integer, _, N}, {atom, _, K} | More]} = T) when length(More) =:= 1;
                                                                          length(More) =:= 2 ->
    [{N, K} | entry_literals(tuple_to_list(T))];
entry_literals(T) when is_tuple(T) ->
    entry_literals(tuple_to_list(T));
entry_literals(L) when is_list(L) ->
    lists:flatmap(fun entry_literals/1, L);
entry_literals(_) ->
    [].

%% The tables named by more than one entry (of all tables) or kind:
%% `[{Table, Times}]'.
multiply_named(AllEntries, KindTables) ->
    Named = [T || {_, Es} <- lists:sort(maps:to_list(AllEntries)), E <- Es, T <- sub_tables(element(3, E))]
        ++ KindTables,
    [{T, length([X || X <- Named, X =:= T])} || T <- duplicates(Named)].

sub_tables({nested, T}) -> [T];
sub_tables({list, _, C}) -> sub_tables(C);
sub_tables(_) -> [].

%% (d) The attributes written as `{Number, Value}' with a literal number
%% (after macros are expanded) and a value of linx_nl_codec's attribute
%% forms: `[{Line, {Number, Form}}]'.
literal_attrs(Forms) ->
    lists:sort(literal_attrs(Forms, [])).

literal_attrs({tuple, Line, [{integer, _, N}, Value]} = T, Acc) ->
    Acc1 = case attr_form(Value) of
               {ok, Form} -> [{Line, {N, Form}} | Acc];
               none -> Acc
           end,
    literal_attrs(tuple_to_list(T), Acc1);
literal_attrs(T, Acc) when is_tuple(T) ->
    literal_attrs(tuple_to_list(T), Acc);
literal_attrs(L, Acc) when is_list(L) ->
    lists:foldl(fun literal_attrs/2, Acc, L);
literal_attrs(_, Acc) ->
    Acc.

attr_form({atom, _, flag}) ->
    {ok, flag};
attr_form({tuple, _, [{atom, _, Form}, _]}) ->
    case lists:member(Form, [nested, net, string, u8, u16, u32, u64, s8, s16, s32, s64, be16, be32]) of
        true -> {ok, Form};
        false -> none
    end;
attr_form(_) ->
    none.

%%====================================================================
%% Sources
%%====================================================================

%% Every table of linx_rtnl_tables: the clauses of table/1.
table_names() ->
    Names = clause_atoms(tables_forms(), table),
    ?assertNot(lists:member('_', Names)),
    Names.

all_entries() ->
    maps:from_list([{{?TABLES, T}, linx_nl_attrs:entries({?TABLES, T})} || T <- table_names()]).

%% The atoms the clauses of `Function/1' match (`'_'' for a variable).
clause_atoms(Forms, Function) ->
    [case P of
         {atom, _, A} -> A;
         {var, _, _} -> '_'
     end || {function, _, F, 1, Cs} <- Forms, F =:= Function, {clause, _, [P], _, _} <- Cs].

tables_forms() ->
    parse(filename:join([root(), "erlang", "linx_rtnl_tables.erl"])).

parse(File) ->
    {ok, Forms} = epp:parse_file(File, [{includes, [filename:dirname(File)]}]),
    [] = [E || {error, _} = E <- Forms],
    Forms.

%% The forms of a made-up module.
forms(Text) ->
    File = filename:join(tmp_dir(), "linx_attr_numbers_fixture.erl"),
    ok = file:write_file(File, Text),
    try
        parse(File)
    after
        file:delete(File)
    end.

tmp_dir() ->
    case os:getenv("TMPDIR") of
        false -> "/tmp";
        Dir -> Dir
    end.

read(File) ->
    {ok, Text} = file:read_file(File),
    Text.

%% The project's root: where linx's sources were compiled from.
root() ->
    Source = proplists:get_value(source, linx:module_info(compile)),
    filename:dirname(filename:dirname(Source)).
