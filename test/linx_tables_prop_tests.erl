%% @doc PropEr properties of every rtnetlink table (linx_rtnl_tables read
%% by linx_nl_attrs), run by EUnit.
%%
%% For each attribute table: a random subset of its entries, each with a
%% random value its codec takes (and some attributes no entry names),
%% encoded with `linx_nl_attrs:encode/2' and decoded with
%% `linx_nl_attrs:decode/2', gives the map a model of the codecs expects;
%% random bytes, and attributes of the table's numbers with random
%% contents, cut anywhere, never make the decoder raise. For each fixed
%% header: a random map of its fields survives `encode_struct/2' and
%% `decode_struct/2', and its plan (`linx_nl_struct') reads any bytes as
%% `decode_struct/2' does. For each link kind with a table: its data, inside a
%% link message, comes back from `linx_rtnl_msg:decode_link/1' as a map.
%%
%% The tables, headers and kinds are listed here, and the first tests
%% check these lists against the clauses of linx_rtnl_tables (read from
%% its source): a table added there and not here fails the suite.
%%
%% The PropEr macros are those of linx_proper.hrl; maps are built after
%% generation (see linx_nl_prop_tests for why).
-module(linx_tables_prop_tests).

-include("linx_proper.hrl").

%% The generators and the model, for linx_objects_prop_tests.
-export([table_input/1, value/1, expect_pairs/2, expect_value/2, plain/1]).

-import(proper_types, [integer/2, list/1, binary/0, binary/1, oneof/1, frequency/1,
                       elements/1, boolean/0, byte/0, nat/0, vector/2]).

-define(TABLES, linx_rtnl_tables).
-define(NUMTESTS, 300).

%%====================================================================
%% What is covered: every table, header and kind table
%%====================================================================

