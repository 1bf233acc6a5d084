%% @doc The parts of a dump decoded on other schedulers (linx_nl_parts)
%% give what decoding them one after the other in the caller gave before
%% (a model of that, below), whether a part is decoded in one pass (only
%% objects) or the general way: for random replies (objects, some marked
%% interrupted, some a decoding error, replies of other requests, the
%% end, a netlink error, malformed bytes) cut into random parts, the same
%% values or the same first error, and the same interrupted flag. Run by
%% EUnit with PropEr (macros in linx_proper.hrl).
-module(linx_nl_parts_tests).

-include("linx_proper.hrl").

-import(proper_types, [integer/2, list/1, binary/0, binary/1, frequency/1, boolean/0, byte/0,
                       elements/1]).

-define(SEQ, 77).

parts_agree_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_parts_agree(), 500) end}.

%% Last replies long enough to be cut in two (a dump the port program
%% sends whole) give the same answers as well.
long_last_agree_test_() ->
    {timeout, 120, fun() -> ?RUN(prop_long_last_agree(), 100) end}.

%% With one scheduler online the parts are decoded in the caller: the
%% same answers.
parts_agree_one_scheduler_test_() ->
    {timeout, 120,
     fun() ->
             Before = erlang:system_flag(schedulers_online, 1),
             try
                 ?RUN(prop_parts_agree(), 200)
             after
                 erlang:system_flag(schedulers_online, Before)
             end
     end}.

