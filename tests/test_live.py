"""The preview's rebuilds: in place for text edits, the same bytes as a clean build always."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from site_builder.config import load_config
from site_builder.errors import BuildFailed
from site_builder.fresh import BuildResult
from site_builder.live import LiveBuild
from tests.conftest import FIXED_NOW, MakeSite, article, build_at
from tests.test_output_safety import snapshot

FILES = {
    "content/articles/a.md": article("Alpha", "2026-11-02 09:00", tags="[ai, chips]"),
    "content/articles/b.md": article("Beta", "2026-11-03 09:00", tags="[ai]"),
    "content/articles/c.md": article("Gamma", "2026-11-10 09:00", tags="[cloud]"),
    "content/articles/d.md": article("Delta", "2026-11-11 09:00", tags="[cloud]"),
    "content/articles/e.md": article("Epsilon", "2026-11-12 09:00", tags="[ai]"),
    "content/pages/about.md": "---\ntitle: About\n---\n\nUs.\n",
}


def clean_build(root: Path, tmp: Path) -> dict[str, bytes]:
    build_at(root, output=tmp / "clean", incremental=False)
    return snapshot(tmp / "clean")


def started(root: Path) -> LiveBuild:
    live = LiveBuild(load_config(root))
    live.rebuild(FIXED_NOW)
    return live


def edit(root: Path, rel: str, text: str, live: LiveBuild) -> BuildResult:
    (root / rel).write_text(text, encoding="utf-8")
    return live.rebuild(FIXED_NOW, [rel])


def test_a_body_edit_rewrites_the_page_and_the_feeds_that_carry_it(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    live = started(root)
    body = "Body text.\n\nA second paragraph."
    text = article("Alpha", "2026-11-02 09:00", body, tags="[ai, chips]")
    result = edit(root, "content/articles/a.md", text, live)
    # Feeds carry whole articles; lists and issues show only what the edit left alone.
    assert set(result.written) == {
        "articles/a/index.html",
        *(f"{folder}{name}" for folder in ("", "tags/ai/", "tags/chips/") for name in FEED_NAMES),
    }
    assert snapshot(root / "output") == clean_build(root, tmp_path)


FEED_NAMES = ("feed.xml", "atom.xml", "feed.json")


def test_a_title_edit_reaches_lists_neighbours_and_feeds(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    live = started(root)
    text = article("Gamma, retitled", "2026-11-10 09:00", tags="[cloud]")
    result = edit(root, "content/articles/c.md", text, live)
    for neighbour in ("articles/b/index.html", "articles/d/index.html"):
        assert neighbour in result.written
        assert "Gamma, retitled" in (root / "output" / neighbour).read_text(encoding="utf-8")
    lists = {"tags/cloud/index.html", "archive/2026/11/index.html", "feed.xml"}
    assert lists <= set(result.written)
    assert "archive/index.html" not in result.written  # months and counts only
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_it_writes_exactly_the_files_whose_bytes_changed(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    twin = make_site(FILES, name="twin")
    live = started(root)
    build_at(twin)
    before = snapshot(root / "output")
    text = article("Epsilon", "2026-11-12 09:00", "New body.", tags="[ai]", summary="'Short.'")
    in_place = edit(root, "content/articles/e.md", text, live)
    (twin / "content/articles/e.md").write_text(text, encoding="utf-8")
    planned = build_at(twin)  # the command line's incremental build, planned in full
    after = snapshot(root / "output")
    assert after == snapshot(twin / "output")
    assert set(in_place.written) == {path for path in after if after[path] != before.get(path)}
    assert set(in_place.written) <= set(planned.written)
    assert "tags/ai/index.html" in in_place.written  # a list showing the new summary


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("content/articles/c.md", article("Gamma", "2026-12-01 09:00", tags="[cloud]")),
        ("content/articles/c.md", article("Gamma", "2026-11-10 09:00", tags="[cloud, ai]")),
        ("content/articles/c.md", article("Gamma", "2026-11-10 09:00", draft="true")),
        ("content/articles/new.md", article("New", "2026-11-13 09:00")),
        ("templates/404.html", "{% extends 'base.html' %}{% block content %}Gone{% endblock %}"),
    ],
    ids=["date", "tags", "draft", "new-file", "template"],
)
def test_edits_that_move_articles_give_a_clean_build(
    make_site: MakeSite, tmp_path: Path, rel: str, text: str
) -> None:
    root = make_site(FILES)
    live = started(root)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    edit(root, rel, text, live)
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_deleted_article_is_removed(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(FILES)
    live = started(root)
    (root / "content/articles/b.md").unlink()
    result = live.rebuild(FIXED_NOW, ["content/articles/b.md"])
    assert "articles/b/index.html" in result.removed
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_broken_edit_fails_and_its_fix_builds_clean(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(FILES)
    live = started(root)
    before = snapshot(root / "output")
    with pytest.raises(BuildFailed) as failure:
        edit(root, "content/articles/a.md", "---\ntitle: [unclosed\n---\nBody\n", live)
    assert str(failure.value.problems[0].path) == "content/articles/a.md"
    assert snapshot(root / "output") == before
    assert gc.isenabled()  # planning pauses the collector; the preview runs for hours
    fixed = article("Alpha, fixed", "2026-11-02 09:00", tags="[ai, chips]")
    result = edit(root, "content/articles/a.md", fixed, live)
    assert "articles/a/index.html" in result.written
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_build_after_the_preview_rewrites_what_it_cannot_trust(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    live = started(root)
    edit(root, "content/articles/a.md", article("Alpha", "2026-11-02 09:00", "Edited."), live)
    (root / "content/articles/a.md").write_text(FILES["content/articles/a.md"], encoding="utf-8")
    result = build_at(root)  # the command line, after the preview stopped
    assert "articles/a/index.html" in result.written
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_page_the_preview_rewrote_is_removed_when_its_article_goes(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    live = started(root)
    edit(
        root,
        "content/articles/b.md",
        article("Beta, edited", "2026-11-03 09:00", tags="[ai]"),
        live,
    )
    (root / "content/articles/b.md").rename(root / "content/articles/b2.md")
    result = live.rebuild(FIXED_NOW, ["content/articles/b.md", "content/articles/b2.md"])
    assert "articles/b/index.html" in result.removed
    assert snapshot(root / "output") == clean_build(root, tmp_path)
