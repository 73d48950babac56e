"""Drafts: a feed item → the Markdown file the editor finds in ``content/inbox/``."""

from __future__ import annotations

import html
import re
from datetime import datetime

import nh3
import yaml

from site_builder.config import FeedSource
from site_builder.ingest.parse import CONTROL, Item, Origin, plain
from site_builder.model import file_slug, slugify

MAX_TITLE = 300
_MAX_SUMMARY = 20_000  # characters read of a summary: a longer one is a whole article
_MAX_TAGS = 1_000
_MAX_DEPTH = 100
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_ANY_TAG = re.compile(r"<[^>]*(?:>|$)")  # a tag cut off at the end too
_MAX_CATEGORIES = 8
# What a summary keeps: text structure and links. No images (tracking pixels), no
# embeds, no attributes but a link's address.
_KEPT_TAGS = {"a", "b", "strong", "i", "em", "code", "pre", "p", "br", "ul", "ol", "li"} | {
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}


def summary_markdown(markup: str) -> str:
    """An item's HTML, sanitised, as a Markdown quote for the editor to rewrite."""
    text = _markdown(markup[:_MAX_SUMMARY])
    lines = _entities([CONTROL.sub("", line).rstrip() for line in text.strip().split("\n")])
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return re.sub(r"(\n>){2,}\n", "\n>\n", quoted) if any(lines) else ""


def _markdown(markup: str) -> str:
    """Markdown for sanitised ``markup``; its text alone when the markup is too deep."""
    from markdownify import markdownify  # noqa: PLC0415 - see make_client

    # html5ever's time grows with the square of the nesting depth (100,000 nested
    # elements: a minute) and markdownify recurses once a level: a summary with more
    # tags than any real one is read as text.
    safe = _sanitised(markup) if markup.count("<") <= _MAX_TAGS else None
    if safe is None or _depth(safe) > _MAX_DEPTH:
        safe = html.escape(plain_text(markup))
    # escape_misc: text such as "&lt;script&gt;" stays text, never raw HTML in Markdown.
    try:
        return str(markdownify(safe, heading_style="ATX", bullets="-", escape_misc=True))
    except RecursionError:  # deeper than _MAX_DEPTH allows for; kept in case
        return str(markdownify(html.escape(plain_text(markup)), escape_misc=True))


def _sanitised(markup: str) -> str:
    return nh3.clean(
        markup,
        tags=_KEPT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )


def _depth(markup: str) -> int:
    """How deep the elements of well-formed (sanitised) HTML nest."""
    depth = deepest = 0
    for found in _TAG.finditer(markup):
        if found[2].lower() != "br":
            depth += -1 if found[1] else 1
            deepest = max(deepest, depth)
    return deepest


def plain_text(markup: str) -> str:
    """The text of any markup, without parsing it: tags dropped, entities read."""
    return " ".join(html.unescape(_ANY_TAG.sub(" ", markup)).split())


def _entities(lines: list[str]) -> list[str]:
    """Python-Markdown does not take ``\\<`` as an escape (it would show the backslash):
    outside code fences, an escaped ``<`` becomes ``&lt;``, which shows as ``<``."""
    fenced = False
    out = []
    for line in lines:
        fenced ^= line.startswith("```")
        out.append(line if fenced else line.replace("\\<", "&lt;"))
    return out


def _terms(source: FeedSource, item: Item) -> list[str]:
    """The source's tags, then the item's categories that can name a tag page."""
    names = list(source.tags)
    for raw in item.categories[:_MAX_CATEGORIES]:
        name = plain(raw)[:100]
        if slugify(name) and "," not in name:
            names.append(name)
    return list(dict.fromkeys(names))


def draft_text(source: FeedSource, origin: Origin, item: Item, now: datetime) -> str:
    """A draft's whole file: front matter for the build, the summary quoted below."""
    front: dict[str, object] = {
        "title": (item.title or _fallback_title(item))[:MAX_TITLE],
        "date": (item.date or now).replace(microsecond=0).isoformat(),
        "source": {"name": source.name, "url": item.url},
        # Not a front matter key of the build: it goes to article.extra, and the feeds
        # carry it as the entry's atom:source.
        "source_feed": {
            "id": origin.id,
            "title": origin.title,
            "url": origin.url,
            "updated": origin.updated.replace(microsecond=0).isoformat(),
        },
    }
    if tags := _terms(source, item):
        front["tags"] = tags
    if source.category:
        front["category"] = source.category
    front["draft"] = True
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1_000_000)
    quote = summary_markdown(item.html)
    body = f"{quote}\n\nWrite the story here.\n" if quote else "Write the story here.\n"
    return f"---\n{head}---\n\n{body}"


def _fallback_title(item: Item) -> str:
    words = plain(item.html).split()[:12]
    return " ".join(words) or item.url


def draft_stem(item: Item) -> str:
    return file_slug(item.title or _fallback_title(item)) or "story"
