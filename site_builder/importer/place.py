"""Import stage, placing: posts → free slugs in this site, and the files written.

Input is the checked posts and the articles already in ``content/``; output is each
post's slug (a post imported before is recognised and skipped; a taken slug moves the
later post to a date-based one) and, at the end, the new files: every one created,
none replaced, and all removed again if one cannot be written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from site_builder.config import SiteConfig
from site_builder.content import PAGES_DIR, decode, walk
from site_builder.errors import ContentError, SiteError
from site_builder.frontmatter import split_front_matter
from site_builder.importer.posts import ARTICLES_DIR, Post, file_name
from site_builder.importer.report import ImportNote, Renamed
from site_builder.model import slugify


@dataclass(frozen=True, slots=True, kw_only=True)
class _Existing:
    """An article already in the site: it keeps its slug."""

    path: str  # relative to the site root
    title: object
    date: object


def existing_articles(config: SiteConfig) -> dict[str, _Existing]:
    """Slugs (and file names) already used under content/, pages excepted."""
    taken: dict[str, _Existing] = {}
    for path in walk(config.content_dir):
        rel = path.relative_to(config.root).as_posix()
        if path.suffix.lower() != ".md" or rel.startswith(f"content/{PAGES_DIR}/"):
            continue
        try:
            meta = split_front_matter(decode(path.read_bytes(), path=rel), path=rel).meta
        except (OSError, ContentError):  # the build reports it; its file name still counts
            meta = {}
        given = meta.get("slug")
        owner = _Existing(path=rel, title=meta.get("title"), date=meta.get("date"))
        taken.setdefault(slugify(given) if isinstance(given, str) else file_name(path)[0], owner)
        if rel.startswith(f"{ARTICLES_DIR}/"):  # never write over a file, whatever its slug
            taken.setdefault(path.stem, owner)
    return taken


def _claim(
    post: Post, taken: Mapping[str, str], existing: Mapping[str, _Existing]
) -> tuple[str, bool]:
    """The first free one of ``slug``, ``day-slug``, ``day-slug-2``...; True: imported before."""
    candidate, n = post.slug, 1
    while True:
        owner = existing.get(candidate)
        if owner is not None and owner.title == post.title and str(owner.date) == post.date:
            return candidate, True
        if candidate not in taken:
            return candidate, False
        n += 1
        candidate = f"{post.date[:10]}-{post.slug}" + (f"-{n - 1}" if n > 2 else "")


def place(
    posts: Iterable[Post], existing: Mapping[str, _Existing]
) -> tuple[list[Post], list[Renamed], list[SiteError], dict[str, str]]:
    """Give every post a URL; on a clash the later post moves to a date-based one."""
    taken = {slug: owner.path for slug, owner in existing.items()}
    placed: list[Post] = []
    renamed: list[Renamed] = []
    notes: list[SiteError] = []
    slugs: dict[str, str] = {}  # source → slug, posts imported before included
    for post in sorted(posts, key=lambda p: (p.when, p.id)):
        slug, done = _claim(post, taken, existing)
        slugs[post.id] = slug
        if done:
            notes.append(
                ImportNote(f"already imported as {existing[slug].path}; skipped", path=post.id)
            )
            continue
        if slug != post.slug:
            renamed.append(
                Renamed(source=post.id, slug=post.slug, new_slug=slug, taken_by=taken[post.slug])
            )
        taken[slug] = post.id
        placed.append(replace(post, slug=slug))
    return placed, renamed, notes, slugs


def write(root: Path, files: Iterable[tuple[str, bytes]]) -> SiteError | None:
    """Create every file (target in the site, bytes), replacing none; on a failure
    remove the ones made so far."""
    written: list[Path] = []
    target = ""
    try:
        for target, data in files:
            path = root / target
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("xb") as stream:
                written.append(path)  # ours from here on, even if the write fails
                stream.write(data)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        reason = "it already exists" if isinstance(exc, FileExistsError) else exc.strerror
        return ContentError(f"cannot write file: {reason}; nothing was imported", path=target)
    return None
