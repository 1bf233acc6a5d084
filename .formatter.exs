# mix format: the Elixir API (lib/), its tests and their support (test/elixir/) and mix.exs.
[
  inputs: ["mix.exs", ".formatter.exs", "lib/**/*.ex", "test/elixir/**/*.{ex,exs}"]
]
