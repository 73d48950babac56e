"""What readers never see and machines read: drafts and scheduled stories left out of
everything (and when the next goes live), JSON-LD, OpenGraph and Twitter meta,
``<time datetime>`` on every date shown, canonical links on paginated pages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from site_builder import cli
from tests.conftest import MakeSite, article, build_at
from tests.linkcheck import parse_page

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE_TEXT = re.compile(rf"\b\d{{1,2}} (?:{MONTHS}|{MONTHS[:3]})\b|\b(?:{MONTHS}) \d{{4}}\b")
VOID = frozenset(("meta", "link", "img", "br", "hr", "input", "source", "wbr"))
# Text the author wrote may mention dates in passing ("takes effect on 1 November").
AUTHORED = frozenset(("body", "summary", "story-summary", "dek", "intro", "toc-box"))
HAS_NEXT_PUBLISH = "next-publish" in cli.parser().format_help()

PUBLISHING = {
    "content/articles/now.md": article("Visible story", "2026-11-20 09:00", tags="[shared]"),
    "content/articles/draft.md": article(
        "Secret draft", "2026-11-19 09:00", tags="[shared, draftonly]", draft="true"
    ),
    "content/articles/later.md": article(
        "Scheduled story", "2026-12-01 08:00", tags="[shared, lateronly]"
    ),
    "content/articles/much-later.md": article("Much later", "2027-03-01 08:00"),
}


def everything(output: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(output.rglob("*")) if p.is_file())


def test_drafts_and_future_stories_are_in_no_page_list_digest_feed_or_sitemap(
    make_site: MakeSite,
) -> None:
    root = make_site(PUBLISHING)
    result = build_at(root)
    text = everything(root / "output")
    assert "Visible story" in text
    for hidden in ("Secret draft", "Scheduled story", "Much later", "draftonly", "lateronly"):
        assert hidden not in text, hidden
    assert not (root / "output/digest/2026/w49").exists()
    assert result.next_scheduled is not None
    assert result.next_scheduled.isoformat() == "2026-12-01T08:00:00+01:00"


def test_drafts_and_future_stories_appear_with_their_flags(make_site: MakeSite) -> None:
    root = make_site(PUBLISHING)
    result = build_at(root, drafts=True, future=True)
    text = everything(root / "output")
    assert "Secret draft" in text and "Scheduled story" in text
    assert (root / "output/digest/2026/w49/email.html").is_file()
    opml = (root / "output/feeds.opml").read_text(encoding="utf-8")
    assert "tags/lateronly/feed.xml" in opml
    assert result.next_scheduled is None


@pytest.mark.skipif(not HAS_NEXT_PUBLISH, reason="cli.py next-publish patch not applied")
def test_next_publish_prints_the_time_for_ci_or_nothing(make_site: MakeSite) -> None:
    root = make_site(PUBLISHING)
    env = {"SOURCE_DATE_EPOCH": "1795521600"}  # 2026-11-24 12:00 UTC, the tests' clock
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "next-publish", "--source", str(root)],
        capture_output=True,
        text=True,
        check=False,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    assert (done.returncode, done.stdout) == (0, "2026-12-01T08:00:00+01:00\n")
    assert not (root / "output").exists()
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "next-publish", "--source", str(root), "--future"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert (done.returncode, done.stdout) == (0, "")


def test_json_ld_is_a_news_article_and_cannot_close_its_script(make_site: MakeSite) -> None:
    title = "Chips </script><script>alert(1)</script> & more"
    root = make_site({"content/articles/x.md": article(title, "2026-11-20", tags="[ai]")})
    build_at(root)
    (page,) = (root / "output/articles").glob("*/index.html")
    html = page.read_text(encoding="utf-8")
    assert "</script><script>alert(1)" not in html
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert found is not None
    data = json.loads(found[1])
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == title
    assert data["datePublished"] == "2026-11-20T00:00:00+01:00"
    assert data["keywords"] == ["ai"]


def test_articles_have_opengraph_article_and_twitter_meta(bundled_output: Path) -> None:
    html = (bundled_output / "articles/poly-network-defi-hack/index.html").read_text(
        encoding="utf-8"
    )
    for needle in (
        '<meta property="og:type" content="article">',
        '<meta property="article:published_time" content="2021-08-10T21:00:00+02:00">',
        '<meta property="article:section" content="Security">',
        '<meta property="article:tag" content="security">',
        '<meta name="twitter:card" content="summary">',
        '<meta name="twitter:title" content="Attacker Drains More Than $600 Million from Poly',
    ):
        assert needle in html, needle


class DatesOutsideTime(HTMLParser):
    """Dates in the text of a page that are not inside a <time datetime> element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skip: inside <time> or authored)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        skip = (
            (tag == "time" and bool(values.get("datetime")))
            or tag in ("script", "style", "title", "head")
            or bool(classes & AUTHORED)
            or (bool(self.stack) and self.stack[-1][1])
        )
        self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]):
            self.found += DATE_TEXT.findall(data)


def test_every_date_shown_is_a_time_element(bundled_output: Path) -> None:
    pages = sorted(bundled_output.rglob("*.html"))
    shown = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        shown += text.count("<time datetime=")
        parser = DatesOutsideTime()
        parser.feed(text)
        assert parser.found == [], (page.relative_to(bundled_output), parser.found)
    assert shown > 100


def test_paginated_pages_are_canonical_to_themselves_with_prev_next(
    bundled_output: Path,
) -> None:
    second = parse_page(bundled_output / "page/2/index.html")
    assert ("canonical", "", "https://digest.example.org/page/2/") in second.rels
    assert ("prev", "", "/") in second.rels
    first = parse_page(bundled_output / "index.html")
    assert ("next", "", "/page/2/") in first.rels
    assert ("canonical", "", "https://digest.example.org/") in first.rels


def test_related_stories_share_tags_first_then_are_closest_in_time(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("Anchor", "2026-11-10", tags="[x, y]"),
            "content/articles/b.md": article("Both tags, older", "2026-11-01", tags="[x, y]"),
            "content/articles/c.md": article("One tag, next day", "2026-11-11", tags="[x]"),
            "content/articles/d.md": article("One tag, later", "2026-11-20", tags="[y]"),
            "content/articles/e.md": article("No shared tag", "2026-11-10 12:00", tags="[z]"),
        }
    )
    build_at(root)
    html = (root / "output/articles/a/index.html").read_text(encoding="utf-8")
    related = html[html.index('id="related-stories"') :]
    titles = re.findall(r'<li><a href="/articles/[^"]+/">([^<]+)</a>', related)
    assert titles == ["Both tags, older", "One tag, next day", "One tag, later"]
    build_at(root, incremental=False)
    assert (root / "output/articles/a/index.html").read_text(encoding="utf-8") == html
