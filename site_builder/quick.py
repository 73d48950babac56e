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
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from site_builder.cache import (
    Inputs,
    Manifest,
    RenderCache,
    amend_manifest,
    close_readers,
    collector_paused,
    load_summary,
    save_summary,
)
from site_builder.config import SiteConfig
from site_builder.content import load_files, source_key
from site_builder.errors import SiteError
from site_builder.feeds import FEED_FILES, render_feed
from site_builder.fresh import BuildResult
from site_builder.model import Article, Entry, Site
from site_builder.outline import outline_of
from site_builder.outputs import OutputGraph, PageRecipe, card
from site_builder.permalinks import LEDGER_NAME, parse_ledger
from site_builder.record import (
    META,
    OUTLINE,
    PATHS,
    Absent,
    Edited,
    Feed,
    KeptArticles,
    Listed,
    Meta,
    NotKept,
    Row,
    SiteParts,
    kept_rows,
    pickled,
    read_state,
    render_kept,
    save_state,
    store,
)
from site_builder.replan import edit_placed
from site_builder.site import output_path, placement, retext
from site_builder.templates import make_environment
from site_builder.writer import holds, is_owned, update_site

_MOST_EDITED = 20  # more files changed at once is a batch job: the planned build
# Pages reading a site part that lists articles are rendered again after an edit of
# one of them; past this many, such an article is left to the planned build.
_MOST_READERS = 32


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
        with store(config) as db:
            db.execute("DELETE FROM meta")
            _keep_rows(db, site, graph, entries, manifest)
            meta = _meta(site, graph, manifest, inputs)
            outline = outline_of(site, config, _claims(config, site))
            rows = [(META, meta), (OUTLINE, outline), (PATHS, frozenset(manifest.keys))]
            db.executemany("INSERT INTO meta VALUES (?, ?)", [(i, pickled(v)) for i, v in rows])
    except Exception:  # noqa: BLE001 - a record that cannot be made leaves the planned build
        _forget(config)


def _claims(config: SiteConfig, site: Site) -> dict[str, tuple[str, ...]]:
    """Every old address and alias of a story, and the stories claiming it (those no
    story has now forward to theirs: ``permalinks.reconcile``)."""
    ledger = parse_ledger((config.root / LEDGER_NAME).read_text(encoding="utf-8"))
    urls = {p.source: p.urls for p in ledger}  # the build wrote it: each story's is its own
    claims: dict[str, list[str]] = defaultdict(list)
    for article in site.articles:
        aliases = article.extra.get("aliases", [])
        old = urls.get(article.source_path, ())[:-1]
        for url in (*old, *(aliases if isinstance(aliases, list) else ())):
            claims[url].append(article.source_path)
    return {url: tuple(sources) for url, sources in claims.items()}


def _forget(config: SiteConfig) -> None:
    with contextlib.suppress(sqlite3.Error, OSError), store(config) as db:
        db.execute("DELETE FROM meta")


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
                yield source, key, pickled(_row(own[source], article, page, graph.recipes[page]))

    db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", fresh())


def _row(entry: Entry, article: Article, page: str, recipe: PageRecipe) -> Row:
    context = {k: v for k, v in recipe.context.items() if k != "article"}
    return Row(
        placement=placement(entry),
        article=replace(article, related=()),
        related=tuple(r.source_path for r in article.related),
        page=page,
        recipe=PageRecipe(recipe.template, recipe.url, recipe.links, context, recipe.finish),
    )


