%% @doc linx_rtnl's errors against a real namespace: the kernel's (with
%% its ext-ack text), a namespace that is gone (the call's, or one named
%% for a veth peer or a link move), arguments refused before
%% anything is sent; replies cut and corrupted that decode to an error
%% value and never raise; and every error rendered as one line. The
%% objects themselves are linx_rtnl_SUITE's.
-module(linx_rtnl_errors_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([addr_twice_is_eexist/1, bad_arguments_refused/1, gone_netns/1,
         names_checked/1, macs_checked/1, gone_peer_netns_is_named/1, peer_in_self_netns/1,
         garbled_replies/1, format_errors/1]).

all() ->
    [{group, errors}, {group, codec}].

groups() ->
    [{errors, [], [addr_twice_is_eexist, bad_arguments_refused, gone_netns, names_checked,
                   macs_checked, gone_peer_netns_is_named, peer_in_self_netns]},
     {codec, [], [garbled_replies, format_errors]}].

%% Everything is asked of one netns made for the suite.
init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-rtnl-err", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%====================================================================
%% Errors of the kernel, the port and the arguments
%%====================================================================

%% The same address twice: eexist, with the kernel's text.
addr_twice_is_eexist(Config) ->
    A = linx_ct_ns:in_netns(Config),
    ok = linx_rtnl:link_add(#{ifname => <<"e0">>, kind => bridge}, A),
    ok = linx_rtnl:addr_add(<<"e0">>, {{10, 40, 0, 1}, 24}, A),
    {error, #{stage := netlink, errno := eexist, code := 17, op := addr_add,
              in := {netns, _}, message := Msg}} =
        linx_rtnl:addr_add(<<"e0">>, {{10, 40, 0, 1}, 24}, A),
    true = byte_size(Msg) > 0,
    ct:log("ext-ack: ~ts", [Msg]),
    {error, #{errno := eexist}} = linx_rtnl:link_add(#{ifname => <<"e0">>, kind => bridge}, A),
    ok = linx_rtnl:link_del(<<"e0">>, A).

%% Bad arguments never reach the port.
bad_arguments_refused(Config) ->
    A = linx_ct_ns:in_netns(Config),
    {error, #{reason := {bad_ifname, <<"much-too-long-name">>}}} =
        linx_rtnl:link_add(#{ifname => <<"much-too-long-name">>, kind => bridge}, A),
    {error, #{reason := {bad_ifname, <<"a/b">>}}} = linx_rtnl:link(<<"a/b">>, A),
    {error, #{reason := {bad_ifname, <<>>}}} = linx_rtnl:link_del(<<>>, A),
    {error, #{reason := {bad_link, -1}}} = linx_rtnl:link(-1, A),
    {error, #{reason := {bad_prefix, {{10, 0, 0, 1}, 33}}}} = linx_rtnl:addr_add(1, {{10, 0, 0, 1}, 33}, A),
    {error, #{reason := {bad_prefix, {{300, 0, 0, 1}, 8}}}} = linx_rtnl:addr_add(1, {{300, 0, 0, 1}, 8}, A),
    %% A bad field of a route or a neighbour is named, with its value.
    {error, #{reason := {bad_route, {gateway, {16#fd00, 0, 0, 0, 0, 0, 0, 1}}}}} =
        linx_rtnl:route_add(#{dst => {{10, 0, 0, 0}, 8}, gateway => {16#fd00, 0, 0, 0, 0, 0, 0, 1}}, A),
    {error, #{reason := {bad_route, {family, missing}}}} = linx_rtnl:route_add(#{dst => default}, A),
    {error, #{reason := {bad_route, {dst, {{10, 0, 0, 0}, 33}}}}} =
        linx_rtnl:route_add(#{dst => {{10, 0, 0, 0}, 33}}, A),
    [{error, #{reason := {bad_route, {K, V}}}} =
         linx_rtnl:route_add(#{dst => {{10, 9, 0, 0}, 16}, K => V}, A)
     || {K, V} <- [{metric, -1}, {table, mine}, {protocol, 999}, {scope, bogus}, {type, bogus},
                   {flags, [bogus]}, {via, nowhere}, {metrics, #{mtu => -5}},
                   {multipath, [#{gateway => {10, 0, 0, 2}, weight => 0}]}]],
    <<"linx_rtnl:route_add: invalid route: {metric,-1}">> =
        linx_rtnl:format_error(element(2, linx_rtnl:route_add(#{dst => {{10, 9, 0, 0}, 16},
                                                                metric => -1}, A))),
    {error, #{reason := {bad_neigh, {dst, nowhere}}}} =
        linx_rtnl:neigh_add(#{index => 1, dst => nowhere}, A),
    {error, #{reason := {bad_neigh, {dst, missing}}}} = linx_rtnl:neigh_add(#{index => 1}, A),
    {error, #{reason := {bad_neigh, {state, [bogus]}}}} =
        linx_rtnl:neigh_add(#{index => 1, dst => {10, 0, 0, 2}, state => [bogus]}, A),
    {error, #{reason := {bad_neigh, {flags, [bogus]}}}} =
        linx_rtnl:neigh_add(#{index => 1, dst => {10, 0, 0, 2}, flags => [bogus]}, A),
    {error, #{reason := {bad_netns, {netns, <<"a/b">>}}}} =
        linx_rtnl:link_set(1, #{netns => {netns, <<"a/b">>}}, A),
    {error, #{reason := {bad_netns, nowhere}}} =
        linx_rtnl:link_add(#{ifname => <<"x0">>, kind => veth,
                             peer => #{ifname => <<"x1">>, netns => nowhere}}, A),
    {error, #{reason := {bad_change, {colour, red}}}} = linx_rtnl:link_set(1, #{colour => red}, A),
    {error, #{reason := {bad_spec, _}}} = linx_rtnl:link_add(#{kind => veth}, A),
    {error, #{reason := {bad_groups, [bogus]}}} = linx_rtnl:subscribe([bogus], A),
    {error, #{reason := {bad_in, nowhere}}} = linx_rtnl:links(#{in => nowhere}).

%% A namespace that is gone: the port's error, not a crash.
gone_netns(_Config) ->
    Ns = linx_ct_ns:unique("linx-rtnl-gone"),
    ok = linx_ct_ns:netns_add(Ns),
    linx_ct_ns:netns_del(Ns),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_rtnl:links(#{in => {netns, list_to_binary(Ns)}}),
    {error, #{stage := open_ns, errno := enoent}} =
        linx_rtnl:link_set(1, #{state => up}, #{in => {netns, list_to_binary(Ns)}}).

%% A name with NUL (which would end the kernel's string early) or too
%% long is refused wherever a name goes, before anything is sent: the
%% link's, a veth peer's, a master's, a new name, a kind, a label, a
%% generic netlink family's.
names_checked(Config) ->
    A = linx_ct_ns:in_netns(Config),
    Nul = <<"e1", 0, "x">>,
    Long = <<"sixteen-bytes-xx">>,
    [{error, #{reason := {bad_ifname, N}}} = linx_rtnl:link(N, A) || N <- [Nul, Long, "e1\0"]],
    {error, #{reason := {bad_ifname, Nul}}} = linx_rtnl:link_add(#{ifname => Nul, kind => bridge}, A),
    {error, #{reason := {bad_ifname, Nul}}} =
        linx_rtnl:link_add(#{ifname => <<"e1">>, kind => veth, peer => #{ifname => Nul}}, A),
    {error, #{reason := {bad_ifname, Long}}} =
        linx_rtnl:link_add(#{ifname => <<"e1">>, kind => veth, peer => #{ifname => Long}}, A),
    {error, #{reason := {bad_ifname, Nul}}} = linx_rtnl:link_set(1, #{master => Nul}, A),
    {error, #{reason := {bad_ifname, Nul}}} = linx_rtnl:link_set(1, #{ifname => Nul}, A),
    {error, #{reason := {bad_ifname, Nul}}} = linx_rtnl:route_add(#{dst => {{10, 9, 0, 0}, 16}, oif => Nul}, A),
    {error, #{reason := {bad_spec, {kind, <<"veth", 0>>}}}} =
        linx_rtnl:link_add(#{ifname => <<"e1">>, kind => <<"veth", 0>>, peer => #{ifname => <<"e2">>}}, A),
    {error, #{reason := {bad_spec, {kind, 'veth\0'}}}} =
        linx_rtnl:link_add(#{ifname => <<"e1">>, kind => 'veth\0'}, A),
    Label = #{prefix => {{127, 0, 0, 9}, 8}},
    [{error, #{reason := {bad_addr, {label, L}}}} = linx_rtnl:addr_add(1, Label#{label => L}, A)
     || L <- [<<"lo", 0, "x">>, <<"lo:sixteen-bytes">>, <<>>]],
    {ok, Addrs} = linx_rtnl:addrs(A),
    [] = [L || #{label := L} <- Addrs, L =/= <<"lo">>],
    %% Generic netlink: 15 bytes is the longest name, NUL ends none.
    [{error, #{reason := {bad_family, F}}} = linx_genl:family(F, A)
     || F <- [<<"nlctrl", 0, "x">>, "nlctrl\0", <<"sixteen-bytes-xx">>, <<>>]],
    {error, #{stage := netlink, errno := enoent}} = linx_genl:family(<<"fifteen-bytes-x">>, A),
    {ok, Links} = linx_rtnl:links(A),
    [<<"lo">>] = [N || #{ifname := N} <- Links].

%% A MAC address is 6 bytes, or text of six hex bytes (either case, `:'
%% or `-'); anything else is refused before it is sent: a binary of
%% another size, text that is not that (17 bytes whose first 6 the
%% kernel would have taken), 6 bytes that are such text cut short. The same for a veth peer's, a link's
%% broadcast address and a neighbour's.
macs_checked(Config) ->
    A = linx_ct_ns:in_netns(Config),
    Ns = ?config(netns, Config),
    Bad = [<<"zz:zz:zz:zz:zz:zz">>, <<"zz:zz">>, <<1, 2, 3, 4, 5>>, <<1, 2, 3, 4, 5, 6, 7>>,
           "02:00:00:00:00:0", "02:00:00:00:00:0g", <<"02:00:00:00:00:01:02">>,
           <<"02:00-00:00:00:01">>, "zz:zz:", <<"zz:zz:">>, <<"02:00:">>, <<"aB-01-">>, 42, <<>>],
    Veth = #{ifname => <<"m0">>, kind => veth, peer => #{ifname => <<"m1">>}},
    [{error, #{reason := {bad_address, M}}} = linx_rtnl:link_add(Veth#{address => M}, A) || M <- Bad],
    [{error, #{reason := {bad_address, M}}} =
         linx_rtnl:link_add(Veth#{peer => #{ifname => <<"m1">>, address => M}}, A) || M <- Bad],
    [{error, #{reason := {bad_address, M}}} = linx_rtnl:link_set(1, #{address => M}, A) || M <- Bad],
    [{error, #{reason := {bad_address, M}}} = linx_rtnl:link_set(1, #{broadcast => M}, A) || M <- Bad],
    [{error, #{reason := {bad_address, M}}} =
         linx_rtnl:neigh_add(#{index => 1, dst => {10, 0, 0, 9}, lladdr => M}, A) || M <- Bad],
    {error, E} = linx_rtnl:link_set(1, #{address => <<"zz:zz">>}, A),
    <<"linx_rtnl:link_set: invalid MAC address (6 bytes, or text such as \"02:00:5e:10:00:01\"): ",
      _/binary>> = linx:format_error(E),
    %% Text in either case and with either separator, 6 raw bytes.
    ok = linx_rtnl:link_add(Veth#{address => <<"02:00:00:AB:CD:0E">>,
                                 peer => #{ifname => <<"m1">>, address => "02-00-00-ab-cd-0f"}}, A),
    ok = linx_rtnl:link_set(<<"m0">>, #{broadcast => <<"02:00:00:ff:ff:ff">>}, A),
    %% Raw bytes that hold a separator's byte but are not text cut short.
    ok = linx_rtnl:link_set(<<"m1">>, #{address => <<2, $:, $a, $:, $b, $:>>}, A),
    {match, _} = re:run(linx_ct_ns:sh_ok(["ip -n ", Ns, " -o link show m1"]), "link/ether 02:3a:61:3a:62:3a "),
    ok = linx_rtnl:link_set(<<"m1">>, #{address => <<2, 0, 0, 16#ab, 16#cd, 16#10>>}, A),
    Show = fun(L) -> linx_ct_ns:sh_ok(["ip -n ", Ns, " -o link show ", L]) end,
    {match, _} = re:run(Show("m0"), "link/ether 02:00:00:ab:cd:0e brd 02:00:00:ff:ff:ff"),
    {match, _} = re:run(Show("m1"), "link/ether 02:00:00:ab:cd:10 "),
    ok = linx_rtnl:neigh_add(#{index => <<"m0">>, dst => {10, 0, 0, 9}, lladdr => "02:00:00:AB:CD:11"}, A),
    {match, _} = re:run(linx_ct_ns:sh_ok(["ip -n ", Ns, " neigh show dev m0"]),
                        "10.0.0.9 lladdr 02:00:00:ab:cd:11 PERMANENT"),
    ok = linx_rtnl:link_del(<<"m0">>, A).

%% A veth peer's netns that does not exist (by name, or a released
%% handle) and a link moved to one: the error names that namespace and
%% whose it is, not the call's `in' (which exists; the error said "in
%% netns <in> failed: open_ns enoent"). The port serves on.
gone_peer_netns_is_named(Config) ->
    A = linx_ct_ns:in_netns(Config),
    #{in := {netns, InName}} = A,
    Gone = {netns, <<"linx-no-such-peer-ns">>},
    Peer = fun(Ns) -> #{ifname => <<"g0">>, kind => veth, peer => #{ifname => <<"g1">>, netns => Ns}} end,
    {error, #{op := link_add, stage := open_ns, errno := enoent, code := 2, in := {netns, InName},
              ns_fd := #{in := Gone, whose := peer, offset := Off}} = E1} =
        linx_rtnl:link_add(Peer(Gone), A),
    true = is_integer(Off),
    <<"netlink link_add (route) failed on the peer's netns \"linx-no-such-peer-ns\": "
      "open_ns enoent (errno 2)">> = linx:format_error(E1),
    {ok, Handle} = linx_netns:new(),
    ok = linx_netns:release(Handle),
    {error, #{stage := open_ns, errno := enoent, ns_fd := #{in := Handle, whose := peer}} = E2} =
        linx_rtnl:link_add(Peer(Handle), A),
    {match, _} = re:run(linx:format_error(E2),
                        "^netlink link_add \\(route\\) failed on the peer's netns handle [0-9]+: "
                        "open_ns enoent \\(errno 2\\)$"),
    {error, #{op := link_set, ns_fd := #{in := Gone, whose := link}} = E3} =
        linx_rtnl:link_set(<<"lo">>, #{netns => Gone}, A),
    <<"netlink link_set (route) failed on the link's netns \"linx-no-such-peer-ns\": "
      "open_ns enoent (errno 2)">> = linx:format_error(E3),
    [nomatch = binary:match(linx:format_error(E), InName) || E <- [E1, E2, E3]],
    %% Nothing was made, and the port answers the next request.
    {ok, Links} = linx_rtnl:links(A),
    [] = [N || #{ifname := N} <- Links, N =:= <<"g0">> orelse N =:= <<"g1">>],
    ok = linx_rtnl:link_add(#{ifname => <<"g0">>, kind => veth, peer => #{ifname => <<"g1">>}}, A),
    ok = linx_rtnl:link_del(<<"g0">>, A).

%% A peer's `netns => self' is the port's own namespace (here the
%% node's): the peer is made there. It failed with ebadf: the placeholder
%% of its descriptor was sent as it was.
peer_in_self_netns(Config) ->
    A = linx_ct_ns:in_netns(Config),
    Name = iolist_to_binary(["lxs", integer_to_list(erlang:unique_integer([positive]) rem 1000000)]),
    try
        ok = linx_rtnl:link_add(#{ifname => <<"s0">>, kind => veth,
                                  peer => #{ifname => Name, netns => self}}, A),
        {ok, #{ifname := Name, kind := veth}} = linx_rtnl:link(Name),
        {ok, #{ifname := <<"s0">>}} = linx_rtnl:link(<<"s0">>, A)
    after
        linx_ct_ns:sh(["ip link del ", Name])
    end.

%%====================================================================
%% Replies that do not decode, and the text of errors
%%====================================================================

%% Every truncation and many corruptions of a real dump decode to a
%% value or to {error, {malformed, _}}, never raise.
garbled_replies(Config) ->
    Dump = linx_ct_nl:getlink_request(5),
    {ok, Bins} = linx_netlink:call(route, Dump, linx_ct_ns:in_netns(Config)),
    Bin = iolist_to_binary(Bins),
    rand:seed(exsss, {1, 2, 3}),
    Truncated = [binary:part(Bin, 0, N) || N <- lists:seq(0, min(byte_size(Bin), 3000))],
    Flipped = [flip(Bin) || _ <- lists:seq(1, 300)],
    lists:foreach(fun(B) -> decode_everything(B) end, Truncated ++ Flipped),
    {error, {malformed, {header, 0}}} = linx_nl_codec:decode(<<100:32/native, 0:96>>),
    {error, {malformed, {link, short}}} = linx_rtnl_msg:decode_link(<<1, 2, 3>>),
    {error, {malformed, {link, {attr, 0}}}} =
        linx_rtnl_msg:decode_link(<<0:128, 200:16/native, 3:16/native, "x">>),
    %% A short error message, and a DONE carrying an error.
    {error, #{reason := {malformed, {error_msg, short}}}} = linx_nl:replies([<<18:32/native, 2:16/native, 0:16, 9:32/native, 0:32, 1, 2>>], 9),
    {error, #{errno := eperm}} = linx_nl:replies([<<20:32/native, 3:16/native, 0:16, 9:32/native, 0:32, -1:32/signed-native>>], 9).

flip(Bin) ->
    N = rand:uniform(byte_size(Bin)) - 1,
    <<Pre:N/binary, B, Post/binary>> = Bin,
    <<Pre/binary, (B bxor (1 bsl (rand:uniform(8) - 1))), Post/binary>>.

decode_everything(B) ->
    case linx_nl_codec:decode(B) of
        {ok, Msgs} -> [linx_rtnl_msg:decode(M) || M <- Msgs];
        {error, {malformed, _}} -> ok
    end,
    {ok, _} = {ok, linx_nl:replies([B], 5)}.

%% Every error renders as one line.
format_errors(Config) ->
    {error, E} = linx_rtnl:link(<<"nosuch0">>, linx_ct_ns:in_netns(Config)),
    Line = linx:format_error(E),
    nomatch = binary:match(Line, <<"\n">>),
    {match, _} = re:run(Line, "^netlink link in netns \".*\" failed: enodev \\(errno 19\\)"),
    <<"invalid interface name", _/binary>> = linx_rtnl:format_error({bad_ifname, <<"a/b">>}),
    {error, BadName} = linx_rtnl:link_add(#{ifname => <<"a/b">>, kind => bridge}),
    <<"linx_rtnl:link_add: invalid interface name", _/binary>> = linx:format_error(BadName),
    <<"malformed netlink reply", _/binary>> = linx_nl:format_error({malformed, {header, 0}}),
    Ext = linx_nl:format_error(#{stage => netlink, errno => eexist, code => 17, op => addr_add,
                              in => {netns, <<"blue">>}, message => <<"ipv4: Address already assigned">>}),
    <<"netlink addr_add in netns \"blue\" failed: eexist (errno 17): ipv4: Address already assigned">> = Ext,
    %% A namespace that is not there: the call's error names the op called.
    {error, #{op := links, stage := open_ns} = Gone} = linx_rtnl:links(#{in => {netns, <<"linx-no-such-ns">>}}),
    <<"netlink links (route) in netns \"linx-no-such-ns\" failed: open_ns enoent (errno 2)">> =
        linx:format_error(Gone),
    {error, #{op := genl, stage := open_ns} = GoneGenl} =
        linx_genl:families(#{in => {netns, <<"linx-no-such-ns">>}}),
    <<"linx_genl:families: netlink genl (generic) in netns", _/binary>> = linx:format_error(GoneGenl).
