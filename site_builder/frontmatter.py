"""Front matter stage: the ``---`` YAML block of a content file → validated ``Fields``.

Input is the decoded text of one file; output is typed values or ``ContentError``s
that point at the line of the offending key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any
from urllib.parse import urlsplit

import yaml

from site_builder.errors import ContentError, SiteError
from site_builder.model import Source, slugify

try:  # libyaml's loader is ten times faster; PyYAML wheels usually include it
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """Safe loading, dates left as text: PyYAML's own date errors have no location."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's constructors raise plain errors for ``!!int abc``, ``!!bool x`` or
        ``!!timestamp 2026-13-45``; give them the node's place like any YAML error."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError) as exc:
            problem = f"{node.tag.rpartition(':')[2]} value {_show(node.value)} is invalid"
            if isinstance(exc, ValueError) and str(exc):
                problem += f" ({exc})"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """YAML allows a key once in a mapping; PyYAML keeps the last silently, so a
        second ``title:`` or ``tags:`` replaced the first without a word."""
        first: dict[tuple[str, str], yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                continue
            if (key.tag, key.value) in first:
                line = first[key.tag, key.value].start_mark.line + 2  # the file's, after ---
                problem = f"{_show(key.value)} is given twice (first on line {line})"
                raise yaml.constructor.ConstructorError(None, None, problem, key.start_mark)
            first[key.tag, key.value] = key
        return super().construct_mapping(node, deep=deep)


def _unsupported(loader: yaml.BaseLoader, node: yaml.Node) -> None:
    """Sets and binary data have no use in front matter and no stable order or text form."""
    raise yaml.constructor.ConstructorError(
        None, None, f"the YAML tag {node.tag} is not supported in front matter", node.start_mark
    )


for _tag in ("set", "binary"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _unsupported)


_FENCE = "---"
_MAX_NODES = 10_000  # far above real front matter; stops alias bombs before they expand
# What XML 1.0 cannot carry (feeds) and lone surrogates (no UTF-8 form): from escapes
# such as "\x01" or "\ud800" in double-quoted YAML, never from the file's own bytes.
_UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_MAX_SLUG_BYTES = 200  # a path segment: file systems allow 255 bytes
_YEARS = (1000, 9000)  # time zones and weekly issues must not step past datetime's range
_DATE_HINT = "expected 2026-11-24, 2026-11-24 09:30 or 2026-11-24T09:30:00+01:00"
_DATE_TEXT = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2})?"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontMatter:
    """The raw parts of a content file."""

    meta: dict[str, Any]
    yaml_text: str
    body: str
    body_line: int  # 1-based line of the file where the body starts


