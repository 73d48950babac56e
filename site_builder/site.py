"""Site stage: entries → a placed ``Site``. Pure: no I/O, the build time is passed in.

Every URL and output path of the site is decided here: articles, static pages,
taxonomy terms, archive months, digest issues and pagination.
"""

from __future__ import annotations

import bisect
import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from itertools import repeat
from pathlib import PurePosixPath
from typing import Literal, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit
from zoneinfo import ZoneInfo

from site_builder.config import RESERVED, SiteConfig
from site_builder.errors import ContentError, SiteError, SiteWarning
from site_builder.i18n import Texts, load_texts
from site_builder.markdown import strip_heading_anchors
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
    map_urls,
    rebase,
    slugify,
)

T = TypeVar("T")
DIGESTS_DIR = "content/digests/"  # introductions to issues: 2021-w33.md, 2021-08-17.md
RELATED_COUNT = 3
_RELATED_WINDOW = 40  # stories either side in each tag, so related lists stay O(n)


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


def visible_entries(
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


def entry_url(entry: Entry) -> str:
    return f"/{entry.slug}/" if entry.kind == "page" else article_url(entry.slug)


def _check_urls(entries: Sequence[Entry]) -> list[SiteError]:
    problems: list[SiteError] = []
    owners: dict[str, Entry] = {}
    for entry in sorted(entries, key=lambda e: e.source_path):
        url = entry_url(entry)
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
    """Terms by slug; the display form is the most used spelling (ties: sorted first).

    Spellings are compared in NFC: "Zürich" typed with a combining accent looks the
    same, and must count as the same spelling.
    """
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for name in names:
        if slug := slugify(name):
            spellings[slug][unicodedata.normalize("NFC", name)] += 1
    return {
        slug: Term(name=min(c, key=lambda n: (-c[n], n)), slug=slug, url=f"/{prefix}/{slug}/")
        for slug, c in spellings.items()
    }


def absolutize(fragment: str, base: str) -> str:
    """Resolve every URL in an HTML fragment against ``base``: feeds and email have no base."""
    return map_urls(fragment, lambda url: urljoin(base, url))


# What an edit may change without moving an article: the preview updates these in place.
TEXT_FIELDS = ("title", "summary", "body", "toc", "words", "image", "extra", "key_lines")


def _text_of(entry: Entry, base_path: str) -> dict[str, object]:
    own = {name: getattr(entry, name) for name in TEXT_FIELDS}
    own["body"] = replace(entry.body, base_path=base_path)
    own["summary"] = rebase(entry.summary, base_path)
    return own


def placement(entry: Entry) -> tuple[object, ...]:
    """Everything of an entry but its text: where it goes, what lists and feeds hold it.

    A date as it is written, offset and all: the same moment written in another zone
    compares equal, but feeds and the sitemap show it as written."""
    own = (getattr(entry, f.name) for f in fields(Entry) if f.name not in TEXT_FIELDS)
    return (
        *(v.isoformat() if isinstance(v, datetime) else v for v in own),
        entry.extra.get("aliases"),
    )


def _place(
    entry: Entry,
    tags: dict[str, Term],
    categories: dict[str, Term],
    base_path: str,
    neighbours: tuple[Link | None, Link | None] = (None, None),
) -> Article:
    own = {f.name: getattr(entry, f.name) for f in fields(Entry)}
    own.update(_text_of(entry, base_path))
    # Static pages are in no taxonomy: they get an empty ``tags``, whatever they declare.
    tag_terms = tuple(dict.fromkeys(t for n in entry.tag_names if (t := tags.get(slugify(n)))))
    category = categories.get(slugify(entry.category)) if entry.category else None
    newer, older = neighbours
    return Article(
        **own,
        url=entry_url(entry),
        tags=tag_terms,
        category_term=category,
        newer=newer,
        older=older,
    )


def _neighbours(posts: Sequence[Entry]) -> list[tuple[Link | None, Link | None]]:
    """Each post's newer and older neighbour, for posts newest first."""
    links: list[Link | None] = [None, *(Link(title=e.title, url=entry_url(e)) for e in posts), None]
    return [(links[i], links[i + 2]) for i in range(len(posts))]


def _with_related(articles: list[Article]) -> list[Article]:
    """Stories sharing the most tags, then the closest in time, then by slug."""
    by_tag: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(articles):
        for term in a.tags:
            by_tag[term.slug].append(i)
    result = []
    for i, article in enumerate(articles):
        slugs = [term.slug for term in article.tags]
        related = tuple(articles[j] for j in related_at(i, slugs, by_tag, articles))
        result.append(replace(article, related=related))
    return result


class Slugged(Protocol):
    @property
    def slug(self) -> str: ...


def related_at(
    i: int, tags: Iterable[str], by_tag: Mapping[str, Sequence[int]], posts: Sequence[Slugged]
) -> list[int]:
    """The related stories of ``posts[i]`` (newest first, filed under ``tags``), as
    indices; ``by_tag``: each tag's posts, as indices in order. One story's alone: a
    build after an edit of one story's tags or date ranks only the stories it affects
    (``outline``)."""
    shared: Counter[int] = Counter()
    for tag in tags:
        members = by_tag[tag]
        at = bisect.bisect_left(members, i)
        shared.update(members[max(0, at - _RELATED_WINDOW) : at + _RELATED_WINDOW + 1])
    shared.pop(i, None)
    return _most_related(i, shared, posts)


_NEAREST_STEPS = 2 * _RELATED_WINDOW


def _most_related(i: int, shared: Counter[int], articles: Sequence[Slugged]) -> list[int]:
    """The RELATED_COUNT best of ``shared`` by (most tags shared, nearest, slug).

    Ranking every candidate was most of the time of placing a large site; only the
    last place is contested by many, and the nearest of those are found by looking
    outwards from ``i``.
    """

    def rank(j: int) -> tuple[int, int, str, int]:
        return (-shared[j], abs(j - i), articles[j].slug, j)

    ranked = shared.most_common()
    if len(ranked) <= RELATED_COUNT:
        return sorted(shared, key=rank)
    last = ranked[RELATED_COUNT - 1][1]
    head = sorted((j for j, n in ranked[:RELATED_COUNT] if n > last), key=rank)
    return head + _nearest(i, shared, last, RELATED_COUNT - len(head), rank)


def _nearest(
    i: int, shared: Counter[int], count: int, need: int, rank: Callable[[int], tuple[object, ...]]
) -> list[int]:
    found: list[int] = []
    get = shared.get
    for step in range(1, _NEAREST_STEPS + 1):
        before, after = get(i - step) == count, get(i + step) == count
        if before and after:
            found += sorted((i - step, i + step), key=rank)
        elif before or after:
            found.append(i - step if before else i + step)
        else:
            continue
        if len(found) >= need:
            return found[:need]
    tied = [j for j, n in shared.items() if n == count]
    return heapq.nsmallest(need, tied, key=rank)


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
        ArchiveMonth(year=y, month=m, url=f"/archive/{y}/{m:02d}/", articles=tuple(months[(y, m)]))
        for y, m in sorted(months, reverse=True)
    )


