%% nft's text of the short form's statements (linx_nft_text): each form
%% of the subset read into its statements, and text outside it refused
%% at the word where reading stopped.
-module(linx_nft_text_tests).

-include_lib("eunit/include/eunit.hrl").

read_test_() ->
    [?_assertEqual({ok, Want}, linx_nft_text:parse(Text)) || {Text, Want} <- cases()].

cases() ->
    [{<<"ip saddr 10.0.0.0/8 tcp dport 22 ct state established,related counter accept">>,
      [{match, ip, saddr, {{10, 0, 0, 0}, 8}}, {match, tcp, dport, 22}, {ct, state, [established, related]},
       counter, accept]},
     %% A string, an operator, a port range.
     {"ip6 daddr != fd00::1 udp sport 53-60 drop",
      [{match, ip6, daddr, {neq, {16#fd00, 0, 0, 0, 0, 0, 0, 1}}}, {match, udp, sport, {53, 60}}, drop]},
     {<<"  oifname \"veth 0\"\tmasquerade ">>, [{match, meta, oifname, <<"veth 0">>}, masquerade]},
     {<<"meta mark 3 mark != 4 meta l4proto icmp jump foo">>,
      [{match, meta, mark, 3}, {match, meta, mark, {neq, 4}}, {match, meta, l4proto, icmp}, {jump, <<"foo">>}]},
     {<<"numgen random mod 100 < 20 drop">>, [{random, 20}, drop]},
     {<<"limit rate 10/minute log prefix \"hi there\" accept">>,
      [{limit, 10, minute}, {log, <<"hi there">>}, accept]},
     {<<"tcp dport 8080 dnat ip to 10.2.0.2:80">>, [{match, tcp, dport, 8080}, {dnat, {10, 2, 0, 2}, 80}]},
     {<<"snat to 10.0.0.1">>, [{snat, {10, 0, 0, 1}}]},
     {<<"dnat ip6 to [fd00::2]:80">>, [{dnat, {16#fd00, 0, 0, 0, 0, 0, 0, 2}, 80}]},
     {<<"redirect to :80">>, [{redirect, 80}]},
     {<<"ip protocol 17 reject with icmpx port-unreachable">>, [{match, ip, protocol, 17}, reject]},
     {<<"tcp dport >= 1024 ct mark 7 goto x">>, [{match, tcp, dport, {gte, 1024}}, {ct, mark, 7}, {goto, <<"x">>}]},
     {<<>>, []}].

refused_test_() ->
    [?_assertEqual({error, Want}, linx_nft_text:parse(Text)) || {Text, Want} <- refused()].

refused() ->
    [{<<"ip saddr 10.0.0.300 accept">>, {3, address, <<"10.0.0.300">>}},
     {<<"ip6 saddr 10.0.0.1">>, {3, address, <<"10.0.0.1">>}},
     {<<"tcp dport { 22, 80 } accept">>, {3, port, <<"{">>}},
     {<<"tcp dport 70000">>, {3, port, <<"70000">>}},
     {<<"tcp dport ssh">>, {3, port, <<"ssh">>}},
     {<<"tcp dport != 1-2">>, {4, port, <<"1-2">>}},
     {<<"ip saddr">>, {3, value, 'end'}},
     {<<"ip frag-off 0">>, {2, field, <<"frag-off">>}},
     {<<"accept foo">>, {2, statement, <<"foo">>}},
     {<<"ct state established,bogus">>, {3, state, <<"bogus">>}},
     {<<"numgen inc mod 2 == 0">>, {2, numgen, <<"inc">>}},
     {<<"limit rate 10/fortnight">>, {3, rate, <<"10/fortnight">>}},
     {<<"log prefix \"x">>, {3, quote, <<"\"x">>}},
     {<<"dnat to nowhere">>, {3, address, <<"nowhere">>}},
     {<<"redirect to 80">>, {3, port, <<"80">>}},
     %% Not UTF-8.
     {<<255, 254>>, {1, text, 'end'}}].
