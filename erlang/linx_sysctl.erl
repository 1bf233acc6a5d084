%% @doc Read, write and list sysctls, in this or another namespace.
%%
%% ```
%% {ok, <<"1">>} = linx_sysctl:read(<<"net.ipv4.ip_forward">>),
%% ok = linx_sysctl:write("net.ipv4.ip_forward", 0,
%%                        #{in => {netns, <<"blue">>}}),
%% {ok, [32768, 60999]} = linx_sysctl:read_ints('net.ipv4.ip_local_port_range'),
%% {ok, 0} = linx_sysctl:read_int(<<"net/ipv4/conf/br.100/forwarding">>),
%% {ok, [{<<"net.ipv4.conf.all.forwarding">>, <<"0">>} | _]} =
%%     linx_sysctl:list(<<"net.ipv4.conf">>).
%% '''
%%
%% == Keys ==
%% A key is a binary, a string or an atom, in one of two forms:
%% <ul>
%% <li>Dot form, `net.ipv4.ip_forward': segments separated by `.', each
%%     made of `A-Z a-z 0-9 _ -'. The dots become slashes.</li>
%% <li>Slash form, `net/ipv4/conf/br.100/forwarding': the path below
%%     `/proc/sys'. Dots are literal, so interface names with dots work.
%%     No empty, `.' or `..' segment (so no leading, trailing or double
%%     slash), no NUL or other control character.</li>
%% </ul>
%% Keys are at most 4096 bytes. Anything else is `{error, {bad_key, Key}}',
%% returned before any request reaches the port program. {@link list/2}
%% returns each key in the form that round-trips: the dot form when it can
%% express the path, the slash form otherwise.
%%
%% == Values ==
%% Values read are binaries with trailing spaces, tabs and newlines removed.
%% Values written may be an integer (written in decimal), a non-empty list of
%% integers (written as decimals separated by single spaces, so
%% `[32768, 60999]' becomes `<<"32768 60999">>'), or a binary or iolist
%% written as it is. Text must be given as a binary: a charlist is a list of
%% integers and would be written as numbers. A value containing a newline or
%% a NUL byte is refused with `{error, {bad_value, {contains, newline | nul}}}';
%% any other term with `{error, {unsupported_type, Value}}'.
%%
%% == Options ==
%% Options are a map (a proplist is accepted too); unknown keys are ignored.
%% <ul>
%% <li>`in': where the sysctl lives (default `self', the namespaces of the
%%     port program): `{pid, OsPid}' (the namespaces of that process),
%%     `{netns, Name}' (`/run/netns/Name'), `{path, NsPath}' (one namespace
%%     file, such as `/proc/1234/ns/net'), or `{ns, [NsPath]}' (several,
%%     entered in order). Anything else is `{error, {bad_in, In}}'.</li>
%% <li>`timeout': milliseconds to wait for the port program (default 5000)
%%     or `infinity'.</li>
%% <li>`via': `local' (the port program this node started, the default) or
%%     the name of a `linx_port' C-node, such as `'linx@host'', which then
%%     does the work (see {@link linx_remote}). The application environment
%%     `{via, Node}' of `linx' changes the default. Anything else is
%%     `{error, {bad_via, Via}}'.</li>
%% </ul>
%%
%% == Errors ==
%% A failure inside the port program is returned as an {@type error_info()}
%% map, which {@link linx:format_error/1} renders as one line:
%% ```
%% #{op => write, stage => write, errno => eacces, code => 13,
%%   key => <<"net.ipv4.ip_forward">>,
%%   path => <<"/proc/sys/net/ipv4/ip_forward">>, in => self}
%% '''
%% `stage' says which step failed (`read', `write', `list', `open_ns',
%% `unshare', `setns', `thread', `open', `badarg', `decode', `busy',
%% `panic'),
%% `errno' is the errno atom and `code' its Linux number (0 when not an
%% errno). Other errors are `timeout', `not_running', `{port_exited, Status}',
%% `{nodedown, Node}' (a C-node that cannot be reached or went away while
%% the call waited) and the validation errors described above.
-module(linx_sysctl).

-export([read/1]).
-export([read/2]).
-export([read_int/1]).
-export([read_int/2]).
-export([read_ints/1]).
-export([read_ints/2]).
-export([write/2]).
-export([write/3]).
-export([list/0]).
-export([list/1]).
-export([list/2]).
-compile({no_auto_import, [apply/2]}).
-export([apply/1]).
-export([options/1]).
-export([apply/2]).
-export([supported/0]).

%% Helpers, exported for tests and for other linx modules.
-export([key_to_path/1]).
-export([path_to_key/1]).
-export([render_value/1]).
-export([target/1]).

-export_type([key/0]).
-export_type([prefix/0]).
-export_type([value/0]).
-export_type([ns_path/0]).
-export_type([in/0]).
-export_type([opts/0]).
-export_type([target/0]).
-export_type([op/0]).
-export_type([stage/0]).
-export_type([error_info/0]).
-export_type([error_reason/0]).

-type key() :: binary() | string() | atom().
%% `net.ipv4.ip_forward' or `net/ipv4/conf/br.100/forwarding'.

-type prefix() :: key().
%% A key whose subtree is listed; `<<>>', `""' and `' ''' list everything.

