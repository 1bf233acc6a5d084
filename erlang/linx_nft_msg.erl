%% @private
%% nf_tables messages as maps, decoded and encoded by the tables of
%% {@link linx_nft_tables} and {@link linx_nft_exprs}: the layer between
%% the pure codec and {@link linx_nft}. Pure, no I/O.
%%
%% Objects are maps with `family' (from `struct nfgenmsg') and the keys
%% of their table; a chain's hook is spread into it (`hook', by its name
%% in the family, `priority', `dev', `devs'); a rule's `expressions' are
%% `{Kind, Map}' (see {@link linx_nft_exprs}), or `{Name, Data}' binaries
%% for a kind linx has no table for; `userdata' holding nft's comment
%% (a TLV of type 0, the text and its NUL) becomes `comment'. Nothing
%% here raises on input from the kernel.
-module(linx_nft_msg).

-export([decode/1, decode_object/2, dump_request/1, elements_request/1, encode_op/1, batch/2,
         op_object/1]).
-export([decode_exprs/1]).

-export_type([object/0, op/0]).

-type object() :: #{family := atom() | integer(), atom() => term()}.
-type op() :: {add | create | insert | replace | delete | flush, atom(), map()}
            | flush_ruleset | term().
%% What {@link linx_nft:apply/2} takes (anything else is refused).

-include("linx_nl.hrl").

-define(SUBSYS, 10).            % NFNL_SUBSYS_NFTABLES
-define(BATCH_BEGIN, 16).       % NFNL_MSG_BATCH_BEGIN
-define(BATCH_END, 17).         % NFNL_MSG_BATCH_END
-define(T, linx_nft_tables).
-define(COMMENT, 0).            % NFTNL_UDATA_*_COMMENT, nft's comment TLV

%%====================================================================
%% Decoding
%%====================================================================

%% @doc An nf_tables message of a type linx knows, as `{Object, new |
%% del, Map}'; `{other, Type, Payload}' for any other.
-spec decode(linx_nl_codec:msg()) ->
          {ok, {table | chain | rule | set | element | gen, new | del, object()}
               | {other, integer(), binary()}}
        | {error, term()}.
