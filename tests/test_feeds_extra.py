"""Feeds beyond the site's own: JSON Feed 1.1 everywhere, the weekly digest feed,
``/feeds.opml`` and ``/feeds/``, source attribution in every format, and the warning
for two stories citing one source.

feedparser reads RSS and Atom (it has no JSON Feed support in 6.0), so JSON feeds
are checked against the JSON Feed 1.1 required fields here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import pytest
from lxml import etree

from site_builder import content
from site_builder.errors import SiteWarning
from site_builder.site import source_identity
from tests.conftest import SITE_TOML, MakeSite, article, build_at, printed_by
from tests.test_incremental import clean_copy
from tests.test_output_safety import snapshot

BASE = "https://digest.example.org/"
SEED_TITLE = "Huawei May Start Selling 3rd Party Phones"
FEED_NAMES = ("feed.xml", "atom.xml", "feed.json")


def json_feed_problems(doc: Mapping[str, object]) -> list[str]:
    """What https://jsonfeed.org/version/1.1 requires and this document lacks."""
    problems = []
    if doc.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"version is {doc.get('version')!r}")
    if not isinstance(doc.get("title"), str) or not doc["title"]:
        problems.append("no title")
    items = doc.get("items")
    if not isinstance(items, list):
        return [*problems, "items is not a list"]
    for n, item in enumerate(items):
        problems += [f"item {n}: {problem}" for problem in _item_problems(item)]
    return problems


def _item_problems(item: Mapping[str, object]) -> list[str]:
    problems = []
    if not isinstance(item.get("id"), str) or not item["id"]:
        problems.append("no id")
    if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
        problems.append("neither content_html nor content_text")
    for key in ("date_published", "date_modified"):
        value = item.get(key)
        if value is not None and datetime.fromisoformat(str(value)).tzinfo is None:
            problems.append(f"{key} has no time zone")
    authors = item.get("authors", [])
    assert isinstance(authors, list)
    if any(not {"name", "url", "avatar"} & set(author) for author in authors):
        problems.append("an author with neither name, url nor avatar")
    return problems


def feed_problems(path: Path) -> list[str]:
    """Complaints about one feed file: feedparser's for XML, the 1.1 rules for JSON."""
    data = path.read_bytes()
    if path.suffix == ".json":
        return json_feed_problems(json.loads(data))
    parsed = feedparser.parse(data)
    return [f"{path}: {parsed.get('bozo_exception')}"] if parsed.bozo else []


def read(output: Path, rel: str) -> str:
    return (output / rel).read_text(encoding="utf-8")


def local(output: Path, url: str) -> Path:
    assert url.startswith(BASE), url
    return output / urlsplit(url).path.lstrip("/")


# --- The bundled site -------------------------------------------------------------------


def test_every_feed_in_the_opml_parses_without_complaint(bundled_output: Path) -> None:
    root = etree.fromstring((bundled_output / "feeds.opml").read_bytes())
    assert root.get("version") == "2.0"
    feeds = root.findall(".//outline[@xmlUrl]")
    assert len(feeds) >= 20
    for outline in feeds:
        assert outline.get("type") == "rss" and outline.get("text")
        path = local(bundled_output, outline.get("xmlUrl"))
        assert feed_problems(path) == [], path
        assert feedparser.parse(path.read_bytes()).entries, path
        assert local(bundled_output, outline.get("htmlUrl")).joinpath("index.html").is_file()


def test_the_opml_lists_every_feed_of_the_site_once(bundled_output: Path) -> None:
    root = etree.fromstring((bundled_output / "feeds.opml").read_bytes())
    listed = sorted(o.get("xmlUrl") for o in root.findall(".//outline[@xmlUrl]"))
    every = sorted(
        BASE + p.relative_to(bundled_output).as_posix() for p in bundled_output.rglob("feed.xml")
    )
    assert listed == every
    groups = [o.get("text") for o in root.findall("body/outline")]
    assert groups == ["Whole site", "Digest", "Tags", "Categories", "Authors"]


