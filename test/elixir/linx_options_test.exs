defmodule Linx.OptionsTest do
  # Options as the Elixir API takes them: every function with options,
  # given options that are not options (an atom, an improper list, bare
  # atoms, triples) or an option no function knows, returns its error
  # struct with `errno: :bad_option` and never raises anything else.
  # The arguments are refused by the kernel should the options ever be
  # dropped (no such key, link, kind or namespace), so nothing is changed.
  use ExUnit.Case, async: true

  alias Linx.{Genl, Netns, Rtnl, Sysctl}
  alias Linx.Netlink.Socket

  @no_index 0x7FFFFFF0
  @key "net.ipv4.linx_nosuch"

  # {name, fun(opts) -> result}: each Elixir function that takes options.
  defp calls do
    name = "linx-exu-opts-none-#{System.unique_integer([:positive])}"
    route = %{dst: {{192, 0, 2, 0}, 24}, oif: @no_index}
    neigh = %{index: @no_index, dst: {192, 0, 2, 1}, lladdr: <<2, 0, 0, 0, 0, 1>>}

    [
      {"Sysctl.read/2", &Sysctl.read(@key, &1)},
      {"Sysctl.read_int/2", &Sysctl.read_int(@key, &1)},
      {"Sysctl.read_ints/2", &Sysctl.read_ints(@key, &1)},
      {"Sysctl.write/3", &Sysctl.write(@key, 1, &1)},
      {"Sysctl.list/2", &Sysctl.list(@key, &1)},
      {"Sysctl.apply/2", &Sysctl.apply([{@key, 1}], &1)},
      {"Socket.open/2", &closed(Socket.open(:route, &1))},
      {"Socket.open/3", &closed(Socket.open(:route, [1], &1))},
      {"Socket.open_fd/2", &closed(Socket.open_fd(:route, &1))},
      {"Socket.open_fd/3", &closed(Socket.open_fd(:route, 1, &1))},
      {"Rtnl.links/1", &Rtnl.links(&1)},
      {"Rtnl.link/2", &Rtnl.link("lo", &1)},
      {"Rtnl.link_add/2", &Rtnl.link_add(%{ifname: "linxopt0", kind: :linx_nosuch}, &1)},
      {"Rtnl.link_set/3", &Rtnl.link_set(@no_index, %{mtu: 1400}, &1)},
      {"Rtnl.link_del/2", &Rtnl.link_del(@no_index, &1)},
      {"Rtnl.addrs/1", &Rtnl.addrs(&1)},
      {"Rtnl.addr_add/3", &Rtnl.addr_add(@no_index, {{192, 0, 2, 1}, 24}, &1)},
      {"Rtnl.addr_del/3", &Rtnl.addr_del(@no_index, {{192, 0, 2, 1}, 24}, &1)},
      {"Rtnl.addr_replace/3", &Rtnl.addr_replace(@no_index, {{192, 0, 2, 1}, 24}, &1)},
      {"Rtnl.routes/1", &Rtnl.routes(&1)},
      {"Rtnl.route_add/2", &Rtnl.route_add(route, &1)},
      {"Rtnl.route_del/2", &Rtnl.route_del(route, &1)},
      {"Rtnl.routes/2", &Rtnl.routes(%{table: 100}, &1)},
      {"Rtnl.route_replace/2", &Rtnl.route_replace(route, &1)},
      {"Rtnl.route_append/2", &Rtnl.route_append(route, &1)},
      {"Rtnl.route_get/2", &Rtnl.route_get(%{dst: {192, 0, 2, 1}, oif: @no_index}, &1)},
      {"Rtnl.neighs/1", &Rtnl.neighs(&1)},
      {"Rtnl.neigh_add/2", &Rtnl.neigh_add(neigh, &1)},
      {"Rtnl.neigh_del/2", &Rtnl.neigh_del(neigh, &1)},
      {"Rtnl.neighs/2", &Rtnl.neighs(%{proxy: true}, &1)},
      {"Rtnl.fdb/1", &Rtnl.fdb(&1)},
      {"Rtnl.fdb/2", &Rtnl.fdb(%{index: 1}, &1)},
      {"Rtnl.fdb_add/2", &Rtnl.fdb_add(Map.delete(neigh, :dst), &1)},
      {"Rtnl.fdb_del/2", &Rtnl.fdb_del(Map.delete(neigh, :dst), &1)},
      {"Rtnl.rules/1", &Rtnl.rules(&1)},
      {"Rtnl.rule_add/2", &Rtnl.rule_add(%{priority: 1, goto: 1}, &1)},
      {"Rtnl.rule_del/2", &Rtnl.rule_del(%{priority: 12_345}, &1)},
      {"Rtnl.nexthops/1", &Rtnl.nexthops(&1)},
      {"Rtnl.nexthop_add/2", &Rtnl.nexthop_add(%{id: 1, group: [@no_index]}, &1)},
      {"Rtnl.nexthop_replace/2", &Rtnl.nexthop_replace(%{id: 1, group: [@no_index]}, &1)},
      {"Rtnl.nexthop_del/2", &Rtnl.nexthop_del(@no_index, &1)},
      {"Rtnl.subscribe/2", &unsubscribed(Rtnl.subscribe([:link], &1))},
      {"Genl.family/2", &Genl.family("nlctrl", &1)},
      {"Genl.families/1", &Genl.families(&1)},
      {"Genl.request/5", &Genl.request(16, 3, 1, [{2, {:string, "nlctrl"}}], &1)},
      {"Genl.dump/5", &Genl.dump(16, 3, 1, [], &1)},
      {"Netns.add/2", &removed(name, Netns.add(name, &1))},
      {"Netns.add/3", &removed(name, Netns.add(name, [], &1))},
      {"Netns.del/2", &Netns.del(name, &1)},
      {"Netns.list/1", &Netns.list(&1)},
      {"Netns.identify/2", &Netns.identify(String.to_integer(System.pid()), &1)},
      {"Netns.new/1", &released(Netns.new(&1))},
      {"Netns.new/2", &released(Netns.new([], &1))}
    ] ++ nft_calls() ++ tc_calls()
  end

  # Linx.Tc: links no namespace has, a kind no kernel has.
  defp tc_calls do
    o = %{link: @no_index, kind: :linx_nosuch}

    [
      {"Tc.qdiscs/1", &Linx.Tc.qdiscs(&1)},
      {"Tc.qdiscs/2", &Linx.Tc.qdiscs(%{link: @no_index}, &1)},
      {"Tc.classes/2", &Linx.Tc.classes(@no_index, &1)},
      {"Tc.filters/3", &Linx.Tc.filters(@no_index, :root, &1)}
    ] ++
      for fun <-
            [:qdisc_add, :qdisc_replace, :qdisc_change, :qdisc_del, :class_add] ++
              [:class_replace, :class_change, :class_del, :filter_add] ++
              [:filter_replace, :filter_del] do
        {"Tc.#{fun}/2", &apply(Linx.Tc, fun, [o, &1])}
      end
  end

  # Linx.Nft: ops the kernel would refuse (a table that is not there).
  defp nft_calls do
    t = %{family: :inet, name: "linx-nosuch"}
    c = %{family: :inet, table: "linx-nosuch", name: "c"}
    r = %{family: :inet, table: "linx-nosuch", chain: "c", handle: 1}

    [
      {"Nft.apply/2", &Linx.Nft.apply([{:delete, :table, t}], &1)},
      {"Nft.replace/3", &Linx.Nft.replace(t, [{:delete, :chain, c}], &1)},
      {"Nft.flush_ruleset/1", &Linx.Nft.flush_ruleset(&1)},
      {"Nft.ruleset/1", &Linx.Nft.ruleset(&1)},
      {"Nft.tables/1", &Linx.Nft.tables(&1)},
      {"Nft.chains/1", &Linx.Nft.chains(&1)},
      {"Nft.rules/1", &Linx.Nft.rules(&1)},
      {"Nft.sets/1", &Linx.Nft.sets(&1)},
      {"Nft.table_add/2", &Linx.Nft.table_add(Map.put(t, :family, :ipx), &1)},
      {"Nft.table_del/2", &Linx.Nft.table_del(t, &1)},
      {"Nft.chain_add/2", &Linx.Nft.chain_add(c, &1)},
      {"Nft.chain_del/2", &Linx.Nft.chain_del(c, &1)},
      {"Nft.rule_add/2", &Linx.Nft.rule_add(Map.delete(r, :handle), &1)},
      {"Nft.rule_del/2", &Linx.Nft.rule_del(r, &1)}
    ] ++
      [
        # Linx.Nft events
        {"Nft.subscribe/2", &nft_unsubscribed(Linx.Nft.subscribe(:all, &1))}
      ]
  end

  defp closed({:ok, fd} = ok) when is_integer(fd), do: tap(ok, fn _ -> Socket.close_fd(fd) end)
  defp closed({:ok, socket} = ok), do: tap(ok, fn _ -> :socket.close(socket) end)
  defp closed(error), do: error

  defp unsubscribed({:ok, ref} = ok), do: tap(ok, fn _ -> Rtnl.unsubscribe(ref) end)
  defp unsubscribed(error), do: error

  defp nft_unsubscribed({:ok, ref} = ok), do: tap(ok, fn _ -> Linx.Nft.unsubscribe(ref) end)
  defp nft_unsubscribed(error), do: error

  defp removed(name, :ok), do: tap(:ok, fn _ -> Netns.del(name) end)
  defp removed(_name, error), do: error

  defp released({:ok, handle} = ok), do: tap(ok, fn _ -> Netns.release(handle) end)
  defp released(error), do: error

  # Calls `fun` with `opts`: it returns {:error, %{errno: :bad_option}},
  # its reason {:bad_option, expected}.
  defp refused(name, fun, opts, expected) do
    result =
      try do
        fun.(opts)
      rescue
        e -> flunk("#{name} with #{inspect(opts)} raised #{inspect(e)}")
      end

    case result do
      {:error,
       %{stage: :badarg, errno: :bad_option, reason: %{reason: {:bad_option, ^expected}}} = e} ->
        assert Exception.message(e) =~ "invalid option"

      other ->
        flunk("#{name} with #{inspect(opts)} gave #{inspect(other)}")
    end
  end

  test "options that are not options are refused, never raised on" do
    junk = [:foo, 42, "in", [:bogus], [:in], [{:a, :b, :c}], [:a | :b], [{:timeout, 100} | :b]]

    for {name, fun} <- calls(), opts <- junk do
      refused(name, fun, opts, opts)
    end
  end

  test "an option no function knows is refused by name, as a keyword list and as a map" do
    for {name, fun} <- calls(),
        opts <- [[data: :foo], %{data: :foo}, [timeout: 5000, data: :foo]] do
      refused(name, fun, opts, {:data, :foo})
    end

    # Linx.Netns runs where the port program is: `in:` is not its option.
    assert {:error, %Netns.Error{errno: :bad_option}} = Netns.list(in: {:netns, "x"})
  end

  test "bang functions raise their error struct for bad options" do
    assert_raise Sysctl.Error, ~r/invalid option/, fn -> Sysctl.read!(@key, [:a | :b]) end
    assert_raise Linx.Netlink.Error, ~r/invalid option/, fn -> Genl.families!([:bogus]) end

    assert_raise Linx.Netlink.Error, ~r/invalid option/, fn ->
      Socket.open!(:route, [{:a, :b, :c}])
    end

    assert_raise Rtnl.Error, ~r/invalid option/, fn -> Rtnl.links!(data: :foo) end
    assert_raise Netns.Error, ~r/invalid option/, fn -> Netns.exists?("x", [:a | :b]) end
  end

  test "dump: is refused by Linx.Genl, pointing at dump/5" do
    assert {:error, %Linx.Netlink.Error{errno: :bad_option} = e} =
             Genl.request(16, 3, 1, [], dump: true)

    assert Exception.message(e) =~ "linx_genl:dump/4,5"
  end

  test "Linx.Args.keyword_map/1: a keyword list as a map (the first of a key wins), anything else as it is" do
    assert Linx.Args.keyword_map(lo: :up, lo: :down) == %{lo: :up}
    assert Linx.Args.keyword_map([]) == %{}

    for other <- [
          [:a | :b],
          [{:lo, :up} | :b],
          [:bogus],
          [{:a, :b, :c}],
          [{"lo", :up}],
          :foo,
          %{lo: :up}
        ] do
      assert Linx.Args.keyword_map(other) == other
    end

    assert {:error, %Netns.Error{errno: :bad_spec}} = Netns.add("x", [{:lo, :up} | :b], [])
  end

  test "close_fd/1 names the descriptor it was given" do
    assert {:error, %Linx.Netlink.Error{op: :close_fd, stage: :close, errno: :ebadf} = e} =
             Socket.close_fd(999_999)

    assert e.reason.fd == 999_999
    assert Exception.message(e) == "linx_netlink:close_fd(999999) failed: ebadf (errno 9)"
  end

  test "a MAC is 6 bytes or aa:bb:cc:dd:ee:ff text; a name has no NUL" do
    for mac <- ["zz:zz:zz:zz:zz:zz", "zz:zz", <<1, 2, 3, 4, 5, 6, 7>>, ~c"02:00:00:00:00:0"] do
      assert {:error, %Rtnl.Error{errno: :bad_address}} =
               Rtnl.link_set(@no_index, %{address: mac})

      assert {:error, %Rtnl.Error{errno: :bad_address}} =
               Rtnl.neigh_add(%{index: @no_index, dst: {192, 0, 2, 1}, lladdr: mac})
    end

    assert {:error, %Linx.Netlink.Error{errno: :bad_family}} = Genl.family("nlctrl\0x")
    assert {:error, %Rtnl.Error{errno: :bad_ifname}} = Rtnl.link("lo\0")
    assert {:error, %Netns.Error{errno: :bad_name}} = Netns.del("a\0b")
  end
end