@dataclass(frozen=True, slots=True, kw_only=True)
class Fields:
    """Validated front matter values, before Markdown is rendered."""

    title: str
    slug: str
    date: datetime | None
    updated: datetime | None = None
    summary: str | None = None  # Markdown
    tag_names: tuple[str, ...] = ()
    category: str | None = None
    authors: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    image: str | None = None
    draft: bool = False
    feed_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def split_front_matter(text: str, *, path: str) -> FrontMatter:
    """Separate the YAML block from the Markdown body and load it."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        raise ContentError(
            "missing front matter; expected a '---' line first",
            path=path,
            line=1,
            hint="start the file with ---, then 'title: ...' and 'date: ...', then ---",
        )
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in (_FENCE, "...")), None)
    if end is None:
        raise ContentError(
            "front matter is not closed; expected a '---' line after the YAML",
            path=path,
            line=1,
            hint="add a line with only --- where the front matter ends",
        )
    yaml_text = "\n".join(lines[1:end])
    meta = _load_yaml(yaml_text, path=path)
    return FrontMatter(
        meta=meta, yaml_text=yaml_text, body="\n".join(lines[end + 1 :]), body_line=end + 2
    )


def _load_yaml(yaml_text: str, *, path: str) -> dict[str, Any]:
    try:
        meta = yaml.load(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, yaml_text, path) from None
    except yaml.reader.ReaderError as exc:  # a control character, with no mark
        raise _reader_error(exc, yaml_text, path) from None
    except yaml.YAMLError as exc:
        raise ContentError(f"invalid YAML in front matter: {exc}", path=path, line=2) from None
    except RecursionError:  # the pure-Python loader; libyaml stops at depth 1,000 itself
        raise ContentError("front matter is nested too deeply", path=path, line=2) from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ContentError(
            f"front matter must be key: value pairs, got {_show(meta)}", path=path, line=2
        )
    try:
        for _ in _nodes(meta):
            pass
    except _TooLarge:
        raise ContentError(
            f"front matter is too large (over {_MAX_NODES:,} values once aliases are expanded)",
            path=path,
            line=2,
        ) from None
    return meta


def _reader_error(exc: yaml.reader.ReaderError, yaml_text: str, path: str) -> ContentError:
    at = min(max(exc.position, 0), len(yaml_text))
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return ContentError(
        f"invalid YAML in front matter: the character U+{code:04X} is not allowed",
        path=path,
        line=yaml_text.count("\n", 0, at) + 2,
        column=at - (yaml_text.rfind("\n", 0, at) + 1) + 1,
        hint="remove it; only tab and line breaks may appear among the text",
    )


def _yaml_error(exc: yaml.MarkedYAMLError, yaml_text: str, path: str) -> ContentError:
    """Locate a YAML error; an unclosed bracket is reported where it was opened."""
    mark = exc.problem_mark or exc.context_mark
    message = f"invalid YAML in front matter: {exc.problem or exc.context}"
    at_end = mark is not None and mark.line >= yaml_text.count("\n")
    if at_end and exc.context_mark is not None and exc.context:
        mark = exc.context_mark
        message += f"; {exc.context} that starts here"
    line = mark.line + 2 if mark else None
    column = mark.column + 1 if mark else None
    return ContentError(message, path=path, line=line, column=column)


def _nodes(value: object) -> Iterator[object]:
    """Every value in a YAML tree, aliases followed, so that "billion laughs" YAML
    (a few lines that expand to billions of values) is refused before anything uses it."""
    stack, seen = [value], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > _MAX_NODES:
            raise _TooLarge
        yield node
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)


class _TooLarge(Exception):
    """More than ``_MAX_NODES`` values once aliases are expanded."""


def _bad_character(value: object) -> str | None:
    """The first character of ``value`` (or within it) that HTML and feeds cannot carry."""
    for node in _nodes(value):
        if isinstance(node, str) and (found := _UNCARRIABLE.search(node)):
            return f"U+{ord(found[0]):04X}"
    return None


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, datetime | date) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


class _Reader:
    """Validates one file's front matter, collecting every problem with its line."""

    def __init__(self, front: FrontMatter, *, path: str, tz: tzinfo) -> None:
        self.meta, self.path, self.tz = front.meta, path, tz
        self.yaml_text = front.yaml_text
        self.problems: list[SiteError] = []

    def error(self, key: str, message: str, hint: str | None = None) -> None:
        found = re.search(rf"^({re.escape(key)})\s*:[ \t]*", self.yaml_text, re.MULTILINE)
        line = column = None
        if found:
            line = self.yaml_text.count("\n", 0, found.start()) + 2
            rest = self.yaml_text[found.end() :].split("\n", 1)[0]
            column = found.end() - found.start() + 1 if rest.strip() else None
        self.problems.append(
            ContentError(f"{key}: {message}", path=self.path, line=line, column=column, hint=hint)
        )

    def missing(self, key: str, hint: str) -> None:
        self.problems.append(
            ContentError(f"{key}: required field is missing", path=self.path, line=1, hint=hint)
        )

    def check_keys(self) -> None:
        """Keys must be text; no value may hold a character that HTML and feeds cannot carry."""
        for key, value in self.meta.items():
            if not isinstance(key, str):
                self.problems.append(
                    ContentError(f"front matter key {key!r} is not text", path=self.path, line=2)
                )
            elif bad := _bad_character(key):
                self.problems.append(
                    ContentError(
                        f"front matter key {key!r} contains the character {bad}",
                        path=self.path,
                        line=2,
                    )
                )
            elif bad := _bad_character(value):
                self.error(
                    key,
                    f"contains the character {bad}, which HTML pages and feeds cannot carry",
                    hint="remove it; an escape such as \\x01 or \\ud800 in double quotes makes it",
                )

    def file_date(self, value: datetime) -> datetime | None:
        """The date a YYYY-MM-DD- file name gives, when it is in range."""
        try:
            return _in_range(value)
        except _Invalid as exc:
            self.problems.append(
                ContentError(f"date: the file name's date {exc.expected}", path=self.path, line=1)
            )
            return None

    def get(self, key: str, convert: Callable[[object], Any], default: Any = None) -> Any:
        if key not in self.meta or self.meta[key] is None:
            return default
        try:
            return convert(self.meta[key])
        except _Invalid as exc:
            self.error(key, f"{_show(self.meta[key])} {exc.expected}", exc.hint)
            return default


