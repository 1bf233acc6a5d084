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

  # The ops of a batch as :linx_rtnl takes them: an address given as a
  # keyword list becomes a map.
  @spec batch_ops(term) :: term
  def batch_ops(ops) when is_list(ops) do
    Enum.map(ops, fn
      {what, link, addr} when what in [:addr_add, :addr_del, :addr_replace] ->
        {what, link, addr_spec(addr)}

      op ->
        op
    end)
  end

  def batch_ops(ops), do: ops

  # An op's result, its error named after the op (:linx_rtnl has checked
  # that each op is a tuple of an op's name and its arguments).
  @spec op_result(tuple, term, term) :: term
  def op_result(_op, :ok, _opts), do: :ok
  def op_result(op, error, opts), do: wrap(error, elem(op, 0), opts)

  @spec wrap(term, atom, term) :: term
  def wrap({:error, reason}, op, opts), do: {:error, Error.from_reason(reason, op, opts)}
  def wrap(ok, _op, _opts), do: ok
end