%% The attribute tables (`table/1'), fixed headers (`header/1') and link
%% kinds with a table of their own (`kind_table/1') this module tests.
tables() -> [link, linkinfo, veth, bridge, vlan, macvlan, ipvlan, vxlan, geneve, bond, vrf, gre,
             iptun, ip6tnl, addr, route, route_metrics, neigh, rule, nexthop, nexthop_res_group].
headers() -> [link, link_request, link_stats64, addr, route, neigh, rule, nexthop].
kinds() -> [veth, bridge, vlan, macvlan, ipvlan, vxlan, geneve, bond, vrf, gre, ipip, ip6tnl].

tables_covered_test() ->
    ?assertEqual(lists:sort(tables()), lists:sort(clause_atoms(table))).

headers_covered_test() ->
    ?assertEqual(lists:sort(headers()), lists:sort(clause_atoms(header))).

%% Each kind kind_table/1 names has its table among tables(); so do the
%% kinds linx knows by name (the others have none).
kind_tables_covered_test() ->
    ?assertEqual(lists:sort(kinds()), lists:sort(clause_atoms(kind_table) -- ['_'])),
    Known = lists:usort(kinds() ++ maps:values(?TABLES:kinds())),
    [case ?TABLES:kind_table(K) of
         none -> ?assertNot(lists:member(K, kinds()));
         {?TABLES, T} -> ?assert(lists:member(T, tables()));
         Other -> ?assertEqual({?TABLES, K}, Other)
     end || K <- Known],
    [?assertMatch({?TABLES, _}, ?TABLES:kind_table(K)) || K <- kinds()].

%% A table one of them nests is one of them.
nested_tables_covered_test() ->
    Nested = lists:usort(lists:flatmap(fun nested_in/1, tables())),
    ?assertEqual([], [T || T <- Nested, not lists:member(T, [{?TABLES, N} || N <- tables()])]).

nested_in(Name) ->
    [T || E <- linx_nl_attrs:entries({?TABLES, Name}), T <- sub_tables(element(3, E))].

sub_tables({nested, T}) -> [T];
sub_tables({list, _, C}) -> sub_tables(C);
sub_tables(_) -> [].

%% The atoms the clauses of `Function/1' of linx_rtnl_tables match, `'_''
%% for a clause matching anything; another pattern fails the test.
clause_atoms(Function) ->
    Source = proplists:get_value(source, ?TABLES:module_info(compile)),
    {ok, Forms} = epp:parse_file(Source, [{includes, [filename:dirname(Source)]}]),
    [Clauses] = [Cs || {function, _, F, 1, Cs} <- Forms, F =:= Function],
    [case Pattern of
         {atom, _, A} -> A;
         {var, _, _} -> '_'
     end || {clause, _, [Pattern], _, _} <- Clauses].

%%====================================================================
%% Properties, one test per table, header and kind
%%====================================================================

round_trip_test_() ->
    each(fun prop_round_trip/1, tables()).

never_raises_test_() ->
    each(fun prop_never_raises/1, tables()).

header_round_trip_test_() ->
    each(fun prop_header_round_trip/1, headers()).

header_never_raises_test_() ->
    each(fun prop_header_never_raises/1, headers()).

header_plan_test_() ->
    each(fun prop_header_plan/1, headers()).

kind_data_test_() ->
    each(fun prop_kind_data/1, kinds()).

%% One test per name: Property(Name) holds ?NUMTESTS times (2 minutes at most).
each(Property, Names) ->
    [{atom_to_list(N), {timeout, 120, fun() -> ?RUN(Property(N), ?NUMTESTS) end}}
     || N <- Names].

%% Encoded and decoded, a map of the table's keys (and of numbers no entry
%% names) is what the model expects.
prop_round_trip(Name) ->
    Table = {?TABLES, Name},
    ?FORALL(Input, table_input(Table),
            begin
                {ok, IoData} = linx_nl_attrs:encode(Table, Input),
                Expected = maps:from_list(expect_pairs(Table, Input)),
                case linx_nl_attrs:decode(Table, iolist_to_binary(IoData)) of
                    {ok, Expected} ->
                        true;
                    Other ->
                        io:format(user, "~p: encoded ~p~ndecoded ~p~nexpected ~p~n",
                                  [Name, Input, Other, Expected]),
                        false
                end
            end).

%% Any bytes: `{ok, Map}' or `{error, Offset}' within them, never a raise.
prop_never_raises(Name) ->
    Table = {?TABLES, Name},
    ?FORALL(Bin, frequency([{1, binary()}, {3, soup_bytes(Table)}]),
            begin
                Pairs = linx_nl_attrs:pairs(Table, Bin),
                case linx_nl_attrs:decode(Table, Bin) of
                    {ok, Map} when is_map(Map) ->
                        {ok, L} = Pairs,
                        maps:from_list(L) =:= Map;
                    {error, Off} when is_integer(Off), Off >= 0, Off =< byte_size(Bin) ->
                        Pairs =:= {error, Off}
                end
            end).

%% A map of header fields (a missing one is 0) is as many bytes as its
%% fields and decodes to all of its fields, what follows left as it was.
prop_header_round_trip(Name) ->
    Fields = ?TABLES:header(Name),
    ?FORALL({Input, Tail}, {struct_input(Fields), binary()},
            begin
                {ok, Bin} = linx_nl_attrs:encode_struct(Fields, Input),
                Expected = expect_value({struct, Fields}, Input),
                byte_size(Bin) =:= lists:sum([size_of(C) || {_, C} <- Fields])
                    andalso linx_nl_attrs:decode_struct(Fields, <<Bin/binary, Tail/binary>>)
                            =:= {ok, Expected, Tail}
            end).

prop_header_never_raises(Name) ->
    Fields = ?TABLES:header(Name),
    ?FORALL(Bin, binary(),
            case linx_nl_attrs:decode_struct(Fields, Bin) of
                error -> byte_size(Bin) < lists:sum([size_of(C) || {_, C} <- Fields]);
                {ok, Pairs, Rest} when is_list(Pairs), is_binary(Rest) -> true
            end).

%% The plan of a header (linx_nl_struct, the fast decoding of dumps)
%% reads any bytes as decode_struct/2 does: header bytes of a random map
%% of its fields, then any bytes; or any bytes at all.
prop_header_plan(Name) ->
    Fields = ?TABLES:header(Name),
    Plan = linx_nl_struct:plan(Fields),
    Encoded = ?BIND({Input, Tail}, {struct_input(Fields), binary()},
                    begin
                        {ok, Bin} = linx_nl_attrs:encode_struct(Fields, Input),
                        <<Bin/binary, Tail/binary>>
                    end),
    ?FORALL(Bin, frequency([{3, Encoded}, {1, binary()}]),
            linx_nl_struct:decode(Plan, Bin) =:= linx_nl_attrs:decode_struct(Fields, Bin)).

%% A link of kind `Kind' whose info_data is encoded with the kind's table
%% decodes to the kind's atom and the data as a map.
prop_kind_data(Kind) ->
    Table = ?TABLES:kind_table(Kind),
    [KindName] = [B || {B, K} <- maps:to_list(?TABLES:kinds()), K =:= Kind],
    ?FORALL({Index, Data}, {integer(1, 1 bsl 20), table_input(Table)},
            begin
                {ok, DataBin} = linx_nl_attrs:encode(Table, Data),
                {ok, Attrs} = linx_nl_attrs:encode({?TABLES, link},
                                                   #{ifname => <<"k0">>,
                                                     linkinfo => #{kind => KindName,
                                                                   info_data => iolist_to_binary(DataBin)}}),
                Payload = iolist_to_binary([linx_rtnl_msg:ifinfomsg(0, Index, 0, 0), Attrs]),
                Expected = maps:from_list(expect_pairs(Table, Data)),
                case linx_rtnl_msg:decode_link(Payload) of
                    {ok, #{index := Index, kind := Kind, info_data := Expected}} ->
                        true;
                    Other ->
                        io:format(user, "~p: ~p~ndecoded ~p~nexpected ~p~n", [Kind, Data, Other, Expected]),
                        false
                end
            end).

%%====================================================================
%% Generators: what a caller may give, by codec
%%====================================================================

%% A map of some of the table's keys (not the decode-only `skip' ones),
%% and sometimes attributes by a number no entry has, with any bytes.
table_input(Table) ->
    Entries = linx_nl_attrs:entries(Table),
    Picks = [pick(Key, Codec) || {_N, Key, Codec} <- plain(Entries), Codec =/= skip],
    ?BIND({Chosen, Unknown}, {Picks, unknown_attrs([N || {N, _, _} <- plain(Entries)])},
         maps:from_list([P || {some, P} <- Chosen] ++ Unknown)).

pick(Key, Codec) ->
    frequency([{1, none}, {2, {some, {Key, value(Codec)}}}]).

unknown_attrs(Known) ->
    Number = frequency([{4, integer(0, 70)}, {1, integer(0, 16#3fff)}]),
    frequency([{3, []},
               {1, ?BIND(L, list({Number, binary()}),
                        [A || {N, _} = A <- L, not lists:member(N, Known)])}]).

value(Int) when Int =:= u8; Int =:= u16; Int =:= u32; Int =:= u64; Int =:= s8; Int =:= s16;
                Int =:= s32; Int =:= s64; Int =:= be16; Int =:= be32 ->
    {Lo, Hi} = range(Int),
    frequency([{6, integer(Lo, Hi)}, {1, elements(lists:usort([Lo, Hi, max(Lo, 0)]))}]);
value(string) ->
    oneof([text_binary(), text_list()]);
value({symbol, Names}) ->
    oneof([elements(maps:values(Names)), value(string)]);
value(binary) ->
    binary();
value(mac) ->
    ?BIND({Bytes, Form}, {binary(6), elements([bytes, text_list, text_binary, dashes])},
         mac_form(Bytes, Form));
value(ip) ->
    oneof([{byte(), byte(), byte(), byte()},
           ?BIND(L, vector(8, integer(0, 16#ffff)), list_to_tuple(L))]);
value(flag) ->
    boolean();
value(bool8) ->
    boolean();
value({enum, Int, Names}) ->
    oneof([value(Int) | [elements(Fit) || Fit <- [fitting(Int, Names)], Fit =/= []]]);
value({bits, Int, Names}) ->
    {_, Hi} = range(Int),
    oneof([integer(0, Hi) | [list(elements(Fit)) || Fit <- [fitting(Int, Names)], Fit =/= []]]);
value({masked, Int, Names}) ->
    Fit = fitting(Int, Names),
    oneof([list(elements(Fit)),
           ?BIND(L, list({elements(Fit), boolean()}), maps:from_list(L))]);
value({nested, Table}) ->
    ?LAZY(table_input(Table));
value({list, _Type, Codec}) ->
    list(list_value(Codec));
value({struct, Fields}) ->
    struct_input(Fields).

%% The names whose number fits the integer (a table of names may serve
%% fields of different sizes: an address's flags are 8 bits in its header
%% and 32 in IFA_FLAGS).
fitting(Int, Names) ->
    {Lo, Hi} = range(Int),
    [Name || {Name, N} <- Names, N >= Lo, N =< Hi].

%% In a list, a flag is there.
list_value(flag) -> true;
list_value(Codec) -> value(Codec).

%% Some of the fields of a struct (the others are 0).
struct_input(Fields) ->
    ?BIND(Chosen, [pick(Key, Codec) || {Key, Codec} <- Fields, Key =/= '_'],
         maps:from_list([P || {some, P} <- Chosen])).

range(u8) -> {0, 16#ff};
range(u16) -> {0, 16#ffff};
range(u32) -> {0, 16#ffffffff};
range(u64) -> {0, 16#ffffffffffffffff};
range(s8) -> {-16#80, 16#7f};
range(s16) -> {-16#8000, 16#7fff};
range(s32) -> {-16#80000000, 16#7fffffff};
range(s64) -> {-16#8000000000000000, 16#7fffffffffffffff};
range(be16) -> {0, 16#ffff};
range(be32) -> {0, 16#ffffffff}.

size_of(Int) when Int =:= u8; Int =:= s8; Int =:= bool8 -> 1;
size_of(Int) when Int =:= u16; Int =:= s16; Int =:= be16 -> 2;
size_of(Int) when Int =:= u32; Int =:= s32; Int =:= be32 -> 4;
size_of(Int) when Int =:= u64; Int =:= s64 -> 8;
size_of({enum, Int, _}) -> size_of(Int);
size_of({bits, Int, _}) -> size_of(Int).

%% Text without NUL (a string attribute ends at the first one): bytes,
%% or a list of characters (sent as UTF-8).
text_binary() ->
    ?BIND(B, binary(), << <<C>> || <<C>> <= B, C =/= 0 >>).

text_list() ->
    list(frequency([{4, integer(1, 16#7f)}, {1, integer(16#80, 16#d7ff)},
                    {1, integer(16#e000, 16#10ffff)}])).

%% Six bytes as they are, or as text (`02:00:5e:10:00:01', a list or a
%% binary, or `02-00-5E-...').
mac_form(Bytes, bytes) -> Bytes;
mac_form(Bytes, text_list) -> binary_to_list(mac_text(Bytes, $:, lower));
mac_form(Bytes, text_binary) -> mac_text(Bytes, $:, lower);
mac_form(Bytes, dashes) -> mac_text(Bytes, $-, upper).

mac_text(Bytes, Sep, Case) ->
    Hex = [string:pad(integer_to_list(B, 16), 2, leading, $0) || <<B>> <= Bytes],
    Text = iolist_to_binary(lists:join(Sep, Hex)),
    case Case of
        upper -> string:uppercase(Text);
        lower -> string:lowercase(Text)
    end.

%% Attributes with the numbers of a table (and others), random contents
%% (nested ones where the table nests), encoded, then cut or changed.
soup_bytes(Table) ->
    ?BIND({Attrs, Cut, Pos, Byte}, {soup(Table, 2), nat(), nat(), byte()},
         begin
             Bin = iolist_to_binary(linx_nl_codec:encode_attrs(Attrs)),
             Size = byte_size(Bin),
             case Size of
                 0 -> Bin;
                 _ when Cut rem 3 =:= 0 -> binary:part(Bin, 0, Pos rem (Size + 1));
                 _ when Cut rem 3 =:= 1 ->
                     P = Pos rem Size,
                     <<Pre:P/binary, _, Post/binary>> = Bin,
                     <<Pre/binary, Byte, Post/binary>>;
                 _ -> Bin
             end
         end).

soup(Table, Depth) ->
    Entries = plain(linx_nl_attrs:entries(Table)),
    Numbers = [N || {N, _, _} <- Entries],
    Subs = [{N, Sub} || Depth > 0, {N, _, C} <- Entries, Sub <- soup_sub(C)],
    Attr = frequency([{5, {elements(Numbers), oneof([binary(), {net, binary()}])}},
                      {1, {integer(0, 16#3fff), binary()}}]
                     ++ [{2, ?LAZY(oneof([{N, {nested, soup_of(Sub, Depth - 1)}} || {N, Sub} <- Subs]))}
                         || Subs =/= []]),
    list(Attr).

soup_sub({nested, T}) -> [{table, T}];
soup_sub({list, Type, _}) -> [{type, Type}];
soup_sub(_) -> [].

soup_of({table, T}, Depth) -> soup(T, Depth);
soup_of({type, Type}, _Depth) -> list({Type, binary()}).

%%====================================================================
%% The model: what decoding gives back
%%====================================================================

%% The pairs decoding an encoded input gives, in attribute order (a
%% spread entry's pairs in its place), the unknown attributes last under
%% the table's unknown key, by number (unless there are none and the
%% table drops the key).
expect_pairs(Table, Input) ->
    {Entries, Opts} = table(Table),
    Known = lists:flatmap(
              fun({_N, Key, Codec, Spread}) ->
                      case Input of
                          #{Key := false} when Codec =:= flag -> [];
                          #{Key := V} when Spread -> expect_value(Codec, V);
                          #{Key := V} -> [{Key, expect_value(Codec, V)}];
                          #{} -> []
                      end
              end, lists:keysort(1, Entries)),
    Unknown = lists:sort([{N, B} || {N, B} <- maps:to_list(Input), is_integer(N)]),
    case {Unknown, maps:get(empty_unknown, Opts, keep)} of
        {[], drop} -> Known;
        _ -> Known ++ [{maps:get(unknown, Opts, unknown), Unknown}]
    end.

expect_value(Int, N) when is_atom(Int), is_integer(N) -> N;
expect_value(string, S) when is_list(S) -> unicode:characters_to_binary(S);
expect_value(string, S) -> S;
expect_value({symbol, _Names}, A) when is_atom(A) -> A;
expect_value({symbol, Names}, S) ->
    Bin = expect_value(string, S),
    maps:get(Bin, Names, Bin);
expect_value(binary, B) -> B;
expect_value(mac, M) when is_list(M) -> expect_value(mac, list_to_binary(M));
expect_value(mac, M) when byte_size(M) =:= 6 -> M;
expect_value(mac, M) -> binary:decode_hex(<< <<C>> || <<C>> <= M, C =/= $:, C =/= $- >>);
expect_value(ip, IP) -> IP;
expect_value(flag, true) -> true;
expect_value(bool8, B) -> B;
expect_value({enum, _Int, Names}, N) when is_integer(N) ->
    case lists:keyfind(N, 2, Names) of
        {Name, N} -> Name;
        false -> N
    end;
expect_value({enum, _Int, _Names}, Name) when is_atom(Name) -> Name;
expect_value({bits, _Int, Names}, V) ->
    Mask = case V of
               N when is_integer(N) -> N;
               L -> lists:foldl(fun(Name, M) -> M bor proplists:get_value(Name, Names) end, 0, L)
           end,
    [Name || {Name, Bit} <- Names, Mask band Bit =/= 0];
expect_value({masked, Int, Names}, L) when is_list(L) -> expect_value({bits, Int, Names}, L);
expect_value({masked, Int, Names}, M) ->
    expect_value({bits, Int, Names}, [Name || {Name, true} <- maps:to_list(M)]);
expect_value({nested, Table}, Input) -> expect_pairs(Table, Input);
expect_value({list, _Type, Codec}, L) -> [expect_value(Codec, X) || X <- L];
expect_value({struct, Fields}, Input) ->
    [{Key, expect_value(Codec, maps:get(Key, Input, 0))} || {Key, Codec} <- Fields, Key =/= '_'].

%% A table's entries as `{Number, Key, Codec, Spread}', and its options.
table({Mod, Name}) ->
    {Entries, Opts} = Mod:table(Name),
    {[case E of
          {N, K, C} -> {N, K, C, false};
          {N, K, C, [spread]} -> {N, K, C, true}
      end || E <- Entries], Opts}.

plain(Entries) ->
    [{N, K, C} || E <- Entries, {N, K, C} <- [{element(1, E), element(2, E), element(3, E)}]].
