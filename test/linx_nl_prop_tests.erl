%% @doc PropEr properties of the netlink codec (linx_nl), run by EUnit:
%% random messages with nested attributes survive encode/decode, and no
%% binary makes a decoder raise. The PropEr macros are spelled out in
%% linx_proper.hrl (Debian's `erlang-proper' has no `include/proper.hrl');
%% the generators are imported from `proper_types'.
-module(linx_nl_prop_tests).

-include("linx_proper.hrl").

-import(proper_types, [integer/2, list/1, binary/0, oneof/1, frequency/1, nat/0, byte/0]).

round_trip_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_round_trip(), 500) end}.

attrs_round_trip_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_attrs_round_trip(), 1000) end}.

random_binaries_never_raise_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_never_raises(), 3000) end}.

mutated_messages_never_raise_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_mutations_never_raise(), 1000) end}.

link_fast_path_agrees_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_link_fast_path_agrees(), 1000) end}.

%% An integer attribute or header field that does not fit its size is
%% refused (badarg), never cut to its low bits; the extremes that fit
%% encode and decode to themselves.
integer_ranges_test_() ->
    Refused = [{u8, 256}, {u8, -1}, {s8, 128}, {s8, -129}, {u16, 65536}, {s16, -32769},
               {u32, 1 bsl 32}, {s32, 1 bsl 31}, {u64, 1 bsl 64}, {s64, -(1 bsl 63) - 1},
               {be16, 65536}, {be32, -1}, {u8, 1.0}, {u32, x}],
    Fits = [{u8, 255, <<255>>}, {s8, -128, <<128>>}, {s8, 127, <<127>>},
            {u16, 65535, <<65535:16/native>>}, {s32, -(1 bsl 31), <<(-(1 bsl 31)):32/signed-native>>},
            {u64, (1 bsl 64) - 1, <<((1 bsl 64) - 1):64/native>>}, {be16, 65535, <<255, 255>>}],
    Headers = [#{type => 16#10000}, #{type => -1}, #{type => 16, flags => 16#10000},
               #{type => 16, seq => 1 bsl 32}, #{type => 16, pid => -1}],
    [?_assertError(badarg, linx_nl_codec:encode_attrs([{1, V}])) || V <- Refused]
        ++ [?_assertEqual({ok, [{1, Bin}]},
                          linx_nl_codec:decode_attrs(iolist_to_binary(linx_nl_codec:encode_attrs([{1, {K, N}}]))))
            || {K, N, Bin} <- Fits]
        ++ [?_assertError(badarg, linx_nl_codec:encode(H)) || H <- Headers]
        ++ [?_assertMatch({ok, [#{type := 16#ffff, flags := 16#ffff, seq := 16#ffffffff}]},
                          linx_nl_codec:decode(linx_nl_codec:encode(#{type => 16#ffff, flags => 16#ffff,
                                                          seq => 16#ffffffff})))].

%% A batch of messages whose payloads are attribute trees: encoded and
%% decoded, every header field and every attribute comes back.
prop_round_trip() ->
    ?FORALL(Msgs, list(msg()),
            begin
                Bin = iolist_to_binary([linx_nl_codec:encode(M#{payload => linx_nl_codec:encode_attrs(A)})
                                        || {M, A} <- Msgs]),
                {ok, Decoded} = linx_nl_codec:decode(Bin),
                length(Decoded) =:= length(Msgs) andalso
                    lists:all(fun({{M, A}, D}) ->
                                      maps:with([type, flags, seq, pid], D) =:= M andalso
                                          linx_nl_codec:decode_tree(maps:get(payload, D)) =:= {ok, A}
                              end, lists:zip(Msgs, Decoded))
            end).

prop_attrs_round_trip() ->
    ?FORALL(A, attrs(3), linx_nl_codec:decode_tree(iolist_to_binary(linx_nl_codec:encode_attrs(A))) =:= {ok, A}).

%% Any binary: each decoder returns a value or {error, {malformed, _}}.
prop_never_raises() ->
    ?FORALL(Bin, binary(), decoders_total(Bin)).

%% A valid message with one byte changed or cut short.
prop_mutations_never_raise() ->
    ?FORALL({{M, A}, Pos, Byte, Cut}, {msg(), nat(), byte(), nat()},
            begin
                Bin = linx_nl_codec:encode(M#{payload => [rtnl_header(M), linx_nl_codec:encode_attrs(A)]}),
                P = Pos rem byte_size(Bin),
                <<Pre:P/binary, _, Post/binary>> = Bin,
                Changed = <<Pre/binary, Byte, Post/binary>>,
                Short = binary:part(Bin, 0, Cut rem (byte_size(Bin) + 1)),
                decoders_total(Changed) andalso decoders_total(Short)
            end).

decoders_total(Bin) ->
    Checks = [fun() -> linx_nl_codec:decode(Bin) end,
              fun() -> linx_nl_codec:decode_attrs(Bin) end,
              fun() -> linx_nl_codec:decode_tree(Bin) end,
              fun() -> linx_nl:replies([Bin], 1) end,
              fun() -> linx_nl_codec:error_info(Bin, 16#200) end,
              fun() -> linx_nl_codec:done_error_info(Bin, 16#200) end,
              fun() -> linx_rtnl_msg:decode_link(Bin) end,
              fun() -> linx_rtnl_msg:decode_addr(Bin) end,
              fun() -> linx_rtnl_msg:decode_route(Bin) end,
              fun() -> linx_rtnl_msg:decode_neigh(Bin) end]
        ++ case linx_nl_codec:decode(Bin) of
               {ok, Msgs} -> [fun() -> linx_rtnl_msg:decode(Msg) end || Msg <- Msgs];
               _ -> []
           end,
    lists:all(fun(F) ->
                      try F() of
                          {error, {malformed, _}} -> true;
                          {error, #{stage := netlink}} -> true;
                          _ -> true
                      catch
                          C:R:St -> io:format(user, "raised ~p:~p ~p~n", [C, R, St]), false
                      end
              end, Checks).

%% linx_rtnl_msg:decode_link/1 matches the usual fixed-size attributes
%% in its clause heads and sends any other through its table. The same
%% link with NLA_F_NET_BYTEORDER set on every attribute type (which the
%% decoder masks off) takes the table for all of them: both decode alike.
prop_link_fast_path_agrees() ->
    ?FORALL({Index, Flags, A}, {integer(-5, 5000), integer(0, 16#fffff), list(link_attr())},
            begin
                Plain = iolist_to_binary([linx_rtnl_msg:ifinfomsg(0, Index, Flags, 0),
                                          linx_nl_codec:encode_attrs(A)]),
                <<Hdr:16/binary, Attrs/binary>> = Plain,
                Flagged = <<Hdr/binary, (flag_types(Attrs))/binary>>,
                {ok, _} = Decoded = linx_rtnl_msg:decode_link(Plain),
                Decoded =:= linx_rtnl_msg:decode_link(Flagged)
            end).

%% The attributes of a well-formed run, each type with NLA_F_NET_BYTEORDER.
flag_types(<<Len:16/native, Type:16/native, Rest/binary>>) ->
    Size = (Len + 3) band (bnot 3) - 4,
    <<Value:Size/binary, Next/binary>> = Rest,
    <<Len:16/native, (Type bor 16#4000):16/native, Value/binary, (flag_types(Next))/binary>>;
flag_types(<<>>) ->
    <<>>.

%%====================================================================
%% Generators
%%====================================================================

%% Link attributes: the fixed-size ones the decoder knows (of the right
%% size or not), names, a kind, and any type with any bytes.
link_attr() ->
    frequency([{4, {oneof([4, 5, 10, 13, 27, 30, 31, 32, 35, 37, 40, 41, 50, 51, 58, 59, 60, 61, 63, 64]),
                    {u32, integer(0, 16#ffffffff)}}},
               {2, {oneof([16, 17, 33, 39]), {u8, integer(0, 255)}}},
               {1, {oneof([3, 6, 20]), {string, binary()}}},
               {1, {18, {nested, [{1, {string, oneof([<<"veth">>, <<"bridge">>, binary()])}},
                                  {integer(2, 9), binary()}]}}},
               {2, {integer(0, 70), binary()}}]).

%% {Header map, attributes} (this PropEr generates tuples and lists, not
%% maps, so the map is made afterwards).
msg() ->
    ?BIND({T, F, S, P, A},
         {integer(0, 16#ffff), integer(0, 16#ffff), integer(0, 16#ffffffff),
          integer(0, 16#ffffffff), attrs(2)},
         {#{type => T, flags => F, seq => S, pid => P}, A}).

%% Link, address, route and neighbour messages of rtnetlink types, so the
%% mutations reach the rtnl decoders too.
rtnl_header(#{type := T}) ->
    case T rem 4 of
        0 -> <<0:128>>;
        1 -> <<2, 24, 0, 0, 1:32/native>>;
        2 -> <<2, 24, 0, 0, 254, 4, 0, 1, 0:32>>;
        3 -> <<2, 0, 0:16, 1:32/native, 128:16/native, 0, 0>>
    end.

attrs(0) ->
    list(leaf());
attrs(Depth) ->
    ?LAZY(list(frequency([{4, leaf()},
                          {1, {attr_type(), {nested, attrs(Depth - 1)}}}]))).

leaf() ->
    oneof([{attr_type(), binary()},
           {attr_type(), {net, binary()}}]).

attr_type() ->
    integer(0, 16#3fff).
