"""Search stage: a built ``output/`` → a Pagefind index in ``output/pagefind/``.

Pagefind is a dependency (the ``pagefind`` wheel ships its binary). It reads the HTML
the writer has already written, so this runs after a build: ``build`` indexes unless
``--no-search`` or ``search = false``, and the preview indexes after each rebuild. Only
pages marked ``data-pagefind-body`` (articles and static pages) are indexed. The index
is made beside ``output/`` and swapped in, so a failed run leaves the previous index in
place. Pagefind's output is a pure function of the pages, so a stamp of the build
records it was made after tells when indexing again would change nothing.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE

from site_builder.errors import ConfigError, SiteError

BUNDLE_DIR = "pagefind"  # /pagefind/pagefind-ui.js is what templates/search.html loads
INSTALL_HINT = "reinstall site-builder (pip install site-builder), which brings Pagefind"
NO_SEARCH_HINT = "or build without an index: site-builder build --no-search"
ENTRY = "pagefind-entry.json"  # Pagefind writes it last; without it there is no index
TIMEOUT = 600.0
_INDEXED = re.compile(r"Indexed (\d+) pages?\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """What an indexing run made: how many pages it indexed, and where the index is."""

    pages: int
    bundle: Path
    changed: tuple[str, ...] = ()  # files under the output folder the new index replaced


@dataclass(frozen=True, slots=True, kw_only=True)
class Staged:
    """An index made beside the output folder, not yet swapped in."""

    staging: Path
    pages: int


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
    output_dir: Path, *, timeout: float = TIMEOUT, stop: Callable[[], bool] = lambda: False
) -> Staged | SiteError:
    """Index the built site in ``output_dir`` beside it; never raises for Pagefind's sake.

    ``stop`` is asked every tenth of a second whether to end Pagefind's run early (the
    preview stopping: a large site's index takes a minute)."""
    command = pagefind_command()
    if isinstance(command, SiteError):
        return command
    _remove_leftovers(output_dir)
    staging = _staging(output_dir)
    run = [*command, "--site", str(output_dir), "--output-path", str(staging)]
    try:
        done = _run(run, timeout, stop)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return SiteError(f"search: Pagefind could not run: {exc}", hint=INSTALL_HINT)
    if done.returncode != 0 or not (staging / ENTRY).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        return _failure(done)
    found = _INDEXED.search(done.stdout)
    return Staged(staging=staging, pages=int(found[1]) if found else 0)


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
    """Swap a staged index in for the old one; say which files that changed."""
    bundle = output_dir / BUNDLE_DIR
    old = files_below(bundle)
    _swap_in(staged.staging, bundle)
    changed = sorted(f"{BUNDLE_DIR}/{rel}" for rel in old | files_below(bundle))
    return SearchResult(pages=staged.pages, bundle=bundle, changed=tuple(changed))


def index_site(output_dir: Path, *, timeout: float = TIMEOUT) -> SearchResult | SiteError:
    """Index the built site in ``output_dir`` with Pagefind; never raises for Pagefind's sake."""
    staged = make_index(output_dir, timeout=timeout)
    return staged if isinstance(staged, SiteError) else install_index(output_dir, staged)


def files_below(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def stamp_of(records: Sequence[Path]) -> str:
    """What the index was made from: the build records' stat (every build that changes
    the site rewrites or removes them) and Pagefind's version."""
    parts: list[object] = [_pagefind_version()]
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


def _pagefind_version() -> str:
    try:
        return importlib.metadata.version("pagefind")
    except importlib.metadata.PackageNotFoundError:
        return "on PATH"
