%% @doc The linx OTP application.
%%
%% Starting the application starts {@link linx_sup}, which runs the
%% {@link linx_port} server and through it the `linx_port' program.
-module(linx_app).
-behaviour(application).

-export([start/2]).
-export([stop/1]).

-spec start(application:start_type(), term()) -> {ok, pid()} | {error, term()}.
start(_StartType, _StartArgs) ->
    linx_sup:start_link().

-spec stop(term()) -> ok.
stop(_State) ->
    ok.
