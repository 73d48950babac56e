"""Parsing a fetched feed: RSS 0.9x/1.0/2.0 and Atom with feedparser, JSON Feed with
json, into the items a draft is made from and the feed they came from."""

from __future__ import annotations

import html
import json
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import nh3

from site_builder.ingest.fetch import Fetched
from site_builder.site import source_identity

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_SPACE = re.compile(r"\s+")
_MAX_PLAIN = 2_000  # characters of a title read; it is cut to 300 anyway
_MAX_URL = 2_000  # longer links are not pages but payloads; browsers stop near here too


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """The upstream feed an item came from: what ``atom:source`` carries (RFC 4287 4.2.11)."""

    id: str
    title: str
    url: str
    updated: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    title: str
    url: str  # absolute http(s): the item's canonical link
    date: datetime | None
    html: str  # unsanitised summary
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    origin: Origin
    items: tuple[Item, ...]
    without_link: int = 0
    malformed: str | None = None  # why a feed that still gave items is broken


def clean(text: str) -> str:
    return _SPACE.sub(" ", CONTROL.sub("", text)).strip()


def plain(markup: str) -> str:
    """One line of text from a title that may hold markup or entities.

    Only its start is read: html5ever's time grows with the square of nesting depth.
    """
    return clean(html.unescape(nh3.clean(markup[:_MAX_PLAIN], tags=set())))


def _moment(parsed: object, now: datetime) -> datetime | None:
    """A feedparser date (UTC ``struct_time``), if it is a real one: not after ``now``."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        moment = datetime(*parsed[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return min(moment, now) if moment.year >= 1970 else None


def _link(base: str, *candidates: object) -> str | None:
    """The first candidate that is an absolute http(s) URL (resolved against ``base``)."""
    for value in candidates:
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_URL:
            continue
        try:
            url = urljoin(base, clean(value)).replace(" ", "%20")
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:  # "http://[::1" and other hosts no URL can have
            continue
        if parts.scheme in ("http", "https") and host:
            return url
    return None


def _item_link(base: str, *candidates: object) -> str | None:
    """An item's link without the tracking parameters the feed added (``utm_*``, ...)."""
    url = _link(base, *candidates)
    if url is None or not urlsplit(url).query:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    # A parameter is tracking if the duplicate-source check ignores it: the same
    # normalisation decides, so the two never disagree.
    identity = source_identity(url)
    kept = [
        pair
        for i, pair in enumerate(pairs)
        if source_identity(parts._replace(query=urlencode(pairs[:i] + pairs[i + 1 :])).geturl())
        != identity
    ]
    return url if len(kept) == len(pairs) else parts._replace(query=urlencode(kept)).geturl()


def is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse_feed(fetched: Fetched, fallback_title: str, now: datetime) -> Parsed | str:
    """The feed's items, or why it is not a feed."""
    if is_json(fetched.body, fetched.content_type):
        return _parse_json(fetched, fallback_title, now)
    return _parse_xml(fetched, fallback_title, now)


def _parse_xml(fetched: Fetched, fallback_title: str, now: datetime) -> Parsed | str:
    import feedparser  # noqa: PLC0415 - see make_client

    headers = {"content-type": fetched.content_type, "content-location": fetched.url}
    # feedparser warns about odd input, and about its own renamed keys when they are
    # read (a channel's pubDate is read as "updated"): it is only data, not a fault.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(fetched.body, response_headers=headers, sanitize_html=False)
        return _from_result(result, fetched.url, fallback_title, now)


def _from_result(result: Any, url: str, fallback_title: str, now: datetime) -> Parsed | str:
    reason = _bozo_reason(result)
    if not result.entries and (result.get("bozo") or not result.get("version")):
        return f"not an RSS or Atom feed: {reason or 'no channel or feed element'}"
    feed = result.feed
    items, without = _xml_items(result.entries, url, now)
    newest = max((i.date for i in items if i.date), default=now)
    origin = Origin(
        id=clean(str(feed.get("id") or "")) or url,
        title=plain(str(feed.get("title") or "")) or fallback_title,
        url=_self_link(feed, url),
        updated=_moment(feed.get("updated_parsed"), now) or newest,
    )
    malformed = reason if result.get("bozo") else None
    return Parsed(origin=origin, items=items, without_link=without, malformed=malformed)


def _bozo_reason(result: Any) -> str:
    exc = result.get("bozo_exception")
    if exc is None:
        return ""
    text = clean(str(getattr(exc, "getMessage", lambda: exc)()))
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f"{text} (line {line})" if isinstance(line, int) else text


def _self_link(feed: Any, fallback: str) -> str:
    for link in feed.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self":
            found = _link(fallback, link.get("href"))
            if found:
                return found
    return fallback


def _xml_items(entries: Sequence[Any], base: str, now: datetime) -> tuple[tuple[Item, ...], int]:
    items: list[Item] = []
    without = 0
    for entry in entries:
        # The canonical link: FeedBurner-style proxies keep the page's own in origLink.
        url = _item_link(
            base,
            entry.get("feedburner_origlink"),
            entry.get("link"),
            entry.get("id") if entry.get("guidislink") else None,
        )
        if url is None:
            without += 1
            continue
        content = entry.get("content") or [{}]
        terms = (t.get("term") or t.get("label") for t in entry.get("tags") or [])
        items.append(
            Item(
                title=plain(str(entry.get("title") or "")),
                url=url,
                date=_moment(entry.get("published_parsed") or entry.get("updated_parsed"), now),
                html=str(entry.get("summary") or content[0].get("value") or ""),
                categories=tuple(str(t) for t in terms if t),
            )
        )
    return tuple(items), without


def _parse_json(fetched: Fetched, fallback_title: str, now: datetime) -> Parsed | str:
    """JSON Feed 1.0 and 1.1 (feedparser 6 reads only XML)."""
    try:
        data = json.loads(fetched.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"not a JSON Feed: {exc}"
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        return "not a JSON Feed: no https://jsonfeed.org/version/ in 'version'"
    entries = data.get("items")
    if not isinstance(entries, list):
        return "not a JSON Feed: 'items' is not a list"
    items, without = _json_items(entries, fetched.url, now)
    origin = Origin(
        id=_link(fetched.url, data.get("feed_url")) or fetched.url,
        title=plain(str(data.get("title") or "")) or fallback_title,
        url=_link(fetched.url, data.get("feed_url")) or fetched.url,
        updated=max((i.date for i in items if i.date), default=now),
    )
    return Parsed(origin=origin, items=items, without_link=without)


def _json_items(
    entries: Sequence[object], base: str, now: datetime
) -> tuple[tuple[Item, ...], int]:
    items: list[Item] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        url = _item_link(base, entry.get("url"), entry.get("external_url"))
        if url is None:
            continue
        text = entry.get("content_text")
        body = entry.get("summary") or entry.get("content_html") or ""
        if not body and isinstance(text, str):
            body = html.escape(text)
        tags = entry.get("tags")
        tags = tags if isinstance(tags, list) else []
        items.append(
            Item(
                title=plain(str(entry.get("title") or "")),
                url=url,
                date=_json_date(entry.get("date_published") or entry.get("date_modified"), now),
                html=body if isinstance(body, str) else "",
                categories=tuple(t for t in tags if isinstance(t, str)),
            )
        )
    return tuple(items), sum(isinstance(e, dict) for e in entries) - len(items)


def _json_date(value: object, now: datetime) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(moment, now) if moment.year >= 1970 else None
