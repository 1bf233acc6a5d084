%% @doc The requests of {@link linx_sysctl}: a key and options checked into
%% a request (nothing is sent yet), the request sent to the port program
%% or a C-node, and a reply that is not the op's success turned into the
%% error map {@link linx_sysctl} documents.
-module(linx_sysctl_req).

-export([run/4, call/2, error_reply/2, list_entries/1]).

-export_type([op/0, req/0]).

-type op() :: read | write | list | apply.

-type req() :: #{op := op(),
                 path := binary(),
                 in := linx_opts:in(),
                 target := linx_opts:write_target(),
                 timeout := timeout(),
                 via := linx_remote:via()}.
%% A checked request: the path below `/proc/sys' (its key, the dot form,
%% is made only for an error), the `in' option as given and the target as
%% sent (with `host_keys' for writes).

%% @doc Checks the key (for `list' a prefix, empty for everything) and
%% the options, then runs `Fun' with the request; else the first error.
-spec run(op(), term(), term(), fun((req()) -> Result)) -> Result | {error, term()}.
run(Op, Key, Opts, Fun) ->
    case prepare(Op, Key, Opts) of
        {ok, Req} -> Fun(Req);
        {error, _} = Error -> Error
    end.

%% Validates key and options into a request; nothing is sent yet.
-spec prepare(op(), term(), term()) -> {ok, req()} | {error, term()}.
prepare(Op, Key, Opts) ->
    Own = fun(_, Checked) -> op_target(Op, Checked) end,
    case linx_opts:check([op_path(Op, Key)], Opts, keys(Op), Own) of
        {ok, [RelPath], #{in := In, timeout := Timeout, via := Via}, Target} ->
            {ok, #{op => Op, path => RelPath, in => In, target => Target, timeout => Timeout,
                   via => Via}};
        {error, _} = Error ->
            Error
    end.

%% The options an op reads: writes also `host_keys'.
-spec keys(op()) -> [atom()].
keys(Op) when Op =:= write; Op =:= apply -> [host_keys | linx_opts:transport()];
keys(_Op) -> linx_opts:transport().

%% The target sent: writes take `host_keys' and refuse a timeout of 0
%% (see "Timeouts and writes" in linx_sysctl).
-spec op_target(op(), linx_opts:checked()) ->
          {ok, linx_opts:write_target()} | {error, linx_opts:error()}.
op_target(Op, #{timeout := 0}) when Op =:= write; Op =:= apply ->
    {error, {bad_option, {timeout, 0}}};
op_target(Op, #{opts := Map, target := Target}) when Op =:= write; Op =:= apply ->
    linx_opts:write_target(Map, Target);
op_target(_Op, #{target := Target}) ->
    {ok, Target}.

-spec op_path(op(), term()) -> {ok, binary()} | {error, {bad_key, term()}}.
op_path(list, <<>>) -> {ok, <<>>};
op_path(list, []) -> {ok, <<>>};
op_path(list, '') -> {ok, <<>>};
op_path(_Op, Key) -> linx_sysctl_syntax:key_to_path(Key).

%% @doc Sends `WireOp' as the request says (timeout, via) and returns the
%% reply.
-spec call(req(), tuple()) -> term().
call(#{timeout := Timeout, via := Via}, WireOp) ->
    linx_remote:request(WireOp, Timeout, Via).

%% @doc Turns anything but the op's success reply into an error.
-spec error_reply(req(), term()) -> {error, term()}.
error_reply(#{op := Op, path := RelPath, in := In}, Reply) ->
    linx_error:reply(Reply, #{op => Op, key => linx_sysctl_syntax:path_to_key(RelPath),
                              path => full_path(RelPath), in => In}).

-spec full_path(binary()) -> binary().
full_path(<<>>) -> <<"/proc/sys">>;
full_path(RelPath) -> <<"/proc/sys/", RelPath/binary>>.

%% @doc A reply of `{Key, Value}' (or `{Path, Value}') binaries, checked.
-spec list_entries(term()) -> {ok, [{binary(), binary()}]} | error.
list_entries({ok, Entries} = Ok) ->
    case entries(Entries) of
        true -> Ok;
        false -> error
    end;
list_entries(_) ->
    error.

-spec entries(term()) -> boolean().
entries([{Key, Value} | Rest]) when is_binary(Key), is_binary(Value) -> entries(Rest);
entries(Rest) -> Rest =:= [].
