defmodule Linx.Genl do
  @moduledoc """
  Generic netlink: look families up by name, and send them requests, in
  any network namespace. The Elixir face of `:linx_genl`.
  See docs/elixir.md.

      iex> {:ok, %{id: 16, name: "nlctrl", ops: [_ | _]}} = Linx.Genl.family("nlctrl")
      iex> {:ok, families} = Linx.Genl.families()
      iex> Enum.any?(families, &(&1.name == "nlctrl"))
      true

  A family is a map: `:id` (what requests are sent to), `:name`,
  `:version`, `:hdrsize`, `:maxattr`, `:ops` (`[%{id: cmd, flags: f}]`,
  the commands it has), `:groups` (`[%{name: name, id: id}]`, its
  multicast groups) and `:unknown`.

  ## Options

  `:in`, `:timeout` and `:via`, as in `Linx.Rtnl`; `request/5` also
  takes `:dump` (a boolean) and `:flags` (netlink flags to add).

  ## Errors

  `{:error, %Linx.Netlink.Error{}}`, with `op: :genl_family`,
  `:genl_families` or `:genl_request` and `protocol: :generic`: `stage:
  :netlink` and the errno when the kernel refused (`errno: :enoent` for a
  family it does not have), `stage: :badarg` with `:bad_family`,
  `:bad_command`, `:bad_option` (`flags:`) or `:bad_attrs` (an integer
  too large for its kind included) before anything is sent, `stage:
  :parse` for a reply that
  does not decode, and the stages every linx call shares. The bang
  functions (`family!/2`, `families!/1`, `request!/5`) raise it.

      iex> {:error, %Linx.Netlink.Error{stage: :netlink, errno: :enoent} = e} =
      ...>   Linx.Genl.family("linx-none")
      iex> Exception.message(e)
      "netlink genl failed: enoent (errno 2)"
  """

  use Linx.Bang, raises: Linx.Netlink.Error

  alias Linx.Netlink.Error

  @typedoc "A generic netlink family, as `CTRL_CMD_NEWFAMILY` describes it."
  @type family :: :linx_genl.family()

  @typedoc "One reply: the generic netlink header (`:cmd`, `:version`) and the attributes."
  @type reply :: :linx_genl.reply()

  @typedoc "Keyword options (a map works too); see the module documentation."
  @type option ::
          {:in, Linx.Rtnl.target()}
          | {:timeout, timeout}
          | {:via, :local | node}
          | {:dump, boolean}
          | {:flags, non_neg_integer}
  @type options :: [option] | map

  @doc """
  Looks a family up by name (`CTRL_CMD_GETFAMILY`); `errno: :enoent`
  when the kernel has none of that name.
  """
  @spec family(String.t() | charlist, options) :: {:ok, family} | {:error, Error.t()}
  def family(name, opts \\ []),
    do: wrap(:linx_genl.family(name, opts), :genl_family, opts)

  defbang(family(name :: String.t() | charlist, opts :: options \\ []) :: family)

  @doc "Every generic netlink family of the namespace."
  @spec families(options) :: {:ok, [family]} | {:error, Error.t()}
  def families(opts \\ []), do: wrap(:linx_genl.families(opts), :genl_families, opts)

  defbang(families(opts :: options \\ []) :: [family])

  @doc """
  Sends command `cmd` (of version `version`) with attributes `attrs`
  (`{type, value}` pairs, see `:linx_nl`) to the family whose id is
  `family_id`, and returns the replies. With `dump: true` it is a dump
  (`NLM_F_DUMP`); `flags:` adds netlink flags.

      iex> {:ok, %{id: id}} = Linx.Genl.family("nlctrl")
      iex> {:ok, replies} = Linx.Genl.request(id, 3, 1, [], dump: true)
      iex> Enum.all?(replies, &(&1.cmd == 1))
      true
  """
  @spec request(0..0xFFFF, 0..255, 0..255, list, options) ::
          {:ok, [reply]} | {:error, Error.t()}
  def request(family_id, cmd, version, attrs, opts \\ []) do
    # :linx_genl.request/5 reads :dump and :flags from a map only.
    map = if Keyword.keyword?(opts), do: Map.new(Enum.reverse(opts)), else: opts
    wrap(:linx_genl.request(family_id, cmd, version, attrs, map), :genl_request, opts)
  end

  defbang(
    request(
      family_id :: 0..0xFFFF,
      cmd :: 0..255,
      version :: 0..255,
      attrs :: list,
      opts :: options \\ []
    ) :: [reply]
  )

  defp wrap({:error, reason}, op, opts),
    do: {:error, Error.from_reason(reason, op, :generic, opts)}

  defp wrap(ok, _op, _opts), do: ok
end
