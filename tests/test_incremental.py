"""An incremental build after any edit equals a clean build, and rewrites only what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from site_builder.cache import records_folder
from tests.conftest import MakeSite, article, build_at
from tests.test_output_safety import snapshot

FILES = {
    "content/articles/a.md": article("Alpha", "2026-11-02 09:00", tags="[ai, chips]"),
    "content/articles/b.md": article("Beta", "2026-11-03 09:00", tags="[ai]"),
    "content/articles/c.md": article("Gamma", "2026-11-10 09:00", tags="[cloud]"),
    "content/pages/about.md": "---\ntitle: About\n---\n\nUs.\n",
}


def clean_copy(root: Path, tmp: Path) -> dict[str, bytes]:
    build_at(root, output=tmp / "clean", incremental=False)
    return snapshot(tmp / "clean")


def test_editing_a_body_rewrites_its_page_not_the_tag_pages(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    build_at(root)
    (root / "content/articles/c.md").write_text(
        article("Gamma", "2026-11-10 09:00", "Body text.\n\nA second paragraph.", tags="[cloud]"),
        encoding="utf-8",
    )
    result = build_at(root)
    assert "articles/c/index.html" in result.written
    assert "tags/cloud/index.html" not in result.written
    assert "index.html" not in result.written
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


def test_title_edit_delete_and_rename_match_a_clean_build(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    build_at(root)
    (root / "content/articles/a.md").write_text(
        article("Alpha, retitled", "2026-11-02 09:00", tags="[ai]"), encoding="utf-8"
    )
    (root / "content/articles/b.md").unlink()
    (root / "content/articles/c.md").rename(root / "content/articles/c2.md")
    result = build_at(root)
    assert "articles/b/index.html" in result.removed
    assert "tags/chips/index.html" in result.removed
    assert not (root / "output/articles/b").exists()
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


def test_no_op_rebuild_writes_nothing(make_site: MakeSite) -> None:
    root = make_site(FILES)
    build_at(root)
    result = build_at(root)
    assert result.written == ()
    assert result.removed == ()


def test_template_and_config_edits_rebuild_what_depends_on_them(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES)
    build_at(root)
    (root / "templates").mkdir()
    (root / "templates/404.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Lost</h1>{% endblock %}', encoding="utf-8"
    )
    result = build_at(root)
    assert result.written == ("404.html",)
    config = (root / "site.toml").read_text(encoding="utf-8")
    (root / "site.toml").write_text(
        config.replace("Test Digest", "Renamed Digest"), encoding="utf-8"
    )
    result = build_at(root)
    assert "articles/a/index.html" in result.written and "feed.xml" in result.written
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


def test_a_scheduled_article_is_published_once_it_comes_due(make_site: MakeSite) -> None:
    from datetime import timedelta

    from site_builder.build import build
    from site_builder.config import load_config
    from tests.conftest import FIXED_NOW

    root = make_site({**FILES, "content/articles/d.md": article("Delta", "2026-11-30 09:00")})
    config = load_config(root)
    first = build(config, now=FIXED_NOW, jobs=1)
    assert first.next_scheduled is not None
    assert not (root / "output/articles/d").exists()
    assert build(config, now=FIXED_NOW, jobs=1).written == ()
    later = build(config, now=FIXED_NOW + timedelta(days=7), jobs=1)
    assert "articles/d/index.html" in later.written
    assert later.next_scheduled is None


def test_an_edit_that_keeps_size_and_time_is_still_seen_when_time_moves(
    make_site: MakeSite,
) -> None:
    root = make_site(FILES)
    build_at(root)
    source = root / "content/articles/c.md"
    source.write_text(
        source.read_text(encoding="utf-8").replace("Gamma", "Gimme"), encoding="utf-8"
    )
    assert "articles/c/index.html" in build_at(root).written


def test_parallel_rendering_gives_the_same_bytes(make_site: MakeSite, tmp_path: Path) -> None:
    from site_builder.build import build
    from site_builder.config import load_config
    from tests.conftest import FIXED_NOW

    files = {
        f"content/articles/story-{n:03d}.md": article(
            f"Story {n}", f"2026-10-{1 + n % 28:02d} {n % 24:02d}:00", tags=f"[t{n % 40}, all]"
        )
        for n in range(260)
    }
    root = make_site(files)
    serial = build(load_config(root, output=tmp_path / "serial"), now=FIXED_NOW, jobs=1)
    parallel = build(load_config(root, output=tmp_path / "parallel"), now=FIXED_NOW, jobs=2)
    assert parallel.pages > 400
    assert snapshot(tmp_path / "parallel") == snapshot(tmp_path / "serial")
    assert parallel.written == serial.written


def test_the_build_after_a_first_build_has_nothing_to_do(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(FILES)
    first = build_at(root)
    assert (root / "permalinks.json").is_file()

    def must_not_plan(*args: object, **kwargs: object) -> None:
        raise AssertionError("a build with nothing to do planned the site again")

    monkeypatch.setattr("site_builder.build.plan", must_not_plan)
    second = build_at(root)
    assert second.written == ()
    assert second.pages == first.pages


def test_a_deleted_story_updates_the_count_on_every_page_of_its_tag(
    make_site: MakeSite, tmp_path: Path
) -> None:
    files = {
        f"content/articles/{n}.md": article(f"Story {n}", f"2026-11-{n + 1:02d} 09:00", tags="[ai]")
        for n in range(5)
    }
    root = make_site(files)  # per_page 3: tags/ai/ has two pages
    build_at(root)
    (root / "content/articles/0.md").unlink()  # the oldest: on page 2, not on page 1
    result = build_at(root)
    assert "tags/ai/index.html" in result.written
    assert "4 stories filed under" in (root / "output/tags/ai/index.html").read_text("utf-8")
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


def test_a_no_op_build_reports_what_the_last_build_made(make_site: MakeSite) -> None:
    root = make_site(FILES)
    first = build_at(root)
    again = build_at(root)
    assert again.written == () and again.skipped == len(first.written)
    assert (again.pages, again.feeds, again.files) == (first.pages, first.feeds, first.files)


@pytest.mark.parametrize("damage", ['{"format": 3, "pages": "many"}', "{", '["a list"]'])
def test_a_damaged_summary_costs_a_real_build_not_a_crash(make_site: MakeSite, damage: str) -> None:
    root = make_site(FILES)
    first = build_at(root)
    summary = records_folder(root, root / "output") / "summary.json"
    summary.write_text(damage, encoding="utf-8")
    again = build_at(root)
    assert again.written == () and again.pages == first.pages
    assert json.loads(summary.read_text(encoding="utf-8"))["pages"] == first.pages


def test_templates_compiled_for_settings_not_used_lately_are_removed(
    make_site: MakeSite,
) -> None:
    """Each address compiles the theme anew; the folder keeps four addresses' worth."""
    from site_builder.build import build
    from site_builder.config import load_config
    from site_builder.templates import KEPT_SETTINGS
    from tests.conftest import FIXED_NOW

    root = make_site(FILES)
    compiled = root / ".site-builder/templates"

    def build_for(name: str) -> set[str]:
        config = load_config(root, base_url=f"https://{name}.example.org/")
        build(config, now=FIXED_NOW, jobs=1, incremental=False)
        return {p.name for p in compiled.iterdir()}

    first = build_for("a")
    one_site = len(first)
    for name in ("b", "c", "d", "a"):
        build_for(name)
    assert build_for("e") != first
    kept = build_for("a")
    assert kept == build_for("a") and first <= kept  # a, used last but one, kept and reused
    assert len(kept) == one_site * KEPT_SETTINGS
    grown = build_for("b")  # b, used longest ago, was removed and is compiled anew
    assert len(grown) == len(kept) and grown != kept
