defmodule LinxExample.Ip do
  @moduledoc "The `ip` command as the tests' oracle."

  @doc """
  The sorted names of the links `ip -n NETNS -o link` lists (lines such as
  `2: vb@va: <...> ...`): the oracle a dump is compared with.
  """
  @spec links(String.t()) :: [String.t()]
  def links(netns) do
    # stdout only: ip warns on stderr (e.g. about a peer netns another test
    # just deleted), and a warning is not a link.
    {out, 0} = System.cmd("ip", ["-n", netns, "-o", "link"])

    out
    |> String.split("\n", trim: true)
    |> Enum.map(fn line ->
      [_index, field | _] = String.split(line, " ", trim: true)
      field |> String.trim_trailing(":") |> String.split("@") |> hd()
    end)
    |> Enum.sort()
  end
end
