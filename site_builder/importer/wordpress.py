"""Import source, WordPress: an export file (WXR, ``Tools → Export``) → posts and pages.

Input is the export's XML, parsed by lxml with entities left unexpanded and no network,
so a hostile file can neither blow up nor reach out; output is a ``Scan`` with each
published post, draft and page (attachments, menus and trash are left out), its
categories, tags and author's display name, its body converted from HTML to Markdown
and its old address from ``<link>``. A problem is reported at its ``<item>``'s line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from site_builder.config import SiteConfig
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.importer.front import Front, Mapper
from site_builder.importer.markup import has_entities, paragraphs, to_markdown, wordpress_shortcodes
from site_builder.importer.oldurls import OldSite, Refs
from site_builder.importer.posts import Post, Scan, fields, make_post
from site_builder.importer.report import ImportNote
from site_builder.model import slugify

MAX_EXPORT_BYTES = 200_000_000
_KEPT_TYPES = ("post", "page")
_DRAFT_STATES = ("draft", "pending", "private")
_LEFT_STATES = ("trash", "auto-draft", "inherit")
_NO_DATE = "0000-00-00 00:00:00"
_WHAT = "this <item>"


def scan(src: Path, config: SiteConfig, old_url: str | None) -> Scan:
    """Every post and page of the WordPress export ``src``."""
    channel = _channel(src)
    authors = {
        _text(a, "author_login"): _text(a, "author_display_name") or _text(a, "author_login")
        for a in _children(channel, "author")
    }
    site_url = _text(channel, "base_blog_url") or _text(channel, "link")
    base = site_url.rstrip("/") + "/" if site_url.startswith(("http://", "https://")) else None
    posts: list[Post] = []
    problems: list[SiteError] = []
    for item in _children(channel, "item"):
        post, item_problems = _read(item, src.name, authors, config)
        posts += [post] if post is not None else []
        problems += item_problems
    if not posts and not problems:
        raise ConfigError("no posts or pages in this WordPress export", path=src.name)
    return Scan(posts=posts, problems=problems, old=OldSite(url=old_url or base), roots=())


def _channel(src: Path) -> etree._Element:
    """The export's ``<channel>``; ``ConfigError`` for a file that is not an export."""
    try:
        data = src.read_bytes() if src.stat().st_size <= MAX_EXPORT_BYTES else b""
    except OSError as exc:
        raise ConfigError(f"cannot read the export: {exc.strerror}", path=src) from None
    if not data:
        raise ConfigError(f"empty, or larger than {MAX_EXPORT_BYTES:,} bytes", path=src.name)
    if has_entities(data):
        raise ConfigError("the export declares XML entities; refused as unsafe", path=src.name)
    root = _parse(data, src.name)
    channel = next((c for c in root if _local(c) == "channel"), None)
    if _local(root) != "rss" or channel is None:
        raise ConfigError("not a WordPress export: no <rss><channel>", path=src.name)
    return channel


def _parse(data: bytes, name: str) -> etree._Element:
    strict = _parser(recover=False)
    try:
        return etree.fromstring(data, strict)
    except etree.XMLSyntaxError as exc:
        # A namespace URI with letters like "ë" is only a namespace warning to libxml2,
        # which it raises as an error; anything else broken refuses the file. The
        # parser's own log: the exception's holds every parse of the process so far.
        if all(e.domain_name == "NAMESPACE" for e in strict.error_log):
            return etree.fromstring(data, _parser(recover=True))
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise ConfigError(
            f"not a WordPress export: the XML is broken ({exc.msg}); nothing was imported",
            path=name,
            line=line,
        ) from None


def _parser(*, recover: bool) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=recover)


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(parent: etree._Element, name: str) -> Iterator[etree._Element]:
    """Children by local name: exports come with WXR 1.0, 1.1 and 1.2 namespaces."""
    return (child for child in parent if _local(child) == name)


