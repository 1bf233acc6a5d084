defmodule Linx.Nft.Error do
  @moduledoc """
  A failed `Linx.Nft` call, as an exception.
  See docs/nftables.md.

  `Linx.Nft` functions return `{:error, %Linx.Nft.Error{}}`; the bang
  functions raise it. `Exception.message/1` is the line
  `:linx.format_error/1` gives for the same error:

      iex> {:error, error} = Linx.Nft.table_add(%{family: :ipx, name: "t"})
      iex> {error.op, error.stage, error.errno, error.index}
      {:table_add, :badarg, :bad_op, 1}
      iex> Exception.message(error)
      ~S|linx_nft:table_add: invalid nf_tables op 1 ({add,table,\#{family => ipx,name => <<"t">>}}): field family of the table is ipx|

  ## Fields

    * `:op` - the function that failed: `:apply`, `:replace`,
      `:flush_ruleset`, `:ruleset`, `:tables`, `:chains`, `:rules`, `:sets`,
      `:table_add`, `:table_del`, `:chain_add`, `:chain_del`, `:rule_add`,
      `:rule_del` or `:subscribe`.
    * `:stage`, `:errno`, `:code` - where and why, as in
      `Linx.Sysctl.Error`: `:netlink` with the errno when the kernel
      refused an op (and so the whole batch), `:badarg` with `:bad_op`
      (an op that does not encode; the error term names its field),
      `:bad_ops` (not a list), `:bad_kinds` (`subscribe/2`'s kinds) or
      `:bad_option`, refused before anything
      was sent, `:parse` for a reply that does not decode, and the
      stages every linx call shares.
    * `:index` - the place of the failed op in the list given (from 1;
      0 when the batch as a whole failed), `nil` when no op failed.
    * `:failed_op` - that op, as given (`:batch` for the batch itself).
    * `:ext_ack` - the kernel's extended-ack text, `nil` when it sent none.
    * `:in` - the target of the call (`:self` by default).
    * `:reason` - the error term of `:linx_nft`, unchanged.
  """

  @type op ::
          :apply
          | :replace
          | :flush_ruleset
          | :ruleset
          | :tables
          | :chains
          | :rules
          | :sets
          | :table_add
          | :table_del
          | :chain_add
          | :chain_del
          | :rule_add
          | :rule_del
          | :subscribe

  use Linx.Error,
    op: op,
    fields: [
      index: non_neg_integer | nil,
      failed_op: term,
      ext_ack: String.t() | nil,
      in: Linx.Rtnl.target()
    ]

  @doc """
  The exception for an error term of `:linx_nft`, returned by `op` with
  options `opts`.
  """
  @spec from_reason(term, op, keyword | map) :: t
  def from_reason(reason, op, opts) do
    {index, failed} = failed(reason)

    build(reason, op,
      index: index,
      failed_op: failed,
      ext_ack: Linx.Reason.ext_ack(reason),
      in: Linx.Reason.target(reason, opts)
    )
  end

  defp failed(%{stage: :netlink, index: index, op: op}), do: {index, op}

  defp failed(%{reason: {:bad_op, %{index: index, op: op}}}), do: {index, op}

  defp failed(_reason), do: {nil, nil}
end
