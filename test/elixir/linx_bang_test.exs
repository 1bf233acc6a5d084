defmodule Linx.BangTest do
  # Every function of the Elixir API that returns {:ok, _} or :ok or
  # {:error, _} has a bang variant of each of its arities, whose spec
  # returns the success value; each raises what its function returns in
  # {:error, exception}. The specs are read from the compiled modules
  # (the check: Linx.TestBangSpecs, test/elixir/support/bang_specs.ex).
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.{Genl, Netns, Rtnl, Sysctl}
  alias Linx.Netlink.Socket
  alias Linx.TestBangSpecs

  @lib Path.expand("../../lib", __DIR__)

  # The exception each API module's bang functions raise.
  @raises %{
    Linx.Sysctl => Linx.Sysctl.Error,
    Linx.Rtnl => Linx.Rtnl.Error,
    Linx.Netns => Linx.Netns.Error,
    Linx.Genl => Linx.Netlink.Error,
    Linx.Netlink.Socket => Linx.Netlink.Error,
    Linx.Nft => Linx.Nft.Error,
    Linx.Tc => Linx.Tc.Error
  }

  # The NIF-based library's native modules, served as they were: their
  # functions, shapes and errors are that library's contract
  # ({stage, errno} tuples, not exceptions), which had no bang variants.
  @contracts [Linx.Sysctl.Native, Linx.Netlink.Socket.Native]

  defp app_modules do
    for module <- Application.spec(:linx, :modules),
        match?("Elixir." <> _, Atom.to_string(module)),
        do: module
  end

  defp file_modules do
    for file <- Path.wildcard(Path.join(@lib, "**/*.ex")),
        [_, name] <- Regex.scan(~r/^defmodule ([\w.]+) do$/m, File.read!(file)),
        do: Module.concat([name])
  end

  describe "every ok/error function has a bang variant" do
    test "the Elixir modules of :linx are those of lib/" do
      assert Enum.sort(app_modules()) == Enum.sort(file_modules())
      assert Linx.Sysctl in app_modules()
    end

    test "for every arity, with a spec returning the success value" do
      modules = app_modules() -- @contracts
      assert Map.keys(@raises) -- modules == []
      assert Enum.flat_map(modules, &TestBangSpecs.problems/1) == []
    end

    test "the check finds a missing bang function, a missing arity and a wrong spec" do
      {:module, module, binary, _} =
        defmodule Fixture do
          @moduledoc false
          # Its specs are read from its object code: keep them there
          # whatever the compiler options of the moment.
          @compile {:debug_info, true}

          @spec fine(term) :: {:ok, term} | {:error, term}
          def fine(x), do: {:ok, x}
          @spec fine!(term) :: term
          def fine!(x), do: x

          @spec none(term, keyword) :: :ok | {:error, term}
          def none(_x, _opts \\ []), do: :ok

          @type result :: {:ok, integer} | {:error, term}
          @spec half(term, keyword) :: result
          def half(_x, _opts \\ []), do: {:ok, 1}
          @spec half!(term, keyword) :: integer
          def half!(_x, _opts), do: 1

          @spec wrong(term) :: {:ok, integer} | {:error, term}
          def wrong(_x), do: {:ok, 1}
          @spec wrong!(term) :: {:ok, integer}
          def wrong!(_x), do: {:ok, 1}

          @spec other(term) :: {:ok, term} | :error
          def other(x), do: {:ok, x}

          def unspecified, do: :ok
        end

      assert Enum.sort(TestBangSpecs.problems(module, binary)) ==
               Enum.sort([
                 {:missing, module, {:none!, 1}},
                 {:missing, module, {:none!, 2}},
                 {:missing, module, {:half!, 1}},
                 {:spec, module, {:wrong!, 1}},
                 {:no_spec, module, {:unspecified, 0}}
               ])
    end
  end

  # For every bang function, a call its function refuses before anything
  # is sent: {module, function, full arguments}.
  defp refused_calls do
    {:ok, socket} = :socket.open(:inet, :dgram, :udp)
    on_exit(fn -> :socket.close(socket) end)
    bad_in = [in: {:netns, "x/y"}]

    [
      {Sysctl, :read, ["net..x", []]},
      {Sysctl, :read_int, ["net..x", []]},
      {Sysctl, :read_ints, ["net..x", []]},
      {Sysctl, :write, ["net..x", 1, []]},
      {Sysctl, :list, ["net..x", []]},
      {Sysctl, :apply, [:nope, []]},
      {Rtnl, :links, [bad_in]},
      {Rtnl, :link, ["no/slash", []]},
      {Rtnl, :link_add, [%{ifname: "no/slash", kind: :veth}, []]},
      {Rtnl, :link_set, ["lo", %{netns: :nowhere}, []]},
      {Rtnl, :link_del, ["no/slash", []]},
      {Rtnl, :addrs, [bad_in]},
      {Rtnl, :addr_add, ["lo", {{10, 0, 0, 1}, 33}, []]},
      {Rtnl, :addr_del, ["lo", {{10, 0, 0, 1}, 33}, []]},
      {Rtnl, :addr_replace, ["lo", {{10, 0, 0, 1}, 33}, []]},
      {Rtnl, :routes, [bad_in]},
      {Rtnl, :route_add, [%{dst: :bogus}, []]},
      {Rtnl, :route_del, [%{dst: :bogus}, []]},
      {Rtnl, :route_replace, [%{dst: :bogus}, []]},
      {Rtnl, :route_append, [%{dst: :bogus}, []]},
      {Rtnl, :route_get, [%{dst: :bogus}, []]},
      {Rtnl, :routes, [%{table: :mine}, []]},
      {Rtnl, :neighs, [bad_in]},
      {Rtnl, :neigh_add, [%{}, []]},
      {Rtnl, :neigh_del, [%{}, []]},
      {Rtnl, :neighs, [%{proxy: :yes}, []]},
      {Rtnl, :fdb, [bad_in]},
      {Rtnl, :fdb, [%{bridge: 1}, []]},
      {Rtnl, :fdb_add, [%{}, []]},
      {Rtnl, :fdb_del, [%{}, []]},
      {Rtnl, :rules, [bad_in]},
      {Rtnl, :rule_add, [%{sport: {9, 3}}, []]},
      {Rtnl, :rule_del, [:not_a_map, []]},
      {Rtnl, :nexthops, [bad_in]},
      {Rtnl, :nexthop_add, [%{id: 0}, []]},
      {Rtnl, :nexthop_replace, [%{id: 1, group: []}, []]},
      {Rtnl, :nexthop_del, [:not_an_id, []]},
      {Rtnl, :batch, [[{:bogus}], []]},
      {Rtnl, :subscribe, [[:bogus], []]},
      {Netns, :add, ["a/b", []]},
      {Netns, :add, ["ok", [lo: :sideways], []]},
      {Netns, :del, ["a/b", []]},
      {Netns, :list, [[timeout: -1]]},
      {Netns, :identify, [0, []]},
      {Netns, :new, [[via: :other@host]]},
      {Netns, :new, [[lo: :sideways], []]},
      {Netns, :release, [:nothing]},
      {Genl, :family, ["", []]},
      {Genl, :families, [bad_in]},
      {Genl, :request, [70_000, 3, 1, [], []]},
      {Genl, :dump, [70_000, 3, 1, [], []]},
      {Socket, :open, [99, []]},
      {Socket, :open, [:route, -1, []]},
      {Socket, :open_fd, [99, []]},
      {Socket, :open_fd, [:route, [33], []]},
      {Socket, :close_fd, [-1]},
      {Socket, :add_membership, [socket, 0]},
      {Socket, :drop_membership, [socket, :x]}
    ] ++ nft_refused_calls(bad_in) ++ tc_refused_calls(bad_in)
  end

  # Linx.Nft: a bad op, a bad option, a bad target.
  defp nft_refused_calls(bad_in) do
    table = %{family: :ipx, name: "t"}
    chain = %{family: :inet, table: "t", name: "c", hook: :nowhere}
    rule = %{family: :inet, table: "t", chain: "c", expressions: [{:bogus, %{}}]}

    [
      {Linx.Nft, :apply, [:nope, []]},
      {Linx.Nft, :replace, [%{family: :inet, name: "t"}, :nope, []]},
      {Linx.Nft, :flush_ruleset, [bad_in]},
      {Linx.Nft, :ruleset, [bad_in]},
      {Linx.Nft, :tables, [bad_in]},
      {Linx.Nft, :chains, [[timeout: -1]]},
      {Linx.Nft, :rules, [[data: :foo]]},
      {Linx.Nft, :sets, [bad_in]},
      {Linx.Nft, :table_add, [table, []]},
      {Linx.Nft, :table_del, [table, []]},
      {Linx.Nft, :chain_add, [chain, []]},
      {Linx.Nft, :chain_del, [Map.put(chain, :colour, :red), []]},
      {Linx.Nft, :rule_add, [rule, []]},
      {Linx.Nft, :rule_del, [Map.put(rule, :handle, -1), []]}
    ] ++
      [
        # Linx.Nft events
        {Linx.Nft, :subscribe, [[:tables], []]}
      ]
  end

  # Linx.Tc: a bad spec, a bad option, a bad target.
  defp tc_refused_calls(bad_in) do
    q = %{link: 1, kind: :htb, handle: "x:1"}

    [
      {Linx.Tc, :qdiscs, [bad_in]},
      {Linx.Tc, :qdiscs, [%{link: 1}, [data: :foo]]},
      {Linx.Tc, :classes, [1, bad_in]},
      {Linx.Tc, :filters, [1, :sideways, []]},
      {Linx.Tc, :qdisc_add, [q, []]},
      {Linx.Tc, :qdisc_replace, [q, []]},
      {Linx.Tc, :qdisc_change, [q, []]},
      {Linx.Tc, :qdisc_del, [q, []]},
      {Linx.Tc, :class_add, [%{link: 1, kind: :htb, options: %{}}, []]},
      {Linx.Tc, :class_replace, [q, []]},
      {Linx.Tc, :class_change, [q, []]},
      {Linx.Tc, :class_del, [q, []]},
      {Linx.Tc, :filter_add, [%{link: 1, kind: :u32, prio: -1}, []]},
      {Linx.Tc, :filter_replace, [%{link: 1, kind: :u32, protocol: :nope}, []]},
      {Linx.Tc, :filter_del, [%{link: 1, parent: "1:2:3"}, []]}
    ]
  end

  describe "a bang function raises its function's error" do
    test "for every bang function: the same exception, whose message is :linx.format_error/1's" do
      calls = refused_calls()

      # Every bang function (at its full arity, the one with a spec) is here.
      bangs =
        for module <- app_modules(),
            {:ok, specs} = Code.Typespec.fetch_specs(module),
            {{name, arity}, _} <- specs,
            String.ends_with?(Atom.to_string(name), "!"),
            do: {module, name, arity}

      assert Enum.sort(bangs) ==
               Enum.sort(for {m, f, args} <- calls, do: {m, :"#{f}!", length(args)})

      for {module, fun, args} <- calls do
        exception = Map.fetch!(@raises, module)
        assert {:error, %^exception{stage: :badarg} = error} = apply(module, fun, args)
        raised = assert_raise exception, fn -> apply(module, :"#{fun}!", args) end
        assert raised == error, "#{inspect(module)}.#{fun}!"
        assert Exception.message(raised) == :linx.format_error(error.reason)
      end
    end

    test "the arities with default options too" do
      e = assert_raise Linx.Sysctl.Error, fn -> Sysctl.read_int!("net..x") end
      assert {e.op, e.errno, e.key} == {:read, :bad_key, "net..x"}
      e = assert_raise Linx.Sysctl.Error, fn -> Sysctl.list!(:"net..x") end
      assert {e.op, e.errno} == {:list, :bad_key}
      e = assert_raise Linx.Netns.Error, fn -> Netns.add!("a/b") end
      assert {e.op, e.errno, e.name} == {:add, :bad_name, "a/b"}
      e = assert_raise Linx.Netlink.Error, fn -> Genl.request!(16, 256, 1, []) end
      assert {e.op, e.errno} == {:genl_request, :bad_command}
      e = assert_raise Linx.Netlink.Error, fn -> Genl.dump!(16, 256, 1, []) end
      assert {e.op, e.errno} == {:genl_dump, :bad_command}
      e = assert_raise Linx.Netns.Error, fn -> Netns.del!("a/b") end
      assert {e.op, e.errno, e.name} == {:del, :bad_name, "a/b"}
      e = assert_raise Linx.Rtnl.Error, fn -> Rtnl.neighs!(in: {:netns, "x/y"}) end
      assert {e.op, e.errno} == {:neighs, :bad_in}
      e = assert_raise Linx.Netlink.Error, fn -> Socket.open!(:no_such_protocol) end
      assert {e.op, e.errno} == {:netlink_open, :bad_protocol}
      e = assert_raise Linx.Rtnl.Error, fn -> Rtnl.neigh_add!(%{}) end
      assert {e.op, e.errno, e.in} == {:neigh_add, :bad_neigh, :self}
    end
  end

  describe "in namespaces" do
    @describetag :netns

    test "Linx.Sysctl: read_int!, read_ints!, list! and apply! return the value" do
      ns = netns!("bang")
      opts = [in: {:netns, ns}]
      cmd!("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.core.somaxconn=555"])

      assert Sysctl.read_int!("net.core.somaxconn", opts) == 555

      assert Sysctl.read_ints!("net.ipv4.ip_local_port_range", opts) ==
               sysctl!(ns, "net.ipv4.ip_local_port_range")
               |> String.split()
               |> Enum.map(&String.to_integer/1)

      assert {"net.core.somaxconn", "555"} in Sysctl.list!("net.core", opts)

      assert Sysctl.apply!(%{"net.core.somaxconn" => 556}, opts) == [
               {"net.core.somaxconn", "555"}
             ]

      assert sysctl!(ns, "net.core.somaxconn") == "556"

      e = assert_raise Linx.Sysctl.Error, fn -> Sysctl.read_int!("kernel.ostype", opts) end
      assert {e.op, e.stage, e.errno, e.in} == {:read, :parse, :not_integer, {:netns, ns}}
      assert Exception.message(e) == :linx.format_error(e.reason)

      e =
        assert_raise Linx.Sysctl.Error, fn ->
          Sysctl.apply!([{"net.core.somaxconn", 1}, {"net.ipv4.no_such_key", 1}], opts)
        end

      assert {e.op, e.stage, e.errno, e.key} == {:apply, :read, :enoent, "net.ipv4.no_such_key"}
      assert Exception.message(e) == :linx.format_error(e.reason)
      assert sysctl!(ns, "net.core.somaxconn") == "556"
    end

    test "Linx.Netns: add!, list!, identify!, del!, new!, release!" do
      name = "linx-exu-bang-#{System.unique_integer([:positive])}"
      on_exit(fn -> del(name) end)

      assert Netns.add!(name, [lo: :up], []) == :ok
      assert name in Netns.list!()
      assert Netns.identify!(String.to_integer(System.pid())) == []

      e = assert_raise Linx.Netns.Error, fn -> Netns.add!(name) end
      assert {e.op, e.stage, e.errno, e.code, e.name} == {:add, :create, :eexist, 17, name}
      assert Exception.message(e) == :linx.format_error(e.reason)
      assert Exception.message(e) == ~s(netns add "#{name}" failed: create eexist \(errno 17\))

      assert Netns.del!(name) == :ok
      refute name in Netns.list!()
      e = assert_raise Linx.Netns.Error, fn -> Netns.del!(name) end
      assert {e.op, e.stage, e.errno} == {:del, :unlink, :enoent}
      assert Exception.message(e) == ~s(netns del "#{name}" failed: unlink enoent \(errno 2\))

      assert {:linx_netns, _} = handle = Netns.new!([lo: :up], [])
      assert "lo" in Enum.map(Rtnl.links!(in: handle), & &1.ifname)
      assert Netns.release!(handle) == :ok
      e = assert_raise Linx.Netns.Error, fn -> Netns.release!(handle) end
      assert {e.op, e.stage, e.errno, e.handle} == {:release, :open_ns, :enoent, handle}
      assert Exception.message(e) == :linx.format_error(e.reason)
    end

    test "Linx.Rtnl: neighs!, neigh_add!, neigh_del!, subscribe!" do
      ns = linx_netns!("bangrt", lo: :up)
      opts = [in: {:netns, ns}]
      ref = Rtnl.subscribe!([:link], opts)
      assert is_reference(ref)

      try do
        Rtnl.link_add!(%{ifname: "vx", kind: :veth, peer: %{ifname: "vy"}}, opts)
        assert_receive {:linx_rtnl, ^ref, {:link, :new, %{ifname: _}}}, 5000
      after
        assert Rtnl.unsubscribe(ref) == :ok
      end

      %{index: index} = Rtnl.link!("vx", opts)
      {:ok, mac} = Rtnl.parse_mac("02:00:5e:10:00:07")
      assert Rtnl.neigh_add!(%{index: index, dst: {10, 0, 0, 7}, lladdr: mac}, opts) == :ok

      assert cmd!("ip", ["-n", ns, "neigh", "show", "10.0.0.7"]) =~
               "10.0.0.7 dev vx lladdr 02:00:5e:10:00:07 PERMANENT"

      assert neigh = Enum.find(Rtnl.neighs!(opts), &(&1.dst == {10, 0, 0, 7}))
      assert Rtnl.neigh_del!(neigh, opts) == :ok
      assert cmd!("ip", ["-n", ns, "neigh", "show", "10.0.0.7"]) == ""

      e = assert_raise Linx.Rtnl.Error, fn -> Rtnl.neigh_del!(neigh, opts) end
      assert {e.op, e.stage, e.in} == {:neigh_del, :netlink, {:netns, ns}}
      assert Exception.message(e) == :linx.format_error(e.reason)
    end

    test "Linx.Genl: family!, families!, request!, dump!" do
      ns = netns!("banggenl")
      opts = [in: {:netns, ns}]
      assert %{id: 16, name: "nlctrl"} = Genl.family!("nlctrl", opts)
      assert "nlctrl" in Enum.map(Genl.families!(opts), & &1.name)
      assert [_ | _] = replies = Genl.dump!(16, 3, 1, [], opts)
      assert Enum.all?(replies, &(&1.cmd == 1))
      # CTRL_CMD_GETFAMILY of one family, by name (CTRL_ATTR_FAMILY_NAME).
      assert [%{cmd: 1}] = Genl.request!(16, 3, 1, [{2, {:string, "nlctrl"}}], opts)

      e = assert_raise Linx.Netlink.Error, fn -> Genl.family!("linx-none", opts) end
      assert {e.op, e.stage, e.errno, e.protocol} == {:genl_family, :netlink, :enoent, :generic}
      assert Exception.message(e) == :linx.format_error(e.reason)

      assert Exception.message(e) ==
               ~s(linx_genl:family: netlink genl in netns "#{ns}" failed: enoent \(errno 2\))
    end

    test "Linx.Netlink.Socket: open!, open_fd!, close_fd!, add_membership!, drop_membership!" do
      ns = netns!("bangnl")
      opts = [in: {:netns, ns}]
      socket = Socket.open!(:route, opts)

      try do
        assert {:ok, %{family: 16}} = :socket.sockname(socket)
        assert Socket.add_membership!(socket, 1) == :ok
        cmd!("ip", ["-n", ns, "link", "set", "lo", "up"])
        assert {:ok, _notification} = :socket.recv(socket, 0, 5000)
        assert Socket.drop_membership!(socket, 1) == :ok
      after
        :socket.close(socket)
      end

      e = assert_raise Linx.Netlink.Error, fn -> Socket.add_membership!(socket, 1) end
      assert {e.op, e.stage} == {:add_membership, :setsockopt}

      # RTNLGRP_LINK as open!/3's groups.
      socket = Socket.open!(:route, [1], opts)

      try do
        cmd!("ip", ["-n", ns, "link", "set", "lo", "down"])
        assert {:ok, _notification} = :socket.recv(socket, 0, 5000)
      after
        :socket.close(socket)
      end

      fd = Socket.open_fd!(:route, opts)
      assert is_integer(fd)
      assert Socket.close_fd!(fd) == :ok
      fd = Socket.open_fd!(:route, 1, opts)
      assert Socket.close_fd!(fd) == :ok
      # Not `fd` again: an async test may have opened a file that took its
      # number. No descriptor is this high (fs.nr_open is at most 2,147,483,584).
      e = assert_raise Linx.Netlink.Error, fn -> Socket.close_fd!(0x7FFFFFFF) end
      assert {e.op, e.stage, e.errno, e.code} == {:close_fd, :close, :ebadf, 9}
      assert Exception.message(e) == :linx.format_error(e.reason)

      del(ns)
      e = assert_raise Linx.Netlink.Error, fn -> Socket.open!(:route, opts) end
      assert {e.op, e.stage, e.errno, e.in} == {:netlink_open, :open_ns, :enoent, {:netns, ns}}
      assert Exception.message(e) =~ ~s(netlink open route in netns "#{ns}" failed)
    end
  end
end