def test_every_feed_file_parses_and_is_on_the_feeds_page(bundled_output: Path) -> None:
    page = read(bundled_output, "feeds/index.html")
    assert 'href="/feeds.opml"' in page
    files = [p for name in FEED_NAMES for p in bundled_output.rglob(name)]
    assert len(files) >= 60
    for path in files:
        assert feed_problems(path) == [], path
        assert f'href="/{path.relative_to(bundled_output).as_posix()}"' in page, path


def test_json_feeds_carry_sources_as_external_url(bundled_output: Path) -> None:
    feed = json.loads(read(bundled_output, "feed.json"))
    by_title = {item["title"]: item for item in feed["items"]}
    poly = by_title["Attacker Drains More Than $600 Million from Poly Network"]
    assert poly["external_url"] == "https://www.bbc.com/news/business-58163917"
    assert "external_url" not in by_title[SEED_TITLE]  # its source line names no URL


def test_rss_and_atom_carry_sources(bundled_output: Path) -> None:
    rss = read(bundled_output, "feed.xml")
    assert '<source url="https://www.bbc.com/news/business-58163917">BBC News</source>' in rss
    atom = feedparser.parse(read(bundled_output, "atom.xml"))
    entry = next(e for e in atom.entries if "Poly Network" in e.title)
    via = [link for link in entry.links if link.rel == "via"]
    assert [link.href for link in via] == ["https://www.bbc.com/news/business-58163917"]
    page = read(bundled_output, "articles/poly-network-defi-hack/index.html")
    assert '<a href="https://www.bbc.com/news/business-58163917">BBC News</a>' in page


def test_weekly_digest_feed_has_one_item_per_issue_with_the_issue_as_content(
    bundled_output: Path,
) -> None:
    parsed = feedparser.parse(read(bundled_output, "digest/feed.xml"))
    assert parsed.bozo == 0
    issues = sorted((bundled_output / "digest").glob("*/w*/index.html"))
    assert len(parsed.entries) == len(issues)
    week = next(e for e in parsed.entries if e.link == f"{BASE}digest/2021/w33/")
    body = week.content[0].value
    assert SEED_TITLE in body
    assert "Data breaches, new chips and a privacy law for China" in body
    assert "<h2>Mobile</h2>" in body and "Tags: huawei, harmonyos, smartphones" in body
    for url in re.findall(r'(?:href|src)="([^"]*)"', body):
        assert urlsplit(url).scheme in ("http", "https"), url
    digest_json = json.loads(read(bundled_output, "digest/feed.json"))
    assert json_feed_problems(digest_json) == []


def test_the_seed_is_in_its_tags_feeds(bundled_output: Path) -> None:
    for tag in ("huawei", "harmonyos", "smartphones"):
        rss = feedparser.parse(read(bundled_output, f"tags/{tag}/feed.xml"))
        atom = feedparser.parse(read(bundled_output, f"tags/{tag}/atom.xml"))
        items = json.loads(read(bundled_output, f"tags/{tag}/feed.json"))["items"]
        assert SEED_TITLE in [e.title for e in rss.entries], tag
        assert SEED_TITLE in [e.title for e in atom.entries], tag
        assert SEED_TITLE in [item["title"] for item in items], tag


def test_pages_link_the_feeds_that_belong_to_them(bundled_output: Path) -> None:
    def alternates(rel: str) -> set[str]:
        html = read(bundled_output, rel)
        return set(
            re.findall(r'<link rel="alternate" type="[^"]+" title="[^"]*" href="([^"]+)"', html)
        )

    assert {"/tags/harmonyos/feed.xml", "/tags/harmonyos/feed.json"} <= alternates(
        "tags/harmonyos/index.html"
    )
    assert "/digest/atom.xml" in alternates("digest/2021/w33/index.html")
    assert "/tags/harmonyos/feed.xml" not in alternates("index.html")


# --- Made sites -------------------------------------------------------------------------


