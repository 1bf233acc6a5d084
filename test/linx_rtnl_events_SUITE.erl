%% @doc linx_rtnl:subscribe/2 against a real namespace: link and address
%% changes made with `ip -n' arrive decoded and in order; after
%% unsubscribe/1 nothing arrives, and a subscriber's exit ends its
%% subscription.
-module(linx_rtnl_events_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([events_in_order/1, unsubscribe_and_owner_exit/1]).

all() ->
    [{group, events}].

groups() ->
    [{events, [], [events_in_order, unsubscribe_and_owner_exit]}].

%% The changes are made in one netns made for the suite.
init_per_suite(Config) ->
    linx_ct_ns:start_with_netns("linx-rtnl-ev", Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

%%====================================================================
%% Events
%%====================================================================

%% Link and address changes made with `ip -n' arrive decoded, in order.
events_in_order(Config) ->
    A = linx_ct_ns:in_netns(Config),
    Ns = ?config(netns, Config),
    {ok, Ref} = linx_rtnl:subscribe([link, ipv4_addr, ipv6_addr], A),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add ev0 type bridge"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr add 10.50.0.1/24 dev ev0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " addr del 10.50.0.1/24 dev ev0"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del ev0"]),
    {link, new, #{ifname := <<"ev0">>, index := I, kind := bridge}} = next_event(Ref, I0 = fun is_ev0/1),
    {addr, new, #{index := I, address := {10, 50, 0, 1}, prefixlen := 24}} = next_event(Ref, fun is_addr/1),
    {addr, del, #{index := I, address := {10, 50, 0, 1}}} = next_event(Ref, fun is_addr/1),
    {link, del, #{ifname := <<"ev0">>, index := I}} = next_event(Ref, fun(E) -> is_del(E) andalso I0(E) end),
    ok = linx_rtnl:unsubscribe(Ref).

is_ev0({link, _, #{ifname := <<"ev0">>}}) -> true;
is_ev0(_) -> false.

is_addr({addr, _, #{family := inet}}) -> true;
is_addr(_) -> false.

is_del({_, del, _}) -> true;
is_del(_) -> false.

%% The next event of Ref for which Pred holds (others are skipped).
next_event(Ref, Pred) ->
    receive
        {linx_rtnl, Ref, Event} ->
            case Pred(Event) of
                true -> Event;
                false -> next_event(Ref, Pred)
            end
    after 5000 ->
        ct:fail(no_event)
    end.

%% After unsubscribe/1 no event arrives; a subscriber's exit closes its
%% socket (the subscription process ends).
unsubscribe_and_owner_exit(Config) ->
    A = linx_ct_ns:in_netns(Config),
    Ns = ?config(netns, Config),
    {ok, Ref} = linx_rtnl:subscribe([link], A),
    [Pid] = [P || {{linx_rtnl, R}, P} <- get(), R =:= Ref],
    ok = linx_rtnl:unsubscribe(Ref),
    false = is_process_alive(Pid),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add ev1 type bridge"]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del ev1"]),
    receive {linx_rtnl, Ref, E} -> ct:fail({event_after_unsubscribe, E}) after 200 -> ok end,
    Self = self(),
    Owner = spawn(fun() ->
                          {ok, R2} = linx_rtnl:subscribe([link], A),
                          Self ! {sub, get({linx_rtnl, R2})},
                          receive stop -> ok end
                  end),
    Sub = receive {sub, S} -> S after 5000 -> ct:fail(no_subscription) end,
    Mon = monitor(process, Sub),
    exit(Owner, kill),
    receive {'DOWN', Mon, process, Sub, _} -> ok after 5000 -> ct:fail(subscriber_left) end.
