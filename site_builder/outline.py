"""Outline stage: a placed ``Site`` → where every article is, in a few plain values
each; and an article placed again after an edit of its date, slug, title or terms.

A planned build keeps the outline in its record (``quick.remember``). A build after
such an edit places that one article in it (``place_again``) instead of placing the
whole site, and ranks again the related stories of only the articles the move can
change. The rules are ``site.py``'s own functions, called for one article, so there
is one copy of each; ``tests/test_outline.py`` compares an outline edited here with
the outline of the same site placed from scratch.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from site_builder.config import SiteConfig
from site_builder.i18n import Texts
from site_builder.model import Article, Digest, Entry, Link, Site, Term, slugify
from site_builder.site import (
    _RELATED_WINDOW,
    _issue_title,
    _issue_when,
    _period,
    _place,
    _terms,
    related_at,
)

TAXONOMIES = ("tags", "categories", "authors")  # as Site names them, and in URLs
# Articles a redate may move a story past; beyond, many lists change: the planned build.
MOST_JUMPED = 200
# Articles whose related stories are ranked again; beyond, the planned build.
_MOST_RANKED = 4_000

Names = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # a value a taxonomy
IssueKind = Literal["daily", "weekly"]
ISSUE_KINDS: tuple[IssueKind, IssueKind] = ("daily", "weekly")


class Spot(tuple[str, float, str, str, str, int, str, Names]):
    """One placed article, as the outline holds it: a plain tuple, which pickles ten
    times faster than a named one (the outline is read and written at every edit)."""

    __slots__ = ()

    @property
    def source(self) -> str:
        return self[0]

    @property
    def key(self) -> tuple[float, str]:
        """The site's order: minus its date's timestamp, then its slug."""
        return (self[1], self[2])

    @property
    def slug(self) -> str:
        return self[2]

    @property
    def title(self) -> str:
        return self[3]

    @property
    def url(self) -> str:
        return self[4]

    @property
    def day(self) -> int:
        """Its date in the site's time zone, as an ordinal: its month and issues."""
        return self[5]

    @property
    def local_day(self) -> date:
        return date.fromordinal(self[5])

    @property
    def modified(self) -> str:
        """(updated or date).isoformat(): the sitemap's lastmod."""
        return self[6]

    @property
    def terms(self) -> Names:
        """Its terms' slugs a taxonomy, as the taxonomy's listings hold them."""
        return self[7]


def addresses(spots: Iterable[Spot]) -> dict[str, str]:
    """Each story's address, and its last change: read by index, not by the properties,
    which took most of the time of the two of these a rename makes at 10,000 stories."""
    return {spot[4]: spot[6] for spot in spots}


@dataclass(slots=True)
class Outline:
    """Where every article of a site is, and what its lists are made from."""

    spots: dict[str, Spot]  # by source
    order: list[str]  # sources, newest first
    related: dict[str, tuple[str, ...]]  # each article's related stories
    terms: tuple[dict[str, Term], ...]  # each taxonomy's terms by slug
    spellings: tuple[dict[str, Counter[str]], ...]  # each term's names as written, counted
    issues: dict[str, tuple[Digest, ...]]  # "daily", "weekly": the issues, without articles
    pages: dict[str, str]  # static pages' URLs → lastmod ("" when undated)
    claims: dict[str, tuple[str, ...]]  # an old address or alias → the articles claiming it

    def neighbours(self, index: int) -> tuple[Link | None, Link | None]:
        """The newer and older story of ``self.order[index]``, as its page links them."""
        return self._link(index - 1), self._link(index + 1)

    def _link(self, index: int) -> Link | None:
        if not 0 <= index < len(self.order):
            return None
        spot = self.spots[self.order[index]]
        return Link(title=spot.title, url=spot.url)

    def __reduce__(self) -> tuple[Callable[..., Outline], tuple[object, ...]]:
        """Plain tuples, unpickled several times faster than objects: the outline is
        read and written again at every edit."""
        spots = [(*self.spots[s], self.related[s]) for s in self.order]
        issues = {kind: tuple(map(_issue_row, found)) for kind, found in self.issues.items()}
        return _outline, ((spots, self.terms, self.spellings, issues, self.pages, self.claims),)


_IssueRow = tuple[str, int, str, str, int, int, str, str, str]


def _issue_row(d: Digest) -> _IssueRow:
    start, end = d.start.toordinal(), d.end.toordinal()
    return (d.key, d.number, d.title, d.when_text, start, end, d.url, d.intro, d.headline)


_Stored = tuple[
    list[tuple[Any, ...]],
    tuple[dict[str, Term], ...],
    tuple[dict[str, Counter[str]], ...],
    dict[IssueKind, tuple[_IssueRow, ...]],
    dict[str, str],
    dict[str, tuple[str, ...]],
]


