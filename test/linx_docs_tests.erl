%% @doc The README and the guides under docs/ hold together: every link
%% to a file of the tree finds it, every `#anchor' finds a heading with
%% that GitHub slug, external links are well-formed URLs (not fetched),
%% the README stays a front door (at most 400 lines) and links to every
%% guide, and every guide links back to it.
%%
%% Links are Markdown inline links `[text](target)' (and images),
%% reference links `[text][ref]' with their definitions `[ref]: target',
%% and autolinks `<https://...>'; code blocks and code spans are skipped.
%% The first tests run the checker on made-up files, so each kind of
%% breakage is shown to be caught.
-module(linx_docs_tests).

-include_lib("eunit/include/eunit.hrl").

-define(README_MAX_LINES, 400).

%%====================================================================
%% The checker on made-up files: it catches each kind of breakage
%%====================================================================

slug_test_() ->
    [?_assertEqual(<<"two-commands">>, slug(<<"Two commands">>)),
     ?_assertEqual(<<"rust-modules-src">>, slug(<<"Rust modules (`src/`)">>)),
     ?_assertEqual(<<"why-a-mixexs-at-the-root">>, slug(<<"Why a `mix.exs` at the root">>)),
     ?_assertEqual(<<"port-mode-vs-c-node-mode">>, slug(<<"Port mode vs C-node mode">>)),
     ?_assertEqual(<<"sysctls-linx_sysctl">>, slug(<<"Sysctls: `linx_sysctl`">>)),
     ?_assertEqual(<<"see-the-guide">>, slug(<<"See [the guide](docs/x.md)">>)),
     ?_assertEqual(<<"défaut--ça"/utf8>>, slug(<<"Défaut — ça"/utf8>>)),
     ?_assertEqual(<<"a-b">>, slug(<<"**A** b">>)),
     ?_assertEqual([<<"a">>, <<"b">>, <<"a-1">>, <<"a-2">>],
                   anchors_of(<<"# A\n\n## B\n\n### A\n\n```\n# not a heading\n```\n\nA\n---\n">>))].

checker_test_() ->
    {setup, fun make_fixture/0, fun remove_fixture/1,
     fun(Dir) ->
             Problems = fun(F) -> [{T, R} || {_, _, T, R} <- problems(Dir, F)] end,
             [?_assertEqual([], Problems("good.md")),
              ?_assertEqual([{<<"missing.md">>, no_such_file},
                             {<<"sub/gone.md#x">>, no_such_file},
                             {<<"#nowhere">>, {no_heading, <<"nowhere">>}},
                             {<<"good.md#nowhere">>, {no_heading, <<"nowhere">>}},
                             {<<"good.rs#L1">>, anchor_into_non_markdown},
                             {<<"http://">>, bad_url},
                             {<<"https://exa mple.org/">>, bad_url},
                             {<<"ftp://example.org/f">>, bad_url},
                             {<<"/etc/passwd">>, absolute_path},
                             {<<"undefined-ref">>, undefined_reference},
                             {<<"http:///x">>, bad_url},
                             {<<"also-missing.md">>, no_such_file}],
                            Problems("bad.md")),
              ?_assertEqual([<<"also-missing.md">>, <<"good.md">>, <<"missing.md">>,
                             <<"sub/gone.md">>],
                            linked_markdown(Dir, "bad.md")),
              ?_assertEqual(4, line_count(filename:join(Dir, "good.md")))]
     end}.

make_fixture() ->
    Dir = filename:join(["/tmp", "linx-docs-tests-" ++ os:getpid() ++ "-"
                         ++ integer_to_list(erlang:unique_integer([positive]))]),
    ok = filelib:ensure_dir(filename:join([Dir, "sub", "x"])),
    ok = file:write_file(filename:join(Dir, "good.rs"), <<"fn main() {}\n">>),
    ok = file:write_file(
           filename:join(Dir, "good.md"),
           <<"# Good\n\nSee [bad](bad.md), [self](#good), [sub](sub/), [rs](good.rs),\n"
             "[web](https://example.org/a?b=c#d) and <https://example.org/>.\n">>),
    ok = file:write_file(
           filename:join(Dir, "bad.md"),
           <<"# Bad\n\n"
             "[a](missing.md) [b](sub/gone.md#x) [c](#nowhere) [d](good.md#nowhere)\n"
             "[e](good.rs#L1) [f](http://) [g](<https://exa mple.org/>) [h](ftp://example.org/f)\n"
             "[i](/etc/passwd) [j][undefined-ref] [k][ok-ref] ![img](good.rs) <http:///x>\n\n"
             "`[not](a-link.md)` and\n\n```\n[not](a-link-either.md)\n```\n\n"
             "[ok-ref]: good.md\n[unused]: also-missing.md\n">>),
    Dir.

