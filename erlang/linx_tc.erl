%% @doc Traffic control over rtnetlink: the qdiscs, classes and filters
%% of any network namespace, added, changed, deleted and dumped as maps.
%% Guide: docs/tc.md in the source tree.
%%
%% ```
%% In = #{in => {netns, <<"blue">>}},
%% ok = linx_tc:qdisc_add(#{link => <<"veth0">>, parent => root, handle => {1, 0},
%%                          kind => htb, options => #{default => 16#10}}, In),
%% ok = linx_tc:class_add(#{link => <<"veth0">>, parent => {1, 0}, handle => {1, 16#10},
%%                          kind => htb, options => #{rate => 10000000}}, In),
%% ok = linx_tc:filter_add(#{link => <<"veth0">>, parent => {1, 0}, prio => 1,
%%                           protocol => ip, kind => u32,
%%                           options => #{match => [{dst, {10, 0, 0, 2}, 32}],
%%                                        classid => {1, 16#10}}}, In),
%% {ok, [#{kind := <<"htb">>} | _]} = linx_tc:qdiscs(#{link => <<"veth0">>}, In).
%% '''
%%
%% Every call takes the transport options of {@link linx_netlink:call/3}
%% (`in', `timeout', `via'), as a map or a proplist, and no other: any
%% other key is `{error, {bad_option, {Key, Value}}}'.
%%
%% == Objects ==
%% A qdisc, class or filter is a map: `link' (a name or an index; an
%% index when decoded), `kind' (an atom or a binary; a binary when
%% decoded), `handle', `parent', `options' (a map for the kinds linx
%% types, the bytes of `TCA_OPTIONS' for any other), and for a filter
%% `prio', `protocol' (`ip', `ipv6', `all', `arp', ... or a number) and
%% `chain'. A handle is `{Major, Minor}', tc's text (`<<"1:10">>', in
%% hexadecimal as tc writes it) or `root'; a parent also `ingress' (an
%% ingress or clsact qdisc's place, or a filter on its ingress hook),
%% `clsact', or `egress' (a filter on clsact's egress hook). A filter's
%% handle is a number (u32 writes `800::800' as `16#80000800'). Decoded
%% handles are `{Major, Minor}', `root', `ingress' or `egress'.
%%
%% Typed kinds (docs/tc.md has every option): qdiscs `htb' (`default',
%% `r2q', `direct_qlen'), `tbf' (`rate', `burst', `limit' or `latency',
%% `peakrate', `mtu'), `pfifo' and `bfifo' (`limit'), `ingress',
%% `clsact', `netem' (see {@link linx_tc_netem}); classes `htb' (`rate',
%% `ceil', `burst', `cburst', `prio', `quantum'); filters `u32' (see
%% {@link linx_tc_u32}), with `mirred' actions. Rates are in bits per
%% second, sizes in bytes, times in microseconds.
%%
%% == Errors ==
%% A field that does not encode is `{error, {bad_qdisc | bad_class |
%% bad_filter, {Field, Value}}}' (`Field' `{options, Key}' for an
%% option), before anything is sent; a kind the kernel does not have is
%% its error, e.g. `{error, #{stage := netlink, errno := enoent, message
%% := <<"Specified qdisc kind is unknown.">>}}'. {@link format_error/1}
%% renders any error as one line.
-module(linx_tc).

-include("linx_owned.hrl").

-export([qdiscs/0, qdiscs/1, qdiscs/2, classes/1, classes/2, filters/1, filters/2, filters/3]).
-export([qdisc_add/1, qdisc_add/2, qdisc_replace/1, qdisc_replace/2, qdisc_change/1,
         qdisc_change/2, qdisc_del/1, qdisc_del/2]).
-export([class_add/1, class_add/2, class_replace/1, class_replace/2, class_change/1,
         class_change/2, class_del/1, class_del/2]).
-export([filter_add/1, filter_add/2, filter_replace/1, filter_replace/2, filter_del/1,
         filter_del/2]).
-export([format_error/1]).

-export_type([object/0, handle/0]).

-type object() :: linx_tc_msg:object().
-type handle() :: linx_tc_values:handle().

%%====================================================================
%% Dumps
%%====================================================================