def _outline(stored: _Stored) -> Outline:
    spots, terms, spellings, issues, pages, claims = stored
    return Outline(
        spots={row[0]: Spot(row[:8]) for row in spots},
        order=[row[0] for row in spots],
        related={row[0]: row[8] for row in spots},
        terms=terms,
        spellings=spellings,
        issues={kind: _linked(kind, rows) for kind, rows in issues.items()},
        pages=pages,
        claims=claims,
    )


def _linked(kind: IssueKind, rows: Sequence[_IssueRow]) -> tuple[Digest, ...]:
    """Issues, newest first, each linked to the issues beside it (``site._digests``)."""
    links = [Link(title=r[2], url=r[6], when_text=r[3], when=_when(kind, r[0], r[4])) for r in rows]
    return tuple(
        Digest(
            kind=kind,
            key=key,
            number=number,
            title=title,
            when_text=when,
            start=date.fromordinal(start),
            end=date.fromordinal(end),
            url=url,
            articles=(),
            intro=intro,
            headline=headline,
            newer=links[i - 1] if i else None,
            older=links[i + 1] if i + 1 < len(links) else None,
        )
        for i, (key, number, title, when, start, end, url, intro, headline) in enumerate(rows)
    )


def _when(kind: IssueKind, key: str, start: int) -> str:
    """``Digest.when``."""
    return date.fromordinal(start).isoformat() if kind == "daily" else key


@dataclass(slots=True)
class Edits:
    """What builds without the plan changed in the outline the planned build kept:
    stored apart, a few rows where the outline is megabytes."""

    spots: dict[str, Spot] = field(default_factory=dict)
    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    order: list[str] | None = None  # when a story moved
    # Each of these when one changed: the terms with their spellings, the issues (as
    # stored), the claims.
    terms: tuple[tuple[dict[str, Term], ...], tuple[dict[str, Counter[str]], ...]] | None = None
    issues: dict[IssueKind, tuple[_IssueRow, ...]] | None = None
    claims: dict[str, tuple[str, ...]] | None = None


def with_edits(base: Outline, edits: Edits) -> Outline:
    """The outline after the edits made since ``base`` was kept."""
    outline = replace(
        base,
        spots={**base.spots, **edits.spots},
        order=edits.order or base.order,
        related={**base.related, **edits.related},
    )
    if edits.terms is not None:
        outline.terms, outline.spellings = edits.terms
    if edits.issues is not None:
        outline.issues = {kind: _linked(kind, rows) for kind, rows in edits.issues.items()}
    if edits.claims is not None:
        outline.claims = edits.claims
    return outline


def edits_after(edits: Edits, before: Outline, placed: Placed) -> Edits:
    """``edits`` and the edit that placed ``placed`` again (in ``before``)."""
    after, source = placed.outline, placed.article.source_path
    changed = after.terms is not before.terms or after.spellings is not before.spellings
    issues = edits.issues
    if after.issues is not before.issues:
        issues = {kind: tuple(map(_issue_row, found)) for kind, found in after.issues.items()}  # type: ignore[misc]
    return Edits(
        spots={**edits.spots, source: after.spots[source]},
        related={**edits.related, **placed.related},
        order=after.order if after.order != before.order else edits.order,
        terms=(after.terms, after.spellings) if changed else edits.terms,
        issues=issues,
        claims=after.claims if after.claims is not before.claims else edits.claims,
    )


def outline_of(site: Site, config: SiteConfig, claims: dict[str, tuple[str, ...]]) -> Outline:
    """The outline of a site as the planned build placed it."""
    spots = {a.source_path: spot_of(a, config.tz) for a in site.articles}
    listings = (site.tags, site.categories, site.authors)
    return Outline(
        spots=spots,
        order=list(spots),
        related={a.source_path: tuple(r.source_path for r in a.related) for a in site.articles},
        terms=tuple({li.term.slug: li.term for li in listing} for listing in listings),
        spellings=_spellings(site.articles),
        issues={
            "daily": tuple(replace(d, articles=()) for d in site.daily),
            "weekly": tuple(replace(d, articles=()) for d in site.weekly),
        },
        pages={p.url: _modified(p) for p in site.pages},
        claims=claims,
    )


def spot_of(article: Article, tz: ZoneInfo) -> Spot:
    terms = (
        tuple(t.slug for t in article.tags),
        (article.category_term.slug,) if article.category_term else (),
        tuple(s for n in article.authors if (s := slugify(n))),
    )
    return Spot(
        (
            article.source_path,
            -article.published.timestamp(),
            article.slug,
            article.title,
            article.url,
            article.published.astimezone(tz).toordinal(),
            _modified(article),
            terms,
        )
    )


def _modified(article: Article) -> str:
    when = article.updated or article.date
    return when.isoformat() if when else ""


