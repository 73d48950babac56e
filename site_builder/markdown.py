"""Markdown stage: Markdown text → ``Rendered`` HTML, table of contents, summary, words.

One configured ``markdown.Markdown`` per process, ``reset()`` between documents,
because building the extension set costs more than rendering a short article.
Rendering is the cost of a cold build, so the extensions, block processors and inline
patterns whose syntax needs a mark are not tried on text without it; the HTML is the
same as stock Markdown's (tests compare the two).

With ``allow_html=False`` (``[markdown] allow_html = false`` in site.toml, for sites
that take contributions) the HTML is sanitised with nh3 (the Rust ammonia library):
what Markdown itself makes is kept, raw HTML is reduced to a safe subset.
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, TypeVar
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.blockparser import BlockParser
from markdown.blockprocessors import BlockProcessor
from markdown.treeprocessors import InlineProcessor
from markdown.util import AtomicString, Registry
from pygments.formatters import HtmlFormatter
from pygments.token import STANDARD_TYPES

T = TypeVar("T")
MarkSearch = Callable[[str], object]
MORE = "<!--more-->"
HIGHLIGHT_CLASS = "highlight"
# Part of every cache key: a change of extensions or their options must re-render.
OPTIONS_VERSION = "md-3"
_ALWAYS = ("toc", "fenced_code", "codehilite", "sane_lists")
# Extensions whose syntax cannot occur without these marks. Leaving an extension out
# of a document that has no such mark gives the same HTML, and rendering is the cost
# of a build: each extension adds passes over every document.
_EXTENSION_NEEDS: dict[str, tuple[str, ...]] = {
    "tables": ("|",),
    "footnotes": ("[^",),
    "attr_list": ("{",),
    "abbr": ("*[",),
    "def_list": (": ", ":\t"),
}
# Inline patterns and the marks their syntax cannot do without. Inline processing tries
# every pattern on every run of text: most of the time of rendering. A pattern is not
# tried on text without its mark, which gives the same HTML.
_INLINE_NEEDS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "reference": ("[",),
    "link": ("[",),
    "short_reference": ("[",),
    "image_link": ("![",),
    "image_reference": ("![",),
    "short_image_ref": ("![",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  \n",),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
}
# Block processors and the marks their syntax cannot do without, in the block tried.
# (The others test the block's start only, which is quick, or always match.)
_BLOCK_NEEDS: dict[str, tuple[str, ...]] = {
    "hashheader": ("#",),
    "setextheader": ("\n=", "\n-"),
    "hr": ("-", "_", "*"),
    "quote": (">",),
    "reference": ("]:",),
}
# Passes over every element of a document that only act on text holding a mark: the
# search for the table of contents' marker (a paragraph of only "[TOC]", Markdown's
# default), and putting back the characters that backslashes escaped.
_PASS_NEEDS: dict[str, tuple[str, ...]] = {"toc_marker": ("[TOC]",), "unescape": ("\\",)}
# Markdown's own priority for its inline processor, which this module's replaces, and
# the mangled names of the private methods it uses and replaces.
_INLINE_PRIORITY = 20
_APPLY = "_InlineProcessor__applyPattern"
_HANDLE = "_InlineProcessor__handleInline"
_CONFIG: dict[str, dict[str, Any]] = {
    "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-4"},
    "codehilite": {"css_class": HIGHLIGHT_CLASS, "guess_lang": False},
    "footnotes": {"BACKLINK_TITLE": "Back to the text"},
}
# Invisible, and forbidden in XML (feeds) and HTML text: dropped before rendering.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# nh3's defaults, plus the attributes Markdown's extensions write: heading and
# footnote ids, table alignment, titles. No event handlers, no style but alignment.
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"title", "lang"},
    **{tag: {"id"} for tag in (*_HEADINGS, "sup", "li")},
    "th": {"style", *nh3.ALLOWED_ATTRIBUTES["th"]},
    "td": {"style", *nh3.ALLOWED_ATTRIBUTES["td"]},
}
# Classes only where Markdown puts them: code highlighting, heading links, footnotes.
_CLASSES: dict[str, set[str]] = {
    "span": {name for name in STANDARD_TYPES.values() if name} | {"hll"},
    "div": {HIGHLIGHT_CLASS, "footnote", "toc", "codehilite"},
    "a": {"headerlink", "footnote-ref", "footnote-backref"},
}
_TAGS = re.compile(r"<[^>]+>")
_WORD = re.compile(r"\w+")
# Every ASCII character that \w does not match, as a space (bytes.translate's table).
_ASCII_WORD_GAPS = bytes(c if chr(c).isalnum() or c == ord("_") else 32 for c in range(256))
_FIRST_PARAGRAPH = re.compile(r"<p>.*?</p>", re.DOTALL)
# A line of words that Markdown makes a paragraph of and leaves as it is: it starts
# with a letter (no list, heading, quote or code), and holds no character that could
# start a mark, be escaped, give the paragraph attributes or be dropped (controls).
_PLAIN_LINE = re.compile(r"[^\W\d_](?:[^\s\x00-\x1f\x7f*_`\\\[\]<>&{}|]| (?! ))*(?<! )")


@dataclass(frozen=True, slots=True)
class Rendered:
    """An article body as HTML, with what lists and feeds need from it."""

    html: str
    toc: str
    summary: str
    words: int


@cache
def _converter(
    optional: frozenset[str], *, marked: bool = True, unused: frozenset[str] = frozenset()
) -> markdown.Markdown:
    """``marked``: with this module's block parser, inline processor and highlighter;
    without, Markdown as it comes. ``unused``: the passes of ``_PASS_NEEDS`` left out."""
    # Extensions made here, not named: Markdown looks a name up among the entry points
    # of every installed package, a tenth of the time of a build after a small edit.
    tuned: dict[str, dict[str, Any]] = {
        "codehilite": {"pygments_formatter": _Highlighter} if marked else {},
        "toc": {"marker": ""} if "toc_marker" in unused else {},
    }
    extensions = [
        importlib.import_module(f"markdown.extensions.{name}").makeExtension(
            **_CONFIG.get(name, {}), **tuned.get(name, {})
        )
        for name in (*_ALWAYS, *sorted(optional))
    ]
    md = markdown.Markdown(extensions=extensions, output_format="html")
    if marked and _MarkedInline.fits():
        md.treeprocessors.register(_MarkedInline(md), "inline", _INLINE_PRIORITY)
    if marked:
        _mark_blocks(md)
    if "unescape" in unused:
        md.treeprocessors.deregister("unescape")
    return md


class _Highlighter(HtmlFormatter):  # type: ignore[type-arg] # untyped library
    """Pygments' HTML formatter, its style's table of classes made once per style.

    Markdown makes a formatter per code block, and making the table was a quarter of
    the time of highlighting a short block. The tables are only read once made.
    """

    _tables: ClassVar[dict[tuple[object, str], tuple[dict[Any, str], dict[str, Any]]]] = {}
    ttype2class: dict[Any, str]
    class2style: dict[str, Any]

    def _create_stylesheet(self) -> None:
        key = (self.style, self.classprefix)
        if key not in self._tables:
            super()._create_stylesheet()  # type: ignore[misc] # untyped library
            self._tables[key] = (self.ttype2class, self.class2style)
        self.ttype2class, self.class2style = self._tables[key]


class _MarkedBlockParser(BlockParser):
    """Markdown's block parser, trying on each block only the processors it may match:
    most processors search the whole block for their syntax, and most blocks are prose."""

    tried: list[tuple[BlockProcessor, MarkSearch | None]]

    def parseBlocks(self, parent: Element, blocks: list[str]) -> None:  # noqa: N802 - Markdown's
        while blocks:
            for processor, has_mark in self.tried:
                if has_mark is not None and not has_mark(blocks[0]):
                    continue
                if processor.test(parent, blocks[0]) and processor.run(parent, blocks) is not False:
                    break


def _mark_blocks(md: markdown.Markdown) -> None:
    """Make ``md``'s block parser, with every processor registered, a marked one."""
    parser = md.parser
    parser.__class__ = _MarkedBlockParser
    assert isinstance(parser, _MarkedBlockParser)
    parser.tried = list(zip(*_with_marks(parser.blockprocessors, _BLOCK_NEEDS), strict=True))


