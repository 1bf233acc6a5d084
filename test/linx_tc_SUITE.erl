%% @doc linx_tc against the kernel and tc, both ways: what linx makes,
%% `tc -j' (or tc's text where it has no JSON) reads with the same
%% values; what tc makes, linx decodes with the same values. For netem,
%% which this kernel lacks, linx's request is checked against the bytes
%% tc sends for the same options (strace), attribute by attribute, and
%% tc's bytes decode to the options; kinds the kernel lacks are the
%% kernel's clean error.
-module(linx_tc_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([htb_by_linx/1, htb_by_tc/1, tbf_by_linx/1, tbf_by_tc/1, fifos_both_ways/1,
         ingress_clsact_both_ways/1, u32_by_linx/1, u32_by_tc/1, mirred_both_ways/1,
         replace_change_del/1, missing_kinds/1, netem_like_tc/1, bad_specs/1]).

all() ->
    [htb_by_linx, htb_by_tc, tbf_by_linx, tbf_by_tc, fifos_both_ways, ingress_clsact_both_ways,
     u32_by_linx, u32_by_tc, mirred_both_ways, replace_change_del, missing_kinds,
     netem_like_tc, bad_specs].

init_per_suite(Config) ->
    case linx_ct_ns:sh("tc -V && python3 -V && strace -V") of
        {0, _} -> linx_ct_ns:start_if_netns(Config);
        _ -> linx_ct_ns:require(no_tc_python_or_strace)
    end.

end_per_suite(_Config) ->
    ok.

%% One namespace with a veth pair (`va', `vb', both up) and an ifb.
init_per_testcase(_Case, Config) ->
    Ns = linx_ct_ns:unique("linx-tc"),
    ok = linx_ct_ns:netns_add(Ns),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " ", C])
     || C <- ["link add va type veth peer name vb", "link set va up", "link set vb up",
              "link add ifb0 type ifb", "link set ifb0 up"]],
    [{ns, Ns} | Config].

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(ns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(ns, Config))}}.

tc(Config, Args) ->
    linx_ct_ns:sh_ok(["ip netns exec ", ?config(ns, Config), " tc ", Args]).

%% tc's JSON as a term: objects as lists of pairs with binary keys.
tc_json(Config, Args) ->
    linx_ct_ip:json(["ip netns exec ", ?config(ns, Config), " tc -j ", Args], pairs).

get(Key, Pairs) -> proplists:get_value(Key, Pairs).

opts(Object) ->
    case get(<<"options">>, Object) of
        undefined -> [];
        O -> O
    end.

only([X]) -> X.

index(Config, Name) ->
    {ok, #{index := I}} = linx_rtnl:link(Name, in(Config)),
    I.

qdisc(Config, Link, Kind) ->
    {ok, Qs} = linx_tc:qdiscs(#{link => Link}, in(Config)),
    only([Q || #{kind := K} = Q <- Qs, K =:= Kind]).

%% Made by linx, an htb qdisc and class read by tc with the same values.
htb_by_linx(Config) ->
    In = in(Config),
    ok = linx_tc:qdisc_add(#{link => <<"va">>, handle => {1, 0}, kind => htb,
                             options => #{default => 16#10, r2q => 7}}, In),
    ok = linx_tc:class_add(#{link => <<"va">>, parent => <<"1:">>, handle => <<"1:10">>,
                             kind => htb,
                             options => #{rate => 10000000, ceil => 20000000, burst => 15360,
                                          cburst => 3000, prio => 2, quantum => 1500}}, In),
    [Q] = tc_json(Config, "qdisc show dev va"),
    <<"htb">> = get(<<"kind">>, Q),
    <<"1:">> = get(<<"handle">>, Q),
    7 = get(<<"r2q">>, get(<<"options">>, Q)),
    <<"0x10">> = get(<<"default">>, get(<<"options">>, Q)),
    %% tc prints htb classes as text only
    Words = string:lexemes(tc(Config, "class show dev va"), " \n"),
    [<<"class">>, <<"htb">>, <<"1:10">>, <<"root">> | Pairs] = Words,
    Read = maps:from_list(pairs(Pairs)),
    #{<<"prio">> := <<"2">>, <<"rate">> := <<"10Mbit">>, <<"ceil">> := <<"20Mbit">>,
      <<"burst">> := <<"15Kb">>, <<"cburst">> := <<"3000b">>} = Read,
    {ok, [#{handle := {1, 16#10}, parent := root, kind := <<"htb">>,
            options := #{rate := 10000000, ceil := 20000000, burst := 15360, cburst := 3000,
                         prio := 2, quantum := 1500}}]} = linx_tc:classes(<<"va">>, In).

