%% @doc Traffic control messages ⇄ maps: `struct tcmsg' and the `TCA_*'
%% attributes of qdiscs, classes and filters through
%% {@link linx_tc_tables}, the kinds' options through
%% {@link linx_tc_kinds}, handles through {@link linx_tc_values}. Pure, no
%% I/O: a link named by its name is looked up by the resolver given.
-module(linx_tc_msg).

-include("linx_nl.hrl").

-export([request/4, dump_request/3, decode/2]).

-export_type([object/0]).

-define(T, linx_tc_tables).

-type object() :: #{link := pos_integer() | binary(), kind => binary() | atom(),
                    handle => handle(), parent => handle(), options => map() | binary(),
                    prio => 0..16#ffff, protocol => atom() | 0..16#ffff,
                    chain => non_neg_integer(), atom() => term()}.
%% A qdisc, class or filter (see linx_tc's module documentation).
-type handle() :: linx_tc_values:handle().
-type resolver() :: linx_tc_values:resolver().

%%====================================================================
%% Requests
%%====================================================================

%% @doc The request that makes (`new', with the netlink flags of an add,
%% a replace or a change) or deletes (`del') `Spec'. A field that does
%% not encode is `{error, {bad_qdisc | bad_class | bad_filter, {Field,
%% Value}}}'; a link that cannot be resolved is the resolver's error.
-spec request({new, 0..16#ffff} | del, qdisc | class | filter, term(), resolver()) ->
          {ok, linx_nl_codec:msg_in()} | {error, term()}.
request(What, Object, Spec, Resolve) when is_map(Spec) ->
    try
        Link = case Spec of
                   #{link := L} -> L;
                   #{} -> throw({link, missing})
               end,
        Kind = kind(Object, Spec),
        {Handle, Parent} = handles(Object, Kind, Spec),
        Info = info(Object, Spec),
        Chain = case Spec of
                    #{chain := C} -> [{chain, C}];
                    _ -> []
                end,
        Options = options(What, Object, Kind, Spec, Resolve),
        KindAttr = case Kind of
                       undefined -> [];
                       _ -> [{kind, kind_text(Kind)}]
                   end,
        Attrs = case linx_nl_attrs:encode({?T, tc}, KindAttr ++ Options ++ Chain) of
                    {ok, A} -> A;
                    {error, {bad_value, K, V}} -> throw({K, V})
                end,
        Index = case Resolve(Link) of
                    {ok, I} -> I;
                    {error, _} = Error -> throw(Error)
                end,
        {ok, Hdr} = linx_nl_attrs:encode_struct(?T:header(),
                                                #{index => Index, handle => Handle,
                                                  parent => Parent, info => Info}),
        {Type, Flags} = case What of
                            {new, F} -> {type(Object, new), F};
                            del -> {type(Object, del), 0}
                        end,
        {ok, #{type => Type, flags => Flags, payload => [Hdr, Attrs]}}
    catch
        throw:{error, _} = Err -> Err;
        throw:{Field, Value} -> {error, {bad(Object), {Field, Value}}}
    end;
request(_What, Object, Spec, _Resolve) ->
    {error, {bad(Object), Spec}}.

%% @doc A dump of the qdiscs of every link (`Index' 0), or of the classes
%% or filters of link `Index' under `Parent' (0: all the link's classes;
%% the root qdisc's filters).
-spec dump_request(qdisc | class | filter, non_neg_integer(), 0..16#ffffffff) ->
          linx_nl_codec:msg_in().
dump_request(Object, Index, Parent) ->
    {ok, Hdr} = linx_nl_attrs:encode_struct(?T:header(), #{index => Index, parent => Parent}),
    #{type => type(Object, get), flags => ?NLM_F_DUMP, payload => Hdr}.

type(Object, What) ->
    hd([N || {N, O, W} <- ?T:messages(), O =:= Object, W =:= What]).

bad(qdisc) -> bad_qdisc;
bad(class) -> bad_class;
bad(filter) -> bad_filter.

%% The kind, which a deletion may leave out.
kind(_Object, Spec) ->
    case Spec of
        #{kind := K} when is_atom(K), K =/= undefined -> K;
        #{kind := K} when is_binary(K) -> K;
        #{kind := K} -> throw({kind, K});
        #{} -> undefined
    end.

kind_text(K) when is_atom(K) -> atom_to_binary(K);
kind_text(K) -> K.

%% The handle and parent of the header: an ingress or clsact qdisc sits
%% at TC_H_INGRESS with handle ffff:0 unless told otherwise; a filter's
%% handle defaults to 0 (the kernel picks one).
handles(Object, Kind, Spec) ->
    Special = Object =:= qdisc andalso (Kind =:= ingress orelse Kind =:= clsact
                                        orelse Kind =:= <<"ingress">> orelse Kind =:= <<"clsact">>),
    {DefH, DefP} = case {Special, Object} of
                       {true, _} -> {{16#ffff, 0}, ingress};
                       {false, qdisc} -> {0, root};
                       {false, _} -> {0, 0}
                   end,
    PCtx = case Object of
               filter -> filter_parent;
               _ -> parent
           end,
    {value(Spec, handle, DefH, fun(H) -> linx_tc_values:handle(handle, H) end),
     value(Spec, parent, DefP, fun(P) -> linx_tc_values:handle(PCtx, P) end)}.

value(Spec, Key, Default, Fun) ->
    V = maps:get(Key, Spec, Default),
    case Fun(V) of
        {ok, N} -> N;
        error -> throw({Key, V})
    end.

%% A filter's tcm_info: its priority above, its protocol (in network
%% byte order) below.
info(filter, Spec) ->
    Prio = maps:get(prio, Spec, 0),
    is_integer(Prio) andalso Prio >= 0 andalso Prio =< 16#ffff orelse throw({prio, Prio}),
    Proto = value(Spec, protocol, all, fun linx_tc_values:protocol/1),
    <<Low:16/native>> = <<Proto:16/big>>,
    (Prio bsl 16) bor Low;
info(_, _Spec) ->
    0.

%% The TCA_OPTIONS attribute of a new object (a deletion sends none).
options(del, _Object, _Kind, _Spec, _Resolve) ->
    [];
options(_, Object, Kind, Spec, Resolve) ->
    case Spec of
        #{options := Opts} ->
            case linx_tc_kinds:encode(Object, Kind, Opts, Resolve) of
                {ok, none} -> [];
                {ok, Bin} -> [{options, Bin}];
                {error, {resolve, Error}} -> throw(Error);
                {error, {Field, Value}} -> throw({{options, Field}, Value})
            end;
        #{} ->
            case linx_tc_kinds:encode(Object, Kind, #{}, Resolve) of
                {ok, Bin} when is_binary(Bin) -> [{options, Bin}];
                _ -> []
            end
    end.

%%====================================================================
%% Decoding
%%====================================================================

%% @doc A qdisc, class or filter message's payload as a map: `link' (an
%% index), `kind', `handle', `parent', `options' (typed for the kinds
%% linx knows, else the attribute's bytes), a filter's `prio',
%% `protocol' and `chain'.
-spec decode(qdisc | class | filter, binary()) -> {ok, map()} | {error, term()}.
decode(Object, P) ->
    case linx_nl_attrs:decode_struct(?T:header(), P) of
        {ok, Hdr, Attrs} ->
            case linx_nl_attrs:decode({?T, tc}, Attrs) of
                {ok, Map} -> {ok, finish(Object, maps:from_list(Hdr), Map)};
                {error, Offset} -> {error, {malformed, {Object, {attr, Offset}}}}
            end;
        error ->
            {error, {malformed, {Object, header}}}
    end.

finish(Object, #{index := Index, handle := H, parent := Par, info := Info}, Map) ->
    Kind = maps:get(kind, Map, undefined),
    Base = maps:without([options, family], Map),
    Obj0 = Base#{link => Index,
                 handle => case Object of
                               filter -> H;
                               _ -> linx_tc_values:decode_handle(handle, H)
                           end,
                 parent => linx_tc_values:decode_handle(case Object of
                                             filter -> filter_parent;
                                             _ -> parent
                                         end, Par)},
    Obj = case Object of
              filter ->
                  <<Proto:16/big>> = <<(Info band 16#ffff):16/native>>,
                  Obj0#{prio => Info bsr 16,
                        protocol => linx_nl_values:name(Proto, ?T:names(protocol))};
              _ ->
                  Obj0
          end,
    case Map of
        #{options := Bin} -> Obj#{options => linx_tc_kinds:decode(Object, Kind, Bin)};
        #{} -> Obj
    end.
