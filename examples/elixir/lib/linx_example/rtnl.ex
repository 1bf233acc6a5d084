defmodule LinxExample.Rtnl do
  @moduledoc """
  Just enough rtnetlink for `LinxExample.links/1`: an RTM_GETLINK dump
  request and a reader that collects the interface names of the replies,
  on a socket from `Linx.Netlink.Socket.open/2`.

  Netlink headers are in host byte order (`native`).
  """
  import Bitwise

  @nlmsg_hdrlen 16
  @ifinfomsg_len 16
  @nlmsg_error 2
  @nlmsg_done 3
  @rtm_newlink 16
  @rtm_getlink 18
  @nlm_f_request 0x001
  @nlm_f_dump 0x300
  @ifla_ifname 3

  @doc "An RTM_GETLINK dump request: nlmsghdr and a zeroed ifinfomsg."
  @spec getlink_request(non_neg_integer) :: binary
  def getlink_request(seq) do
    len = @nlmsg_hdrlen + @ifinfomsg_len
    flags = @nlm_f_request ||| @nlm_f_dump

    <<len::native-32, @rtm_getlink::native-16, flags::native-16, seq::native-32, 0::native-32,
      0::size(@ifinfomsg_len * 8)>>
  end

  @doc """
  Sends a link dump request on a route netlink socket and returns the
  sorted names of the links in the replies.
  """
  @spec dump_links(:socket.socket(), timeout) :: {:ok, [String.t()]} | {:error, term}
  def dump_links(socket, timeout \\ 5000) do
    # Dump datagrams can be larger than the socket module's default read size.
    :ok = :socket.setopt(socket, {:otp, :rcvbuf}, 65_536)
    seq = System.unique_integer([:positive]) &&& 0xFFFFFFFF

    with :ok <- :socket.send(socket, getlink_request(seq)) do
      collect(socket, seq, System.monotonic_time(:millisecond) + timeout, [])
    end
  end

  defp collect(socket, seq, deadline, acc) do
    remaining = max(deadline - System.monotonic_time(:millisecond), 0)

    with {:ok, data} <- :socket.recv(socket, 0, remaining) do
      case step(messages(data), seq, acc) do
        {:more, acc} -> collect(socket, seq, deadline, acc)
        {:done, names} -> {:ok, Enum.sort(names)}
        {:error, _} = error -> error
      end
    end
  end

  defp step([], _seq, acc), do: {:more, acc}
  defp step([{@nlmsg_done, seq, _} | _], seq, acc), do: {:done, acc}

  defp step([{@nlmsg_error, seq, <<errno::signed-native-32, _::binary>>} | _], seq, _acc),
    do: {:error, {:nlmsg_error, errno}}

  defp step([{@rtm_newlink, seq, payload} | rest], seq, acc) do
    case link_name(payload) do
      {:ok, name} -> step(rest, seq, [name | acc])
      :error -> step(rest, seq, acc)
    end
  end

  # A notification or a reply to something else.
  defp step([_other | rest], seq, acc), do: step(rest, seq, acc)

  @doc "Splits a datagram into `{type, seq, payload}` messages (each aligned to 4)."
  @spec messages(binary) :: [{non_neg_integer, non_neg_integer, binary}]
  def messages(
        <<len::native-32, type::native-16, _flags::native-16, seq::native-32, _pid::native-32,
          rest::binary>>
      )
      when len >= @nlmsg_hdrlen and len - @nlmsg_hdrlen <= byte_size(rest) do
    payload_len = len - @nlmsg_hdrlen
    <<payload::binary-size(payload_len), tail::binary>> = rest
    [{type, seq, payload} | messages(skip_pad(tail, len))]
  end

  def messages(_), do: []

  # The IFLA_IFNAME attribute of an RTM_NEWLINK payload (ifinfomsg, then attributes).
  defp link_name(<<_ifinfomsg::binary-size(@ifinfomsg_len), attrs::binary>>), do: ifname(attrs)
  defp link_name(_), do: :error

  defp ifname(<<len::native-16, type::native-16, rest::binary>>)
       when len >= 4 and len - 4 <= byte_size(rest) do
    value_len = len - 4
    <<value::binary-size(value_len), tail::binary>> = rest

    if (type &&& 0x3FFF) == @ifla_ifname do
      [name | _] = :binary.split(value, <<0>>)
      {:ok, name}
    else
      ifname(skip_pad(tail, len))
    end
  end

  defp ifname(_), do: :error

  defp skip_pad(bin, len) do
    pad = min((len + 3 &&& bnot(3)) - len, byte_size(bin))
    binary_part(bin, pad, byte_size(bin) - pad)
  end
end
