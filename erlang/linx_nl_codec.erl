%% @doc The netlink message and attribute codec: pure, no I/O.
%%
%% Netlink headers and attributes are in host byte order. A message is a
%% map `#{type, flags, seq, pid, payload}' ({@type msg()}); attributes are
%% `{Type, Value}' pairs ({@type attr()}), aligned to 4 bytes on the wire.
%% Nothing here raises on input from the kernel: a binary that does not
%% parse gives `{error, {malformed, Where}}', and an attribute no table
%% knows is kept as `{Type, Binary}'. The typed attribute tables of
%% {@link linx_nl_attrs} sit on top of this module; the requests of
%% {@link linx_nl} above both.
-module(linx_nl_codec).

-include("linx_nl.hrl").

%% Messages
-export([encode/1, decode/1, decode_copied/1, decode_all/1]).
%% Attributes
-export([encode_attrs/1, encode_attr/1, fits/2, int_bytes/2, decode_attrs/1, decode_tree/1, attr_map/1]).
-export([error_info/2, done_error_info/2, errno_name/1]).
%% Values
-export([string/1, u8/1, u16/1, u32/1, u64/1, s32/1]).

-export_type([msg/0, msg_in/0, attr/0, attr_value/0, error_info/0, malformed/0, int_kind/0]).

-type msg() :: #{type := 0..16#ffff,
                 flags := 0..16#ffff,
                 seq := 0..16#ffffffff,
                 pid := 0..16#ffffffff,
                 payload := binary()}.
