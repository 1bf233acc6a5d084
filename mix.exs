defmodule Mix.Tasks.Compile.LinxPort do
  @moduledoc false
  # Builds the Rust port program into priv/linx_port with `make -s port`,
  # the step rebar3's pre_hook runs, so that code:priv_dir(:linx) has it.
  # cargo rebuilds only what changed; an up-to-date build takes a moment.
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    opts = [cd: __DIR__, stderr_to_stdout: true, into: IO.stream()]

    case System.cmd("make", ["-s", "port"], opts) do
      {_, 0} ->
        {:ok, []}

      {_, status} ->
        message = "make -s port exited with status #{status} (is cargo on PATH?)"
        Mix.shell().error(message)

        {:error,
         [
           %Mix.Task.Compiler.Diagnostic{
             compiler_name: "linx_port",
             file: Path.join(__DIR__, "Makefile"),
             message: message,
             position: nil,
             severity: :error
           }
         ]}
    end
  end
end

defmodule Linx.MixProject do
  use Mix.Project

  # linx for mix: `{:linx, path: "..."}` (or a git dependency) compiles the
  # Erlang application in erlang/, builds the port program into priv/ and
  # compiles the Elixir API in lib/. rebar3 reads rebar.config and never
  # looks at this file or at lib/.
  #
  # The application resource (version, mod, env, registered names) is read
  # from erlang/linx.app.src, which rebar3 uses too, so it is written once.
  @app_src Path.join(__DIR__, "erlang/linx.app.src")
  @external_resource @app_src
  {:ok, [{:application, :linx, props}]} = :file.consult(@app_src)
  @props props

  def project do
    [
      app: :linx,
      version: to_string(@props[:vsn]),
      elixir: "~> 1.14",
      description: to_string(@props[:description]),
      erlc_paths: ["erlang"],
      erlc_options: [:debug_info],
      elixirc_paths: ["lib"],
      compilers: [:linx_port | Mix.compilers()],
      # rebar3 owns _build/default and _build/test; when linx is the mix
      # project itself (its ExUnit tests), mix builds elsewhere. As a
      # dependency, the parent project's build path is used instead.
      build_path: "_build/mix",
      test_paths: ["test/elixir"],
      deps: []
    ]
  end

  def application do
    [
      mod: @props[:mod],
      registered: @props[:registered],
      env: @props[:env],
      extra_applications: @props[:applications] -- [:kernel, :stdlib, :elixir]
    ]
  end
end