decode(#{type := Type, payload := P}) ->
    case lists:keyfind(Type band 16#ff, 1, ?T:messages()) of
        {_, Object, What} when Type bsr 8 =:= ?SUBSYS, What =/= get ->
            case decode_object(Object, P) of
                {ok, Map} -> {ok, {Object, What, Map}};
                {error, _} = Error -> Error
            end;
        _ ->
            {ok, {other, Type, P}}
    end.

%% @doc The payload of a message about a table, chain or rule.
-spec decode_object(table | chain | rule | set | element | gen, binary()) ->
          {ok, object()} | {error, term()}.
decode_object(Object, P) ->
    Table = case Object of
                element -> element_list;
                _ -> Object
            end,
    case linx_nl_attrs:decode_struct(?T:header(), P) of
        {ok, Header, Attrs} ->
            case linx_nl_attrs:decode({?T, Table}, Attrs, maps:from_list(Header)) of
                {ok, Map} -> {ok, finish(Object, Map)};
                {error, Offset} -> {error, {malformed, {Object, {attr, Offset}}}}
            end;
        error ->
            {error, {malformed, {Object, header}}}
    end.

finish(set, Set) ->
    %% A set's user data is nft's own (key byte order, ...), kept.
    linx_nft_set:decode_set(Set);
finish(element, #{elements := Bin} = List) ->
    Elems = case linx_nl_attrs:pairs({?T, list}, Bin) of
                {ok, Pairs} -> [decode_element(E) || {elem, E} <- Pairs];
                {error, _} -> [#{raw => Bin}]
            end,
    List#{elements := Elems};
finish(Object, Map) when Object =/= table, Object =/= chain, Object =/= rule ->
    Map;
finish(Object, Map) ->
    finish1(Object, comment(Map)).

decode_element(Bin) ->
    case linx_nl_attrs:decode({?T, element}, Bin) of
        {ok, E} -> maps:map(fun data_map/2, E);
        {error, _} -> #{raw => Bin}
    end.

finish1(chain, #{hooknum := N, family := Family} = Chain) ->
    Names = ?T:hooks(Family),
    Hook = case lists:keyfind(N, 2, Names) of
               {Name, _} -> Name;
               false -> N
           end,
    (maps:remove(hooknum, Chain))#{hook => Hook};
finish1(rule, #{expressions := Bin} = Rule) ->
    Rule#{expressions := decode_exprs(Bin)};
finish1(_Object, Map) ->
    Map.

%% nft's comment out of `userdata' (which stays when it holds more).
comment(#{userdata := U} = Map) ->
    case tlvs(U, []) of
        {ok, [{?COMMENT, Text}]} -> (maps:remove(userdata, Map))#{comment => strip_nul(Text)};
        {ok, TLVs} ->
            case lists:keyfind(?COMMENT, 1, TLVs) of
                {_, Text} -> Map#{comment => strip_nul(Text)};
                false -> Map
            end;
        error -> Map
    end;
comment(Map) ->
    Map.

tlvs(<<Type:8, Len:8, Value:Len/binary, Rest/binary>>, Acc) -> tlvs(Rest, [{Type, Value} | Acc]);
tlvs(<<>>, Acc) -> {ok, lists:reverse(Acc)};
tlvs(_, _Acc) -> error.

strip_nul(Text) ->
    hd(binary:split(Text, <<0>>)).

%% @doc A rule's `NFTA_RULE_EXPRESSIONS', decoded: `{Kind, Map}' for a
%% kind with a table, `{Name, Data}' (binaries) for any other, or for one
%% whose data does not decode. Never raises.
-spec decode_exprs(binary()) -> [{atom() | binary(), map() | binary()}].
decode_exprs(Bin) ->
    case linx_nl_attrs:pairs({?T, list}, Bin) of
        {ok, Elems} -> [decode_expr(E) || {elem, E} <- Elems];
        {error, _} -> [{<<>>, Bin}]
    end.

decode_expr(Elem) ->
    case linx_nl_attrs:decode({?T, expr}, Elem) of
        {ok, #{name := Name} = E} ->
            Data = maps:get(data, E, <<>>),
            case maps:find(Name, kind_names()) of
                {ok, Kind} ->
                    case linx_nl_attrs:decode({linx_nft_exprs, Kind}, Data) of
                        {ok, Map} -> {Kind, maps:map(fun data_map/2, Map)};
                        {error, _} -> {Name, Data}
                    end;
                error ->
                    {Name, Data}
            end;
        _ ->
            {<<>>, Elem}
    end.

%% An NFTA_DATA_* nest (and its verdict) as a map.
data_map(Key, Pairs) when is_list(Pairs), Key =:= data orelse Key =:= mask orelse Key =:= 'xor'
                                             orelse Key =:= key orelse Key =:= key_end ->
    maps:map(fun(verdict, V) when is_list(V) -> maps:from_list(V);
                (_, V) -> V
             end, maps:from_list(Pairs));
data_map(_Key, Value) ->
    Value.

%% The kinds by name, made once per node (the kinds are constants).
kind_names() ->
    case persistent_term:get({?MODULE, kind_names}, undefined) of
        undefined ->
            Names = maps:from_list([{atom_to_binary(K), K} || K <- linx_nft_exprs:kinds()]),
            persistent_term:put({?MODULE, kind_names}, Names),
            Names;
        Names ->
            Names
    end.

%%====================================================================
%% Encoding
%%====================================================================

%% @doc The dump request of every object of a kind, in every family.
-spec dump_request(table | chain | rule | set) -> linx_nl_codec:msg_in().
dump_request(Object) ->
    [Number | _] = [N || {N, O, get} <- ?T:messages(), O =:= Object],
    #{type => ?SUBSYS bsl 8 bor Number, flags => ?NLM_F_DUMP, payload => <<0:8, 0:8, 0:16>>}.

%% @doc The dump request of the elements of one set.
-spec elements_request(map()) -> linx_nl_codec:msg_in().
elements_request(#{family := Family, table := Table, name := Name}) ->
    {ok, F} = linx_nl_values:number(Family, ?T:names(family)),
    [Number | _] = [N || {N, element, get} <- ?T:messages()],
    {ok, Attrs} = linx_nl_attrs:encode({?T, element_list}, #{table => Table, set => Name}),
    #{type => ?SUBSYS bsl 8 bor Number, flags => ?NLM_F_DUMP, payload => [<<F:8, 0:8, 0:16>>, Attrs]}.

%% @doc The object an op is about (`table', `chain', `rule' or `ruleset').
-spec op_object(op()) -> atom().
op_object(flush_ruleset) -> ruleset;
op_object({_, Object, _}) -> Object;
op_object(_) -> undefined.

%% @doc One op as a message: `{Type, Flags, Payload}', or the field that
%% is wrong: `{error, {Object, Key, Value}}' (`Key' `op' when the op
%% itself is not one).
-spec encode_op(op()) -> {ok, {0..16#ffff, 0..16#ffff, iodata()}} | {error, {atom(), term(), term()}}.
encode_op(flush_ruleset) ->
    encode_op({flush, ruleset, #{}});
encode_op({flush, ruleset, Map}) when is_map(Map) ->
    message(table, del, 0, Map, []);
encode_op({Verb, Object, Map} = Op) when is_map(Map) ->
    case missing(Verb, Object, Map) of
        none -> encode_op(Verb, Object, Map, Op);
        Key -> {error, {Object, Key, missing}}
    end;
encode_op(Op) ->
    {error, {op, op, Op}}.

%% The key an op needs and `Map' lacks (of the first set of keys that
%% would do), or `none'. A delete or a flush without them would reach
%% more than one object: every table of the family, every rule of the
%% chain.
missing(Verb, Object, Map) ->
    Needs = case {Verb, Object} of
                {delete, table} -> [[name], [handle]];
                {V, table} when V =:= add; V =:= create; V =:= flush -> [[name]];
                {delete, chain} -> [[table, name], [table, handle]];
                {V, chain} when V =:= add; V =:= create; V =:= flush -> [[table, name]];
                {V, rule} when V =:= replace; V =:= delete -> [[table, chain, handle]];
                {V, rule} when V =:= add; V =:= insert -> [[table, chain]];
                {delete, set} -> [[table, name], [table, handle]];
                {V, set} when V =:= add; V =:= create; V =:= flush -> [[table, name]];
                {V, element} when V =:= add; V =:= delete -> [[table, set, elements]];
                _ -> [[]]
            end,
    case [K || K <- hd(Needs), not is_map_key(K, Map)] of
        [] -> none;
        [Key | _] ->
            case lists:any(fun(Keys) -> lists:all(fun(K) -> is_map_key(K, Map) end, Keys) end,
                           tl(Needs)) of
                true -> none;
                false -> Key
            end
    end.

encode_op(Verb, Object, Map, Op) ->
    case {Verb, Object} of
        {add, table} -> message(table, new, ?NLM_F_CREATE, Map, [name, flags, userdata]);
        {create, table} -> message(table, new, ?NLM_F_CREATE bor ?NLM_F_EXCL, Map, [name, flags, userdata]);
        {delete, table} -> message(table, del, 0, Map, [name, handle]);
        {flush, table} -> flush(table, Map, [name], [table]);
        {add, chain} -> message(chain, new, ?NLM_F_CREATE, Map, chain_keys());
        {create, chain} -> message(chain, new, ?NLM_F_CREATE bor ?NLM_F_EXCL, Map, chain_keys());
        {delete, chain} -> message(chain, del, 0, Map, [table, name, handle]);
        {flush, chain} -> flush(chain, Map, [table, name], [table, chain]);
        {add, rule} -> message(rule, new, ?NLM_F_CREATE bor ?NLM_F_APPEND, Map, rule_keys());
        {insert, rule} -> message(rule, new, ?NLM_F_CREATE, Map, rule_keys());
        {replace, rule} -> message(rule, new, ?NLM_F_REPLACE, Map, [handle | rule_keys()]);
        {delete, rule} -> message(rule, del, 0, Map, [table, chain, handle]);
        {add, set} -> set_message(?NLM_F_CREATE, Map);
        {create, set} -> set_message(?NLM_F_CREATE bor ?NLM_F_EXCL, Map);
        {delete, set} -> message(set, del, 0, Map, [table, name, handle]);
        {flush, set} -> flush(set, Map, [table, name], [table, set]);
        {add, element} -> element_message(new, ?NLM_F_CREATE, Map);
        {delete, element} -> element_message(del, 0, Map);
        _ -> {error, {op, op, Op}}
    end.

%% A new set: its key and data types made numbers, its `size' put in its
%% description, and an id (which the kernel requires: elements of the
%% same batch could name the set by it).
set_message(Flags, Map0) ->
    Map = maps:merge(#{id => erlang:unique_integer([positive]) band 16#7fffffff}, Map0),
    Sized = case Map of
                #{size := Size} ->
                    Desc = maps:get(desc, Map, #{}),
                    (maps:remove(size, Map))#{desc => Desc#{size => Size}};
                _ ->
                    Map
            end,
    case is_map(maps:get(desc, Sized, #{})) andalso linx_nft_set:encode_set(Sized) of
        {ok, Set} ->
            message(set, new, Flags, Set, [table, name, flags, key_type, key_len, data_type,
                                           data_len, policy, desc, id, timeout, gc_interval,
                                           userdata]);
        {error, {Key, Value}} ->
            {error, {set, Key, Value}};
        false ->
            {error, {set, desc, maps:get(desc, Sized)}}
    end.

%% Elements added to or deleted from a set: the values of the set's
%% types `key' and `data' (given in the op) encoded, each element in its
%% nest.
element_message(What, Flags, Map) ->
    Types = maps:with([key, data, interval], Map),
    Fail = fun(I, E) -> {error, {element, {elements, I}, E}} end,
    case is_list(maps:get(elements, Map)) andalso
        linx_nft_set:encode_elements(maps:get(elements, Map), Types) of
        {ok, Elems} ->
            Encoded = [{I, linx_nl_attrs:encode({?T, element}, E)} || {I, E} <- lists:enumerate(Elems)],
            case [I || {I, {error, _}} <- Encoded] of
                [] ->
                    {ok, Bin} = linx_nl_attrs:encode({?T, list}, [{elem, iolist_to_binary(B)}
                                                                  || {_, {ok, B}} <- Encoded]),
                    List = (maps:without([key, data, interval], Map))#{elements := iolist_to_binary(Bin)},
                    message(element, What, Flags, List, [table, set, elements]);
                [I | _] ->
                    Fail(I, lists:nth(I, maps:get(elements, Map)))
            end;
        {error, {I, E}} ->
            Fail(I, E);
        false ->
            {error, {element, elements, maps:get(elements, Map)}}
    end.

chain_keys() ->
    [table, name, handle, hook, policy, type, flags, userdata].

rule_keys() ->
    [table, chain, expressions, position, userdata].

%% A flush: DELRULE with the table's (and chain's) name.
flush(Object, Map, Keys, RuleKeys) ->
    case maps:without([family | Keys], Map) of
        Extra when map_size(Extra) > 0 ->
            [{Key, Value} | _] = maps:to_list(Extra),
            {error, {Object, Key, Value}};
        _ ->
            Renamed = maps:from_list([{R, V} || {K, R} <- lists:zip(Keys, RuleKeys),
                                                {ok, V} <- [maps:find(K, Map)]]),
            Target = case Object of
                         set -> element;
                         _ -> rule
                     end,
            message(Target, del, 0, Renamed#{family => maps:get(family, Map, unspec)}, RuleKeys)
    end.

%% A message about `Object' from the caller's map, which may hold the
%% keys `Allowed' of its table (and `family', and the spread keys).
message(Object, What, Flags, Map, Allowed) ->
    [Number | _] = [N || {N, O, W} <- ?T:messages(), O =:= Object, W =:= What],
    try
        Family = family(Object, Map),
        Attrs0 = user_keys(Object, maps:remove(family, Map), Family),
        [throw({Object, K, V}) || {K, V} <- maps:to_list(Attrs0), not lists:member(K, Allowed)],
        case linx_nl_attrs:attrs({?T, attrs_table(Object)}, Attrs0) of
            {ok, Attrs} ->
                {ok, FamilyNumber} = linx_nl_values:number(Family, ?T:names(family)),
                Payload = [<<FamilyNumber:8, 0:8, 0:16>>, linx_nl_codec:encode_attrs(Attrs)],
                {ok, {?SUBSYS bsl 8 bor Number, Flags, Payload}};
            {error, {bad_key, K}} -> {error, {Object, K, maps:get(K, Attrs0, undefined)}};
            {error, {bad_value, K, V}} -> {error, {Object, K, V}}
        end
    catch
        throw:{_, _, _} = Bad -> {error, Bad}
    end.

attrs_table(element) -> element_list;
attrs_table(Object) -> Object.

%% The family by its name when it has one (0..255 else), `unspec' only
%% for a table (a flush of every table).
family(Object, Map) ->
    Family = maps:get(family, Map, unspec),
    Names = ?T:names(family),
    case linx_nl_values:number(Family, Names) of
        {ok, N} when N >= 0, N =< 255, (N =/= 0 orelse Object =:= table) ->
            case lists:keyfind(N, 2, Names) of
                {Name, _} -> Name;
                false -> N
            end;
        _ ->
            throw({Object, family, Family})
    end.

%% The caller's keys made the table's: `comment' into `userdata', a
%% chain's hook into its nest, a rule's expressions into their bytes.
user_keys(Object, Map, Family) when Object =:= table; Object =:= chain; Object =:= rule ->
    with_hook(Object, with_exprs(with_comment(Object, Map), Family), Family);
user_keys(_Object, Map, _Family) ->
    Map.

with_comment(Object, #{comment := C} = Map) ->
    case linx_opts:text(C) of
        {ok, Text} when byte_size(Text) < 255 ->
            (maps:remove(comment, Map))#{userdata => <<?COMMENT:8, (byte_size(Text) + 1):8,
                                                       Text/binary, 0>>};
        _ ->
            throw({Object, comment, C})
    end;
with_comment(_Object, Map) ->
    Map.

%% The statements of the short form (or nft's text of them) compiled
%% (linx_nft_rule), then the expressions encoded.
with_exprs(#{expressions := Text} = Map, Family) when is_binary(Text); is_integer(hd(Text)) ->
    %% nft's text of the short form's statements (linx_nft_text).
    case linx_nft_text:parse(Text) of
        {ok, Stmts} -> with_exprs(Map#{expressions := Stmts}, Family);
        {error, {Place, Expected, Word}} -> throw({rule, {text, Place, Expected}, Word})
    end;
with_exprs(#{expressions := Exprs} = Map, Family) when is_list(Exprs) ->
    Compiled = case linx_nft_rule:compile(Family, Exprs) of
                   {ok, Es} -> Es;
                   {error, {Index, Stmt, Key}} -> throw({rule, {expressions, Index, Key}, Stmt})
               end,
    case linx_nft_expr_encode:encode_exprs(Compiled) of
        {ok, Bin} -> Map#{expressions := Bin};
        {error, {Index1, Expr, Key1}} -> throw({rule, {expressions, Index1, Key1}, Expr})
    end;
with_exprs(#{expressions := Exprs}, _Family) ->
    throw({rule, expressions, Exprs});
with_exprs(Map, _Family) ->
    Map.

-define(HOOK_KEYS, [hook, priority, dev, devs]).

with_hook(chain, Map, Family) ->
    case maps:with(?HOOK_KEYS, Map) of
        Hook when map_size(Hook) =:= 0 ->
            Map;
        #{hook := Name} = Hook ->
            Num = case linx_nl_values:number(Name, ?T:hooks(Family)) of
                      {ok, N} -> N;
                      error -> throw({chain, hook, Name})
                  end,
            Nest = (maps:remove(hook, Hook))#{hooknum => Num},
            case linx_nl_attrs:check({?T, hook}, Nest) of
                ok -> (maps:without(?HOOK_KEYS, Map))#{hook => Nest};
                {error, {bad_value, K, V}} -> throw({chain, K, V})
            end;
        Hook ->
            [{Key, Value} | _] = maps:to_list(Hook),
            throw({chain, Key, Value})
    end;
with_hook(_Object, Map, _Family) ->
    Map.

%%====================================================================
%% Batches
%%====================================================================

%% @doc A batch of messages (`{Type, Flags, Payload}' each) between
%% `NFNL_MSG_BATCH_BEGIN' and `NFNL_MSG_BATCH_END', numbered from `Seq'
%% (the begin message) on: its bytes. Only the last message asks for an
%% ack: the kernel reports every message that fails whether or not it
%% asked, and thousands of acks would overflow the socket's buffer.
-spec batch([{0..16#ffff, 0..16#ffff, iodata()}], pos_integer()) -> binary().
batch(Msgs, Seq) ->
    Last = length(Msgs),
    Ack = fun(I) when I =:= Last -> ?NLM_F_ACK; (_) -> 0 end,
    Marker = fun(Type, S) ->
                     #{type => Type, flags => ?NLM_F_REQUEST, seq => seq(S),
                       payload => <<0:8, 0:8, ?SUBSYS:16/big>>}
             end,
    Inner = [#{type => Type, flags => Flags bor ?NLM_F_REQUEST bor Ack(I), seq => seq(Seq + I),
               payload => Payload}
             || {I, {Type, Flags, Payload}} <- lists:enumerate(Msgs)],
    iolist_to_binary([linx_nl_codec:encode(M)
                      || M <- [Marker(?BATCH_BEGIN, Seq)] ++ Inner
                             ++ [Marker(?BATCH_END, Seq + Last + 1)]]).

seq(N) ->
    ((N - 1) rem 16#ffffffff) + 1.
