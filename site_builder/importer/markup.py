"""Import stage, markup: HTML from a WordPress export, a feed or docutils → Markdown;
and the one guard every untrusted XML file passes first.

Input is an HTML fragment as another system stored it; output is Markdown for this
site, made by markdownify (a well-kept HTML-to-Markdown converter), and the problems a
human should look at. WordPress stores paragraphs as blank lines, not ``<p>``: they are
made into paragraphs first, as WordPress does when it shows a post.
"""

from __future__ import annotations

import re
from html import escape as html_escape
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString
from markdownify import MarkdownConverter

_BLOCK_START = re.compile(
    r"\s*<(?:p|div|h[1-6]|ul|ol|li|pre|blockquote|table|figure|hr|dl|!--|iframe|form|section)\b",
    re.IGNORECASE,
)
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_PRE = re.compile(r"<pre\b.*?</pre>", re.DOTALL | re.IGNORECASE)
_LANGUAGE = re.compile(r"(?:language|lang)-([\w+#-]+)")
_SHORTCODE = re.compile(
    r"\[(?P<close>/)?(?P<name>caption|gallery|audio|video|playlist|embed)\b[^\]]*\]"
)


_TEXT_BLOCKS = ("p", "dt", "dd", "li", "td", "th", "blockquote", "figcaption")
_BLOCK_MARK = re.compile(r"\s*(?P<mark>#|>|[-+*]\s|(?P<digits>\d+)[.)]\s)")
_ANCHOR_MARK = re.compile(r"\0([^\0]*)\0")  # put in by _keep_anchors
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def has_entities(data: bytes) -> bool:
    """XML that declares entities: "billion laughs" and external files start here, and
    no export or feed needs them."""
    return _ENTITY.search(data) is not None


class _Converter(MarkdownConverter):
    """markdownify with fenced code that keeps a ``language-x`` class as its language."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            heading_style="ATX",
            bullets="-",
            code_language_callback=_code_language,
            escape_misc=False,
            **options,
        )


def _code_language(element: Any) -> str:  # a BeautifulSoup Tag
    for node in (element, *element.find_all("code", limit=1)):
        classes: object = node.get("class") or []
        names = [str(n) for n in (classes if isinstance(classes, list) else [classes])]
        for name in names:
            found = _LANGUAGE.fullmatch(name)
            if found:
                return found[1]
        if names[:1] == ["code"] and len(names) > 1 and names[1] != "literal-block":
            return names[1]  # docutils: class="code python literal-block"
    return ""


def to_markdown(html: str) -> str:
    """An HTML fragment as Markdown."""
    soup = BeautifulSoup(html, "html.parser")
    _keep_anchors(soup)
    _keep_block_starts(soup)
    text: str = _Converter().convert_soup(soup)
    text = _ANCHOR_MARK.sub(lambda m: f'<a id="{html_escape(m[1])}"></a>', text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _keep_block_starts(soup: BeautifulSoup) -> None:
    """Text that starts a block with ``#``, ``>``, ``- `` or ``1. `` would become a heading,
    a quote or a list in Markdown: a backslash keeps it text."""
    for block in soup.find_all(_TEXT_BLOCKS):
        first = block.find(string=True)
        if first is not None and first.find_parent(("pre", "code")) is None:
            text = str(first)
            found = _BLOCK_MARK.match(text)
            if found is not None:  # "\#", "\-", and "1\." (a digit takes no backslash)
                at = found.start("mark") if found["digits"] is None else found.end("digits")
                first.replace_with(NavigableString(text[:at] + "\\" + text[at:]))


def _keep_anchors(soup: BeautifulSoup) -> None:
    """Markdown has no ids: an element a ``#fragment`` in the text names (a footnote, a
    heading) gets an empty ``<a id>`` of raw HTML, or the link would lead nowhere."""
    wanted = {
        str(a["href"]).split("#", 1)[1]
        for a in soup.find_all("a", href=True)
        if "#" in str(a["href"])
    }
    for element in soup.find_all(id=True):
        if element["id"] in wanted:
            paragraph = element.find("p") if element.name in ("li", "div", "blockquote") else None
            into = paragraph if paragraph is not None else element  # a list item stays one
            into.insert(0, NavigableString(f"\0{element['id']}\0"))
            del element["id"]


def paragraphs(html: str) -> str:
    """WordPress text with blank lines between paragraphs → ``<p>`` elements; code kept."""
    kept: list[str] = []

    def hold(found: re.Match[str]) -> str:
        kept.append(found[0])
        return f"\0{len(kept) - 1}\0"

    text = _PRE.sub(hold, html.replace("\r\n", "\n"))
    blocks = [b.strip() for b in _PARAGRAPH_BREAK.split(text) if b.strip()]
    wrapped = [
        b if _BLOCK_START.match(b) or b.startswith("\0") else f"<p>{b.replace(chr(10), '<br>')}</p>"
        for b in blocks
    ]
    joined = "\n".join(wrapped)
    return re.sub(r"\0(\d+)\0", lambda m: kept[int(m[1])], joined)


def wordpress_shortcodes(html: str) -> tuple[str, list[tuple[int, str]]]:
    """``[caption]`` and ``[embed]`` unwrapped to what they hold; the others (gallery,
    audio...) kept and returned with their offsets, for a human."""
    left: list[tuple[int, str]] = []

    def one(found: re.Match[str]) -> str:
        if found["name"] in ("caption", "embed"):
            return ""
        if not found["close"]:
            left.append((found.start(), found[0]))
        return found[0]

    return _SHORTCODE.sub(one, html), left
