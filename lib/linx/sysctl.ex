defmodule Linx.Sysctl do
  @moduledoc """
  Read, write and list sysctls, in this or another namespace.
  See docs/elixir.md.

  The work is done by linx's port program (a separate OS process), never
  inside the BEAM; this module is the Elixir face of the Erlang API
  `:linx_sysctl`, with the same keys, values and options, keyword options
  and `Linx.Sysctl.Error` for errors.

      iex> Linx.Sysctl.read("kernel.ostype")
      {:ok, "Linux"}
      iex> {:ok, [low, high]} = Linx.Sysctl.read_ints("net.ipv4.ip_local_port_range")
      iex> low <= high
      true

  In a network namespace made with `ip netns add blue`:

      :ok = Linx.Sysctl.write("net.ipv4.ip_forward", 1, in: {:netns, "blue"})
      {:ok, 1} = Linx.Sysctl.read_int("net.ipv4.ip_forward", in: {:netns, "blue"})
      {:ok, previous} = Linx.Sysctl.apply(%{"net.ipv4.ip_forward" => 0}, in: {:netns, "blue"})

  ## Keys

  A key is a string (a charlist or an atom also works) in one of two forms:

    * dot form, `"net.ipv4.ip_forward"`: segments of `A-Z a-z 0-9 _ -`
      separated by dots, which become slashes;
    * slash form, `"net/ipv4/conf/br.100/forwarding"`: the path below
      `/proc/sys`, dots literal (for interface names with dots); no empty,
      `.` or `..` segment.

  Anything else is refused before anything is sent (`stage: :badarg,
  errno: :bad_key`). `list/2` returns each key in the form that
  round-trips: the dot form when it can express the path, the slash form
  otherwise.

  ## Values

  Values read are strings with trailing spaces, tabs and newlines removed.
  Values written may be an integer (written in decimal), a non-empty list
  of integers (`[32768, 60999]` is written `"32768 60999"`), or a string
  or iodata written as it is. Give text as a string: a charlist is a list
  of integers and is written as numbers. A value with a newline or a NUL
  byte is refused (`errno: :bad_value`), and so is a value over 1 MiB.

  ## Options

    * `:in` - where the sysctl lives: `:self` (default, the namespaces of
      the port program), `{:netns, name}` (`/run/netns/NAME`),
      `{:pid, os_pid}` (the namespaces of that process), `{:path, ns_path}`
      (one namespace file such as `"/proc/1234/ns/net"`) or
      `{:ns, [ns_path]}` (several, entered in order).
    * `:timeout` - milliseconds to wait for the port program (default
      5000) or `:infinity`. It bounds the wait, not a write: a write that
      timed out may still happen. `write/3` and `apply/2` refuse 0.
    * `:via` - `:local` (the port program of this node, the default) or
      the node name of a linx C-node that does the work.
    * `:host_keys` - `write/3` and `apply/2` only. `{:netns, name}` enters
      only the network namespace, so a key outside `net.*` would be the
      host's; the port program refuses to write it (`errno:
      :not_in_target`) unless `host_keys: true` says that is meant.

  Options may also be given as a map. Any other option (`data: 1`, or
  `host_keys:` to a read) is refused with `errno: :bad_option`, as is a
  list that is not a keyword list; see `:linx_sysctl` for the details of
  each option.

  ## Errors

  Every function returns `{:error, %Linx.Sysctl.Error{}}` on failure, with
  the stage, errno, key, path and target, and the Erlang API's error term
  in `:reason`; see `Linx.Sysctl.Error` for the stages and reasons. Each
  has a bang variant (`read!/2`, `write!/3`, `apply!/2`, ...) that returns
  the value itself and raises that error instead.
  """

  use Linx.Bang, raises: Linx.Sysctl.Error

  import Kernel, except: [apply: 2]

  alias Linx.Sysctl.Error

  @typedoc "`\"net.ipv4.ip_forward\"` or `\"net/ipv4/conf/br.100/forwarding\"`."
  @type key :: String.t() | charlist | atom

  @typedoc "What `write/3` takes; give text as a string."
  @type value :: integer | [integer, ...] | iodata

  @typedoc "Where a sysctl lives (option `:in`)."
  @type target ::
          :self
          | {:pid, pos_integer}
          | {:netns, String.t()}
          | {:path, String.t()}
          | {:ns, [String.t()]}

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option ::
          {:in, target}
          | {:timeout, timeout}
          | {:via, :local | node}
          | {:host_keys, boolean}
  @type options :: [option] | map

  @doc """
  Reads a sysctl; the value has its trailing whitespace removed.

      iex> Linx.Sysctl.read("kernel.ostype")
      {:ok, "Linux"}
      iex> {:error, %Linx.Sysctl.Error{stage: :read, errno: :enoent}} =
      ...>   Linx.Sysctl.read("kernel.no_such_key")
  """
  @spec read(key, options) :: {:ok, String.t()} | {:error, Error.t()}
  def read(key, opts \\ []), do: wrap(:linx_sysctl.read(key, opts), :read, key, opts)

  @doc """
  Like `read/2`, but returns the value itself and raises
  `Linx.Sysctl.Error` on failure.

      iex> Linx.Sysctl.read!("kernel.ostype")
      "Linux"
  """
  defbang(read(key :: key, opts :: options \\ []) :: String.t())

  @doc """
  Reads a sysctl holding one integer. A value that is not an integer is an
  error with `stage: :parse, errno: :not_integer`.
  """
  @spec read_int(key, options) :: {:ok, integer} | {:error, Error.t()}
  def read_int(key, opts \\ []), do: wrap(:linx_sysctl.read_int(key, opts), :read, key, opts)

  defbang(read_int(key :: key, opts :: options \\ []) :: integer)

  @doc """
  Reads a sysctl holding integers separated by spaces or tabs, such as
  `net.ipv4.ip_local_port_range` or `net.ipv4.tcp_rmem`.
  """
  @spec read_ints(key, options) :: {:ok, [integer]} | {:error, Error.t()}
  def read_ints(key, opts \\ []), do: wrap(:linx_sysctl.read_ints(key, opts), :read, key, opts)

  defbang(read_ints(key :: key, opts :: options \\ []) :: [integer])

  @doc """
  Writes a sysctl. See the module documentation for how values are
  written and for the option `:host_keys`.
  """
  @spec write(key, value, options) :: :ok | {:error, Error.t()}
  def write(key, value, opts \\ []),
    do: wrap(:linx_sysctl.write(key, value, opts), :write, key, opts)

  defbang(write(key :: key, value :: value, opts :: options \\ []) :: :ok)

  @doc """
  Lists the sysctls below `prefix` (all of them for `""`), sorted by path,
  as `{key, value}` pairs. Keys are in round-trip form and values are
  trimmed as `read/2`'s. Entries that cannot be read are skipped.

      iex> {:ok, entries} = Linx.Sysctl.list("kernel")
      iex> List.keyfind(entries, "kernel.ostype", 0)
      {"kernel.ostype", "Linux"}
  """
  @spec list(key, options) :: {:ok, [{String.t(), String.t()}]} | {:error, Error.t()}
  def list(prefix \\ "", opts \\ []),
    do: wrap(:linx_sysctl.list(prefix, opts), :list, prefix, opts)

  defbang(list(prefix :: key \\ "", opts :: options \\ []) :: [{String.t(), String.t()}])

  @doc """
  Writes several sysctls as one transaction, in one visit to the
  namespace: the old values are read first, the new ones written in order
  (a map in key order), and on the first failure every value already
  written is restored.

  Returns `{:ok, previous}`, the old values as `[{key, value}]`, which
  `apply/2` takes back to restore them. On failure the error has the
  stage and errno of the write that failed, its key, and the restored
  keys in `:rolled_back`. Keys and values are all checked before anything
  is sent.
  """
  @spec apply([{key, value}] | %{key => value}, options) ::
          {:ok, [{String.t(), String.t()}]} | {:error, Error.t()}
  def apply(settings, opts \\ []) do
    wrap(:linx_sysctl.apply(settings, opts), :apply, nil, opts)
  end

  defbang(
    apply(settings :: [{key, value}] | %{key => value}, opts :: options \\ []) ::
      [{String.t(), String.t()}]
  )

  @doc """
  Whether sysctls can be used here: Linux with `/proc/sys`.

      iex> Linx.Sysctl.supported?()
      true
  """
  @spec supported?() :: boolean
  def supported?, do: :linx_sysctl.supported()

  defp wrap({:error, reason}, op, key, opts),
    do: {:error, Error.from_reason(reason, op, key, opts)}

  defp wrap(ok, _op, _key, _opts), do: ok
end
