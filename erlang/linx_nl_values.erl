%% @doc Attribute values that are addresses, pure: IPv4 and IPv6
%% addresses from and to their bytes, MAC (link-layer) addresses from and
%% to their bytes or text. The `ip' and `mac' codecs of
%% {@link linx_nl_attrs} read and write with them; {@link linx_rtnl} and
%% its requests check addresses with them.
-module(linx_nl_values).

-define(BYTE(X), is_integer(X), X >= 0, X =< 255).
-define(U16(X), is_integer(X), X >= 0, X =< 65535).

-define(ALNUM(C), ((C >= $0 andalso C =< $9) orelse (C >= $a andalso C =< $z)
                   orelse (C >= $A andalso C =< $Z))).

-export([masked/2]).
-export([ip_address/1, ip_bytes/1]).
-export([format_mac/1, parse_mac/1, mac/1]).
-export([name/2, number/2, bits/2, mask/2]).

%% @doc An IPv4 or IPv6 address from its 4 or 16 bytes; `error' for any
%% other size.
-spec ip_address(binary()) -> {ok, inet:ip_address()} | error.
ip_address(<<A, B, C, D>>) ->
    {ok, {A, B, C, D}};
ip_address(<<A:16, B:16, C:16, D:16, E:16, F:16, G:16, H:16>>) ->
    {ok, {A, B, C, D, E, F, G, H}};
ip_address(_) ->
    error.

%% @doc An inet tuple as its address family (`inet' or `inet6') and
%% bytes; `error' for anything else.
-spec ip_bytes(term()) -> {ok, inet | inet6, binary()} | error.
ip_bytes({A, B, C, D}) when ?BYTE(A), ?BYTE(B), ?BYTE(C), ?BYTE(D) ->
    {ok, inet, <<A, B, C, D>>};
ip_bytes({A, B, C, D, E, F, G, H})
  when ?U16(A), ?U16(B), ?U16(C), ?U16(D), ?U16(E), ?U16(F), ?U16(G), ?U16(H) ->
    {ok, inet6, <<A:16, B:16, C:16, D:16, E:16, F:16, G:16, H:16>>};
ip_bytes(_) ->
    error.

%% @doc A MAC (or any link-layer) address as text: `<<"02:00:5e:10:00:01">>'.
-spec format_mac(binary()) -> binary().
format_mac(Bin) when is_binary(Bin) ->
    iolist_to_binary(lists:join($:, [io_lib:format("~2.16.0b", [B]) || <<B>> <= Bin])).

%% @doc Parses a link-layer address written as bytes of two hex digits
%% each (either case), one `:' or one `-' between each two, the same
%% separator throughout: `"02:00:5e:10:00:01"' (binary or string);
%% `error' for anything else.
-spec parse_mac(binary() | string()) -> {ok, binary()} | error.
parse_mac(Text) when is_binary(Text) ->
    case Text of
        <<_, _, Sep, _/binary>> when Sep =:= $:; Sep =:= $- -> hex_bytes(Text, Sep, <<>>);
        _ -> hex_bytes(Text, none, <<>>)
    end;
parse_mac(Text) when is_list(Text) ->
    try list_to_binary(Text) of
        Bin -> parse_mac(Bin)
    catch
        error:badarg -> error
    end;
parse_mac(_) ->
    error.

hex_bytes(<<H, L>>, _Sep, Acc) ->
    hex_byte(H, L, Acc, fun(Bytes) -> {ok, Bytes} end);
hex_bytes(<<H, L, Sep, Rest/binary>>, Sep, Acc) when Rest =/= <<>> ->
    hex_byte(H, L, Acc, fun(Bytes) -> hex_bytes(Rest, Sep, Bytes) end);
hex_bytes(_, _Sep, _Acc) ->
    error.

hex_byte(H, L, Acc, Next) ->
    case {hex(H), hex(L)} of
        {Hi, Lo} when is_integer(Hi), is_integer(Lo) -> Next(<<Acc/binary, (Hi * 16 + Lo)>>);
        _ -> error
    end.

