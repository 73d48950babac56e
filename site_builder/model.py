"""The content model: frozen values that every stage after parsing passes along.

No I/O and no configuration here; ``site.py`` fills in URLs, ``templates.py`` and
``feeds.py`` read these objects as they are.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

T = TypeVar("T")
C = TypeVar("C", bound=type)


def pickled_by_fields(cls: C) -> C:
    """Pickle a frozen, slotted dataclass as its fields' values, in order.

    The state functions ``dataclass`` gives such a class look its fields up again
    for every object: most of the time of pickling and unpickling a site's entries
    (the render cache, the quick-edit rows). Put above ``@dataclass``.
    """
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)

    def getstate(self: object) -> tuple[Any, ...]:
        state = values(self)
        return state if len(names) > 1 else (state,)

    def setstate(self: object, state: tuple[Any, ...]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    setattr(cls, "__getstate__", getstate)  # noqa: B010 - mypy forbids assigning methods
    setattr(cls, "__setstate__", setstate)  # noqa: B010
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a story came from: a publication's name and the cited URL."""

    name: str
    url: str | None = None


# A start tag; a quoted attribute value may hold ">". Text never holds "<": Markdown
# escapes it, so code that shows an attribute is left alone. Nothing in a tag crosses
# a "<": an unclosed quote would otherwise scan to the end from every tag after it.
_TAG = re.compile(r"""<[A-Za-z](?:"[^"<]*"|'[^'<]*'|[^"'<>])*>""")
# An attribute's value in double, single or no quotes, as three groups; none crosses a
# "<" (an unclosed quote would otherwise scan on to the end of the text).
ATTR_VALUE = r"""(?:"([^"<]*)"|'([^'<]*)'|([^\s"'=<>`]+))"""
# A URL attribute inside a tag (not data-src).
_URL_ATTR = re.compile(r"(?<=\s)(href|src|poster|srcset)(\s*=\s*)" + ATTR_VALUE, re.I)
_SRCSET_URL = re.compile(r"(^|,)(\s*)([^\s,]+)")  # each candidate's URL, before its width


def map_urls(fragment: str, change: Callable[[str], str]) -> str:
    """``fragment`` with ``change`` applied to the URL of every link, image source,
    video poster and ``srcset`` candidate; the rest is left byte for byte."""

    def replace_one(found: re.Match[str]) -> str:
        quote, value = next((q, found[i]) for q, i in _QUOTES if found[i] is not None)
        if found[1].lower() == "srcset":
            value = _SRCSET_URL.sub(lambda c: c[1] + c[2] + change(c[3]), value)
        else:
            value = change(value)
        if not quote and not _UNQUOTED.fullmatch(value):
            quote, value = '"', value.replace('"', "&quot;")
        return f"{found[1]}{found[2]}{quote}{value}{quote}"

    return _TAG.sub(lambda tag: _URL_ATTR.sub(replace_one, tag[0]), fragment)


_QUOTES = (('"', 3), ("'", 4), ("", 5))  # each kind of quote and its group in _URL_ATTR
_UNQUOTED = re.compile(r"""[^\s"'=<>`]+""")


def rebase(fragment: str, base_path: str) -> str:
    """Point root-relative links written in content (``/articles/x/``) into a sub-path site."""
    if base_path == "/":
        return fragment

    def into_base(url: str) -> str:
        return base_path + url[1:] if url.startswith("/") and not url.startswith("//") else url

    return map_urls(fragment, into_base)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Body:
    """An entry's rendered HTML: held, or fetched when a page shows it.

    A large site's bodies are most of what it weighs, and only an article's own
    page and the feeds that carry it in full need them: a build keeps them in the
    render cache and fetches each when needed, so it never holds them all.
    """

    digest: str  # of the HTML as rendered: what output keys depend on, never fetched
    held: str | None = field(default=None, compare=False, repr=False)
    fetch: Callable[[], str] | None = field(default=None, compare=False, repr=False)
    base_path: str = "/"  # for a sub-path site, where root-relative links point

    @classmethod
    def of(cls, html: str) -> Body:
        digest = hashlib.sha256(html.encode("utf-8", "surrogatepass")).hexdigest()
        return cls(digest, held=html)

    @property
    def text(self) -> str:
        html = self.held if self.held is not None else self.fetch() if self.fetch else ""
        return rebase(html, self.base_path)


