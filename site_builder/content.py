"""Content stage: the only reader of ``content/``.

Walks the folder in sorted order, decodes each Markdown file, validates its front
matter and renders its body. Returns the entries, the files to copy as they are,
and every problem found (a broken file never stops the others from being read).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, time
from multiprocessing import get_context
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from site_builder.cache import RenderCache, code_fingerprint
from site_builder.config import SiteConfig
from site_builder.errors import ContentError, SiteError
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.markdown import OPTIONS_VERSION, render_markdown
from site_builder.model import Entry, Progress, no_progress, slugify

PAGES_DIR = "pages"
DIGESTS_DIR = "digests"  # introductions to digest issues: 2021-w33.md, 2021-08-17.md
_JEKYLL_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})-(.+)")
_TOP_LEVEL_KEY = re.compile(r"^([^\s#:\-][^:]*?)\s*:", re.MULTILINE)
_POOL_THRESHOLD = 64  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """What ``content/`` holds: entries to place and other files to copy."""

    entries: tuple[Entry, ...]
    assets: tuple[str, ...]  # posix paths relative to content/


def is_ignored(name: str) -> bool:
    """Hidden files and editors' temporary and swap files are never content."""
    return (
        name.startswith((".", "#", "~"))
        or name.endswith(("~", ".swp", ".swx", ".tmp"))
        or name in ("4913", "Thumbs.db")
    )


