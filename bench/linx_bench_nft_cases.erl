%% The nf_tables cases of `make bench' (see linx_bench), each in a netns
%% of its own, and their rows:
%%   P11a 1,000 rules, apply   one linx_nft:apply/2 of a table, a base
%%                             chain and 1,000 rules vs `nft -f' of the
%%                             same ruleset as nft's text [<= 0.5 x]
%%   P11b ruleset dump         linx_nft:ruleset/1 of that ruleset vs
%%                             `nft -j list ruleset' [<= 0.5 x]
%% The notes give where the time goes: the encoding alone, the same
%% batch encoded beforehand and sent by linx_netlink:call/3 (the port
%% and the kernel), and sent on a socket of linx_netlink:open/2 (the
%% kernel alone: its commit, the floor of any nf_tables client); for
%% the dump, the rules' dump request by linx_netlink:call/3 (the kernel
%% and the port, nothing decoded).
-module(linx_bench_nft_cases).

-include("linx_bench.hrl").

-export([p11/1, row_apply/1, row_dump/1]).

-define(NFT_RULES, 1000).
-define(NFT_RUNS, 15).
-define(NFT_WARM, 2).

p11(Ns) ->
    case linx_bench:sh("nft --version") of
        ok -> linx_bench:with_netns(Ns, fun() -> measure(Ns) end);
        {error, _} -> {na, "nft is not installed (Debian: nftables)"}
    end.

%% The ruleset: `ip saddr A tcp dport P counter accept', A and P
%% different in each rule, as linx's short form and as nft's text.
ops() ->
    [{add, table, #{family => inet, name => <<"bench">>}},
     {add, chain, #{family => inet, table => <<"bench">>, name => <<"in">>, type => filter,
                    hook => input, priority => 0, policy => accept}}
     | [{add, rule, #{family => inet, table => <<"bench">>, chain => <<"in">>,
                      expressions => [{match, ip, saddr, addr(I)}, {match, tcp, dport, I},
                                      counter, accept]}}
        || I <- lists:seq(1, ?NFT_RULES)]].

text() ->
    ["table inet bench {\n  chain in {\n    type filter hook input priority 0; policy accept;\n",
     [io_lib:format("    ip saddr ~ts tcp dport ~b counter accept~n", [inet:ntoa(addr(I)), I])
      || I <- lists:seq(1, ?NFT_RULES)],
     "  }\n}\n"].

addr(I) -> {10, I div 250, I rem 250, 1}.

measure(Ns) ->
    In = #{in => {netns, list_to_binary(Ns)}, timeout => 60000},
    File = linx_bench:batch_file("nft-rules", text()),
    Nft = "ip netns exec " ++ Ns ++ " ",
    Ops = ops(),
    {ok, Msgs} = linx_nft_call:encode(Ops),
    Batch = linx_nft_msg:batch(Msgs, linx_nl:next_seq()),
    {ok, Sock} = linx_netlink:open(netfilter, In),
    %% SO_SNDBUFFORCE, as the port program does for a batch this large.
    ok = socket:setopt_native(Sock, {socket, 32}, <<(4 * byte_size(Batch)):32/native>>),
    Delete = fun() -> ok = linx_nft:table_del(#{family => inet, name => <<"bench">>}, In) end,
    Made = fun(F) -> fun() -> {T, ok} = linx_bench:timed_result(F), Delete(), T end end,
    try
        Apply = [fun() -> ok = linx_nft:apply(Ops, In) end,
                 fun() -> ok = linx_bench:sh(Nft ++ "nft -f " ++ File) end,
                 fun() -> {ok, _} = linx_netlink:call(netfilter, Batch, In), ok end,
                 fun() -> ok = socket:send(Sock, Batch), {ok, _} = socket:recv(Sock, 0, 60000), ok end],
        Counts = [begin ok = F(), N = rules(Ns), Delete(), N end || F <- lists:sublist(Apply, 2)],
        _ = [[(Made(F))() || F <- Apply] || _ <- lists:seq(1, ?NFT_WARM)],
        [Linx, NftF, Call, Raw] = [linx_bench:stats(Ts)
                                   || Ts <- linx_bench:alternate([Made(F) || F <- Apply], ?NFT_RUNS)],
        Encode = linx_bench:stats([element(1, linx_bench:timed_result(
                                                fun() -> {ok, _} = linx_nft_call:encode(Ops) end))
                                   || _ <- lists:seq(1, ?NFT_RUNS)]),
        ok = linx_nft:apply(Ops, In),
        Dump = dump(Ns, In),
        #{apply => Linx#{nft => NftF, call => Call, raw => Raw, encode => Encode, counts => Counts,
                         bytes => byte_size(Batch)},
          dump => Dump}
    after
        socket:close(Sock)
    end.