EMPTY_BODY = Body.of("")


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One content file as its author wrote it: validated front matter + rendered body."""

    source_path: str  # posix, relative to the site root: "content/articles/x.md"
    kind: Literal["article", "page", "digest"]  # "digest": an issue's introduction
    title: str
    slug: str
    date: datetime | None  # required for articles; optional for static pages
    updated: datetime | None = None
    summary: str = ""  # HTML
    body: Body = EMPTY_BODY  # the rendered body
    toc: str = ""  # HTML list of the headings, empty when there are fewer than two
    words: int = 0
    tag_names: tuple[str, ...] = ()
    category: str | None = None
    authors: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    image: str | None = None
    draft: bool = False
    feed_id: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    # Line of each front matter key in the file, so later stages can point at it.
    key_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def html(self) -> str:
        """The rendered body, for templates and feeds."""
        return self.body.text

    @property
    def reading_minutes(self) -> int:
        """Minutes at 230 words a minute, never less than one (``words`` counts Chinese,
        Japanese and Korean text by its characters: see ``markdown.count_words``)."""
        return max(1, round(self.words / 230))


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """A tag or category as shown (``name``) and as addressed (``slug``, ``url``)."""

    name: str
    slug: str
    url: str


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A pointer to another page, for prev/next and related lists."""

    title: str
    url: str
    # When the title ends with a date ("Daily digest: Monday, 2 August 2021"): that
    # part and its machine-readable form ("2021-08-02"), for <time datetime> markup.
    when_text: str = ""
    when: str = ""


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Article(Entry):
    """An entry placed on the site: its URL, its terms and its neighbours."""

    url: str
    tags: tuple[Term, ...] = ()
    category_term: Term | None = None
    newer: Link | None = None
    older: Link | None = None
    related: tuple[Article, ...] = ()

    @property
    def published(self) -> datetime:
        """The article's date; every placed article has one."""
        assert self.date is not None  # site.py drops articles without a date
        return self.date


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """A term with the articles filed under it, newest first."""

    term: Term
    articles: tuple[Article, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveMonth:
    """The articles of one calendar month (in the site's time zone)."""

    year: int
    month: int
    url: str  # "/archive/2021/08/"
    articles: tuple[Article, ...]

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """A daily or weekly issue: the stories of one period, grouped by category."""

    kind: Literal["daily", "weekly"]
    key: str  # "2021-08-17" or "2021-W33"
    number: int  # running issue number within its kind, oldest is 1
    title: str
    start: date
    end: date  # inclusive
    url: str
    articles: tuple[Article, ...]
    intro: str = ""  # HTML from content/digests/<key>.md
    headline: str = ""  # the title of that file, when it has one
    when_text: str = ""  # the date the title ends with: "Monday, 2 August 2021", "week 33, 2021"
    newer: Link | None = None
    older: Link | None = None

    @property
    def when(self) -> str:
        """The issue's date as HTML's ``<time datetime>`` takes it: ``2021-08-02``, ``2021-W33``."""
        return self.start.isoformat() if self.kind == "daily" else self.key

    @property
    def link(self) -> Link:
        return Link(title=self.title, url=self.url, when_text=self.when_text, when=self.when)

    @property
    def groups(self) -> tuple[tuple[str, tuple[Article, ...]], ...]:
        """(category, stories) in order of first appearance; uncategorised last, named
        "" (the theme calls them "More stories" in the site's language)."""
        order: dict[str, list[Article]] = {}
        for article in self.articles:
            order.setdefault(article.category or "", []).append(article)
        named = [(name, tuple(items)) for name, items in order.items() if name]
        rest = [("", tuple(order[""]))] if "" in order else []
        return tuple(named + rest)

    @property
    def updated(self) -> datetime:
        return max(a.updated or a.published for a in self.articles)


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a paginated list: ``/tags/ai/``, ``/tags/ai/page/2/``, ..."""

    items: tuple[T, ...]
    number: int
    count: int
    url: str
    first_url: str
    prev_url: str | None = None
    next_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """Everything the outputs are made from, already sorted and placed."""

    articles: tuple[Article, ...]  # published, newest first
    pages: tuple[Article, ...]  # static pages such as /about/
    tags: tuple[Listing, ...]  # by slug
    categories: tuple[Listing, ...]
    authors: tuple[Listing, ...]
    archive: tuple[ArchiveMonth, ...]  # newest month first
    daily: tuple[Digest, ...]  # newest first
    weekly: tuple[Digest, ...]
    updated: datetime | None  # the newest date or update of any article
    next_scheduled: datetime | None = None  # the earliest future article left out

    @property
    def latest(self) -> tuple[Article, ...]:
        """The newest articles, for sidebars and the 404 page."""
        return self.articles[:10]


@dataclass(frozen=True, slots=True, kw_only=True)
class Alternate:
    """A page in one of a multilingual site's languages: for ``hreflang`` links, the
    language switcher and the sitemap."""

    code: str  # as hreflang takes it: "de", "pt-BR"
    name: str  # in the language itself: "Deutsch"
    url: str  # absolute
    path: str  # from the server's root, for links: "/de/articles/x/"
    translated: bool  # False: the language lacks this page; the URL is its front page
    current: bool  # the language of the page that shows it


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSpec:
    """One file of the site: where it goes, what it depends on, how to make it.

    ``key`` digests the explicit inputs. A template may also read parts of the
    whole ``site``; ``render`` reports which, and the build adds their digests.
    """

    path: str  # posix, relative to output/
    key: str
    render: Callable[[], tuple[bytes, frozenset[str]]] = field(compare=False, repr=False)
    # The key's parts, for `build --explain`: "config:template chain:what it shows".
    why: str = ""


# Told how far a long stage has got: (stage, done, total). The command line draws it.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """For builds nobody watches."""


_NON_WORD = re.compile(r"[^\w]+")


@functools.lru_cache(maxsize=8192)  # names repeat: a tag is slugged for each of its stories
def slugify(text: str) -> str:
    """A URL segment for ``text``: lower case, words joined by '-', letters kept.

    Unicode letters survive (``Zürich`` → ``zürich``) because browsers and servers
    handle UTF-8 paths; characters that mean something in a path do not.
    """
    normal = unicodedata.normalize("NFKC", text).casefold()
    slug = _NON_WORD.sub("-", normal.replace("_", "-")).strip("-")
    return slug


FILE_SLUG_BYTES = 80  # of a new file's name: long enough to read, short for any disk


def file_slug(text: str) -> str:
    """``slugify(text)`` cut to a file name any disk takes (most allow 255 bytes, and a
    headline in Japanese is three bytes a letter), at a whole character."""
    data = slugify(text).encode()[:FILE_SLUG_BYTES]
    return data.decode(errors="ignore").rstrip("-")
