"""Site stage: entries → a placed ``Site``. Pure: no I/O, the build time is passed in.

Every URL and output path of the site is decided here: articles, static pages,
taxonomy terms, archive months, digest issues and pagination.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from site_builder.config import SiteConfig
from site_builder.errors import ContentError, SiteError
from site_builder.model import (
    ArchiveMonth,
    Article,
    Digest,
    Entry,
    Link,
    Listing,
    Page,
    Site,
    Term,
    slugify,
)

T = TypeVar("T")
RELATED_COUNT = 3
_RELATED_WINDOW = 40  # stories either side in each tag, so related lists stay O(n)
RESERVED = frozenset(
    (
        "articles",
        "tags",
        "categories",
        "authors",
        "archive",
        "digest",
        "page",
        "static",
        "feeds",
        "search",
        "404",
    )
)


def article_url(slug: str) -> str:
    return f"/articles/{slug}/"


def output_path(url: str) -> str:
    """The file that serves ``url``: pretty URLs end in ``/`` and map to index.html."""
    path = url.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def paginate(items: Sequence[T], per_page: int, first_url: str) -> tuple[Page[T], ...]:
    """Split ``items`` into pages at ``first_url``, ``first_url/page/2/``, ..."""
    count = max(1, -(-len(items) // per_page))

    def url(number: int) -> str:
        return first_url if number == 1 else f"{first_url}page/{number}/"

    return tuple(
        Page(
            items=tuple(items[(n - 1) * per_page : n * per_page]),
            number=n,
            count=count,
            url=url(n),
            first_url=first_url,
            prev_url=url(n - 1) if n > 1 else None,
            next_url=url(n + 1) if n < count else None,
        )
        for n in range(1, count + 1)
    )


def _newest_first(entry: Entry) -> tuple[float, str]:
    assert entry.date is not None
    return (-entry.date.timestamp(), entry.slug)


def _visible(
    entries: Iterable[Entry], config: SiteConfig, now: datetime
) -> tuple[list[Entry], datetime | None]:
    """Published entries, and the date of the earliest scheduled one left out."""
    shown, scheduled = [], []
    for entry in entries:
        if entry.draft and not config.drafts:
            continue
        if entry.date is not None and entry.date > now and not config.future:
            scheduled.append(entry.date)
            continue
        shown.append(entry)
    return shown, min(scheduled, default=None)


def _entry_url(entry: Entry) -> str:
    return f"/{entry.slug}/" if entry.kind == "page" else article_url(entry.slug)


def _check_urls(entries: Sequence[Entry]) -> list[SiteError]:
    problems: list[SiteError] = []
    owners: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.source_path):
        url = _entry_url(entry)
        if not entry.slug:
            problems.append(
                ContentError(
                    "slug: empty; the title has no letters or digits",
                    path=entry.source_path,
                    line=1,
                    hint="add 'slug: some-words' to the front matter",
                )
            )
        elif entry.kind == "page" and entry.slug in RESERVED:
            problems.append(
                ContentError(
                    f"slug: {entry.slug!r} is reserved for the site's own {url} pages",
                    path=entry.source_path,
                    line=1,
                )
            )
        elif url in owners:
            first = owners[url].source_path
            problems.append(
                ContentError(
                    f"URL {url} is already used by {first}",
                    path=entry.source_path,
                    line=1,
                    hint="give one of them another 'slug:'",
                )
            )
        else:
            owners[url] = entry
    return problems


def _terms(names: Iterable[str], prefix: str) -> dict[str, Term]:
    """Terms by slug; the display form is the most used spelling (ties: sorted first)."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name in names:
        if slug := slugify(name):
            spellings[slug][name] += 1
    return {
        slug: Term(name=min(c, key=lambda n: (-c[n], n)), slug=slug, url=f"/{prefix}/{slug}/")
        for slug, c in spellings.items()
    }


_ROOT_RELATIVE = re.compile(r'\b(href|src)="/(?!/)')


def rebase(fragment: str, base_path: str) -> str:
    """Point root-relative links written in content (``/articles/x/``) into a sub-path site."""
    if base_path == "/":
        return fragment
    return _ROOT_RELATIVE.sub(lambda m: f'{m[1]}="{base_path}', fragment)


def _place(
    entry: Entry, tags: dict[str, Term], categories: dict[str, Term], base_path: str
) -> Article:
    own = {f.name: getattr(entry, f.name) for f in fields(Entry)}
    own["html"], own["summary"] = rebase(entry.html, base_path), rebase(entry.summary, base_path)
    tag_terms = tuple(dict.fromkeys(tags[s] for n in entry.tag_names if (s := slugify(n))))
    category = categories.get(slugify(entry.category)) if entry.category else None
    return Article(**own, url=_entry_url(entry), tags=tag_terms, category_term=category)


def _link_neighbours(articles: list[Article]) -> list[Article]:
    def link(a: Article | None) -> Link | None:
        return Link(title=a.title, url=a.url) if a else None

    last = len(articles) - 1
    return [
        replace(
            a,
            newer=link(articles[i - 1] if i > 0 else None),
            older=link(articles[i + 1] if i < last else None),
        )
        for i, a in enumerate(articles)
    ]


