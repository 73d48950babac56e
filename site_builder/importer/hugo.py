"""Import source, Hugo: ``content/posts/`` (and the site's settings) → posts.

Input is a Hugo site or a folder of its posts; output is a ``Scan`` of posts with their
old addresses from the site's ``permalinks`` (or a post's ``url``; its ``aliases`` are
kept), and each body's shortcodes converted: ``ref``/``relref`` lead to the imported
articles, ``param`` is filled in from the page or the site, ``highlight`` becomes a
fenced block and ``figure`` an image. Other shortcodes are kept and reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.importer.front import Mapper
from site_builder.importer.oldurls import OldSite, Refs, colon_pattern, date_values
from site_builder.importer.posts import (
    Body,
    Post,
    Scan,
    fields,
    file_name,
    find_files,
    make_post,
    read_config,
    read_front,
    shown,
)
from site_builder.model import slugify

_SETTINGS = tuple(
    f"{stem}.{ext}" for stem in ("hugo", "config") for ext in ("toml", "yaml", "yml", "json")
)
_SHORTCODE = re.compile(
    r"\{\{(?P<d>[<%])\s*(?:/\*(?P<escaped>.*?)\*/"
    r"|(?P<close>/)?\s*(?P<name>[\w./-]+)(?P<args>(?:(?!\{\{).)*?))\s*[>%]\}\}",
    re.DOTALL,
)
_DEFAULT_RULE = "/:section/:slugorfilename/"
_HIGHLIGHT_END = re.compile(r"\{\{[<%]\s*/\s*highlight\s*[>%]\}\}")
_PARAM = re.compile(r"""(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|([^\s/]+))""")
_POSITIONAL = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|(\S+))\s*""")


def scan(src: Path, config: SiteConfig, old_url: str | None) -> Scan:
    """Every post of the Hugo site at ``src`` read, with its old addresses."""
    settings, problems = read_config(src, _SETTINGS)
    settings = {str(key).lower(): value for key, value in settings.items()}
    folders = _folders(src)
    found, skipped = find_files(src, folders, kind="Hugo", where="content/posts/*.md")
    problems += skipped
    base = settings.get("baseurl")
    site_url = base.rstrip("/") + "/" if isinstance(base, str) and "://" in base else None
    params = settings.get("params")
    old = OldSite(url=old_url or site_url, params=params if isinstance(params, dict) else {})
    pattern = _pattern(settings.get("permalinks"), folders[0][0])
    posts: list[Post] = []
    for path, _ in found:
        post, post_problems = _read(src, path, config=config, pattern=pattern)
        problems += post_problems
        posts += [post] if post is not None else []
    roots = tuple(folder for folder in (src / "static", src / "content", src) if folder.is_dir())
    return Scan(posts=posts, problems=problems, old=old, roots=roots)


def _folders(src: Path) -> list[tuple[Path, bool]]:
    content = src / "content"
    if not content.is_dir():
        return [(src, False)]
    sections = [content / name for name in ("posts", "post") if (content / name).is_dir()]
    return [(folder, False) for folder in sections or [content]]


def _pattern(permalinks: object, folder: Path) -> str:
    """The section's permalink rule; Hugo's own default is the section and file name."""
    rules = permalinks.get("page", permalinks) if isinstance(permalinks, dict) else None
    if not isinstance(rules, dict):  # newer Hugo nests the rules by kind: "page"
        return _DEFAULT_RULE
    rule = rules.get(folder.name) or rules.get("posts") or rules.get("post")
    if rule is None and len(rules) == 1:
        rule = next(iter(rules.values()))
    return rule if isinstance(rule, str) else _DEFAULT_RULE


def _read(
    src: Path, path: Path, *, config: SiteConfig, pattern: str
) -> tuple[Post | None, list[SiteError]]:
    front, problems = read_front(src, path)
    if front is None:
        return None, problems
    # Hugo reads front matter keys in any case: Title, publishDate
    front = replace(front, meta={str(k).lower(): v for k, v in front.meta.items()})
    m = Mapper(front, path.relative_to(src).as_posix())
    own = m.take("url")
    m.take("layout")
    known = fields(
        m,
        m.words("categories", split=False),
        m.words("tags", split=False),
        date=m.date("date", "publishdate", "pubdate"),
        updated=m.date("lastmod", "updated"),
        summary=m.text("summary", "description"),
        draft=m.flag("draft"),
    )
    post, problems = make_post(m, known, config, path=path)
    if post is None:
        return None, problems
    rule = colon_pattern(pattern, _values(post, path))
    first = str(own[1]) if own is not None else rule
    folder = m.source.rsplit("/", 1)[0] if "/" in m.source else ""
    return replace(post, old_urls=(first,), folder=folder), problems


