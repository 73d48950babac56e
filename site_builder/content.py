"""Content stage: the only reader of ``content/``.

Walks the folder in sorted order, decodes each Markdown file, validates its front
matter and renders its body. Returns the entries, the files to copy as they are,
and every problem found (a broken file never stops the others from being read).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from time import time_ns
from typing import Literal
from zoneinfo import ZoneInfo

from site_builder.cache import RenderCache, code_fingerprint, render_cache_path, stored_html
from site_builder.config import INDEX_DIR, SiteConfig, is_ignored
from site_builder.errors import BuildFailed, ContentError, SiteError
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.markdown import OPTIONS_VERSION, render_markdown
from site_builder.model import Body, Entry, Progress, no_progress, pickled_by_fields, slugify

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


def walk(folder: Path) -> Iterator[Path]:
    """Every file below ``folder`` that is not ignored, in a stable order."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored(d))
        for name in sorted(filenames):
            if not is_ignored(name):
                yield Path(dirpath) / name


@dataclass(slots=True)
class _Sources:
    """What ``content/`` holds, from a walk that reads only the files that changed."""

    markdown: list[tuple[str, str]]  # name, cache key
    assets: list[str]
    problems: list[SiteError]
    digests: dict[str, tuple[str, str]]  # what to note for the next build: name → stat, digest


def _read_sources(config: SiteConfig, noted: Mapping[str, tuple[str, str]]) -> _Sources:
    """Each Markdown file's name and cache key, the other files to copy, and the files
    that cannot be read. A file is read and hashed (and let go) unless ``noted`` holds
    its digest under the same stat: a rebuild then reads only what was edited."""
    found = _Sources([], [], [], {})
    if refused := _outside_site(config.content_dir, config):
        found.problems.append(refused)
        return found
    now, options = time_ns(), _options(config)
    for path in walk(config.content_dir):
        rel = path.relative_to(config.content_dir).as_posix()
        info = _checked_stat(path, f"content/{rel}", config)
        if isinstance(info, ContentError):
            found.problems.append(info)
        elif rel.startswith(f"{INDEX_DIR}/"):
            found.problems.append(_in_index_folder(f"content/{rel}"))
        elif path.suffix.lower() != ".md":
            found.assets.append(rel)
        else:
            _add_source(found, f"content/{rel}", path, info, noted=noted, now=now, options=options)
    return found


def _in_index_folder(name: str) -> ContentError:
    return ContentError(
        f"{INDEX_DIR}/ is where the search index is written, and every build replaces it "
        "whole: this file would not be published",
        path=name,
        hint="move it to another folder of content/",
    )


# A file changed this close to being noted may change again within one tick of its
# file system's clock, keeping its stat: it is noted once it is older.
_RACY_NS = 3_000_000_000


def _add_source(
    found: _Sources,
    name: str,
    path: Path,
    info: os.stat_result,
    *,
    noted: Mapping[str, tuple[str, str]],
    now: int,
    options: _Options,
) -> None:
    stat = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}:{info.st_dev}"
    known = noted.get(name)
    if known is not None and known[0] == stat:
        digest = known[1]
    else:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            found.problems.append(ContentError(f"cannot read file: {exc.strerror}", path=name))
            return
    if now - max(info.st_mtime_ns, info.st_ctime_ns) > _RACY_NS:
        found.digests[name] = (stat, digest)
    key = _cache_key(name, digest, options)
    found.markdown.append((name, key))


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
    found = _checked_stat(path, name, config)
    return found if isinstance(found, ContentError) else None


def _checked_stat(path: Path, name: str, config: SiteConfig) -> os.stat_result | ContentError:
    """A file's stat, or why it is not read (see ``_refusal``)."""
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
    return info


_RENDERER = ("content", "frontmatter", "markdown", "model")
_STORE_BATCH = 256  # rendered entries written to the cache at a time, then let go


