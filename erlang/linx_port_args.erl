%% @doc The command line that starts the port program.
%%
%% Built at each start of {@link linx_port} from the application
%% environment of `linx' (defaults in `linx.app.src'). The fd channel's
%% name comes first, as `--fd-socket Name'.
%% <ul>
%% <li>`port_executable': path of the program (default `default': the
%%     program named by the OS environment variable `LINX_PORT' if set,
%%     else the `priv/linx_port' of the application). Point it at the
%%     program `make install' installed for an unprivileged node.</li>
%% <li>`port_args': list of arguments passed to it (default `[]').</li>
%% <li>`exec': a wrapper that starts the program, as a string or a list of
%%     strings, e.g. `"sudo -n"' for a node that runs unprivileged (default
%%     `[]', none). The program then runs as a child of the wrapper: the fd
%%     channel accepts a peer whose pid is the port's OS pid or one of its
%%     descendants, and that presents the start token written on the
%%     program's stdin (see {@link linx_fdchan}).</li>
%% <li>`policy': a map limiting what callers may do, enforced inside the
%%     program (it is passed on its command line at start and cannot be
%%     changed through the port; default `#{}', no limit): `ops' (a list of
%%     `sysctl_read', `sysctl_write', `sysctl_list', `netlink_open',
%%     `socket_open', `netlink_call', `batch', `netlink_bind_fd', ...), `targets' (a list of `self',
%%     `ns', `pid', `netns') and `write_prefixes' (keys under which writes
%%     are allowed, in dot or slash form). A refused request gets
%%     `{error, {policy, op | target | path}}'.</li>
%% <li>`spin_us': how long, in microseconds, the program's reader (and
%%     one worker) keep looking for the next request after one, while
%%     requests keep coming, before they sleep (default `default', the
%%     program's own: 50). Waking a sleeping thread costs 10-25 us, which
%%     spinning saves; an idle port never spins. `0' turns it off. A
%%     caller on the direct path likewise looks for its reply for up to as
%%     long (yielding to every other process in between) before it
%%     sleeps in `receive' ({@link caller_spin_us/0}).</li>
%% <li>`liveness_ms': how long a program (or one of its namespace
%%     helpers) that owes answers may stay silent before it is pinged, and
%%     the ping unanswered before it is killed and replaced (default
%%     3000); see {@link linx_port}. Passed as `--liveness-ms'.</li>
%% </ul>
-module(linx_port_args).

-export([command/1]).
-export([policy_args/1]).
-export([spin_args/1, caller_spin_us/0]).
-export([liveness_args/1]).

%% The program's own default spin time (src/ns/executor.rs, DEFAULT_SPIN).
-define(DEFAULT_SPIN_US, 50).
%% What `spin_us' may be (the program's --spin-us range).
-define(IS_SPIN_US(Us), (is_integer(Us) andalso Us >= 0 andalso Us =< 1000000)).