-type value() :: integer() | [integer(), ...] | iodata().
%% What {@link write/3} accepts; give text as a binary.

-type ns_path() :: binary() | string().
%% A namespace file, such as `/proc/1234/ns/net'.

-type in() :: self
            | {pid, pos_integer()}
            | {netns, binary() | string()}
            | {path, ns_path()}
            | {ns, [ns_path()]}.
%% Where an operation runs (option `in').

-type opts() :: #{in => in(), timeout => timeout(), via => linx_remote:via(),
                  atom() => term()}
              | [{atom(), term()}].

-type target() :: self
                | {pid, pos_integer()}
                | {netns, binary()}
                | {ns, [binary()]}.
%% An `in' option as sent to the port program.

-type op() :: read | write | list | apply.

-type stage() :: read | write | list | open_ns | unshare | setns | thread
               | open | badarg | decode | busy | panic.

-type error_info() :: #{op := op(),
                        stage := stage(),
                        errno := atom() | binary(),
                        code := non_neg_integer(),
                        key := binary(),
                        path := binary(),
                        in := in()}.
%% A failure reported by the port program. `errno' is an errno atom, a
%% reason atom for `badarg', `decode' and `busy', or a message binary for
%% `panic'; `code' is the errno number (0 when `errno' is not an errno).
%% `key' is the key in round-trip form (for {@link list/2} the prefix) and
%% `path' the file under `/proc/sys'.

-type error_reason() :: error_info()
                      | timeout
                      | not_running
                      | {port_exited, term()}
                      | {nodedown, node()}
                      | {bad_via, term()}
                      | {bad_key, term()}
                      | {bad_value, {contains, newline | nul}}
                      | {unsupported_type, term()}
                      | {bad_in, term()}
                      | {bad_option, term()}
                      | {not_integer, binary()}
                      | {unexpected_reply, term()}
                      | {bad_settings, term()}
                      | apply_error().

-type apply_error() :: #{failed := binary(),
                         reason := error_info() | {atom(), term()},
                         rolled_back := [binary()]}.
%% A transactional apply that failed at key `failed': the keys in
%% `rolled_back' were written and then restored to their old values.