%% @equiv qdiscs(#{})
-spec qdiscs() -> {ok, [object()]} | {error, term()}.
qdiscs() ->
    qdiscs(#{}).

%% @doc Every qdisc of every link.
-spec qdiscs(linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
qdiscs(Opts) ->
    ?OWNED(linx_tc_call:dump(qdisc, all, 0, Opts)).

%% @doc The qdiscs a filter keeps: `#{link => Link}' (a name or an
%% index), or `#{}' for all.
-spec qdiscs(map(), linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
qdiscs(Filter, Opts) ->
    ?OWNED(case Filter of
               #{link := Link} when map_size(Filter) =:= 1 ->
                   linx_tc_call:dump(qdisc, Link, 0, Opts);
               #{} when map_size(Filter) =:= 0 ->
                   linx_tc_call:dump(qdisc, all, 0, Opts);
               _ ->
                   {error, {bad_qdisc_filter, Filter}}
           end).

%% @equiv classes(Link, #{})
-spec classes(term()) -> {ok, [object()]} | {error, term()}.
classes(Link) ->
    classes(Link, #{}).

%% @doc Every class of the link `Link' (a name or an index).
-spec classes(term(), linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
classes(Link, Opts) ->
    ?OWNED(linx_tc_call:dump(class, Link, 0, Opts)).

%% @equiv filters(Link, root)
-spec filters(term()) -> {ok, [object()]} | {error, term()}.
filters(Link) ->
    filters(Link, root).

%% @equiv filters(Link, Parent, #{})
-spec filters(term(), handle()) -> {ok, [object()]} | {error, term()}.
filters(Link, Parent) ->
    filters(Link, Parent, #{}).

%% @doc The filters of the link `Link' under `Parent' (`root': the root
%% qdisc's; a qdisc's or class's handle; `ingress' or `egress'), as the
%% kernel lists them: a u32 filter comes with its hash table and the
%% priority's head, without options.
-spec filters(term(), handle(), linx_netlink:opts()) -> {ok, [object()]} | {error, term()}.
filters(Link, Parent, Opts) ->
    P = case Parent of
            root -> 0;
            _ -> Parent
        end,
    ?OWNED(linx_tc_call:dump(filter, Link, P, Opts)).

%%====================================================================
%% Changes
%%====================================================================

%% @equiv qdisc_add(Qdisc, #{})
-spec qdisc_add(map()) -> ok | {error, term()}.
qdisc_add(Qdisc) ->
    qdisc_add(Qdisc, #{}).

%% @doc Adds the qdisc `Qdisc' (`link', `kind', `parent' (`root' unless given;
%% `ingress' for an ingress or clsact qdisc), `handle', `options');
%% `eexist' when one is there.
-spec qdisc_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
qdisc_add(Qdisc, Opts) ->
    ?OWNED(linx_tc_call:change(add, qdisc, Qdisc, Opts, qdisc_add)).

%% @equiv qdisc_replace(Qdisc, #{})
-spec qdisc_replace(map()) -> ok | {error, term()}.
qdisc_replace(Qdisc) ->
    qdisc_replace(Qdisc, #{}).

%% @doc Adds the qdisc `Qdisc', or replaces the one at its parent.
-spec qdisc_replace(map(), linx_netlink:opts()) -> ok | {error, term()}.
qdisc_replace(Qdisc, Opts) ->
    ?OWNED(linx_tc_call:change(replace, qdisc, Qdisc, Opts, qdisc_replace)).

%% @equiv qdisc_change(Qdisc, #{})
-spec qdisc_change(map()) -> ok | {error, term()}.
qdisc_change(Qdisc) ->
    qdisc_change(Qdisc, #{}).

%% @doc Changes the options of the qdisc `Qdisc' (found by `link',
%% `parent' and `handle'), which must be there.
-spec qdisc_change(map(), linx_netlink:opts()) -> ok | {error, term()}.
qdisc_change(Qdisc, Opts) ->
    ?OWNED(linx_tc_call:change(change, qdisc, Qdisc, Opts, qdisc_change)).

%% @equiv qdisc_del(Qdisc, #{})
-spec qdisc_del(map()) -> ok | {error, term()}.
qdisc_del(Qdisc) ->
    qdisc_del(Qdisc, #{}).

%% @doc Deletes the qdisc of `Qdisc' (`link', and `parent' or `handle'),
%% with its classes and filters.
-spec qdisc_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
qdisc_del(Qdisc, Opts) ->
    ?OWNED(linx_tc_call:change(del, qdisc, Qdisc, Opts, qdisc_del)).

%% @equiv class_add(Class, #{})
-spec class_add(map()) -> ok | {error, term()}.
class_add(Class) ->
    class_add(Class, #{}).

%% @doc Adds the class `Class' (`link', `kind', `parent', `handle',
%% `options').
-spec class_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
class_add(Class, Opts) ->
    ?OWNED(linx_tc_call:change(add, class, Class, Opts, class_add)).

%% @equiv class_replace(Class, #{})
-spec class_replace(map()) -> ok | {error, term()}.
class_replace(Class) ->
    class_replace(Class, #{}).

%% @doc Adds the class `Class', or changes the one with its handle.
-spec class_replace(map(), linx_netlink:opts()) -> ok | {error, term()}.
class_replace(Class, Opts) ->
    ?OWNED(linx_tc_call:change(replace, class, Class, Opts, class_replace)).

%% @equiv class_change(Class, #{})
-spec class_change(map()) -> ok | {error, term()}.
class_change(Class) ->
    class_change(Class, #{}).

%% @doc Changes the class `Class', which must be there.
-spec class_change(map(), linx_netlink:opts()) -> ok | {error, term()}.
class_change(Class, Opts) ->
    ?OWNED(linx_tc_call:change(change, class, Class, Opts, class_change)).

%% @equiv class_del(Class, #{})
-spec class_del(map()) -> ok | {error, term()}.
class_del(Class) ->
    class_del(Class, #{}).

%% @doc Deletes the class of `Class' (`link', `parent' and `handle').
-spec class_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
class_del(Class, Opts) ->
    ?OWNED(linx_tc_call:change(del, class, Class, Opts, class_del)).

%% @equiv filter_add(Filter, #{})
-spec filter_add(map()) -> ok | {error, term()}.
filter_add(Filter) ->
    filter_add(Filter, #{}).

%% @doc Adds the filter `Filter' (`link', `parent', `prio', `protocol',
%% `kind', `options', and `handle' or `chain' if wanted).
-spec filter_add(map(), linx_netlink:opts()) -> ok | {error, term()}.
filter_add(Filter, Opts) ->
    ?OWNED(linx_tc_call:change(add, filter, Filter, Opts, filter_add)).

%% @equiv filter_replace(Filter, #{})
-spec filter_replace(map()) -> ok | {error, term()}.
filter_replace(Filter) ->
    filter_replace(Filter, #{}).

%% @doc Adds the filter `Filter', or replaces the one with its `handle',
%% `prio' and `protocol'.
-spec filter_replace(map(), linx_netlink:opts()) -> ok | {error, term()}.
filter_replace(Filter, Opts) ->
    ?OWNED(linx_tc_call:change(replace, filter, Filter, Opts, filter_replace)).

%% @equiv filter_del(Filter, #{})
-spec filter_del(map()) -> ok | {error, term()}.
filter_del(Filter) ->
    filter_del(Filter, #{}).

%% @doc Deletes the filters of `Filter': with `link' and `parent' only,
%% all of them; with `prio' (and `protocol'), those of that priority;
%% with `handle' and `kind' too, that one.
-spec filter_del(map(), linx_netlink:opts()) -> ok | {error, term()}.
filter_del(Filter, Opts) ->
    ?OWNED(linx_tc_call:change(del, filter, Filter, Opts, filter_del)).

%%====================================================================
%% Errors
%%====================================================================

%% @doc Renders an error of this module (or any linx error) as one line.
-spec format_error(term()) -> unicode:unicode_binary().
format_error(Reason) ->
    linx_error:format_owned(Reason, fun format_reason/1).

-spec format_reason(term()) -> unicode:unicode_binary().
format_reason({Tag, {Field, Value}}) when Tag =:= bad_qdisc; Tag =:= bad_class;
                                          Tag =:= bad_filter ->
    linx_error:line(io_lib:format("invalid tc ~ts: field ~0tp is ~0tp",
                                  [atom_to_list(Tag) -- "bad_", Field, Value]));
format_reason({Tag, Arg}) when Tag =:= bad_qdisc; Tag =:= bad_class; Tag =:= bad_filter ->
    linx_error:invalid(["tc ", atom_to_list(Tag) -- "bad_"], Arg, "a map");
format_reason({bad_parent, Parent}) ->
    linx_error:invalid("tc parent", Parent, "a handle, root, ingress or egress");
format_reason({bad_qdisc_filter, Filter}) ->
    linx_error:invalid("qdisc filter", Filter, "#{link => Link} or #{}");
format_reason(Reason) ->
    linx_rtnl_error:format_reason(Reason).
