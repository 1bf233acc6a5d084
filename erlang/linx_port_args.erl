%% @doc The command line that starts the port program.
%%
%% Built from the application environment of `linx' (see `linx.app.src'):
%% `port_executable' (default `priv/linx_port'), `exec' (a wrapper such as
%% `"sudo -n"'), `policy' (limits enforced inside the program, passed as
%% arguments) and `port_args' (passed as they are). The fd channel's name
%% comes first, as `--fd-socket Name'.
-module(linx_port_args).

-export([command/1]).
-export([policy_args/1]).

%% @doc The executable to run, its arguments and the port program's own
%% path (which the fd channel's peer check compares with).
-spec command(binary()) ->
          {ok, file:filename_all(), [string() | binary()], file:filename_all()}
        | {error, term()}.
command(FdName) ->
    case {executable(), policy_args(application:get_env(linx, policy, #{}))} of
        {{ok, Program}, {ok, PolicyArgs}} ->
            Args = ["--fd-socket", FdName | PolicyArgs ++ application:get_env(linx, port_args, [])],
            {Path, AllArgs} = wrap(application:get_env(linx, exec, []), Program, Args),
            {ok, Path, AllArgs, Program};
        {{error, _} = Error, _} ->
            Error;
        {_, {error, _} = Error} ->
            Error
    end.

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
    case application:get_env(linx, port_executable) of
        {ok, Path} when Path =/= default ->
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
