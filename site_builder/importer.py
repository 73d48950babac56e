"""Import stage: a Jekyll or Hugo site's posts → new files in ``content/articles/``.

Input is a folder of someone else's posts and the root of this site; output is an
``ImportReport`` and, unless ``dry_run``, one new Markdown file per post. Like
``content`` and ``writer`` this module does I/O, but only at its two ends: every
post is read, checked and placed before the first file is written, no existing file
is ever replaced, and a write that fails removes the files this run wrote.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from site_builder.config import SiteConfig, load_config
from site_builder.content import PAGES_DIR, decode, walk
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.model import slugify

Kind = Literal["jekyll", "hugo"]
KINDS: tuple[str, ...] = get_args(Kind)
ARTICLES_DIR = "content/articles"
MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
# Posts in these formats exist on both engines; skipping them silently would lose them.
OTHER_MARKUP = frozenset(
    {".html", ".htm", ".textile", ".org", ".adoc", ".asciidoc", ".rst", ".pandoc", ".pdc"}
)
_DATED_NAME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})-(.+)")
_DATE_FORMS = "expected 2012-03-01, 2012-03-01 12:00:00 +0000 or 2012-03-01T12:00:00Z"
_DATE_TEXT = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_TOML_PLACE = re.compile(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)")
_SHOWN_HUMANS = 10  # the summary line names this many files, then counts the rest


class ImportNote(SiteWarning):
    """Something the import changed on purpose that needs no action, e.g. a dropped permalink."""

    severity = "note"


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed:
    """A post whose URL was taken, so it got a date-based slug instead."""

    source: str  # relative to SRC
    slug: str  # the slug it would have had
    new_slug: str  # YYYY-MM-DD-slug
    taken_by: str  # the post or article that keeps ``slug``


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do) and what needs a human."""

    imported: tuple[tuple[str, str], ...] = ()  # (source relative to SRC, target in the site)
    renamed: tuple[Renamed, ...] = ()
    problems: tuple[SiteError, ...] = ()  # errors, warnings and notes, by file and line
    drafts: int = 0
    dry_run: bool = False

    @property
    def failed(self) -> bool:
        """Some post was not imported because of an error."""
        return any(p.severity == "error" for p in self.problems)

    def needs_human(self) -> tuple[str, ...]:
        """Every source file with an error, a warning or a new URL."""
        paths = {r.source for r in self.renamed}
        paths |= {p.path.as_posix() for p in self.problems if p.path and p.severity != "note"}
        return tuple(sorted(paths))

    def done_lines(self) -> list[str]:
        """One line per imported post, then one per renamed post."""
        verb = "would import" if self.dry_run else "imported"
        lines = [f"{verb} {source} → {target}" for source, target in self.imported]
        lines += [
            f"renamed {r.source}: /articles/{r.slug}/ is taken by {r.taken_by}; "
            f"its URL is /articles/{r.new_slug}/"
            for r in self.renamed
        ]
        return lines

    def summary(self) -> str:
        """``Imported N posts (M drafts); K need a human: ...``."""
        count = len(self.imported)
        head = f"{'Would import' if self.dry_run else 'Imported'} {_count(count, 'post')}"
        head += f" ({_count(self.drafts, 'draft')})"
        failed = {p.path for p in self.problems if p.severity == "error"}
        if failed:
            head += f", {len(failed)} failed"
        humans = self.needs_human()
        if not humans:
            return f"{head}; none need a human"
        shown = ", ".join(humans[:_SHOWN_HUMANS])
        if len(humans) > _SHOWN_HUMANS:
            shown += f" and {len(humans) - _SHOWN_HUMANS} more"
        verb = "needs" if len(humans) == 1 else "need"
        return f"{head}; {len(humans)} {verb} a human: {shown}"

    def text(self) -> str:
        """The whole report as ``site-builder import`` prints it."""
        lines = [*self.done_lines(), *(p.report() for p in self.problems), self.summary()]
        return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- finding posts


