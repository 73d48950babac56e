"""The watcher: real watchdog events from real file edits, debounced into one batch."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.config import is_ignored
from site_builder.watch import Batch, Watcher, WatchError, _Debouncer, classify, relevant
from tests.conftest import SITE_TOML, MakeSite, article

WAIT = 10.0  # seconds to wait for an event that must come
QUIET = 0.3  # generous, so a loaded machine still sees one burst as one


class Batches:
    """Collects what the watcher reports, for the test thread to wait on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Batch] = queue.Queue()

    def __call__(self, batch: Batch) -> None:
        self.queue.put(batch)

    def next(self, timeout: float = WAIT) -> Batch:
        return self.queue.get(timeout=timeout)

    def until(self, path: str) -> Batch:
        """The first batch that names ``path`` (a new folder may come in a batch of its own)."""
        deadline = time.monotonic() + WAIT
        while True:
            batch = self.next(timeout=max(0.0, deadline - time.monotonic()))
            if path in [c.path for c in batch.changes]:
                return batch

    def none_within(self, seconds: float) -> bool:
        try:
            self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(
        {
            "content/articles/first.md": article("First", "2026-11-20"),
            "templates/article.html": "{% extends 'base.html' %}",
            "templates/static/extra.css": "body { color: red }\n",
        }
    )


@pytest.fixture
def batches() -> Batches:
    return Batches()


@pytest.fixture
def watching(site: Path, batches: Batches) -> Iterator[Watcher]:
    (site / "output").mkdir()
    with Watcher(site, batches, ignore=is_ignored, quiet=QUIET) as watcher:
        yield watcher


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("site.toml", "config"),
        ("content/articles/x.md", "article"),
        ("content/2026/x.MD", "article"),
        ("content/pages/about.md", "page"),
        ("content/images/x.png", "asset"),
        ("templates/article.html", "template"),
        ("templates/partials/nav.html", "template"),
        ("templates/static/style.css", "static"),
    ],
)
def test_classify(path: str, kind: str) -> None:
    assert classify(path) == kind


@pytest.mark.parametrize(
    "path",
    [
        "output/index.html",
        "output",
        ".site-builder/manifest.json",
        ".git/index",
        ".output.staging-12/index.html",
        "content/articles/.x.md.swp",
        "content/articles/x.md~",
        "content/articles/#x.md#",
        "content/articles/4913",
        "content/.hidden/x.md",
        "content/articles/x.md.tmp",
        "README.md",
        "notes/x.md",
    ],
)
def test_ignored_paths(path: str) -> None:
    assert not relevant(path, ignore=is_ignored, output="output")


@pytest.mark.parametrize(
    "path", ["site.toml", "content/articles/x.md", "templates/base.html", "content/img/a.png"]
)
def test_input_paths(path: str) -> None:
    assert relevant(path, ignore=is_ignored, output="output")


def test_editor_save_burst_is_one_batch(site: Path, watching: Watcher, batches: Batches) -> None:
    """A Vim-style save: swap file, backup by rename, new file, cleanup: one rebuild."""
    folder = site / "content" / "articles"
    target = folder / "first.md"
    (folder / ".first.md.swp").write_bytes(b"swap")
    (folder / "4913").write_bytes(b"")
    (folder / "4913").unlink()
    target.rename(folder / "first.md~")
    target.write_text(article("First, edited", "2026-11-20"), encoding="utf-8")
    with target.open("a", encoding="utf-8") as handle:
        handle.write("\nMore.\n")
    (folder / "first.md~").unlink()
    (folder / ".first.md.swp").unlink()
    batch = batches.next()
    assert [c.path for c in batch.changes] == ["content/articles/first.md"]
    assert batch.describe() == "content/articles/first.md changed"
    assert batches.none_within(QUIET * 4)


def test_ignored_writes_give_no_batch(site: Path, watching: Watcher, batches: Batches) -> None:
    (site / "output" / "index.html").write_text("<p>built</p>", encoding="utf-8")
    (site / "output" / "articles").mkdir()
    (site / ".site-builder").mkdir()
    (site / ".site-builder" / "manifest.json").write_text("{}", encoding="utf-8")
    (site / "content" / "articles" / ".#first.md").write_text("lock", encoding="utf-8")
    (site / "notes.txt").write_text("not an input", encoding="utf-8")
    (site / "content" / "articles" / "first.md").read_text(encoding="utf-8")  # reads are no edit
    assert batches.none_within(QUIET * 4)


