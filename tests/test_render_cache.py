"""The render cache: bodies stay in it until a page shows them, and any doubt about it
(corrupt, emptied or outdated mid-build) costs a render, never a wrong page."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from site_builder.build import plan, write_planned
from site_builder.cache import CACHE_DIR, RenderCache
from site_builder.config import load_config
from site_builder.content import load_content
from site_builder.errors import BuildFailed
from site_builder.fresh import signature_of
from tests.conftest import FIXED_NOW, MakeSite, article, build_at
from tests.test_output_safety import snapshot

BODY = "## First\n\nThe **lede** of the story.\n\n## Second\n\nMore text here.\n"
FILES = {
    "content/articles/a.md": article("Alpha", "2026-11-02 09:00", BODY, tags="[ai]"),
    "content/articles/b.md": article("Beta", "2026-11-03 09:00", "Short body.", tags="[ai]"),
}


def cache_file(root: Path) -> Path:
    return root / CACHE_DIR / "render.sqlite"


def clean_build(make_site: MakeSite) -> dict[str, bytes]:
    fresh = make_site(FILES, name="clean")
    build_at(fresh)
    return snapshot(fresh / "output")


def test_entries_leave_their_bodies_in_the_cache(make_site: MakeSite) -> None:
    root = make_site(FILES)
    cache = RenderCache(root)
    try:
        content, problems = load_content(load_config(root), cache=cache)
    finally:
        cache.close()
    assert problems == []
    assert [e.body.held for e in content.entries] == [None, None]
    lede = next(e for e in content.entries if e.title == "Alpha").html
    assert "<strong>lede</strong>" in lede


def test_without_a_usable_cache_bodies_are_held(make_site: MakeSite) -> None:
    root = make_site(FILES)
    content, _ = load_content(load_config(root), cache=None)
    assert all(e.body.held for e in content.entries)


def test_a_corrupt_cache_is_rebuilt_silently(make_site: MakeSite) -> None:
    root = make_site(FILES)
    build_at(root)
    cache_file(root).write_bytes(b"not a database" * 100)
    result = build_at(root, incremental=False)
    assert result.warnings == () and "articles/a/index.html" in result.written
    assert snapshot(root / "output") == clean_build(make_site)


def test_a_cache_emptied_during_the_build_costs_a_render_not_a_page(
    make_site: MakeSite,
) -> None:
    root = make_site(FILES)
    config = load_config(root)
    planned = plan(config, now=FIXED_NOW)
    with sqlite3.connect(cache_file(root)) as db:  # another build dropping rows
        db.execute("DELETE FROM entries")
    write_planned(config, planned, signature_of(config, False), incremental=True, started=0.0)
    assert snapshot(root / "output") == clean_build(make_site)


def test_an_article_changed_during_the_build_fails_it_by_name(make_site: MakeSite) -> None:
    root = make_site(FILES)
    config = load_config(root)
    planned = plan(config, now=FIXED_NOW)
    time.sleep(0.01)
    (root / "content/articles/a.md").write_text(article("Alpha", "2026-11-02 09:00", "New."))
    with sqlite3.connect(cache_file(root)) as db:
        db.execute("DELETE FROM entries")
    with pytest.raises(BuildFailed) as failed:
        write_planned(config, planned, signature_of(config, False), incremental=True, started=0.0)
    messages = {str(p) for p in failed.value.problems}
    assert any(m.startswith("content/articles/a.md: error: changed while") for m in messages)
    assert not (root / "output").exists()  # nothing half-written
