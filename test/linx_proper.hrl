%% The PropEr macros of the property tests. PropEr is Debian's
%% `erlang-proper' (`make deps' installs it), found in the OTP library
%% directory; that package has no `include/proper.hrl', so the macros used
%% here are spelled out, and each module imports its generators from
%% `proper_types'.

-include_lib("eunit/include/eunit.hrl").

%% An exception inside a property is shown and counts as a failure
%% (this PropEr would call erlang:get_stacktrace/0, gone in OTP 23).
-define(FORALL(X, Gen, Prop), proper:forall(Gen, fun(X) -> linx_eunit_lib:safely(fun() -> Prop end) end)).
-define(LAZY(Gen), proper_types:lazy(fun() -> Gen end)).
-define(BIND(X, Gen, Out), proper_types:bind(Gen, fun(X) -> Out end, false)).

%% Runs a property N times; the test fails unless every run holds.
-define(RUN(Prop, N), ?assert(proper:quickcheck(Prop, [{numtests, N}, {to_file, user}]))).
