"""Import stage: another generator's posts → new files in ``content/articles/``.

Input is the old site (a Jekyll, Hugo or Pelican folder, a WordPress export, a feed)
and the root of this site; output is an ``ImportReport`` and, unless ``dry_run``, one
new Markdown file per post plus the files its posts use. Each source module reads its
posts and converts its own markup; this module places them, rewrites their links
(``links``), records their old addresses as aliases (``oldurls``) and writes. Every
post is read, checked and placed before the first file is written, no existing file is
ever replaced, and a write that fails removes the files this run wrote.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from site_builder.config import SiteConfig, load_config
from site_builder.content import PAGES_DIR, walk
from site_builder.errors import ConfigError, SiteError, SiteWarning
from site_builder.importer import feed, hugo, jekyll, pelican, wordpress
from site_builder.importer.front import normalize_date
from site_builder.importer.links import Files, rewrite_links
from site_builder.importer.oldurls import Refs, alias_of, page_path
from site_builder.importer.place import existing_articles, place, write
from site_builder.importer.posts import ARTICLES_DIR, MARKDOWN, Post, Scan, render
from site_builder.importer.report import ImportNote, ImportReport, Renamed

__all__ = [
    "KINDS",
    "ImportNote",
    "ImportReport",
    "Kind",
    "Renamed",
    "import_posts",
    "normalize_date",
]

# What this site serves itself (docs/urls.md): an old address there is not redirected.
_OWN_PATHS = (
    "/articles/", "/page/", "/tags/", "/categories/", "/authors/", "/archive/", "/digest/",
    "/feeds/", "/search/", "/static/", "/feed.xml", "/atom.xml", "/feed.json", "/feeds.opml",
    "/sitemap.xml", "/robots.txt", "/404.html",
)  # fmt: skip
Kind = Literal["jekyll", "hugo", "pelican", "wordpress", "feed"]
KINDS: tuple[str, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class _Source:
    # SRC as given: a feed may be a URL, which a Path would spoil ("https:/x").
    scan: Callable[[str, SiteConfig, str | None], Scan]
    convert: Callable[[Post, Refs], tuple[str, list[SiteError]]]


_SOURCES: Mapping[str, _Source] = {
    "jekyll": _Source(lambda src, c, url: jekyll.scan(Path(src), c, url), jekyll.convert),
    "hugo": _Source(lambda src, c, url: hugo.scan(Path(src), c, url), hugo.convert),
    "pelican": _Source(lambda src, c, url: pelican.scan(Path(src), c, url), pelican.convert),
    "wordpress": _Source(lambda src, c, url: wordpress.scan(Path(src), c, url), wordpress.convert),
    "feed": _Source(feed.scan, feed.convert),
}


@dataclass(slots=True, kw_only=True)
class _Plan:
    """The posts placed, and what their conversion made: files, copies and problems."""

    posts: list[Post]  # placed articles and pages
    renamed: list[Renamed]
    problems: list[SiteError]
    out: list[tuple[str, str, str]] = field(default_factory=list)  # (id, target, text)
    copies: list[tuple[str, Path]] = field(default_factory=list)  # (target, file in SRC)


def import_posts(
    kind: Kind,
    src: Path | str,
    site_root: Path,
    *,
    dry_run: bool = False,
    old_url: str | None = None,
) -> ImportReport:
    """Copy the posts of another site into ``site_root``'s ``content/articles/``.

    Raises ``BuildFailed`` for a broken ``site.toml`` and ``ConfigError`` for an
    ``src`` that is not what ``kind`` reads or a bad ``old_url``; a broken post is a
    problem in the report.
    """
    config = load_config(site_root)
    source = _SOURCES[kind]
    found = source.scan(str(src), config, _old_url(old_url))
    # A draft was never published: it has no old address to keep.
    found.posts = [replace(p, old_urls=()) if p.draft else p for p in found.posts]
    plan = _convert(source, found, config, Path(src))
    if not dry_run and (failure := _write_all(config.root, plan.out, plan.copies)):
        plan.problems.append(failure)
        plan.out, plan.copies = [], []
    return ImportReport(
        imported=tuple((post_id, target) for post_id, target, _ in plan.out),
        renamed=tuple(sorted(plan.renamed, key=lambda r: r.source)),
        was=tuple((p.id, alias_of(p.old_urls[0])) for p in plan.posts if p.old_urls),
        copied=tuple(sorted((_shown(Path(src), path), target) for target, path in plan.copies)),
        problems=tuple(sorted(plan.problems, key=SiteError.sort_key)),
        drafts=sum(post.draft for post in plan.posts) if plan.out else 0,
        dry_run=dry_run,
        many_per_file=kind in ("wordpress", "feed"),
    )


def _convert(source: _Source, found: Scan, config: SiteConfig, src: Path) -> _Plan:
    """Place every post, convert its markup, rewrite its links; write nothing yet."""
    articles = [post for post in found.posts if not post.page]
    placed, renamed, notes, slugs = place(articles, existing_articles(config))
    pages, page_notes = _pages([post for post in found.posts if post.page], config)
    refs = _refs(found, slugs, config)
    files = Files(src=src, roots=found.roots)
    plan = _Plan(
        posts=[*placed, *pages], renamed=renamed, problems=[*found.problems, *notes, *page_notes]
    )
    for post in sorted(plan.posts, key=lambda p: (p.source, p.front.start, p.id)):
        body, converted = source.convert(post, refs)
        body, rewritten = rewrite_links(body, post, refs, files)
        aliased, alias_notes = _aliased(post, refs.local)
        plan.problems += converted + rewritten + alias_notes
        plan.out.append((post.id, _target(post), render(aliased, body)))
    plan.copies, copy_problems = _copies(files.copies, config.root)
    plan.problems += copy_problems
    return plan


def _old_url(url: str | None) -> str | None:
    if url is None:
        return None
    if not url.startswith(("http://", "https://")) or "://" not in url[:8] or len(url) < 11:
        raise ConfigError(
            f"--old-url: {url!r} is not an absolute URL; expected e.g. https://old.example.org/"
        )
    return url.rstrip("/") + "/"


def _target(post: Post) -> str:
    return f"content/{PAGES_DIR}/{post.slug}.md" if post.page else f"{ARTICLES_DIR}/{post.slug}.md"


def _pages(pages: list[Post], config: SiteConfig) -> tuple[list[Post], list[SiteError]]:
    """Pages of the old site that are not in content/pages/ yet; one there is kept."""
    kept: list[Post] = []
    notes: list[SiteError] = []
    taken: set[str] = set()
    for page in sorted(pages, key=lambda p: p.id):
        if (config.root / _target(page)).exists() or page.slug in taken:
            notes.append(ImportNote(f"{_target(page)} is there already; skipped", path=page.id))
        else:
            taken.add(page.slug)
            kept.append(page)
    return kept, notes


def _refs(found: Scan, slugs: Mapping[str, str], config: SiteConfig) -> Refs:
    """Every post by its old names, and this site's own pages, which links may keep."""
    refs = Refs(old=found.old, local=_local_paths(config))
    for post in found.posts:
        url = f"/{post.slug}/" if post.page else None
        url = f"/articles/{slugs[post.id]}/" if post.id in slugs else url
        if url is not None:
            refs.add(url, old_urls=post.old_urls, source=post.source, name=post.name)
    return refs


