"""Search after a build: a built output folder → its Pagefind index, made or dropped.

Input: the ``SiteConfig`` of a build that has just finished (under the build lock).
Output: the index in ``output/pagefind/`` made again when the build in ``output/`` is
newer than it, or removed when the site is built without search; the spare the next
build stages from is told, or that build would drop the index or bring it back.
A stamp in the build records says which build the index was made after: a build with
nothing to do does not run Pagefind again.
"""

from __future__ import annotations

from pathlib import Path

from site_builder.cache import amendments_path, manifest_path, records_folder, summary_path
from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.search import (
    BUNDLE_DIR,
    SearchResult,
    files_below,
    index_is_current,
    index_site,
    stamp_of,
)
from site_builder.writer import spare_trails_by, update_site

STAMP_NAME = "search.stamp"


def build_records(root: Path, output: Path) -> list[Path]:
    """The files every build that changes ``output`` rewrites or removes."""
    return [f(root, output) for f in (manifest_path, summary_path, amendments_path)]


def index_search(config: SiteConfig) -> SearchResult | SiteError | None:
    """Index the site just built for /search/, unless the index was made after the
    build now in output/ (``None``); the site stays as built if this fails."""
    stamp_file = records_folder(config.root, config.output_dir, make=True) / STAMP_NAME
    stamp = stamp_of(build_records(config.root, config.output_dir))
    if index_is_current(config.output_dir, stamp_file, stamp):
        return None
    stamp_file.unlink(missing_ok=True)
    indexed = index_site(config.output_dir)
    if isinstance(indexed, SiteError):
        return indexed
    # The index is written into the live site, after the build: the spare the next
    # build stages from must take it from there, or that build would drop it.
    spare_trails_by(config.output_dir, indexed.changed)
    stamp_file.write_text(stamp, encoding="utf-8")
    return indexed


def drop_search(config: SiteConfig) -> None:
    """A build with --no-search publishes what a clean build would: no index. One an
    earlier build left would search pages the site may no longer have."""
    bundle = config.output_dir / BUNDLE_DIR
    if bundle.is_dir() and not bundle.is_symlink():
        update_site(config.output_dir, (), [f"{BUNDLE_DIR}/{rel}" for rel in files_below(bundle)])
