%% @doc The direct path to the port program: callers write their own
%% request frames and get their reply frames routed to them by id.
%%
%% Once the port program is ready, {@link linx_port_server} publishes a
%% route (a persistent term, which callers read without a lock or a copy):
%% the server, the port, a public table of waiters and the request id
%% counter. A caller takes an id, registers its reply alias under it,
%% writes the frame to the port and decodes the reply itself; the server
%% only routes the reply frame, by id and without decoding it, to the
%% alias ({@link route_frame/4}). The alias is also a
%% monitor of the server, so a server that goes away never leaves the
%% caller waiting. While there is no route (the server is starting, or not
%% running) {@link request/2} says `no_route' and `linx_port' makes a
%% `gen_server' call instead. A server withdraws the route when its
%% program exits and when it stops; one that was killed leaves it behind,
%% and the next one withdraws it when it starts. A caller that meets such
%% a route meanwhile finds the port closed, or the server gone, and gets
%% the error it would get from a `gen_server' call then: `not_running'.
%%
%% A caller looks for its reply for up to `spin_us' microseconds, yielding
%% in between, before it sleeps in `receive' (see
%% {@link linx_port_args:caller_spin_us/0} for why).
%%
%% A `netlink_call' that asks for parts may get `{Id, more, Replies}'
%% frames ahead of its reply. The server routes them to the caller like
%% the reply, but leaves its entry in place, and the caller folds each
%% part's replies into an accumulator as it comes ({@link request/4}).
%%
%% A caller that times out removes its own entry. One that is killed
%% while its request is in flight leaves it behind until its reply comes,
%% or for good when it died between registering and sending; the server
%% therefore sweeps the entries of dead callers away ({@link sweep/1}).
%%
%% == A caller's timeout always holds ==
%% A caller is never suspended on a busy port (one whose queue is over its
%% high mark because the program does not read, or not fast enough): its
%% timeout could not fire there. It writes with `nosuspend'; when the port
%% is busy, a sender process waits in `port_command' in its place while
%% the caller waits for the reply with its timeout as usual. At the
%% timeout the caller kills its sender: a request still unsent then never
%% leaves, and the call returns `{error, {busy, port}}' (or
%% `{error, timeout}' when the request did leave). Either way the call
%% returns within its timeout and a few microseconds.
-module(linx_port_route).

-export([publish/1, withdraw/0, published/0, request/2, request/4, with_parts/2]).
-export([submit/1, collect/2]).
-export([route_frame/4, waiting/1, sweep/1, fail_all/2]).

-export_type([waiters/0, fold/0, ticket/0]).

-type waiters() :: ets:tid().
%% Callers waiting on the direct path: `{Id, Alias, Caller}'.

-type fold() :: none | {fun(([binary()], term()) -> term()), term()}.
%% What to do with the replies of each part: the function and its
%% accumulator; `none' for an op that does not ask for parts.

-opaque ticket() :: {reference(), pos_integer(), waiters(), atom(), integer()}.
%% A request sent by {@link submit/1}, whose result {@link collect/2}
%% waits for.

-type route() :: {Server :: pid(), port(), waiters(), atomics:atomics_ref(),
                  SpinUs :: non_neg_integer()}.
%% What a caller needs of the route: the server, its port, the waiters,
%% the id counter and how long to look for a reply before sleeping.

-define(ROUTE, linx_port_route).

%% @doc Publishes the route to `Port' of the calling server: its table of
%% waiters and its request id counter, which the server uses for the
%% requests it sends itself.
-spec publish(port()) -> {waiters(), atomics:atomics_ref()}.
publish(Port) ->
    Ids = atomics:new(1, [{signed, false}]),
    Waiters = ets:new(linx_port_waiters, [public, {write_concurrency, true},
                                          {read_concurrency, true}]),
    ok = persistent_term:put(?ROUTE, {self(), Port, Waiters, Ids,
                                      linx_port_args:caller_spin_us()}),
    {Waiters, Ids}.

%% @doc Withdraws the route of a server that is going away, or of one
%% that went away without (a new server does so first): callers then wait
%% for the new server in a `gen_server' call.
-spec withdraw() -> ok.
withdraw() ->
    _ = persistent_term:erase(?ROUTE),
    ok.

%% @doc The route callers use now, if any.
-spec published() -> route() | none.
published() ->
    persistent_term:get(?ROUTE, none).

%% @doc Sends `Op', which does not ask for parts, on the direct path and
%% waits for its result, or says `no_route'. Errors are those of
%% {@link linx_port:request/2}.
-spec request(term(), timeout()) -> {ok, term()} | no_route.
request(Op, Timeout) ->
    case route(Op, Timeout, none) of
        {ok, {Result, none}} -> {ok, Result};
        no_route -> no_route
    end.

