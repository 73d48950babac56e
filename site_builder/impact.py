"""Impact stage: an article placed again (``outline.place_again``) → every output the
edit changes, and every output it removes.

Each output is a unit (a page, or the files of one feed or one issue) that shows, in
each outline, what the planned build's key for it holds: the stories it lists and
the numbers around them. A unit is made again when what it shows changed, or when
it shows the edited story (before or after the edit: every list shows a story's
card); it goes when the outline after the edit no longer has it. Only the units an
edit can reach are looked at: the pages around the story's old and new place in
each list, its terms' pages, its months and issues, and the site-wide indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from site_builder.config import SiteConfig
from site_builder.feeds import FEED_FILES
from site_builder.model import Digest, Page
from site_builder.outline import (
    TAXONOMIES,
    IssueKind,
    Outline,
    Placed,
    issue_members,
    listings,
    months,
)
from site_builder.site import output_path, paginate

KINDS: tuple[IssueKind, IssueKind] = ("weekly", "daily")  # as /digest/ lists them
LATEST = 10  # Site.latest
# More outputs than this to render, and the planned build is as quick: it renders them
# across every core.
MOST_RENDERED = 600


class Unit(NamedTuple):
    """An output of the site, or the files of one feed or one issue."""

    kind: str
    ident: tuple[object, ...] = ()


@dataclass(frozen=True, slots=True)
class Impact:
    """What an edit changes: the units to render (as the outline after it has them)
    and the files they make, the files that go, and every file of the site after."""

    units: tuple[Unit, ...]
    written: frozenset[str]
    removed: frozenset[str]
    paths: frozenset[str]


class View:
    """An outline, and the lists the site stage makes of it, each made when first used."""

    def __init__(self, outline: Outline, config: SiteConfig) -> None:
        self.outline, self.config, self.order = outline, config, outline.order
        self.index = {s: i for i, s in enumerate(outline.order)}
        self._listings: dict[int, dict[str, list[str]]] = {}
        self._months: dict[tuple[int, int], list[str]] | None = None
        self._members: dict[str, dict[str, list[str]]] = {}
        self._pages: dict[str, tuple[Page[str], ...]] = {}

    def listing(self, taxonomy: int, slug: str) -> list[str]:
        if taxonomy not in self._listings:
            self._listings[taxonomy] = listings(self.outline, taxonomy)
        return self._listings[taxonomy].get(slug, [])

    def listings(self, taxonomy: int) -> dict[str, list[str]]:
        self.listing(taxonomy, "")
        return dict(sorted(self._listings[taxonomy].items()))

    def months(self) -> dict[tuple[int, int], list[str]]:
        if self._months is None:
            self._months = months(self.outline)
        return self._months

    def members(self, kind: IssueKind, key: str) -> list[str]:
        if kind not in self._members:
            self._members[kind] = issue_members(self.outline, kind)
        return self._members[kind].get(key, [])

    def issue(self, kind: IssueKind, key: str) -> Digest | None:
        return next((d for d in self.outline.issues[kind] if d.key == key), None)

    def pages(self, sources: Sequence[str], first_url: str) -> tuple[Page[str], ...]:
        """``sources`` paginated at ``first_url`` (a list of the site: its pages are kept)."""
        if first_url not in self._pages:
            self._pages[first_url] = paginate(sources, self.config.per_page, first_url)
        return self._pages[first_url]

    def related_to(self, source: str) -> set[str]:
        """The stories that list ``source`` among their related ones."""
        return {s for s, found in self.outline.related.items() if source in found}

    def live(self) -> set[str]:
        return {spot.url for spot in self.outline.spots.values()}


# --- what a unit shows, and its files ---------------------------------------------

Shown = tuple[object, tuple[str, ...]]  # what a unit's key holds, and the stories it shows


def shown(view: View, unit: Unit) -> Shown | None:
    """What ``unit`` shows in ``view``; None when the site there has no such output."""
    return _SHOWN[unit.kind](view, *unit.ident)


def files(view: View, unit: Unit) -> tuple[str, ...]:
    """The output files of ``unit`` in ``view`` (where it shows something)."""
    return tuple(_FILES[unit.kind](view, *unit.ident))


def _front(view: View, number: int) -> Shown | None:
    pages = view.pages(view.order, "/")
    if number > len(pages):
        return None
    page = pages[number - 1]
    latest = _latest_issue(view) if number == 1 else None
    stories = page.items + (latest[1] if latest else ())
    return (number, page.count, page.items, latest), stories


def _latest_issue(view: View) -> tuple[Digest, tuple[str, ...]] | None:
    weekly = view.outline.issues["weekly"]
    return (weekly[0], tuple(view.members("weekly", weekly[0].key))) if weekly else None


def _front_files(view: View, number: int) -> Iterator[str]:
    yield output_path(view.pages(view.order, "/")[number - 1].url)


def _article(view: View, source: str) -> Shown | None:
    at = view.index.get(source)
    if at is None:
        return None
    related = view.outline.related[source]
    return (related, view.outline.neighbours(at)), (source, *related)


def _article_files(view: View, source: str) -> Iterator[str]:
    yield output_path(view.outline.spots[source].url)


def _term(view: View, taxonomy: int, slug: str, number: int) -> Shown | None:
    listed = view.listing(taxonomy, slug)
    term = view.outline.terms[taxonomy].get(slug)
    if not listed or term is None:
        return None
    pages = view.pages(listed, term.url)
    if number > len(pages):
        return None
    page = pages[number - 1]
    return (term, len(listed), number, page.count, page.items), page.items


def _term_files(view: View, taxonomy: int, slug: str, number: int) -> Iterator[str]:
    term = view.outline.terms[taxonomy][slug]
    yield output_path(view.pages(view.listing(taxonomy, slug), term.url)[number - 1].url)


def _term_feed(view: View, taxonomy: int, slug: str) -> Shown | None:
    listed = view.listing(taxonomy, slug)
    term = view.outline.terms[taxonomy].get(slug)
    if not listed or term is None:
        return None
    head = tuple(listed[: view.config.feed_size])
    return (term, head), head


def _term_feed_files(view: View, taxonomy: int, slug: str) -> Iterator[str]:
    yield from _feed_files(view.outline.terms[taxonomy][slug].url)


def _feed_files(folder: str) -> Iterator[str]:
    for name in FEED_FILES.values():
        yield output_path(folder + name)


def _taxonomy(view: View, taxonomy: int) -> Shown:
    terms = view.outline.terms[taxonomy]
    counts = tuple((terms[s], len(listed)) for s, listed in view.listings(taxonomy).items())
    return counts, ()


def _taxonomy_files(view: View, taxonomy: int) -> Iterator[str]:
    yield f"{TAXONOMIES[taxonomy]}/index.html"


def _month(view: View, year: int, month: int) -> Shown | None:
    found = view.months()
    keys = list(found)
    if (year, month) not in found:
        return None
    at = keys.index((year, month))
    around = [keys[i] if 0 <= i < len(keys) else None for i in (at - 1, at + 1)]
    counted = tuple((k, len(found[k])) if k else None for k in around)
    stories = tuple(found[(year, month)])
    return (stories, counted), stories


def _month_files(view: View, year: int, month: int) -> Iterator[str]:
    yield f"archive/{year}/{month:02d}/index.html"


def _archive(view: View) -> Shown:
    counts = tuple((key, len(stories)) for key, stories in view.months().items())
    return (counts, len(view.order)), ()


def _issue(view: View, kind: IssueKind, key: str) -> Shown | None:
    digest = view.issue(kind, key)
    if digest is None:
        return None
    stories = tuple(view.members(kind, key))
    return (digest, stories), stories


def _issue_files(view: View, kind: IssueKind, key: str) -> Iterator[str]:
    digest = view.issue(kind, key)
    assert digest is not None
    for name in ("", "email.html", "email.txt"):
        yield output_path(digest.url + name)


def _digests(view: View) -> Shown:
    issues = (*view.outline.issues["weekly"], *view.outline.issues["daily"])
    return tuple((d, len(view.members(d.kind, d.key))) for d in issues), ()


def _digest_feed(view: View) -> Shown:
    shown = view.outline.issues["weekly"][: view.config.feed_size]
    issues = tuple((d, tuple(view.members("weekly", d.key))) for d in shown)
    return issues, tuple(s for _, stories in issues for s in stories)


def _site_feed(view: View) -> Shown:
    head = tuple(view.order[: view.config.feed_size])
    return head, head


def _directory(view: View) -> Shown:
    return tuple(tuple(sorted(terms.items())) for terms in view.outline.terms), ()


def _redirect(view: View, url: str, source: str) -> Shown | None:
    if url not in redirects_of(view, source):
        return None
    spot = view.outline.spots[source]
    return (spot.url, spot.title), ()


def redirects_of(view: View, source: str) -> set[str]:
    """The old addresses and aliases of ``source`` that forward to it (as
    ``permalinks.reconcile`` decides: those no story has now)."""
    claimed = {url for url, sources in view.outline.claims.items() if source in sources}
    return claimed - view.live()


def _reader(view: View, path: str) -> Shown:
    latest = tuple(view.order[:LATEST])
    return latest, latest


_SHOWN: dict[str, Callable[..., Shown | None]] = {
    "front": _front,
    "article": _article,
    "term": _term,
    "term feed": _term_feed,
    "taxonomy": _taxonomy,
    "month": _month,
    "archive": _archive,
    "issue": _issue,
    "digests": _digests,
    "digest feed": _digest_feed,
    "site feed": _site_feed,
    "feeds": _directory,
    "redirect": _redirect,
    "reader": _reader,
}
_FILES: dict[str, Callable[..., Iterator[str]]] = {
    "front": _front_files,
    "article": _article_files,
    "term": _term_files,
    "term feed": _term_feed_files,
    "taxonomy": _taxonomy_files,
    "month": _month_files,
    "archive": lambda view: iter(("archive/index.html",)),
    "issue": _issue_files,
    "digests": lambda view: iter(("digest/index.html",)),
    "digest feed": lambda view: _feed_files("/digest/"),
    "site feed": lambda view: _feed_files("/"),
    "feeds": lambda view: iter(("feeds/index.html", "feeds.opml")),
    "redirect": lambda view, url, source: iter((output_path(url),)),
    "reader": lambda view, path: iter((path,)),
}


# --- the units an edit can reach --------------------------------------------------


def reached(before: View, after: View, placed: Placed, readers: Iterable[str]) -> set[Unit]:
    """Every unit the edit of ``placed`` may change or remove."""
    source = placed.article.source_path
    units = {Unit(kind) for kind in ("archive", "digests", "digest feed", "site feed", "feeds")}
    units |= _fronts(before, after, source)
    units |= {Unit("article", (s,)) for s in _articles(before, after, placed)}
    for taxonomy in range(len(TAXONOMIES)):
        units |= _terms(before, after, source, taxonomy)
    units |= {Unit("month", key) for key in _months(before, after, source)}
    for kind in KINDS:
        units |= {Unit("issue", (kind, key)) for key in _issues(before, after, source, kind)}
    claimed = redirects_of(before, source) | redirects_of(after, source)
    units |= {Unit("redirect", (url, source)) for url in claimed}
    units |= {Unit("reader", (path,)) for path in readers}
    return units


def _fronts(before: View, after: View, source: str) -> set[Unit]:
    per_page = before.config.per_page
    low, high = sorted((before.index[source], after.index[source]))
    return {Unit("front", (n,)) for n in (1, *range(low // per_page + 1, high // per_page + 2))}


def _articles(before: View, after: View, placed: Placed) -> set[str]:
    source = placed.article.source_path
    found = {source, *placed.related}
    for view in (before, after):
        at = view.index[source]
        found.update(view.order[i] for i in (at - 1, at + 1) if 0 <= i < len(view.order))
        found |= view.related_to(source)
    return found


def _terms(before: View, after: View, source: str, taxonomy: int) -> set[Unit]:
    slugs = {*before.outline.spots[source].terms[taxonomy]}
    slugs.update(after.outline.spots[source].terms[taxonomy])
    units = {Unit("taxonomy", (taxonomy,))} if slugs else set()
    for slug in slugs:
        units.add(Unit("term feed", (taxonomy, slug)))
        count = max(len(before.listing(taxonomy, slug)), len(after.listing(taxonomy, slug)))
        pages = -(-count // before.config.per_page)
        units |= {Unit("term", (taxonomy, slug, n)) for n in range(1, pages + 1)}
    return units


def _months(before: View, after: View, source: str) -> set[tuple[int, int]]:
    """The story's months before and after, and those beside them (which link them)."""
    found = set()
    for view in (before, after):
        day = view.outline.spots[source].local_day
        keys = list(view.months())
        at = keys.index((day.year, day.month))
        found.update(keys[max(0, at - 1) : at + 2])
    return found


