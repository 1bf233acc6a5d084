%% @doc linx_rtnl:subscribe/2 against a real namespace: link and address
%% changes made with `ip -n' arrive decoded and in order; after
%% unsubscribe/1 nothing arrives, and a subscriber's exit ends its
%% subscription. Unread events, and the replies linx_nl:request/3 reads
%% from a socket, hold only their own bytes, not the receive buffer they
%% came in.
-module(linx_rtnl_events_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1]).
-export([events_in_order/1, unsubscribe_and_owner_exit/1, unread_events_hold_their_own_bytes/1,
         request_replies_hold_their_own_bytes/1]).

all() ->
    [{group, events}].

groups() ->
    [{events, [], [events_in_order, unsubscribe_and_owner_exit, unread_events_hold_their_own_bytes,
                   request_replies_hold_their_own_bytes]}].

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

%% 2,000 events left unread (1,000 veth pairs made in a netns of their
%% own: two RTM_NEWLINK each) keep at most three times their decoded size
%% in binaries: each holds its own message (about 1.5 KB), not the 64 KiB
%% buffer it was received in (before, they kept about 128 MB).
unread_events_hold_their_own_bytes(Config) ->
    Ns = linx_ct_ns:unique("linx-ev-mem"),
    ok = linx_ct_ns:netns_add(Ns),
    try
        unread_events(Ns, ?config(priv_dir, Config))
    after
        linx_ct_ns:netns_del(Ns)
    end.

-define(PAIRS, 1000).
%% Pairs per `ip -batch': their 2 x 20 events fit the socket's receive
%% queue (made 4 MiB: the default, 208 KiB, holds about 40 veth
%% messages by the kernel's count) even when the subscriber reads none
%% of them meanwhile; were some dropped, `resync => false' makes that an
%% `{error, enobufs}' the wait below shows, not a resync that stands for
%% them.
-define(CHUNK, 20).
-define(RCVBUF, 4194304).

unread_events(Ns, Dir) ->
    {ok, Ref} = linx_rtnl:subscribe([link], #{in => {netns, list_to_binary(Ns)},
                                              rcvbuf => ?RCVBUF, resync => false}),
    Before = binary_memory(),
    lists:foreach(fun(First) -> add_pairs(Ns, Dir, First) end, lists:seq(1, ?PAIRS, ?CHUNK)),
    Cost = binary_memory() - Before,
    Events = take(Ref, []),
    ok = linx_rtnl:unsubscribe(Ref),
    2 * ?PAIRS = length([E || {link, new, #{kind := veth}} = E <- Events]),
    Decoded = lists:sum([decoded_size(E) || E <- Events]),
    Largest = lists:max([binary:referenced_byte_size(B) || E <- Events, B <- binaries(E, [])]),
    ct:pal("~b events: ~b bytes decoded, ~b bytes of binaries kept; "
           "the largest binary an event refers to: ~b bytes",
           [length(Events), Decoded, Cost, Largest]),
    %% A link's message is a few KiB, however it was received.
    true = Largest =< 16384,
    true = Cost =< 3 * Decoded.

%% Pairs First.. in one `ip -batch', then until their events are here.
add_pairs(Ns, Dir, First) ->
    File = filename:join(Dir, "pairs-" ++ integer_to_list(First)),
    ok = file:write_file(File, [io_lib:format("link add ma~b type veth peer name mb~b~n", [I, I])
                                || I <- lists:seq(First, First + ?CHUNK - 1)]),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " -batch ", File]),
    Expected = 2 * (First + ?CHUNK - 1),
    case linx_ct_ns:wait_until(fun() -> queued() >= Expected end, 10000) of
        ok -> ok;
        {error, timeout} -> ct:fail({events, queued(), expected, Expected, errors(self())})
    end.

%% The errors among the queued events (an enobufs would say some were lost).
errors(Pid) ->
    {messages, Ms} = process_info(Pid, messages),
    [E || {linx_rtnl, _, {error, _} = E} <- Ms].

queued() ->
    {message_queue_len, N} = process_info(self(), message_queue_len),
    N.

%% The node's binary memory, every process collected first (so that
%% what no one refers to any more is not counted).
binary_memory() ->
    _ = [erlang:garbage_collect(P) || P <- processes()],
    erlang:memory(binary).

take(Ref, Acc) ->
    receive
        {linx_rtnl, Ref, Event} -> take(Ref, [Event | Acc])
    after 0 ->
        lists:reverse(Acc)
    end.

%% What a decoded event is worth: its words, and the bytes of the
%% binaries in it (those of 64 bytes or less are counted twice, being
%% among its words too).
decoded_size(Event) ->
    erts_debug:flat_size(Event) * erlang:system_info(wordsize)
        + lists:sum([byte_size(B) || B <- binaries(Event, [])]).

binaries(B, Acc) when is_binary(B) -> [B | Acc];
binaries(T, Acc) when is_tuple(T) -> binaries(tuple_to_list(T), Acc);
binaries(M, Acc) when is_map(M) -> binaries(maps:to_list(M), Acc);
binaries([H | T], Acc) -> binaries(T, binaries(H, Acc));
binaries(_, Acc) -> Acc.

%% The messages linx_nl:request/3 returns (a link dump read from a socket
%% of this node) are each a binary of their own, not parts of the 64 KiB
%% buffer they were received in.
request_replies_hold_their_own_bytes(Config) ->
    {ok, S} = linx_netlink:open(route, linx_ct_ns:in_netns(Config)),
    try
        {ok, [_ | _] = Msgs} = linx_nl:request(S, linx_rtnl_req:dump(link), 5000),
        [] = [{byte_size(P), binary:referenced_byte_size(P)}
              || #{payload := P} <- Msgs, binary:referenced_byte_size(P) =/= byte_size(P)]
    after
        socket:close(S)
    end.
