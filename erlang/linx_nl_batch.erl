%% @doc Netlink batches: many requests in one frame to the port program,
%% which sends them one at a time on the socket it keeps in the target's
%% network namespace and answers with the replies of each. The layer
%% under {@link linx_rtnl:batch/2}; like {@link linx_nl} it knows
%% messages, not what they mean.
%%
%% Each request may name values the program writes into it before
%% sending it, so that a request can use what an earlier one of the same
%% batch made:
%% <ul>
%% <li>`{ifindex, Name}': the index of the link called `Name' (looked up
%%   when a request first needs it, and again after any request that may
%%   have made, renamed or deleted a link);</li>
%% <li>a target (`{netns, Name}', a {@link linx_netns} handle, ...): the
%%   descriptor of its network namespace (for `IFLA_NET_NS_FD').</li>
%% </ul>
%% A request carries a placeholder where such a value goes, and says
%% where to find it: `{Pattern, Skip, Patch}' is the first place the bytes
%% `Pattern' stand in the encoded request, and the value goes `Skip'
%% bytes into them (4 bytes, host byte order). Every pattern must stand
%% in its request exactly once.
-module(linx_nl_batch).

-include("linx_nl.hrl").

-export([send/4, ifindex_mark/1]).

-export_type([request/0, patch/0, result/0]).

-type patch() :: {binary(), non_neg_integer(), {ifindex, binary()} | linx_opts:target()}.
-type request() :: {linx_nl_codec:msg_in(), [patch()]}.
-type result() :: ok | {error, term()}.

%% The placeholder value of a link index the program writes in: one per
%% name in a request (see ifindex_mark/1).
-define(IFINDEX_MARK, 16#7FFFFE00).
%% Requests in the first frame of a batch sent in frames, how many times
%% more each next one has, and most frames with the program at once (see
%% pipelined/4).
-define(CHUNK, 64).
-define(GROWTH, 16).
-define(WINDOW, 2).

%% @doc The placeholder of the `N'th link name of a request (0..255): a
%% value no link index has in practice, written as the index.
-spec ifindex_mark(0..255) -> non_neg_integer().
ifindex_mark(N) when is_integer(N), N >= 0, N =< 255 ->
    ?IFINDEX_MARK + N.

%% @doc Sends `Requests' (each `{Request, Patches}') in the target of
%% `Opts' and returns one result per request sent, in order: `ok' (its
%% ack) or the error of its `NLMSG_ERROR' (the {@link linx_nl} error map,
%% with the `op' given for it and `in'), or of a patch that could not be
%% made (`#{stage := ifindex, errno := enodev}' for a link not there).
%% With `Stop', none is sent after the first that fails, so the list
%% ends there. `Ops' names each request's operation, in the same order;
%% an error of the whole batch (the target, the port) has `op =>
%% batch'. Every error map of the port program has `op', `in' and
%% `protocol', which render it.
-spec send(linx_netlink:protocol(), [request()], [atom()], #{stop := boolean(),
                                                           opts := term()}) ->
          {ok, [result()]} | {error, term()}.
