defmodule Linx.Args do
  @moduledoc false
  # Arguments of the Elixir API that the Erlang API takes in another form.

  @doc false
  # A keyword list as the map the Erlang API takes (the first of a
  # repeated key wins, as with Keyword); anything else as it is, for the
  # Erlang API to refuse.
  @spec keyword_map(term) :: term
  def keyword_map(list) when is_list(list) do
    if Keyword.keyword?(list), do: Map.new(Enum.reverse(list)), else: list
  end

  def keyword_map(other), do: other
end
