defmodule Linx.Netlink.Socket do
  @moduledoc """
  Netlink sockets created inside a namespace.
  See docs/elixir.md.

  The port program creates the socket in the target's network namespace
  and passes its descriptor to this node, which adopts it as a `:socket`
  socket owned by the caller. From then on it is an ordinary socket of
  this node: use `:socket.send/2`, `:socket.recv/3`, `:socket.close/1` and
  the rest of OTP's `:socket` module on it. It is closed when the caller
  closes it or exits. This module is the Elixir face of `:linx_netlink`.

      # rtnetlink in netns "blue", subscribed to link events (RTNLGRP_LINK):
      {:ok, socket} = Linx.Netlink.Socket.open(:route, [1], in: {:netns, "blue"})
      {:ok, notification} = :socket.recv(socket, 0, 5000)
      :ok = :socket.close(socket)

      # A raw descriptor, for code that passes it on:
      {:ok, fd} = Linx.Netlink.Socket.open_fd(:route, in: {:pid, 4242})
      :ok = Linx.Netlink.Socket.close_fd(fd)

  ## Protocols

  An atom from `linux/netlink.h` (`:route`, `:generic`, `:sock_diag`,
  `:netfilter`, `:audit`, `:kobject_uevent`, ...; the full list is in
  `:linx_netlink`) or a number from 0 to 31.

  ## Groups

  The multicast groups a socket joins are the argument of `open/3` and
  `open_fd/3` before the options: a list of group numbers from 1
  (`RTNLGRP_*` style) or a bit mask below 2^32 (`RTMGRP_*` style); `0` or
  `[]` for none, what `open/1,2` and `open_fd/1,2` join. Groups above 32
  are joined once the socket is here, so `open_fd/3` refuses them
  (`errno: :bad_groups`). `add_membership/2` joins one more later.

  ## Options

    * `:in` - where the socket is created; the targets of `Linx.Sysctl`
      (`:self` by default, `{:netns, name}`, `{:pid, os_pid}`,
      `{:path, ns_path}`, `{:ns, [ns_path]}`).
    * `:rcvbuf` - `SO_RCVBUF` in bytes (`open/1,2,3`; `open_fd/1,2,3` refuse it).
    * `:timeout` - milliseconds to wait for the port program (default
      5000) or `:infinity`.
    * `:via` - `:local` (default) or a linx C-node on this host.

  Options may be a map too. Any other option is refused (`errno:
  :bad_option`); so are the groups: `groups:` among the options.

  ## Errors

  `{:error, %Linx.Netlink.Error{}}`, with the same stages as
  `Linx.Sysctl.Error`. The bang functions (`open!/3`, `open_fd!/3`,
  `close_fd!/1`, `add_membership!/2`, `drop_membership!/2`) raise it.
  """

  use Linx.Bang, raises: Linx.Netlink.Error

  alias Linx.Netlink.Error

  @typedoc "A netlink protocol: `:route`, `:generic`, ... or 0..31."
  @type protocol :: atom | 0..31

  @typedoc """
  Multicast groups to join: a list of group numbers from 1 or a bit mask
  below 2^32; see the module documentation.
  """
  @type groups :: 0..0xFFFFFFFF | [pos_integer]

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option ::
          {:in, Linx.Sysctl.target()}
          | {:rcvbuf, pos_integer}
          | {:timeout, timeout}
          | {:via, :local | node}
  @type options :: [option] | map

  @doc """
  Like `open/3`, with no group.

      iex> {:ok, socket} = Linx.Netlink.Socket.open(:route)
      iex> {:ok, %{family: 16}} = :socket.sockname(socket)
      iex> :socket.close(socket)
      :ok
  """
  @spec open(protocol, options) :: {:ok, :socket.socket()} | {:error, Error.t()}
  def open(protocol, opts \\ []) do
    wrap(:linx_netlink.open(protocol, opts), :netlink_open, protocol, opts)
  end

  defbang(open(protocol :: protocol, opts :: options \\ []) :: :socket.socket())

  @doc """
  Opens a netlink socket of `protocol` inside the target namespace, a
  member of the multicast groups `groups`. The socket is bound (port id
  chosen by the kernel, with the groups asked for), has `NETLINK_EXT_ACK`
  set and is owned by the caller.

      iex> {:ok, socket} = Linx.Netlink.Socket.open(:route, [1], [])
      iex> :socket.close(socket)
      :ok
  """
  @spec open(protocol, groups, options) :: {:ok, :socket.socket()} | {:error, Error.t()}
  def open(protocol, groups, opts) do
    wrap(:linx_netlink.open(protocol, groups, opts), :netlink_open, protocol, opts)
  end

  defbang(open(protocol :: protocol, groups :: groups, opts :: options) :: :socket.socket())

  @doc """
  Like `open_fd/3`, with no group.
  """
  @spec open_fd(protocol, options) :: {:ok, non_neg_integer} | {:error, Error.t()}
  def open_fd(protocol, opts \\ []) do
    wrap(:linx_netlink.open_fd(protocol, opts), :netlink_open, protocol, opts)
  end

  defbang(open_fd(protocol :: protocol, opts :: options \\ []) :: non_neg_integer)

  @doc """
  Like `open/3`, but returns the descriptor number in this node instead
  of a socket. The descriptor is the caller's to close, with `close_fd/1`
  (or by adopting it with `:socket.open/2`). Groups above 32 and
  `rcvbuf:` need the socket in this node: they are refused (`errno:
  :bad_groups`, `errno: :bad_option`).
  """
  @spec open_fd(protocol, groups, options) :: {:ok, non_neg_integer} | {:error, Error.t()}
  def open_fd(protocol, groups, opts) do
    wrap(:linx_netlink.open_fd(protocol, groups, opts), :netlink_open, protocol, opts)
  end

  defbang(open_fd(protocol :: protocol, groups :: groups, opts :: options) :: non_neg_integer)

  @doc """
  Closes a socket descriptor of this node, such as one `open_fd/3`
  returned. A descriptor that is not open is an error with errno `:ebadf`,
  one that is not a socket `:enotsock` (it is left open). Never give it
  the descriptor of a socket something else still uses.
  """
  @spec close_fd(non_neg_integer) :: :ok | {:error, Error.t()}
  def close_fd(fd), do: wrap(:linx_netlink.close_fd(fd), :close_fd, nil, [])

  defbang(close_fd(fd :: non_neg_integer) :: :ok)

  @doc """
  Joins netlink multicast group `group` (a group number from 1,
  `NETLINK_ADD_MEMBERSHIP`) on a socket from `open/3`. The name is the
  one of the library this module replaces; `:linx_netlink` calls it
  `membership_add/2`.
  """
  @spec add_membership(:socket.socket(), pos_integer) :: :ok | {:error, Error.t()}
  def add_membership(socket, group),
    do: membership(:linx_netlink.membership_add(socket, group), :add_membership)

  defbang(add_membership(socket :: :socket.socket(), group :: pos_integer) :: :ok)

  @doc """
  Leaves netlink multicast group `group` (`NETLINK_DROP_MEMBERSHIP`).
  Messages already queued stay queued. `:linx_netlink` calls it
  `membership_del/2`.
  """
  @spec drop_membership(:socket.socket(), pos_integer) :: :ok | {:error, Error.t()}
  def drop_membership(socket, group),
    do: membership(:linx_netlink.membership_del(socket, group), :drop_membership)

  defbang(drop_membership(socket :: :socket.socket(), group :: pos_integer) :: :ok)

  # A setsockopt error of this node comes bare (an errno atom or a term).
  defp membership({:error, reason}, op) do
    case Error.from_reason(reason, op, nil, []) do
      %Error{stage: :badarg} = error -> {:error, error}
      error -> {:error, %Error{error | stage: :setsockopt}}
    end
  end

  defp membership(ok, _op), do: ok

  defp wrap({:error, reason}, op, protocol, opts),
    do: {:error, Error.from_reason(reason, op, protocol, opts)}

  defp wrap(ok, _op, _protocol, _opts), do: ok
end
