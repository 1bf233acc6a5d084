%% @doc Addresses beyond a prefix (linx_rtnl:addr_add/3, addr_replace/3),
%% against real namespaces with `ip -j addr show' as the oracle, both
%% ways: lifetimes (valid and preferred), a point-to-point peer, the
%% flags a caller may set, label, broadcast and scope; linx's requests
%% byte for byte as ip's (strace shows them); replace as `ip addr
%% replace'; bad values named in their error; an atomic batch that
%% deletes or replaces such an address and then fails puts it back.
-module(linx_rtnl_addrs_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([made_by_linx_read_by_ip/1, made_by_ip_read_by_linx/1, bad_values_named/1,
         atomic_batch_puts_back/1]).
-export([label_scope_broadcast_both_ways/1, requests_as_ip_sends/1, replace_as_ip/1,
         refused_by_family/1, atomic_replace_puts_back/1, replace_of_temporary_not_undoable/1]).

all() ->
    [made_by_linx_read_by_ip, made_by_ip_read_by_linx, bad_values_named, atomic_batch_puts_back,
     label_scope_broadcast_both_ways, requests_as_ip_sends, replace_as_ip, refused_by_family,
     atomic_replace_puts_back, replace_of_temporary_not_undoable].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    ok.

%% A namespace of its own for each case, with a bridge d0.
init_per_testcase(_Case, Config) ->
    case linx_ct_ns:start_with_netns("linx-addrs", Config) of
        [{netns, Ns} | _] = Config1 ->
            linx_ct_ns:sh_ok(["ip -n ", Ns, " link add d0 type bridge"]),
            Config1;
        Skip ->
            Skip
    end.

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% What linx adds, ip shows: lifetimes counting down from those given,
%% the peer, the flags.
made_by_linx_read_by_ip(Config) ->
    In = in(Config),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 5, 0, 1}, 24}, valid_lft => 600,
                                        preferred_lft => 200}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 4, 0, 1}, 24}, valid_lft => 500}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 6, 0, 1}, 32}, peer => {10, 6, 0, 2}}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{16#fd05, 0, 0, 0, 0, 0, 0, 1}, 64},
                                        flags => [nodad, noprefixroute, homeaddress, managetempaddr]},
                            In),
    [A5, A4, A6, A65] = [ip_addr(Config, L) || L <- [<<"10.5.0.1">>, <<"10.4.0.1">>, <<"10.6.0.1">>,
                                                     <<"fd05::1">>]],
    true = counted_down(maps:get(<<"valid_life_time">>, A5), 600),
    true = counted_down(maps:get(<<"preferred_life_time">>, A5), 200),
    true = maps:get(<<"dynamic">>, A5),
    %% A valid lifetime alone is the preferred one too.
    true = counted_down(maps:get(<<"preferred_life_time">>, A4), 500),
    #{<<"address">> := <<"10.6.0.2">>, <<"prefixlen">> := 32} = A6,
    #{<<"nodad">> := true, <<"noprefixroute">> := true, <<"home">> := true,
      <<"mngtmpaddr">> := true} = A65.

