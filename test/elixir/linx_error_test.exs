defmodule Linx.ErrorTest do
  # The exceptions share one implementation (`use Linx.Error`); each
  # keeps its name, its fields in their order with their defaults, its
  # type, its message and its constructor.
  use ExUnit.Case, async: true

  # Each exception's fields as `defexception` had them, with defaults.
  @fields %{
    Linx.Sysctl.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      key: nil,
      path: nil,
      in: nil,
      code: 0,
      rolled_back: [],
      reason: nil
    ],
    Linx.Netlink.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      protocol: nil,
      in: nil,
      ext_ack: nil,
      code: 0,
      reason: nil
    ],
    Linx.Rtnl.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      ext_ack: nil,
      in: nil,
      code: 0,
      reason: nil
    ],
    Linx.Nft.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      index: nil,
      failed_op: nil,
      ext_ack: nil,
      in: nil,
      code: 0,
      reason: nil
    ],
    Linx.Tc.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      ext_ack: nil,
      in: nil,
      code: 0,
      reason: nil
    ],
    Linx.Netns.Error => [
      op: nil,
      stage: nil,
      errno: nil,
      name: nil,
      pid: nil,
      handle: nil,
      code: 0,
      reason: nil
    ]
  }

  test "the exceptions of lib/ are these six" do
    exceptions =
      for module <- Application.spec(:linx, :modules),
          match?("Elixir." <> _, Atom.to_string(module)),
          # function_exported?/3 does not load a module: one no test has
          # used yet would be left out.
          Code.ensure_loaded?(module),
          function_exported?(module, :__struct__, 0),
          Map.get(module.__struct__(), :__exception__) == true,
          do: module

    assert Enum.sort(exceptions) == Enum.sort(Map.keys(@fields))
  end

  for {module, fields} <- @fields do
    @module module
    @module_fields fields

    test "#{inspect(module)}: name, fields in order, defaults, enforced keys" do
      module = @module
      fields = @module_fields

      assert Atom.to_string(module) == "Elixir." <> inspect(module)

      assert Enum.map(module.__info__(:struct), & &1.field) == [
               :__exception__ | Keyword.keys(fields)
             ]

      assert for(%{field: field, required: true} <- module.__info__(:struct), do: field) ==
               [:stage, :reason]

      assert Map.drop(module.__struct__(), [:__struct__, :__exception__]) == Map.new(fields)
      assert %{__struct__: ^module, __exception__: true} = module.__struct__()

      assert_raise ArgumentError, ~r/the following keys must also be given/, fn ->
        struct!(module, op: :x)
      end
    end

    test "#{inspect(module)}: @type t has the struct's fields" do
      module = @module
      {:ok, types} = Code.Typespec.fetch_types(module)

      assert [{:type, _, :map, map_fields}] = for({:type, {:t, type, []}} <- types, do: type)

      type_fields = for {:type, _, :map_field_exact, [{:atom, _, f}, _]} <- map_fields, do: f
      struct_fields = module.__struct__() |> Map.keys()
      assert Enum.sort(type_fields) == Enum.sort(struct_fields)
    end

    test "#{inspect(module)}: message/1 is :linx.format_error/1 of :reason" do
      module = @module

      for reason <- [
            :timeout,
            {:port_exited, 1},
            {:bad_in, :host},
            %{stage: :open_ns, errno: :enoent, code: 2, in: {:netns, "blue"}}
          ] do
        error = struct!(module, stage: :any, reason: reason)
        assert Exception.message(error) == :linx.format_error(reason)
        assert module.message(error) == :linx.format_error(reason)
      end
    end
  end

  test "from_reason/N: the shared fields and each module's own" do
    e = Linx.Sysctl.Error.from_reason(:timeout, :read, "net/ipv4/ip_forward", in: {:netns, "a"})

    assert %Linx.Sysctl.Error{
             op: :read,
             stage: :call,
             errno: :timeout,
             code: 0,
             key: "net.ipv4.ip_forward",
             path: "/proc/sys/net/ipv4/ip_forward",
             in: {:netns, "a"},
             rolled_back: [],
             reason: :timeout
           } = e

    apply_error = %{
      failed: "net.core.somaxconn",
      reason: %{stage: :write, errno: :einval, code: 22, path: "/x", in: {:netns, "b"}},
      rolled_back: ["net.ipv4.ip_forward"]
    }

    assert %Linx.Sysctl.Error{
             op: :apply,
             stage: :write,
             errno: :einval,
             code: 22,
             key: "net.core.somaxconn",
             path: "/x",
             in: {:netns, "b"},
             rolled_back: ["net.ipv4.ip_forward"]
           } = Linx.Sysctl.Error.from_reason(apply_error, :apply, nil, [])

    netlink = %{stage: :netlink, errno: :eexist, code: 17, message: "taken", in: {:netns, "c"}}

    assert %Linx.Rtnl.Error{
             op: :link_add,
             stage: :netlink,
             errno: :eexist,
             code: 17,
             ext_ack: "taken",
             in: {:netns, "c"},
             reason: ^netlink
           } = Linx.Rtnl.Error.from_reason(netlink, :link_add, in: :self)

    assert %Linx.Rtnl.Error{in: {:pid, 1}, ext_ack: nil} =
             Linx.Rtnl.Error.from_reason(:timeout, :links, %{in: {:pid, 1}})

    assert %Linx.Netlink.Error{
             op: :netlink_open,
             stage: :badarg,
             errno: :bad_protocol,
             protocol: 99,
             in: {:netns, "d"},
             ext_ack: nil
           } =
             Linx.Netlink.Error.from_reason({:bad_protocol, 99}, :netlink_open, 99,
               in: {:netns, "d"}
             )

    # close_fd/1's own errno has stage :close.
    assert %Linx.Netlink.Error{op: :close_fd, stage: :close, errno: :ebadf, code: 9, in: :self} =
             Linx.Netlink.Error.from_reason(:ebadf, :close_fd, nil, [])

    assert %Linx.Netns.Error{
             op: :identify,
             stage: :badarg,
             errno: :bad_option,
             name: nil,
             pid: 0,
             handle: nil
           } = Linx.Netns.Error.from_reason({:bad_option, {:pid, 0}}, :identify, pid: 0)
  end
end
