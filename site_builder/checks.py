"""Check stage: the files a build would write, held in memory → what a reader would trip over.

Input: the rendered site (output path → bytes), the ``SiteConfig``, and for each page
made from a content file the path of that file. Output: ``SiteError`` and
``SiteWarning`` values for internal links and ``#anchors`` that lead nowhere, ids
used twice on one page, and feeds that readers would misread: required fields
missing, dates without a zone, relative URLs, ids shared by two stories, and a self
link that is not where the feed is served.

A problem is reported where the author can fix it: in the content file, at the line
where the offending URL or id is written, when it can be found there; otherwise in
the output file. A problem found there comes from a template and repeats on every
page that uses it, so it is reported once, with a count. Nothing here writes; content
files are only read to find those lines.
"""

from __future__ import annotations

import difflib
import functools
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit

from lxml import etree

from site_builder.config import SiteConfig
from site_builder.errors import SiteError, SiteWarning
from site_builder.feeds import FEED_FILES
from site_builder.refs import Page, parse_html, read_page
from site_builder.refs import Ref as _Ref

Format = Literal["text", "json", "github"]
ReadSource = Callable[[str], str]
_Where = tuple[str, int | None, int | None]

_FEED_NAMES = frozenset(FEED_FILES.values())
_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1")
_RFC822_ZONE = re.compile(r"\s(?:[+-]\d{4}|UT|UTC|GMT|Z|[ECMP][SD]T|[A-IK-Z])$", re.IGNORECASE)
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
_RFC822_EXAMPLE = "'Tue, 10 Nov 2026 17:45:00 +0100'"
_RFC3339_EXAMPLE = "'2026-11-10T17:45:00+01:00'"
_DATE_HINT = "readers sort and date stories by it; without a readable date and zone they guess"
_BROKEN_HINTS = {
    "link": "readers who follow it get a 404; fix the URL or add the page",
    "image": "readers see a broken image; fix the URL or add the file",
}
_ID_HINT = "readers use it to tell new stories from ones they have already shown"


# --- Reading HTML ---------------------------------------------------------------------


def _urls_in(fragments: Iterable[str]) -> list[str]:
    """Every href/src in some HTML fragments, such as a feed entry's content."""
    return [url for text in fragments if text for url in _fragment_urls(text)]


# One story is in many feeds (its tags', its author's; three formats each): read it
# once. Emptied after each check.
@functools.lru_cache(maxsize=8192)
def _fragment_urls(text: str) -> tuple[str, ...]:
    return tuple(ref.value for ref in parse_html(text).links)


# --- URLs -------------------------------------------------------------------------------


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" in the host
        return None


def _is_absolute(url: str) -> bool:
    """True for URLs a feed reader can follow without knowing where the feed came from."""
    parts = _split(url.strip())
    if parts is None or not parts.scheme:
        return False
    return parts.scheme.lower() not in ("http", "https") or bool(parts.netloc)


def _file(site_path: str) -> str:
    """The output file that serves a site path: folders are served by their index.html."""
    return site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path


@dataclass(frozen=True, slots=True)
class _Target:
    """Where an internal link points: an output file and the #fragment, or why it cannot."""

    path: str
    fragment: str = ""
    outside: str | None = None


def _target(href: str, page: str, config: SiteConfig) -> _Target | None:
    """The file an internal link leads to; None for a link to another site."""
    parts = _split(href)
    if parts is None:
        return _Target("", outside="is not a valid URL")
    fragment = unquote(parts.fragment)
    if parts.scheme or parts.netloc:
        # Absolute links to the site itself (canonical, og:url) are internal too.
        inner = _split(href[len(config.base_url) :]) if href.startswith(config.base_url) else None
        return _Target(_file(unquote(inner.path)), fragment) if inner else None
    path = unquote(parts.path)
    if not path:
        return _Target(page, fragment)  # "#x" or "?q": this very page
    if path.startswith("/"):
        return _root_relative(path, fragment, config.base_path)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if joined == ".." or joined.startswith("../"):
        return _Target("", outside="points above the site's top folder")
    folder = "/" if path.endswith(("/", "/.", "/..")) or path in (".", "..") else ""
    return _Target(_file("" if joined == "." else joined + folder), fragment)