%% What ip adds, linx decodes with the same values.
made_by_ip_read_by_linx(Config) ->
    Ns = ?config(netns, Config),
    [linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add ", A, " dev d0"])
     || A <- ["10.5.0.1/24 valid_lft 600 preferred_lft 200", "10.6.0.1 peer 10.6.0.2/32",
              "fd05::1/64 nodad noprefixroute home mngtmpaddr"]],
    {ok, Addrs} = linx_rtnl:addrs(in(Config)),
    [A5] = [A || #{local := {10, 5, 0, 1}} = A <- Addrs],
    true = counted_down(maps:get(valid_lft, A5), 600),
    true = counted_down(maps:get(preferred_lft, A5), 200),
    [#{address := {10, 6, 0, 2}, prefixlen := 32}] = [A || #{local := {10, 6, 0, 1}} = A <- Addrs],
    %% An IPv6 address has no local one of its own.
    [Flags] = [F || #{address := {16#fd05, 0, 0, 0, 0, 0, 0, 1}, flags := F} <- Addrs],
    [] = [nodad, noprefixroute, homeaddress, managetempaddr] -- Flags.

%% Bad lifetimes and peers are refused, each named, nothing added.
bad_values_named(Config) ->
    In = in(Config),
    P = {{10, 7, 0, 1}, 24},
    Bad = [{valid_lft, 0}, {valid_lft, -1}, {preferred_lft, never}, {peer, {16#fd00, 0, 0, 0, 0, 0, 0, 1}},
           {peer, nowhere}],
    [begin
         {error, #{reason := {bad_addr, {K, V}}} = E} = linx_rtnl:addr_add(<<"d0">>, #{prefix => P, K => V}, In),
         nomatch =/= string:find(linx:format_error(E), atom_to_list(K)) orelse error({not_named, K})
     end || {K, V} <- Bad],
    {error, #{reason := {bad_addr, {preferred_lft, 50}}}} =
        linx_rtnl:addr_add(<<"d0">>, #{prefix => P, valid_lft => 10, preferred_lft => 50}, In),
    [] = [A || A <- ip_addrs(Config), maps:get(<<"local">>, A) =:= <<"10.7.0.1">>].

%% An atomic batch deletes a peer address (given with its peer, which
%% the kernel needs, as ip does) and a flagged one, then fails: both come
%% back as they were.
atomic_batch_puts_back(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.6.0.1 peer 10.6.0.2/32 dev d0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add fd05::1/64 dev d0 nodad noprefixroute"]),
    Before = [maps:without([<<"valid_life_time">>, <<"preferred_life_time">>], A) || A <- ip_addrs(Config)],
    %% A peer address is deleted with its peer, as with ip.
    Ops = [{addr_del, <<"d0">>, #{prefix => {{10, 6, 0, 1}, 32}, peer => {10, 6, 0, 2}}},
           {addr_del, <<"d0">>, {{16#fd05, 0, 0, 0, 0, 0, 0, 1}, 64}},
           {addr_del, <<"d0">>, {{10, 99, 0, 1}, 32}}],
    {error, #{reason := batch_failed, index := 3, rollback_errors := []}} =
        linx_rtnl:batch(Ops, (in(Config))#{atomic => true}),
    After = [maps:without([<<"valid_life_time">>, <<"preferred_life_time">>], A) || A <- ip_addrs(Config)],
    Before = After.

%% IPv4's label (any text of up to 15 bytes: the kernel asks for no
%% prefix), broadcast, scope, noprefixroute and mcautojoin (ip's
%% autojoin), both ways.
label_scope_broadcast_both_ways(Config) ->
    In = in(Config),
    Ns = ?config(netns, Config),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{239, 1, 1, 2}, 32}, flags => [mcautojoin]}, In),
    #{<<"autojoin">> := true} = ip_addr(Config, <<"239.1.1.2">>),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 239.1.1.1/32 dev d0 autojoin"]),
    {ok, Mc} = linx_rtnl:addrs(In),
    [true] = [lists:member(mcautojoin, F) || #{local := {239, 1, 1, 1}, flags := F} <- Mc],
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 8, 0, 1}, 24}, label => <<"d0:web">>,
                                        broadcast => {10, 8, 0, 255}, scope => link,
                                        flags => [noprefixroute]}, In),
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {{10, 10, 0, 1}, 24}, label => "other"}, In),
    #{<<"label">> := <<"d0:web">>, <<"broadcast">> := <<"10.8.0.255">>, <<"scope">> := <<"link">>,
      <<"noprefixroute">> := true} = ip_addr(Config, <<"10.8.0.1">>),
    #{<<"label">> := <<"other">>} = ip_addr(Config, <<"10.10.0.1">>),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.9.0.1/24 dev d0 label d0:ip broadcast 10.9.0.127 "
                      "scope host noprefixroute"]),
    {ok, Addrs} = linx_rtnl:addrs(In),
    [#{label := <<"d0:ip">>, broadcast := {10, 9, 0, 127}, scope := host, flags := Flags}] =
        [A || #{local := {10, 9, 0, 1}} = A <- Addrs],
    true = lists:member(noprefixroute, Flags),
    %% Without a label, an IPv4 address has the link's name.
    ok = linx_rtnl:addr_add(<<"d0">>, {{10, 13, 0, 1}, 24}, In),
    #{<<"label">> := <<"d0">>} = ip_addr(Config, <<"10.13.0.1">>),
    {ok, Addrs1} = linx_rtnl:addrs(In),
    [#{label := <<"d0">>}] = [A || #{local := {10, 13, 0, 1}} = A <- Addrs1].

%% linx's RTM_NEWADDR is the one ip sends for the same command: the
%% message flags (add, replace), the header (flags that fit its byte go
%% there; with a larger one, all go in IFA_FLAGS and the byte is 0) and
%% the attributes.
requests_as_ip_sends(Config) ->
    os:find_executable("strace") =/= false orelse ct:fail("strace is needed to see ip's requests"),
    {ok, #{index := D0}} = linx_rtnl:link(<<"d0">>, in(Config)),
    Cases = [{"add fd02::1/64 nodad", new, #{prefix => {{16#fd02, 0, 0, 0, 0, 0, 0, 1}, 64}, flags => [nodad]}},
             {"add fd02::2/64 nodad noprefixroute home mngtmpaddr", new,
              #{prefix => {{16#fd02, 0, 0, 0, 0, 0, 0, 2}, 64},
                flags => [nodad, noprefixroute, homeaddress, managetempaddr]}},
             {"add 10.3.0.2/24 noprefixroute", new, #{prefix => {{10, 3, 0, 2}, 24}, flags => [noprefixroute]}},
             {"add 10.13.0.3/24 label d0:x broadcast 10.13.0.255 scope link", new,
              #{prefix => {{10, 13, 0, 3}, 24}, label => <<"d0:x">>, broadcast => {10, 13, 0, 255},
                scope => link}},
             {"add 10.3.0.4 peer 10.3.0.5/32", new, #{prefix => {{10, 3, 0, 4}, 32}, peer => {10, 3, 0, 5}}},
             {"add 10.3.0.6/24 valid_lft forever preferred_lft 0", new,
              #{prefix => {{10, 3, 0, 6}, 24}, valid_lft => forever, preferred_lft => 0}},
             {"replace 10.3.0.7/24 valid_lft 100 preferred_lft 50", replace,
              #{prefix => {{10, 3, 0, 7}, 24}, valid_lft => 100, preferred_lft => 50}},
             {"replace fd02::3/64 noprefixroute", replace,
              #{prefix => {{16#fd02, 0, 0, 0, 0, 0, 0, 3}, 64}, flags => [noprefixroute]}}],
    [begin
         {ok, #{type := 20, flags := Fl, payload := P}} = linx_rtnl_req:addr(What, D0, Spec),
         Ip = ip_request(Config, Cmd),
         {Cmd, Same, Same} = {Cmd, message(Fl, iolist_to_binary(P)), Ip}
     end || {Cmd, What, Spec} <- Cases].

%% addr_replace adds an address, or changes the lifetimes and (IPv6)
%% flags of the one there; the same call again is ok.
replace_as_ip(Config) ->
    In = in(Config),
    V4 = #{prefix => {{10, 5, 0, 1}, 24}, valid_lft => 900, preferred_lft => 800},
    ok = linx_rtnl:addr_replace(<<"d0">>, V4, In),
    ok = linx_rtnl:addr_replace(<<"d0">>, V4, In),
    true = counted_down(maps:get(<<"valid_life_time">>, ip_addr(Config, <<"10.5.0.1">>)), 900),
    ok = linx_rtnl:addr_replace(<<"d0">>, V4#{valid_lft := 300, preferred_lft := 100}, In),
    A5 = ip_addr(Config, <<"10.5.0.1">>),
    true = counted_down(maps:get(<<"valid_life_time">>, A5), 300),
    true = counted_down(maps:get(<<"preferred_life_time">>, A5), 100),
    %% No lifetime given: for ever again, as with ip.
    ok = linx_rtnl:addr_replace(<<"d0">>, {{10, 5, 0, 1}, 24}, In),
    #{<<"valid_life_time">> := 4294967295} = ip_addr(Config, <<"10.5.0.1">>),
    {error, #{errno := eexist}} = linx_rtnl:addr_add(<<"d0">>, {{10, 5, 0, 1}, 24}, In),
    V6 = {16#fd05, 0, 0, 0, 0, 0, 0, 1},
    ok = linx_rtnl:addr_add(<<"d0">>, #{prefix => {V6, 64}, flags => [nodad]}, In),
    ok = linx_rtnl:addr_replace(<<"d0">>, #{prefix => {V6, 64}, flags => [nodad, noprefixroute]}, In),
    #{<<"nodad">> := true, <<"noprefixroute">> := true} = ip_addr(Config, <<"fd05::1">>),
    %% ip replaces what linx made, and linx reads it.
    linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config), " addr replace fd05::1/64 dev d0 nodad "
                      "valid_lft 700 preferred_lft 600"]),
    {ok, Addrs} = linx_rtnl:addrs(In),
    [#{flags := Flags, valid_lft := Valid}] = [A || #{address := {16#fd05, 0, 0, 0, 0, 0, 0, 1}} = A <- Addrs],
    {false, true} = {lists:member(noprefixroute, Flags), counted_down(Valid, 700)}.

%% What the kernel would keep but never use is refused, named: a label
%% on an IPv6 address, an IPv6 flag on an IPv4 one; a label longer than
%% 15 bytes.
refused_by_family(Config) ->
    In = in(Config),
    V6 = {{16#fd06, 0, 0, 0, 0, 0, 0, 1}, 64},
    [{error, #{reason := {bad_addr, {K, V}}}} = linx_rtnl:F(<<"d0">>, Spec#{K => V}, In)
     || F <- [addr_add, addr_replace],
        {Spec, K, V} <- [{#{prefix => V6}, label, <<"d0:v6">>},
                         {#{prefix => {{10, 11, 0, 1}, 24}}, flags, [nodad]},
                         {#{prefix => {{10, 11, 0, 1}, 24}}, flags, [noprefixroute, managetempaddr]},
                         {#{prefix => {{10, 11, 0, 1}, 24}}, label, <<"d0:0123456789abc">>}]],
    [] = [A || A <- ip_addrs(Config), lists:member(maps:get(<<"local">>, A), [<<"10.11.0.1">>, <<"fd06::1">>])].

%% An atomic batch that replaces an address (new lifetimes, new flags),
%% adds one by replace, then fails: both are as they were.
atomic_replace_puts_back(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.6.0.1/24 dev d0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add fd05::1/64 dev d0 nodad valid_lft 5000 preferred_lft 4000"]),
    Before = ip_addrs(Config),
    Ops = [{addr_replace, <<"d0">>, #{prefix => {{10, 6, 0, 1}, 24}, valid_lft => 60}},
           {addr_replace, <<"d0">>, #{prefix => {{16#fd05, 0, 0, 0, 0, 0, 0, 1}, 64},
                                     flags => [nodad, noprefixroute]}},
           {addr_replace, <<"d0">>, {{10, 7, 0, 1}, 24}},
           {addr_del, <<"d0">>, {{10, 99, 0, 1}, 32}}],
    {error, #{reason := batch_failed, index := 4, rollback_errors := []}} =
        linx_rtnl:batch(Ops, (in(Config))#{atomic => true}),
    After = ip_addrs(Config),
    Strip = fun(L) -> [maps:without([<<"valid_life_time">>, <<"preferred_life_time">>], A) || A <- L] end,
    Same = Strip(Before),
    Same = Strip(After),
    [#{<<"valid_life_time">> := 4294967295}] = [A || #{<<"local">> := <<"10.6.0.1">>} = A <- After],
    [#{<<"valid_life_time">> := V, <<"preferred_life_time">> := P}] =
        [A || #{<<"local">> := <<"fd05::1">>} = A <- After],
    true = counted_down(V, 5000) andalso counted_down(P, 4000).

%% The replace of an address the kernel made with what a caller cannot
%% give (an IPv6 temporary address) cannot be undone: refused before
%% anything is sent.
replace_of_temporary_not_undoable(_Config) ->
    Op = {addr_replace, 7, {{16#fd07, 0, 0, 0, 0, 0, 0, 9}, 64}},
    Before = #{links => [#{index => 7, ifname => <<"t0">>, flags => []}],
               addrs => [#{family => inet6, index => 7, prefixlen => 64, flags => [secondary],
                           address => {16#fd07, 0, 0, 0, 0, 0, 0, 9}}]},
    {error, {bad_op, Op, not_undoable}} = linx_rtnl_undo:plan([Op], Before),
    {ok, [[{addr_replace, 7, #{flags := [nodad]}}]]} =
        linx_rtnl_undo:plan([Op], Before#{addrs := [#{family => inet6, index => 7, prefixlen => 64,
                                                      flags => [nodad, permanent],
                                                      address => {16#fd07, 0, 0, 0, 0, 0, 0, 9}}]}),
    {ok, [[{addr_del, 7, _}]]} = linx_rtnl_undo:plan([Op], Before#{addrs := []}).

%%====================================================================
%% ip's requests
%%====================================================================

%% The RTM_NEWADDR `ip addr CMD dev d0' sends, from strace's dump of it.
ip_request(Config, Cmd) ->
    {_, Out} = linx_ct_ns:sh(["strace -f -e trace=sendmsg -e write=all -xx -s 0 ip -n ",
                              ?config(netns, Config), " addr ", Cmd, " dev d0 2>&1"]),
    Bufs = buffers(string:split(Out, "\n", all), []),
    [Msg] = [message(Flags, P) || <<_Len:32/native, 20:16/native, Flags:16/native, _:8/binary,
                                    P/binary>> <- Bufs],
    Msg.

%% What tells two RTM_NEWADDR apart: create, exclusive or replace, the
%% header, the attributes in order of type.
message(Flags, <<Hdr:8/binary, Attrs/binary>>) ->
    {ok, L} = linx_nl_codec:decode_attrs(Attrs),
    {Flags band 16#700, Hdr, lists:sort(L)}.

buffers([Line | Rest], Acc) ->
    case {re:run(Line, "^ \\* \\d+ bytes in buffer", [{capture, none}]),
          re:run(Line, "^ \\| [0-9a-f]{5}  (.{48})", [{capture, all_but_first, binary}]), Acc} of
        {match, _, _} -> buffers(Rest, [<<>> | Acc]);
        {nomatch, {match, [Hex]}, [Buf | More]} ->
            buffers(Rest, [<<Buf/binary, (binary:decode_hex(<< <<C>> || <<C>> <= Hex, C =/= $\s >>))/binary>>
                           | More]);
        _ -> buffers(Rest, Acc)
    end;
buffers([], Acc) ->
    Acc.

%%====================================================================
%% The oracle
%%====================================================================

ip_addrs(Config) ->
    [#{<<"addr_info">> := Info}] = linx_ct_config:ip_json(?config(netns, Config), "addr show dev d0"),
    lists:sort(Info).

ip_addr(Config, Local) ->
    [A] = [A || #{<<"local">> := L} = A <- ip_addrs(Config), L =:= Local],
    A.

%% A lifetime as shown some seconds after it was set to `Given'.
counted_down(Shown, Given) ->
    is_integer(Shown) andalso Shown =< Given andalso Shown > Given - 60.
