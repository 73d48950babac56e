"""Reading built HTML the way a crawler does: links, anchors and ids."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class PageParser(HTMLParser):
    """Collects every href/src and every id of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.rels: list[tuple[str, str, str]] = []  # (rel, type, href) of <link>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "link":
            self.rels.append(
                (values.get("rel", ""), values.get("type", ""), values.get("href", ""))
            )
        for name in ("href", "src"):
            if name in values:
                self.links.append(values[name])


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def target_file(output: Path, base_path: str, href: str, page: Path) -> Path | None:
    """The file an internal link points at, or None for external links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    if parts.path.startswith("/"):
        assert parts.path.startswith(base_path), f"{href} is outside the site's base path"
        path = output / unquote(parts.path[len(base_path) :])
    else:
        path = page.parent / unquote(parts.path)
    return path / "index.html" if parts.path.endswith("/") else path


def broken_links(output: Path, base_path: str = "/") -> Iterator[str]:
    """Every internal link or #anchor that leads nowhere, as 'page -> href'."""
    pages = sorted(output.rglob("*.html"))
    parsed = {page: parse_page(page) for page in pages}
    for page, parser in parsed.items():
        for href in parser.links:
            target = target_file(output, base_path, href, page)
            fragment = urlsplit(href).fragment
            if target is None:
                if href.startswith("#") and fragment and fragment not in parser.ids:
                    yield f"{page.relative_to(output)} -> {href} (no such id)"
                continue
            if not target.is_file():
                yield f"{page.relative_to(output)} -> {href}"
            elif fragment and target in parsed and unquote(fragment) not in parsed[target].ids:
                yield f"{page.relative_to(output)} -> {href} (no such id)"
