defmodule Linx.Rtnl.Error do
  @moduledoc """
  A failed `Linx.Rtnl` call, as an exception.
  See docs/elixir.md.

  `Linx.Rtnl` functions return `{:error, %Linx.Rtnl.Error{}}`; the bang
  functions raise it. `Exception.message/1` is the line
  `:linx.format_error/1` gives for the same error:

      iex> {:error, error} = Linx.Rtnl.link_add(%{ifname: "no/slash", kind: :veth})
      iex> {error.op, error.stage, error.errno}
      {:link_add, :badarg, :bad_ifname}
      iex> Exception.message(error)
      ~s|linx_rtnl:link_add: invalid interface name (1 to 15 bytes, no '/', ':', NUL or white space): <<"no/slash">>|

  A refusal by the kernel keeps the kernel's extended-ack text, when it
  sent one, in `:ext_ack` (and at the end of the message):

      {:error, %Linx.Rtnl.Error{stage: :netlink, errno: :eexist, code: 17} = e} =
        Linx.Rtnl.addr_add("v0", {{10, 0, 0, 1}, 24}, in: {:netns, "blue"})
      Exception.message(e)
      #=> netlink addr_add in netns "blue" failed: eexist (errno 17): ipv4: Address already assigned

  ## Fields

    * `:op` - the function that failed: `:links`, `:link`, `:link_add`,
      `:link_set`, `:link_del`, `:addrs`, `:addr_add`, `:addr_del`,
      `:routes`, `:route_add`, `:route_del`, `:neighs`, `:neigh_add`,
      `:neigh_del`, `:fdb`, `:fdb_add`, `:fdb_del`, `:rules`, `:rule_add`,
      `:rule_del`, `:nexthops`, `:nexthop_add`, `:nexthop_replace`,
      `:nexthop_del`, `:subscribe` or `:batch` (an op of a batch that
      failed on its own has the op's name).
    * `:stage`, `:errno`, `:code` - where and why, as in `Linx.Sysctl.Error`
      (same table), plus:
      * `:netlink` - the kernel answered the request with an error:
        `:errno` is the errno atom (`:eexist`, `:enodev`, `:einval`, ...);
      * `:badarg` - refused before anything was sent: `:bad_ifname`,
        `:bad_link`, `:bad_address`, `:bad_prefix`, `:bad_addr` (an
        address's label, broadcast, scope or flags), `:bad_route`,
        `:bad_neigh`, `:bad_fdb`, `:bad_rule`, `:bad_nexthop`, `:bad_spec`, `:bad_change`, `:bad_netns`,
        `:bad_groups`, `:bad_option` (a bad option, or an operation's
        own argument given as one, such as `scope:` or `flags:` for
        `addr_add/3`), `:bad_in`, `:bad_via`, and for `batch/2`
        `:bad_op` and `:bad_batch`;
      * `:ifindex` with `:enodev` - an op of a batch named a link that
        was not there when it was sent;
      * `:parse` with `:malformed` - a reply that does not decode;
      * a stage of the port program (`:open_ns`, `:setns`, `:socket`,
        `:busy`, ...) when the request could not be sent in the target
        (`:open_ns` and `:enoent` for a netns that does not exist; when
        it is a veth peer's or a moved link's, `:reason`'s `ns_fd` names
        it and the message says whose), and
        `:call` (`:timeout`, `:not_running`, ...) as everywhere.
    * `:ext_ack` - the kernel's extended-ack text (`NLMSGERR_ATTR_MSG`),
      `nil` when it sent none.
    * `:in` - the target of the call (`:self` by default).
    * `:reason` - the error term of `:linx_rtnl`, unchanged.
  """

  @type op ::
          :links
          | :link
          | :link_add
          | :link_set
          | :link_del
          | :addrs
          | :addr_add
          | :addr_del
          | :routes
          | :route_add
          | :route_del
          | :neighs
          | :neigh_add
          | :neigh_del
          | :nexthops
          | :nexthop_add
          | :nexthop_replace
          | :nexthop_del
          | :subscribe
          | :batch

  use Linx.Error, op: op, fields: [ext_ack: String.t() | nil, in: Linx.Rtnl.target()]

  @doc """
  The exception for an error term of `:linx_rtnl`, returned by `op` with
  options `opts`.

      iex> e = Linx.Rtnl.Error.from_reason(:timeout, :links, in: {:netns, "blue"})
      iex> {e.stage, e.errno, e.in}
      {:call, :timeout, {:netns, "blue"}}
      iex> Exception.message(e)
      "linx port request timed out"
  """
  @spec from_reason(term, op, keyword | map) :: t
  def from_reason(reason, op, opts) do
    build(reason, op, ext_ack: Linx.Reason.ext_ack(reason), in: Linx.Reason.target(reason, opts))
  end
end
