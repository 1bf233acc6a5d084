%% @doc Generic netlink: resolve a family by name, and send it requests.
%% Guide: docs/rtnetlink.md in the source tree.
%%
%% ```
%% {ok, #{id := Id, version := V, ops := Ops, groups := Groups}} =
%%     linx_genl:family(<<"nlctrl">>, #{in => {netns, <<"blue">>}}),
%% %% CTRL_CMD_GETFAMILY (3) as a dump: every family.
%% {ok, Replies} = linx_genl:dump(Id, 3, 1, []).
%% '''
%% Options (a map, or a proplist: the same options) are the transport
%% options of {@link linx_netlink:call/3} (`in', `timeout', `via');
%% {@link request/5} and {@link dump/5} also read `flags'. Any other key
%% is refused with `{error, {bad_option, {Key, Value}}}' before anything
%% is sent. A family name is 1 to 15 bytes of text without NUL
%% (`GENL_NAMSIZ'); anything else is `{error, {bad_family, Name}}'.
%% Errors are those of {@link linx_nl}.
-module(linx_genl).

-include("linx_nl.hrl").
-include("linx_owned.hrl").

-export([family/1, family/2, families/0, families/1, request/4, request/5, dump/4, dump/5]).
-export([format_error/1]).

-export_type([family/0, reply/0]).

