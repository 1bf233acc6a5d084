defmodule LinxExample.MixProject do
  use Mix.Project

  # linx is a rebar3 project two directories up. Mix builds it with the
  # rebar3 named by MIX_REBAR3 (Debian's is /usr/bin/rebar3); without that
  # variable mix would try to download its own copy of rebar3.
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

  # The tests' rtnetlink helper lives in test/support.
  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [{:linx, path: "../..", manager: :rebar3}]
  end
end