def _cache_key(path: str, digest: str, options: _Options) -> str:
    """Everything a rendered entry depends on: its bytes' ``digest``, name, zone, HTML
    policy, renderer, and the language folders (which tell what kind an entry is)."""
    renderer = code_fingerprint(*_RENDERER)
    shaped = f"{OPTIONS_VERSION}\0{renderer}\0{options.timezone}\0html={options.allow_html}"
    if options.languages:  # absent for one language: its cache stays valid
        shaped += "\0languages=" + ",".join(options.languages)
    return hashlib.sha256(f"{shaped}\0{path}\0{digest}".encode()).hexdigest()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class _Options:
    """What rendering a file depends on besides its bytes; one shared by every entry."""

    root: Path
    timezone: str
    allow_html: bool
    languages: tuple[str, ...] = ()  # the folders content/<code>/ of other languages


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class _Stored:
    """Fetches a body from the render cache (``Body.fetch``)."""

    options: _Options
    name: str
    key: str

    def __call__(self) -> str:
        return _stored_body(self.options, self.name, self.key)


def source_key(body: Body) -> str:
    """The render cache's key of the file a body was rendered from ("" when held): the
    same for the same bytes and options, wherever and whenever the file was written."""
    return body.fetch.key if isinstance(body.fetch, _Stored) else ""


@functools.lru_cache(maxsize=64)  # the newest stories are in most feeds
def _stored_body(options: _Options, name: str, key: str) -> str:
    """From the cache; rendered again if another build has since dropped it."""
    html = stored_html(render_cache_path(options.root), key)
    if html is not None:
        return html
    result = _render_file(options, name)
    if isinstance(result, list) or result[0] != key:
        raise ContentError(
            "changed while the site was being built",
            path=name,
            hint="build again: the site would mix the old text and the new",
        )
    return result[2]


Rendered = tuple[str, bytes, str]  # cache key, entry pickled without its body, body HTML


def _render_file(options: _Options, name: str) -> Rendered | list[SiteError]:
    """Run in a worker: read and render one file; the worker reads it, so no bytes
    cross between processes, and the key says which bytes it rendered."""
    try:
        data = (options.root / name).read_bytes()
    except OSError as exc:
        return [ContentError(f"cannot read file: {exc.strerror}", path=name)]
    result = parse_entry(
        name, data, options.timezone, allow_html=options.allow_html, languages=options.languages
    )
    if not isinstance(result, Entry):
        return result
    digest = hashlib.sha256(data).hexdigest()
    key = _cache_key(name, digest, options)
    bare = replace(result, body=Body(result.body.digest))
    return key, pickle.dumps(bare, pickle.HIGHEST_PROTOCOL), result.body.held or ""


def _entry(options: _Options, name: str, rendered: Rendered, *, stored: bool) -> Entry:
    """An entry whose body stays in the cache when it is ``stored`` there, else held."""
    key, value, html = rendered
    entry = _unpickled(value)
    if entry is None:  # damaged: never trusted
        result = _render_file(options, name)
        if isinstance(result, list):
            raise BuildFailed(result)
        return _entry(options, name, result, stored=False)
    held = Body(entry.body.digest, held=html)
    lazy = Body(entry.body.digest, fetch=_Stored(options, name, key))
    # Unpickled one by one, entries share no strings: the names every entry repeats
    # (front matter keys, tags, authors) are interned, a tenth of a large site's entries.
    return replace(
        entry,
        body=lazy if stored else held,
        key_lines={sys.intern(k): line for k, line in entry.key_lines.items()},
        tag_names=tuple(map(sys.intern, entry.tag_names)),
        authors=tuple(map(sys.intern, entry.authors)),
        category=sys.intern(entry.category) if entry.category else None,
    )


def _unpickled(value: bytes | None) -> Entry | None:
    try:
        entry = pickle.loads(value) if value else None  # written by this program, keyed by hash
    except Exception:  # noqa: BLE001 - any unpickling failure means "not cached"
        return None
    return entry if isinstance(entry, Entry) else None


def _options(config: SiteConfig) -> _Options:
    languages = tuple(lang.code for lang in config.languages)
    return _Options(config.root, config.timezone, config.markdown.allow_html, languages)