def find_posts(kind: Kind, src: Path) -> tuple[list[tuple[Path, bool]], list[SiteError]]:
    """The Markdown posts under ``src`` as (path, is a draft), and files left behind.

    Raises ``ConfigError`` when ``src`` is not a folder or holds no posts: that is a
    mistake on the command line, not in a post.
    """
    if not src.is_dir():
        raise ConfigError(
            f"not a folder; expected a {kind.title()} site or a folder of posts", path=src
        )
    found: list[tuple[Path, bool]] = []
    skipped: list[SiteError] = []
    folders = _jekyll_folders(src) if kind == "jekyll" else _hugo_folders(src)
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
        where = "_posts/*.md" if kind == "jekyll" else "content/posts/*.md"
        raise ConfigError(
            f"no posts found; expected {where} or a folder of Markdown posts", path=src
        )
    return found, skipped


def _jekyll_folders(src: Path) -> list[tuple[Path, bool]]:
    roots = [(src / "_posts", False), (src / "_drafts", True)]
    return [(folder, draft) for folder, draft in roots if folder.is_dir()] or [(src, False)]


def _hugo_folders(src: Path) -> list[tuple[Path, bool]]:
    content = src / "content"
    if not content.is_dir():
        return [(src, False)]
    sections = [content / name for name in ("posts", "post") if (content / name).is_dir()]
    return [(folder, False) for folder in sections or [content]]


# ---------------------------------------------------------------- front matter


@dataclass(frozen=True, slots=True, kw_only=True)
class _Front:
    """One source file split into front matter (YAML, TOML or JSON) and body."""

    meta: dict[str, Any]
    text: str  # the front matter as written, to find a key's line
    first_line: int  # the file line ``text`` starts on
    body: str
    body_line: int

    def line_of(self, key: str) -> int:
        """The file line of a top-level ``key``; 1 when it is not there."""
        pattern = rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[:=]"
        found = re.search(pattern, self.text, re.MULTILINE | re.IGNORECASE)  # Hugo: any case
        return self.first_line + self.text.count("\n", 0, found.start()) if found else 1


def _split(text: str, source: str) -> _Front:
    first = text.split("\n", 1)[0].rstrip()
    if first == "---":
        front = split_front_matter(text, path=source)
        return _Front(
            meta=front.meta,
            text=front.yaml_text,
            first_line=2,
            body=front.body,
            body_line=front.body_line,
        )
    if first == "+++":
        return _split_toml(text, source)
    if first.startswith("{") and not first.startswith("{{"):  # "{{<" opens a shortcode
        return _split_json(text, source)
    # Both engines accept a file without front matter; its name supplies what it can.
    return _Front(meta={}, text="", first_line=1, body=text, body_line=1)


def _split_toml(text: str, source: str) -> _Front:
    lines = text.split("\n")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "+++"), None)
    if end is None:
        raise ContentError(
            "front matter is not closed; expected a '+++' line after the TOML", path=source, line=1
        )
    toml_text = "\n".join(lines[1:end])
    try:
        meta = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place in its message: "(at line 3, column 7)", "(at end of document)"
        found = _TOML_PLACE.fullmatch(str(exc))
        message, line, column = found.groups() if found else (str(exc), None, None)
        raise ContentError(
            f"invalid TOML in front matter: {message}",
            path=source,
            line=int(line) + 1 if line else end,  # a file line; else the last line of the TOML
            column=int(column) if column else None,
        ) from None
    return _Front(
        meta=meta, text=toml_text, first_line=2, body="\n".join(lines[end + 1 :]), body_line=end + 2
    )


