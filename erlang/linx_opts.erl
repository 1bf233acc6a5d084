%% @doc The options every linx API call takes, checked in one place.
%%
%% Every API function takes a map, or a proplist of `{Key, Value}' pairs
%% (in which the first occurrence of a key wins): the two forms are the
%% same options, checked the same way. The transport options:
%% <ul>
%% <li>`in': where the operation runs, default `self'; see
%%     {@link target/1}. Anything else is `{error, {bad_in, In}}'.</li>
%% <li>`timeout': milliseconds to wait for the port program, default 5000,
%%     `0..16#FFFFFFFF' or `infinity'. Anything else is
%%     `{error, {bad_option, {timeout, T}}}'.</li>
%% <li>`via': `local' or a C-node name, default the application
%%     environment's `via' (itself `local' by default); see
%%     {@link via/1}.</li>
%% </ul>
%% These are transport options: where and how a call runs. An
%% operation's own arguments (an address's label, a dump, a socket's
%% groups, a namespace's loopback state) are arguments of its function,
%% never options.
%%
%% Each function says which keys it reads ({@link options/2}): the
%% transport options and a few of its own (`rcvbuf', `flags',
%% `host_keys', ...). Any other key is refused, never dropped:
%% `{error, {bad_option, {Key, Value}}}' for the first one (in the
%% proplist's order, or the map's key order). Options that are neither a
%% map nor a proper list of pairs are `{error, {bad_option, Opts}}'.
%% {@link write_target/2} reads the `host_keys' option of writes.
-module(linx_opts).

-export([options/1, options/2, transport/0, to_map/1, check/4, with_transport/2]).
-export([target/1, write_target/2]).
-export([via/1]).
-export([text/1]).
-export([no_byte_of/3]).
-export([deadline/1, remaining/1]).

-export_type([handle/0, in/0, target/0, write_target/0, opts/0, via/0, error/0, deadline/0, checked/0]).

-type deadline() :: integer() | infinity.
%% When a `timeout' runs out: a `millisecond' monotonic time, or `infinity'.

-type ns_path() :: binary() | string().

-type handle() :: {linx_netns, pos_integer()}.
%% A namespace with no name from `linx_netns:new/0,1,2', held for its
%% owner (written here, below linx_netns, which calls this module).

-type in() :: self
            | {pid, pos_integer()}
            | {netns, binary() | string()}
            | {path, ns_path()}
            | {ns, [ns_path()]}
            | handle().
%% Where an operation runs (option `in').

-type target() :: self
                | {pid, pos_integer()}
                | {netns, binary()}
                | {ns, [binary()]}
                | {held, pos_integer()}.
%% An `in' option as sent to the port program.

-type write_target() :: target() | {host_keys, target()}.
%% The target of a write as sent to the port program.

-type via() :: local | node().
%% Where requests go: the local port, or the C-node of that name.

-type opts() :: #{in => in(), timeout => timeout(), via => via(),
                  atom() => term()}
              | [{atom(), term()}].

-type checked() :: #{opts := map(), in := in(), target := target(), timeout := timeout(),
                     via := via()}.
%% The options, checked: `opts' the map given (a proplist made a map),
%% `in' as given, `target' as sent to the port program.

-type error() :: {bad_in, term()} | {bad_option, term()} | {bad_via, term()}.
%% What a bad option gives.

