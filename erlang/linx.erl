%% @doc Helpers shared by the linx API modules.
%% Guide: docs/failures.md in the source tree.
%%
%% {@link format_error/1} turns any error returned by {@link linx_sysctl},
%% {@link linx_netlink} (or {@link linx_port}) into one readable line:
%% ```
%% {error, E} = linx_sysctl:write(<<"net.ipv4.ip_forward">>, 1),
%% io:format("~ts~n", [linx:format_error(E)]).
%% '''
%% prints
%% ```
%% sysctl write "net.ipv4.ip_forward" failed on
%%     /proc/sys/net/ipv4/ip_forward: eacces (errno 13)
%% '''
%% (on one line).
%% {@link errno_code/1} maps the errno atoms used on the wire to their Linux
%% numbers, and {@link version/0} reports the version of the running port
%% program.
-module(linx).

-export([format_error/1, errno_code/1, version/0, stats/0]).

%% @doc Renders an error as one line of text (a flat binary, no newline).
%%
%% Accepts both `{error, Reason}' and the bare `Reason'. Every error a
%% public function of linx returns names its owner: the key `module' is
%% the module whose `format_error/1' renders it, and the key `function'
%% the public function that was called, which the line names (see
%% {@link linx_error:owned/3}). Error maps from {@link linx_sysctl} are
%% rendered as `sysctl Op "Key" failed on Path: [Stage ]Errno (errno
%% Code)', netlink errors as `netlink Op[ in Target] failed: Errno (errno
%% Code): Message'; a bad argument as `Module:Function: invalid ...'. A
%% reason without an owner is rendered by {@link linx_error:format_error/1}
%% (the errors every module shares, an errno atom with its number, or
%% the term).
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error(#{module := Module} = Reason) when is_atom(Module) ->
    Module:format_error(Reason);
format_error(Reason) ->
    linx_error:format_error(Reason).

%% @doc Returns the Linux errno number of an errno atom (`eacces' is 13).
%% Every Linux errno name is known, with the aliases `ewouldblock',
%% `edeadlock' and `enotsup'; anything else gives 0.
-spec errno_code(atom()) -> non_neg_integer().
errno_code(Errno) ->
    linx_error:errno_code(Errno).

%% @doc What linx has done so far: requests and p50/p99 latency (µs, upper
%% bound of the log-linear bucket that holds it: exact below 32 µs, at
%% most 6.25% high above) per op, errors by `{Stage, Reason}',
%% port restarts, and the port program's own counters (`port': requests,
%% workers and helpers alive and started, uptime). Counts survive port
%% restarts; the port's own start over with it.
-spec stats() -> map().
stats() ->
    Local = linx_stats:snapshot(),
    Port = case linx_port:request(stats, 1000) of
               {ok, P} when is_map(P) -> P;
               {error, _} = E -> E
           end,
    Alive = case Port of
                #{workers := W, helpers := H} -> #{workers => W, helpers => H};
                _ -> #{}
            end,
    maps:merge(Local#{port => Port}, Alive).

%% @doc Returns the version string reported by the running port program
%% in its ready frame. Exits when the port server is not running.
-spec version() -> binary().
version() ->
    #{version := Version} = linx_port:info(),
    Version.
