defmodule Linx.RtnlBatchTest do
  # Linx.Rtnl.batch/2 and batch!/2 in a network namespace made for each
  # test; `ip -n N ...` is the oracle.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Rtnl
  alias Linx.Rtnl.Error

  @moduletag :netns

  setup do
    ns = netns!("batch")
    {:ok, ns: ns, opts: [in: {:netns, ns}]}
  end

  defp addrs(ns, dev), do: cmd!("ip", ["-n", ns, "-br", "-4", "addr", "show", "dev", dev])

  test "one batch makes a bridge, a veth pair as its port and addresses; each op is :ok",
       %{ns: ns, opts: opts} do
    ops = [
      {:link_add, %{ifname: "br0", kind: :bridge}},
      {:link_add, %{ifname: "v0", kind: :veth, master: "br0", peer: %{ifname: "v1"}}},
      {:addr_add, "br0", {{10, 0, 0, 1}, 24}},
      # An address as a keyword list, as addr_add/3 takes it.
      {:addr_add, "v1", [prefix: {{10, 1, 0, 1}, 24}, label: "v1:a"]},
      {:link_set, "br0", %{state: :up}}
    ]

    assert {:ok, [:ok, :ok, :ok, :ok, :ok]} = Rtnl.batch(ops, opts)
    assert ip_links(ns) == ["br0", "lo", "v0", "v1"]
    assert addrs(ns, "br0") =~ "10.0.0.1/24"
    assert addrs(ns, "v1") =~ "10.1.0.1/24"
    assert cmd!("ip", ["-n", ns, "-o", "link", "show", "v0"]) =~ "master br0"
  end

  test "without atomic each op has its result: a missing link, a kernel error",
       %{ns: ns, opts: opts} do
    ops = [
      {:addr_add, "nosuch0", {{10, 0, 0, 1}, 24}},
      {:link_add, %{ifname: "br0", kind: :bridge}},
      {:link_add, %{ifname: "br0", kind: :bridge}}
    ]

    assert {:ok, [{:error, %Error{} = missing}, :ok, {:error, %Error{} = taken}]} =
             Rtnl.batch(ops, opts)

    assert %Error{op: :addr_add, stage: :ifindex, errno: :enodev, in: {:netns, ^ns}} = missing
    assert Exception.message(missing) =~ ~s|no link named "nosuch0"|
    assert %Error{op: :link_add, stage: :netlink, errno: :eexist} = taken
    assert ip_links(ns) == ["br0", "lo"]
  end

  test "atomic: a failed op undoes those before it", %{ns: ns, opts: opts} do
    ops = [
      {:link_add, %{ifname: "br0", kind: :bridge}},
      {:addr_add, "br0", {{10, 0, 0, 1}, 24}},
      {:addr_del, "lo", {{10, 9, 9, 9}, 32}}
    ]

    # Options as a map, too.
    assert {:error, %Error{op: :batch, stage: :netlink, errno: :eaddrnotavail} = e} =
             Rtnl.batch(ops, Map.new([{:atomic, true} | opts]))

    assert %{reason: :batch_failed, index: 3, rolled_back: [_, _], rollback_errors: []} = e.reason

    assert e.ext_ack == "ipv4: Address not found"
    refute Exception.message(e) =~ "\n"
    assert Exception.message(e) =~ "batch op 3"
    assert ip_links(ns) == ["lo"]

    assert_raise Error, ~r/batch op 3/, fn -> Rtnl.batch!(ops, [{:atomic, true} | opts]) end
    assert ip_links(ns) == ["lo"]

    assert [:ok] =
             Rtnl.batch!([{:link_add, %{ifname: "br1", kind: :bridge}}],
               atomic: true,
               in: opts[:in]
             )

    assert ip_links(ns) == ["br1", "lo"]
  end

  test "bad batches are refused before anything is sent", %{ns: ns, opts: opts} do
    assert {:error, %Error{op: :batch, stage: :badarg, errno: :bad_op}} =
             Rtnl.batch([{:link_add, %{ifname: "br0", kind: :bridge}}, {:bogus}], opts)

    assert {:error, %Error{stage: :badarg, errno: :bad_op}} =
             Rtnl.batch([{:addr_add, "lo", {{10, 0, 0, 1}, 33}}], opts)

    assert {:error, %Error{stage: :badarg, errno: :bad_batch}} = Rtnl.batch([], opts)

    assert {:error, %Error{stage: :badarg, errno: :bad_option}} =
             Rtnl.batch([{:link_del, "lo"}], [{:atomic, :yes} | opts])

    e = assert_raise Error, fn -> Rtnl.batch!([{:bogus}], opts) end
    assert Exception.message(e) =~ "invalid batch op {bogus}"
    assert ip_links(ns) == ["lo"]
  end
end