remove_fixture(Dir) ->
    _ = os:cmd("rm -rf '" ++ Dir ++ "'"),
    ok.

%%====================================================================
%% The project's README and guides
%%====================================================================

readme_is_short_test() ->
    Lines = line_count(filename:join(root(), "README.md")),
    ?assert(Lines =< ?README_MAX_LINES,
            lists:flatten(io_lib:format("README.md has ~b lines; at most ~b: move reference "
                                        "material into a guide under docs/",
                                        [Lines, ?README_MAX_LINES]))).

there_are_guides_test() ->
    ?assertNotEqual([], guides()).

links_resolve_test_() ->
    Root = root(),
    [{F, ?_assertEqual([], problems(Root, F))} || F <- ["README.md" | guides()]].

readme_links_every_guide_test() ->
    Linked = linked_markdown(root(), "README.md"),
    ?assertEqual([], [list_to_binary(G) || G <- guides()] -- Linked).

guides_link_back_to_readme_test_() ->
    Root = root(),
    [{G, ?_assert(lists:member(<<"README.md">>, linked_markdown(Root, G)))} || G <- guides()].

%%====================================================================
%% The checker
%%====================================================================

%% The project's root: where linx's sources were compiled from.
root() ->
    Source = proplists:get_value(source, linx:module_info(compile)),
    filename:dirname(filename:dirname(Source)).