def _with_related(articles: list[Article]) -> list[Article]:
    """Stories sharing the most tags, then the closest in time, then by slug."""
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(articles):
        for term in a.tags:
            by_tag[term.slug].append(i)
    result = []
    for i, article in enumerate(articles):
        shared: Counter[int] = Counter()
        for term in article.tags:
            members = by_tag[term.slug]
            at = bisect.bisect_left(members, i)
            shared.update(members[max(0, at - _RELATED_WINDOW) : at + _RELATED_WINDOW + 1])
        shared.pop(i, None)
        best = sorted(shared, key=lambda j: (-shared[j], abs(j - i), articles[j].slug))
        related = tuple(articles[j] for j in best[:RELATED_COUNT])
        result.append(replace(article, related=related))
    return result


def _listings(
    articles: Sequence[Article], key: Callable[[Article], Iterable[Term]]
) -> tuple[Listing, ...]:
    grouped: dict[Term, list[Article]] = defaultdict(list)
    for article in articles:
        for term in key(article):
            grouped[term].append(article)
    return tuple(
        Listing(term=t, articles=tuple(grouped[t])) for t in sorted(grouped, key=lambda t: t.slug)
    )


def _archive(articles: Sequence[Article], tz: ZoneInfo) -> tuple[ArchiveMonth, ...]:
    months: dict[tuple[int, int], list[Article]] = defaultdict(list)
    for article in articles:
        local = article.published.astimezone(tz)
        months[(local.year, local.month)].append(article)
    return tuple(
        ArchiveMonth(year=y, month=m, articles=tuple(months[(y, m)]))
        for y, m in sorted(months, reverse=True)
    )


def _period(kind: Literal["daily", "weekly"], day: date) -> tuple[str, date, date, str]:
    """Key, first day, last day and URL of the issue that ``day`` belongs to."""
    if kind == "daily":
        return day.isoformat(), day, day, f"/digest/{day:%Y/%m/%d}/"
    year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}", start, start + timedelta(days=6), f"/digest/{year}/w{week:02d}/"


def _issue_title(kind: str, start: date, key: str) -> str:
    if kind == "daily":
        return f"Daily digest: {start.strftime('%A')}, {start.day} {start:%B %Y}"
    year, week = key.split("-W")
    return f"Weekly digest: week {int(week)}, {year}"


def _digests(
    articles: Sequence[Article], tz: ZoneInfo, kind: Literal["daily", "weekly"]
) -> tuple[Digest, ...]:
    periods: dict[tuple[str, date, date, str], list[Article]] = defaultdict(list)
    for article in articles:
        periods[_period(kind, article.published.astimezone(tz).date())].append(article)
    oldest_first = sorted(periods, key=lambda p: p[1])
    issues = [
        Digest(
            kind=kind,
            key=key,
            number=n,
            title=_issue_title(kind, start, key),
            start=start,
            end=end,
            url=url,
            articles=tuple(periods[(key, start, end, url)]),
        )
        for n, (key, start, end, url) in enumerate(oldest_first, start=1)
    ]
    linked = [
        replace(
            d,
            older=Link(title=issues[i - 1].title, url=issues[i - 1].url) if i else None,
            newer=Link(title=issues[i + 1].title, url=issues[i + 1].url)
            if i + 1 < len(issues)
            else None,
        )
        for i, d in enumerate(issues)
    ]
    return tuple(reversed(linked))


def build_site(
    entries: Sequence[Entry], config: SiteConfig, now: datetime
) -> tuple[Site | None, list[SiteError]]:
    """Place every visible entry; ``None`` with the problems when URLs collide."""
    shown, scheduled = _visible(entries, config, now)
    problems = _check_urls(shown)
    if problems:
        return None, problems
    posts = sorted((e for e in shown if e.kind == "article"), key=_newest_first)
    tags = _terms((n for e in posts for n in e.tag_names), "tags")
    categories = _terms((e.category for e in posts if e.category), "categories")
    authors = _terms((n for e in posts for n in e.authors), "authors")
    base = config.base_path
    articles = _with_related(_link_neighbours([_place(e, tags, categories, base) for e in posts]))
    pages = [
        _place(e, {}, {}, base) for e in sorted(shown, key=lambda e: e.slug) if e.kind == "page"
    ]
    tz = config.tz
    site = Site(
        articles=tuple(articles),
        pages=tuple(pages),
        tags=_listings(articles, lambda a: a.tags),
        categories=_listings(articles, lambda a: (a.category_term,) if a.category_term else ()),
        authors=_listings(articles, lambda a: (authors[s] for n in a.authors if (s := slugify(n)))),
        archive=_archive(articles, tz),
        daily=_digests(articles, tz, "daily"),
        weekly=_digests(articles, tz, "weekly"),
        updated=max((a.updated or a.published for a in articles), default=None),
        next_scheduled=scheduled,
    )
    return site, []
