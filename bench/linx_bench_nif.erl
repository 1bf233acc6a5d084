%% The seeds' NIF design as a baseline for `make bench' (see
%% bench/c_src/linx_bench_nif.c): scripts/bench builds
%% _build/bench/linx_bench_nif.so next to the bench's ebin directory.
%% Not part of the application.
-module(linx_bench_nif).

-export([load/0, read/2, read_dirty/2]).

%% Loads the library once; ok, or {error, Why} with Why as text.
load() ->
    Lib = filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "linx_bench_nif"),
    case erlang:load_nif(Lib, 0) of
        ok -> ok;
        {error, {reload, _}} -> ok;
        {error, {_, Text}} -> {error, Text}
    end.

%% read(NsPaths, Path) -> {ok, Value} | {error, Errno}: Path relative to
%% /proc/sys, read in a throwaway thread after setns into each of NsPaths.
read(_NsPaths, _Path) ->
    erlang:nif_error(not_loaded).

%% The same, on a dirty I/O scheduler.
read_dirty(_NsPaths, _Path) ->
    erlang:nif_error(not_loaded).
