"""Search stage: a built ``output/`` → a Pagefind index in ``output/pagefind/``.

Pagefind is a dependency (the ``pagefind`` wheel ships its binary). It reads the HTML
the writer has already written, so this runs after a build: ``build`` indexes unless
``--no-search`` or ``search = false``, and the preview indexes after each rebuild. Only
pages marked ``data-pagefind-body`` (articles and static pages) are indexed; Pagefind
drops every other page, so ``survey`` finds the marked ones and Pagefind reads a folder
of links to them alone, made in sorted order (it numbers pages in the order the file
system lists them). The index is made beside ``output/`` and swapped in, so
a failed run leaves the previous index in place. Pagefind cannot change one page of an
index: every run reads every marked page. ``Pages.digest`` says what an index was made
from, so that indexing pages that did not change can be skipped.

A site of more than ``SHARD_THRESHOLD`` marked pages is split into shards, bundles of
about ``SHARD_PAGES`` pages each (``pagefind/``, ``pagefind-1/`` ...), a page's shard
chosen by a hash of its path: an edit indexes the one shard holding the page again, and
Pagefind's memory is bounded by a shard. The first bundle's entry file lists the others,
and the search page merges them (``templates/static/search.js``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE

from site_builder.errors import ConfigError, SiteError

BUNDLE_DIR = "pagefind"  # /pagefind/pagefind-ui.js is what templates/search.html loads
INSTALL_HINT = "reinstall site-builder (pip install site-builder), which brings Pagefind"
NO_SEARCH_HINT = "or build without an index: site-builder build --no-search"
ENTRY = "pagefind-entry.json"  # Pagefind writes it last; without it there is no index
TIMEOUT = 600.0
# Given to every run, so part of Pages.digest. The "#" of a heading's anchor link
# (Markdown's, which takes no attribute) is no word of the heading.
PAGEFIND_OPTIONS: tuple[str, ...] = ("--exclude-selectors", "a.headerlink")
_INDEXED = re.compile(r"Indexed (\d+) pages?\b")
_MARK = b"data-pagefind-body"
# What Pagefind says when no element has the attribute: it then indexes every <body>.
_NO_BODY = "Did not find a data-pagefind-body element"
_DISTRIBUTIONS = ("pagefind", "pagefind_bin", "pagefind_bin_extended")
# Up to this many marked pages the index is one bundle (what a site always had): about
# 5 s and 500 MiB for Pagefind, and the browser fetches the fewest files. Above it,
# ceil(pages / SHARD_PAGES) shards of 2.5-3 s and ~260 MiB each (docs/performance.md).
SHARD_THRESHOLD = 2500
SHARD_PAGES = 1250
# Shards indexed at once, given the processors: Pagefind's run is mostly one thread. At
# 10,000 pages on a busy two-core machine two at once took 31-48 s against 26-83 s, for
# twice a shard's memory (~510 MiB); an edit indexes one shard either way.
SHARD_RUNS = 2
SHARDS_KEY = "site_builder_shards"  # in the first bundle's entry file: the others' paths
_SHARD = re.compile(r"pagefind-[1-9][0-9]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    """One bundle of a split index: its folder under the output folder, the marked
    pages it indexes (paths relative to the output folder) and their digest."""

    folder: str
    pages: tuple[str, ...]
    digest: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """What an indexing run made: how many pages it indexed, and where the index is."""

    pages: int
    bundle: Path
    changed: tuple[str, ...] = ()  # files under the output folder the new index replaced
    made_from: str = ""  # Pages.digest of what it indexed; "" when that is not known


@dataclass(frozen=True, slots=True, kw_only=True)
class Staged:
    """An index made beside the output folder, not yet swapped in: each bundle made
    again (folder, where it was staged), and every folder the index has."""

    bundles: tuple[tuple[str, Path], ...]
    folders: tuple[str, ...] = (BUNDLE_DIR,)
    pages: int
    made_from: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pages:
    """What Pagefind reads in a built output folder, and what its index depends on.

    ``digest``: of the marked pages' paths and bytes (every page's when none is marked),
    Pagefind's version and how it is run; "" when unknown. ``shards``: the bundles of an
    index split in shards; none for one bundle, whose pages are ``pages``: the marked ones,
    or every page when none is.
    """

    digest: str
    marked: int
    shards: tuple[Shard, ...] = ()
    pages: tuple[str, ...] = ()  # what an index in one bundle is made from, sorted

    def bundles(self) -> tuple[tuple[str, str], ...]:
        """Each bundle's folder and the digest of what it is made from."""
        if not self.shards:
            return ((BUNDLE_DIR, self.digest),)
        return tuple((shard.folder, shard.digest) for shard in self.shards)


