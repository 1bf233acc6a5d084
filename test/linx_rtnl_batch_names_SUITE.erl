%% Links named in a linx_rtnl:batch/2: each name is checked once per
%% batch however many ops give it (a string or a binary), and the port
%% program looks its index up just before it sends each op, so an op may
%% name a link an earlier op made or renamed, and one naming a link that
%% is gone gets `enodev' while the others go through. `ip -j' is the
%% oracle.
-module(linx_rtnl_batch_names_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, init_per_suite/1, end_per_suite/1, init_per_testcase/2, end_per_testcase/2]).
-export([a_name_is_looked_up_as_each_op_is_sent/1,
         many_ops_name_one_link/1,
         a_bad_name_is_refused_at_the_first_op_giving_it/1]).

all() ->
    [a_name_is_looked_up_as_each_op_is_sent,
     many_ops_name_one_link,
     a_bad_name_is_refused_at_the_first_op_giving_it].

init_per_suite(Config) ->
    linx_ct_ns:start_if_netns(Config).

end_per_suite(_Config) ->
    _ = application:stop(linx),
    ok.

init_per_testcase(_Case, Config) ->
    Ns = linx_ct_ns:unique("batchnames"),
    ok = linx_ct_ns:netns_add(Ns),
    [{netns, Ns} | Config].

end_per_testcase(_Case, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

%%--------------------------------------------------------------------

%% A bridge made, given an address by its name, renamed, given one by
%% its new name; the op that gives the old name then finds no link.
a_name_is_looked_up_as_each_op_is_sent(Config) ->
    Ops = [{link_add, #{ifname => <<"bn0">>, kind => bridge}},
           {addr_add, <<"bn0">>, {{10, 62, 0, 1}, 24}},
           {link_set, "bn0", #{ifname => <<"bn1">>}},
           {addr_add, <<"bn1">>, {{10, 62, 0, 2}, 24}},
           {addr_add, <<"bn0">>, {{10, 62, 0, 3}, 24}}],
    {ok, [ok, ok, ok, ok, {error, #{stage := ifindex, errno := enodev, links := [<<"bn0">>],
                                    op := addr_add}}]} =
        linx_rtnl:batch(Ops, opts(Config)),
    [<<"10.62.0.1">>, <<"10.62.0.2">>] = addrs(Config, "bn1"),
    {1, _} = linx_ct_ns:sh(["ip -n ", ?config(netns, Config), " link show dev bn0"]).

%% 300 addresses on one link, half of the ops giving its name as a
%% string, with one op in the middle naming a link there is not: that
%% one fails, every other address is there.
many_ops_name_one_link(Config) ->
    Ns = ?config(netns, Config),
    _ = linx_ct_ns:sh_ok(["ip -n ", Ns, " link add bm0 type bridge"]),
    Addrs = [{10, 63, I div 250, I rem 250 + 1} || I <- lists:seq(0, 299)],
    Ops = [{addr_add, case I rem 2 of 0 -> <<"bm0">>; 1 -> "bm0" end, {A, 32}}
           || {I, A} <- lists:zip(lists:seq(0, 299), Addrs)],
    {Before, After} = lists:split(150, Ops),
    {ok, Results} = linx_rtnl:batch(Before ++ [{addr_add, <<"bm9">>, {{10, 64, 0, 1}, 32}}] ++ After,
                                    opts(Config)),
    {Oks, [{error, #{stage := ifindex, errno := enodev}} | Rest]} = lists:split(150, Results),
    true = lists:all(fun(R) -> R =:= ok end, Oks ++ Rest),
    300 = length(Oks ++ Rest),
    Expected = lists:sort([list_to_binary(inet:ntoa(A)) || A <- Addrs]),
    Expected = lists:sort(addrs(Config, "bm0")).

%% A name the kernel would refuse, given by two ops after a good one:
%% the batch is refused with the first op that gives it, and nothing is
%% sent.
a_bad_name_is_refused_at_the_first_op_giving_it(Config) ->
    Ns = ?config(netns, Config),
    _ = linx_ct_ns:sh_ok(["ip -n ", Ns, " link add bb0 type bridge"]),
    First = {addr_add, <<"bad/x">>, {{10, 65, 0, 2}, 24}},
    Ops = [{addr_add, <<"bb0">>, {{10, 65, 0, 1}, 24}}, First, {addr_add, <<"bad/x">>, {{10, 65, 0, 3}, 24}}],
    {error, #{reason := {bad_op, First, {bad_ifname, <<"bad/x">>}}}} = linx_rtnl:batch(Ops, opts(Config)),
    [] = addrs(Config, "bb0").

%%--------------------------------------------------------------------

opts(Config) ->
    #{in => {netns, list_to_binary(?config(netns, Config))}}.

%% The IPv4 addresses of a link, as `ip -j' shows them.
addrs(Config, Link) ->
    Out = linx_ct_ns:sh_ok(["ip -n ", ?config(netns, Config), " -4 -j addr show dev ", Link]),
    case re:run(Out, "\"local\":\"([0-9.]+)\"", [global, {capture, all_but_first, binary}]) of
        {match, Locals} -> [L || [L] <- Locals];
        nomatch -> []
    end.