def load_content(
    config: SiteConfig,
    *,
    jobs: int = 1,
    cache: RenderCache | None = None,
    progress: Progress = no_progress,
) -> tuple[Content, list[SiteError]]:
    """Read everything under ``content/``; render only what the cache does not hold.

    Entries keep their bodies in the cache: a full build holds no site's worth of HTML.
    """
    noted = cache.digests() if cache else {}
    found = _read_sources(config, noted)
    sources, problems = found.markdown, found.problems
    if cache and found.digests != noted:
        cache.note_digests(found.digests)
    options = _options(config)
    keys = [key for _, key in sources]
    stored = cache.stored(keys) if cache else set()
    todo = [name for name, key in sources if key not in stored]
    fresh: dict[str, Entry] = {}
    batch: list[tuple[str, Rendered]] = []
    for name, result in zip(todo, _render_all(options, todo, jobs, progress), strict=True):
        if isinstance(result, list):
            problems.extend(result)
            continue
        keys.append(result[0])  # the bytes the worker read may have changed since
        batch.append((name, result))
        if len(batch) >= _STORE_BATCH:
            fresh.update(_stored_batch(options, batch, cache))
            batch = []
    fresh.update(_stored_batch(options, batch, cache))
    if cache:
        cache.keep_only(keys)
    return Content(
        entries=_in_order(sources, fresh, stored, cache, options), assets=tuple(found.assets)
    ), problems


def _in_order(
    sources: list[tuple[str, str]],
    fresh: dict[str, Entry],
    stored: set[str],
    cache: RenderCache | None,
    options: _Options,
) -> tuple[Entry, ...]:
    """Every entry in the order of ``sources``: rendered now, or read from the cache."""
    cached = [(name, key) for name, key in sources if name not in fresh and key in stored]
    values = cache.values([key for _, key in cached]) if cache else iter(())
    loaded = {
        name: _entry(options, name, (key, value or b"", ""), stored=True)
        for (name, key), value in zip(cached, values, strict=True)
    }
    return tuple(
        fresh.get(name) or loaded[name] for name, _ in sources if name in fresh or name in loaded
    )


def _stored_batch(
    options: _Options, batch: list[tuple[str, Rendered]], cache: RenderCache | None
) -> dict[str, Entry]:
    stored = cache.put_many(rendered for _, rendered in batch) if cache else False
    return {name: _entry(options, name, rendered, stored=stored) for name, rendered in batch}


def load_files(
    config: SiteConfig, names: Iterable[str], *, cache: RenderCache | None = None
) -> tuple[list[Entry], list[SiteError]]:
    """Read only the named Markdown files (``content/...``), as ``load_content`` would."""
    entries: list[Entry] = []
    problems: list[SiteError] = []
    options = _options(config)
    for name in names:
        if refused := _refusal(config.root / name, name, config):
            problems.append(refused)
            continue
        result = _render_file(options, name)  # a preview edit: rendering is the point
        if isinstance(result, list):
            problems.extend(result)
            continue
        entries.extend(_stored_batch(options, [(name, result)], cache).values())
    return entries, problems


def _render_all(
    options: _Options, names: list[str], jobs: int, progress: Progress
) -> Iterator[Rendered | list[SiteError]]:
    if jobs <= 1 or len(names) < _POOL_THRESHOLD:
        return _counted(map(_render_file, [options] * len(names), names), len(names), progress)
    return _pooled(options, names, jobs, progress)


def _pooled(
    options: _Options, names: list[str], jobs: int, progress: Progress
) -> Iterator[Rendered | list[SiteError]]:
    # forkserver: fork() beside the preview server's threads is unsafe.
    # Imported here, as in build: a rebuild of a few files starts no process.
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415
    from multiprocessing import get_context  # noqa: PLC0415

    context = get_context("forkserver" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        chunk = max(1, min(64, len(names) // (jobs * 8)))
        pooled = pool.map(_render_file, [options] * len(names), names, chunksize=chunk)
        yield from _counted(pooled, len(names), progress)


def _counted(
    results: Iterable[Rendered | list[SiteError]], total: int, progress: Progress
) -> Iterator[Rendered | list[SiteError]]:
    for done, result in enumerate(results, 1):
        progress("Rendering Markdown", done, total)
        yield result


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


def _kind(path: str, languages: tuple[str, ...]) -> Literal["article", "page", "digest"]:
    folder, _, rest = path.removeprefix("content/").partition("/")
    if folder in languages:  # content/de/pages/about.md is the German site's page
        path = "content/" + rest
    if path.startswith(f"content/{PAGES_DIR}/"):
        return "page"
    return "digest" if path.startswith(f"content/{DIGESTS_DIR}/") else "article"


def parse_entry(
    path: str,
    data: bytes,
    timezone: str,
    *,
    allow_html: bool = True,
    languages: tuple[str, ...] = (),
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
    kind = _kind(path, languages)
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
        body=Body.of(rendered.html),
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
