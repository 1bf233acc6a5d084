%% @doc The fuzz suite's model of the port program: which id a frame is
%% answered under, read from the bytes alone (no atoms are created).
-module(linx_fuzz_model).

-export([port_view/1, reply_view/1, skip_term/1, max_depth/0]).

%% The program's limits (src/codec.rs): nesting depth, atom bytes, bignum bytes.
-define(MAX_DEPTH, 64).
-define(MAX_ATOM, 1020).
-define(MAX_BIG, 16).

%% @doc The deepest nesting the program accepts.
-spec max_depth() -> pos_integer().
max_depth() ->
    ?MAX_DEPTH.

%% What the program makes of a frame body: `{id, Id}' when it answers under
%% the frame's own id, `anon' when it answers under id 0: the bytes fail
%% its ETF check (src/codec.rs check_etf) or the decoder (eetf), or the
%% term is not `{Id, Op}' with `0 < Id < 2^64'. The count of terms (at most
%% 2^18) is not modelled: frames here are far too small to reach it.
-spec port_view(binary()) -> {id, pos_integer()} | anon.
port_view(<<131, T/binary>>) ->
    try term(T, 0) of
        <<>> -> top_id(T);
        _ -> anon
    catch
        throw:bad -> anon
    end;
port_view(_) ->
    anon.

%% @doc The id of a reply (any depth), `anon' for id 0.
-spec reply_view(binary()) -> {id, pos_integer()} | anon.
reply_view(<<131, T/binary>>) ->
    <<>> = skip_term(T),
    top_id(T).

%% @doc The bytes after one term of any depth; `bad' is thrown when the
%% bytes are not a term.
-spec skip_term(binary()) -> binary().
skip_term(T) ->
    term(T, -(1 bsl 20)).

top_id(<<104, 2, I/binary>>) -> id(I);
top_id(<<105, 2:32, I/binary>>) -> id(I);
top_id(_) -> anon.

id(<<97, V, _/binary>>) -> positive(V);
id(<<98, V:32/signed, _/binary>>) -> positive(V);
id(<<110, N, S, M:N/binary, _/binary>>) -> positive(signed(S, M));
id(<<111, N:32, S, M:N/binary, _/binary>>) -> positive(signed(S, M));
id(_) -> anon.

signed(0, M) -> binary:decode_unsigned(M, little);
signed(1, M) -> -binary:decode_unsigned(M, little).

positive(V) when V > 0, V < 1 bsl 64 -> {id, V};
positive(_) -> anon.

%% Walk one term; return the bytes after it or throw `bad'.
term(_, D) when D > ?MAX_DEPTH -> throw(bad);
term(<<97, _, R/binary>>, _) -> R;
term(<<98, _:32, R/binary>>, _) -> R;
term(<<70, F:8/binary, R/binary>>, _) -> finite(F), R;
term(<<A, N:16, Name:N/binary, R/binary>>, _) when A =:= 100; A =:= 118 ->
    N =< ?MAX_ATOM orelse throw(bad),
    utf8(Name),
    R;
term(<<A, N, Name:N/binary, R/binary>>, _) when A =:= 115; A =:= 119 -> utf8(Name), R;
term(<<104, N, R/binary>>, D) -> seq(N, R, D);
term(<<105, N:32, R/binary>>, D) -> seq(N, R, D);
term(<<106, R/binary>>, _) -> R;
term(<<107, N:16, _:N/binary, R/binary>>, _) -> R;
term(<<108, N:32, R/binary>>, D) -> seq(N + 1, R, D);
term(<<109, N:32, _:N/binary, R/binary>>, _) -> R;
term(<<77, N:32, Bits, _:N/binary, R/binary>>, _) when N =:= 0; Bits >= 1, Bits =< 8 -> R;
term(<<110, N, S, _:N/binary, R/binary>>, _) when N =< ?MAX_BIG, S =< 1 -> R;
term(<<111, N:32, S, _:N/binary, R/binary>>, _) when N =< ?MAX_BIG, S =< 1 -> R;
term(<<116, N:32, R/binary>>, D) -> seq(2 * N, R, D);
term(_, _) -> throw(bad).

%% N terms one level down; each takes at least a byte.
seq(N, R, _) when N > byte_size(R) -> throw(bad);
seq(0, R, _) -> R;
seq(N, R, D) -> seq(N - 1, term(R, D + 1), D).

%% Non-finite floats do not match a float segment.
finite(<<_:64/float>>) -> ok;
finite(_) -> throw(bad).

utf8(<<>>) -> ok;
utf8(<<_/utf8, R/binary>>) -> utf8(R);
utf8(_) -> throw(bad).
