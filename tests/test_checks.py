"""``site_builder.checks``: links, anchors, ids and feeds of a site rendered in memory.

Site-level defects are planted in ``tests/sites/defects/`` and found at their source
lines. Feed checks run on small handmade RSS, Atom and JSON Feed documents, valid and
broken, because the builder itself never writes most of those defects.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import feedparser
import pytest

from site_builder import build
from site_builder.build import plan
from site_builder.checks import as_errors, check_site, format_problems, urls
from site_builder.cli import main
from site_builder.config import SiteConfig, load_config
from site_builder.errors import SiteError, SiteWarning
from site_builder.site import output_path
from tests.conftest import FIXED_NOW, copy_bundled_site
from tests.test_cli import run_cli

SITES = Path(__file__).parent / "sites"
BASE = "https://example.org/"


def make_config(root: Path, base_url: str = BASE) -> SiteConfig:
    return SiteConfig(root=root, title="Handmade", base_url=base_url, output_dir=root / "output")


def run(
    files: Mapping[str, str | bytes],
    *,
    base_url: str = BASE,
    sources: Mapping[str, str] | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[str]:
    """check_site on handmade files; each problem as its one-line ``str()``."""
    data = {path: v.encode() if isinstance(v, str) else v for path, v in files.items()}
    known = dict(texts or {})
    problems = check_site(
        data,
        make_config(Path("/nowhere"), base_url),
        sources or {},
        read_source=lambda path: known.get(path, ""),
    )
    return [str(p) for p in problems]


def check_built(root: Path) -> list[SiteError]:
    """What ``site-builder check`` does: plan, render in memory, check."""
    config = load_config(root)
    p = plan(config, now=FIXED_NOW, jobs=1)
    files = {spec.path: spec.render()[0] for spec in p.specs}
    sources = {output_path(a.url): a.source_path for a in (*p.site.articles, *p.site.pages)}
    return check_site(files, config, sources)


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html>\n<html>\n<head>{head}</head>\n<body>\n{body}\n</body>\n</html>\n"


# --- Whole sites ------------------------------------------------------------------------

DEFECTS = [
    "content/articles/broken-link.md:7:54: error: broken link '/news/articles/no-such-story/': "
    "the site has no articles/no-such-story/index.html (also in 4 other files)",
    "content/articles/broken-link.md:10:42: error: missing anchor in link "
    "'/news/articles/other/#no-such-anchor': articles/other/index.html has no id "
    "'no-such-anchor'",
    "content/articles/broken-link.md:12:33: error: broken image '/news/images/missing-chart.svg': "
    "the site has no images/missing-chart.svg",
]
# Two stories with one `id:` no longer reach the check: the build refuses them
# (tests/test_permalinks.py); check_site's own duplicate-id rule is tested on handmade feeds.


def test_each_planted_defect_is_found_at_its_source_line(tmp_path: Path) -> None:
    root = shutil.copytree(SITES / "defects", tmp_path / "defects")
    assert [str(p) for p in check_built(root)] == DEFECTS


def test_the_bundled_site_has_no_problem(tmp_path: Path) -> None:
    assert check_built(copy_bundled_site(tmp_path / "site")) == []


def test_the_golden_sub_path_site_has_no_problem(tmp_path: Path) -> None:
    assert check_built(shutil.copytree(SITES / "golden", tmp_path / "golden")) == []


# --- Links, anchors and ids in HTML ---------------------------------------------------------


def test_every_kind_of_working_link_passes() -> None:
    links = [
        "/a/",  # root-relative
        "/a",  # a folder without its slash
        "a/",  # relative
        "./a/../a/",
        "/a/#x",  # another page's id
        "#top",  # HTML scrolls to the top without such an id
        "#here",
        "?page=2",
        "",
        "/static/x.css",
        f"{BASE}a/",  # the site's own absolute URL
        "https://other.example/missing/",  # other sites are not checked
        "//cdn.example/x.js",
        "mailto:desk@example.org",
        "data:image/gif;base64,R0lGOD",
        "/a/%E2%9C%93/",  # percent-encoded path
        "/a/#legacy",  # <a name=...>
    ]
    body = "".join(f'<a href="{href}">x</a>\n' for href in links) + '<p id="here"></p>'
    files = {
        "index.html": page(body),
        "a/index.html": page('<h2 id="x">X</h2><a name="legacy"></a>'),
        "a/✓/index.html": page(""),
        "static/x.css": "",
    }
    assert run(files) == []


def test_broken_link_in_a_template_is_reported_in_the_output_once() -> None:
    nav = '<nav><a href="/about/">About</a></nav>'
    files = {"index.html": page(nav), "a/index.html": page(nav), "b/index.html": page(nav)}
    assert run(files) == [
        "a/index.html:5:6: error: broken link '/about/': the site has no about/index.html"
        " (also in 2 other files)"
    ]


def test_broken_link_in_an_article_is_reported_at_its_markdown_line() -> None:
    files = {
        "articles/x/index.html": page('<nav><a href="/">Home</a></nav>\n<p><a href="../y/">Y</a>'),
        "index.html": page(""),
    }
    texts = {"content/articles/x.md": "---\ntitle: X\n---\n\nSee [the other](../y/) story.\n"}
    sources = {"articles/x/index.html": "content/articles/x.md"}
    assert run(files, sources=sources, texts=texts) == [
        "content/articles/x.md:5:17: error: broken link '../y/': the site has no "
        "articles/y/index.html"
    ]


def test_a_link_that_begins_another_written_before_it_is_found_at_its_own_line() -> None:
    files = {
        "articles/x/index.html": page('<a href="/docs/x/">a</a> <a href="/docs">b</a>'),
        "index.html": page(""),
    }
    texts = {"content/articles/x.md": "---\ntitle: X\n---\n\n[a](/docs/x/)\n\n[b](/docs)\n"}
    sources = {"articles/x/index.html": "content/articles/x.md"}
    assert run(files, sources=sources, texts=texts) == [
        "content/articles/x.md:5:5: error: broken link '/docs/x/': the site has no "
        "docs/x/index.html",
        "content/articles/x.md:7:5: error: broken link '/docs': the site has no docs",
    ]


def test_a_link_not_found_in_the_source_falls_back_to_the_output() -> None:
    files = {"articles/x/index.html": page('<a href="/gone/">gone</a>')}
    sources = {"articles/x/index.html": "content/articles/x.md"}
    texts = {"content/articles/x.md": "No such link written here.\n"}
    assert run(files, sources=sources, texts=texts) == [
        "articles/x/index.html:5:1: error: broken link '/gone/': the site has no gone/index.html"
    ]


def test_summary_on_a_list_page_folds_into_the_articles_report() -> None:
    broken = '<p>See <a href="/articles/gone/">this</a>.</p>'
    files = {"articles/x/index.html": page(broken), "index.html": page(broken)}
    sources = {"articles/x/index.html": "content/articles/x.md"}
    texts = {"content/articles/x.md": "See [this](/articles/gone/).\n"}
    assert run(files, sources=sources, texts=texts) == [
        "content/articles/x.md:1:12: error: broken link '/articles/gone/': the site has no "
        "articles/gone/index.html (also in 1 other file)"
    ]


def test_sub_path_site_finds_rebased_links_in_the_source_and_refuses_links_outside() -> None:
    html = page('<a href="/news/articles/y/">Y</a>\n<a href="/elsewhere/">E</a>')
    files = {"articles/x/index.html": html, "index.html": page('<a href="/news">home</a>')}
    sources = {"articles/x/index.html": "content/articles/x.md"}
    texts = {"content/articles/x.md": "[Y](/articles/y/)\n"}
    assert run(files, base_url="https://example.org/news/", sources=sources, texts=texts) == [
        "articles/x/index.html:6:1: error: link '/elsewhere/' is outside the site, which "
        "lives under /news/; readers get a 404",
        "content/articles/x.md:1:5: error: broken link '/news/articles/y/': the site has no "
        "articles/y/index.html",
    ]


def test_relative_link_above_the_top_folder() -> None:
    assert run({"a/index.html": page('<a href="../../x/">x</a>')}) == [
        "a/index.html:5:1: error: link '../../x/' points above the site's top folder; "
        "readers get a 404"
    ]


def test_own_absolute_urls_are_checked_like_internal_ones() -> None:
    files = {"index.html": page("", head=f'<link rel="canonical" href="{BASE}old/">')}
    assert run(files) == [
        "index.html:3:7: error: broken link 'https://example.org/old/': the site has no "
        "old/index.html"
    ]


def test_missing_anchor_suggests_the_closest_id(tmp_path: Path) -> None:
    files = {"index.html": page('<h2 id="details">D</h2>\n<a href="#detials">d</a>')}
    problems = check_site({k: v.encode() for k, v in files.items()}, make_config(tmp_path), {})
    assert [p.report() for p in problems] == [
        "index.html:6:1: error: missing anchor in link '#detials': this page has no id "
        "'detials'\n  hint: did you mean '#details'?"
    ]


def test_duplicate_ids_on_one_page() -> None:
    assert run({"index.html": page('<p id="a">1</p>\n<p id="b">2</p>\n<p id="a">3</p>')}) == [
        "index.html:7:1: error: id 'a' is used twice on one page; links to #a reach the first"
    ]


def test_an_id_used_three_times_is_reported_once_at_its_second_use() -> None:
    body = '<p id="a">1</p>\n<p id="a">2</p>\n<p id="a">3</p>'
    assert run({"index.html": page(body)}) == [
        "index.html:6:1: error: id 'a' is used twice on one page; links to #a reach the first"
    ]


def test_a_url_is_reported_at_its_first_place_and_named_as_its_first_tag_names_it() -> None:
    body = '<a href="/gone.svg">a</a>\n<img src="/gone.svg">\n<img src="/lost.svg">'
    assert run({"index.html": page(body)}) == [
        "index.html:5:1: error: broken link '/gone.svg': the site has no gone.svg",
        "index.html:7:1: error: broken image '/lost.svg': the site has no lost.svg",
    ]


def test_links_to_ids_of_their_own_page() -> None:
    body = (
        '<h2 id="a b">A</h2><h2 id="c">C</h2>\n'
        '<a href="#a%20b">fine</a><a href="#c#d">lost</a>\n'
        '<a href="#c\td">a tab, dropped</a><a href="#TOP">fine</a><a href="#">fine</a>'
    )
    assert run({"index.html": page(body)}) == [
        "index.html:6:26: error: missing anchor in link '#c#d': this page has no id 'c#d'",
        "index.html:7:1: error: missing anchor in link '#c\\td': this page has no id 'cd'",
    ]


URLS = [
    "https://other.example/a/b?c#d",
    "http://other.example",
    "https://",
    "https:///no-host/",
    "https://[::1]/ipv6/",
    "https://[bad/",
    "https://h\tost/",
    "HTTPS://other.example/",
    "https://example.org/a/",
    "https://example.org",
    "https://exämple.org/",
    "https://example.org.evil/x",
    "https:other",
    "/a/",
    "/",
    "/news",
    "/news/a/b.html",
    "/a?b=1",
    "/a#b",
    "//host/x",
    "/a%20b/",
    "/a\tb/",
    "/é/",
    "/a:b",
    "https://example.org/news/a/",
    "https://example.org/news",
    "https://example.org/news/a:b/",
    "https://example.org/news//host/",
    "https://example.org/news/a%20b/",
    "https://example.org/news/a?b#c",
    "https://example.org/news/zürich/",
    "mailto:x@example.org",
]


@pytest.mark.parametrize("base_url", [BASE, "https://example.org/news/"])
@pytest.mark.parametrize("url", URLS)
def test_urls_are_told_apart_as_urlsplit_tells_them(
    url: str, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(Path("/nowhere"), base_url)
    quick = (urls.target_of(url, "a/index.html", config), urls.is_absolute(url))
    for shortcut in ("_WEB_URL", "_SITE_PATH"):  # every URL asks urlsplit
        monkeypatch.setattr(urls, shortcut, re.compile("(?!)"))
    assert (urls.target_of(url, "a/index.html", config), urls.is_absolute(url)) == quick


# --- Feeds ---------------------------------------------------------------------------------

RSS = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Handmade</title>
    <link>https://example.org/</link>
    <description>A feed written by hand</description>
    <atom:link href="https://example.org/feed.xml" rel="self" type="application/rss+xml"/>
    <item>
      <title>First</title>
      <link>https://example.org/articles/first/</link>
      <guid isPermaLink="false">urn:uuid:1</guid>
      <pubDate>Tue, 10 Nov 2026 17:45:00 +0100</pubDate>
      <description>&lt;a href="https://example.org/articles/second/"&gt;next&lt;/a&gt;</description>
      <content:encoded><![CDATA[<img src="https://example.org/a.svg">]]></content:encoded>
    </item>
    <item>
      <title>Second</title>
      <link>https://example.org/articles/second/</link>
      <guid>https://example.org/articles/second/</guid>
      <pubDate>Mon, 09 Nov 2026 08:00:00 GMT</pubDate>
    </item>
  </channel>
</rss>
"""