def _local_paths(config: SiteConfig) -> dict[str, str]:
    """This site's pages and files by ``page_path``: a link to the same path on the old
    site leads to them."""
    paths: dict[str, str] = {}
    for path in walk(config.content_dir):
        rel = path.relative_to(config.content_dir).as_posix()
        if rel.startswith(f"{PAGES_DIR}/") and path.suffix.lower() in MARKDOWN:
            url = "/" + rel.removeprefix(f"{PAGES_DIR}/").rsplit(".", 1)[0] + "/"
            paths[page_path(url)] = url
        elif path.suffix.lower() not in MARKDOWN:
            paths[page_path("/" + rel)] = "/" + rel
    return paths


def _aliased(post: Post, local: Mapping[str, str]) -> tuple[Post, list[SiteError]]:
    """The post with each old address as an alias, so that the old URL redirects; an
    address this site serves itself stays this site's, with a note."""
    given = post.meta.get("aliases")
    kept = [a for a in given if isinstance(a, str)] if isinstance(given, list) else []
    wanted = dict.fromkeys(_site_path(a) for a in [*kept, *map(alias_of, post.old_urls)])
    aliases: list[str] = []
    notes: list[SiteError] = []
    new = f"/{post.slug}/" if post.page else f"/articles/{post.slug}/"
    for alias in (a for a in wanted if a and a != new):
        if post.page:  # the build redirects articles' old URLs only
            message = f"old URL {alias} is not redirected: a page takes no aliases; it is {new}"
            notes.append(SiteWarning(message, path=post.source, line=post.front.start))
        elif alias == "/" or alias.startswith(_OWN_PATHS) or page_path(alias) in local:
            message = f"old URL {alias} is not redirected: this site has a page there"
            notes.append(ImportNote(message, path=post.source, line=post.front.start))
        else:
            aliases.append(alias)
    return (replace(post, meta={**post.meta, "aliases": aliases}) if aliases else post), notes


def _site_path(alias: str) -> str:
    """An alias as a clean path under the site: ``..`` can climb nowhere."""
    if not alias.startswith("/") or any(ord(c) < 32 for c in alias):
        return ""
    clean = posixpath.normpath(alias)
    return clean + "/" if alias.endswith("/") and clean != "/" else clean


def _copies(
    wanted: Mapping[str, Path], root: Path
) -> tuple[list[tuple[str, Path]], list[SiteError]]:
    """The files to copy: those not there yet; one there with other bytes is kept."""
    copies: list[tuple[str, Path]] = []
    problems: list[SiteError] = []
    for target, path in sorted(wanted.items()):
        there = root / target
        if not there.exists():
            copies.append((target, path))
        elif not there.is_file() or there.read_bytes() != path.read_bytes():
            problems.append(
                SiteWarning(
                    f"not copied: a different file is there; compare it with {path.name}",
                    path=target,
                )
            )
    return copies, problems


def _write_all(
    root: Path, posts: Iterable[tuple[str, str, str]], copies: Iterable[tuple[str, Path]]
) -> SiteError | None:
    texts = ((target, text.encode()) for _, target, text in posts)
    files = ((target, path.read_bytes()) for target, path in copies)
    return write(root, (*texts, *files))


def _shown(src: Path, path: Path) -> str:
    try:
        return path.relative_to(src).as_posix()
    except ValueError:
        return path.as_posix()
