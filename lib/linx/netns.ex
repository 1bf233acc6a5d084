defmodule Linx.Netns do
  @moduledoc """
  Network namespaces made, removed and handed out by linx.
  See docs/elixir.md.

  Named namespaces are what `ip netns` makes: `add/3` leaves the same
  thing on disk as `ip netns add` (a file in `/run/netns` with the
  namespace bind-mounted on it), so `ip netns exec`, `{:netns, name}`
  targets and every other tool see it, and `del/2` removes one that
  either side made. This module is the Elixir face of `:linx_netns`.

      :ok = Linx.Netns.add("blue", [lo: :up], [])
      true = Linx.Netns.exists?("blue")
      {:ok, "0"} = Linx.Sysctl.read("net.ipv4.ip_forward", in: {:netns, "blue"})
      :ok = Linx.Netns.del("blue")

  ## Namespaces with no name

  `new/2` makes a namespace that has no name and no file: the port
  program holds it open for the calling process, its owner, and returns
  a handle, `{:linx_netns, id}`, that works as a target everywhere
  (`in: handle` for `Linx.Sysctl`, `Linx.Netlink.Socket`, `Linx.Rtnl`;
  a veth peer's `netns:`). The namespace is gone when the owner calls
  `release/1`, when the owner exits, and when the port program stops; in
  that last case the owner gets the message
  `{:linx_netns_released, handle, :port_exited}`. Nothing is left behind
  in `/run/netns` or in the mount table.

      {:ok, ns} = Linx.Netns.new([lo: :up], [])
      {:ok, links} = Linx.Rtnl.links(in: ns)
      :ok = Linx.Netns.release(ns)

  ## Names, specs and options

  A name is what `ip netns` accepts: 1 to 255 bytes, not `.` or `..`, no
  `/` and no NUL. Anything else is refused before anything is sent
  (`stage: :badarg, errno: :bad_name`).

  What a new namespace is to be, its spec (`t:spec/0`), is the argument
  before the options of `add/3` and `new/2`, a keyword list or a map:

    * `:lo` - `:up` brings the loopback interface up (default `:down`,
      as `ip netns add` leaves it).

  Anything else is `errno: :bad_spec`. `add/1,2` and `new/0,1` make one
  with the empty spec.

  The options:

    * `:timeout` - milliseconds to wait for the port program (default
      5000) or `:infinity`.
    * `:via` - `:local` (default) or a linx C-node, for the named
      namespaces of its host; `new/2` refuses it (a handle belongs to the
      local port program).

  Any other option is refused (`errno: :bad_option`): `in:` (these calls
  act where the port program runs), and `lo:`, since options never carry
  a spec.

  ## Errors

  `{:error, %Linx.Netns.Error{}}`; `exists?/2` and the bang functions
  (`add!/3`, `new!/2`, ...) raise it.
  """

  use Linx.Bang, raises: Linx.Netns.Error

  alias Linx.Netns.Error

  @typedoc "A netns name, as `ip netns` takes it."
  @type name :: String.t() | charlist

  @typedoc "A namespace with no name from `new/2`; use it as `in: handle`."
  @type handle :: {:linx_netns, pos_integer}

  @typedoc """
  A new namespace, as a keyword list or a map: `[lo: :up]` brings its
  loopback interface up (default `:down`). See the module documentation.
  """
  @type spec :: [{:lo, :up | :down}] | %{optional(:lo) => :up | :down}

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option :: {:timeout, timeout} | {:via, :local | node}
  @type options :: [option] | map

  @doc """
  Like `add/3`, with the empty spec: the loopback interface is left down.
  """
  @spec add(name, options) :: :ok | {:error, Error.t()}
  def add(name, opts \\ []), do: wrap(:linx_netns.add(name, opts), :add, name: name)

  defbang(add(name :: name, opts :: options \\ []) :: :ok)

  @doc """
  Makes the named namespace `/run/netns/NAME`, as `ip netns add` does,
  as `spec` says (`[lo: :up]` brings its loopback interface up). A name
  that is taken is `stage: :create, errno: :eexist`.
  """
  @spec add(name, spec, options) :: :ok | {:error, Error.t()}
  def add(name, spec, opts),
    do: wrap(:linx_netns.add(name, spec(spec), opts), :add, name: name)

  defbang(add(name :: name, spec :: spec, opts :: options) :: :ok)

  @doc """
  Removes the named namespace, as `ip netns delete` does: the name goes at
  once; the namespace lives on while a process is in it. A name that does
  not exist is `stage: :unlink, errno: :enoent`.
  """
  @spec del(name, options) :: :ok | {:error, Error.t()}
  def del(name, opts \\ []), do: wrap(:linx_netns.del(name, opts), :del, name: name)

  defbang(del(name :: name, opts :: options \\ []) :: :ok)

  @doc """
  The names in `/run/netns`, sorted (none when it does not exist).

      iex> {:ok, names} = Linx.Netns.list()
      iex> Enum.all?(names, &is_binary/1)
      true
  """
  @spec list(options) :: {:ok, [String.t()]} | {:error, Error.t()}
  def list(opts \\ []), do: wrap(:linx_netns.list(opts), :list, [])

  defbang(list(opts :: options \\ []) :: [String.t()])

  @doc """
  Whether `/run/netns/NAME` exists. Raises `Linx.Netns.Error` when that
  cannot be known (a name that is not valid, no answer).

      iex> Linx.Netns.exists?("linx-no-such-netns")
      false
  """
  @spec exists?(name, options) :: boolean
  def exists?(name, opts \\ []) do
    case :linx_netns.exists(name, opts) do
      answer when is_boolean(answer) -> answer
      {:error, reason} -> raise Error.from_reason(reason, :exists, name: name)
    end
  end

  @doc """
  The names in `/run/netns` that are the network namespace of the process
  `os_pid` (as `ip netns identify`): none when its namespace has no name,
  several when names share one namespace.
  """
  @spec identify(pos_integer, options) :: {:ok, [String.t()]} | {:error, Error.t()}
  def identify(os_pid, opts \\ []),
    do: wrap(:linx_netns.identify(os_pid, opts), :identify, pid: os_pid)

  defbang(identify(os_pid :: pos_integer, opts :: options \\ []) :: [String.t()])

  @doc """
  Like `new/2`, with the empty spec: the loopback interface is left down.
  """
  @spec new(options) :: {:ok, handle} | {:error, Error.t()}
  def new(opts \\ []), do: wrap(:linx_netns.new(opts), :new, [])

  defbang(new(opts :: options \\ []) :: handle)

  @doc """
  Makes a namespace with no name, owned by the calling process (see the
  module documentation for its lifetime), as `spec` says. Option:
  `:timeout`.

      {:ok, ns} = Linx.Netns.new([lo: :up], [])
      {:ok, %{flags: [:up, :loopback | _]}} = Linx.Rtnl.link("lo", in: ns)
      :ok = Linx.Netns.release(ns)
  """
  @spec new(spec, options) :: {:ok, handle} | {:error, Error.t()}
  def new(spec, opts), do: wrap(:linx_netns.new(spec(spec), opts), :new, [])

  defbang(new(spec :: spec, opts :: options) :: handle)

  @doc """
  Lets go of a namespace made by `new/2`: it is gone once no process is
  in it. Any process may release a handle it was given. A handle released
  already is `stage: :open_ns, errno: :enoent`.
  """
  @spec release(handle) :: :ok | {:error, Error.t()}
  def release(handle), do: wrap(:linx_netns.release(handle), :release, handle: handle)

  defbang(release(handle :: handle) :: :ok)

  @doc "The handles held for the calling process."
  @spec owned() :: [handle]
  def owned, do: :linx_netns.owned()

  # :linx_netns takes a spec as a map.
  defp spec(spec), do: Linx.Args.keyword_map(spec)

  defp wrap({:error, reason}, op, context), do: {:error, Error.from_reason(reason, op, context)}
  defp wrap(ok, _op, _context), do: ok
end
