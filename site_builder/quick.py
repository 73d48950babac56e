"""The command line's fast path for edits of articles' text.

A planned build places every article and keys every output again: seconds on a
large archive. Most edits change what an article says, not where it is. After each
planned build, ``remember`` keeps in ``.site-builder/quick.sqlite`` what it takes to
render an article's outputs again without the plan: each placed article (its body
stays in the render cache), how its page is rendered, the feeds that carry articles
in full, the site parts templates read, and the stat of every input file.

The next build that finds only such articles changed, each in its text alone (same
placement, and the same card: title, summary, reading time...), renders their
pages, the feeds that carry them and the pages that read a site part listing them,
and swaps the files that differ in, as any incremental build does (``edit_in_place``).
Anything else, or any doubt, is left to the planned build. The preview keeps its
plan in memory instead (``live``).
"""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from site_builder.cache import (
    Inputs,
    Manifest,
    RenderCache,
    amend_manifest,
    close_readers,
    load_summary,
    records_folder,
    save_summary,
)
from site_builder.config import SiteConfig
from site_builder.content import load_files, source_key
from site_builder.errors import SiteError
from site_builder.feeds import FEED_FILES, render_feed
from site_builder.fresh import BuildResult
from site_builder.model import Article, Entry, Site, pickled_by_fields
from site_builder.outputs import ArticleFeed, OutputGraph, PageRecipe, card, render_page
from site_builder.site import output_path, placement, retext
from site_builder.templates import make_environment
from site_builder.writer import holds, is_owned, update_site

if TYPE_CHECKING:
    import jinja2

_NAME = "quick.sqlite"
_MOST_EDITED = 20  # more files changed at once is a batch job: the planned build
# Pages reading a site part that lists articles are rendered again after an edit of
# one of them; past this many, such an article is left to the planned build.
_MOST_READERS = 32


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class _Row:
    """One placed entry, as a build without the plan needs it."""

    placement: tuple[object, ...]  # of the entry as content/ has it (site.placement)
    article: Article  # placed, without its related stories: rows of their own
    related: tuple[str, ...]  # their sources
    page: str  # output path of its page
    recipe: PageRecipe  # its page's, without the article


# A feed that carries articles in full: their sources, and the feed without them.
_Feed = tuple[tuple[str, ...], ArticleFeed]


@dataclass(frozen=True, slots=True)
class _Meta:
    """What the rows belong to, and what they need beside them."""

    signature: str  # the inputs of the build they were kept by (Summary.inputs)
    options: str  # and its options (cache.Inputs)
    stats: dict[str, str]  # every input file's stat line then
    feeds: tuple[_Feed, ...]
    parts: dict[str, object]  # site part → its value, or a tuple of sources (_Listed)
    readers: dict[str, tuple[PageRecipe, frozenset[str]]]  # pages reading listed parts
    blocked: frozenset[str]  # sources never edited in place


@dataclass(frozen=True, slots=True)
class _Listed:
    """A site part that is a tuple of placed entries, kept as their sources."""

    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Absent:
    """A site part that a template asked for and the site does not have."""


class _NotKept(Exception):
    """A page read a site part that is not kept: the edit needs the planned build."""


def _connect(config: SiteConfig) -> sqlite3.Connection:
    path = records_folder(config.root, config.output_dir, make=True) / _NAME
    try:
        return _tables(sqlite3.connect(path, timeout=30))
    except sqlite3.DatabaseError:  # damaged: what it held is made again by the next build
        path.unlink(missing_ok=True)
        Path(f"{path}-journal").unlink(missing_ok=True)
        return _tables(sqlite3.connect(path, timeout=30))


def _tables(db: sqlite3.Connection) -> sqlite3.Connection:
    try:
        db.execute("CREATE TABLE IF NOT EXISTS rows (source TEXT PRIMARY KEY, key, value)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY, value)")
    except sqlite3.Error:
        db.close()
        raise
    return db


@contextlib.contextmanager
def _store(config: SiteConfig) -> Iterator[sqlite3.Connection]:
    db = _connect(config)
    try:
        with db:
            yield db
    finally:
        db.close()


# --- remembering, after a planned build ------------------------------------------


def remember(
    config: SiteConfig,
    site: Site,
    graph: OutputGraph,
    entries: Iterable[Entry],
    *,
    manifest: Manifest,
    inputs: Inputs,
) -> None:
    """Keep what ``edit_in_place`` needs after a build that wrote ``manifest`` from
    ``inputs`` (the input files as the build saw them).

    Rows are rewritten only for entries whose page or file changed.
    """
    try:
        with _store(config) as db:
            db.execute("DELETE FROM meta")
            _keep_rows(db, site, graph, entries, manifest)
            meta = _meta(site, graph, manifest, inputs)
            db.execute("INSERT INTO meta VALUES (1, ?)", (_pickled(meta),))
    except Exception:  # noqa: BLE001 - a record that cannot be made leaves the planned build
        _forget(config)


