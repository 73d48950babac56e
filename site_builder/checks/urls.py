"""Where a URL on the site leads: the output file that serves it, and its #fragment.

Input: a URL as written on a page (or in a feed) and the ``SiteConfig``. Output: the
output path it leads to, or why it cannot lead anywhere on the site; and the forms a
page's URL may take in the Markdown it was written in, to find its line there.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

from site_builder.config import SiteConfig

# Most URLs to other sites, as most are written: for these (ASCII, a host without a
# bracket, no tab or line break for urlsplit to drop) what urlsplit would tell is
# plain, and it is a fifth of the time of a check: a site links to thousands.
_WEB_URL = re.compile(r"https?://[^/?#\[\]\t\n\r][^\[\]\t\n\r]*\Z")
# And most of the site's own, which urlsplit would not split at all: a path from the
# site's root, or what follows its base URL (no scheme in it, no host).
_SITE_PATH = re.compile(r"/(?!/)[^?#%\t\n\r]*\Z")
_SITE_REST = re.compile(r"(?!/)[^?#%:\[\]\t\n\r]*\Z")


def split_url(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" in the host
        return None


def is_absolute(url: str) -> bool:
    """True for URLs a feed reader can follow without knowing where the feed came from."""
    if url.isascii() and _WEB_URL.match(url.strip()):
        return True
    parts = split_url(url.strip())
    if parts is None or not parts.scheme:
        return False
    return parts.scheme.lower() not in ("http", "https") or bool(parts.netloc)


def served_by(site_path: str) -> str:
    """The output file that serves a site path: folders are served by their index.html."""
    return site_path + "index.html" if site_path == "" or site_path.endswith("/") else site_path


@dataclass(frozen=True, slots=True)
class Target:
    """Where an internal link points: an output file and the #fragment, or why it cannot."""

    path: str
    fragment: str = ""
    outside: str | None = None


def target_of(href: str, page: str, config: SiteConfig) -> Target | None:
    """The file an internal link leads to; None for a link to another site."""
    if (plain := _plain(href, config)) is not _ASK:
        return plain
    parts = split_url(href)
    if parts is None:
        return Target("", outside="is not a valid URL")
    fragment = unquote(parts.fragment)
    if parts.scheme or parts.netloc:
        # Absolute links to the site itself (canonical, og:url) are internal too.
        base = config.base_url
        inner = split_url(href[len(base) :]) if href.startswith(base) else None
        return Target(served_by(unquote(inner.path)), fragment) if inner else None
    path = unquote(parts.path)
    if not path:
        return Target(page, fragment)  # "#x" or "?q": this very page
    if path.startswith("/"):
        return _root_relative(path, fragment, config.base_path)
    return _relative(path, fragment, page)


_ASK = Target("", outside="ask urlsplit")  # a marker


def _plain(href: str, config: SiteConfig) -> Target | None:
    """What ``target_of`` finds for most of a site's URLs, without asking urlsplit:
    another site's, and a path from the site's root with no query, fragment or escape."""
    if _SITE_PATH.match(href):
        return _root_relative(href, "", config.base_path)
    if not href.isascii() or not _WEB_URL.match(href):
        return _ASK
    base = config.base_url
    if not href.startswith(base):
        return None
    return Target(served_by(href[len(base) :])) if _SITE_REST.match(href, len(base)) else _ASK


def _relative(path: str, fragment: str, page: str) -> Target:
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if joined == ".." or joined.startswith("../"):
        return Target("", outside="points above the site's top folder")
    folder = "/" if path.endswith(("/", "/.", "/..")) or path in (".", "..") else ""
    return Target(served_by("" if joined == "." else joined + folder), fragment)


def _root_relative(path: str, fragment: str, base_path: str) -> Target:
    # "/news" is the site's front page too when the site lives under /news/.
    if not (path + "/").startswith(base_path):
        return Target("", outside=f"is outside the site, which lives under {base_path}")
    return Target(served_by(path[len(base_path) :]), fragment)


def resolve(path: str, files: Container[str]) -> str | None:
    """The file that serves ``path``; a folder named without its slash has an index.html."""
    if path in files:
        return path
    index = path + "/index.html"
    return index if index in files else None


def needles(href: str, base_path: str) -> list[str]:
    """How a page's URL may be written in its Markdown: as is, or before it was rebased."""
    found = [href, unquote(href)]
    if base_path != "/" and href.startswith(base_path):
        found.append("/" + href[len(base_path) :])
    return found