-define(MAX_KEY, 4096).
-define(IS_DOT_CHAR(C), ((C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                         orelse (C >= $0 andalso C =< $9) orelse C =:= $_ orelse C =:= $-)).
-define(MAX_NETNS_NAME, 255).
-define(DEFAULT_TIMEOUT, 5000).

-record(req, {
    op :: op(),
    key :: binary(),
    path :: binary(),
    in :: in(),
    target :: target(),
    timeout :: timeout(),
    via = local :: linx_remote:via()
}).

%%====================================================================
%% API
%%====================================================================

%% @equiv read(Key, #{})
-spec read(key()) -> {ok, binary()} | {error, error_reason()}.
read(Key) ->
    read(Key, #{}).

%% @doc Reads a sysctl. The value has its trailing whitespace removed.
-spec read(key(), opts()) -> {ok, binary()} | {error, error_reason()}.
read(Key, Opts) ->
    case prepare(read, Key, Opts) of
        {ok, Req} ->
            #req{path = RelPath, target = Target} = Req,
            case call(Req, {sysctl_read, RelPath, Target}) of
                {ok, Raw} when is_binary(Raw) -> {ok, trim(Raw)};
                Other -> error_reply(Req, Other)
            end;
        {error, _} = Error ->
            Error
    end.

%% @equiv read_int(Key, #{})
-spec read_int(key()) -> {ok, integer()} | {error, error_reason()}.
read_int(Key) ->
    read_int(Key, #{}).

%% @doc Reads a sysctl holding one integer.
%% A value that is not an integer gives `{error, {not_integer, Value}}'.
-spec read_int(key(), opts()) -> {ok, integer()} | {error, error_reason()}.
read_int(Key, Opts) ->
    case read(Key, Opts) of
        {ok, Value} -> parse_int(Value);
        {error, _} = Error -> Error
    end.

%% @equiv read_ints(Key, #{})
-spec read_ints(key()) -> {ok, [integer()]} | {error, error_reason()}.
read_ints(Key) ->
    read_ints(Key, #{}).

%% @doc Reads a sysctl holding integers separated by spaces or tabs, such
%% as `net.ipv4.ip_local_port_range' or `net.ipv4.tcp_rmem'.
-spec read_ints(key(), opts()) -> {ok, [integer()]} | {error, error_reason()}.
read_ints(Key, Opts) ->
    case read(Key, Opts) of
        {ok, Value} -> parse_ints(Value);
        {error, _} = Error -> Error
    end.

%% @equiv write(Key, Value, #{})
-spec write(key(), value()) -> ok | {error, error_reason()}.
write(Key, Value) ->
    write(Key, Value, #{}).

%% @doc Writes a sysctl. See the module documentation for how values are
%% rendered.
-spec write(key(), value(), opts()) -> ok | {error, error_reason()}.
write(Key, Value, Opts) ->
    case prepare(write, Key, Opts) of
        {ok, Req} ->
            case render_value(Value) of
                {ok, Bin} ->
                    #req{path = RelPath, target = Target} = Req,
                    case call(Req, {sysctl_write, RelPath, Bin, Target}) of
                        ok -> ok;
                        Other -> error_reply(Req, Other)
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

%% @equiv list(<<>>, #{})
-spec list() -> {ok, [{binary(), binary()}]} | {error, error_reason()}.
list() ->
    list(<<>>, #{}).

%% @equiv list(Prefix, #{})
-spec list(prefix()) -> {ok, [{binary(), binary()}]} | {error, error_reason()}.
list(Prefix) ->
    list(Prefix, #{}).

%% @doc Lists the sysctls below `Prefix' (all of them for the empty
%% prefix), sorted by path. Keys are in round-trip form and values are
%% trimmed like {@link read/2}'s. Entries that cannot be read are skipped.
-spec list(prefix(), opts()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
list(Prefix, Opts) ->
    case prepare(list, Prefix, Opts) of
        {ok, Req} ->
            #req{path = RelPath, target = Target} = Req,
            Reply = call(Req, {sysctl_list, RelPath, Target}),
            case list_entries(Reply) of
                {ok, _} = Ok -> Ok;
                error -> error_reply(Req, Reply)
            end;
        {error, _} = Error ->
            Error
    end.

%% @equiv apply(Settings, #{})
-spec apply([{key(), value()}] | #{key() => value()}) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
apply(Settings) ->
    apply(Settings, #{}).

%% @doc Writes several sysctls as one transaction, in one namespace visit:
%% the old values are read first, the new ones written in order (a map is
%% applied in key order), and on the first failure every value already
%% written is restored. Nothing else this port serves runs in between.
%%
%% On success returns `{ok, Previous}', the old values as
%% `[{Key, Value}]', which `apply/2' takes back to restore them later. On
%% failure returns `{error, #{failed := Key, reason := Error, rolled_back
%% := Keys}}'. Keys and values are all checked before anything is sent.
-spec apply([{key(), value()}] | #{key() => value()}, opts()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
apply(Settings, Opts) when is_map(Settings) ->
    apply(maps:to_list(Settings), Opts);
apply(Settings, Opts) when is_list(Settings) ->
    case apply_settings(Settings, []) of
        {ok, Pairs} ->
            case prepare(apply, <<"net">>, Opts) of
                {ok, #req{target = Target} = Req} ->
                    case call(Req, {sysctl_apply, Target, Pairs}) of
                        {ok, Old} when is_list(Old) ->
                            list_entries({ok, Old});
                        {error, {apply_failed, Path, {Stage, Errno}, Rolled}} ->
                            Failed = Req#req{path = Path, key = path_to_key(Path)},
                            {error, Reason} = error_reply(Failed, {error, {Stage, Errno}}),
                            {error, #{failed => path_to_key(Path),
                                      reason => Reason,
                                      rolled_back => [path_to_key(P) || P <- Rolled]}};
                        Other ->
                            error_reply(Req, Other)
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end;
apply(Settings, _Opts) ->
    {error, {bad_settings, Settings}}.

-spec apply_settings([term()], [{binary(), binary()}]) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
apply_settings([], Acc) ->
    {ok, lists:reverse(Acc)};
apply_settings([{Key, Value} | Rest], Acc) ->
    case key_to_path(Key) of
        {ok, Path} ->
            case render_value(Value) of
                {ok, Bin} -> apply_settings(Rest, [{Path, Bin} | Acc]);
                {error, _} = Error -> Error
            end;
        {error, _} = Error ->
            Error
    end;
apply_settings([Other | _], _Acc) ->
    {error, {bad_settings, Other}}.

%% @doc Returns `true' on Linux with `/proc/sys' present.
-spec supported() -> boolean().
supported() ->
    os:type() =:= {unix, linux} andalso filelib:is_dir("/proc/sys").

%%====================================================================
%% Helpers
%%====================================================================

%% @doc Validates a key and returns its path relative to `/proc/sys'.
%%
%% `key_to_path(<<"net.ipv4.ip_forward">>)' is
%% `{ok, <<"net/ipv4/ip_forward">>}'; a slash-form key is returned as a
%% binary, unchanged.
-spec key_to_path(term()) -> {ok, binary()} | {error, {bad_key, term()}}.
key_to_path(Key) ->
    case key_binary(Key) of
        {ok, Bin} when byte_size(Bin) > 0, byte_size(Bin) =< ?MAX_KEY ->
            case dot_to_path(Bin, $., <<>>) of
                {ok, Path} ->
                    {ok, Path};
                slash ->
                    case valid_slash_key(Bin, 0, Bin) of
                        true -> {ok, Bin};
                        false -> {error, {bad_key, Key}}
                    end;
                error ->
                    {error, {bad_key, Key}}
            end;
        _ ->
            {error, {bad_key, Key}}
    end.

%% @doc Returns the key for a path relative to `/proc/sys', in the form
%% that round-trips through {@link key_to_path/1}: the dot form when every
%% segment is a valid dot-form segment (`net/ipv4/ip_forward' gives
%% `net.ipv4.ip_forward'), the path itself otherwise
%% (`net/ipv4/conf/br.100/forwarding').
-spec path_to_key(binary()) -> binary().
path_to_key(<<>>) ->
    <<>>;
path_to_key(RelPath) when is_binary(RelPath) ->
    case path_to_dot(RelPath, $/, <<>>) of
        {ok, Key} -> Key;
        error -> RelPath
    end.

%% @doc Renders a value the way {@link write/3} sends it.
-spec render_value(term()) ->
          {ok, binary()}
        | {error, {bad_value, {contains, newline | nul}}
                | {unsupported_type, term()}}.
render_value(Value) ->
    case render(Value) of
        {ok, Bin} -> check_value(Bin);
        error -> {error, {unsupported_type, Value}}
    end.

%% @doc Validates an `in' option and returns the target sent to the port
%% program: `{path, P}' becomes `{ns, [P]}' and names and paths become
%% binaries.
-spec target(term()) -> {ok, target()} | {error, {bad_in, term()}}.
target(self) ->
    {ok, self};
target({pid, Pid}) when is_integer(Pid), Pid > 0 ->
    {ok, {pid, Pid}};
target({netns, Name} = In) ->
    case text_binary(Name) of
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

%%====================================================================
%% Internal functions
%%====================================================================

%% Validates key and options into a request; nothing is sent yet.
-spec prepare(op(), term(), term()) -> {ok, #req{}} | {error, error_reason()}.
prepare(Op, Key, Opts) ->
    case op_path(Op, Key) of
        {ok, RelPath} ->
            case options(Opts) of
                {ok, _Map, In, Target, Timeout, Via} ->
                    {ok, #req{op = Op, key = path_to_key(RelPath),
                              path = RelPath, in = In, target = Target,
                              timeout = Timeout, via = Via}};
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

-spec op_path(op(), term()) -> {ok, binary()} | {error, {bad_key, term()}}.
op_path(list, <<>>) -> {ok, <<>>};
op_path(list, []) -> {ok, <<>>};
op_path(list, '') -> {ok, <<>>};
op_path(_Op, Key) -> key_to_path(Key).

%% @doc Validates the options common to linx_sysctl and linx_netlink
%% (`in', `timeout', `via'; a map or a proplist): the options as a map, the
%% `in' option as given, the wire target, the timeout and the node to use.
-spec options(term()) ->
          {ok, map(), in(), target(), timeout(), linx_remote:via()}
        | {error, {bad_in, term()} | {bad_option, term()} | {bad_via, term()}}.
options(Opts) when is_map(Opts) ->
    In = maps:get(in, Opts, self),
    case target(In) of
        {ok, Target} ->
            case maps:get(timeout, Opts, ?DEFAULT_TIMEOUT) of
                T when T =:= infinity; is_integer(T), T >= 0 ->
                    case linx_remote:via(Opts) of
                        {ok, Via} -> {ok, Opts, In, Target, T, Via};
                        {error, _} = Error -> Error
                    end;
                T ->
                    {error, {bad_option, {timeout, T}}}
            end;
        {error, _} = Error ->
            Error
    end;
options(Opts) when is_list(Opts) ->
    %% Proplist: the first occurrence of a key wins.
    try maps:from_list(lists:reverse(Opts)) of
        Map -> options(Map)
    catch
        error:badarg -> {error, {bad_option, Opts}}
    end;
options(Opts) ->
    {error, {bad_option, Opts}}.

-spec call(#req{}, tuple()) -> term().
call(#req{timeout = Timeout, via = Via}, WireOp) ->
    linx_remote:request(WireOp, Timeout, Via).

%% Turns anything but the op's success reply into an error.
-spec error_reply(#req{}, term()) -> {error, error_reason()}.
error_reply(_Req, {error, timeout}) ->
    {error, timeout};
error_reply(_Req, {error, not_running}) ->
    {error, not_running};
error_reply(_Req, {error, {port_exited, _}} = Error) ->
    Error;
error_reply(_Req, {error, {nodedown, _}} = Error) ->
    Error;
error_reply(Req, {error, {Stage, Errno}})
  when is_atom(Stage), is_atom(Errno) orelse is_binary(Errno) ->
    #req{op = Op, key = Key, path = RelPath, in = In} = Req,
    Code = case is_atom(Errno) of
               true -> linx:errno_code(Errno);
               false -> 0
           end,
    {error, #{op => Op,
              stage => Stage,
              errno => Errno,
              code => Code,
              key => Key,
              path => full_path(RelPath),
              in => In}};
error_reply(_Req, Other) ->
    {error, {unexpected_reply, Other}}.

-spec full_path(binary()) -> binary().
full_path(<<>>) -> <<"/proc/sys">>;
full_path(RelPath) -> <<"/proc/sys/", RelPath/binary>>.

-spec list_entries(term()) -> {ok, [{binary(), binary()}]} | error.
list_entries({ok, Entries}) when is_list(Entries) ->
    list_entries(Entries, []);
list_entries(_) ->
    error.

-spec list_entries(term(), [{binary(), binary()}]) ->
          {ok, [{binary(), binary()}]} | error.
list_entries([], Acc) ->
    {ok, lists:reverse(Acc)};
list_entries([{Path, Value} | Rest], Acc)
  when is_binary(Path), is_binary(Value) ->
    list_entries(Rest, [{path_to_key(Path), trim(Value)} | Acc]);
list_entries(_, _) ->
    error.

%% Keys

-spec key_binary(term()) -> {ok, binary()} | error.
key_binary(Key) when is_binary(Key) ->
    {ok, Key};
key_binary(Key) when is_atom(Key) ->
    {ok, atom_to_binary(Key, utf8)};
key_binary(Key) when is_list(Key) ->
    text_binary(Key);
key_binary(_) ->
    error.

%% Dot form to path in one pass: segments of `[A-Za-z0-9_-]+' separated by
%% single dots, which become slashes. `slash' when the key has a `/' (it is
%% then in slash form). `Prev' is the previous byte, `$.' at the start so
%% that a leading, trailing or doubled dot is refused.
-spec dot_to_path(binary(), byte(), binary()) -> {ok, binary()} | slash | error.
dot_to_path(<<$/, _/binary>>, _Prev, _Acc) ->
    slash;
dot_to_path(<<$., Rest/binary>>, Prev, Acc) when Prev =/= $. ->
    dot_to_path(Rest, $., <<Acc/binary, $/>>);
dot_to_path(<<C, Rest/binary>>, _Prev, Acc) when ?IS_DOT_CHAR(C) ->
    dot_to_path(Rest, C, <<Acc/binary, C>>);
dot_to_path(<<>>, Prev, Acc) when Prev =/= $. ->
    {ok, Acc};
dot_to_path(Rest, _Prev, _Acc) ->
    %% A `/' further on still makes this a slash-form key.
    case no_byte_of(Rest, $/, $/) of
        true -> error;
        false -> slash
    end.

%% The reverse, for paths from the port: `error' when a segment is not a
%% valid dot-form segment (the path is then its own key).
-spec path_to_dot(binary(), byte(), binary()) -> {ok, binary()} | error.
path_to_dot(<<$/, Rest/binary>>, Prev, Acc) when Prev =/= $/ ->
    path_to_dot(Rest, $/, <<Acc/binary, $.>>);
path_to_dot(<<C, Rest/binary>>, _Prev, Acc) when ?IS_DOT_CHAR(C) ->
    path_to_dot(Rest, C, <<Acc/binary, C>>);
path_to_dot(<<>>, Prev, Acc) when Prev =/= $/ ->
    {ok, Acc};
path_to_dot(_, _Prev, _Acc) ->
    error.

%% Slash form: no empty, `.' or `..' segment; printable bytes only (no NUL,
%% no other control character, no DEL; bytes from 128 up are allowed so
%% UTF-8 names work). `Len' counts the bytes of the segment that starts at
%% `Seg'.
-spec valid_slash_key(binary(), non_neg_integer(), binary()) -> boolean().
valid_slash_key(<<$/, Rest/binary>>, Len, Seg) ->
    valid_segment(binary:part(Seg, 0, Len)) andalso valid_slash_key(Rest, 0, Rest);
valid_slash_key(<<C, Rest/binary>>, Len, Seg) when C >= 32, C =/= 127 ->
    valid_slash_key(Rest, Len + 1, Seg);
valid_slash_key(<<>>, Len, Seg) ->
    valid_segment(binary:part(Seg, 0, Len));
valid_slash_key(_, _Len, _Seg) ->
    false.

-spec valid_segment(binary()) -> boolean().
valid_segment(<<>>) -> false;
valid_segment(<<".">>) -> false;
valid_segment(<<"..">>) -> false;
valid_segment(_) -> true.

%% Neither byte A nor byte B occurs in the binary.
-spec no_byte_of(binary(), byte(), byte()) -> boolean().
no_byte_of(<<C, _/binary>>, A, B) when C =:= A; C =:= B -> false;
no_byte_of(<<_, Rest/binary>>, A, B) -> no_byte_of(Rest, A, B);
no_byte_of(<<>>, _, _) -> true.

%% Values

-spec render(term()) -> {ok, binary()} | error.
render(Int) when is_integer(Int) ->
    {ok, integer_to_binary(Int)};
render(Bin) when is_binary(Bin) ->
    {ok, Bin};
render([_ | _] = List) ->
    case is_integer_list(List) of
        true ->
            Words = [integer_to_binary(I) || I <- List],
            {ok, iolist_to_binary(lists:join(<<" ">>, Words))};
        false ->
            iodata(List)
    end;
render(List) when is_list(List) ->
    iodata(List);
render(_) ->
    error.

-spec is_integer_list(term()) -> boolean().
is_integer_list([I | Rest]) when is_integer(I) -> is_integer_list(Rest);
is_integer_list([]) -> true;
is_integer_list(_) -> false.

-spec iodata(list()) -> {ok, binary()} | error.
iodata(List) ->
    try iolist_to_binary(List) of
        Bin -> {ok, Bin}
    catch
        error:badarg -> error
    end.

-spec check_value(binary()) ->
          {ok, binary()} | {error, {bad_value, {contains, newline | nul}}}.
check_value(Bin) ->
    case binary:match(Bin, <<"\n">>) of
        nomatch ->
            case binary:match(Bin, <<0>>) of
                nomatch -> {ok, Bin};
                _ -> {error, {bad_value, {contains, nul}}}
            end;
        _ ->
            {error, {bad_value, {contains, newline}}}
    end.

-spec trim(binary()) -> binary().
trim(Bin) ->
    trim(Bin, byte_size(Bin)).

-spec trim(binary(), non_neg_integer()) -> binary().
trim(_Bin, 0) ->
    <<>>;
trim(Bin, N) ->
    case binary:at(Bin, N - 1) of
        C when C =:= $\s; C =:= $\t; C =:= $\n -> trim(Bin, N - 1);
        _ -> binary:part(Bin, 0, N)
    end.

-spec trim_leading(binary()) -> binary().
trim_leading(<<C, Rest/binary>>) when C =:= $\s; C =:= $\t; C =:= $\n ->
    trim_leading(Rest);
trim_leading(Bin) ->
    Bin.

-spec parse_int(binary()) -> {ok, integer()} | {error, {not_integer, binary()}}.
parse_int(Value) ->
    try binary_to_integer(trim_leading(Value)) of
        Int -> {ok, Int}
    catch
        error:badarg -> {error, {not_integer, Value}}
    end.

-spec parse_ints(binary()) ->
          {ok, [integer()]} | {error, {not_integer, binary()}}.
parse_ints(Value) ->
    Words = binary:split(Value, [<<" ">>, <<"\t">>], [global, trim_all]),
    try [binary_to_integer(W) || W <- Words] of
        Ints -> {ok, Ints}
    catch
        error:badarg -> {error, {not_integer, Value}}
    end.

%% Targets

-spec text_binary(term()) -> {ok, binary()} | error.
text_binary(Bin) when is_binary(Bin) ->
    {ok, Bin};
text_binary(List) when is_list(List) ->
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
text_binary(_) ->
    error.

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
    case text_binary(Path) of
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
