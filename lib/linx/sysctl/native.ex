defmodule Linx.Sysctl.Native do
  @moduledoc """
  The sysctl contract of the NIF-based library's `Linx.Sysctl.Native`,
  served by the port program: code that called the NIFs runs unchanged.
  The Erlang module `:linx_native` does the work; its documentation lists
  every difference and the mapping to linx's own API (also in
  docs/nif-migration.md).

  Each fallible function takes `ns_paths`, a list of binaries naming
  namespace files such as `/proc/<pid>/ns/<kind>` or a pinned namespace
  file. The port program opens them in its own namespaces (the node's)
  and enters them in order; `[]` enters nothing.

      {:ok, "0\\n"} = Linx.Sysctl.Native.read_in_ns("/proc/sys/net/ipv4/ip_forward", ["/run/netns/blue"])
      :ok = Linx.Sysctl.Native.write_in_ns("/proc/sys/net/ipv4/ip_forward", "1", ["/run/netns/blue"])

  Errors are `{:error, {stage, errno_atom}}`, `stage` one of `:read`,
  `:write`, `:list`, `:open_ns`, `:unshare`, `:setns`, `:thread`
  (`:unshare` and `:thread` cannot occur: the port program enters
  namespaces on threads and helpers it keeps).

  Paths are absolute paths beneath `/proc/sys`, where the port program
  reads and writes (docs/security.md); any other path, or one with a `..`
  segment, is `{:error, {stage, :eacces}}` without anything being opened.
  A target that enters only a network namespace writes no key outside
  `/proc/sys/net`: `{:error, {:write, :not_in_target}}`. A port program
  that does not answer is `{:error, {:port, reason}}`.

  ## Mapping to linx's own API

  | here | linx |
  |---|---|
  | `read_in_ns(path, ns_paths)` | `Linx.Sysctl.read(key, in: {:ns, ns_paths})` (trimmed) |
  | `write_in_ns(path, data, ns_paths)` | `Linx.Sysctl.write(key, data, in: {:ns, ns_paths})` (an empty value is written as a newline) |
  | `list_in_ns(root, ns_paths)` | `Linx.Sysctl.list(prefix, in: {:ns, ns_paths})` (keys, trimmed values) |
  | `version()` | `:linx.version()` (a binary) |

  `key` is the path below `/proc/sys`; a key's file is `"/proc/sys/" <> slash_form`.
  """

  @typedoc "Namespace files, entered in order; `[]` enters nothing."
  @type ns_paths :: [binary]

  @typedoc "Where it failed and the errno (or, outside the contract, what refused it)."
  @type error :: {atom, atom | term}

  @doc "The bytes of the file `path`, untrimmed, read inside `ns_paths`."
  @spec read_in_ns(binary, ns_paths) :: {:ok, binary} | {:error, error}
  defdelegate read_in_ns(path, ns_paths), to: :linx_native

  @doc "Writes `data` to `path` inside `ns_paths`: one `write(2)`, no newline appended."
  @spec write_in_ns(binary, iodata, ns_paths) :: :ok | {:error, error}
  defdelegate write_in_ns(path, data, ns_paths), to: :linx_native

  @doc """
  Every readable regular file below the directory `root`, as
  `{path, value}` (full paths, untrimmed values) in walk order;
  unreadable entries are skipped. A root that does not exist or is not a
  directory is `{:error, {:list, errno}}`.
  """
  @spec list_in_ns(binary, ns_paths) :: {:ok, [{binary, binary}]} | {:error, error}
  defdelegate list_in_ns(root, ns_paths), to: :linx_native

  @doc "A charlist naming the implementation: `'linx_port '` and its version."
  @spec version() :: charlist
  defdelegate version(), to: :linx_native
end