ATOM = """\
<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>https://example.org/atom.xml</id>
  <title>Handmade</title>
  <updated>2026-11-10T17:45:00+01:00</updated>
  <link href="https://example.org/atom.xml" rel="self"/>
  <link href="https://example.org/"/>
  <entry>
    <id>urn:uuid:1</id>
    <title>First</title>
    <updated>2026-11-10T17:45:00+01:00</updated>
    <published>2026-11-10T17:45:00Z</published>
    <link href="https://example.org/articles/first/"/>
    <content type="html">&lt;a href="https://example.org/"&gt;home&lt;/a&gt;</content>
  </entry>
  <entry>
    <id>urn:uuid:2</id>
    <title>Second</title>
    <updated>2026-11-09T08:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://example.org/articles/second/"/>
    <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><a href="https://example.org/">home</a></div></summary>
  </entry>
</feed>
"""

JSON_FEED: dict[str, Any] = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Handmade",
    "home_page_url": "https://example.org/",
    "feed_url": "https://example.org/feed.json",
    "items": [
        {
            "id": "urn:uuid:1",
            "url": "https://example.org/articles/first/",
            "content_html": '<p><a href="https://example.org/">home</a></p>',
            "date_published": "2026-11-10T17:45:00+01:00",
        },
        {
            "id": "urn:uuid:2",
            "url": "https://example.org/articles/second/",
            "content_text": "Plain text.",
            "date_published": "2026-11-09T08:00:00Z",
            "date_modified": "2026-11-09T09:00:00.5Z",
        },
    ],
}