def _root_relative(path: str, fragment: str, base_path: str) -> _Target:
    # "/news" is the site's front page too when the site lives under /news/.
    if not (path + "/").startswith(base_path):
        return _Target("", outside=f"is outside the site, which lives under {base_path}")
    return _Target(_file(path[len(base_path) :]), fragment)


def _resolve(path: str, files: Mapping[str, bytes | Page]) -> str | None:
    """The file that serves ``path``; a folder named without its slash has an index.html."""
    if path in files:
        return path
    index = path + "/index.html"
    return index if index in files else None


def _needles(href: str, base_path: str) -> list[str]:
    """How a page's URL may be written in its Markdown: as is, or before it was rebased."""
    found = [href, unquote(href)]
    if base_path != "/" and href.startswith(base_path):
        found.append("/" + href[len(base_path) :])
    return found


# --- Problems and where they are reported ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Problem:
    """A problem before merging: where it is reported, and in which output it was seen."""

    message: str
    path: str
    line: int | None
    column: int | None
    hint: str | None
    warning: bool
    seen_in: str
    in_source: bool
    note: bool  # name the outputs it was seen in (feeds), not only the page itself


def _read_under(root: Path, source: str) -> str:
    """A content file's text, only to find a line; an unreadable file has no lines to give."""
    try:
        return (root / source).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ""


class _Checker:
    """The rendered site, the ids of the pages read so far, and content files read on demand."""

    def __init__(
        self,
        files: Mapping[str, bytes | Page],
        config: SiteConfig,
        sources: Mapping[str, str],
        read_source: ReadSource,
    ) -> None:
        self.files, self.config, self.sources = files, config, sources
        self._read = read_source
        self._texts: dict[str, str] = {}
        self._targets: dict[str, _Target | None] = {}
        # URLs that lead to an existing file from every page, with no #fragment: the
        # site's links to its own pages, repeated on every page (a fifth of a build).
        self.fine: set[str] = set()
        # Only each page's ids are kept, not its links: a 100,000-page site must fit.
        self.anchors: dict[str, frozenset[str]] = {}

    def find(self, source: str | None, needles: Iterable[str]) -> tuple[int, int] | None:
        """Line and column of the first needle that occurs in the content file."""
        if source is None:
            return None
        if source not in self._texts:
            self._texts[source] = self._read(source)
        text = self._texts[source]
        for needle in needles:
            at = text.find(needle) if needle else -1
            if at >= 0:
                return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        return None

    def target(self, href: str, page: str) -> _Target | None:
        """``_target``, once for a URL that leads to the same file from every page."""
        if not href.startswith(("/", "http:", "https:")):
            return _target(href, page, self.config)
        if href not in self._targets:
            self._targets[href] = _target(href, page, self.config)
        return self._targets[href]

    def source_of(self, url: str | None) -> str | None:
        """The content file behind an absolute URL of this site, such as a feed item's link."""
        base = self.config.base_url
        inner = _split(url[len(base) :]) if url and url.startswith(base) else None
        return self.sources.get(_file(unquote(inner.path))) if inner else None

    def problem(
        self,
        message: str,
        *,
        at: _Where,
        source: str | None = None,
        needles: Sequence[str] = (),
        hint: str | None = None,
        warning: bool = False,
        note: bool = False,
    ) -> _Problem:
        """Report at the needle in ``source`` when it is written there, else at ``at``."""
        found = self.find(source, needles)
        path, line, column = (source, *found) if source and found else at
        return _Problem(
            message=message,
            path=path,
            line=line,
            column=column,
            hint=hint,
            warning=warning,
            seen_in=at[0],
            in_source=found is not None,
            note=note,
        )


