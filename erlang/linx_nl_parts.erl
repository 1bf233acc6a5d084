%% @private
%% The replies of a request picked out of what the port program returns,
%% and the parts of a long dump decoded while the rest still comes, on
%% the other schedulers (see linx_nl:dump/5).
%%
%% A dump of 10,000 routes comes in about 16 parts of 32 KiB; the caller
%% gets each as soon as the port program has it, while the kernel is
%% still dumping. Decoding a part costs more than its coming: each part
%% is decoded by a process of its own, so that both cores of a small
%% machine decode while the caller takes the next part. What each part
%% gives comes back in its process's exit reason (one copy of the
%% values); `finish/1' puts the parts together in order, as decoding them
%% one after the other in the caller would: the same values, the same
%% first error, the same interrupted flag. With one scheduler online a
%% part is decoded at once, in the caller.
-module(linx_nl_parts).

-include("linx_nl.hrl").

-export([replies/2, answer/3, interrupted/1]).
-export([start/3, decode/3, last/4, finish/1, cancel/1]).
%% A part's process.
-export([run/3]).

-export_type([part/0]).

%% Last replies of this many messages (or more) are decoded in two parts.
-define(SPLIT_REPLIES, 200).

%% A part's process ends by exit/1 with what it gives (one copy of it, to
%% the caller's monitor): run/3 never returns, on purpose.
-dialyzer({no_return, run/3}).

-type msg() :: linx_nl_codec:msg().
-type decode() :: fun((msg()) -> {ok, term()} | {error, term()}).

%% What a part gives: its values in order, whether it ends the answer,
%% whether the kernel marked one of its messages as interrupted, and the
%% first error of the decoding function (the values then do not count);
%% or the answer's own error (a netlink error, malformed replies).
-type result() :: {values, boolean(), [term()], boolean(), none | {error, term()}}
                | {failed, {error, term()}}.
-opaque part() :: result() | {decoding, reference()}.

%%====================================================================
%% Replies
%%====================================================================

%% Some of the reply binaries of request `Seq', in order: `{more, Msgs}'
%% with its messages among them when its answer goes on, `{done,
%% Result}' once they end it (as linx_nl:replies/2 says).
-spec replies([binary()], non_neg_integer()) ->
          {more, [msg()]}
        | {done, {ok, [msg()]} | {error, linx_nl_codec:error_info() | linx_nl_codec:malformed()}}.
replies(Bins, Seq) ->
    case linx_nl_codec:decode_all(Bins) of
        {ok, Msgs} ->
            case answer(Msgs, Seq, []) of
                {done, _} = Done -> Done;
                {more, Acc} -> {more, lists:reverse(Acc)}
            end;
        {error, _} = Error ->
            {done, Error}
    end.

%% `{done, Result}' once the answer to request `Seq' is complete, else
%% `{more, Acc}': its messages so far, newest first, after `Acc'.
-spec answer([msg()], non_neg_integer(), [msg()]) ->
          {more, [msg()]}
        | {done, {ok, [msg()]} | {error, linx_nl_codec:error_info() | linx_nl_codec:malformed()}}.
