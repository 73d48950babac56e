"""Import source, feed: an RSS, Atom or JSON Feed file or URL → one post per entry.

Input is untrusted: a file or an ``http(s)`` URL, read up to ``MAX_FEED_BYTES``; XML
that declares entities is refused before any parser sees it, and feedparser (which
also cleans the entries' HTML of scripts) reads the rest; JSON Feed is read as JSON.
Output is a ``Scan`` with each entry's title, date, author, tags and content as
Markdown, and its link as its old address when the link is on the feed's own site.
"""

from __future__ import annotations

import json
import re
from calendar import timegm
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import feedparser
import httpx

from site_builder.config import SiteConfig
from site_builder.errors import ConfigError, ContentError, SiteError
from site_builder.importer.front import Front, Mapper
from site_builder.importer.markup import has_entities, to_markdown
from site_builder.importer.oldurls import OldSite, Refs
from site_builder.importer.posts import Post, Scan, fields, make_post
from site_builder.model import slugify

MAX_FEED_BYTES = 20_000_000
_TIMEOUT_SECONDS = 30
_HEADERS = {"User-Agent": "site-builder import"}
_ENTRY_START = re.compile(r"<(?:\w+:)?(?:item|entry)[\s>]")


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def scan(src: str, config: SiteConfig, old_url: str | None) -> Scan:
    """Every entry of the feed at ``src`` (a file or a URL) as a post."""
    data, name = _fetch(src) if is_url(src) else _read(Path(src))
    if data.lstrip()[:1] == b"{":
        site, entries = _json_entries(data, name)
    else:
        site, entries = _xml_entries(data, name)
    site_url = old_url or (site.rstrip("/") + "/" if is_url(site) else None)
    posts: list[Post] = []
    problems: list[SiteError] = []
    for entry in entries:
        post, found = _post(entry, name, config, urlsplit(site_url or "").hostname)
        posts += [post] if post is not None else []
        problems += found
    if not posts and not problems:
        raise ConfigError("the feed has no entries", path=name)
    return Scan(posts=posts, problems=problems, old=OldSite(url=site_url), roots=())


def _fetch(url: str) -> tuple[bytes, str]:
    """The feed at ``url``, at most ``MAX_FEED_BYTES`` of it, over http(s) only."""
    name = (urlsplit(url).path.rsplit("/", 1)[-1] or urlsplit(url).hostname or "feed")[:80]
    data = bytearray()
    try:
        with httpx.stream(
            "GET", url, timeout=_TIMEOUT_SECONDS, follow_redirects=True, headers=_HEADERS
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_FEED_BYTES:
                    break
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        raise ConfigError(f"cannot fetch the feed: HTTP {status} from {url}", path=name) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"cannot fetch the feed: {reason}", path=name) from None
    return _bounded(bytes(data), name), name


def _read(path: Path) -> tuple[bytes, str]:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FEED_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the feed: {exc.strerror}", path=path) from None
    return _bounded(data, path.name), path.name


def _bounded(data: bytes, name: str) -> bytes:
    if len(data) > MAX_FEED_BYTES:
        raise ConfigError(f"the feed is larger than {MAX_FEED_BYTES:,} bytes; refused", path=name)
    return data


def _xml_entries(data: bytes, name: str) -> tuple[str, list[dict[str, Any]]]:
    """RSS or Atom entries as dicts, each with the file line it starts on."""
    if has_entities(data):
        raise ConfigError("the feed declares XML entities; refused as unsafe", path=name)
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
    if parsed.get("bozo") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise ConfigError(f"not a feed: {reason or 'unreadable'}", path=name)
    text = data.decode("utf-8", "replace")
    lines = [text.count("\n", 0, m.start()) + 1 for m in _ENTRY_START.finditer(text)]
    entries = []
    for number, entry in enumerate(parsed.entries):
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        entries.append({
            "title": entry.get("title"),
            "link": entry.get("link", ""),
            "date": _parsed_time(_raw(entry, "published_parsed") or _raw(entry, "updated_parsed")),
            "updated": _parsed_time(_raw(entry, "updated_parsed")),
            "author": entry.get("author"),
            "tags": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
            "summary": to_markdown(entry.get("summary", "")).strip() if content else None,
            "html": body,
            "line": lines[number] if number < len(lines) else 1,
        })  # fmt: skip
        entries[-1]["key"] = f"{name}:{entries[-1]['line']}"
    return str(parsed.feed.get("link", "")), entries


def _raw(entry: dict[str, Any], key: str) -> object:
    # feedparser's own get() warns when it hands one date for the other
    return dict.get(entry, key)


def _parsed_time(value: object) -> str | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(timegm(value), tz=UTC).isoformat()  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _json_entries(data: bytes, name: str) -> tuple[str, list[dict[str, Any]]]:
    """JSON Feed 1.0 and 1.1 items as the same dicts."""
    try:
        feed = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"not a feed: invalid JSON ({exc})", path=name) from None
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list) or not str(feed.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ConfigError("not a JSON Feed: no 'version' and 'items'", path=name)
    found = [_json_item(item) for item in items if isinstance(item, dict)]
    for number, entry in enumerate(found, 1):
        entry["key"] = f"{name}#{number}"  # JSON has no lines worth naming: the item's place
    return str(feed.get("home_page_url") or ""), found


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    authors = item.get("authors") or (
        [item["author"]] if isinstance(item.get("author"), dict) else []
    )
    html = item.get("content_html")
    text = item.get("content_text")
    return {
        "title": item.get("title"),
        "link": str(item.get("url") or ""),
        "date": item.get("date_published") or item.get("date_modified"),
        "updated": item.get("date_modified"),
        "author": next((a.get("name") for a in authors if isinstance(a, dict)), None),
        "tags": [t for t in item.get("tags") or [] if isinstance(t, str)],
        "summary": item.get("summary"),
        "html": html if isinstance(html, str) else f"<pre>{_escape(text)}</pre>" if text else "",
        "line": 1,
    }


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post(
    entry: dict[str, Any], name: str, config: SiteConfig, host: str | None
) -> tuple[Post | None, list[SiteError]]:
    line = int(entry["line"])
    meta = {k: entry[k] for k in ("title", "date", "updated", "author", "tags", "summary")}
    front = Front(
        meta=meta, text="", first_line=line, body=str(entry["html"]), body_line=line, start=line
    )
    m = Mapper(front, name)
    if not meta["date"]:
        m.add(ContentError, "date", "date: the entry has no published or updated date")
    known = fields(
        m,
        [],
        m.words("tags", split=False),
        date=m.date("date"),
        updated=m.date("updated"),
        summary=m.text("summary"),
        draft=False,
    )
    stem = slugify(str(known["title"] or "")) or f"entry-{line}"
    post, problems = make_post(m, known, config, path=Path(stem + ".md"), name=stem)
    if post is None:
        return None, problems
    link = urlsplit(str(entry["link"]))
    same_site = host is not None and link.hostname == host and link.path not in ("", "/")
    old = (unquote(link.path),) if same_site else ()
    return replace(post, old_urls=old, key=str(entry["key"])), problems


def convert(post: Post, refs: Refs) -> tuple[str, list[SiteError]]:
    """The entry's HTML (already cleaned by feedparser) as Markdown."""
    return to_markdown(post.front.body), []
