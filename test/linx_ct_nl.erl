%% @doc Just enough rtnetlink for the tests: an RTM_GETLINK dump request,
%% a reader that collects the interface names of the replies, and a wait
%% for the RTM_NEWLINK notification of one interface.
%%
%% Netlink headers are in host byte order (`native').
-module(linx_ct_nl).

-export([getlink_request/1,
         dump_links/2,
         messages/1,
         link_name/1,
         wait_link/3]).

-define(NLMSG_ERROR, 2).
-define(NLMSG_DONE, 3).
-define(RTM_NEWLINK, 16).
-define(RTM_GETLINK, 18).
-define(NLM_F_REQUEST, 16#001).
-define(NLM_F_DUMP, 16#300).
-define(IFLA_IFNAME, 3).
-define(NLMSG_HDRLEN, 16).
-define(IFINFOMSG_LEN, 16).

-type message() :: {Type :: non_neg_integer(), Flags :: non_neg_integer(),
                    Seq :: non_neg_integer(), Payload :: binary()}.

%% @doc An RTM_GETLINK dump request (nlmsghdr + a zero ifinfomsg).
-spec getlink_request(non_neg_integer()) -> binary().
getlink_request(Seq) ->
    Len = ?NLMSG_HDRLEN + ?IFINFOMSG_LEN,
    <<Len:32/native, ?RTM_GETLINK:16/native,
      (?NLM_F_REQUEST bor ?NLM_F_DUMP):16/native, Seq:32/native, 0:32/native,
      0:(?IFINFOMSG_LEN * 8)>>.

%% @doc Sends a link dump request on a route netlink socket and returns the
%% names of all links in the replies, sorted, or `{error, Reason}' for an
%% NLMSG_ERROR reply (`{nlmsg_error, Errno}') or a failed receive.
-spec dump_links(socket:socket(), timeout()) ->
          {ok, [binary()]} | {error, term()}.
dump_links(S, Timeout) ->
    %% Dump datagrams can be larger than the socket module's default read.
    ok = socket:setopt(S, otp, rcvbuf, 65536),
    Seq = erlang:unique_integer([positive]) band 16#ffffffff,
    case socket:send(S, getlink_request(Seq)) of
        ok -> collect(S, Seq, deadline(Timeout), []);
        {error, _} = Error -> Error
    end.

collect(S, Seq, Deadline, Acc) ->
    case socket:recv(S, 0, remaining(Deadline)) of
        {ok, Data} ->
            case dump_step(messages(Data), Seq, Acc) of
                {more, Acc1} -> collect(S, Seq, Deadline, Acc1);
                {done, Names} -> {ok, lists:sort(Names)};
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end.

dump_step([], _Seq, Acc) ->
    {more, Acc};
dump_step([{?NLMSG_DONE, _, Seq, _} | _], Seq, Acc) ->
    {done, Acc};
dump_step([{?NLMSG_ERROR, _, Seq, <<Errno:32/signed-native, _/binary>>} | _],
          Seq, _Acc) ->
    {error, {nlmsg_error, Errno}};
dump_step([{?RTM_NEWLINK, _, Seq, _} = Msg | Rest], Seq, Acc) ->
    case link_name(Msg) of
        {ok, Name} -> dump_step(Rest, Seq, [Name | Acc]);
        error -> dump_step(Rest, Seq, Acc)
    end;
dump_step([_Other | Rest], Seq, Acc) ->
    %% A notification or a reply to something else.
    dump_step(Rest, Seq, Acc).

%% @doc Splits a datagram into its netlink messages (each aligned to 4).
-spec messages(binary()) -> [message()].
messages(<<Len:32/native, Type:16/native, Flags:16/native, Seq:32/native,
           _Pid:32/native, Rest/binary>>)
  when Len >= ?NLMSG_HDRLEN, Len - ?NLMSG_HDRLEN =< byte_size(Rest) ->
    PayloadLen = Len - ?NLMSG_HDRLEN,
    <<Payload:PayloadLen/binary, Tail/binary>> = Rest,
    Pad = min(align(Len) - Len, byte_size(Tail)),
    <<_:Pad/binary, Next/binary>> = Tail,
    [{Type, Flags, Seq, Payload} | messages(Next)];
messages(_) ->
    [].

%% @doc The IFLA_IFNAME of an RTM_NEWLINK message.
-spec link_name(message()) -> {ok, binary()} | error.
link_name({?RTM_NEWLINK, _, _, <<_:?IFINFOMSG_LEN/binary, Attrs/binary>>}) ->
    attr_name(Attrs);
link_name(_) ->
    error.

attr_name(<<Len:16/native, Type:16/native, Rest/binary>>)
  when Len >= 4, Len - 4 =< byte_size(Rest) ->
    ValueLen = Len - 4,
    <<Value:ValueLen/binary, Tail/binary>> = Rest,
    case Type band 16#3fff of
        ?IFLA_IFNAME ->
            [Name | _] = binary:split(Value, <<0>>),
            {ok, Name};
        _ ->
            Pad = min(align(Len) - Len, byte_size(Tail)),
            <<_:Pad/binary, Next/binary>> = Tail,
            attr_name(Next)
    end;
attr_name(_) ->
    error.

%% @doc Waits, for at most `Timeout' milliseconds, for an RTM_NEWLINK
%% message naming `Name' on a socket subscribed to link events. Other
%% messages are read and dropped.
-spec wait_link(socket:socket(), binary() | string(), timeout()) ->
          ok | {error, term()}.
wait_link(S, Name, Timeout) ->
    wait_link_(S, iolist_to_binary(Name), deadline(Timeout)).

wait_link_(S, Name, Deadline) ->
    case socket:recv(S, 0, remaining(Deadline)) of
        {ok, Data} ->
            Names = [N || Msg <- messages(Data), {ok, N} <- [link_name(Msg)]],
            case lists:member(Name, Names) of
                true -> ok;
                false -> wait_link_(S, Name, Deadline)
            end;
        {error, _} = Error ->
            Error
    end.

align(N) ->
    (N + 3) band (bnot 3).

deadline(infinity) ->
    infinity;
deadline(Ms) ->
    erlang:monotonic_time(millisecond) + Ms.

remaining(infinity) ->
    infinity;
remaining(Deadline) ->
    max(0, Deadline - erlang:monotonic_time(millisecond)).