%% @doc Sends `Op' on the direct path and waits for its result, or says
%% `no_route'. Each part that comes ahead of the result goes through
%% `Fun(Replies, Acc)', starting from `Acc0'.
-spec request(term(), timeout(), fun(([binary()], Acc) -> Acc), Acc) ->
          {ok, {term(), Acc}} | no_route.
request(Op, Timeout, Fun, Acc0) ->
    case route(Op, Timeout, {Fun, Acc0}) of
        {ok, {Result, {Fun, Acc}}} -> {ok, {Result, Acc}};
        no_route -> no_route
    end.

-spec route(term(), timeout(), fold()) -> {ok, {term(), fold()}} | no_route.
route(Op, Timeout, Fold) ->
    case published() of
        {_, _, _, _, _} = Route ->
            {ok, direct(Op, Timeout, Fold, Route)};
        none ->
            no_route
    end.

%% @doc Sends `Op', which does not ask for parts, on the direct path and
%% returns at once; {@link collect/2} waits for its result. A caller may
%% have several in flight: the program takes them in the order they were
%% sent. `busy' when the port would not take the frame now (nothing was
%% sent), `no_route' when there is no direct path; errors are those of
%% encoding the frame, and `not_running'.
-spec submit(term()) -> {ok, ticket()} | busy | no_route | {error, term()}.
submit(Op) ->
    case published() of
        {_, _, Waiters, Ids, _} = Route ->
            Id = atomics:add_get(Ids, 1, 1),
            case linx_wire:encode(Id, Op) of
                {ok, Frame} ->
                    case post(Frame, Id, reply_demonitor, Route) of
                        {true, Mref} ->
                            {ok, {Mref, Id, Waiters, linx_stats:op_name(Op),
                                  erlang:monotonic_time(microsecond)}};
                        {false, Mref} ->
                            give_up(Mref, Id, Waiters),
                            busy;
                        {error, _} = Error ->
                            Error
                    end;
                {error, _} = Error ->
                    Error
            end;
        none ->
            no_route
    end.

%% @doc The result of a request {@link submit/1} sent, waiting for it up
%% to `Timeout' milliseconds (`{error, timeout}' after that, and its reply
%% can no longer come); errors are those of {@link linx_port:request/2}.
%% Counted in {@link linx_stats} from its submit to its result.
-spec collect(ticket(), timeout()) -> term().
collect({Mref, Id, Waiters, Name, T0}, Timeout) ->
    {Result, none} = await(Mref, Id, Waiters, Timeout, none),
    ok = linx_stats:record(Name, erlang:monotonic_time(microsecond) - T0, Result),
    Result.

