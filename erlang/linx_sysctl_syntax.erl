%% @doc The text of sysctls: keys and values.
%%
%% A key is in dot form (`net.ipv4.ip_forward', segments of
%% `[A-Za-z0-9_-]+' whose dots become slashes) or slash form
%% (`net/ipv4/conf/br.100/forwarding', the path below `/proc/sys'; no
%% empty, `.' or `..' segment, no control character), at most 4096 bytes;
%% {@link key_to_path/1} checks it and {@link path_to_key/1} goes back in
%% the form that round-trips. Values written are rendered by
%% {@link render_value/1}; values read are trimmed by {@link trim/1} and
%% parsed by {@link parse_int/1} and {@link parse_ints/1}. See
%% {@link linx_sysctl} for the rules as the API documents them.
-module(linx_sysctl_syntax).

-export([key_to_path/1, path_to_key/1]).
-export([render_value/1, trim/1, parse_int/1, parse_ints/1]).

-define(MAX_KEY, 4096).
-define(IS_DOT_CHAR(C), ((C >= $a andalso C =< $z) orelse (C >= $A andalso C =< $Z)
                         orelse (C >= $0 andalso C =< $9) orelse C =:= $_ orelse C =:= $-)).

%%====================================================================
%% Keys
%%====================================================================

%% @doc The path below `/proc/sys' of a key in either form; see
%% {@link linx_sysctl:key_to_path/1}.
-spec key_to_path(term()) -> {ok, binary()} | {error, {bad_key, term()}}.
key_to_path(Key) ->
    case key_binary(Key) of
        {ok, Bin} when byte_size(Bin) > 0, byte_size(Bin) =< ?MAX_KEY ->
            case key_form(Bin, $.) of
                dots ->
                    {ok, swap(Bin, <<".">>, $/)};
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

%% @doc The key of a path below `/proc/sys', in the form that round-trips;
%% see {@link linx_sysctl:path_to_key/1}.
-spec path_to_key(binary()) -> binary().
path_to_key(<<>>) ->
    <<>>;
path_to_key(RelPath) when is_binary(RelPath) ->
    case dot_form(RelPath, $/) of
        true -> swap(RelPath, <<"/">>, $.);
        false -> RelPath
    end.

-spec key_binary(term()) -> {ok, binary()} | error.
key_binary(Key) when is_binary(Key) ->
    {ok, Key};
key_binary(Key) when is_atom(Key) ->
    {ok, atom_to_binary(Key, utf8)};
key_binary(Key) when is_list(Key) ->
    linx_opts:text(Key);
key_binary(_) ->
    error.

%% Whether a key is in dot form (`dots'): segments of `[A-Za-z0-9_-]+'
%% separated by single dots. `slash' when the key has a `/' (it is then
%% in slash form). `Prev' is the previous byte, `$.' at the start so that
%% a leading, trailing or doubled dot is refused.
-spec key_form(binary(), byte()) -> dots | slash | error.
key_form(<<$/, _/binary>>, _Prev) ->
    slash;
key_form(<<$., Rest/binary>>, Prev) when Prev =/= $. ->
    key_form(Rest, $.);
key_form(<<C, Rest/binary>>, _Prev) when ?IS_DOT_CHAR(C) ->
    key_form(Rest, C);
key_form(<<>>, Prev) when Prev =/= $. ->
    dots;
key_form(Rest, _Prev) ->
    %% A `/' further on still makes this a slash-form key.
    case linx_opts:no_byte_of(Rest, $/, $/) of
        true -> error;
        false -> slash
    end.

%% Whether a path from the port has a dot form: segments of
%% `[A-Za-z0-9_-]+' separated by single slashes (otherwise the path is
%% its own key). Only checked here, byte by byte; the slashes are then
%% replaced in one call, which a list walk of a thousand keys notices.
-spec dot_form(binary(), byte()) -> boolean().
dot_form(<<C, Rest/binary>>, _Prev) when ?IS_DOT_CHAR(C) ->
    dot_form(Rest, C);
dot_form(<<$/, Rest/binary>>, Prev) when Prev =/= $/ ->
    dot_form(Rest, $/);
dot_form(<<>>, Prev) ->
    Prev =/= $/;
dot_form(_, _Prev) ->
    false.

%% `Bin' with every `Sep' replaced by `New', once the form has been
%% checked: split and joined in C, where a byte-by-byte rebuild here made
%% garbage that every read paid for in collections.
-spec swap(binary(), binary(), byte()) -> binary().
swap(Bin, Sep, New) ->
    iolist_to_binary(lists:join(New, binary:split(Bin, Sep, [global]))).

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

%%====================================================================
%% Values
%%====================================================================

%% @doc Renders a value the way {@link linx_sysctl:write/3} sends it: an
%% integer in decimal, a non-empty list of integers as decimals separated
%% by single spaces, a binary or iolist as it is. A newline or NUL byte in
%% the result is refused.
-spec render_value(term()) ->
          {ok, binary()}
        | {error, {bad_value, {contains, newline | nul}}
                | {unsupported_type, term()}}.
render_value(Value) ->
    case render(Value) of
        {ok, Bin} -> check_value(Bin);
        error -> {error, {unsupported_type, Value}}
    end.

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

%% @doc A value read, without its trailing spaces, tabs and newlines.
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

%% @doc A value read that holds one integer (leading blanks allowed).
-spec parse_int(binary()) -> {ok, integer()} | {error, {not_integer, binary()}}.
parse_int(Value) ->
    try binary_to_integer(trim_leading(Value)) of
        Int -> {ok, Int}
    catch
        error:badarg -> {error, {not_integer, Value}}
    end.

%% @doc A value read that holds integers separated by spaces or tabs.
-spec parse_ints(binary()) ->
          {ok, [integer()]} | {error, {not_integer, binary()}}.
parse_ints(Value) ->
    Words = binary:split(Value, [<<" ">>, <<"\t">>], [global, trim_all]),
    try [binary_to_integer(W) || W <- Words] of
        Ints -> {ok, Ints}
    catch
        error:badarg -> {error, {not_integer, Value}}
    end.