def walk(folder: Path) -> Iterator[Path]:
    """Every file below ``folder`` that is not ignored, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored(d))
        for name in sorted(filenames):
            if not is_ignored(name):
                yield Path(dirpath) / name


def _read_sources(config: SiteConfig) -> tuple[list[tuple[str, bytes]], list[str], list[SiteError]]:
    sources: list[tuple[str, bytes]] = []
    assets: list[str] = []
    problems: list[SiteError] = []
    if refused := _outside_site(config.content_dir, config):
        return sources, assets, [refused]
    for path in walk(config.content_dir):
        rel = path.relative_to(config.content_dir).as_posix()
        if refused := _refusal(path, f"content/{rel}", config):
            problems.append(refused)
        elif path.suffix.lower() != ".md":
            assets.append(rel)
        else:
            try:
                sources.append((f"content/{rel}", path.read_bytes()))
            except OSError as exc:
                problems.append(
                    ContentError(f"cannot read file: {exc.strerror}", path=f"content/{rel}")
                )
    return sources, assets, problems


def _outside_site(path: Path, config: SiteConfig) -> ContentError | None:
    """A symlink (content/ itself, or a file in it) that leads out of the site folder."""
    if config.allow_symlinks_outside or not path.is_symlink():
        return None
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a loop: reading it fails and says so
        return None
    if target.is_relative_to(config.root):
        return None
    return ContentError(
        f"symlink leads outside the site, to {target.as_posix()}",
        path=path.relative_to(config.root).as_posix(),
        hint="copy the file into the site, or set allow_symlinks_outside = true in site.toml",
    )


def _refusal(path: Path, name: str, config: SiteConfig) -> ContentError | None:
    """Why a file under content/ is not read: it leads outside, is no file, or is too big."""
    if outside := _outside_site(path, config):
        return outside
    try:
        info = path.stat()
    except OSError as exc:  # a broken symlink or a loop
        return ContentError(f"cannot read file: {exc.strerror}", path=name)
    if not stat.S_ISREG(info.st_mode):  # a pipe or device would block or never end
        return ContentError("not a regular file (a pipe, socket or device)", path=name)
    if name.lower().endswith(".md") and info.st_size > config.max_article_bytes:
        return ContentError(
            f"file is {info.st_size:,} bytes; an article may have at most "
            f"{config.max_article_bytes:,}",
            path=name,
            hint="split it, or raise max_article_bytes in site.toml",
        )
    return None


_RENDERER = ("content", "frontmatter", "markdown", "model")


def _cache_key(path: str, data: bytes, timezone: str, allow_html: bool) -> str:
    """Everything a rendered entry depends on: its bytes, name, zone, HTML policy, renderer."""
    renderer = code_fingerprint(*_RENDERER)
    options = f"{OPTIONS_VERSION}\0{renderer}\0{timezone}\0html={allow_html}"
    digest = hashlib.sha256(f"{options}\0{path}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def load_content(
    config: SiteConfig,
    *,
    jobs: int = 1,
    cache: RenderCache | None = None,
    progress: Progress = no_progress,
) -> tuple[Content, list[SiteError]]:
    """Read everything under ``content/``; render only what the cache does not hold."""
    sources, assets, problems = _read_sources(config)
    allow_html = config.markdown.allow_html
    keys = [_cache_key(name, data, config.timezone, allow_html) for name, data in sources]
    stored = cache.stored(keys) if cache else set()
    missing = [i for i, key in enumerate(keys) if key not in stored]
    fresh: dict[str, bytes] = {}
    todo = [sources[i] for i in missing]
    rendered = _parse_all(todo, config.timezone, allow_html, jobs, progress)
    for i, result in zip(missing, rendered, strict=True):
        if isinstance(result, bytes):
            fresh[keys[i]] = result
        else:
            problems.extend(result)
    if cache:
        cache.put_many(fresh)
        cache.keep_only(keys)
    entries = []
    for i, key in enumerate(keys):
        blob = fresh.pop(key, None) or (cache.get(key) if cache and key in stored else None)
        if blob is not None or key in stored:
            entries.append(_unpack(blob, sources[i], config.timezone, allow_html))
    return Content(entries=tuple(entries), assets=tuple(assets)), problems


def load_files(
    config: SiteConfig, names: Iterable[str], *, cache: RenderCache | None = None
) -> tuple[list[Entry], list[SiteError]]:
    """Read only the named Markdown files (``content/...``), as ``load_content`` would."""
    entries: list[Entry] = []
    problems: list[SiteError] = []
    allow_html = config.markdown.allow_html
    for name in names:
        path = config.root / name
        if refused := _refusal(path, name, config):
            problems.append(refused)
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(ContentError(f"cannot read file: {exc.strerror}", path=name))
            continue
        key = _cache_key(name, data, config.timezone, allow_html)
        blob = cache.get(key) if cache else None
        if blob is None:
            result = _render_packed(name, data, config.timezone, allow_html)
            if not isinstance(result, bytes):
                problems.extend(result)
                continue
            blob = result
            if cache:
                cache.put_many({key: blob})
        entries.append(_unpack(blob, (name, data), config.timezone, allow_html))
    return entries, problems


def _unpack(
    blob: bytes | None, source: tuple[str, bytes], timezone: str, allow_html: bool
) -> Entry:
    """An entry from the cache; a damaged or vanished one is rendered again, never trusted."""
    try:
        entry = pickle.loads(blob) if blob else None  # written by this program, keyed by hash
        if isinstance(entry, Entry):
            return entry
    except Exception:  # noqa: BLE001 - any unpickling failure means "not cached"
        pass
    result = parse_entry(*source, timezone, allow_html=allow_html)
    assert isinstance(result, Entry)  # the same bytes rendered fine before
    return result


def _render_packed(
    path: str, data: bytes, timezone: str, allow_html: bool
) -> bytes | list[SiteError]:
    """Run in a worker: the entry already pickled, as the cache stores it."""
    result = parse_entry(path, data, timezone, allow_html=allow_html)
    return pickle.dumps(result, pickle.HIGHEST_PROTOCOL) if isinstance(result, Entry) else result


def _parse_all(
    sources: list[tuple[str, bytes]],
    timezone: str,
    allow_html: bool,
    jobs: int,
    progress: Progress,
) -> list[bytes | list[SiteError]]:
    zones = [timezone] * len(sources)
    policies = [allow_html] * len(sources)
    names = [name for name, _ in sources]
    blobs = [data for _, data in sources]
    if jobs <= 1 or len(sources) < _POOL_THRESHOLD:
        results = map(_render_packed, names, blobs, zones, policies)
        return _counted(results, len(sources), progress)
    # forkserver: fork() beside the preview server's threads is unsafe.
    context = get_context("forkserver" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        chunk = max(1, min(64, len(sources) // (jobs * 8)))
        pooled = pool.map(_render_packed, names, blobs, zones, policies, chunksize=chunk)
        return _counted(pooled, len(sources), progress)


def _counted(
    results: Iterable[bytes | list[SiteError]], total: int, progress: Progress
) -> list[bytes | list[SiteError]]:
    done = []
    for result in results:
        done.append(result)
        progress("Rendering Markdown", len(done), total)
    return done


def decode(data: bytes, *, path: str) -> str:
    """UTF-8 text with a byte-order mark dropped and line endings made ``\\n``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ContentError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot start a character here",
            path=path,
            line=line,
            column=column,
            hint="save the file as UTF-8 (it looks like Latin-1 or Windows-1252)",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _file_defaults(path: str, tz: ZoneInfo) -> tuple[str, datetime | None]:
    """Slug and date a Jekyll-style ``YYYY-MM-DD-slug.md`` name supplies."""
    stem = Path(path).stem
    found = _JEKYLL_NAME.fullmatch(stem)
    if not found:
        return slugify(stem), None
    try:
        day = datetime(int(found[1]), int(found[2]), int(found[3]), tzinfo=tz)
    except ValueError:
        return slugify(stem), None
    return slugify(found[4]), datetime.combine(day.date(), time(), tzinfo=tz)