def _issues(before: View, after: View, source: str, kind: IssueKind) -> set[str]:
    """The story's issues before and after; every issue when one comes or goes, since
    issues are numbered and linked in order."""
    old = {d.key for d in before.outline.issues[kind]}
    new = {d.key for d in after.outline.issues[kind]}
    if old != new:
        return old | new
    return {_key_of(view, kind, source) for view in (before, after)}


def _key_of(view: View, kind: IssueKind, source: str) -> str:
    day = view.outline.spots[source].local_day
    return next(d.key for d in view.outline.issues[kind] if d.start <= day <= d.end)


# --- what changes -----------------------------------------------------------------


def impact(before: View, after: View, placed: Placed, readers: Iterable[str]) -> Impact | None:
    """The units the edit changes and the files it removes; None when they are too many
    to be worth rendering here, or a new file would take the place of another output."""
    source = placed.article.source_path
    units, old_files, new_files = [], set[str](), set[str]()
    for unit in reached(before, after, placed, readers):
        was, now = shown(before, unit), shown(after, unit)
        if was is not None:
            old_files.update(files(before, unit))
        if now is None:
            continue
        made = files(after, unit)
        new_files.update(made)
        if was is None or was[0] != now[0] or source in (*was[1], *now[1]):
            units.append(unit)
    removed, added = old_files - new_files, new_files - old_files
    if added & before.outline.paths:  # another output has that path: the plan reports it
        return None
    paths = (before.outline.paths - removed) | added
    if _sitemap_changed(before, after, source, removed | added):
        units.append(Unit("sitemap"))
    written = {path for unit in units for path in _unit_files(after, unit)}
    if len(written) > MOST_RENDERED:
        return None
    return Impact(tuple(units), frozenset(written), frozenset(removed), frozenset(paths))


def _unit_files(view: View, unit: Unit) -> tuple[str, ...]:
    return ("sitemap.xml",) if unit.kind == "sitemap" else files(view, unit)


def _sitemap_changed(before: View, after: View, source: str, moved: set[str]) -> bool:
    """The sitemap lists every page and each story's last change."""
    old, new = before.outline.spots[source], after.outline.spots[source]
    pages = any(path.endswith("index.html") for path in moved)
    return pages or (old.url, old.modified) != (new.url, new.modified)