def names_of(entry: Entry) -> Names:
    """An entry's term names as written, a taxonomy (``site._place_all`` counts these)."""
    return (entry.tag_names, (entry.category,) if entry.category else (), entry.authors)


def _spellings(articles: Iterable[Article]) -> tuple[dict[str, Counter[str]], ...]:
    found: tuple[dict[str, Counter[str]], ...] = ({}, {}, {})
    for article in articles:
        for counts, names in zip(found, names_of(article), strict=True):
            for name in names:
                if slug := slugify(name):
                    counts.setdefault(slug, Counter())[unicodedata.normalize("NFC", name)] += 1
    return found


# --- lists, as the site stage makes them ------------------------------------------


def listings(outline: Outline, taxonomy: int) -> dict[str, list[str]]:
    """A taxonomy's listings: each term's stories, newest first (``site._listings``)."""
    found: dict[str, list[str]] = defaultdict(list)
    for source in outline.order:
        for slug in outline.spots[source].terms[taxonomy]:
            found[slug].append(source)
    return dict(found)


def listing(outline: Outline, taxonomy: int, slug: str) -> list[str]:
    spots = outline.spots
    return [s for s in outline.order for t in spots[s].terms[taxonomy] if t == slug]


def months(outline: Outline) -> dict[tuple[int, int], list[str]]:
    """The archive's months, newest first, each with its stories (``site._archive``)."""
    found: dict[tuple[int, int], list[str]] = defaultdict(list)
    for source in outline.order:
        day = outline.spots[source].local_day
        found[(day.year, day.month)].append(source)
    return {m: found[m] for m in sorted(found, reverse=True)}


# --- an article placed again ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placed:
    """An article placed again: the outline after it, and what else it changed."""

    outline: Outline
    article: Article  # placed, without its related stories (``outline.related``)
    related: dict[str, tuple[str, ...]]  # articles whose related stories changed: the new
    jumped: tuple[str, ...]  # the stories it moved past, if its place in the order changed


def place_again(
    outline: Outline, old: Article, entry: Entry, config: SiteConfig, texts: Texts
) -> Placed | None:
    """``entry`` (an article already placed, as ``old``) placed again; None when that
    changes a term's name (which every story filed under it shows), moves the story past
    more than ``MOST_JUMPED`` others, or leaves an issue's introduction without its
    issue (a warning): the planned build places the whole site."""
    terms = _terms_after(outline, names_of(old), names_of(entry))
    if terms is None:
        return None
    source, (tags, spellings) = entry.source_path, terms
    without = [s for s in outline.order if s != source]
    assert entry.date is not None  # every placed article has one
    key = (-entry.date.timestamp(), entry.slug)
    at = bisect.bisect_left(without, key, key=lambda s: outline.spots[s].key)  # a few keys
    before = outline.order.index(source)
    jumped = tuple(without[min(before, at) : max(before, at)])
    if len(jumped) > MOST_JUMPED:
        return None
    # The same list when the story keeps its place: the lists made of it are the same.
    order = outline.order if at == before else [*without[:at], source, *without[at:]]
    after = replace(outline, order=order, terms=tags)
    after.spellings = spellings
    article = _place(entry, tags[0], tags[1], config.base_path, after.neighbours(at))
    after.spots = {**outline.spots, source: spot_of(article, config.tz)}
    related = _ranked_again(outline, after, source, jumped)
    issues = _issues_after(outline, after, source, texts)
    if related is None or issues is None:
        return None
    after.issues = issues
    after.related = {**outline.related, **related} if related else outline.related
    return Placed(outline=after, article=article, related=related, jumped=jumped)


_Terms = tuple[tuple[dict[str, Term], ...], tuple[dict[str, Counter[str]], ...]]


def _terms_after(outline: Outline, before: Names, after: Names) -> _Terms | None:
    """Each taxonomy's terms and their spellings after an article's names change; None
    when a term that stays gets another name (its most used spelling changed)."""
    terms, spellings = list(outline.terms), list(outline.spellings)
    for k, (old, new) in enumerate(zip(before, after, strict=True)):
        if old == new:
            continue
        counts = dict(spellings[k])
        touched = _count(counts, old, -1) | _count(counts, new, 1)
        found = dict(terms[k])
        for slug in touched:
            if not counts.get(slug):
                counts.pop(slug, None)
                found.pop(slug, None)
                continue
            term = _terms(counts[slug].elements(), TAXONOMIES[k])[slug]
            if found.get(slug, term) != term:
                return None
            found[slug] = term
        terms[k], spellings[k] = found, counts
    return tuple(terms), tuple(spellings)


