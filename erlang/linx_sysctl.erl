%% @doc Read, write and list sysctls, in this or another namespace.
%% Guide: docs/sysctl.md in the source tree.
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
%% any other term with `{error, {unsupported_type, Value}}'. An empty value
%% empties the sysctl: it is sent as a newline, as `sysctl -w key=' sends
%% it (the kernel ignores a write of nothing). A rendered
%% value longer than 1 MiB (what the port program takes) is refused before
%% it is sent, as an {@type error_info()} with `stage => badarg' and
%% `errno => too_large'.
%%
%% == Options ==
%% Options are a map, or a proplist (the same options; the first of a key
%% wins). A key not listed here is refused,
%% `{error, {bad_option, {Key, Value}}}', as are options that are neither.
%% <ul>
%% <li>`in': where the sysctl lives (default `self', the namespaces of the
%%     port program): `{pid, OsPid}' (the namespaces of that process),
%%     `{netns, Name}' (`/run/netns/Name'), `{path, NsPath}' (one namespace
%%     file, such as `/proc/1234/ns/net'), or `{ns, [NsPath]}' (several,
%%     entered in order). Anything else is `{error, {bad_in, In}}'.</li>
%% <li>`timeout': milliseconds to wait for the port program (default 5000,
%%     at most `16#FFFFFFFF') or `infinity'; anything else is
%%     `{error, {bad_option, {timeout, T}}}'. See "Timeouts and writes"
%%     below.</li>
%% <li>`host_keys' ({@link write/3} and {@link apply/2} only): `false'
%%     (default) or `true'. `{netns, Name}' enters only a network namespace
%%     (as do `{pid, P}' and `{ns, Paths}' when only the network namespace
%%     differs from the port program's): a key outside `net.*' is then the
%%     host's, not the target's, and the port program refuses to write it
%%     (`stage => write', `errno => not_in_target'). `host_keys => true'
%%     says the write is meant to reach the port program's own namespaces.
%%     To write `kernel.*' keys of a container, give `in => {pid, OsPid}'
%%     instead.</li>
%% <li>`via': `local' (the port program this node started, the default) or
%%     the name of a `linx_port' C-node, such as `'linx@host'', which then
%%     does the work (see {@link linx_remote}). The application environment
%%     `{via, Node}' of `linx' changes the default. Anything else is
%%     `{error, {bad_via, Via}}'.</li>
%% </ul>
%%
%% == Timeouts and writes ==
%% `timeout' bounds how long the caller waits, not the write: a write (or
%% apply) that has been sent is carried out even when its caller stopped
%% waiting. `{error, timeout}' from {@link write/3} or {@link apply/2}
%% therefore means "not known": the value may or may not have changed;
%% read it back ({@link read/2}) to find out. A timeout of 0 could never
%% be anything but that, so {@link write/3} and {@link apply/2} refuse it
%% (`{error, {bad_option, {timeout, 0}}}', nothing is sent).
%%
%% == Errors ==
%% A failure inside the port program is returned as an {@type error_info()}
%% map, which {@link format_error/1} (or {@link linx:format_error/1})
%% renders as one line:
%% ```
%% #{op => write, stage => write, errno => eacces, code => 13,
%%   key => <<"net.ipv4.ip_forward">>,
%%   path => <<"/proc/sys/net/ipv4/ip_forward">>, in => self}
%% '''
%% `stage' says which step failed (one of {@link linx_error:stages/0}),
%% `errno' is the errno atom and `code' its Linux number (0 when not an
%% errno). A write the kernel took only part of has `errno => partial',
%% `code => 0' and the fields `written' and `total' (bytes): the value
%% has changed (a transactional apply restores it with the others). A
%% write refused because the target enters only a network namespace has
%% `errno => not_in_target' (see the option `host_keys'). Other errors are `timeout', `not_running', `{port_exited, Status}',
%% `{port_hung, Ms}' (the program stopped answering and was replaced),
%% `{nodedown, Node}' (a C-node that cannot be reached or went away while
%% the call waited) and the validation errors described above.
-module(linx_sysctl).