%% @doc The executable to run, its arguments and the port program's own
%% path (which the fd channel's peer check compares with).
-spec command(binary()) ->
          {ok, file:filename_all(), [string() | binary()], file:filename_all()}
        | {error, term()}.
command(FdName) ->
    Parts = [executable(),
             policy_args(application:get_env(linx, policy, #{})),
             spin_args(application:get_env(linx, spin_us, default)),
             liveness_args(application:get_env(linx, liveness_ms, 3000))],
    case linx_error:map_ok(fun(Part) -> Part end, Parts) of
        {ok, [Program, PolicyArgs, SpinArgs, LivenessArgs]} ->
            Args = ["--fd-socket", FdName | PolicyArgs ++ SpinArgs ++ LivenessArgs
                    ++ application:get_env(linx, port_args, [])],
            {Path, AllArgs} = wrap(application:get_env(linx, exec, []), Program, Args),
            {ok, Path, AllArgs, Program};
        {error, _} = Error ->
            Error
    end.

%% @doc How long, in microseconds, a caller looks for its reply before it
%% sleeps: `spin_us' (its default 50; 0 when it is not a valid value,
%% which the program's start refuses anyway).
%%
%% Why: the BEAM's schedulers go to sleep once they run out of work, and
%% a reply that arrives later than about a microsecond after that has to
%% wake one through the I/O poll thread, which costs 10-15 us here. A
%% caller that stays runnable, yielding, keeps its scheduler awake and
%% polling, so a reply that takes the port a few microseconds reaches it
%% at once. It yields between looks, so every other process runs first.
-spec caller_spin_us() -> non_neg_integer().
caller_spin_us() ->
    case application:get_env(linx, spin_us, default) of
        default -> ?DEFAULT_SPIN_US;
        Us when ?IS_SPIN_US(Us) -> Us;
        _ -> 0
    end.

%% @doc `liveness_ms' as command-line arguments: a positive number of
%% milliseconds, at most 16#FFFFFFFF.
-spec liveness_args(term()) -> {ok, [string()]} | {error, {bad_liveness_ms, term()}}.
liveness_args(Ms) when is_integer(Ms), Ms > 0, Ms =< 16#FFFFFFFF ->
    {ok, ["--liveness-ms", integer_to_list(Ms)]};
liveness_args(Other) ->
    {error, {bad_liveness_ms, Other}}.

%% @doc `spin_us' as command-line arguments: `default' leaves the
%% program's own default, an integer 0..1000000 sets it (0: never spin).
-spec spin_args(term()) -> {ok, [string()]} | {error, {bad_spin_us, term()}}.
spin_args(default) ->
    {ok, []};
spin_args(Us) when ?IS_SPIN_US(Us) ->
    {ok, ["--spin-us", integer_to_list(Us)]};
spin_args(Other) ->
    {error, {bad_spin_us, Other}}.

%% @doc The policy as command-line arguments of the program: `ops' and
%% `targets' (lists of atoms) and `write_prefixes' (sysctl keys in dot or
%% slash form; an empty list allows no write at all). Anything else is
%% `{error, {bad_policy, Policy}}'.
-spec policy_args(term()) -> {ok, [string()]} | {error, {bad_policy, term()}}.
policy_args(Policy) when is_map(Policy) ->
    try
        Ops = [["--allow-ops", join_atoms(maps:get(ops, Policy))] || is_map_key(ops, Policy)],
        Targets = [["--allow-targets", join_atoms(maps:get(targets, Policy))]
                   || is_map_key(targets, Policy)],
        Prefixes = [["--allow-write-prefix", binary_to_list(prefix_path(K))]
                    || K <- maps:get(write_prefixes, Policy, [])],
        NoWrites = [["--no-writes"] || maps:get(write_prefixes, Policy, none) =:= []],
        [] = maps:keys(maps:without([ops, targets, write_prefixes], Policy)),
        {ok, lists:append(Ops ++ Targets ++ Prefixes ++ NoWrites)}
    catch
        _:_ -> {error, {bad_policy, Policy}}
    end;
policy_args(Policy) ->
    {error, {bad_policy, Policy}}.

%%====================================================================
%% Internal functions
%%====================================================================

-spec executable() -> {ok, file:filename_all()} | {error, term()}.
executable() ->
    case {application:get_env(linx, port_executable), os:getenv("LINX_PORT", "")} of
        {{ok, Path}, _} when Path =/= default ->
            {ok, Path};
        {_, [_ | _] = Path} ->
            {ok, Path};
        _ ->
            case code:priv_dir(linx) of
                {error, Reason} ->
                    {error, {priv_dir, Reason}};
                Dir ->
                    {ok, filename:join(Dir, "linx_port")}
            end
    end.

-spec join_atoms([atom()]) -> string().
join_atoms(Atoms) when is_list(Atoms) ->
    lists:join($,, [atom_to_list(A) || A <- Atoms, is_atom(A)]).

-spec prefix_path(term()) -> binary().
prefix_path(Key) ->
    {ok, Path} = linx_sysctl_syntax:key_to_path(Key),
    Path.

%% The command to run: the program itself, or the wrapper with the program
%% as its first argument.
-spec wrap(string() | [string()], file:filename_all(), [string() | binary()]) ->
          {file:filename_all(), [string() | binary()]}.
wrap([], Program, Args) ->
    {Program, Args};
wrap([C | _] = Command, Program, Args) when is_integer(C) ->
    wrap(string:lexemes(Command, " "), Program, Args);
wrap([Wrapper | WrapperArgs], Program, Args) ->
    Path = case os:find_executable(Wrapper) of
               false -> Wrapper;
               Found -> Found
           end,
    {Path, WrapperArgs ++ [Program | Args]}.
