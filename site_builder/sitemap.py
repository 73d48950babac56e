"""Sitemap stage: the site's HTML pages → ``sitemap.xml`` and ``robots.txt``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from site_builder.config import SiteConfig
from site_builder.model import Alternate

_URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
_XHTML = ' xmlns:xhtml="http://www.w3.org/1999/xhtml"'


def sitemap_xml(
    pages: Iterable[tuple[str, datetime | None]],
    config: SiteConfig,
    alternates: Callable[[str], Sequence[Alternate]] | None = None,
) -> bytes:
    """``pages`` are (site-relative URL, last modified) pairs; the order is kept.

    ``alternates``: for a multilingual site, each page in every language that has it,
    listed as Google reads them (``xhtml:link``, the page itself included)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        _URLSET + (_XHTML if alternates else "") + ">",
    ]
    for url, modified in pages:
        lastmod = f"<lastmod>{modified.isoformat()}</lastmod>" if modified else ""
        links = _links(alternates(url)) if alternates else ""
        lines.append(f"  <url><loc>{_loc(config.absolute(url))}</loc>{lastmod}{links}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _loc(url: str) -> str:
    return escape(quote(url, safe=":/?&=#%~+@"), quote=False)


def _links(alternates: Sequence[Alternate]) -> str:
    found = [(a.code, a.url) for a in alternates if a.translated]
    if len(found) < 2:  # only the page itself
        return ""
    if alternates[0].translated:  # the default language's, as the pages say too
        found.append(("x-default", alternates[0].url))
    return "".join(
        f'<xhtml:link rel="alternate" hreflang="{code}" href="{_loc(url)}"/>' for code, url in found
    )


def robots_txt(config: SiteConfig) -> bytes:
    """Every language's sitemap: each lists its own pages with their translations."""
    maps = [config.absolute("/sitemap.xml")]
    maps += [config.base_url + lang.path + "sitemap.xml" for lang in config.languages]
    listed = "".join(f"Sitemap: {url}\n" for url in maps)
    return f"User-agent: *\nAllow: /\n\n{listed}".encode()