-compile({no_auto_import, [apply/2]}).

-include("linx_owned.hrl").

-export([read/1, read/2]).
-export([read_int/1, read_int/2]).
-export([read_ints/1, read_ints/2]).
-export([write/2, write/3]).
-export([list/0, list/1, list/2]).
-export([apply/1, apply/2]).
-export([supported/0]).
-export([format_error/1]).

%% Helpers, exported for tests and for other linx modules.
-export([key_to_path/1, path_to_key/1, render_value/1, target/1]).

-export_type([key/0, prefix/0, value/0, ns_path/0, in/0, opts/0, target/0]).
-export_type([op/0, stage/0, error_info/0, error_reason/0]).

-type key() :: binary() | string() | atom().
%% `net.ipv4.ip_forward' or `net/ipv4/conf/br.100/forwarding'.

-type prefix() :: key().
%% A key whose subtree is listed; `<<>>', `""' and `' ''' list everything.

-type value() :: integer() | [integer(), ...] | iodata().
%% What {@link write/3} accepts; give text as a binary.

-type ns_path() :: binary() | string().
%% A namespace file, such as `/proc/1234/ns/net'.

-type in() :: linx_opts:in().
%% Where an operation runs (option `in'); see {@link linx_opts}.

-type opts() :: linx_opts:opts().

-type target() :: linx_opts:target().
%% An `in' option as sent to the port program.

-type op() :: linx_sysctl_req:op().

-type stage() :: linx_error:stage().
%% See {@link linx_error:stages/0}.

-type error_info() :: #{op := op(),
                        stage := stage(),
                        errno := atom() | binary(),
                        code := non_neg_integer(),
                        key := binary(),
                        path := binary(),
                        in := in(),
                        written => non_neg_integer(),
                        total => non_neg_integer()}.
%% A failure reported by the port program. `errno' is an errno atom, a
%% reason atom for `badarg', `decode' and `busy', or a message binary for
%% `panic'; `code' is the errno number (0 when `errno' is not an errno).
%% `key' is the key in round-trip form (for {@link list/2} the prefix) and
%% `path' the file under `/proc/sys'.

-type error_reason() :: error_info()
                      | linx_error:reason()
                      | linx_opts:error()
                      | {bad_key | unsupported_type | bad_settings, term()}
                      | {bad_value, {contains, newline | nul}}
                      | {not_integer, binary()}
                      | apply_error().

-type apply_error() :: #{failed := binary(),
                         reason := error_info() | {atom(), term()},
                         rolled_back := [binary()]}.
%% A transactional apply that failed at key `failed': the keys in
%% `rolled_back' were written and then restored to their old values.

%% The largest value the port program writes (src/ops/sysctl.rs).
-define(MAX_VALUE, 1 bsl 20).

-define(REQ, linx_sysctl_req).

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
    ?OWNED(?REQ:run(read, Key, Opts, fun sysctl_read/1)).

%% @equiv read_int(Key, #{})
-spec read_int(key()) -> {ok, integer()} | {error, error_reason()}.
read_int(Key) ->
    read_int(Key, #{}).

%% @doc Reads a sysctl holding one integer.
%% A value that is not an integer gives `{error, {not_integer, Value}}'.
-spec read_int(key(), opts()) -> {ok, integer()} | {error, error_reason()}.
read_int(Key, Opts) ->
    ?OWNED(read_parsed(Key, Opts, fun linx_sysctl_syntax:parse_int/1)).

%% @equiv read_ints(Key, #{})
-spec read_ints(key()) -> {ok, [integer()]} | {error, error_reason()}.
read_ints(Key) ->
    read_ints(Key, #{}).

%% @doc Reads a sysctl holding integers separated by spaces or tabs, such
%% as `net.ipv4.ip_local_port_range' or `net.ipv4.tcp_rmem'.
-spec read_ints(key(), opts()) -> {ok, [integer()]} | {error, error_reason()}.
read_ints(Key, Opts) ->
    ?OWNED(read_parsed(Key, Opts, fun linx_sysctl_syntax:parse_ints/1)).

%% @equiv write(Key, Value, #{})
-spec write(key(), value()) -> ok | {error, error_reason()}.
write(Key, Value) ->
    write(Key, Value, #{}).

%% @doc Writes a sysctl. See the module documentation for how values are
%% rendered.
-spec write(key(), value(), opts()) -> ok | {error, error_reason()}.
write(Key, Value, Opts) ->
    ?OWNED(?REQ:run(write, Key, Opts, fun(Req) -> sysctl_write(Req, Value) end)).

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
%% trimmed like {@link read/2}'s. Entries that cannot be read are left
%% out, as `sysctl -a' does: write-only keys, keys that vanish during the
%% walk, values over 1 MiB and levels deeper than 32 (docs/limits.md).
-spec list(prefix(), opts()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
list(Prefix, Opts) ->
    ?OWNED(?REQ:run(list, Prefix, Opts, fun sysctl_list/1)).

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
%% := Keys}}'. Keys and values are all checked before anything is sent;
%% settings that are not a map or a proper list of pairs are
%% `{error, {bad_settings, Term}}'.
-spec apply([{key(), value()}] | #{key() => value()}, opts()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
apply(Settings, Opts) when is_map(Settings) ->
    ?OWNED(apply(maps:to_list(Settings), Opts));
apply(Settings, Opts) when is_list(Settings) ->
    ?OWNED(case apply_settings(Settings, []) of
               {ok, Pairs} ->
                   ?REQ:run(apply, <<"net">>, Opts, fun(Req) -> sysctl_apply(Req, Pairs) end);
               {error, _} = Error ->
                   Error
           end);
apply(Settings, _Opts) ->
    ?OWNED({error, {bad_settings, Settings}}).

%% @doc Returns `true' on Linux with `/proc/sys' present.
-spec supported() -> boolean().
supported() ->
    os:type() =:= {unix, linux} andalso filelib:is_dir("/proc/sys").

%% @doc Renders an error of this module as one line of text (a flat
%% binary, no newline); {@link linx:format_error/1} renders any error.
%%
%% Accepts both `{error, Reason}' and the bare `Reason'. An
%% {@type error_info()} map is rendered as
%% `sysctl Op "Key"[ in Target] failed on Path: [Stage ]Errno (errno Code)',
%% where `Stage' is shown only when it differs from the operation; a failed
%% {@link apply/2} as `sysctl apply stopped at "Key" (Reason); N earlier
%% writes rolled back'. A write refused with `not_in_target', a partial
%% write and a value too large get a sentence of their own (see
%% {@link linx_sysctl_error}). The errors every module shares are rendered
%% by {@link linx_error:format_error/1}.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun linx_sysctl_error:format_error/1).

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
    linx_sysctl_syntax:key_to_path(Key).

%% @doc Returns the key for a path relative to `/proc/sys', in the form
%% that round-trips through {@link key_to_path/1}: the dot form when every
%% segment is a valid dot-form segment (`net/ipv4/ip_forward' gives
%% `net.ipv4.ip_forward'), the path itself otherwise
%% (`net/ipv4/conf/br.100/forwarding').
-spec path_to_key(binary()) -> binary().
path_to_key(RelPath) ->
    linx_sysctl_syntax:path_to_key(RelPath).

%% @doc Renders a value the way {@link write/3} sends it.
-spec render_value(term()) ->
          {ok, binary()}
        | {error, {bad_value, {contains, newline | nul}}
                | {unsupported_type, term()}}.
render_value(Value) ->
    linx_sysctl_syntax:render_value(Value).

%% @doc Validates an `in' option and returns the target sent to the port
%% program: `{path, P}' becomes `{ns, [P]}' and names and paths become
%% binaries.
-spec target(term()) -> {ok, target()} | {error, {bad_in, term()}}.
target(In) ->
    linx_opts:target(In).

%%====================================================================
%% Internal functions
%%====================================================================

-spec sysctl_read(linx_sysctl_req:req()) -> {ok, binary()} | {error, error_reason()}.
sysctl_read(#{path := RelPath, target := Target} = Req) ->
    case ?REQ:call(Req, {sysctl_read, RelPath, Target}) of
        {ok, Raw} when is_binary(Raw) -> {ok, linx_sysctl_syntax:trim(Raw)};
        Other -> ?REQ:error_reply(Req, Other)
    end.

%% A sysctl read, its value parsed.
-spec read_parsed(term(), term(), fun((binary()) -> {ok, T} | {error, E})) ->
          {ok, T} | {error, E | error_reason()}.
read_parsed(Key, Opts, Parse) ->
    case read(Key, Opts) of
        {ok, Value} -> Parse(Value);
        {error, _} = Error -> Error
    end.

-spec sysctl_write(linx_sysctl_req:req(), term()) -> ok | {error, error_reason()}.
sysctl_write(#{path := RelPath, target := Target} = Req, Value) ->
    case render_value(Value) of
        {ok, Bin} when byte_size(Bin) > ?MAX_VALUE ->
            ?REQ:error_reply(Req, {error, {badarg, too_large}});
        {ok, Bin} ->
            case ?REQ:call(Req, {sysctl_write, RelPath, Bin, Target}) of
                ok -> ok;
                Other -> ?REQ:error_reply(Req, Other)
            end;
        {error, _} = Error ->
            Error
    end.

-spec sysctl_list(linx_sysctl_req:req()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
sysctl_list(#{path := RelPath, target := Target} = Req) ->
    %% Keys and trimmed values made by the program: a whole tree is a
    %% thousand entries.
    Reply = ?REQ:call(Req, {sysctl_list, RelPath, Target, keys}),
    case ?REQ:list_entries(Reply) of
        {ok, _} = Ok -> Ok;
        error -> ?REQ:error_reply(Req, Reply)
    end.

-spec sysctl_apply(linx_sysctl_req:req(), [{binary(), binary()}]) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
sysctl_apply(#{target := Target} = Req, Pairs) ->
    case [P || {P, V} <- Pairs, byte_size(V) > ?MAX_VALUE] of
        [Path | _] -> applied(Req, {error, {apply_failed, Path, {badarg, too_large}, []}});
        [] -> applied(Req, ?REQ:call(Req, {sysctl_apply, Target, Pairs}))
    end.

-spec applied(linx_sysctl_req:req(), term()) ->
          {ok, [{binary(), binary()}]} | {error, error_reason()}.
applied(Req, {ok, Old} = Reply) ->
    case ?REQ:list_entries(Reply) of
        {ok, _} -> {ok, [{path_to_key(P), linx_sysctl_syntax:trim(V)} || {P, V} <- Old]};
        error -> ?REQ:error_reply(Req, Reply)
    end;
applied(Req, {error, {apply_failed, Path, {Stage, Errno}, Rolled}}) when is_binary(Path) ->
    Failed = Req#{path := Path},
    {error, Reason} = ?REQ:error_reply(Failed, {error, {Stage, Errno}}),
    {error, #{failed => path_to_key(Path),
              reason => Reason,
              rolled_back => [path_to_key(P) || P <- Rolled]}};
applied(Req, Other) ->
    ?REQ:error_reply(Req, Other).

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
    {error, {bad_settings, Other}};
apply_settings(ImproperTail, _Acc) ->
    {error, {bad_settings, ImproperTail}}.
