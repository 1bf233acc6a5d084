%% @doc No cycle among the modules of erlang/, type references included.
%%
%% Each module's source is parsed (`epp:parse_file/2', macros expanded,
%% erlang/ as the include directory) and gives an edge A -> B for every
%% remote call `B:f(...)', every `fun B:f/N' and every remote type
%% `B:t()' (in specs, callbacks, types and record fields) of A, when B is
%% a module of erlang/ other than A; calls to OTP, Elixir or any other
%% module, and calls whose module is a variable, make none. The graph must
%% be acyclic: a failure names each cycle and the references that make
%% its edges (file and line).
%%
%% The first tests run the checker on made-up modules, so a cycle made of
%% each kind of reference is shown to be caught.
-module(linx_module_cycles_tests).

-include_lib("eunit/include/eunit.hrl").

%%====================================================================
%% The checker on made-up modules
%%====================================================================

checker_test_() ->
    {setup, fun make_fixture/0, fun remove_fixture/1,
     fun(Dir) ->
             Cycles = fun(Names) -> [Ms || #{modules := Ms} <- cycles(Dir, Names)] end,
             [?_assertEqual([], Cycles([a, b, c])),
              %% d -> e by a call, e -> f by a fun, f -> d by a type
              ?_assertEqual([[d, e, f]], Cycles([a, b, c, d, e, f])),
              %% g <-> h by a record field's type and a spec's type only
              ?_assertEqual([[g, h]], Cycles([g, h])),
              ?_assertEqual([[d, e, f], [g, h]], Cycles([a, b, c, d, e, f, g, h])),
              ?_assertMatch([#{cycle := [d, e, f, d],
                               edges := [{d, e, [{call, {e, run, 1}, _, 5}]},
                                         {e, f, [{'fun', {f, go, 0}, _, 3}]},
                                         {f, d, [{type, {d, t, 0}, _, 3}]}]}],
                            cycles(Dir, [d, e, f])),
              ?_assertEqual([{a, b, [call, 'fun']}, {a, c, [type]}, {b, c, [call, 'fun']}],
                            [{A, B, lists:usort([K || {K, _, _, _} <- Refs])}
                             || {A, B, Refs} <- edges(Dir, [a, b, c])])]
     end}.

%% a -> b, a -> c, b -> c (acyclic; calls to lists, self calls, a call with
%% a variable module and a call to a module that is not one of them make
%% no edge); d -> e -> f -> d; g <-> h by types only.
fixture() ->
    [{a, "-module(a).\n-export([f/0]).\n-spec f() -> c:t().\n"
         "f() -> lists:map(fun b:g/1, b:h()), ?MODULE:f(), M = x, M:y(), zz:top().\n"},
     {b, "-module(b).\n-export([g/1, h/0]).\n"
         "g(X) -> c:k(X).\nh() -> [fun c:k/1].\n"},
     {c, "-module(c).\n-export([k/1]).\n-export_type([t/0]).\n-type t() :: lists:list().\n"
         "k(X) -> X.\n"},
     {d, "-module(d).\n-export_type([t/0]).\n-export([x/0]).\n-type t() :: ok.\n"
         "x() -> e:run(1).\n"},
     {e, "-module(e).\n-export([run/1]).\nrun(_) -> F = fun f:go/0, F().\n"},
     {f, "-module(f).\n-export([go/0]).\n-spec go() -> d:t().\ngo() -> ok.\n"},
     {g, "-module(g).\n-export_type([t/0]).\n-type t() :: ok.\n"
         "-record(r, {x :: h:t()}).\n-export([r/0]).\n-spec r() -> #r{}.\nr() -> #r{x = ok}.\n"},
     {h, "-module(h).\n-export_type([t/0]).\n-opaque t() :: {g:t()}.\n"}].

make_fixture() ->
    Dir = filename:join(tmp_dir(), "linx_module_cycles_" ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    [ok = file:write_file(filename:join(Dir, atom_to_list(M) ++ ".erl"), Text) || {M, Text} <- fixture()],
    Dir.

remove_fixture(Dir) ->
    [ok = file:delete(filename:join(Dir, atom_to_list(M) ++ ".erl")) || {M, _} <- fixture()],
    ok = file:del_dir(Dir).

tmp_dir() ->
    case os:getenv("TMPDIR") of
        false -> "/tmp";
        Dir -> Dir
    end.

%%====================================================================
%% The check on linx
%%====================================================================

no_cycles_test() ->
    Dir = filename:join(root(), "erlang"),
    Modules = [list_to_atom(filename:basename(F, ".erl")) || F <- filelib:wildcard(filename:join(Dir, "*.erl"))],
    ?assert(lists:member(linx_rtnl_tables, Modules)),
    Cycles = cycles(Dir, Modules),
    %% Each cycle in full (its edges and their references) on the output,
    %% the cycles in short in the assertion.
    [io:format(user, "~n~ts", [format_cycle(C)]) || C <- Cycles],
    ?assertEqual([], [{cycle, Cycle} || #{cycle := Cycle} <- Cycles]).

%%====================================================================
%% The checker
%%====================================================================

%% The cycles among `Modules' (their sources in `Dir'): one map per
%% strongly connected component of more than one module, sorted, with
%% its modules, one cycle through them (`[A, B, ..., A]') and the edges
%% within it, each with its references.
cycles(Dir, Modules) ->
    Edges = edges(Dir, Modules),
    G = digraph:new(),
    try
        [digraph:add_vertex(G, M) || M <- Modules],
        [digraph:add_edge(G, A, B) || {A, B, _} <- Edges],
        Components = lists:sort([lists:sort(C) || C <- digraph_utils:strong_components(G), length(C) > 1]),
        [#{modules => C,
           cycle => digraph:get_cycle(digraph_utils:subgraph(G, C), hd(C)),
           edges => [E || {A, B, _} = E <- Edges, lists:member(A, C), lists:member(B, C)]}
         || C <- Components]
    after
        digraph:delete(G)
    end.

%% The edges among `Modules': `[{A, B, [{Kind, {B, Name, Arity}, File,
%% Line}]}]', sorted, `Kind' `call', `'fun'' or `type'.
edges(Dir, Modules) ->
    Refs = lists:usort([{A, B, Ref}
                        || A <- Modules,
                           {B, _, _, _} = Ref0 <- references(filename:join(Dir, atom_to_list(A) ++ ".erl")),
                           B =/= A, lists:member(B, Modules),
                           Ref <- [ref(Ref0)]]),
    Pairs = lists:usort([{A, B} || {A, B, _} <- Refs]),
    [{A, B, [R || {A1, B1, R} <- Refs, A1 =:= A, B1 =:= B]} || {A, B} <- Pairs].

