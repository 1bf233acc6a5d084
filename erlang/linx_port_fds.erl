%% @doc Pairs the two halves of a socket request the `linx_port' server
%% sent ({@link linx_port_frames}): the `{ok, fd}' reply frame and the descriptor that travels on the fd
%% channel. They arrive in either order; whichever comes first is kept in
%% a map of halves until the other one comes.
%%
%% A descriptor is handed to its caller only when both halves are here. It
%% is closed instead when the caller is gone or its timeout has passed,
%% when the reply is an error, or when no request waits for it. A
%% descriptor lost on the way (`{dropped, Reason}': this node had no
%% descriptor free) answers its caller with `{error, {adopt, Reason}}'.
-module(linx_port_fds).

-export([descriptor/4, reply/5]).
-export([drop/2, close_all/1]).

-export_type([halves/0, arrived/0, waiter/0]).

-type arrived() :: integer() | {dropped, emfile | no_descriptor}.
%% What the fd channel brought for a request: a descriptor of this node,
%% or word that it was lost.

-type halves() :: #{pos_integer() => parked | arrived()}.
%% Per request id: `parked' (its `{ok, fd}' reply waits for the
%% descriptor) or what arrived on the channel (waiting for the reply).

-type waiter() :: {fd, gen_server:from(), linx_fdchan:mode(), integer() | infinity}.
%% A caller waiting for a descriptor, until its deadline.

-type pending() :: #{pos_integer() => term()}.

%% @doc What the fd channel brought for request `Id'. Returns the pending
%% requests and the halves, updated.
-spec descriptor(pos_integer(), arrived(), pending(), halves()) -> {pending(), halves()}.
descriptor(Id, Arrived, Pending, Halves) ->
    case {Pending, Halves} of
        {#{Id := {fd, _, _, _} = Waiter}, #{Id := parked}} ->
            deliver(Waiter, Arrived),
            {maps:remove(Id, Pending), maps:remove(Id, Halves)};
        {#{Id := {fd, _, _, _}}, _} ->
            {Pending, Halves#{Id => Arrived}};
        _ ->
            %% Its caller died or gave up, and linx_port dropped it.
            close(Arrived),
            {Pending, Halves}
    end.

%% @doc The reply `Result' to socket request `Id' of `Waiter', already
%% taken out of `Pending' (leaving `Rest'). `{ok, fd}' completes with the
%% descriptor if it is here, or parks; anything else is the answer, and a
%% descriptor that came for it anyway is closed.
-spec reply(pos_integer(), term(), waiter(), {pending(), pending()}, halves()) ->
          {pending(), halves()}.
reply(Id, {ok, fd}, Waiter, {Pending, Rest}, Halves) ->
    case maps:take(Id, Halves) of
        {parked, _} ->
            %% A second reply for the same id: not from the program.
            {Pending, Halves};
        {Arrived, Halves1} ->
            deliver(Waiter, Arrived),
            {Rest, Halves1};
        error ->
            {Pending, Halves#{Id => parked}}
    end;
reply(Id, Result, {fd, From, _, _}, {_Pending, Rest}, Halves) ->
    Answer = case Result of
                 {error, _} -> Result;
                 _ -> {error, {unexpected_reply, Result}}
             end,
    gen_server:reply(From, Answer),
    {Rest, drop([Id], Halves)}.

%% @doc Forgets the halves of requests `Ids', closing their descriptors.
-spec drop([pos_integer()], halves()) -> halves().
drop(Ids, Halves) ->
    lists:foreach(fun(Id) -> close(maps:get(Id, Halves, parked)) end, Ids),
    maps:without(Ids, Halves).

%% @doc Closes every descriptor still held.
-spec close_all(halves()) -> ok.
close_all(Halves) ->
    maps:foreach(fun(_Id, Half) -> close(Half) end, Halves).

%%====================================================================
%% Internal functions
%%====================================================================

%% Both halves are here: hand the descriptor over, or close it when nobody
%% can take it any more.
-spec deliver(waiter(), arrived()) -> ok.
deliver({fd, From, _Mode, _Deadline}, {dropped, Reason}) ->
    gen_server:reply(From, {error, {adopt, Reason}});
deliver({fd, {Caller, _} = From, Mode, Deadline}, Fd) ->
    Late = Deadline =/= infinity andalso erlang:monotonic_time(millisecond) > Deadline,
    case Late orelse not is_process_alive(Caller) of
        true -> linx_fdchan:close_raw(Fd);
        false -> gen_server:reply(From, linx_fdchan:adopt(Fd, Mode, Caller))
    end.

-spec close(parked | arrived()) -> ok.
close(Fd) when is_integer(Fd) -> linx_fdchan:close_raw(Fd);
close(_) -> ok.
