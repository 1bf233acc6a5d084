%% @doc sysctl(8) as an oracle: its output in linx's terms. Used by the
%% Common Test suites and by `make bench' (scripts/bench compiles it with
%% the bench modules).
-module(linx_sysctl8).

-export([entries/1, keys/1, key_to_linx/1]).

%% @doc The `{Key, Value}' pairs of `sysctl -a' output (`key = value' per
%% line), keys in linx's spelling. A multi-line value gives one pair per
%% line.
-spec entries(unicode:chardata()) -> [{binary(), binary()}].
entries(Output) ->
    [{key_to_linx(K), string:trim(V)} || Line <- lines(Output), [K, V] <- [binary:split(Line, <<" = ">>)]].

%% @doc The keys of `sysctl -a' output, in linx's spelling, as an ordset.
-spec keys(unicode:chardata()) -> ordsets:ordset(binary()).
keys(Output) ->
    ordsets:from_list([key_to_linx(hd(binary:split(Line, <<" = ">>))) || Line <- lines(Output)]).

-spec lines(unicode:chardata()) -> [binary()].
lines(Output) ->
    binary:split(unicode:characters_to_binary(Output), <<"\n">>, [global, trim_all]).

%% @doc sysctl(8) prints `.' between segments and `/' for a dot inside one;
%% linx uses the dot form, or the slash form when a segment contains a dot.
-spec key_to_linx(binary()) -> binary().
key_to_linx(K) ->
    Segs = [binary:replace(S, <<"/">>, <<".">>, [global])
            || S <- binary:split(K, <<".">>, [global])],
    case lists:any(fun(S) -> binary:match(S, <<".">>) =/= nomatch end, Segs) of
        true -> iolist_to_binary(lists:join(<<"/">>, Segs));
        false -> iolist_to_binary(lists:join(<<".">>, Segs))
    end.
