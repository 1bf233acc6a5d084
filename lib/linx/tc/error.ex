defmodule Linx.Tc.Error do
  @moduledoc """
  A failed `Linx.Tc` call, as an exception.
  See docs/tc.md.

  `Linx.Tc` functions return `{:error, %Linx.Tc.Error{}}`; the bang
  functions raise it. `Exception.message/1` is the line
  `:linx.format_error/1` gives for the same error:

      iex> {:error, error} = Linx.Tc.qdisc_add(%{kind: :htb})
      iex> {error.op, error.stage, error.errno}
      {:qdisc_add, :badarg, :bad_qdisc}
      iex> Exception.message(error)
      "linx_tc:qdisc_add: invalid tc qdisc: field link is missing"

  ## Fields

    * `:op` - the function that failed (`:qdiscs`, `:qdisc_add`,
      `:class_del`, `:filters`, ...).
    * `:stage`, `:errno`, `:code` - where and why, as in
      `Linx.Sysctl.Error`: `:netlink` with the errno when the kernel
      refused the request (`:enoent` for a kind it does not have),
      `:badarg` with `:bad_qdisc`, `:bad_class`, `:bad_filter`,
      `:bad_parent` or `:bad_option` for arguments refused before
      anything was sent, and the stages every linx call shares.
    * `:ext_ack` - the kernel's extended-ack text, `nil` when it sent none.
    * `:in` - the target of the call (`:self` by default).
    * `:reason` - the error term of `:linx_tc`, unchanged.
  """

  @type op ::
          :qdiscs
          | :classes
          | :filters
          | :qdisc_add
          | :qdisc_replace
          | :qdisc_change
          | :qdisc_del
          | :class_add
          | :class_replace
          | :class_change
          | :class_del
          | :filter_add
          | :filter_replace
          | :filter_del

  use Linx.Error,
    op: op,
    fields: [ext_ack: String.t() | nil, in: Linx.Rtnl.target()]

  @doc """
  The exception for an error term of `:linx_tc`, returned by `op` with
  options `opts`.
  """
  @spec from_reason(term, op, keyword | map) :: t
  def from_reason(reason, op, opts) do
    build(reason, op, ext_ack: Linx.Reason.ext_ack(reason), in: Linx.Reason.target(reason, opts))
  end
end