def _key_lines(yaml_text: str) -> dict[str, int]:
    """The line of each top-level front matter key in the file (the YAML starts on line 2)."""
    lines: dict[str, int] = {}
    for found in _TOP_LEVEL_KEY.finditer(yaml_text):
        key = found[1].strip().strip("'\"")
        lines.setdefault(key, yaml_text.count("\n", 0, found.start()) + 2)
    return lines


def _kind(path: str) -> Literal["article", "page", "digest"]:
    if path.startswith(f"content/{PAGES_DIR}/"):
        return "page"
    return "digest" if path.startswith(f"content/{DIGESTS_DIR}/") else "article"


def parse_entry(
    path: str, data: bytes, timezone: str, *, allow_html: bool = True
) -> Entry | list[SiteError]:
    """One content file → an ``Entry``, or the problems that stop it.

    ``allow_html=False`` sanitises the rendered HTML (``[markdown] allow_html``).
    """
    try:
        text = decode(data, path=path)
        front = split_front_matter(text, path=path)
    except ContentError as exc:
        return [exc]
    tz = ZoneInfo(timezone)
    kind = _kind(path)
    file_slug, file_date = _file_defaults(path, tz)
    # A digest introduction needs no title (given, it is the headline) and no date.
    untitled = kind == "digest" and front.meta.get("title") is None
    if untitled:
        front = replace(front, meta={**front.meta, "title": file_slug})
    fields, problems = read_fields(
        front,
        path=path,
        tz=tz,
        file_slug=file_slug,
        file_date=file_date,
        needs_date=kind == "article",
    )
    if fields is None:
        return problems
    rendered = render_markdown(front.body, summary=fields.summary, allow_html=allow_html)
    return Entry(
        source_path=path,
        kind=kind,
        title="" if untitled else fields.title,
        slug=file_slug if kind == "digest" else fields.slug,
        date=fields.date,
        updated=fields.updated,
        summary=rendered.summary,
        html=rendered.html,
        toc=rendered.toc,
        words=rendered.words,
        tag_names=fields.tag_names,
        category=fields.category,
        authors=fields.authors,
        sources=fields.sources,
        image=fields.image,
        draft=fields.draft,
        feed_id=fields.feed_id,
        extra=fields.extra,
        key_lines=_key_lines(front.yaml_text),
    )
