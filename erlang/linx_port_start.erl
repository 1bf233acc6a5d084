%% @doc The start of the port program, up to the point where
%% {@link linx_port} can serve requests: the fd channel's peer is the
%% program (see {@link linx_fdchan:accept/4}) and its ready frame
%% `{0, {ready, Version}}' has arrived, both within 5 seconds of the
%% port's opening. Id-0 notices sent before the ready frame are logged
%% (even undecodable ones); any other frame means the program does not
%% speak this protocol.
-module(linx_port_start).

-include_lib("kernel/include/logger.hrl").

-export([handshake/3]).

-define(READY_TIMEOUT, 5000).

%% @doc Takes the program's connection on `Listener' and waits for its
%% ready frame: its OS pid, the fd channel and its version.
-spec handshake(port(), socket:socket(), file:filename_all()) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
handshake(Port, Listener, Program) ->
    handshake(Port, Listener, erlang:monotonic_time(millisecond) + ?READY_TIMEOUT, Program).

%%====================================================================
%% Internal functions
%%====================================================================

-spec handshake(port(), socket:socket(), integer(), file:filename_all()) ->
          {ok, non_neg_integer(), socket:socket(), binary()} | {error, term()}.
handshake(Port, Listener, Deadline, Program) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, OsPid} ->
            case linx_fdchan:accept(Listener, {OsPid, Program}, Deadline, Port) of
                {ok, Sock} ->
                    case await_ready(Port, Deadline) of
                        {ok, Version} ->
                            {ok, OsPid, Sock, Version};
                        {error, _} = Error ->
                            _ = socket:close(Sock),
                            Error
                    end;
                {error, timeout} ->
                    {error, fd_channel_timeout};
                {error, {exit_status, _}} = Error ->
                    Error;
                {error, Reason} ->
                    {error, {fd_channel, Reason}}
            end;
        undefined ->
            {error, port_closed}
    end.

%% Waits for `{0, {ready, Version}}'. Other id-0 notices sent before it are
%% logged (even undecodable ones); any other frame means the program does
%% not speak this protocol.
-spec await_ready(port(), integer()) -> {ok, binary()} | {error, term()}.
await_ready(Port, Deadline) ->
    Timeout = max(0, Deadline - erlang:monotonic_time(millisecond)),
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