def _forget(config: SiteConfig) -> None:
    with contextlib.suppress(sqlite3.Error, OSError), _store(config) as db:
        db.execute("DELETE FROM meta")


def _pickled(value: object) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _keep_rows(
    db: sqlite3.Connection,
    site: Site,
    graph: OutputGraph,
    entries: Iterable[Entry],
    manifest: Manifest,
) -> None:
    """Rows for the entries whose page or file changed; none for those gone."""
    own = {e.source_path: e for e in entries}
    placed = {a.source_path for a in (*site.articles, *site.pages)}
    kept = dict(db.execute("SELECT source, key FROM rows").fetchall())
    db.executemany("DELETE FROM rows WHERE source = ?", [(s,) for s in kept if s not in placed])

    def fresh() -> Iterator[tuple[str, str, bytes]]:  # one at a time: 2.6 KB an article
        for article in (*site.articles, *site.pages):
            source, page = article.source_path, output_path(article.url)
            # Not the file's stat: a fresh checkout (CI with the cache restored) keeps rows.
            key = f"{manifest.keys.get(page, '')}:{source_key(article.body)}"
            if kept.get(source) != key:
                yield source, key, _pickled(_row(own[source], article, page, graph.recipes[page]))

    db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", fresh())


def _row(entry: Entry, article: Article, page: str, recipe: PageRecipe) -> _Row:
    context = {k: v for k, v in recipe.context.items() if k != "article"}
    return _Row(
        placement=placement(entry),
        article=replace(article, related=()),
        related=tuple(r.source_path for r in article.related),
        page=page,
        recipe=PageRecipe(recipe.template, recipe.url, recipe.links, context, recipe.finish),
    )


def _meta(site: Site, graph: OutputGraph, manifest: Manifest, inputs: Inputs) -> _Meta:
    blocked = {a.source_path for a in (*site.articles, *site.pages) if a.kind != "article"}
    blocked |= _shown_elsewhere(site, graph)
    parts: dict[str, object] = {}
    for name in sorted({n for names in manifest.reads.values() for n in names}):
        if not hasattr(site, name):
            parts[name] = _Absent()  # undefined for the template, as in the planned build
            continue
        value = getattr(site, name)
        if isinstance(value, tuple) and all(isinstance(v, Article) for v in value):
            parts[name] = _Listed(tuple(a.source_path for a in value))
        elif held := _articles_in(value):
            blocked |= held  # a part no row can stand for: not kept, its articles planned
        else:
            parts[name] = value
    readers, unreadable = _readers(graph, manifest, parts, blocked)
    return _Meta(
        signature=manifest.inputs,
        options=inputs.options,
        stats=inputs.stats,
        feeds=_feeds(graph),
        parts=parts,
        readers=readers,
        blocked=frozenset(blocked | unreadable),
    )


def _shown_elsewhere(site: Site, graph: OutputGraph) -> set[str]:
    """Articles that some output other than their page and the feeds kept here shows in
    full: a theme's new kind of page, which only the planned build can render."""
    found = set()
    for path, values in graph.shows.items():
        if path in graph.in_full and path not in graph.article_feeds:
            found |= {s for v in values for s in _articles_in(v)}
        for value in values:
            if isinstance(value, Article) and output_path(value.url) != path:
                found.add(value.source_path)
    return found


def _articles_in(value: object) -> set[str]:
    """The sources of every article ``value`` holds, however deep."""
    if isinstance(value, Article):
        return {value.source_path}
    if isinstance(value, str | bytes | int | float | datetime) or value is None:
        return set()
    found: set[str] = set()
    if isinstance(value, Mapping):
        value = tuple(value.values())
    if isinstance(value, tuple | list):
        for item in value:
            found |= _articles_in(item)
        return found
    for name in getattr(type(value), "__slots__", ()):
        found |= _articles_in(getattr(value, name, None))
    return found


def _readers(
    graph: OutputGraph, manifest: Manifest, parts: Mapping[str, object], blocked: set[str]
) -> tuple[dict[str, tuple[PageRecipe, frozenset[str]]], set[str]]:
    """The pages that read a listed part with an article that may be edited in place;
    and the articles left to the planned build because those pages cannot be kept."""
    listed = {
        name: set(part.sources) - blocked
        for name, part in parts.items()
        if isinstance(part, _Listed) and set(part.sources) - blocked
    }
    readers: dict[str, tuple[PageRecipe, frozenset[str]]] = {}
    unreadable: set[str] = set()
    for name, sources in listed.items():
        paths = [p for p, names in manifest.reads.items() if name in names]
        recipes = [graph.recipes.get(p) for p in paths]
        if len(paths) > _MOST_READERS or None in recipes or any(map(_articles_in, recipes)):
            unreadable |= sources
            continue
        for path, recipe in zip(paths, recipes, strict=True):
            assert recipe is not None
            readers[path] = (recipe, frozenset(manifest.reads[path]))
    return readers, unreadable


