defmodule Linx.Rtnl do
  @moduledoc """
  rtnetlink as maps: the links, addresses, routes and neighbours of any
  network namespace, and their change events.
  See docs/elixir.md.

  Thin wrappers over the Erlang API `:linx_rtnl`: the same maps in and
  out (atom keys; names, MACs and text as binaries; IP addresses as
  `:inet` tuples), keyword options, and `Linx.Rtnl.Error` for errors.
  Each call is one request to the port program, sent on a netlink socket
  it keeps inside the target (closed after 10 s unused); `batch/2` sends
  many changes in one request.

      iex> {:ok, links} = Linx.Rtnl.links()
      iex> Enum.any?(links, &(&1.ifname == "lo" and :loopback in &1.flags))
      true

  In a namespace made with `Linx.Netns.add("blue")` (or `ip netns add
  blue`), a veth pair with its peer in a second namespace `"red"`:

      blue = [in: {:netns, "blue"}]
      :ok = Linx.Rtnl.link_add(%{ifname: "v0", kind: :veth,
                                 peer: %{ifname: "v1", netns: {:netns, "red"}}}, blue)
      :ok = Linx.Rtnl.link_set("v0", %{state: :up, mtu: 9000}, blue)
      :ok = Linx.Rtnl.addr_add("v0", {{10, 0, 0, 1}, 24}, blue)
      :ok = Linx.Rtnl.route_add(%{dst: {{10, 1, 0, 0}, 16}, gateway: {10, 0, 0, 2}}, blue)
      {:ok, %{mtu: 9000, kind: :veth, operstate: _}} = Linx.Rtnl.link("v0", blue)

  ## Maps

  The keys of the maps (links, addresses, routes, nexthops, neighbours,
  rules) and of the specs the `*_add` functions take are those of
  `:linx_rtnl`; docs/elixir.md ("Maps") lists the most used and
  docs/rtnetlink.md all of them. Every map also has `:unknown`: the
  attributes it does not name, as `{type, binary}`.

  A link is named by its name (a string) or its index. A link's `:netns`
  (in `link_add/2`, a veth peer's, in `link_set/3` to move it) is any
  target: `{:netns, name}`, a `Linx.Netns` handle, ..., or `{:pid, os_pid}`.

  ## Options

    * `:in` - the namespace to work in (`t:target/0`): `:self` by default,
      `{:netns, name}`, `{:pid, os_pid}`, ... or a `Linx.Netns.new/2` handle.
    * `:timeout` - milliseconds to wait for the port program (default
      5000) or `:infinity`.
    * `:via` - `:local` (default) or a linx C-node (for `subscribe/2`,
      one on this host).

  Options may be a map too, and there are no others: any other key, and
  what an operation works on (an address's `:label`, ...: `t:addr_spec/0`),
  is refused as an option (`errno: :bad_option`).

  ## Names and forms

  The names of `:linx_rtnl` (docs/elixir.md), each with a bang variant
  (`links!/1`, ...). A MAC is 6 bytes or text such as
  `"02:00:5e:10:00:01"`, else `errno: :bad_address`.

  ## Errors

  `{:error, %Linx.Rtnl.Error{}}`: `stage: :netlink` with the errno (and
  the kernel's text in `:ext_ack`) when the kernel refused, `stage: :badarg`
  before anything was sent, ... (docs/elixir.md, "Errors"). Bang functions raise it.
  """

  use Linx.Bang, raises: Linx.Rtnl.Error

  alias Linx.Rtnl.Error
  import Linx.Rtnl.Call, only: [wrap: 3, addr_spec: 1]

  @typedoc "A namespace (option `:in`): a `Linx.Sysctl` target or a `Linx.Netns` handle."
  @type target :: Linx.Sysctl.target() | Linx.Netns.handle()

  @typedoc "Another namespace for a link: any `t:target/0`, or `{:pid, os_pid}`."
  @type netns_ref :: target

  @typedoc "A link, by name or by index."
  @type link_ref :: String.t() | charlist | pos_integer

  @typedoc "An address with its prefix length: `{{10, 0, 0, 1}, 24}`."
  @type prefix :: {:inet.ip_address(), 0..128}

  @typedoc """
  An address to add, replace or remove: its prefix, or a map (or keyword
  list) with `:prefix` and any of `:label` (IPv4 only, up to 15 bytes),
  `:broadcast` (IPv4), `:scope` (`:universe`, `:site`, `:link`, `:host`),
  `:flags` (`:noprefixroute`, `:mcautojoin`; for IPv6 also `:nodad`,
  `:optimistic`, `:homeaddress`, `:managetempaddr`), `:peer` (point to
  point), `:valid_lft` and `:preferred_lft` (seconds or `:forever`):
  `{{10, 0, 0, 1}, 24}`, `[prefix: {{10, 0, 0, 1}, 24}, label: "v0:web", valid_lft: 600]`.
  """
  @type addr_spec :: prefix | %{required(:prefix) => prefix, optional(atom) => term} | [addr_key]

  @typedoc "One key of an address given as a keyword list (`t:addr_spec/0`)."
  @type addr_key ::
          {:prefix, prefix}
          | {:label, String.t()}
          | {:broadcast | :peer, :inet.ip_address()}
          | {:scope, atom | 0..255}
          | {:flags, [atom]}
          | {:valid_lft | :preferred_lft, non_neg_integer | :forever}

  @typedoc "An rtnetlink multicast group (`RTNLGRP_*`): `:link`, `:ipv4_addr`, ... or its number."
  @type group :: :linx_rtnl.group()

  @typedoc "A link, address, route, neighbour or rule, as `:linx_rtnl` decodes it."
  @type link :: map
  @type addr :: map
  @type route :: map
  @type neigh :: map
  @type rule :: map
  @type nexthop :: map

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option ::
          {:in, target}
          | {:timeout, timeout}
          | {:via, :local | node}
          | {:stats, boolean}
          | {:atomic, boolean}
  @type options :: [option] | map

  @typedoc """
  One change of a batch (`batch/2`): the arguments of the function of the
  same name, in a tuple.
  """
  @type batch_op ::
          {:link_add, map}
          | {:link_set, link_ref, map}
          | {:link_del, link_ref}
          | {:addr_add | :addr_del | :addr_replace, link_ref, addr_spec}
          | {:route_add | :route_replace | :route_del, map}
          | {:neigh_add | :neigh_del, map}
          | {:fdb_add | :fdb_del, map}
          | {:rule_add | :rule_del, map}
          | {:nexthop_add | :nexthop_replace | :nexthop_del, map | pos_integer}

  @typedoc "What `subscribe/2` delivers, in `{:linx_rtnl, ref, event}` messages."
  @type event ::
          {:link | :addr | :route | :nexthop | :neigh | :rule, :new | :del, map}
          | {:other, non_neg_integer, binary}
          | {:resync, [{:link | :addr | :route | :nexthop | :neigh | :rule, :new, map}]}
          | {:error, term}

  # Links

  @doc """
  Every link of the namespace. With `stats: true` each has `:stats`, its
  counters (`:rx_packets`, `:tx_bytes`, `:rx_dropped`, ...); without it
  they are left out.
  """
  @spec links(options) :: {:ok, [link]} | {:error, Error.t()}
  def links(opts \\ []), do: wrap(:linx_rtnl.links(opts), :links, opts)

  @doc """
  One link, by name or index; `errno: :enodev` when there is none.
  `stats: true` adds `:stats`, as in `links/1`.

      iex> {:ok, %{ifname: "lo", index: index}} = Linx.Rtnl.link("lo")
      iex> {:ok, %{ifname: "lo"}} = Linx.Rtnl.link(index)
      iex> {:error, %Linx.Rtnl.Error{stage: :netlink, errno: :enodev}} = Linx.Rtnl.link("linx-none0")
  """
  @spec link(link_ref, options) :: {:ok, link} | {:error, Error.t()}
  def link(ref, opts \\ []), do: wrap(:linx_rtnl.link(ref, opts), :link, opts)

  @doc """
  Creates a link. `spec` has `:ifname` and `:kind` (`:veth`, `:bridge`,
  `:vxlan`, ...), and may have `:mtu`, `:address`, `:broadcast`,
  `:txqlen`, `:master`, `:link` (the parent), `:state`, `:data` (the
  kind's own keys, such as `%{id: 5}` for a vlan: docs/rtnetlink.md,
  "Kinds"), `:netns` and, for `:veth`, `:peer` (`%{ifname: name, netns:
  netns, address: mac, mtu: n}`). A name that is taken is `errno: :eexist`.
  """
  @spec link_add(map, options) :: :ok | {:error, Error.t()}
  def link_add(spec, opts \\ []), do: wrap(:linx_rtnl.link_add(spec, opts), :link_add, opts)

  @doc """
  Changes a link: `changes` may have `:state` (`:up`, `:down`), `:mtu`,
  `:address`, `:broadcast`, `:master` (a link, or `:none`), `:ifname` (rename),
  `:txqlen`, `:alias` (`""` removes it), `:group` and `:netns` (move it to
  another namespace).
  """
  @spec link_set(link_ref, map, options) :: :ok | {:error, Error.t()}
  def link_set(ref, changes, opts \\ []),
    do: wrap(:linx_rtnl.link_set(ref, changes, opts), :link_set, opts)

  @doc "Deletes a link (for a veth pair, both ends)."
  @spec link_del(link_ref, options) :: :ok | {:error, Error.t()}
  def link_del(ref, opts \\ []), do: wrap(:linx_rtnl.link_del(ref, opts), :link_del, opts)

  # Addresses

  @doc "Every IPv4 and IPv6 address of the namespace."
  @spec addrs(options) :: {:ok, [addr]} | {:error, Error.t()}
  def addrs(opts \\ []), do: wrap(:linx_rtnl.addrs(opts), :addrs, opts)

  @doc """
  Adds an address to a link: `addr` is its prefix, or a map or keyword
  list with `:prefix` and the address's `:label`, `:broadcast`, `:scope`
  and `:flags` (`t:addr_spec/0`):

      :ok = Linx.Rtnl.addr_add("v0", [prefix: {{0xFD00, 0, 0, 0, 0, 0, 0, 1}, 64},
                                     flags: [:nodad]], blue)

  An address the link has already is `errno: :eexist`; a bad prefix is
  `errno: :bad_prefix`, a bad label, broadcast, scope or flag (or another
  key) `errno: :bad_addr`.
  """
  @spec addr_add(link_ref, addr_spec, options) :: :ok | {:error, Error.t()}
  def addr_add(link, addr, opts \\ []),
    do: wrap(:linx_rtnl.addr_add(link, addr_spec(addr), opts), :addr_add, opts)

  @doc """
  Removes an address from a link: `addr` as for `addr_add/3` (its prefix
  is enough).
  """
  @spec addr_del(link_ref, addr_spec, options) :: :ok | {:error, Error.t()}
  def addr_del(link, addr, opts \\ []),
    do: wrap(:linx_rtnl.addr_del(link, addr_spec(addr), opts), :addr_del, opts)

  @doc """
  Adds an address, or changes the one the link has, as `ip addr replace`:
  its lifetimes as given (none given is for ever) and, for IPv6, its
  flags. The same call again is `:ok`:

      :ok = Linx.Rtnl.addr_replace("v0", [prefix: {{10, 0, 0, 1}, 24}, valid_lft: 600], blue)
  """
  @spec addr_replace(link_ref, addr_spec, options) :: :ok | {:error, Error.t()}
  def addr_replace(link, addr, opts \\ []),
    do: wrap(:linx_rtnl.addr_replace(link, addr_spec(addr), opts), :addr_replace, opts)

  defbang(addr_replace(link :: link_ref, addr :: addr_spec, opts :: options \\ []) :: :ok)

  # Routes

  @doc "Every route of every table, IPv4 and IPv6."
  @spec routes(options) :: {:ok, [route]} | {:error, Error.t()}
  def routes(opts \\ []), do: wrap(:linx_rtnl.routes(opts), :routes, opts)

  @doc """
  Adds a route, as `ip route add`: `route` has the keys of the maps of
  `routes/1` (`:dst`, `:gateway`, `:oif`, `:table`, `:metric`, `:type`,
  ...; they and their defaults: docs/rtnetlink.md, "Maps"). A route from
  `routes/1` is added back as it was after `route_del/2` of it.
  """
  @spec route_add(map, options) :: :ok | {:error, Error.t()}
  def route_add(route, opts \\ []), do: wrap(:linx_rtnl.route_add(route, opts), :route_add, opts)

  @doc """
  Deletes the route matching `route` (the keys of `route_add/2`; a map
  from `routes/1` works as it is).
  """
  @spec route_del(map, options) :: :ok | {:error, Error.t()}
  def route_del(route, opts \\ []), do: wrap(:linx_rtnl.route_del(route, opts), :route_del, opts)

  @doc """
  Adds a route, or replaces the one with its destination, table, tos and
  metric, as `ip route replace` does: every key becomes that of `route`
  (the keys of `route_add/2`). Replacing twice with the same map is `:ok` twice.
  """
  @spec route_replace(map, options) :: :ok | {:error, Error.t()}
  def route_replace(route, opts \\ []),
    do: wrap(:linx_rtnl.route_replace(route, opts), :route_replace, opts)

  @doc """
  Adds a route after those with its destination, table, tos and metric,
  as `ip route append` does.
  """
  @spec route_append(map, options) :: :ok | {:error, Error.t()}
  def route_append(route, opts \\ []),
    do: wrap(:linx_rtnl.route_append(route, opts), :route_append, opts)

  @doc """
  The route the kernel would use for `destination`, as `ip route get`:
  an IP address, or a map of `:dst` and any of `:src`, `:iif` and `:oif`
  (links), `:mark`, `:uid`, `:ip_proto`, `:sport`, `:dport` and
  `:fibmatch` (`true`: the route as it is in its table). A destination
  without a route is `{:error, %Linx.Rtnl.Error{errno: :enetunreach}}`.
  """
  @spec route_get(:inet.ip_address() | map, options) :: {:ok, route} | {:error, Error.t()}
  def route_get(destination, opts \\ []),
    do: wrap(:linx_rtnl.route_get(destination, opts), :route_get, opts)

  @doc """
  The routes `filter` asks for, as `ip route show table T dev D proto P
  type Y` shows them: a map of any of `:table`, `:oif`, `:family`,
  `:protocol` and `:type` (docs/rtnetlink.md, "Routes"). A bad key or
  value is `{:bad_filter, {key, value}}`. The options come second and are
  not optional here (`routes/1` takes options).
  """
  @spec routes(map, options) :: {:ok, [route]} | {:error, Error.t()}
  def routes(filter, opts), do: wrap(:linx_rtnl.routes(filter, opts), :routes, opts)

  # Nexthops

  @doc "Every nexthop object (`ip nexthop`): the maps of `:linx_rtnl.nexthops/1`."
  @spec nexthops(options) :: {:ok, [nexthop]} | {:error, Error.t()}
  def nexthops(opts \\ []), do: wrap(:linx_rtnl.nexthops(opts), :nexthops, opts)

  @doc """
  Adds a nexthop object (`:id`, and `:oif` with an optional `:gateway`,
  `blackhole: true` or `:group`; see `:linx_rtnl.nexthop_add/2`).
  """
  @spec nexthop_add(map, options) :: :ok | {:error, Error.t()}
  def nexthop_add(spec, opts \\ []),
    do: wrap(:linx_rtnl.nexthop_add(spec, opts), :nexthop_add, opts)

  @doc "Replaces the nexthop of `spec`'s `:id`, or adds it when there is none."
  @spec nexthop_replace(map, options) :: :ok | {:error, Error.t()}
  def nexthop_replace(spec, opts \\ []),
    do: wrap(:linx_rtnl.nexthop_replace(spec, opts), :nexthop_replace, opts)

  @doc "Deletes a nexthop object by its id (an id, or a map with `:id`)."
  @spec nexthop_del(pos_integer | map, options) :: :ok | {:error, Error.t()}
  def nexthop_del(nexthop, opts \\ []),
    do: wrap(:linx_rtnl.nexthop_del(nexthop, opts), :nexthop_del, opts)

  defbang(nexthops(opts :: options \\ []) :: [nexthop])
  defbang(nexthop_add(spec :: map, opts :: options \\ []) :: :ok)
  defbang(nexthop_replace(spec :: map, opts :: options \\ []) :: :ok)
  defbang(nexthop_del(nexthop :: pos_integer | map, opts :: options \\ []) :: :ok)

  # Neighbours

  @doc "Every IPv4 (ARP) and IPv6 (NDP) neighbour entry of the namespace."
  @spec neighs(options) :: {:ok, [neigh]} | {:error, Error.t()}
  def neighs(opts \\ []), do: wrap(:linx_rtnl.neighs(opts), :neighs, opts)

  @doc """
  Adds a neighbour entry: `neigh` has `:index` (a link), `:dst` (an IP
  address) and `:lladdr` (a MAC), and may have `:state` (a list, default
  `[:permanent]`) and `:flags` (such as `[:router]`).
  """
  @spec neigh_add(map, options) :: :ok | {:error, Error.t()}
  def neigh_add(neigh, opts \\ []), do: wrap(:linx_rtnl.neigh_add(neigh, opts), :neigh_add, opts)

  @doc """
  Deletes the neighbour entry of `:index` and `:dst` (a map from
  `neighs/1` works as it is).
  """
  @spec neigh_del(map, options) :: :ok | {:error, Error.t()}
  def neigh_del(neigh, opts \\ []), do: wrap(:linx_rtnl.neigh_del(neigh, opts), :neigh_del, opts)

  @doc "The neighbour entries `filter` keeps: `proxy: true` (proxies), `:family`, `:index`/`:dev`."
  @spec neighs(map, options) :: {:ok, [neigh]} | {:error, Error.t()}
  def neighs(filter, opts), do: wrap(:linx_rtnl.neighs(filter, opts), :neighs, opts)

  # Bridge forwarding database (docs/elixir.md, "Bridge forwarding entries")

  @doc """
  Every bridge forwarding (fdb) entry, as `bridge fdb show`; with `filter`, those
  of a bridge and its ports (`master: link`) or of a link (`index:` or `dev:`).
  """
  @spec fdb(options) :: {:ok, [neigh]} | {:error, Error.t()}
  def fdb(opts \\ []), do: wrap(:linx_rtnl.fdb(opts), :fdb, opts)
  @spec fdb(map, options) :: {:ok, [neigh]} | {:error, Error.t()}
  def fdb(filter, opts), do: wrap(:linx_rtnl.fdb(filter, opts), :fdb, opts)

  @doc "Adds an fdb entry, as `bridge fdb add` (a map from `fdb/1` works as it is)."
  @spec fdb_add(map, options) :: :ok | {:error, Error.t()}
  def fdb_add(entry, opts \\ []), do: wrap(:linx_rtnl.fdb_add(entry, opts), :fdb_add, opts)

  @doc "Deletes an fdb entry (a map from `fdb/1` works as it is)."
  @spec fdb_del(map, options) :: :ok | {:error, Error.t()}
  def fdb_del(entry, opts \\ []), do: wrap(:linx_rtnl.fdb_del(entry, opts), :fdb_del, opts)

  defbang(neighs(filter :: map, opts :: options) :: [neigh])
  defbang(fdb(opts :: options \\ []) :: [neigh])
  defbang(fdb(filter :: map, opts :: options) :: [neigh])
  defbang(fdb_add(entry :: map, opts :: options \\ []) :: :ok)
  defbang(fdb_del(entry :: map, opts :: options \\ []) :: :ok)

  @doc """
  Every policy routing rule of the namespace, IPv4 and IPv6, in the
  kernel's order: maps with `:priority`, `:src`, `:dst`, `:table`,
  `:action`, ... (all of them: docs/rtnetlink.md, "Rules").
  """
  @spec rules(options) :: {:ok, [rule]} | {:error, Error.t()}
  def rules(opts \\ []), do: wrap(:linx_rtnl.rules(opts), :rules, opts)

  @doc """
  Adds a policy routing rule, as `ip rule add` does, from a map with the
  keys `rules/1` gives (`:priority`, `:src`, `:table`, ...); with none of
  `:table`, `:goto` and `:action` it looks up `main`. A bad value is
  `{:bad_rule, {key, value}}`.
  """
  @spec rule_add(map, options) :: :ok | {:error, Error.t()}
  def rule_add(rule, opts \\ []), do: wrap(:linx_rtnl.rule_add(rule, opts), :rule_add, opts)

  @doc """
  Deletes the first rule that matches every key `rule` gives (a map from
  `rules/1` works as it is; `%{priority: p}` deletes the rule of that
  priority).
  """
  @spec rule_del(map, options) :: :ok | {:error, Error.t()}
  def rule_del(rule, opts \\ []), do: wrap(:linx_rtnl.rule_del(rule, opts), :rule_del, opts)

  # Bang variants

  defbang(links(opts :: options \\ []) :: [link])
  defbang(link(ref :: link_ref, opts :: options \\ []) :: link)
  defbang(link_add(spec :: map, opts :: options \\ []) :: :ok)
  defbang(link_set(ref :: link_ref, changes :: map, opts :: options \\ []) :: :ok)
  defbang(link_del(ref :: link_ref, opts :: options \\ []) :: :ok)
  defbang(addrs(opts :: options \\ []) :: [addr])
  defbang(addr_add(link :: link_ref, addr :: addr_spec, opts :: options \\ []) :: :ok)
  defbang(addr_del(link :: link_ref, addr :: addr_spec, opts :: options \\ []) :: :ok)
  defbang(routes(opts :: options \\ []) :: [route])
  defbang(route_add(route :: map, opts :: options \\ []) :: :ok)
  defbang(route_del(route :: map, opts :: options \\ []) :: :ok)
  defbang(route_replace(route :: map, opts :: options \\ []) :: :ok)
  defbang(route_append(route :: map, opts :: options \\ []) :: :ok)
  defbang(route_get(destination :: :inet.ip_address() | map, opts :: options \\ []) :: route)
  defbang(routes(filter :: map, opts :: options) :: [route])
  defbang(neighs(opts :: options \\ []) :: [neigh])
  defbang(neigh_add(neigh :: map, opts :: options \\ []) :: :ok)
  defbang(neigh_del(neigh :: map, opts :: options \\ []) :: :ok)
  defbang(rules(opts :: options \\ []) :: [rule])
  defbang(rule_add(rule :: map, opts :: options \\ []) :: :ok)
  defbang(rule_del(rule :: map, opts :: options \\ []) :: :ok)

  # Batches

  @doc """
  Applies `ops` (`t:batch_op/0`) in one request, in order (docs/elixir.md,
  "Batches"); with `atomic: true`, all or nothing. Returns `{:ok,
  results}`, one `:ok` or `{:error, %Linx.Rtnl.Error{}}` per op, or
  `{:error, %Linx.Rtnl.Error{op: :batch}}` when the batch as a whole
  failed (a bad op, nothing sent; a target not there; an atomic batch
  whose op failed).
  """
  @spec batch([batch_op], options) ::
          {:ok, [:ok | {:error, Error.t()}]} | {:error, Error.t()}
  def batch(ops, opts \\ []), do: Linx.Rtnl.Call.batch(ops, opts)

  @doc """
  Like `batch/2`, but returns the results themselves and raises
  `Linx.Rtnl.Error` when the batch as a whole fails. An op that fails in
  a batch that is not atomic is an `{:error, error}` among the results;
  with `atomic: true` it raises.
  """
  defbang(batch(ops :: [batch_op], opts :: options \\ []) :: [:ok | {:error, Error.t()}])

  # Events

  @doc """
  Subscribes the caller to the rtnetlink events of `groups` in the
  namespace of `opts` (`:in`, `:timeout`, `:via` a C-node on this host,
  `:rcvbuf`, `:list_existing`, `:resync`). Each arrives as `{:linx_rtnl,
  ref, event}`: `{kind, :new | :del, map}` (the maps of the dumps),
  `{:other, type, payload}`, `{:resync, [{kind, :new, map}]}` (everything
  now: docs/rtnetlink.md, "Events a subscriber can trust") or `{:error,
  reason}`. It ends on `unsubscribe/1` or when the caller exits.

      {:ok, ref} = Linx.Rtnl.subscribe([:link, :ipv4_addr], in: {:netns, "blue"})
      receive do
        {:linx_rtnl, ^ref, {:link, :new, %{ifname: name, flags: flags}}} -> {name, flags}
      end
  """
  @spec subscribe([group], options) :: {:ok, reference} | {:error, Error.t()}
  def subscribe(groups, opts \\ []),
    do: wrap(:linx_rtnl.subscribe(groups, opts), :subscribe, opts)

  defbang(subscribe(groups :: [group], opts :: options \\ []) :: reference)

  @doc """
  Ends a subscription of the calling process; events of `ref` still in
  its mailbox are removed. `:ok` also when it has ended already.
  """
  @spec unsubscribe(reference) :: :ok
  def unsubscribe(ref), do: :linx_rtnl.unsubscribe(ref)

  # MAC addresses

  @doc """
  A MAC (or any link-layer) address as text.

      iex> Linx.Rtnl.format_mac(<<2, 0, 0x5E, 0x10, 0, 1>>)
      "02:00:5e:10:00:01"
  """
  @spec format_mac(binary) :: String.t()
  def format_mac(mac), do: :linx_rtnl.format_mac(mac)

  @doc """
  Parses a MAC address written as bytes of two hex digits with `:` (or
  `-`, the same throughout) between them; `:error` for anything else.

      iex> Linx.Rtnl.parse_mac("02:00:5e:10:00:01")
      {:ok, <<2, 0, 0x5E, 0x10, 0, 1>>}
      iex> Linx.Rtnl.parse_mac("02:00:5e:1")
      :error
  """
  @spec parse_mac(String.t() | charlist) :: {:ok, binary} | :error
  def parse_mac(text), do: :linx_rtnl.parse_mac(text)
end