def _values(post: Post, path: Path) -> dict[str, str]:
    bundle = path.stem == "index"
    name = path.parent.name if bundle else path.stem
    section = (path.parent.parent if bundle else path.parent).name
    given = post.front.meta.get("slug")
    slug = given if isinstance(given, str) and given else None
    # Hugo writes a date in its own offset (a naive one in UTC): as written, that is.
    return date_values(datetime.fromisoformat(post.date)) | {
        "title": slugify(post.title),
        "slug": slug or slugify(post.title),
        "filename": name,
        "contentbasename": name,
        "slugorfilename": slug or file_name(path)[0] or name,
        "section": section,
        "sections": section,
    }


# ---------------------------------------------------------------- shortcodes


def convert(post: Post, refs: Refs) -> tuple[str, list[SiteError]]:
    """Hugo's shortcodes in the post's body → Markdown; the rest is kept and reported."""
    doc = Body.of(post)
    out, pos = [], 0
    while (found := _SHORTCODE.search(doc.text, pos)) is not None:
        out.append(doc.text[pos : found.start()])
        replacement, pos = _shortcode(doc, found, post, refs)
        out.append(replacement)
    out.append(doc.text[pos:])
    return "".join(out), doc.problems


def _shortcode(doc: Body, found: re.Match[str], post: Post, refs: Refs) -> tuple[str, int]:
    if found["escaped"] is not None:  # {{</* x */>}} is how Hugo shows a shortcode as text
        closing = ">" if found["d"] == "<" else "%"
        return f"{{{{{found['d']}{found['escaped']}{closing}}}}}", found.end()
    name, args, opening = found["name"], found["args"].strip(), not found["close"]
    end = _HIGHLIGHT_END.search(doc.text, found.end()) if opening and name == "highlight" else None
    if end is not None:
        lang = (args.split() or [""])[0].strip("\"'")
        code = doc.text[found.end() : end.start()]
        return doc.fence(found.start(), end.end(), lang, code), end.end()
    if opening and name == "figure" and (image := _figure(args)):
        return image, found.end()
    if opening and (text := _inline(name, _positional(args), post, refs)) is not None:
        return text, found.end()
    if opening and name in ("ref", "relref") and _positional(args):
        # Not an imported post: where Hugo put that page, for the link rewriter to send on.
        guess = _page_url(_positional(args)[0])
        doc.warn(
            found.start(),
            f"{name}: {_positional(args)[0]!r} is not an imported post; {guess} of the old site",
        )
        return guess, found.end()
    doc.warn(found.start(), f"Hugo shortcode {shown(found[0])!r} left as text; edit by hand")
    return found[0], found.end()


def _page_url(ref: str) -> str:
    """The URL Hugo gives a content file by default: its path, without ``index`` or
    the suffix (``/about.md`` → ``/about/``, ``/_index.md`` → ``/``)."""
    path = ref.split("#", 1)[0].strip("/").rsplit(".", 1)[0]
    path = path.removesuffix("_index").removesuffix("index").strip("/")
    return f"/{path}/" if path else "/"


def _positional(args: str) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in _POSITIONAL.finditer(args)]


def _inline(name: str, args: list[str], post: Post, refs: Refs) -> str | None:
    """``ref``/``relref`` → the imported article's URL; ``param`` → the value."""
    if name in ("ref", "relref") and args:
        return refs.named(args[0])
    if name == "param" and args:
        return _param(args[0], post.front.meta, refs.old.params)
    return None


def _param(name: str, page: Mapping[str, Any], site: Mapping[str, Any]) -> str | None:
    for scope in (page, {str(k).lower(): v for k, v in site.items()}):
        value: object = scope
        for part in name.lower().split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _figure(args: str) -> str | None:
    params = {m[1]: next(v for v in m.groups()[1:] if v is not None) for m in _PARAM.finditer(args)}
    if not params.get("src"):
        return None
    alt = params.get("alt") or params.get("caption") or params.get("title") or ""
    alt = alt.replace("[", r"\[").replace("]", r"\]")  # brackets would end the alt text
    title = params.get("title", "").replace('"', "&quot;")
    image = f"![{alt}]({params['src']}" + (f' "{title}")' if title else ")")
    return f"[{image}]({params['link']})" if params.get("link") else image
