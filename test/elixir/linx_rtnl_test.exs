defmodule Linx.RtnlTest do
  # Linx.Rtnl and Linx.Genl against real network namespaces made by
  # Linx.Netns; `ip -n N ...` (and `genl ctrl list`) are the oracles.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Rtnl
  alias Linx.Rtnl.Error

  doctest Linx.Rtnl
  doctest Linx.Rtnl.Error
  doctest Linx.Genl

  @moduletag :netns

  setup do
    a = linx_netns!("rtnla", lo: :up)
    b = linx_netns!("rtnlb")
    {:ok, a: a, b: b, opts: [in: {:netns, a}]}
  end

  # The veth pair va (in A) / vb (in B), made by Linx.Rtnl.
  defp veth!(%{a: a, b: b, opts: opts}) do
    assert :ok =
             Rtnl.link_add(
               %{ifname: "va", kind: :veth, peer: %{ifname: "vb", netns: {:netns, b}}},
               opts
             )

    assert ip_links(a) == ["lo", "va"]
    assert ip_links(b) == ["lo", "vb"]
  end

  # `ip -j -n NS addr show dev DEV`: the {local, prefixlen} pairs of its
  # JSON (no JSON library here; the keys come in this order).
  defp ip_addrs(ns, dev) do
    out = cmd!("ip", ["-j", "-n", ns, "addr", "show", "dev", dev])

    for [_, local, len] <- Regex.scan(~r/"local":"([^"]+)","prefixlen":(\d+)/, out),
        do: {local, String.to_integer(len)}
  end

  test "a veth pair with its peer in another netns; links/1 and link/2 agree with ip",
       %{a: a, b: b, opts: opts} = ctx do
    veth!(ctx)

    assert {:ok, links} = Rtnl.links(opts)
    assert links |> Enum.map(& &1.ifname) |> Enum.sort() == ip_links(a)
    assert Enum.map(Rtnl.links!(in: {:netns, b}), & &1.ifname) |> Enum.sort() == ip_links(b)

    assert {:ok, %{ifname: "va", kind: :veth, index: index} = va} = Rtnl.link("va", opts)
    assert {:ok, %{ifname: "va"}} = Rtnl.link(index, opts)

    assert Rtnl.format_mac(va.address) ==
             cmd!("ip", ["-n", a, "-br", "link", "show", "va"]) |> mac()

    assert :ok = Rtnl.link_set("va", %{state: :up, mtu: 9000}, opts)
    assert %{mtu: 9000, flags: flags} = Rtnl.link!("va", opts)
    assert :up in flags
    assert cmd!("ip", ["-n", a, "-o", "link", "show", "va"]) =~ ~r/<[^>]*\bUP\b[^>]*> mtu 9000 /

    assert :ok = Rtnl.link_del!("va", opts)
    assert ip_links(a) == ["lo"]
    assert ip_links(b) == ["lo"]
  end

  test "addresses, a route and a neighbour, checked with ip", %{a: a, opts: opts} = ctx do
    veth!(ctx)
    :ok = Rtnl.link_set!("va", %{state: :up}, opts)

    assert :ok = Rtnl.addr_add("va", {{10, 0, 0, 1}, 24}, opts)

    assert :ok =
             Rtnl.addr_add!(
               "va",
               [prefix: {{0xFD00, 0, 0, 0, 0, 0, 0, 1}, 64}, flags: [:nodad]],
               opts
             )

    # A map with a label, a broadcast address and a scope.
    assert :ok =
             Rtnl.addr_add(
               "va",
               %{
                 prefix: {{10, 0, 1, 1}, 24},
                 label: "va:web",
                 broadcast: {10, 0, 1, 255},
                 scope: :link
               },
               opts
             )

    # (ip lists an address of scope link before those of scope global.)
    assert Enum.sort(ip_addrs(a, "va")) == [{"10.0.0.1", 24}, {"10.0.1.1", 24}, {"fd00::1", 64}]

    assert cmd!("ip", ["-n", a, "-o", "-4", "addr", "show", "dev", "va", "label", "va:web"]) =~
             ~r"inet 10\.0\.1\.1/24 brd 10\.0\.1\.255 scope link va:web"

    assert :ok = Rtnl.addr_del("va", [prefix: {{10, 0, 1, 1}, 24}], opts)
    assert ip_addrs(a, "va") == [{"10.0.0.1", 24}, {"fd00::1", 64}]

    assert {:ok, addrs} = Rtnl.addrs(opts)

    assert %{family: :inet, prefixlen: 24, scope: :universe} =
             Enum.find(addrs, &(&1[:local] == {10, 0, 0, 1}))

    route = %{dst: {{10, 1, 0, 0}, 16}, gateway: {10, 0, 0, 2}, metric: 10}
    assert :ok = Rtnl.route_add(route, opts)

    assert cmd!("ip", ["-n", a, "route", "show", "10.1.0.0/16"]) =~
             "10.1.0.0/16 via 10.0.0.2 dev va metric 10"

    assert {:ok, routes} = Rtnl.routes(opts)
    assert found = Enum.find(routes, &(&1.dst == {{10, 1, 0, 0}, 16}))
    assert %{gateway: {10, 0, 0, 2}, metric: 10, table: 254, protocol: :boot} = found
    # A map from routes/1 deletes the route as it is.
    assert :ok = Rtnl.route_del!(found, opts)
    assert cmd!("ip", ["-n", a, "route", "show", "10.1.0.0/16"]) == ""

    # route_replace adds it back and changes it (run again, the same),
    # route_get finds it, and so does a filtered dump.
    assert :ok = Rtnl.route_replace!(route, opts)

    for _ <- 1..2,
        do: assert(:ok = Rtnl.route_replace(%{route | gateway: {10, 0, 0, 3}}, opts))

    assert [line] =
             String.split(cmd!("ip", ["-n", a, "route", "show", "10.1.0.0/16"]), "\n", trim: true)

    assert line =~ "10.1.0.0/16 via 10.0.0.3 dev va metric 10"

    assert %{gateway: {10, 0, 0, 3}, dst: {{10, 1, 2, 3}, 32}} =
             Rtnl.route_get!({10, 1, 2, 3}, opts)

    assert [%{gateway: {10, 0, 0, 3}}] =
             Rtnl.routes!(%{table: :main, oif: "va", protocol: :boot}, opts)
             |> Enum.filter(&(&1.dst == {{10, 1, 0, 0}, 16}))

    assert {:error, %Linx.Rtnl.Error{errno: :bad_filter}} = Rtnl.routes(%{table: :mine}, opts)
    assert {:error, %Linx.Rtnl.Error{errno: :enetunreach}} = Rtnl.route_get({10, 77, 0, 1}, opts)

    {:ok, mac} = Rtnl.parse_mac("02:00:5e:10:00:09")
    %{index: index} = Rtnl.link!("va", opts)
    assert :ok = Rtnl.neigh_add(%{index: index, dst: {10, 0, 0, 9}, lladdr: mac}, opts)

    assert cmd!("ip", ["-n", a, "neigh", "show", "10.0.0.9"]) =~
             "10.0.0.9 dev va lladdr 02:00:5e:10:00:09 PERMANENT"

    assert {:ok, neighs} = Rtnl.neighs(opts)
    assert neigh = Enum.find(neighs, &(&1.dst == {10, 0, 0, 9}))
    assert :ok = Rtnl.neigh_del(neigh, opts)
    assert cmd!("ip", ["-n", a, "neigh", "show", "10.0.0.9"]) == ""

    assert :ok = Rtnl.addr_del!("va", {{10, 0, 0, 1}, 24}, opts)
    assert ip_addrs(a, "va") == [{"fd00::1", 64}]
  end

  test "a veth peer into a Linx.Netns handle", %{a: a, opts: opts} do
    assert {:ok, ns} = Linx.Netns.new()

    try do
      assert :ok =
               Rtnl.link_add!(
                 %{ifname: "vh", kind: :veth, peer: %{ifname: "vhp", netns: ns}},
                 opts
               )

      assert ip_links(a) == ["lo", "vh"]
      assert {:ok, links} = Rtnl.links(in: ns)
      assert links |> Enum.map(& &1.ifname) |> Enum.sort() == ["lo", "vhp"]
    after
      Linx.Netns.release(ns)
    end
  end

  test "eexist from the kernel, with its text; bad arguments; a netns that is gone",
       %{a: a, opts: opts} = ctx do
    veth!(ctx)
    :ok = Rtnl.addr_add!("va", {{10, 0, 0, 1}, 24}, opts)

    assert {:error, %Error{op: :addr_add, stage: :netlink, errno: :eexist, code: 17} = e} =
             Rtnl.addr_add("va", {{10, 0, 0, 1}, 24}, opts)

    assert e.in == {:netns, a}
    assert Exception.message(e) == :linx.format_error(e.reason)

    assert Exception.message(e) =~
             ~s|netlink addr_add in netns "#{a}" failed: eexist (errno 17)|

    if e.ext_ack, do: assert(Exception.message(e) =~ e.ext_ack)

    assert_raise Error, ~r/netlink link_add in netns "#{a}" failed: eexist \(errno 17\)/, fn ->
      Rtnl.link_add!(%{ifname: "va", kind: :bridge}, opts)
    end

    assert {:error, %Error{op: :link, stage: :netlink, errno: :enodev, code: 19}} =
             Rtnl.link("nosuch0", opts)

    # Refused before anything is sent.
    assert {:error, %Error{stage: :badarg, errno: :bad_ifname}} =
             Rtnl.link_add(%{ifname: "a-name-too-long-for-linux", kind: :veth}, opts)

    assert {:error, %Error{stage: :badarg, errno: :bad_prefix}} =
             Rtnl.addr_add("va", {{10, 0, 0, 1}, 33}, opts)

    assert {:error, %Error{op: :addr_del, stage: :badarg, errno: :bad_prefix}} =
             Rtnl.addr_del("va", [prefix: {{10, 0, 0, 1}, 33}], opts)

    # An address's label, broadcast, scope and flags are the address's,
    # not options; a bad one is bad_addr.
    for {key, value} <- [label: "va:x", broadcast: {10, 0, 0, 255}, scope: :link, flags: [:nodad]] do
      assert {:error, %Error{stage: :badarg, errno: :bad_option, reason: reason}} =
               Rtnl.addr_add("va", {{10, 0, 2, 1}, 24}, [{key, value} | opts])

      assert %{reason: {:bad_option, {^key, ^value}}} = reason
    end

    for bad <- [
          [prefix: {{10, 0, 2, 1}, 24}, scope: :bogus],
          %{prefix: {{10, 0, 2, 1}, 24}, flags: [:bogus]},
          %{prefix: {{10, 0, 2, 1}, 24}, mtu: 1500}
        ] do
      assert {:error, %Error{op: :addr_add, stage: :badarg, errno: :bad_addr} = e} =
               Rtnl.addr_add("va", bad, opts)

      assert Exception.message(e) =~ "invalid address"
    end

    assert ip_addrs(a, "va") == [{"10.0.0.1", 24}]

    assert {:error, %Error{stage: :badarg, errno: :bad_netns}} =
             Rtnl.link_set("va", %{netns: :nowhere}, opts)

    assert {:error, %Error{op: :subscribe, stage: :badarg, errno: :bad_groups}} =
             Rtnl.subscribe([:bogus], opts)

    assert {:error, %Error{stage: :badarg, errno: :bad_in}} = Rtnl.links(in: {:netns, "x/y"})

    del(a)

    assert {:error, %Error{op: :links, stage: :open_ns, errno: :enoent, in: {:netns, ^a}} = e} =
             Rtnl.links(opts)

    assert Exception.message(e) =~ ~s(in netns "#{a}" failed: open_ns enoent)
    assert_raise Error, fn -> Rtnl.links!(opts) end
  end

  test "a subscription receives the netns's link events", %{a: a, opts: opts} = ctx do
    assert {:ok, ref} = Rtnl.subscribe([:link], opts)

    try do
      veth!(ctx)
      cmd!("ip", ["-n", a, "link", "set", "va", "up"])
      assert_receive {:linx_rtnl, ^ref, {:link, :new, %{ifname: "va"}}}, 5000
      # Then the event of va going up.
      assert up_event(ref)
    after
      assert :ok = Rtnl.unsubscribe(ref)
    end

    cmd!("ip", ["-n", a, "link", "del", "va"])
    refute_received {:linx_rtnl, ^ref, _}
  end

  defp up_event(ref) do
    receive do
      {:linx_rtnl, ^ref, {:link, :new, %{ifname: "va", flags: flags}}} ->
        :up in flags or up_event(ref)

      {:linx_rtnl, ^ref, _other} ->
        up_event(ref)
    after
      5000 -> false
    end
  end

  test "rules: added, dumped, read by ip, deleted; a bad field is named", %{a: a, opts: opts} do
    rule = %{priority: 100, src: {{10, 8, 0, 0}, 16}, fwmark: 5, table: 100}
    assert :ok = Rtnl.rule_add(rule, opts)

    assert cmd!("ip", ["-n", a, "rule", "show", "priority", "100"]) =~
             "from 10.8.0.0/16 fwmark 0x5 lookup 100"

    assert [%{src: {{10, 8, 0, 0}, 16}, fwmark: 5, table: 100, action: :lookup} = dumped] =
             for(%{priority: 100} = r <- Rtnl.rules!(opts), do: r)

    assert :ok = Rtnl.rule_del!(dumped, opts)
    assert cmd!("ip", ["-n", a, "rule", "show", "priority", "100"]) == ""

    assert {:error, %Error{} = e} = Rtnl.rule_add(%{priority: 5, sport: {9, 3}}, opts)
    assert Exception.message(e) =~ "invalid rule: {sport,{9,3}}"
    assert %Error{op: :rule_add, stage: :badarg, errno: :bad_rule} = e
  end

  test "genl families in a netns agree with genl ctrl list", %{a: a} do
    opts = [in: {:netns, a}]
    assert {:ok, %{id: 16, name: "nlctrl", version: version}} = Linx.Genl.family("nlctrl", opts)
    assert version >= 1
    assert {:ok, families} = Linx.Genl.families(opts)

    oracle =
      for [_, name] <-
            Regex.scan(
              ~r/^Name: (\S+)/m,
              cmd!("ip", ["netns", "exec", a, "genl", "ctrl", "list"])
            ),
          do: name

    assert families |> Enum.map(& &1.name) |> Enum.sort() == Enum.sort(oracle)

    assert {:error, %Linx.Netlink.Error{op: :genl_family, stage: :netlink, errno: :enoent}} =
             Linx.Genl.family("linx-none", opts)

    assert {:error, %Linx.Netlink.Error{op: :genl_family, stage: :badarg, errno: :bad_family}} =
             Linx.Genl.family("", opts)

    assert {:error, %Linx.Netlink.Error{errno: :bad_family} = e} = Linx.Genl.family(123, opts)
    assert Exception.message(e) =~ "invalid generic netlink family name 123"

    # Out of range for the header: refused, not cut to its low bits.
    for {args, errno} <- [
          {[70_000, 3, 1, []], :bad_family},
          {[16, 256, 1, []], :bad_command},
          {[16, 3, 1, [{1, {:u16, 70_000}}]], :bad_attrs}
        ] do
      assert {:error, %Linx.Netlink.Error{op: :genl_request, stage: :badarg, errno: ^errno}} =
               apply(Linx.Genl, :request, args ++ [opts])
    end

    for args <- [[70_000, 3, 1, []], [16, 256, 1, []]] do
      assert {:error, %Linx.Netlink.Error{op: :genl_dump, stage: :badarg}} =
               apply(Linx.Genl, :dump, args ++ [opts])
    end

    assert {:error, %Linx.Netlink.Error{errno: :bad_option}} =
             Linx.Genl.request(16, 3, 1, [], Keyword.put(opts, :flags, -1))

    assert {:error, %Linx.Netlink.Error{errno: :bad_option}} =
             Linx.Genl.dump(16, 3, 1, [], Map.new([{:flags, -1} | opts]))

    # A dump is dump/5, not an option.
    assert {:error, %Linx.Netlink.Error{op: :genl_request, errno: :bad_option} = e} =
             Linx.Genl.request(16, 3, 1, [], [dump: true] ++ opts)

    assert %{reason: {:bad_option, {:dump, true}}} = e.reason

    # CTRL_CMD_GETFAMILY: of one family by name (CTRL_ATTR_FAMILY_NAME)
    # as a request, of every family as a dump, and as a dump too when
    # request/5 is given NLM_F_DUMP (0x300) in flags: (a keyword option).
    assert {:ok, [%{cmd: 1}]} = Linx.Genl.request(16, 3, 1, [{2, {:string, "nlctrl"}}], opts)
    assert {:ok, replies} = Linx.Genl.dump(16, 3, 1, [], opts)
    assert length(replies) == length(families)
    assert {:ok, replies} = Linx.Genl.request(16, 3, 1, [], [flags: 0x300] ++ opts)
    assert length(replies) == length(families)
  end

  defp mac(brief_line) do
    # `ip -br link show DEV`: NAME@PEER STATE MAC <FLAGS>
    [_, _, mac | _] = String.split(brief_line, ~r/\s+/, trim: true)
    mac
  end
end
