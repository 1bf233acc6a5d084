%% @private
%% The bodies of linx_nft's calls: options checked, ops encoded into one
%% nf_tables batch and sent through linx_netlink:call/3 (one `sendto' in
%% the target, on a socket the port program keeps there), the replies
%% matched to the ops; dumps through linx_nl:dump/5.
-module(linx_nft_call).

-include("linx_nl.hrl").

-compile({no_auto_import, [apply/3]}).

%% From this many ops on, a batch is encoded in parts, in parallel.
-define(PARALLEL_OPS, 200).

%% A part's process ends by exit/1 with what it gives (one copy of it,
%% to the caller's monitor): its fun never returns, on purpose.
-dialyzer({nowarn_function, encode/1}).

-export([apply/3, dump/3, sets/2, ruleset/2, replace/4, encode/1]).

%% @doc Every object of a kind, in every family, decoded.
-spec dump(table | chain | rule | set, linx_netlink:opts(), atom()) ->
          {ok, [linx_nft_msg:object()]} | {error, term()}.
dump(Object, Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) -> dump_in(Object, Map, Op) end).

dump_in(Object, Map, Op) ->
    linx_nl:dump(netfilter, linx_nft_msg:dump_request(Object), Map, Op,
                 fun(#{payload := P}) -> linx_nft_msg:decode_object(Object, P) end).

%% @doc Every set, with its elements: a dump of the sets, then one of
%% each set's elements.
-spec sets(linx_netlink:opts(), atom()) -> {ok, [linx_nft_msg:object()]} | {error, term()}.
sets(Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) -> sets_in(Map, Op) end).

sets_in(Map, Op) ->
    case dump_in(set, Map, Op) of
        {ok, Sets} -> linx_error:map_ok(fun(Set) -> with_elements(Set, Map, Op) end, Sets);
        {error, _} = Error -> Error
    end.

with_elements(Set, Map, Op) ->
    Decode = fun(#{payload := P}) -> linx_nft_msg:decode_object(element, P) end,
    case linx_nl:dump(netfilter, linx_nft_msg:elements_request(Set), Map, Op, Decode) of
        {ok, Lists} ->
            Elems = lists:append([Es || #{elements := Es} <- Lists]),
            {ok, Set#{elements => linx_nft_set:decode_elements(Elems, Set)}};
        {error, _} = Error ->
            Error
    end.

%% @doc Tables, chains, sets (with their elements) and rules, each a
%% dump.
-spec ruleset(linx_netlink:opts(), atom()) -> {ok, #{atom() => list()}} | {error, term()}.
ruleset(Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) ->
                               Dumps = [{K, case O of
                                                set -> sets_in(Map, Op);
                                                _ -> dump_in(O, Map, Op)
                                            end}
                                        || {K, O} <- [{tables, table}, {chains, chain},
                                                      {sets, set}, {rules, rule}]],
                               case [E || {_, {error, _} = E} <- Dumps] of
                                   [Error | _] -> Error;
                                   [] -> {ok, maps:from_list([{K, L} || {K, {ok, L}} <- Dumps])}
                               end
                       end).

%% @doc The ops `Ops' as one transaction: `ok', or the first op the
%% kernel refused (see linx_nft:apply/2), or the first op that does not
%% encode, before anything is sent.
-spec apply(term(), linx_netlink:opts(), atom()) -> ok | {error, term()}.
apply(Ops, Opts, Fun) when is_list(Ops) ->
    linx_opts:with_transport(Opts, fun(Map) ->
                               case encode(Ops) of
                                   {ok, []} -> ok;
                                   {ok, Msgs} -> send(Msgs, Ops, Map, Fun);
                                   {error, _} = Error -> Error
                               end
                       end);
apply(Ops, _Opts, _Fun) ->
    {error, {bad_ops, Ops}}.

%% @doc The table `Table' (a map with `family' and `name', and its
%% `flags' or `comment') made again, empty, then `Ops', in one batch.
-spec replace(term(), term(), linx_netlink:opts(), atom()) -> ok | {error, term()}.
replace(Table, Ops, Opts, Fun) when is_map(Table), is_list(Ops) ->
    Key = maps:with([family, name], Table),
    apply([{add, table, Key}, {delete, table, Key}, {add, table, Table} | Ops], Opts, Fun);
replace(Table, Ops, _Opts, _Fun) when is_map(Table) ->
    {error, {bad_ops, Ops}};
replace(Table, _Ops, _Opts, _Fun) ->
    {error, {bad_op, #{index => 1, op => {replace, table, Table}, object => table, field => table,
                       value => Table}}}.

