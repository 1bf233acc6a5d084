%% @doc Helpers shared by the EUnit test modules.
-module(linx_eunit_lib).

-include_lib("eunit/include/eunit.hrl").

-export([one_line_tests/2]).

%% @doc One test per reason: `linx:format_error/1' renders it as one
%% non-empty line, the same with or without `{error, _}' around it, and the
%% same as `Module:format_error/1' (the module that returns the error).
-spec one_line_tests(module(), [term()]) -> [{string(), fun(() -> ok)}].
one_line_tests(Module, Reasons) ->
    [{lists:flatten(io_lib:format("~0tp", [R])),
      fun() ->
              Line = linx:format_error(R),
              ?assert(is_binary(Line)),
              ?assertNotEqual(<<>>, Line),
              ?assertEqual(nomatch, binary:match(Line, <<"\n">>)),
              ?assertEqual(Line, linx:format_error({error, R})),
              ?assertEqual(Line, Module:format_error(R))
      end} || R <- Reasons].