send(Protocol, Requests, Ops, #{stop := Stop, opts := Opts}) ->
    case {linx_netlink_args:protocol_number(Protocol), linx_opts:options(Opts)} of
        {{ok, P}, {ok, #{target := Target, timeout := Timeout, via := Via, opts := Map}}} ->
            Batch = #{frame => fun(Msgs) -> {netlink_batch, P, Target, Msgs, Stop} end,
                      deadline => linx_opts:deadline(Timeout), via => Via,
                      in => #{in => maps:get(in, Map, self), protocol => Protocol}},
            case not Stop andalso Via =:= local andalso length(Requests) > 2 * ?CHUNK of
                true -> pipelined(chunks(Requests, Ops), [], Batch, []);
                false -> one({Requests, Ops}, Batch)
            end;
        {{error, _} = Error, _} ->
            Error;
        {_, {error, _} = Error} ->
            Error
    end.

%% One frame: its results, or the error of the whole of it.
one({Requests, Ops}, #{frame := Frame, deadline := Deadline, via := Via, in := In}) ->
    case encode(Requests, []) of
        {ok, Seqs, Msgs} ->
            results(linx_remote:request(Frame(Msgs), linx_opts:remaining(Deadline), Via), Seqs, Ops, In);
        {error, _} = Error ->
            Error
    end.

%% A batch that need not stop at a failure goes in frames (see
%% chunks/3), each sent while the program still works on those before it
%% (at most ?WINDOW with it at once): the program takes a target's frames
%% in order, and the encoding and round trip of one overlap the kernel's
%% work on another. A frame the port does not take at once, and every one
%% after it, goes when those before it are answered. The first error of a
%% whole frame is the batch's; the frames after it are not sent.
pipelined([Chunk | Rest] = Chunks, Flight, Batch, Acc) when length(Flight) < ?WINDOW ->
    #{frame := Frame, in := In} = Batch,
    {Requests, Ops} = Chunk,
    case encode(Requests, []) of
        {ok, Seqs, Msgs} ->
            case linx_port_route:submit(Frame(Msgs)) of
                {ok, Ticket} ->
                    pipelined(Rest, Flight ++ [{Ticket, Seqs, Ops}], Batch, Acc);
                {error, _} = Error ->
                    abandon(Flight),
                    linx_error:reply(Error, In#{op => batch});
                _NotSent ->
                    case pipelined([], Flight, Batch, Acc) of
                        {ok, Done} -> sequential(Chunks, Batch, [Done]);
                        {error, _} = Error -> Error
                    end
            end;
        {error, _} = Error ->
            abandon(Flight),
            Error
    end;
pipelined(Chunks, [{Ticket, Seqs, Ops} | Flight], #{deadline := Deadline, in := In} = Batch, Acc) ->
    Reply = linx_port_route:collect(Ticket, linx_opts:remaining(Deadline)),
    case results(Reply, Seqs, Ops, In) of
        {ok, Results} ->
            pipelined(Chunks, Flight, Batch, [Results | Acc]);
        {error, _} = Error ->
            abandon(Flight),
            Error
    end;
pipelined([], [], _Batch, Acc) ->
    {ok, lists:append(lists:reverse(Acc))}.

%% The frames of Chunks one after another.
sequential([Chunk | Chunks], Batch, Acc) ->
    case one(Chunk, Batch) of
        {ok, Results} -> sequential(Chunks, Batch, [Results | Acc]);
        {error, _} = Error -> Error
    end;
sequential([], _Batch, Acc) ->
    {ok, lists:append(lists:reverse(Acc))}.

%% Frames in flight whose results nobody will read: their replies, should
%% they come, are dropped.
abandon(Flight) ->
    lists:foreach(fun({Ticket, _, _}) -> _ = linx_port_route:collect(Ticket, 0) end, Flight).

chunks(Requests, Ops) ->
    chunks(Requests, Ops, ?CHUNK).

%% Each frame ?GROWTH times the one before: the program's work on a frame
%% (some 10 us a request) covers the encoding of the next (under 1 us a
%% request), so the first is small, for the program to start early, and
%% few follow it.
chunks([], [], _N) ->
    [];
chunks(Requests, Ops, N) when length(Requests) =< N ->
    [{Requests, Ops}];
chunks(Requests, Ops, N) ->
    {R, Rs} = lists:split(N, Requests),
    {O, Os} = lists:split(N, Ops),
    [{R, O} | chunks(Rs, Os, N * ?GROWTH)].

encode([{Req, Patches} | Rest], Acc) ->
    %% A change, acknowledged (a batch holds no dumps).
    Seq = linx_nl:next_seq(),
    Flags = maps:get(flags, Req, 0) bor ?NLM_F_REQUEST bor ?NLM_F_ACK,
    Bin = linx_nl_codec:encode(Req#{flags => Flags, seq => Seq}),
    case offsets(Patches, Bin, []) of
        {ok, Offsets} -> encode(Rest, [{Seq, {Bin, Offsets}} | Acc]);
        {error, _} = Error -> Error
    end;
encode([], Acc) ->
    {Seqs, Msgs} = lists:unzip(lists:reverse(Acc)),
    {ok, Seqs, Msgs}.

offsets([{Pattern, Skip, Patch} | Rest], Bin, Acc) ->
    case binary:matches(Bin, Pattern) of
        [{At, _}] -> offsets(Rest, Bin, [{At + Skip, Patch} | Acc]);
        %% A value of the request that happens to look like the
        %% placeholder: the program cannot know which one to fill.
        _ -> {error, {bad_batch, {placeholder, Patch}}}
    end;
offsets([], _Bin, Acc) ->
    {ok, lists:reverse(Acc)}.

results({ok, Replies}, Seqs, Ops, In) when is_list(Replies), length(Replies) =< length(Seqs) ->
    {ok, result(Replies, Seqs, Ops, In, [])};
results({ok, _} = Other, _Seqs, _Ops, _In) ->
    {error, {unexpected_reply, Other}};
results(Error, _Seqs, _Ops, In) ->
    linx_error:reply(Error, In#{op => batch}).

result([Reply | Replies], [Seq | Seqs], [Op | Ops], In, Acc) ->
    R = case Reply of
            %% Its ack, which the program checked.
            ok ->
                ok;
            {ok, Bins} when is_list(Bins) ->
                case linx_nl:replies(Bins, Seq) of
                    {ok, _} -> ok;
                    {error, #{stage := netlink} = Info} ->
                        {error, maps:without([module, function],
                                             Info#{op => Op, in => maps:get(in, In)})};
                    {error, _} = Error -> Error
                end;
            {error, {ns_fd, Offset, {_, _} = Inner}} ->
                %% A namespace the request names, not the batch's.
                linx_error:reply({error, Inner}, In#{op => Op, ns_fd => #{offset => Offset}});
            {error, _} = Error ->
                linx_error:reply(Error, In#{op => Op})
        end,
    result(Replies, Seqs, Ops, In, [R | Acc]);
result([], _Seqs, _Ops, _In, Acc) ->
    lists:reverse(Acc).
