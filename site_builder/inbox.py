"""Inbox: the editor's candidate stories in ``content/inbox/`` and the record of seen URLs.

Input: the site's ``content/`` and ``inbox.json`` beside ``site.toml``. Output: the
candidates listed (on the terminal or as the preview's ``/_inbox/`` page), drafts
published into ``content/articles/`` or discarded, and the record kept up to date.
Every file is written through ``write_atomic``; nothing here touches ``output/``.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from site_builder.cache import cache_folder
from site_builder.config import SiteConfig
from site_builder.content import decode, walk
from site_builder.errors import ContentError, SiteError
from site_builder.frontmatter import split_front_matter
from site_builder.site import source_identity

INBOX_DIR = "inbox"
ARTICLES_DIR = "articles"
RECORD_NAME = "inbox.json"
# A link offered or discarded is remembered this long after its feed stopped listing it.
REMEMBER_DAYS = 180
Action = Literal["publish", "discard"]
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


# ---------------------------------------------------------------- files


def write_atomic(path: Path, text: str, *, replace_existing: bool = True) -> None:
    """Write ``text`` to ``path`` whole or not at all; with ``replace_existing`` false,
    raise ``FileExistsError`` rather than replace a file (an editor's story)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        if replace_existing:
            Path(temp).replace(path)
        else:
            os.link(temp, path)  # fails if a file is there; a rename would replace it
    finally:
        Path(temp).unlink(missing_ok=True)


def unique_path(folder: Path, stem: str, taken: set[str] | None = None) -> Path:
    """``folder/stem.md``, or ``stem-2.md`` and on when that name is taken."""
    for n in range(1, 10_000):
        name = f"{stem}.md" if n == 1 else f"{stem}-{n}.md"
        if not (folder / name).exists() and (taken is None or name[:-3] not in taken):
            return folder / name
    raise FileExistsError(folder / f"{stem}.md")


def create_unique(folder: Path, stem: str, text: str) -> Path:
    """A new file ``stem.md`` (or ``stem-2.md``, ...) in ``folder``; never replaces one."""
    for n in range(1, 1_000):
        path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
        with contextlib.suppress(FileExistsError):
            write_atomic(path, text, replace_existing=False)
            return path
    raise FileExistsError(folder / f"{stem}.md")


# ---------------------------------------------------------------- the record


@dataclass(frozen=True, slots=True, kw_only=True)
class Validators:
    """What a feed's server said last time, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """Item URLs already offered to the editor and those discarded (each with the day it
    was), each feed's validators and the items it listed when last read. Committed
    beside site.toml so that CI and every editor share it."""

    seen: Mapping[str, str] = field(default_factory=dict)  # URL -> ISO day; "": not known
    discarded: Mapping[str, str] = field(default_factory=dict)
    feeds: Mapping[str, Validators] = field(default_factory=dict)
    listed: Mapping[str, frozenset[str]] = field(default_factory=dict)  # feed URL -> items

    def identities(self) -> set[str]:
        return {item_identity(url) for url in (*self.seen, *self.discarded)}

    def to_json(self) -> str:
        data = {
            "about": "site-builder ingest: item URLs offered to the editor or discarded, "
            "and the day they were; commit it with content/",
            "seen": dict(sorted(self.seen.items())),
            "discarded": dict(sorted(self.discarded.items())),
            "feeds": {url: self._feed(url) for url in sorted({*self.feeds, *self.listed})},
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    def _feed(self, url: str) -> dict[str, object]:
        said = self.feeds.get(url, Validators())
        items = sorted(self.listed.get(url, ()))
        found = (("etag", said.etag), ("last_modified", said.last_modified), ("items", items))
        return {k: v for k, v in found if v}


def item_identity(url: str) -> str:
    """What makes two feed items one story: ``source_identity`` and the fragment, as a
    feed may give one item per part of a page (``page#a``, ``page#b``) and each is its
    own story (they were once taken for one, and all but the first never offered)."""
    fragment = urlsplit(url.strip()).fragment
    return source_identity(url) + (f"#{fragment}" if fragment else "")


def forgetting(record: Record, today: date, sources: Iterable[str]) -> Record:
    """``record`` without what can no longer come back, so that it stops growing: links
    offered or discarded more than ``REMEMBER_DAYS`` ago that no source's feed lists any
    more (a feed keeps its last few dozen items), and the feeds no source names. A link
    with no day yet (a record from before days were kept) is dated ``today``."""
    named = set(sources)
    listed = {url: items for url, items in record.listed.items() if url in named}
    live = {item_identity(item) for items in listed.values() for item in items}
    oldest = (today - timedelta(days=REMEMBER_DAYS)).isoformat()

    def kept(links: Mapping[str, str]) -> dict[str, str]:
        dated = {url: day or today.isoformat() for url, day in links.items()}
        return {u: d for u, d in dated.items() if d >= oldest or item_identity(u) in live}

    return replace(
        record,
        seen=kept(record.seen),
        discarded=kept(record.discarded),
        feeds={url: v for url, v in record.feeds.items() if url in named},
        listed=listed,
    )


def record_path(config: SiteConfig) -> Path:
    return config.root / RECORD_NAME


def load_record(config: SiteConfig) -> Record | SiteError:
    path = record_path(config)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Record()
    except (OSError, UnicodeDecodeError) as exc:
        return ContentError(f"cannot read the inbox record: {exc}", path=RECORD_NAME)
    except json.JSONDecodeError as exc:
        return ContentError(
            f"the inbox record is not JSON: {exc.msg}",
            path=RECORD_NAME,
            line=exc.lineno,
            column=exc.colno,
            hint="resolve the merge conflict, or restore the file from git",
        )
    return _record_from(data)


def _record_from(data: object) -> Record | SiteError:
    if not isinstance(data, dict):
        return ContentError("the inbox record is not a JSON object", path=RECORD_NAME, line=1)
    feeds = data.get("feeds") if isinstance(data.get("feeds"), dict) else {}
    assert isinstance(feeds, dict)
    read = {str(url): v for url, v in feeds.items() if isinstance(v, dict)}
    return Record(
        seen=_dated(data.get("seen")),
        discarded=_dated(data.get("discarded")),
        feeds={
            url: Validators(etag=_opt(v.get("etag")), last_modified=_opt(v.get("last_modified")))
            for url, v in read.items()
        },
        listed={url: frozenset(_dated(v.get("items"))) for url, v in read.items() if "items" in v},
    )


def _dated(value: object) -> dict[str, str]:
    """Links and their days: a list (links without days, as records first kept them)
    or an object of link to ISO day; a day that is not one is not known."""
    if isinstance(value, list):
        return {v: "" for v in value if isinstance(v, str)}
    if not isinstance(value, dict):
        return {}
    return {str(url): day if _is_day(day) else "" for url, day in value.items()}


def _is_day(value: object) -> bool:
    if not isinstance(value, str) or len(value) != len("2026-12-07"):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@contextlib.contextmanager
def record_lock(config: SiteConfig) -> Iterator[None]:
    """One change of the record at a time: the command line and the preview's buttons.

    ``flock`` locks belong to an open file, so two threads of the preview exclude each
    other as two processes do. Where there is no ``fcntl`` (Windows) nothing is locked.
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:
        yield
        return
    with (cache_folder(config.root) / "inbox.lock").open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_record(config: SiteConfig, record: Record) -> SiteError | None:
    try:
        write_atomic(record_path(config), record.to_json())
    except OSError as exc:
        return ContentError(f"cannot write the inbox record: {exc.strerror}", path=RECORD_NAME)
    return None


# ---------------------------------------------------------------- drafts


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A draft in the inbox, as the editor's list shows it."""

    path: str  # relative to the site folder, e.g. content/inbox/x.md
    title: str
    date: datetime | None
    source_name: str
    source_urls: tuple[str, ...]
    slug: str


def source_urls(meta: Mapping[str, object]) -> tuple[str, ...]:
    """The URLs a front matter's ``source`` cites: a URL, ``{name, url}`` or a list."""
    value = meta.get("source")
    items = value if isinstance(value, list) else [value]
    urls = [item.get("url") if isinstance(item, dict) else item for item in items]
    return tuple(u.strip() for u in urls if isinstance(u, str) and u.strip())


def _source_name(meta: Mapping[str, object]) -> str:
    value = meta.get("source")
    first = value[0] if isinstance(value, list) and value else value
    name = first.get("name") if isinstance(first, dict) else first
    return str(name) if isinstance(name, str | int | float) else ""


def read_meta(path: Path, rel: str) -> dict[str, object] | SiteError:
    """The front matter of one content file, or the problem that stops reading it."""
    try:
        text = decode(path.read_bytes(), path=rel)
        return split_front_matter(text, path=rel).meta
    except SiteError as problem:
        return problem
    except OSError as exc:
        return ContentError(f"cannot read file: {exc.strerror}", path=rel)


def _candidate(config: SiteConfig, path: Path) -> Candidate | SiteError:
    rel = path.relative_to(config.root).as_posix()
    meta = read_meta(path, rel)
    if isinstance(meta, SiteError):
        return meta
    when = _when(meta.get("date"), config.tz)
    slug = meta.get("slug")
    return Candidate(
        path=rel,
        title=str(meta.get("title") or path.stem),
        date=when,
        source_name=_source_name(meta),
        source_urls=source_urls(meta),
        slug=str(slug) if isinstance(slug, str) and slug else path.stem,
    )


def _when(value: object, tz: tzinfo) -> datetime | None:
    """A draft's date for sorting; the build reports a bad one, so here it is only unknown."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def age(then: datetime | None, now: datetime) -> str:
    """How long ago, in the largest whole unit: ``5 min``, ``3 h``, ``2 d``."""
    if then is None:
        return "?"
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return "now"


def list_inbox(config: SiteConfig) -> tuple[list[Candidate], list[SiteError]]:
    """The drafts in ``content/inbox/``, newest first, and the files that cannot be read."""
    found: list[Candidate] = []
    problems: list[SiteError] = []
    for path in walk(config.content_dir / INBOX_DIR):
        if path.suffix == ".md":
            item = _candidate(config, path)
            (problems if isinstance(item, SiteError) else found).append(item)  # type: ignore[arg-type]
    found.sort(key=lambda c: c.path)
    found.sort(key=lambda c: c.date.timestamp() if c.date else 0.0, reverse=True)
    return found, problems


def cited_identities(config: SiteConfig) -> tuple[set[str], list[SiteError]]:
    """Every source URL cited under ``content/`` (articles and drafts), as ``item_identity``."""
    cited: set[str] = set()
    problems: list[SiteError] = []
    for path in walk(config.content_dir):
        if path.suffix == ".md":
            meta = read_meta(path, path.relative_to(config.root).as_posix())
            if isinstance(meta, SiteError):
                problems.append(meta)
            else:
                cited.update(item_identity(url) for url in source_urls(meta))
    return cited, problems


def draft_path(config: SiteConfig, given: str, cwd: Path | None = None) -> Path | SiteError:
    """The inbox draft ``given`` names (relative to ``cwd`` or to the site folder).

    The preview passes a path from a form, so anything outside ``content/inbox/`` is refused.
    """
    inbox = (config.content_dir / INBOX_DIR).resolve()
    raw = Path(given)
    tries = [raw] if raw.is_absolute() else [(cwd or Path.cwd()) / raw, config.root / raw]
    for candidate in tries:
        resolved = candidate.resolve()
        if resolved.is_file():
            if not resolved.is_relative_to(inbox) or resolved.suffix != ".md":
                return ContentError(
                    f"{given!r} is not a draft in {INBOX_DIR}/",
                    hint="name a file listed by 'site-builder inbox', e.g. content/inbox/x.md",
                )
            return resolved
    return ContentError(f"{given!r}: no such draft", hint="'site-builder inbox' lists them")


def set_keys(text: str, values: Mapping[str, str]) -> str:
    """``text`` with top-level front matter keys set to YAML ``values``; the rest, the
    editor's words and comments included, is kept as it was."""
    lines = text.split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    head, done = lines[1:end], set()
    out: list[str] = []
    for line in head:
        key = _TOP_KEY.match(line)
        if key and key[1] in values:
            out.append(f"{key[1]}: {values[key[1]]}")
            done.add(key[1])
        elif not (out and line[:1] in (" ", "\t") and _set_here(out[-1], values)):
            out.append(line)
    out += [f"{k}: {v}" for k, v in values.items() if k not in done]
    return "\n".join([lines[0], *out, *lines[end:]])


def _set_here(line: str, values: Mapping[str, str]) -> bool:
    """Whether ``line`` is a key this edit set: its old indented lines are dropped."""
    key = _TOP_KEY.match(line)
    return bool(key and key[1] in values)


def publish(config: SiteConfig, draft: Path, now: datetime) -> str | SiteError:
    """Move ``draft`` to ``content/articles/``, published at ``now``."""
    rel = draft.relative_to(config.root).as_posix()
    try:
        text = decode(draft.read_bytes(), path=rel)
        split_front_matter(text, path=rel)  # a broken draft stays where it is
        when = now.astimezone(config.tz).replace(microsecond=0).isoformat()
        text = set_keys(text, {"date": when, "draft": "false"})
        target = create_unique(config.content_dir / ARTICLES_DIR, draft.stem, text)
        draft.unlink()
    except SiteError as problem:
        return problem
    except OSError as exc:
        return ContentError(f"cannot publish: {exc.strerror}", path=rel)
    return f"{rel} -> {target.relative_to(config.root).as_posix()}"


def discard(config: SiteConfig, draft: Path, now: datetime) -> str | SiteError:
    """Delete ``draft`` and record its source URLs so that ``ingest`` never brings it back."""
    rel = draft.relative_to(config.root).as_posix()
    meta = read_meta(draft, rel)
    urls = source_urls(meta) if isinstance(meta, dict) else ()
    with record_lock(config):
        record = load_record(config)
        if isinstance(record, SiteError):
            return record
        today = now.astimezone(config.tz).date().isoformat()
        new = replace(record, discarded={**record.discarded, **dict.fromkeys(urls, today)})
        if urls and (failure := save_record(config, new)):
            return failure
    try:
        draft.unlink()
    except OSError as exc:
        return ContentError(f"cannot delete: {exc.strerror}", path=rel)
    return f"{rel} discarded" + (f" ({urls[0]} will not come back)" if urls else "")


def act(
    config: SiteConfig, action: Action, paths: Iterable[str], now: datetime, cwd: Path | None = None
) -> list[str | SiteError]:
    """Publish or discard each named draft; one result line or problem per path."""
    results: list[str | SiteError] = []
    for given in paths:
        draft = draft_path(config, given, cwd)
        if isinstance(draft, SiteError):
            results.append(draft)
        else:
            results.append(
                publish(config, draft, now) if action == "publish" else discard(config, draft, now)
            )
    return results


# ---------------------------------------------------------------- the preview's /_inbox/


def inbox_action(config: SiteConfig, action: Action, path: str, now: datetime) -> str | SiteError:
    """What a Publish or Discard button does: ``path`` is relative to the site folder."""
    if action not in ("publish", "discard"):
        return ContentError(f"unknown inbox action {action!r}")
    return act(config, action, [path], now, cwd=config.root)[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxForm:
    """A POSTed button: which action, on which draft, with which session token."""

    action: Action
    path: str
    token: str


def read_inbox_form(body: bytes) -> InboxForm | SiteError:
    """Parse an ``application/x-www-form-urlencoded`` POST from the inbox page."""
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return ContentError("the inbox form is malformed")
    one = {key: values[0] for key, values in fields.items() if len(values) == 1}
    action, path, token = one.get("action"), one.get("path"), one.get("token", "")
    if action not in ("publish", "discard") or not path:
        return ContentError("the inbox form needs action=publish|discard and a path")
    return InboxForm(action=action, path=path, token=token)  # type: ignore[arg-type]


def inbox_page(config: SiteConfig, *, token: str, base_path: str) -> bytes:
    """The preview's ``/_inbox/``: every candidate with Publish and Discard buttons.

    Each form carries ``token``; the server checks it (and ``Origin``) on the POST.
    The referrer policy is same-origin, not no-referrer: under no-referrer a browser
    sends ``Origin: null`` with a POST, and the server could not tell it from a forgery.
    """
    found, problems = list_inbox(config)
    esc = html.escape
    # Drafts have pages only in a preview with --drafts: link them only there.
    pages = base_path if config.drafts else None
    rows = [_row(c, token=token, base_path=base_path, pages=pages) for c in found]
    notes = "".join(f"<li>{esc(str(p))}</li>" for p in problems)
    body = (
        f"<h1>Inbox <small>{len(found)} candidate{'s' if len(found) != 1 else ''}</small></h1>"
        + (f"<ul class=problems>{notes}</ul>" if notes else "")
        + (
            "<ol>" + "".join(rows) + "</ol>"
            if rows
            else "<p>Nothing new. Run site-builder ingest.</p>"
        )
    )
    page = (
        f'<!doctype html>\n<html lang="{esc(config.language)}"><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex"><meta name="referrer" content="same-origin">'
        f"<title>Inbox · {esc(config.title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    return page.encode("utf-8")


_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
    "li{margin:0 0 1rem}form{display:inline}small,.meta{color:#666}"
    "button{margin-right:.5rem}.problems{color:#a00}"
)


def _row(c: Candidate, *, token: str, base_path: str, pages: str | None) -> str:
    esc = html.escape
    when = f'<time datetime="{c.date.isoformat()}">{c.date:%Y-%m-%d %H:%M}</time>' if c.date else ""
    source = esc(c.source_name)
    if c.source_urls:
        source = (
            f'<a href="{esc(c.source_urls[0])}" rel="noopener noreferrer">{source or "source"}</a>'
        )
    form = (
        f'<form method="post" action="{esc(base_path)}_inbox/">'
        f'<input type="hidden" name="token" value="{esc(token)}">'
        f'<input type="hidden" name="path" value="{esc(c.path)}">'
        '<button name="action" value="publish">Publish</button>'
        '<button name="action" value="discard">Discard</button></form>'
    )
    preview = f"<strong>{esc(c.title)}</strong>"
    if pages is not None:
        preview = f'<a href="{esc(pages)}articles/{esc(c.slug)}/">{preview}</a>'
    return f"<li>{preview}<div class=meta>{source} {when} · {esc(c.path)}</div>{form}</li>"