# --- HTML pages -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Anchor:
    """A link into a page, checked once every page's ids are known."""

    page: str
    ref: _Ref
    target: str
    fragment: str


def is_page(path: str) -> bool:
    return path.endswith((".html", ".htm"))


def _check_pages(c: _Checker) -> Iterator[_Problem]:
    later: list[_Anchor] = []
    for path in sorted(filter(is_page, c.files)):
        data = c.files[path]
        page = data if isinstance(data, Page) else read_page(data)
        c.anchors[path] = page.anchors
        yield from _duplicate_ids(c, path, page)
        first: dict[str, _Ref] = {}
        for ref in page.links:
            first.setdefault(ref.value, ref)  # one report per URL and page is enough
        for value, ref in first.items():
            if value not in c.fine:
                yield from _check_link(c, path, ref, later)
    for anchor in later:
        yield from _check_anchor(c, anchor)


def _duplicate_ids(c: _Checker, path: str, page: Page) -> Iterator[_Problem]:
    seen: set[str] = set()
    for ref in page.ids:
        if ref.value not in seen:
            seen.add(ref.value)
            continue
        yield c.problem(
            f"id {ref.value!r} is used twice on one page; links to #{ref.value} reach the first",
            at=(path, ref.line, ref.column),
            source=c.sources.get(path),
            needles=(f'id="{ref.value}"', f"{{#{ref.value}}}"),
            hint="give each element its own id",
        )


def _report_link(c: _Checker, page: str, ref: _Ref) -> Callable[..., _Problem]:
    """Report a link's problem at the link in the page's Markdown, else in the page."""
    return functools.partial(
        c.problem,
        at=(page, ref.line, ref.column),
        source=c.sources.get(page),
        needles=_needles(ref.value, c.config.base_path),
    )


def _check_link(c: _Checker, page: str, ref: _Ref, later: list[_Anchor]) -> Iterator[_Problem]:
    target = c.target(ref.value, page)
    if target is None:
        if ref.value.startswith(("http:", "https:")):
            c.fine.add(ref.value)  # another site's: never checked, from any page
        return
    found = _resolve(target.path, c.files) if target.outside is None else None
    if target.outside is not None:
        yield _report_link(c, page, ref)(
            f"{ref.what} {ref.value!r} {target.outside}; readers get a 404"
        )
    elif found is None:
        yield _report_link(c, page, ref)(
            f"broken {ref.what} {ref.value!r}: the site has no {target.path}",
            hint=_BROKEN_HINTS.get(ref.what, _BROKEN_HINTS["link"]),
        )
    elif target.fragment and is_page(found):
        later.append(_Anchor(page, ref, found, target.fragment))
    elif not target.fragment and ref.value.startswith(("/", "http:", "https:")):
        c.fine.add(ref.value)  # leads to ``found`` whichever page it is on


def _check_anchor(c: _Checker, anchor: _Anchor) -> Iterator[_Problem]:
    ids = c.anchors.get(anchor.target, frozenset())
    # HTML scrolls to the top for "#top" even without such an id.
    if anchor.fragment in ids or anchor.fragment.lower() == "top":
        return
    where = "this page" if anchor.target == anchor.page else anchor.target
    yield _report_link(c, anchor.page, anchor.ref)(
        f"missing anchor in link {anchor.ref.value!r}: {where} has no id {anchor.fragment!r}",
        hint=_anchor_hint(anchor.fragment, ids),
    )


def _anchor_hint(fragment: str, anchors: Iterable[str]) -> str:
    close = difflib.get_close_matches(fragment, sorted(anchors), n=1)
    if close:
        return f"did you mean '#{close[0]}'?"
    return "the page opens at the top instead; fix the #fragment or add the id"