def _text(parent: etree._Element, name: str, namespace: str = "") -> str:
    for child in _children(parent, name):
        if not namespace or namespace in (etree.QName(child).namespace or ""):
            return (child.text or "").strip()
    return ""


def _line(item: etree._Element) -> int:
    line = item.sourceline  # lxml-stubs leave it untyped; lxml gives an int
    return line if isinstance(line, int) else 1


def _read(
    item: etree._Element, name: str, authors: dict[str, str], config: SiteConfig
) -> tuple[Post | None, list[SiteError]]:
    kind, state = _text(item, "post_type") or "post", _text(item, "status")
    line = _line(item)
    if kind not in _KEPT_TYPES or state in _LEFT_STATES:
        return None, []
    front = _front(item, line, authors)
    m = Mapper(front, name)
    if front.meta["date"] is None:
        m.add(ContentError, "date", f"date: {_WHAT} has no post_date, post_modified or pubDate")
    known = fields(
        m,
        m.words("categories", split=False),
        m.words("tags", split=False),
        date=m.date("date"),
        updated=None,
        summary=m.text("summary"),
        draft=state in _DRAFT_STATES or state == "draft",
    )
    file_stem = m.text("slug") or slugify(str(known["title"] or "")) or f"post-{line}"
    post, problems = make_post(m, known, config, path=Path(file_stem + ".md"), name=file_stem)
    if post is None:
        return None, problems
    link = urlsplit(_text(item, "link"))
    old = (unquote(link.path),) if link.path not in ("", "/") and not link.query else ()
    return replace(post, old_urls=old, key=f"{name}:{line}", page=kind == "page"), problems


def _front(item: etree._Element, line: int, authors: dict[str, str]) -> Front:
    """The item's fields as front matter; its HTML body becomes Markdown later."""
    date = _text(item, "post_date_gmt")
    date = f"{date}Z" if date and date != _NO_DATE else _text(item, "post_date")
    if not date or date == _NO_DATE:
        date = _text(item, "post_modified_gmt") or _text(item, "post_modified")
    if (not date or date == _NO_DATE) and (published := _text(item, "pubDate")):
        date = _rfc822(published)
    author = _text(item, "creator")
    terms: dict[str, list[str]] = {"category": [], "post_tag": []}
    for category in _children(item, "category"):
        terms.setdefault(category.get("domain") or "category", []).append(category.text or "")
    excerpt = _text(item, "encoded", "excerpt")
    meta: dict[str, object] = {
        "title": _text(item, "title") or None,
        "date": date.replace(" ", "T", 1) if date and date != _NO_DATE else None,
        "slug": unquote(_text(item, "post_name")) or None,
        "author": authors.get(author, author) or None,
        "categories": [t for t in terms["category"] if t.strip()] or None,
        "tags": [t for t in terms["post_tag"] if t.strip()] or None,
        "summary": to_markdown(excerpt).strip() or None if excerpt else None,
    }
    body = _text(item, "encoded", "purl.org/rss/1.0/modules/content")
    body_line = next((_line(c) for c in _children(item, "encoded")), line)
    return Front(meta=meta, text="", first_line=line, body=body, body_line=body_line, start=line)


def _rfc822(text: str) -> str:
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError):
        return ""


def convert(post: Post, refs: Refs) -> tuple[str, list[SiteError]]:
    """The post's HTML as Markdown; WordPress shortcodes that stay are reported."""
    html, left = wordpress_shortcodes(post.front.body)
    problems: list[SiteError] = [
        SiteWarning(
            f"WordPress shortcode {code!r} left as text; edit by hand",
            path=post.source,
            line=post.front.body_line + post.front.body.count("\n", 0, at),
        )
        for at, code in left
    ]
    if post.page:
        problems.append(
            ImportNote("a page: written to content/pages/", path=post.source, line=post.front.start)
        )
    return to_markdown(paragraphs(html)), problems
