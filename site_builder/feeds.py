"""Feed stage: a ``FeedSpec`` → RSS 2.0 and Atom (feedgen) or JSON Feed 1.1 bytes.

Feeds must never carry the build time: feedgen stamps ``now()`` into
``lastBuildDate``/``updated`` unless told otherwise, so every date here is set
from the newest item.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from site_builder import __version__
from site_builder.config import SiteConfig
from site_builder.markdown import plain_text, strip_heading_anchors
from site_builder.model import Article, Body, Source, pickled_by_fields
from site_builder.site import absolutize

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator
    from lxml import etree

RSS, ATOM, JSON_FEED = "application/rss+xml", "application/atom+xml", "application/feed+json"
FEED_FILES = {RSS: "feed.xml", ATOM: "atom.xml", JSON_FEED: "feed.json"}
_FORMAT_NAMES = {RSS: "RSS", ATOM: "Atom", JSON_FEED: "JSON Feed"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ATOM_NS = "http://www.w3.org/2005/Atom"


@pickled_by_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class FeedLink:
    """An autodiscovery link: ``<link rel="alternate" type=... href=...>``."""

    title: str
    type: str
    url: str  # site-relative


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedOrigin:
    """The feed a story was taken from (front matter ``source_feed``, written by ingest):
    Atom's ``source`` element needs its id, title and updated (RFC 4287 4.2.11)."""

    id: str
    title: str
    url: str
    updated: datetime