def _meta(site: Site, graph: OutputGraph, manifest: Manifest, inputs: Inputs) -> Meta:
    blocked = {a.source_path for a in (*site.articles, *site.pages) if a.kind != "article"}
    blocked |= _shown_elsewhere(site, graph)
    parts: dict[str, object] = {}
    for name in sorted({n for names in manifest.reads.values() for n in names}):
        if not hasattr(site, name):
            parts[name] = Absent()  # undefined for the template, as in the planned build
            continue
        value = getattr(site, name)
        if isinstance(value, tuple) and all(isinstance(v, Article) for v in value):
            parts[name] = Listed(tuple(a.source_path for a in value))
        elif held := _articles_in(value):
            blocked |= held  # a part no row can stand for: not kept, its articles planned
        else:
            parts[name] = value
    readers, unreadable = _readers(graph, manifest, parts, blocked)
    return Meta(
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
        if isinstance(part, Listed) and set(part.sources) - blocked
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


def _feeds(graph: OutputGraph) -> tuple[Feed, ...]:
    unique = {id(feed): feed for feed in graph.article_feeds.values()}
    return tuple(
        (tuple(a.source_path for a in feed.articles), replace(feed, articles=()))
        for feed in unique.values()
    )


# --- editing in place --------------------------------------------------------------


def edit_in_place(
    config: SiteConfig, inputs: Inputs, *, now: datetime, started: float, jobs: int = 1
) -> BuildResult | None:
    """The build after an edit of articles' text, or of one article's metadata
    (``replan``); or ``None``: the edit needs the planned build (which also reports any
    problem with the edited files)."""
    summary = load_summary(config.root, config.output_dir)
    if summary is None or not summary.inputs or not is_owned(config.output_dir):
        return None
    if summary.valid_until and now >= datetime.fromisoformat(summary.valid_until):
        return None  # a scheduled story has come due: it must be placed
    try:
        with collector_paused(), store(config) as db:
            edited = _edit_kept(config, db, summary.inputs, inputs, now=now, jobs=jobs)
    except (sqlite3.Error, OSError, TypeError, ValueError):
        return None
    if edited is None:
        return None
    pages, feeds, files = edited.counts or (summary.pages, summary.feeds, summary.files)
    after = replace(summary, inputs=edited.inputs.signature, pages=pages, feeds=feeds, files=files)
    save_summary(config.root, after)
    due = datetime.fromisoformat(summary.valid_until) if summary.valid_until else None
    return BuildResult(
        written=edited.written,
        removed=edited.removed,
        skipped=pages + feeds + files - len(edited.written),
        pages=pages,
        feeds=feeds,
        files=files,
        warnings=(),
        seconds=time.perf_counter() - started,
        next_scheduled=due,
        planned=False,
        replanned=edited.replanned,
    )


def _edit_kept(
    config: SiteConfig,
    db: sqlite3.Connection,
    signature: str,
    inputs: Inputs,
    *,
    now: datetime,
    jobs: int,
) -> Edited | None:
    """What the build after the edits wrote, if what is kept allows building it here."""
    meta = read_state(db)
    usable = meta is not None and (meta.signature, meta.options) == (signature, inputs.options)
    changed = _changed(meta, inputs) if meta and usable else None
    rows = kept_rows(db, changed) if changed else None
    entries = _loaded(config, rows) if rows else None
    if meta is None or rows is None or entries is None:
        return None
    articles = _retexted(config, rows, entries)
    if articles is None:  # an article moved, or what lists show of it changed
        if len(entries) != 1:
            return None
        row = rows[entries[0].source_path]
        return edit_placed(config, db, meta, row, entries[0], inputs=inputs, now=now, jobs=jobs)
    written = _edit(config, db, meta, rows, articles)
    if written is None:
        return None
    save_state(db, meta, _after(meta, inputs))
    return Edited(written=tuple(written), inputs=inputs)


def _changed(meta: Meta, inputs: Inputs) -> list[str] | None:
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


def _edit(
    config: SiteConfig,
    db: sqlite3.Connection,
    meta: Meta,
    rows: dict[str, Row],
    articles: dict[str, Article],
) -> list[str] | None:
    """Render what the edits change and write the files that differ; their paths."""
    try:
        rendered = _rendered(config, db, meta, rows, articles)
    except (SiteError, NotKept):
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
        [(pickled(replace(rows[s], article=a)), s) for s, a in articles.items()],
    )
    return [path for path, _ in changed]


def _loaded(config: SiteConfig, rows: dict[str, Row]) -> list[Entry] | None:
    """The edited files as content/ has them now; None when one has a problem."""
    cache = RenderCache(config.root)
    try:
        entries, problems = load_files(config, list(rows), cache=cache)
    finally:
        cache.close()
    return None if problems or len(entries) != len(rows) else entries


def _retexted(
    config: SiteConfig, rows: dict[str, Row], entries: list[Entry]
) -> dict[str, Article] | None:
    """Each edited article with its new text; None when an edit moves one or changes
    what lists show of it."""
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


def _rendered(
    config: SiteConfig,
    db: sqlite3.Connection,
    meta: Meta,
    rows: dict[str, Row],
    edited: dict[str, Article],
) -> dict[str, bytes]:
    env = make_environment(config)
    articles = KeptArticles(db, rows, edited)
    site = SiteParts(meta.parts, articles)
    live = {  # listed parts with a story that may be edited here
        name
        for name, part in meta.parts.items()
        if isinstance(part, Listed) and set(part.sources) - meta.blocked
    }
    rendered: dict[str, bytes] = {}
    for source in edited:
        row = rows[source]
        recipe = replace(
            row.recipe, context={**row.recipe.context, "article": articles.whole([source])[0]}
        )
        rendered[row.page] = render_kept(env, site, recipe, live, meta.readers.get(row.page))
    for sources, feed in meta.feeds:
        if edited.keys() & set(sources):
            shown = replace(feed, articles=articles.shallow(sources)).spec(config)
            for kind in FEED_FILES:
                rendered[output_path(shown.url(kind))] = render_feed(kind, shown, config)
    touched = {
        name
        for name, part in meta.parts.items()
        if isinstance(part, Listed) and edited.keys() & set(part.sources)
    }
    for path, (recipe, reads) in meta.readers.items():
        if touched & reads:
            rendered[path] = render_kept(env, site, recipe, live, (recipe, reads))
    return rendered


def _after(meta: Meta, inputs: Inputs) -> Meta:
    return replace(meta, signature=inputs.signature, stats=inputs.stats)
