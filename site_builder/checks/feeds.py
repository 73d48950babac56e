"""The check of feeds: RSS 2.0, Atom and JSON Feed as readers would misread them.

Input: the ``Checker`` holding the rendered site. Output: the problems of each feed
file: required fields missing, dates without a zone, relative URLs in links and
content, ids shared by two stories (across all the site's feeds), and a self link that
is not where the feed is served. Each format is first read into one shape, ``_Feed``,
which the checks every format shares then walk.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from lxml import etree

from site_builder.checks.problems import Checker, Problem
from site_builder.checks.urls import is_absolute
from site_builder.feeds import FEED_FILES
from site_builder.refs import summarize

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
_ID_HINT = "readers use it to tell new stories from ones they have already shown"


def _urls_in(fragments: Iterable[str]) -> list[str]:
    """Every href/src in some HTML fragments, such as a feed entry's content."""
    return [url for text in fragments if text for url in _fragment_urls(text)]


# One story is in many feeds (its tags', its author's; three formats each): read it
# once. Emptied after each check.
@functools.lru_cache(maxsize=8192)
def _fragment_urls(text: str) -> tuple[str, ...]:
    return summarize(text).links


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
    elif guid is not None and guid.get("isPermaLink", "true") != "false" and not is_absolute(ident):
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
    if home is not None and not (isinstance(home, str) and is_absolute(home)):
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


def is_feed(path: str) -> bool:
    return posixpath.basename(path) in _FEED_NAMES


Read = _Feed | _Fault  # a feed as its format's reader read it


def read_feed(path: str, data: bytes) -> Read:
    """A feed file read into the shape every format shares; or why it cannot be."""
    return _parse_feed(path, data)


def forget_read() -> None:
    """Empty what ``read_feed`` kept of the feeds read so far, once all are read."""
    _fragment_urls.cache_clear()


def check_feeds(c: Checker, feeds: Mapping[str, Read]) -> Iterator[Problem]:
    """The problems of the site's feeds, in order of their paths: the first of two
    stories sharing an id is the one in the feed first in that order."""
    ids: dict[str, _Seen] = {}  # the first entry of each id, across all feeds
    for path in sorted(feeds):
        parsed = feeds[path]
        if isinstance(parsed, _Fault):
            where = (path, parsed.line, parsed.column)
            yield c.problem(parsed.message, at=where, hint=parsed.hint)
            continue
        yield from _check_feed(c, path, parsed)
        yield from _duplicate_feed_ids(c, path, parsed, ids)


def _check_feed(c: Checker, path: str, feed: _Feed) -> Iterator[Problem]:
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


def _check_self_link(c: Checker, path: str, feed: _Feed) -> Iterator[Problem]:
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


def _check_entry_urls(c: Checker, path: str, entry: _Entry) -> Iterator[Problem]:
    where = (path, entry.line, None)
    if entry.link is not None and not is_absolute(entry.link):
        yield c.problem(
            f"{entry.label}: link {entry.link!r} is not an absolute URL",
            at=where,
            hint="feed readers have no base URL to resolve it against",
        )
    source = c.source_of(entry.link)
    for url in dict.fromkeys(entry.urls):
        if not is_absolute(url):
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
    c: Checker, path: str, feed: _Feed, first: dict[str, _Seen]
) -> Iterator[Problem]:
    """One id for two stories, in one feed or across the site's feeds read so far."""
    for entry in feed.entries:
        if entry.id is None:
            continue
        seen = _Seen(path, entry, c.source_of(entry.link) or f"{path} {entry.label}")
        earlier = first.setdefault(entry.id, seen)
        # The same story in another feed (a tag's, another format) shares its id rightly.
        if earlier is not seen and (earlier.feed == path or earlier.entry.link != entry.link):
            yield _id_clash(c, entry.id, earlier, seen)


def _id_clash(c: Checker, ident: str, a: _Seen, b: _Seen) -> Problem:
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