%% docs/*.md, relative to the root, sorted.
guides() ->
    lists:sort(filelib:wildcard("docs/*.md", root())).

line_count(File) ->
    {ok, Text} = file:read_file(File),
    length(binary:split(Text, <<"\n">>, [global, trim])).

%% The problems of the links of `File' (relative to `Root'):
%% `[{File, Line, Target, Reason}]' in the order they appear.
problems(Root, File) ->
    [case Target of
         {undefined_reference, Ref} -> {File, Line, Ref, undefined_reference};
         _ -> {File, Line, Target, Reason}
     end
     || {Line, Target} <- links(Root, File),
        Reason <- [check(Root, File, Target)], Reason =/= ok].

%% The Markdown files (relative to `Root') that `File' links to.
linked_markdown(Root, File) ->
    Dir = filename:dirname(iolist_to_binary(File)),
    lists:usort([normalize(filename:join(Dir, uri_string:percent_decode(Path)))
                 || {_, Target} <- links(Root, File),
                    is_binary(Target), not is_external(Target),
                    [Path | _] <- [binary:split(Target, <<"#">>)],
                    Path =/= <<>>, filename:extension(Path) =:= <<".md">>]).

check(_Root, _File, {undefined_reference, _}) ->
    undefined_reference;
check(Root, File, <<"#", Anchor/binary>>) ->
    check_anchor(filename:join(Root, File), Anchor);
check(Root, File, Target) ->
    case is_external(Target) of
        true -> check_url(Target);
        false -> check_relative(Root, File, Target)
    end.

check_relative(_Root, _File, <<"/", _/binary>>) ->
    absolute_path;
check_relative(_Root, _File, <<>>) ->
    empty_target;
check_relative(Root, File, Target) ->
    {Path, Anchor} = case binary:split(Target, <<"#">>) of
                         [P, A] -> {P, A};
                         [P] -> {P, none}
                     end,
    Full = filename:join([Root, filename:dirname(File), uri_string:percent_decode(Path)]),
    IsMarkdown = filename:extension(Path) =:= <<".md">>,
    case filelib:is_file(Full) of
        false -> no_such_file;
        true when Anchor =:= none -> ok;
        true when IsMarkdown -> check_anchor(Full, Anchor);
        true -> anchor_into_non_markdown
    end.

check_anchor(File, Anchor) ->
    {ok, Text} = file:read_file(File),
    case lists:member(uri_string:percent_decode(Anchor), anchors_of(Text)) of
        true -> ok;
        false -> {no_heading, Anchor}
    end.

is_external(Target) when is_binary(Target) ->
    re:run(Target, "^[A-Za-z][A-Za-z0-9+.-]*:", [{capture, none}]) =:= match;
is_external(_) ->
    false.

%% Only checked to be a well-formed http(s) URL with a host; never fetched.
check_url(Url) ->
    case re:run(Url, "[\\s<>\"]", [{capture, none}]) of
        match ->
            bad_url;
        nomatch ->
            case uri_string:parse(Url) of
                #{scheme := Scheme, host := Host} when Host =/= <<>> ->
                    case string:lowercase(Scheme) of
                        <<"http">> -> ok;
                        <<"https">> -> ok;
                        _ -> bad_url
                    end;
                _ ->
                    bad_url
            end
    end.

normalize(Path) ->
    normalize(filename:split(Path), []).

normalize([], Acc) -> filename:join(lists:reverse(Acc));
normalize([<<".">> | T], Acc) -> normalize(T, Acc);
normalize([<<"..">> | T], [_ | Acc]) -> normalize(T, Acc);
normalize([P | T], Acc) -> normalize(T, [P | Acc]).

%%--------------------------------------------------------------------
%% Reading Markdown
%%--------------------------------------------------------------------

%% `[{Line, Target}]': inline links and images, reference links (resolved
%% through their definitions, or `{undefined_reference, Ref}'), the
%% definitions themselves, and autolinks. `Line' is where the link's
%% paragraph starts.
links(Root, File) ->
    {ok, Text} = file:read_file(filename:join(Root, File)),
    Paragraphs = paragraphs(prose_lines(Text)),
    Defs = [{string:lowercase(Ref), Target, Line}
            || {Line, P} <- Paragraphs,
               [Ref, Target] <- matches(P, "(?m)^ {0,3}\\[([^\\]]+)\\]:[ \\t]*<?([^\\s>]+)>?")],
    Links =
        lists:append(
          [[{Line, Target} || [Target] <- inline_targets(strip_code_spans(P))]
           ++ [{Line, resolve(Ref, Text1, Defs)}
               || [Text1, Ref] <- matches(strip_code_spans(P), "\\[([^\\]]+)\\]\\[([^\\]]*)\\]")]
           ++ [{Line, Url} || [Url] <- matches(strip_inline_links(strip_code_spans(P)),
                                                 "<([A-Za-z][A-Za-z0-9+.-]*:[^>\\s]*)>")]
           || {Line, P} <- Paragraphs]),
    lists:keysort(1, Links ++ [{Line, Target} || {_, Target, Line} <- Defs]).

-define(INLINE_LINK, "!?\\[[^\\]]*\\]\\(\\s*(<[^>]*>|[^)\\s]*)(?:\\s+\"[^\"]*\")?\\s*\\)").

inline_targets(P) ->
    [[strip_angles(T)] || [T] <- matches(P, ?INLINE_LINK)].

strip_inline_links(P) ->
    re:replace(P, ?INLINE_LINK, <<>>, [global, unicode, {return, binary}]).

strip_angles(<<"<", Rest/binary>>) -> binary:part(Rest, 0, byte_size(Rest) - 1);
strip_angles(T) -> T.

resolve(Ref0, Text, Defs) ->
    Ref = string:lowercase(case Ref0 of <<>> -> Text; _ -> Ref0 end),
    case lists:keyfind(Ref, 1, Defs) of
        {_, Target, _} -> Target;
        false -> {undefined_reference, Ref}
    end.

matches(Subject, Re) ->
    case re:run(Subject, Re, [global, unicode, {capture, all_but_first, binary}]) of
        {match, Ms} -> Ms;
        nomatch -> []
    end.

%% `[{LineNumber, Line}]' outside fenced code blocks (``` or ~~~).
prose_lines(Text) ->
    Lines = lists:zip(lists:seq(1, length(split_lines(Text))), split_lines(Text)),
    prose_lines(Lines, none, []).

prose_lines([], _, Acc) ->
    lists:reverse(Acc);
prose_lines([{_, L} = NL | T], Fence, Acc) ->
    case {Fence, fence(L)} of
        {none, none} -> prose_lines(T, none, [NL | Acc]);
        {none, F} -> prose_lines(T, F, Acc);
        {F, F} -> prose_lines(T, none, Acc);
        {F, _} -> prose_lines(T, F, Acc)
    end.

fence(L) ->
    case re:run(L, "^ {0,3}(```|~~~)", [{capture, all_but_first, binary}]) of
        {match, [F]} -> F;
        nomatch -> none
    end.

split_lines(Text) ->
    binary:split(Text, <<"\n">>, [global]).

%% Runs of non-blank lines, joined: `[{FirstLine, Text}]'. A code span or a
%% link may run over a line break, not over a blank line.
paragraphs(Lines) ->
    paragraphs(Lines, [], []).

paragraphs([], Cur, Acc) ->
    lists:reverse(add_paragraph(Cur, Acc));
paragraphs([{N, L} | T], Cur, Acc) ->
    case string:trim(L) of
        <<>> -> paragraphs(T, [], add_paragraph(Cur, Acc));
        _ -> paragraphs(T, [{N, L} | Cur], Acc)
    end.

add_paragraph([], Acc) -> Acc;
add_paragraph(Cur, Acc) ->
    [{First, _} | _] = Lines = lists:reverse(Cur),
    [{First, iolist_to_binary(lists:join(<<"\n">>, [L || {_, L} <- Lines]))} | Acc].

strip_code_spans(P) ->
    re:replace(P, "(`+)(?s:.*?)\\1", <<>>, [global, unicode, {return, binary}]).

%% The anchors GitHub gives the headings of a Markdown text, in order:
%% ATX (`# Title') and setext (`Title' over `===' or `---') headings
%% outside code blocks; a repeated slug gets `-1', `-2', ...
anchors_of(Text) ->
    Headings = headings(prose_lines(Text), undefined, []),
    number_repeats([slug(H) || H <- Headings], #{}, []).

headings([], _, Acc) ->
    lists:reverse(Acc);
headings([{N, L} | T], Prev, Acc) ->
    case re:run(L, "^ {0,3}#{1,6}[ \\t]+(.*?)(?:[ \\t]+#+)?[ \\t]*$",
                [unicode, {capture, all_but_first, binary}]) of
        {match, [H]} ->
            headings(T, undefined, [H | Acc]);
        nomatch ->
            Setext = re:run(L, "^ {0,3}(=+|-+)[ \\t]*$", [{capture, none}]) =:= match,
            case Prev of
                {P, Text} when Setext, P =:= N - 1 ->
                    headings(T, undefined, [string:trim(Text) | Acc]);
                _ ->
                    Next = case string:trim(L) of <<>> -> undefined; _ -> {N, L} end,
                    headings(T, Next, Acc)
            end
    end.

%% GitHub's slug: the heading's text without inline markup, lower case,
%% only letters, digits, `_', `-' and spaces kept, each space a `-'.
slug(Heading) ->
    NoLinks = re:replace(Heading, "!?\\[([^\\]]*)\\]\\([^)]*\\)", "\\1", [global, unicode, {return, binary}]),
    NoMarkup = re:replace(NoLinks, "[`*]|<[^>]*>", <<>>, [global, unicode, {return, binary}]),
    Lower = string:lowercase(string:trim(NoMarkup)),
    Kept = re:replace(Lower, "[^\\p{L}\\p{M}\\p{N}_\\- ]", <<>>, [global, unicode, ucp, {return, binary}]),
    binary:replace(Kept, <<" ">>, <<"-">>, [global]).

number_repeats([], _, Acc) ->
    lists:reverse(Acc);
number_repeats([S | T], Seen, Acc) ->
    case maps:get(S, Seen, 0) of
        0 -> number_repeats(T, Seen#{S => 1}, [S | Acc]);
        K -> number_repeats(T, Seen#{S => K + 1},
                            [<<S/binary, "-", (integer_to_binary(K))/binary>> | Acc])
    end.