def _split_json(text: str, source: str) -> _Front:
    try:
        meta, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise ContentError(
            f"invalid JSON in front matter: {exc.msg}",
            path=source,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    body, body_line = text[end:], text.count("\n", 0, end) + 1
    if body.startswith("\n"):
        body, body_line = body[1:], body_line + 1
    return _Front(meta=meta, text=text[:end], first_line=1, body=body, body_line=body_line)


def normalize_date(value: object) -> str:
    """ISO 8601 text for a date in any form the two engines accept; ``ValueError`` if none.

    A date stays a date (``2012-03-01``); a time without a zone stays without one, so
    this site reads it in its own time zone, as the old site did in its.
    """
    if isinstance(value, datetime):  # TOML's, or YAML's when loaded elsewhere
        return _whole_minutes(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not (found := _DATE_TEXT.fullmatch(value.strip())):
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    if hour is None:
        return date(int(year), int(month), int(day)).isoformat()
    micro = int((fraction or ".0")[1:].ljust(6, "0")[:6])
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        micro,
        tzinfo=_zone(zone),
    ).isoformat()


def _whole_minutes(moment: datetime) -> datetime:
    """Old zones (Abidjan in 1912: -00:16:08) have offsets no date line can write: use UTC."""
    offset = moment.utcoffset()
    if offset is None or not offset % timedelta(minutes=1):
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999
        raise ValueError(moment) from None


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Mapper:
    """Takes keys out of one post's front matter, noting each problem at its key's line."""

    def __init__(self, front: _Front, source: str) -> None:
        self.rest: dict[str, Any] = dict(front.meta)
        self.front, self.source = front, source
        self.problems: list[SiteError] = []

    def add(self, kind: type[SiteError], key: str, message: str) -> None:
        self.problems.append(kind(message, path=self.source, line=self.front.line_of(key)))

    def take(self, *keys: str) -> tuple[str, object] | None:
        """The first of ``keys`` that has a value; keys before it (empty) go too."""
        for key in keys:
            value = self.rest.pop(key, None)
            if value is not None:
                return key, value
        return None

    def text(self, *keys: str) -> str | None:
        taken = self.take(*keys)
        if taken is None:
            return None
        key, value = taken
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(ContentError, key, f"{key}: {_show(value)} is not text")
            return None
        return str(value).strip() or None

    def date(self, *keys: str) -> str | None:
        taken = self.take(*keys)
        if taken is None:
            return None
        key, value = taken
        try:
            return normalize_date(value)
        except ValueError:
            self.add(ContentError, key, f"{key}: {_show(value)} is not a date; {_DATE_FORMS}")
            return None

    def words(self, key: str, *, split: bool) -> list[str]:
        """A list, or a string: Jekyll splits it at spaces, Hugo takes it as one name."""
        taken = self.take(key)
        if taken is None:
            return []
        value = taken[1]
        items: list[object] = [value]
        if isinstance(value, str) and split:
            items = list(value.split())
        elif isinstance(value, list):
            items = value
        if any(isinstance(item, bool) or not isinstance(item, str | int | float) for item in items):
            self.add(ContentError, key, f"{key}: {_show(value)} is not a list of names")
            return []
        return [text for item in items if (text := str(item).strip())]

    def flag(self, key: str) -> bool:
        taken = self.take(key)
        return taken is not None and taken[1] is True


def _jekyll_fields(m: _Mapper) -> dict[str, object]:
    m.take("layout")  # names a template of the old site
    taken = m.take("published")
    terms = m.words("category", split=True) + m.words("categories", split=True)
    return _fields(
        m,
        terms,
        m.words("tags", split=True),
        date=m.date("date"),
        updated=m.date("last_modified_at", "updated"),
        summary=m.text("excerpt", "summary", "description"),
        draft=(taken is not None and taken[1] is False) | m.flag("draft"),
    )


def _hugo_fields(m: _Mapper) -> dict[str, object]:
    m.take("layout")
    return _fields(
        m,
        m.words("categories", split=False),
        m.words("tags", split=False),
        date=m.date("date", "publishdate", "pubdate"),
        updated=m.date("lastmod", "updated"),
        summary=m.text("summary", "description"),
        draft=m.flag("draft"),
    )


def _fields(
    m: _Mapper,
    terms: list[str],
    tags: list[str],
    *,
    date: str | None,
    updated: str | None,
    summary: str | None,
    draft: bool,
) -> dict[str, object]:
    """This site's keys in the order its own articles write them; ``None`` = not given."""
    return {
        "title": m.text("title"),
        "date": date,
        "updated": updated,
        "summary": summary,
        # One category per article here: the first one; the others become tags.
        "tags": list(dict.fromkeys(tags + terms[1:])) or None,
        "category": terms[0] if terms else None,
        "author": _value(m.take("author")),
        "draft": draft or None,
    }


def _value(taken: tuple[str, object] | None) -> object:
    return None if taken is None else taken[1]


# ---------------------------------------------------------------- reading one post


@dataclass(frozen=True, slots=True, kw_only=True)
class _Post:
    """One post read, checked and ready to place; its body is converted later."""

    source: str  # relative to SRC
    name: str  # the file's stem: what {% post_url %} calls it
    slug: str
    title: str
    date: str  # ISO 8601, as written
    when: datetime  # ``date`` in the site's time zone, to order posts
    meta: dict[str, object]  # the front matter to write, without the slug
    front: _Front
    old_url: tuple[str, str] | None = None  # (key, value) of a permalink that is dropped

    @property
    def draft(self) -> bool:
        return self.meta.get("draft") is True


def _read_post(
    kind: Kind, src: Path, path: Path, *, draft: bool, config: SiteConfig
) -> tuple[_Post | None, list[SiteError]]:
    """One source file → a ``_Post`` (``None`` if it cannot be imported) and its problems."""
    source = path.relative_to(src).as_posix()
    try:
        front = _split(decode(path.read_bytes(), path=source), source)
    except OSError as exc:
        return None, [ContentError(f"cannot read file: {exc.strerror}", path=source)]
    except ContentError as exc:
        return None, [exc]
    if kind == "hugo":  # Hugo reads front matter keys in any case: Title, publishDate
        front = replace(front, meta={str(k).lower(): v for k, v in front.meta.items()})
    m = _Mapper(front, source)
    old_key = "permalink" if kind == "jekyll" else "url"
    old_url = m.take(old_key)
    known = _jekyll_fields(m) if kind == "jekyll" else _hugo_fields(m)
    known["draft"] = known["draft"] or draft or None
    if kind == "hugo" and path.stem == "index":
        _bundle_files(m, path)
    if any(p.severity == "error" for p in m.problems):  # a bad date is not a missing one
        return None, m.problems
    post = _identify(m, path, known, config)
    if post is None or any(p.severity == "error" for p in m.problems):
        return None, m.problems
    if old_url is not None:
        post = replace(post, old_url=(old_url[0], str(old_url[1])))
    problems = _check(post, config)
    return (None if problems else post), problems + m.problems


def _bundle_files(m: _Mapper, path: Path) -> None:
    """A Hugo page bundle's images and files are not copied; say which."""
    files = [p.relative_to(path.parent).as_posix() for p in walk(path.parent)]
    others = [name for name in files if Path(name).suffix.lower() not in MARKDOWN]
    if others:
        m.problems.append(
            SiteWarning(
                f"page bundle files not copied: {', '.join(others)}; "
                "copy them under content/ and fix their links by hand",
                path=m.source,
            )
        )


def _file_name(path: Path) -> tuple[str, str | None]:
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


def _identify(m: _Mapper, path: Path, known: dict[str, object], config: SiteConfig) -> _Post | None:
    """Slug, title and date, from the front matter or else the file."""
    file_slug, file_date = _file_name(path)
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
    fields: dict[str, object] = {**known, "title": title, "date": when}
    meta = {key: value for key, value in fields.items() if value}
    for key, value in m.rest.items():  # unknown keys are kept, as this site keeps them
        meta.setdefault(key, value)
    moment = datetime.fromisoformat(when)
    return _Post(
        source=m.source,
        name=path.stem,
        slug=slug,
        title=title,
        date=when,
        when=moment if moment.tzinfo else moment.replace(tzinfo=config.tz),
        meta=meta,
        front=m.front,
    )


def _modified(m: _Mapper, path: Path, *, draft: bool) -> str | None:
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


def _render(post: _Post, body: str) -> str:
    # The slug is written out: a renamed file's name (YYYY-MM-DD-slug.md) would say otherwise.
    first = ("title", "date", "updated")
    meta: dict[str, object] = {key: post.meta[key] for key in first if key in post.meta}
    meta["slug"] = post.slug
    for key, value in post.meta.items():
        meta.setdefault(key, value)
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    text = body.strip("\n")
    return f"---\n{front}---\n\n{text}\n"


def _check(post: _Post, config: SiteConfig) -> list[SiteError]:
    """Load the file this post will become with the site's own reader: it must build."""
    target = f"{ARTICLES_DIR}/{post.slug}.md"
    try:
        front = split_front_matter(_render(post, ""), path=target)
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


# ---------------------------------------------------------------- placing posts


@dataclass(frozen=True, slots=True, kw_only=True)
class _Existing:
    """An article already in the site: it keeps its slug."""

    path: str  # relative to the site root
    title: object
    date: object


def _existing_articles(config: SiteConfig) -> dict[str, _Existing]:
    """Slugs (and file names) already used under content/, pages excepted."""
    taken: dict[str, _Existing] = {}
    for path in walk(config.content_dir):
        rel = path.relative_to(config.root).as_posix()
        if path.suffix.lower() != ".md" or rel.startswith(f"content/{PAGES_DIR}/"):
            continue
        try:
            meta = split_front_matter(decode(path.read_bytes(), path=rel), path=rel).meta
        except (OSError, ContentError):  # the build reports it; its file name still counts
            meta = {}
        given = meta.get("slug")
        owner = _Existing(path=rel, title=meta.get("title"), date=meta.get("date"))
        taken.setdefault(slugify(given) if isinstance(given, str) else _file_name(path)[0], owner)
        if rel.startswith(f"{ARTICLES_DIR}/"):  # never write over a file, whatever its slug
            taken.setdefault(path.stem, owner)
    return taken


def _claim(
    post: _Post, taken: Mapping[str, str], existing: Mapping[str, _Existing]
) -> tuple[str, bool]:
    """The first free one of ``slug``, ``day-slug``, ``day-slug-2``...; True: imported before."""
    candidate, n = post.slug, 1
    while True:
        owner = existing.get(candidate)
        if owner is not None and owner.title == post.title and str(owner.date) == post.date:
            return candidate, True
        if candidate not in taken:
            return candidate, False
        n += 1
        candidate = f"{post.date[:10]}-{post.slug}" + (f"-{n - 1}" if n > 2 else "")


def _place(
    posts: Iterable[_Post], existing: Mapping[str, _Existing]
) -> tuple[list[_Post], list[Renamed], list[SiteError], dict[str, str]]:
    """Give every post a URL; on a clash the later post moves to a date-based one."""
    taken = {slug: owner.path for slug, owner in existing.items()}
    placed: list[_Post] = []
    renamed: list[Renamed] = []
    notes: list[SiteError] = []
    links: dict[str, str] = {}  # post name → slug, for {% post_url %}
    for post in sorted(posts, key=lambda p: (p.when, p.source)):
        slug, done = _claim(post, taken, existing)
        links[post.name] = slug
        if done:
            notes.append(
                ImportNote(f"already imported as {existing[slug].path}; skipped", path=post.source)
            )
            continue
        if slug != post.slug:
            renamed.append(
                Renamed(
                    source=post.source, slug=post.slug, new_slug=slug, taken_by=taken[post.slug]
                )
            )
        taken[slug] = post.source
        placed.append(replace(post, slug=slug))
    return placed, renamed, notes, links


# ---------------------------------------------------------------- converting bodies


@dataclass(slots=True, kw_only=True)
class _Body:
    """A post body being converted: warnings point at lines of the source file."""

    text: str
    first_line: int
    source: str
    links: Mapping[str, str]
    problems: list[SiteError] = field(default_factory=list)

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


def _shown(tag: str) -> str:
    text = " ".join(tag.split())
    return text if len(text) <= 80 else text[:77] + "..."


_LIQUID = re.compile(
    r"\{%-?\s*(?P<tag>\w+)(?P<args>[^%]*?)\s*-?%\}|\{\{-?(?P<out>[^{}]*?)-?\}\}", re.DOTALL
)
_LIQUID_END = {
    "highlight": re.compile(r"\{%-?\s*endhighlight\s*-?%\}"),
    "raw": re.compile(r"\{%-?\s*endraw\s*-?%\}"),
}
_SITE_URL = re.compile(r"\s*site\.(?:baseurl|url)\s*")
_URL_FILTER = re.compile(r"""\s*(["'])(?P<path>[^"']*)\1\s*\|\s*(?:relative_url|absolute_url)\s*""")


def _convert_liquid(doc: _Body, start: int, end: int) -> str:
    """Jekyll's Liquid in ``doc.text[start:end]`` → Markdown; the rest is kept and reported."""
    out, pos = [], start
    while (found := _LIQUID.search(doc.text, pos, end)) is not None:
        out.append(doc.text[pos : found.start()])
        replacement, pos = _liquid_tag(doc, found, end)
        out.append(replacement)
    out.append(doc.text[pos:end])
    return "".join(out)


def _liquid_tag(doc: _Body, found: re.Match[str], end: int) -> tuple[str, int]:
    tag, args, out = found["tag"], found["args"], found["out"]
    closing = _LIQUID_END[tag].search(doc.text, found.end(), end) if tag in _LIQUID_END else None
    if closing is not None and tag == "raw":
        return doc.text[found.end() : closing.start()], closing.end()
    if closing is not None:  # highlight: Liquid inside still ran in Jekyll, so convert it
        code = _convert_liquid(doc, found.end(), closing.start())
        lang = (args.split() or [""])[0]
        return doc.fence(found.start(), closing.end(), lang, code), closing.end()
    if tag == "post_url":
        return _post_url(doc, found)
    if out is not None and (link := _site_link(out)) is not None:
        return link, found.end()
    doc.warn(found.start(), f"Liquid tag {_shown(found[0])!r} left as text; edit by hand")
    return found[0], found.end()


def _post_url(doc: _Body, found: re.Match[str]) -> tuple[str, int]:
    name = found["args"].strip().rsplit("/", 1)[-1]
    if name in doc.links:
        return f"/articles/{doc.links[name]}/", found.end()
    doc.warn(found.start(), f"post_url: no imported post is named {name!r}; tag left as text")
    return found[0], found.end()


def _site_link(out: str) -> str | None:
    """``{{ site.baseurl }}`` → nothing, ``{{ '/x' | relative_url }}`` → ``/x``: root-relative."""
    if _SITE_URL.fullmatch(out):
        return ""
    path = _URL_FILTER.fullmatch(out)
    return path["path"] if path else None


_SHORTCODE = re.compile(
    r"\{\{(?P<d>[<%])\s*(?:/\*(?P<escaped>.*?)\*/"
    r"|(?P<close>/)?\s*(?P<name>[\w./-]+)(?P<args>(?:(?!\{\{).)*?))\s*[>%]\}\}",
    re.DOTALL,
)
_HIGHLIGHT_END = re.compile(r"\{\{[<%]\s*/\s*highlight\s*[>%]\}\}")
_PARAM = re.compile(r"""(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|([^\s/]+))""")


def _convert_shortcodes(doc: _Body) -> str:
    """Hugo's shortcodes in ``doc.text`` → Markdown; the rest is kept and reported."""
    out, pos = [], 0
    while (found := _SHORTCODE.search(doc.text, pos)) is not None:
        out.append(doc.text[pos : found.start()])
        replacement, pos = _shortcode(doc, found)
        out.append(replacement)
    out.append(doc.text[pos:])
    return "".join(out)


def _shortcode(doc: _Body, found: re.Match[str]) -> tuple[str, int]:
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
    doc.warn(found.start(), f"Hugo shortcode {_shown(found[0])!r} left as text; edit by hand")
    return found[0], found.end()


def _figure(args: str) -> str | None:
    params = {m[1]: next(v for v in m.groups()[1:] if v is not None) for m in _PARAM.finditer(args)}
    if not params.get("src"):
        return None
    alt = params.get("alt") or params.get("caption") or params.get("title") or ""
    alt = alt.replace("[", r"\[").replace("]", r"\]")  # brackets would end the alt text
    title = params.get("title", "").replace('"', "&quot;")
    image = f"![{alt}]({params['src']}" + (f' "{title}")' if title else ")")
    return f"[{image}]({params['link']})" if params.get("link") else image


def _convert(kind: Kind, post: _Post, links: Mapping[str, str]) -> tuple[str, list[SiteError]]:
    """The post's body in this site's Markdown, and what was left for a human."""
    doc = _Body(
        text=post.front.body, first_line=post.front.body_line, source=post.source, links=links
    )
    body = _convert_liquid(doc, 0, len(doc.text)) if kind == "jekyll" else _convert_shortcodes(doc)
    if post.old_url is not None:
        key, value = post.old_url
        doc.problems.append(
            ImportNote(
                f"{key}: {value!r} ignored; the article is at /articles/{post.slug}/",
                path=post.source,
                line=post.front.line_of(key),
            )
        )
    return body, doc.problems


# ---------------------------------------------------------------- the import


def import_posts(kind: Kind, src: Path, site_root: Path, *, dry_run: bool = False) -> ImportReport:
    """Copy the posts of a Jekyll or Hugo site into ``site_root``'s ``content/articles/``.

    Raises ``BuildFailed`` for a broken ``site.toml`` and ``ConfigError`` for an
    ``src`` that is not a folder of posts; a broken post is a problem in the report.
    """
    config = load_config(site_root)
    found, problems = find_posts(kind, src)
    posts: list[_Post] = []
    for path, draft in found:
        post, post_problems = _read_post(kind, src, path, draft=draft, config=config)
        posts += [post] if post is not None else []
        problems += post_problems
    placed, renamed, notes, links = _place(posts, _existing_articles(config))
    files: list[tuple[str, str, str]] = []  # (source, target, text)
    for post in sorted(placed, key=lambda p: p.source):
        body, found_problems = _convert(kind, post, links)
        problems += found_problems
        files.append((post.source, f"{ARTICLES_DIR}/{post.slug}.md", _render(post, body)))
    if not dry_run and (failure := _write(config.root, files)):
        problems.append(failure)
        files = []
    return ImportReport(
        imported=tuple((source, target) for source, target, _ in files),
        renamed=tuple(sorted(renamed, key=lambda r: r.source)),
        problems=tuple(sorted([*problems, *notes], key=SiteError.sort_key)),
        drafts=sum(post.draft for post in placed) if files else 0,
        dry_run=dry_run,
    )


def _write(root: Path, files: Iterable[tuple[str, str, str]]) -> SiteError | None:
    """Create every file, replacing none; on a failure remove the ones made so far."""
    written: list[Path] = []
    target = ""
    try:
        for _, target, text in files:
            path = root / target
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8", newline="\n") as stream:
                written.append(path)  # ours from here on, even if the write fails
                stream.write(text)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        reason = "it already exists" if isinstance(exc, FileExistsError) else exc.strerror
        return ContentError(f"cannot write file: {reason}; nothing was imported", path=target)
    return None
