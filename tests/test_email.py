"""Email editions: ``email.html`` with CSS inlined by css-inline, a 600px table layout,
absolute URLs, nothing external; ``email.txt`` as its plain, unescaped twin."""

from __future__ import annotations

import html
import re
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.newsletter import html_to_text
from tests.conftest import SITE_TOML, MakeSite, article, build_at, printed_by
from tests.test_html_valid import nu_errors

TRICKY = 'AT&T <Labs> & "friends"'
SITE = {
    "content/articles/a.md": article(
        TRICKY,
        "2026-11-17 09:00",
        "First paragraph with [a link](/articles/b/).\n\nSecond paragraph.",
        category="Telecom",
        tags="[5g, Open RAN]",
        source="{name: Light Reading, url: 'https://www.lightreading.com/x'}",
    ),
    "content/articles/b.md": article("Other story", "2026-11-18 09:00", "Plain words."),
    "content/digests/2026-w47.md": (
        "---\ntitle: Signals & noise\ndate: 2026-11-23\n---\n\n"
        "Read [the other story](/articles/b/) first.\n\n- one\n- two\n"
    ),
}
SUB_PATH = 'base_url = "https://test.example.org/news/"'


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def elements(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def built(make_site: MakeSite, config: str | None = None) -> Path:
    root = make_site(SITE, config) if config else make_site(SITE)
    build_at(root)
    return root / "output" / "digest/2026/w47"


def test_css_is_inlined_and_only_media_queries_stay_in_a_style_block(
    make_site: MakeSite,
) -> None:
    page = elements(built(make_site) / "email.html")
    body = next(attrs for tag, attrs in page.tags if tag == "body")
    assert "background-color" in body["style"]
    styled = [attrs for _, attrs in page.tags if "class" in attrs]
    assert styled and all("style" in attrs for attrs in styled)
    rules = "".join(page.styles)
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", rules).strip() == ""


def test_nothing_external_and_every_url_absolute(make_site: MakeSite) -> None:
    page = elements(built(make_site) / "email.html")
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags
    assert all(attrs.get("rel") == "alternate" for tag, attrs in page.tags if tag == "link")
    urls = [attrs[k] for _, attrs in page.tags for k in ("href", "src") if k in attrs]
    assert urls
    for url in urls:
        assert urlsplit(url).scheme in ("http", "https"), url


def test_layout_is_a_600px_presentation_table(make_site: MakeSite) -> None:
    page = elements(built(make_site) / "email.html")
    tables = [attrs for tag, attrs in page.tags if tag == "table"]
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert any("max-width: 600px" in t.get("style", "") for t in tables)


def test_issue_content_is_in_the_html_edition_with_absolute_links(make_site: MakeSite) -> None:
    html = (built(make_site) / "email.html").read_text(encoding="utf-8")
    assert "AT&amp;T &lt;Labs&gt;" in html
    assert "Signals &amp; noise" in html
    assert '<a href="https://test.example.org/articles/b/"' in html
    assert "Telecom" in html and "Light Reading" in html
    assert 'href="https://test.example.org/tags/open-ran/"' in html


def test_text_edition_is_plain_unescaped_and_wrapped(make_site: MakeSite) -> None:
    text = (built(make_site) / "email.txt").read_text(encoding="utf-8")
    assert f"* {TRICKY}" in text
    assert "Signals & noise" in text
    assert "&amp;" not in text and "&#" not in text and "<p>" not in text
    assert "the other story (https://test.example.org/articles/b/) first." in text
    assert "- one\n- two" in text
    assert "Read the story: https://test.example.org/articles/b/" in text
    assert "Tags: 5g, Open RAN" in text
    long_lines = [line for line in text.splitlines() if len(line) > 74]
    assert all("https://" in line for line in long_lines), long_lines


def test_sub_path_site_emails_keep_the_base_path(make_site: MakeSite) -> None:
    config = SITE_TOML.replace('base_url = "https://test.example.org/"', SUB_PATH)
    folder = built(make_site, config)
    html = (folder / "email.html").read_text(encoding="utf-8")
    assert 'href="https://test.example.org/news/articles/b/"' in html
    assert 'href="https://test.example.org/articles/' not in html
    text = (folder / "email.txt").read_text(encoding="utf-8")
    assert "https://test.example.org/news/digest/2026/w47/" in text


def test_every_link_into_the_site_reaches_a_page(bundled_output: Path) -> None:
    base = "https://digest.example.org/"
    for email in bundled_output.glob("digest/**/email.html"):
        for url in re.findall(r'href="([^"]+)"', email.read_text(encoding="utf-8")):
            if url.startswith(base):
                path = bundled_output / urlsplit(url).path.lstrip("/")
                target = path / "index.html" if url.endswith("/") else path
                assert target.is_file(), (email, url)


def test_emails_are_not_in_the_sitemap(bundled_output: Path) -> None:
    sitemap = (bundled_output / "sitemap.xml").read_text(encoding="utf-8")
    assert "email" not in sitemap
    assert "/digest/2021/w33/</loc>" in sitemap


def test_html_to_text_keeps_links_lists_and_entities() -> None:
    fragment = (
        '<p>Tom &amp; Jerry read <a href="https://x.org/a">this</a>.</p>\n'
        '<ul>\n<li>one <a href="https://x.org/">https://x.org/</a></li>\n<li>two</li>\n</ul>'
    )
    assert html_to_text(fragment) == (
        "Tom & Jerry read this (https://x.org/a).\n\n- one https://x.org/\n- two"
    )
    pasted = "<p><a class=x href='https://x.org/b'>b</a>, <a href=https://x.org/c>c</a></p>"
    assert html_to_text(pasted) == "b (https://x.org/b), c (https://x.org/c)"
    assert html_to_text('<a data-href="https://x.org/d">d</a>') == "d"
    long = "<p>" + "word " * 30 + "https://example.org/" + "a" * 80 + "</p>"
    lines = html_to_text(long).splitlines()
    assert lines[-1].startswith("https://example.org/aaaa")  # a URL is never broken


_WORDS = st.text(st.sampled_from("ab-/.éµ\u2028"), min_size=1, max_size=30).filter(
    lambda word: not any(c.isspace() for c in word)
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=40), st.booleans(), st.integers(8, 90))
def test_text_is_wrapped_as_textwrap_wraps_it(words: list[str], item: bool, width: int) -> None:
    """Mail text is wrapped as the standard library's textwrap does, never breaking a
    word, at a hyphen or for being too long."""
    line = ("- " if item else "") + " ".join(words)
    expected = textwrap.fill(
        line,
        width=width,
        subsequent_indent="  " if line.startswith("- ") else "",
        break_long_words=False,
        break_on_hyphens=False,
    )
    assert html_to_text(f"<p>{html.escape(line)}</p>", width) == expected


@pytest.mark.validator
def test_email_editions_pass_the_nu_html_checker(bundled_output: Path, tmp_path: Path) -> None:
    emails = sorted(bundled_output.glob("digest/**/email.html"))
    assert len(emails) >= 13
    for i, email in enumerate(emails):
        shutil.copy2(email, tmp_path / f"email-{i}.html")
    assert nu_errors(tmp_path) == []


def test_links_left_open_cost_time_in_proportion_to_the_text() -> None:
    """A link's label stops at the next link. When an open link sent it to the end of
    the text instead, 10,000 of them took 7 s; this is eight times as many."""
    script = (
        "from site_builder.newsletter import html_to_text\n"
        "html = '<a href=\"x\">y ' * 80_000 + '<a href=\"https://x.org/z\">z</a>'\n"
        "print(html_to_text(html)[-40:])\n"
    )
    assert printed_by(script).endswith("y z (https://x.org/z)")
