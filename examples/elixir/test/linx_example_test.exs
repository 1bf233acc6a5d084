defmodule LinxExampleTest do
  # Every test gets a netns of its own (`ip netns add`), removed on exit.
  # Values are checked against `ip netns exec NAME sysctl -n KEY` and the
  # host's own `sysctl -n KEY`, which must not change.
  use ExUnit.Case, async: true

  alias LinxExample.Ip

  @moduletag :netns

  setup do
    name = "linx-ex-#{System.pid()}-#{System.unique_integer([:positive])}"

    case System.cmd("ip", ["netns", "add", name], stderr_to_stdout: true) do
      {_, 0} ->
        on_exit(fn -> System.cmd("ip", ["netns", "del", name], stderr_to_stdout: true) end)
        {:ok, netns: name, opts: [in: {:netns, name}]}

      {out, status} ->
        flunk("ip netns add #{name} exited #{status}: #{out}")
    end
  end

  describe "Linx.Sysctl in a netns" do
    test "reads and writes net.ipv4.ip_forward", %{netns: ns, opts: opts} do
      host = host_sysctl("net.ipv4.ip_forward")
      assert {:ok, initial} = Linx.Sysctl.read("net.ipv4.ip_forward", opts)
      assert initial == ns_sysctl(ns, "net.ipv4.ip_forward")

      assert :ok = Linx.Sysctl.write("net.ipv4.ip_forward", 1, opts)
      assert ns_sysctl(ns, "net.ipv4.ip_forward") == "1"
      assert {:ok, 1} = Linx.Sysctl.read_int("net.ipv4.ip_forward", opts)

      assert :ok = Linx.Sysctl.write("net.ipv4.ip_forward", 0, opts)
      assert ns_sysctl(ns, "net.ipv4.ip_forward") == "0"
      assert host_sysctl("net.ipv4.ip_forward") == host
    end

    test "reads and writes net.core.somaxconn", %{netns: ns, opts: opts} do
      host = host_sysctl("net.core.somaxconn")
      value = if host == "1234", do: 1235, else: 1234

      assert :ok = Linx.Sysctl.write("net.core.somaxconn", value, opts)
      assert ns_sysctl(ns, "net.core.somaxconn") == Integer.to_string(value)
      assert {:ok, ^value} = Linx.Sysctl.read_int("net.core.somaxconn", opts)

      # A string is written as it is.
      assert :ok = Linx.Sysctl.write("net.core.somaxconn", "2048", opts)
      assert {:ok, "2048"} = Linx.Sysctl.read("net.core.somaxconn", opts)
      assert ns_sysctl(ns, "net.core.somaxconn") == "2048"
      assert host_sysctl("net.core.somaxconn") == host
    end

    test "lists net.ipv4.conf as sysctl -a does", %{netns: ns, opts: opts} do
      ip!(["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
      assert {:ok, entries} = Linx.Sysctl.list("net.ipv4.conf", opts)

      expected =
        cmd!("ip", ["netns", "exec", ns, "sysctl", "-a", "-r", "^net\\.ipv4\\.conf\\."])
        |> String.split("\n", trim: true)
        |> Map.new(fn line -> List.to_tuple(String.split(line, " = ", parts: 2)) end)

      assert Map.new(entries) == expected

      assert {"net.ipv4.conf.va.forwarding", _} =
               List.keyfind(entries, "net.ipv4.conf.va.forwarding", 0)
    end

    test "errors are Linx.Sysctl.Error exceptions", %{opts: opts} do
      assert {:error, %Linx.Sysctl.Error{stage: :read, errno: :enoent} = e} =
               Linx.Sysctl.read("net.ipv4.no_such_key", opts)

      assert Exception.message(e) =~ "net.ipv4.no_such_key"
      assert Exception.message(e) == :linx.format_error(e.reason)

      assert {:error, %Linx.Sysctl.Error{stage: :badarg, errno: :bad_key, key: "net..ipv4"}} =
               Linx.Sysctl.read("net..ipv4", opts)
    end
  end

  describe "LinxExample.links/1" do
    test "lists the links of ip -n NAME -o link", %{netns: ns} do
      ip!(["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
      assert {:ok, names} = LinxExample.links(ns)
      assert names == Ip.links(ns)
      assert names == ["lo", "va", "vb"]
    end

    test "a missing netns is a Linx.Netlink.Error" do
      assert {:error, %Linx.Netlink.Error{stage: :open_ns, errno: :enoent}} =
               LinxExample.links("linx-ex-missing-#{System.unique_integer([:positive])}")
    end
  end

  describe "LinxExample" do
    test "forwarding_on/1 turns forwarding on in the netns only", %{netns: ns} do
      host = host_sysctl("net.ipv4.ip_forward")
      assert {:ok, false} = LinxExample.forwarding?(ns)
      assert :ok = LinxExample.forwarding_on(ns)
      assert {:ok, true} = LinxExample.forwarding?(ns)
      assert ns_sysctl(ns, "net.ipv4.ip_forward") == "1"
      assert host_sysctl("net.ipv4.ip_forward") == host

      assert {:ok, conf} = LinxExample.sysctls(ns, "net.ipv4.conf")
      assert conf["net.ipv4.conf.all.forwarding"] == "1"
    end

    test "errors carry stage, errno and target and read as one line" do
      missing = "linx-ex-missing-#{System.unique_integer([:positive])}"
      assert {:error, %Linx.Sysctl.Error{reason: reason} = e} = LinxExample.forwarding_on(missing)
      assert %{stage: :open_ns, errno: :enoent, in: {:netns, ^missing}} = Map.from_struct(e)
      assert Exception.message(e) == :linx.format_error(reason)
      assert Exception.message(e) =~ "enoent"
      assert_raise Linx.Sysctl.Error, fn -> LinxExample.forwarding_on!(missing) end
    end
  end

  defp ns_sysctl(ns, key), do: cmd!("ip", ["netns", "exec", ns, "sysctl", "-n", key])
  defp host_sysctl(key), do: cmd!("sysctl", ["-n", key])
  defp ip!(args), do: cmd!("ip", args)

  defp cmd!(program, args) do
    case System.cmd(program, args, stderr_to_stdout: true) do
      {out, 0} -> String.trim_trailing(out)
      {out, status} -> flunk("#{program} #{Enum.join(args, " ")} exited #{status}: #{out}")
    end
  end
end
