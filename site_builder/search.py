"""Search stage: a built ``output/`` → a Pagefind index in ``output/pagefind/``.

Pagefind comes with the optional ``search`` extra (``pip install 'site-builder[search]'``;
the ``pagefind`` wheel ships its binary). It reads the HTML the writer has already
written, so this runs after a build, from the command line. Only pages marked
``data-pagefind-body`` (articles and static pages) are indexed. The index is made
beside ``output/`` and swapped in, so a failed run leaves the previous index in place.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from site_builder.errors import ConfigError, SiteError

BUNDLE_DIR = "pagefind"  # /pagefind/pagefind-ui.js is what templates/search.html loads
INSTALL_HINT = "install the search extra: pip install 'site-builder[search]'"
TIMEOUT = 600.0
_INDEXED = re.compile(r"Indexed (\d+) pages?\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    """What an indexing run made: how many pages it indexed, and where the index is."""

    pages: int
    bundle: Path


def pagefind_command() -> list[str] | SiteError:
    """How to run Pagefind here: the Python package's, else one on PATH; or why not."""
    if importlib.util.find_spec("pagefind") is not None:
        return [sys.executable, "-m", "pagefind"]
    found = shutil.which("pagefind_extended") or shutil.which("pagefind")
    if found:
        return [found]
    return ConfigError("--search needs Pagefind, which is not installed", hint=INSTALL_HINT)


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


def index_site(output_dir: Path, *, timeout: float = TIMEOUT) -> SearchResult | SiteError:
    """Index the built site in ``output_dir`` with Pagefind; never raises for Pagefind's sake."""
    command = pagefind_command()
    if isinstance(command, SiteError):
        return command
    _remove_leftovers(output_dir)
    staging = _staging(output_dir)
    run = [*command, "--site", str(output_dir), "--output-path", str(staging)]
    try:
        done = subprocess.run(run, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return SiteError(f"search: Pagefind could not run: {exc}", hint=INSTALL_HINT)
    if done.returncode != 0 or not staging.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        return _failure(done)
    bundle = output_dir / BUNDLE_DIR
    _swap_in(staging, bundle)
    found = _INDEXED.search(done.stdout)
    return SearchResult(pages=int(found[1]) if found else 0, bundle=bundle)
