"""Import source, Pelican: a content folder (and ``pelicanconf.py``) → posts and pages.

Input is a Pelican site or its content folder: Markdown files with ``Key: value``
metadata and reStructuredText files with docinfo fields, rendered by docutils (the
reference reST implementation) with file inclusion switched off; output is a ``Scan``
whose bodies become Markdown, with ``{filename}``/``{static}`` links resolved and old
addresses from ``ARTICLE_URL``/``PAGE_URL``. The settings file is read, never run: only
literal assignments count.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from docutils import nodes
from docutils.core import publish_doctree, publish_parts
from docutils.utils import SystemMessage
from docutils.writers.html5_polyglot import Writer

from site_builder.config import SiteConfig
from site_builder.content import decode, walk
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.importer.front import Front, Mapper
from site_builder.importer.markup import to_markdown
from site_builder.importer.oldurls import OldSite, Refs, brace_pattern
from site_builder.importer.posts import MARKDOWN, Post, Scan, fields, make_post
from site_builder.model import slugify

_SETTINGS = ("pelicanconf.py", "pelican.conf.py")
_MAX_SETTINGS_BYTES = 1_000_000
_META_LINE = re.compile(r"(?P<key>[A-Za-z][\w-]*):\s*(?P<value>.*)")
_LINK_TAG = re.compile(r"[{|](?P<what>filename|static|attach)[}|](?P<path>[^\s)\"'<>`]*)")
# Pelican's code directives take Pygments options that docutils' own "code" refuses.
_CODE_OPTIONS = re.compile(
    r"^(?P<head>(?P<indent>[ \t]*)\.\. (?:sourcecode|code-block|code)::[^\n]*\n)"
    r"(?:(?P=indent)[ \t]+:[\w-]+:[^\n]*\n)+",
    re.MULTILINE,
)
_MESSAGE_PLACE = re.compile(r"^<string>:\d+: \(\w+/\d\) ")
_DATED_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_DOCUTILS = {
    "file_insertion_enabled": False,  # ".. include::" must not read files outside SRC
    "report_level": 5,
    "halt_level": 5,
    "_disable_config": True,
    "syntax_highlight": "none",
    "input_encoding": "unicode",
    "doctitle_xform": True,
    "initial_header_level": 2,
}


def scan(src: Path, config: SiteConfig, old_url: str | None) -> Scan:
    """Every article and page of the Pelican site at ``src``."""
    if not src.is_dir():
        raise ConfigError("not a folder; expected a Pelican site or its content folder", path=src)
    settings = _settings(src)
    content = src / str(settings.get("PATH", "content"))
    content = content if content.is_dir() else src
    posts: list[Post] = []
    problems: list[SiteError] = []
    for path in walk(content):
        post, found = _read(src, content, path, config, settings)
        posts += [post] if post is not None else []
        problems += found
    if not posts and not problems:
        raise ConfigError("no articles found; expected content/*.rst or *.md", path=src)
    site_url = settings.get("SITEURL")
    base = site_url.rstrip("/") + "/" if isinstance(site_url, str) and "://" in site_url else None
    return Scan(posts=posts, problems=problems, old=OldSite(url=old_url or base), roots=(content,))


def _settings(src: Path) -> dict[str, object]:
    """The literal ``NAME = value`` lines of the settings file; nothing in it is run."""
    path = next((src / n for n in _SETTINGS if (src / n).is_file()), None)
    if path is None:
        return {}
    try:
        tree = ast.parse(path.read_bytes()[:_MAX_SETTINGS_BYTES])
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, object] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            try:
                value = ast.literal_eval(statement.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(target, ast.Name) and target.id.isupper():
                found[target.id] = value
    return found


def _read(
    src: Path, content: Path, path: Path, config: SiteConfig, settings: dict[str, object]
) -> tuple[Post | None, list[SiteError]]:
    source = path.relative_to(src).as_posix()
    suffix = path.suffix.lower()
    if suffix not in (*MARKDOWN, ".rst"):
        if suffix in (".html", ".htm"):
            return None, [SiteWarning("not imported: an HTML page; copy it by hand", path=source)]
        return None, []
    try:
        text = decode(path.read_bytes(), path=source)
    except (OSError, ContentError) as exc:
        return None, [ContentError(f"cannot read file: {exc}", path=source)]
    front = _rest_front(text) if suffix == ".rst" else _markdown_front(text)
    return _post(source, path, path.relative_to(content), front, config=config, settings=settings)


def _markdown_front(text: str) -> Front:
    """Pelican's Markdown metadata: ``Key: value`` lines up to the first blank line."""
    meta: dict[str, object] = {}
    lines = text.split("\n")
    end = 0
    for end, line in enumerate(lines):  # noqa: B007 - the end is what is wanted
        found = _META_LINE.fullmatch(line.strip())
        if not line.strip() or found is None:
            break
        meta[found["key"].lower()] = found["value"].strip()
    head = "\n".join(lines[:end])
    return Front(meta=meta, text=head, first_line=1, body="\n".join(lines[end:]), body_line=end + 1)


