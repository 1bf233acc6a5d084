defmodule LinxExample.MixProject do
  use Mix.Project

  # linx is two directories up. Its mix.exs builds the Erlang application,
  # the Rust port program (with cargo) and the Elixir API; one line does it.
  def project do
    [
      app: :linx_example,
      version: "0.1.0",
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  # The tests' oracle (the ip command) lives in test/support.
  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [{:linx, path: "../.."}]
  end
end
