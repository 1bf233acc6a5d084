defmodule Linx.NetnsTest do
  # Linx.Netns against `ip netns` (both ways) and `ip -n N -o link`.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Netns
  alias Linx.Netns.Error

  doctest Linx.Netns
  doctest Linx.Netns.Error

  @moduletag :netns

  defp ip_netns_list do
    for line <- String.split(cmd!("ip", ["netns", "list"]), "\n", trim: true),
        do: line |> String.split(" ") |> hd()
  end

  test "add/3, exists?/2, list/1 and del/2 agree with ip netns" do
    name = linx_netns!("add", lo: :up)
    assert name in ip_netns_list()
    assert Netns.exists?(name)
    assert {:ok, names} = Netns.list()
    assert name in names
    # lo: :up brought the loopback interface up; nothing else is there.
    assert ip_links(name) == ["lo"]
    assert cmd!("ip", ["-n", name, "-o", "link", "show", "lo"]) =~ ~r/<LOOPBACK,UP,LOWER_UP>/

    assert {:error, %Error{op: :add, stage: :create, errno: :eexist, code: 17, name: ^name} = e} =
             Netns.add(name)

    assert Exception.message(e) == ~s(netns add "#{name}" failed: create eexist \(errno 17\))

    assert :ok = Netns.del(name)
    refute name in ip_netns_list()
    refute Netns.exists?(name)

    assert {:error, %Error{op: :del, stage: :unlink, errno: :enoent} = e} = Netns.del(name)
    assert Exception.message(e) == ~s(netns del "#{name}" failed: unlink enoent \(errno 2\))

    # One that ip made, Netns deletes; without lo: :up, lo is down.
    other = netns!("ipadd")
    assert Netns.exists?(other)
    refute cmd!("ip", ["-n", other, "-o", "link", "show", "lo"]) =~ ~r/<[^>]*\bUP\b/
    assert :ok = Netns.del(other)
    refute other in ip_netns_list()

    # add/2 and add/3 with the empty spec (a list or a map) and lo: :down
    # leave lo down; a map spec and map options work as keyword lists do.
    for add <- [
          &Netns.add(&1),
          &Netns.add(&1, timeout: 5000),
          &Netns.add(&1, [], []),
          &Netns.add(&1, %{}, %{}),
          &Netns.add(&1, [lo: :down], [])
        ] do
      name = "linx-exu-spec-#{System.unique_integer([:positive])}"
      on_exit(fn -> del(name) end)
      assert :ok = add.(name)
      refute cmd!("ip", ["-n", name, "-o", "link", "show", "lo"]) =~ ~r/<[^>]*\bUP\b/
      assert :ok = Netns.del(name, timeout: 5000)
    end

    name = "linx-exu-spec-#{System.unique_integer([:positive])}"
    on_exit(fn -> del(name) end)
    assert :ok = Netns.add(name, %{lo: :up}, timeout: 5000)
    assert cmd!("ip", ["-n", name, "-o", "link", "show", "lo"]) =~ ~r/<LOOPBACK,UP,LOWER_UP>/
    assert :ok = Netns.del(name)
  end

  test "identify/2 names the netns of a process" do
    name = linx_netns!("ident")

    port =
      Port.open(
        {:spawn_executable, System.find_executable("ip")},
        [:binary, args: ["netns", "exec", name, "sleep", "60"]]
      )

    {:os_pid, os_pid} = Port.info(port, :os_pid)

    try do
      # `ip netns exec` enters the netns, then execs sleep: same pid.
      eventually(fn -> Netns.identify(os_pid) == {:ok, [name]} end)
      assert {:ok, []} = Netns.identify(String.to_integer(System.pid()))
    after
      System.cmd("kill", [Integer.to_string(os_pid)])
    end

    assert {:error, %Error{op: :identify, stage: :badarg, errno: :bad_option, pid: 0}} =
             Netns.identify(0)
  end

  test "new/2: a handle that works as a target, released by release/1 or the owner's exit" do
    assert {:ok, {:linx_netns, _} = ns} = Netns.new([lo: :up], [])
    assert ns in Netns.owned()
    assert {:ok, %{flags: flags}} = Linx.Rtnl.link("lo", in: ns)
    assert :up in flags
    assert {:ok, "0"} = Linx.Sysctl.read("net.ipv4.ip_forward", in: ns)
    assert :ok = Netns.release(ns)
    refute ns in Netns.owned()

    assert {:error, %Error{op: :release, stage: :open_ns, errno: :enoent, handle: ^ns}} =
             Netns.release(ns)

    # The owner's exit lets go of it.
    parent = self()

    {owner, mon} =
      spawn_monitor(fn ->
        {:ok, h} = Netns.new()
        send(parent, {:handle, h})
      end)

    assert_receive {:handle, h}, 5000
    assert_receive {:DOWN, ^mon, :process, ^owner, _}, 5000

    eventually(fn ->
      match?({:error, %Linx.Rtnl.Error{stage: :open_ns, errno: :enoent}}, Linx.Rtnl.links(in: h))
    end)

    assert {:error, %Error{op: :new, stage: :badarg, errno: :bad_option}} =
             Netns.new(via: :other@host)

    assert {:error, %Error{op: :new, stage: :badarg, errno: :bad_option}} =
             Netns.new(%{lo: :up}, via: :other@host)

    # new/0,1: lo is left down.
    assert {:ok, ns} = Netns.new(timeout: 5000)
    assert {:ok, %{flags: flags}} = Linx.Rtnl.link("lo", in: ns)
    refute :up in flags
    assert :ok = Netns.release(ns)
  end

  test "bad names and options are refused before anything is sent" do
    for bad <- ["", ".", "..", "a/b", "nul\0", String.duplicate("n", 256)] do
      assert {:error, %Error{op: :add, stage: :badarg, errno: :bad_name, name: ^bad}} =
               Netns.add(bad)
    end

    # A spec is an argument, never an option.
    assert {:error, %Error{op: :add, stage: :badarg, errno: :bad_option, reason: reason}} =
             Netns.add("ok", lo: :up)

    assert %{module: :linx_netns, reason: {:bad_option, {:lo, :up}}} = reason

    assert {:error,
            %Error{op: :new, errno: :bad_option, reason: %{reason: {:bad_option, {:lo, :up}}}}} =
             Netns.new(lo: :up)

    for bad <- [[lo: :sideways], [lo: :up, mtu: 1], %{other: 1}, [:up], :up] do
      assert {:error, %Error{op: :add, stage: :badarg, errno: :bad_spec}} =
               Netns.add("ok", bad, [])

      assert {:error, %Error{op: :new, stage: :badarg, errno: :bad_spec}} = Netns.new(bad, [])
    end

    # A keyword spec is refused as the map it is.
    assert {:error, %Error{reason: %{reason: {:bad_spec, %{lo: :sideways}}}}} =
             Netns.add("ok", [lo: :sideways], [])

    assert {:error, %Error{errno: :bad_option}} = Netns.add("ok", [lo: :up], lo: :up)
    assert {:error, %Error{op: :release, errno: :bad_option}} = Netns.release(:nothing)

    e = assert_raise Error, fn -> Netns.exists?("a/b") end
    assert {e.op, e.stage, e.errno} == {:exists, :badarg, :bad_name}
  end
end
