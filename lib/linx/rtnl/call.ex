defmodule Linx.Rtnl.Call do
  @moduledoc false
  # What the functions of Linx.Rtnl share: arguments as :linx_rtnl takes
  # them, and results with their errors as Linx.Rtnl.Error.

  alias Linx.Rtnl.Error

  # :linx_rtnl takes an address as a prefix or a map: a keyword list
  # becomes a map, anything else goes as it is.
  @spec addr_spec(term) :: term
  def addr_spec([{key, _} | _] = addr) when is_atom(key), do: Linx.Args.keyword_map(addr)

  def addr_spec(addr), do: addr

  # Linx.Rtnl.batch/2: the ops as :linx_rtnl takes them, and each op's
  # error named after it.
  @spec batch(term, term) :: term
  def batch(ops, opts) do
    case :linx_rtnl.batch(batch_ops(ops), opts) do
      {:ok, results} -> {:ok, Enum.zip_with(ops, results, &op_result(&1, &2, opts))}
      error -> wrap(error, :batch, opts)
    end
  end

  # The ops of a batch as :linx_rtnl takes them: an address given as a
  # keyword list becomes a map.
  defp batch_ops(ops) when is_list(ops) do
    Enum.map(ops, fn
      {what, link, addr} when what in [:addr_add, :addr_del, :addr_replace] ->
        {what, link, addr_spec(addr)}

      op ->
        op
    end)
  end

  defp batch_ops(ops), do: ops

  # An op's result, its error named after the op (:linx_rtnl has checked
  # that each op is a tuple of an op's name and its arguments).
  defp op_result(_op, :ok, _opts), do: :ok
  defp op_result(op, error, opts), do: wrap(error, elem(op, 0), opts)

  @spec wrap(term, atom, term) :: term
  def wrap({:error, reason}, op, opts), do: {:error, Error.from_reason(reason, op, opts)}
  def wrap(ok, _op, _opts), do: ok
end