# --- Feeds: each format read into one shape -----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fault:
    """A feed problem as its format's reader sees it; the check decides where it goes."""

    message: str
    line: int | None = None
    hint: str | None = None
    warning: bool = False
    column: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    label: str  # "item 3", "entry 3", "items[2]"
    line: int | None
    id: str | None
    link: str | None
    urls: tuple[str, ...]  # every URL in its content and summary
    faults: tuple[_Fault, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Feed:
    self_name: str  # what it calls its self link
    self_link: str | None
    self_line: int | None
    faults: tuple[_Fault, ...]
    entries: tuple[_Entry, ...]


def _all_text(element: etree._Element) -> str:
    return "".join(part for part in element.itertext() if isinstance(part, str)).strip()


def _line(element: etree._Element) -> int | None:
    line = element.sourceline  # lxml-stubs leave it untyped; lxml gives int or None
    return line if isinstance(line, int) else None


def _text(parent: etree._Element, tag: str) -> str:
    child = parent.find(tag)
    return _all_text(child) if child is not None else ""


def _self_link(links: Iterable[etree._Element]) -> etree._Element | None:
    return next((link for link in links if link.get("rel") == "self"), None)


def _rfc822_fault(parent: etree._Element, tag: str, *, required: bool) -> list[_Fault]:
    child = parent.find(tag)
    value = _all_text(child) if child is not None else ""
    if child is None or not value:
        missing = _Fault(f"no <{tag}>", _line(parent), hint="readers cannot date the story")
        return [missing] if required else []
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):  # Python 3.11 raises TypeError for text that is no date
        problem = f"is not an RFC 822 date; expected e.g. {_RFC822_EXAMPLE}"
    else:
        if _RFC822_ZONE.search(value):
            return []
        problem = f"has no time zone; expected e.g. {_RFC822_EXAMPLE}"
    return [_Fault(f"<{tag}> {value!r} {problem}", _line(child), hint=_DATE_HINT)]


def _rfc3339_problem(value: str) -> str | None:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return f"is not a date; expected RFC 3339 such as {_RFC3339_EXAMPLE}"
    if when.tzinfo is None:
        return f"has no time zone; expected e.g. {_RFC3339_EXAMPLE}"
    if not _RFC3339.fullmatch(value):
        return f"is not in RFC 3339 form; expected e.g. {_RFC3339_EXAMPLE}"
    return None


def _parse_feed(path: str, data: bytes) -> _Feed | _Fault:
    if path.endswith(".json"):
        return _parse_json_feed(data)
    try:
        # Our own output, but never let a feed pull in entities or the network.
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        # lxml ends its message with the position, which the report shows anyway.
        message = re.sub(r", line \d+, column \d+$", "", exc.msg)
        column = exc.offset + 1 if exc.offset is not None else None  # lxml counts from 0
        return _Fault(f"not well-formed XML: {message}", exc.lineno, column=column)
    if root.tag == "rss":
        return _parse_rss(root)
    if root.tag == f"{_ATOM}feed":
        return _parse_atom(root)
    return _Fault(f"<{root.tag}> is neither an RSS 2.0 nor an Atom feed", _line(root))


def _parse_rss(root: etree._Element) -> _Feed:
    channel = root.find("channel")
    faults = []
    if root.get("version") != "2.0":
        faults.append(_Fault(f"version {root.get('version')!r}; expected '2.0'", _line(root)))
    if channel is None:
        faults.append(_Fault("no <channel>; readers see an empty feed", _line(root)))
        channel = root
    for name in ("title", "link", "description"):
        if not _text(channel, name):
            faults.append(_Fault(f"no <{name}>, which RSS 2.0 requires", _line(channel)))
    for name in ("pubDate", "lastBuildDate"):
        faults += _rfc822_fault(channel, name, required=False)
    self_link = _self_link(channel.findall(f"{_ATOM}link"))
    items = channel.findall("item")
    return _Feed(
        self_name='<atom:link rel="self">',
        self_link=self_link.get("href") if self_link is not None else None,
        self_line=_line(self_link if self_link is not None else channel),
        faults=tuple(faults),
        entries=tuple(_rss_item(item, n) for n, item in enumerate(items, start=1)),
    )


