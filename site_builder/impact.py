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

import bisect
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from site_builder.config import SiteConfig
from site_builder.feeds import FEED_FILES
from site_builder.model import Digest, Page
from site_builder.outline import (
    TAXONOMIES,
    IssueKind,
    Outline,
    Placed,
    Spot,
    addresses,
    issue_members,
    listings,
    months,
)
from site_builder.site import _period, output_path, paginate

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
    paths: frozenset[str] | None  # None: the same as before (then not read)
    old_paths: frozenset[str] | None = None  # before the edit, when ``paths`` is given
    relisted: frozenset[str] = frozenset()  # pages whose last change the sitemap shows anew
    shows: Mapping[Unit, tuple[str, ...]] = field(default_factory=dict)  # stories a unit shows


class View:
    """An outline, and the lists the site stage makes of it, each made when first used."""

    def __init__(self, outline: Outline, config: SiteConfig, like: View | None = None) -> None:
        """``like``: the view of the outline before the edit, whose lists this one's
        are where the edit left them alone."""
        self.outline, self.config, self.order, self.like = outline, config, outline.order, like
        self.index: dict[str, int]
        if like is not None and like.order is outline.order:
            self.index = like.index
        else:
            self.index = {s: i for i, s in enumerate(outline.order)}
        # Newest first, so each month's and issue's stories follow one another: found
        # by bisection. Not where a zone's clocks went back over midnight.
        self._days = [-outline.spots[s].day for s in outline.order]
        self._dated = all(a <= b for a, b in itertools.pairwise(self._days))
        self._listings: dict[int, dict[str, list[str]]] = {}
        self._lists: dict[tuple[int, str], list[str]] = {}
        self._months: dict[tuple[int, int], list[str]] | None = None
        self._issues = {k: {d.key: d for d in outline.issues[k]} for k in outline.issues}
        self._pages: dict[str, tuple[Page[str], ...]] = {}
        self._live: Collection[str] | None = None

    def prepare(self, wanted: Iterable[tuple[int, str]], edited: str = "") -> None:
        """Make the lists of the ``wanted`` terms (taxonomy, slug), in one pass; those
        of the view it is ``like`` where ``edited`` (the story edited) stays as it was
        in them and no story moved."""
        like = self.like
        if like is not None and like.order is self.order:
            was, now = like.outline.spots[edited].terms, self.outline.spots[edited].terms
            kept = {w for w in wanted if was[w[0]].count(w[1]) == now[w[0]].count(w[1])}
            self._lists.update((w, like._lists[w]) for w in kept if w in like._lists)
            wanted = [w for w in wanted if w not in self._lists]
        found: dict[tuple[int, str], list[str]] = {w: [] for w in wanted}
        if not found:
            return
        spots = self.outline.spots
        for source in self.order:
            for k, slugs in enumerate(spots[source].terms):
                for slug in slugs:
                    if (k, slug) in found:
                        found[(k, slug)].append(source)
        self._lists.update(found)

    def listing(self, taxonomy: int, slug: str) -> list[str]:
        if (taxonomy, slug) not in self._lists:
            self._lists[(taxonomy, slug)] = self.listings(taxonomy).get(slug, [])
        return self._lists[(taxonomy, slug)]

    def listings(self, taxonomy: int) -> dict[str, list[str]]:
        """Every list of the taxonomy, by slug."""
        if taxonomy not in self._listings:
            self._listings[taxonomy] = dict(sorted(listings(self.outline, taxonomy).items()))
        return self._listings[taxonomy]

    def weekly_head(self) -> set[str]:
        """The keys of the weekly issues the digest's feed carries."""
        return {d.key for d in self.outline.issues["weekly"][: self.config.feed_size]}

    def months(self) -> dict[tuple[int, int], list[str]]:
        if self._months is None:
            self._months = self._by_month() if self._dated else months(self.outline)
        return self._months

    def _by_month(self) -> dict[tuple[int, int], list[str]]:
        found, at = {}, 0
        while at < len(self._days):
            day = date.fromordinal(-self._days[at])
            first = day.replace(day=1)
            end = bisect.bisect_right(self._days, -first.toordinal(), lo=at)
            found[(day.year, day.month)] = self.order[at:end]
            at = end
        return found

    def members(self, kind: IssueKind, key: str) -> list[str]:
        issue = self._issues[kind].get(key)
        if issue is None:
            return []
        if not self._dated:
            return issue_members(self.outline, kind).get(key, [])
        low = bisect.bisect_left(self._days, -issue.end.toordinal())
        return self.order[low : bisect.bisect_right(self._days, -issue.start.toordinal())]

    def issue(self, kind: IssueKind, key: str) -> Digest | None:
        return self._issues[kind].get(key)

    def pages(self, sources: Sequence[str], first_url: str) -> tuple[Page[str], ...]:
        """``sources`` paginated at ``first_url`` (a list of the site: its pages are kept)."""
        if first_url not in self._pages:
            self._pages[first_url] = paginate(sources, self.config.per_page, first_url)
        return self._pages[first_url]

    def related_to(self, source: str) -> set[str]:
        """The stories that list ``source`` among their related ones."""
        return {s for s, found in self.outline.related.items() if source in found}

    def live(self) -> Collection[str]:
        """Every story's address."""
        if self._live is None:
            self._live = addresses(self.outline.spots.values()).keys()
        return self._live


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
    return {url for url in claimed if url not in view.live()} if claimed else claimed


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
    was, now = before.outline.spots[source], after.outline.spots[source]
    wanted = {
        (k, slug) for spot in (was, now) for k, slugs in enumerate(spot.terms) for slug in slugs
    }
    before.prepare(wanted)
    after.prepare(wanted, source)
    units = _fronts(before, after, source) | _indexes(before, after, source)
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


