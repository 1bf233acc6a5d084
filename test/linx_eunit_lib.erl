%% @doc Helpers shared by the EUnit test modules.
-module(linx_eunit_lib).

-include_lib("eunit/include/eunit.hrl").

-export([one_line_tests/2, reason/1, hide/1, safely/1]).

%% @doc One test per reason: `Module:format_error/1' renders it as one
%% non-empty line; owned by a function of `Module' (as its public
%% functions return it), `linx:format_error/1' finds `Module' from the
%% error itself and renders the same line, naming the function, the same
%% with or without `{error, _}' around it.
-spec one_line_tests(module(), [term()]) -> [{string(), fun(() -> ok)}].
one_line_tests(Module, Reasons) ->
    [{lists:flatten(io_lib:format("~0tp", [R])),
      fun() ->
              Line = Module:format_error(R),
              ?assert(is_binary(Line)),
              ?assertNotEqual(<<>>, Line),
              ?assertEqual(nomatch, binary:match(Line, <<"\n">>)),
              {error, Owned} = linx_error:owned(Module, some_call, {error, R}),
              OwnedLine = linx:format_error(Owned),
              ?assertEqual(OwnedLine, linx:format_error({error, Owned})),
              ?assertEqual(OwnedLine, Module:format_error(Owned)),
              Prefix = <<(atom_to_binary(Module))/binary, ":some_call: ">>,
              ?assertEqual(<<Prefix/binary, Line/binary>>, OwnedLine)
      end} || R <- Reasons].

%% @doc An error as its bare reason, without its owner: `{error, Reason}'
%% for an owned error of reason `Reason' (for tests that compare reasons).
-spec reason(term()) -> term().
reason({error, #{module := _, function := _, reason := R}}) -> {error, R};
reason(Other) -> Other.

%% @doc `Term' itself, with its type hidden from dialyzer: for tests that
%% pass invalid arguments on purpose.
-spec hide(term()) -> term().
hide(Term) ->
    binary_to_term(term_to_binary(Term), [safe]).

%% @doc The result of `Fun()', or `false' (with the exception shown) when
%% it raises: the body of a PropEr property (see linx_proper.hrl), so that
%% an exception counts as a failure.
-spec safely(fun(() -> boolean())) -> boolean().
safely(Fun) ->
    try
        Fun()
    catch
        C:R:St ->
            io:format(user, "property raised ~p:~p~n~p~n", [C, R, St]),
            false
    end.