-define(DEFAULT_TIMEOUT, 5000).
-define(MAX_TIMEOUT, 16#FFFFFFFF).
-define(MAX_NETNS_NAME, 255).

%% @doc The transport options, the keys {@link options/1} allows.
-spec transport() -> [in | timeout | via, ...].
transport() ->
    [in, timeout, via].

%% @doc `Fun' of the options as a map, once {@link options/1} has checked
%% them: the transport options only (any other key is refused, never
%% dropped); or the error.
-spec with_transport(term(), fun((map()) -> Result)) -> Result | {error, error()}.
with_transport(Opts, Fun) ->
    case options(Opts) of
        {ok, #{opts := Map}} -> Fun(Map);
        {error, _} = Error -> Error
    end.

%% @doc {@link options/2} with the transport options only.
-spec options(term()) -> {ok, checked()} | {error, error()}.
options(Opts) ->
    options(Opts, transport()).

%% @doc Checks the options of a function that reads the keys `Keys':
%% the options as a map, the `in' option as given, the wire target, the
%% timeout and where to send the request. A key not in `Keys' is
%% `{error, {bad_option, {Key, Value}}}'; `in', `timeout' and `via' are
%% checked (and defaulted) only when they are among `Keys'.
-spec options(term(), [atom()]) -> {ok, checked()} | {error, error()}.
options(Opts, Keys) ->
    case to_map(Opts) of
        {ok, Map} ->
            case unknown(Opts, Keys) of
                none -> checked(Map);
                KV -> {error, {bad_option, KV}}
            end;
        error ->
            {error, {bad_option, Opts}}
    end.

%% @doc Options as a map: a map as it is, a proper list of pairs as the
%% map of its pairs (the first occurrence of a key wins); `error' for
%% anything else.
-spec to_map(term()) -> {ok, map()} | error.
to_map(Opts) when is_map(Opts) ->
    {ok, Opts};
to_map(Opts) ->
    pairs(Opts, []).

-spec checked(map()) -> {ok, checked()} | {error, error()}.
checked(Opts) ->
    In = maps:get(in, Opts, self),
    case target(In) of
        {ok, Target} ->
            case maps:get(timeout, Opts, ?DEFAULT_TIMEOUT) of
                T when T =:= infinity; is_integer(T), T >= 0, T =< ?MAX_TIMEOUT ->
                    case via(Opts) of
                        {ok, Via} ->
                            {ok, #{opts => Opts, in => In, target => Target, timeout => T,
                                   via => Via}};
                        {error, _} = Error -> Error
                    end;
                T ->
                    {error, {bad_option, {timeout, T}}}
            end;
        {error, _} = Error ->
            Error
    end.

%% A proplist's pairs, last first (so that maps:from_list/1 keeps the
%% first occurrence of a key).
-spec pairs(term(), [{term(), term()}]) -> {ok, map()} | error.
pairs([{_, _} = Pair | Rest], Acc) -> pairs(Rest, [Pair | Acc]);
pairs([], Acc) -> {ok, maps:from_list(Acc)};
pairs(_, _) -> error.

%% The first option whose key is not one of `Keys', or `none'.
-spec unknown(map() | list(), [atom()]) -> none | {term(), term()}.
unknown(Opts, Keys) when is_map(Opts) ->
    unknown(lists:sort(maps:to_list(Opts)), Keys);
unknown([{K, V} | Rest], Keys) ->
    case lists:member(K, Keys) of
        true -> unknown(Rest, Keys);
        false -> {K, V}
    end;
unknown([], _Keys) ->
    none.

%% @doc Checks an operation's arguments and options in the order their
%% errors are returned: `Checks' (the arguments' checks, each `ok' or
%% `{ok, Value}'), then the options ({@link options/2}, the function
%% reading `Keys'), then `Own' (the operation's own options, read from
%% the checked options) with the values of `Checks' in order.
%% `{ok, Values, Checked, OwnValue}', or the first error.
-spec check([ok | {ok, term()} | {error, term()}], term(), [atom()],
            fun(([term()], checked()) -> {ok, T} | {error, term()})) ->
          {ok, [term()], checked(), T} | {error, term()}.
check(Checks, Opts, Keys, Own) ->
    Options = options(Opts, Keys),
    case linx_error:first_error(Checks ++ [Options]) of
        ok ->
            {ok, Checked} = Options,
            Values = [V || {ok, V} <- Checks],
            case Own(Values, Checked) of
                {ok, Value} -> {ok, Values, Checked, Value};
                {error, _} = Error -> Error
            end;
        Error ->
            Error
    end.

%% @doc Checks an `in' option and returns the target sent to the port
%% program: `{path, P}' becomes `{ns, [P]}', a {@link linx_netns:handle()}
%% becomes `{held, Id}', and names and paths become binaries. A netns name is 1 to 255 bytes, not `.' or `..', without `/'
%% or NUL; a namespace path is not empty and has no NUL.
-spec target(term()) -> {ok, target()} | {error, {bad_in, term()}}.
target(self) ->
    {ok, self};
target({pid, Pid}) when is_integer(Pid), Pid > 0 ->
    {ok, {pid, Pid}};
target({linx_netns, Id}) when is_integer(Id), Id > 0 ->
    {ok, {held, Id}};
target({netns, Name} = In) ->
    case text(Name) of
        {ok, Bin} ->
            case valid_netns_name(Bin) of
                true -> {ok, {netns, Bin}};
                false -> {error, {bad_in, In}}
            end;
        error ->
            {error, {bad_in, In}}
    end;
target({path, Path} = In) ->
    case ns_path(Path) of
        {ok, Bin} -> {ok, {ns, [Bin]}};
        error -> {error, {bad_in, In}}
    end;
target({ns, Paths} = In) ->
    case ns_paths(Paths, []) of
        {ok, Bins} -> {ok, {ns, Bins}};
        error -> {error, {bad_in, In}}
    end;
target(In) ->
    {error, {bad_in, In}}.

%% @doc The target a write sends: `Target', or `{host_keys, Target}' with
%% the option `host_keys => true'.
%%
%% A write (or apply) outside `net.*' through a target that enters only a
%% network namespace (`{netns, Name}', or a `{pid, P}' or `{ns, Paths}'
%% that differs from the port's namespaces only in the network one) would
%% land in the port's own namespaces, the host's, for every other key; the
%% port program refuses it with `{write, not_in_target}'. `host_keys =>
%% true' says that is meant. Default `false'; anything else is
%% `{error, {bad_option, {host_keys, V}}}'.
-spec write_target(map(), target()) ->
          {ok, write_target()} | {error, {bad_option, {host_keys, term()}}}.
write_target(Opts, Target) ->
    case maps:get(host_keys, Opts, false) of
        false -> {ok, Target};
        true -> {ok, {host_keys, Target}};
        Other -> {error, {bad_option, {host_keys, Other}}}
    end.

%% @doc The `via' of an options map, or the application's default.
%% `{error, {bad_via, V}}' unless it is `local' or a node name
%% (an atom with an `@').
-spec via(map()) -> {ok, via()} | {error, {bad_via, term()}}.
via(#{via := Via}) ->
    check_via(Via);
via(_Opts) ->
    check_via(application:get_env(linx, via, local)).

-spec check_via(term()) -> {ok, via()} | {error, {bad_via, term()}}.
check_via(local) ->
    {ok, local};
check_via(Node) when is_atom(Node) ->
    case string:split(atom_to_list(Node), "@") of
        [[_ | _], [_ | _]] -> {ok, Node};
        _ -> {error, {bad_via, Node}}
    end;
check_via(Other) ->
    {error, {bad_via, Other}}.

%% @doc A binary, or a string of Unicode characters, as a binary (UTF-8).
-spec text(term()) -> {ok, binary()} | error.
text(Bin) when is_binary(Bin) ->
    {ok, Bin};
text(List) when is_list(List) ->
    %% Names are nearly always ASCII: the fast BIF first; anything else
    %% is taken as Unicode characters and encoded in UTF-8.
    try iolist_to_binary(List) of
        Bin ->
            case ascii(Bin) of
                true -> {ok, Bin};
                false -> unicode_binary(List)
            end
    catch
        error:badarg -> unicode_binary(List)
    end;
text(_) ->
    error.

%% @doc Whether neither byte `A' nor byte `B' occurs in the binary.
-spec no_byte_of(binary(), byte(), byte()) -> boolean().
no_byte_of(<<C, _/binary>>, A, B) when C =:= A; C =:= B -> false;
no_byte_of(<<_, Rest/binary>>, A, B) -> no_byte_of(Rest, A, B);
no_byte_of(<<>>, _, _) -> true.

%%====================================================================
%% Internal functions
%%====================================================================

-spec unicode_binary(list()) -> {ok, binary()} | error.
unicode_binary(List) ->
    try unicode:characters_to_binary(List) of
        Bin when is_binary(Bin) -> {ok, Bin};
        _ -> error
    catch
        error:_ -> error
    end.

-spec ascii(binary()) -> boolean().
ascii(<<C, Rest/binary>>) when C < 128 -> ascii(Rest);
ascii(<<>>) -> true;
ascii(_) -> false.

-spec valid_netns_name(binary()) -> boolean().
valid_netns_name(<<>>) -> false;
valid_netns_name(<<".">>) -> false;
valid_netns_name(<<"..">>) -> false;
valid_netns_name(Name) when byte_size(Name) > ?MAX_NETNS_NAME -> false;
valid_netns_name(Name) ->
    no_byte_of(Name, $/, 0).

-spec ns_path(term()) -> {ok, binary()} | error.
ns_path(Path) ->
    case text(Path) of
        {ok, <<>>} -> error;
        {ok, Bin} ->
            case no_byte_of(Bin, 0, 0) of
                true -> {ok, Bin};
                false -> error
            end;
        error -> error
    end.

-spec ns_paths(term(), [binary()]) -> {ok, [binary()]} | error.
ns_paths([], Acc) ->
    {ok, lists:reverse(Acc)};
ns_paths([Path | Rest], Acc) ->
    case ns_path(Path) of
        {ok, Bin} -> ns_paths(Rest, [Bin | Acc]);
        error -> error
    end;
ns_paths(_, _) ->
    error.

%% @doc When a timeout that starts now runs out (see {@link remaining/1}).
-spec deadline(timeout()) -> deadline().
deadline(infinity) -> infinity;
deadline(Ms) -> erlang:monotonic_time(millisecond) + Ms.

%% @doc The milliseconds left until `Deadline', 0 once it has passed.
-spec remaining(deadline()) -> timeout().
remaining(infinity) -> infinity;
remaining(Deadline) -> max(0, Deadline - erlang:monotonic_time(millisecond)).
