%% @doc The text of {@link linx_sysctl}'s errors, one line each; see
%% {@link linx_sysctl:format_error/1} for the forms.
%%
%% Besides the usual `sysctl Op "Key"[ in Target] failed on Path:
%% [Stage ]Errno (errno Code)', three reasons get a sentence of their own:
%% <ul>
%% <li>`errno => not_in_target': a write outside `net.*' through a target
%%     that enters only a network namespace, which the port program refused
%%     because the key would have been written in the host's namespaces
%%     (see the option `host_keys').</li>
%% <li>`errno => partial': the kernel took only `written' of the `total'
%%     bytes; the value has changed.</li>
%% <li>`errno => too_large': a value or request larger than the port
%%     program takes, refused before it was sent.</li>
%% </ul>
-module(linx_sysctl_error).

-export([format_error/1]).

%% @doc Renders an error of {@link linx_sysctl} as one line of text (a
%% flat binary, no newline); errors it shares with the other modules go to
%% {@link linx_error:format_error/1}.
-spec format_error(term()) -> unicode:unicode_binary().
format_error({error, Reason}) ->
    format_error(Reason);
format_error(#{failed := Key, reason := Reason, rolled_back := Rolled}) ->
    linx_error:line(
      io_lib:format("sysctl apply stopped at \"~ts\" (~ts); ~b earlier write~ts rolled back",
                    [Key, format_error(Reason), length(Rolled),
                     case length(Rolled) of 1 -> ""; _ -> "s" end]));
format_error(#{op := Op, key := Key, path := Path, stage := Stage,
               errno := not_in_target} = Error)
  when is_atom(Op), is_atom(Stage), is_binary(Path) ->
    %% The path would have been the host's, not the target's: not shown.
    linx_error:line(
      [io_lib:format("sysctl ~ts ~ts failed: ", [atom_to_list(Op), linx_error:quote(Key)]),
       in_term(maps:get(in, Error, self)),
       " enters only the network namespace, so this key would be written in the "
       "host's namespaces; use in => {pid, OsPid} for a process's namespaces, "
       "or host_keys => true to mean it"]);
format_error(#{op := Op, key := Key, path := Path, stage := Stage, errno := Errno,
               code := Code} = Error)
  when is_atom(Op), is_atom(Stage), is_binary(Path) ->
    linx_error:line(
      [io_lib:format("sysctl ~ts ~ts", [atom_to_list(Op), linx_error:quote(Key)]),
       linx_error:in_text(maps:get(in, Error, self)),
       io_lib:format(" failed on ~ts: ", [linx_error:text(Path)]),
       reason_text(Op, Stage, Errno, Code, Error)]);
format_error({bad_key, Key}) ->
    linx_error:invalid("sysctl key", Key, "the dot form (net.ipv4.ip_forward) or the slash form "
                       "(net/ipv4/conf/br.100/forwarding)");
format_error({bad_value, {contains, newline}}) ->
    <<"invalid sysctl value: it contains a newline">>;
format_error({bad_value, {contains, nul}}) ->
    <<"invalid sysctl value: it contains a NUL byte">>;
format_error({bad_value, What}) ->
    linx_error:line(io_lib:format("invalid sysctl value: ~0tp", [What]));
format_error({unsupported_type, Value}) ->
    linx_error:line(
      io_lib:format("unsupported sysctl value ~0tP: expected an integer, "
                    "a list of integers, a binary or an iolist", [Value, 20]));
format_error({bad_settings, Settings}) ->
    linx_error:line(
      io_lib:format("invalid sysctl settings ~0tP: expected a map or a proper list "
                    "of {Key, Value} pairs", [Settings, 20]));
format_error({not_integer, Value}) ->
    linx_error:line(io_lib:format("sysctl value ~0tp is not an integer", [Value]));
format_error(Reason) ->
    linx_error:format_error(Reason).

%%====================================================================
%% Internal functions
%%====================================================================

%% What went wrong, after `failed on Path: '.
-spec reason_text(atom(), atom(), term(), term(), map()) -> unicode:chardata().
reason_text(_Op, _Stage, partial, _Code, #{written := Written, total := Total}) ->
    io_lib:format("the kernel took ~b of ~b bytes (partial write; the value has changed)",
                  [Written, Total]);
reason_text(_Op, _Stage, too_large, _Code, _Error) ->
    linx_error:too_large_text();
reason_text(Op, Stage, Errno, Code, _Error) ->
    [case Stage of
         Op -> [];
         _ -> [atom_to_list(Stage), $\s]
     end,
     linx_error:term_text(Errno),
     linx_error:code_text(Code)].

%% An `in' option as the caller would write it, names quoted:
%% `{netns, "blue"}'.
-spec in_term(term()) -> unicode:chardata().
in_term({Tag, Name}) when (Tag =:= netns orelse Tag =:= path),
                          (is_binary(Name) orelse is_list(Name)) ->
    [${, atom_to_list(Tag), ", ", linx_error:quote(Name), $}];
in_term({ns, Paths}) when is_list(Paths) ->
    ["{ns, [", lists:join(", ", [linx_error:quote(P) || P <- Paths]), "]}"];
in_term({pid, Pid}) when is_integer(Pid) ->
    io_lib:format("{pid, ~b}", [Pid]);
in_term(In) ->
    io_lib:format("~0tp", [In]).
