defmodule Linx.TestBangSpecs do
  @moduledoc false
  # The check of Linx.BangTest, on the specs of a compiled module: every
  # function whose spec returns {:ok, t} or :ok or {:error, _} has a bang
  # variant of each of its arities, whose spec returns t (or :ok).

  # Functions that need no spec: the callbacks of an exception.
  @no_spec [__struct__: 0, __struct__: 1, exception: 1, message: 1]

  # What is missing or wrong in the bang functions of `module`, whose
  # specs are read from `source` (the module, or its object code).
  def problems(module, source \\ nil) do
    {:ok, specs} = Code.Typespec.fetch_specs(source || module)
    {:ok, types} = Code.Typespec.fetch_types(source || module)
    specs = Map.new(specs)
    exported = module.__info__(:functions)
    spec_names = for {{name, _}, _} <- specs, do: name

    no_spec =
      for {name, _arity} = fa <- exported,
          fa not in @no_spec and name not in spec_names,
          do: {:no_spec, module, fa}

    results =
      for {{name, arity}, clauses} <- specs,
          success = success(clauses, types),
          do: {name, arity, success}

    missing =
      for {name, _, _} <- results,
          {^name, arity} <- exported,
          bang = :"#{name}!",
          not function_exported?(module, bang, arity),
          do: {:missing, module, {bang, arity}}

    wrong_spec =
      for {name, arity, {args, return}} <- results,
          bang = {:"#{name}!", arity},
          function_exported?(module, elem(bang, 0), arity),
          Map.get(specs, bang, []) |> Enum.map(&signature/1) != [{args, return}],
          do: {:spec, module, bang}

    Enum.uniq(no_spec ++ missing ++ wrong_spec)
  end

  # The arguments and success type of a spec returning {:ok, t} or :ok or
  # {:error, _}: {args, t} or {args, :ok} (of its first such clause); nil
  # for any other spec.
  defp success(clauses, types), do: Enum.find_value(clauses, &clause_success(&1, types))

  defp clause_success({:type, _, :bounded_fun, [fun, _constraints]}, types),
    do: clause_success(fun, types)

  defp clause_success({:type, _, :fun, [{:type, _, :product, args}, return]}, types) do
    members = members(return, types)
    errors = Enum.filter(members, &match?({:type, _, :tuple, [{:atom, _, :error}, _]}, &1))

    case members -- errors do
      [{:atom, _, :ok}] when errors != [] -> {strip(args), {:atom, 0, :ok}}
      [{:type, _, :tuple, [{:atom, _, :ok}, t]}] when errors != [] -> {strip(args), strip(t)}
      _ -> nil
    end
  end

  defp clause_success(_clause, _types), do: nil

  defp signature({:type, _, :fun, [{:type, _, :product, args}, return]}),
    do: {strip(args), strip(return)}

  defp signature(other), do: other

  # The members of a union, through the module's own types.
  defp members({:type, _, :union, members}, types),
    do: Enum.flat_map(members, &members(&1, types))

  defp members({:ann_type, _, [_name, type]}, types), do: members(type, types)

  defp members({:user_type, _, name, params} = type, types) do
    case for(
           {kind, {^name, t, vars}} <- types,
           kind in [:type, :typep, :opaque],
           length(vars) == length(params),
           do: t
         ) do
      [t] -> members(t, types)
      _ -> [type]
    end
  end

  defp members(type, _types), do: [type]

  # A type without its annotations (lines) and argument names.
  defp strip({:ann_type, _, [_name, type]}), do: strip(type)
  defp strip({tag, _anno, value}) when tag in [:atom, :integer, :var, :char], do: {tag, 0, value}
  defp strip({:type, _, name, args}), do: {:type, 0, name, strip(args)}
  defp strip({:remote_type, _, args}), do: {:remote_type, 0, strip(args)}
  defp strip({:user_type, _, name, args}), do: {:user_type, 0, name, strip(args)}
  defp strip({:op, _, op, a}), do: {:op, 0, op, strip(a)}
  defp strip({:op, _, op, a, b}), do: {:op, 0, op, strip(a), strip(b)}
  defp strip(list) when is_list(list), do: Enum.map(list, &strip/1)
  defp strip(other), do: other
end
