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

  `:in`, `:timeout` and `:via`, as in `Linx.Rtnl`; `request/5` and
  `dump/5` also take `:flags` (netlink flags to add). Any other option is
  refused (`errno: :bad_option`). A dump is `dump/5`, not an option:
  `dump:` among the options is refused too. A family name is 1 to 15
  bytes without NUL (`errno: :bad_family`).

  ## Errors

  `{:error, %Linx.Netlink.Error{}}`, with `op: :genl_family`,
  `:genl_families`, `:genl_request` or `:genl_dump` and `protocol:
  :generic`: `stage: :netlink` and the errno when the kernel refused
  (`errno: :enoent` for a family it does not have), `stage: :badarg` with
  `:bad_family`, `:bad_command`, `:bad_option` (a bad `flags:`, or
  `dump:`) or `:bad_attrs` (an integer too large for its kind included)
  before anything is sent, `stage: :parse` for a reply that does not
  decode, and the stages every linx call shares. The bang functions
  (`family!/2`, `families!/1`, `request!/5`, `dump!/5`) raise it.

      iex> {:error, %Linx.Netlink.Error{stage: :netlink, errno: :enoent} = e} =
      ...>   Linx.Genl.family("linx-none")
      iex> Exception.message(e)
      "linx_genl:family: netlink genl failed: enoent (errno 2)"
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
  `family_id`, and returns the replies (`dump/5` for a dump); `flags:`
  adds netlink flags (such as `NLM_F_CREATE`).
  """
  @spec request(0..0xFFFF, 0..255, 0..255, list, options) ::
          {:ok, [reply]} | {:error, Error.t()}
  def request(family_id, cmd, version, attrs, opts \\ []),
    do: wrap(:linx_genl.request(family_id, cmd, version, attrs, opts), :genl_request, opts)

  @doc """
  Like `request/5`, as a dump (`NLM_F_DUMP`): every reply of the
  kernel's dump, in order.

      iex> {:ok, %{id: id}} = Linx.Genl.family("nlctrl")
      iex> {:ok, replies} = Linx.Genl.dump(id, 3, 1, [])
      iex> Enum.all?(replies, &(&1.cmd == 1))
      true
  """
  @spec dump(0..0xFFFF, 0..255, 0..255, list, options) ::
          {:ok, [reply]} | {:error, Error.t()}
  def dump(family_id, cmd, version, attrs, opts \\ []),
    do: wrap(:linx_genl.dump(family_id, cmd, version, attrs, opts), :genl_dump, opts)

  # request!/5 and dump!/5: the arguments of request/5, which dump/5 shares.
  for fun <- [:request, :dump] do
    defbang(
      unquote(fun)(
        family_id :: 0..0xFFFF,
        cmd :: 0..255,
        version :: 0..255,
        attrs :: list,
        opts :: options \\ []
      ) :: [reply]
    )
  end

  defp wrap({:error, reason}, op, opts),
    do: {:error, Error.from_reason(reason, op, :generic, opts)}

  defp wrap(ok, _op, _opts), do: ok
end