class _Invalid(Exception):
    def __init__(self, expected: str, hint: str | None = None) -> None:
        super().__init__(expected)
        self.expected, self.hint = expected, hint


def _as_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("is not text; expected a string")
    text = str(value).strip()
    if not text:
        raise _Invalid("is empty; expected some text")
    return text


def _as_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("is not true or false")
    return value


def _as_text_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list):
        items = value
    else:
        raise _Invalid("is not a list; expected [a, b] or 'a, b'")
    if any(isinstance(item, bool) or not isinstance(item, str | int | float) for item in items):
        raise _Invalid("is not a list of strings; expected [a, b] or 'a, b'")
    names = [str(item).strip() for item in items]
    return tuple(dict.fromkeys(name for name in names if name))


def _as_term(value: object) -> str:
    """A tag, category or author name: it becomes a page, so it needs a usable slug."""
    name = _as_text(value)
    slug = slugify(name)
    if not slug:
        raise _Invalid(
            f"names {name!r}, which has no letters or digits for its page's address",
            hint="use words, e.g. 'security' rather than '..' or '#'",
        )
    if len(slug.encode()) > _MAX_SLUG_BYTES:
        raise _Invalid(f"names a term too long for a page address (over {_MAX_SLUG_BYTES} bytes)")
    return name


def _as_terms(value: object) -> tuple[str, ...]:
    return tuple(_as_term(name) for name in _as_text_list(value))


def _as_url(value: object) -> str:
    url = _as_text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Invalid("is not an absolute http(s) URL")
    return url


def _as_source(value: object) -> Source:
    if isinstance(value, str):
        url = _as_url(value)
        host = urlsplit(url).hostname or url
        return Source(name=str(host).removeprefix("www."), url=url)
    if isinstance(value, dict) and "name" in value and set(value) <= {"name", "url"}:
        cited = _as_url(value["url"]) if value.get("url") is not None else None
        return Source(name=_as_text(value["name"]), url=cited)
    raise _Invalid("is not a source; expected a URL or {name: ..., url: ...}")


def _as_sources(value: object) -> tuple[Source, ...]:
    return tuple(_as_source(item) for item in (value if isinstance(value, list) else [value]))


def parse_date(value: object, tz: tzinfo) -> datetime:
    """A time-zone aware datetime from YAML's date, datetime or text; naive → ``tz``."""
    if isinstance(value, str):
        found = _DATE_TEXT.fullmatch(value.strip())
        if not found:
            raise _Invalid(f"is not a date; {_DATE_HINT}")
        day, clock, zone = found.groups()
        text = f"{day}T{clock or '00:00'}{(zone or '').replace('Z', '+00:00')}"
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise _Invalid(f"is not a valid date; {_DATE_HINT}") from None
    if isinstance(value, datetime):
        return _in_range(value if value.tzinfo is not None else value.replace(tzinfo=tz))
    if isinstance(value, date):
        return _in_range(datetime.combine(value, time(), tzinfo=tz))
    raise _Invalid(f"is not a date; {_DATE_HINT}")


