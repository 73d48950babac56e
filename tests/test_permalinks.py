"""Permanent ids and old URLs: the ledger logic on its own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from site_builder.errors import BuildFailed, ContentError
from site_builder.permalinks import Placed, dump_ledger, parse_ledger, reconcile
from tests.conftest import MakeSite, article, build_at
from tests.linkcheck import broken_links


def placed(source: str, url: str, pinned: str | None = None, *aliases: str) -> Placed:
    return Placed(
        source=source, url=url, title=f"Title of {url}", pinned_id=pinned, aliases=aliases
    )


def test_a_new_article_takes_its_first_url_as_its_id() -> None:
    done = reconcile([placed("content/articles/a.md", "/articles/a/")], [])
    assert done.ids == {"content/articles/a.md": "/articles/a/"}
    assert done.redirects == () and done.problems == ()


def test_a_changed_slug_keeps_the_id_and_redirects_the_old_url() -> None:
    first = reconcile([placed("content/articles/a.md", "/articles/a/")], [])
    second = reconcile([placed("content/articles/a.md", "/articles/renamed/")], first.ledger)
    assert second.ids == {"content/articles/a.md": "/articles/a/"}
    assert [(r.url, r.target) for r in second.redirects] == [("/articles/a/", "/articles/renamed/")]
    third = reconcile([placed("content/articles/a.md", "/articles/third/")], second.ledger)
    assert [r.url for r in third.redirects] == ["/articles/a/", "/articles/renamed/"]


def test_a_renamed_file_with_a_pinned_id_keeps_its_history() -> None:
    first = reconcile([placed("content/articles/a.md", "/articles/a/", "urn:x")], [])
    moved = reconcile([placed("content/articles/b.md", "/articles/b/", "urn:x")], first.ledger)
    assert moved.ids == {"content/articles/b.md": "urn:x"}
    assert [r.url for r in moved.redirects] == ["/articles/a/"]


def test_a_changed_pinned_id_is_an_error() -> None:
    first = reconcile([placed("content/articles/a.md", "/articles/a/", "urn:x")], [])
    changed = reconcile([placed("content/articles/a.md", "/articles/a/", "urn:y")], first.ledger)
    [problem] = changed.problems
    assert str(problem) == (
        "content/articles/a.md:1: error: id: was 'urn:x' when published; "
        "a feed id must never change"
    )


def test_two_articles_can_never_share_an_id() -> None:
    done = reconcile(
        [
            placed("content/articles/a.md", "/articles/a/", "urn:x"),
            placed("content/articles/b.md", "/articles/b/", "urn:x"),
        ],
        [],
    )
    [problem] = done.problems
    assert "content/articles/b.md:1: error: id: 'urn:x' is already the id of" in str(problem)


def test_an_old_url_taken_by_another_article_is_not_redirected() -> None:
    first = reconcile([placed("content/articles/a.md", "/articles/a/")], [])
    second = reconcile(
        [
            placed("content/articles/a.md", "/articles/a2/"),
            placed("content/articles/b.md", "/articles/a/"),
        ],
        first.ledger,
    )
    assert second.redirects == ()
    assert second.ids["content/articles/b.md"] == "/articles/a/#2" or second.problems


def test_aliases_redirect_and_deleted_articles_keep_their_ids() -> None:
    first = reconcile([placed("content/articles/a.md", "/articles/a/", None, "/2021/old-a/")], [])
    assert [r.url for r in first.redirects] == ["/2021/old-a/"]
    gone = reconcile([], first.ledger)
    assert [p.id for p in gone.ledger] == ["/articles/a/"]


def test_an_alias_takes_an_address_over_from_another_story_s_history() -> None:
    """b.md sorts after a.md: by file order alone, a's old address went to a."""
    first = reconcile([placed("content/articles/b.md", "/articles/old/")], [])
    moved = reconcile(
        [
            placed("content/articles/a.md", "/articles/a/", None, "/articles/old/"),
            placed("content/articles/b.md", "/articles/b/"),
        ],
        first.ledger,
    )
    assert [(r.url, r.target) for r in moved.redirects] == [("/articles/old/", "/articles/a/")]


def test_two_stories_giving_one_alias_is_an_error_at_its_line() -> None:
    both = [
        placed("content/articles/a.md", "/articles/a/", None, "/old/x/"),
        replace(placed("content/articles/b.md", "/articles/b/", None, "/old/x/"), aliases_line=5),
    ]
    [problem] = reconcile(both, []).problems
    assert str(problem) == (
        "content/articles/b.md:5: error: aliases: /old/x/ is already an alias of "
        "content/articles/a.md"
    )
    assert problem.hint == "an old address can forward to one story only"


def test_the_ledger_round_trips_and_a_broken_one_is_an_error() -> None:
    done = reconcile([placed("content/articles/ä.md", "/articles/ä/", "urn:ä")], [])
    assert parse_ledger(dump_ledger(done.ledger)) == done.ledger
    with pytest.raises(ContentError, match="cannot read the permalink ledger"):
        parse_ledger('{"articles": [{"id": 1}]}')


# --- Through the build ------------------------------------------------------------------


def test_renaming_a_published_slug_keeps_the_feed_id_and_redirects(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("Alpha", "2026-11-02 09:00")})
    build_at(root)
    old_id = "https://test.example.org/articles/a/"
    assert f"<id>{old_id}</id>" in (root / "output/atom.xml").read_text(encoding="utf-8")
    (root / "content/articles/a.md").write_text(
        article("Alpha", "2026-11-02 09:00", slug="alpha-renamed", aliases="[/2026/alpha/]"),
        encoding="utf-8",
    )
    build_at(root)
    atom = (root / "output/atom.xml").read_text(encoding="utf-8")
    assert f"<id>{old_id}</id>" in atom
    assert "https://test.example.org/articles/alpha-renamed/" in atom
    for old in ("articles/a/index.html", "2026/alpha/index.html"):
        moved = (root / "output" / old).read_text(encoding="utf-8")
        assert '<meta http-equiv="refresh" content="0; url=/articles/alpha-renamed/">' in moved
    ledger = parse_ledger((root / "permalinks.json").read_text(encoding="utf-8"))
    assert ledger[0].urls == ("/articles/a/", "/articles/alpha-renamed/")
    assert list(broken_links(root / "output")) == []


def test_two_stories_with_one_id_fail_the_build(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("A", "2026-11-02 09:00", id="urn:x"),
            "content/articles/b.md": article("B", "2026-11-03 09:00", id="urn:x"),
        }
    )
    with pytest.raises(BuildFailed) as failure:
        build_at(root)
    assert [str(p) for p in failure.value.problems] == [
        "content/articles/b.md:1: error: id: 'urn:x' is already the id of content/articles/a.md"
    ]
    assert not (root / "output").exists()


def test_changing_a_pinned_id_fails_the_build(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-02 09:00", id="urn:x")})
    build_at(root)
    (root / "content/articles/a.md").write_text(
        article("A", "2026-11-02 09:00", id="urn:y"), encoding="utf-8"
    )
    with pytest.raises(BuildFailed, match="1 problem"):
        build_at(root)