def _rss_item(item: etree._Element, number: int) -> _Entry:
    faults = []
    if not (_text(item, "title") or _text(item, "description")):
        faults.append(_Fault("neither <title> nor <description>; readers show an empty line"))
    guid = item.find("guid")
    ident = _text(item, "guid")
    if not ident:
        faults.append(_Fault("no <guid>", hint=_ID_HINT))
    elif (
        guid is not None and guid.get("isPermaLink", "true") != "false" and not _is_absolute(ident)
    ):
        faults.append(_Fault(f"<guid> {ident!r} is a permalink but not an absolute URL"))
    faults += _rfc822_fault(item, "pubDate", required=True)
    link = _text(item, "link")
    if not link:
        faults.append(_Fault("no <link>; readers cannot open the story", warning=True))
    return _Entry(
        label=f"item {number}",
        line=_line(item),
        id=ident or None,
        link=link or None,
        urls=tuple(_urls_in([_text(item, "description"), _text(item, f"{_CONTENT}encoded")])),
        faults=tuple(faults),
    )


def _atom_required(element: etree._Element) -> list[_Fault]:
    """id, title and updated, which Atom requires of a feed and of each entry."""
    faults = [
        _Fault(f"no <{name}>, which Atom requires", _line(element))
        for name in ("id", "title", "updated")
        if not _text(element, _ATOM + name)
    ]
    for name in ("updated", "published"):
        child = element.find(_ATOM + name)
        value = _all_text(child) if child is not None else ""
        problem = _rfc3339_problem(value) if value else None
        if child is not None and problem:
            faults.append(_Fault(f"<{name}> {value!r} {problem}", _line(child), _DATE_HINT))
    return faults


def _parse_atom(root: etree._Element) -> _Feed:
    self_link = _self_link(root.findall(f"{_ATOM}link"))
    entries = root.findall(f"{_ATOM}entry")
    return _Feed(
        self_name='<link rel="self">',
        self_link=self_link.get("href") if self_link is not None else None,
        self_line=_line(self_link if self_link is not None else root),
        faults=tuple(_atom_required(root)),
        entries=tuple(_atom_entry(entry, n) for n, entry in enumerate(entries, start=1)),
    )


def _atom_entry(entry: etree._Element, number: int) -> _Entry:
    faults = _atom_required(entry)
    links = entry.findall(f"{_ATOM}link")
    alternate = next((x for x in links if x.get("rel", "alternate") == "alternate"), None)
    href = alternate.get("href") if alternate is not None else None
    if not href:
        faults.append(_Fault('no <link rel="alternate">; readers cannot open the story'))
    return _Entry(
        label=f"entry {number}",
        line=_line(entry),
        id=_text(entry, f"{_ATOM}id") or None,
        link=href or None,
        urls=tuple(_atom_urls(entry)),
        faults=tuple(faults),
    )


def _atom_urls(entry: etree._Element) -> list[str]:
    urls: list[str] = []
    for name in ("content", "summary"):
        child = entry.find(_ATOM + name)
        if child is None:
            continue
        if src := child.get("src"):  # content kept elsewhere: that URL must be absolute too
            urls.append(src)
        kind = child.get("type", "text")
        if kind == "html":
            urls += _urls_in([child.text or ""])
        elif kind == "xhtml":
            urls += _urls_in(etree.tostring(part, encoding="unicode") for part in child)
    return urls


def _parse_json_feed(data: bytes) -> _Feed | _Fault:
    try:
        doc = json.loads(data)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
        line, column = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        return _Fault(f"not valid JSON: {getattr(exc, 'msg', exc)}", line, column=column)
    if not isinstance(doc, dict):
        return _Fault("a JSON Feed is an object with version, title and items")
    items = doc.get("items")
    feed_url = doc.get("feed_url")
    return _Feed(
        self_name="feed_url",
        self_link=feed_url if isinstance(feed_url, str) else None,
        self_line=None,
        faults=tuple(_json_feed_faults(doc)),
        entries=tuple(_json_item(item, n) for n, item in enumerate(items))
        if isinstance(items, list)
        else (),
    )