def changed(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(("name", "text"), [("feed.xml", RSS), ("atom.xml", ATOM)])
def test_handmade_xml_feeds_are_valid_for_feedparser_and_for_the_check(
    name: str, text: str
) -> None:
    assert feedparser.parse(text).bozo == 0
    assert run({name: text}) == []


def test_handmade_json_feed_passes() -> None:
    assert run({"feed.json": json.dumps(JSON_FEED, indent=2)}) == []


def test_relative_url_in_a_feed_is_reported_at_its_markdown_line() -> None:
    """The builder makes every URL in its feeds absolute; a feed a template writes
    itself may not, and the report must still lead to the story's source."""
    feed = changed(RSS, 'src="https://example.org/a.svg"', 'src="a.svg"')
    sources = {"articles/first/index.html": "content/articles/first.md"}
    texts = {"content/articles/first.md": "---\ntitle: First\n---\n\nA chart: ![chart](a.svg)\n"}
    assert run({"feed.xml": feed}, sources=sources, texts=texts) == [
        "content/articles/first.md:5:19: error: relative URL 'a.svg' in a feed entry's content "
        "(in feed.xml)"
    ]


RSS_DEFECTS = [
    (
        '<guid isPermaLink="false">urn:uuid:1</guid>',
        "",
        "feed.xml:8: error: item 1: no <guid>",
    ),
    (
        "<guid>https://example.org/articles/second/</guid>",
        '<guid isPermaLink="false">urn:uuid:1</guid>',
        "feed.xml:16: error: feed id 'urn:uuid:1' is used by two stories: feed.xml item 1 "
        "and feed.xml item 2",
    ),
    (
        'src="https://example.org/a.svg"',
        'src="a.svg"',
        "feed.xml:8: error: relative URL 'a.svg' in a feed entry's content",
    ),
    (
        '&lt;a href="https://example.org/articles/second/"',
        '&lt;a href="/articles/second/"',
        "feed.xml:8: error: relative URL '/articles/second/' in a feed entry's content",
    ),
    (
        "<link>https://example.org/articles/first/</link>",
        "<link>/articles/first/</link>",
        "feed.xml:8: error: item 1: link '/articles/first/' is not an absolute URL",
    ),
    (
        "<link>https://example.org/articles/first/</link>",
        "",
        "feed.xml:8: warning: item 1: no <link>; readers cannot open the story",
    ),
    (
        "17:45:00 +0100",
        "17:45:00",
        "feed.xml:12: error: item 1: <pubDate> 'Tue, 10 Nov 2026 17:45:00' has no time zone; "
        "expected e.g. 'Tue, 10 Nov 2026 17:45:00 +0100'",
    ),
    (
        "<pubDate>Tue, 10 Nov 2026 17:45:00 +0100</pubDate>",
        "<pubDate>2026-11-10T17:45:00+01:00</pubDate>",
        "feed.xml:12: error: item 1: <pubDate> '2026-11-10T17:45:00+01:00' is not an RFC 822 "
        "date; expected e.g. 'Tue, 10 Nov 2026 17:45:00 +0100'",
    ),
    (
        "<guid>https://example.org/articles/second/</guid>",
        "<guid>second</guid>",
        "feed.xml:16: error: item 2: <guid> 'second' is a permalink but not an absolute URL",
    ),
    (
        'href="https://example.org/feed.xml"',
        'href="https://example.org/rss.xml"',
        'feed.xml:7: error: feed: <atom:link rel="self"> is '
        "'https://example.org/rss.xml', but the feed is served at 'https://example.org/feed.xml'",
    ),
    (
        '<atom:link href="https://example.org/feed.xml" rel="self" type="application/rss+xml"/>',
        "",
        'feed.xml:3: error: feed: no <atom:link rel="self">; expected '
        "'https://example.org/feed.xml'",
    ),
    (
        "<title>Handmade</title>",
        "",
        "feed.xml:3: error: feed: no <title>, which RSS 2.0 requires",
    ),
    (
        'version="2.0"',
        'version="0.91"',
        "feed.xml:2: error: feed: version '0.91'; expected '2.0'",
    ),
    (
        "</channel>",
        "</chanel>",
        "feed.xml:22:12: error: not well-formed XML: Opening and ending tag "
        "mismatch: channel line 3 and chanel",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), RSS_DEFECTS)
def test_rss_defects(old: str, new: str, expected: str) -> None:
    assert run({"feed.xml": changed(RSS, old, new)}) == [expected]


ATOM_DEFECTS = [
    ("<id>urn:uuid:1</id>", "", "atom.xml:8: error: entry 1: no <id>, which Atom requires"),
    (
        "<id>urn:uuid:2</id>",
        "<id>urn:uuid:1</id>",
        "atom.xml:16: error: feed id 'urn:uuid:1' is used by two stories: atom.xml entry 1 "
        "and atom.xml entry 2",
    ),
    (
        "<updated>2026-11-09T08:00:00Z</updated>",
        "<updated>2026-11-09T08:00:00</updated>",
        "atom.xml:19: error: entry 2: <updated> '2026-11-09T08:00:00' has no time zone; "
        "expected e.g. '2026-11-10T17:45:00+01:00'",
    ),
    (
        "<published>2026-11-10T17:45:00Z</published>",
        "<published>10 Nov 2026</published>",
        "atom.xml:12: error: entry 1: <published> '10 Nov 2026' is not a date; expected "
        "RFC 3339 such as '2026-11-10T17:45:00+01:00'",
    ),
    (
        '<a href="https://example.org/">home</a></div>',
        '<a href="/">home</a></div>',
        "atom.xml:16: error: relative URL '/' in a feed entry's content",
    ),
    (
        '&lt;a href="https://example.org/"',
        '&lt;a href="../"',
        "atom.xml:8: error: relative URL '../' in a feed entry's content",
    ),
    (
        '<link rel="alternate" type="text/html" href="https://example.org/articles/second/"/>',
        '<link rel="via" href="https://example.org/elsewhere/"/>',
        'atom.xml:16: error: entry 2: no <link rel="alternate">; readers cannot open the story',
    ),
    (
        '<link href="https://example.org/atom.xml" rel="self"/>',
        '<link href="https://example.org/feed.atom" rel="self"/>',
        "atom.xml:6: error: feed: <link rel=\"self\"> is 'https://example.org/feed.atom', "
        "but the feed is served at 'https://example.org/atom.xml'",
    ),
    (
        "<updated>2026-11-10T17:45:00+01:00</updated>\n  <link",
        "<link",
        "atom.xml:2: error: feed: no <updated>, which Atom requires",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), ATOM_DEFECTS)
def test_atom_defects(old: str, new: str, expected: str) -> None:
    assert run({"atom.xml": changed(ATOM, old, new)}) == [expected]


def json_feed_with(path: tuple[str | int, ...], value: object) -> str:
    """The handmade JSON Feed with one value replaced, or removed when ``value`` is ..."""
    doc = copy.deepcopy(JSON_FEED)
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return json.dumps(doc, indent=2)


JSON_DEFECTS = [
    (("items", 0, "id"), 1, "feed.json: error: items[0]: id is 1; expected a non-empty string"),
    (
        ("items", 0, "id"),
        ...,
        "feed.json: error: items[0]: id is None; expected a non-empty string",
    ),
    (
        ("items", 1, "id"),
        "urn:uuid:1",
        "feed.json: error: feed id 'urn:uuid:1' is used by two stories: feed.json items[0] "
        "and feed.json items[1]",
    ),
    (
        ("items", 1, "content_text"),
        ...,
        "feed.json: error: items[1]: neither content_html nor content_text, one of which is "
        "required",
    ),
    (
        ("items", 0, "date_published"),
        "2026-11-10T17:45:00",
        "feed.json: error: items[0]: date_published '2026-11-10T17:45:00' has no time zone; "
        "expected e.g. '2026-11-10T17:45:00+01:00'",
    ),
    (
        ("items", 0, "date_published"),
        ...,
        "feed.json: error: items[0]: no date_published; readers cannot date the story",
    ),
    (
        ("items", 1, "date_modified"),
        "2026-11-09 09:00:00+00:00",
        "feed.json: error: items[1]: date_modified '2026-11-09 09:00:00+00:00' is not in "
        "RFC 3339 form; expected e.g. '2026-11-10T17:45:00+01:00'",
    ),
    (
        ("items", 0, "content_html"),
        '<img src="chart.png">',
        "feed.json: error: relative URL 'chart.png' in a feed entry's content",
    ),
    (
        ("items", 0, "url"),
        "articles/first/",
        "feed.json: error: items[0]: link 'articles/first/' is not an absolute URL",
    ),
    (
        ("feed_url",),
        "https://example.org/feed.xml",
        "feed.json: error: feed: feed_url is 'https://example.org/feed.xml', but the feed is "
        "served at 'https://example.org/feed.json'",
    ),
    (
        ("version",),
        "1.1",
        "feed.json: error: feed: version '1.1'; expected 'https://jsonfeed.org/version/1.1'",
    ),
    (("title",), ..., "feed.json: error: feed: no title, which JSON Feed requires"),
    (
        ("items",),
        {},
        "feed.json: error: feed: items is missing or not a list; readers see no stories",
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), JSON_DEFECTS)
def test_json_feed_defects(path: tuple[str | int, ...], value: object, expected: str) -> None:
    assert run({"feed.json": json_feed_with(path, value)}) == [expected]


def test_json_feed_that_is_not_json() -> None:
    assert run({"feed.json": '{"version": '}) == [
        "feed.json:1:13: error: not valid JSON: Expecting value"
    ]


def test_a_feed_served_under_a_sub_path_needs_the_full_self_link() -> None:
    rss = changed(RSS, "https://example.org/feed.xml", "https://example.org/news/tags/ai/feed.xml")
    assert run({"tags/ai/feed.xml": rss}, base_url="https://example.org/news/") == []


def test_the_same_story_in_two_feeds_shares_its_id_rightly() -> None:
    tag_feed = changed(RSS, "/feed.xml", "/tags/x/feed.xml")
    assert run({"feed.xml": RSS, "tags/x/feed.xml": tag_feed}) == []


# --- Output formats and --strict ---------------------------------------------------------------

PROBLEMS: list[SiteError] = [
    SiteError("broken link '/a,b/'", path="content/x.md", line=3, column=7, hint="fix it"),
    SiteWarning("100% sure:\nmaybe", path="out:put/f,eed.xml", line=2),
    SiteError("no place"),
]


def test_text_format_is_the_terminal_report() -> None:
    assert format_problems(PROBLEMS, "text") == (
        "content/x.md:3:7: error: broken link '/a,b/'\n  hint: fix it\n"
        "out:put/f,eed.xml:2: warning: 100% sure:\nmaybe\n"
        "error: no place"
    )


def test_json_format_has_one_object_per_problem() -> None:
    assert json.loads(format_problems(PROBLEMS, "json")) == [
        {
            "severity": "error",
            "path": "content/x.md",
            "line": 3,
            "column": 7,
            "message": "broken link '/a,b/'",
            "hint": "fix it",
        },
        {
            "severity": "warning",
            "path": "out:put/f,eed.xml",
            "line": 2,
            "column": None,
            "message": "100% sure:\nmaybe",
            "hint": None,
        },
        {
            "severity": "error",
            "path": None,
            "line": None,
            "column": None,
            "message": "no place",
            "hint": None,
        },
    ]
    assert format_problems([], "json") == "[]"


def test_github_format_escapes_as_workflow_commands_require() -> None:
    assert format_problems(PROBLEMS, "github", prefix="site/").splitlines() == [
        "::error file=site/content/x.md,line=3,col=7::broken link '/a,b/'%0Ahint: fix it",
        "::warning file=site/out%3Aput/f%2Ceed.xml,line=2::100%25 sure:%0Amaybe",
        "::error::no place",
    ]


def test_strict_makes_warnings_errors_in_place() -> None:
    strict = as_errors(PROBLEMS)
    assert [p.severity for p in strict] == ["error", "error", "error"]
    assert str(strict[1]) == "out:put/f,eed.xml:2: error: 100% sure:\nmaybe"
    assert strict[0] is PROBLEMS[0]


# --- The command ---------------------------------------------------------------------------


def test_check_command_reports_every_defect_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shutil.copytree(SITES / "defects", tmp_path / "defects")
    assert main(["check", "--source", str(root), "--jobs", "1"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if not line.startswith("  hint: ")]
    assert errors == [*DEFECTS, "Checked 43 files: 3 errors, 0 warnings"]
    assert captured.out == ""
    assert not (root / "output").exists()


def test_a_check_across_worker_processes_reports_what_one_process_does(tmp_path: Path) -> None:
    root = shutil.copytree(SITES / "defects", tmp_path / "defects")
    for n in range(150):  # enough stories for the check to use worker processes
        (root / f"content/articles/filler-{n:03d}.md").write_text(
            f"---\ntitle: Filler {n}\ndate: 2026-10-{1 + n % 28:02d} 08:00\ntags: [t{n % 30}]\n"
            "---\n\nSee [the other story's details](/articles/other/#details).\n",
            encoding="utf-8",
        )

    def check_with(jobs: str) -> list[str]:
        done = run_cli("check", "--source", str(root), "--jobs", jobs)
        assert done.returncode == 1, done.stderr
        return done.stderr.splitlines()

    in_parallel = check_with("2")
    assert in_parallel == check_with("1")
    assert [line for line in in_parallel if line.startswith("content/")] == DEFECTS
    checked = int(in_parallel[-1].split()[1])
    assert checked > build._PARALLEL_THRESHOLD


def test_check_command_annotates_for_github(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(SITES / "defects", tmp_path / "defects")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    assert main(["check", "--source", "defects", "--jobs", "1", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(DEFECTS)
    assert lines[0].startswith(
        "::error file=defects/content/articles/broken-link.md,line=7,col=54::broken link "
    )


def test_check_command_passes_the_bundled_site_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_bundled_site(tmp_path / "site")
    assert main(["check", "--source", str(root), "--jobs", "1", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert captured.err.endswith(" files: 0 errors, 0 warnings\n")


def test_check_command_without_a_site_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--source", str(tmp_path)]) == 2
    assert "site.toml: error: no site.toml here" in capsys.readouterr().err