answer([#{seq := Seq, type := ?NLMSG_ERROR, flags := F, payload := P} | _], Seq, Acc) ->
    case linx_nl_codec:error_info(P, F) of
        ack -> {done, {ok, lists:reverse(Acc)}};
        {error, _} = Error -> {done, Error}
    end;
answer([#{seq := Seq, type := ?NLMSG_DONE, flags := F, payload := P} | _], Seq, Acc) ->
    case P of
        <<Neg:32/signed-native, _/binary>> when Neg < 0 -> {done, linx_nl_codec:done_error_info(P, F)};
        _ -> {done, {ok, lists:reverse(Acc)}}
    end;
answer([#{seq := Seq, type := ?NLMSG_NOOP} | Rest], Seq, Acc) ->
    answer(Rest, Seq, Acc);
answer([#{seq := Seq} = Msg | Rest], Seq, Acc) ->
    answer(Rest, Seq, [Msg | Acc]);
answer([_Other | Rest], Seq, Acc) ->
    answer(Rest, Seq, Acc);
answer([], _Seq, Acc) ->
    {more, Acc}.

%% Whether the kernel marked any of these messages of a dump as
%% interrupted (`NLM_F_DUMP_INTR': the objects changed meanwhile).
-spec interrupted([msg()]) -> boolean().
interrupted(Msgs) ->
    lists:any(fun(#{flags := F}) -> F band ?NLM_F_DUMP_INTR =/= 0 end, Msgs).

%%====================================================================
%% Parts
%%====================================================================

%% Starts decoding one part of the replies to request `Seq' with
%% `Decode': in a process of its own when another scheduler can run it,
%% else at once. Its heap is made big enough for the part's messages and
%% values from the start (a word per byte of replies), so that it never
%% collects.
-spec start([binary()], non_neg_integer(), decode()) -> part().
start(Replies, Seq, Decode) ->
    case erlang:system_info(schedulers_online) of
        1 ->
            decode(Replies, Seq, Decode);
        _ ->
            {_Pid, Ref} = spawn_opt(?MODULE, run, [Replies, Seq, Decode],
                                    [monitor, {min_heap_size, iolist_size(Replies)}]),
            {decoding, Ref}
    end.

%% The process of a part: it exits with what the part gives, or with
%% the exception its decoding raised.
-spec run([binary()], non_neg_integer(), decode()) -> no_return().
run(Replies, Seq, Decode) ->
    exit(try {part, decode(Replies, Seq, Decode)}
         catch Class:Reason:Stack -> {raised, Class, Reason, Stack}
         end).

%% What one part of the replies to request `Seq' gives, decoded here.
%% Most parts are nothing but objects, one message a binary (as the port
%% program sends them), the last one perhaps ending with the
%% `NLMSG_DONE': those are decoded in one pass, without the lists of
%% messages in between; any other part (an error, a reply to another
%% request, a decoding error) the general way, from the start.
-spec decode([binary()], non_neg_integer(), decode()) -> result().
decode(Replies, Seq, Decode) ->
    case objects(Replies, Seq, Decode, [], false) of
        {End, Values, Intr} -> {values, End, Values, Intr, none};
        other -> decode_replies(Replies, Seq, Decode)
    end.

%% The objects, and the `NLMSG_DONE' that ends the answer when it is the
%% last binary (the messages after it would be looked at too).

objects([<<Len:32/native, Type:16/native, Flags:16/native, Seq:32/native, Pid:32/native,
           Payload/binary>> | Rest], Seq, Decode, Acc, Intr)
  when Len =:= byte_size(Payload) + 16, Type > ?NLMSG_DONE ->
    Msg = #{type => Type, flags => Flags, seq => Seq, pid => Pid, payload => Payload},
    case Decode(Msg) of
        {ok, Value} ->
            Intr1 = Intr orelse Flags band ?NLM_F_DUMP_INTR =/= 0,
            objects(Rest, Seq, Decode, [Value | Acc], Intr1);
        {error, _} ->
            other
    end;
objects([<<Len:32/native, ?NLMSG_DONE:16/native, _:16, Seq:32/native, _:32, Payload/binary>>],
        Seq, _Decode, Acc, Intr)
  when Len =:= byte_size(Payload) + 16 ->
    case Payload of
        <<Neg:32/signed-native, _/binary>> when Neg < 0 -> other;
        _ -> {true, lists:reverse(Acc), Intr}
    end;
objects([], _Seq, _Decode, Acc, Intr) ->
    {false, lists:reverse(Acc), Intr};
objects(_Replies, _Seq, _Decode, _Acc, _Intr) ->
    other.

decode_replies(Replies, Seq, Decode) ->
    case replies(Replies, Seq) of
        {more, Msgs} -> values(false, Msgs, Decode);
        {done, {ok, Msgs}} -> values(true, Msgs, Decode);
        {done, {error, _} = Error} -> {failed, Error}
    end.

values(End, Msgs, Decode) ->
    {Values, Failed} = decode_each(Msgs, Decode, []),
    {values, End, Values, interrupted(Msgs), Failed}.

decode_each([Msg | Rest], Decode, Acc) ->
    case Decode(Msg) of
        {ok, Value} -> decode_each(Rest, Decode, [Value | Acc]);
        {error, _} = Error -> {[], Error}
    end;
decode_each([], _Decode, Acc) ->
    {lists:reverse(Acc), none}.

%% The answer of the parts (in order) and of the last replies, these
%% decoded here while the parts may still be decoding (see finish/1). If
%% their decoding raises, the parts are forgotten first. Long last
%% replies (a dump the kernel made faster than the port program sent
%% it, which so comes whole) are cut in two, the first half a part of
%% its own, so that both cores decode them.
-spec last([part()], [binary()], non_neg_integer(), decode()) ->
          {{ok, [term()]} | {error, term()}, boolean()}.
last(Parts, Replies, Seq, Decode) when length(Replies) >= ?SPLIT_REPLIES ->
    {Head, Tail} = lists:split(length(Replies) div 2, Replies),
    last_part(Parts ++ [start(Head, Seq, Decode)], Tail, Seq, Decode);
last(Parts, Replies, Seq, Decode) ->
    last_part(Parts, Replies, Seq, Decode).

last_part(Parts, Replies, Seq, Decode) ->
    Last = try
               decode(Replies, Seq, Decode)
           catch
               Class:Reason:Stack ->
                   cancel(Parts),
                   erlang:raise(Class, Reason, Stack)
           end,
    finish(Parts ++ [Last]).

%% The answer of the parts, in order (the last one ends it, whether or
%% not it holds the `NLMSG_DONE'), and whether any message was marked
%% interrupted (`false' when the answer itself is an error): the first
%% error of the answer itself wins, then the first
%% error of the decoding function; the parts after the end are not
%% looked at. A part whose decoding raised raises here, as it would have
%% in the caller.
-spec finish([part()]) -> {{ok, [term()]} | {error, term()}, boolean()}.
finish(Parts) ->
    finish(Parts, [], false, none).

finish([Part | Rest], Chunks, Intr, Failed) ->
    case result(Part, Rest) of
        {failed, Error} ->
            %% An answer that is an error is not tried again: whether a
            %% message was interrupted is not asked, and saying `false'
            %% keeps the answer the same however its replies came in
            %% parts (a long last one is cut in two).
            cancel(Rest),
            {Error, false};
        {values, End, Values, PartIntr, PartFailed} ->
            Intr1 = Intr orelse PartIntr,
            Failed1 = case Failed of
                          none -> PartFailed;
                          _ -> Failed
                      end,
            case End orelse Rest =:= [] of
                true ->
                    cancel(Rest),
                    case Failed1 of
                        none -> {{ok, lists:append(lists:reverse(Chunks, [Values]))}, Intr1};
                        _ -> {Failed1, Intr1}
                    end;
                false ->
                    finish(Rest, [Values | Chunks], Intr1, Failed1)
            end
    end;
finish([], _Chunks, Intr, none) ->
    {{ok, []}, Intr}.

result({decoding, Ref}, Rest) ->
    receive
        {'DOWN', Ref, process, _, {part, Result}} ->
            Result;
        {'DOWN', Ref, process, _, {raised, Class, Reason, Stack}} ->
            cancel(Rest),
            erlang:raise(Class, Reason, Stack);
        {'DOWN', Ref, process, _, Reason} ->
            cancel(Rest),
            erlang:error({dump_part, Reason})
    end;
result(Result, _Rest) ->
    Result.

%% Forgets parts whose results are not needed (their processes end by
%% themselves; no message of theirs is left behind).
-spec cancel([part()]) -> ok.
cancel(Parts) ->
    lists:foreach(fun({decoding, Ref}) -> erlang:demonitor(Ref, [flush]);
                     (_) -> ok
                  end, Parts).
