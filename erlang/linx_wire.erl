%% @doc The wire protocol between {@link linx_port} and the port program.
%%
%% The port is opened with `{packet, 4}': every frame, in both directions,
%% is a 4-byte big-endian length followed by that many bytes, and those bytes
%% are one term in the external term format (`term_to_binary/1').
%%
%% <ul>
%% <li>Request (Erlang to program): `{Id, Op}', `Id' a positive integer
%%     chosen by `linx_port' (1, 2, 3, ...).</li>
%% <li>Reply (program to Erlang): `{Id, Result}' with the `Id' of the
%%     request. Replies are sent in whatever order the requests finish.</li>
%% <li>`Id' `0' is reserved for frames not tied to a request (a frame that
%%     did not decode, a log line `{0, {log, Level, Text}}', a fatal
%%     notice).</li>
%% <li>The first frame the program sends is `{0, {ready, Version}}',
%%     `Version' a binary.</li>
%% </ul>
%%
%% Targets (`Target' in every op) are `self', `{pid, OsPid}',
%% `{netns, Name}' (`/run/netns/Name') or `{ns, [NsPath]}' (entered in
%% order; `[]' enters nothing).
%%
%% Ops and their results:
%% <ul>
%% <li>`{sysctl_read, RelPath, Target}' gives `{ok, Value}', the raw
%%     contents of `/proc/sys/RelPath' (trailing newline kept).</li>
%% <li>`{sysctl_write, RelPath, Value, Target}' gives `ok'.
%%     `{sysctl_write, RelPath, Value, Target, raw}' writes `Value' as
%%     given in one `write(2)' (an empty value is a write of nothing, not a
%%     newline; a partial write is `ok'): {@link linx_native}'s contract.</li>
%% <li>`{sysctl_list, RelPath, Target}' gives `{ok, [{RelPath, Value}]}'
%%     sorted by path; `RelPath' `<<>>' lists the whole tree.</li>
%% <li>`{netlink_call, Protocol, Msg, Target}' gives `{ok, [Binary]}':
%%     `Msg' (netlink messages) sent from the socket the port program
%%     keeps in the target's network namespace, and every reply message,
%%     one binary each.</li>
%% <li>`{netlink_open, Protocol, Groups, Target}' and
%%     `{socket_open, Domain, Type, Protocol, Target}' give `{ok, fd}'; the
%%     descriptor travels on the fd channel ({@link linx_fdchan}).</li>
%% <li>`{netlink_bind_fd, Fd, Groups}' gives `ok': the program binds
%%     descriptor `Fd' of this node (the process at the other end of the
%%     fd channel), taken with `pidfd_getfd(2)', with `nl_pid' 0 and the
%%     group mask `Groups', and closes its copy. Every failure is
%%     `{error, {bind, Errno}}'.</li>
%% </ul>
%% `RelPath' is a binary relative to `/proc/sys' with `/' separators.
%%
%% Any op may fail with `{error, {Stage, Errno}}': `Stage' is one of
%% {@link linx_error:stages/0}; `Errno' is a lowercase errno atom such as
%% `eacces', or for `badarg' and `decode' a reason atom such as `path',
%% `target' or `value'. A `netlink_call' whose `ns_fds' name a namespace
%% that fails gives `{error, {ns_fd, Offset, {Stage, Errno}}}' instead,
%% `Offset' that entry's.
%%
%% Replies are decoded with `binary_to_term(Bin, [safe])', so the program
%% can never create atoms in this node; {@link ensure_atoms/0} makes sure
%% every atom the program may send exists before the first reply arrives.
%%
%% == Limits ==
%% The program reads frames of at most 16 MiB ({@link max_frame/0}); a
%% longer one would be skipped unread and could not be answered in time.
%% {@link encode/2} refuses to make such a frame, and {@link fits/1} says
%% whether an op sent some other way (to a C-node) is within the limit;
%% both give `{error, {badarg, too_large}}', before anything is sent.
-module(linx_wire).

-export([encode/2, fits/1, max_frame/0, decode/1, frame_id/1, asks_parts/1]).
-export([ensure_atoms/0]).

%% The largest frame the program reads (src/wire/frame.rs, MAX_FRAME).
-define(MAX_FRAME, 16#1000000).
%% The largest id term: a 64-bit id is at most a small big of 8 bytes.
-define(MAX_ID, 16#FFFFFFFFFFFFFFFF).

%% Atoms the program may put in its frames besides the stages and errno
%% names of linx_error.
-define(PROTOCOL_ATOMS,
        [ok, error, ready, bad_option,
         %% reasons that are not errnos
         path, target, value, op, arity, badterm, badframe, too_large,
         encode, queue, workers, eunknown, batch, protocol, groups, domain,
         type, fd, msg, log, notice, info, debug, helpers, helpers_started,
         apply_failed, sysctl_apply, settings, not_in_target, partial, more,
         part_bytes, form, ns_fd,
         host_keys, name, lo, pid, handle, held, netns, helper, hung,
         %% keys of the stats reply
         requests, errors, bad_frames, workers_started, uptime_ms,
         helpers_hung]).

%% @doc The frame of request `Id', or `{error, {badarg, too_large}}' when
%% it would be longer than the program reads.
-spec encode(pos_integer(), term()) -> {ok, binary()} | {error, {badarg, too_large}}.
encode(Id, Op) ->
    case term_to_binary({Id, Op}) of
        Bin when byte_size(Bin) =< ?MAX_FRAME -> {ok, Bin};
        _ -> {error, {badarg, too_large}}
    end.

