defmodule Linx.Error do
  @moduledoc false
  # What Linx.Sysctl.Error, Linx.Netlink.Error, Linx.Rtnl.Error and
  # Linx.Netns.Error have in common, written once:
  #
  #     use Linx.Error,
  #       op: :read | :write,
  #       fields: [key: String.t() | nil, rolled_back: [String.t()]],
  #       defaults: [rolled_back: []]
  #
  # defines the exception with the fields every linx error has (`:op`,
  # `:stage`, `:errno`, `:code`, `:reason`) around the module's own
  # `fields` (in this order: `:op`, `:stage`, `:errno`, the own fields
  # without a default, `code: 0`, the own `defaults`, `reason: nil`),
  # `:stage` and `:reason` enforced; `@type t` (`op` is the type of
  # `:op`, `fields` the types of the own fields); `message/1`, the line
  # `:linx.format_error/1` gives for `:reason`; and a private `build/3`
  # for the module's own constructor:
  #
  #     build(reason, op, key: key, rolled_back: [])
  #
  # gives the exception for the error term `reason` of operation `op`,
  # with `:stage`, `:errno` and `:code` from `Linx.Reason.fields/1` and
  # the own fields given (which may also override `:stage`).

  @common_types [
    stage: quote(do: atom),
    errno: quote(do: atom | binary | nil),
    code: quote(do: non_neg_integer)
  ]

  defmacro __using__(opts) do
    op_type = Keyword.fetch!(opts, :op)
    own_types = Keyword.fetch!(opts, :fields)
    defaults = Keyword.get(opts, :defaults, [])
    own = Keyword.keys(own_types)

    unknown = Keyword.keys(defaults) -- own

    if unknown != [] do
      raise ArgumentError, "defaults for fields not in fields: #{inspect(unknown)}"
    end

    plain = Enum.reject(own, &Keyword.has_key?(defaults, &1))
    struct_fields = [:op, :stage, :errno] ++ plain ++ [code: 0] ++ defaults ++ [reason: nil]
    types = [op: op_type] ++ @common_types ++ own_types ++ [reason: quote(do: term)]

    quote do
      @enforce_keys [:stage, :reason]
      defexception unquote(struct_fields)

      @type t :: %__MODULE__{unquote_splicing(types)}

      @impl true
      def message(%__MODULE__{reason: reason}), do: :linx.format_error(reason)

      defp build(reason, op, own), do: Linx.Error.build(__MODULE__, reason, op, own)
    end
  end

  @doc false
  # The exception `module` for the error term `reason` of `op`, with the
  # module's own fields `own`.
  @spec build(module, term, atom, keyword) :: Exception.t()
  def build(module, reason, op, own) do
    %{stage: stage, errno: errno, code: code} = Linx.Reason.fields(reason)
    common = [op: op, stage: stage, errno: errno, code: code, reason: reason]
    struct!(module, Keyword.merge(common, own))
  end
end
