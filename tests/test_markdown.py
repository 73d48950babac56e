"""Rendering leaves out what a document cannot use: the extensions and whole-document
passes it has no mark for (a table needs a ``|``), and on each block and each run of
text the block processors and inline patterns it has no mark for (a heading needs a
``#``, a link a ``[``). The HTML must be the same as stock Markdown's, with every
extension enabled, for every document."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.content import decode
from site_builder.frontmatter import split_front_matter
from site_builder.markdown import _PLAIN_LINE, _convert, _one_paragraph, count_words
from tests.conftest import REPO

# Each is the one mark of its syntax in the text, so that trimming on the wrong mark
# would leave out the pattern that renders it.
SNIPPETS = {
    "code span": "Call `f(x)` now.",
    "code span with backslashes": "A path: `C:\\temp\\` and \\\\`not code`.",
    "escape": "Not \\*emphasis\\* and 1\\. not a list.",
    "inline link": "Read [the post](https://example.org/a) today.",
    "reference link": "Read [the post][p].\n\n[p]: https://example.org/p",
    "reference without a space": "Read [the post][p].\n\n[p]:https://example.org/p",
    "short reference": "Read [post].\n\n[post]: https://example.org/p",
    "image": "A ![chart](/c.png) here.",
    "image reference": "A ![chart][c].\n\n[c]: /c.png",
    "short image reference": "A ![chart].\n\n[chart]: /c.png",
    "autolink": "See <https://example.org/> for more.",
    "automail": "Write to <desk@example.org>.",
    "inline html": "Press <kbd>Ctrl</kbd> then <em>stop</em>.",
    "html comment": "Text <!-- hidden --> more.",
    "entity": "Fish &amp; chips &copy; 2021 &#169; &#xA9;.",
    "bare ampersand": "AT&T and R&D.",
    "unfinished character references": "Item &#1. and &#5 * 3, &#x; and &copy here.",
    "asterisk emphasis": "Some *em*, **strong** and ***both***.",
    "underscore emphasis": "Some _em_, __strong__, snake_case_name.",
    "lone star": "5 * 3 = 15 and a * b.",
    "hard line break": "First line  \nsecond line.",
    "tab line break": "First line\t\nsecond line.",
    "footnote": "A claim[^1].\n\n[^1]: The proof.",
    "table": "| a | b |\n|---|--:|\n| 1 | 2 |",
    "attribute list": "# Title {#custom-id}\n\nText.",
    "abbreviation": "The HTML spec.\n\n*[HTML]: Hyper Text Markup Language",
    "definition list": "Term\n: Definition.",
    "indented definition": "Term\n   : Definition.",
    "definition after a tab": "Term\n:\tDefinition.",
    "definition list in a quote": "> Term\n> : Definition.",
    "fenced code": "```python\nx = a[1] < b & c  # `q`\n```",
    "indented code": "    <b>kept</b> & [x]\n\nAfter.",
    "headings": "## One\n\nText.\n\n### Two *em*\n\nMore.",
    "table of contents marker": "[TOC]\n\n## One\n\nText.\n\n## Two\n\nMore.",
    "plain": "Just words, nothing else.",
}


def _bodies() -> dict[str, str]:
    """The body of every Markdown file in the repository: the bundled site and tests'."""
    found = {}
    for path in sorted((*REPO.glob("content/**/*.md"), *REPO.glob("tests/sites/**/*.md"))):
        name = path.relative_to(REPO).as_posix()
        try:
            text = decode(path.read_bytes(), path=name)
            found[name] = split_front_matter(text, path=name).body
        except Exception:  # noqa: BLE001 - bad input on purpose: its text is still a test
            found[name] = path.read_text(encoding="utf-8", errors="replace")
    return found


@pytest.mark.parametrize("text", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_snippet_renders_as_with_everything_enabled(text: str) -> None:
    assert _convert(text) == _convert(text, trim=False)


def test_every_document_in_the_repository_renders_as_with_everything_enabled() -> None:
    bodies = _bodies()
    assert len(bodies) > 40  # the bundled site and the test sites were found
    differ = [name for name, body in bodies.items() if _convert(body) != _convert(body, trim=False)]
    assert differ == []


def test_all_snippets_in_one_document_render_as_with_everything_enabled() -> None:
    text = "\n\n".join(SNIPPETS.values())
    assert _convert(text) == _convert(text, trim=False)


# Pieces of inline and block syntax, and the text between them, joined at random: marks
# next to, inside and across each other, where a pattern tried on the wrong run of text
# would show.
_PIECES = st.sampled_from(
    [
        *SNIPPETS.values(),
        *("*", "**", "_", "`", "[", "]", "(", ")", "<", ">", "&", "\\", "!", "^", "|"),
        *("  \n", "\n", "\n\n", " ", "    ", "\t", "word", "x_y", "<b>", "</b>", "<div>"),
        *("[^1]", "](/a)", "]:", "[x]: /u", "*[x]: y", "{#id}", "[TOC]", "&amp;", "&#", "<!--"),
        *("> ", "- ", "1. ", "#", "## ", "---", "***", "===", "\n=\n", "```", ": ", " : "),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_any_mix_of_syntax_renders_as_with_everything_enabled(text: str) -> None:
    assert _convert(text) == _convert(text, trim=False)


_TEXT = st.text(st.sampled_from("aZ09_ -'.,;\t\n&<>é€ßµ\u00aa\u0663"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TEXT, st.sampled_from(["<p>", "</p>", "&amp;", "&eacute;"]))))
def test_words_are_the_runs_of_word_characters_in_the_text(pieces: list[str]) -> None:
    fragment = "".join(pieces)
    text = html.unescape(re.sub(r"<[^>]+>", " ", fragment))
    assert count_words(fragment) == len(re.findall(r"\w+", text))


# Lines of words and every ASCII punctuation mark: the summaries of front matter. Most
# are one plain line, rendered without a whole conversion; the HTML must be the same.
_LINE_PIECES = st.sampled_from(
    ["word", "Word", "é", "µ", "1", " ", "  ", "\t", "\n", *"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.from_regex(_PLAIN_LINE, fullmatch=True), st.lists(_LINE_PIECES).map("".join)))
def test_a_summary_renders_as_with_everything_enabled(text: str) -> None:
    assert _one_paragraph(text) == _convert(text, trim=False)[0]
