%% @private
%% nft's own text for the statements of the short form (docs/nftables.md,
%% "Rules as nft's text"): `ip saddr 10.0.0.0/8 tcp dport 22 ct state
%% established,related counter accept' read into the statements of
%% {@link linx_nft_rule}, which compiles them as nft compiles the text.
%% Only that subset: anonymous sets (`{ 22, 80 }'), service names and
%% statements without a short form are refused with the word where
%% reading stopped. Pure.
-module(linx_nft_text).

-export([parse/1]).

-define(OPS, [{<<"==">>, eq}, {<<"!=">>, neq}, {<<"<">>, lt}, {<<"<=">>, lte}, {<<">">>, gt},
              {<<">=">>, gte}]).
-define(VERDICTS, [accept, drop, return, continue, queue, counter, masquerade]).
-define(UNITS, [second, minute, hour, day]).
-define(NAMED, [icmp, tcp, udp, icmpv6, sctp, invalid, established, related, new, untracked]).

%% @doc The statements of `Text' (a binary or a flat string), or
%% `{error, {Place, Expected, Word}}': the place of the word (from 1)
%% where reading stopped, what was expected there, and the word (`end'
%% when the text ended).
-spec parse(unicode:chardata()) -> {ok, [term()]} | {error, {pos_integer(), atom(), binary() | 'end'}}.
parse(Text) ->
    case unicode:characters_to_binary(Text) of
        Bin when is_binary(Bin) ->
            try words(Bin) of
                Words -> statements(lists:enumerate(Words), [])
            catch
                throw:{bad, _, _, _} = Bad -> error_of(Bad)
            end;
        _ ->
            {error, {1, text, 'end'}}
    end.

error_of({bad, Place, Expected, Word}) -> {error, {Place, Expected, Word}}.

%% The words: runs of characters between blanks, a quoted string one word
%% (its quotes removed).
words(Bin) ->
    words(string:trim(Bin, leading), []).

words(<<>>, Acc) ->
    lists:reverse(Acc);
words(<<$", Rest/binary>>, Acc) ->
    case binary:split(Rest, <<"\"">>) of
        [Quoted, After] -> words(string:trim(After, leading), [{quoted, Quoted} | Acc]);
        [_] -> throw({bad, length(Acc) + 1, quote, <<$", Rest/binary>>})
    end;
words(Bin, Acc) ->
    {Word, After} = case re:run(Bin, "^[^ \t\r\n]+", [{capture, first, binary}]) of
                        {match, [W]} -> {W, binary:part(Bin, byte_size(W), byte_size(Bin) - byte_size(W))}
                    end,
    words(string:trim(After, leading), [Word | Acc]).

statements([], Acc) ->
    {ok, lists:reverse(Acc)};
statements(Words, Acc) ->
    try statement(Words) of
        {Stmt, Rest} -> statements(Rest, [Stmt | Acc])
    catch
        throw:{bad, _, _, _} = Bad -> error_of(Bad)
    end.

statement([{N, W} | Rest] = Words) ->
    case atom(W) of
        P when P =:= ip; P =:= ip6 -> ip(P, Rest, N);
        P when P =:= tcp; P =:= udp -> port_match(P, Rest, N);
        meta -> meta(Rest, N);
        F when F =:= iifname; F =:= oifname; F =:= mark -> meta(Words, N);
        ct -> ct(Rest, N);
        numgen -> numgen(Rest, N);
        limit -> limit(Rest, N);
        V when V =:= jump; V =:= goto -> {{V, word(Rest, N, chain)}, tl(Rest)};
        V when V =:= snat; V =:= dnat -> nat(V, Rest, N);
        redirect -> redirect(Rest, N);
        log -> log(Rest, N);
        reject -> reject(Rest);
        V -> lists:member(V, ?VERDICTS) orelse bad(N, statement, W), {V, Rest}
    end.

ip(P, [{N, W} | Rest], _) ->
    case atom(W) of
        F when F =:= saddr; F =:= daddr ->
            {Op, [{M, A} | Rest1]} = op(Rest, N),
            {{match, P, F, with_op(Op, address(P, M, A))}, Rest1};
        protocol when P =:= ip ->
            {Op, [{M, V} | Rest1]} = op(Rest, N),
            {{match, ip, protocol, with_op(Op, named(M, protocol, V))}, Rest1};
        _ ->
            bad(N, field, W)
    end;
ip(_P, [], N) ->
    bad(N + 1, field, 'end').

port_match(P, [{N, W} | Rest], _) ->
    case atom(W) of
        F when F =:= sport; F =:= dport ->
            {Op, [{M, V} | Rest1]} = op(Rest, N),
            Value = case binary:split(V, <<"-">>) of
                        [Lo, Hi] when Op =:= eq -> {port(M, Lo), port(M, Hi)};
                        _ -> port(M, V)
                    end,
            {{match, P, F, with_op(Op, Value)}, Rest1};
        _ ->
            bad(N, field, W)
    end;
port_match(_P, [], N) ->
    bad(N + 1, field, 'end').

meta([{N, W} | Rest], _) ->
    case atom(W) of
        F when F =:= iifname; F =:= oifname ->
            {Op, [{_, V} | Rest1]} = op(Rest, N),
            {{match, meta, F, with_op(Op, text(V))}, Rest1};
        mark ->
            {Op, [{M, V} | Rest1]} = op(Rest, N),
            {{match, meta, mark, with_op(Op, integer(M, mark, V))}, Rest1};
        l4proto ->
            {Op, [{M, V} | Rest1]} = op(Rest, N),
            {{match, meta, l4proto, with_op(Op, named(M, protocol, V))}, Rest1};
        _ ->
            bad(N, field, W)
    end;
meta([], N) ->
    bad(N + 1, field, 'end').

ct([{N, W} | Rest], _) ->
    case {atom(W), Rest} of
        {state, [{M, V} | Rest1]} ->
            {{ct, state, [named(M, state, S) || S <- binary:split(text(V), <<",">>, [global])]}, Rest1};
        {mark, [{M, V} | Rest1]} ->
            {{ct, mark, integer(M, mark, V)}, Rest1};
        {_, []} when W =:= <<"state">>; W =:= <<"mark">> ->
            bad(N + 1, value, 'end');
        _ ->
            bad(N, field, W)
    end;
ct([], N) ->
    bad(N + 1, field, 'end').

%% `numgen random mod 100 < P', the short form's `{random, P}'.
numgen(Words, N) ->
    case Words of
        [{_, <<"random">>}, {_, <<"mod">>}, {_, <<"100">>}, {_, <<"<">>}, {M, P} | Rest] ->
            {{random, integer(M, percent, P)}, Rest};
        _ ->
            {M, W} = place(Words, N),
            bad(M, numgen, W)
    end.

%% `limit rate 10/second'.
limit([{_, <<"rate">>}, {M, R} | Rest], _N) ->
    case binary:split(R, <<"/">>) of
        [Rate, Unit] ->
            case lists:member(atom(Unit), ?UNITS) of
                true -> {{limit, integer(M, rate, Rate), atom(Unit)}, Rest};
                false -> bad(M, rate, R)
            end;
        _ ->
            bad(M, rate, R)
    end;
limit(Words, N) ->
    {M, W} = place(Words, N),
    bad(M, rate, W).

%% `dnat to 10.0.0.2', `dnat ip to 10.0.0.2:80', `dnat ip6 to [fd00::2]:80'.
nat(Nat, Words, N) ->
    Words1 = case Words of
                 [{_, F} | R] when F =:= <<"ip">>; F =:= <<"ip6">> -> R;
                 _ -> Words
             end,
    case Words1 of
        [{_, <<"to">>}, {M, To} | Rest] ->
            case nat_to(To) of
                {Ip, none} -> {{Nat, ip_of(M, Ip)}, Rest};
                {Ip, Port} -> {{Nat, ip_of(M, Ip), port(M, Port)}, Rest}
            end;
        _ ->
            {M, W} = place(Words1, N),
            bad(M, to, W)
    end.

nat_to(<<"[", Rest/binary>>) ->
    case binary:split(Rest, <<"]">>) of
        [Ip, <<>>] -> {Ip, none};
        [Ip, <<":", Port/binary>>] -> {Ip, Port};
        _ -> {Rest, none}
    end;
nat_to(To) ->
    case binary:split(To, <<":">>, [global]) of
        [Ip, Port] -> {Ip, Port};
        _ -> {To, none}
    end.

%% `redirect to :80'.
redirect([{_, <<"to">>}, {M, <<":", Port/binary>>} | Rest], _N) ->
    {{redirect, port(M, Port)}, Rest};
redirect([{_, <<"to">>} | Rest], N) ->
    {M, W} = place(Rest, N + 1),
    bad(M, port, W);
redirect(Words, N) ->
    {M, W} = place(Words, N),
    bad(M, port, W).

%% `reject', also as nft lists it: `reject with icmpx port-unreachable'
%% (the short form's reject is the family's port-unreachable).
reject([{_, <<"with">>}, {_, T}, {_, <<"port-unreachable">>} | Rest])
  when T =:= <<"icmp">>; T =:= <<"icmpv6">>; T =:= <<"icmpx">> ->
    {reject, Rest};
reject(Rest) ->
    {reject, Rest}.

%% `log prefix "text"'.
log([{_, <<"prefix">>}, {_, V} | Rest], _N) ->
    {{log, text(V)}, Rest};
log(Words, N) ->
    {M, W} = place(Words, N),
    bad(M, prefix, W).

%%====================================================================
%% Words
%%====================================================================

%% An operator before a value, `eq' when there is none.
op([{N, W} | Rest] = Words, _) when is_binary(W) ->
    case lists:keyfind(W, 1, ?OPS) of
        {_, Op} when Rest =/= [] -> {Op, Rest};
        {_, _} -> bad(N + 1, value, 'end');
        false -> {eq, Words}
    end;
op([_ | _] = Words, _) ->
    {eq, Words};
op([], N) ->
    bad(N + 1, value, 'end').

with_op(eq, V) -> V;
with_op(Op, V) -> {Op, V}.

address(P, N, W) ->
    case binary:split(text(W), <<"/">>) of
        [A, L] -> {ip_of(N, A, P), integer(N, address, L)};
        [A] -> ip_of(N, A, P)
    end.

ip_of(N, Text) ->
    case inet:parse_strict_address(binary_to_list(text(Text))) of
        {ok, Ip} -> Ip;
        {error, _} -> bad(N, address, Text)
    end.

ip_of(N, Text, P) ->
    case {P, ip_of(N, Text)} of
        {ip, Ip} when tuple_size(Ip) =:= 4 -> Ip;
        {ip6, Ip} when tuple_size(Ip) =:= 8 -> Ip;
        _ -> bad(N, address, Text)
    end.

port(N, W) ->
    case integer(N, port, W) of
        P when P =< 16#ffff -> P;
        _ -> bad(N, port, W)
    end.

integer(N, What, W) ->
    try binary_to_integer(text(W)) of
        I when I >= 0 -> I;
        _ -> bad(N, What, W)
    catch
        error:badarg -> bad(N, What, W)
    end.

%% A number, or one of the names the short form knows.
named(N, What, W) ->
    case re:run(text(W), "^[0-9]+$", [{capture, none}]) of
        match ->
            integer(N, What, W);
        nomatch ->
            case lists:member(atom(W), ?NAMED) of
                true -> atom(W);
                false -> bad(N, What, W)
            end
    end.

word([{_, W} | _], _N, _What) -> text(W);
word([], N, What) -> bad(N + 1, What, 'end').

place([{M, W} | _], _N) -> {M, text(W)};
place([], N) -> {N + 1, 'end'}.

text({quoted, Q}) -> Q;
text(W) -> W.

%% A keyword: only the atoms that exist already (no atom is made from
%% the text).
atom({quoted, _}) ->
    none;
atom(W) ->
    try binary_to_existing_atom(W) catch error:badarg -> none end.

-spec bad(pos_integer(), atom(), binary() | {quoted, binary()} | 'end') -> no_return().
bad(N, Expected, W) ->
    throw({bad, N, Expected, text(W)}).