def _count(counts: dict[str, Counter[str]], names: Iterable[str], sign: int) -> set[str]:
    slugs = set()
    for name in names:
        if slug := slugify(name):
            counter = counts[slug] = Counter(counts.get(slug, ()))  # never the outline's own
            counter[unicodedata.normalize("NFC", name)] += sign
            slugs.add(slug)
    for slug in slugs:
        counts[slug] = +counts[slug]  # drops spellings counted down to nothing
    return slugs


def _ranked_again(
    before: Outline, after: Outline, source: str, jumped: Sequence[str]
) -> dict[str, tuple[str, ...]] | None:
    """The related stories of every article whose ranking the move may change, where
    they changed; None when that is too many articles to rank here."""
    was, now = before.spots[source], after.spots[source]
    if not jumped and (was.slug, was.terms[0]) == (now.slug, now.terms[0]):
        return {}  # ranked by tags, then by place, then by slug: none of them changed
    old, new = _Ranking(before), _Ranking(after)
    affected = {source, *jumped}
    affected.update(old.near(source, old.tags(source)))
    affected.update(new.near(source, new.tags(source)))
    for other in jumped:  # a story moved past: its distance to the others changed by one
        affected.update(old.near(other, old.tags(other)))
        affected.update(new.near(other, new.tags(other)))
    if len(affected) > _MOST_RANKED:
        return None
    changed = {}
    for found in affected:
        ranked = new.related(found)
        if ranked != before.related.get(found):
            changed[found] = ranked
    return changed


class _Ranking:
    """An outline's order and tag lists, as ``site._with_related`` ranks them."""

    def __init__(self, outline: Outline) -> None:
        self.order = outline.order
        self.spots = [outline.spots[s] for s in outline.order]
        self.index = {s: i for i, s in enumerate(outline.order)}
        self.by_tag: dict[str, list[int]] = defaultdict(list)
        for i, spot in enumerate(self.spots):
            for slug in spot.terms[0]:
                self.by_tag[slug].append(i)

    def tags(self, source: str) -> tuple[str, ...]:
        return self.spots[self.index[source]].terms[0]

    def near(self, source: str, tags: Iterable[str]) -> set[str]:
        """Stories whose window in one of ``tags`` holds ``source``, or would after a
        move of one place: the windows are symmetric."""
        i, found = self.index[source], set[str]()
        margin = _RELATED_WINDOW + 1
        for tag in tags:
            members = self.by_tag[tag]
            at = bisect.bisect_left(members, i)
            found.update(self.order[j] for j in members[max(0, at - margin) : at + margin + 1])
        return found

    def related(self, source: str) -> tuple[str, ...]:
        i = self.index[source]
        picked = related_at(i, self.spots[i].terms[0], self.by_tag, self.spots)
        return tuple(self.order[j] for j in picked)


def _issues_after(
    before: Outline, after: Outline, source: str, texts: Texts
) -> dict[str, tuple[Digest, ...]] | None:
    """The issues after a story's date changed: the same unless one comes or goes,
    when they are numbered and linked again (``site._digests``)."""
    if before.spots[source].day == after.spots[source].day:
        return before.issues
    days = {date.fromordinal(d) for d in {spot.day for spot in after.spots.values()}}
    found: dict[str, tuple[Digest, ...]] = {}
    for kind in ISSUE_KINDS:
        periods = {p[0]: p for p in (_period(kind, day) for day in days)}
        old = before.issues[kind]
        if periods.keys() == {d.key for d in old}:
            found[kind] = old
            continue
        if any(d.intro or d.headline for d in old if d.key not in periods):
            return None
        kept = [d for d in old if d.key in periods]
        known = {d.key for d in kept}
        new = [_issue(kind, p, texts) for key, p in periods.items() if key not in known]
        found[kind] = _numbered(sorted([*kept, *new], key=lambda d: d.start))
    return found


def _issue(kind: IssueKind, period: tuple[str, date, date, str], texts: Texts) -> Digest:
    key, start, end, url = period
    when = _issue_when(kind, start, key, texts)
    title = _issue_title(kind, when, texts)
    return Digest(
        kind=kind,
        key=key,
        number=0,
        title=title,
        when_text=when,
        start=start,
        end=end,
        url=url,
        articles=(),
    )


def _numbered(oldest_first: Sequence[Digest]) -> tuple[Digest, ...]:
    linked = [
        replace(
            d,
            number=n,
            older=oldest_first[n - 2].link if n > 1 else None,
            newer=oldest_first[n].link if n < len(oldest_first) else None,
        )
        for n, d in enumerate(oldest_first, start=1)
    ]
    return tuple(reversed(linked))


def issue_members(outline: Outline, kind: IssueKind) -> dict[str, list[str]]:
    """Each issue's stories by its key, newest first (``site._digests``)."""
    found: dict[str, list[str]] = defaultdict(list)
    for source in outline.order:
        found[_period(kind, outline.spots[source].local_day)[0]].append(source)
    return dict(found)