def test_digest_feed_links_keep_a_sub_path(make_site: MakeSite) -> None:
    config = SITE_TOML.replace('"https://test.example.org/"', '"https://test.example.org/news/"')
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Text.")}, config)
    build_at(root)
    feed = (root / "output/digest/feed.xml").read_text(encoding="utf-8")
    assert "https://test.example.org/news/articles/a/" in feed
    assert "https://test.example.org/articles/" not in feed


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://www.example.com/story/", "http://example.com/story"),
        ("https://example.com/story?utm_source=rss&id=7", "https://example.com/story?id=7"),
        ("https://example.com/a?fbclid=x&gclid=y", "https://EXAMPLE.com:443/a/#comments"),
    ],
)
def test_these_urls_cite_the_same_page(first: str, second: str) -> None:
    assert source_identity(first) == source_identity(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.com/story", "https://example.com/story-2"),
        ("https://example.com/story?id=7", "https://example.com/story?id=8"),
        ("https://example.com/Story", "https://example.com/story"),
        ("https://news.example.com/a", "https://example.com/a"),
    ],
)
def test_these_urls_do_not(first: str, second: str) -> None:
    assert source_identity(first) != source_identity(second)


TWINS = {
    "content/articles/a.md": article(
        "Alpha", "2026-11-17", source="'https://www.example.com/story/?utm_source=rss'"
    ),
    "content/articles/b.md": (
        "---\ntitle: Beta\ndate: 2026-11-18\ntags: [x]\nsource:\n"
        "  - https://other.example.net/\n  - http://example.com/story\n---\n\nText.\n"
    ),
    "content/articles/c.md": article("Gamma", "2026-11-19", source="'https://example.com/other'"),
}


def test_two_stories_citing_one_source_give_a_warning_naming_both(make_site: MakeSite) -> None:
    root = make_site(TWINS)
    result = build_at(root)
    (warning,) = result.warnings
    assert isinstance(warning, SiteWarning)
    assert warning.path == Path("content/articles/b.md")
    assert warning.message == (
        "source 'http://example.com/story' is also cited by content/articles/a.md"
    )
    assert warning.hint is not None and "content/articles/a.md" in warning.hint
    assert (root / "output/articles/b/index.html").is_file()  # a warning, not an error


@pytest.mark.skipif(not hasattr(content, "DIGESTS_DIR"), reason="content.py patch not applied")
def test_the_warning_points_at_the_source_line(make_site: MakeSite) -> None:
    (warning,) = build_at(make_site(TWINS)).warnings
    assert str(warning).startswith("content/articles/b.md:5: warning: ")


def test_drafts_do_not_count_as_citing(make_site: MakeSite) -> None:
    draft = article("Draft", "2026-11-20", source="'http://example.com/story'", draft="true")
    root = make_site(
        {"content/articles/a.md": TWINS["content/articles/a.md"], "content/articles/d.md": draft}
    )
    assert build_at(root).warnings == ()


