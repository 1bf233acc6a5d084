%% @doc Faults under load: the port killed again and again while callers
%% keep calling, and target processes that exit while requests for them
%% are in flight. Nobody hangs, the node survives, answers stay right and
%% no descriptor is left behind.
-module(linx_faults_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, suite/0, init_per_suite/1, end_per_suite/1]).
-export([kill_every_two_seconds_under_load/1, targets_exiting_mid_request/1]).

suite() ->
    [{timetrap, {minutes, 3}}].

all() ->
    [kill_every_two_seconds_under_load, targets_exiting_mid_request].

init_per_suite(Config) ->
    case linx_ct_ns:start_with_netns("linx-flt", Config) of
        {skip, _} = Skip ->
            Skip;
        Config1 ->
            Ns = ?config(netns, Config1),
            linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=4242"]),
            Config1
    end.

end_per_suite(Config) ->
    linx_ct_ns:stop_with_netns(Config).

-define(CALLERS, 64).
-define(RUN_MS, 30000).
-define(KILL_EVERY_MS, 2000).
-define(CALL_TIMEOUT, 1000).

%% 64 callers for 30 s while the port is killed with SIGKILL every 2 s:
%% every call returns within its timeout + 1 s, successful reads are
%% correct, the port keeps coming back, and the node's descriptors end
%% where they started.
kill_every_two_seconds_under_load(Config) ->
    In = #{in => {netns, list_to_binary(?config(netns, Config))}, timeout => ?CALL_TIMEOUT},
    FdsBefore = descriptors(),
    Self = self(),
    Stop = erlang:monotonic_time(millisecond) + ?RUN_MS,
    Callers = [spawn_link(fun() -> Self ! {caller, self(), call_loop(In, Stop, #{})} end)
               || _ <- lists:seq(1, ?CALLERS)],
    Kills = kill_loop(Stop, 0),
    Stats = [receive {caller, C, S} -> S end || C <- Callers],
    Total = lists:foldl(fun(S, Acc) -> maps:merge_with(fun(_, A, B) -> A + B end, S, Acc) end,
                        #{}, Stats),
    ct:pal("~b kills; results: ~p", [Kills, Total]),
    true = Kills >= 10,
    0 = maps:get(wrong, Total, 0),
    0 = maps:get(slow, Total, 0),
    0 = maps:get(other, Total, 0),
    true = maps:get(ok, Total, 0) > 1000,
    %% The port is back and right.
    ok = linx_ct_ns:wait_until(fun() -> linx_sysctl:read_int("net.core.somaxconn", In) =:= {ok, 4242} end, 10000),
    ok = linx_ct_ns:wait_until(fun() -> descriptors() =< FdsBefore end, 10000).

call_loop(In, Stop, Acc) ->
    case erlang:monotonic_time(millisecond) >= Stop of
        true ->
            Acc;
        false ->
            T0 = erlang:monotonic_time(millisecond),
            R = linx_sysctl:read_int("net.core.somaxconn", In),
            Took = erlang:monotonic_time(millisecond) - T0,
            Kind = case R of
                       _ when Took > ?CALL_TIMEOUT + 1000 -> slow;
                       {ok, 4242} -> ok;
                       {ok, _} -> wrong;
                       {error, #{reason := {port_exited, _}}} -> port_exited;
                       {error, #{reason := not_running}} -> not_running;
                       {error, #{reason := timeout}} -> timeout;
                       _ -> other
                   end,
            case Kind of
                other -> ct:pal("unexpected result ~p", [R]);
                _ -> ok
            end,
            %% Do not spin while the port is being restarted.
            _ = [receive after 1 -> ok end || Kind =:= not_running],
            call_loop(In, Stop, maps:update_with(Kind, fun(N) -> N + 1 end, 1, Acc))
    end.

kill_loop(Stop, Kills) ->
    receive after ?KILL_EVERY_MS -> ok end,
    case erlang:monotonic_time(millisecond) >= Stop of
        true ->
            Kills;
        false ->
            case catch linx_port:os_pid() of
                OsPid when is_integer(OsPid) ->
                    linx_ct_ns:kill(OsPid),
                    kill_loop(Stop, Kills + 1);
                _ ->
                    kill_loop(Stop, Kills)
            end
    end.

%% Requests for processes that exit while the requests are on their way:
%% each gets a value or a clean error (esrch/enoent at open_ns), never a
%% crash or a hang, and the port serves on.
targets_exiting_mid_request(_Config) ->
    Results = lists:append([one_short_lived_target() || _ <- lists:seq(1, 20)]),
    Kinds = lists:usort([classify(R) || R <- Results]),
    ct:pal("kinds seen: ~p", [Kinds]),
    [] = Kinds -- [ok, gone],
    {ok, <<"Linux">>} = linx_sysctl:read("kernel.ostype").

one_short_lived_target() ->
    {ok, Pid} = linx_ct_ns:unshare(["-n"]),
    Self = self(),
    Readers = [spawn_link(fun() ->
                   Self ! {r, self(), [linx_sysctl:read("net.ipv4.ip_forward", #{in => {pid, Pid}, timeout => 5000})
                                      || _ <- lists:seq(1, 20)]}
               end) || _ <- lists:seq(1, 4)],
    linx_ct_ns:kill(Pid),
    lists:append([receive {r, R, Rs} -> Rs end || R <- Readers]).

classify({ok, _}) -> ok;
classify({error, #{stage := open_ns, errno := E}}) when E =:= esrch; E =:= enoent -> gone;
classify(Other) -> Other.

descriptors() ->
    Dir = "/proc/" ++ os:getpid() ++ "/fd/",
    {ok, Fds} = file:list_dir(Dir),
    %% Sockets, pipes and the like; log files Common Test opens are not ours.
    length([F || F <- Fds, {ok, L} <- [file:read_link(Dir ++ F)], hd(L) =/= $/]).