def _period(kind: Literal["daily", "weekly"], day: date) -> tuple[str, date, date, str]:
    """Key, first day, last day and URL of the issue that ``day`` belongs to."""
    if kind == "daily":
        return day.isoformat(), day, day, f"/digest/{day:%Y/%m/%d}/"
    year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return f"{year}-W{week:02d}", start, start + timedelta(days=6), f"/digest/{year}/w{week:02d}/"


def _issue_when(kind: str, start: date, key: str, texts: Texts) -> str:
    """The date part of an issue's title, in the site's language: "Monday, 2 August 2021"
    or the ISO week as the language names it, "week 33 of 2021"."""
    if kind == "daily":
        return texts.format_date(start, "full")
    year, week = key.split("-W")
    return texts.week(int(year), int(week))


def _issue_title(kind: str, when: str, texts: Texts) -> str:
    if kind == "daily":
        return texts.gettext("Daily digest: %(when)s", when=when)
    return texts.gettext("Weekly digest: %(when)s", when=when)


def _digests(
    articles: Sequence[Article], tz: ZoneInfo, kind: Literal["daily", "weekly"], texts: Texts
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
            title=_issue_title(kind, _issue_when(kind, start, key, texts), texts),
            when_text=_issue_when(kind, start, key, texts),
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
            older=issues[i - 1].link if i else None,
            newer=issues[i + 1].link if i + 1 < len(issues) else None,
        )
        for i, d in enumerate(issues)
    ]
    return tuple(reversed(linked))


