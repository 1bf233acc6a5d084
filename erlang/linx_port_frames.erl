%% @doc What the `linx_port' server receives from the port program, and
%% the table of the requests it sent itself, which those messages answer.
%%
%% The server sends a request itself when a caller's request came as a
%% `gen_server' call (while the server was starting, or for a socket); it
%% keeps the caller in a {@type table()} under the request's id until the
%% answer comes:
%% <ul>
%% <li>Frames ({@link frame/4}): a reply or part of a caller on the direct
%%     path is routed to it by id without being decoded
%%     ({@link linx_port_route}); any other frame is decoded here. A reply
%%     answers its caller in the table, with the replies of the parts
%%     that came ahead of it; the reply of the liveness ping
%%     ({@link linx_port_watch}) and one whose caller gave up answer
%%     nobody. Id-0 frames are the program's log lines (to the OTP logger,
%%     with metadata `#{linx_os_pid => OsPid}') or notices (logged). A
%%     frame that cannot be decoded but whose id can still be read answers
%%     its caller with `{error, {decode, reply}}'.</li>
%% <li>Descriptors ({@link descriptors/2}): what arrives on the fd channel
%%     ({@link linx_fdchan}), paired with its `{ok, fd}' reply by
%%     {@link linx_port_fds}.</li>
%% <li>Nothing stays pending ({@link sweep/1}): the requests of callers
%%     that died, and those whose caller's timeout has passed, are
%%     dropped.</li>
%% <li>When the program is gone, every caller still waiting, on either
%%     path, gets the same error ({@link fail_all/3}).</li>
%% </ul>
-module(linx_port_frames).

-include_lib("kernel/include/logger.hrl").

-export([new/0, add/3]).
-export([frame/4, descriptors/2]).
-export([sweep/1, fail_all/3, close_all/1]).
-export([owed/2, parked/1]).

-export_type([table/0, waiter/0, context/0]).

-record(table, {
    pending = #{} :: #{pos_integer() => waiter()},
    %% replies that came in parts ahead of a pending request's reply,
    %% newest part first
    parts = #{} :: #{pos_integer() => [[binary()]]},
    %% socket requests of which one half (reply or descriptor) is here
    halves = #{} :: linx_port_fds:halves()
}).

-opaque table() :: #table{}.
%% The requests the server sent itself, by id, and what came for them so
%% far.

-type waiter() :: {reply, gen_server:from(), linx_opts:deadline()}
                | linx_port_fds:waiter().
%% A caller waiting for a reply, or for a descriptor, until its deadline.

-type context() :: #{os_pid := non_neg_integer(), ping := pos_integer() | none}.
%% What a frame is read with: the program's OS pid (for its log lines)
%% and the id of the liveness ping in flight.

%% @doc A table with no request in it.
-spec new() -> table().
new() ->
    #table{}.

%% @doc Request `Id', sent for `Waiter'.
-spec add(pos_integer(), waiter(), table()) -> table().
add(Id, Waiter, #table{pending = Pending} = Table) ->
    Table#table{pending = Pending#{Id => Waiter}}.

%% @doc Takes frame `Bin' from the program: routed to its caller on the
%% direct path (one of `Waiters'), or else read here.
-spec frame(binary(), linx_port_route:waiters(), context(), table()) -> table().
frame(Bin, Waiters, Context, Table) ->
    case linx_wire:frame_id(Bin) of
        {Kind, Id} when Id > 0 ->
            case linx_port_route:route_frame(Kind, Waiters, Id, Bin) of
                true -> Table;
                false -> decoded(Bin, Context, Table)
            end;
        _ ->
            decoded(Bin, Context, Table)
    end.

%% @doc Takes every descriptor waiting on the fd channel `Sock', then
%% re-arms the select. A broken channel is an error.
-spec descriptors(socket:socket(), table()) -> {ok, table()} | {error, term(), table()}.
descriptors(Sock, Table) ->
    case linx_fdchan:recv(Sock, nowait) of
        {ok, <<Id:64/big>>, [Fd | Extra]} ->
            lists:foreach(fun linx_fdchan:close_raw/1, Extra),
            descriptors(Sock, arrived(Id, Fd, Table));
        {dropped, <<Id:64/big>>, Reason} ->
            ?LOG_WARNING("linx_port: the descriptor for request ~b was lost on the "
                         "fd channel (~0tp)", [Id, Reason]),
            descriptors(Sock, arrived(Id, {dropped, Reason}, Table));
        {dropped, <<>>, _} ->
            {error, closed, Table};
        {dropped, Other, _} ->
            ?LOG_ERROR("linx_port: malformed fd channel message ~0tP", [Other, 10]),
            descriptors(Sock, Table);
        {ok, Other, Fds} ->
            ?LOG_ERROR("linx_port: malformed fd channel message ~0tP", [Other, 10]),
            lists:foreach(fun linx_fdchan:close_raw/1, Fds),
            descriptors(Sock, Table);
        {select, _} ->
            {ok, Table};
        {error, Reason} ->
            {error, Reason, Table}
    end.

%% @doc Drops the requests whose caller died or whose timeout has passed
%% (closing a descriptor that came for one): their replies, if they still
%% come, go nowhere.
-spec sweep(table()) -> table().
sweep(#table{pending = Pending, parts = Parts, halves = Halves}) ->
    Now = erlang:monotonic_time(millisecond),
    Gone = [Id || {Id, Waiter} <- maps:to_list(Pending), abandoned(Waiter, Now)],
    #table{pending = maps:without(Gone, Pending),
           parts = maps:without(Gone, Parts),
           halves = linx_port_fds:drop(Gone, Halves)}.

%% @doc Answers every caller still waiting, on the direct path (one of
%% `Waiters', whose route is withdrawn) and in the table, with `Error':
%% the program is gone.
-spec fail_all({error, term()}, linx_port_route:waiters(), table()) -> table().
fail_all(Error, Waiters, #table{pending = Pending} = Table) ->
    ok = linx_port_route:fail_all(Waiters, Error),
    maps:foreach(fun(_Id, Waiter) -> gen_server:reply(from(Waiter), Error) end, Pending),
    Table#table{pending = #{}}.

%% @doc Closes every descriptor the table still holds.
-spec close_all(table()) -> ok.
close_all(#table{halves = Halves}) ->
    linx_port_fds:close_all(Halves).

%% @doc How many requests the program owes an answer, on the direct path
%% (`Waiters') and in the table.
-spec owed(linx_port_route:waiters(), table()) -> non_neg_integer().
owed(Waiters, #table{pending = Pending}) ->
    map_size(Pending) + linx_port_route:waiting(Waiters).

%% @doc How many socket requests have one half here (a reply waiting for
%% its descriptor, or a descriptor waiting for its reply).
-spec parked(table()) -> non_neg_integer().
parked(#table{halves = Halves}) ->
    map_size(Halves).

%%====================================================================
%% Internal functions
%%====================================================================

-spec decoded(binary(), context(), table()) -> table().
decoded(Bin, Context, #table{pending = Pending, parts = Parts} = Table) ->
    case linx_wire:decode(Bin) of
        {ok, {Id, more, Replies}} when is_integer(Id), Id > 0, is_list(Replies) ->
            %% A part of the reply of a request the server sent: kept for
            %% its reply (one whose caller is gone is dropped).
            case is_map_key(Id, Pending) of
                true -> Table#table{parts = Parts#{Id => [Replies | maps:get(Id, Parts, [])]}};
                false -> Table
            end;
        {ok, {Id, Result}} when is_integer(Id), Id > 0 ->
            {Taken, Parts1} = case maps:take(Id, Parts) of
                                  {T, P} -> {T, P};
                                  error -> {[], Parts}
                              end,
            answer(Id, linx_port_route:with_parts(Result, Taken), Context,
                   Table#table{parts = Parts1});
        {ok, {0, {log, Level, Text}}} when is_atom(Level), is_binary(Text) ->
            #{os_pid := OsPid} = Context,
            logger:log(log_level(Level), "linx_port[~b]: ~ts", [OsPid, Text],
                       #{linx_os_pid => OsPid, domain => [linx]}),
            Table;
        {ok, {0, Msg}} ->
            ?LOG_WARNING("linx_port: message from port program: ~0tP",
                         [Msg, 30]),
            Table;
        {ok, Other} ->
            ?LOG_ERROR("linx_port: malformed frame from port program: ~0tP",
                       [Other, 30]),
            Table;
        error ->
            undecodable(Bin, Table)
    end.

%% The reply `Result' to request `Id': to its caller, if one waits.
-spec answer(pos_integer(), term(), context(), table()) -> table().
answer(Id, Result, Context, #table{pending = Pending, halves = Halves} = Table) ->
    case maps:take(Id, Pending) of
        {{fd, _, _, _} = Waiter, Rest} ->
            {Pending1, Halves1} = linx_port_fds:reply(Id, Result, Waiter, {Pending, Rest}, Halves),
            Table#table{pending = Pending1, halves = Halves1};
        {{reply, From, _}, Rest} ->
            gen_server:reply(From, Result),
            Table#table{pending = Rest};
        error ->
            case Context of
                #{ping := Id} ->
                    %% The liveness ping: its coming is what counts.
                    ok;
                _ ->
                    %% A caller that timed out is no longer waiting.
                    ?LOG_DEBUG("linx_port: reply for unknown id ~b: ~0tP",
                               [Id, Result, 30])
            end,
            Table
    end.

%% A frame `[safe]' refused (typically an atom unknown to this node). If the
%% id can still be read, its caller gets an error instead of a timeout.
-spec undecodable(binary(), table()) -> table().
undecodable(Bin, #table{pending = Pending, parts = Parts, halves = Halves} = Table) ->
    ?LOG_ERROR("linx_port: undecodable frame of ~b bytes from port program",
               [byte_size(Bin)]),
    case linx_wire:frame_id(Bin) of
        %% A lost part too: the reply would lack its replies.
        {_, Id} when is_map_key(Id, Pending) ->
            {Waiter, Rest} = maps:take(Id, Pending),
            gen_server:reply(from(Waiter), {error, {decode, reply}}),
            Table#table{pending = Rest, parts = maps:remove(Id, Parts),
                        halves = linx_port_fds:drop([Id], Halves)};
        _ ->
            Table
    end.

-spec arrived(pos_integer(), linx_port_fds:arrived(), table()) -> table().
arrived(Id, Arrived, #table{pending = Pending, halves = Halves} = Table) ->
    {Pending1, Halves1} = linx_port_fds:descriptor(Id, Arrived, Pending, Halves),
    Table#table{pending = Pending1, halves = Halves1}.

-spec abandoned(waiter(), integer()) -> boolean().
abandoned(Waiter, Now) ->
    {Caller, _} = from(Waiter),
    passed(deadline(Waiter), Now) orelse not is_process_alive(Caller).

-spec from(waiter()) -> gen_server:from().
from({reply, From, _}) -> From;
from({fd, From, _, _}) -> From.

-spec deadline(waiter()) -> linx_opts:deadline().
deadline({reply, _, Deadline}) -> Deadline;
deadline({fd, _, _, Deadline}) -> Deadline.

-spec passed(linx_opts:deadline(), integer()) -> boolean().
passed(infinity, _Now) -> false;
passed(Deadline, Now) -> Now > Deadline.

-spec log_level(atom()) -> logger:level().
log_level(L) when L =:= error; L =:= warning; L =:= notice; L =:= info; L =:= debug -> L;
log_level(_) -> notice.
