"""Search stage: a built ``output/`` → a Pagefind index in ``output/pagefind/``.

Pagefind is a dependency (the ``pagefind`` wheel ships its binary). It reads the HTML
the writer has already written, so this runs after a build: ``build`` indexes unless
``--no-search`` or ``search = false``, and the preview indexes after each rebuild. Only
pages marked ``data-pagefind-body`` (articles and static pages) are indexed; Pagefind
drops every other page, so ``survey`` finds the marked ones and Pagefind is told to read
only the folders that hold them. The index is made beside ``output/`` and swapped in, so
a failed run leaves the previous index in place. Pagefind cannot change one page of an
index: every run reads every marked page. ``Pages.digest`` says what an index was made
from, so that indexing pages that did not change can be skipped.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
_WASTE = 8  # a folder is read whole when at most one in this many of its pages is unmarked
_MAX_TERMS = 64  # a glob of more folders and files than this: Pagefind reads every page
_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]")  # in a glob: "?" matches it (and more)
_DISTRIBUTIONS = ("pagefind", "pagefind_bin", "pagefind_bin_extended")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """What an indexing run made: how many pages it indexed, and where the index is."""

    pages: int
    bundle: Path
    changed: tuple[str, ...] = ()  # files under the output folder the new index replaced
    made_from: str = ""  # Pages.digest of what it indexed; "" when that is not known


@dataclass(frozen=True, slots=True, kw_only=True)
class Staged:
    """An index made beside the output folder, not yet swapped in."""

    staging: Path
    pages: int
    made_from: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Pages:
    """What Pagefind reads in a built output folder, and what its index depends on.

    ``glob``: the files it is told to read (``None``: all), folders and files that hold
    every marked page. ``digest``: of the marked pages' paths and bytes (every page's
    when none is marked), Pagefind's version and how it is run; "" when unknown.
    """

    glob: str | None
    digest: str
    marked: int


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
        return Pages(glob=None, digest="", marked=0)
    glob = _cover(set(marked), unmarked) if marked else None
    return Pages(glob=glob, digest=_digest(depends, salt), marked=len(marked))


def _html_files(output_dir: Path) -> Iterator[tuple[str, str]]:
    """(path relative to ``output_dir``, path) of each HTML file Pagefind could read."""
    for rel, path in _walk(str(output_dir), skip=BUNDLE_DIR):  # not the index's own files
        if rel.endswith(".html"):  # Pagefind's own default glob: **/*.{html}
            yield rel, path


def _walk(folder: str, prefix: str = "", *, skip: str = "") -> Iterator[tuple[str, str]]:
    """(path relative to the top, path) of every file below ``folder`` but ``skip``;
    folders a symlink names are not entered. Strings, not ``Path``: a site has
    thousands of folders, and pathlib took longer than reading the pages."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                yield prefix + entry.name, entry.path
            elif entry.name != skip:
                yield from _walk(entry.path, f"{prefix}{entry.name}/")


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


class _Folders:
    """The output's folders, each with how many marked and unmarked pages it holds."""

    def __init__(self, marked: set[str], unmarked: set[str]) -> None:
        self.counts: dict[str, list[int]] = {}
        self.children: dict[str, set[str]] = {}
        self.marked: dict[str, list[str]] = {}  # the marked pages right in each folder
        for rel in marked:
            self.marked.setdefault(rel.rpartition("/")[0], []).append(rel)
            self._count(rel, 0)
        for rel in unmarked:
            self._count(rel, 1)

    def _count(self, rel: str, kind: int) -> None:
        folder = rel.rpartition("/")[0]
        while True:
            self.counts.setdefault(folder, [0, 0])[kind] += 1
            if not folder:
                return
            parent = folder.rpartition("/")[0]
            self.children.setdefault(parent, set()).add(folder)
            folder = parent

    def terms(self, folder: str) -> list[str]:
        """Glob terms matching every marked page in ``folder``."""
        marked, unmarked = self.counts.get(folder, (0, 0))
        if not marked:
            return []
        if unmarked * _WASTE <= marked:
            return [_UNSAFE.sub("?", f"{folder}/" if folder else "") + "**/*.html"]
        found = [_UNSAFE.sub("?", rel) for rel in sorted(self.marked.get(folder, ()))]
        for child in sorted(self.children.get(folder, ())):
            found += self.terms(child)
        return found