def _is_intro(entry: Entry) -> bool:
    # content.py files them as kind "digest"; by their folder too, so that a content
    # stage that does not know the kind yet cannot turn an introduction into an article.
    return entry.kind == "digest" or entry.source_path.startswith(DIGESTS_DIR)


_WEEK_NAME = re.compile(r"(\d{4})-w(\d{2})")
_DAY_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


def _intro_key(entry: Entry) -> str | None:
    """The issue an introduction belongs to, from its file name: ``2021-w33`` → ``2021-W33``."""
    stem = PurePosixPath(entry.source_path).stem.casefold()
    if week := _WEEK_NAME.fullmatch(stem):
        return f"{week[1]}-W{week[2]}"
    return stem if _DAY_NAME.fullmatch(stem) else None


def _intros(entries: Iterable[Entry]) -> tuple[dict[str, Entry], list[SiteError]]:
    """Introductions by issue key; a file named for no issue, or for a taken one, is an error."""
    found: dict[str, Entry] = {}
    problems: list[SiteError] = []
    for entry in sorted(entries, key=lambda e: e.source_path):
        key = _intro_key(entry)
        if key is None:
            problems.append(
                ContentError(
                    f"{PurePosixPath(entry.source_path).name!r} names no digest issue",
                    path=entry.source_path,
                    line=1,
                    hint="name it YYYY-wWW.md for a weekly issue (2021-w33.md) "
                    "or YYYY-MM-DD.md for a daily one (2021-08-17.md)",
                )
            )
        elif key in found:
            problems.append(
                ContentError(
                    f"issue {key} already has an introduction: {found[key].source_path}",
                    path=entry.source_path,
                    line=1,
                    hint="keep one of the two files",
                )
            )
        else:
            found[key] = entry
    return found, problems


def _with_intros(
    digests: tuple[Digest, ...], intros: Mapping[str, Entry], base_path: str
) -> tuple[Digest, ...]:
    # No heading permalinks: an introduction is also read in feeds and email, away from its page.
    return tuple(
        replace(d, intro=rebase(strip_heading_anchors(e.html), base_path), headline=e.title)
        if (e := intros.get(d.key))
        else d
        for d in digests
    )


def _unused_intros(intros: Mapping[str, Entry], site: Site) -> list[SiteError]:
    """An introduction whose issue does not exist (no story that day or week) is not shown."""
    keys = {d.key for d in (*site.daily, *site.weekly)}
    return [
        SiteWarning(
            f"no issue {key}: no published story is dated in that "
            f"{'week' if '-W' in key else 'day'}, so this introduction is not shown",
            path=entry.source_path,
            line=1,
            hint="check the file name, or the dates of the stories it introduces",
        )
        for key, entry in intros.items()
        if key not in keys
    ]


# Query parameters that say how a reader arrived, not what they read.
_TRACKING = re.compile(
    r"utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|ref_src",
    re.IGNORECASE,
)


def source_identity(url: str) -> str:
    """What makes two cited URLs the same page: no scheme, ``www.``, trailing slash or tracking.

    ``https://www.bbc.com/news/x/?utm_source=rss`` and ``http://bbc.com/news/x`` are one page.
    """
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2].casefold().removeprefix("www.")
    host = host.removesuffix(":443" if parts.scheme == "https" else ":80")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.fullmatch(k)
    )
    path = unquote(parts.path).rstrip("/")
    return host + path + (f"?{urlencode(query)}" if query else "")


def _duplicate_sources(articles: Iterable[Entry]) -> list[SiteError]:
    """Two stories citing one source are often one story twice: warn at the second file."""
    first: dict[str, Entry] = {}
    problems: list[SiteError] = []
    for entry in sorted(articles, key=lambda e: e.source_path):
        cited = {source_identity(s.url): s.url for s in entry.sources if s.url}
        for identity, url in cited.items():
            other = first.setdefault(identity, entry)
            if other is not entry:
                problems.append(
                    SiteWarning(
                        f"source {url!r} is also cited by {other.source_path}",
                        path=entry.source_path,
                        line=entry.key_lines.get("source", 1),
                        hint=f"if both files tell the same story, merge them into "
                        f"{other.source_path}; otherwise cite the page each one is about",
                    )
                )
    return problems


