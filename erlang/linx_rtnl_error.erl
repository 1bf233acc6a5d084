%% @doc The texts of {@link linx_rtnl}'s errors (its own reasons, a
%% batch's, and through {@link linx_nl} the kernel's), for
%% {@link linx_rtnl:format_error/1}.
-module(linx_rtnl_error).

-export([format_reason/1]).

%% @doc One line for a reason of linx_rtnl's.
-spec format_reason(term()) -> unicode:unicode_binary().
format_reason({Tag, Arg}) when Tag =:= bad_ifname; Tag =:= bad_link; Tag =:= bad_address;
                              Tag =:= bad_prefix; Tag =:= bad_addr; Tag =:= bad_route; Tag =:= bad_neigh;
                              Tag =:= bad_fdb;
                              Tag =:= bad_spec; Tag =:= bad_change; Tag =:= bad_netns;
                              Tag =:= bad_groups; Tag =:= bad_rule; Tag =:= bad_nexthop;
                              Tag =:= bad_filter ->
    linx_error:line(io_lib:format("invalid ~ts: ~0tp", [what(Tag), Arg]));
format_reason(Reason) ->
    case linx_rtnl_batch:format_reason(Reason, fun format_reason/1) of
        none -> linx_nl:format_error(Reason);
        Line -> Line
    end.

what(bad_ifname) -> "interface name (1 to 15 bytes, no '/', ':', NUL or white space)";
what(bad_link) -> "link (a name or an index)";
what(bad_address) -> "MAC address (6 bytes, or text such as \"02:00:5e:10:00:01\")";
what(bad_prefix) -> "address prefix ({InetTuple, PrefixLen})";
what(bad_addr) -> "address (a prefix, or a map of prefix, label, broadcast, scope, flags, peer, valid_lft and preferred_lft)";
what(bad_route) -> "route";
what(bad_neigh) -> "neighbour";
what(bad_fdb) -> "fdb entry or filter";
what(bad_spec) -> "link spec (a map with ifname and kind)";
what(bad_change) -> "link change";
what(bad_netns) -> "namespace ({pid, OsPid}, or a target such as {netns, Name} or a linx_netns handle)";
what(bad_groups) -> "rtnetlink groups";
what(bad_rule) -> "rule";
what(bad_nexthop) -> "nexthop (a map with id, and oif, blackhole or group; or an id to delete)";
what(bad_filter) -> "route filter (table, oif, family, protocol, type)".