def _in_range(value: datetime) -> datetime:
    low, high = _YEARS
    if not low <= value.year <= high:
        raise _Invalid(f"is out of range; expected a year from {low} to {high}")
    return value


_KNOWN = frozenset(
    (
        "title",
        "date",
        "updated",
        "slug",
        "summary",
        "tags",
        "category",
        "author",
        "authors",
        "source",
        "image",
        "draft",
        "id",
    )
)


def read_fields(
    front: FrontMatter,
    *,
    path: str,
    tz: tzinfo,
    file_slug: str,
    file_date: datetime | None,
    needs_date: bool,
) -> tuple[Fields | None, list[SiteError]]:
    """Validate the front matter of one file; ``None`` and every problem when invalid."""
    r = _Reader(front, path=path, tz=tz)
    r.check_keys()
    title = r.get("title", _as_text)
    if title is None and r.meta.get("title") is None:
        r.missing("title", "add a line such as 'title: Chip makers report ...'")
    named = r.file_date(file_date) if file_date and r.meta.get("date") is None else None
    when = r.get("date", lambda v: parse_date(v, tz), named)
    if when is None and needs_date and "date" not in r.meta and file_date is None:
        r.missing("date", "add 'date: 2026-11-24 09:30' or name the file YYYY-MM-DD-slug.md")
    slug: str = r.get("slug", _as_slug, file_slug or (_fit(slugify(title)) if title else ""))
    authors = r.get("authors", _as_terms, ()) or r.get("author", lambda v: (_as_term(v),), ())
    fields = Fields(
        title=title or "",
        slug=slug,
        date=when,
        updated=r.get("updated", lambda v: parse_date(v, tz)),
        summary=r.get("summary", _as_text),
        tag_names=r.get("tags", _as_terms, ()),
        category=r.get("category", _as_term),
        authors=authors,
        sources=r.get("source", _as_sources, ()),
        image=r.get("image", _as_text),
        draft=r.get("draft", _as_bool, False),
        feed_id=r.get("id", _as_text),
        extra=_checked_extra(r),
    )
    return (None, r.problems) if r.problems else (fields, [])


def _checked_extra(r: _Reader) -> dict[str, object]:
    """The keys templates and other stages read from ``extra``, checked here so that a
    broken one is an error with its line, not a feed element or a link silently lost."""
    r.get("source_feed", lambda v: _as_feed_origin(v, r.tz))
    r.get("translation_key", _as_text)
    r.get("lang", _as_text)
    return {k: v for k, v in r.meta.items() if isinstance(k, str) and k not in _KNOWN}


_FEED_ORIGIN_KEYS = frozenset(("id", "title", "url", "updated"))


def _as_feed_origin(value: object, tz: tzinfo) -> None:
    """``source_feed``, as ingest writes it: the feed a story came from."""
    if not isinstance(value, dict) or set(value) != _FEED_ORIGIN_KEYS:
        raise _Invalid(
            "is not the feed a story came from; expected {id, title, url, updated}",
            "ingest writes it; restore the four keys, or remove source_feed",
        )
    _as_text(value["id"])
    _as_text(value["title"])
    _as_url(value["url"])
    parse_date(value["updated"], tz)


def _as_slug(value: object) -> str:
    slug = slugify(_as_text(value))
    if not slug:
        raise _Invalid("has no letters or digits; expected a slug such as 'new-chip-fab'")
    if len(slug.encode()) > _MAX_SLUG_BYTES:
        raise _Invalid(f"is too long for a page address; at most {_MAX_SLUG_BYTES} bytes")
    return slug


def _fit(slug: str) -> str:
    """A slug made from a long title, cut at a word boundary to fit one path segment."""
    data = slug.encode()
    if len(data) <= _MAX_SLUG_BYTES:
        return slug
    cut = data[: _MAX_SLUG_BYTES + 1].decode(errors="ignore")
    words = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return words.encode()[:_MAX_SLUG_BYTES].decode(errors="ignore").strip("-")
