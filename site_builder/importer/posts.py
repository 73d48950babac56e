"""Import stage, posts: front matter taken apart by a source → a checked ``Post``.

Input is a ``Mapper`` over one post's front matter and the fields its source found in
it; output is a ``Post`` with this site's keys (slug, title, date) and the old site's
addresses, or ``None`` and the problems, at their lines. Every post is loaded with the
site's own reader before it is accepted, so whatever is written builds.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from site_builder.config import SiteConfig
from site_builder.content import decode, walk
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.importer.front import Front, Mapper, split
from site_builder.importer.oldurls import OldSite
from site_builder.model import slugify

ARTICLES_DIR = "content/articles"
MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
# Posts in these formats exist on both engines; skipping them silently would lose them.
OTHER_MARKUP = frozenset(
    {".html", ".htm", ".textile", ".org", ".adoc", ".asciidoc", ".rst", ".pandoc", ".pdc"}
)
MAX_CONFIG_BYTES = 1_000_000
_DATED_NAME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One post read, checked and ready to place; its body is converted later."""

    source: str  # relative to SRC
    name: str  # the file's stem: what {% post_url %} calls it
    slug: str
    title: str
    date: str  # ISO 8601, as written
    when: datetime  # ``date`` in the site's time zone, to order posts
    meta: dict[str, object]  # the front matter to write, without the slug
    front: Front
    old_urls: tuple[str, ...] = ()  # its addresses on the old site, root-relative
    folder: str = ""  # its folder in SRC: a relative link starts there
    key: str = ""  # ``source:line`` when one file holds many posts (an export, a feed)
    page: bool = False  # a page of the old site, not a post: it goes to content/pages/

    @property
    def id(self) -> str:
        """What names this post in the report: its file, or its place in one."""
        return self.key or self.source

    @property
    def draft(self) -> bool:
        return self.meta.get("draft") is True


def read_front(src: Path, path: Path) -> tuple[Front | None, list[SiteError]]:
    """A source file split into front matter and body, or the reason it cannot be."""
    source = path.relative_to(src).as_posix()
    try:
        return split(decode(path.read_bytes(), path=source), source), []
    except OSError as exc:
        return None, [ContentError(f"cannot read file: {exc.strerror}", path=source)]
    except ContentError as exc:
        return None, [exc]


def fields(
    m: Mapper,
    terms: list[str],
    tags: list[str],
    *,
    date: str | None,
    updated: str | None,
    summary: str | None,
    draft: bool,
) -> dict[str, object]:
    """This site's keys in the order its own articles write them; ``None`` = not given."""
    author = m.take("author")
    return {
        "title": m.text("title"),
        "date": date,
        "updated": updated,
        "summary": summary,
        # One category per article here: the first one; the others become tags.
        "tags": list(dict.fromkeys(tags + terms[1:])) or None,
        "category": terms[0] if terms else None,
        "author": None if author is None else author[1],
        "draft": draft or None,
    }


def file_name(path: Path) -> tuple[str, str | None]:
    """The slug and date a file name gives: ``YYYY-MM-DD-slug.md``, or a bundle's folder."""
    stem = path.parent.name if path.stem == "index" else path.stem
    found = _DATED_NAME.fullmatch(stem)
    if found is None:
        return slugify(stem), None
    try:
        day = date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return slugify(stem), None
    return slugify(found[4]), day.isoformat()


def make_post(
    m: Mapper, known: dict[str, object], config: SiteConfig, *, path: Path, name: str = ""
) -> tuple[Post | None, list[SiteError]]:
    """A ``Post`` from the fields a source took (``None`` if it cannot be imported)."""
    if any(p.severity == "error" for p in m.problems):  # a bad date is not a missing one
        return None, m.problems
    post = _identify(m, path, known, config, name or path.stem)
    if post is None or any(p.severity == "error" for p in m.problems):
        return None, m.problems
    problems = _check(post, config)
    return (None if problems else post), problems + m.problems


def _identify(
    m: Mapper, path: Path, known: dict[str, object], config: SiteConfig, name: str
) -> Post | None:
    """Slug, title and date, from the front matter or else the file."""
    file_slug, file_date = file_name(path)
    given = m.text("slug")
    title = known["title"]
    slug = (slugify(given) if given else "") or file_slug or slugify(str(title or ""))
    if not slug:
        m.add(ContentError, "slug", "no slug: the slug, file name and title have no letters")
        return None
    if not isinstance(title, str):
        title = " ".join(word.capitalize() for word in slug.split("-"))
        m.add(SiteWarning, "title", f"title: missing; used {title!r} from the file name")
    when = known["date"] or file_date or _modified(m, path, draft=known["draft"] is True)
    if not isinstance(when, str):
        return None
    meta = {key: value for key, value in {**known, "title": title, "date": when}.items() if value}
    for key, value in m.rest.items():  # unknown keys are kept, as this site keeps them
        meta.setdefault(key, value)
    moment = datetime.fromisoformat(when)
    return Post(
        source=m.source,
        name=name,
        slug=slug,
        title=title,
        date=when,
        when=moment if moment.tzinfo else moment.replace(tzinfo=config.tz),
        meta=meta,
        front=m.front,
    )


