"""The command line's fast path for an edit of one article's metadata: its title,
date, tags, category, authors or slug.

Input: the edited file, its row, and the outline of the site the last planned build
kept (``outline``). The article is placed again in the outline; the outputs the edit
reaches are compared as the outline shows them before and after (``impact``); those
that change are rendered (``redraw``) and swapped in and those that go are removed,
as any incremental build does; ``permalinks.json`` gains a moved story's new address
as the planned build would write it. Output: what was written, or None when the edit
needs the planned build, which also reports any problem.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from site_builder.cache import Inputs, amend_manifest, close_readers, kinds
from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.fresh import with_ledger_written
from site_builder.i18n import Texts
from site_builder.impact import LATEST, Impact, View, impact
from site_builder.model import Article, Entry
from site_builder.outline import Edits, Outline, Placed, edits_after, place_again, with_edits
from site_builder.permalinks import LEDGER_NAME
from site_builder.record import (
    EDITS,
    OUTLINE,
    PATHS,
    Absent,
    Edited,
    KeptArticles,
    Listed,
    Meta,
    NotKept,
    Row,
    SiteParts,
    pickled,
    read_meta,
    reader,
    save_state,
)
from site_builder.redraw import Kept, Redraw, rendered
from site_builder.site import TEXT_FIELDS, output_path, placement
from site_builder.templates import make_environment
from site_builder.writer import holds, update_site

if TYPE_CHECKING:
    import jinja2

# What an edit may change besides the text and stay on this path: each moves the story
# in lists the outline holds. Anything else (sources, draft, id, aliases) is planned.
MOVABLE = frozenset(("slug", "date", "updated", "tag_names", "category", "authors"))
_PARTS = frozenset(("latest", "pages"))  # the site parts the outline can make again
_PLACEMENT = (*(f.name for f in fields(Entry) if f.name not in TEXT_FIELDS), "aliases")


def edit_placed(
    config: SiteConfig,
    db: sqlite3.Connection,
    meta: Meta,
    row: Row,
    entry: Entry,
    *,
    inputs: Inputs,
    now: datetime,
    jobs: int = 1,
) -> Edited | None:
    """The build after an edit of ``entry``'s metadata, or None: the planned build.
    ``jobs``: processes it may render in."""
    base = read_meta(db, OUTLINE, Outline)
    edits = read_meta(db, EDITS, Edits) or Edits()
    outline = with_edits(base, edits) if base else None
    if outline is None or not _editable(config, meta, outline, row, entry, now=now):
        return None
    env = make_environment(config)
    texts: Texts = env.globals["i18n"]  # type: ignore[assignment]
    identified = replace(entry, feed_id=row.article.feed_id)  # the ledger's, as planned
    placed = place_again(outline, row.article, identified, config, texts)
    if placed is None or not _addressable(outline, placed):
        return None
    placed = _claimed(outline, placed)
    edit = _Edit(config, db, meta, row, entry, outline, placed, edits, jobs)
    return edit.build(env, inputs)


def _editable(
    config: SiteConfig, meta: Meta, outline: Outline, row: Row, entry: Entry, *, now: datetime
) -> bool:
    """Whether this path can build after the edit: a published story, still published,
    whose changes the outline places, on a site whose templates read no more of the
    whole site than the outline can make again."""
    now_placed = placement(entry)
    changed = {n for n, a, b in zip(_PLACEMENT, row.placement, now_placed, strict=False) if a != b}
    published = entry.date is not None and (entry.date <= now or config.future)
    return (
        entry.kind == "article" == row.article.kind
        and entry.source_path in outline.spots
        and len(row.placement) == len(_PLACEMENT)
        and changed <= MOVABLE
        and published
        and bool(entry.slug)
        and not meta.blocked & outline.spots.keys()
        and all(n in _PARTS or isinstance(p, Absent) for n, p in meta.parts.items())
    )


def _addressable(outline: Outline, placed: Placed) -> bool:
    """Whether the story's new address is its own, and no other story's old address or
    alias (where two claim one, which forwards where is the plan's to decide)."""
    source, url = placed.article.source_path, placed.article.url
    old = outline.spots[source].url
    if url == old:
        return True
    others = {s.url for s in outline.spots.values() if s.source != source}
    claimed = {u for u, sources in outline.claims.items() if set(sources) - {source}}
    mine = {u for u, sources in outline.claims.items() if source in sources}
    return url not in others and not {url, old, *mine} & claimed


def _claimed(before: Outline, placed: Placed) -> Placed:
    """After a move, the story's old address is one of its old addresses (the ledger
    keeps every address a story had), which forwards to the new one."""
    after, source = placed.outline, placed.article.source_path
    old = before.spots[source].url
    if old == placed.article.url or source in after.claims.get(old, ()):
        return placed
    claims = {**after.claims, old: (*after.claims.get(old, ()), source)}
    return replace(placed, outline=replace(after, claims=claims))


@dataclass(slots=True)
class _Edit:
    """One article placed again, on its way to output/ and to the record."""

    config: SiteConfig
    db: sqlite3.Connection
    meta: Meta
    row: Row
    entry: Entry  # as content/ has it
    before: Outline
    placed: Placed
    edits: Edits  # the outline's since it was kept
    jobs: int  # processes it may render in

    @property
    def source(self) -> str:
        return self.placed.article.source_path

    def build(self, env: jinja2.Environment, inputs: Inputs) -> Edited | None:
        before = View(self.before, self.config)
        after = View(self.placed.outline, self.config, like=before)
        found = impact(before, after, self.placed, self.meta.readers, self._paths)
        ledger = self._ledger() if found else None
        if found is None or ledger is None:
            return None
        edited = self._neighbours(before, after)
        meta = replace(self.meta, parts=self._parts(after))
        articles = KeptArticles(self.db, {}, edited, related=self.placed.related, lazy=True)
        redraw = Redraw(env, (self.before, after), articles, _kept(meta, articles))
        try:
            made = rendered(redraw, found, jobs=self.jobs, reconnect=self._reconnect(articles))
        except (SiteError, NotKept):
            return None
        finally:
            close_readers()
        meta = replace(meta, feeds=redraw.article_feeds(meta.feeds, self._terms()))
        return self._written(
            made, found=found, ledger=ledger, inputs=inputs, edited=edited, meta=meta
        )

    def _reconnect(self, articles: KeptArticles) -> Callable[[], None]:
        return lambda: articles.reconnect(reader(self.config))

    def _paths(self) -> frozenset[str]:
        """Every file of the site before the edit."""
        found = read_meta(self.db, PATHS, frozenset)
        if found is None:
            raise NotKept("the site's files")
        return found

    def _terms(self) -> set[tuple[int, str]]:
        """The terms the story was or is filed under, by taxonomy."""
        spots = (self.before.spots[self.source], self.placed.outline.spots[self.source])
        return {(k, slug) for spot in spots for k, slugs in enumerate(spot.terms) for slug in slugs}

    def _neighbours(self, before: View, after: View) -> dict[str, Article]:
        """The edited story, and the stories beside its old and new places, whose pages
        link their neighbours by title and address."""
        edited = {self.source: self.placed.article}
        around: set[str] = set()
        for view in (before, after):
            at = view.index[self.source]
            around.update(view.order[i] for i in (at - 1, at + 1) if 0 <= i < len(view.order))
        kept = KeptArticles(self.db, {}, {})
        for other in around - {self.source}:
            (article,) = kept.shallow([other])
            links = after.outline.neighbours(after.index[other])
            if (article.newer, article.older) != links:
                edited[other] = replace(article, newer=links[0], older=links[1])
        return edited

    def _parts(self, after: View) -> dict[str, object]:
        """The site parts pages read, after the edit (``latest``: the newest stories)."""
        if isinstance(self.meta.parts.get("latest", Absent()), Absent):
            return self.meta.parts
        return {**self.meta.parts, "latest": Listed(tuple(after.order[:LATEST]))}

    # --- permalinks.json ---------------------------------------------------------------

    def _ledger(self) -> str | None:
        """permalinks.json after the edit ("" when it stays as it is); None when it
        is not as the last build left it."""
        old, new = self.before.spots[self.source].url, self.placed.article.url
        if old == new:
            return ""
        try:
            text = (self.config.root / LEDGER_NAME).read_text(encoding="utf-8")
        except OSError:
            return None
        entry = _entry_in(text, self.source)
        if entry is None or entry[1]["urls"][-1] != old:
            return None
        # The story's entry as dump_ledger writes it, an address longer: spliced in,
        # since the rest of the file is what the last build wrote (its stat says so).
        was, fields = entry
        now = _entry_text({**fields, "urls": [*fields["urls"], new]})
        return text.replace(was, now)

    # --- output/ and the record ----------------------------------------------------------

    def _written(
        self,
        rendered: dict[str, bytes],
        *,
        found: Impact,
        ledger: str,
        inputs: Inputs,
        edited: dict[str, Article],
        meta: Meta,
    ) -> Edited:
        output = self.config.output_dir
        changed = [(path, data) for path, data in rendered.items() if not holds(output, path, data)]
        removed = sorted(found.removed)
        if changed or removed:
            # First: a killed build must not trust the manifest for these files.
            amend_manifest(self.config.root, output, [*(p for p, _ in changed), *removed])
            update_site(output, changed, removed)
        if ledger:
            _save_ledger(self.config, ledger)
            inputs = with_ledger_written(inputs, self.config)
        self._remember(found, edited, replace(meta, signature=inputs.signature, stats=inputs.stats))
        return Edited(
            written=tuple(path for path, _ in changed),
            inputs=inputs,
            removed=tuple(removed),
            counts=kinds(found.paths) if found.paths is not None else None,
            replanned=True,
        )

    def _remember(self, found: Impact, edited: dict[str, Article], meta: Meta) -> None:
        """The record as the next edit needs it: rows of the stories whose placed form
        changed, the outline, and the state of the inputs."""
        related = self.placed.related
        rows = KeptArticles(self.db, {self.source: self.row}, {})
        rows.load({*edited, *related})
        changed = {}
        for source in {*edited, *related}:
            row = rows.row(source)
            article = edited.get(source, row.article)
            changed[source] = replace(
                row, article=article, related=related.get(source, row.related)
            )
        changed[self.source] = self._row(changed[self.source])
        self.db.executemany(
            "UPDATE rows SET value = ?, key = '' WHERE source = ?",
            [(pickled(row), source) for source, row in changed.items()],
        )
        edits = edits_after(self.edits, self.before, self.placed)
        save_state(self.db, self.meta, meta)
        kept: list[tuple[int, object]] = [(EDITS, edits)]
        if found.paths is not None:
            kept.append((PATHS, found.paths))
        self.db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(i, pickled(v)) for i, v in kept]
        )

    def _row(self, row: Row) -> Row:
        url = self.placed.article.url
        return replace(
            row,
            placement=placement(self.entry),
            page=output_path(url),
            recipe=replace(row.recipe, url=url),
        )


