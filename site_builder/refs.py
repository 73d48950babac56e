"""Reading HTML for the check: a page → its URLs and ids.

Input: an HTML document's bytes (or a fragment's text, such as a feed entry's
content). Output, for every page: a ``Page``, what the check needs of it: each
``href``, ``src`` and ``poster`` value once, the names a ``#fragment`` may point to
(ids and legacy ``<a name>``) and the ids used twice. For the few pages with a
problem to report: ``Refs``, every URL and id with the line and column of its tag,
counted as the standard library's ``HTMLParser`` counts them.

A scanner, not a parser: ``build --check`` reads every page as it is rendered, so
this is on the build's path. One regular expression cuts a page's bytes into the
start tags that have attributes, skipping comments and the text of ``script`` and
``style`` as HTML does. A tag is decoded and read into URLs and ids once per process,
however many pages repeat it (the navigation, tag links, article cards), and a page's
lines are only counted when a problem needs them.

The expression ends a tag at its first ``>``; a ``>`` inside a quoted attribute value
does not end it in HTML. Every tag read is checked for that, and a page where it
happens is read again with the slower expression that skips quoted values, which is
the one ``parse_page`` uses: both read the same tags. On the site's pages and the
cases in ``tests/test_build_check.py`` they read what ``HTMLParser`` reads, place for
place.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from itertools import repeat
from typing import NamedTuple

# The attributes read: href, src and poster are URLs; name only on <a>.
_WANTED = frozenset(("href", "src", "poster", "id", "name"))
_IMAGE_TAGS = frozenset(("img", "source", "video"))

# One attribute: its name, then perhaps "=" and a quoted or a bare value.
# Groups: the name, "=" with the value if there is one, the value.
_ATTRIBUTE = re.compile(
    r"""[\s/]*(?<=['"\s/])([^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?"""
)
# A start tag's attribute text up to the ">" that ends it, outside quoted values (a
# loop unrolled: three times as fast as an alternation tried at each character).
_QUOTED = rb"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*"""
# A tag written as most are: a lower-case name (not script or style), then attributes
# with lower-case names and double-quoted values holding no quote, "&", "<" or ">".
# Both scans cut it the same, and _read_plain reads it as _read would, with less ado.
_PLAIN_TAG = re.compile(
    rb"(?!(?:script|style)\b)([a-z][a-z0-9]*)"
    rb'((?:[\t\n\r\f ]+[a-z][-a-z0-9_:.]*="[^"&<>]*")+)[\t\n\r\f ]*/?>'
)
_PLAIN_ATTRIBUTE = re.compile(rb'([a-z][-a-z0-9_:.]*)="([^"]*)"')
_PLAIN_URL_ATTRIBUTES = frozenset((b"href", b"src", b"poster"))
_PLAIN_IMAGE_TAGS = frozenset((b"img", b"source", b"video"))
# How a script's or a style's token starts: for the fast scan, what starts so is one.
_ELEMENT = re.compile(rb"(?i:script|style)\b")
# A tag's text as a token has it: its name, then its attributes and the ">". The name
# is what the scan took for one: "script" or "style" (a quote may follow), or up to a
# space ("*+": it may hold a quote, which is no quote then).
_START_TAG = re.compile(rb"((?i:script|style)\b|[^\t\n\r\f />\x00]*+)(" + _QUOTED + rb")>")


def _text_of(element: bytes) -> bytes:
    """A script's or style's text and its end tag, if it has one before the page ends."""
    end = rb"/" + element + rb"\s*>"  # after a "<", case aside
    return rb"[^<]*+(?:<(?!(?i:" + end + rb"))[^<]*+)*+(?:<(?i:" + end + rb"))?"


# A page's meta tags, a dozen or so, most of them its own (its title, description,
# address): none holds a URL or an id the check reads, so they are not collected. Only
# a plain one, without "<" or ">" in a value: the scan goes on after it as it would.
_NOTHING_TO_READ = (
    rb'(?!meta(?:[ ]+(?:name|property|content|charset|http-equiv)="[^"<>]*")+[ ]*/?>)'
)


def _tokens(attributes: bytes) -> re.Pattern[bytes]:
    """What the scan stops at, from each "<": a comment (group 1 empty); a script or
    style element, its start tag and its text up to its end tag, which is not markup;
    or a start tag with attributes. Tags without any have nothing to read, and no
    "<" inside them to make a difference, so they are not even collected.

    Bytes, not text: a page is not decoded, only the tags not read before are, and
    ``\\s`` is the whitespace of ASCII, which is all HTML counts as such. A comment's or
    an element's text runs to its end or to the end of the page, in loops unrolled
    ("[^<]*+", ...): a lazy ".*?" tries the end at each character, ten times slower
    over a page's JSON-LD."""
    return re.compile(
        rb"<(?=[a-zA-Z!])(?:!--[^-]*+(?:-(?!-\s*>)[^-]*+)*+(?:--\s*>)?"
        rb"|((?i:script)\b"
        + attributes
        + rb">"
        + _text_of(b"script")
        + rb"|(?i:style)\b"
        + attributes
        + rb">"
        + _text_of(b"style")
        + rb"|"
        + _NOTHING_TO_READ
        + rb"[a-zA-Z][^\t\n\r\f />\x00]*[\t\n\r\f /\x00]"
        + attributes
        + rb">))",
        re.DOTALL,
    )


# The fast one ends a tag at its first ">"; the other skips quoted values.
_FAST = _tokens(rb"[^>]*")
_EXACT = _tokens(_QUOTED)


# NamedTuples, not dataclasses: workers send every page's back, and tuples pickle fast.
class Page(NamedTuple):
    """What the check needs of an HTML page; far smaller than the page."""

    links: tuple[str, ...]  # each URL once, in the order first written
    images: frozenset[str]  # the URLs first written as an image's (img, source, video)
    anchors: frozenset[str]  # what a #fragment may name: ids and legacy <a name>
    twice: tuple[str, ...]  # ids used more than once


class Ref(NamedTuple):
    """A URL or id as written in a document, and where: line and column from 1."""

    value: str
    line: int
    column: int
    what: str = "link"  # how a message names it: "link" or "image"


class Refs(NamedTuple):
    """Every URL and id of a page where it is written, in order."""

    links: tuple[Ref, ...]
    ids: tuple[Ref, ...]
    anchors: frozenset[str]


# What one start tag gives: (URL, is an image's) pairs, ids, <a name> values, and the
# token, which counts the ids when the tag is on a page more than once. A plain tuple:
# a page has a dozen tags of its own, made anew for each page.
_Tag = tuple[tuple[tuple[str, bool], ...], tuple[str, ...], tuple[str, ...], bytes]


class _Skewed(Exception):
    """A tag's first ">" is inside a quoted value: the fast scan cut it short."""


# Tags read so far, by their bytes, in this process (each worker has its own): most
# of a page's tags are on thousands of others. A tag's entry is what reading it gives,
# whenever it is read, so it never changes a result. Emptied when full.
_READ: dict[bytes, _Tag | None] = {}
_READ_LIMIT = 250_000
_UNREAD: _Tag = ((), (), (), b"")  # a marker: not in _READ (no tag reads as this)


def read_page(data: bytes) -> Page:
    """A page's URLs, anchors and twice-used ids, without their places."""
    try:
        return _summary(Counter(_FAST.findall(data)), exact=False)
    except _Skewed:
        return _summary(Counter(_EXACT.findall(data)), exact=True)


def summarize(text: str) -> Page:
    """``read_page`` of a document already decoded, such as a feed entry's content."""
    return read_page(text.encode("utf-8", "surrogatepass"))


def _summary(tokens: Counter[bytes], *, exact: bool) -> Page:
    # Counted, not listed: a tag repeated on the page is looked at once. Counter keeps
    # the order tokens are first seen in, so a URL's first tag comes first.
    tokens.pop(b"", None)  # comments
    if len(_READ) + len(tokens) > _READ_LIMIT:
        _READ.clear()  # emptied when full, before a page: all its tags are read again
    # Most tags were read before (or have nothing to read: None): map, not a loop.
    reads = list(map(_READ.get, tokens, repeat(_UNREAD)))
    if _UNREAD in reads:
        order = list(tokens)
        for at in [at for at, read in enumerate(reads) if read is _UNREAD]:
            reads[at] = _learn(order[at], exact=exact)
    links: dict[str, bool] = {}
    ids: Counter[str] = Counter()
    names: list[str] = []
    for read in filter(None, reads):
        for value, image in read[0]:
            links.setdefault(value, image)
        if read[1]:
            times = tokens[read[3]]
            for ident in read[1]:
                ids[ident] += times
        if read[2]:
            names += read[2]
    return Page(
        links=tuple(links),
        images=frozenset(value for value, image in links.items() if image),
        anchors=frozenset(ids).union(names),
        twice=tuple(ident for ident, times in ids.items() if times > 1),
    )


def parse_html(text: str) -> Refs:
    """``parse_page`` of a document already decoded."""
    return parse_page(text.encode("utf-8", "surrogatepass"))


def parse_page(data: bytes) -> Refs:
    """Every URL and id of a document with its place: for reports, not for every page."""
    links: list[Ref] = []
    ids: list[Ref] = []
    names: set[str] = set()
    line, line_start, counted = 1, 0, 0
    for token in _EXACT.finditer(data):
        text = token.group(1)  # None for a comment
        read = (_READ[text] if text in _READ else _learn(text, exact=True)) if text else None
        if read is None:
            continue
        at = token.start()
        newlines = data.count(b"\n", counted, at)
        if newlines:
            line, line_start = line + newlines, data.rfind(b"\n", counted, at) + 1
        counted = at
        # Columns count characters, as HTMLParser reads text, not bytes.
        column = len(data[line_start:at].decode("utf-8", "replace")) + 1
        links += (Ref(url, line, column, "image" if image else "link") for url, image in read[0])
        ids += (Ref(ident, line, column) for ident in read[1])
        names.update(read[2])
    frozen = tuple(ids)
    return Refs(links=tuple(links), ids=frozen, anchors=frozenset(r.value for r in frozen) | names)


def _learn(token: bytes, *, exact: bool) -> _Tag | None:
    """A token's start tag read into URLs and ids, and kept; ``_Skewed`` if the fast
    scan (not ``exact``) cut it where the other scan would not."""
    if (plain := _PLAIN_TAG.fullmatch(token)) is not None:
        _READ[token] = read = _read_plain(plain.group(1), plain.group(2), token)
        return read
    start = _START_TAG.match(token)
    element = _ELEMENT.match(token) is not None  # a script's or a style's, to the fast scan
    as_element = start is not None and start.group(1).lower() in (b"script", b"style")
    # The fast scan ends a start tag at its first ">": one quoted leaves a quote open
    # there, and a script's start tag that goes on is not where its text begins.
    if not exact and (
        start is None or element != as_element or start.end() != token.find(b">") + 1
    ):
        raise _Skewed
    if start is None:
        return None  # not reached: the other scan's tags all have their ">"
    name = start.group(1).decode("utf-8", "replace").lower()
    read = _read(name, start.group(2).decode("utf-8", "replace"), token)
    # A script's or style's token holds its text too (a page's JSON-LD is its own): kept
    # only when it has something to read, which a page's script src has. A tag the
    # other scan found where the fast one would find a script or style is not kept.
    if element == as_element and (read is not None or start.end() == len(token)):
        _READ[token] = read
    return read


def _read_plain(name: bytes, text: bytes, token: bytes) -> _Tag | None:
    """``_read`` of a tag written as most are (``_PLAIN_TAG``): only the values read
    are decoded, and none needs a character reference resolved."""
    links: list[tuple[str, bool]] = []
    ids: list[str] = []
    names: list[str] = []
    image = name in _PLAIN_IMAGE_TAGS
    for attribute, value in _PLAIN_ATTRIBUTE.findall(text):
        if attribute in _PLAIN_URL_ATTRIBUTES:
            links.append((value.decode("utf-8", "replace").strip(), image))
        elif attribute == b"id":
            ids.append(value.decode("utf-8", "replace"))
        elif attribute == b"name" and name == b"a":
            names.append(value.decode("utf-8", "replace"))
    if not (links or ids or names):
        return None
    return tuple(links), tuple(ids), tuple(names), token


def _read(name: str, text: str, token: bytes) -> _Tag | None:
    """The URLs, ids and names in a start tag's attribute text."""
    links: list[tuple[str, bool]] = []
    ids: list[str] = []
    names: list[str] = []
    for written, given, raw in _ATTRIBUTE.findall(text):
        attribute = written.lower()
        if not given or attribute not in _WANTED:
            continue
        value = raw[1:-1] if raw[:1] in ("'", '"') else raw
        if "&" in value:
            value = html.unescape(value)
        if attribute == "id":
            ids.append(value)
        elif attribute != "name":
            # Browsers strip surrounding spaces from URLs; so does the check.
            links.append((value.strip(), name in _IMAGE_TAGS))
        elif name == "a":
            names.append(value)
    if not (links or ids or names):
        return None
    return tuple(links), tuple(ids), tuple(names), token
