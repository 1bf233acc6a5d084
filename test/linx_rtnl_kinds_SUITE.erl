%% A link kind's own attributes (IFLA_INFO_DATA) through its table, with
%% `ip -d -j link show' as the oracle: a bridge made with a map of its
%% keys reads back as that map, every key ip also shows agreeing; a bad
%% key or value is refused before anything is sent; a kind without a
%% table (vxlan) takes raw attributes and keeps its data as bytes.
-module(linx_rtnl_kinds_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([bridge_data_both_ways/1, bridge_data_refused/1, kind_without_table_stays_raw/1]).

-define(IFLA_VXLAN_ID, 1).
-define(IFLA_VXLAN_PORT, 15).

all() ->
    [bridge_data_both_ways, bridge_data_refused, kind_without_table_stays_raw].

init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-kinds", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%--------------------------------------------------------------------

%% Made with a map of the bridge table's keys; read back as a map whose
%% keys agree with what ip shows (booleans as ip's 0 and 1).
bridge_data_both_ways(Config) ->
    In = in(Config),
    Data = #{ageing_time => 12300, priority => 7, mcast_snooping => false},
    ok = linx_rtnl:link_add(#{ifname => <<"kbr0">>, kind => bridge, data => Data}, In),
    {ok, #{kind := bridge, info_data := Got}} = linx_rtnl:link(<<"kbr0">>, In),
    #{ageing_time := 12300, priority := 7, mcast_snooping := false} = Got,
    IpData = ip_info_data(Config, "kbr0"),
    #{<<"ageing_time">> := 12300, <<"priority">> := 7, <<"mcast_snooping">> := 0} = IpData,
    Compared = [begin
                    Want = maps:get(atom_to_binary(K), IpData),
                    {K, Want} = {K, ip_value(V)}
                end || {K, V} <- maps:to_list(maps:remove(unknown, Got)),
                       is_map_key(atom_to_binary(K), IpData)],
    %% Most of the table is there to compare, not a handful.
    true = length(Compared) >= 15,
    ok = linx_rtnl:link_del(<<"kbr0">>, In).

%% A key the kind's table does not have, or a value its codec cannot
%% take: refused, nothing made.
bridge_data_refused(Config) ->
    In = in(Config),
    [{error, #{reason := {bad_spec, {data, Data}}}} =
         linx_rtnl:link_add(#{ifname => <<"kbr1">>, kind => bridge, data => Data}, In)
     || Data <- [#{nosuch => 1}, #{priority => 70000}, #{mcast_snooping => yes}, [{nosuch, 1}]]],
    {error, #{errno := enodev}} = linx_rtnl:link(<<"kbr1">>, In).

%% vxlan has no table here: its data goes as raw attributes and comes
%% back as bytes; ip sees the id and port that were sent.
kind_without_table_stays_raw(Config) ->
    In = in(Config),
    Raw = [{?IFLA_VXLAN_ID, {u32, 42}}, {?IFLA_VXLAN_PORT, {be16, 4789}}],
    ok = linx_rtnl:link_add(#{ifname => <<"kvx0">>, kind => vxlan, data => Raw}, In),
    {ok, #{kind := vxlan, info_data := Bytes}} = linx_rtnl:link(<<"kvx0">>, In),
    true = is_binary(Bytes),
    #{<<"id">> := 42, <<"port">> := 4789} = ip_info_data(Config, "kvx0"),
    {error, #{reason := {bad_spec, {data, #{id := 42}}}}} =
        linx_rtnl:link_add(#{ifname => <<"kvx1">>, kind => vxlan, data => #{id => 42}}, In),
    ok = linx_rtnl:link_del(<<"kvx0">>, In).

%%--------------------------------------------------------------------

in(Config) ->
    #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% ip's `linkinfo.info_data' of a link: its scalar values, integers as
%% integers and anything else as text, by key (python3 reads ip's JSON).
ip_info_data(Config, Ifname) ->
    Py = "import json,sys\n"
         "d = json.load(sys.stdin)[0]['linkinfo']['info_data']\n"
         "for k, v in d.items():\n"
         "    if not isinstance(v, (dict, list)): print(k, v)\n",
    Out = linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config), " -d -j link show ", Ifname,
                            " | python3 -c \"", Py, "\""]),
    maps:from_list([case string:split(Line, " ") of
                        [K, V] -> {K, value(V)}
                    end || Line <- string:split(Out, "\n", all), Line =/= <<>>]).

value(V) ->
    try binary_to_integer(V) catch error:badarg -> V end.

ip_value(true) -> 1;
ip_value(false) -> 0;
ip_value(Mac) when is_binary(Mac) -> linx_rtnl:format_mac(Mac);
ip_value(N) -> N.
