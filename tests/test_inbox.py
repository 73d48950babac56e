"""The editor's inbox: list, publish and discard drafts that ingest wrote, from the
command line and through the functions the preview's /_inbox/ calls; the provenance
a published story carries into the site's feeds."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from site_builder.cli import main
from site_builder.config import load_config
from site_builder.errors import SiteError
from site_builder.inbox import inbox_action, inbox_page, read_inbox_form
from tests.conftest import MakeSite, article
from tests.test_ingest import FeedServer, atom, drafts, ingest, rss, server, site_with

__all__ = ["server"]  # the fixture, shared with the ingest tests
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))


@pytest.fixture
def ingested(make_site: MakeSite, server: FeedServer) -> Path:
    """A site whose inbox holds 20 drafts from an RSS and an Atom feed."""
    news = server.serve("/news.rss", rss(10), "application/rss+xml")
    blog = server.serve("/blog.atom", atom(10), "application/atom+xml")
    root = site_with(make_site, ("Example News", news), ("Example Blog", blog))
    assert ingest(root) == 0
    return root


def test_inbox_lists_candidates_newest_first_with_source_and_age(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["inbox", "--source", str(ingested)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "  13 d  Example Blog  Post 10 & more  content/inbox/post-10-more.md"
    )  # 2026-11-11 10:00 UTC, 13 days before the clock
    assert lines[1].startswith("  13 d  Example News  Story 10 from Example News")
    assert lines[-1] == "20 candidates in content/inbox/"


def test_publish_puts_the_story_on_the_front_page_and_in_the_feeds_with_its_source(
    ingested: Path, server: FeedServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    draft = "content/inbox/post-4-more.md"
    assert main(["publish", draft, "--source", str(ingested)]) == 0
    assert capsys.readouterr().out == f"{draft} -> content/articles/post-4-more.md\n"
    published = (ingested / "content" / "articles" / "post-4-more.md").read_text(encoding="utf-8")
    assert "\ndate: 2026-11-24T13:00:00+01:00\n" in published  # in the site's time zone
    assert "\ndraft: false\n" in published
    assert not (ingested / draft).exists()

    out = tmp_path / "out"
    assert main(["build", "--source", str(ingested), "--output", str(out)]) == 0
    assert "Post 4 &amp; more" in (out / "index.html").read_text(encoding="utf-8")
    rss_feed = feedparser.parse((out / "feed.xml").read_bytes())
    atom_feed = feedparser.parse((out / "atom.xml").read_bytes())
    assert rss_feed.bozo == 0 and atom_feed.bozo == 0
    [item] = rss_feed.entries
    assert item.source == {"href": "https://blog.example.net/atom.xml", "title": "Example Blog"}
    [entry] = etree.fromstring((out / "atom.xml").read_bytes()).findall(f"{ATOM}entry")
    source = entry.find(f"{ATOM}source")
    assert source is not None
    assert [
        (child.tag.removeprefix(ATOM), child.text or child.get("href")) for child in source
    ] == [
        ("id", "urn:example:blog"),
        ("title", "Example Blog"),
        ("updated", "2026-11-20T10:00:00+00:00"),
        ("link", "https://blog.example.net/atom.xml"),
    ]
    via = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel") == "via"]
    assert via == ["https://blog.example.net/post/4/"]


def test_discard_keeps_a_story_from_coming_back(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = ingested / "content" / "inbox" / "story-3-from-example-news.md"
    assert main(["discard", str(draft), "--source", str(ingested)]) == 0
    assert "(https://news.example.com/story/3 will not come back)" in capsys.readouterr().out
    record = json.loads((ingested / "inbox.json").read_text(encoding="utf-8"))
    assert list(record["discarded"]) == ["https://news.example.com/story/3"]
    assert not draft.exists()
    # Not even when the record's validators are gone and the feed is read in full again.
    record["feeds"] = {}
    (ingested / "inbox.json").write_text(json.dumps(record), encoding="utf-8")
    assert ingest(ingested) == 0
    assert not draft.exists() and len(drafts(ingested)) == 19


def test_only_drafts_in_the_inbox_can_be_published_or_discarded(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-20"), "notes.md": "x"})
    for given in ("content/articles/a.md", "site.toml", "content/inbox/../../notes.md", "nope.md"):
        assert main(["publish", given, "--source", str(root)]) == 1
        assert main(["discard", given, "--source", str(root)]) == 1
        err = capsys.readouterr().err
        assert err.count(f"error: {given!r}") == 2
    assert (root / "content" / "articles" / "a.md").exists() and (root / "notes.md").exists()


def test_the_preview_page_lists_candidates_with_buttons_carrying_the_token(
    make_site: MakeSite,
) -> None:
    hostile = article(
        "<script>alert(1)</script>",
        "2026-11-20T10:00:00+00:00",
        source='{name: "<b>Evil</b>", url: "https://evil.example/a?x=1&y=\\"2"}',
        draft="true",
    )
    root = make_site(
        {"content/inbox/evil.md": hostile, "content/inbox/old.md": article("Old", "2026-11-01")}
    )
    page = inbox_page(load_config(root, drafts=True), token="s3cr&t", base_path="/news/").decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Evil&lt;/b&gt;" in page
    assert 'href="https://evil.example/a?x=1&amp;y=&quot;2"' in page
    assert page.count('<form method="post" action="/news/_inbox/">') == 2
    assert page.count('<input type="hidden" name="token" value="s3cr&amp;t">') == 2
    assert page.index("evil.md") < page.index("old.md")  # newest first
    assert '<a href="/news/articles/evil/">' in page
    without_drafts = inbox_page(load_config(root), token="t", base_path="/news/").decode()
    assert "/news/articles/" not in without_drafts  # no page to link to
    # Not no-referrer: the browser would then send "Origin: null" with every button's POST.
    assert '<meta name="referrer" content="same-origin">' in page


def test_the_preview_actions_publish_and_discard(make_site: MakeSite) -> None:
    files = {
        f"content/inbox/{n}.md": article(n, "2026-11-20", source=f"'https://x.example/{n}'")
        for n in ("one", "two")
    }
    root = make_site(files)
    config = load_config(root)
    form = read_inbox_form(b"token=abc&action=publish&path=content%2Finbox%2Fone.md")
    assert not isinstance(form, SiteError)
    assert (form.action, form.path, form.token) == ("publish", "content/inbox/one.md", "abc")
    done = inbox_action(config, form.action, form.path, NOW)
    assert done == "content/inbox/one.md -> content/articles/one.md"
    assert inbox_action(config, "discard", "content/inbox/two.md", NOW) == (
        "content/inbox/two.md discarded (https://x.example/two will not come back)"
    )
    refused = inbox_action(config, "publish", "content/articles/one.md", NOW)
    assert isinstance(refused, SiteError) and "is not a draft in inbox/" in str(refused)
    for bad in (
        b"action=publish",
        b"action=delete&path=x",
        b"\xff",
        b"path=a&path=b&action=discard",
    ):
        assert isinstance(read_inbox_form(bad), SiteError)


def test_discards_at_once_are_all_recorded(make_site: MakeSite) -> None:
    names = [f"story-{n}" for n in range(24)]
    files = {
        f"content/inbox/{n}.md": article(n, "2026-11-20", source=f"'https://x.example/{n}'")
        for n in names
    }
    config = load_config(make_site(files))
    results: list[object] = []
    threads = [
        threading.Thread(
            target=lambda n=n: results.append(
                inbox_action(config, "discard", f"content/inbox/{n}.md", NOW)
            )
        )
        for n in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(isinstance(r, SiteError) for r in results) and len(results) == 24
    record = json.loads((config.root / "inbox.json").read_text(encoding="utf-8"))
    assert sorted(record["discarded"]) == sorted(f"https://x.example/{n}" for n in names)


def test_no_atom_source_of_the_bundled_site_lacks_its_feed_id_title_or_updated(
    bundled_output: Path,
) -> None:
    """The W3C feed validator's MissingSourceElement: an atom:source names its feed."""
    checked = 0
    for path in bundled_output.rglob("atom.xml"):
        for source in etree.parse(str(path)).iter(f"{ATOM}source"):
            names = {child.tag for child in source}
            assert {f"{ATOM}id", f"{ATOM}title", f"{ATOM}updated"} <= names, path
            checked += 1
    assert checked == 0  # the bundled stories cite pages, not feeds: link rel="via" only


