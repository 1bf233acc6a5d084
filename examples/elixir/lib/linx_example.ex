defmodule LinxExample do
  @moduledoc """
  linx from Elixir: sysctls and links of a network namespace made with
  `ip netns add`.

  `Linx.Sysctl` takes keyword options (`in: {:netns, name}`) and returns
  `{:error, %Linx.Sysctl.Error{}}`, an exception whose message is the line
  `:linx.format_error/1` gives.

      iex> LinxExample.forwarding_on("blue")
      :ok
      iex> LinxExample.forwarding?("blue")
      {:ok, true}
      iex> {:error, e} = LinxExample.forwarding_on("no-such-netns")
      iex> {e.stage, e.errno}
      {:open_ns, :enoent}
      iex> Exception.message(e)
      "sysctl write \\"net.ipv4.ip_forward\\" in netns \\"no-such-netns\\" failed on /proc/sys/net/ipv4/ip_forward: open_ns enoent (errno 2)"
  """

  alias Linx.Sysctl

  @type netns :: String.t()

  @doc """
  The names of the links of `netns`, sorted: an RTM_GETLINK dump over a
  route socket `Linx.Netlink.Socket` opened inside the netns.
  """
  @spec links(netns) :: {:ok, [String.t()]} | {:error, Linx.Netlink.Error.t() | term}
  def links(netns) do
    with {:ok, socket} <- Linx.Netlink.Socket.open(:route, in: {:netns, netns}) do
      try do
        LinxExample.Rtnl.dump_links(socket)
      after
        :socket.close(socket)
      end
    end
  end

  @doc "Turns IPv4 forwarding on in `netns` (the host keeps its value)."
  @spec forwarding_on(netns) :: :ok | {:error, Sysctl.Error.t()}
  def forwarding_on(netns), do: put(netns, "net.ipv4.ip_forward", 1)

  @doc "Like `forwarding_on/1`, but raises `Linx.Sysctl.Error`."
  @spec forwarding_on!(netns) :: :ok
  def forwarding_on!(netns), do: Sysctl.write!("net.ipv4.ip_forward", 1, in: {:netns, netns})

  @doc "Whether IPv4 forwarding is on in `netns`."
  @spec forwarding?(netns) :: {:ok, boolean} | {:error, Sysctl.Error.t()}
  def forwarding?(netns) do
    with {:ok, value} <- Sysctl.read_int("net.ipv4.ip_forward", in: {:netns, netns}) do
      {:ok, value == 1}
    end
  end

  @doc "Writes `value` (an integer, a list of integers or a string) to `key` in `netns`."
  @spec put(netns, String.t(), integer | [integer] | String.t()) ::
          :ok | {:error, Sysctl.Error.t()}
  def put(netns, key, value), do: Sysctl.write(key, value, in: {:netns, netns})

  @doc "The sysctls under `prefix` in `netns`, as a map of key to value."
  @spec sysctls(netns, String.t()) ::
          {:ok, %{String.t() => String.t()}} | {:error, Sysctl.Error.t()}
  def sysctls(netns, prefix) do
    with {:ok, entries} <- Sysctl.list(prefix, in: {:netns, netns}) do
      {:ok, Map.new(entries)}
    end
  end
end