def pagefind_command() -> list[str] | SiteError:
    """How to run Pagefind here: the Python package's, else one on PATH; or why not."""
    if importlib.util.find_spec("pagefind") is not None:
        return [sys.executable, "-m", "pagefind"]
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found:
        return [found]
    return ConfigError(
        "search needs Pagefind, which is not installed", hint=f"{INSTALL_HINT}, {NO_SEARCH_HINT}"
    )


def survey(output_dir: Path, *, salt: str = "") -> Pages:
    """Read every HTML file of ``output_dir`` (``salt``: more of what an index depends
    on, such as this module's code). A page that merely mentions the attribute counts
    as marked: it is read for nothing, and Pagefind decides."""
    try:
        marked, unmarked = _scan(output_dir)
        depends = marked or _digests(output_dir, unmarked)
    except OSError:  # a rebuild swapped the folder meanwhile: Pagefind reads all of it
        return Pages(digest="", marked=0)
    shards = _split(marked, salt) if len(marked) > SHARD_THRESHOLD else ()
    return Pages(
        digest=_digest(depends, salt),
        marked=len(marked),
        shards=shards,
        pages=() if shards else tuple(sorted(marked or unmarked)),
    )


def shard_count(marked: int) -> int:
    """How many bundles an index of ``marked`` pages has: it changes only when the site
    crosses a multiple of SHARD_PAGES, and then every shard is made again."""
    return 1 if marked <= SHARD_THRESHOLD else -(-marked // SHARD_PAGES)


def shard_folder(number: int) -> str:
    return BUNDLE_DIR if number == 0 else f"{BUNDLE_DIR}-{number}"


def _split(marked: Mapping[str, bytes], salt: str) -> tuple[Shard, ...]:
    """The shards of the marked pages. A page's shard is a hash of its path alone, so
    an edit changes one shard, and a page keeps its shard while their number holds."""
    count = shard_count(len(marked))
    held: list[list[str]] = [[] for _ in range(count)]
    for rel in sorted(marked):
        hashed = hashlib.blake2b(rel.encode(), digest_size=8).digest()
        held[int.from_bytes(hashed, "big") % count].append(rel)
    return tuple(
        Shard(
            folder=shard_folder(number),
            pages=tuple(rels),
            # The count is part of it: the first bundle lists the others.
            digest=_digest({rel: marked[rel] for rel in rels}, f"{salt}\0{number}/{count}"),
        )
        for number, rels in enumerate(held)
    )


def _html_files(output_dir: Path) -> Iterator[tuple[str, str]]:
    """(path relative to ``output_dir``, path) of each HTML file Pagefind could read."""
    skip = set(index_folders(output_dir))  # not the index's own files
    for rel, path in _walk(str(output_dir), skip=skip):
        if rel.endswith(".html"):  # Pagefind's own default glob: **/*.{html}
            yield rel, path


def _walk(
    folder: str, prefix: str = "", *, skip: Collection[str] = ()
) -> Iterator[tuple[str, str]]:
    """(path relative to the top, path) of every file below ``folder`` but the folders
    ``skip`` names; folders a symlink names are not entered. Strings, not ``Path``: a
    site has thousands of folders, and pathlib took longer than reading the pages."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                yield prefix + entry.name, entry.path
            elif entry.name not in skip:
                yield from _walk(entry.path, f"{prefix}{entry.name}/")


def index_folders(output_dir: Path) -> list[str]:
    """The folders of ``output_dir`` that hold an index's bundle: ``pagefind/``, and
    each ``pagefind-N/`` with an entry file (a page of the site could be called so)."""
    try:
        names = [path.name for path in output_dir.iterdir()]
    except OSError:
        return []
    return sorted(
        name
        for name in names
        if name == BUNDLE_DIR or (_SHARD.fullmatch(name) and (output_dir / name / ENTRY).is_file())
    )


def _scan(output_dir: Path) -> tuple[dict[str, bytes], set[str]]:
    """The marked pages with a digest of each, and the other pages."""
    marked: dict[str, bytes] = {}
    unmarked: set[str] = set()
    for rel, path in _html_files(output_dir):
        with open(path, "rb") as page:  # noqa: PTH123 - thousands of pages
            data = page.read()
        # Attribute names are case-insensitive in HTML, and so is Pagefind's selector.
        if _MARK in data or _MARK in data.lower():
            marked[rel] = hashlib.blake2b(data, digest_size=16).digest()
        else:
            unmarked.add(rel)
    return marked, unmarked


def _digests(output_dir: Path, rels: set[str]) -> dict[str, bytes]:
    """Every page's digest: with no page marked, Pagefind indexes them all."""
    return {
        rel: hashlib.blake2b((output_dir / rel).read_bytes(), digest_size=16).digest()
        for rel in rels
    }


def _digest(pages: Mapping[str, bytes], salt: str) -> str:
    """Everything Pagefind's index depends on: how it is run, which Pagefind, the pages
    (a page's path is its URL)."""
    digest = hashlib.sha256()
    for part in (salt, pagefind_identity(), *PAGEFIND_OPTIONS):
        digest.update(part.encode() + b"\0")
    for rel in sorted(pages):
        digest.update(rel.encode() + b"\0" + pages[rel])
    return digest.hexdigest()


def _staging(output_dir: Path, name: str = "") -> Path:
    return output_dir.parent / f".{output_dir.name}.pagefind-{os.getpid()}{name}"


def _remove_leftovers(output_dir: Path) -> None:
    """Drop index folders that an interrupted run left beside ``output/``."""
    for leftover in output_dir.parent.glob(f".{output_dir.name}.pagefind-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _swap_in(staging: Path, bundle: Path) -> None:
    """Replace the old index with the new one; the old one is deleted only afterwards."""
    aside = staging.with_name(staging.name + "-old")
    if bundle.exists():
        bundle.rename(aside)
    staging.rename(bundle)
    shutil.rmtree(aside, ignore_errors=True)


def _failure(done: subprocess.CompletedProcess[str]) -> SiteError:
    lines = (done.stderr or done.stdout).strip().splitlines()
    said = lines[-1] if lines else "no output"
    return SiteError(
        f"search: Pagefind failed with exit code {done.returncode}: {said}",
        hint="the site was built; only its search index is missing or old",
    )


def make_index(
    output_dir: Path,
    *,
    timeout: float = TIMEOUT,
    stop: Callable[[], bool] = lambda: False,
    pages: Pages | None = None,
    current: Collection[str] = (),
) -> Staged | SiteError:
    """Index the built site in ``output_dir`` beside it; never raises for Pagefind's sake.

    ``stop`` is asked every tenth of a second whether to end Pagefind's run early (the
    preview stopping: a large site's index takes a minute). ``pages``: ``survey``'s.
    ``current``: the shards whose bundle in ``output_dir`` is made from their pages."""
    command = pagefind_command()
    if isinstance(command, SiteError):
        return command
    _remove_leftovers(output_dir)
    wanted = pages or survey(output_dir)
    if wanted.shards:
        return _make_shards(command, output_dir, wanted, current, timeout=timeout, stop=stop)
    staging = _staging(output_dir)
    marked = wanted.pages or None
    done = _pagefind_linked(command, output_dir, marked, staging, timeout=timeout, stop=stop)
    made_from = wanted.digest
    if wanted.marked and not isinstance(done, SiteError) and _NO_BODY in done.stdout:
        # Pages only mention the attribute, which no element has: Pagefind indexes every
        # page then, and the digest of the marked ones is not what the index is made from.
        every = sorted(rel for rel, _ in _html_files(output_dir))
        done = _pagefind_linked(command, output_dir, every, staging, timeout=timeout, stop=stop)
        made_from = ""
    if isinstance(done, SiteError):
        return done
    steady_entry(staging)
    return Staged(bundles=((BUNDLE_DIR, staging),), pages=_indexed(done), made_from=made_from)


def _pagefind_linked(
    command: list[str],
    output_dir: Path,
    pages: Sequence[str] | None,
    staging: Path,
    *,
    name: str = "",
    timeout: float,
    stop: Callable[[], bool],
) -> subprocess.CompletedProcess[str] | SiteError:
    """Pagefind on a folder of links to ``pages`` (all of ``output_dir`` when None), made
    in sorted order beside the output folder (``name`` tells one shard's from another's).
    Pagefind numbers pages in the order the file system lists them, which on tmpfs, btrfs
    and small xfs folders is the order they were made in: read in the output folder, an
    incremental build's index differed in bytes from a clean build's. A glob of a
    thousand pages would also be longer than one argument may be."""
    if pages is None:
        return _pagefind(command, output_dir, staging, timeout=timeout, stop=stop)
    site = _staging(output_dir, f"-site-{name}" if name else "-site")
    try:
        _link_pages(output_dir, site, sorted(pages))
        return _pagefind(command, site, staging, timeout=timeout, stop=stop)
    except OSError as exc:  # a rebuild swapped the folder meanwhile
        return SiteError(f"search: cannot read the built pages: {exc}")
    finally:
        shutil.rmtree(site, ignore_errors=True)


def _indexed(done: subprocess.CompletedProcess[str]) -> int:
    found = _INDEXED.search(done.stdout)
    return int(found[1]) if found else 0


def _make_shards(
    command: list[str],
    output_dir: Path,
    wanted: Pages,
    current: Collection[str],
    *,
    timeout: float,
    stop: Callable[[], bool],
) -> Staged | SiteError:
    """Stage each shard not ``current``, SHARD_RUNS at a time; all of them or none."""
    todo = [shard for shard in wanted.shards if shard.folder not in current]
    others = [shard.folder for shard in wanted.shards[1:]]

    def make(shard: Shard) -> tuple[Path, int] | SiteError:
        made = _make_shard(command, output_dir, shard, timeout=timeout, stop=stop)
        if not isinstance(made, SiteError):
            listed = others if shard.folder == BUNDLE_DIR else []
            steady_entry(made[0], shards=[f"../{folder}/" for folder in listed])
        return made

    with ThreadPoolExecutor(max_workers=_runs_at_once()) as pool:
        made = list(pool.map(make, todo))
    failed = [result for result in made if isinstance(result, SiteError)]
    staged = [
        (s.folder, r[0], r[1]) for s, r in zip(todo, made, strict=True) if isinstance(r, tuple)
    ]
    if failed:
        for _, path, _ in staged:
            shutil.rmtree(path, ignore_errors=True)
        return failed[0]
    return Staged(
        bundles=tuple((folder, path) for folder, path, _ in staged),
        folders=tuple(shard.folder for shard in wanted.shards),
        pages=sum(count for _, _, count in staged),
        made_from=wanted.digest,
    )


def _runs_at_once() -> int:
    """SHARD_RUNS, but no more than the processors this process may use."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        usable = os.cpu_count() or 1
    return max(1, min(SHARD_RUNS, usable))


def _make_shard(
    command: list[str],
    output_dir: Path,
    shard: Shard,
    *,
    timeout: float,
    stop: Callable[[], bool],
) -> tuple[Path, int] | SiteError:
    """Stage one shard, from its pages alone."""
    if stop():
        return SiteError("search: indexing stopped", hint="the preview is stopping")
    staging = _staging(output_dir, f"-{shard.folder}")
    done = _pagefind_linked(
        command, output_dir, shard.pages, staging, name=shard.folder, timeout=timeout, stop=stop
    )
    return done if isinstance(done, SiteError) else (staging, _indexed(done))


def _link_pages(output_dir: Path, site: Path, rels: Sequence[str]) -> None:
    """A folder holding ``rels`` of ``output_dir``: hard links, copies where none can be."""
    shutil.rmtree(site, ignore_errors=True)
    made: set[str] = set()
    for rel in rels:
        folder = rel.rpartition("/")[0]
        if folder not in made:
            (site / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        try:
            os.link(output_dir / rel, site / rel)
        except OSError:
            shutil.copyfile(output_dir / rel, site / rel)


def _pagefind(
    command: list[str],
    output_dir: Path,
    staging: Path,
    *,
    timeout: float,
    stop: Callable[[], bool],
) -> subprocess.CompletedProcess[str] | SiteError:
    """One run of Pagefind into a new ``staging`` folder; removed if it fails."""
    run = [*command, *PAGEFIND_OPTIONS, "--site", str(output_dir), "--output-path", str(staging)]
    shutil.rmtree(staging, ignore_errors=True)
    try:
        done = _run(run, timeout, stop)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return SiteError(f"search: Pagefind could not run: {exc}", hint=INSTALL_HINT)
    if done.returncode != 0 or not (staging / ENTRY).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        return _failure(done)
    return done


def steady_entry(bundle: Path, *, shards: Sequence[str] = ()) -> None:
    """Sort the languages in the index's entry file: Pagefind lists them in an order of
    its run's own (a hash map's), so two runs over the same pages wrote other bytes.
    Its script looks a language up by name, so the order means nothing to it. The first
    bundle of a split index lists the others (``shards``, relative to it): the search
    page reads them there; Pagefind reads only the keys it knows."""
    path = bundle / ENTRY
    raw = path.read_bytes()
    entry = json.loads(raw)
    if isinstance(entry, dict) and isinstance(entry.get("languages"), dict):
        entry["languages"] = dict(sorted(entry["languages"].items()))
    if isinstance(entry, dict) and shards:
        entry[SHARDS_KEY] = list(shards)
    steady = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    if steady != raw:
        path.write_bytes(steady)


def _run(
    command: list[str], timeout: float, stop: Callable[[], bool]
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` that ``stop`` can end; raises ``TimeoutExpired`` then too."""
    deadline = time.monotonic() + timeout
    with subprocess.Popen(command, stdout=PIPE, stderr=PIPE, text=True) as process:
        while True:
            try:
                out, err = process.communicate(timeout=0.1)
            except subprocess.TimeoutExpired:
                if stop() or time.monotonic() > deadline:
                    process.kill()
                    process.communicate()
                    raise
                continue
            return subprocess.CompletedProcess(command, process.returncode, out, err)


def install_index(output_dir: Path, staged: Staged) -> SearchResult:
    """Swap each staged bundle in for the old one, the first bundle last (it lists the
    others), then remove the bundles the index no longer has; say which files changed.

    Only files whose bytes differ count: most of an index (a fragment per page, named
    by its content) is the same after an edit, and the spare copies what changed."""
    changed: list[str] = []
    for folder, staging in sorted(staged.bundles, key=lambda b: b[0] == BUNDLE_DIR):
        changed += (f"{folder}/{rel}" for rel in differing(output_dir / folder, staging))
        _swap_in(staging, output_dir / folder)
    changed += _remove_stale(output_dir, keep=staged.folders)
    only = staged.bundles[0][0] if len(staged.bundles) == 1 else BUNDLE_DIR
    return SearchResult(
        pages=staged.pages,
        bundle=output_dir / only,
        changed=tuple(sorted(changed)),
        made_from=staged.made_from,
    )


def _remove_stale(output_dir: Path, *, keep: Collection[str]) -> list[str]:
    """Remove the shards of an index split otherwise (or not split any more); their
    files, relative to ``output_dir``."""
    removed: list[str] = []
    for folder in index_folders(output_dir):
        if folder not in keep:
            removed += (f"{folder}/{rel}" for rel in files_below(output_dir / folder))
            aside = _staging(output_dir, f"-stale-{folder}")
            (output_dir / folder).rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
    return removed


def differing(old: Path, new: Path) -> set[str]:
    """Files in only one of two folders, or in both with other bytes."""
    before, after = files_below(old), files_below(new)
    return (before ^ after) | {rel for rel in before & after if not _same(old / rel, new / rel)}


def _same(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def index_site(
    output_dir: Path,
    *,
    timeout: float = TIMEOUT,
    pages: Pages | None = None,
    current: Collection[str] = (),
) -> SearchResult | SiteError:
    """Index the built site in ``output_dir`` with Pagefind; never raises for Pagefind's
    sake. ``current``: the shards whose bundle need not be made again."""
    staged = make_index(output_dir, timeout=timeout, pages=pages, current=current)
    return staged if isinstance(staged, SiteError) else install_index(output_dir, staged)


def bundle_identity(bundle: Path) -> str:
    """A digest of an index: its entry file's bytes (which name its other files by their
    content) and every file's path and size; "" when it has no entry file."""
    try:
        digest = hashlib.sha256((bundle / ENTRY).read_bytes())
        for rel, path in sorted(_walk(str(bundle))):
            size = os.stat(path).st_size  # noqa: PTH116 - ten thousand files
            digest.update(f"{rel}\0{size}\0".encode())
    except OSError:
        return ""
    return digest.hexdigest()


def files_below(folder: Path) -> set[str]:
    """Every file's path relative to ``folder``; none if it is not a folder."""
    return {rel for rel, _ in _walk(str(folder))} if folder.is_dir() else set()


def stamp_of(records: Sequence[Path], *, salt: str = "") -> str:
    """What the index was made after: the build records' stat (every build that changes
    the site rewrites or removes them), and which Pagefind ran how (as in Pages.digest)."""
    parts: list[object] = [salt, pagefind_identity(), PAGEFIND_OPTIONS]
    for path in records:
        try:
            st = path.stat()
        except OSError:
            parts.append(None)
        else:
            parts.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return repr(parts)


def index_is_current(output_dir: Path, stamp_file: Path, stamp: str) -> bool:
    """Whether the index in ``output_dir`` was made after the build now in it."""
    folders = listed_bundles(output_dir)
    if not folders or not all((output_dir / folder / ENTRY).is_file() for folder in folders):
        return False
    try:
        return stamp_file.read_text(encoding="utf-8") == stamp
    except (OSError, UnicodeDecodeError):
        return False


def listed_bundles(output_dir: Path) -> list[str]:
    """The folders of the index in ``output_dir``, as its first bundle lists them; none
    without an index."""
    try:
        entry = json.loads((output_dir / BUNDLE_DIR / ENTRY).read_bytes())
    except (OSError, ValueError):
        return []
    listed = entry.get(SHARDS_KEY, []) if isinstance(entry, dict) else []
    others = [str(rel).strip("./") for rel in listed] if isinstance(listed, list) else []
    return [BUNDLE_DIR, *others]


def pagefind_identity() -> str:
    """Which Pagefind runs: its packages' versions, and the binary the environment
    names instead (the package runs ``PAGEFIND_BINARY_PATH``), or the one on PATH."""
    parts = [f"{name}={_version(name)}" for name in _DISTRIBUTIONS]
    binary = os.environ.get("PAGEFIND_BINARY_PATH")
    if binary is None and importlib.util.find_spec("pagefind") is None:
        binary = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if binary:
        try:
            st = Path(binary).stat()
        except OSError:
            parts.append(f"{binary}: missing")
        else:
            parts.append(f"{binary}: {st.st_size} {st.st_mtime_ns}")
    return "; ".join(parts)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "none"