dump(Ns, In) ->
    Req = linx_nft_msg:dump_request(rule),
    Bin = linx_nl_codec:encode(Req#{flags => maps:get(flags, Req) bor 1, seq => linx_nl:next_seq()}),
    Funs = [fun() -> {ok, #{rules := R}} = linx_nft:ruleset(In), length(R) end,
            fun() -> Json = os:cmd("ip netns exec " ++ Ns ++ " nft -j list ruleset"),
                     length(binary:matches(list_to_binary(Json), <<"{\"rule\":">>)) end,
            fun() -> {ok, _} = linx_netlink:call(netfilter, Bin, In), 0 end],
    [Counted, NftCounted, _] = [F() || F <- Funs],
    _ = [[F() || F <- Funs] || _ <- lists:seq(1, ?NFT_WARM)],
    Timed = [fun() -> element(1, linx_bench:timed_result(F)) end || F <- Funs],
    [Linx, NftJ, Call] = [linx_bench:stats(Ts) || Ts <- linx_bench:alternate(Timed, ?NFT_RUNS)],
    Linx#{nft => NftJ, call => Call, counts => [Counted, NftCounted]}.

%% The rules nft lists in the namespace.
rules(Ns) ->
    Out = os:cmd("ip netns exec " ++ Ns ++ " nft -a list ruleset | grep -c ' accept # handle'"),
    list_to_integer(string:trim(Out)).

%%====================================================================
%% Rows
%%====================================================================

row_apply({na, Why}) ->
    linx_bench_report:na_row(<<"P11a">>, "1,000 nft rules, one apply", {le, 0.5, ratio}, Why);
row_apply(#{apply := #{nft := Nft, call := Call, raw := Raw, encode := Encode, counts := Counts,
                       bytes := Bytes} = Apply}) ->
    Right = Counts =:= [?NFT_RULES, ?NFT_RULES],
    P50 = fun(S) -> maps:get(p50, S) end,
    Row = linx_bench_report:row(
            <<"P11a">>, "1,000 nft rules, one apply",
            linx_bench_report:with(
              #{baseline => {P50(Nft), us, "nft -f"},
                ratio => P50(Apply) / P50(Nft),
                target => {le, 0.5, ratio},
                note => linx_bench:fmt(
                          "one linx_nft:apply/2 of a table, a base chain and ~b rules "
                          "(`ip saddr A tcp dport P counter accept`, short form) vs `ip netns exec NS "
                          "nft -f FILE` of the same text; the table deleted after each run (not timed); "
                          "~b runs each, alternately. Where the time goes (p50): encoding ~ts µs; "
                          "the ~b-byte batch encoded beforehand, by linx_netlink:call/3 (port and "
                          "kernel) ~ts µs; on a linx_netlink:open/2 socket (the kernel alone, the "
                          "floor) ~ts µs = ~.2f x nft -f. Rules nft listed after linx, after nft: ~ts",
                          [?NFT_RULES, ?NFT_RUNS, us(P50(Encode)), Bytes, us(P50(Call)), us(P50(Raw)),
                           P50(Raw) / P50(Nft), lists:join(", ", [integer_to_list(N) || N <- Counts])])},
              Apply)),
    Row#{met := maps:get(met, Row) andalso Right,
         extra := (maps:get(extra, Row))#{encode_p50_us => P50(Encode), call_p50_us => P50(Call),
                                           kernel_p50_us => P50(Raw), rules => Counts}};
row_apply(Other) ->
    row_apply({na, linx_bench:fmt("~0tp", [Other])}).

row_dump({na, Why}) ->
    linx_bench_report:na_row(<<"P11b">>, "1,000 nft rules, ruleset dump", {le, 0.5, ratio}, Why);
row_dump(#{dump := #{nft := Nft, call := Call, counts := [Ours, Theirs]} = Dump}) ->
    Same = Ours =:= ?NFT_RULES andalso Theirs =:= ?NFT_RULES,
    P50 = fun(S) -> maps:get(p50, S) end,
    Row = linx_bench_report:row(
            <<"P11b">>, "1,000 nft rules, ruleset dump",
            linx_bench_report:with(
              #{baseline => {P50(Nft), us, "nft -j list"},
                ratio => P50(Dump) / P50(Nft),
                target => {le, 0.5, ratio},
                note => linx_bench:fmt(
                          "linx_nft:ruleset/1 (tables, chains, sets, rules, decoded) of P11a's ruleset "
                          "vs os:cmd(\"ip netns exec NS nft -j list ruleset\") (its output read); the "
                          "rules' dump request alone by linx_netlink:call/3 (kernel and port, nothing "
                          "decoded): p50 ~ts µs; rules counted: linx ~b, nft ~b; ~b runs each, alternately",
                          [us(P50(Call)), Ours, Theirs, ?NFT_RUNS])},
              Dump)),
    Row#{met := maps:get(met, Row) andalso Same};
row_dump(Other) ->
    row_dump({na, linx_bench:fmt("~0tp", [Other])}).

us(V) -> linx_bench_table:us(V).