pairs([K, V | Rest]) -> [{K, V} | pairs(Rest)];
pairs(_) -> [].

%% Made by tc, an htb qdisc and class decoded by linx with the same values.
htb_by_tc(Config) ->
    tc(Config, "qdisc add dev va root handle 2: htb default 20 r2q 5"),
    tc(Config, "class add dev va parent 2: classid 2:20 htb rate 8mbit ceil 16mbit "
               "burst 20000 cburst 4000 prio 3 quantum 3000"),
    #{handle := {2, 0}, parent := root, options := #{default := 16#20, r2q := 5}} =
        qdisc(Config, <<"va">>, <<"htb">>),
    {ok, [#{handle := {2, 16#20}, options := O}]} = linx_tc:classes(index(Config, <<"va">>),
                                                                     in(Config)),
    #{rate := 8000000, ceil := 16000000, burst := 20000, cburst := 4000, prio := 3,
      quantum := 3000} = O.

%% Made by linx, a tbf read by tc: rate, burst, and the limit the
%% latency gives (rate × latency + burst).
tbf_by_linx(Config) ->
    ok = linx_tc:qdisc_add(#{link => <<"va">>, handle => {3, 0}, kind => tbf,
                             options => #{rate => 10000000, burst => 32768, latency => 50000}},
                           in(Config)),
    [Q] = tc_json(Config, "qdisc show dev va"),
    O = get(<<"options">>, Q),
    1250000 = get(<<"rate">>, O),
    %% tc reads the burst back from the bucket's time, to the byte
    true = abs(get(<<"burst">>, O) - 32768) =< 1,
    50000 = get(<<"lat">>, O),
    #{options := #{rate := 10000000, burst := 32768, limit := 95268}} =
        qdisc(Config, <<"va">>, <<"tbf">>).

%% Made by tc, a tbf with a peak rate decoded by linx.
tbf_by_tc(Config) ->
    tc(Config, "qdisc add dev va root handle 4: tbf rate 4mbit burst 20000 limit 60000 "
               "peakrate 8mbit mtu 1600"),
    #{handle := {4, 0}, options := #{rate := 4000000, burst := 20000, limit := 60000,
                                     peakrate := 8000000, mtu := 1600}} =
        qdisc(Config, <<"va">>, <<"tbf">>).