def _place_all(
    posts: Sequence[Entry], pages: Sequence[Entry], config: SiteConfig
) -> tuple[list[Article], list[Article], dict[str, Term]]:
    """Articles (newest first, linked, with related stories), static pages and author terms."""
    posts = sorted(posts, key=_newest_first)
    tags = _terms((n for e in posts for n in e.tag_names), "tags")
    categories = _terms((e.category for e in posts if e.category), "categories")
    authors = _terms((n for e in posts for n in e.authors), "authors")
    base = config.base_path
    placed = map(_place, posts, repeat(tags), repeat(categories), repeat(base), _neighbours(posts))
    articles = _with_related(list(placed))
    placed_pages = [_place(e, {}, {}, base) for e in sorted(pages, key=lambda e: e.slug)]
    return articles, placed_pages, authors


def _site(
    posts: Sequence[Entry],
    pages: Sequence[Entry],
    intros: Mapping[str, Entry],
    config: SiteConfig,
    texts: Texts,
) -> Site:
    articles, placed_pages, authors = _place_all(posts, pages, config)
    tz, base = config.tz, config.base_path
    return Site(
        articles=tuple(articles),
        pages=tuple(placed_pages),
        tags=_listings(articles, lambda a: a.tags),
        categories=_listings(articles, lambda a: (a.category_term,) if a.category_term else ()),
        authors=_listings(articles, lambda a: (authors[s] for n in a.authors if (s := slugify(n)))),
        archive=_archive(articles, tz),
        daily=_with_intros(_digests(articles, tz, "daily", texts), intros, base),
        weekly=_with_intros(_digests(articles, tz, "weekly", texts), intros, base),
        updated=max((a.updated or a.published for a in articles), default=None),
    )


def build_site(
    entries: Sequence[Entry], config: SiteConfig, now: datetime
) -> tuple[Site | None, list[SiteError]]:
    """Place every visible entry; ``None`` with the problems when URLs collide.

    The other problems come with the site: misnamed introductions (errors), and
    introductions without an issue or sources cited twice (warnings).
    """
    shown, scheduled = visible_entries(entries, config, now)
    texts, problems = load_texts(config.language, config.templates_dir)
    intros, intro_problems = _intros(e for e in shown if _is_intro(e))
    problems += intro_problems
    placed = [e for e in shown if not _is_intro(e)]
    if url_problems := _check_urls(placed):
        return None, [*url_problems, *problems]
    posts = [e for e in placed if e.kind == "article"]
    site = _site(posts, [e for e in placed if e.kind == "page"], intros, config, texts)
    problems += _duplicate_sources(posts) + _unused_intros(intros, site)
    return replace(site, next_scheduled=scheduled), problems


def copies_of(site: Site) -> dict[str, list[Article]]:
    """Every object of every placed entry: articles, pages, and the copies that
    related-story lists hold (placed before they had their own related stories)."""
    copies: dict[str, list[Article]] = defaultdict(list)
    seen: set[int] = set()
    for article in (*site.articles, *site.pages):
        for one in (article, *article.related):
            if id(one) not in seen:
                seen.add(id(one))
                copies[one.source_path].append(one)
    return copies


def retext(
    copies: Mapping[str, list[Article]], entries: Mapping[str, Entry], config: SiteConfig
) -> None:
    """Give placed entries new text in place, in every copy (``copies_of``), for the preview.

    Only for edits that leave ``placement`` alone: then every list, issue and feed
    holds the same articles in the same order, and only what they say changes. The
    model is frozen for every other stage; this is the one place that writes to it.
    """
    retitled: dict[str, str] = {}
    for source, entry in entries.items():
        for article in copies.get(source, ()):
            if article.title != entry.title:
                retitled[article.url] = entry.title
            for name, value in _text_of(entry, config.base_path).items():
                object.__setattr__(article, name, value)
    if retitled:
        _retitle_links(copies, retitled)


def _retitle_links(copies: Mapping[str, list[Article]], titles: Mapping[str, str]) -> None:
    for objects in copies.values():
        for article in objects:
            for side in ("newer", "older"):
                link = getattr(article, side)
                if link is not None and link.url in titles:
                    object.__setattr__(article, side, replace(link, title=titles[link.url]))
