%% @doc Traffic measured between namespaces, for the suites that check
%% rates (linx_tc_traffic_SUITE, linx_ct_faults_SUITE): a TCP transfer
%% between two namespaces, timed by its receiver.
-module(linx_ct_traffic).

-export([transfer/4]).

%% @doc Sends `Bytes' over TCP from namespace `From' to `Dst', an
%% address of namespace `To'; the receiver's rate in Mbit/s, from the end
%% of its first read to its last (the first read is left out, being what
%% a token bucket lets through at once).
-spec transfer(iodata(), iodata(), inet:ip4_address(), pos_integer()) -> float().
transfer(From, To, Dst, Bytes) ->
    {ok, L} = linx_netlink:socket_open(inet, stream, tcp, in(To)),
    ok = socket:bind(L, #{family => inet, addr => Dst, port => 0}),
    ok = socket:listen(L),
    {ok, #{port := Port}} = socket:sockname(L),
    Self = self(),
    Receiver = spawn_link(fun() -> receive_all(Self, L) end),
    {ok, S} = linx_netlink:socket_open(inet, stream, tcp, in(From)),
    ok = socket:connect(S, #{family => inet, addr => Dst, port => Port}),
    send(S, binary:copy(<<"x">>, 65536), Bytes),
    ok = socket:shutdown(S, write),
    receive
        {Receiver, Got, Us} ->
            socket:close(S),
            socket:close(L),
            Got * 8 / Us
    after 60000 ->
        ct:fail(transfer_timeout)
    end.

in(Ns) -> #{in => {netns, iolist_to_binary(Ns)}}.

send(_S, _Chunk, Left) when Left =< 0 ->
    ok;
send(S, Chunk, Left) ->
    Part = binary:part(Chunk, 0, min(Left, byte_size(Chunk))),
    ok = socket:send(S, Part),
    send(S, Chunk, Left - byte_size(Part)).

receive_all(Parent, L) ->
    {ok, C} = socket:accept(L),
    {ok, _First} = socket:recv(C, 0),
    T0 = erlang:monotonic_time(microsecond),
    {Got, T1} = recv_loop(C, 0, T0),
    socket:close(C),
    Parent ! {self(), Got, max(T1 - T0, 1)}.

recv_loop(C, Got, T) ->
    case socket:recv(C, 0) of
        {ok, Data} -> recv_loop(C, Got + byte_size(Data), erlang:monotonic_time(microsecond));
        {error, closed} -> {Got, T}
    end.
