"""Import stage, old URLs: the old site's permalink rules → each post's old address, and
the map from every way a post can be named (old URL, file, ``post_url`` name) to its new
one.

Input is a permalink pattern in Jekyll's, Hugo's or Pelican's notation and a post's
date and names; output is root-relative paths. ``Refs`` answers "which imported
article is this?" for the link rewriter and the sources' own link tags.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

from site_builder.model import slugify

_JEKYLL_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_COLON_KEY = re.compile(r":([a-z_]+)")
_BRACE_KEY = re.compile(r"\{(\w+)(?::([^}]*))?\}")
_PAGE_SUFFIXES = (".html", ".htm", ".php")


@dataclass(frozen=True, slots=True, kw_only=True)
class OldSite:
    """What the old site's configuration says about its addresses and variables."""

    url: str | None = None  # absolute, ends with "/": where the old site still is
    params: Mapping[str, object] = field(default_factory=dict)  # site variables

    @property
    def host(self) -> str:
        return _host(self.url or "")

    @property
    def base_path(self) -> str:
        return urlsplit(self.url or "/").path.rstrip("/") + "/"

    def absolute(self, path: str) -> str | None:
        """``path`` (root-relative, under the old site's base) on the old site."""
        if self.url is None:
            return None
        inner = path[len(self.base_path) :] if path.startswith(self.base_path) else path
        return self.url + inner.lstrip("/")


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def date_values(when: datetime) -> dict[str, str]:
    """The date placeholders both notations share, by their Jekyll names."""
    return {
        "year": f"{when.year:04d}",
        "short_year": f"{when.year % 100:02d}",
        "month": f"{when.month:02d}",
        "i_month": str(when.month),
        "short_month": when.strftime("%b"),
        "long_month": when.strftime("%B"),
        "monthname": when.strftime("%B").lower(),
        "day": f"{when.day:02d}",
        "i_day": str(when.day),
        "y_day": f"{when.timetuple().tm_yday:03d}",
        "yearday": str(when.timetuple().tm_yday),
        "weekday": str(when.isoweekday() % 7),
        "hour": f"{when.hour:02d}",
        "minute": f"{when.minute:02d}",
        "second": f"{when.second:02d}",
    }


def colon_pattern(pattern: str, values: Mapping[str, str]) -> str:
    """A Jekyll or Hugo permalink (``/:year/:title/``) with its placeholders filled in."""
    pattern = _JEKYLL_STYLES.get(pattern, pattern)
    # The longest name first: ":title" must not eat ":titles", nor ":year" ":year_x".
    path = _COLON_KEY.sub(lambda m: _longest(m[1], values), pattern)
    return clean_path(path)


def _longest(name: str, values: Mapping[str, str]) -> str:
    for end in range(len(name), 0, -1):
        if name[:end] in values:
            return values[name[:end]] + name[end:]
    return ":" + name


def brace_pattern(pattern: str, values: Mapping[str, str], when: datetime) -> str:
    """A Pelican ``ARTICLE_URL`` (``{date:%Y}/{slug}.html``) with its fields filled in;
    only names and date formats, never attributes, so a pattern cannot reach anything."""

    def fill(found: re.Match[str]) -> str:
        name, spec = found[1], found[2]
        if name == "date":
            return when.strftime(spec) if spec else when.isoformat()
        return values.get(name, found[0])

    return clean_path(_BRACE_KEY.sub(fill, pattern))


def clean_path(path: str) -> str:
    """One slash between segments, one at the start; a trailing one kept."""
    trailing = path.endswith("/")
    joined = "/".join(part for part in path.split("/") if part)
    return "/" + joined + ("/" if trailing and joined else "")


def jekyll_title(stem_or_slug: str) -> str:
    """Jekyll's ``:title``: the name with case kept, anything but letters, digits and
    ``._~!$&'()+,;=@`` turned into hyphens."""
    text = re.sub(r"[^\w.~!$&'()+,;=@-]+", "-", stem_or_slug, flags=re.ASCII)
    return text.strip("-")


def page_path(path: str) -> str:
    """The key an old address is found by: no base, case, ``index.html`` or ``.html``."""
    path = unquote(path).lower()
    path = posixpath.normpath(path) if path not in ("", "/") else "/"
    for index in ("/index.html", "/index.htm", "/index.php"):
        path = path.removesuffix(index)
    for suffix in _PAGE_SUFFIXES:
        path = path.removesuffix(suffix)
    return "/" + path.strip("/")


def alias_of(old: str) -> str:
    """An old address as this site's alias: a page folder, as ``/2023/8/8/x/`` serves."""
    last = old.rstrip("/").rsplit("/", 1)[-1]
    if old.endswith("/") or "." in last:
        return old
    return old + "/"


@dataclass(frozen=True, slots=True, kw_only=True)
class Refs:
    """Every imported post (and those imported before) by the names the old site used."""

    old: OldSite
    by_path: dict[str, str] = field(default_factory=dict)  # page_path(old URL) → new URL
    by_file: dict[str, str] = field(default_factory=dict)  # source without suffix → new URL
    by_name: dict[str, str] = field(default_factory=dict)  # file stem → new URL
    local: dict[str, str] = field(default_factory=dict)  # this site's pages, files: page_path → URL

    def add(self, url: str, *, old_urls: tuple[str, ...], source: str, name: str) -> None:
        for old in (url, *old_urls):  # a link tag's result is a new URL already
            self.by_path.setdefault(page_path(old), url)
        stem = posixpath.splitext(source)[0].lower()
        self.by_file.setdefault(stem, url)
        self.by_file.setdefault(stem.removesuffix("/index"), url)
        self.by_name.setdefault(name.lower(), url)
        self.by_name.setdefault(slugify(name), url)

    def at(self, path: str) -> str | None:
        """The new URL of the post the old site served at ``path``, if it was imported."""
        base = self.old.base_path
        inner = "/" + path[len(base) :] if base != "/" and path.startswith(base) else path
        return self.by_path.get(page_path(inner))

    def named(self, ref: str) -> str | None:
        """The new URL of the post a link tag names: a path in SRC, or a file's name."""
        ref = unquote(ref.strip().strip("\"'")).split("#", 1)[0].lower()
        ref = posixpath.normpath("/" + ref).lstrip("/") if ref.strip("./") else ""
        stem = posixpath.splitext(ref)[0].removesuffix("/index").strip("/")
        if not stem or stem == "index":  # the old site's home page, never a post
            return None
        if stem in self.by_file:
            return self.by_file[stem]
        # "/posts/2014/lmvtfy" names content/posts/2014/lmvtfy.md; SRC may be posts/.
        for known, url in self.by_file.items():
            if stem.endswith("/" + known) or known.endswith("/" + stem):
                return url
        return self.by_name.get(stem.rsplit("/", 1)[-1])