def _cover(marked: set[str], unmarked: set[str]) -> str | None:
    """A glob matching every marked page and few others; ``None``: every page.

    Reading more pages than the marked ones changes nothing but the time it takes:
    Pagefind drops a page without the attribute once one page has it."""
    terms = _Folders(marked, unmarked).terms("")
    if len(terms) > _MAX_TERMS or terms == ["**/*.html"]:
        return None
    return terms[0] if len(terms) == 1 else "{" + ",".join(terms) + "}"


def _staging(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.pagefind-{os.getpid()}"


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
) -> Staged | SiteError:
    """Index the built site in ``output_dir`` beside it; never raises for Pagefind's sake.

    ``stop`` is asked every tenth of a second whether to end Pagefind's run early (the
    preview stopping: a large site's index takes a minute). ``pages``: ``survey``'s."""
    command = pagefind_command()
    if isinstance(command, SiteError):
        return command
    _remove_leftovers(output_dir)
    wanted = pages or survey(output_dir)
    staging = _staging(output_dir)
    done = _pagefind(command, output_dir, staging, glob=wanted.glob, timeout=timeout, stop=stop)
    made_from = wanted.digest
    if wanted.glob is not None and not isinstance(done, SiteError) and _NO_BODY in done.stdout:
        # Pages only mention the attribute, which no element has: Pagefind indexes every
        # page then, and the digest of the marked ones is not what the index is made from.
        done = _pagefind(command, output_dir, staging, glob=None, timeout=timeout, stop=stop)
        made_from = ""
    if isinstance(done, SiteError):
        return done
    steady_entry(staging)
    found = _INDEXED.search(done.stdout)
    return Staged(staging=staging, pages=int(found[1]) if found else 0, made_from=made_from)


def _pagefind(
    command: list[str],
    output_dir: Path,
    staging: Path,
    *,
    glob: str | None,
    timeout: float,
    stop: Callable[[], bool],
) -> subprocess.CompletedProcess[str] | SiteError:
    """One run of Pagefind into a new ``staging`` folder; removed if it fails."""
    run = [*command, *PAGEFIND_OPTIONS, "--site", str(output_dir), "--output-path", str(staging)]
    if glob is not None:
        run.append(f"--glob={glob}")  # one argument, whatever the folders are called
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


def steady_entry(bundle: Path) -> None:
    """Sort the languages in the index's entry file: Pagefind lists them in an order of
    its run's own (a hash map's), so two runs over the same pages wrote other bytes.
    Its script looks a language up by name, so the order means nothing to it."""
    path = bundle / ENTRY
    raw = path.read_bytes()
    entry = json.loads(raw)
    if isinstance(entry, dict) and isinstance(entry.get("languages"), dict):
        entry["languages"] = dict(sorted(entry["languages"].items()))
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
    """Swap a staged index in for the old one; say which files that changed.

    Only files whose bytes differ count: most of an index (a fragment per page, named
    by its content) is the same after an edit, and the spare copies what changed."""
    bundle = output_dir / BUNDLE_DIR
    changed = sorted(f"{BUNDLE_DIR}/{rel}" for rel in differing(bundle, staged.staging))
    _swap_in(staged.staging, bundle)
    return SearchResult(
        pages=staged.pages, bundle=bundle, changed=tuple(changed), made_from=staged.made_from
    )


def differing(old: Path, new: Path) -> set[str]:
    """Files in only one of two folders, or in both with other bytes."""
    before, after = files_below(old), files_below(new)
    return (before ^ after) | {rel for rel in before & after if not _same(old / rel, new / rel)}


def _same(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def index_site(
    output_dir: Path, *, timeout: float = TIMEOUT, pages: Pages | None = None
) -> SearchResult | SiteError:
    """Index the built site in ``output_dir`` with Pagefind; never raises for Pagefind's sake."""
    staged = make_index(output_dir, timeout=timeout, pages=pages)
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
    if not (output_dir / BUNDLE_DIR / ENTRY).is_file():
        return False
    try:
        return stamp_file.read_text(encoding="utf-8") == stamp
    except (OSError, UnicodeDecodeError):
        return False


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
