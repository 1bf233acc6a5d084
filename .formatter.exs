# mix format: the Elixir API (lib/), its tests (test/elixir/) and mix.exs.
[
  inputs: ["mix.exs", ".formatter.exs", "lib/**/*.ex", "test/elixir/**/*.exs"]
]
