"""OPML stage: the site's feeds, grouped → ``feeds.opml``, a subscription list readers import.

OPML 2.0 (https://opml.org/spec2.opml): one ``<outline type="rss">`` per feed, inside
one outline per group. No dates: the file changes only when the list of feeds does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from site_builder.config import SiteConfig

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _safe(text: str) -> str:
    # XML 1.0 cannot carry these; one stray control character in a title must not fail.
    return _XML_INVALID.sub("", text)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutlineFeed:
    """One subscription: the feed's title, its absolute URL and its page's."""

    title: str
    xml_url: str
    html_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OutlineGroup:
    """A folder of subscriptions, such as "Tags"."""

    title: str
    feeds: tuple[OutlineFeed, ...]


def opml_document(
    groups: Sequence[OutlineGroup], config: SiteConfig, title: str | None = None
) -> bytes:
    """The OPML file; groups and feeds in the order given. ``title`` is the list's
    title in the site's language (default: "<site title>: all feeds")."""
    from lxml import etree  # noqa: PLC0415 - lxml is a tenth of a small rebuild's imports

    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _safe(title or f"{config.title}: all feeds")
    if config.author:
        etree.SubElement(head, "ownerName").text = _safe(config.author)
    etree.SubElement(head, "docs").text = "https://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for group in groups:
        title = _safe(group.title)
        folder = etree.SubElement(body, "outline", text=title, title=title)
        for feed in group.feeds:
            etree.SubElement(
                folder,
                "outline",
                type="rss",
                text=_safe(feed.title),
                title=_safe(feed.title),
                xmlUrl=feed.xml_url,
                htmlUrl=feed.html_url,
            )
    etree.indent(root, space="  ")
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data + b"\n"
