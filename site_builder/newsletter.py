"""Email edition: a rendered issue page → HTML a mail client shows, and its plain-text twin.

Input is the HTML of ``templates/email.html`` (a ``<style>`` block, table layout) or an
HTML fragment for the text edition; output is the same document with every CSS rule
moved into ``style`` attributes (mail clients drop ``<style>`` and never load
stylesheets), or plain text wrapped for a mail body. Pure: no files, no network.
"""

from __future__ import annotations

import functools
import html
import re

import css_inline

from site_builder.cache import installed_version
from site_builder.errors import TemplateError
from site_builder.model import ATTR_VALUE

# Part of every email's key: another inliner may write other bytes from the same page.
INLINER_VERSION = installed_version("css-inline")
TEXT_WIDTH = 72  # the conventional width of a plain-text mail body

# A link with its URL in either quotes or none, as editors paste raw HTML, and its
# label, which stops at the next link: a link left open would otherwise scan on to the
# end of the text from every link after it.
_LINK = re.compile(
    r"<a\s[^>]*?(?<=\s)href\s*=\s*" + ATTR_VALUE + r"[^>]*>([^<]*(?:<(?!/?a[\s>/])[^<]*)*)</a>",
    re.IGNORECASE,
)
_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_BLOCK_END = re.compile(
    r"</(?:p|div|h[1-6]|blockquote|pre|ul|ol|table|tr|figure|section|article)>|<br\s*/?>|<hr\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_ITEM_MARK = "\0"


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # @media rules cannot be inlined: keep them in a <style> for the clients that read it.
    # Never fetch anything: an email is made from the template alone.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def inline_css(page: bytes, *, template: str = "email.html") -> bytes:
    """Move the page's ``<style>`` rules into ``style`` attributes, as mail clients need."""
    try:
        return _inliner().inline(page.decode("utf-8")).encode("utf-8")
    except (css_inline.InlineError, ValueError) as exc:
        raise TemplateError(
            f"cannot inline the email's CSS: {exc}",
            path=f"templates/{template}",
            hint="keep the CSS in one <style> block; an email cannot load stylesheets",
        ) from None


def _link_text(match: re.Match[str]) -> str:
    url = next((value for value in match.groups()[:3] if value is not None), "")
    label = " ".join(_TAG.sub("", match[4]).split())
    if not url or url.startswith("#") or html.unescape(label) == html.unescape(url):
        return label or url
    return f"{label} ({url})"


def html_to_text(fragment: str, width: int = TEXT_WIDTH) -> str:
    """An HTML fragment as mail text: paragraphs, ``- `` list items, links as ``label (url)``."""
    text = _LINK.sub(_link_text, fragment)
    text = _ITEM.sub(_ITEM_MARK + "- ", text)
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub("\n\n", text)))
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(piece.split()) for piece in block.split(_ITEM_MARK)]
        wrapped = [_wrap(line, width) for line in lines if line]
        if wrapped:
            paragraphs.append("\n".join(wrapped))
    return "\n\n".join(paragraphs)


def _wrap(line: str, width: int) -> str:
    """``line`` (words between single spaces) in lines of at most ``width`` characters,
    as ``textwrap.fill`` makes them, in a fifth of its time. URLs must stay whole to
    stay clickable: a word is never broken, at a hyphen or for being too long."""
    indent = "  " if line.startswith("- ") else ""
    lines: list[str] = []
    words: list[str] = []
    used, room = 0, width
    for word in line.split(" "):
        if words and used + 1 + len(word) > room:
            lines.append(" ".join(words))
            words, used, room = [], 0, width - len(indent)
        used += len(word) + (1 if words else 0)
        words.append(word)
    lines.append(" ".join(words))
    return ("\n" + indent).join(lines)
