defmodule Linx.Netlink.Error do
  @moduledoc """
  A failed `Linx.Netlink.Socket` or `Linx.Genl` call, as an exception.
  See docs/elixir.md.

  `Exception.message/1` is the line `:linx.format_error/1` gives:

      iex> {:error, error} = Linx.Netlink.Socket.open(:no_such_protocol)
      iex> {error.stage, error.errno}
      {:badarg, :bad_protocol}
      iex> Exception.message(error)
      "linx_netlink:open: invalid protocol no_such_protocol: expected a protocol name (such as route, generic, tcp or icmp) or a number (0..31 for netlink)"

  ## Fields

    * `:op` - `:netlink_open` (`open/1,2,3`, `open_fd/1,2,3`), `:close_fd`,
      `:add_membership` or `:drop_membership`; `:genl_family`,
      `:genl_families`, `:genl_request` or `:genl_dump` for `Linx.Genl`.
    * `:stage`, `:errno`, `:code` - as in `Linx.Sysctl.Error` (same table):
      a stage of the port program (`:open_ns`, `:socket`, `:bind`, ...) or
      of this node (`:adopt`, `:setsockopt`) with an errno atom; `:badarg`
      with `:bad_protocol`, `:bad_groups`, `:bad_group`, `:bad_rcvbuf`,
      `:bad_in`, `:bad_option`, `:bad_via` or `:bad_fd`; `:call` with
      `:timeout`, `:not_running`, `:port_exited`, `:nodedown`,
      `:unexpected_reply` or `:remote` (a C-node on another host cannot
      pass descriptors). `close_fd/1`'s `:ebadf` and `:enotsock` have
      stage `:close`. `Linx.Genl` adds `:netlink` (the kernel refused the
      request: an errno atom), `:badarg` with `:bad_family`,
      `:bad_command` or `:bad_attrs`, and `:parse` with `:malformed`.
    * `:ext_ack` - for `Linx.Genl`, the kernel's extended-ack text when
      it sent one, else `nil`.
    * `:protocol` - the protocol as given (`nil` for `close_fd/1`).
    * `:in` - the `in:` option as given (`:self` by default).
    * `:reason` - the error term of `:linx_netlink`, unchanged.
  """

  @type op ::
          :netlink_open
          | :close_fd
          | :add_membership
          | :drop_membership
          | :genl_family
          | :genl_families
          | :genl_request
          | :genl_dump

  use Linx.Error,
    op: op,
    fields: [protocol: term, in: Linx.Rtnl.target(), ext_ack: String.t() | nil]

  @doc """
  The exception for an error term of `:linx_netlink`, returned by
  operation `op` for `protocol` with options `opts`.
  """
  @spec from_reason(term, op, term, keyword | map) :: t
  def from_reason(reason, op, protocol, opts) do
    error =
      build(reason, op,
        protocol: protocol,
        in: Linx.Reason.opt(opts, :in, :self),
        ext_ack: Linx.Reason.ext_ack(reason)
      )

    case {op, Linx.Reason.bare(reason)} do
      {:close_fd, errno} when is_atom(errno) -> %__MODULE__{error | stage: :close}
      _ -> error
    end
  end
end
