defmodule Linx.Netns.Error do
  @moduledoc """
  A failed `Linx.Netns` call, as an exception.
  See docs/elixir.md.

  `Exception.message/1` is the line `:linx.format_error/1` gives:

      iex> {:error, error} = Linx.Netns.add("no/slash")
      iex> {error.op, error.stage, error.errno, error.name}
      {:add, :badarg, :bad_name, "no/slash"}
      iex> Exception.message(error)
      ~s|linx_netns:add: invalid netns name <<"no/slash">>: expected 1 to 255 bytes, not . or .., without / or NUL|

  ## Fields

    * `:op` - `:add`, `:del`, `:list`, `:exists`, `:identify`, `:new`
      or `:release`.
    * `:stage`, `:errno`, `:code` - where and why, as in
      `Linx.Sysctl.Error` (same table). The port program's stages here:
      `:mount` (making `/run/netns` or binding the namespace), `:create`
      (the name's file: `:eexist` when the name is taken), `:unshare`
      (making the namespace), `:loopback` (bringing `lo` up), `:umount`
      and `:unlink` (`:enoent` when there is no such name), `:open_ns`
      (`:esrch` for a process that is gone, `:enoent` for a handle
      released already). `:badarg` with `:bad_name`, `:bad_spec` (a spec
      of `add/3` or `new/2` other than `[]`, `[lo: :up]` or `[lo: :down]`)
      or `:bad_option` (a bad pid, handle or option, `lo:` among the
      options, or `via:` for `new/2`), and `:call`
      (`:timeout`, `:not_running`, ...) as everywhere.
    * `:name` - the name given (`add/3`, `del/2`, `exists?/2`), else
      `nil`.
    * `:pid` - the OS pid given to `identify/2`, else `nil`.
    * `:handle` - the handle given to `release/1`, else `nil`.
    * `:reason` - the error term of `:linx_netns`, unchanged.
  """

  @type op :: :add | :del | :list | :exists | :identify | :new | :release

  use Linx.Error, op: op, fields: [name: term, pid: term, handle: term]

  @doc """
  The exception for an error term of `:linx_netns`, returned by `op`;
  `context` has the `:name`, `:pid` or `:handle` the call was given.

      iex> e = Linx.Netns.Error.from_reason(:timeout, :add, name: "blue")
      iex> {e.stage, e.errno, e.name}
      {:call, :timeout, "blue"}
  """
  @spec from_reason(term, op, keyword) :: t
  def from_reason(reason, op, context) do
    build(reason, op, name: context[:name], pid: context[:pid], handle: context[:handle])
  end
end
