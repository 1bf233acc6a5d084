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
%% Accepts both `{error, Reason}' and the bare `Reason', from any linx
%% module: the module that returns an error renders it (its own
%% `format_error/1': {@link linx_sysctl:format_error/1},
%% {@link linx_netlink:format_error/1}, {@link linx_nl:format_error/1} for
%% netlink errors (`stage => netlink'), {@link linx_rtnl:format_error/1}), and the errors they share are
%% rendered by {@link linx_error:format_error/1}. Error maps from
%% {@link linx_sysctl} are rendered as
%% `sysctl Op "Key" failed on Path: [Stage ]Errno (errno Code)', where
%% `Stage' is shown only when it differs from the operation. Error maps
%% from {@link linx_netlink} are rendered as
%% `netlink open Protocol[ in Target] failed: Stage Errno (errno Code)' and
%% `socket open Domain Type Protocol[ in Target] failed: Stage Errno
%% (errno Code)'. An errno atom on its own is shown with its number. Other
%% reasons get a sentence of their own; anything unknown is printed as a
%% term.
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error(Reason) ->
    (owner(Reason)):format_error(Reason).

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

%%====================================================================
%% Internal functions
%%====================================================================

%% The module whose format_error/1 renders an error.
-spec owner(term()) -> linx_sysctl | linx_netlink | linx_netns | linx_nl | linx_rtnl | linx_genl
                      | linx_error.
owner(#{stage := netlink}) ->
    linx_nl;
owner({malformed, _}) ->
    linx_nl;
owner({Tag, _}) when Tag =:= bad_ifname; Tag =:= bad_link; Tag =:= bad_address;
                     Tag =:= bad_prefix; Tag =:= bad_addr; Tag =:= bad_route; Tag =:= bad_neigh;
                     Tag =:= bad_spec; Tag =:= bad_change; Tag =:= bad_netns ->
    linx_rtnl;
owner(#{failed := _, reason := _, rolled_back := _}) ->
    linx_sysctl;
owner(#{op := Op, key := _, path := Path, stage := Stage, errno := _, code := _})
  when is_atom(Op), is_atom(Stage), is_binary(Path) ->
    linx_sysctl;
owner(#{op := Op}) when Op =:= netlink_open; Op =:= netlink_call; Op =:= socket_open ->
    linx_netlink;
owner(#{op := Op, protocol := _}) when is_atom(Op) ->
    %% The netlink call of an op of linx_rtnl or linx_genl.
    linx_netlink;
owner(#{op := Op}) when Op =:= netns_add; Op =:= netns_del; Op =:= netns_list;
                        Op =:= netns_identify; Op =:= netns_new; Op =:= netns_release ->
    linx_netns;
owner({bad_name, _}) ->
    linx_netns;
owner({Tag, _}) when Tag =:= bad_family; Tag =:= bad_command; Tag =:= bad_attrs ->
    linx_genl;
owner({Tag, _}) when Tag =:= bad_key; Tag =:= bad_value; Tag =:= unsupported_type;
                     Tag =:= not_integer; Tag =:= bad_settings ->
    linx_sysctl;
owner({Tag, _}) when Tag =:= bad_protocol; Tag =:= bad_groups; Tag =:= bad_group;
                     Tag =:= bad_rcvbuf; Tag =:= bad_domain; Tag =:= bad_type;
                     Tag =:= bad_fd ->
    linx_netlink;
owner(_) ->
    linx_error.
