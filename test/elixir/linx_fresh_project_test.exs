defmodule Linx.FreshProjectTest do
  # The one-line claim: a mix project made with `mix new` outside the repo,
  # whose only change is `{:linx, path: SOURCE}` in its deps, compiles and
  # reads a sysctl of a netns through Linx.Sysctl. SOURCE is a copy of the
  # files git tracks (or would: untracked files not ignored are included),
  # as a fresh clone has them: no priv/linx_port, no _build, no target.
  # Offline: no hex, no rebar3 (MIX_REBAR3 unset), nothing downloaded.
  use ExUnit.Case, async: true

  import Linx.TestNs

  @moduletag :netns
  @moduletag timeout: 600_000

  @repo Path.expand("../..", __DIR__)

  # Variables of this run that must not leak into the fresh project.
  @clean_env for var <- ~w(MIX_ENV MIX_BUILD_PATH MIX_BUILD_ROOT MIX_DEPS_PATH MIX_EXS
                           MIX_TARGET MIX_REBAR3 MIX_PATH),
                 do: {var, nil}

  # The copy keeps its place and the files their times from one run to the
  # next, and cargo builds it into the repo's target directory (or the
  # CARGO_TARGET_DIR of this run): only the
  # first run compiles the Rust program again (about 20 s); later runs find
  # it fresh. One copy per checkout, rewritten under the test lock.
  @source Path.join(
            System.tmp_dir!(),
            "linx-fresh-src-#{:erlang.phash2(Path.expand("../..", __DIR__))}"
          )

  setup do
    dir = Path.join(System.tmp_dir!(), "linx-fresh-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    {:ok, dir: dir}
  end

  test "one dependency line gives Linx.Sysctl, :linx_sysctl and the port program", %{dir: dir} do
    refute String.starts_with?(dir, @repo <> "/")
    copy_tracked_files!(@repo, @source)
    refute File.exists?(Path.join(@source, "priv/linx_port"))
    ns = netns!("fresh")
    cmd!("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.core.somaxconn=4242"])

    mix!(dir, ["new", "fresh_app"])
    app = Path.join(dir, "fresh_app")
    mix_exs = Path.join(app, "mix.exs")

    File.write!(
      mix_exs,
      Regex.replace(~r/defp deps do\n.*?\n  end/s, File.read!(mix_exs), """
      defp deps do
          [{:linx, path: #{inspect(@source)}}]
        end\
      """)
    )

    assert File.read!(mix_exs) =~ ~s([{:linx, path: "#{@source}"}])

    mix!(app, ["deps.get"])
    mix!(app, ["compile"])

    script = """
    IO.puts("ex=" <> inspect(Linx.Sysctl.read("net.core.somaxconn", in: {:netns, "#{ns}"})))
    IO.puts("erl=" <> inspect(:linx_sysctl.read("net.core.somaxconn", %{in: {:netns, "#{ns}"}})))
    IO.puts("port=" <> inspect(File.exists?(Path.join(:code.priv_dir(:linx), "linx_port"))))
    """

    # What the application finds at run time is in _build after one
    # compile (a git dependency is not compiled again by `mix run`).
    assert File.exists?(Path.join(app, "_build/dev/lib/linx/priv/linx_port"))
    out = mix!(app, ["run", "--no-compile", "-e", script])
    assert out =~ ~s(ex={:ok, "4242"})
    assert out =~ ~s(erl={:ok, "4242"})
    assert out =~ "port=true"
  end

  # The files of the checkout as a clone has them, with their times.
  defp copy_tracked_files!(repo, dest) do
    File.rm_rf!(dest)
    File.mkdir_p!(dest)

    cmd!("sh", [
      "-c",
      "git -C \"$1\" ls-files -z --cached --others --exclude-standard | " <>
        "tar -C \"$1\" --null --ignore-failed-read -T - -cf - | tar -C \"$2\" -xpf -",
      "copy",
      repo,
      dest
    ])
  end

  defp mix!(dir, args) do
    target = {"CARGO_TARGET_DIR", System.get_env("CARGO_TARGET_DIR", Path.join(@repo, "target"))}
    cmd!("mix", args, cd: dir, env: @clean_env ++ [{"HEX_OFFLINE", "1"}, target])
  end
end
