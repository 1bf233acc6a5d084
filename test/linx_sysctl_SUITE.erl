%% @doc sysctl read, write and list through the linx application, in the
%% host, in a netns made with `ip netns add', and in the namespaces of a
%% process started with `unshare -n'. Every value is checked against
%% sysctl(8) run inside the same namespace (`ip netns exec', `nsenter').
%% The errors are linx_sysctl_errors_SUITE's.
-module(linx_sysctl_SUITE).

-include_lib("common_test/include/ct.hrl").

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1,
         init_per_group/2, end_per_group/2]).
-export([host_read/1, host_write_leaves_netns_alone/1,
         netns_read/1, netns_write/1, netns_read_ints/1, netns_dotted_interface/1, netns_long_value/1,
         netns_write_empty/1,
         netns_list_matches_sysctl_a/1, netns_whole_tree_keys_match_sysctl_a/1, netns_list_keys_round_trip/1,
         netns_list_key_form/1,
         netns_by_path/1, netns_recreated/1, netns_rebound/1, netns_interface_recreated/1, netns_batch/1, netns_apply/1, netns_apply_rolls_back/1,
         pid_read_write/1, pid_list/1, pid_all_namespaces/1,
         list_whole_tree/1, list_single_file/1]).

all() ->
    [{group, host}, {group, netns}, {group, pid}].

groups() ->
    [{host, [], [host_read, host_write_leaves_netns_alone, list_whole_tree, list_single_file]},
     {netns, [], [netns_read, netns_write, netns_read_ints, netns_dotted_interface, netns_long_value,
                  netns_write_empty,
                  netns_list_matches_sysctl_a, netns_whole_tree_keys_match_sysctl_a,
                  netns_list_keys_round_trip, netns_list_key_form,
                  netns_by_path, netns_recreated, netns_rebound, netns_interface_recreated, netns_batch, netns_apply, netns_apply_rolls_back]},
     {pid, [], [pid_read_write, pid_list, pid_all_namespaces]}].

init_per_suite(Config) ->
    linx_ct_ns:start_linx(Config).

end_per_suite(Config) ->
    linx_ct_ns:stop_linx(Config).

init_per_group(pid, Config) ->
    case linx_ct_ns:unshare_net() of
        {ok, Pid} -> [{pid, Pid} | Config];
        {skip, _} = Skip -> Skip
    end;
init_per_group(_, Config) ->
    Name = linx_ct_ns:unique("linx-ct"),
    case linx_ct_ns:netns_add(Name) of
        ok -> [{netns, Name} | Config];
        {skip, _} = Skip -> Skip
    end.

end_per_group(pid, Config) ->
    linx_ct_ns:kill(?config(pid, Config));
end_per_group(_, Config) ->
    linx_ct_ns:netns_del(?config(netns, Config)).

in(Config) -> #{in => {netns, ?config(netns, Config)}}.

%% A value longer than any one read asks for (a port list of 10 kB, which
%% its handler gives only to a read that starts at 0 and has room for all
%% of it) is read whole, by read/2 and by list/2 alike, as sysctl(8) reads
%% it. The kernel takes about 4 kB of such a list per write(2), so the
%% shell, which writes the rest after, sets it.
netns_long_value(Config) ->
    Key = "net.ipv4.ip_local_reserved_ports",
    Ports = lists:join(",", [integer_to_list(P) || P <- lists:seq(1001, 5000, 2)]),
    try
        linx_ct_ns:sh_ok(["ip netns exec ", ?config(netns, Config), " sh -c 'echo ", Ports,
                          " > /proc/sys/net/ipv4/ip_local_reserved_ports'"]),
        Oracle = linx_ct_ns:oracle({netns, ?config(netns, Config)}, Key),
        true = byte_size(Oracle) > 8192,
        {ok, Oracle} = linx_sysctl:read(Key, in(Config)),
        {ok, Entries} = linx_sysctl:list("net.ipv4", in(Config)),
        {_, Oracle} = lists:keyfind(list_to_binary(Key), 1, Entries)
    after
        linx_ct_ns:sh_ok(["ip netns exec ", ?config(netns, Config),
                          " sh -c 'echo > /proc/sys/net/ipv4/ip_local_reserved_ports'"])
    end,
    <<>> = linx_ct_ns:oracle({netns, ?config(netns, Config)}, Key).

