%% @doc Top supervisor of the linx application.
%%
%% Supervises {@link linx_stats} (counters that outlive port restarts),
%% {@link linx_port} (child `linx_port', whose `gen_server' is
%% {@link linx_port_server}) and {@link linx_netns} (who owns the
%% namespaces with no name the port holds, which outlives port restarts to
%% tell the owners). The restart intensity (10 restarts in 5 seconds) lets
%% the port program be killed every couple of seconds and still come back
%% without taking the application down.
-module(linx_sup).
-behaviour(supervisor).

-export([start_link/0]).
-export([init/1]).

-spec start_link() -> supervisor:startlink_ret().
start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

-spec init([]) -> {ok, {supervisor:sup_flags(), [supervisor:child_spec()]}}.
init([]) ->
    SupFlags = #{strategy => one_for_one,
                 intensity => 10,
                 period => 5},
    {ok, {SupFlags, [worker(linx_stats, linx_stats),
                     worker(linx_port, linx_port_server),
                     worker(linx_netns, linx_netns)]}}.

%% A permanent worker `Id' started with Id:start_link(), whose callback
%% module is `Module'.
-spec worker(atom(), module()) -> supervisor:child_spec().
worker(Id, Module) ->
    #{id => Id,
      start => {Id, start_link, []},
      restart => permanent,
      shutdown => 5000,
      type => worker,
      modules => [Module]}.
