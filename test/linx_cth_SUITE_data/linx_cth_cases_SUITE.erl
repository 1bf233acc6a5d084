%% Per-test-case namespaces, and cases that crash or time out: the hook
%% removes what it made in every case.
-module(linx_cth_cases_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([suite/0, all/0]).
-export([fresh_each_time_1/1, fresh_each_time_2/1, crashes/1, times_out/1]).

suite() ->
    [{timetrap, {seconds, 30}},
     {ct_hooks, [{linx_cth, #{netns => 2, veth => [{ns1, ns2}], scope => testcase}}]}].

all() ->
    [fresh_each_time_1, crashes, times_out, fresh_each_time_2].

fresh_each_time_1(Config) -> record(Config).

fresh_each_time_2(Config) -> record(Config).

crashes(Config) ->
    record(Config),
    error(on_purpose).

times_out(Config) ->
    record(Config),
    ct:timetrap({seconds, 1}),
    receive never -> ok end.

%% Each case checks its pair works, and writes down its namespaces.
record(Config) ->
    {_, Ip2} = linx_cth:veth_end(ns2, ns1, Config),
    {<<"to_ns2">>, Ip1} = linx_cth:veth_end(ns1, ns2, Config),
    {10, 1, 0, 1} = Ip1,
    {10, 1, 0, 2} = Ip2,
    Names = [linx_cth:netns(K, Config) || K <- [ns1, ns2]],
    [{0, _} = {element(1, sh(["ip -n ", N, " link show up"])), N} || N <- Names],
    case os:getenv("LINX_CTH_REPORT") of
        false -> ok;
        File -> ok = file:write_file(File, io_lib:format("~p.~n", [Names]), [append])
    end.

sh(Cmd) ->
    R = os:cmd(binary_to_list(iolist_to_binary([Cmd, "; echo \"rc=$?\""]))),
    {match, [Rc]} = re:run(R, "rc=([0-9]+)", [{capture, all_but_first, list}]),
    {list_to_integer(Rc), R}.
