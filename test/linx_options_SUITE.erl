%% Options, checked the same way by every public function of the API
%% modules: each function that takes options is called with an option
%% no function knows, with options that are not options at all, and
%% with the same options as a map and as a proplist. An option is never
%% dropped: it is read, or refused with `{bad_option, _}'; nothing
%% raises.
-module(linx_options_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([every_function_with_options_is_called/1, unknown_option_refused/1,
         junk_options_refused/1, netns_refuses_in/1, bad_targets_refused/1,
         proplist_is_map_sysctl/1, proplist_is_map_netlink/1, proplist_is_map_nl/1,
         proplist_is_map_rtnl/1, proplist_is_map_genl/1, proplist_is_map_netns/1]).

%% Exported functions that take no options: the arities without them,
%% renderers and helpers, a gen_server's callbacks.
-define(NO_OPTIONS,
        [{linx_sysctl, [{read, 1}, {read_int, 1}, {read_ints, 1}, {write, 2}, {list, 0},
                        {list, 1}, {apply, 1}, {supported, 0}, {format_error, 1},
                        {key_to_path, 1}, {path_to_key, 1}, {render_value, 1}, {target, 1}]},
         {linx_netlink, [{open, 1}, {open_fd, 1}, {close_fd, 1}, {membership_add, 2},
                         {membership_del, 2}, {socket_open, 3}, {call, 2}, {format_error, 1}]},
         {linx_nl, [{next_seq, 0}, {request, 3}, {replies, 2}, {format_error, 1}]},
         {linx_rtnl, [{links, 0}, {link, 1}, {link_add, 1}, {link_set, 2}, {link_del, 1},
                      {addrs, 0}, {addr_add, 2}, {addr_del, 2}, {routes, 0}, {route_add, 1},
                      {addr_replace, 2},
                      {route_del, 1}, {route_replace, 1}, {route_append, 1}, {route_get, 1},
                      {neighs, 0}, {neigh_add, 1}, {neigh_del, 1},
                      {fdb, 0}, {fdb_add, 1}, {fdb_del, 1},
                      {rules, 0}, {rule_add, 1}, {rule_del, 1},
                      {nexthops, 0}, {nexthop_add, 1}, {nexthop_replace, 1}, {nexthop_del, 1},
                      {subscribe, 1}, {unsubscribe, 1}, {format_mac, 1}, {parse_mac, 1},
                      {batch, 1}, {format_error, 1}]},
         {linx_genl, [{family, 1}, {families, 0}, {request, 4}, {dump, 4}, {format_error, 1}]},
         {linx_netns, [{add, 1}, {del, 1}, {list, 0}, {exists, 1}, {identify, 1}, {new, 0},
                       {release, 1}, {owned, 0}, {format_error, 1}, {start_link, 0},
                       {init, 1}, {handle_call, 3}, {handle_cast, 2}, {handle_info, 2}]},
         %% linx_nft
         {linx_nft, [{apply, 1}, {replace, 2}, {flush_ruleset, 0}, {ruleset, 0}, {tables, 0},
                     {chains, 0}, {rules, 0}, {sets, 0}, {table_add, 1}, {table_del, 1}, {chain_add, 1},
                     {chain_del, 1}, {rule_add, 1}, {rule_del, 1}, {format_error, 1},
                     %% linx_nft events
                     {subscribe, 1}, {unsubscribe, 1}]},
         %% linx_tc
         {linx_tc, [{qdiscs, 0}, {classes, 1}, {filters, 1}, {filters, 2}, {qdisc_add, 1},
                    {qdisc_replace, 1}, {qdisc_change, 1}, {qdisc_del, 1}, {class_add, 1},
                    {class_replace, 1}, {class_change, 1}, {class_del, 1}, {filter_add, 1},
                    {filter_replace, 1}, {filter_del, 1}, {format_error, 1}]}]).

%% An interface index no namespace has.
-define(NO_INDEX, 16#7ffffff0).
%% A dump of every link (RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP).
-define(GETLINK, #{type => 18, flags => 16#300, payload => <<0:128>>}).

all() ->
    [{group, refused}, {group, proplist_is_map}].

groups() ->
    [{refused, [], [every_function_with_options_is_called, unknown_option_refused,
                    junk_options_refused, netns_refuses_in, bad_targets_refused]},
     {proplist_is_map, [], [proplist_is_map_sysctl, proplist_is_map_netlink,
                            proplist_is_map_nl, proplist_is_map_rtnl, proplist_is_map_genl,
                            proplist_is_map_netns]}].

init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-opts", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%====================================================================
%% Refused, never dropped
%%====================================================================

%% The table below has every exported function that takes options, so a
%% new one cannot be left out.
every_function_with_options_is_called(Config) ->
    Called = lists:usort([{M, F, A} || {M, F, A, _} <- calls(Config)]),
    Exported = lists:usort([{M, F, A} || {M, NoOptions} <- ?NO_OPTIONS,
                                         {F, A} <- M:module_info(exports),
                                         F =/= module_info,
                                         not lists:member({F, A}, NoOptions)]),
    ?assertEqual([], Exported -- Called),
    ?assertEqual([], Called -- Exported).

%% An option no function knows is refused by name and value, in a map and
%% in a proplist; the line names it.
unknown_option_refused(Config) ->
    Lines = [begin
                 Map = (base(M, Config))#{data => foo},
                 Line = refused(M, F, Call, Map, {data, foo}),
                 Line = refused(M, F, Call, maps:to_list(Map), {data, foo}),
                 {match, _} = re:run(Line, "invalid option \\{data,foo\\}"),
                 Line
             end || {M, F, _A, Call} <- calls(Config)],
    ct:log("~ts", [lists:join("\n", Lines)]).

%% Options that are not a map or a proper list of pairs: refused as they
%% are, never raising.
junk_options_refused(Config) ->
    Junk = [foo, 42, <<"in">>, [foo], [in], [{a, b, c}], [a | b],
            [{timeout, 100} | {in, self}], {in, self}],
    [refused(M, F, Call, J, J) || {M, F, _A, Call} <- calls(Config), J <- Junk],
    ok.

%% linx_netns's calls run where the port program is: `in' is not one of
%% their options.
netns_refuses_in(Config) ->
    In = {in, {netns, netns(Config)}},
    [refused(M, F, Call, [In], In) || {linx_netns = M, F, _A, Call} <- calls(Config)],
    ok.

