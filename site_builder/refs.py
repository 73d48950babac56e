"""Reading HTML for the check: a page's bytes → its URLs and ids, with their places.

Input: an HTML document (or a fragment, such as a feed entry's content). Output: a
``Page``: every ``href``, ``src`` and ``poster`` value, every ``id`` (each with the
line and column of its tag, counted as the standard library's ``HTMLParser`` counts
them) and the names a ``#fragment`` may point to.

A scanner, not a parser: ``build --check`` reads every page as it is rendered, so
this is on the build's path, and ``HTMLParser`` took a third as long as rendering.
It finds the attributes it wants with one search in C and reads only the start tags
around them (a third of a page's tags), skipping comments and the text of ``script``
and ``style`` as HTML does. On the site's pages and the cases in
``tests/test_build_check.py`` it reads what ``HTMLParser`` reads, place for place; a
``<`` written unescaped inside an attribute value before a URL moves that URL's
column (the URL itself is still read).
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

_URL_ATTRIBUTES = frozenset(("href", "src", "poster"))
_IMAGE_TAGS = frozenset(("img", "source", "video"))

# One attribute: its name, then perhaps "=" and a quoted or a bare value.
# Groups: the name, "=" with the value if there is one, the value.
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?<=['"\s/])([^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?"""
)
# A start tag: its name and its attribute text.
_TAG = re.compile(r"""<([a-zA-Z][^\t\n\r\f />\x00]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
# Where an attribute the check reads may be: the tags around these are read in full.
# Searched in lower-cased text: a case-blind search takes eight times as long.
# The character before the name is part of the match: a look-behind is twice as slow.
_WANTED = re.compile(r"[\s'\"/](?:href|src|poster|id|name)\s*=")
_WANTED_ANY_CASE = re.compile(_WANTED.pattern, re.IGNORECASE)
# Text that is not markup: comments, and what script and style elements hold.
_NOT_MARKUP = re.compile(
    r"<!--.*?(?:--\s*>|\Z)|<(script|style)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>(.*?)(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)


# Not a dataclass: workers send every page's refs back, and tuples pickle ten times faster.
class Ref(NamedTuple):
    """A URL or id as written in a document, and where: line and column from 1."""

    value: str
    line: int
    column: int
    what: str = "link"  # how a message names it: "link" or "image"


@dataclass(frozen=True, slots=True)
class Page:
    """What the check needs of an HTML page; far smaller than the page."""

    links: tuple[Ref, ...]
    ids: tuple[Ref, ...]
    anchors: frozenset[str]  # what a #fragment may name: ids and legacy <a name>


def read_page(data: bytes) -> Page:
    return parse_html(data.decode("utf-8", "replace"))


def parse_html(text: str) -> Page:
    links: list[Ref] = []
    ids: list[Ref] = []
    names: set[str] = set()
    lines = _Lines(text)
    for tag in _tags_to_read(text):
        name = tag.group(1).lower()
        line, column = lines.place(tag.start())
        for attribute, value in _attributes(tag.group(2)):
            if attribute in _URL_ATTRIBUTES:
                # Browsers strip surrounding spaces from URLs; so does the check.
                what = "image" if name in _IMAGE_TAGS else "link"
                links.append(Ref(value.strip(), line, column, what))
            elif attribute == "id":
                ids.append(Ref(value, line, column))
            elif attribute == "name" and name == "a":
                names.add(value)
    frozen = tuple(ids)
    return Page(links=tuple(links), ids=frozen, anchors=frozenset(r.value for r in frozen) | names)


def _tags_to_read(text: str) -> Iterable[re.Match[str]]:
    """Where the start tags that may hold a URL or an id begin, in order: found from
    those attributes back, so that the many tags without one cost nothing."""
    skipped = _skipped(text)
    tags: dict[int, re.Match[str]] = {}
    lowered = text.lower()
    # Lowered letter by letter (as long as the text), offsets in it are offsets in text.
    found = (
        _WANTED.finditer(lowered) if len(lowered) == len(text) else _WANTED_ANY_CASE.finditer(text)
    )
    for wanted in found:
        at = wanted.start() + 1
        if skipped and _inside(skipped, at):
            continue
        tag = _tag_around(text, at)
        if tag is not None:
            tags.setdefault(tag.start(), tag)
    return tags.values()


def _tag_around(text: str, at: int) -> re.Match[str] | None:
    """The start tag ``at`` is in, or None when it is in text between tags."""
    start = text.rfind("<", 0, at)
    while start >= 0:
        tag = _TAG.match(text, start)
        if tag is not None:
            return tag if tag.end() > at else None
        start = text.rfind("<", 0, start)  # a "<" in text or in a value: further back
    return None


def _skipped(text: str) -> list[tuple[int, int]]:
    """The spans of comments and of script and style contents, in order."""
    if "<!--" not in text and "<script" not in text and "<style" not in text:
        return []
    return [m.span(2) if m.group(1) else m.span() for m in _NOT_MARKUP.finditer(text)]


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    index = bisect.bisect_right(spans, (offset, len(spans) and 1 << 62)) - 1
    return index >= 0 and spans[index][0] <= offset < spans[index][1]


def _attributes(text: str) -> list[tuple[str, str]]:
    """The attributes with a value in a start tag's attribute text, names in lower case."""
    found: list[tuple[str, str]] = []
    for name, given, raw in _ATTRIBUTE.findall(text):
        if given:
            value = raw[1:-1] if raw[:1] in ("'", '"') else raw
            found.append((name.lower(), html.unescape(value) if "&" in value else value))
    return found


class _Lines:
    """Line and column of an offset: lines counted at newlines, columns from 1."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def place(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1