def _indexes(before: View, after: View, source: str) -> set[Unit]:
    """The lists of the whole site, where the edit can change what they count or name."""
    was, now = before.outline.spots[source], after.outline.spots[source]
    size = before.config.feed_size
    units = {Unit("taxonomy", (k,)) for k in range(len(TAXONOMIES)) if was.terms[k] != now.terms[k]}
    if any(
        a.keys() != b.keys() for a, b in zip(before.outline.terms, after.outline.terms, strict=True)
    ):
        units.add(Unit("feeds"))
    if min(before.index[source], after.index[source]) < size:
        units.add(Unit("site feed"))
    if _month_of(was) != _month_of(now):
        units.add(Unit("archive"))
    if was.day != now.day:
        units |= {Unit("digests"), Unit("digest feed")}
    elif any(_key_of(v, "weekly", source) in v.weekly_head() for v in (before, after)):
        units.add(Unit("digest feed"))
    return units


def _month_of(spot: Spot) -> tuple[int, int]:
    day = spot.local_day
    return (day.year, day.month)


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
        if view is before or after.outline.related is not before.outline.related:
            found |= view.related_to(source)
    return found


def _terms(before: View, after: View, source: str, taxonomy: int) -> set[Unit]:
    """A term's feed, and the pages of its list that the story's move changes: every
    page when the story joins or leaves it (each page counts the stories)."""
    old = before.outline.spots[source].terms[taxonomy]
    new = after.outline.spots[source].terms[taxonomy]
    per_page, units = before.config.per_page, set()
    for slug in {*old, *new}:
        units.add(Unit("term feed", (taxonomy, slug)))
        lists = before.listing(taxonomy, slug), after.listing(taxonomy, slug)
        if old.count(slug) == new.count(slug) == 1:
            low, high = sorted(listed.index(source) for listed in lists)
            pages = range(low // per_page + 1, high // per_page + 2)
        else:
            pages = range(1, -(-max(map(len, lists)) // per_page) + 1)
        units |= {Unit("term", (taxonomy, slug, n)) for n in pages}
    return units


def _months(before: View, after: View, source: str) -> set[tuple[int, int]]:
    """The story's months before and after, and when it moved to another month, those
    beside them (which link them, with their counts)."""
    months = {_month_of(view.outline.spots[source]): view for view in (before, after)}
    if len(months) == 1:
        return set(months)
    found = set()
    for month, view in months.items():
        keys = list(view.months())
        at = keys.index(month)
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
    return _period(kind, view.outline.spots[source].local_day)[0]


# --- what changes -----------------------------------------------------------------


def impact(
    before: View,
    after: View,
    placed: Placed,
    readers: Iterable[str],
    paths: Callable[[], frozenset[str]],
) -> Impact | None:
    """The units the edit changes and the files it removes; None when they are too many
    to be worth rendering here, or a new file would take the place of another output.
    ``paths``: every file of the site before the edit (read when a file comes or goes)."""
    source = placed.article.source_path
    units, old_files, new_files = [], set[str](), set[str]()
    shows: dict[Unit, tuple[str, ...]] = {}
    for unit in reached(before, after, placed, readers):
        was, now = shown(before, unit), shown(after, unit)
        if was is not None:
            old_files.update(files(before, unit))
        if now is None:
            continue
        new_files.update(files(after, unit))
        if was is None or was[0] != now[0] or source in (*was[1], *now[1]):
            units.append(unit)
            shows[unit] = now[1]
    removed, added = old_files - new_files, new_files - old_files
    every = paths() if removed or added or _relisted(before, after, source) else None
    if every is not None and added & every:  # another output has that path: the plan says so
        return None
    now_every = (every - removed) | added if every is not None else None
    if every is not None:
        units.append(Unit("sitemap"))
    written = {path for unit in units for path in _unit_files(after, unit)}
    if len(written) > MOST_RENDERED:
        return None
    spots = (before.outline.spots[source], after.outline.spots[source])
    relisted = frozenset(output_path(spot.url) for spot in spots)
    return Impact(
        tuple(units),
        frozenset(written),
        frozenset(removed),
        now_every,
        every,
        relisted,
        shows,
    )


def _unit_files(view: View, unit: Unit) -> tuple[str, ...]:
    return ("sitemap.xml",) if unit.kind == "sitemap" else files(view, unit)


def _relisted(before: View, after: View, source: str) -> bool:
    """Whether the sitemap shows the story differently: its address or last change."""
    old, new = before.outline.spots[source], after.outline.spots[source]
    return (old.url, old.modified) != (new.url, new.modified)