def _modified(m: Mapper, path: Path, *, draft: bool) -> str | None:
    """A draft without a date gets its file's time, as Jekyll gives it; a post gets an error."""
    if not draft:
        m.add(
            ContentError,
            "date",
            "date: missing; add 'date: 2012-03-01' or name the file 2012-03-01-slug.md",
        )
        return None
    try:
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).replace(microsecond=0)
    except OSError as exc:
        m.add(
            ContentError, "date", f"date: missing, and the file's time is unknown: {exc.strerror}"
        )
        return None
    m.add(
        SiteWarning,
        "date",
        f"date: missing; used the file's time {stamp.isoformat()}; set the date by hand",
    )
    return stamp.isoformat()


def render(post: Post, body: str) -> str:
    """The article file: front matter in this site's order, then the body."""
    # The slug is written out: a renamed file's name (YYYY-MM-DD-slug.md) would say otherwise.
    first = ("title", "date", "updated")
    meta: dict[str, object] = {key: post.meta[key] for key in first if key in post.meta}
    meta["slug"] = post.slug
    for key, value in post.meta.items():
        meta.setdefault(key, value)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    text = body.strip("\n")
    return f"---\n{front}---\n\n{text}\n"


def _check(post: Post, config: SiteConfig) -> list[SiteError]:
    """Load the file this post will become with the site's own reader: it must build."""
    target = f"{ARTICLES_DIR}/{post.slug}.md"
    try:
        front = split_front_matter(render(post, ""), path=target)
    except (yaml.YAMLError, ContentError) as exc:  # e.g. a TOML time of day, unknown to YAML
        return [ContentError(f"front matter cannot be written as YAML: {exc}", path=post.source)]
    _, problems = read_fields(
        front, path=target, tz=config.tz, file_slug=post.slug, file_date=None, needs_date=True
    )
    return [
        ContentError(
            p.message,
            path=post.source,
            line=post.front.line_of(p.message.split(":", 1)[0]),
            hint=p.hint,
        )
        for p in problems
    ]


@dataclass(slots=True, kw_only=True)
class Body:
    """A post body being converted: warnings point at lines of the source file."""

    text: str
    first_line: int
    source: str
    problems: list[SiteError] = field(default_factory=list)

    @classmethod
    def of(cls, post: Post) -> Body:
        return cls(text=post.front.body, first_line=post.front.body_line, source=post.source)

    def warn(self, at: int, message: str) -> None:
        line = self.first_line + self.text.count("\n", 0, at)
        self.problems.append(SiteWarning(message, path=self.source, line=line))

    def fence(self, start: int, end: int, lang: str, code: str) -> str:
        """A fenced code block replacing ``text[start:end]``, on lines of its own."""
        code = code.strip("\n")
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        ticks = "`" * max(3, longest + 1)  # code that shows a fence needs a longer one
        before = "" if start == 0 or self.text[start - 1] == "\n" else "\n"
        after = "" if end >= len(self.text) or self.text[end] == "\n" else "\n"
        return f"{before}{ticks}{lang}\n{code}\n{ticks}{after}"


def shown(tag: str) -> str:
    """A tag as a message quotes it: on one line, at most 80 characters."""
    text = " ".join(tag.split())
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(slots=True, kw_only=True)
class Scan:
    """What a source found: its posts, their problems, the old site and where its files are."""

    posts: list[Post]
    problems: list[SiteError]
    old: OldSite
    roots: tuple[Path, ...]  # folders of SRC the old site served at its root


def find_files(
    src: Path, folders: list[tuple[Path, bool]], *, kind: str, where: str
) -> tuple[list[tuple[Path, bool]], list[SiteError]]:
    """The Markdown posts in ``folders`` as (path, is a draft), and files left behind.

    Raises ``ConfigError`` when ``src`` is not a folder or holds no posts: that is a
    mistake on the command line, not in a post.
    """
    if not src.is_dir():
        raise ConfigError(f"not a folder; expected a {kind} site or a folder of posts", path=src)
    found: list[tuple[Path, bool]] = []
    skipped: list[SiteError] = []
    for folder, draft in folders:
        for path in walk(folder):
            suffix = path.suffix.lower()
            if suffix in MARKDOWN and path.stem != "_index":  # Hugo's text for a list page
                found.append((path, draft))
            elif suffix in OTHER_MARKUP:
                skipped.append(
                    SiteWarning(
                        "not imported: only Markdown posts can be imported",
                        path=path.relative_to(src).as_posix(),
                    )
                )
    if not found:
        raise ConfigError(
            f"no posts found; expected {where} or a folder of Markdown posts", path=src
        )
    return found, skipped


def read_config(src: Path, names: tuple[str, ...]) -> tuple[dict[str, Any], list[SiteError]]:
    """The old site's configuration, from the first of ``names`` in SRC or the folder
    above it (SRC may be the posts folder); ``{}`` and a warning if it is unreadable."""
    for folder in (src, src.parent):
        for name in names:
            path = folder / name
            if path.is_file():
                return _load_config(path, name)
    return {}, []


def _load_config(path: Path, name: str) -> tuple[dict[str, Any], list[SiteError]]:
    try:
        text = decode(path.read_bytes()[:MAX_CONFIG_BYTES], path=name)
        loaded: object = (
            tomllib.loads(text) if name.endswith(".toml")
            else json.loads(text) if name.endswith(".json")
            else yaml.safe_load(text)
        )  # fmt: skip
    except (OSError, ValueError, yaml.YAMLError, ContentError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {}, [SiteWarning(f"old site's settings not read: {reason}; old URLs are guessed",
                                path=path.name)]  # fmt: skip
    if not isinstance(loaded, dict):
        return {}, [SiteWarning("old site's settings are not a mapping; ignored", path=path.name)]
    return loaded, []
