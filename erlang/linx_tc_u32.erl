%% @doc The u32 filter's options and the actions of a filter, both ways.
%%
%% Options: `classid' (a handle), `match' (a list of `{src, IP, Len}',
%% `{dst, IP, Len}' (IPv4 prefixes), `{protocol, N}', `{sport, Port}',
%% `{dport, Port}' and `{u32, Value, Mask, Offset}', as tc's `match ip
%% src|dst|protocol|sport|dport' and `match u32'), or `keys' (the
%% selector's keys, `#{value, mask, off, offmask}'), `terminal' (the
%% selector's flag, `true' unless given), `actions' (a list of
%% `{mirred, #{action => redirect | mirror, direction => egress | ingress,
%% link => Link, control => Control}}' or `{Kind, OptionsBytes}').
%% Matches at one offset become one key, as with tc. A decoded filter
%% has `match' when every key reads as one, else `keys'.
-module(linx_tc_u32).

-export([encode/2, decode/1, encode_actions/2, decode_actions/1]).

-define(T, linx_tc_tables).
-define(TC_U32_TERMINAL, 1).
%% TCA_CLS_FLAGS_SKIP_HW and _SKIP_SW
-define(SKIP_FLAGS, 3).

%% @doc The bytes of a u32 filter's `TCA_OPTIONS'; throws `{Field,
%% Value}' for one that does not encode.
-spec encode(map(), linx_tc_values:resolver()) -> iodata().
encode(Opts, Resolve) ->
    case maps:keys(maps:without([classid, match, keys, terminal, actions, hash, link, divisor,
                                 flags], Opts)) of
        [] -> ok;
        [K | _] -> throw({K, maps:get(K, Opts)})
    end,
    Keys = case Opts of
               #{match := _, keys := K2} -> throw({keys, K2});
               #{match := M} -> merge(match_keys(M), M, []);
               #{keys := K2} when is_list(K2) -> [key(K, K2) || K <- K2];
               #{keys := K2} -> throw({keys, K2});
               #{} -> []
           end,
    Flags = case maps:get(terminal, Opts, true) of
                true -> ?TC_U32_TERMINAL;
                false -> 0;
                T -> throw({terminal, T})
            end,
    {ok, Head} = linx_nl_attrs:encode_struct(?T:struct(u32_sel),
                                             #{flags => Flags, nkeys => length(Keys)}),
    Sel = [Head | [begin
                       {ok, B} = linx_nl_attrs:encode_struct(?T:struct(u32_key), K),
                       B
                   end || K <- Keys]],
    ClassId = case Opts of
                  #{classid := C} ->
                      case linx_tc_values:handle(handle, C) of
                          {ok, N} -> [{classid, N}];
                          error -> throw({classid, C})
                      end;
                  #{} ->
                      []
              end,
    Act = case Opts of
              #{actions := Acts} -> [{act, encode_actions(Acts, Resolve)}];
              #{} -> []
          end,
    Raw = [{K, V} || {K, V} <- maps:to_list(maps:with([hash, link, divisor, flags], Opts))],
    case linx_nl_attrs:encode({?T, u32}, ClassId ++ Raw ++ [{sel, iolist_to_binary(Sel)}] ++ Act) of
        {ok, Io} -> Io;
        {error, {bad_value, K3, V}} -> throw({K3, V})
    end.

key(#{value := V, mask := M, off := O} = K, _All)
  when is_integer(V), is_integer(M), is_integer(O) ->
    #{value => V band M, mask => M, off => O, offmask => maps:get(offmask, K, 0)};
key(_K, All) ->
    throw({keys, All}).

%% Each match as `{Off, OffMask, Mask, Value}'.
match_keys(Ms) when is_list(Ms) ->
    [match_key(M) || M <- Ms];
match_keys(Ms) ->
    throw({match, Ms}).

match_key({Dir, IP, Len} = M) when Dir =:= src; Dir =:= dst ->
    case IP of
        {_, _, _, _} when is_integer(Len), Len >= 0, Len =< 32 ->
            case linx_nl_values:ip_bytes(IP) of
                {ok, inet, <<N:32>>} ->
                    Mask = (16#ffffffff bsl (32 - Len)) band 16#ffffffff,
                    {case Dir of src -> 12; dst -> 16 end, 0, Mask, N band Mask};
                _ -> throw({match, M})
            end;
        _ -> throw({match, M})
    end;
match_key({protocol, P}) when is_integer(P), P >= 0, P =< 255 ->
    {8, 0, 16#00ff0000, P bsl 16};
match_key({sport, P}) when is_integer(P), P >= 0, P =< 16#ffff ->
    {20, 0, 16#ffff0000, P bsl 16};
match_key({dport, P}) when is_integer(P), P >= 0, P =< 16#ffff ->
    {20, 0, 16#0000ffff, P};
match_key({u32, V, M, Off}) when is_integer(V), is_integer(M), M >= 0, M =< 16#ffffffff,
                                 is_integer(Off), Off rem 4 =:= 0, abs(Off) < 16#80000000 ->
    {Off, 0, M, V band M};
match_key(M) ->
    throw({match, M}).

%% Keys at one offset made one, in the place of the first: their masks
%% and values together, when they agree where the masks meet.
merge([{Off, OM, M2, V2} | Rest], All, Acc) ->
    case lists:keyfind({Off, OM}, 1, Acc) of
        {_, M1, V1} when (V1 band M2) =:= (V2 band M1) ->
            merge(Rest, All, lists:keyreplace({Off, OM}, 1, Acc, {{Off, OM}, M1 bor M2, V1 bor V2}));
        {_, _, _} ->
            throw({match, All});
        false ->
            merge(Rest, All, Acc ++ [{{Off, OM}, M2, V2}])
    end;
merge([], _All, Acc) ->
    [#{off => Off, offmask => OM, mask => M, value => V} || {{Off, OM}, M, V} <- Acc].

%% @doc A filter's action list (`TCA_*_ACT'): each action nested under
%% its place in the list, from 1.
-spec encode_actions(term(), linx_tc_values:resolver()) -> binary().
encode_actions(Acts, Resolve) when is_list(Acts) ->
    Attrs = [{I, action(A, Resolve)} || {I, A} <- lists:zip(lists:seq(1, length(Acts)), Acts)],
    iolist_to_binary(linx_nl_codec:encode_attrs(Attrs));
encode_actions(Acts, _Resolve) ->
    throw({actions, Acts}).

action({mirred, #{} = M} = A, Resolve) ->
    maps:size(maps:without([action, direction, link, control, index], M)) =:= 0
        orelse throw({action, A}),
    What = maps:get(action, M, redirect),
    EAction = case {maps:get(direction, M, egress), What} of
                  {egress, redirect} -> egress_redirect;
                  {egress, mirror} -> egress_mirror;
                  {ingress, redirect} -> ingress_redirect;
                  {ingress, mirror} -> ingress_mirror;
                  _ -> throw({action, A})
              end,
    ActIndex = case maps:get(index, M, 0) of
                   AI when is_integer(AI), AI >= 0, AI =< 16#ffffffff -> AI;
                   _ -> throw({action, A})
               end,
    Index = case Resolve(maps:get(link, M, undefined)) of
                {ok, I} -> I;
                {error, _} = Error -> throw(Error)
            end,
    DefControl = case What of
                     redirect -> stolen;
                     mirror -> pipe
                 end,
    Control = case linx_nl_values:number(maps:get(control, M, DefControl), ?T:names(control)) of
                  {ok, C} -> C;
                  error -> throw({action, A})
              end,
    Parms = #{index => ActIndex, control => Control, eaction => eaction(EAction),
              ifindex => Index},
    {ok, Opts} = linx_nl_attrs:encode({?T, mirred}, [{parms, Parms}]),
    act(<<"mirred">>, iolist_to_binary(Opts));
action({Kind, Bin}, _Resolve) when is_binary(Kind), is_binary(Bin) ->
    act(Kind, Bin);
action(A, _Resolve) ->
    throw({action, A}).

eaction(Name) ->
    {ok, N} = linx_nl_values:number(Name, ?T:names(eaction)),
    N.

act(Kind, Opts) ->
    {ok, Io} = linx_nl_attrs:encode({?T, act}, [{kind, Kind}, {options, Opts}]),
    iolist_to_binary(Io).

%% @doc A u32 filter's options as a map (`{ok, Map}'), or `error'.
-spec decode(binary()) -> {ok, map()} | error.
decode(Bin) ->
    {ok, A} = linx_nl_attrs:decode({?T, u32}, Bin),
    %% the flags the kernel sets itself (TCA_CLS_FLAGS_IN_HW,
    %% _NOT_IN_HW, _VERBOSE) are left out: skip_hw and skip_sw are kept
    M0 = case maps:with([hash, link, divisor, indev, unknown], A) of
             M when is_map_key(flags, A), map_get(flags, A) band ?SKIP_FLAGS =/= 0 ->
                 M#{flags => map_get(flags, A) band ?SKIP_FLAGS};
             M ->
                 M
         end,
    M1 = case A of
             #{classid := C} -> M0#{classid => linx_tc_values:decode_handle(handle, C)};
             #{} -> M0
         end,
    M2 = case A of
             #{sel := Sel} -> maps:merge(M1, selector(Sel));
             #{} -> M1
         end,
    {ok, case A of
             #{act := Acts} -> M2#{actions => decode_actions(Acts)};
             #{} -> M2
         end}.

selector(Sel) ->
    Fields = ?T:struct(u32_sel),
    {ok, H0, KeysBin} = linx_nl_attrs:decode_struct(Fields, Sel),
    H = maps:from_list(H0),
    Keys = [maps:from_list(K)
            || <<B:16/binary>> <= KeysBin,
               {ok, K, <<>>} <- [linx_nl_attrs:decode_struct(?T:struct(u32_key), B)]],
    Terminal = #{terminal => maps:get(flags, H) band ?TC_U32_TERMINAL =/= 0},
    Matches = [match(K) || K <- Keys],
    case lists:member(error, Matches) of
        true -> Terminal#{keys => Keys};
        false -> Terminal#{match => lists:append(Matches)}
    end.

match(#{off := Off, offmask := 0, mask := M, value := V}) when Off =:= 12; Off =:= 16 ->
    Len = prefix_len(M),
    case ((16#ffffffff bsl (32 - Len)) band 16#ffffffff) =:= M of
        true ->
            <<A, B, C, D>> = <<V:32>>,
            [{case Off of 12 -> src; 16 -> dst end, {A, B, C, D}, Len}];
        false ->
            error
    end;
match(#{off := 8, offmask := 0, mask := 16#00ff0000, value := V}) ->
    [{protocol, V bsr 16}];
match(#{off := 20, offmask := 0, mask := M, value := V}) ->
    case M of
        16#ffff0000 -> [{sport, V bsr 16}];
        16#0000ffff -> [{dport, V}];
        16#ffffffff -> [{sport, V bsr 16}, {dport, V band 16#ffff}];
        _ -> error
    end;
match(_) ->
    error.

prefix_len(M) -> length([1 || I <- lists:seq(0, 31), M band (1 bsl I) =/= 0]).

%% @doc A filter's action list as `{mirred, Map}' or `{Kind, Bytes}'.
-spec decode_actions(binary()) -> [tuple()].
decode_actions(Bin) ->
    case linx_nl_codec:decode_attrs(Bin) of
        {ok, Acts} -> [decode_action(B) || {_Order, B} <- lists:keysort(1, Acts)];
        {error, _} -> []
    end.

decode_action(B) ->
    case linx_nl_attrs:decode({?T, act}, B) of
        {ok, #{kind := <<"mirred">>, options := O} = A} ->
            case linx_nl_attrs:decode({?T, mirred}, O) of
                {ok, #{parms := P0}} ->
                    P = maps:from_list(P0),
                    Dir = linx_nl_values:name(maps:get(eaction, P), ?T:names(eaction)),
                    {What, Where} = case Dir of
                                        egress_redirect -> {redirect, egress};
                                        egress_mirror -> {mirror, egress};
                                        ingress_redirect -> {redirect, ingress};
                                        ingress_mirror -> {mirror, ingress};
                                        N -> {N, N}
                                    end,
                    {mirred, #{action => What, direction => Where,
                               link => maps:get(ifindex, P),
                               control => linx_nl_values:name(maps:get(control, P),
                                                              ?T:names(control)),
                               index => maps:get(index, A, maps:get(index, P))}};
                _ ->
                    {<<"mirred">>, O}
            end;
        {ok, #{kind := K, options := O}} ->
            {K, O};
        _ ->
            {<<>>, B}
    end.
