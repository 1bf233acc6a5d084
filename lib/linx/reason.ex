defmodule Linx.Reason do
  @moduledoc false
  # How an error term of the Erlang API becomes the `stage`, `errno` and
  # `code` fields of Linx.Sysctl.Error, Linx.Netlink.Error, Linx.Rtnl.Error
  # and Linx.Netns.Error. The table is
  # in Linx.Sysctl.Error's moduledoc; this is the one place that applies it.

  # Refused before anything was sent: an argument or option.
  @badarg [
    :bad_key,
    :bad_value,
    :unsupported_type,
    :bad_settings,
    :bad_in,
    :bad_option,
    :bad_via,
    :bad_timeout,
    :bad_protocol,
    :bad_groups,
    :bad_group,
    :bad_rcvbuf,
    :bad_fd,
    # :linx_rtnl, :linx_genl, :linx_netns
    :bad_ifname,
    :bad_link,
    :bad_address,
    :bad_prefix,
    :bad_addr,
    :bad_route,
    :bad_neigh,
    :bad_fdb,
    :bad_rule,
    :bad_nexthop,
    :bad_filter,
    :bad_spec,
    :bad_change,
    :bad_netns,
    :bad_family,
    :bad_command,
    :bad_attrs,
    :bad_name,
    # :linx_rtnl.batch/2
    :bad_op,
    :bad_batch,
    # :linx_nft
    :bad_ops,
    # :linx_tc
    :bad_qdisc,
    :bad_class,
    :bad_parent,
    :bad_qdisc_filter,
    # :linx_nft.subscribe/2
    :bad_kinds
  ]

  # The call to the port program (or C-node) did not get an answer.
  @call [:timeout, :not_running, :port_exited, :nodedown, :unexpected_reply]

  @typep fields :: %{stage: atom, errno: atom | binary | nil, code: non_neg_integer}

  @doc false
  @spec fields(term) :: fields
  def fields(%{stage: stage, errno: errno} = map),
    do: %{stage: stage, errno: errno, code: Map.get(map, :code, 0)}

  # A reason of no map of its own, owned by the Erlang function that
  # returned it (`:linx_error.owned/3`).
  def fields(%{module: _, function: _, reason: _} = owned) when map_size(owned) == 3,
    do: fields(bare(owned))

  def fields(%{failed: _, reason: reason}), do: fields(reason)

  # An atomic batch of :linx_rtnl that failed: its failed op's error.
  def fields(%{reason: :batch_failed, error: error}), do: fields(error)
  def fields({:bad_op, _op, _why}), do: %{stage: :badarg, errno: :bad_op, code: 0}
  def fields(tag) when tag in @call, do: %{stage: :call, errno: tag, code: 0}
  def fields({tag, _}) when tag in @call, do: %{stage: :call, errno: tag, code: 0}
  def fields({_op, :remote}), do: %{stage: :call, errno: :remote, code: 0}
  def fields({tag, _}) when tag in @badarg, do: %{stage: :badarg, errno: tag, code: 0}
  def fields({:not_integer, _}), do: %{stage: :parse, errno: :not_integer, code: 0}
  # A netlink reply that does not decode (`:linx_nl`).
  def fields({:malformed, _}), do: %{stage: :parse, errno: :malformed, code: 0}

  # A raw {Stage, Errno} of the port program, or an errno of this node
  # (close_fd/1, socket options).
  def fields({stage, errno}) when is_atom(stage) and (is_atom(errno) or is_binary(errno)),
    do: %{stage: stage, errno: errno, code: :linx.errno_code(errno)}

  def fields(errno) when is_atom(errno),
    do: %{stage: :unknown, errno: errno, code: :linx.errno_code(errno)}

  def fields(_other), do: %{stage: :unknown, errno: nil, code: 0}

  @doc false
  # A reason without the owner the Erlang function added to it: the
  # reason an owned error holds, any other term as it is.
  @spec bare(term) :: term
  def bare(%{module: _, function: _, reason: reason} = owned) when map_size(owned) == 3,
    do: reason

  def bare(reason), do: reason

  @doc false
  # The kernel's extended-ack text of a netlink error (`:linx_nl`), if any.
  @spec ext_ack(term) :: String.t() | nil
  def ext_ack(%{message: text}) when is_binary(text) and text != "", do: text
  def ext_ack(%{reason: :batch_failed, error: error}), do: ext_ack(error)
  def ext_ack(_reason), do: nil

  @doc false
  # The target of a call: the one the error term names, else the `:in`
  # option as given (`:self` by default).
  @spec target(term, keyword | map) :: term
  def target(%{in: target}, _opts), do: target
  def target(_reason, opts), do: opt(opts, :in, :self)

  @doc false
  # Keyword options or a map, as the Erlang API takes them (it accepts a
  # proplist, of which a keyword list is one; the first of a key wins);
  # `default` when `opts` has no such pair, and when it is not a list of
  # pairs (an improper list included), which the Erlang API then reports
  # itself. Never raises.
  @spec opt(term, atom, term) :: term
  def opt(opts, key, default) when is_map(opts), do: Map.get(opts, key, default)
  def opt([{key, value} | _], key, _default), do: value
  def opt([_ | rest], key, default), do: opt(rest, key, default)
  def opt(_opts, _key, default), do: default
end