ref({_B, Kind, What, {File, Line}}) -> {Kind, What, File, Line}.

%% Every remote reference of a source: `{Module, Kind, {Module, Name,
%% Arity}, {File, Line}}'.
references(File) ->
    {ok, Forms} = epp:parse_file(File, [{includes, [filename:dirname(File)]}]),
    [] = [E || {error, _} = E <- Forms],
    {_, Refs} = lists:foldl(fun({attribute, _, file, {F, _}} = Form, {_, Acc}) ->
                                    {F, walk(Form, F, Acc)};
                               (Form, {F, Acc}) ->
                                    {F, walk(Form, F, Acc)}
                            end, {File, []}, Forms),
    lists:reverse(Refs).

walk({call, Anno, {remote, _, {atom, _, M}, Name}, Args} = T, File, Acc) ->
    F = case Name of
            {atom, _, N} -> N;
            _ -> '_'
        end,
    walk(tuple_to_list(T), File, [{M, call, {M, F, length(Args)}, {rel(File), line(Anno)}} | Acc]);
walk({'fun', Anno, {function, {atom, _, M}, {atom, _, F}, {integer, _, A}}}, File, Acc) ->
    [{M, 'fun', {M, F, A}, {rel(File), line(Anno)}} | Acc];
walk({remote_type, Anno, [{atom, _, M}, {atom, _, T}, Args]} = Type, File, Acc) ->
    walk(tuple_to_list(Type), File, [{M, type, {M, T, length(Args)}, {rel(File), line(Anno)}} | Acc]);
walk(T, File, Acc) when is_tuple(T) ->
    walk(tuple_to_list(T), File, Acc);
walk(L, File, Acc) when is_list(L) ->
    lists:foldl(fun(X, A) -> walk(X, File, A) end, Acc, L);
walk(_, _File, Acc) ->
    Acc.

line(Anno) ->
    erl_anno:line(Anno).

%% A file as `erlang/linx_x.erl' (its directory and name).
rel(File) ->
    filename:join(filename:basename(filename:dirname(File)), filename:basename(File)).

format_cycle(#{modules := Modules, cycle := Cycle, edges := Edges}) ->
    [io_lib:format("modules in a cycle: ~ts~n", [lists:join(", ", [atom_to_list(M) || M <- Modules])]),
     io_lib:format("one cycle: ~ts~nedges among them:~n",
                   [lists:join(" -> ", [atom_to_list(M) || M <- Cycle])]),
     [io_lib:format("  ~ts~n", [format_edge(E)]) || E <- Edges]].

format_edge({A, B, Refs}) ->
    iolist_to_binary(
      [io_lib:format("~p -> ~p:", [A, B]),
       lists:join(",", [io_lib:format(" ~p ~p:~p/~p at ~ts:~p", [K, M, F, N, File, Line])
                        || {K, {M, F, N}, File, Line} <- Refs])]).

%% The project's root: where linx's sources were compiled from.
root() ->
    Source = proplists:get_value(source, linx:module_info(compile)),
    filename:dirname(filename:dirname(Source)).
