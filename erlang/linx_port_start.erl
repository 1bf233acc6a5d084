%% @doc The start of the port program, up to the point where
%% {@link linx_port} can serve requests ({@link start/0}): this node
%% listens on a fresh fd channel ({@link linx_fdchan:listen/0}), opens the
%% port with the command line of {@link linx_port_args}, and then the fd
%% channel's peer is the program (see {@link linx_fdchan:accept/4}) and
%% its ready frame `{0, {ready, Version}}' has arrived, both within 5
%% seconds of the port's opening. Id-0 notices sent before the ready frame
%% are logged (even undecodable ones); any other frame means the program
%% does not speak this protocol.
%%
%% The first frame written to the program is the fd channel's start
%% token: 32 random bytes, the frame's whole body (not a term). The
%% program sends them back on the channel, which proves that the peer
%% read this port's stdin, also when a wrapper such as `sudo' runs it as
%% another user.
%%
%% A program that refuses its command line (an unknown option, a bad
%% policy) sends `{0, {bad_option, Text}}' before it exits with status 2;
%% the start then fails with `{bad_option, Text}' rather than
%% `{exit_status, 2}'.
%%
%% Each start is logged, a restart (a start after the first) at level
%% `notice'; {@link exit_text/1} describes an exit status for the log.
-module(linx_port_start).

-include_lib("kernel/include/logger.hrl").

-export([start/0]).
-export([exit_text/1]).

-export_type([started/0]).

-type started() :: #{port := port(),
                     os_pid := non_neg_integer(),
                     fd_sock := socket:socket(),
                     fd_name := binary(),
                     version := binary()}.
%% A program ready to serve: its port and OS pid, the fd channel's
%% connected socket and name, and the version it announced.

-define(READY_TIMEOUT, 5000).

%% @doc Starts the port program and waits until it is ready; the start
%% is counted in {@link linx_stats}. The fd channel's listener is closed
%% either way, and the port when the start fails. A failure to listen is
%% `{error, {fd_channel, Reason}}', to open the port
%% `{error, {open_port, Reason}}'.
-spec start() -> {ok, started()} | {error, term()}.
start() ->
    case linx_fdchan:listen() of
        {ok, Listener, Name} ->
            Started = open(linx_port_args:command(Name), Listener, Name),
            _ = socket:close(Listener),
            Started;
        {error, Reason} ->
            {error, {fd_channel, Reason}}
    end.

%% @doc How the program ended, for a log line: `exit status 1', or for a
%% status above 128 (as the port reports a death by a signal)
%% `exit status 137 (killed by signal 9, SIGKILL)'. Any other reason
%% (the fd channel broke, the port closed) is printed as a term.
-spec exit_text(term()) -> unicode:chardata().
exit_text(Status) when is_integer(Status), Status > 128, Status < 128 + 65 ->
    Signal = Status - 128,
    io_lib:format("exit status ~b (killed by signal ~b~ts)", [Status, Signal, signal_name(Signal)]);
exit_text(Status) when is_integer(Status) ->
    io_lib:format("exit status ~b", [Status]);
exit_text(Reason) ->
    io_lib:format("~0tp", [Reason]).

%%====================================================================
%% Internal functions
%%====================================================================

%% The program run with command line `Command', ready on the fd channel
%% `Listener' of name `Name'.
-spec open({ok, file:filename_all(), [string() | binary()], file:filename_all()}
           | {error, term()}, socket:socket(), binary()) ->
          {ok, started()} | {error, term()}.
open({ok, Path, Args, Program}, Listener, Name) ->
    try open_port({spawn_executable, Path},
                  [{packet, 4}, binary, exit_status, use_stdio, {args, Args}]) of
        Port ->
            case handshake(Port, Listener, Program) of
                {ok, OsPid, Sock, Version} ->
                    ok = linx_stats:port_started(),
                    {ok, #{port => Port, os_pid => OsPid, fd_sock => Sock, fd_name => Name,
                           version => Version}};
                {error, _} = Error ->
                    _ = (catch port_close(Port)),
                    Error
            end
    catch
        error:Reason ->
            {error, {open_port, Reason}}
    end;
open({error, _} = Error, _Listener, _Name) ->
    Error.

%% Sends the start token, takes the program's connection on `Listener'
%% and waits for its ready frame: its OS pid, the fd channel and its
%% version.
-spec handshake(port(), socket:socket(), file:filename_all()) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
handshake(Port, Listener, Program) ->
    case linx_fdchan:token() of
        {ok, Token} ->
            %% A program that already exited closed its stdin; its exit
            %% status then says why.
            _ = (catch port_command(Port, Token)),
            Deadline = linx_opts:deadline(?READY_TIMEOUT),
            shook(Port, handshake(Port, Listener, Deadline, {Program, Token}));
        {error, _} = Error ->
            Error
    end.

