%% Errors that name their owner: every public function of the API modules
%% is called into each kind of error it can return (a bad argument, a bad
%% option, a namespace that is not there, the kernel's refusal), and each
%% error says which module renders it and which function was called;
%% linx:format_error/1 finds the renderer from the error itself and its
%% one line names that function.
-module(linx_owned_errors_SUITE).

-include_lib("common_test/include/ct.hrl").
-include_lib("stdlib/include/assert.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([every_function_is_called/1, errors_name_their_function/1,
         rtnl_bad_groups_rendered_by_rtnl/1, inner_calls_name_the_outer_function/1]).

-define(GONE, #{in => {netns, <<"linx-no-such-ns">>}}).
%% Exported functions that return no error: renderers, helpers exported
%% for tests and for each other, a gen_server's callbacks.
-define(NO_ERRORS, [format_error, format_mac, parse_mac, unsubscribe, owned, next_seq,
                    supported, key_to_path, path_to_key, render_value, target,
                    start_link, init, handle_call, handle_cast, handle_info]).

all() ->
    [every_function_is_called, errors_name_their_function, rtnl_bad_groups_rendered_by_rtnl,
     inner_calls_name_the_outer_function].

init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-own", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%--------------------------------------------------------------------

%% The table below calls every exported function of the API modules that
%% can fail (each arity), so a new function cannot be left out.
every_function_is_called(Config) ->
    Called = lists:usort([{M, F, A} || {M, F, A, _} <- calls(Config)]),
    Exported = lists:usort([{M, F, A} || M <- modules(),
                                         {F, A} <- M:module_info(exports),
                                         F =/= module_info,
                                         not lists:member(F, ?NO_ERRORS)]),
    ?assertEqual([], Exported -- Called),
    ?assertEqual([], Called -- Exported).

%% Each call fails; its error names the module called as its renderer's
%% caller and the function called; the line names the function.
errors_name_their_function(Config) ->
    Checked = [check(M, F, Call) || {M, F, _A, Call} <- calls(Config)],
    ct:pal("~ts", [lists:join("\n", Checked)]),
    ct:comment("~b errors rendered", [length(Checked)]).

check(M, F, Call) ->
    case Call() of
        {error, #{module := Renderer, function := {M, F}} = E} ->
            Line = linx:format_error(E),
            ?assertEqual(Line, linx:format_error({error, E})),
            ?assertEqual(Line, Renderer:format_error(E)),
            ?assertEqual(nomatch, binary:match(Line, <<"\n">>)),
            case re:run(Line, ["(^|[^a-z0-9_])", atom_to_list(F), "($|[^a-z0-9_])"]) of
                {match, _} -> ok;
                nomatch -> ct:fail({"does not name the function", M, F, Line})
            end,
            %% Every reason has a text of its own: none is shown as a raw term.
            Prefix = iolist_to_binary([atom_to_list(M), $:, atom_to_list(F), ": "]),
            Text = case Line of
                       <<Prefix:(byte_size(Prefix))/binary, After/binary>> -> After;
                       _ -> Line
                   end,
            ?assertNotMatch(<<"{", _/binary>>, Text),
            ?assertNotMatch(<<"#{", _/binary>>, Text),
            Line;
        Other ->
            ct:fail({"not an owned error", M, F, Other})
    end.

%% {bad_groups, _} from linx_rtnl is rendered with rtnl's own text.
rtnl_bad_groups_rendered_by_rtnl(_Config) ->
    {error, #{module := linx_rtnl, reason := {bad_groups, [nosuch]}} = E} =
        linx_rtnl:subscribe([nosuch]),
    <<"linx_rtnl:subscribe: invalid rtnetlink groups: [nosuch]">> = linx:format_error(E),
    {error, #{module := linx_netlink, reason := {bad_groups, [0]}} = N} =
        linx_netlink:open(route, [0], #{}),
    {match, _} = re:run(linx:format_error(N), "^linx_netlink:open: invalid netlink groups").

%% An error that a public function meets in another one it calls names
%% the function the caller called.
inner_calls_name_the_outer_function(Config) ->
    In = in(Config),
    {error, #{function := {linx_rtnl, link_set}, op := link, errno := enodev} = E} =
        linx_rtnl:link_set(<<"nosuch0">>, #{mtu => 1400}, In),
    <<"linx_rtnl:link_set: netlink link in netns ", _/binary>> = linx:format_error(E),
    {error, #{function := {linx_netns, exists}}} = linx_netns:exists(<<"x">>, #{timeout => -1}).

%%--------------------------------------------------------------------

modules() ->
    [linx_sysctl, linx_netlink, linx_rtnl, linx_genl, linx_netns, linx_nl,
     linx_nft,
     linx_tc].

in(Config) ->
    #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% {Module, Function, Arity, fun() -> {error, _}}: for each public
%% function, a call into each kind of error it has.
calls(Config) ->
    In = in(Config),
    Bad = #{in => nowhere},
    Get = #{type => 18, flags => 16#300, payload => <<0:128>>},
    lists:append(
      [%% linx_sysctl
       [{linx_sysctl, read, 1, fun() -> linx_sysctl:read(<<"a..b">>) end},
        {linx_sysctl, read, 2, fun() -> linx_sysctl:read(<<"net.ipv4.nosuch">>, In) end},
        {linx_sysctl, read, 2, fun() -> linx_sysctl:read(<<"net.ipv4.ip_forward">>, ?GONE) end},
        {linx_sysctl, read, 2, fun() -> linx_sysctl:read(<<"net.ipv4.ip_forward">>, Bad) end},
        {linx_sysctl, read_int, 1, fun() -> linx_sysctl:read_int(<<"kernel.ostype">>) end},
        {linx_sysctl, read_int, 2, fun() -> linx_sysctl:read_int(<<"net.nosuch">>, In) end},
        {linx_sysctl, read_ints, 1, fun() -> linx_sysctl:read_ints(<<"kernel.ostype">>) end},
        {linx_sysctl, read_ints, 2, fun() -> linx_sysctl:read_ints(<<"x">>, Bad) end},
        {linx_sysctl, write, 2, fun() -> linx_sysctl:write(<<"net.ipv4.ip_forward">>, {x}) end},
        {linx_sysctl, write, 3, fun() -> linx_sysctl:write(<<"net.ipv4.nosuch">>, 1, In) end},
        {linx_sysctl, write, 3, fun() -> linx_sysctl:write(<<"net.ipv4.ip_forward">>, <<"a\n">>, In) end},
        {linx_sysctl, list, 0, fun() -> with_env_via(fun linx_sysctl:list/0) end},
        {linx_sysctl, list, 1, fun() -> linx_sysctl:list(<<"a..b">>) end},
        {linx_sysctl, list, 2, fun() -> linx_sysctl:list(<<"net.ipv4.nosuch">>, In) end},
        {linx_sysctl, apply, 1, fun() -> linx_sysctl:apply(foo) end},
        {linx_sysctl, apply, 2, fun() -> linx_sysctl:apply([{<<"net.ipv4.nosuch">>, 1}], In) end}],
       %% linx_netlink
       [{linx_netlink, open, 1, fun() -> linx_netlink:open(nosuch) end},
        {linx_netlink, open, 2, fun() -> linx_netlink:open(route, ?GONE) end},
        {linx_netlink, open, 2, fun() -> linx_netlink:open(route, #{groups => [1]}) end},
        {linx_netlink, open, 3, fun() -> linx_netlink:open(route, [0], In) end},
        {linx_netlink, open_fd, 1, fun() -> linx_netlink:open_fd(nosuch) end},
        {linx_netlink, open_fd, 2, fun() -> linx_netlink:open_fd(route, Bad) end},
        {linx_netlink, open_fd, 3, fun() -> linx_netlink:open_fd(route, [40], In) end},
        {linx_netlink, close_fd, 1, fun() -> linx_netlink:close_fd(999999) end},
        {linx_netlink, close_fd, 1, fun() -> linx_netlink:close_fd(-1) end},
        {linx_netlink, membership_add, 2, fun() -> linx_netlink:membership_add(not_a_socket, 0) end},
        {linx_netlink, membership_del, 2, fun() -> linx_netlink:membership_del(not_a_socket, x) end},
        {linx_netlink, socket_open, 3, fun() -> linx_netlink:socket_open(unix, raw, 0) end},
        {linx_netlink, socket_open, 4, fun() -> linx_netlink:socket_open(inet, dgram, udp, ?GONE) end},
        {linx_netlink, call, 2, fun() -> linx_netlink:call(nosuch, <<>>) end},
        {linx_netlink, call, 3, fun() -> linx_netlink:call(route, <<1, 2, 3>>, In) end},
        {linx_netlink, call, 5, fun() -> element(1, linx_netlink:call(route, <<>>, ?GONE, fun(_, A) -> A end, 0)) end}],
       %% linx_nl
       [{linx_nl, call, 3, fun() -> linx_nl:call(route, Get, ?GONE) end},
        {linx_nl, call, 4, fun() -> linx_nl:call(route, Get#{type => 9999, flags => 0}, In, probe) end},
        {linx_nl, dump, 5, fun() -> linx_nl:dump(route, Get, ?GONE, probe, fun(M) -> {ok, M} end) end},
        {linx_nl, request, 3, fun() -> linx_nl:request(not_a_socket, Get, 100) end},
        {linx_nl, replies, 2, fun() -> linx_nl:replies([<<1, 2, 3, 4, 5>>], 1) end}],
       %% linx_rtnl
       [{linx_rtnl, links, 0, fun() -> with_env_via(fun linx_rtnl:links/0) end},
        {linx_rtnl, links, 1, fun() -> linx_rtnl:links(?GONE) end},
        {linx_rtnl, link, 1, fun() -> linx_rtnl:link(<<"a/b">>) end},
        {linx_rtnl, link, 2, fun() -> linx_rtnl:link(<<"nosuch0">>, In) end},
        {linx_rtnl, link_add, 1, fun() -> linx_rtnl:link_add(#{ifname => <<"x">>}) end},
        {linx_rtnl, link_add, 2, fun() -> linx_rtnl:link_add(#{ifname => <<"lo">>, kind => bridge}, In) end},
        {linx_rtnl, link_add, 2, fun() -> linx_rtnl:link_add(#{ifname => <<"x0">>, kind => bridge, mtu => 0}, In) end},
        {linx_rtnl, link_set, 2, fun() -> linx_rtnl:link_set(<<"lo">>, nope) end},
        {linx_rtnl, link_set, 3, fun() -> linx_rtnl:link_set(<<"lo">>, #{netns => {netns, <<"linx-no-such-ns">>}}, In) end},
        {linx_rtnl, link_del, 1, fun() -> linx_rtnl:link_del(0) end},
        {linx_rtnl, link_del, 2, fun() -> linx_rtnl:link_del(<<"nosuch0">>, In) end},
        {linx_rtnl, addrs, 0, fun() -> with_env_via(fun linx_rtnl:addrs/0) end},
        {linx_rtnl, addrs, 1, fun() -> linx_rtnl:addrs(Bad) end},
        {linx_rtnl, addr_add, 2, fun() -> linx_rtnl:addr_add(<<"lo">>, {{1, 2, 3}, 8}) end},
        {linx_rtnl, addr_add, 3, fun() -> twice(fun() -> linx_rtnl:addr_add(<<"lo">>, {{127, 0, 0, 9}, 8}, In) end) end},
        {linx_rtnl, addr_add, 3, fun() -> linx_rtnl:addr_add(<<"lo">>, {{127, 0, 0, 9}, 8}, In#{label => <<"x">>}) end},
        {linx_rtnl, addr_add, 3, fun() -> linx_rtnl:addr_add(<<"lo">>, #{prefix => {{127, 0, 0, 9}, 8}, flags => [nosuch]}, In) end},
        {linx_rtnl, addr_del, 2, fun() -> linx_rtnl:addr_del(<<"lo">>, #{x => 1}) end},
        {linx_rtnl, addr_del, 3, fun() -> linx_rtnl:addr_del(<<"lo">>, {{10, 9, 9, 9}, 32}, In) end},
        {linx_rtnl, addr_replace, 2, fun() -> linx_rtnl:addr_replace(<<"lo">>, #{prefix => {{10, 9, 9, 9}, 32}, label => <<"lo:x">>, flags => [nodad]}) end},
        {linx_rtnl, addr_replace, 3, fun() -> linx_rtnl:addr_replace(<<"nosuch0">>, {{10, 9, 9, 9}, 32}, In) end},
        {linx_rtnl, routes, 0, fun() -> with_env_via(fun linx_rtnl:routes/0) end},
        {linx_rtnl, routes, 1, fun() -> linx_rtnl:routes(?GONE) end},
        {linx_rtnl, route_add, 1, fun() -> linx_rtnl:route_add(#{dst => nowhere}) end},
        {linx_rtnl, route_add, 2, fun() -> linx_rtnl:route_add(#{dst => {{10, 1, 0, 0}, 16}, gateway => {10, 99, 0, 1}}, In) end},
        {linx_rtnl, route_del, 1, fun() -> linx_rtnl:route_del(not_a_map) end},
        {linx_rtnl, route_del, 2, fun() -> linx_rtnl:route_del(#{dst => {{10, 77, 0, 0}, 16}, oif => <<"lo">>}, In) end},
        {linx_rtnl, routes, 2, fun() -> linx_rtnl:routes(#{table => mine}, In) end},
        {linx_rtnl, routes, 2, fun() -> linx_rtnl:routes(#{table => 100}, ?GONE) end},
        {linx_rtnl, route_replace, 1, fun() -> linx_rtnl:route_replace(#{dst => nowhere}) end},
        {linx_rtnl, route_replace, 2, fun() -> linx_rtnl:route_replace(#{dst => {{10, 1, 0, 0}, 16}, gateway => {10, 99, 0, 1}}, In) end},
        {linx_rtnl, route_append, 1, fun() -> linx_rtnl:route_append(not_a_map) end},
        {linx_rtnl, route_append, 2, fun() -> linx_rtnl:route_append(#{dst => {{10, 1, 0, 0}, 16}, gateway => {10, 99, 0, 1}}, In) end},
        {linx_rtnl, route_get, 1, fun() -> linx_rtnl:route_get(#{dst => {10, 0, 0, 1}, colour => red}) end},
        {linx_rtnl, route_get, 2, fun() -> linx_rtnl:route_get({10, 77, 0, 1}, In) end},
        {linx_rtnl, neighs, 0, fun() -> with_env_via(fun linx_rtnl:neighs/0) end},
        {linx_rtnl, neighs, 1, fun() -> linx_rtnl:neighs(?GONE) end},
        {linx_rtnl, neigh_add, 1, fun() -> linx_rtnl:neigh_add(#{index => 1}) end},
        {linx_rtnl, neigh_add, 2, fun() -> linx_rtnl:neigh_add(#{index => <<"nosuch0">>, dst => {10, 0, 0, 1}}, In) end},
        {linx_rtnl, neigh_del, 1, fun() -> linx_rtnl:neigh_del(#{index => 1, dst => x}) end},
        {linx_rtnl, neigh_del, 2, fun() -> linx_rtnl:neigh_del(#{index => <<"lo">>, dst => {10, 0, 0, 1}}, In) end},
        {linx_rtnl, neighs, 2, fun() -> linx_rtnl:neighs(#{proxy => yes}, In) end},
        {linx_rtnl, fdb, 0, fun() -> with_env_via(fun linx_rtnl:fdb/0) end},
        {linx_rtnl, fdb, 1, fun() -> linx_rtnl:fdb(?GONE) end},
        {linx_rtnl, fdb, 2, fun() -> linx_rtnl:fdb(#{bridge => 1}, In) end},
        {linx_rtnl, fdb_add, 1, fun() -> linx_rtnl:fdb_add(#{index => 1}) end},
        {linx_rtnl, fdb_add, 2, fun() -> linx_rtnl:fdb_add(#{mac => <<0:48>>, index => <<"nosuch0">>}, In) end},
        {linx_rtnl, fdb_del, 1, fun() -> linx_rtnl:fdb_del(#{mac => x, index => 1}) end},
        {linx_rtnl, fdb_del, 2, fun() -> linx_rtnl:fdb_del(#{mac => <<2, 0, 0, 0, 0, 1>>, index => <<"lo">>}, In) end},
        {linx_rtnl, rules, 0, fun() -> with_env_via(fun linx_rtnl:rules/0) end},
        {linx_rtnl, rules, 1, fun() -> linx_rtnl:rules(?GONE) end},
        {linx_rtnl, rule_add, 1, fun() -> linx_rtnl:rule_add(#{sport => {9, 3}}) end},
        {linx_rtnl, rule_add, 2, fun() -> linx_rtnl:rule_add(#{priority => 1, goto => 1}, In) end},
        {linx_rtnl, rule_del, 1, fun() -> linx_rtnl:rule_del(not_a_map) end},
        {linx_rtnl, rule_del, 2, fun() -> linx_rtnl:rule_del(#{priority => 12345}, In) end},
        {linx_rtnl, nexthops, 0, fun() -> with_env_via(fun linx_rtnl:nexthops/0) end},
        {linx_rtnl, nexthops, 1, fun() -> linx_rtnl:nexthops(?GONE) end},
        {linx_rtnl, nexthop_add, 1, fun() -> linx_rtnl:nexthop_add(#{id => 0}) end},
        {linx_rtnl, nexthop_add, 2, fun() -> linx_rtnl:nexthop_add(#{id => 1, group => [16#7ffffff0]}, In) end},
        {linx_rtnl, nexthop_replace, 1, fun() -> linx_rtnl:nexthop_replace(#{id => 1}) end},
        {linx_rtnl, nexthop_replace, 2, fun() -> linx_rtnl:nexthop_replace(#{id => 1, group => [16#7ffffff0]}, In) end},
        {linx_rtnl, nexthop_del, 1, fun() -> linx_rtnl:nexthop_del(not_an_id) end},
        {linx_rtnl, nexthop_del, 2, fun() -> linx_rtnl:nexthop_del(16#7ffffff0, In) end},
        {linx_rtnl, subscribe, 1, fun() -> linx_rtnl:subscribe([nosuch]) end},
        {linx_rtnl, subscribe, 2, fun() -> linx_rtnl:subscribe([link], ?GONE) end},
        {linx_rtnl, batch, 1, fun() -> linx_rtnl:batch([{bogus}]) end},
        {linx_rtnl, batch, 1, fun() -> linx_rtnl:batch([]) end},
        {linx_rtnl, batch, 2, fun() -> linx_rtnl:batch([{link_del, <<"nosuch0">>}], ?GONE) end},
        {linx_rtnl, batch, 2, fun() -> linx_rtnl:batch([{link_del, <<"lo">>}], In#{atomic => yes}) end},
        {linx_rtnl, batch, 2, fun() -> linx_rtnl:batch([{addr_del, <<"lo">>, {{10, 9, 9, 9}, 32}}], In#{atomic => true}) end},
        {linx_rtnl, batch, 2, fun() -> linx_rtnl:batch([{link_set, <<"lo">>, #{netns => {netns, <<"linx-no-such-ns">>}}}], In#{atomic => true}) end}],
       %% linx_genl
       [{linx_genl, family, 1, fun() -> linx_genl:family(<<>>) end},
        {linx_genl, family, 2, fun() -> linx_genl:family(<<"linx-nosuch">>, In) end},
        {linx_genl, families, 0, fun() -> with_env_via(fun linx_genl:families/0) end},
        {linx_genl, families, 1, fun() -> linx_genl:families([foo]) end},
        {linx_genl, families, 1, fun() -> linx_genl:families(?GONE) end},
        {linx_genl, request, 4, fun() -> linx_genl:request(-1, 3, 1, []) end},
        {linx_genl, request, 5, fun() -> linx_genl:request(16, 3, 1, [], In#{dump => true}) end},
        {linx_genl, request, 5, fun() -> linx_genl:request(16, 3, 1, [{2, {string, <<"linx-nosuch">>}}], In) end},
        {linx_genl, dump, 4, fun() -> linx_genl:dump(16, 256, 1, []) end},
        {linx_genl, dump, 5, fun() -> linx_genl:dump(16, 3, 1, [{1, {u16, 1 bsl 16}}], In) end},
        {linx_genl, dump, 5, fun() -> linx_genl:dump(16, 3, 1, [], ?GONE) end}],
       %% linx_netns
       [{linx_netns, add, 1, fun() -> linx_netns:add(<<"a/b">>) end},
        {linx_netns, add, 2, fun() -> linx_netns:add(?config(netns, Config), #{}) end},
        {linx_netns, add, 2, fun() -> linx_netns:add(<<"x">>, #{lo => up}) end},
        {linx_netns, add, 3, fun() -> linx_netns:add(<<"x">>, #{lo => sideways}, #{}) end},
        {linx_netns, del, 1, fun() -> linx_netns:del(<<"linx-no-such-ns">>) end},
        {linx_netns, del, 2, fun() -> linx_netns:del(<<"..">>, #{}) end},
        {linx_netns, list, 0, fun() -> with_env_via(fun linx_netns:list/0) end},
        {linx_netns, list, 1, fun() -> linx_netns:list(#{timeout => -1}) end},
        {linx_netns, exists, 1, fun() -> linx_netns:exists(<<"a/b">>) end},
        {linx_netns, exists, 2, fun() -> linx_netns:exists(<<"x">>, #{via => 7}) end},
        {linx_netns, identify, 1, fun() -> linx_netns:identify(0) end},
        {linx_netns, identify, 2, fun() -> linx_netns:identify(1, #{timeout => x}) end},
        {linx_netns, new, 0, fun() -> with_env_via(fun linx_netns:new/0) end},
        {linx_netns, new, 1, fun() -> linx_netns:new(#{lo => up}) end},
        {linx_netns, new, 2, fun() -> linx_netns:new(#{lo => maybe}, #{}) end},
        {linx_netns, new, 2, fun() -> linx_netns:new(#{}, #{via => 'linx@nohost'}) end},
        {linx_netns, release, 1, fun() -> linx_netns:release(nope) end},
        {linx_netns, release, 1, fun() -> linx_netns:release({linx_netns, 16#7fffffff}) end}],
       %% linx_nft
       nft_calls(In),
       %% linx_tc
       tc_calls(In)]).

%% linx_nft: a bad op, a bad option, a namespace that is not there, the
%% kernel's refusal (a table or chain that is not there).
nft_calls(In) ->
    T = #{family => inet, name => <<"linx-nosuch">>},
    C = #{family => inet, table => <<"linx-nosuch">>, name => <<"c">>},
    R = #{family => inet, table => <<"linx-nosuch">>, chain => <<"c">>, handle => 1},
    [{linx_nft, apply, 1, fun() -> linx_nft:apply(nope) end},
     {linx_nft, apply, 2, fun() -> linx_nft:apply([{add, table, T#{colour => red}}], In) end},
     {linx_nft, apply, 2, fun() -> linx_nft:apply([{delete, table, T}], In) end},
     {linx_nft, apply, 2, fun() -> linx_nft:apply([{delete, table, T}], ?GONE) end},
     {linx_nft, replace, 2, fun() -> linx_nft:replace(T, nope) end},
     {linx_nft, replace, 3, fun() -> linx_nft:replace(T, [{delete, chain, C}], In) end},
     {linx_nft, flush_ruleset, 0, fun() -> with_env_via(fun linx_nft:flush_ruleset/0) end},
     {linx_nft, flush_ruleset, 1, fun() -> linx_nft:flush_ruleset(?GONE) end},
     {linx_nft, ruleset, 0, fun() -> with_env_via(fun linx_nft:ruleset/0) end},
     {linx_nft, ruleset, 1, fun() -> linx_nft:ruleset([foo]) end},
     {linx_nft, tables, 0, fun() -> with_env_via(fun linx_nft:tables/0) end},
     {linx_nft, tables, 1, fun() -> linx_nft:tables(?GONE) end},
     {linx_nft, chains, 0, fun() -> with_env_via(fun linx_nft:chains/0) end},
     {linx_nft, chains, 1, fun() -> linx_nft:chains(#{timeout => -1}) end},
     {linx_nft, rules, 0, fun() -> with_env_via(fun linx_nft:rules/0) end},
     {linx_nft, rules, 1, fun() -> linx_nft:rules(?GONE) end},
     {linx_nft, sets, 0, fun() -> with_env_via(fun linx_nft:sets/0) end},
     {linx_nft, sets, 1, fun() -> linx_nft:sets(?GONE) end},
     {linx_nft, table_add, 1, fun() -> linx_nft:table_add(T#{family => ipx}) end},
     {linx_nft, table_add, 2, fun() -> linx_nft:table_add(T#{flags => [sideways]}, In) end},
     {linx_nft, table_del, 1, fun() -> linx_nft:table_del(T#{name => 42}) end},
     {linx_nft, table_del, 2, fun() -> linx_nft:table_del(T, In) end},
     {linx_nft, chain_add, 1, fun() -> linx_nft:chain_add(C#{hook => nowhere}) end},
     {linx_nft, chain_add, 2, fun() -> linx_nft:chain_add(C, In) end},
     {linx_nft, chain_del, 1, fun() -> linx_nft:chain_del(C#{colour => red}) end},
     {linx_nft, chain_del, 2, fun() -> linx_nft:chain_del(C, In) end},
     {linx_nft, rule_add, 1, fun() -> linx_nft:rule_add(R#{expressions => [{bogus, #{}}]}) end},
     {linx_nft, rule_add, 2, fun() -> linx_nft:rule_add(maps:remove(handle, R), In) end},
     {linx_nft, rule_del, 1, fun() -> linx_nft:rule_del(R#{handle => -1}) end},
     {linx_nft, rule_del, 2, fun() -> linx_nft:rule_del(R, In) end}]
    ++ %% linx_nft events
    [{linx_nft, subscribe, 1, fun() -> linx_nft:subscribe([nosuch]) end},
     {linx_nft, subscribe, 2, fun() -> linx_nft:subscribe(all, ?GONE) end}].

%% linx_tc: a bad spec, a bad option, a namespace that is not there, a
%% link that is not there, the kernel's refusal (a kind it lacks).
tc_calls(In) ->
    Q = #{link => 1, kind => linx_nosuch_kind},
    C = #{link => 1, parent => {1, 0}, handle => {1, 1}, kind => htb,
          options => #{rate => 8000}},
    F = #{link => 1, parent => root, prio => 1, protocol => ip, kind => u32},
    [{linx_tc, qdiscs, 0, fun() -> with_env_via(fun linx_tc:qdiscs/0) end},
     {linx_tc, qdiscs, 1, fun() -> linx_tc:qdiscs(?GONE) end},
     {linx_tc, qdiscs, 2, fun() -> linx_tc:qdiscs(#{colour => red}, In) end},
     {linx_tc, qdiscs, 2, fun() -> linx_tc:qdiscs(#{link => <<"nosuch0">>}, In) end},
     {linx_tc, classes, 1, fun() -> linx_tc:classes(-1) end},
     {linx_tc, classes, 2, fun() -> linx_tc:classes(<<"nosuch0">>, In) end},
     {linx_tc, filters, 1, fun() -> linx_tc:filters(-1) end},
     {linx_tc, filters, 2, fun() -> linx_tc:filters(1, sideways) end},
     {linx_tc, filters, 3, fun() -> linx_tc:filters(1, root, ?GONE) end},
     {linx_tc, qdisc_add, 1, fun() -> linx_tc:qdisc_add(#{kind => htb}) end},
     {linx_tc, qdisc_add, 2, fun() -> linx_tc:qdisc_add(Q, In) end},
     {linx_tc, qdisc_replace, 1, fun() -> linx_tc:qdisc_replace(Q#{handle => x}) end},
     {linx_tc, qdisc_replace, 2, fun() -> linx_tc:qdisc_replace(Q, In) end},
     {linx_tc, qdisc_change, 1, fun() -> linx_tc:qdisc_change(Q#{parent => x}) end},
     {linx_tc, qdisc_change, 2, fun() -> linx_tc:qdisc_change(Q, ?GONE) end},
     {linx_tc, qdisc_del, 1, fun() -> linx_tc:qdisc_del(nope) end},
     {linx_tc, qdisc_del, 2, fun() -> linx_tc:qdisc_del(#{link => 1, handle => {9, 0}}, In) end},
     {linx_tc, class_add, 1, fun() -> linx_tc:class_add(C#{options => #{}}) end},
     {linx_tc, class_add, 2, fun() -> linx_tc:class_add(C, In) end},
     {linx_tc, class_replace, 1, fun() -> linx_tc:class_replace(C#{handle => -1}) end},
     {linx_tc, class_replace, 2, fun() -> linx_tc:class_replace(C, In) end},
     {linx_tc, class_change, 1, fun() -> linx_tc:class_change(C#{kind => 7}) end},
     {linx_tc, class_change, 2, fun() -> linx_tc:class_change(C, In) end},
     {linx_tc, class_del, 1, fun() -> linx_tc:class_del(maps:remove(link, C)) end},
     {linx_tc, class_del, 2, fun() -> linx_tc:class_del(C, In) end},
     {linx_tc, filter_add, 1, fun() -> linx_tc:filter_add(F#{prio => -1}) end},
     {linx_tc, filter_add, 2, fun() -> linx_tc:filter_add(F, In) end},
     {linx_tc, filter_replace, 1, fun() -> linx_tc:filter_replace(F#{protocol => nope}) end},
     {linx_tc, filter_replace, 2, fun() -> linx_tc:filter_replace(F, In) end},
     {linx_tc, filter_del, 1, fun() -> linx_tc:filter_del(F#{parent => <<"1:2:3">>}) end},
     {linx_tc, filter_del, 2, fun() -> linx_tc:filter_del(F, In) end}].

%% The second of two calls: one that fails only because the first did
%% what it asks (eexist).
twice(Fun) ->
    _ = Fun(),
    Fun().

%% Runs `Fun' (a function without options, which would run in the
%% host's namespaces) with the application's default `via' set to a
%% C-node that cannot be reached: it fails without touching anything.
with_env_via(Fun) ->
    Old = application:get_env(linx, via),
    ok = application:set_env(linx, via, 'linx-nobody@nohost'),
    try
        Fun()
    after
        case Old of
            {ok, Via} -> application:set_env(linx, via, Via);
            undefined -> application:unset_env(linx, via)
        end
    end.