%% A decoded message; `payload' is what follows the 16-byte header.

-type msg_in() :: #{type := 0..16#ffff,
                    flags => 0..16#ffff,
                    seq => 0..16#ffffffff,
                    pid => 0..16#ffffffff,
                    payload => iodata()}.
%% A message to encode; missing fields are 0 (payload empty).

-type attr_value() :: iodata()
                    | {nested, [attr()]}
                    | {net, iodata()}
                    | {u8 | u16 | u32 | u64 | s8 | s16 | s32 | s64, integer()}
                    | {be16 | be32 | be64 | sbe32, integer()}
                    | {string, iodata()}
                    | flag.
%% What an attribute holds when it is encoded: raw bytes; `{nested, Attrs}'
%% (sets `NLA_F_NESTED'); `{net, Bytes}' (sets `NLA_F_NET_BYTEORDER');
%% an integer in host byte order; `{be16 | be32 | be64, N}' (and `sbe32',
%% signed) in network byte order (sets `NLA_F_NET_BYTEORDER'); a string, NUL-terminated; `flag', empty.

-type attr() :: {0..16#3fff, attr_value()}.

-type malformed() :: {malformed, term()}.
%% Where a binary stopped making sense: `{header, Offset}',
%% `{attr, Offset}', `{error_msg, What}', `{Message, What}'.

-type error_info() :: #{stage := netlink,
                        errno := atom(),
                        code := integer(),
                        message => binary(),
                        offset => non_neg_integer(),
                        missing_type => non_neg_integer(),
                        op => atom(),
                        in => linx_opts:in()}.
%% An `NLMSG_ERROR' with an errno: `errno' is its name (or `unknown'),
%% `code' its number; `message' and `offset' are the kernel's extended
%% ack (`NLMSGERR_ATTR_MSG', `NLMSGERR_ATTR_OFFS', the offset counted
%% from the start of the request message).

-define(HDRLEN, 16).


-type int_kind() :: u8 | u16 | u32 | u64 | s8 | s16 | s32 | s64 | be16 | be32 | be64 | sbe32.
%% The integer kinds an attribute may hold.

%%====================================================================
%% Messages
%%====================================================================

%% @doc Encodes one message: the header (its length computed) and the
%% payload, padded to 4 bytes. Raises `badarg' for a field out of its
%% range (the header's fields are not cut to fit).
-spec encode(msg_in()) -> binary().
encode(#{type := Type} = Msg) ->
    Payload = iolist_to_binary(maps:get(payload, Msg, <<>>)),
    Len = ?HDRLEN + byte_size(Payload),
    Flags = maps:get(flags, Msg, 0),
    Seq = maps:get(seq, Msg, 0),
    Pid = maps:get(pid, Msg, 0),
    case fits(u16, Type) andalso fits(u16, Flags) andalso fits(u32, Seq) andalso fits(u32, Pid)
        andalso fits(u32, Len) of
        true ->
            <<Len:32/native, Type:16/native, Flags:16/native, Seq:32/native, Pid:32/native,
              Payload/binary, (pad(Len))/binary>>;
        false ->
            error(badarg, [Msg])
    end.

%% @doc Splits a datagram (or the concatenation of several) into its
%% messages. Each header's length is checked against what is there; a
%% lying length is `{error, {malformed, {header, Offset}}}'. Trailing
%% padding shorter than a header is allowed, anything longer must parse.
-spec decode(binary()) -> {ok, [msg()]} | {error, malformed()}.
decode(Bin) when is_binary(Bin) ->
    decode(Bin, false, 0, []);
decode(_) ->
    {error, {malformed, not_binary}}.

%% @doc {@link decode/1} for a receive buffer: each payload is a copy of
%% its bytes instead of a part of `Bin'. What is decoded from a message
%% then holds only that message, not the buffer it came in: a
%% `socket:recv/3' of length 0 returns part of a buffer of the socket's
%% whole `rcvbuf' (64 KiB here), and one kept part of it (an event, a
%% name in it) keeps all of it. The port program's replies need no copy:
%% each is a binary of its own.
-spec decode_copied(binary()) -> {ok, [msg()]} | {error, malformed()}.
decode_copied(Bin) when is_binary(Bin) ->
    decode(Bin, true, 0, []);
decode_copied(_) ->
    {error, {malformed, not_binary}}.

decode(<<Len:32/native, Type:16/native, Flags:16/native, Seq:32/native, Pid:32/native,
         Rest/binary>>, Copy, Off, Acc)
  when Len >= ?HDRLEN, Len - ?HDRLEN =< byte_size(Rest) ->
    PLen = Len - ?HDRLEN,
    <<Payload0:PLen/binary, Tail/binary>> = Rest,
    Payload = case Copy of
                  true -> binary:copy(Payload0);
                  false -> Payload0
              end,
    Msg = #{type => Type, flags => Flags, seq => Seq, pid => Pid, payload => Payload},
    Skip = min(align(Len) - Len, byte_size(Tail)),
    <<_:Skip/binary, Next/binary>> = Tail,
    decode(Next, Copy, Off + Len + Skip, [Msg | Acc]);
decode(Bin, _Copy, Off, Acc) when byte_size(Bin) < 4 ->
    case Bin of
        <<0:(byte_size(Bin) * 8)>> -> {ok, lists:reverse(Acc)};
        _ -> {error, {malformed, {header, Off}}}
    end;
decode(_Bin, _Copy, Off, _Acc) ->
    {error, {malformed, {header, Off}}}.

%%====================================================================
%% Attributes
%%====================================================================

%% @doc Encodes attributes, each padded to 4 bytes. See {@type attr_value()}
%% for what a value may be. Raises `badarg' for a value that is none of
%% those (attributes come from the caller, never from the kernel).
-spec encode_attrs([attr()]) -> iodata().
encode_attrs(Attrs) ->
    [encode_attr(A) || A <- Attrs].

%% @doc Encodes one attribute (see {@link encode_attrs/1}).
-spec encode_attr(attr()) -> iodata().
encode_attr({Type, {nested, Attrs}}) when is_list(Attrs) ->
    attr(Type bor ?NLA_F_NESTED, iolist_to_binary(encode_attrs(Attrs)));
encode_attr({Type, {net, Value}}) ->
    attr(Type bor ?NLA_F_NET_BYTEORDER, iolist_to_binary(Value));
encode_attr({Type, {Kind, N}} = Attr) when Kind =:= be16; Kind =:= be32; Kind =:= be64;
                                           Kind =:= sbe32; Kind =:= u8;
                                           Kind =:= u16; Kind =:= u32; Kind =:= u64;
                                           Kind =:= s8; Kind =:= s16; Kind =:= s32;
                                           Kind =:= s64 ->
    %% A bit syntax segment would keep the low bits of an integer too
    %% large for it: such a value is refused instead.
    case fits(Kind, N) of
        true -> encode_int(Type, Kind, N);
        false -> error(badarg, [Attr])
    end;
encode_attr({Type, {string, S}}) -> attr(Type, <<(iolist_to_binary(S))/binary, 0>>);
encode_attr({Type, flag}) -> attr(Type, <<>>);
encode_attr({Type, Value}) -> attr(Type, iolist_to_binary(Value)).

encode_int(Type, Kind, N) when Kind =:= be16; Kind =:= be32; Kind =:= be64; Kind =:= sbe32 ->
    attr(Type bor ?NLA_F_NET_BYTEORDER, int_bytes(Kind, N));
encode_int(Type, Kind, N) ->
    attr(Type, int_bytes(Kind, N)).

%% @doc The bytes of integer `N' as kind `Kind' holds it (host byte
%% order, or network byte order for `be16', `be32', `be64', `sbe32'); `N' must fit
%% ({@link fits/2}).
-spec int_bytes(int_kind(), integer()) -> binary().
int_bytes(u8, N) -> <<N:8>>;
int_bytes(s8, N) -> <<N:8/signed>>;
int_bytes(u16, N) -> <<N:16/native>>;
int_bytes(s16, N) -> <<N:16/signed-native>>;
int_bytes(u32, N) -> <<N:32/native>>;
int_bytes(s32, N) -> <<N:32/signed-native>>;
int_bytes(u64, N) -> <<N:64/native>>;
int_bytes(s64, N) -> <<N:64/signed-native>>;
int_bytes(be16, N) -> <<N:16/big>>;
int_bytes(be32, N) -> <<N:32/big>>;
int_bytes(be64, N) -> <<N:64/big>>;
int_bytes(sbe32, N) -> <<N:32/signed-big>>.

%% @doc Whether integer `N' fits an attribute of kind `Kind' (`false'
%% for a kind that is no integer kind).
-spec fits(atom(), term()) -> boolean().
fits(Kind, N) when is_integer(N) ->
    case int_bits(Kind) of
        {false, Bits} -> N >= 0 andalso N < 1 bsl Bits;
        {true, Bits} -> N >= -(1 bsl (Bits - 1)) andalso N < 1 bsl (Bits - 1);
        none -> false
    end;
fits(_Kind, _N) ->
    false.

int_bits(u8) -> {false, 8};
int_bits(u16) -> {false, 16};
int_bits(u32) -> {false, 32};
int_bits(u64) -> {false, 64};
int_bits(be16) -> {false, 16};
int_bits(be32) -> {false, 32};
int_bits(be64) -> {false, 64};
int_bits(s8) -> {true, 8};
int_bits(s16) -> {true, 16};
int_bits(s32) -> {true, 32};
int_bits(s64) -> {true, 64};
int_bits(sbe32) -> {true, 32};
int_bits(_) -> none.

attr(Type, Value) when is_integer(Type), Type >= 0, Type =< 16#ffff,
                       byte_size(Value) =< 16#ffff - 4 ->
    Len = 4 + byte_size(Value),
    [<<Len:16/native, Type:16/native>>, Value, pad(Len)].

%% @doc Decodes a run of attributes into `{Type, Binary}' pairs, in order,
%% with the `NLA_F_NESTED' and `NLA_F_NET_BYTEORDER' bits taken off the
%% type. A length that runs past the end is
%% `{error, {malformed, {attr, Offset}}}'.
-spec decode_attrs(binary()) -> {ok, [{0..16#3fff, binary()}]} | {error, malformed()}.
decode_attrs(Bin) when is_binary(Bin) ->
    attrs(Bin, 0, []);
decode_attrs(_) ->
    {error, {malformed, not_binary}}.

%% The value and padding are matched in the head, with sizes computed from
%% the length: the loop walks one match context instead of making a
%% sub-binary of the rest per attribute.
attrs(<<Len:16/native, Type:16/native, Value:(Len - 4)/binary, _:((-Len) band 3)/binary,
        Next/binary>>, Off, Acc) ->
    attrs(Next, Off + align(Len), [{Type band ?NLA_TYPE_MASK, Value} | Acc]);
attrs(<<>>, _Off, Acc) ->
    {ok, lists:reverse(Acc)};
attrs(Bin, Off, Acc) ->
    case last_attr(Bin) of
        {ok, Padded} -> attrs(Padded, Off, Acc);
        error -> {error, {malformed, {attr, Off}}}
    end.

%% The last attribute of a run, when what follows it is shorter than its
%% padding (cut short, not missing; accepted): that attribute padded.
last_attr(<<Len:16/native, _:16, _:(Len - 4)/binary, Tail/binary>> = Bin)
  when byte_size(Tail) < ((-Len) band 3) ->
    {ok, <<(binary:part(Bin, 0, Len))/binary, 0:(((-Len) band 3) * 8)>>};
last_attr(_) ->
    error.

%% @doc Decodes attributes as a tree: one with `NLA_F_NESTED' set is
%% decoded again as `{Type, {nested, Attrs}}', one with
%% `NLA_F_NET_BYTEORDER' is `{Type, {net, Binary}}', any other
%% `{Type, Binary}'. `decode_tree(iolist_to_binary(encode_attrs(A)))' gives
%% `A' back for attributes of raw, `nested' and `net' values.
-spec decode_tree(binary()) -> {ok, [attr()]} | {error, malformed()}.
decode_tree(Bin) when is_binary(Bin) ->
    tree(Bin, 0, []);
decode_tree(_) ->
    {error, {malformed, not_binary}}.

tree(<<Len:16/native, Type:16/native, Rest/binary>>, Off, Acc)
  when Len >= 4, Len - 4 =< byte_size(Rest) ->
    VLen = Len - 4,
    <<Value:VLen/binary, Tail/binary>> = Rest,
    Skip = min(align(Len) - Len, byte_size(Tail)),
    <<_:Skip/binary, Next/binary>> = Tail,
    T = Type band ?NLA_TYPE_MASK,
    Decoded = if
                  Type band ?NLA_F_NESTED =/= 0 ->
                      case tree(Value, Off + 4, []) of
                          {ok, Inner} -> {ok, {T, {nested, Inner}}};
                          {error, _} = Error -> Error
                      end;
                  Type band ?NLA_F_NET_BYTEORDER =/= 0 -> {ok, {T, {net, Value}}};
                  true -> {ok, {T, Value}}
              end,
    case Decoded of
        {ok, A} -> tree(Next, Off + Len + Skip, [A | Acc]);
        {error, _} = Error1 -> Error1
    end;
tree(<<>>, _Off, Acc) ->
    {ok, lists:reverse(Acc)};
tree(_, Off, _Acc) ->
    {error, {malformed, {attr, Off}}}.

%% @doc Decodes attributes into a map from type to value (the last one
%% wins when a type repeats).
-spec attr_map(binary()) -> {ok, #{0..16#3fff => binary()}} | {error, malformed()}.
attr_map(Bin) ->
    case decode_attrs(Bin) of
        {ok, Attrs} -> {ok, maps:from_list(Attrs)};
        {error, _} = Error -> Error
    end.

%% @doc A string attribute: the bytes before the first NUL.
-spec string(binary()) -> binary().
string(Bin) ->
    string(Bin, 0).

%% A byte at a time: names are short, and binary:match/2 would compile
%% its pattern on each call (twice the time, in a link dump's hot loop).
string(Bin, N) ->
    case Bin of
        <<_:N/binary, 0, _/binary>> -> binary:part(Bin, 0, N);
        <<_:N/binary, _, _/binary>> -> string(Bin, N + 1);
        _ -> Bin
    end.

%% @doc An unsigned 8-bit attribute; `error' when the size is wrong.
-spec u8(binary()) -> {ok, 0..16#ff} | error.
u8(<<N:8>>) -> {ok, N};
u8(_) -> error.

%% @doc An unsigned 16-bit attribute in host byte order.
-spec u16(binary()) -> {ok, 0..16#ffff} | error.
u16(<<N:16/native>>) -> {ok, N};
u16(_) -> error.

%% @doc An unsigned 32-bit attribute in host byte order.
-spec u32(binary()) -> {ok, 0..16#ffffffff} | error.
u32(<<N:32/native>>) -> {ok, N};
u32(_) -> error.

%% @doc An unsigned 64-bit attribute in host byte order.
-spec u64(binary()) -> {ok, non_neg_integer()} | error.
u64(<<N:64/native>>) -> {ok, N};
u64(_) -> error.

%% @doc A signed 32-bit attribute in host byte order.
-spec s32(binary()) -> {ok, integer()} | error.
s32(<<N:32/signed-native>>) -> {ok, N};
s32(_) -> error.

%%====================================================================
%% NLMSG_ERROR
%%====================================================================

%% @doc Decodes the payload of an `NLMSG_ERROR' (or of an `NLMSG_DONE'
%% that carries an error) sent with header flags `Flags': `ack' for an
%% error of 0, else the {@type error_info()} map with the extended-ack
%% attributes that came with it.
-spec error_info(binary(), 0..16#ffff) -> ack | {error, error_info()} | {error, malformed()}.
error_info(<<0:32, _/binary>>, _Flags) ->
    ack;
error_info(<<Neg:32/signed-native, Rest/binary>>, Flags) ->
    Code = -Neg,
    Base = #{stage => netlink, errno => errno_name(Code), code => Code},
    case Flags band ?NLM_F_ACK_TLVS of
        0 ->
            {error, Base};
        _ ->
            case ack_tlvs(Rest, Flags) of
                {ok, Tlvs} -> {error, maps:merge(Base, ext_ack(Tlvs, #{}))};
                {error, _} = Error -> Error
            end
    end;
error_info(_, _Flags) ->
    {error, {malformed, {error_msg, short}}}.

%% @doc Decodes the payload of an `NLMSG_DONE' that ends a dump with an
%% error (a negative errno): as {@link error_info/2}, but the
%% extended-ack attributes (`NLM_F_ACK_TLVS') follow the errno at once,
%% with no copy of the request before them.
-spec done_error_info(binary(), 0..16#ffff) -> {error, error_info()} | {error, malformed()}.
done_error_info(<<Neg:32/signed-native, Tlvs/binary>>, Flags) when Neg < 0 ->
    Code = -Neg,
    Base = #{stage => netlink, errno => errno_name(Code), code => Code},
    case Flags band ?NLM_F_ACK_TLVS of
        0 ->
            {error, Base};
        _ ->
            case decode_attrs(Tlvs) of
                {ok, Attrs} -> {error, maps:merge(Base, ext_ack(Attrs, #{}))};
                {error, _} -> {error, {malformed, {done_msg, ack_tlvs}}}
            end
    end;
done_error_info(_, _Flags) ->
    {error, {malformed, {done_msg, short}}}.

%% The extended-ack attributes after the copy of the request: just its
%% header when NLM_F_CAPPED, else all of it.
ack_tlvs(Rest, Flags) ->
    case Rest of
        <<Len:32/native, _/binary>> when Flags band ?NLM_F_CAPPED =:= 0,
                                          Len >= ?HDRLEN, Len =< byte_size(Rest) ->
            Skip = min(align(Len), byte_size(Rest)),
            <<_:Skip/binary, Tlvs/binary>> = Rest,
            decode_attrs(Tlvs);
        <<_:?HDRLEN/binary, Tlvs/binary>> when Flags band ?NLM_F_CAPPED =/= 0 ->
            decode_attrs(Tlvs);
        _ ->
            {error, {malformed, {error_msg, request_copy}}}
    end.

ext_ack([{?NLMSGERR_ATTR_MSG, Text} | Rest], Acc) ->
    ext_ack(Rest, Acc#{message => string(Text)});
ext_ack([{?NLMSGERR_ATTR_OFFS, <<Off:32/native>>} | Rest], Acc) ->
    ext_ack(Rest, Acc#{offset => Off});
ext_ack([{?NLMSGERR_ATTR_MISS_TYPE, <<T:32/native>>} | Rest], Acc) ->
    ext_ack(Rest, Acc#{missing_type => T});
ext_ack([_ | Rest], Acc) ->
    ext_ack(Rest, Acc);
ext_ack([], Acc) ->
    Acc.

%% @doc The errno name of a Linux errno number (`17' is `eexist');
%% `unknown' for a number linx does not know.
-spec errno_name(integer()) -> atom().
errno_name(Code) ->
    Names = case persistent_term:get({linx_nl, errnos}, undefined) of
                undefined ->
                    Map = maps:from_list([{linx_error:errno_code(E), E}
                                          || E <- lists:sort(linx_error:errnos()),
                                             not lists:member(E, [ewouldblock, edeadlock, enotsup])]),
                    persistent_term:put({linx_nl, errnos}, Map),
                    Map;
                Map ->
                    Map
            end,
    maps:get(Code, Names, unknown).

%% @doc Decodes several datagrams into their messages, in order.
-spec decode_all([binary()]) -> {ok, [msg()]} | {error, malformed()}.
decode_all(Bins) ->
    case linx_error:map_ok(fun decode/1, Bins) of
        {ok, PerBin} -> {ok, lists:append(PerBin)};
        {error, _} = Error -> Error
    end.

%%====================================================================
%% Internal functions
%%====================================================================

align(N) ->
    (N + 3) band (bnot 3).

pad(Len) ->
    Bits = ((4 - (Len band 3)) band 3) * 8,
    <<0:Bits>>.