hex(C) when C >= $0, C =< $9 -> C - $0;
hex(C) when C >= $a, C =< $f -> C - $a + 10;
hex(C) when C >= $A, C =< $F -> C - $A + 10;
hex(_) -> error.

%% @doc A MAC address as its 6 bytes: a binary of 6 bytes is the bytes
%% themselves; text (a binary of 17 bytes, or a string) is
%% `aa:bb:cc:dd:ee:ff' (or with `-'), six bytes of two hex digits each
%% ({@link parse_mac/1}). `error' for anything else: a binary of another
%% size, text that is not six such bytes, and 6 bytes that are the start
%% of such text cut short (`<<"zz:zz:">>', `<<"02:00:">>': two letters or
%% digits, a separator, two more, the separator), which a real MAC is
%% about once in five million.
-spec mac(term()) -> {ok, <<_:48>>} | error.
mac(<<A, B, S, C, D, S>>) when (S =:= $: orelse S =:= $-), ?ALNUM(A), ?ALNUM(B), ?ALNUM(C), ?ALNUM(D) ->
    error;
mac(<<_:48>> = Mac) ->
    {ok, Mac};
mac(Mac) when is_binary(Mac), byte_size(Mac) =:= 17; is_list(Mac), length(Mac) =:= 17 ->
    case parse_mac(Mac) of
        {ok, <<_:48>> = Bin} -> {ok, Bin};
        _ -> error
    end;
mac(_) ->
    error.

%%====================================================================
%% Names of numbers and bits
%%====================================================================

%% @doc The name of number `N' in `Names' (`[{Name, Number}]'), or `N'
%% when it has none.
-spec name(integer(), [{atom(), integer()}]) -> atom() | integer().
name(N, Names) ->
    case lists:keyfind(N, 2, Names) of
        {Name, _} -> Name;
        false -> N
    end.

%% @doc The number of a name of `Names' (or a number as it is).
-spec number(term(), [{atom(), integer()}]) -> {ok, integer()} | error.
number(N, _Names) when is_integer(N) -> {ok, N};
number(Name, Names) when is_atom(Name) ->
    case lists:keyfind(Name, 1, Names) of
        {_, N} -> {ok, N};
        false -> error
    end;
number(_, _Names) ->
    error.

%% @doc The names of the bits set in `N' (`Names' is `[{Name, Bit}]'), in
%% the order of `Names'.
-spec bits(integer(), [{atom(), integer()}]) -> [atom()].
bits(N, Names) ->
    [Name || {Name, Bit} <- Names, N band Bit =/= 0].

%% @doc The bit mask of a list of names of `Names' (or a number as it
%% is); `error' for a name it does not have.
-spec mask(term(), [{atom(), integer()}]) -> {ok, integer()} | error.
mask(Names, Table) ->
    mask(Names, Table, 0).

%% @doc The bits to set and the mask of the bits to change: a list of
%% names sets those (and changes no other), a map of names to booleans
%% changes those it names; `error' for anything else.
-spec masked(term(), [{atom(), integer()}]) -> {ok, integer(), integer()} | error.
masked(V, Table) when is_list(V); is_map(V) ->
    {Set, Changed} = case V of
                         L when is_list(L) -> {L, L};
                         M -> {[N || {N, true} <- maps:to_list(M)], maps:keys(M)}
                     end,
    Bools = is_list(V) orelse lists:all(fun is_boolean/1, maps:values(V)),
    case {mask(Set, Table), mask(Changed, Table)} of
        {{ok, S}, {ok, C}} when Bools -> {ok, S, C};
        _ -> error
    end;
masked(_V, _Table) ->
    error.

mask([], _Table, Acc) ->
    {ok, Acc};
mask([Name | Rest], Table, Acc) when is_atom(Name) ->
    case lists:keyfind(Name, 1, Table) of
        {_, Bit} -> mask(Rest, Table, Acc bor Bit);
        false -> error
    end;
mask(N, _Table, 0) when is_integer(N) ->
    {ok, N};
mask(_, _Table, _Acc) ->
    error.