def test_the_feed_lists_change_only_when_the_set_of_feeds_does(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", tags="[ai]")})
    build_at(root)
    (root / "content/articles/a.md").write_text(
        article("A", "2026-11-17", "New body.", tags="[ai]"), encoding="utf-8"
    )
    result = build_at(root)
    assert "feeds.opml" not in result.written and "feeds/index.html" not in result.written
    (root / "content/articles/b.md").write_text(
        article("B", "2026-11-18", tags="[robots]"), encoding="utf-8"
    )
    result = build_at(root)
    assert "feeds.opml" in result.written and "feeds/index.html" in result.written
    assert "tags/robots/feed.xml" in (root / "output/feeds.opml").read_text(encoding="utf-8")
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


RAW_HTML_BODY = """\
Text with a [Markdown link](/articles/other/) and raw HTML as editors paste it:

<p><a href='/archive/'>single-quoted</a> and <a href = "../up/">spaced</a></p>

<img src='chart.png' srcset='/img/chart-1x.png 1x, img/chart-2x.png 2x' alt='chart'>

<video src="clip.mp4" poster='poster.jpg'></video>

<p><a href=/unquoted/>unquoted</a> <img data-src='lazy.png' src=photo.jpg alt="a > b"></p>

Code that shows markup stays as written: `<img src=logo.png>`.
"""


def _urls(fragment: str) -> list[str]:
    """Every URL an HTML fragment (or page) points to, as a parser reads its attributes."""
    found = []
    for element in lxml.html.fromstring(f"<div>{fragment}</div>").iter():
        found += [element.get(name) for name in ("href", "src", "poster") if element.get(name)]
        if srcset := element.get("srcset"):
            found += [candidate.split()[0] for candidate in srcset.split(",")]
    return found


def test_feed_content_urls_are_absolute_however_the_html_is_quoted(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("Raw", "2026-11-02 09:00", RAW_HTML_BODY)})
    build_at(root)
    base = "https://test.example.org/articles/a/"
    # Unsanitised: feedparser's sanitiser drops srcset, as some readers do.
    rss, atom = (
        feedparser.parse(feed.read_bytes(), sanitize_html=False).entries[0].content[0].value
        for feed in (root / "output/feed.xml", root / "output/atom.xml")
    )
    json_item = json.loads((root / "output/feed.json").read_bytes())["items"][0]["content_html"]
    expected = [
        "https://test.example.org/articles/other/",
        "https://test.example.org/archive/",
        "https://test.example.org/articles/up/",
        f"{base}chart.png",
        "https://test.example.org/img/chart-1x.png",
        f"{base}img/chart-2x.png",
        f"{base}clip.mp4",
        f"{base}poster.jpg",
        "https://test.example.org/unquoted/",
        f"{base}photo.jpg",
    ]
    assert sorted(_urls(rss)) == sorted(_urls(atom)) == sorted(_urls(json_item)) == sorted(expected)
    for entry_html in (rss, atom, json_item):
        tree = lxml.html.fromstring(f"<div>{entry_html}</div>")
        assert [img.get("data-src") for img in tree.iter("img") if img.get("data-src")] == [
            "lazy.png"
        ]
        assert "<img src=logo.png>" in tree.text_content()


def test_a_sub_path_site_rebases_single_quoted_and_srcset_urls(make_site: MakeSite) -> None:
    toml = SITE_TOML.replace("https://test.example.org/", "https://test.example.org/news/")
    root = make_site(
        {"content/articles/a.md": article("Raw", "2026-11-02 09:00", RAW_HTML_BODY)}, config=toml
    )
    build_at(root)
    urls = _urls((root / "output/articles/a/index.html").read_text(encoding="utf-8"))
    assert "/news/archive/" in urls and "/news/img/chart-1x.png" in urls
    assert "/archive/" not in urls and "/img/chart-1x.png" not in urls


def test_unclosed_quotes_in_pasted_html_cost_time_in_proportion_to_the_text() -> None:
    """Each tag's scan stops at the next "<". When an unclosed quote sent it to the end
    of the text instead, 240 KB of such tags took 45 s; this is four times as much."""
    script = (
        "from site_builder.model import map_urls\n"
        "html = '<a title=\"x ' * 80_000 + \"<a href='/w'>w</a>\"\n"
        "print(map_urls(html, lambda url: 'https://example.org' + url)[-40:])\n"
    )
    assert printed_by(script).endswith("<a href='https://example.org/w'>w</a>")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("/images/cover.png", "https://user.github.io/news/images/cover.png"),
        ("cover.png", "https://user.github.io/news/articles/story/cover.png"),
        ("https://cdn.example.net/c.png", "https://cdn.example.net/c.png"),
    ],
)
def test_an_image_in_front_matter_is_found_where_the_page_shows_it(
    make_site: MakeSite, image: str, expected: str
) -> None:
    # A root-relative image is from the site's root, as the Markdown's links are: on a
    # site under a sub-path, the feed once dropped the sub-path.
    config = SITE_TOML.replace("https://test.example.org/", "https://user.github.io/news/")
    story = article("Story", "2026-11-20", image=f"'{image}'")
    root = make_site({"content/articles/story.md": story}, config=config)
    build_at(root)
    item = json.loads((root / "output/feed.json").read_text(encoding="utf-8"))["items"][0]
    assert item["image"] == expected
    page = (root / "output/articles/story/index.html").read_text(encoding="utf-8")
    assert f'<meta property="og:image" content="{expected}">' in page
    shown = lxml.html.fromstring(page).find(".//figure[@class='lead-image']/img").get("src")
    assert urljoin("https://user.github.io/news/articles/story/", shown) == expected