%% The handshake's end: a start is logged, and a program that exited
%% says why.
-spec shook(port(), {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
shook(_Port, {ok, OsPid, _Sock, Version} = Ok) ->
    log_start(OsPid, Version),
    Ok;
shook(Port, {error, {exit_status, Status}}) ->
    {error, refusal(Port, Status)};
shook(_Port, {error, _} = Error) ->
    Error.

-spec handshake(port(), socket:socket(), integer(), {file:filename_all(), binary()}) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
handshake(Port, Listener, Deadline, {Program, Token}) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, OsPid} ->
            case linx_fdchan:accept(Listener, {OsPid, Program, Token}, Deadline, Port) of
                {ok, Sock} -> ready(Port, OsPid, Sock, Deadline);
                {error, Reason} -> {error, channel_error(Reason)}
            end;
        undefined ->
            %% Closed already: a program that refused its command line
            %% can exit before this looks. Its exit status (and the frame
            %% before it) say why.
            Timeout = linx_opts:remaining(Deadline),
            receive
                {Port, {exit_status, Status}} -> {error, {exit_status, Status}}
            after Timeout ->
                {error, port_closed}
            end
    end.

%% The program connected on `Sock': its ready frame, or the socket closed.
-spec ready(port(), non_neg_integer(), socket:socket(), integer()) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
ready(Port, OsPid, Sock, Deadline) ->
    case await_ready(Port, Deadline) of
        {ok, Version} ->
            {ok, OsPid, Sock, Version};
        {error, _} = Error ->
            _ = socket:close(Sock),
            Error
    end.

%% Why the program's connection did not come.
-spec channel_error(term()) -> term().
channel_error(timeout) -> fd_channel_timeout;
channel_error({exit_status, _} = Exit) -> Exit;
channel_error(Reason) -> {fd_channel, Reason}.

%% Why the program exited during the start: the `{0, {bad_option, Text}}'
%% it sent before exiting (its frames arrive before its exit status), or
%% else its exit status.
-spec refusal(port(), term()) -> {bad_option, binary()} | {exit_status, term()}.
refusal(Port, Status) ->
    receive
        {Port, {data, Bin}} ->
            case linx_wire:decode(Bin) of
                {ok, {0, {bad_option, Text}}} when is_binary(Text) -> {bad_option, Text};
                _ -> refusal(Port, Status)
            end
    after 0 ->
        {exit_status, Status}
    end.

-spec log_start(non_neg_integer(), binary()) -> ok.
log_start(OsPid, Version) ->
    case linx_stats:starts() of
        0 ->
            ?LOG_INFO("linx_port: port program ~ts started as OS pid ~b",
                      [Version, OsPid], #{linx_os_pid => OsPid, domain => [linx]});
        N ->
            ?LOG_NOTICE("linx_port: port program restarted as OS pid ~b (start ~b)",
                        [OsPid, N + 1], #{linx_os_pid => OsPid, domain => [linx]})
    end.

-spec signal_name(pos_integer()) -> string().
signal_name(Signal) ->
    Names = #{1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 6 => "SIGABRT",
              7 => "SIGBUS", 8 => "SIGFPE", 9 => "SIGKILL", 11 => "SIGSEGV", 13 => "SIGPIPE",
              14 => "SIGALRM", 15 => "SIGTERM"},
    case Names of
        #{Signal := Name} -> ", " ++ Name;
        _ -> ""
    end.

%% Waits for `{0, {ready, Version}}'. Other id-0 notices sent before it are
%% logged (even undecodable ones); any other frame means the program does
%% not speak this protocol.
-spec await_ready(port(), linx_opts:deadline()) -> {ok, binary()} | {error, term()}.
await_ready(Port, Deadline) ->
    Timeout = linx_opts:remaining(Deadline),
    receive
        {Port, {data, Bin}} ->
            case linx_wire:decode(Bin) of
                {ok, {0, {ready, Version}}} when is_binary(Version) ->
                    {ok, Version};
                {ok, {0, Notice}} ->
                    ?LOG_WARNING("linx_port: notice before ready: ~0tP",
                                 [Notice, 30]),
                    await_ready(Port, Deadline);
                {ok, Other} ->
                    {error, {unexpected_frame, Other}};
                error ->
                    case linx_wire:frame_id(Bin) of
                        {ok, 0} ->
                            ?LOG_WARNING("linx_port: undecodable notice of "
                                         "~b bytes before ready",
                                         [byte_size(Bin)]),
                            await_ready(Port, Deadline);
                        _ ->
                            {error, {undecodable_frame, byte_size(Bin)}}
                    end
            end;
        {Port, {exit_status, Status}} ->
            {error, {exit_status, Status}};
        {'EXIT', Port, Reason} ->
            {error, {port_exit, Reason}}
    after Timeout ->
        {error, timeout}
    end.
