"""Import source, Jekyll: ``_posts/`` and ``_drafts/`` (and ``_config.yml``) → posts.

Input is a Jekyll site or a folder of its posts; output is a ``Scan`` of posts with
their old addresses from ``permalink`` (the site's, or a post's own, and any
``redirect_from``), and each body's Liquid converted: ``post_url`` and ``link`` lead
to the imported articles, ``site.*``, ``page.*`` and ``assign`` values are filled in,
``highlight`` becomes a fenced block and ``raw`` its content. Other Liquid is kept and
reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.importer.front import Mapper
from site_builder.importer.oldurls import OldSite, Refs, colon_pattern, date_values, jekyll_title
from site_builder.importer.posts import (
    Body,
    Post,
    Scan,
    fields,
    find_files,
    make_post,
    read_config,
    read_front,
    shown,
)

_LIQUID = re.compile(
    r"\{%-?\s*(?P<tag>\w+)(?P<args>[^%]*?)\s*-?%\}|\{\{-?(?P<out>[^{}]*?)-?\}\}", re.DOTALL
)
_LIQUID_END = {
    "highlight": re.compile(r"\{%-?\s*endhighlight\s*-?%\}"),
    "raw": re.compile(r"\{%-?\s*endraw\s*-?%\}"),
}
_URL_FILTER = re.compile(r"""\s*(["'])(?P<path>[^"']*)\1\s*\|\s*(?:relative_url|absolute_url)\s*""")
_VARIABLE = re.compile(r"\s*(?P<name>[A-Za-z_][\w.-]*)\s*")
_ASSIGN = re.compile(r"""\s*(?P<name>\w+)\s*=\s*(?:(["'])(?P<text>.*?)\2|(?P<word>[\w.]+))\s*""")


def scan(src: Path, config: SiteConfig, old_url: str | None) -> Scan:
    """Every post of the Jekyll site at ``src`` read, with its old addresses."""
    settings, problems = read_config(src, ("_config.yml", "_config.yaml", "_config.toml"))
    found, skipped = find_files(src, _folders(src), kind="Jekyll", where="_posts/*.md")
    problems += skipped
    pattern = _permalink(settings)
    old = OldSite(url=old_url or _site_url(settings), params=settings)
    rule = _Rule(pattern, _zone(settings.get("timezone")))
    posts: list[Post] = []
    for path, draft in found:
        post, post_problems = _read(src, path, draft=draft, config=config, rule=rule)
        problems += post_problems
        posts += [post] if post is not None else []
    roots = (src.parent,) if src.name == "_posts" else (src,)
    return Scan(posts=posts, problems=problems, old=old, roots=roots)


def _permalink(settings: Mapping[str, Any]) -> str:
    """The posts' permalink: front matter defaults for posts win over the site's own."""
    rule = settings.get("permalink")
    defaults = settings.get("defaults")
    for default in defaults if isinstance(defaults, list) else []:
        scope = default.get("scope") if isinstance(default, dict) else None
        values = default.get("values") if isinstance(default, dict) else None
        if isinstance(scope, dict) and isinstance(values, dict) and scope.get("type") == "posts":
            rule = values.get("permalink", rule)
    return rule if isinstance(rule, str) and rule else "date"


def _folders(src: Path) -> list[tuple[Path, bool]]:
    roots = [(src / "_posts", False), (src / "_drafts", True)]
    return [(folder, draft) for folder, draft in roots if folder.is_dir()] or [(src, False)]


def _site_url(settings: Mapping[str, Any]) -> str | None:
    url, base = settings.get("url"), settings.get("baseurl")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    path = base.strip("/") + "/" if isinstance(base, str) and base.strip("/") else ""
    return url.rstrip("/") + "/" + path


def _zone(name: object) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if isinstance(name, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _read(
    src: Path, path: Path, *, draft: bool, config: SiteConfig, rule: _Rule
) -> tuple[Post | None, list[SiteError]]:
    front, problems = read_front(src, path)
    if front is None:
        return None, problems
    m = Mapper(front, path.relative_to(src).as_posix())
    own = _own_urls(m)
    m.take("layout")  # names a template of the old site
    published = m.take("published")
    terms = m.words("category", split=True) + m.words("categories", split=True)
    known = fields(
        m,
        terms,
        m.words("tags", split=True),
        date=m.date("date"),
        updated=m.date("last_modified_at", "updated"),
        summary=m.text("excerpt", "summary", "description"),
        draft=(published is not None and published[1] is False) | m.flag("draft") | draft,
    )
    post, problems = make_post(m, known, config, path=path)
    if post is None:
        return None, problems
    by_rule = () if own.permalink else (_old_url(post, rule, terms),)
    folder = m.source.rsplit("/", 1)[0] if "/" in m.source else ""
    return replace(post, old_urls=(*by_rule, *own.urls), folder=folder), problems


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: str  # the site's permalink
    zone: ZoneInfo | None  # the site's time zone, which its URLs' dates are in


@dataclass(frozen=True, slots=True)
class _Own:
    urls: tuple[str, ...]  # the post's own permalink and redirect_from
    permalink: bool


def _own_urls(m: Mapper) -> _Own:
    taken = m.take("permalink")
    own = [taken[1]] if taken is not None and isinstance(taken[1], str) else []
    permalink = bool(own)
    redirects = _value(m.take("redirect_from"))
    own += [redirects] if isinstance(redirects, str) else []
    own += [r for r in redirects if isinstance(r, str)] if isinstance(redirects, list) else []
    return _Own(tuple(u if u.startswith("/") else "/" + u for u in own), permalink)


def _value(taken: tuple[str, object] | None) -> object:
    return None if taken is None else taken[1]


def _old_url(post: Post, rule: _Rule, terms: list[str]) -> str:
    """The address the old site gave the post by its permalink rule."""
    when = datetime.fromisoformat(post.date)  # a date alone, or a naive time, as written
    if when.tzinfo is not None:
        when = when.astimezone(rule.zone or UTC)
    title = jekyll_title(str(post.front.meta.get("slug") or _stem_title(post.name)))
    values = date_values(when) | {
        "title": title,
        "slug": title.lower(),
        "name": title,
        "categories": "/".join(t.lower().replace(" ", "-") for t in terms),
        "output_ext": ".html",
    }
    return colon_pattern(rule.pattern, values)


def _stem_title(stem: str) -> str:
    found = re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}-(.+)", stem)
    return found[1] if found else stem


# ---------------------------------------------------------------- Liquid


def convert(post: Post, refs: Refs) -> tuple[str, list[SiteError]]:
    """The post's Liquid in this site's Markdown, and what was left for a human."""
    doc = Body.of(post)
    scope: dict[str, object] = {}
    return _convert_liquid(doc, 0, len(doc.text), _Context(post, refs, scope)), doc.problems


class _Context:
    """What Liquid in one post can name: the page, the site and its own assignments."""

    def __init__(self, post: Post, refs: Refs, scope: dict[str, object]) -> None:
        self.post, self.refs, self.scope = post, refs, scope

    def value(self, name: str) -> object:
        head, _, rest = name.partition(".")
        if head == "page":
            found: object = self.post.front.meta
        elif head == "site":
            found = {**self.refs.old.params, "baseurl": "", "url": ""}
        else:
            found, rest = self.scope, name
        for part in rest.split(".") if rest else []:
            found = found.get(part) if isinstance(found, Mapping) else None
        return found


def _convert_liquid(doc: Body, start: int, end: int, context: _Context) -> str:
    """Jekyll's Liquid in ``doc.text[start:end]`` → Markdown; the rest is kept and reported."""
    out, pos = [], start
    while (found := _LIQUID.search(doc.text, pos, end)) is not None:
        out.append(doc.text[pos : found.start()])
        replacement, pos = _liquid_tag(doc, found, end, context)
        out.append(replacement)
    out.append(doc.text[pos:end])
    return "".join(out)


def _liquid_tag(doc: Body, found: re.Match[str], end: int, context: _Context) -> tuple[str, int]:
    tag, args, out = found["tag"], found["args"], found["out"]
    closing = _LIQUID_END[tag].search(doc.text, found.end(), end) if tag in _LIQUID_END else None
    if closing is not None and tag == "raw":
        return doc.text[found.end() : closing.start()], closing.end()
    if closing is not None:  # highlight: Liquid inside still ran in Jekyll, so convert it
        code = _convert_liquid(doc, found.end(), closing.start(), context)
        lang = (args.split() or [""])[0]
        return doc.fence(found.start(), closing.end(), lang, code), closing.end()
    if tag in ("post_url", "link"):
        return _link(doc, found, context), found.end()
    if tag == "assign" and (assigned := _ASSIGN.fullmatch(args)) is not None:
        value = (
            assigned["text"] if assigned["text"] is not None else context.value(assigned["word"])
        )
        context.scope[assigned["name"]] = value
        return "", found.end()
    if out is not None and (text := _output(out, context)) is not None:
        return text, found.end()
    doc.warn(found.start(), f"Liquid tag {shown(found[0])!r} left as text; edit by hand")
    return found[0], found.end()


def _link(doc: Body, found: re.Match[str], context: _Context) -> str:
    """``post_url`` and ``link`` name a file of the old site: its imported article, or
    (for a page that was not imported) its old path, which the link rewriter sends on."""
    name = found["args"].strip()
    url = context.refs.named(name)
    if url is not None:
        return url
    if found["tag"] == "link":
        path = "/" + name.strip("/")
        return path.rsplit(".", 1)[0] + ".html" if path.endswith((".md", ".markdown")) else path
    old = _named_url(name.rsplit("/", 1)[-1], _permalink(context.refs.old.params))
    if old is None:
        doc.warn(found.start(), f"post_url: no imported post is named {name!r}; tag left as text")
        return found[0]
    doc.warn(found.start(), f"post_url: {name!r} is not an imported post; {old} of the old site")
    return old


def _named_url(name: str, pattern: str) -> str | None:
    """Where the old site put the post ``YYYY-MM-DD-title``, by its permalink rule."""
    found = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.+)", name)
    if found is None:
        return None
    try:
        day = datetime(int(found[1]), int(found[2]), int(found[3]))  # noqa: DTZ001 - a day
    except ValueError:
        return None
    title = jekyll_title(found[4])
    values = date_values(day) | {"title": title, "slug": title.lower(), "name": title}
    return colon_pattern(pattern, values | {"categories": "", "output_ext": ".html"})


def _output(out: str, context: _Context) -> str | None:
    """``{{ site.baseurl }}`` → nothing, ``{{ '/x' | relative_url }}`` → ``/x``,
    ``{{ page.title }}`` → its value; ``None`` when it cannot be known here."""
    path = _URL_FILTER.fullmatch(out)
    if path is not None:
        return path["path"]
    variable = _VARIABLE.fullmatch(out)
    if variable is None:
        return None
    value = context.value(variable["name"])
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)
