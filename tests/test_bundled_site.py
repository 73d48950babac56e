"""The bundled site as a reader, a feed reader and a crawler see it."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.conftest import build_at, copy_bundled_site
from tests.linkcheck import broken_links, parse_page

SEED_SLUG = "huawei-may-start-selling-3rd-party-phones"
SEED_TITLE = "Huawei May Start Selling 3rd Party Phones"
BASE = "https://digest.example.org/"


def read(output: Path, rel: str) -> str:
    return (output / rel).read_text(encoding="utf-8")


def test_seed_article_has_its_own_page_with_its_text(bundled_output: Path) -> None:
    page = read(bundled_output, f"articles/{SEED_SLUG}/index.html")
    assert f"<h1>{SEED_TITLE}</h1>" in page or SEED_TITLE in page
    assert "Allegedly, Huawei will start selling smartphones" in page
    assert "Source :" in page  # the seed's empty source line is kept as written


def test_seed_article_is_on_the_front_page_and_its_tag_pages(bundled_output: Path) -> None:
    link = f'href="/articles/{SEED_SLUG}/"'
    front = read(bundled_output, "index.html") + read(bundled_output, "page/2/index.html")
    assert link in front
    for tag in ("huawei", "harmonyos", "smartphones"):
        assert link in read(bundled_output, f"tags/{tag}/index.html"), tag


def test_draft_is_nowhere(bundled_output: Path) -> None:
    everything = "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in bundled_output.rglob("*")
        if p.is_file()
    )
    assert "harmonyos-3-developer-beta-rumour" not in everything


@pytest.mark.parametrize("feed", ["feed.xml", "atom.xml"])
def test_site_feeds_parse_cleanly_with_complete_entries(bundled_output: Path, feed: str) -> None:
    parsed = feedparser.parse(read(bundled_output, feed))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 18
    ids = [entry.id for entry in parsed.entries]
    assert len(set(ids)) == len(ids)
    for entry in parsed.entries:
        assert entry.title
        assert entry.link.startswith(BASE)
        page = bundled_output / urlsplit(entry.link).path.lstrip("/") / "index.html"
        assert page.is_file(), entry.link
        stamp = entry.get("published") or entry.get("updated")
        assert re.search(r"([+-]\d{2}:?\d{2}|Z|GMT)$", stamp), stamp
    assert SEED_TITLE in [e.title for e in parsed.entries]


@pytest.mark.parametrize("feed", ["feed.xml", "atom.xml"])
def test_feed_content_is_full_with_absolute_urls(bundled_output: Path, feed: str) -> None:
    parsed = feedparser.parse(read(bundled_output, feed))
    seed = next(e for e in parsed.entries if e.title == SEED_TITLE)
    content = seed.content[0].value
    assert "The coming days seem to be pregnant with big events" in content
    for entry in parsed.entries:
        for url in re.findall(r'(?:href|src)="([^"]*)"', entry.content[0].value):
            assert urlsplit(url).scheme in ("http", "https"), (entry.title, url)


def test_feed_dates_come_from_articles_not_the_clock(bundled_output: Path) -> None:
    rss = feedparser.parse(read(bundled_output, "feed.xml"))
    atom = feedparser.parse(read(bundled_output, "atom.xml"))
    assert rss.feed.updated == "Fri, 27 Aug 2021 09:30:00 +0200"
    assert atom.feed.updated == "2021-08-27T09:30:00+02:00"


def test_stable_id_from_front_matter(bundled_output: Path) -> None:
    parsed = feedparser.parse(read(bundled_output, "atom.xml"))
    ids = {e.title: e.id for e in parsed.entries}
    assert "urn:uuid:5b0e7c3a-9d2f-4e61-a8c4-1f3b6d2e9a70" in ids.values()
    assert ids[SEED_TITLE] == f"{BASE}articles/{SEED_SLUG}/"


def test_json_feed_has_the_required_fields(bundled_output: Path) -> None:
    feed = json.loads(read(bundled_output, "feed.json"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"] == f"{BASE}feed.json"
    assert len(feed["items"]) == 18
    for item in feed["items"]:
        assert item["id"] and item["url"].startswith(BASE)
        assert "content_html" in item or "content_text" in item
        assert re.search(r"[+-]\d{2}:\d{2}$", item["date_published"])


def test_tag_feeds_exist_and_parse(bundled_output: Path) -> None:
    parsed = feedparser.parse(read(bundled_output, "tags/harmonyos/feed.xml"))
    assert parsed.bozo == 0
    assert [e.title for e in parsed.entries] == [SEED_TITLE]


def test_every_page_links_its_feeds_for_autodiscovery(bundled_output: Path) -> None:
    for page in bundled_output.rglob("*.html"):
        types = {t for rel, t, _ in parse_page(page).rels if rel == "alternate"}
        assert {"application/rss+xml", "application/atom+xml"} <= types, page


def test_every_page_has_canonical_and_social_meta(bundled_output: Path) -> None:
    for page in bundled_output.rglob("index.html"):
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<link rel="canonical" href="https://digest\.example\.org/', html), page
        assert 'property="og:title"' in html and 'name="twitter:card"' in html, page


def test_no_internal_link_is_broken(bundled_output: Path) -> None:
    assert list(broken_links(bundled_output)) == []


def test_sitemap_lists_every_page_and_robots_points_to_it(bundled_output: Path) -> None:
    sitemap = read(bundled_output, "sitemap.xml")
    pages = sorted(bundled_output.rglob("index.html"))
    locs = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    assert len(locs) == len(pages)
    assert f"{BASE}articles/{SEED_SLUG}/" in locs
    assert f"Sitemap: {BASE}sitemap.xml" in read(bundled_output, "robots.txt")


def test_pagination_and_archive(bundled_output: Path) -> None:
    assert (bundled_output / "page/2/index.html").is_file()
    assert not (bundled_output / "page/3/index.html").exists()
    archive = read(bundled_output, "archive/index.html")
    assert "2021" in archive and 'href="/archive/2021/08/">August</a>' in archive
    august = read(bundled_output, "archive/2021/08/index.html")
    assert august.count('href="/articles/') == archive_count(archive)


def test_code_is_highlighted_and_styles_are_shipped(bundled_output: Path) -> None:
    page = read(bundled_output, "articles/python-3-10-release-candidate/index.html")
    assert '<div class="highlight"><pre>' in page
    css = read(bundled_output, "static/pygments.css")
    assert ".highlight" in css and "prefers-color-scheme: dark" in css


def test_not_found_page_exists(bundled_output: Path) -> None:
    assert "<title>" in read(bundled_output, "404.html")


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_builds_in_different_folders_are_byte_identical(tmp_path: Path) -> None:
    first = copy_bundled_site(tmp_path / "one" / "site")
    second = copy_bundled_site(tmp_path / "elsewhere" / "two")
    build_at(first)
    build_at(second)
    assert _hashes(first / "output") == _hashes(second / "output")


def archive_count(index: str) -> int:
    """The story count the archive index gives for its one month."""
    found = re.search(r'<span class="count">(\d+) stories</span>', index)
    assert found, index
    return int(found[1])
