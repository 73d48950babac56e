"""Tags, categories and authors: one term per normalised name (case, spaces, Unicode)
shown in its most used spelling, an index page, paginated term pages with canonical and
prev/next links, and per-term feeds in RSS, Atom and JSON Feed linked for autodiscovery."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import feedparser
import pytest

from tests.conftest import MakeSite, article, build_at
from tests.linkcheck import broken_links, parse_page
from tests.test_feeds_extra import feed_problems

ZURICH_NFD = unicodedata.normalize("NFD", "Zürich")
SITE = {
    "content/articles/a.md": article(
        "One", "2026-11-02", tags="[Machine Learning, Zürich]", category="AI", author="Zoë Chen"
    ),
    "content/articles/b.md": article(
        "Two", "2026-11-03", tags=f"[machine-learning, {ZURICH_NFD}]", category="ai"
    ),
    "content/articles/c.md": article(
        "Three", "2026-11-04", tags="[Machine Learning]", category="AI", author="zoë chen"
    ),
    "content/articles/d.md": article("Four", "2026-11-05", tags="[MACHINE  LEARNING]"),
    "content/articles/e.md": article("Five", "2026-11-06", tags="[Open Source]"),
}


@pytest.fixture
def output(make_site: MakeSite) -> Path:
    root = make_site(SITE)
    build_at(root)
    return root / "output"


def read(output: Path, rel: str) -> str:
    return (output / rel).read_text(encoding="utf-8")


def test_spellings_of_one_name_make_one_term_shown_as_most_used(output: Path) -> None:
    tags = sorted(p.name for p in (output / "tags").iterdir() if p.is_dir())
    assert tags == ["machine-learning", "open-source", "zürich"]
    page = read(output, "tags/machine-learning/index.html")
    assert '<h1 class="page-title">Machine Learning' in page
    assert "4 stories filed under this tag" in page
    assert read(output, "tags/zürich/index.html").count('class="card"') == 2


def test_categories_and_authors_are_normalised_the_same_way(output: Path) -> None:
    assert sorted(p.name for p in (output / "categories").iterdir() if p.is_dir()) == ["ai"]
    assert "3 stories filed under this category" in read(output, "categories/ai/index.html")
    author = read(output, "authors/zoë-chen/index.html")
    assert "2 stories filed under this author" in author


def test_each_taxonomy_has_an_index_with_counts(output: Path) -> None:
    tags = read(output, "tags/index.html")
    assert 'href="/tags/machine-learning/">Machine Learning' in tags
    assert 'href="/tags/zürich/">Zürich' in tags
    assert 'href="/categories/ai/">AI' in read(output, "categories/index.html")
    assert 'href="/authors/zoë-chen/">Zoë Chen' in read(output, "authors/index.html")


def test_term_pages_are_paginated_with_canonical_and_prev_next(output: Path) -> None:
    first = parse_page(output / "tags/machine-learning/index.html")
    second = parse_page(output / "tags/machine-learning/page/2/index.html")
    assert ("next", "", "/tags/machine-learning/page/2/") in first.rels
    assert ("prev", "", "/tags/machine-learning/") in second.rels
    canonical = [href for rel, _, href in second.rels if rel == "canonical"]
    assert canonical == ["https://test.example.org/tags/machine-learning/page/2/"]
    assert not (output / "tags/machine-learning/page/3").exists()
    assert list(broken_links(output)) == []


@pytest.mark.parametrize(
    "folder", ["tags/machine-learning", "tags/zürich", "categories/ai", "authors/zoë-chen"]
)
def test_every_term_has_three_feeds_that_parse(output: Path, folder: str) -> None:
    for name in ("feed.xml", "atom.xml", "feed.json"):
        assert feed_problems(output / folder / name) == [], (folder, name)
    for name in ("feed.xml", "atom.xml"):
        assert feedparser.parse(read(output, f"{folder}/{name}")).entries, (folder, name)
    assert json.loads(read(output, f"{folder}/feed.json"))["items"]


def test_a_term_page_links_its_own_feeds_for_autodiscovery(output: Path) -> None:
    for page in ("tags/zürich/index.html", "tags/machine-learning/page/2/index.html"):
        links = {
            (kind, href) for rel, kind, href in parse_page(output / page).rels if rel == "alternate"
        }
        folder = "/" + page.split("/index.html")[0].split("/page/")[0] + "/"
        assert ("application/rss+xml", folder + "feed.xml") in links
        assert ("application/atom+xml", folder + "atom.xml") in links
        assert ("application/feed+json", folder + "feed.json") in links
        assert ("application/rss+xml", "/feed.xml") in links  # and the site's own


def test_the_term_feed_keeps_the_display_name(output: Path) -> None:
    parsed = feedparser.parse(read(output, "tags/machine-learning/feed.xml"))
    assert parsed.feed.title == "Test Digest: Machine Learning"
    assert parsed.feed.link == "https://test.example.org/tags/machine-learning/"


def test_a_static_page_with_tags_builds_and_files_nothing(make_site: MakeSite) -> None:
    page = "---\ntitle: About\ntags: [w..w, Machine Learning]\n---\n\nUs.\n"
    root = make_site({**SITE, "content/pages/about.md": page})
    build_at(root)
    assert (root / "output/about/index.html").is_file()
    assert not (root / "output/tags/w-w").exists()
    assert "4 stories filed" in read(root / "output", "tags/machine-learning/index.html")