def _rest_front(text: str) -> Front:
    """The title and docinfo fields of a reST file; the body stays reST until converted."""
    meta: dict[str, object] = {"_markup": "rst"}
    try:
        tree = publish_doctree(text, settings_overrides=_DOCUTILS)
    except (SystemMessage, ValueError, AttributeError, IndexError) as exc:
        meta["_broken"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Front(meta=meta, text=text, first_line=1, body=text, body_line=1)
    title = next(iter(tree.findall(nodes.title)), None)
    if title is not None:
        meta["title"] = title.astext()
    for info in tree.findall(nodes.docinfo):
        for field in info.children:
            if isinstance(field, nodes.field):
                meta[field[0].astext().lower()] = field[1].astext().strip()
            elif isinstance(field, nodes.Element):
                meta[field.tagname.lower()] = field.astext().strip()
    return Front(meta=meta, text=text, first_line=1, body=text, body_line=1)


def _post(
    source: str,
    path: Path,
    inside: Path,
    front: Front,
    *,
    config: SiteConfig,
    settings: dict[str, object],
) -> tuple[Post | None, list[SiteError]]:
    m = Mapper(front, source)
    m.take("_markup")
    if "_broken" in front.meta:
        return None, [ContentError(f"reStructuredText: {front.meta['_broken']}", path=source)]
    lang = m.text("lang")
    if lang and lang != settings.get("DEFAULT_LANG", "en"):
        message = f"not imported: a translation ({lang}); this site has one language"
        return None, [SiteWarning(message, path=source)]
    page = len(inside.parts) > 1 and inside.parts[0] == "pages"
    folder = inside.parts[0] if len(inside.parts) > 1 and not page else None
    known = _fields(m, path, folder=folder, default=_default_date(settings, page=page))
    title_file = path.with_name(slugify(str(known["title"] or path.stem)) + path.suffix)
    post, problems = make_post(m, known, config, path=title_file)
    if post is None:
        return None, problems
    old = _old_address(post, settings, page=page, category=str(known["category"] or ""))
    return replace(
        post, old_urls=(old,), folder=Path(source).parent.as_posix(), page=page
    ), problems


def _fields(m: Mapper, path: Path, *, folder: str | None, default: str | None) -> dict[str, object]:
    """Pelican's metadata as this site's; a folder names the category, as in Pelican."""
    status = (m.text("status") or "published").lower()
    known = fields(
        m,
        m.words("category", split=False) or ([folder] if folder else []),
        [t.strip() for t in (m.text("tags") or "").split(",") if t.strip()],
        date=m.date("date") or _file_date(path) or default,
        updated=m.date("modified"),
        summary=m.text("summary"),
        draft=status in ("draft", "hidden"),
    )
    known["author"] = known["author"] or m.text("authors")
    return known


def _old_address(post: Post, settings: dict[str, object], *, page: bool, category: str) -> str:
    """Where Pelican wrote the post: ``ARTICLE_URL`` or ``PAGE_URL``, or their defaults."""
    key, default = ("PAGE_URL", "pages/{slug}.html") if page else ("ARTICLE_URL", "{slug}.html")
    values = {"slug": post.slug, "lang": "en", "category": slugify(category)}
    return brace_pattern(str(settings.get(key, default)), values, post.when)


def _file_date(path: Path) -> str | None:
    found = _DATED_FILE.match(path.name)
    return found[1] if found else None


def _default_date(settings: dict[str, object], *, page: bool) -> str | None:
    value = settings.get("DEFAULT_DATE")
    if page:
        return "1970-01-01"  # a page has no date; this site wants one in its front matter
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        try:
            return datetime(*value).isoformat()  # noqa: DTZ001 - read in the site's zone
        except (TypeError, ValueError):
            return None
    return None


def convert(post: Post, refs: Refs) -> tuple[str, list[SiteError]]:
    """The body as Markdown: Pelican's link tags resolved, reST rendered by docutils."""
    problems: list[SiteError] = []
    body = _LINK_TAG.sub(lambda m: _link_tag(m, post, refs), post.front.body)
    if post.front.meta.get("_markup") != "rst":
        return body, problems
    body = _CODE_OPTIONS.sub(r"\g<head>", body)
    tree_problems = _rest_problems(body, post.source)
    parts = publish_parts(body, writer=Writer(), settings_overrides=_DOCUTILS)
    return to_markdown(str(parts["body"])), tree_problems


def _link_tag(found: re.Match[str], post: Post, refs: Refs) -> str:
    path = found["path"]
    inside = path.lstrip("/") if path.startswith("/") else f"{post.folder}/{path}"
    if found["what"] == "filename":
        return refs.named(inside) or refs.named(path) or path
    return "/" + str(Path(inside).as_posix()).removeprefix("content/").lstrip("/")


def _rest_problems(text: str, source: str) -> list[SiteError]:
    """What docutils could not read, at its line: a human fixes it."""
    settings = {**_DOCUTILS, "report_level": 3}
    tree = publish_doctree(text, settings_overrides=settings)
    return [
        SiteWarning(
            f"reStructuredText: {message.astext().splitlines()[0]}",
            path=source,
            line=message.get("line"),
        )
        for message in tree.findall(nodes.system_message)
        if message.get("level", 0) >= 3
    ]
