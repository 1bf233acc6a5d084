%% @doc The liveness watch of the `linx_port' server: finds a port program
%% that stopped reading or answering (stopped, frozen in a cgroup, stuck
%% in the kernel) so that it can be killed and replaced.
%%
%% The server keeps a {@type watch()} and, every tick, hands it to
%% {@link check/4} with how many requests the program owes. The watch
%% reads the program's byte counters (`port_info' input and output),
%% which cost the request path nothing. When requests are owed (some are
%% pending, or were sent since the program last said anything) and the
%% program has sent nothing for `liveness_ms' (app env, default 3000), it
%% sends the program a ping; when that too goes unanswered for
%% `liveness_ms', {@link check/4} says `{hung, Ms}' (`Ms': how long the
%% program had been silent). The server then calls {@link kill/3}, which
%% logs, kills (`SIGKILL') and counts the event (`port_hangs' in
%% {@link linx:stats/0}), and stops as after a crash.
%%
%% The ticks are `watch' messages to the server: a quarter of
%% `liveness_ms', between 10 ms and 1 s apart.
%%
%% The rule, so that a healthy program is never killed:
%% <ul>
%% <li>The watch starts with the server, after the program's ready frame:
%%     the time a program takes to start (under a wrapper such as `sudo',
%%     say) is bounded by the start itself ({@link linx_port_start}),
%%     never by `liveness_ms'.</li>
%% <li>Any byte from the program proves it alive: a reply, a part, a log
%%     line, the answer to this ping or to an older one.</li>
%% <li>Only silence while answers are owed counts: a program that owes
%%     nothing is never pinged.</li>
%% <li>The program answers a ping on the thread that reads its input,
%%     without waiting for the requests before it that went to workers
%%     (all but the short ones that thread serves itself: reads and writes
%%     in the port's own namespaces, `netns' ops), so a program busy with
%%     long requests answers at once.</li>
%% </ul>
%% A call made after the verdict never reaches the hung program: the
%% server, which answers every request it took before it stops, leaves
%% such a call to {@link linx_port}, which answers it `not_running'.
-module(linx_port_watch).

-include_lib("kernel/include/logger.hrl").

-export([start/0, check/4, ping_id/1]).
-export([kill/3]).

-export_type([watch/0]).

%% The default of the app env `liveness_ms'.
-define(LIVENESS_MS, 3000).

-opaque watch() :: #{liveness := pos_integer(),
                     in := non_neg_integer(),
                     out := non_neg_integer(),
                     since := integer(),
                     ping := none | {pos_integer(), integer()}}.
%% What the check saw last: the bytes the program had sent (`in') and
%% been sent (`out'), since when it has been silent, and the ping in
%% flight with the time it was sent; and the limit, `liveness_ms'.

%% @doc A new watch of a program that has just started, and its first
%% tick scheduled: a `watch' message to the calling process.
-spec start() -> watch().
start() ->
    Watch = #{liveness => liveness(), in => 0, out => 0, ping => none,
              since => erlang:monotonic_time(millisecond)},
    schedule(Watch).

%% @doc One tick of the watch of the program behind `Port', which owes
%% `Owed' answers; `Ids' is the request id counter (for a ping). Schedules
%% the next tick. `{hung, Ms}' when the program has been silent for `Ms'
%% milliseconds and left a ping unanswered for `liveness_ms'.
-spec check(port(), atomics:atomics_ref(), non_neg_integer(), watch()) ->
          {ok, watch()} | {hung, non_neg_integer()}.
check(Port, Ids, Owed, #{liveness := Liveness} = Watch0) ->
    Watch = schedule(Watch0),
    Now = erlang:monotonic_time(millisecond),
    #{in := In0, out := Out0, since := Since, ping := Ping} = Watch,
    case {erlang:port_info(Port, input), erlang:port_info(Port, output)} of
        {{input, In}, {output, Out}} when In =/= In0 ->
            %% It spoke: whatever it owed, it is alive.
            {ok, Watch#{in := In, out := Out, since := Now, ping := none}};
        {{input, _}, {output, Out}} ->
            case Ping of
                _ when Out =:= Out0, Owed =:= 0 ->
                    {ok, Watch#{since := Now}};
                none when Now - Since >= Liveness ->
                    {ok, Watch#{ping := {ping(Port, Ids), Now}}};
                {_, Sent} when Now - Sent >= Liveness ->
                    {hung, Now - Since};
                _ ->
                    {ok, Watch}
            end;
        _ ->
            %% The port is closing: its exit message is on its way.
            {ok, Watch}
    end.

%% @doc The id of the ping in flight, whose reply no caller waits for.
-spec ping_id(watch()) -> pos_integer() | none.
ping_id(#{ping := {Id, _Sent}}) -> Id;
ping_id(#{ping := none}) -> none.

%% @doc Kills the program `OsPid', silent for `Silent' ms and not even
%% answering a ping, with `Failed' requests owed; logs and counts it.
-spec kill(non_neg_integer(), non_neg_integer(), non_neg_integer()) -> ok.
kill(OsPid, Silent, Failed) ->
    ?LOG_ERROR("linx_port: port program ~b answered nothing for ~b ms, not even a ping; "
               "killing it (~b request(s) failed)",
               [OsPid, Silent, Failed],
               #{linx_os_pid => OsPid, domain => [linx]}),
    _ = os:cmd("kill -KILL " ++ integer_to_list(OsPid)),
    linx_stats:port_hung().

%%====================================================================
%% Internal functions
%%====================================================================

%% The app env `liveness_ms' (checked by linx_port_args, which passes it to
%% the program).
-spec liveness() -> pos_integer().
liveness() ->
    case application:get_env(linx, liveness_ms, ?LIVENESS_MS) of
        Ms when is_integer(Ms), Ms > 0 -> Ms;
        _ -> ?LIVENESS_MS
    end.

%% Sends the next tick: a quarter of the limit, between 10 ms and 1 s.
-spec schedule(watch()) -> watch().
schedule(#{liveness := Liveness} = Watch) ->
    _ = erlang:send_after(max(10, min(1000, Liveness div 4)), self(), watch),
    Watch.

%% Sends a ping, unless the port is busy (the program does not read: the
%% ping then goes unanswered too). Returns its id.
-spec ping(port(), atomics:atomics_ref()) -> pos_integer().
ping(Port, Ids) ->
    Id = atomics:add_get(Ids, 1, 1),
    {ok, Frame} = linx_wire:encode(Id, {ping, liveness}),
    _ = (catch port_command(Port, Frame, [nosuspend])),
    Id.