def _feeds(graph: OutputGraph) -> tuple[_Feed, ...]:
    unique = {id(feed): feed for feed in graph.article_feeds.values()}
    return tuple(
        (tuple(a.source_path for a in feed.articles), replace(feed, articles=()))
        for feed in unique.values()
    )


# --- editing in place --------------------------------------------------------------


def edit_in_place(
    config: SiteConfig, inputs: Inputs, *, now: datetime, started: float
) -> BuildResult | None:
    """The build after an edit of articles' text only, or ``None``: the edit needs the
    planned build (which also reports any problem with the edited files)."""
    summary = load_summary(config.root, config.output_dir)
    if summary is None or not summary.inputs or not is_owned(config.output_dir):
        return None
    if summary.valid_until and now >= datetime.fromisoformat(summary.valid_until):
        return None  # a scheduled story has come due: it must be placed
    try:
        with _store(config) as db:
            written = _edit_kept(config, db, summary.inputs, inputs)
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return None
    if written is None:
        return None
    save_summary(config.root, replace(summary, inputs=inputs.signature))
    due = datetime.fromisoformat(summary.valid_until) if summary.valid_until else None
    return BuildResult(
        written=tuple(written),
        removed=(),
        skipped=summary.pages + summary.feeds + summary.files - len(written),
        pages=summary.pages,
        feeds=summary.feeds,
        files=summary.files,
        warnings=(),
        seconds=time.perf_counter() - started,
        next_scheduled=due,
        planned=False,
    )


def _edit_kept(
    config: SiteConfig, db: sqlite3.Connection, signature: str, inputs: Inputs
) -> list[str] | None:
    """The files written after the edits, if what is kept allows building them here."""
    meta = _kept_meta(db, signature, inputs)
    changed = _changed(meta, inputs) if meta else None
    rows = _kept_rows(db, changed) if changed else None
    if meta is None or rows is None:
        return None
    written = _edit(config, db, meta, rows)
    if written is not None:
        db.execute("UPDATE meta SET value = ? WHERE id = 1", (_pickled(_after(meta, inputs)),))
    return written


def _kept_meta(db: sqlite3.Connection, signature: str, inputs: Inputs) -> _Meta | None:
    """The kept state, when it belongs to the last build and to the same options."""
    found = db.execute("SELECT value FROM meta WHERE id = 1").fetchone()
    meta = _unpickled(found[0]) if found else None
    if not isinstance(meta, _Meta) or (meta.signature, meta.options) != (signature, inputs.options):
        return None
    return meta


def _changed(meta: _Meta, inputs: Inputs) -> list[str] | None:
    """The edited articles, when nothing else changed."""
    kept = meta.stats.get
    names = [name for name, line in inputs.stats.items() if kept(name) != line]
    usable = (
        0 < len(names) <= _MOST_EDITED
        and len(meta.stats) == len(inputs.stats)
        and all(n in meta.stats for n in names)  # none added, so none removed
        and not meta.blocked.intersection(names)
    )
    return names if usable else None


def _kept_rows(db: sqlite3.Connection, sources: list[str]) -> dict[str, _Row] | None:
    marks = ",".join("?" * len(sources))
    found = db.execute(f"SELECT source, value FROM rows WHERE source IN ({marks})", sources)
    rows: dict[str, _Row] = {}
    for source, value in found:
        row = _unpickled(value)
        if not isinstance(row, _Row):
            return None
        rows[source] = row
    return rows if len(rows) == len(sources) else None


def _unpickled(value: bytes) -> object:
    """What this program pickled, or None: another version's record may name classes
    this one does not have."""
    try:
        return pickle.loads(value)
    except Exception:  # noqa: BLE001 - any failure means "nothing kept"
        return None


def _edit(
    config: SiteConfig, db: sqlite3.Connection, meta: _Meta, rows: dict[str, _Row]
) -> list[str] | None:
    """Render what the edits change and write the files that differ; their paths."""
    articles = _retexted(config, rows)
    if articles is None:
        return None
    try:
        rendered = _rendered(config, db, meta, rows, articles)
    except (SiteError, _NotKept):
        return None
    finally:
        close_readers()
    changed = [
        (path, data) for path, data in rendered.items() if not holds(config.output_dir, path, data)
    ]
    if changed:
        paths = [path for path, _ in changed]
        # First: a killed build must not trust it.
        amend_manifest(config.root, config.output_dir, paths)
        update_site(config.output_dir, changed, ())
    db.executemany(
        "UPDATE rows SET value = ?, key = '' WHERE source = ?",
        [(_pickled(replace(rows[s], article=a)), s) for s, a in articles.items()],
    )
    return [path for path, _ in changed]


