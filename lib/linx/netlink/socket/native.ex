defmodule Linx.Netlink.Socket.Native do
  @moduledoc """
  The native half of the NIF-based library's `Linx.Netlink.Socket`,
  served by the port program: code that called the NIFs runs unchanged.
  The Erlang module `:linx_native` does the work; its documentation lists
  every difference and the mapping to linx's own API (also in
  docs/nif-migration.md).

      {:ok, fd} = Linx.Netlink.Socket.Native.open_in_netns("/run/netns/blue", 0)
      :ok = Linx.Netlink.Socket.Native.bind_netlink(fd, 1)
      {:ok, socket} = :socket.open(fd, %{domain: 16, type: :raw, protocol: 0})

  Errors of `open_in_netns/2` are `{:error, {stage, errno_int}}`, `stage`
  one of `:open` (the namespace file), `:setns`, `:socket`, `:thread`
  (`:thread` cannot occur). A port program that does not answer is
  `{:error, {:port, reason}}`.

  ## Mapping to linx's own API

  | here | linx |
  |---|---|
  | `open_in_netns(netns_path, protocol)` | `Linx.Netlink.Socket.open_fd(protocol, in: {:path, netns_path})` (already bound) or `open/2` (an adopted `:socket`) |
  | `bind_netlink(fd, groups)` | `Linx.Netlink.Socket.open_fd(protocol, groups, opts)` binds at once |
  | `close_fd(fd)` | `Linx.Netlink.Socket.close_fd(fd)` (reports errors) |
  """

  @doc """
  A netlink socket of `protocol` (the number given to `socket(2)`) made
  inside the network namespace of the file `netns_path`, not bound:
  `{:ok, fd}`, a raw descriptor of this node that now belongs to the caller.
  """
  @spec open_in_netns(binary, integer) :: {:ok, non_neg_integer} | {:error, {atom, term}}
  defdelegate open_in_netns(netns_path, protocol), to: :linx_native

  @doc """
  Binds the caller's descriptor `fd` with `nl_pid = 0` and the multicast
  group mask `groups`: `:ok` or `{:error, errno_int}`. The port program
  takes a copy of the descriptor with `pidfd_getfd(2)`, binds it and
  closes its copy; the descriptor stays the caller's.
  """
  @spec bind_netlink(non_neg_integer, non_neg_integer) :: :ok | {:error, integer | {atom, term}}
  defdelegate bind_netlink(fd, groups), to: :linx_native

  @doc "Closes the descriptor `fd`; `:ok`, always."
  @spec close_fd(term) :: :ok
  defdelegate close_fd(fd), to: :linx_native
end