%% @doc Hands frame `Bin' of request `Id' to its caller, if one waits on
%% the direct path: its reply (`ok', as {@link linx_wire:frame_id/1} says),
%% which ends the wait, or a part, which leaves the caller waiting.
-spec route_frame(ok | part, waiters(), pos_integer(), binary()) -> boolean().
route_frame(ok, Waiters, Id, Bin) ->
    route_to(ets:take(Waiters, Id), {raw, Bin});
route_frame(part, Waiters, Id, Bin) ->
    route_to(ets:lookup(Waiters, Id), {part, Bin}).

-spec route_to([{pos_integer(), reference(), pid()}], {raw | part, binary()}) -> boolean().
route_to([{_Id, Alias, _Caller}], Msg) ->
    Alias ! {Alias, Msg},
    true;
route_to([], _Msg) ->
    false.

%% @doc A result with the replies of its parts (newest first) put in
%% front of its own: `{ok, Replies}' holds all of them in order. An error
%% drops the parts.
-spec with_parts(term(), [[binary()]]) -> term().
with_parts(Result, []) ->
    Result;
with_parts({ok, Last}, Parts) when is_list(Last) ->
    {ok, lists:append(lists:reverse(Parts, [Last]))};
with_parts(Result, _Parts) ->
    Result.

%% @doc How many callers wait on the direct path.
-spec waiting(waiters()) -> non_neg_integer().
waiting(Waiters) ->
    ets:info(Waiters, size).

%% @doc Removes the entries of callers that are no longer alive; returns
%% how many there were.
-spec sweep(waiters()) -> non_neg_integer().
sweep(Waiters) ->
    Dead = [Id || {Id, _Alias, Caller} <- ets:tab2list(Waiters),
                  not is_process_alive(Caller)],
    lists:foreach(fun(Id) -> ets:delete(Waiters, Id) end, Dead),
    length(Dead).

%% @doc Withdraws the route and answers every caller waiting on the
%% direct path with `Error' (the server answers those of its own
%% requests).
-spec fail_all(waiters(), term()) -> ok.
fail_all(Waiters, Error) ->
    ok = withdraw(),
    lists:foreach(fun({_Id, Alias, _Caller}) -> Alias ! {Alias, {result, Error}} end,
                  ets:tab2list(Waiters)),
    true = ets:delete_all_objects(Waiters),
    ok.

%%====================================================================
%% Internal functions
%%====================================================================

-spec direct(term(), timeout(), fold(), route()) -> {term(), fold()}.
direct(Op, Timeout, Fold, {_, _, _, Ids, _} = Route) ->
    Id = atomics:add_get(Ids, 1, 1),
    case linx_wire:encode(Id, Op) of
        {ok, Frame} -> send(Frame, Id, Timeout, Fold, Route);
        {error, _} = Error -> {Error, Fold}
    end.

%% The reply alias goes with the first message through it, unless parts
%% may come first: it then lasts until the monitor is removed.
-spec send(binary(), pos_integer(), timeout(), fold(), route()) -> {term(), fold()}.
send(Frame, Id, Timeout, Fold, {_Server, Port, Waiters, _Ids, SpinUs} = Route) ->
    Alias = case Fold of
                none -> reply_demonitor;
                _ -> demonitor
            end,
    case post(Frame, Id, Alias, Route) of
        {true, Mref} ->
            spin(SpinUs, Timeout, Waiters),
            await(Mref, Id, Waiters, Timeout, Fold);
        {false, Mref} ->
            await_busy(start_sender(Port, Frame), Mref, Id, Waiters, Timeout, Fold);
        {error, not_running} = Error ->
            {Error, Fold}
    end.

%% Registers the caller for the reply to `Id' (through an alias of a
%% monitor of the server) and writes `Frame' to the port: `{true, Mref}'
%% once written, `{false, Mref}' when the port is busy and it was not
%% (never suspended here, where a timeout could not fire: see the module
%% doc), `{error, not_running}' when the port is closed (nothing left
%% registered).
-spec post(binary(), pos_integer(), reply_demonitor | demonitor, route()) ->
          {boolean(), reference()} | {error, not_running}.
post(Frame, Id, Alias, {Server, Port, Waiters, _Ids, _SpinUs}) ->
    Mref = erlang:monitor(process, Server, [{alias, Alias}]),
    try
        true = ets:insert(Waiters, {Id, Mref, self()}),
        erlang:port_command(Port, Frame, [nosuspend])
    of
        Written -> {Written, Mref}
    catch
        error:badarg ->
            erlang:demonitor(Mref, [flush]),
            _ = (catch ets:delete(Waiters, Id)),
            {error, not_running}
    end.

%% A process that waits in `port_command' until the busy port takes
%% `Frame' (or closes), then says so; monitored by the caller.
-spec start_sender(port(), binary()) -> {pid(), reference(), reference()}.
start_sender(Port, Frame) ->
    Caller = self(),
    Sent = make_ref(),
    {Pid, Mon} = spawn_monitor(fun() ->
                                       true = erlang:port_command(Port, Frame),
                                       Caller ! {Sent, sent}
                                   end),
    {Pid, Mon, Sent}.