def _json_feed_faults(doc: Mapping[str, object]) -> list[_Fault]:
    faults = []
    if doc.get("version") not in _JSON_FEED_VERSIONS:
        faults.append(
            _Fault(f"version {doc.get('version')!r}; expected '{_JSON_FEED_VERSIONS[0]}'")
        )
    if not isinstance(doc.get("title"), str) or not doc.get("title"):
        faults.append(_Fault("no title, which JSON Feed requires"))
    if not isinstance(doc.get("items"), list):
        faults.append(_Fault("items is missing or not a list; readers see no stories"))
    home = doc.get("home_page_url")
    if home is not None and not (isinstance(home, str) and _is_absolute(home)):
        faults.append(_Fault(f"home_page_url {home!r} is not an absolute URL"))
    return faults


def _json_item(item: object, index: int) -> _Entry:
    label = f"items[{index}]"
    if not isinstance(item, dict):
        return _Entry(
            label=label, line=None, id=None, link=None, urls=(), faults=(_Fault("not an object"),)
        )
    ident, url, content = item.get("id"), item.get("url"), item.get("content_html")
    faults = [*_json_item_faults(item), *_json_date_faults(item)]
    extra = [item.get(key) for key in ("image", "banner_image", "external_url")]
    return _Entry(
        label=label,
        line=None,
        id=ident if isinstance(ident, str) and ident else None,
        link=url if isinstance(url, str) and url else None,
        urls=(
            *_urls_in([content] if isinstance(content, str) else []),
            *(u for u in extra if isinstance(u, str)),
        ),
        faults=tuple(faults),
    )


def _json_item_faults(item: Mapping[str, object]) -> list[_Fault]:
    faults = []
    ident = item.get("id")
    if not isinstance(ident, str) or not ident:
        faults.append(_Fault(f"id is {ident!r}; expected a non-empty string", hint=_ID_HINT))
    if not any(isinstance(item.get(k), str) for k in ("content_html", "content_text")):
        faults.append(_Fault("neither content_html nor content_text, one of which is required"))
    if not isinstance(item.get("url"), str) or not item.get("url"):
        faults.append(_Fault("no url; readers cannot open the story", warning=True))
    return faults


def _json_date_faults(item: Mapping[str, object]) -> list[_Fault]:
    faults = []
    for key in ("date_published", "date_modified"):
        value = item.get(key)
        if value is None:
            if key == "date_published":
                faults.append(_Fault("no date_published; readers cannot date the story"))
            continue
        problem = _rfc3339_problem(value) if isinstance(value, str) else "is not a string"
        if problem:
            faults.append(_Fault(f"{key} {value!r} {problem}", hint=_DATE_HINT))
    return faults


# --- Feeds: the checks every format shares -------------------------------------------------


def _check_feeds(c: _Checker) -> Iterator[_Problem]:
    ids: dict[str, _Seen] = {}  # the first entry of each id, across all feeds
    for path in sorted(p for p in c.files if posixpath.basename(p) in _FEED_NAMES):
        data = c.files[path]
        if isinstance(data, Page):  # a feed never is, but the type allows it
            continue
        parsed = _parse_feed(path, data)
        if isinstance(parsed, _Fault):
            where = (path, parsed.line, parsed.column)
            yield c.problem(parsed.message, at=where, hint=parsed.hint)
            continue
        yield from _check_feed(c, path, parsed)
        yield from _duplicate_feed_ids(c, path, parsed, ids)


def _check_feed(c: _Checker, path: str, feed: _Feed) -> Iterator[_Problem]:
    for fault in feed.faults:
        yield c.problem(
            f"feed: {fault.message}",
            at=(path, fault.line, None),
            hint=fault.hint,
            warning=fault.warning,
        )
    yield from _check_self_link(c, path, feed)
    for entry in feed.entries:
        for fault in entry.faults:
            yield c.problem(
                f"{entry.label}: {fault.message}",
                at=(path, fault.line or entry.line, None),
                hint=fault.hint,
                warning=fault.warning,
            )
        yield from _check_entry_urls(c, path, entry)


