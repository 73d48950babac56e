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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal, NamedTuple
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


class Spot(NamedTuple):
    """One placed article, as the outline holds it."""

    source: str
    stamp: float  # minus its date's timestamp: with the slug, the site's order
    slug: str
    title: str
    url: str
    day: int  # its date in the site's time zone, as an ordinal: its month and issues
    modified: str  # (updated or date).isoformat(): the sitemap's lastmod
    terms: Names  # its terms' slugs a taxonomy, as the taxonomy's listings hold it

    @property
    def key(self) -> tuple[float, str]:
        return (self.stamp, self.slug)

    @property
    def local_day(self) -> date:
        return date.fromordinal(self.day)


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
    paths: frozenset[str]  # every output file
    claims: dict[str, tuple[str, ...]]  # an old address or alias → the articles claiming it

    def neighbours(self, index: int) -> tuple[Link | None, Link | None]:
        """The newer and older story of ``self.order[index]``, as its page links them."""
        return self._link(index - 1), self._link(index + 1)

    def _link(self, index: int) -> Link | None:
        if not 0 <= index < len(self.order):
            return None
        spot = self.spots[self.order[index]]
        return Link(title=spot.title, url=spot.url)


def outline_of(
    site: Site, config: SiteConfig, paths: Iterable[str], claims: dict[str, tuple[str, ...]]
) -> Outline:
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
        paths=frozenset(paths),
        claims=claims,
    )


def spot_of(article: Article, tz: ZoneInfo) -> Spot:
    return Spot(
        source=article.source_path,
        stamp=-article.published.timestamp(),
        slug=article.slug,
        title=article.title,
        url=article.url,
        day=article.published.astimezone(tz).toordinal(),
        modified=_modified(article),
        terms=(
            tuple(t.slug for t in article.tags),
            (article.category_term.slug,) if article.category_term else (),
            tuple(s for n in article.authors if (s := slugify(n))),
        ),
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
    at = bisect.bisect_left([outline.spots[s].key for s in without], key)
    before = outline.order.index(source)
    jumped = tuple(without[min(before, at) : max(before, at)])
    if len(jumped) > MOST_JUMPED:
        return None
    after = replace(outline, order=[*without[:at], source, *without[at:]], terms=tags)
    after.spellings = spellings
    article = _place(entry, tags[0], tags[1], config.base_path, after.neighbours(at))
    after.spots = {**outline.spots, source: spot_of(article, config.tz)}
    related = _ranked_again(outline, after, source, jumped)
    issues = _issues_after(outline, after, source, texts)
    if related is None or issues is None:
        return None
    after.issues = issues
    after.related = {**outline.related, **related}
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
