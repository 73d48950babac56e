"""Output plan: a placed ``Site`` → the one list of every file the site consists of.

Each ``OutputSpec`` names its path, a key that digests every input its bytes depend
on, and a deferred ``render``; the build renders only what it must write.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import jinja2
import markupsafe

from site_builder.cache import code_fingerprint
from site_builder.config import SiteConfig
from site_builder.content import Content
from site_builder.feeds import (
    FEED_FILES,
    FeedItem,
    FeedLink,
    FeedSpec,
    absolutize,
    render_feed,
    site_feed,
)
from site_builder.markdown import pygments_css
from site_builder.model import ArchiveMonth, Article, Digest, Listing, OutputSpec, Site
from site_builder.site import output_path, paginate
from site_builder.sitemap import robots_txt, sitemap_xml
from site_builder.templates import render, template_fingerprint, theme_assets


@dataclass(frozen=True, slots=True, kw_only=True)
class Taxonomy:
    """How a taxonomy is named in URLs and headings."""

    name: str  # "tags"
    title: str  # "Tags"
    singular: str  # "Tag"


TEMPLATES = (
    "index.html",
    "article.html",
    "page.html",
    "taxonomy.html",
    "term.html",
    "archive.html",
    "digest.html",
    "digests.html",
    "404.html",
)
TAXONOMIES = (
    Taxonomy(name="tags", title="Tags", singular="Tag"),
    Taxonomy(name="categories", title="Categories", singular="Category"),
    Taxonomy(name="authors", title="Authors", singular="Author"),
)


def _digest(*parts: object) -> str:
    text = repr((code_fingerprint(), parts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def card(article: Article) -> tuple[object, ...]:
    """What a list, feed summary or sitemap shows of an article: its key in those outputs."""
    return (
        article.title,
        article.url,
        article.date,
        article.updated,
        article.summary,
        article.tags,
        article.category_term,
        article.authors,
        article.reading_minutes,
        article.sources,
        article.image,
        article.feed_id,
    )


class SiteView:
    """The ``site`` a template sees: records which of its parts the template reads."""

    __slots__ = ("_site", "_used")

    def __init__(self, site: Site, used: set[str]) -> None:
        self._site, self._used = site, used

    def __getattr__(self, name: str) -> Any:
        self._used.add(name)
        return getattr(self._site, name)


def _shown(value: object) -> object:
    """What a template can show of a site part, in a form that digests stably."""
    if isinstance(value, Article):
        return (card(value), hashlib.sha256(value.html.encode()).hexdigest())
    if isinstance(value, tuple):
        return tuple(_shown(v) for v in value)
    if isinstance(value, Listing | ArchiveMonth | Digest):
        return (repr(replace(value, articles=())), _shown(value.articles))
    return repr(value)


class SiteKeys:
    """Digests of the parts of the site that templates read, each made once per build."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._parts: dict[str, str] = {}

    def part(self, name: str) -> str:
        if name not in self._parts:
            self._parts[name] = _digest(_shown(getattr(self.site, name, None)))
        return self._parts[name]

    def key(self, base: str, names: Iterable[str]) -> str:
        """The full key of an output: its explicit inputs plus the site parts it read."""
        names = sorted(set(names))
        return _digest(base, names, [self.part(n) for n in names]) if names else base


def _plain_file(data: bytes) -> Callable[[], tuple[bytes, frozenset[str]]]:
    return lambda: (data, frozenset())


class _Planner:
    """Collects the OutputSpecs of one build; shared inputs are digested once."""

    def __init__(self, site: Site, env: jinja2.Environment, config: SiteConfig) -> None:
        self.site, self.env, self.config = site, env, config
        self.base_key = _digest(config.fingerprint())
        self.site_feeds = _site_feed(site, config)
        self.specs: list[OutputSpec] = []
        self._chains: dict[str, str] = {}

    def add(self, path: str, key: str, make: Callable[[], tuple[bytes, frozenset[str]]]) -> None:
        self.specs.append(OutputSpec(path=path, key=key, render=make))

    def add_bytes(self, path: str, make: Callable[[], bytes], *key_parts: object) -> None:
        self.add(path, _digest(self.base_key, path, *key_parts), lambda: (make(), frozenset()))

    def page(
        self,
        url: str,
        template: str,
        key_parts: object,
        feeds: Sequence[FeedLink] = (),
        **context: Any,
    ) -> None:
        links = (*self.site_feeds.links(), *feeds)
        if template not in self._chains:
            self._chains[template] = template_fingerprint(self.env, template)
        chain = self._chains[template]
        key = _digest(self.base_key, chain, template, url, key_parts, links)
        self.add(output_path(url), key, self._renderer(template, url, links, context))

    def _renderer(
        self, template: str, url: str, links: tuple[FeedLink, ...], context: dict[str, Any]
    ) -> Callable[[], tuple[bytes, frozenset[str]]]:
        def make() -> tuple[bytes, frozenset[str]]:
            used: set[str] = set()
            ctx = {"site": SiteView(self.site, used), "page_url": url, "feeds": links, **context}
            return render(self.env, template, ctx), frozenset(used)

        return make

    def feed(self, spec: FeedSpec) -> None:
        for kind in FEED_FILES:
            self.add_bytes(
                output_path(spec.url(kind)),
                functools.partial(render_feed, kind, spec, self.config),
                spec,
            )


def _site_feed(site: Site, config: SiteConfig) -> FeedSpec:
    return site_feed(
        site.articles,
        config,
        title=config.title,
        description=config.description,
        page_url="/",
        folder="/",
    )