def _check_self_link(c: _Checker, path: str, feed: _Feed) -> Iterator[_Problem]:
    expected = c.config.absolute(path)
    where = (path, feed.self_line, None)
    if feed.self_link is None:
        yield c.problem(
            f"feed: no {feed.self_name}; expected {expected!r}",
            at=where,
            hint="readers and validators use it to find the feed again",
        )
    elif unquote(feed.self_link.strip()) != unquote(expected):
        yield c.problem(
            f"feed: {feed.self_name} is {feed.self_link!r}, but the feed is served at {expected!r}",
            at=where,
            hint="readers that follow it subscribe to another address or a 404",
        )


def _check_entry_urls(c: _Checker, path: str, entry: _Entry) -> Iterator[_Problem]:
    where = (path, entry.line, None)
    if entry.link is not None and not _is_absolute(entry.link):
        yield c.problem(
            f"{entry.label}: link {entry.link!r} is not an absolute URL",
            at=where,
            hint="feed readers have no base URL to resolve it against",
        )
    source = c.source_of(entry.link)
    for url in dict.fromkeys(entry.urls):
        if not _is_absolute(url):
            yield c.problem(
                f"relative URL {url!r} in a feed entry's content",
                at=where,
                source=source,
                needles=(url,),
                hint="feed readers have no base URL, so the link or image breaks there; "
                "write the full https:// URL",
                note=True,
            )


@dataclass(frozen=True, slots=True)
class _Seen:
    feed: str
    entry: _Entry
    name: str  # the content file of the story, else "feed.xml item 3"


def _duplicate_feed_ids(
    c: _Checker, path: str, feed: _Feed, first: dict[str, _Seen]
) -> Iterator[_Problem]:
    """One id for two stories, in one feed or across the site's feeds read so far."""
    for entry in feed.entries:
        if entry.id is None:
            continue
        seen = _Seen(path, entry, c.source_of(entry.link) or f"{path} {entry.label}")
        earlier = first.setdefault(entry.id, seen)
        # The same story in another feed (a tag's, another format) shares its id rightly.
        if earlier is not seen and (earlier.feed == path or earlier.entry.link != entry.link):
            yield _id_clash(c, entry.id, earlier, seen)


def _id_clash(c: _Checker, ident: str, a: _Seen, b: _Seen) -> _Problem:
    one, two = sorted((a, b), key=lambda s: s.name)
    message = (
        f"feed id {ident!r} is used by two stories: {one.name} and {two.name}"
        if one.name != two.name
        else f"feed id {ident!r} is used twice by {one.name}"
    )
    return c.problem(
        message,
        at=(two.feed, two.entry.line, None),
        source=c.source_of(two.entry.link),
        needles=(ident,),
        hint="readers show only one of them; give each story its own 'id:' in its front matter",
        note=True,
    )


# --- Merging, the entry point and output formats ----------------------------------------------


def _merge(problems: Iterable[_Problem]) -> list[SiteError]:
    """One report per cause: a template's broken link once, not once for every page."""
    located: dict[tuple[object, ...], list[_Problem]] = defaultdict(list)
    elsewhere: dict[tuple[object, ...], list[_Problem]] = defaultdict(list)
    for p in problems:
        if p.in_source:
            located[(p.warning, p.message, p.path, p.line, p.column)].append(p)
        else:
            elsewhere[(p.warning, p.message)].append(p)
    _fold(located, elsewhere)
    return [_one(group) for group in (*located.values(), *elsewhere.values())]


def _fold(
    located: dict[tuple[object, ...], list[_Problem]],
    elsewhere: dict[tuple[object, ...], list[_Problem]],
) -> None:
    """An article's broken link also shows in its summary on list pages: one cause, one report."""
    owners: dict[tuple[object, ...], list[tuple[object, ...]]] = defaultdict(list)
    for key in located:
        owners[key[:2]].append(key)
    for key in list(elsewhere):
        if len(owners.get(key, ())) == 1:  # two articles with the same link: cannot tell whose
            located[owners[key][0]] += elsewhere.pop(key)