%% An empty value empties the sysctl, as `sysctl -w key=' does (the
%% kernel ignores a write of nothing: it is sent as a newline), and an
%% apply that set it puts the empty value back on rollback.
netns_write_empty(Config) ->
    Key = "net.ipv4.ip_local_reserved_ports",
    Ns = {netns, ?config(netns, Config)},
    ok = linx_sysctl:write(Key, <<"8080,9090">>, in(Config)),
    <<"8080,9090">> = linx_ct_ns:oracle(Ns, Key),
    ok = linx_sysctl:write(Key, <<>>, in(Config)),
    <<>> = linx_ct_ns:oracle(Ns, Key),
    {ok, <<>>} = linx_sysctl:read(Key, in(Config)),
    %% The second write fails (not an integer): the first is rolled back
    %% to the empty value it had.
    {error, _} = linx_sysctl:apply([{Key, <<"7070">>}, {"net.ipv4.ip_forward", <<"x">>}],
                                   in(Config)),
    <<>> = linx_ct_ns:oracle(Ns, Key).

%% ------------------------------------------------------------------ host

%% Reading in the port's own namespaces gives what sysctl(8) gives.
host_read(_Config) ->
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
    {ok, Ostype} = linx_sysctl:read("kernel.ostype"),
    PidMax = binary_to_integer(linx_ct_ns:host_sysctl("kernel.pid_max")),
    {ok, PidMax} = linx_sysctl:read_int(<<"kernel.pid_max">>),
    {ok, PidMax} = linx_sysctl:read_int(<<"kernel/pid_max">>, #{in => self}).

%% A write on the host changes the host and not a netns.
host_write_leaves_netns_alone(Config) ->
    Key = "net.ipv4.ip_default_ttl",
    Old = linx_ct_ns:host_sysctl(Key),
    NsOld = linx_ct_ns:oracle({netns, ?config(netns, Config)}, Key),
    New = integer_to_binary(case binary_to_integer(Old) of 77 -> 78; _ -> 77 end),
    try
        ok = linx_sysctl:write(Key, binary_to_integer(New)),
        New = linx_ct_ns:host_sysctl(Key),
        {ok, New} = linx_sysctl:read(Key),
        NsOld = linx_ct_ns:oracle({netns, ?config(netns, Config)}, Key),
        {ok, NsOld} = linx_sysctl:read(Key, in(Config))
    after
        ok = linx_sysctl:write(Key, Old)
    end,
    Old = linx_ct_ns:host_sysctl(Key).

%% The whole tree lists, sorted, with keys that read back.
list_whole_tree(_Config) ->
    {ok, All} = linx_sysctl:list(),
    true = length(All) > 300,
    Keys = [K || {K, _} <- All],
    Keys = lists:usort(Keys),
    {_, Ostype} = lists:keyfind(<<"kernel.ostype">>, 1, All),
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype").

%% A prefix that names a file lists that one entry.
list_single_file(_Config) ->
    Ostype = linx_ct_ns:host_sysctl("kernel.ostype"),
    {ok, [{<<"kernel.ostype">>, Ostype}]} = linx_sysctl:list("kernel.ostype").

%% ----------------------------------------------------------------- netns

%% A read in a netns agrees with `ip netns exec NAME sysctl -n'.
netns_read(Config) ->
    Ns = ?config(netns, Config),
    [begin
         Want = linx_ct_ns:oracle({netns, Ns}, Key),
         {ok, Want} = linx_sysctl:read(Key, in(Config))
     end || Key <- ["net.ipv4.ip_forward", "net.ipv4.conf.lo.forwarding",
                    "net.core.somaxconn", "net.ipv6.conf.all.disable_ipv6"]].