%% A namespace name with NUL or `/', or too long, is refused as a target
%% (`in', a link's `netns'), before anything is sent.
bad_targets_refused(_Config) ->
    Bad = [{netns, <<"a", 0, "b">>}, {netns, "a\0b"}, {netns, <<"a/b">>}, {netns, <<>>},
           {netns, binary:copy(<<"x">>, 256)}, {path, <<"/run/netns/a", 0>>}, {ns, [<<>>]}],
    [{error, #{reason := {bad_in, In}}} = linx_sysctl:read(<<"net.ipv4.ip_forward">>, #{in => In})
     || In <- Bad],
    [{error, #{reason := {bad_in, In}}} = linx_rtnl:links([{in, In}]) || In <- Bad],
    [{error, #{reason := {bad_netns, In}}} = linx_rtnl:link_set(?NO_INDEX, #{netns => In})
     || In <- Bad],
    ok.

%% Calls `Call' with options `Opts': it must return `{error, Owned}' with
%% `{bad_option, Expected}', owned by `M:F', rendered as one line.
refused(M, F, Call, Opts, Expected) ->
    try Call(Opts) of
        {error, #{function := {M, F}, reason := {bad_option, Expected}} = E} ->
            Line = linx:format_error(E),
            nomatch = binary:match(Line, <<"\n">>),
            Line;
        Other ->
            ct:fail({not_refused, M, F, Opts, Other})
    catch
        Class:Reason:Stack ->
            ct:fail({raised, M, F, Opts, {Class, Reason, Stack}})
    end.

%% The options every call of module `M' gets besides the ones tested: the
%% suite's namespace as the target, but for linx_netns (no target).
base(linx_netns, _Config) -> #{};
base(_M, Config) -> linx_ct_ns:in_netns(Config).

%% {Module, Function, Arity, fun(Opts) -> Result}: each public function
%% that takes options, with arguments that pass their own checks, and
%% that would harm nothing were the options dropped (the kernel refuses
%% them: no such key, link, kind or name).
calls(_Config) ->
    NoSuch = list_to_binary(linx_ct_ns:unique("linx-opts-none")),
    Dump = linx_ct_nl:getlink_request(1),
    Pid = list_to_integer(os:getpid()),
    Key = <<"net.ipv4.linx_nosuch">>,
    Route = #{dst => {{192, 0, 2, 0}, 24}, oif => ?NO_INDEX},
    Neigh = #{index => ?NO_INDEX, dst => {192, 0, 2, 1}, lladdr => <<2, 0, 0, 0, 0, 1>>},
    Decode = fun(M) -> {ok, M} end,
    [{linx_sysctl, read, 2, fun(O) -> linx_sysctl:read(Key, O) end},
     {linx_sysctl, read_int, 2, fun(O) -> linx_sysctl:read_int(Key, O) end},
     {linx_sysctl, read_ints, 2, fun(O) -> linx_sysctl:read_ints(Key, O) end},
     {linx_sysctl, write, 3, fun(O) -> linx_sysctl:write(Key, 1, O) end},
     {linx_sysctl, list, 2, fun(O) -> linx_sysctl:list(Key, O) end},
     {linx_sysctl, apply, 2, fun(O) -> linx_sysctl:apply([{Key, 1}], O) end},
     {linx_netlink, open, 2, fun(O) -> closed(linx_netlink:open(route, O)) end},
     {linx_netlink, open, 3, fun(O) -> closed(linx_netlink:open(route, [1], O)) end},
     {linx_netlink, open_fd, 2, fun(O) -> closed(linx_netlink:open_fd(route, O)) end},
     {linx_netlink, open_fd, 3, fun(O) -> closed(linx_netlink:open_fd(route, 1, O)) end},
     {linx_netlink, socket_open, 4,
      fun(O) -> closed(linx_netlink:socket_open(inet, dgram, udp, O)) end},
     {linx_netlink, call, 3, fun(O) -> linx_netlink:call(route, Dump, O) end},
     {linx_netlink, call, 5,
      fun(O) -> element(1, linx_netlink:call(route, Dump, O, fun(_, A) -> A end, 0)) end},
     {linx_nl, call, 3, fun(O) -> linx_nl:call(route, ?GETLINK, O) end},
     {linx_nl, call, 4, fun(O) -> linx_nl:call(route, ?GETLINK, O, probe) end},
     {linx_nl, dump, 5, fun(O) -> linx_nl:dump(route, ?GETLINK, O, probe, Decode) end},
     {linx_rtnl, links, 1, fun(O) -> linx_rtnl:links(O) end},
     {linx_rtnl, link, 2, fun(O) -> linx_rtnl:link(<<"lo">>, O) end},
     {linx_rtnl, link_add, 2,
      fun(O) -> linx_rtnl:link_add(#{ifname => <<"linxopt0">>, kind => linx_nosuch}, O) end},
     {linx_rtnl, link_set, 3, fun(O) -> linx_rtnl:link_set(?NO_INDEX, #{mtu => 1400}, O) end},
     {linx_rtnl, link_del, 2, fun(O) -> linx_rtnl:link_del(?NO_INDEX, O) end},
     {linx_rtnl, addrs, 1, fun(O) -> linx_rtnl:addrs(O) end},
     {linx_rtnl, addr_add, 3,
      fun(O) -> linx_rtnl:addr_add(?NO_INDEX, {{192, 0, 2, 1}, 24}, O) end},
     {linx_rtnl, addr_del, 3,
      fun(O) -> linx_rtnl:addr_del(?NO_INDEX, {{192, 0, 2, 1}, 24}, O) end},
     {linx_rtnl, addr_replace, 3,
      fun(O) -> linx_rtnl:addr_replace(?NO_INDEX, {{192, 0, 2, 1}, 24}, O) end},
     {linx_rtnl, routes, 1, fun(O) -> linx_rtnl:routes(O) end},
     {linx_rtnl, route_add, 2, fun(O) -> linx_rtnl:route_add(Route, O) end},
     {linx_rtnl, route_del, 2, fun(O) -> linx_rtnl:route_del(Route, O) end},
     {linx_rtnl, routes, 2, fun(O) -> linx_rtnl:routes(#{table => 100}, O) end},
     {linx_rtnl, route_replace, 2, fun(O) -> linx_rtnl:route_replace(Route, O) end},
     {linx_rtnl, route_append, 2, fun(O) -> linx_rtnl:route_append(Route, O) end},
     {linx_rtnl, route_get, 2, fun(O) -> linx_rtnl:route_get(#{dst => {192, 0, 2, 1}, oif => ?NO_INDEX}, O) end},
     {linx_rtnl, neighs, 1, fun(O) -> linx_rtnl:neighs(O) end},
     {linx_rtnl, neigh_add, 2, fun(O) -> linx_rtnl:neigh_add(Neigh, O) end},
     {linx_rtnl, neigh_del, 2, fun(O) -> linx_rtnl:neigh_del(Neigh, O) end},
     {linx_rtnl, neighs, 2, fun(O) -> linx_rtnl:neighs(#{proxy => true}, O) end},
     {linx_rtnl, fdb, 1, fun(O) -> linx_rtnl:fdb(O) end},
     {linx_rtnl, fdb, 2, fun(O) -> linx_rtnl:fdb(#{index => 1}, O) end},
     {linx_rtnl, fdb_add, 2, fun(O) -> linx_rtnl:fdb_add(maps:remove(dst, Neigh), O) end},
     {linx_rtnl, fdb_del, 2, fun(O) -> linx_rtnl:fdb_del(maps:remove(dst, Neigh), O) end},
     {linx_rtnl, rules, 1, fun(O) -> linx_rtnl:rules(O) end},
     {linx_rtnl, rule_add, 2, fun(O) -> linx_rtnl:rule_add(#{priority => 1, goto => 1}, O) end},
     {linx_rtnl, rule_del, 2, fun(O) -> linx_rtnl:rule_del(#{priority => 12345}, O) end},
     {linx_rtnl, nexthops, 1, fun(O) -> linx_rtnl:nexthops(O) end},
     {linx_rtnl, nexthop_add, 2,
      fun(O) -> linx_rtnl:nexthop_add(#{id => 1, group => [16#7ffffff0]}, O) end},
     {linx_rtnl, nexthop_replace, 2,
      fun(O) -> linx_rtnl:nexthop_replace(#{id => 1, group => [16#7ffffff0]}, O) end},
     {linx_rtnl, nexthop_del, 2, fun(O) -> linx_rtnl:nexthop_del(16#7ffffff0, O) end},
     {linx_rtnl, subscribe, 2, fun(O) -> unsubscribed(linx_rtnl:subscribe([link], O)) end},
     {linx_rtnl, batch, 2, fun(O) -> linx_rtnl:batch([{link_del, ?NO_INDEX}], O) end},
     {linx_genl, family, 2, fun(O) -> linx_genl:family(<<"nlctrl">>, O) end},
     {linx_genl, families, 1, fun(O) -> linx_genl:families(O) end},
     {linx_genl, request, 5,
      fun(O) -> linx_genl:request(16, 3, 1, [{2, {string, <<"nlctrl">>}}], O) end},
     {linx_genl, dump, 5, fun(O) -> linx_genl:dump(16, 3, 1, [], O) end},
     {linx_netns, add, 2, fun(O) -> removed(NoSuch, linx_netns:add(NoSuch, O)) end},
     {linx_netns, add, 3, fun(O) -> removed(NoSuch, linx_netns:add(NoSuch, #{}, O)) end},
     {linx_netns, del, 2, fun(O) -> linx_netns:del(NoSuch, O) end},
     {linx_netns, list, 1, fun(O) -> linx_netns:list(O) end},
     {linx_netns, exists, 2, fun(O) -> linx_netns:exists(NoSuch, O) end},
     {linx_netns, identify, 2, fun(O) -> linx_netns:identify(Pid, O) end},
     {linx_netns, new, 1, fun(O) -> released(linx_netns:new(O)) end},
     {linx_netns, new, 2, fun(O) -> released(linx_netns:new(#{}, O)) end}]
    ++ %% linx_nft
    [{linx_nft, apply, 2, fun(O) -> linx_nft:apply([], O) end},
     {linx_nft, replace, 3, fun(O) -> linx_nft:replace(#{family => inet, name => <<"x">>}, [], O) end},
     {linx_nft, flush_ruleset, 1, fun(O) -> linx_nft:flush_ruleset(O) end},
     {linx_nft, ruleset, 1, fun(O) -> linx_nft:ruleset(O) end},
     {linx_nft, tables, 1, fun(O) -> linx_nft:tables(O) end},
     {linx_nft, chains, 1, fun(O) -> linx_nft:chains(O) end},
     {linx_nft, rules, 1, fun(O) -> linx_nft:rules(O) end},
     {linx_nft, sets, 1, fun(O) -> linx_nft:sets(O) end},
     {linx_nft, table_add, 2, fun(O) -> linx_nft:table_add(#{family => inet, name => <<"x">>}, O) end},
     {linx_nft, table_del, 2, fun(O) -> linx_nft:table_del(#{family => inet, name => <<"x">>}, O) end},
     {linx_nft, chain_add, 2,
      fun(O) -> linx_nft:chain_add(#{family => inet, table => <<"x">>, name => <<"c">>}, O) end},
     {linx_nft, chain_del, 2,
      fun(O) -> linx_nft:chain_del(#{family => inet, table => <<"x">>, name => <<"c">>}, O) end},
     {linx_nft, rule_add, 2,
      fun(O) -> linx_nft:rule_add(#{family => inet, table => <<"x">>, chain => <<"c">>}, O) end},
     {linx_nft, rule_del, 2,
      fun(O) -> linx_nft:rule_del(#{family => inet, table => <<"x">>, chain => <<"c">>,
                                    handle => 1}, O) end}]
    ++ %% linx_tc: links no namespace has, kinds no kernel has
    [{linx_tc, qdiscs, 1, fun(O) -> linx_tc:qdiscs(O) end},
     {linx_tc, qdiscs, 2, fun(O) -> linx_tc:qdiscs(#{link => ?NO_INDEX}, O) end},
     {linx_tc, classes, 2, fun(O) -> linx_tc:classes(?NO_INDEX, O) end},
     {linx_tc, filters, 3, fun(O) -> linx_tc:filters(?NO_INDEX, root, O) end}]
    ++ [{linx_tc, F, 2, fun(O) -> linx_tc:F(#{link => ?NO_INDEX, kind => linx_nosuch}, O) end}
        || F <- [qdisc_add, qdisc_replace, qdisc_change, qdisc_del, class_add, class_replace,
                 class_change, class_del, filter_add, filter_replace, filter_del]]
    ++ %% linx_nft events
    [{linx_nft, subscribe, 2, fun(O) -> nft_unsubscribed(linx_nft:subscribe(all, O)) end}].

%% What a call made, undone should it have been made after all.
closed({ok, S} = Ok) when is_integer(S) -> ok = linx_netlink:close_fd(S), Ok;
closed({ok, S} = Ok) -> ok = socket:close(S), Ok;
closed(Error) -> Error.

unsubscribed({ok, Ref} = Ok) -> ok = linx_rtnl:unsubscribe(Ref), Ok;
unsubscribed(Error) -> Error.

nft_unsubscribed({ok, Ref} = Ok) -> ok = linx_nft:unsubscribe(Ref), Ok;
nft_unsubscribed(Error) -> Error.

removed(Name, ok) -> _ = linx_netns:del(Name), ok;
removed(_Name, Error) -> Error.

released({ok, H} = Ok) -> ok = linx_netns:release(H), Ok;
released(Error) -> Error.

%%====================================================================
%% The same options as a map and as a proplist
%%====================================================================

%% A read and a list in the namespace; a write outside net.* through a
%% netns refused the same way; host_keys checked the same way.
proplist_is_map_sysctl(Config) ->
    #{in := In} = Map = linx_ct_ns:in_netns(Config),
    List = [{in, In}, {timeout, 5000}],
    Key = <<"net.ipv4.ip_forward">>,
    Same = fun(F) -> same(F(Map#{timeout => 5000}), F(List)) end,
    Same(fun(O) -> linx_sysctl:read(Key, O) end),
    Same(fun(O) -> linx_sysctl:list(<<"net.ipv4.conf.lo">>, O) end),
    {error, #{stage := write, errno := not_in_target}} =
        Same(fun(O) -> linx_sysctl:write(<<"kernel.domainname">>, <<"x">>, O) end),
    {error, #{reason := {bad_option, {host_keys, maybe}}}} =
        same(linx_sysctl:write(Key, 0, Map#{host_keys => maybe}),
             linx_sysctl:write(Key, 0, [{in, In}, {host_keys, maybe}])),
    %% The first of a key twice in a proplist wins.
    {error, #{reason := {bad_option, {timeout, soon}}}} =
        linx_sysctl:read(Key, [{in, In}, {timeout, soon}, {timeout, 100}]),
    {ok, _} = linx_sysctl:read(Key, [{in, In}, {timeout, 100}, {timeout, soon}]).

%% A socket in the namespace with rcvbuf set, either way; a netlink call.
proplist_is_map_netlink(Config) ->
    #{in := In} = Map = linx_ct_ns:in_netns(Config),
    Rcvbuf = fun(O) ->
                     {ok, S} = linx_netlink:open(route, O),
                     {ok, Size} = socket:getopt(S, socket, rcvbuf),
                     {ok, Links} = linx_ct_nl:dump_links(S, 5000),
                     ok = socket:close(S),
                     {Size, Links}
             end,
    {_, [<<"lo">>]} = same(Rcvbuf(Map#{rcvbuf => 123456}), Rcvbuf([{in, In}, {rcvbuf, 123456}])),
    Names = fun(O) ->
                    {ok, Bins} = linx_netlink:call(route, linx_ct_nl:getlink_request(1), O),
                    [N || B <- Bins, M <- linx_ct_nl:messages(B),
                          {ok, N} <- [linx_ct_nl:link_name(M)]]
            end,
    [<<"lo">>] = same(Names(Map), Names([{in, In}])).

%% A dump through linx_nl, decoded, and a request with ns_fd_marks given
%% as a proplist (linx_rtnl's own use of it).
proplist_is_map_nl(Config) ->
    #{in := In} = Map = linx_ct_ns:in_netns(Config),
    Decode = fun(#{payload := P}) -> linx_rtnl_msg:decode_link(P) end,
    Names = fun(O) ->
                    {ok, Links} = linx_nl:dump(route, ?GETLINK, O, probe, Decode),
                    [N || #{ifname := N} <- Links]
            end,
    [<<"lo">>] = same(Names(Map), Names([{in, In}])),
    Types = fun(O) -> {ok, Msgs} = linx_nl:call(route, ?GETLINK, O), [T || #{type := T} <- Msgs] end,
    [16] = same(Types(Map), Types([{in, In}])).

%% links/1, and link_add/2 with a veth peer in another namespace (whose
%% descriptor the options carry down to the port program).
proplist_is_map_rtnl(Config) ->
    #{in := In} = Map = linx_ct_ns:in_netns(Config),
    Ns = netns(Config),
    Other = linx_ct_ns:unique("linx-opts-peer"),
    ok = linx_ct_ns:netns_add(Other),
    try
        Names = fun(O) -> {ok, Links} = linx_rtnl:links(O), [N || #{ifname := N} <- Links] end,
        same(Names(Map), Names([{in, In}])),
        {ok, _} = same(linx_rtnl:routes(#{table => local}, Map),
                             linx_rtnl:routes(#{table => local}, [{in, In}])),
        Veth = fun(A, B, O) ->
                       Spec = #{ifname => A, kind => veth,
                                peer => #{ifname => B, netns => {netns, list_to_binary(Other)}}},
                       ok = linx_rtnl:link_add(Spec, O),
                       {ok, #{ifname := A}} = linx_rtnl:link(A, O),
                       linx_ct_ns:sh_ok(["ip -n ", Other, " -o link show ", B])
               end,
        Veth(<<"pm0">>, <<"pm1">>, Map),
        Veth(<<"pl0">>, <<"pl1">>, [{in, In}]),
        linx_ct_ns:sh_ok(["ip -n ", Ns, " link del pm0"]),
        linx_ct_ns:sh_ok(["ip -n ", Ns, " link del pl0"])
    after
        linx_ct_ns:netns_del(Other)
    end.

%% `flags' reaches the kernel from a proplist as from a map: with
%% NLM_F_DUMP a plain request is the dump of every family. `dump' is
%% refused either way, pointing at dump/5.
proplist_is_map_genl(Config) ->
    #{in := In} = Map = linx_ct_ns:in_netns(Config),
    {ok, All} = linx_genl:dump(16, 3, 1, [], Map),
    true = length(All) > 1,
    {ok, All} = same(linx_genl:request(16, 3, 1, [], Map#{flags => 16#300}),
                     linx_genl:request(16, 3, 1, [], [{in, In}, {flags, 16#300}])),
    {error, #{reason := {bad_option, {dump, true}}} = E} =
        same(linx_genl:request(16, 3, 1, [], Map#{dump => true}),
             linx_genl:request(16, 3, 1, [], [{in, In}, {dump, true}])),
    {match, _} = re:run(linx:format_error(E), "linx_genl:dump/4,5"),
    %% family/2 and families/1 take no flags.
    {error, #{reason := {bad_option, {flags, 0}}}} =
        same(linx_genl:family(<<"nlctrl">>, Map#{flags => 0}),
             linx_genl:family(<<"nlctrl">>, [{in, In}, {flags, 0}])).

%% A namespace made and removed with proplist options; `lo' as an option
%% refused either way.
proplist_is_map_netns(_Config) ->
    Name = list_to_binary(linx_ct_ns:unique("linx-opts-pl")),
    ok = linx_netns:add(Name, #{}, [{timeout, 5000}]),
    true = same(linx_netns:exists(Name, #{timeout => 5000}), linx_netns:exists(Name, [{timeout, 5000}])),
    ok = linx_netns:del(Name, [{timeout, 5000}, {via, local}]),
    false = linx_netns:exists(Name, [{via, local}]),
    {error, #{reason := {bad_option, {lo, up}}}} =
        same(linx_netns:add(Name, #{lo => up}), linx_netns:add(Name, [{lo, up}])),
    false = linx_netns:exists(Name).

%% Both results, which must be equal.
same(A, B) ->
    ?assertEqual(A, B),
    A.

netns(Config) ->
    ?config(netns, Config).