def _front_pages(p: _Planner) -> None:
    latest = p.site.weekly[0] if p.site.weekly else None
    for page in paginate(p.site.articles, p.config.per_page, "/"):
        digest = latest if page.number == 1 else None
        digest_key = (
            (digest.url, digest.title, tuple(map(card, digest.articles))) if digest else None
        )
        p.page(
            page.url,
            "index.html",
            (page.number, page.count, tuple(map(card, page.items)), digest_key),
            page=page,
            digest=digest,
        )


def _article_key(article: Article) -> tuple[object, ...]:
    return (replace(article, related=()), tuple(map(card, article.related)))


def _articles(p: _Planner) -> None:
    for article in p.site.articles:
        p.page(article.url, "article.html", _article_key(article), article=article)
    for page in p.site.pages:
        p.page(page.url, "page.html", _article_key(page), article=page)


def _term_feed(listing: Listing, taxonomy: Taxonomy, p: _Planner) -> FeedSpec:
    return site_feed(
        listing.articles,
        p.config,
        title=f"{p.config.title}: {listing.term.name}",
        description=f"{taxonomy.singular} {listing.term.name} on {p.config.title}",
        page_url=listing.term.url,
        folder=listing.term.url,
    )


def _taxonomies(p: _Planner) -> None:
    for taxonomy in TAXONOMIES:
        listings: tuple[Listing, ...] = getattr(p.site, taxonomy.name)
        index_key = tuple((li.term, len(li.articles)) for li in listings)
        p.page(
            f"/{taxonomy.name}/", "taxonomy.html", index_key, taxonomy=taxonomy, listings=listings
        )
        for listing in listings:
            spec = _term_feed(listing, taxonomy, p)
            p.feed(spec)
            for page in paginate(listing.articles, p.config.per_page, listing.term.url):
                p.page(
                    page.url,
                    "term.html",
                    (listing.term, page.number, page.count, tuple(map(card, page.items))),
                    feeds=spec.links(),
                    taxonomy=taxonomy,
                    listing=listing,
                    page=page,
                )


def _archive(p: _Planner) -> None:
    key = tuple((m.year, m.month, tuple(map(card, m.articles))) for m in p.site.archive)
    p.page("/archive/", "archive.html", key, months=p.site.archive, total=len(p.site.articles))


def digest_item(digest: Digest, config: SiteConfig) -> FeedItem:
    """A weekly issue as one feed item: its introduction and its stories' summaries."""
    url = config.absolute(digest.url)
    stories = "".join(
        f'<h3><a href="{a.url}">{_escape(a.title)}</a></h3>{a.summary}' for a in digest.articles
    )
    content = absolutize(digest.intro + stories, url)
    return FeedItem(
        id=url,
        title=digest.title,
        url=url,
        published=digest.updated,
        updated=digest.updated,
        summary=absolutize(digest.intro, url) or f"<p>{len(digest.articles)} stories</p>",
        content=content,
    )


def _escape(text: str) -> str:
    return str(markupsafe.escape(text))


def _digests(p: _Planner) -> None:
    items = tuple(digest_item(d, p.config) for d in p.site.weekly[: p.config.feed_size])
    spec = FeedSpec(
        title=f"{p.config.title}: weekly digest",
        description=f"Every weekly issue of {p.config.title}",
        page_url="/digest/",
        folder="/digest/",
        items=items,
    )
    p.feed(spec)
    issues = (*p.site.weekly, *p.site.daily)
    index_key = tuple((d.url, d.title, len(d.articles)) for d in issues)
    p.page(
        "/digest/",
        "digests.html",
        index_key,
        feeds=spec.links(),
        weekly=p.site.weekly,
        daily=p.site.daily,
    )
    for digest in issues:
        key = (replace(digest, articles=()), tuple(map(card, digest.articles)))
        p.page(digest.url, "digest.html", key, feeds=spec.links(), digest=digest)


def _sitemap_pages(specs: Sequence[OutputSpec], site: Site) -> Iterator[tuple[str, Any]]:
    modified = {a.url: a.updated or a.date for a in (*site.articles, *site.pages)}
    for spec in sorted(specs, key=lambda s: s.path):
        if spec.path.endswith("index.html"):
            url = "/" + spec.path.removesuffix("index.html")
            yield url, modified.get(url)


def _files(p: _Planner, content: Content) -> None:
    """Static files are copied; their key is their content, read again when written."""
    sources = [
        *theme_assets(p.config),
        *((rel, p.config.content_dir / rel) for rel in content.assets),
    ]
    for rel, path in sources:
        p.add_bytes(rel, path.read_bytes, hashlib.sha256(path.read_bytes()).hexdigest())
    css = (
        pygments_css("default", "")
        + "\n@media (prefers-color-scheme: dark) {\n"
        + pygments_css("github-dark", "")
        + "\n}\n"
    ).encode()
    p.add_bytes("static/pygments.css", lambda: css, css)


def plan_outputs(
    site: Site, env: jinja2.Environment, config: SiteConfig, content: Content
) -> tuple[list[OutputSpec], SiteKeys]:
    """Every file of the site, each with its key and a deferred render."""
    p = _Planner(site, env, config)
    _front_pages(p)
    _articles(p)
    _taxonomies(p)
    _archive(p)
    _digests(p)
    p.feed(p.site_feeds)
    p.page("/404.html", "404.html", ())
    pages = list(_sitemap_pages(p.specs, site))
    p.add_bytes("sitemap.xml", lambda: sitemap_xml(pages, config), pages)
    p.add_bytes("robots.txt", lambda: robots_txt(config))
    _files(p, content)
    return sorted(p.specs, key=lambda s: s.path), SiteKeys(site)
