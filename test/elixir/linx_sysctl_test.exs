defmodule Linx.SysctlTest do
  # Linx.Sysctl against real network namespaces; `ip netns exec N sysctl`
  # is the oracle, and the host's own values must not change.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Sysctl
  alias Linx.Sysctl.Error

  doctest Linx.Sysctl
  doctest Linx.Sysctl.Error

  @moduletag :netns

  setup do
    ns = netns!("sysctl")
    {:ok, ns: ns, opts: [in: {:netns, ns}]}
  end

  describe "read, write and list in a netns" do
    test "read/2 and read!/2 give what sysctl -n gives", %{ns: ns, opts: opts} do
      assert {:ok, value} = Sysctl.read("net.ipv4.ip_forward", opts)
      assert value == sysctl!(ns, "net.ipv4.ip_forward")
      assert Sysctl.read!("net.core.somaxconn", opts) == sysctl!(ns, "net.core.somaxconn")
      # Trailing newline removed, inner tabs kept.
      assert Sysctl.read!("net.ipv4.tcp_rmem", opts) == sysctl!(ns, "net.ipv4.tcp_rmem")
    end

    test "write/3 changes the netns only; read_int/2 and read_ints/2 parse", %{ns: ns, opts: opts} do
      host = host_sysctl!("net.ipv4.ip_forward")
      assert :ok = Sysctl.write("net.ipv4.ip_forward", 1, opts)
      assert sysctl!(ns, "net.ipv4.ip_forward") == "1"
      assert {:ok, 1} = Sysctl.read_int("net.ipv4.ip_forward", opts)
      assert :ok = Sysctl.write!("net.ipv4.ip_forward", "0", opts)
      assert sysctl!(ns, "net.ipv4.ip_forward") == "0"
      assert host_sysctl!("net.ipv4.ip_forward") == host

      assert :ok = Sysctl.write("net.ipv4.ip_local_port_range", [20000, 40000], opts)
      assert sysctl!(ns, "net.ipv4.ip_local_port_range") == "20000\t40000"
      assert {:ok, [20000, 40000]} = Sysctl.read_ints("net.ipv4.ip_local_port_range", opts)
    end

    test "a map works as options, and atoms and charlists as keys", %{ns: ns} do
      assert :ok = Sysctl.write(:"net.core.somaxconn", 1234, %{in: {:netns, ns}})
      assert {:ok, "1234"} = Sysctl.read(~c"net/core/somaxconn", %{in: {:netns, ns}})
      assert sysctl!(ns, "net.core.somaxconn") == "1234"
    end

    test "list/2 gives what sysctl -a gives, keys in round-trip form", %{ns: ns, opts: opts} do
      cmd!("ip", ["-n", ns, "link", "add", "br.100", "type", "bridge"])
      assert {:ok, entries} = Sysctl.list("net.ipv4.conf", opts)

      # sysctl(8) shows the dot of br.100 as a slash; linx uses the slash form.
      expected =
        cmd!("ip", ["netns", "exec", ns, "sysctl", "-a", "-r", "^net\\.ipv4\\.conf\\."])
        |> String.split("\n", trim: true)
        |> Map.new(fn line ->
          [key, value] = String.split(line, " = ", parts: 2)
          {sysctl8_key(key), value}
        end)

      assert Map.new(entries) == expected

      assert {"net/ipv4/conf/br.100/forwarding", _} =
               List.keyfind(entries, "net/ipv4/conf/br.100/forwarding", 0)

      assert Enum.map(entries, &elem(&1, 0)) ==
               Enum.sort_by(Enum.map(entries, &elem(&1, 0)), &path/1)
    end

    test "the in: forms {:path, p}, {:ns, paths} and {:pid, p} reach the same netns", %{ns: ns} do
      cmd!("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.core.somaxconn=777"])
      file = "/run/netns/#{ns}"
      assert {:ok, "777"} = Sysctl.read("net.core.somaxconn", in: {:path, file})
      assert {:ok, "777"} = Sysctl.read("net.core.somaxconn", in: {:ns, [file]})

      port =
        Port.open({:spawn_executable, System.find_executable("ip")}, [
          :binary,
          args: ["netns", "exec", ns, "sleep", "30"]
        ])

      {:os_pid, pid} = Port.info(port, :os_pid)

      try do
        assert {:ok, "777"} =
                 wait_for(
                   fn -> Sysctl.read("net.core.somaxconn", in: {:pid, pid}) end,
                   {:ok, "777"}
                 )
      after
        System.cmd("kill", ["#{pid}"])
      end
    end
  end

  describe "apply/2" do
    test "writes all, returns the previous values, which restore them", %{ns: ns, opts: opts} do
      before = for k <- ["net.ipv4.ip_forward", "net.core.somaxconn"], do: {k, sysctl!(ns, k)}
      settings = %{"net.ipv4.ip_forward" => 1, "net.core.somaxconn" => 999}
      assert {:ok, previous} = Sysctl.apply(settings, opts)
      assert Enum.sort(previous) == Enum.sort(before)
      assert sysctl!(ns, "net.ipv4.ip_forward") == "1"
      assert sysctl!(ns, "net.core.somaxconn") == "999"

      assert {:ok, _} = Sysctl.apply(previous, opts)
      for {k, v} <- before, do: assert(sysctl!(ns, k) == v)
    end

    test "rolls back the writes before a failure", %{ns: ns, opts: opts} do
      forwarding = sysctl!(ns, "net.ipv4.ip_forward")
      somaxconn = sysctl!(ns, "net.core.somaxconn")
      range = sysctl!(ns, "net.ipv4.ip_local_port_range")

      settings = [
        {"net.ipv4.ip_forward", if(forwarding == "1", do: 0, else: 1)},
        {"net.core.somaxconn", 4321},
        # Read fine, but the kernel refuses the value.
        {"net.ipv4.ip_local_port_range", "not numbers"}
      ]

      assert {:error, %Error{} = e} = Sysctl.apply(settings, opts)
      assert {e.op, e.stage, e.errno, e.code} == {:apply, :write, :einval, 22}
      assert e.key == "net.ipv4.ip_local_port_range"
      assert e.path == "/proc/sys/net/ipv4/ip_local_port_range"
      assert e.in == {:netns, ns}
      assert Enum.sort(e.rolled_back) == ["net.core.somaxconn", "net.ipv4.ip_forward"]
      assert Exception.message(e) == :linx.format_error(e.reason)
      assert Exception.message(e) =~ ~s(sysctl apply stopped at "net.ipv4.ip_local_port_range")
      assert Exception.message(e) =~ "2 earlier writes rolled back"

      assert sysctl!(ns, "net.ipv4.ip_forward") == forwarding
      assert sysctl!(ns, "net.core.somaxconn") == somaxconn
      assert sysctl!(ns, "net.ipv4.ip_local_port_range") == range
    end

    test "a key that cannot be read stops it before anything is written", %{ns: ns, opts: opts} do
      somaxconn = sysctl!(ns, "net.core.somaxconn")
      settings = [{"net.core.somaxconn", 4321}, {"net.ipv4.no_such_key", 1}]

      assert {:error, %Error{errno: :enoent, key: "net.ipv4.no_such_key", rolled_back: []}} =
               Sysctl.apply(settings, opts)

      assert sysctl!(ns, "net.core.somaxconn") == somaxconn
    end

    test "a bad value is refused before anything is written", %{ns: ns, opts: opts} do
      somaxconn = sysctl!(ns, "net.core.somaxconn")

      assert {:error, e} =
               Sysctl.apply([{"net.core.somaxconn", 5}, {"net.ipv4.ip_forward", "1\n"}], opts)

      assert {e.stage, e.errno, e.key, e.rolled_back} == {:badarg, :bad_value, nil, []}
      assert sysctl!(ns, "net.core.somaxconn") == somaxconn
    end
  end

  describe "errors" do
    test "the bang functions raise Linx.Sysctl.Error with fields and message", %{
      ns: ns,
      opts: opts
    } do
      e = assert_raise Error, fn -> Sysctl.read!("net.ipv4.no_such_key", opts) end
      assert %Error{op: :read, stage: :read, errno: :enoent, code: 2} = e
      assert e.key == "net.ipv4.no_such_key"
      assert e.path == "/proc/sys/net/ipv4/no_such_key"
      assert e.in == {:netns, ns}
      assert %{stage: :read, errno: :enoent} = e.reason
      assert Exception.message(e) == :linx.format_error(e.reason)

      assert Exception.message(e) ==
               ~s|sysctl read "net.ipv4.no_such_key" in netns "#{ns}" failed on /proc/sys/net/ipv4/no_such_key: enoent (errno 2)|

      e = assert_raise Error, fn -> Sysctl.write!("net.ipv4.conf.nope.forwarding", 1, opts) end
      assert {e.op, e.errno, e.key} == {:write, :enoent, "net.ipv4.conf.nope.forwarding"}
    end

    test "bad keys, values, targets and options are refused before anything is sent" do
      for key <- ["net..ipv4", "/net/ipv4", "net/../kernel", "", 42] do
        assert {:error, %Error{stage: :badarg, errno: :bad_key, key: ^key, path: nil} = e} =
                 Sysctl.read(key)

        assert Exception.message(e) =~ "invalid sysctl key"
      end

      assert {:error, %Error{errno: :bad_value}} = Sysctl.write("net.ipv4.ip_forward", "1\n")
      assert {:error, %Error{errno: :unsupported_type}} = Sysctl.write("net.ipv4.ip_forward", 1.5)

      for target <- [{:netns, "a/b"}, {:netns, ""}, {:pid, 0}, :host, {:ns, "x"}] do
        assert {:error, %Error{stage: :badarg, errno: :bad_in, in: ^target} = e} =
                 Sysctl.read("net.ipv4.ip_forward", in: target)

        assert Exception.message(e) =~ "invalid namespace target"
      end

      assert {:error, %Error{errno: :bad_option}} =
               Sysctl.read("net.ipv4.ip_forward", timeout: -1)

      assert {:error, %Error{errno: :bad_option}} =
               Sysctl.write("net.ipv4.ip_forward", 1, timeout: 0)

      assert {:error, %Error{errno: :bad_via}} = Sysctl.read("net.ipv4.ip_forward", via: :nowhere)
      assert {:error, %Error{errno: :bad_settings}} = Sysctl.apply(:nope)

      assert {:error, %Error{stage: :parse, errno: :not_integer}} =
               Sysctl.read_int("kernel.ostype")
    end

    test "a netns that does not exist, or has vanished, is an open_ns error", %{
      ns: ns,
      opts: opts
    } do
      assert {:ok, _} = Sysctl.read("net.ipv4.ip_forward", opts)
      del(ns)

      assert {:error, %Error{stage: :open_ns, errno: :enoent, in: {:netns, ^ns}} = e} =
               Sysctl.read("net.ipv4.ip_forward", opts)

      assert Exception.message(e) =~ ~s(in netns "#{ns}")

      assert_raise Error, ~r/open_ns enoent/, fn ->
        Sysctl.write!("net.ipv4.ip_forward", 1, opts)
      end

      assert {:error, %Error{stage: :open_ns, op: :list}} = Sysctl.list("net", opts)
    end

    test "a key outside net.* through {:netns, _} is not written without host_keys", %{opts: opts} do
      # The host's own value, so that nothing changes should it be written.
      hostname = host_sysctl!("kernel.hostname")

      assert {:error, %Error{stage: :write, errno: :not_in_target} = e} =
               Sysctl.write("kernel.hostname", hostname, opts)

      assert Exception.message(e) =~ "host_keys => true"
    end
  end

  # sysctl(8) prints the slash form with dots and slashes swapped.
  defp sysctl8_key(key) do
    path =
      key
      |> String.graphemes()
      |> Enum.map_join(fn
        "." -> "/"
        "/" -> "."
        c -> c
      end)

    :linx_sysctl.path_to_key(path)
  end

  defp path(key) do
    {:ok, path} = :linx_sysctl.key_to_path(key)
    path
  end

  defp wait_for(fun, expected, deadline \\ System.monotonic_time(:millisecond) + 5000) do
    case fun.() do
      ^expected ->
        expected

      other ->
        if System.monotonic_time(:millisecond) > deadline do
          other
        else
          Process.sleep(10)
          wait_for(fun, expected, deadline)
        end
    end
  end
end
