defmodule Linx.TcTest do
  # Linx.Tc against a real network namespace, with `tc` as the oracle:
  # a qdisc, class and filter made by Linx.Tc are tc's; a kind the
  # kernel lacks is its error; the bang functions return the value or
  # raise Linx.Tc.Error.
  use ExUnit.Case, async: true

  import Linx.TestNs

  alias Linx.Tc
  alias Linx.Tc.Error

  doctest Linx.Tc.Error

  @moduletag :netns

  setup do
    ns = netns!("tc")
    cmd!("ip", ["-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"])
    {:ok, ns: ns, opts: [in: {:netns, ns}]}
  end

  defp tc!(ns, args), do: cmd!("ip", ["netns", "exec", ns, "tc" | args])

  test "an htb qdisc, class and u32 filter made by Linx.Tc are tc's", %{ns: ns, opts: opts} do
    assert :ok =
             Tc.qdisc_add(
               %{link: "va", handle: {1, 0}, kind: :htb, options: %{default: 0x10}},
               opts
             )

    assert :ok =
             Tc.class_add!(
               %{
                 link: "va",
                 parent: "1:",
                 handle: "1:10",
                 kind: :htb,
                 options: %{rate: 8_000_000}
               },
               opts
             )

    assert :ok =
             Tc.filter_add!(
               %{
                 link: "va",
                 parent: {1, 0},
                 prio: 1,
                 protocol: :ip,
                 kind: :u32,
                 options: %{match: [{:dst, {10, 0, 0, 2}, 32}], classid: {1, 0x10}}
               },
               opts
             )

    assert tc!(ns, ["qdisc", "show", "dev", "va"]) =~ "qdisc htb 1: root"
    assert tc!(ns, ["class", "show", "dev", "va"]) =~ "class htb 1:10 root prio 0 rate 8Mbit"
    assert tc!(ns, ["filter", "show", "dev", "va"]) =~ "flowid 1:10"

    assert [%{kind: "htb", options: %{rate: 8_000_000}}] = Tc.classes!("va", opts)
    assert [%{kind: "htb", handle: {1, 0}}] = Tc.qdiscs!(%{link: "va"}, opts)
    assert :ok = Tc.qdisc_del!(%{link: "va", parent: :root}, opts)
    assert [] = Tc.classes!("va", opts)
  end

  test "a kind the kernel lacks is its error, raised by the bang", %{opts: opts} do
    netem = %{link: "va", kind: :netem, options: %{delay: 10_000}}

    case Tc.qdisc_add(netem, opts) do
      :ok ->
        # a kernel with netem: it took the request
        assert [%{kind: "netem", options: %{delay: 10_000}}] =
                 Enum.filter(Tc.qdiscs!(%{link: "va"}, opts), &(&1.kind == "netem"))

      {:error, %Error{stage: :netlink, errno: :enoent, op: :qdisc_add} = error} ->
        assert_raise Error, Exception.message(error), fn -> Tc.qdisc_add!(netem, opts) end
    end
  end
end
