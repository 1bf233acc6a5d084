defmodule Linx.FreshProjectTest do
  # The one-line claim: a mix project made with `mix new` outside the repo,
  # whose only change is `{:linx, path: REPO}` in its deps, compiles and
  # reads a sysctl of a netns through Linx.Sysctl. Offline: no hex, no
  # rebar3 (MIX_REBAR3 unset), nothing downloaded.
  use ExUnit.Case, async: true

  import Linx.TestNs

  @moduletag :netns
  @moduletag timeout: 600_000

  @repo Path.expand("../..", __DIR__)

  # Variables of this run that must not leak into the fresh project.
  @clean_env for var <- ~w(MIX_ENV MIX_BUILD_PATH MIX_BUILD_ROOT MIX_DEPS_PATH MIX_EXS
                           MIX_TARGET MIX_REBAR3 MIX_PATH),
                 do: {var, nil}

  setup do
    dir = Path.join(System.tmp_dir!(), "linx-fresh-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    {:ok, dir: dir}
  end

  test "one dependency line gives Linx.Sysctl, :linx_sysctl and the port program", %{dir: dir} do
    refute String.starts_with?(dir, @repo <> "/")
    ns = netns!("fresh")
    cmd!("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.core.somaxconn=4242"])

    mix!(dir, ["new", "fresh_app"])
    app = Path.join(dir, "fresh_app")
    mix_exs = Path.join(app, "mix.exs")

    File.write!(
      mix_exs,
      Regex.replace(~r/defp deps do\n.*?\n  end/s, File.read!(mix_exs), """
      defp deps do
          [{:linx, path: #{inspect(@repo)}}]
        end\
      """)
    )

    assert File.read!(mix_exs) =~ ~s([{:linx, path: "#{@repo}"}])

    mix!(app, ["deps.get"])
    mix!(app, ["compile"])

    script = """
    IO.puts("ex=" <> inspect(Linx.Sysctl.read("net.core.somaxconn", in: {:netns, "#{ns}"})))
    IO.puts("erl=" <> inspect(:linx_sysctl.read("net.core.somaxconn", %{in: {:netns, "#{ns}"}})))
    IO.puts("port=" <> inspect(File.exists?(Path.join(:code.priv_dir(:linx), "linx_port"))))
    """

    out = mix!(app, ["run", "-e", script])
    assert out =~ ~s(ex={:ok, "4242"})
    assert out =~ ~s(erl={:ok, "4242"})
    assert out =~ "port=true"
  end

  defp mix!(dir, args) do
    cmd!("mix", args, cd: dir, env: @clean_env ++ [{"HEX_OFFLINE", "1"}])
  end
end