%% A part whose decoding raises raises in the caller, and so do the last
%% replies, decoded by the caller; either way no message is left behind.
raise_test() ->
    Bins = [reply({object, <<1>>, false}), reply({object, <<2>>, false})],
    Decode = fun(#{payload := <<2>>}) -> error(two); (#{payload := P}) -> {ok, P} end,
    Parts = [linx_nl_parts:start([B], ?SEQ, Decode) || B <- Bins],
    ?assertError(two, linx_nl_parts:last(Parts, [], ?SEQ, Decode)),
    receive Stray -> ?assertEqual(none, Stray) after 100 -> ok end,
    %% The same when the last replies, decoded by the caller, raise.
    Three = fun(#{payload := <<3>>}) -> error(three); (#{payload := P}) -> {ok, P} end,
    Parts2 = [linx_nl_parts:start([B], ?SEQ, Three) || B <- Bins],
    ?assertError(three, linx_nl_parts:last(Parts2, [reply({object, <<3>>, false})], ?SEQ, Three)),
    receive Stray2 -> ?assertEqual(none, Stray2) after 100 -> ok end.

%% Parts of random replies, each perhaps ending with the end of the
%% answer (so that parts come after it), then the last replies.
prop_parts_agree() ->
    ?FORALL({Spec, LastReplies},
            {list({list(reply_gen()), elements([[], [], [done], [{done_error, 4}]])}),
             list(reply_gen())},
            begin
                Parts = [[reply(R) || R <- Replies ++ End] || {Replies, End} <- Spec],
                Last = [reply(R) || R <- LastReplies],
                Started = [linx_nl_parts:start(P, ?SEQ, fun decode/1) || P <- Parts],
                New = linx_nl_parts:last(Started, Last, ?SEQ, fun decode/1),
                Old = model(Parts, Last),
                receive Stray -> {stray, Stray} =:= none after 0 -> New =:= Old end
            end).

%% The same, with last replies of 200 to 400 messages: random ones
%% (perhaps an end, an error or a decoding error among them) spread
%% among objects.
prop_long_last_agree() ->
    ?FORALL({Spec, Some, Objects},
            {list({list(reply_gen()), elements([[], [done]])}),
             list(reply_gen()),
             integer(200, 400)},
            begin
                Parts = [[reply(R) || R <- Replies ++ End] || {Replies, End} <- Spec],
                Plain = [reply({object, <<(I rem 6 + 1), 0, 0, 0>>, false}) || I <- lists:seq(1, Objects)],
                Last = spread([reply(R) || R <- Some], Plain),
                Started = [linx_nl_parts:start(P, ?SEQ, fun decode/1) || P <- Parts],
                New = linx_nl_parts:last(Started, Last, ?SEQ, fun decode/1),
                Old = model(Parts, Last),
                receive Stray -> {stray, Stray} =:= none after 0 -> New =:= Old end
            end).

%% The replies of `Some' put among `Plain', one after each tenth.
spread([R | Rest], Plain) when length(Plain) > 10 ->
    {Ten, More} = lists:split(10, Plain),
    Ten ++ [R | spread(Rest, More)];
spread(Some, Plain) ->
    Plain ++ Some.

%%====================================================================
%% Replies
%%====================================================================

reply_gen() ->
    %% Most objects one aligned message each, as the kernel sends them
    %% (decoded in one pass), some not.
    frequency([{40, {object, ?BIND(N, integer(0, 6), binary(4 * N)), boolean()}},
               {5, {object, binary(), boolean()}},
               {2, {other_seq, binary()}},
               {1, done},
               {1, {done_error, integer(1, 120)}},
               {1, {error, integer(1, 120)}},
               {1, ack},
               {1, noop},
               {1, {malformed, byte()}}]).

reply({object, Payload, Intr}) ->
    msg(24, case Intr of true -> 16#12; false -> 2 end, ?SEQ, Payload);
reply({other_seq, Payload}) ->
    msg(24, 2, ?SEQ + 1, Payload);
reply(done) ->
    msg(3, 2, ?SEQ, <<0:32>>);
reply({done_error, Errno}) ->
    msg(3, 2, ?SEQ, <<(-Errno):32/signed-native>>);
reply({error, Errno}) ->
    msg(2, 0, ?SEQ, <<(-Errno):32/signed-native, 0:128>>);
reply(ack) ->
    msg(2, 0, ?SEQ, <<0:32, 0:128>>);
reply(noop) ->
    msg(1, 0, ?SEQ, <<>>);
reply({malformed, Byte}) ->
    %% A header whose length is more than there is.
    <<200:32/native, 24:16/native, 0:16, ?SEQ:32/native, 0:32, Byte>>.

msg(Type, Flags, Seq, Payload) ->
    linx_nl_codec:encode(#{type => Type, flags => Flags, seq => Seq, payload => Payload}).

%% An object whose payload starts with a multiple of 7 does not decode.
decode(#{payload := <<X, _/binary>>}) when X rem 7 =:= 0 -> {error, {seven, X}};
decode(#{payload := P}) -> {ok, P}.

%%====================================================================
%% The model: the parts decoded one after the other in the caller, as
%% linx_nl:dump/5 did before the parts had processes of their own
%%====================================================================

model(Parts, Last) ->
    State = lists:foldl(fun(P, S) -> part(P, S) end, {more, [], false, none}, Parts),
    {done, Result, Intr} = ended(part(Last, State)),
    {Result, Intr}.

part(Replies, {more, _, _, _} = State) ->
    case linx_nl_parts:replies(Replies, ?SEQ) of
        {more, Msgs} -> model_decode(Msgs, State);
        {done, {ok, Msgs}} -> ended(model_decode(Msgs, State));
        %% An error answer says nothing of interrupted messages.
        {done, {error, _} = Error} -> {done, Error, false}
    end;
part(_Replies, Done) ->
    Done.

ended({more, Acc, Intr, none}) -> {done, {ok, lists:reverse(Acc)}, Intr};
ended({more, _Acc, Intr, Error}) -> {done, Error, Intr};
ended(Done) -> Done.

model_decode(Msgs, {more, Acc, Intr, none}) ->
    decode_each(Msgs, Acc, Intr orelse linx_nl_parts:interrupted(Msgs));
model_decode(Msgs, {more, Acc, Intr, Failed}) ->
    {more, Acc, Intr orelse linx_nl_parts:interrupted(Msgs), Failed}.

decode_each([Msg | Rest], Acc, Intr) ->
    case decode(Msg) of
        {ok, Value} -> decode_each(Rest, [Value | Acc], Intr);
        {error, _} = Error -> {more, Acc, Intr, Error}
    end;
decode_each([], Acc, Intr) ->
    {more, Acc, Intr, none}.