-type family() :: #{id := 0..16#ffff,
                    name := binary(),
                    version := non_neg_integer(),
                    hdrsize => non_neg_integer(),
                    maxattr => non_neg_integer(),
                    ops := [#{id := non_neg_integer(), flags := non_neg_integer()}],
                    groups := [#{name := binary(), id := non_neg_integer()}],
                    unknown := [{non_neg_integer(), binary()}]}.
%% A family as `CTRL_CMD_NEWFAMILY' describes it: its id, version, the
%% commands it has (`ops') and its multicast groups.

-type reply() :: #{cmd := 0..255, version := 0..255, attrs := [{0..16#3fff, binary()}],
                   type := 0..16#ffff, flags := 0..16#ffff}.
%% One reply message: the generic netlink header and the attributes.

-define(GENL_ID_CTRL, 16).
-define(CTRL_CMD_NEWFAMILY, 1).
-define(CTRL_CMD_GETFAMILY, 3).
-define(CTRL_ATTR_FAMILY_ID, 1).
-define(CTRL_ATTR_FAMILY_NAME, 2).
%% GENL_NAMSIZ: a family name is at most 15 bytes and its NUL.
-define(GENL_NAMSIZ, 16).
%% The options of request/5 and dump/5: the transport options and `flags'.
-define(REQUEST_KEYS, [in, timeout, via, flags]).

%% @doc Looks a family up by name (`CTRL_CMD_GETFAMILY');
%% `{error, #{errno := enoent}}' when the kernel has none of that name.
%% @equiv family(Name, #{})
-spec family(binary() | string()) -> {ok, family()} | {error, term()}.
family(Name) ->
    family(Name, #{}).

-spec family(binary() | string(), linx_netlink:opts()) -> {ok, family()} | {error, term()}.
family(Name, Opts) ->
    ?OWNED(case family_name(Name) of
               {ok, Bin} ->
                   case request(?GENL_ID_CTRL, ?CTRL_CMD_GETFAMILY, 1,
                                [{?CTRL_ATTR_FAMILY_NAME, {string, Bin}}], Opts, 0,
                                linx_opts:transport()) of
                       {ok, [Reply | _]} -> decode_family(Reply);
                       {ok, []} -> {error, {malformed, {genl, no_reply}}};
                       {error, _} = Error -> Error
                   end;
               error ->
                   {error, {bad_family, Name}}
           end).

%% @doc Every generic netlink family of the namespace.
%% @equiv families(#{})
-spec families() -> {ok, [family()]} | {error, term()}.
families() ->
    families(#{}).

-spec families(linx_netlink:opts()) -> {ok, [family()]} | {error, term()}.
families(Opts) ->
    ?OWNED(case request(?GENL_ID_CTRL, ?CTRL_CMD_GETFAMILY, 1, [], Opts, ?NLM_F_DUMP,
                        linx_opts:transport()) of
               {ok, Replies} -> linx_error:map_ok(fun decode_family/1, Replies);
               {error, _} = Error -> Error
           end).

%% @equiv request(Family, Cmd, Version, Attrs, #{})
-spec request(0..16#ffff, 0..255, 0..255, [linx_nl_codec:attr()]) ->
          {ok, [reply()]} | {error, term()}.
request(Family, Cmd, Version, Attrs) ->
    request(Family, Cmd, Version, Attrs, #{}).

%% @doc Sends command `Cmd' (version `Version') with attributes `Attrs'
%% to family `Family' (its id) and returns the replies ({@link dump/5}
%% for a dump); `flags' in `Opts' adds
%% netlink flags (such as `NLM_F_CREATE'). Refused before anything is
%% sent: a family id that is not 0..65535 (`{bad_family, {id, Id}}'), a command
%% or version that is not 0..255 (`{bad_command, {Cmd, Version}}'),
%% `flags' that are not 0..65535 (`{bad_option, {flags, F}}') and
%% attributes that do not encode (`{bad_attrs, Attrs}', an integer too
%% large for its kind included).
%% `dump' in `Opts' is refused (`{bad_option, {dump, D}}'): a dump is
%% {@link dump/5}.
-spec request(0..16#ffff, 0..255, 0..255, [linx_nl_codec:attr()], linx_netlink:opts()) ->
          {ok, [reply()]} | {error, term()}.
request(Family, Cmd, Version, Attrs, Opts) ->
    ?OWNED(request(Family, Cmd, Version, Attrs, Opts, 0, ?REQUEST_KEYS)).

%% @equiv dump(Family, Cmd, Version, Attrs, #{})
-spec dump(0..16#ffff, 0..255, 0..255, [linx_nl_codec:attr()]) ->
          {ok, [reply()]} | {error, term()}.
dump(Family, Cmd, Version, Attrs) ->
    dump(Family, Cmd, Version, Attrs, #{}).

%% @doc Like {@link request/5}, as a dump (`NLM_F_DUMP'): every reply
%% of the kernel's dump, in order.
-spec dump(0..16#ffff, 0..255, 0..255, [linx_nl_codec:attr()], linx_netlink:opts()) ->
          {ok, [reply()]} | {error, term()}.
dump(Family, Cmd, Version, Attrs, Opts) ->
    ?OWNED(request(Family, Cmd, Version, Attrs, Opts, ?NLM_F_DUMP, ?REQUEST_KEYS)).

%% A request (`Dump' its NLM_F_DUMP, or 0) whose options may have `Keys'.
request(Family, _Cmd, _Version, _Attrs, _Opts, _Dump, _Keys)
  when not is_integer(Family); Family < 0; Family > 16#ffff ->
    {error, {bad_family, {id, Family}}};
request(_Family, Cmd, Version, _Attrs, _Opts, _Dump, _Keys)
  when not is_integer(Cmd); Cmd < 0; Cmd > 255;
       not is_integer(Version); Version < 0; Version > 255 ->
    {error, {bad_command, {Cmd, Version}}};
request(Family, Cmd, Version, Attrs, Opts, Dump, Keys) ->
    Flags = fun(_, #{opts := Map}) -> flags(Map) end,
    case linx_opts:check([], Opts, Keys, Flags) of
        {ok, [], #{opts := Map}, Extra} ->
            %% linx_nl takes the transport options; `flags' are in the header.
            send(Family, Cmd, Version, Attrs, Dump bor Extra, maps:without([flags], Map));
        {error, _} = Error ->
            Error
    end.

%% The netlink flags option `flags' adds to a request.
flags(Map) ->
    case maps:get(flags, Map, 0) of
        Extra when is_integer(Extra), Extra >= 0, Extra =< 16#ffff -> {ok, Extra};
        Extra -> {error, {bad_option, {flags, Extra}}}
    end.

send(Family, Cmd, Version, Attrs, Flags, Opts) ->
    try linx_nl_codec:encode_attrs(Attrs) of
        Enc ->
            Req = #{type => Family, flags => Flags,
                    payload => [<<Cmd:8, Version:8, 0:16>>, Enc]},
            case linx_nl:call(generic, Req, Opts, genl) of
                {ok, Msgs} -> linx_error:map_ok(fun reply/1, Msgs);
                {error, _} = Error -> Error
            end
    catch
        error:_ -> {error, {bad_attrs, Attrs}}
    end.

%% @doc Renders an error of this module (or any linx error) as one line.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun format_reason/1).

-spec format_reason(term()) -> unicode:unicode_binary().
format_reason({bad_family, {id, Id}}) ->
    linx_error:invalid("generic netlink family id", Id, "0 to 65535");
format_reason({bad_family, Name}) ->
    linx_error:invalid("generic netlink family name", Name, "1 to 15 bytes of text without NUL");
format_reason({bad_option, {dump, _} = Option}) ->
    linx_error:line(io_lib:format("invalid option ~0tp: a dump is linx_genl:dump/4,5, "
                                  "not an option", [Option]));
format_reason({bad_command, {Cmd, Version}}) ->
    linx_error:line(io_lib:format("invalid generic netlink command ~0tp, version ~0tp: "
                                  "expected integers from 0 to 255", [Cmd, Version]));
format_reason({bad_attrs, Attrs}) ->
    linx_error:invalid("netlink attributes", Attrs, "a list of {Type, Value}");
format_reason(Reason) ->
    linx_nl:format_error(Reason).

%%====================================================================
%% Internal functions
%%====================================================================

%% A family name as a binary: text of 1 to 15 bytes (GENL_NAMSIZ with
%% its NUL) without NUL, which would end it early; `error' for anything
%% else.
family_name(Name) when is_binary(Name); is_list(Name) ->
    case linx_opts:text(Name) of
        {ok, Bin} when byte_size(Bin) > 0, byte_size(Bin) < ?GENL_NAMSIZ ->
            case linx_opts:no_byte_of(Bin, 0, 0) of
                true -> {ok, Bin};
                false -> error
            end;
        _ ->
            error
    end;
family_name(_) ->
    error.

reply(#{type := T, flags := F, payload := <<Cmd:8, V:8, _:16, Rest/binary>>}) ->
    case linx_nl_codec:decode_attrs(Rest) of
        {ok, Attrs} -> {ok, #{type => T, flags => F, cmd => Cmd, version => V, attrs => Attrs}};
        {error, _} = Error -> Error
    end;
reply(_) ->
    {error, {malformed, {genl, short}}}.

decode_family(#{cmd := ?CTRL_CMD_NEWFAMILY, attrs := Attrs}) ->
    Base = #{ops => [], groups => [], unknown => []},
    try lists:foldl(fun family_attr/2, Base, Attrs) of
        #{id := _, name := _, version := _} = F ->
            {ok, F#{unknown := lists:reverse(maps:get(unknown, F))}};
        _ ->
            {error, {malformed, {genl, missing_attrs}}}
    catch
        throw:Where -> {error, {malformed, {genl, Where}}}
    end;
decode_family(_) ->
    {error, {malformed, {genl, not_newfamily}}}.

family_attr({1, <<Id:16/native>>}, F) -> F#{id => Id};
family_attr({2, Name}, F) -> F#{name => linx_nl_codec:string(Name)};
family_attr({3, <<V:32/native>>}, F) -> F#{version => V};
family_attr({4, <<H:32/native>>}, F) -> F#{hdrsize => H};
family_attr({5, <<M:32/native>>}, F) -> F#{maxattr => M};
family_attr({6, Ops}, F) -> F#{ops => [op(O) || {_, O} <- nested(Ops, ops)]};
family_attr({7, Groups}, F) -> F#{groups => [group(G) || {_, G} <- nested(Groups, groups)]};
family_attr({T, V}, #{unknown := U} = F) -> F#{unknown := [{T, V} | U]}.

op(Bin) ->
    Attrs = nested(Bin, op),
    #{id => u32(1, Attrs), flags => u32(2, Attrs)}.

group(Bin) ->
    Attrs = nested(Bin, group),
    #{name => linx_nl_codec:string(proplists:get_value(1, Attrs, <<>>)), id => u32(2, Attrs)}.

u32(T, Attrs) ->
    case proplists:get_value(T, Attrs) of
        <<N:32/native>> -> N;
        _ -> 0
    end.

nested(Bin, Where) ->
    case linx_nl_codec:decode_attrs(Bin) of
        {ok, Attrs} -> Attrs;
        {error, _} -> throw(Where)
    end.