def _one(group: list[_Problem]) -> SiteError:
    first = min(group, key=lambda p: (not p.in_source, p.path, p.line or 0, p.column or 0))
    kind = SiteWarning if first.warning else SiteError
    return kind(
        first.message + _also(first, group),
        path=first.path,
        line=first.line,
        column=first.column,
        hint=first.hint,
    )


def _also(first: _Problem, group: Sequence[_Problem]) -> str:
    named = sorted({p.seen_in for p in group if p.note})
    if first.in_source and named:
        return f" (in {_names(named)})"
    others = len({p.seen_in for p in group if not p.in_source} - {first.seen_in})
    return f" (also in {others} other file{'s' if others > 1 else ''})" if others else ""


def _names(paths: Sequence[str], shown: int = 3) -> str:
    if len(paths) == 1:
        return paths[0]
    if len(paths) <= shown:
        return ", ".join(paths[:-1]) + f" and {paths[-1]}"
    return ", ".join(paths[:shown]) + f" and {len(paths) - shown} other files"


def check_site(
    files: Mapping[str, bytes | Page],
    config: SiteConfig,
    sources: Mapping[str, str],
    *,
    read_source: ReadSource | None = None,
) -> list[SiteError]:
    """Every broken link and anchor, duplicate id and feed problem of a rendered site.

    ``files`` maps output paths to their bytes, or an HTML page's path to what
    ``read_page`` took from it (pages can be read in parallel); ``sources`` maps an
    output path to the content file it was made from, where its problems are reported
    when the offending text can be found there. ``read_source`` returns a content
    file's text (default: read it under ``config.root``).
    """
    reader = read_source or functools.partial(_read_under, config.root)
    c = _Checker(files, config, sources, reader)
    try:
        return sorted(_merge([*_check_pages(c), *_check_feeds(c)]), key=_order)
    finally:
        _fragment_urls.cache_clear()


def _order(problem: SiteError) -> tuple[tuple[str, int, int, str], str]:
    return problem.sort_key(), problem.severity


def as_errors(problems: Iterable[SiteError]) -> list[SiteError]:
    """``--strict``: every warning becomes an error, in the same place with the same text."""
    return [
        SiteError(p.message, path=p.path, line=p.line, column=p.column, hint=p.hint)
        if isinstance(p, SiteWarning)
        else p
        for p in problems
    ]


def format_problems(problems: Sequence[SiteError], fmt: Format, *, prefix: str = "") -> str:
    """Problems as terminal text, a JSON array, or GitHub Actions annotations.

    ``prefix`` goes before each path in annotations, e.g. ``"site/"`` when the site is
    a folder of the repository: GitHub places annotations by repository path.
    """
    if fmt == "json":
        return json.dumps([_as_json(p) for p in problems], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(_annotation(p, prefix) for p in problems)
    return "\n".join(p.report() for p in problems)


def _as_json(problem: SiteError) -> dict[str, object]:
    return {
        "severity": problem.severity,
        "path": problem.path.as_posix() if problem.path is not None else None,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
    }


def _escape_data(text: str) -> str:
    # GitHub's workflow-command escapes; "%" first so the others are not escaped twice.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(problem: SiteError, prefix: str) -> str:
    """``::error file=PATH,line=N,col=M::message``, the hint on a second line."""
    properties = []
    if problem.path is not None:
        properties.append(f"file={_escape_property(prefix + problem.path.as_posix())}")
    if problem.line is not None:
        properties.append(f"line={problem.line}")
    if problem.column is not None:
        properties.append(f"col={problem.column}")
    text = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    head = f"::{problem.severity} {','.join(properties)}" if properties else f"::{problem.severity}"
    return f"{head}::{_escape_data(text)}"
