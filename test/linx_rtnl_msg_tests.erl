%% @doc Link decoding of linx_rtnl_msg on hand-made messages: what the
%% kernel sends inside IFLA_LINKINFO that linx does not name, the
%% statistics it sends unasked, and attributes whose padding is cut short.
-module(linx_rtnl_msg_tests).

-include_lib("eunit/include/eunit.hrl").

-define(IFLA_IFNAME, 3).
-define(IFLA_MTU, 4).
-define(IFLA_STATS, 7).
-define(IFLA_LINKINFO, 18).
-define(IFLA_STATS64, 23).
-define(IFLA_AF_SPEC, 26).
-define(IFLA_INFO_KIND, 1).
-define(IFLA_INFO_DATA, 2).
-define(IFLA_INFO_XSTATS, 3).

link_msg(Attrs) ->
    iolist_to_binary([linx_rtnl_msg:ifinfomsg(0, 7, 16#1043, 0), linx_nl_codec:encode_attrs(Attrs)]).

%% Several attributes of IFLA_LINKINFO that linx does not name are all
%% kept, in order, under info_unknown (not only the last).
linkinfo_unknown_attributes_are_all_kept_test() ->
    Info = [{?IFLA_INFO_KIND, {string, <<"xkind">>}},
            {?IFLA_INFO_XSTATS, <<1, 2, 3, 4>>},
            {9, <<"x">>},
            {?IFLA_INFO_DATA, {nested, [{1, {u32, 5}}]}},
            {?IFLA_INFO_XSTATS, <<5, 6, 7, 8>>}],
    {ok, Link} = linx_rtnl_msg:decode_link(link_msg([{?IFLA_IFNAME, {string, <<"v0">>}},
                                                     {?IFLA_LINKINFO, {nested, Info}}])),
    ?assertMatch(#{index := 7, ifname := <<"v0">>, kind := <<"xkind">>, flags := [up, broadcast, running, multicast]},
                 Link),
    ?assertEqual([{?IFLA_INFO_XSTATS, <<1, 2, 3, 4>>}, {9, <<"x">>}, {?IFLA_INFO_XSTATS, <<5, 6, 7, 8>>}],
                 maps:get(info_unknown, Link)),
    ?assertEqual(<<8:16/native, 1:16/native, 5:32/native>>, maps:get(info_data, Link)).

%% A kind with a table of its own (bridge) has its info_data decoded by
%% that table, the attributes it does not name kept under unknown; a kind
%% without one (above) keeps the bytes.
kind_table_decodes_info_data_test() ->
    Data = [{5, {u32, 1}}, {7, {u8, 1}}, {8, {be16, 16#8100}}, {200, <<"zz">>}],
    Info = [{?IFLA_INFO_KIND, {string, <<"bridge">>}}, {?IFLA_INFO_DATA, {nested, Data}}],
    {ok, Link} = linx_rtnl_msg:decode_link(link_msg([{?IFLA_LINKINFO, {nested, Info}}])),
    ?assertEqual(#{stp_state => 1, vlan_filtering => true, vlan_protocol => '802.1q',
                   unknown => [{200, <<"zz">>}]},
                 maps:get(info_data, Link)).

%% Without such attributes there is no info_unknown key.
linkinfo_without_unknown_attributes_test() ->
    {ok, Link} = linx_rtnl_msg:decode_link(
                   link_msg([{?IFLA_LINKINFO, {nested, [{?IFLA_INFO_KIND, {string, <<"bridge">>}}]}}])),
    ?assertMatch(#{kind := bridge}, Link),
    ?assertNot(maps:is_key(info_unknown, Link)).

%% The kernel sends IFLA_STATS and IFLA_STATS64 even when asked to skip
%% statistics: they are left out; other attributes linx does not name
%% stay, in order, under unknown.
statistics_left_out_others_kept_test() ->
    {ok, Link} = linx_rtnl_msg:decode_link(
                   link_msg([{?IFLA_MTU, {u32, 1500}}, {?IFLA_STATS, <<0:(24 * 32)>>},
                             {66, {u32, 0}}, {?IFLA_STATS64, <<0:(25 * 64)>>},
                             {?IFLA_AF_SPEC, {nested, [{10, <<"abc">>}]}}, {67, {u8, 1}}])),
    ?assertMatch(#{mtu := 1500}, Link),
    ?assertEqual([{66, <<0:32>>}, {?IFLA_AF_SPEC, <<7:16/native, 10:16/native, "abc", 0>>}, {67, <<1>>}],
                 maps:get(unknown, Link)).

%% Asked for, IFLA_STATS64 is the map `stats': the fields the kernel
%% sends (an older one sends 24, a newer one more than linx names).
statistics_when_asked_test() ->
    Stats = fun(N) -> << <<I:64/native>> || I <- lists:seq(1, N) >> end,
    Msg = fun(N) -> link_msg([{?IFLA_MTU, {u32, 1500}}, {?IFLA_STATS64, Stats(N)}]) end,
    {ok, #{stats := S24, mtu := 1500}} = linx_rtnl_msg:decode_link(Msg(24), true),
    ?assertEqual(24, map_size(S24)),
    ?assertMatch(#{rx_packets := 1, tx_packets := 2, rx_bytes := 3, rx_nohandler := 24}, S24),
    {ok, #{stats := S27}} = linx_rtnl_msg:decode_link(Msg(27), true),
    ?assertMatch(#{rx_otherhost_dropped := 25}, S27),
    ?assertEqual(25, map_size(S27)),
    ?assertNot(is_map_key(stats, element(2, linx_rtnl_msg:decode_link(Msg(25), false)))),
    ?assertNot(is_map_key(stats, element(2, linx_rtnl_msg:decode_link(link_msg([]), true)))).

%% A later attribute of the same type wins, as before.
later_attribute_wins_test() ->
    {ok, Link} = linx_rtnl_msg:decode_link(link_msg([{?IFLA_MTU, {u32, 1500}}, {?IFLA_MTU, {u32, 9000}}])),
    ?assertMatch(#{mtu := 9000}, Link).

%% The last attribute's padding may be cut short (not missing): it is
%% still decoded; an attribute longer than what is left is an error at
%% its offset.
short_padding_and_lying_length_test() ->
    Full = link_msg([{?IFLA_MTU, {u32, 1500}}, {?IFLA_IFNAME, {string, <<"abcd">>}}]),
    Cut = binary:part(Full, 0, byte_size(Full) - 2),
    ?assertMatch({ok, #{mtu := 1500, ifname := <<"abcd">>}}, linx_rtnl_msg:decode_link(Cut)),
    Lying = <<(linx_rtnl_msg:ifinfomsg(0, 7, 0, 0))/binary, 8:16/native, 4:16/native, 1500:32/native,
              40:16/native, 3:16/native, "abc", 0>>,
    ?assertEqual({error, {malformed, {link, {attr, 8}}}}, linx_rtnl_msg:decode_link(Lying)),
    ?assertEqual({error, {malformed, {link, {attr, 8}}}},
                 linx_rtnl_msg:decode_link(<<(binary:part(Lying, 0, 24))/binary, 2:16/native, 0:16>>)).