def feed_origin(value: object) -> FeedOrigin | None:
    """``source_feed`` from an article's extra keys, when it is whole; else none."""
    if not isinstance(value, dict):
        return None
    texts = {k: value.get(k) for k in ("id", "title", "url")}
    if not all(isinstance(v, str) and v.strip() for v in texts.values()):
        return None
    updated = value.get("updated")
    if not isinstance(updated, datetime):  # YAML reads an unquoted date-time as one
        try:
            updated = datetime.fromisoformat(str(updated).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return FeedOrigin(
        id=str(texts["id"]).strip(),
        title=str(texts["title"]).strip(),
        url=str(texts["url"]).strip(),
        updated=updated if updated.tzinfo is not None else updated.replace(tzinfo=UTC),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedItem:
    id: str
    title: str
    url: str  # absolute
    published: datetime
    updated: datetime
    summary: str  # HTML, URLs absolute
    content: str = ""  # HTML, URLs absolute
    # An article's body, in place of ``content``: fetched only when the feed is written,
    # so that a planned feed (and its key) holds a digest, not the text.
    body: Body | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    origin: FeedOrigin | None = None
    image: str | None = None  # absolute

    def full_html(self) -> str:
        """The item's content, URLs absolute."""
        return self.content if self.body is None else _absolute_body(self.body, self.url)


# Each feed is written in three formats, one after the other, and a story is in the
# site's feed and in those of its tags, category and author: made once, used many times.
@functools.lru_cache(maxsize=256)
def _absolute_body(body: Body, url: str) -> str:
    return absolutize(strip_heading_anchors(body.text), url)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSpec:
    """One feed's channel data; ``folder`` is where its three formats live."""

    title: str
    description: str
    page_url: str  # site-relative URL of the HTML page the feed mirrors
    folder: str  # site-relative folder of feed.xml, atom.xml and feed.json
    items: tuple[FeedItem, ...]

    def url(self, kind: str) -> str:
        return self.folder + FEED_FILES[kind]

    def links(self) -> tuple[FeedLink, ...]:
        return tuple(
            FeedLink(title=f"{self.title} ({_FORMAT_NAMES[k]})", type=k, url=self.url(k))
            for k in FEED_FILES
        )

    @property
    def updated(self) -> datetime:
        return max((item.updated for item in self.items), default=_EPOCH)


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 forbids; one stray control byte must not break a feed."""
    return _XML_INVALID.sub("", text)


def article_item(article: Article, config: SiteConfig) -> FeedItem:
    url = config.absolute(article.url)
    image = config.content_url(article.image, article.url, absolute=True) if article.image else None
    return FeedItem(
        id=article.feed_id or url,
        title=article.title,
        url=url,
        published=article.published,
        updated=article.updated or article.published,
        summary=absolutize(article.summary, url),
        body=article.body,
        authors=article.authors or ((config.author,) if config.author else ()),
        tags=tuple(t.name for t in article.tags),
        sources=article.sources,
        origin=feed_origin(article.extra.get("source_feed")),
        image=image,
    )


def _channel(spec: FeedSpec, config: SiteConfig, kind: str) -> FeedGenerator:
    # Imported here: feedgen and lxml are a tenth of the imports of a build, and a
    # small rebuild rarely renders a feed.
    from feedgen.feed import FeedGenerator  # noqa: PLC0415

    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(config.absolute(spec.folder + FEED_FILES[kind]))
    fg.title(xml_safe(spec.title))
    fg.description(xml_safe(spec.description or spec.title))
    fg.subtitle(xml_safe(spec.description or spec.title))
    # feedgen gives RSS the last link added: the page, not the feed itself.
    fg.link(href=config.absolute(spec.url(kind)), rel="self", type=kind)
    fg.link(href=config.absolute(spec.page_url), rel="alternate")
    fg.language(config.language)
    fg.generator("site_builder", version=__version__)
    if config.author:
        fg.author({"name": xml_safe(config.author)})
    if config.copyright:
        fg.rights(xml_safe(config.copyright))
    fg.lastBuildDate(spec.updated)
    fg.updated(spec.updated)
    fg.pubDate(spec.updated)
    for item in spec.items:
        _add_entry(fg, item)
    return fg


def _add_entry(fg: FeedGenerator, item: FeedItem) -> None:
    fe = fg.add_entry(order="append")
    fe.id(item.id)
    fe.guid(item.id, permalink=item.id == item.url)
    fe.title(xml_safe(item.title))
    fe.link(href=item.url, rel="alternate")
    fe.published(item.published)
    fe.updated(item.updated)
    fe.summary(xml_safe(item.summary), type="html")
    fe.description(xml_safe(item.summary) or xml_safe(item.title))
    fe.content(xml_safe(item.full_html()), type="CDATA")
    for name in item.authors:
        fe.author({"name": xml_safe(name)})
        fe.dc.dc_creator(xml_safe(name))
    for tag in item.tags:
        fe.category(term=xml_safe(tag), label=xml_safe(tag))
    for source in item.sources:
        if source.url:
            fe.link(href=source.url, rel="via", title=xml_safe(source.name))
    # RSS's source names the channel the item came from; Atom's is written in atom_feed.
    first = next((s for s in item.sources if s.url), None)
    if item.origin is not None:
        fe.source(url=item.origin.url, title=xml_safe(item.origin.title))
    elif first is not None:
        fe.source(url=first.url, title=xml_safe(first.name))


def rss_feed(spec: FeedSpec, config: SiteConfig) -> bytes:
    data: bytes = _channel(spec, config, RSS).rss_str(pretty=True)
    return data


def atom_feed(spec: FeedSpec, config: SiteConfig) -> bytes:
    from lxml import etree  # noqa: PLC0415 - see _channel

    fg = _channel(spec, config, ATOM)
    for entry in fg.entry():
        # Atom content of type "CDATA" is not a thing; Atom wants escaped HTML.
        entry.content(entry.content()["content"], type="html")
    root = etree.fromstring(fg.atom_str(pretty=False))
    _restore_link_relations(root, spec.items)
    _set_sources(root, spec.items)
    etree.indent(root, space="  ")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data + b"\n"


def _restore_link_relations(root: etree._Element, items: Sequence[FeedItem]) -> None:
    """feedgen 1.0 drops rel/title from entry links; put back alternate and via."""
    entries = root.findall(f"{{{_ATOM_NS}}}entry")
    for entry, item in zip(entries, items, strict=True):
        links = entry.findall(f"{{{_ATOM_NS}}}link")
        links[0].set("rel", "alternate")
        links[0].set("type", "text/html")
        for link, source in zip(links[1:], [s for s in item.sources if s.url], strict=True):
            link.set("rel", "via")
            link.set("title", xml_safe(source.name))


def _set_sources(root: etree._Element, items: Sequence[FeedItem]) -> None:
    """An Atom source must identify its feed (id, title, updated): one is written only
    for stories taken from a feed; the page a story cites is its link rel="via"."""
    from lxml import etree  # noqa: PLC0415 - see _channel

    for entry, item in zip(root.findall(f"{{{_ATOM_NS}}}entry"), items, strict=True):
        for old in entry.findall(f"{{{_ATOM_NS}}}source"):
            entry.remove(old)
        if item.origin is None:
            continue
        source = etree.SubElement(entry, f"{{{_ATOM_NS}}}source")
        for name, text in (
            ("id", item.origin.id),
            ("title", item.origin.title),
            ("updated", item.origin.updated.isoformat()),
        ):
            etree.SubElement(source, f"{{{_ATOM_NS}}}{name}").text = xml_safe(text)
        etree.SubElement(source, f"{{{_ATOM_NS}}}link", rel="self", href=item.origin.url)


def json_feed(spec: FeedSpec, config: SiteConfig) -> bytes:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": config.absolute(spec.page_url),
        "feed_url": config.absolute(spec.url(JSON_FEED)),
        "description": spec.description,
        "language": config.language,
        "items": [_json_item(item) for item in spec.items],
    }
    if config.author:
        feed["authors"] = [{"name": config.author}]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_item(item: FeedItem) -> dict[str, object]:
    out: dict[str, object] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
        "content_html": item.full_html(),
        "summary": plain_text(item.summary),
        "date_published": item.published.isoformat(),
        "date_modified": item.updated.isoformat(),
    }
    if item.authors:
        out["authors"] = [{"name": name} for name in item.authors]
    if item.tags:
        out["tags"] = list(item.tags)
    external = next((s.url for s in item.sources if s.url), None)
    if external:
        out["external_url"] = external
    if item.image:
        out["image"] = item.image
    return out


def render_feed(kind: str, spec: FeedSpec, config: SiteConfig) -> bytes:
    renderers = {RSS: rss_feed, ATOM: atom_feed, JSON_FEED: json_feed}
    return renderers[kind](spec, config)


def site_feed(
    articles: Sequence[Article],
    config: SiteConfig,
    *,
    title: str,
    description: str,
    page_url: str,
    folder: str,
) -> FeedSpec:
    """The newest ``feed_size`` articles as a feed."""
    items = tuple(article_item(a, config) for a in articles[: config.feed_size])
    return FeedSpec(
        title=title, description=description, page_url=page_url, folder=folder, items=items
    )