def _with_marks(
    registry: Registry[T], needs: dict[str, tuple[str, ...]]
) -> tuple[list[T], list[MarkSearch | None]]:
    """The registry's items in the order Markdown applies them, and a search for the
    marks of each (a regular expression's: a call in C, where a test per mark is not)."""
    marks_of = {id(registry[name]): marks for name, marks in needs.items() if name in registry}
    items = list(registry)  # read once: the registry sorts itself on every lookup
    searches: list[MarkSearch | None] = [
        re.compile("|".join(map(re.escape, marks_of[id(item)]))).search
        if id(item) in marks_of
        else None
        for item in items
    ]
    return items, searches


class _MarkedInline(InlineProcessor):
    """Markdown's inline processor, trying on each run of text only the patterns it may match.

    Only the text changes the work: the patterns, their order and what they make are
    Markdown's own. A pattern is tried when the text, as it stands at that moment (matches
    become placeholders as patterns apply), holds its mark: without it, it cannot match.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self._patterns, self._has_mark = _with_marks(md.inlinePatterns, _INLINE_NEEDS)
        self._apply: Any = getattr(self, _APPLY)

    @staticmethod
    def fits() -> bool:
        """Whether this Markdown has the private methods this class relies on; another
        version may name them otherwise, and then keeps its own inline processor."""
        return hasattr(InlineProcessor, _HANDLE) and hasattr(InlineProcessor, _APPLY)

    # Markdown calls its private ``__handleInline`` by its mangled name (_HANDLE): this
    # replaces it.
    def _InlineProcessor__handleInline(self, data: str, index: int = 0) -> str:  # noqa: N802
        if isinstance(data, AtomicString):
            return data
        start = 0
        while index < len(self._patterns):
            has_mark = self._has_mark[index]
            if has_mark is None or has_mark(data):
                data, matched, start = self._apply(self._patterns[index], data, index, start)
                if matched:
                    continue
            start = 0
            index += 1
        return data


def _convert(text: str, *, trim: bool = True) -> tuple[str, list[dict[str, Any]], str]:
    """``trim``: leave out the syntax ``text`` has no mark for; without, Markdown with
    every extension, as it comes (what tests compare with)."""
    used = (n for n, marks in _EXTENSION_NEEDS.items() if not trim or _holds(text, marks))
    unused = (n for n, marks in _PASS_NEEDS.items() if trim and not _holds(text, marks))
    md = _converter(frozenset(used), marked=trim, unused=frozenset(unused))
    md.reset()
    body = md.convert(text)
    return body, getattr(md, "toc_tokens", []), getattr(md, "toc", "")


def _holds(text: str, marks: tuple[str, ...]) -> bool:
    return any(mark in text for mark in marks)


def sanitize(fragment: str) -> str:
    """Untrusted HTML made safe: no script, style, iframe, event handler or javascript: URL.

    Links keep their own ``rel``: nh3 would add ``noopener``, which only matters with
    ``target``, an attribute not allowed here.
    """
    return nh3.clean(
        fragment,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        filter_style_properties={"text-align"},
        link_rel=None,
    )


def render_markdown(text: str, *, summary: str | None = None, allow_html: bool = True) -> Rendered:
    """Render an article body; ``summary`` is front matter Markdown that overrides the default.

    The default summary is the text before ``<!--more-->``, else the first paragraph.
    ``allow_html=False`` sanitises body, summary and table of contents.
    """
    text = _CONTROL.sub("", text)
    summary = _CONTROL.sub("", summary) if summary is not None else None
    rendered = _render(text, summary)
    if allow_html:
        return rendered
    body = sanitize(rendered.html)
    return Rendered(
        html=body,
        toc=sanitize(rendered.toc) if rendered.toc else "",
        summary=sanitize(rendered.summary),
        words=count_words(body),
    )


def _render(text: str, summary: str | None) -> Rendered:
    body, tokens, toc = _convert(text)
    if summary is not None:
        summary_html = _one_paragraph(summary)
    elif MORE in text:
        summary_html = _convert(text.split(MORE, 1)[0])[0]
    else:
        first = _FIRST_PARAGRAPH.search(body)
        summary_html = first.group(0) if first else ""
    headings = _count_headings(tokens)
    return Rendered(
        html=body,
        toc=toc if headings >= 2 else "",
        summary=_standalone(summary_html),
        words=count_words(body),
    )


def _one_paragraph(text: str) -> str:
    """Markdown's HTML of ``text``; without converting it when it is a plain line, as
    most summaries in front matter are (a whole conversion: 4 % of an article's time)."""
    if _PLAIN_LINE.fullmatch(text):
        return f"<p>{text}</p>"
    return _convert(text)[0]


def _count_headings(tokens: list[dict[str, Any]]) -> int:
    return sum(1 + _count_headings(t.get("children", [])) for t in tokens)


_FOOTNOTE_REF = re.compile(r'<sup id="fnref[^"]*">.*?</sup>', re.DOTALL)
_ID_ATTR = re.compile(r'\sid="[^"]*"')


def _standalone(summary: str) -> str:
    """A summary is shown on list pages beside others: no ids, anchors or footnote marks."""
    return _ID_ATTR.sub("", _FOOTNOTE_REF.sub("", strip_heading_anchors(summary)))


def strip_heading_anchors(fragment: str) -> str:
    """Drop the pilcrow links of headings: out of the page (summaries, feeds) they are noise."""
    return re.sub(r'<a class="headerlink"[^>]*>.*?</a>', "", fragment)


def count_words(fragment: str) -> int:
    """Runs of word characters (``\\w+``) in the fragment's text, and Chinese, Japanese
    and Korean text by its characters, as the words they take as long to read.

    Those languages are written without spaces (Korean between phrases only): a long
    Japanese article was one "word" a sentence, and "1 min read".
    """
    text = html.unescape(_TAGS.sub(" ", fragment))
    if text.isascii():  # most articles: a tenth of the time of matching every word
        return len(text.encode("ascii").translate(_ASCII_WORD_GAPS).split())
    characters = len(_CJK.findall(text))
    if not characters:
        return len(_WORD.findall(text))
    rest = len(_WORD.findall(_CJK.sub(" ", text)))
    return rest + round(characters * _WORDS_PER_MINUTE / _CJK_PER_MINUTE)


# Han, kana and Hangul. Readers read about 300 of them a minute (the IReST study found
# 255 for Chinese and 357 for Japanese) against 230 words of English.
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)
_CJK_PER_MINUTE = 300
_WORDS_PER_MINUTE = 230


def plain_text(fragment: str) -> str:
    """An HTML fragment as one line of text, for descriptions and meta tags."""
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def pygments_css(style: str, scope: str) -> str:
    """The highlighting rules for ``style``, scoped under the CSS selector ``scope``."""
    formatter: Any = HtmlFormatter(style=style)
    return str(formatter.get_style_defs(f"{scope} .{HIGHLIGHT_CLASS}".strip()))
