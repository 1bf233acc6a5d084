defmodule Linx.TestNs do
  @moduledoc false
  # Network namespaces for the tests (`ip netns add`), and the commands
  # used as oracles. Tests tagged :netns need root; when no namespace can
  # be made they are excluded, unless LINX_REQUIRE_NS=1: then they run and
  # fail.
  import ExUnit.Assertions

  @doc "Makes a netns removed when the test exits; returns its name."
  def netns!(tag \\ "t") do
    name = "linx-exu-#{tag}-#{System.unique_integer([:positive])}"

    case System.cmd("ip", ["netns", "add", name], stderr_to_stdout: true) do
      {_, 0} ->
        ExUnit.Callbacks.on_exit(fn -> del(name) end)
        name

      {out, status} ->
        flunk("ip netns add #{name} exited #{status}: #{out}")
    end
  end

  @doc """
  Makes a netns with `Linx.Netns.add/3` itself, as `spec` says (`lo:
  :up`), removed (by `ip netns del`) when the test exits; returns its name.
  """
  def linx_netns!(tag, spec \\ []) do
    name = "linx-exu-#{tag}-#{System.unique_integer([:positive])}"
    ExUnit.Callbacks.on_exit(fn -> del(name) end)
    assert :ok = Linx.Netns.add(name, spec, [])
    name
  end

  @doc false
  # The sorted link names of `ip -n NS -o link`. stderr is left out: ip
  # warns there ("Peer netns reference is invalid.") when a netns of
  # another test goes away while it looks up a veth peer's netns name.
  def ip_links(ns) do
    {out, 0} = System.cmd("ip", ["-n", ns, "-o", "link"])

    for line <- String.split(out, "\n", trim: true) do
      [_index, field | _] = String.split(line, " ", trim: true)
      field |> String.trim_trailing(":") |> String.split("@") |> hd()
    end
    |> Enum.sort()
  end

  @doc "Polls `fun` until it returns a truthy value, for up to `ms` milliseconds."
  def eventually(fun, ms \\ 5000) do
    deadline = System.monotonic_time(:millisecond) + ms
    poll(fun, deadline)
  end

  defp poll(fun, deadline) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          flunk("condition not met in time")
        else
          # Give the port program and the kernel the scheduler, not a sleep
          # that stands for synchronisation: the deadline bounds the wait.
          Process.sleep(5)
          poll(fun, deadline)
        end
    end
  end

  def del(name), do: System.cmd("ip", ["netns", "del", name], stderr_to_stdout: true)

  @doc "`sysctl -n KEY` inside the netns."
  def sysctl!(ns, key), do: cmd!("ip", ["netns", "exec", ns, "sysctl", "-n", key])

  @doc "`sysctl -n KEY` on the host."
  def host_sysctl!(key), do: cmd!("sysctl", ["-n", key])

  def cmd!(program, args, opts \\ []) do
    case System.cmd(program, args, [stderr_to_stdout: true] ++ opts) do
      {out, 0} -> String.trim_trailing(out)
      {out, status} -> flunk("#{program} #{Enum.join(args, " ")} exited #{status}: #{out}")
    end
  end

  @doc "Whether a netns can be made here."
  def available? do
    probe = "linx-exu-probe-#{System.pid()}"

    case System.cmd("ip", ["netns", "add", probe], stderr_to_stdout: true) do
      {_, 0} ->
        del(probe)
        true

      {out, status} ->
        IO.puts(:stderr, "cannot create a netns (ip exited #{status}): #{String.trim(out)}")
        false
    end
  end
end

require_ns = System.get_env("LINX_REQUIRE_NS") == "1"
exclude = if require_ns or Linx.TestNs.available?(), do: [], else: [:netns]
ExUnit.start(exclude: exclude)

# An RTM_GETLINK dump over an adopted socket, and `ip -o link` as the
# oracle: the example's modules, shared.
Code.require_file("examples/elixir/lib/linx_example/rtnl.ex", File.cwd!())
Code.require_file("examples/elixir/test/support/ip.ex", File.cwd!())

# The check of Linx.BangTest on the specs of compiled modules.
Code.require_file("test/elixir/support/bang_specs.ex", File.cwd!())