%% @doc `ok' when the frame of `Op' fits in {@link max_frame/0} bytes
%% whatever its id, without encoding it (a C-node reads each op under the
%% same limit).
-spec fits(term()) -> ok | {error, {badarg, too_large}}.
fits(Op) ->
    case erlang:external_size({?MAX_ID, Op}) =< ?MAX_FRAME of
        true -> ok;
        false -> {error, {badarg, too_large}}
    end.

%% @doc Whether the program may answer `Op' in parts (`{Id, more,
%% Replies}' frames ahead of its reply): a `netlink_call' with a part size.
-spec asks_parts(term()) -> boolean().
asks_parts({netlink_call, _Protocol, _Msg, _Target, _NsFds, PartBytes}) ->
    is_integer(PartBytes) andalso PartBytes > 0;
asks_parts({netlink_call, _Protocol, _Msg, _Target, _NsFds, PartBytes, _Strict}) ->
    is_integer(PartBytes) andalso PartBytes > 0;
asks_parts(_Op) ->
    false.

%% @doc The longest frame the program reads, in bytes (16 MiB).
-spec max_frame() -> pos_integer().
max_frame() ->
    ?MAX_FRAME.

%% @doc Decodes a frame from the program, refusing atoms this node does
%% not know.
-spec decode(binary()) -> {ok, term()} | error.
decode(Bin) ->
    try binary_to_term(Bin, [safe]) of
        Term -> {ok, Term}
    catch
        error:badarg -> error
    end.

%% @doc Reads the id of a frame without decoding the rest: `{ok, Id}'
%% for a reply `{Id, Result}', `{part, Id}' for a part `{Id, more,
%% Replies}' that comes ahead of the reply of `Id'.
-spec frame_id(binary()) -> {ok | part, non_neg_integer()} | error.
frame_id(<<131, 104, 2, Rest/binary>>) ->
    tagged_id(ok, Rest);
frame_id(<<131, 104, 3, Rest/binary>>) ->
    tagged_id(part, Rest);
frame_id(_) ->
    error.

tagged_id(Tag, <<97, Id:8, _/binary>>) ->
    {Tag, Id};
tagged_id(Tag, <<98, Id:32/signed, _/binary>>) when Id >= 0 ->
    {Tag, Id};
tagged_id(Tag, <<110, N:8, 0:8, Digits:N/binary, _/binary>>) ->
    {Tag, binary:decode_unsigned(Digits, little)};
tagged_id(_Tag, _) ->
    error.

%% @doc Makes sure every atom the program may send exists in this node:
%% the protocol's own, the stages and the errno names.
-spec ensure_atoms() -> ok.
ensure_atoms() ->
    Atoms = ?PROTOCOL_ATOMS ++ linx_error:stages() ++ linx_error:errnos(),
    lists:foreach(fun(A) when is_atom(A) -> ok end, Atoms).