%% `await/5' while a sender waits for the busy port. When it is done
%% (sent, or the port closed) the wait goes on as usual; an answer from
%% the server meanwhile (it failed every caller, or went down) ends it; at
%% the timeout it is killed, and whether it had sent tells the error.
-spec await_busy({pid(), reference(), reference()}, reference(), pos_integer(),
                 waiters(), timeout(), fold()) -> {term(), fold()}.
await_busy({Pid, Mon, Sent} = Sender, Mref, Id, Waiters, Timeout, Fold) ->
    Deadline = linx_opts:deadline(Timeout),
    receive
        {'DOWN', Mon, process, Pid, _} ->
            _ = sent(Sent),
            await(Mref, Id, Waiters, linx_opts:remaining(Deadline), Fold);
        {Mref, {result, _}} = Answer ->
            _ = stop_sender(Sender),
            self() ! Answer,
            await(Mref, Id, Waiters, 0, Fold);
        {'DOWN', Mref, process, _, _} = Down ->
            _ = stop_sender(Sender),
            self() ! Down,
            await(Mref, Id, Waiters, 0, Fold)
    after Timeout ->
        Error = case stop_sender(Sender) of
                    true -> {error, timeout};
                    false -> {error, {busy, port}}
                end,
        case await(Mref, Id, Waiters, 0, Fold) of
            {{error, timeout}, Fold1} -> {Error, Fold1};
            Result -> Result
        end
    end.

%% Kills a sender and says whether it had sent. Killing a process
%% suspended on a port takes microseconds; its message, if it sent, comes
%% before its 'DOWN'.
-spec stop_sender({pid(), reference(), reference()}) -> boolean().
stop_sender({Pid, Mon, Sent}) ->
    exit(Pid, kill),
    receive {'DOWN', Mon, process, Pid, _} -> ok end,
    sent(Sent).

-spec sent(reference()) -> boolean().
sent(Sent) ->
    receive
        {Sent, sent} -> true
    after 0 ->
        false
    end.

%% After a timeout the waiter entry is removed and the alias deactivated,
%% so no reply can be sent any more; those sent just before are flushed,
%% so nothing is left in the caller's mailbox. A part does not extend the
%% timeout; an undecodable one ends the wait the same way.
-spec await(reference(), pos_integer(), waiters(), timeout(), fold()) -> {term(), fold()}.
await(Mref, Id, Waiters, Timeout, Fold) ->
    receive
        {Mref, {part, Bin}} when Fold =/= none ->
            Deadline = linx_opts:deadline(Timeout),
            case linx_wire:decode(Bin) of
                {ok, {Id, more, Replies}} when is_list(Replies) ->
                    Fold1 = fold(Replies, Fold, Mref, Id, Waiters),
                    await(Mref, Id, Waiters, linx_opts:remaining(Deadline), Fold1);
                _ ->
                    give_up(Mref, Id, Waiters),
                    {{error, {decode, reply}}, Fold}
            end;
        {Mref, {raw, Bin}} ->
            done(Mref, Fold),
            case linx_wire:decode(Bin) of
                {ok, {Id, Result}} -> {Result, Fold};
                _ -> {{error, {decode, reply}}, Fold}
            end;
        {Mref, {result, Result}} ->
            done(Mref, Fold),
            {Result, Fold};
        {'DOWN', Mref, process, _, Reason} ->
            _ = (catch ets:delete(Waiters, Id)),
            {{error, down_error(Reason)}, Fold}
    after Timeout ->
        give_up(Mref, Id, Waiters),
        {{error, timeout}, Fold}
    end.

%% The fold after one more part. A function that raises ends the wait.
-spec fold([binary()], fold(), reference(), pos_integer(), waiters()) -> fold().
fold(Replies, {Fun, Acc}, Mref, Id, Waiters) ->
    try
        {Fun, Fun(Replies, Acc)}
    catch
        Class:Reason:Stack ->
            give_up(Mref, Id, Waiters),
            erlang:raise(Class, Reason, Stack)
    end.

%% The answer came: an alias that outlasts the first message goes now.
-spec done(reference(), fold()) -> ok.
done(_Mref, none) ->
    ok;
done(Mref, _Fold) ->
    erlang:demonitor(Mref, [flush]),
    ok.

%% Stops waiting for `Id': no reply can come any more, and none is left
%% in the mailbox.
-spec give_up(reference(), pos_integer(), waiters()) -> ok.
give_up(Mref, Id, Waiters) ->
    _ = (catch ets:delete(Waiters, Id)),
    erlang:demonitor(Mref, [flush]),
    flush(Mref).

-spec flush(reference()) -> ok.
flush(Mref) ->
    receive
        {Mref, _} -> flush(Mref)
    after 0 ->
        ok
    end.

%% Look for a message (the reply, most likely) for up to `spin_us'
%% microseconds, or the timeout if shorter, yielding between looks.
%% Only while few callers wait (no more than there are schedulers): with
%% more, the program is the bottleneck and needs the CPU more than a
%% caller does, and replies keep the schedulers busy anyway.
-spec spin(non_neg_integer(), timeout(), waiters()) -> ok.
spin(0, _Timeout, _Waiters) ->
    ok;
spin(_Us, 0, _Waiters) ->
    ok;
spin(Us, Timeout, Waiters) ->
    case ets:info(Waiters, size) =< erlang:system_info(schedulers_online) of
        true ->
            Limit = case Timeout of
                        infinity -> Us;
                        _ -> min(Us, Timeout * 1000)
                    end,
            spin_until(erlang:monotonic_time(microsecond) + Limit);
        false ->
            ok
    end.

-spec spin_until(integer()) -> ok.
spin_until(Until) ->
    case erlang:process_info(self(), message_queue_len) of
        {message_queue_len, 0} ->
            case erlang:monotonic_time(microsecond) < Until of
                true ->
                    erlang:yield(),
                    spin_until(Until);
                false ->
                    ok
            end;
        _ ->
            ok
    end.

-spec down_error(term()) -> term().
down_error({shutdown, {port_hung, Ms}}) -> {port_hung, Ms};
down_error({shutdown, {port_exited, Status}}) -> {port_exited, Status};
down_error(noproc) -> {port_exited, not_running};
down_error(Reason) -> {port_exited, Reason}.
