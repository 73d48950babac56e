"""Sitemap stage: the site's HTML pages → ``sitemap.xml`` and ``robots.txt``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from urllib.parse import quote

from site_builder.config import SiteConfig


def sitemap_xml(pages: Iterable[tuple[str, datetime | None]], config: SiteConfig) -> bytes:
    """``pages`` are (site-relative URL, last modified) pairs; the order is kept."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url, modified in pages:
        loc = escape(quote(config.absolute(url), safe=":/?&=#%~+@"), quote=False)
        lastmod = f"<lastmod>{modified.isoformat()}</lastmod>" if modified else ""
        lines.append(f"  <url><loc>{loc}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots_txt(config: SiteConfig) -> bytes:
    return f"User-agent: *\nAllow: /\n\nSitemap: {config.absolute('/sitemap.xml')}\n".encode()
