defmodule Linx.NativeTest do
  # Conformance of Linx.Sysctl.Native and Linx.Netlink.Socket.Native to the
  # NIF contracts, against a netns (`ip netns add`) and a user-namespace
  # container (`unshare -U -r -n -u`); `cat`, `ls` and `ip` through
  # nsenter are the oracles. Not async: one test restarts linx with its
  # port program under strace, and descriptor numbers are the VM's.
  use ExUnit.Case, async: false

  import Linx.TestNs

  alias Linx.Netlink.Socket.Native, as: SocketNative
  alias Linx.Sysctl.Native
  alias LinxExample.Rtnl

  @moduletag :netns

  @ttl "/proc/sys/net/ipv4/ip_default_ttl"

  for kind <- [:netns, :userns] do
    describe "#{kind}" do
      setup do
        target(unquote(kind))
      end

      test "bytes come back untrimmed", t do
        want = inside(t, ["cat", @ttl])
        assert String.ends_with?(want, "\n")
        assert {:ok, ^want} = Native.read_in_ns(@ttl, t.ns_paths)
        assert {:ok, entries} = Native.list_in_ns("/proc/sys/net/ipv4", t.ns_paths)
        assert {@ttl, want} in entries
      end

      test "a write is one write(2) of the bytes given, no newline appended", t do
        log =
          Path.join(System.tmp_dir!(), "linx-native-#{System.unique_integer([:positive])}.log")

        on_exit(fn -> File.rm(log) end)

        under_strace(log, fn ->
          assert :ok = Native.write_in_ns(@ttl, "77", t.ns_paths)
          assert inside(t, ["cat", @ttl]) == "77\n"
          assert :ok = Native.write_in_ns(@ttl, "", t.ns_paths)
          assert inside(t, ["cat", @ttl]) == "77\n"
          # strace logs each call as it returns: the port has answered.
          eventually(fn -> length(writes(log)) >= 2 end)
        end)

        assert [one, empty] = writes(log)
        assert one =~ ~r{^write\([0-9]+</proc/sys/net/ipv4/ip_default_ttl>, "77", 2\) = 2$}
        assert empty =~ ~r{^write\([0-9]+</proc/sys/net/ipv4/ip_default_ttl>, "", 0\) = 0$}
      end

      test "[] enters nothing", t do
        host = File.read!(@ttl)
        other = "#{String.to_integer(String.trim(host)) + 5}"
        assert :ok = Native.write_in_ns(@ttl, other, t.ns_paths)
        assert {:ok, other <> "\n"} == Native.read_in_ns(@ttl, t.ns_paths)
        assert {:ok, ^host} = Native.read_in_ns(@ttl, [])
        assert {:ok, entries} = Native.list_in_ns("/proc/sys/net/ipv4", [])
        assert {@ttl, host} in entries
      end

      test "unreadable entries are skipped", t do
        dir = "/proc/sys/net/ipv4/route"
        names = inside(t, ["ls", dir]) |> String.split("\n", trim: true)
        assert "flush" in names
        assert {:error, {:read, :eacces}} = Native.read_in_ns(dir <> "/flush", t.ns_paths)
        assert {:ok, entries} = Native.list_in_ns(dir, t.ns_paths)
        listed = for {path, _} <- entries, do: path
        assert Enum.sort(listed) == for(n <- names, n != "flush", do: "#{dir}/#{n}")
      end

      test "a missing root and a missing namespace file", t do
        assert {:error, {:list, :enoent}} = Native.list_in_ns("/proc/sys/net/nope", t.ns_paths)
        assert {:error, {:list, :enotdir}} = Native.list_in_ns(@ttl, t.ns_paths)
        gone = "/run/netns/linx-no-such-ns"
        assert {:error, {:open_ns, :enoent}} = Native.read_in_ns(@ttl, [gone])
        assert {:error, {:open_ns, :enoent}} = Native.write_in_ns(@ttl, "64", [gone])
        assert {:error, {:open_ns, :enoent}} = Native.list_in_ns("/proc/sys/net", [gone])
        assert {:error, {:open, 2}} = SocketNative.open_in_netns(gone, 0)
      end

      test "a socket from open_in_netns sees the target's links", t do
        link = add_veth(t)
        assert {:ok, fd} = SocketNative.open_in_netns(t.net, 0)
        {:ok, socket} = :socket.open(fd, %{domain: 16, type: :raw, protocol: 0})

        try do
          assert {:ok, names} = Rtnl.dump_links(socket)
          assert link in names
          assert Enum.sort(names) == Enum.sort(links(t))
        after
          :socket.close(socket)
        end
      end

      test "bind_netlink with a group mask receives the target's link events", t do
        assert {:ok, fd} = SocketNative.open_in_netns(t.net, 0)
        assert :ok = SocketNative.bind_netlink(fd, 1)
        {:ok, socket} = :socket.open(fd, %{domain: 16, type: :raw, protocol: 0})

        try do
          link = add_veth(t)
          assert :ok = wait_link(socket, link, System.monotonic_time(:millisecond) + 5000)
        after
          :socket.close(socket)
        end

        assert {:error, 9} = SocketNative.bind_netlink(0x7FFFFFFF, 1)
      end

      test "close_fd returns :ok for a descriptor already closed", t do
        assert {:ok, fd} = SocketNative.open_in_netns(t.net, 0)
        link = "/proc/self/fd/#{fd}"
        {:ok, "socket:[" <> _ = socket} = File.read_link(link)
        assert :ok = SocketNative.close_fd(fd)
        assert File.read_link(link) != {:ok, socket}
        assert :ok = SocketNative.close_fd(fd)
        assert :ok = SocketNative.close_fd(-1)
      end
    end
  end

  test "version/0 is a charlist naming the implementation" do
    assert ~c"linx_port " ++ vsn = Native.version()
    assert {:ok, to_string(vsn)} == :linx_port.request(:version)
  end

  # The target: namespace files as a NIF caller passes them, the netns
  # file, and how to run a command inside.
  defp target(:netns) do
    ns = netns!("native")
    net = "/run/netns/#{ns}"
    {:ok, ns_paths: [net], net: net, enter: ["nsenter", "--net=#{net}"]}
  end

  defp target(:userns) do
    pid = container!()
    dir = "/proc/#{pid}/ns/"

    {:ok,
     ns_paths: for(k <- ["user", "uts", "net"], do: dir <> k),
     net: dir <> "net",
     enter: ["nsenter", "-t", "#{pid}", "-U", "-n", "-u"]}
  end

  # A rootless container (`unshare -U -r -n -u sleep`), killed when the
  # test exits; its pid once it is ready.
  defp container! do
    port =
      Port.open({:spawn_executable, System.find_executable("unshare")}, [
        :exit_status,
        args: ["-U", "-r", "-n", "-u", "sleep", "3600"]
      ])

    {:os_pid, pid} = Port.info(port, :os_pid)
    on_exit(fn -> System.cmd("kill", ["-9", "#{pid}"]) end)
    # unshare(1) makes the namespaces, writes the uid and gid maps, then
    # execs sleep: once it is sleep, the container is ready.
    eventually(fn -> File.read("/proc/#{pid}/comm") == {:ok, "sleep\n"} end)
    pid
  end

  defp inside(t, [program | args]) do
    [enter | enter_args] = t.enter
    {out, 0} = System.cmd(enter, enter_args ++ [program | args], stderr_to_stdout: true)
    out
  end

  defp add_veth(t) do
    name = "nv#{rem(System.unique_integer([:positive]), 1_000_000)}"
    inside(t, ["ip", "link", "add", name, "type", "veth", "peer", "name", name <> "p"])
    name
  end

  defp links(t) do
    for line <- String.split(inside(t, ["ip", "-o", "link", "show"]), "\n", trim: true) do
      line |> String.split(": ") |> Enum.at(1) |> String.split("@") |> hd()
    end
  end

  # The write(2) calls strace logged for the file, without their pids.
  defp writes(log) do
    log
    |> File.read!()
    |> String.split("\n")
    |> Enum.filter(&String.contains?(&1, "ip_default_ttl>"))
    |> Enum.map(&Regex.replace(~r/^[0-9]+ +/, &1, ""))
  end

  # Reads the socket until an RTM_NEWLINK (16) naming `name` arrives.
  defp wait_link(socket, name, deadline) do
    left = max(deadline - System.monotonic_time(:millisecond), 0)

    case :socket.recv(socket, 0, left) do
      {:ok, data} ->
        named =
          for {16, _seq, payload} <- Rtnl.messages(data),
              :binary.match(payload, name <> <<0>>) != :nomatch,
              do: true

        if named != [], do: :ok, else: wait_link(socket, name, deadline)

      {:error, _} = error ->
        error
    end
  end

  # Runs `fun` with linx restarted and its port program under strace
  # (writes only, with the files' paths), then restarts linx as it was.
  defp under_strace(log, fun) do
    :ok = Application.stop(:linx)
    exec = ["strace", "-f", "-qq", "-y", "-e", "trace=write", "-s", "64", "-o", log]
    :ok = Application.put_env(:linx, :exec, Enum.map(exec, &String.to_charlist/1))

    try do
      {:ok, _} = Application.ensure_all_started(:linx)
      fun.()
    after
      Application.stop(:linx)
      Application.delete_env(:linx, :exec)
      {:ok, _} = Application.ensure_all_started(:linx)
    end
  end
end