%% A write in a netns shows in that netns and not on the host.
netns_write(Config) ->
    Ns = ?config(netns, Config),
    Key = "net.ipv4.ip_forward",
    HostBefore = linx_ct_ns:host_sysctl(Key),
    New = case linx_ct_ns:oracle({netns, Ns}, Key) of <<"1">> -> 0; _ -> 1 end,
    ok = linx_sysctl:write(Key, New, in(Config)),
    NewBin = integer_to_binary(New),
    NewBin = linx_ct_ns:oracle({netns, Ns}, Key),
    {ok, New} = linx_sysctl:read_int(Key, in(Config)),
    HostBefore = linx_ct_ns:host_sysctl(Key),
    %% Strings are written as given.
    ok = linx_sysctl:write(<<"net.core.somaxconn">>, <<"1234">>, in(Config)),
    <<"1234">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn").

%% Multi-valued keys read as integer lists and write from them.
netns_read_ints(Config) ->
    Ns = ?config(netns, Config),
    Key = "net.ipv4.ip_local_port_range",
    ok = linx_sysctl:write(Key, [20000, 30000], in(Config)),
    {ok, [20000, 30000]} = linx_sysctl:read_ints(Key, in(Config)),
    [<<"20000">>, <<"30000">>] = string:lexemes(linx_ct_ns:oracle({netns, Ns}, Key), " \t").

