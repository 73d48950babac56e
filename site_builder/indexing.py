"""Search after a build: a built output folder → its Pagefind index, made or dropped.

Input: the ``SiteConfig`` of a build that has just finished (under the build lock).
Output: the index in ``output/pagefind/`` made again when the pages it is made from
changed, or removed when the site is built without search; the spare the next build
stages from is told, or that build would drop the index or bring it back.
Two records say when Pagefind need not run: a stamp of the build the index was made
after (a build with nothing to do reads no page), and the digest of the pages it was
made from (a build that changed only lists, feeds or digests reads them, not Pagefind).
"""

from __future__ import annotations

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
    BUNDLE_DIR,
    Pages,
    SearchResult,
    bundle_identity,
    files_below,
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
    indexed = None
    if not _made_from(config.output_dir, records / MADE_FROM_NAME, pages):
        indexed = _index(config.output_dir, records / MADE_FROM_NAME, pages)
        if isinstance(indexed, SiteError):
            return indexed
    stamp_file.write_text(stamp, encoding="utf-8")
    return indexed


def _index(output: Path, made_from: Path, pages: Pages) -> SearchResult | SiteError:
    made_from.unlink(missing_ok=True)  # until the new index is in: it may fail
    indexed = index_site(output, pages=pages)
    if isinstance(indexed, SiteError):
        return indexed
    # The index is written into the live site, after the build: the spare the next
    # build stages from must take it from there, or that build would drop it.
    spare_trails_by(output, indexed.changed)
    if indexed.made_from:
        made_from.write_text(_record(output, indexed.made_from), encoding="utf-8")
    return indexed


def _made_from(output: Path, made_from: Path, pages: Pages) -> bool:
    """Whether the index in ``output`` is the one made from ``pages``."""
    record = _record(output, pages.digest)
    if not pages.digest or record.endswith(" "):  # pages unknown, or no index
        return False
    try:
        return made_from.read_text(encoding="utf-8") == record
    except (OSError, UnicodeDecodeError):
        return False


def _record(output: Path, digest: str) -> str:
    """The pages' digest and the index's own: an index put there by anything else
    (restored, copied, half deleted) is not taken for the one made from them."""
    return f"{digest} {bundle_identity(output / BUNDLE_DIR)}"


def drop_search(config: SiteConfig) -> None:
    """A build with --no-search publishes what a clean build would: no index. One an
    earlier build left would search pages the site may no longer have."""
    bundle = config.output_dir / BUNDLE_DIR
    if bundle.is_dir() and not bundle.is_symlink():
        update_site(config.output_dir, (), [f"{BUNDLE_DIR}/{rel}" for rel in files_below(bundle)])
