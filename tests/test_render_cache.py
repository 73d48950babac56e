"""The render cache: bodies stay in it until a page shows them, and any doubt about it
(corrupt, emptied or outdated mid-build) costs a render, never a wrong page."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from site_builder import content as content_stage
from site_builder.build import plan, write_planned
from site_builder.cache import CACHE_DIR, RenderCache
from site_builder.config import load_config
from site_builder.content import load_content
from site_builder.errors import BuildFailed
from site_builder.fresh import inputs_of
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
    write_planned(config, planned, inputs_of(config, False), incremental=True, started=0.0)
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
        write_planned(config, planned, inputs_of(config, False), incremental=True, started=0.0)
    messages = {str(p) for p in failed.value.problems}
    assert any(m.startswith("content/articles/a.md: error: changed while") for m in messages)
    assert not (root / "output").exists()  # nothing half-written


_OPENED: list[str] = []
_WATCHING: list[bool] = []


def _note_open(event: str, args: tuple[object, ...]) -> None:
    if _WATCHING and event == "open" and isinstance(args[0], str | Path):
        _OPENED.append(Path(args[0]).name)


sys.addaudithook(_note_open)  # a hook cannot be removed: it notes only while watching


def opened_during_build(root: Path) -> list[str]:
    """The content files a build opens, by name."""
    _OPENED.clear()
    _WATCHING.append(True)
    try:
        build_at(root)
    finally:
        _WATCHING.clear()
    return sorted({name for name in _OPENED if name.endswith(".md")})


def test_a_rebuild_reads_only_the_edited_file(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content_stage, "_RACY_NS", 0)  # the files were written just now
    root = make_site(FILES)
    assert opened_during_build(root) == ["a.md", "b.md"]
    edited = {**FILES, "content/articles/b.md": article("Beta", "2026-11-03 09:00", "Edited.")}
    (root / "content/articles/b.md").write_text(edited["content/articles/b.md"])
    assert opened_during_build(root) == ["b.md"]
    assert b"Edited." in (root / "output/articles/b/index.html").read_bytes()
    clean = make_site(edited, name="clean")
    build_at(clean)
    assert snapshot(root / "output") == snapshot(clean / "output")


def test_a_file_just_written_is_read_again(make_site: MakeSite) -> None:
    """Within a few seconds of a change, a file's stat may not show the next one."""
    root = make_site(FILES)
    build_at(root)
    (root / "content/articles/extra.md").write_text(article("Gamma", "2026-11-04 09:00"))
    assert opened_during_build(root) == ["a.md", "b.md", "extra.md"]


def test_a_file_rewritten_with_its_old_size_and_time_shows_its_new_text(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content_stage, "_RACY_NS", 0)
    root = make_site(FILES)
    build_at(root)
    source = root / "content/articles/b.md"
    before = source.stat()
    source.write_text(source.read_text(encoding="utf-8").replace("Short", "Tight"))
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert source.stat().st_size == before.st_size
    build_at(root)
    assert b"Tight body." in (root / "output/articles/b/index.html").read_bytes()