%% Interface names with dots need the slash form, and work.
netns_dotted_interface(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add br.100 type bridge"]),
    Key = <<"net/ipv4/conf/br.100/forwarding">>,
    ok = linx_sysctl:write(Key, 1, in(Config)),
    <<"1">> = linx_ct_ns:oracle({netns, Ns}, "net.ipv4.conf.br/100.forwarding"),
    {ok, 1} = linx_sysctl:read_int(Key, in(Config)),
    {ok, Entries} = linx_sysctl:list(<<"net/ipv4/conf/br.100">>, in(Config)),
    {Key, <<"1">>} = lists:keyfind(Key, 1, Entries),
    %% In dot form every dot separates segments: that is br/100/forwarding.
    {error, #{errno := enoent, path := <<"/proc/sys/net/ipv4/conf/br/100/forwarding">>}} =
        linx_sysctl:read(<<"net.ipv4.conf.br.100.forwarding">>, in(Config)),
    %% The bridge exists only in the netns.
    {error, #{errno := enoent}} = linx_sysctl:read(Key).

%% The program lists in key form (`{sysctl_list, Path, Target, keys}',
%% what list/2 asks for): the keys and trimmed values the node makes of
%% the plain list's paths and values (linx_sysctl:path_to_key/1), for the
%% whole tree, with a dotted interface name among them. Values are
%% compared where they hold still: under net.ipv4.conf.
netns_list_key_form(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add br.7 type bridge"]),
    {ok, Target} = linx_opts:target({netns, list_to_binary(Ns)}),
    {ok, Paths} = linx_port:request({sysctl_list, <<>>, Target}),
    {ok, Keyed} = linx_port:request({sysctl_list, <<>>, Target, keys}),
    true = length(Keyed) > 500,
    Node = [{linx_sysctl:path_to_key(P), linx_sysctl_syntax:trim(V)} || {P, V} <- Paths],
    Keys = fun(Es) -> [K || {K, _} <- Es] end,
    true = Keys(Node) =:= Keys(Keyed),
    true = lists:member(<<"net/ipv4/conf/br.7/forwarding">>, Keys(Keyed)),
    Conf = fun(Es) -> [E || {<<"net.ipv4.conf.", _/binary>>, _} = E <- Es] end,
    true = length(Conf(Keyed)) > 50,
    true = Conf(Node) =:= Conf(Keyed),
    [] = [V || {_, V} <- Keyed, binary:last(<<0, V/binary>>) =:= $\n].

%% list of net.ipv4.conf has exactly the keys and values of `sysctl -a'.
netns_list_matches_sysctl_a(Config) ->
    Ns = ?config(netns, Config),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add v0 type veth peer name v1"]),
    Out = linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -a 2>/dev/null"]),
    Oracle = lists:sort([E || {K, _} = E <- linx_sysctl8:entries(Out),
                              binary:match(K, [<<"net.ipv4.conf.">>, <<"net/ipv4/conf/">>]) =:= {0, 14}]),
    {ok, Listed} = linx_sysctl:list("net.ipv4.conf", in(Config)),
    true = length(Listed) > 50,
    Oracle = lists:sort(Listed),
    %% The veth pair, which exists only in the netns, is there.
    {_, _} = lists:keyfind(<<"net.ipv4.conf.v0.forwarding">>, 1, Listed),
    {_, _} = lists:keyfind(<<"net.ipv4.conf.v1.forwarding">>, 1, Listed),
    false = lists:keyfind(<<"net.ipv4.conf.v0.forwarding">>, 1, element(2, linx_sysctl:list("net.ipv4.conf"))).

%% The whole tree of a netns (read by several threads) has every key
%% `sysctl -a' prints there, and only those it leaves out on purpose
%% (deprecated neighbour times, vm.stat_refresh).
netns_whole_tree_keys_match_sysctl_a(Config) ->
    Ns = ?config(netns, Config),
    Oracle = linx_sysctl8:keys(linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -a 2>/dev/null"])),
    {ok, Listed} = linx_sysctl:list(<<>>, in(Config)),
    Keys = lists:usort([K || {K, _} <- Listed]),
    true = length(Keys) =:= length(Listed),
    true = length(Oracle) > 300,
    [] = Oracle -- Keys,
    SkippedBySysctl = fun(K) ->
                              lists:any(fun(Suffix) -> lists:suffix(Suffix, binary_to_list(K)) end,
                                        ["base_reachable_time", "retrans_time", "vm.stat_refresh"])
                      end,
    [] = [K || K <- Keys -- Oracle, not SkippedBySysctl(K)].

%% Every key a list returns reads back to the same value.
netns_list_keys_round_trip(Config) ->
    {ok, Listed} = linx_sysctl:list(<<"net.ipv4.conf.lo">>, in(Config)),
    true = length(Listed) > 10,
    [{ok, V} = linx_sysctl:read(K, in(Config)) || {K, V} <- Listed],
    ok.

%% `{path, File}' and `{ns, [File]}' reach the same netns as `{netns, Name}'.
netns_by_path(Config) ->
    Ns = ?config(netns, Config),
    File = "/run/netns/" ++ Ns,
    ok = linx_sysctl:write("net.core.somaxconn", 4321, in(Config)),
    {ok, 4321} = linx_sysctl:read_int("net.core.somaxconn", #{in => {path, File}}),
    {ok, 4321} = linx_sysctl:read_int("net.core.somaxconn", #{in => {ns, [list_to_binary(File)]}}),
    Host = linx_ct_ns:host_sysctl("net.core.somaxconn"),
    {ok, Host} = linx_sysctl:read("net.core.somaxconn", #{in => {ns, []}}).

%% A netns deleted and made again under the same name is a new namespace:
%% the next read sees the new one's value, never the old one's.
netns_recreated(_Config) ->
    Ns = linx_ct_ns:unique("linx-re"),
    ok = linx_ct_ns:netns_add(Ns),
    In = #{in => {netns, Ns}},
    try
        ok = linx_sysctl:write("net.core.somaxconn", 1111, In),
        {ok, 1111} = linx_sysctl:read_int("net.core.somaxconn", In),
        linx_ct_ns:netns_del(Ns),
        ok = linx_ct_ns:netns_add(Ns),
        linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.core.somaxconn=2222"]),
        {ok, 2222} = linx_sysctl:read_int("net.core.somaxconn", In)
    after
        linx_ct_ns:netns_del(Ns)
    end.

%% A name bound to another namespace by mounts alone (no file made or
%% removed in /run/netns, which the program watches too) names the new
%% one from the very next call, and once unbound it names none.
netns_rebound(_Config) ->
    [A, B] = [linx_ct_ns:unique(P) || P <- ["linx-rba", "linx-rbb"]],
    ok = linx_ct_ns:netns_add(A),
    ok = linx_ct_ns:netns_add(B),
    In = #{in => {netns, A}},
    File = "/run/netns/" ++ A,
    try
        linx_ct_ns:sh_ok(["ip netns exec ", B, " sysctl -q -w net.core.somaxconn=2222"]),
        ok = linx_sysctl:write("net.core.somaxconn", 1111, In),
        [{ok, 1111} = linx_sysctl:read_int("net.core.somaxconn", In) || _ <- lists:seq(1, 3)],
        linx_ct_ns:sh_ok(["umount ", File, " && mount --bind /run/netns/", B, " ", File]),
        {ok, 2222} = linx_sysctl:read_int("net.core.somaxconn", In),
        linx_ct_ns:sh_ok(["umount ", File]),
        {error, #{stage := open_ns, errno := einval}} = linx_sysctl:read("net.core.somaxconn", In)
    after
        linx_ct_ns:netns_del(A),
        linx_ct_ns:netns_del(B)
    end.

%% Reads of an interface's keys follow the interface: deleted, they fail
%% with enoent; made again, they show the new interface's values.
netns_interface_recreated(Config) ->
    Ns = ?config(netns, Config),
    Key = <<"net.ipv4.conf.rv0.forwarding">>,
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add rv0 type veth peer name rv1"]),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.ipv4.conf.rv0.forwarding=0"]),
    {ok, 0} = linx_sysctl:read_int(Key, in(Config)),
    {ok, 0} = linx_sysctl:read_int(Key, in(Config)),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del rv0"]),
    {error, #{errno := enoent}} = linx_sysctl:read(Key, in(Config)),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link add rv0 type veth peer name rv1"]),
    linx_ct_ns:sh_ok(["ip netns exec ", Ns, " sysctl -q -w net.ipv4.conf.rv0.forwarding=1"]),
    {ok, 1} = linx_sysctl:read_int(Key, in(Config)),
    linx_ct_ns:sh_ok(["ip -n ", Ns, " link del rv0"]).

%% A batch runs its steps in order in one namespace visit; each step has
%% its own result.
netns_batch(Config) ->
    Ns = ?config(netns, Config),
    Target = {netns, list_to_binary(Ns)},
    {ok, [ok, {ok, <<"2345\n">>}, {error, {read, enoent}}, {ok, [{<<"net/core/somaxconn">>, <<"2345\n">>}]},
          {error, {badarg, path}}]} =
        linx_port:request({batch, Target, [{sysctl_write, <<"net/core/somaxconn">>, <<"2345">>},
                                           {sysctl_read, <<"net/core/somaxconn">>},
                                           {sysctl_read, <<"net/core/no_such">>},
                                           {sysctl_list, <<"net/core/somaxconn">>},
                                           {sysctl_read, <<"../x">>}]}),
    <<"2345">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    {error, {badarg, batch}} = linx_port:request({batch, Target, [{sysctl_frob, <<"a">>}]}),
    {error, {badarg, target}} = linx_port:request({batch, nowhere, []}),
    {ok, []} = linx_port:request({batch, Target, []}).

%% apply writes several keys in order and returns the old values, which
%% apply takes back to restore them.
netns_apply(Config) ->
    Ns = ?config(netns, Config),
    Keys = ["net.core.somaxconn", "net.ipv4.ip_default_ttl", "net.ipv4.conf.all.forwarding"],
    Before = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys],
    {ok, Previous} = linx_sysctl:apply([{"net.core.somaxconn", 3333},
                                        {<<"net.ipv4.ip_default_ttl">>, <<"55">>},
                                        {"net/ipv4/conf/all/forwarding", 1}], in(Config)),
    [<<"3333">>, <<"55">>, <<"1">>] = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys],
    Before = [V || {_, V} <- Previous],
    [<<"net.core.somaxconn">>, <<"net.ipv4.ip_default_ttl">>, <<"net.ipv4.conf.all.forwarding">>] =
        [K || {K, _} <- Previous],
    {ok, _} = linx_sysctl:apply(Previous, in(Config)),
    Before = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys],
    %% A map is applied too.
    {ok, _} = linx_sysctl:apply(#{"net.core.somaxconn" => 4444}, in(Config)),
    <<"4444">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn"),
    %% Bad keys or values are refused before anything is written.
    {error, #{reason := {bad_key, <<"../x">>}}} = linx_sysctl:apply([{"net.core.somaxconn", 1}, {<<"../x">>, 1}], in(Config)),
    {error, #{reason := {bad_value, {contains, newline}}}} =
        linx_sysctl:apply([{"net.core.somaxconn", 1}, {"net.ipv4.ip_default_ttl", <<"1\n">>}], in(Config)),
    {error, #{reason := {bad_settings, nope}}} = linx_sysctl:apply(nope, in(Config)),
    <<"4444">> = linx_ct_ns:oracle({netns, Ns}, "net.core.somaxconn").

%% A failure in the middle restores everything written before it; every
%% value is checked against sysctl(8) afterwards.
netns_apply_rolls_back(Config) ->
    Ns = ?config(netns, Config),
    Keys = ["net.core.somaxconn", "net.ipv4.ip_forward", "net.ipv4.ip_default_ttl", "net.ipv4.conf.lo.forwarding"],
    Before = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys],
    {error, #{failed := <<"net.ipv4.ip_default_ttl">>,
              reason := #{stage := write, errno := einval},
              rolled_back := [<<"net.ipv4.ip_forward">>, <<"net.core.somaxconn">>]} = E} =
        linx_sysctl:apply([{"net.core.somaxconn", 1234},
                           {"net.ipv4.ip_forward", 1},
                           {"net.ipv4.ip_default_ttl", 999},
                           {"net.ipv4.conf.lo.forwarding", 1}], in(Config)),
    Before = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys],
    {match, _} = re:run(linx:format_error(E), "apply stopped at \"net.ipv4.ip_default_ttl\""),
    %% A key that cannot be read fails before anything is written.
    {error, #{failed := <<"net.ipv4.nope">>, rolled_back := []}} =
        linx_sysctl:apply([{"net.core.somaxconn", 1}, {"net.ipv4.nope", 1}], in(Config)),
    Before = [linx_ct_ns:oracle({netns, Ns}, K) || K <- Keys].

%% ------------------------------------------------------------------- pid

%% {pid, N} reaches the namespaces of a process made with `unshare -n'.
pid_read_write(Config) ->
    Pid = ?config(pid, Config),
    In = #{in => {pid, Pid}},
    Key = "net.ipv4.ip_forward",
    Want = linx_ct_ns:oracle({pid, Pid}, Key),
    {ok, Want} = linx_sysctl:read(Key, In),
    HostBefore = linx_ct_ns:host_sysctl(Key),
    New = case Want of <<"1">> -> 0; _ -> 1 end,
    ok = linx_sysctl:write(Key, New, In),
    NewBin = integer_to_binary(New),
    NewBin = linx_ct_ns:oracle({pid, Pid}, Key),
    HostBefore = linx_ct_ns:host_sysctl(Key).

%% A list inside the process's netns sees its lo only.
pid_list(Config) ->
    Pid = ?config(pid, Config),
    {ok, Listed} = linx_sysctl:list("net.ipv4.conf", #{in => {pid, Pid}}),
    Ifaces = lists:usort([lists:nth(4, binary:split(K, [<<".">>, <<"/">>], [global]))
                          || {K, _} <- Listed]),
    [<<"all">>, <<"default">>, <<"lo">>] = Ifaces.

%% A process with its own mount, uts, ipc and net namespaces: {pid, N}
%% enters all of them (mount after unshare(CLONE_FS) on the worker).
pid_all_namespaces(_Config) ->
    {ok, Pid} = linx_ct_ns:unshare(["-m", "-u", "-i", "-n", "--propagation", "private"]),
    try
        P = integer_to_list(Pid),
        Name = list_to_binary(linx_ct_ns:unique("h")),
        linx_ct_ns:sh_ok(["nsenter -t ", P, " -u hostname ", Name]),
        In = #{in => {pid, Pid}},
        {ok, Name} = linx_sysctl:read("kernel.hostname", In),
        HostName = linx_ct_ns:host_sysctl("kernel.hostname"),
        {ok, HostName} = linx_sysctl:read("kernel.hostname"),
        true = HostName =/= Name,
        ok = linx_sysctl:write("kernel.hostname", <<"linx-uts">>, In),
        <<"linx-uts">> = linx_ct_ns:sh_ok(["nsenter -t ", P, " -u hostname"]),
        HostName = linx_ct_ns:host_sysctl("kernel.hostname"),
        Fwd = linx_ct_ns:oracle({pid, Pid}, "net.ipv4.ip_forward"),
        {ok, Fwd} = linx_sysctl:read("net.ipv4.ip_forward", In)
    after
        linx_ct_ns:kill(Pid)
    end.
