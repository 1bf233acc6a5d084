defmodule Linx.Netlink.SocketTest do
  # Linx.Netlink.Socket against real network namespaces; `ip -n N -o link`
  # is the oracle.
  # Not async: a test checks that a descriptor it closed is gone (ebadf),
  # which another test opening sockets meanwhile could make true no more
  # (descriptor numbers are the VM's, and are reused).
  use ExUnit.Case, async: false

  import Linx.TestNs

  alias Linx.Netlink.{Error, Socket}
  alias LinxExample.{Ip, Rtnl}

  doctest Linx.Netlink.Socket
  doctest Linx.Netlink.Error

  @moduletag :netns

  setup do
    ns = netns!("nl")
    cmd!("ip", ["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
    {:ok, ns: ns, opts: [in: {:netns, ns}]}
  end

  test "a route socket opened in a netns sees that netns's links", %{ns: ns, opts: opts} do
    assert {:ok, socket} = Socket.open(:route, opts)

    try do
      assert {:ok, names} = Rtnl.dump_links(socket)
      assert names == Ip.links(ns)
      assert names == ["lo", "va", "vb"]
    after
      :socket.close(socket)
    end
  end

  test "the protocol may be a number; groups deliver the netns's link events", %{
    ns: ns,
    opts: opts
  } do
    # RTNLGRP_LINK is group 1, bit 0 of a mask.
    for groups <- [[1], 1] do
      assert {:ok, socket} = Socket.open(0, groups, opts)

      try do
        cmd!("ip", ["-n", ns, "link", "set", "va", if(groups == 1, do: "down", else: "up")])
        assert {:ok, data} = :socket.recv(socket, 0, 5000)
        assert [{16, _seq, _payload} | _] = Rtnl.messages(data)
      after
        :socket.close(socket)
      end
    end
  end

  test "add_membership/2 joins a group; a bad group is a badarg error", %{ns: ns, opts: opts} do
    assert {:ok, socket} = Socket.open(:route, opts)

    try do
      assert :ok = Socket.add_membership(socket, 1)
      cmd!("ip", ["-n", ns, "link", "set", "vb", "up"])
      assert {:ok, data} = :socket.recv(socket, 0, 5000)
      assert [{16, _, _} | _] = Rtnl.messages(data)

      assert {:error, %Error{op: :add_membership, stage: :badarg, errno: :bad_group}} =
               Socket.add_membership(socket, 0)

      assert :ok = Socket.drop_membership(socket, 1)

      assert {:error, %Error{op: :drop_membership, errno: :bad_group}} =
               Socket.drop_membership(socket, :x)
    after
      :socket.close(socket)
    end

    assert {:error, %Error{op: :add_membership, stage: :setsockopt}} =
             Socket.add_membership(socket, 1)
  end

  test "open_fd/2,3 give a descriptor that close_fd/1 closes once", %{ns: ns, opts: opts} do
    assert {:ok, fd0} = Socket.open_fd(:route, [1], opts)
    assert :ok = Socket.close_fd(fd0)
    assert {:ok, fd} = Socket.open_fd(:route, opts)
    assert is_integer(fd)
    # Adopted here, it lists the netns's links too.
    assert {:ok, socket} = :socket.open(fd, %{domain: 16, type: :raw, protocol: 0, dup: true})

    try do
      assert {:ok, ["lo", "va", "vb"]} = Rtnl.dump_links(socket)
      assert Ip.links(ns) == ["lo", "va", "vb"]
    after
      :socket.close(socket)
    end

    assert :ok = Socket.close_fd(fd)

    assert {:error, %Error{op: :close_fd, stage: :close, errno: :ebadf, code: 9}} =
             Socket.close_fd(fd)
  end

  test "errors for bad protocols, options, targets and a vanished netns", %{ns: ns, opts: opts} do
    assert {:error, %Error{stage: :badarg, errno: :bad_protocol, protocol: 99}} =
             Socket.open(99, opts)

    assert {:error, %Error{errno: :bad_groups}} = Socket.open(:route, -1, opts)
    assert {:error, %Error{errno: :bad_groups}} = Socket.open_fd(:route, [33], opts)

    # Groups are an argument, never an option.
    assert {:error, %Error{op: :netlink_open, errno: :bad_option} = e} =
             Socket.open(:route, opts ++ [groups: [1]])

    assert %{module: :linx_netlink, reason: {:bad_option, {:groups, [1]}}} = e.reason

    assert {:error, %Error{errno: :bad_option}} =
             Socket.open_fd(:route, [1], Map.new([{:groups, [1]} | opts]))

    assert {:error, %Error{errno: :bad_in, in: {:netns, "x/y"}}} =
             Socket.open(:route, in: {:netns, "x/y"})

    assert {:error, %Error{errno: :bad_option}} = Socket.open_fd(:route, opts ++ [rcvbuf: 4096])
    assert {:error, %Error{errno: :bad_fd}} = Socket.close_fd(-1)

    del(ns)

    assert {:error,
            %Error{op: :netlink_open, stage: :open_ns, errno: :enoent, in: {:netns, ^ns}} = e} =
             Socket.open(:route, opts)

    assert Exception.message(e) == :linx.format_error(e.reason)
    assert Exception.message(e) =~ ~s(netlink open route in netns "#{ns}" failed)
    assert {:error, %Error{stage: :open_ns}} = Socket.open_fd(:route, opts)
  end
end
