defmodule Linx.Sysctl.Error do
  @moduledoc """
  A sysctl that could not be read, written or listed: which key, which
  file under `/proc/sys`, in which namespace, and the stage and errno that
  stopped it (see docs/elixir.md). `Linx.Sysctl` returns it as
  `{:error, %Linx.Sysctl.Error{}}` and its bang functions raise it; its
  message is the line of `:linx.format_error/1`, which names the Erlang
  function that failed:

      iex> {:error, error} = Linx.Sysctl.read("net..ipv4")
      iex> Exception.message(error)
      ~s|linx_sysctl:read: invalid sysctl key <<"net..ipv4">>: expected the dot form (net.ipv4.ip_forward) or the slash form (net/ipv4/conf/br.100/forwarding)|
      iex> {error.stage, error.errno, error.key}
      {:badarg, :bad_key, "net..ipv4"}

  ## Fields

    * `:op` - `:read`, `:write`, `:list` or `:apply` (`read_int/2` and
      `read_ints/2` are reads).
    * `:stage` - where it failed; see the table below.
    * `:errno` - why: an errno atom (`:enoent`, `:eacces`, ...) for a
      failure in the kernel, otherwise an atom naming the reason (see the
      table); a binary only for a panic of the port program.
    * `:code` - the Linux errno number of `:errno`, 0 when it is not an
      errno.
    * `:key` - the key (for `list/2` the prefix) in the form that
      round-trips, `net.ipv4.ip_forward` or `net/ipv4/conf/br.100/forwarding`;
      a key that is not valid is the term given. For `apply/2` the key at
      which the transaction stopped, or `nil` when the error concerns the
      call as a whole (a timeout, a bad value before anything was sent).
    * `:path` - the file under `/proc/sys`, `nil` when the key is not valid.
    * `:in` - the `in:` option as given (`:self` by default).
    * `:rolled_back` - `apply/2` only: the keys written and then restored
      before the failure was returned; `[]` otherwise.
    * `:reason` - the error term of the Erlang API (`:linx_sysctl`)
      unchanged, for matching on details (`written`/`total` of a partial
      write, say) and for `:linx.format_error/1`.

  ## Stages and reasons

  Every error, whatever its source, has an atom `:stage`, so one `case`
  covers all of them:

  | `:stage` | `:errno` | `:reason` of the Erlang API |
  |---|---|---|
  | a stage of the port program: `:open_ns`, `:setns`, `:read`, `:write`, `:list`, `:open`, `:busy`, `:policy`, ... (`:linx_error.stages/0`) | the errno atom (`:enoent`, `:eacces`, ...), or a reason atom (`:not_in_target`, `:partial`, `:too_large`; `:queue`, `:workers`, `:helpers` for `:busy`, ...) | the error map (`%{stage: ..., errno: ..., code: ..., ...}`) |
  | `:badarg` | `:bad_key`, `:bad_value`, `:unsupported_type`, `:bad_settings`, `:bad_in`, `:bad_option`, `:bad_via` | `{tag, term}`: refused before anything was sent |
  | `:parse` | `:not_integer` | `{:not_integer, value}` from `read_int/2`, `read_ints/2` |
  | `:call` | `:timeout`, `:not_running`, `:port_exited`, `:nodedown`, `:unexpected_reply` | `:timeout`, `:not_running`, `{:port_exited, status}`, `{:nodedown, node}`, `{:unexpected_reply, term}` |

  A term none of these (which linx does not return today) has
  `stage: :unknown`, and `errno` the term when it is an atom, else `nil`.

  A `:call` error of `write/3` or `apply/2` with `errno: :timeout` means
  "not known": the write was sent and may still happen; read the value back.
  A failed `apply/2` has the `:stage` and `:errno` of the write that failed
  and the keys restored in `:rolled_back`.
  """

  use Linx.Error,
    op: :read | :write | :list | :apply,
    fields: [
      key: String.t() | term | nil,
      path: String.t() | nil,
      in: Linx.Sysctl.target(),
      rolled_back: [String.t()]
    ],
    defaults: [rolled_back: []]

  @doc """
  The exception for an error term returned by `:linx_sysctl` for operation
  `op` on `key` with options `opts`.

      iex> e = Linx.Sysctl.Error.from_reason(:timeout, :read, "net.ipv4.ip_forward", in: {:netns, "blue"})
      iex> {e.stage, e.errno, e.key, e.path, e.in}
      {:call, :timeout, "net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward", {:netns, "blue"}}
      iex> Exception.message(e)
      "linx port request timed out"
  """
  @spec from_reason(term, :read | :write | :list | :apply, term, keyword | map) :: t
  def from_reason(reason, op, key, opts) do
    {key, path} =
      case reason do
        %{key: key, path: path} -> {key, path}
        %{failed: failed, reason: %{path: path}} -> {failed, path}
        %{failed: failed} -> {failed, key_path(failed)}
        {:bad_key, bad} -> {bad, nil}
        _ when key == nil -> {nil, nil}
        _ -> {round_trip(op, key), key_path(op, key)}
      end

    build(reason, op,
      key: key,
      path: path,
      in: in_of(reason, opts),
      rolled_back: rolled_back(reason)
    )
  end

  # apply/2's error has the target in the error of the write that failed.
  defp in_of(%{reason: %{in: target}} = reason, _opts) when not is_map_key(reason, :in),
    do: target

  defp in_of(reason, opts), do: Linx.Reason.target(reason, opts)

  defp rolled_back(%{rolled_back: keys}), do: keys
  defp rolled_back(_reason), do: []

  # The empty prefix of list/2 is /proc/sys itself.
  defp round_trip(:list, prefix) when prefix in ["", ~c"", :""], do: ""

  defp round_trip(_op, key) do
    case :linx_sysctl.key_to_path(key) do
      {:ok, path} -> :linx_sysctl.path_to_key(path)
      {:error, _} -> key
    end
  end

  defp key_path(:list, prefix) when prefix in ["", ~c"", :""], do: "/proc/sys"
  defp key_path(_op, key), do: key_path(key)

  defp key_path(key) do
    case :linx_sysctl.key_to_path(key) do
      {:ok, path} -> "/proc/sys/" <> path
      {:error, _} -> nil
    end
  end
end
