%% @private
%% The bodies of linx_tc's calls: options checked, a link named by its
%% name looked up (as linx_rtnl does), one request or a dump through
%% linx_nl on the target's rtnetlink socket.
-module(linx_tc_call).

-include("linx_nl.hrl").

-export([dump/4, change/5]).

%% @doc The objects of a dump: every qdisc (`Link' `all'), or those of
%% one link; a link's classes; a link's filters under `Parent'.
-spec dump(qdisc | class | filter, term(), term(), linx_netlink:opts()) ->
          {ok, [map()]} | {error, term()}.
dump(Object, Link, Parent, Opts) ->
    linx_opts:with_transport(Opts, fun(Map) -> dump_in(Object, Link, Parent, Map) end).

dump_in(Object, Link, Parent, Map) ->
    Ctx = case Object of
              filter -> filter_parent;
              _ -> parent
          end,
    case {index(Link, Map), linx_tc_values:handle(Ctx, Parent)} of
        {{ok, Index}, {ok, P}} ->
            Decode = fun(#{payload := Payload}) -> linx_tc_msg:decode(Object, Payload) end,
            case linx_nl:dump(route, linx_tc_msg:dump_request(Object, Index, P), Map,
                              op(Object, dump), Decode) of
                {ok, All} when Index =:= 0 -> {ok, All};
                {ok, All} -> {ok, [O || #{link := I} = O <- All, I =:= Index]};
                {error, _} = Error -> Error
            end;
        {{error, _} = Error, _} ->
            Error;
        {_, error} ->
            {error, {bad_parent, Parent}}
    end.

index(all, _Map) -> {ok, 0};
index(Link, Map) -> linx_rtnl_call:index(Link, Map).

%% @doc One change of a qdisc, class or filter: `add' (fails when it is
%% there), `replace' (made or replaced), `change' (changed, must be
%% there) or `del'.
-spec change(add | replace | change | del, qdisc | class | filter, term(),
             linx_netlink:opts(), atom()) -> ok | {error, term()}.
change(What, Object, Spec, Opts, Op) ->
    linx_opts:with_transport(Opts, fun(Map) ->
                               Resolve = linx_rtnl_call:resolver(Map),
                               case linx_tc_msg:request(how(What), Object, Spec, Resolve) of
                                   {ok, Req} -> linx_rtnl_call:ack(Req, Map, Op);
                                   {error, _} = Error -> Error
                               end
                       end).

how(add) -> {new, ?NLM_F_CREATE bor ?NLM_F_EXCL};
how(replace) -> {new, ?NLM_F_CREATE bor ?NLM_F_REPLACE};
how(change) -> {new, 0};
how(del) -> del.

op(qdisc, dump) -> qdiscs;
op(class, dump) -> classes;
op(filter, dump) -> filters.

