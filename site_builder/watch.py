"""Watch stage: file-system events under a site → one debounced batch per burst of edits.

Input: the site root, its output folder, and a predicate that names files to ignore.
Output: ``on_change(Batch)`` called from a background thread once a burst of events
has gone quiet (an editor's save is often several events: a temp file, a rename,
a modification, a close), with every changed path classified for the log line.

Only ``site.toml``, ``content/`` and ``templates/`` are watched: everything else in
the root, ``output/`` above all, would make every build trigger the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Literal, Self

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from site_builder.cache import CACHE_DIR
from site_builder.config import CONFIG_NAME
from site_builder.errors import SiteError

# The folders SiteConfig.content_dir and SiteConfig.templates_dir name.
WATCHED_DIRS = ("content", "templates")
STATIC_DIR = "static"  # templates/static/, as templates.STATIC_DIR
PAGES_DIR = "pages"  # content/pages/, as content.PAGES_DIR
# Opened / closed-without-writing events are left out: the build reads every
# source file, and reacting to those reads would rebuild for ever.
_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


class WatchError(SiteError):
    """The file system cannot be watched (a missing folder, no inotify watches left)."""


Kind = Literal["config", "template", "static", "article", "page", "asset", "folder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One changed path, relative to the site root, and what kind of input it is."""

    path: str  # posix: "content/articles/x.md"
    kind: Kind


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Every path that changed in one burst of events, in the order first seen."""

    changes: tuple[Change, ...]

    @property
    def config_changed(self) -> bool:
        return any(c.kind == "config" for c in self.changes)

    def describe(self) -> str:
        """``content/articles/x.md changed`` or ``3 files changed: a, b, c``."""
        paths = [c.path for c in self.changes]
        if len(paths) == 1:
            return f"{paths[0]} changed"
        shown = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
        return f"{len(paths)} files changed: {shown}"


def classify(rel: str, *, is_dir: bool = False) -> Kind:
    """What a changed path is, for the log line and for reloading the config."""
    parts = PurePosixPath(rel).parts
    if rel == CONFIG_NAME:
        return "config"
    if is_dir:
        return "folder"
    if parts[0] == "templates":
        return "static" if len(parts) > 2 and parts[1] == STATIC_DIR else "template"
    if rel.lower().endswith(".md"):
        return "page" if len(parts) > 2 and parts[1] == PAGES_DIR else "article"
    return "asset"


def relevant(
    rel: str, *, ignore: Callable[[str], bool], output: str | None, is_dir: bool = False
) -> bool:
    """Whether a path (posix, relative to the root) is an input of the site."""
    parts = PurePosixPath(rel).parts
    if not parts or parts[0] == CACHE_DIR or any(ignore(part) for part in parts):
        return False
    if output is not None and (rel == output or rel.startswith(output + "/")):
        return False
    if len(parts) == 1:
        # At the top only the config matters, and the watched folders appearing.
        return rel == CONFIG_NAME or (is_dir and rel in WATCHED_DIRS)
    return parts[0] in WATCHED_DIRS


class _Debouncer:
    """Collects paths and hands them on once no new one has come for ``quiet`` seconds.

    ``max_wait`` bounds the delay, so a steady stream of events still rebuilds.
    Events that arrive while ``fire`` runs make the next batch.
    """

    def __init__(
        self, fire: Callable[[list[tuple[str, bool]]], None], quiet: float, max_wait: float
    ) -> None:
        self._fire, self._quiet, self._max_wait = fire, quiet, max_wait
        self._cond = threading.Condition()
        self._pending: dict[str, bool] = {}
        self._first = self._last = 0.0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="site-builder-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def add(self, rel: str, *, is_dir: bool) -> None:
        with self._cond:
            now = time.monotonic()
            if not self._pending:
                self._first = now
            self._pending.setdefault(rel, is_dir)
            self._last = now
            self._cond.notify()

    def stop(self, timeout: float) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            # A rebuild in progress finishes unless it outlasts the timeout; the
            # thread is a daemon, so an interrupted build never holds up the exit.
            self._thread.join(timeout)

    def _next_batch(self) -> list[tuple[str, bool]] | None:
        with self._cond:
            while not self._stopped:
                if not self._pending:
                    self._cond.wait()
                    continue
                due = min(self._last + self._quiet, self._first + self._max_wait)
                wait = due - time.monotonic()
                if wait <= 0:
                    batch = list(self._pending.items())
                    self._pending.clear()
                    return batch
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._fire(batch)


class _Handler(FileSystemEventHandler):
    """Turns watchdog events into root-relative paths for the debouncer."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = [event.src_path, *([event.dest_path] if event.dest_path else [])]
        for path in paths:
            self._watcher.notice(_text(path), is_dir=event.is_directory)


def _text(path: str | bytes) -> str:
    return path.decode(errors="surrogateescape") if isinstance(path, bytes) else path


class Watcher:
    """Watches a site's inputs and calls ``on_change`` once per burst of edits."""

    def __init__(
        self,
        root: Path,
        on_change: Callable[[Batch], None],
        *,
        ignore: Callable[[str], bool],
        output: Path | None = None,
        poll: bool = False,
        quiet: float = 0.05,
        max_wait: float = 1.0,
    ) -> None:
        self.root = root.resolve()
        out = (output or self.root / "output").resolve()
        self._output = (
            out.relative_to(self.root).as_posix() if out.is_relative_to(self.root) else None
        )
        self._ignore, self._on_change = ignore, on_change
        self._observer: BaseObserver = PollingObserver() if poll else Observer()
        self._handler = _Handler(self)
        self._watched: dict[str, ObservedWatch] = {}
        self._debouncer = _Debouncer(self._fire, quiet, max_wait)

    def start(self) -> None:
        """Start watching; raise ``WatchError`` when the system will not let us."""
        self._debouncer.start()
        try:
            self._observer.schedule(self._handler, str(self.root), event_filter=_EVENTS)
            self._watch_folders()
            self._observer.start()
        except OSError as exc:
            self.stop(timeout=1.0)
            raise WatchError(
                f"cannot watch {self.root.as_posix()}: {exc.strerror or exc}",
                hint="out of inotify watches? try --poll, or raise fs.inotify.max_user_watches",
            ) from None

    def stop(self, timeout: float = 5.0) -> None:
        self._observer.stop()
        self._debouncer.stop(timeout)
        if self._observer.is_alive():
            self._observer.join(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def notice(self, path: str, *, is_dir: bool) -> None:
        """Called from the observer's thread with an absolute path."""
        try:
            rel = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return
        if relevant(rel, ignore=self._ignore, output=self._output, is_dir=is_dir):
            self._debouncer.add(rel, is_dir=is_dir)

    def _watch_folders(self) -> None:
        """Watch content/ and templates/, including ones made (or remade) after the start."""
        for name in WATCHED_DIRS:
            folder = self.root / name
            if name in self._watched and not folder.is_dir():
                self._observer.unschedule(self._watched.pop(name))
            if name not in self._watched and folder.is_dir():
                self._watched[name] = self._observer.schedule(
                    self._handler, str(folder), recursive=True, event_filter=_EVENTS
                )

    def _fire(self, batch: Iterable[tuple[str, bool]]) -> None:
        self._watch_folders()
        changes = tuple(Change(path=rel, kind=classify(rel, is_dir=d)) for rel, d in batch)
        self._on_change(Batch(changes=changes))