def test_config_and_template_changes_are_classified(
    site: Path, watching: Watcher, batches: Batches
) -> None:
    (site / "site.toml").write_text(SITE_TOML.replace("Test Digest", "Renamed"), encoding="utf-8")
    (site / "templates" / "static" / "extra.css").write_text("body {}\n", encoding="utf-8")
    (site / "templates" / "article.html").write_text("{% extends 'base.html' %}\n", "utf-8")
    kinds: dict[str, str] = {}
    config_changed = False
    while len(kinds) < 3:
        batch = batches.next()
        kinds |= {c.path: c.kind for c in batch.changes}
        config_changed |= batch.config_changed
    assert config_changed
    assert kinds == {
        "site.toml": "config",
        "templates/static/extra.css": "static",
        "templates/article.html": "template",
    }


def test_deleted_and_moved_articles_are_seen(
    site: Path, watching: Watcher, batches: Batches
) -> None:
    folder = site / "content" / "articles"
    (folder / "first.md").rename(folder / "renamed.md")
    batch = batches.until("content/articles/renamed.md")
    assert "content/articles/first.md" in [c.path for c in batch.changes]
    (folder / "renamed.md").unlink()
    batches.until("content/articles/renamed.md")


def test_folders_made_after_the_start_are_watched(make_site: MakeSite, batches: Batches) -> None:
    site = make_site({"content/articles/a.md": article("A", "2026-11-20")})
    with Watcher(site, batches, ignore=is_ignored, quiet=QUIET):
        (site / "templates").mkdir()
        batches.until("templates")
        (site / "templates" / "base.html").write_text("<html></html>", encoding="utf-8")
        assert batches.until("templates/base.html").changes[-1].kind == "template"


def test_output_inside_a_watched_name_is_ignored(make_site: MakeSite, batches: Batches) -> None:
    """--output elsewhere in the root (here: a hidden-free name) is never watched."""
    site = make_site({"content/articles/a.md": article("A", "2026-11-20")})
    public = site / "public"
    public.mkdir()
    with Watcher(site, batches, ignore=is_ignored, output=public, quiet=QUIET):
        (public / "index.html").write_text("x", encoding="utf-8")
        assert batches.none_within(QUIET * 4)


def test_polling_observer_sees_edits(site: Path, batches: Batches) -> None:
    with Watcher(site, batches, ignore=is_ignored, poll=True, quiet=QUIET):
        path = site / "content" / "articles" / "first.md"
        path.write_text(article("Polled", "2026-11-20"), encoding="utf-8")
        # The polling snapshot compares mtimes: make sure this one differs.
        stamp = time.time() + 5
        os.utime(path, (stamp, stamp))
        batches.until("content/articles/first.md")


def test_a_folder_that_cannot_be_watched_is_a_clear_error(tmp_path: Path) -> None:
    watcher = Watcher(tmp_path / "missing", Batches(), ignore=is_ignored)
    with pytest.raises(WatchError, match=r"cannot watch .*/missing") as failure:
        watcher.start()
    assert failure.value.hint is not None
    assert "--poll" in failure.value.hint


def test_a_steady_stream_still_fires() -> None:
    """With events every 10 ms, quiet never comes; ``max_wait`` bounds the delay."""
    fired = threading.Event()
    debouncer = _Debouncer(lambda batch: fired.set(), quiet=10.0, max_wait=0.1)
    debouncer.start()
    try:
        deadline = time.monotonic() + WAIT
        while not fired.is_set() and time.monotonic() < deadline:
            debouncer.add("content/articles/x.md", is_dir=False)
            time.sleep(0.01)
        assert fired.is_set()
    finally:
        debouncer.stop(timeout=WAIT)


def test_events_during_a_rebuild_make_the_next_batch() -> None:
    started, release = threading.Event(), threading.Event()
    seen: queue.Queue[list[str]] = queue.Queue()

    def slow_rebuild(batch: list[tuple[str, bool]]) -> None:
        seen.put([path for path, _ in batch])
        started.set()
        release.wait(WAIT)

    debouncer = _Debouncer(slow_rebuild, quiet=0.05, max_wait=1.0)
    debouncer.start()
    try:
        debouncer.add("content/a.md", is_dir=False)
        assert started.wait(WAIT)
        debouncer.add("content/b.md", is_dir=False)
        release.set()
        assert seen.get(timeout=WAIT) == ["content/a.md"]
        assert seen.get(timeout=WAIT) == ["content/b.md"]
    finally:
        release.set()
        debouncer.stop(timeout=WAIT)
