%% @private
%% The short form of the common rules: statements such as
%% `{match, tcp, dport, 22}', `{ct, state, [established, related]}',
%% `{random, 20}', `masquerade', `{dnat, Ip, Port}' or `drop', compiled
%% into the expressions of {@link linx_nft_exprs}, as nft compiles the same
%% statements (docs/nftables.md, "Short form"). Pure.
-module(linx_nft_rule).

-export([compile/2]).

%% Conntrack state bits (linux/netfilter/nf_conntrack_common.h:
%% NF_CT_STATE_INVALID_BIT, NF_CT_STATE_BIT(IP_CT_*), the untracked bit).
-define(CT_STATES, [{invalid, 1}, {established, 2}, {related, 4}, {new, 8}, {untracked, 64}]).
-define(L4, [{icmp, 1}, {tcp, 6}, {udp, 17}, {icmpv6, 58}, {sctp, 132}]).
-define(OPS, [eq, neq, lt, lte, gt, gte]).

%% @doc A rule's expressions in family `Family' with each statement of the
%% short form replaced by its expressions (`{Kind, Map}' and raw
%% `{Name, Data}' expressions stay as they are), each with the place of
%% the statement it comes from; or `{error, {Index, Statement, Key}}' for
%% the first statement that is not one, `Key' what is wrong in it.
-spec compile(atom() | integer(), list()) ->
          {ok, [{pos_integer(), tuple()}]} | {error, {pos_integer(), term(), term()}}.
compile(Family, Exprs) ->
    try
        {ok, statements(Exprs, 1, Family, [])}
    catch
        throw:{bad_statement, I, E, Key} -> {error, {I, E, Key}}
    end.

statements([E | Rest], I, Family, Seen) ->
    {Es, Seen1} = statement(I, E, Family, Seen),
    placed(Es, I, statements(Rest, I + 1, Family, Seen1));
statements([], _I, _Family, _Seen) ->
    [].

%% The expressions of statement `I', each with its place, before `Tail'.
placed([X | Xs], I, Tail) -> [{I, X} | placed(Xs, I, Tail)];
placed([], _I, Tail) -> Tail.

%% The expressions of one statement, and the dependencies (an address
%% family, a transport protocol) matched so far in the rule, which nft
%% matches once.
statement(_I, {Kind, Map} = E, _Family, Seen) when is_atom(Kind), is_map(Map) -> {[E], Seen};
statement(_I, {Name, Data} = E, _Family, Seen) when is_binary(Name), is_binary(Data) -> {[E], Seen};
statement(I, {match, Proto, Field, Value} = S, Family, Seen) ->
    match(I, S, Proto, Field, Value, Family, Seen);
statement(I, {ct, state, States} = S, _Family, Seen) ->
    Mask = lists:foldl(fun(St, M) -> M bor value(I, S, state, St, ?CT_STATES) end, 0,
                       list(I, S, state, States)),
    {[{ct, #{dreg => 1, key => state}},
      {bitwise, #{sreg => 1, dreg => 1, len => 4, op => mask_xor,
                  mask => #{value => <<Mask:32/native>>}, 'xor' => #{value => <<0:32>>}}},
      {cmp, #{sreg => 1, op => neq, data => #{value => <<0:32>>}}}], Seen};
statement(I, {ct, mark, Mark} = S, _Family, Seen) ->
    {[{ct, #{dreg => 1, key => mark}}, cmp(eq, <<(u32(I, S, mark, Mark)):32/native>>)], Seen};
statement(I, {random, P} = S, _Family, Seen) ->
    case is_integer(P) andalso P >= 0 andalso P =< 100 of
        true ->
            {[{numgen, #{dreg => 1, modulus => 100, type => random, offset => 0}},
              {byteorder, #{sreg => 1, dreg => 1, op => hton, len => 4, size => 4}},
              {cmp, #{sreg => 1, op => lt, data => #{value => <<P:32>>}}}], Seen};
        false ->
            throw({bad_statement, I, S, percent})
    end;
statement(_I, counter, _Family, Seen) ->
    {[{counter, #{}}], Seen};
statement(_I, V, _Family, Seen) when V =:= accept; V =:= drop; V =:= return; V =:= continue;
                                     V =:= queue ->
    {[verdict(#{code => V})], Seen};
statement(I, {V, Chain} = S, _Family, Seen) when V =:= jump; V =:= goto ->
    {[verdict(#{code => V, chain => text(I, S, chain, Chain)})], Seen};
statement(_I, masquerade, _Family, Seen) ->
    {[{masq, #{}}], Seen};
statement(I, {Nat, Ip} = S, _Family, Seen) when Nat =:= snat; Nat =:= dnat ->
    {nat(I, S, Nat, Ip, none), Seen};
statement(I, {Nat, Ip, Port} = S, _Family, Seen) when Nat =:= snat; Nat =:= dnat ->
    {nat(I, S, Nat, Ip, port(I, S, port, Port)), Seen};
statement(I, {redirect, Port} = S, _Family, Seen) ->
    {[load(1, <<(port(I, S, port, Port)):16>>),
      {redir, #{reg_proto_min => 1, reg_proto_max => 1, flags => [proto_specified]}}], Seen};
statement(_I, reject, Family, Seen) ->
    Reject = case Family of
                 ip -> #{type => icmp_unreach, icmp_code => 3};
                 ip6 -> #{type => icmp_unreach, icmp_code => 4};
                 _ -> #{type => icmpx_unreach, icmp_code => 1}
             end,
    {[{reject, Reject}], Seen};
statement(I, {log, Prefix} = S, _Family, Seen) ->
    {[{log, #{prefix => text(I, S, prefix, Prefix)}}], Seen};
statement(I, {limit, Rate, Per} = S, _Family, Seen) ->
    Unit = value(I, S, unit, Per, [{second, 1}, {minute, 60}, {hour, 3600}, {day, 86400}]),
    {[{limit, #{rate => u32(I, S, rate, Rate), unit => Unit, burst => 5, type => pkts,
                flags => []}}], Seen};
statement(I, S, _Family, _Seen) ->
    throw({bad_statement, I, S, statement}).

%% A match of a header field or a meta key, after its dependencies.
match(I, S, Proto, Field, Value, Family, Seen) ->
    {Op, V} = case Value of
                  {O, X} when is_atom(O) ->
                      lists:member(O, ?OPS) orelse throw({bad_statement, I, S, op}),
                      {O, X};
                  _ ->
                      {eq, Value}
              end,
    {Deps, Seen1} = deps(Proto, Family, Seen),
    {Deps ++ field(I, S, Proto, Field, Op, V), Seen1}.

deps(Proto, Family, Seen) when Proto =:= ip; Proto =:= ip6 ->
    Need = Family =/= ip andalso Family =/= ip6,
    once({nfproto, Proto}, Need, [{meta, #{dreg => 1, key => nfproto}},
                                  cmp(eq, <<(case Proto of ip -> 2; ip6 -> 10 end):8>>)], Seen);
deps(Proto, _Family, Seen) when Proto =:= tcp; Proto =:= udp ->
    {_, N} = lists:keyfind(Proto, 1, ?L4),
    once({l4proto, Proto}, true, [{meta, #{dreg => 1, key => l4proto}}, cmp(eq, <<N:8>>)], Seen);
deps(_Proto, _Family, Seen) ->
    {[], Seen}.

once(Key, Need, Exprs, Seen) ->
    case Need andalso not lists:member(Key, Seen) of
        true -> {Exprs, [Key | Seen]};
        false -> {[], Seen}
    end.

field(I, S, ip, F, Op, V) when F =:= saddr; F =:= daddr ->
    address(I, S, F, Op, V, case F of saddr -> 12; daddr -> 16 end, 4);
field(I, S, ip6, F, Op, V) when F =:= saddr; F =:= daddr ->
    address(I, S, F, Op, V, case F of saddr -> 8; daddr -> 24 end, 16);
field(I, S, ip, protocol, Op, V) ->
    [payload(network, 9, 1), cmp(Op, <<(value(I, S, protocol, V, ?L4)):8>>)];
field(I, S, P, F, Op, V) when (P =:= tcp orelse P =:= udp), (F =:= sport orelse F =:= dport) ->
    Offset = case F of sport -> 0; dport -> 2 end,
    case V of
        {Lo, Hi} ->
            [payload(transport, Offset, 2), cmp(gte, <<(port(I, S, F, Lo)):16>>),
             cmp(lte, <<(port(I, S, F, Hi)):16>>)];
        _ ->
            [payload(transport, Offset, 2), cmp(Op, <<(port(I, S, F, V)):16>>)]
    end;
field(I, S, meta, F, Op, V) when F =:= iifname; F =:= oifname ->
    Name = text(I, S, F, V),
    max_size(I, S, F, Name, 15),
    [{meta, #{dreg => 1, key => F}}, cmp(Op, <<Name/binary, 0:((16 - byte_size(Name)) * 8)>>)];
field(I, S, meta, mark, Op, V) ->
    [{meta, #{dreg => 1, key => mark}}, cmp(Op, <<(u32(I, S, mark, V)):32/native>>)];
field(I, S, meta, l4proto, Op, V) ->
    [{meta, #{dreg => 1, key => l4proto}}, cmp(Op, <<(value(I, S, l4proto, V, ?L4)):8>>)];
field(I, S, _Proto, _Field, _Op, _V) ->
    throw({bad_statement, I, S, field}).

%% An address or a prefix: a prefix of whole bytes compares those bytes,
%% any other masks the whole address first (as nft does).
address(I, S, F, Op, V, Offset, Size) ->
    {Ip, Len} = case V of
                    {A, L} when is_tuple(A), is_integer(L) -> {A, L};
                    _ -> {V, Size * 8}
                end,
    Bytes = case linx_nl_values:ip_bytes(Ip) of
                {ok, _, B} when byte_size(B) =:= Size, Len >= 0, Len =< Size * 8 -> B;
                _ -> throw({bad_statement, I, S, F})
            end,
    case Len rem 8 of
        0 ->
            [payload(network, Offset, Len div 8), cmp(Op, binary:part(Bytes, 0, Len div 8))];
        _ ->
            Bits = Size * 8,
            Mask = <<((bnot ((1 bsl (Bits - Len)) - 1)) band ((1 bsl Bits) - 1)):Bits>>,
            [payload(network, Offset, Size),
             {bitwise, #{sreg => 1, dreg => 1, len => Size, op => mask_xor,
                         mask => #{value => Mask}, 'xor' => #{value => <<0:Bits>>}}},
             cmp(Op, band_bytes(Bytes, Mask))]
    end.

band_bytes(A, B) ->
    << <<(X band Y)>> || {X, Y} <- lists:zip(binary_to_list(A), binary_to_list(B)) >>.

nat(I, S, Nat, Ip, Port) ->
    {Family, Bytes} = case linx_nl_values:ip_bytes(Ip) of
                          {ok, inet, B} -> {ip, B};
                          {ok, inet6, B} -> {ip6, B};
                          _ -> throw({bad_statement, I, S, address})
                      end,
    Base = #{type => Nat, family => Family, reg_addr_min => 1, reg_addr_max => 1},
    case Port of
        none ->
            [load(1, Bytes), {nat, Base#{flags => [map_ips]}}];
        _ ->
            [load(1, Bytes), load(2, <<Port:16>>),
             {nat, Base#{reg_proto_min => 2, reg_proto_max => 2,
                         flags => [map_ips, proto_specified]}}]
    end.

payload(Base, Offset, Len) -> {payload, #{base => Base, dreg => 1, offset => Offset, len => Len}}.
cmp(Op, Bin) -> {cmp, #{sreg => 1, op => Op, data => #{value => Bin}}}.
load(Reg, Bin) -> {immediate, #{dreg => Reg, data => #{value => Bin}}}.
verdict(V) -> {immediate, #{dreg => 0, data => #{verdict => V}}}.

%%====================================================================
%% Checks: each throws the statement and the key that is wrong
%%====================================================================

value(_I, _S, _Key, N, _Names) when is_integer(N), N >= 0 -> N;
value(I, S, Key, Name, Names) ->
    case lists:keyfind(Name, 1, Names) of
        {_, N} -> N;
        false -> throw({bad_statement, I, S, Key})
    end.

port(_I, _S, _Key, P) when is_integer(P), P >= 0, P =< 16#ffff -> P;
port(I, S, Key, _P) -> throw({bad_statement, I, S, Key}).

u32(_I, _S, _Key, N) when is_integer(N), N >= 0, N =< 16#ffffffff -> N;
u32(I, S, Key, _N) -> throw({bad_statement, I, S, Key}).

list(_I, _S, _Key, L) when is_list(L) -> L;
list(I, S, Key, _L) -> throw({bad_statement, I, S, Key}).

text(I, S, Key, T) ->
    case linx_opts:text(T) of
        {ok, Bin} when byte_size(Bin) > 0 -> Bin;
        _ -> throw({bad_statement, I, S, Key})
    end.

max_size(_I, _S, _Key, Bin, Max) when byte_size(Bin) =< Max -> ok;
max_size(I, S, Key, _Bin, _Max) -> throw({bad_statement, I, S, Key}).