%% pfifo and bfifo, each way.
fifos_both_ways(Config) ->
    ok = linx_tc:qdisc_add(#{link => <<"va">>, handle => {5, 0}, kind => pfifo,
                             options => #{limit => 77}}, in(Config)),
    [Q] = tc_json(Config, "qdisc show dev va"),
    <<"pfifo">> = get(<<"kind">>, Q),
    77 = get(<<"limit">>, get(<<"options">>, Q)),
    tc(Config, "qdisc add dev vb root handle 6: bfifo limit 12345"),
    #{handle := {6, 0}, options := #{limit := 12345}} = qdisc(Config, <<"vb">>, <<"bfifo">>).

%% ingress (by linx) and clsact (by tc), each read by the other.
ingress_clsact_both_ways(Config) ->
    ok = linx_tc:qdisc_add(#{link => <<"va">>, kind => ingress}, in(Config)),
    [Q] = [Q || Q <- tc_json(Config, "qdisc show dev va"), get(<<"kind">>, Q) =:= <<"ingress">>],
    <<"ffff:">> = get(<<"handle">>, Q),
    <<"ffff:fff1">> = get(<<"parent">>, Q),
    tc(Config, "qdisc add dev vb clsact"),
    #{handle := {16#ffff, 0}, parent := ingress} = qdisc(Config, <<"vb">>, <<"clsact">>),
    ok = linx_tc:qdisc_del(#{link => <<"va">>, parent => ingress}, in(Config)),
    [] = [Q2 || Q2 <- tc_json(Config, "qdisc show dev va"),
                get(<<"kind">>, Q2) =:= <<"ingress">>].

%% Made by linx, a u32 filter matching prefixes, a protocol and ports
%% with a classid: tc reads the same keys and flowid.
u32_by_linx(Config) ->
    In = in(Config),
    ok = linx_tc:qdisc_add(#{link => <<"va">>, handle => {1, 0}, kind => htb}, In),
    Match = [{src, {10, 1, 0, 0}, 16}, {dst, {10, 2, 3, 4}, 32}, {protocol, 6}, {sport, 80},
             {dport, 443}],
    ok = linx_tc:filter_add(#{link => <<"va">>, parent => {1, 0}, prio => 5, protocol => ip,
                              kind => u32, options => #{match => Match, classid => {1, 16#10}}},
                            In),
    [F] = [F || F <- tc_json(Config, "filter show dev va"),
                get(<<"fh">>, opts(F)) =:= <<"800::800">>],
    5 = get(<<"pref">>, F),
    <<"ip">> = get(<<"protocol">>, F),
    O = get(<<"options">>, F),
    <<"1:10">> = get(<<"flowid">>, O),
    [{<<"a010000">>, <<"ffff0000">>, 12}, {<<"a020304">>, <<"ffffffff">>, 16},
     {<<"60000">>, <<"ff0000">>, 8}, {<<"5001bb">>, <<"ffffffff">>, 20}] =
        [{get(<<"value">>, M), get(<<"mask">>, M), get(<<"off">>, M)}
         || M <- proplists:get_all_values(<<"match">>, O)],
    {ok, Fs} = linx_tc:filters(<<"va">>, {1, 0}, In),
    [#{prio := 5, protocol := ip, options := #{match := Match, classid := {1, 16#10}}}] =
        [F2 || #{options := #{match := _}} = F2 <- Fs].

%% Made by tc, the same filter decoded by linx.
u32_by_tc(Config) ->
    tc(Config, "qdisc add dev va root handle 1: htb"),
    tc(Config, "filter add dev va parent 1: protocol ip prio 7 u32 match ip dst 10.9.0.0/16 "
               "match ip protocol 17 0xff match ip dport 53 0xffff classid 1:20"),
    {ok, Fs} = linx_tc:filters(<<"va">>, {1, 0}, in(Config)),
    [#{prio := 7, protocol := ip, kind := <<"u32">>,
       options := #{classid := {1, 16#20}, terminal := true,
                    match := [{dst, {10, 9, 0, 0}, 16}, {protocol, 17}, {dport, 53}]}}] =
        [F || #{options := #{match := _}} = F <- Fs].

%% mirred to an ifb on clsact's egress: linx's redirect read by tc, tc's
%% mirror decoded by linx.
mirred_both_ways(Config) ->
    In = in(Config),
    Ifb = index(Config, <<"ifb0">>),
    ok = linx_tc:qdisc_add(#{link => <<"va">>, kind => clsact}, In),
    ok = linx_tc:filter_add(#{link => <<"va">>, parent => egress, prio => 1, protocol => all,
                              kind => u32,
                              options => #{match => [{u32, 0, 0, 0}],
                                           actions => [{mirred, #{action => redirect,
                                                                  link => <<"ifb0">>}}]}},
                            In),
    [A] = lists:append([get(<<"actions">>, get(<<"options">>, F))
                        || F <- tc_json(Config, "filter show dev va egress"),
                           is_list(get(<<"actions">>, opts(F)))]),
    [<<"mirred">>, <<"redirect">>, <<"egress">>, <<"ifb0">>] =
        [get(K, A) || K <- [<<"kind">>, <<"mirred_action">>, <<"direction">>, <<"to_dev">>]],
    tc(Config, "filter add dev va ingress protocol ip prio 2 u32 match ip src 10.0.0.2/32 "
               "action mirred egress mirror dev ifb0"),
    {ok, Fs} = linx_tc:filters(<<"va">>, ingress, In),
    [[{mirred, #{action := mirror, direction := egress, link := Ifb, control := pipe}}]] =
        [Acts || #{prio := 2, options := #{actions := Acts}} <- Fs],
    {ok, Eg} = linx_tc:filters(<<"va">>, egress, In),
    [[{mirred, #{action := redirect, link := Ifb, control := stolen}}]] =
        [Acts || #{options := #{actions := Acts}} <- Eg].

%% replace, change and delete, each seen by tc.
replace_change_del(Config) ->
    In = in(Config),
    Tbf = #{link => <<"va">>, handle => {1, 0}, kind => tbf},
    ok = linx_tc:qdisc_replace(Tbf#{options => #{rate => 8000000, burst => 10000,
                                                 limit => 30000}}, In),
    ok = linx_tc:qdisc_replace(Tbf#{options => #{rate => 16000000, burst => 10000,
                                                 limit => 30000}}, In),
    2000000 = get(<<"rate">>, get(<<"options">>, only(tc_json(Config, "qdisc show dev va")))),
    ok = linx_tc:qdisc_change(Tbf#{options => #{rate => 24000000, burst => 10000,
                                                limit => 30000}}, In),
    3000000 = get(<<"rate">>, get(<<"options">>, only(tc_json(Config, "qdisc show dev va")))),
    {error, #{errno := eexist}} =
        linx_tc:qdisc_add(Tbf#{options => #{rate => 8000000, burst => 10000, limit => 1}}, In),
    %% the kernel replaces a qdisc by one of another kind at another handle
    {error, #{errno := einval}} =
        linx_tc:qdisc_replace(#{link => <<"va">>, handle => {1, 0}, kind => htb}, In),
    ok = linx_tc:qdisc_replace(#{link => <<"va">>, handle => {2, 0}, kind => htb}, In),
    [<<"htb">>] = [get(<<"kind">>, Q) || Q <- tc_json(Config, "qdisc show dev va")],
    Class = #{link => <<"va">>, parent => {2, 0}, handle => {2, 1}, kind => htb},
    ok = linx_tc:class_add(Class#{options => #{rate => 1000000}}, In),
    ok = linx_tc:class_change(Class#{options => #{rate => 2000000}}, In),
    {ok, [#{options := #{rate := 2000000}}]} = linx_tc:classes(<<"va">>, In),
    ok = linx_tc:class_replace(Class#{options => #{rate => 3000000}}, In),
    {match, _} = re:run(tc(Config, "class show dev va"), "rate 3Mbit"),
    Filter = #{link => <<"va">>, parent => {2, 0}, prio => 3, protocol => ip, kind => u32,
               options => #{match => [{dst, {10, 0, 0, 1}, 32}], classid => {2, 1}}},
    ok = linx_tc:filter_add(Filter, In),
    [_ | _] = tc_json(Config, "filter show dev va"),
    ok = linx_tc:filter_del(#{link => <<"va">>, parent => {2, 0}, prio => 3, protocol => ip},
                            In),
    [] = tc_json(Config, "filter show dev va"),
    ok = linx_tc:class_del(#{link => <<"va">>, parent => {2, 0}, handle => {2, 1}}, In),
    {ok, []} = linx_tc:classes(<<"va">>, In),
    ok = linx_tc:qdisc_del(#{link => <<"va">>, parent => root}, In),
    [<<"noqueue">>] = [get(<<"kind">>, Q) || Q <- tc_json(Config, "qdisc show dev va")].

%% The kinds this kernel lacks are its clean error, each one line.
missing_kinds(Config) ->
    In = in(Config),
    [begin
         {error, #{stage := netlink, errno := enoent,
                   message := <<"Specified qdisc kind is unknown">>} = E} =
             linx_tc:qdisc_add(#{link => <<"va">>, kind => K, options => O}, In),
         <<_/binary>> = linx:format_error(E)
     end || {K, O} <- [{netem, #{delay => 1000}}, {prio, <<>>}, {fq_codel, <<>>}]],
    ok = linx_tc:qdisc_add(#{link => <<"va">>, kind => clsact}, In),
    [begin
         {error, #{stage := netlink, errno := Errno, message := Msg} = E} =
             linx_tc:filter_add(#{link => <<"va">>, parent => ingress, prio => 1,
                                  protocol => all, kind => K}, In),
         ct:log("~p: ~p ~s", [K, Errno, Msg]),
         true = Errno =:= enoent orelse Errno =:= eopnotsupp,
         <<_/binary>> = linx:format_error(E)
     end || K <- [flower, matchall]].

%% Invalid specs are refused before anything is sent, naming the field.
bad_specs(Config) ->
    In = in(Config),
    {error, #{reason := {bad_qdisc, {link, missing}}}} = linx_tc:qdisc_add(#{kind => htb}, In),
    {error, #{reason := {bad_qdisc, {handle, <<"x:1">>}}}} =
        linx_tc:qdisc_add(#{link => <<"va">>, kind => htb, handle => <<"x:1">>}, In),
    {error, #{reason := {bad_class, {{options, rate}, missing}}}} =
        linx_tc:class_add(#{link => <<"va">>, kind => htb, parent => {1, 0},
                            handle => {1, 1}, options => #{}}, In),
    {error, #{reason := {bad_qdisc, {{options, loss}, 101}}}} =
        linx_tc:qdisc_add(#{link => <<"va">>, kind => netem, options => #{loss => 101}}, In),
    {error, #{reason := {bad_filter, {{options, match}, {sport, 70000}}}}} =
        linx_tc:filter_add(#{link => <<"va">>, kind => u32, parent => {1, 0},
                             options => #{match => [{sport, 70000}]}}, In),
    {error, #{errno := enodev}} = linx_tc:qdisc_add(#{link => <<"nope0">>, kind => htb}, In),
    %% a mirred action's link is looked up as the filter's is
    {error, #{errno := enodev}} =
        linx_tc:filter_add(#{link => <<"va">>, kind => u32, parent => ingress,
                             options => #{actions => [{mirred, #{link => <<"nope0">>}}]}}, In),
    {error, #{reason := {bad_option, {stats, true}}}} = linx_tc:qdiscs(#{stats => true}),
    [<<_/binary>> = linx:format_error(E)
     || E <- [linx_tc:qdisc_add(#{kind => htb}, In),
              linx_tc:class_add(#{link => <<"va">>, kind => htb, options => #{}}, In)]].

%%====================================================================
%% netem against tc's bytes
%%====================================================================

%% For each set of options, linx's request equals tc's, attribute by
%% attribute (tcmsg, kind, netem's struct, each TCA_NETEM_* attribute),
%% and tc's options decode to the same values.
netem_like_tc(Config) ->
    Cases = [{"delay 100ms", #{delay => 100000}},
             {"delay 100ms 10ms 25%", #{delay => 100000, jitter => 10000,
                                        delay_correlation => 25}},
             {"delay 100ms 10ms distribution normal", #{delay => 100000, jitter => 10000,
                                                       distribution => normal}},
             {"loss random 5% 25%", #{loss => 5, loss_correlation => 25}},
             {"duplicate 1%", #{duplicate => 1}},
             {"delay 10ms reorder 25% 50% gap 5", #{delay => 10000, reorder => 25,
                                                    reorder_correlation => 50, gap => 5}},
             {"corrupt 0.1% 5%", #{corrupt => 0.1, corrupt_correlation => 5}},
             {"rate 1mbit 20 100 -4", #{rate => 1000000, packet_overhead => 20,
                                        cell_size => 100, cell_overhead => -4}},
             {"rate 5gbit", #{rate => 5000000000}},
             {"limit 2000", #{limit => 2000}},
             {"loss 1% ecn", #{loss => 1, ecn => true}}],
    [netem_case(Config, Args, Opts) || {Args, Opts} <- Cases].

netem_case(Config, Args, Opts) ->
    TcMsg = tc_request(Config, ["qdisc add dev va root netem ", Args]),
    Resolve = fun(_) -> {ok, index(Config, <<"va">>)} end,
    {ok, Req} = linx_tc_msg:request({new, 16#600}, qdisc, #{link => <<"va">>, kind => netem,
                                                            options => Opts}, Resolve),
    %% NLM_F_REQUEST and NLM_F_ACK, which linx_nl adds when it sends
    Linx = linx_nl_codec:encode(Req#{flags => maps:get(flags, Req) bor 5}),
    {TcHdr, TcAttrs} = split_tcmsg(TcMsg),
    {TcHdr, LinxAttrs} = split_tcmsg(Linx),
    #{1 := <<"netem", 0>>, 2 := TcOpts} = TcAttrs,
    #{1 := <<"netem", 0>>, 2 := LinxOpts} = LinxAttrs,
    <<Struct:24/binary, TcNetem/binary>> = TcOpts,
    <<Struct:24/binary, LinxNetem/binary>> = LinxOpts,
    {ok, TcList} = linx_nl_codec:decode_attrs(TcNetem),
    {ok, LinxList} = linx_nl_codec:decode_attrs(LinxNetem),
    case lists:sort(TcList) =:= lists:sort(LinxList) of
        true -> ok;
        false -> ct:fail({netem_attrs_differ, Args, lists:sort(TcList), lists:sort(LinxList)})
    end,
    Decoded = linx_tc_kinds:decode(qdisc, <<"netem">>, TcOpts),
    [case {maps:get(K, Decoded), V} of
         {Same, Same} -> ok;
         {D, normal} when K =:= distribution -> D;
         {D, _} when is_float(D), abs(D - V) < 1.0e-6 -> ok;
         Other -> ct:fail({netem_decode, Args, K, Other})
     end || {K, V} <- maps:to_list(maps:remove(distribution, Opts))].

%% The RTM_NEWQDISC request tc sends (the kernel refuses it), from
%% strace's dump of the sendmsg buffers.
tc_request(Config, Args) ->
    {_, Out} = linx_ct_ns:sh(["strace -f -e trace=sendmsg -e write=all -xx ip netns exec ",
                              ?config(ns, Config), " tc ", Args, " 2>&1"]),
    Lines = [L || L <- string:split(unicode:characters_to_list(Out), "\n", all),
                  match =:= re:run(L, "^ \\| [0-9a-f]{5}  ", [{capture, none}])],
    Bufs = dumps(Lines, []),
    only([Msg || <<_:32, 36:16/native, _/binary>> = Msg <- Bufs]).

%% strace's hex lines, one buffer each time the offset starts again at 0.
dumps([], Acc) ->
    [iolist_to_binary(lists:reverse(B)) || B <- lists:reverse(Acc)];
dumps([L | Rest], Acc) ->
    Offset = list_to_integer(string:slice(L, 3, 5), 16),
    Bytes = << <<(list_to_integer(H, 16))>> || H <- string:lexemes(string:slice(L, 10, 49), " ") >>,
    case {Offset, Acc} of
        {0, _} -> dumps(Rest, [[Bytes] | Acc]);
        {_, [B | A]} -> dumps(Rest, [[Bytes | B] | A])
    end.

%% A request's tcmsg (after the netlink header, sequence number left
%% out) and its attributes by type.
split_tcmsg(<<_Len:32, Type:16/native, Flags:16/native, _Seq:32, _Pid:32, Hdr:20/binary,
              Attrs/binary>>) ->
    {ok, List} = linx_nl_codec:decode_attrs(Attrs),
    {{Type, Flags, Hdr}, maps:from_list(List)}.
