defmodule LinxExample do
  @moduledoc """
  linx from Elixir: sysctls of a network namespace made with `ip netns add`.

  linx is an Erlang application, so its modules are atoms (`:linx_sysctl`,
  `:linx_netlink`, `:linx`) and keys and values are binaries, which Elixir
  strings already are. Errors come back as terms; `LinxExample.Error` keeps
  the term and renders it with `:linx.format_error/1`.

      iex> LinxExample.forwarding_on("blue")
      :ok
      iex> LinxExample.forwarding?("blue")
      {:ok, true}
      iex> {:error, e} = LinxExample.forwarding_on("no-such-netns")
      iex> Exception.message(e)
      "sysctl write \\"net.ipv4.ip_forward\\" in netns \\"no-such-netns\\" failed on /proc/sys/net/ipv4/ip_forward: open_ns enoent (errno 2)"
  """

  defmodule Error do
    @moduledoc "A linx error; `reason` is the term linx returned."
    defexception [:reason]

    @impl true
    def message(%__MODULE__{reason: reason}), do: :linx.format_error(reason)
  end

  @type netns :: String.t()

  @doc "Turns IPv4 forwarding on in `netns` (the host keeps its value)."
  @spec forwarding_on(netns) :: :ok | {:error, Error.t()}
  def forwarding_on(netns), do: put(netns, "net.ipv4.ip_forward", 1)

  @doc "Like `forwarding_on/1`, but raises `LinxExample.Error`."
  @spec forwarding_on!(netns) :: :ok
  def forwarding_on!(netns) do
    with {:error, e} <- forwarding_on(netns), do: raise(e)
  end

  @doc "Whether IPv4 forwarding is on in `netns`."
  @spec forwarding?(netns) :: {:ok, boolean} | {:error, Error.t()}
  def forwarding?(netns) do
    with {:ok, value} <- call(:linx_sysctl.read_int("net.ipv4.ip_forward", opts(netns))) do
      {:ok, value == 1}
    end
  end

  @doc "Writes `value` (an integer, a list of integers or a string) to `key` in `netns`."
  @spec put(netns, String.t(), integer | [integer] | String.t()) :: :ok | {:error, Error.t()}
  def put(netns, key, value), do: call(:linx_sysctl.write(key, value, opts(netns)))

  @doc "The sysctls under `prefix` in `netns`, as a map of key to value."
  @spec sysctls(netns, String.t()) :: {:ok, %{String.t() => String.t()}} | {:error, Error.t()}
  def sysctls(netns, prefix) do
    with {:ok, entries} <- call(:linx_sysctl.list(prefix, opts(netns))) do
      {:ok, Map.new(entries)}
    end
  end

  defp opts(netns), do: %{in: {:netns, netns}}

  defp call(:ok), do: :ok
  defp call({:ok, _} = ok), do: ok
  defp call({:error, reason}), do: {:error, %Error{reason: reason}}
end