def test_publish_keeps_the_editors_lines_and_never_replaces_an_article(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = (
        "---\ntitle: >-\n  A long title\n  on two lines\n# the editor's note\n"
        "date:\n  2026-11-20\ndraft: true\nsource: https://x.example/a\n---\n\nMy own words.\n"
    )
    root = make_site(
        {
            "content/inbox/story.md": edited,
            "content/articles/story.md": article("Older", "2026-11-01"),
        }
    )
    assert main(["publish", "content/inbox/story.md", "--source", str(root)]) == 0
    assert capsys.readouterr().out.endswith("-> content/articles/story-2.md\n")
    assert (root / "content" / "articles" / "story.md").read_text(encoding="utf-8") == article(
        "Older", "2026-11-01"
    )
    assert (root / "content" / "articles" / "story-2.md").read_text(encoding="utf-8") == (
        "---\ntitle: >-\n  A long title\n  on two lines\n# the editor's note\n"
        "date: 2026-11-24T13:00:00+01:00\ndraft: false\nsource: https://x.example/a\n---\n\n"
        "My own words.\n"
    )


def test_a_broken_draft_is_named_and_the_others_are_listed(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(
        {
            "content/inbox/good.md": article("Good", "2026-11-23T12:00:00+00:00", draft="true"),
            "content/inbox/bad.md": "---\ntitle: [unclosed\n---\n",
        }
    )
    assert main(["inbox", "--source", str(root)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "   1 d  -  Good  content/inbox/good.md",
        "1 candidate in content/inbox/",
    ]
    assert err.startswith("content/inbox/bad.md:2:")


def test_a_broken_source_feed_is_an_error_on_its_line_not_a_lost_atom_source(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    story = article(
        "Half",
        "2026-11-20",
        source="'https://x.example/a'",
        source_feed="{id: 'urn:x', title: X, updated: 'not a date', url: 'https://x.example/f'}",
    )
    root = make_site({"content/articles/half.md": story})
    assert main(["build", "--source", str(root), "--output", str(tmp_path / "out")]) == 1
    assert "content/articles/half.md:5:14: error: source_feed: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    # Written whole, as ingest writes it (the date unquoted, as a hand may): carried.
    fixed = story.replace("'not a date'", "2026-11-19T08:00:00Z")
    (root / "content/articles/half.md").write_text(fixed, encoding="utf-8")
    assert main(["build", "--source", str(root), "--output", str(tmp_path / "out")]) == 0
    atom_xml = etree.parse(str(tmp_path / "out" / "atom.xml"))
    [source] = atom_xml.iter(f"{ATOM}source")
    assert source.findtext(f"{ATOM}updated") == "2026-11-19T08:00:00+00:00"


@pytest.mark.validator
def test_the_preview_page_is_valid_html(make_site: MakeSite, tmp_path: Path) -> None:
    from tests.test_html_valid import nu_errors

    hostile = article('<i>Odd</i> & "quoted"', "2026-11-20", source="'https://x.example/?a=1&b=2'")
    root = make_site(
        {"content/inbox/odd.md": hostile, "content/inbox/plain.md": article("P", "2026-11-21")}
    )
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "inbox.html").write_bytes(inbox_page(load_config(root), token="t&<", base_path="/"))
    assert nu_errors(pages) == []
