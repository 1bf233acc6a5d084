defmodule Linx.Nft do
  @moduledoc """
  nf_tables as maps: the tables, chains and rules of any network
  namespace, changed in one transaction. The Elixir face of `:linx_nft`.
  See docs/nftables.md.

      blue = [in: {:netns, "blue"}]

      :ok =
        Linx.Nft.apply(
          [
            {:add, :table, %{family: :inet, name: "f"}},
            {:add, :chain,
             %{family: :inet, table: "f", name: "in", type: :filter, hook: :input,
               priority: 0, policy: :accept}},
            {:add, :rule,
             %{family: :inet, table: "f", chain: "in", comment: "no pings",
               expressions: [
                 {:meta, %{key: :l4proto, dreg: 1}},
                 {:cmp, %{sreg: 1, op: :eq, data: %{value: <<1>>}}},
                 {:counter, %{}},
                 {:immediate, %{dreg: 0, data: %{verdict: %{code: :drop}}}}
               ]}}
          ],
          blue
        )

      {:ok, %{tables: _, chains: _, rules: [%{comment: "no pings"}]}} = Linx.Nft.ruleset(blue)

  The maps, ops and expressions are those of `:linx_nft` (atom keys,
  names as binaries), which docs/nftables.md lists.

  ## Options

  `:in`, `:timeout` and `:via`, as in `Linx.Rtnl`, as a keyword list or
  a map (and for `subscribe/2` `:rcvbuf`, `:list_existing`, `:resync`);
  any other option is refused (`errno: :bad_option`).

  ## Errors

  `{:error, %Linx.Nft.Error{}}`: `stage: :netlink` with the errno when
  the kernel refused an op, which undoes the whole batch (`:index` and
  `:failed_op` name the op), `stage: :badarg` for arguments refused
  before anything was sent, and the stages every linx call shares. Each
  function has a bang variant that raises it.
  """

  use Linx.Bang, raises: Linx.Nft.Error

  import Kernel, except: [apply: 2]

  alias Linx.Nft.Error

  @typedoc "An op of `apply/2`: `{:add, :table, map}`, `{:delete, :rule, map}`, `:flush_ruleset`, ..."
  @type op :: :linx_nft.op()

  @typedoc "A table, chain or rule, as a map with `:family`."
  @type object :: :linx_nft.object()

  @typedoc "Every table, chain, set and rule."
  @type ruleset :: %{tables: [object], chains: [object], sets: [object], rules: [object]}

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option ::
          {:in, Linx.Rtnl.target()}
          | {:timeout, timeout}
          | {:via, :local | node}
          | {:rcvbuf, pos_integer}
          | {:list_existing, boolean}
          | {:resync, boolean}
  @type options :: [option] | map

  @doc "Applies `ops` in order as one transaction: all of them, or none."
  @spec apply([op], options) :: :ok | {:error, Error.t()}
  def apply(ops, opts \\ []), do: wrap(:linx_nft.apply(ops, opts), :apply, opts)

  defbang(apply(ops :: [op], opts :: options \\ []) :: :ok)

  @doc "Makes the table `table` again, empty, then applies `ops`: one transaction."
  @spec replace(map, [op], options) :: :ok | {:error, Error.t()}
  def replace(table, ops, opts \\ []),
    do: wrap(:linx_nft.replace(table, ops, opts), :replace, opts)

  defbang(replace(table :: map, ops :: [op], opts :: options \\ []) :: :ok)

  @doc "Deletes every table of every family."
  @spec flush_ruleset(options) :: :ok | {:error, Error.t()}
  def flush_ruleset(opts \\ []), do: wrap(:linx_nft.flush_ruleset(opts), :flush_ruleset, opts)

  defbang(flush_ruleset(opts :: options \\ []) :: :ok)

  @doc "Every table, chain, set (with its elements) and rule, decoded."
  @spec ruleset(options) :: {:ok, ruleset} | {:error, Error.t()}
  def ruleset(opts \\ []), do: wrap(:linx_nft.ruleset(opts), :ruleset, opts)

  defbang(ruleset(opts :: options \\ []) :: ruleset)

  @doc "Every table."
  @spec tables(options) :: {:ok, [object]} | {:error, Error.t()}
  def tables(opts \\ []), do: wrap(:linx_nft.tables(opts), :tables, opts)

  @doc "Every chain."
  @spec chains(options) :: {:ok, [object]} | {:error, Error.t()}
  def chains(opts \\ []), do: wrap(:linx_nft.chains(opts), :chains, opts)

  @doc "Every set and map, with its elements."
  @spec sets(options) :: {:ok, [object]} | {:error, Error.t()}
  def sets(opts \\ []), do: wrap(:linx_nft.sets(opts), :sets, opts)

  @doc "Every rule, with its expressions."
  @spec rules(options) :: {:ok, [object]} | {:error, Error.t()}
  def rules(opts \\ []), do: wrap(:linx_nft.rules(opts), :rules, opts)

  for fun <- [:tables, :chains, :sets, :rules] do
    defbang(unquote(fun)(opts :: options \\ []) :: [object])
  end

  @doc "`apply([{:add, :table, table}], opts)`."
  @spec table_add(map, options) :: :ok | {:error, Error.t()}
  def table_add(table, opts \\ []), do: wrap(:linx_nft.table_add(table, opts), :table_add, opts)

  @doc "`apply([{:delete, :table, table}], opts)`."
  @spec table_del(map, options) :: :ok | {:error, Error.t()}
  def table_del(table, opts \\ []), do: wrap(:linx_nft.table_del(table, opts), :table_del, opts)

  @doc "`apply([{:add, :chain, chain}], opts)`."
  @spec chain_add(map, options) :: :ok | {:error, Error.t()}
  def chain_add(chain, opts \\ []), do: wrap(:linx_nft.chain_add(chain, opts), :chain_add, opts)

  @doc "`apply([{:delete, :chain, chain}], opts)`."
  @spec chain_del(map, options) :: :ok | {:error, Error.t()}
  def chain_del(chain, opts \\ []), do: wrap(:linx_nft.chain_del(chain, opts), :chain_del, opts)

  @doc "`apply([{:add, :rule, rule}], opts)`."
  @spec rule_add(map, options) :: :ok | {:error, Error.t()}
  def rule_add(rule, opts \\ []), do: wrap(:linx_nft.rule_add(rule, opts), :rule_add, opts)

  @doc "`apply([{:delete, :rule, rule}], opts)`: by `:family`, `:table`, `:chain`, `:handle`."
  @spec rule_del(map, options) :: :ok | {:error, Error.t()}
  def rule_del(rule, opts \\ []), do: wrap(:linx_nft.rule_del(rule, opts), :rule_del, opts)

  for fun <- [:table_add, :table_del, :chain_add, :chain_del, :rule_add, :rule_del] do
    defbang(unquote(fun)(object :: map, opts :: options \\ []) :: :ok)
  end

  @typedoc "What `subscribe/2` delivers, in `{:linx_nft, ref, event}` messages."
  @type event :: :linx_nft.event()

  @doc """
  Subscribes the caller to the nf_tables changes of the namespace, of
  the kinds `kinds` (`:all`, or a list of `:table`, `:chain`, `:rule`,
  `:set`, `:element`, `:gen`); options: those above and `:rcvbuf`,
  `:list_existing`, `:resync`. Each arrives as `{:linx_nft, ref, event}`:
  `{kind, :new | :del, map}` (the maps of the dumps), `{:gen, :new,
  %{id: id}}` after each transaction, `{:resync, objects}` (every table,
  chain, set and rule now: first with `list_existing: true`, and after
  the kernel dropped events) or `{:error, reason}`. It ends on
  `unsubscribe/1` or when the caller exits.

      {:ok, ref} = Linx.Nft.subscribe([:rule], in: {:netns, "blue"})
      receive do
        {:linx_nft, ^ref, {:rule, :new, %{chain: chain}}} -> chain
      end
  """
  @spec subscribe(:all | [atom], options) :: {:ok, reference} | {:error, Error.t()}
  def subscribe(kinds, opts \\ []), do: wrap(:linx_nft.subscribe(kinds, opts), :subscribe, opts)

  defbang(subscribe(kinds :: :all | [atom], opts :: options \\ []) :: reference)

  @doc """
  Ends a subscription of the calling process; events of `ref` still in
  its mailbox are removed. `:ok` also when it has ended already.
  """
  @spec unsubscribe(reference) :: :ok
  def unsubscribe(ref), do: :linx_nft.unsubscribe(ref)

  defp wrap({:error, reason}, op, opts), do: {:error, Error.from_reason(reason, op, opts)}
  defp wrap(ok, _op, _opts), do: ok
end
