"""Search after a build: a built output folder → its Pagefind index, made or dropped.

Input: the ``SiteConfig`` of a build that has just finished (under the build lock).
Output: the index in ``output/pagefind/`` (and ``output/pagefind-N/``, the shards of
a large site's) made again when the pages it is made from changed, or removed when the
site is built without search; the spare the next build stages from is told, or that
build would drop the index or bring it back.
Two records say when Pagefind need not run: a stamp of the build the index was made
after (a build with nothing to do reads no page), and the digest of the pages each
bundle was made from (a build that changed only lists, feeds or digests reads them, not
Pagefind; an edit of one story indexes only its shard again).
"""

from __future__ import annotations

import json
from pathlib import Path

from site_builder.cache import (
    amendments_path,
    code_fingerprint,
    manifest_path,
    records_folder,
    summary_path,
)
from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.search import (
    Pages,
    SearchResult,
    bundle_identity,
    files_below,
    index_folders,
    index_is_current,
    index_site,
    stamp_of,
    survey,
)
from site_builder.writer import spare_trails_by, update_site

STAMP_NAME = "search.stamp"
MADE_FROM_NAME = "search.pages"


def build_records(root: Path, output: Path) -> list[Path]:
    """The files every build that changes ``output`` rewrites or removes."""
    return [f(root, output) for f in (manifest_path, summary_path, amendments_path)]


def index_search(config: SiteConfig) -> SearchResult | SiteError | None:
    """Index the site just built for /search/, unless the index in output/ was made
    after the build now there or from the same pages (``None``); the site stays as
    built if this fails."""
    records = records_folder(config.root, config.output_dir, make=True)
    stamp_file = records / STAMP_NAME
    # Keyed by this code too: a new way of running Pagefind must not pass for the old.
    salt = code_fingerprint("search", "indexing")
    stamp = stamp_of(build_records(config.root, config.output_dir), salt=salt)
    if index_is_current(config.output_dir, stamp_file, stamp):
        return None
    stamp_file.unlink(missing_ok=True)
    pages = survey(config.output_dir, salt=salt)
    made_from = records / MADE_FROM_NAME
    current = _current(config.output_dir, made_from, pages)
    indexed = None
    if not _complete(config.output_dir, pages, current):
        indexed = _index(config.output_dir, made_from, pages, current)
        if isinstance(indexed, SiteError):
            return indexed
    stamp_file.write_text(stamp, encoding="utf-8")
    return indexed


def _complete(output: Path, pages: Pages, current: frozenset[str]) -> bool:
    """Whether every bundle of the index is made from its pages, and no other is left."""
    folders = {folder for folder, _ in pages.bundles()}
    return current == folders and set(index_folders(output)) == folders


def _index(
    output: Path, made_from: Path, pages: Pages, current: frozenset[str]
) -> SearchResult | SiteError:
    made_from.unlink(missing_ok=True)  # until the new index is in: it may fail
    indexed = index_site(output, pages=pages, current=current)
    if isinstance(indexed, SiteError):
        return indexed
    # The index is written into the live site, after the build: the spare the next
    # build stages from must take it from there, or that build would drop it.
    spare_trails_by(output, indexed.changed)
    if indexed.made_from:
        made_from.write_text(json.dumps(_records(output, pages)), encoding="utf-8")
    return indexed


def _current(output: Path, made_from: Path, pages: Pages) -> frozenset[str]:
    """The bundles in ``output`` made from the pages they hold now."""
    if not pages.digest:  # pages unknown
        return frozenset()
    try:
        recorded = json.loads(made_from.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return frozenset()
    if not isinstance(recorded, dict):
        return frozenset()
    now = _records(output, pages)
    return frozenset(
        f for f, record in now.items() if recorded.get(f) == record and record[-1] != " "
    )


def _records(output: Path, pages: Pages) -> dict[str, str]:
    """Each bundle's pages' digest and the bundle's own: a bundle put there by anything
    else (restored, copied, half deleted) is not taken for the one made from them."""
    return {
        folder: f"{digest} {bundle_identity(output / folder)}" for folder, digest in pages.bundles()
    }


def drop_search(config: SiteConfig) -> None:
    """A build with --no-search publishes what a clean build would: no index, none of
    its shards. One an earlier build left would search pages the site may no longer have."""
    output = config.output_dir
    folders = [f for f in index_folders(output) if not (output / f).is_symlink()]
    removed = [f"{folder}/{rel}" for folder in folders for rel in files_below(output / folder)]
    if removed:
        update_site(output, (), removed)