def _kept(meta: Meta, articles: KeptArticles) -> Kept:
    """The parts of the whole site pages read, and which of them list stories."""
    parts = meta.parts
    live = {n for n, p in parts.items() if isinstance(p, Listed) and set(p.sources) - meta.blocked}
    return Kept(parts=SiteParts(parts, articles), readers=meta.readers, live=live)


def _entry_in(text: str, source: str) -> tuple[str, dict[str, Any]] | None:
    """The one entry of ``source`` in the ledger ``text``, as written and as read; None
    unless it is there once, as ``permalinks.dump_ledger`` writes it."""
    key = f'\n      "source": {json.dumps(source, ensure_ascii=False)},\n'
    at = text.find(key)
    if at < 0 or text.find(key, at + 1) >= 0:
        return None
    start, end = text.rfind("\n    {\n", 0, at) + 1, text.find("\n    }", at) + 6
    try:
        fields = json.loads(text[start:end])
    except ValueError:
        return None
    written = _entry_text(fields) if isinstance(fields, dict) and set(fields) == _KEYS else None
    return (written, fields) if start and written == text[start:end] else None


_KEYS = {"id", "source", "urls", "pinned"}


def _entry_text(entry: dict[str, object]) -> str:
    """One entry of the ledger as ``permalinks.dump_ledger`` indents it."""
    ordered = {k: entry[k] for k in ("id", "source", "urls", "pinned")}
    return "    " + json.dumps(ordered, ensure_ascii=False, indent=2).replace("\n", "\n    ")


def _save_ledger(config: SiteConfig, text: str) -> None:
    path = config.root / LEDGER_NAME
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)  # a build killed mid-write must not leave half a ledger
