defmodule Linx.Bang do
  @moduledoc false
  # The bang variants of the Elixir API, written as their spec:
  #
  #     use Linx.Bang, raises: Linx.Rtnl.Error
  #
  #     defbang(link(ref :: link_ref, opts :: options \\ []) :: link)
  #     defbang(link_del(ref :: link_ref, opts :: options \\ []) :: :ok)
  #
  # defines `link!/1,2` and `link_del!/1,2`, with the arguments (and
  # defaults) given, a @spec from the argument types and the return type,
  # and a @doc, unless an @doc was set just before. Each calls the function
  # without the `!` and returns the value of `{:ok, value}` (`:ok` for a
  # return type `:ok`), or raises the exception of `{:error, exception}`.
  #
  # Functions of the same arguments share one defbang: as with `def`, the
  # name may be unquoted in a `for`:
  #
  #     for fun <- [:request, :dump] do
  #       defbang(unquote(fun)(id :: integer, opts :: options \\ []) :: [reply])
  #     end

  defmacro __using__(opts) do
    raises = Keyword.fetch!(opts, :raises)

    quote do
      import Linx.Bang, only: [defbang: 1]
      @linx_bang_raises unquote(raises)
    end
  end

  @doc false
  defmacro defbang({:"::", _, [{name, _, args}, return]})
           when is_atom(name) or (is_tuple(name) and elem(name, 0) == :unquote) do
    args = if is_list(args), do: args, else: []
    {name_value, bang} = bang_name(name)
    {head, vars, types} = split_args(args)
    arity = length(args)

    success =
      if return == :ok,
        do: quote(do: (:ok -> :ok)),
        else: quote(do: ({:ok, value} -> value))

    clauses = success ++ quote(do: ({:error, exception} -> raise exception))

    quote do
      if Module.get_attribute(__MODULE__, :doc) == nil do
        @doc Linx.Bang.doc(
               unquote(name_value),
               unquote(arity),
               unquote(return == :ok),
               @linx_bang_raises
             )
      end

      @spec unquote(bang)(unquote_splicing(types)) :: unquote(return)
      def unquote(bang)(unquote_splicing(head)) do
        case unquote(name)(unquote_splicing(vars)) do
          unquote(clauses)
        end
      end
    end
  end

  defmacro defbang(other) do
    raise ArgumentError,
          "defbang expects name(arg :: type, ...) :: return_type, got: #{Macro.to_string(other)}"
  end

  # The name's value in the module body, and the bang's name for `def`
  # and `@spec`: atoms, or for an unquoted name (in a `for`) expressions
  # they unquote, as they do `def unquote(name)(...)`.
  defp bang_name(name) when is_atom(name), do: {name, :"#{name}!"}

  defp bang_name({:unquote, _, [expr]}),
    do: {expr, {:unquote, [], [quote(do: :"#{unquote(expr)}!")]}}

  # `arg :: type` and `arg :: type \\ default`: the def's head, the
  # variables of the call, the types of the @spec.
  defp split_args(args) do
    args
    |> Enum.map(fn
      {:\\, _, [{:"::", _, [var, type]}, default]} -> {{:\\, [], [var, default]}, var, type}
      {:"::", _, [var, type]} -> {var, var, type}
      other -> raise ArgumentError, "defbang: #{Macro.to_string(other)} has no type"
    end)
    |> unzip3()
  end

  defp unzip3(triples) do
    {Enum.map(triples, &elem(&1, 0)), Enum.map(triples, &elem(&1, 1)),
     Enum.map(triples, &elem(&1, 2))}
  end

  @doc false
  # The @doc of a bang function.
  @spec doc(atom, arity, boolean, module) :: String.t()
  def doc(name, arity, ok?, raises) do
    if ok? do
      "Like `#{name}/#{arity}`, but raises `#{inspect(raises)}` on failure."
    else
      "Like `#{name}/#{arity}`, but returns the value itself and raises " <>
        "`#{inspect(raises)}` on failure."
    end
  end
end
