defmodule Linx.NftTest do
  # Linx.Nft against a real network namespace, with `nft` as the oracle:
  # a rule made by Linx.Nft is listed by nft; a batch the kernel refuses
  # leaves the ruleset as it was, its error naming the op; the bang
  # functions return the value or raise Linx.Nft.Error.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Nft
  alias Linx.Nft.Error

  doctest Linx.Nft.Error

  @moduletag :netns

  setup do
    ns = netns!("nft")
    {:ok, ns: ns, opts: [in: {:netns, ns}]}
  end

  defp ops do
    [
      {:add, :table, %{family: :inet, name: "f"}},
      {:add, :chain,
       %{
         family: :inet,
         table: "f",
         name: "in",
         type: :filter,
         hook: :input,
         priority: 0,
         policy: :accept
       }},
      {:add, :rule,
       %{
         family: :inet,
         table: "f",
         chain: "in",
         comment: "no pings",
         expressions: [
           {:meta, %{key: :l4proto, dreg: 1}},
           {:cmp, %{sreg: 1, op: :eq, data: %{value: <<1>>}}},
           {:immediate, %{dreg: 0, data: %{verdict: %{code: :drop}}}}
         ]
       }}
    ]
  end

  defp nft!(ns), do: cmd!("ip", ["netns", "exec", ns, "nft", "list", "ruleset"])

  test "a rule made by Linx.Nft is nft's rule", %{ns: ns, opts: opts} do
    assert :ok = Nft.apply(ops(), opts)
    assert nft!(ns) =~ ~s|meta l4proto icmp drop comment "no pings"|
    assert %{rules: [%{comment: "no pings", handle: handle}]} = Nft.ruleset!(opts)
    assert :ok = Nft.rule_del!(%{family: :inet, table: "f", chain: "in", handle: handle}, opts)
    assert Nft.rules!(opts) == []
    assert :ok = Nft.flush_ruleset!(opts)
    assert Nft.tables!(opts) == []
  end

  test "a rule written as nft's text is nft's rule", %{ns: ns, opts: opts} do
    text = ~s|ip saddr 10.0.0.0/8 tcp dport 22 ct state new counter accept|
    rule = %{family: :inet, table: "f", chain: "in", expressions: text}
    assert :ok = Nft.apply(Enum.take(ops(), 2) ++ [{:add, :rule, rule}], opts)

    assert nft!(ns) =~
             ~r/ip saddr 10.0.0.0\/8 tcp dport 22 ct state new counter packets 0 bytes 0 accept/

    assert {:error,
            %Error{errno: :bad_op, reason: %{reason: {:bad_op, %{field: {:text, 3, :port}}}}}} =
             Nft.apply(
               [{:add, :rule, %{rule | expressions: "tcp dport { 22, 80 } accept"}}],
               opts
             )
  end

  test "a refused batch changes nothing and names its op", %{ns: ns, opts: opts} do
    assert :ok = Nft.apply(ops(), opts)
    before = nft!(ns)
    bad = {:add, :rule, %{family: :inet, table: "f", chain: "nope", expressions: []}}

    assert {:error,
            %Error{op: :apply, stage: :netlink, errno: :enoent, index: 2, failed_op: ^bad}} =
             Nft.apply([{:add, :table, %{family: :inet, name: "g"}}, bad], opts)

    assert nft!(ns) == before
    e = assert_raise Error, fn -> Nft.apply!([bad], opts) end
    assert Exception.message(e) =~ "linx_nft:apply: nf_tables op 1"
  end
end