%% @doc The ops as messages (`{Type, Flags, Payload}' each), or the
%% first op that does not encode (see apply/3). A long list is cut into
%% one part per scheduler, each encoded by a process of its own (its
%% expressions encoded once, see linx_nft_expr_encode:with_expr_cache/1); the
%% first error of the first part that has one is the answer.
-spec encode([term()]) -> {ok, [{0..16#ffff, 0..16#ffff, iodata()}]} | {error, {bad_op, map()}}.
encode(Ops) ->
    Parts = erlang:system_info(schedulers_online),
    case length(Ops) of
        N when N >= ?PARALLEL_OPS, Parts > 1 ->
            Size = (N + Parts - 1) div Parts,
            Chunks = chunks(Ops, 1, Size),
            Workers = [spawn_monitor(fun() -> exit({encoded, encode_part(Chunk, First)}) end)
                       || {First, Chunk} <- Chunks],
            join([receive {'DOWN', Mon, process, Pid, Why} -> Why end || {Pid, Mon} <- Workers], []);
        _ ->
            encode_part(Ops, 1)
    end.

chunks([], _First, _Size) ->
    [];
chunks(Ops, First, Size) when length(Ops) =< Size ->
    [{First, Ops}];
chunks(Ops, First, Size) ->
    {Chunk, Rest} = lists:split(Size, Ops),
    [{First, Chunk} | chunks(Rest, First + Size, Size)].

join([{encoded, {ok, Msgs}} | Rest], Acc) -> join(Rest, [Msgs | Acc]);
join([{encoded, {error, _} = Error} | _], _Acc) -> Error;
join([Other | _], _Acc) -> exit(Other);
join([], Acc) -> {ok, lists:append(lists:reverse(Acc))}.

encode_part(Ops, First) ->
    linx_nft_expr_encode:with_expr_cache(fun() -> encode(Ops, First, []) end).

encode([Op | Rest], I, Acc) ->
    case linx_nft_rule_msg:encode_op(Op) of
        {ok, {Type, Flags, Payload}} ->
            %% One binary, made here (in parallel for a long list), so
            %% that joining the batch only copies it.
            encode(Rest, I + 1, [{Type, Flags, iolist_to_binary(Payload)} | Acc]);
        {error, {Object, Field, Value}} ->
            {error, {bad_op, #{index => I, op => Op, object => Object, field => Field,
                               value => Value}}}
    end;
encode([], _I, Acc) ->
    {ok, lists:reverse(Acc)}.

send(Msgs, Ops, Opts, Fun) ->
    Seq = linx_nl:next_seq(),
    case linx_netlink:call(netfilter, linx_nft_msg:batch(Msgs, Seq), Opts) of
        {ok, Replies} ->
            outcome(Replies, Seq, Ops, Opts);
        {error, #{op := netlink_call} = Info} ->
            {error, Info#{op => Fun}};
        {error, _} = Error ->
            Error
    end.

%% `ok' when no reply is an error; else the error of the first op that
%% failed (index 0: the batch itself, which the kernel could not start
%% or commit).
outcome(Replies, Seq, Ops, Opts) ->
    case linx_nl_codec:decode_all(Replies) of
        {ok, Msgs} ->
            Failed = lists:sort([{index(S, Seq), Info}
                                 || #{type := ?NLMSG_ERROR, seq := S, flags := F, payload := P}
                                        <- Msgs,
                                    {error, #{} = Info} <- [linx_nl_codec:error_info(P, F)]]),
            case Failed of
                [] ->
                    ok;
                [{Index, Info} | _] ->
                    Op = case Index >= 1 andalso Index =< length(Ops) of
                             true -> lists:nth(Index, Ops);
                             false -> batch
                         end,
                    {error, Info#{op => Op, index => Index, in => in_option(Opts)}}
            end;
        {error, _} = Error ->
            Error
    end.

%% The op index of the reply to sequence number `S' of a batch that
%% begins at `Seq' (sequence numbers wrap after 2^32 - 1).
index(S, Seq) ->
    (S - Seq + 16#ffffffff) rem 16#ffffffff.

in_option(Opts) ->
    maps:get(in, Opts, self).

