# Tests tagged :netns need `ip netns add` (root). When no namespace can be
# made they are excluded, unless LINX_REQUIRE_NS=1: then they run and fail.
probe = "linx-ex-probe-#{System.pid()}"

netns_ok? =
  case System.cmd("ip", ["netns", "add", probe], stderr_to_stdout: true) do
    {_, 0} ->
      System.cmd("ip", ["netns", "del", probe], stderr_to_stdout: true)
      true

    {out, status} ->
      IO.puts(:stderr, "cannot create a netns (ip exited #{status}): #{String.trim(out)}")
      false
  end

exclude = if netns_ok? or System.get_env("LINX_REQUIRE_NS") == "1", do: [], else: [:netns]
ExUnit.start(exclude: exclude)