def _retexted(config: SiteConfig, rows: dict[str, _Row]) -> dict[str, Article] | None:
    """Each edited article with its new text; None when an edit moves one or changes
    what lists show of it, or a file has a problem."""
    cache = RenderCache(config.root)
    try:
        entries, problems = load_files(config, list(rows), cache=cache)
    finally:
        cache.close()
    if problems or len(entries) != len(rows):
        return None
    articles = {}
    for entry in entries:
        row = rows[entry.source_path]
        if placement(entry) != row.placement:
            return None
        article = replace(row.article)
        retext({entry.source_path: [article]}, {entry.source_path: entry}, config)
        if card(article) != card(row.article):
            return None
        articles[entry.source_path] = article
    return articles


class _Parts:
    """The ``site`` of a page rendered without the plan: the parts kept, nothing else."""

    __slots__ = ("_articles", "_parts")

    def __init__(self, parts: Mapping[str, object], articles: _Articles) -> None:
        self._parts, self._articles = parts, articles

    def __getattr__(self, name: str) -> Any:
        if name not in self._parts:
            raise _NotKept(name)
        part = self._parts[name]
        if isinstance(part, _Absent):
            raise AttributeError(name)
        return self._articles.whole(part.sources) if isinstance(part, _Listed) else part


class _Articles:
    """Placed articles by source: the edited ones, else as kept."""

    def __init__(
        self, db: sqlite3.Connection, rows: Mapping[str, _Row], edited: Mapping[str, Article]
    ) -> None:
        self._db, self._rows, self._edited = db, dict(rows), edited

    def row(self, source: str) -> _Row:
        if source not in self._rows:
            self._rows.update(_rows_of(self._db, [source]))
        return self._rows[source]

    def shallow(self, sources: Iterable[str]) -> tuple[Article, ...]:
        """As related-story lists and feeds hold them: without their own related stories."""
        sources = tuple(sources)
        missing = [s for s in sources if s not in self._rows]
        if missing:
            self._rows.update(_rows_of(self._db, missing))
        return tuple(self._edited.get(s) or self._rows[s].article for s in sources)

    def whole(self, sources: Iterable[str]) -> tuple[Article, ...]:
        """As the site holds them: with their related stories."""
        return tuple(
            replace(article, related=self.shallow(self.row(article.source_path).related))
            for article in self.shallow(sources)
        )


def _rows_of(db: sqlite3.Connection, sources: list[str]) -> dict[str, _Row]:
    rows = _kept_rows(db, sources)
    if rows is None:
        raise _NotKept("an article without a row")
    return rows


def _rendered(
    config: SiteConfig,
    db: sqlite3.Connection,
    meta: _Meta,
    rows: dict[str, _Row],
    edited: dict[str, Article],
) -> dict[str, bytes]:
    env = make_environment(config)
    articles = _Articles(db, rows, edited)
    site = _Parts(meta.parts, articles)
    live = {  # listed parts with a story that may be edited here
        name
        for name, part in meta.parts.items()
        if isinstance(part, _Listed) and set(part.sources) - meta.blocked
    }
    rendered: dict[str, bytes] = {}
    for source in edited:
        row = rows[source]
        recipe = replace(
            row.recipe, context={**row.recipe.context, "article": articles.whole([source])[0]}
        )
        rendered[row.page] = _page(env, site, recipe, live, meta.readers.get(row.page))
    for sources, feed in meta.feeds:
        if edited.keys() & set(sources):
            shown = replace(feed, articles=articles.shallow(sources)).spec(config)
            for kind in FEED_FILES:
                rendered[output_path(shown.url(kind))] = render_feed(kind, shown, config)
    touched = {
        name
        for name, part in meta.parts.items()
        if isinstance(part, _Listed) and edited.keys() & set(part.sources)
    }
    for path, (recipe, reads) in meta.readers.items():
        if touched & reads:
            rendered[path] = _page(env, site, recipe, live, (recipe, reads))
    return rendered


def _page(
    env: jinja2.Environment,
    site: _Parts,
    recipe: PageRecipe,
    live: set[str],
    reader: tuple[PageRecipe, frozenset[str]] | None,
) -> bytes:
    """A page's bytes; a page that now reads a listed part it did not read when the
    record was made would be missed by later edits of that part's stories: planned."""
    data, used = render_page(env, site, recipe)
    if used & live - (reader[1] if reader else frozenset()):
        raise _NotKept("a page reads another part of the site")
    return data


def _after(meta: _Meta, inputs: Inputs) -> _Meta:
    return replace(meta, signature=inputs.signature, stats=inputs.stats)
