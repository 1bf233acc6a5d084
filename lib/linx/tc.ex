defmodule Linx.Tc do
  @moduledoc """
  Traffic control as maps: the qdiscs, classes and filters of any
  network namespace. The Elixir face of `:linx_tc`. See docs/tc.md.

      blue = [in: {:netns, "blue"}]

      :ok = Linx.Tc.qdisc_add(%{link: "veth0", handle: {1, 0}, kind: :htb,
                                options: %{default: 0x10}}, blue)

      :ok = Linx.Tc.class_add(%{link: "veth0", parent: {1, 0}, handle: {1, 0x10},
                                kind: :htb, options: %{rate: 10_000_000}}, blue)

      :ok = Linx.Tc.filter_add(%{link: "veth0", parent: {1, 0}, prio: 1, protocol: :ip,
                                 kind: :u32,
                                 options: %{match: [{:dst, {10, 0, 0, 2}, 32}],
                                            classid: {1, 0x10}}}, blue)

      {:ok, [%{kind: "htb"}]} = Linx.Tc.qdiscs(%{link: "veth0"}, blue)

  The maps are those of `:linx_tc` (atom keys; a decoded kind is a
  binary, a link an index), which docs/tc.md lists with every kind's
  options. Rates are in bits per second, sizes in bytes, times in
  microseconds.

  ## Options

  `:in`, `:timeout` and `:via`, as in `Linx.Rtnl`, as a keyword list or
  a map; any other option is refused (`errno: :bad_option`).

  ## Errors

  `{:error, %Linx.Tc.Error{}}`; each function has a bang variant that
  raises it.
  """

  use Linx.Bang, raises: Linx.Tc.Error

  alias Linx.Tc.Error

  @typedoc "A qdisc, class or filter, as a map with `:link` and `:kind`."
  @type object :: :linx_tc.object()

  @typedoc "`{major, minor}`, tc's text (`\"1:10\"`), `:root`, `:ingress`, `:egress`, `:clsact`."
  @type handle :: :linx_tc.handle()

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option :: {:in, Linx.Rtnl.target()} | {:timeout, timeout} | {:via, :local | node}
  @type options :: [option] | map

  @doc "Every qdisc of every link."
  @spec qdiscs(options) :: {:ok, [object]} | {:error, Error.t()}
  def qdiscs(opts \\ []), do: wrap(:linx_tc.qdiscs(opts), :qdiscs, opts)

  defbang(qdiscs(opts :: options \\ []) :: [object])

  @doc "The qdiscs of one link: `filter` is `%{link: link}`."
  @spec qdiscs(map, options) :: {:ok, [object]} | {:error, Error.t()}
  def qdiscs(filter, opts), do: wrap(:linx_tc.qdiscs(filter, opts), :qdiscs, opts)

  defbang(qdiscs(filter :: map, opts :: options) :: [object])

  @doc "Every class of the link `link` (a name or an index)."
  @spec classes(term, options) :: {:ok, [object]} | {:error, Error.t()}
  def classes(link, opts \\ []), do: wrap(:linx_tc.classes(link, opts), :classes, opts)

  defbang(classes(link :: term, opts :: options \\ []) :: [object])

  @doc "The filters of the link `link` under `parent` (`:root` unless given)."
  @spec filters(term, handle, options) :: {:ok, [object]} | {:error, Error.t()}
  def filters(link, parent \\ :root, opts \\ []),
    do: wrap(:linx_tc.filters(link, parent, opts), :filters, opts)

  defbang(filters(link :: term, parent :: handle \\ :root, opts :: options \\ []) :: [object])

  @changes [
    qdisc_add: "Adds a qdisc; `eexist` when one is there.",
    qdisc_replace: "Adds a qdisc, or replaces the one at its parent.",
    qdisc_change: "Changes a qdisc's options; it must be there.",
    qdisc_del: "Deletes a qdisc (`:link`, and `:parent` or `:handle`).",
    class_add: "Adds a class.",
    class_replace: "Adds a class, or changes the one with its handle.",
    class_change: "Changes a class; it must be there.",
    class_del: "Deletes a class (`:link`, `:parent`, `:handle`).",
    filter_add: "Adds a filter.",
    filter_replace: "Adds a filter, or replaces the one with its handle.",
    filter_del: "Deletes filters: all of a parent, those of a `:prio`, or one `:handle`."
  ]

  for {fun, doc} <- @changes do
    @doc doc
    @spec unquote(fun)(map, options) :: :ok | {:error, Error.t()}
    def unquote(fun)(object, opts \\ []),
      do: wrap(apply(:linx_tc, unquote(fun), [object, opts]), unquote(fun), opts)

    defbang(unquote(fun)(object :: map, opts :: options \\ []) :: :ok)
  end

  defp wrap({:error, reason}, op, opts), do: {:error, Error.from_reason(reason, op, opts)}
  defp wrap(ok, _op, _opts), do: ok
end
