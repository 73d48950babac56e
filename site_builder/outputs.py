"""Output plan: a placed ``Site`` → the one list of every file the site consists of.

Each ``OutputSpec`` names its path, a key that digests every input its bytes depend
on, and a deferred ``render``; the build renders only what it must write.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

import jinja2
import markupsafe

from site_builder.cache import build_fingerprint, code_fingerprint
from site_builder.config import SiteConfig
from site_builder.content import Content
from site_builder.feeds import (
    FEED_FILES,
    RSS,
    FeedItem,
    FeedLink,
    FeedSpec,
    render_feed,
    site_feed,
)
from site_builder.i18n import Texts, catalogue_fingerprint
from site_builder.markdown import pygments_css
from site_builder.model import (
    Alternate,
    ArchiveMonth,
    Article,
    Digest,
    Listing,
    OutputSpec,
    Page,
    Site,
    Source,
    Term,
    pickled_by_fields,
)
from site_builder.newsletter import INLINER_VERSION, inline_css
from site_builder.opml import OutlineFeed, OutlineGroup, opml_document
from site_builder.permalinks import Redirect
from site_builder.site import absolutize, output_path, paginate
from site_builder.sitemap import robots_txt, sitemap_xml
from site_builder.templates import render, template_fingerprint, theme_assets

Render = Callable[[], tuple[bytes, frozenset[str]]]
WHY_LENGTH = 12  # hex digits of each key part kept for `build --explain`
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Taxonomy:
    """How a taxonomy is named in URLs and headings."""

    name: str  # "tags"
    title: str  # "Tags"
    singular: str  # "Tag"
    # A term's feed, "Tag %(name)s on %(title)s"; every text in the site's language.
    feed_description: str = ""


TEMPLATES = (
    "index.html",
    "article.html",
    "page.html",
    "taxonomy.html",
    "term.html",
    "archive.html",
    "archive_month.html",
    "digest.html",
    "digests.html",
    "email.html",
    "email.txt",
    "feeds.html",
    "search.html",
    "404.html",
)
# Formats listed in /feeds.opml: one subscription per feed, in the format every reader
# takes. Listing all three would subscribe a reader that imports the file three times.
OPML_FORMATS = (RSS,)


def _taxonomies_in(texts: Texts) -> tuple[Taxonomy, ...]:
    """The taxonomies, named in the site's language."""
    _ = texts.translate  # placeholders kept: a term's feed fills in its description
    return (
        Taxonomy(
            name="tags",
            title=_("Tags"),
            singular=_("Tag"),
            feed_description=_("Tag %(name)s on %(title)s"),
        ),
        Taxonomy(
            name="categories",
            title=_("Categories"),
            singular=_("Category"),
            feed_description=_("Category %(name)s on %(title)s"),
        ),
        Taxonomy(
            name="authors",
            title=_("Authors"),
            singular=_("Author"),
            feed_description=_("Author %(name)s on %(title)s"),
        ),
    )


def _digest(*parts: object) -> str:
    text = repr((code_fingerprint(), parts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _named(items: Iterable[Term | Source]) -> tuple[tuple[str, str | None], ...]:
    return tuple((item.name, item.url) for item in items)


def card(article: Article) -> tuple[object, ...]:
    """What a list, feed summary or sitemap shows of an article: its key in those outputs.

    Plain strings and tuples only: keys are digested for every page of every build,
    and a dataclass's repr costs ten times more.
    """
    category = (article.category_term,) if article.category_term else ()
    return (
        article.title,
        article.url,
        _when(article.date),
        _when(article.updated),
        article.summary,
        _named(article.tags),
        _named(category),
        article.authors,
        article.reading_minutes,
        _named(article.sources),
        article.image,
        article.feed_id,
    )


class SiteView:
    """The ``site`` a template sees: records which of its parts the template reads."""

    __slots__ = ("_site", "_used")

    def __init__(self, site: object, used: set[str]) -> None:
        self._site, self._used = site, used

    def __getattr__(self, name: str) -> Any:
        self._used.add(name)
        return getattr(self._site, name)


def _shown(value: object) -> object:
    """What a template can show of a site part, in a form that digests stably."""
    if isinstance(value, Article):
        return (card(value), value.body.digest)
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


class Remade(Generic[T]):
    """A value made from the site's articles, made again after they change in place."""

    __slots__ = ("make", "value")

    def __init__(self, make: Callable[[], T]) -> None:
        self.make = make
        self.value = make()

    def renew(self) -> None:
        self.value = self.make()


def _shown_sources(
    value: object, full: set[str], cards: set[str], by_url: Mapping[str, str]
) -> None:
    """Collect the source files of the articles ``value`` shows in ``full`` (an
    article page's own article) and ``cards`` (lists, related stories, neighbours)."""
    if isinstance(value, Article):
        full.add(value.source_path)
        cards.update(r.source_path for r in value.related)
        cards.update(by_url[n.url] for n in (value.newer, value.older) if n and n.url in by_url)
    elif isinstance(value, Page):
        cards.update(a.source_path for a in value.items if isinstance(a, Article))
    elif isinstance(value, Listing | ArchiveMonth | Digest):
        cards.update(a.source_path for a in value.articles)
    elif isinstance(value, tuple | list):
        for item in value:
            if isinstance(item, Article):
                cards.add(item.source_path)
            else:
                _shown_sources(item, full, cards, by_url)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class PageRecipe:
    """What a page is rendered from, apart from the site: kept so that a build that
    does not plan the whole site can render it again (``render_page``)."""

    template: str
    url: str
    links: tuple[FeedLink, ...]
    context: dict[str, Any]
    finish: Callable[[bytes], bytes] | None = None


def render_page(
    env: jinja2.Environment, site: object, recipe: PageRecipe
) -> tuple[bytes, frozenset[str]]:
    """A page's bytes, and the parts of ``site`` its template read."""
    used: set[str] = set()
    context = {"site": SiteView(site, used), "page_url": recipe.url, "feeds": recipe.links}
    data = render(env, recipe.template, {**context, **recipe.context})
    return (recipe.finish(data) if recipe.finish else data), frozenset(used)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ArticleFeed:
    """A feed of the newest ``feed_size`` of ``articles``, in full."""

    articles: tuple[Article, ...]
    title: str
    description: str
    page_url: str
    folder: str

    def spec(self, config: SiteConfig) -> FeedSpec:
        return site_feed(
            self.articles,
            config,
            title=self.title,
            description=self.description,
            page_url=self.page_url,
            folder=self.folder,
        )


@dataclass(slots=True)
class OutputGraph:
    """Which outputs show which articles, and how: what the preview renders again after
    an edit that changes articles in place (their text, not where they are placed)."""

    shows: dict[str, tuple[object, ...]] = field(default_factory=dict)  # path → what it shows
    in_full: set[str] = field(default_factory=set)  # paths that show all theirs in full
    feeds: dict[str, Remade[Any]] = field(default_factory=dict)  # path → its feed's items
    recipes: dict[str, PageRecipe] = field(default_factory=dict)  # every page's, by path
    article_feeds: dict[str, ArticleFeed] = field(default_factory=dict)  # feed file → its feed
    # source → paths showing it in full, and paths showing its card; made on first use
    _index: tuple[dict[str, set[str]], dict[str, set[str]]] | None = None

    def affected(
        self,
        changed: set[str],
        recarded: set[str],
        site: Site,
        reads: Mapping[str, Sequence[str]],
    ) -> set[str]:
        """The outputs that may differ after ``changed`` articles got new text, of which
        ``recarded`` also changed what lists show of them (``card``)."""
        full, cards = self.index(site)
        paths = {path for source in changed for path in full.get(source, ())}
        paths.update(path for source in recarded for path in cards.get(source, ()))
        touched = set()
        for name in {n for names in reads.values() for n in names}:
            shown: set[str] = set()
            _shown_sources(getattr(site, name, None), shown, shown, {})
            if shown & changed:
                touched.add(name)
        paths.update(path for path, names in reads.items() if touched.intersection(names))
        return paths

    def index(self, site: Site) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        if self._index is None:
            by_url = {a.url: a.source_path for a in site.articles}
            full: dict[str, set[str]] = defaultdict(set)
            cards: dict[str, set[str]] = defaultdict(set)
            for path, values in self.shows.items():
                in_full, in_cards = set[str](), set[str]()
                for value in values:
                    _shown_sources(value, in_full, in_cards, by_url)
                if path in self.in_full:
                    in_full |= in_cards
                for source in in_full:
                    full[source].add(path)
                for source in in_cards - in_full:
                    cards[source].add(path)
            self._index = (dict(full), dict(cards))
        return self._index


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedGroup:
    """Feeds listed together on /feeds/ and in /feeds.opml: "Tags", "Authors", ..."""

    title: str
    feeds: tuple[tuple[str, FeedSpec], ...]  # (label on /feeds/, feed)


class _Planner:
    """Collects the OutputSpecs of one build; shared inputs are digested once."""

    def __init__(self, site: Site, env: jinja2.Environment, config: SiteConfig) -> None:
        self.site, self.env, self.config = site, env, config
        texts = env.globals["i18n"]
        assert isinstance(texts, Texts)
        self.texts, self.taxonomies = texts, _taxonomies_in(texts)
        # The catalogues are inputs of every page: a changed string rebuilds them.
        language = catalogue_fingerprint(config.language, config.templates_dir)
        self.base_key = _digest(build_fingerprint(config.fingerprint()), language)
        self.site_feeds = _site_feed(site, config).spec(config)
        self._site_links = self.site_feeds.links()
        # Every page of a list links the same feeds: one tuple and one digest for them all.
        self._link_sets: dict[tuple[FeedLink, ...], tuple[tuple[FeedLink, ...], str]] = {}
        self.specs: list[OutputSpec] = []
        self.graph = OutputGraph()
        self._cards: dict[int, str] = {}
        self.feed_groups: dict[str, list[tuple[str, FeedSpec]]] = {}
        self._chains: dict[str, str] = {}

    def cards(self, articles: Iterable[Article]) -> tuple[str, ...]:
        """Each article's ``card`` as a digest, made once per plan: an article is shown
        in a dozen lists, and keys digest the short digest, not the whole card again."""
        found = []
        for article in articles:
            digest = self._cards.get(id(article))
            if digest is None:
                text = repr(card(article)).encode("utf-8", "surrogatepass")
                digest = self._cards[id(article)] = hashlib.sha256(text).hexdigest()
            found.append(digest)
        return tuple(found)

    def release(self) -> None:
        """Drop what only planning needs: the render closures keep the planner alive."""
        self._cards.clear()
        self._link_sets.clear()

    def add(self, path: str, make: Render, chain: str, shown: str) -> None:
        """An output whose key digests the config, its template ``chain`` and ``shown``."""
        key = _digest(self.base_key, chain, shown)
        why = ":".join(part[:WHY_LENGTH] for part in (self.base_key, chain, shown))
        self.specs.append(OutputSpec(path=path, key=key, render=make, why=why))

    def add_bytes(self, path: str, make: Callable[[], bytes], *key_parts: object) -> None:
        self.add(path, lambda: (make(), frozenset()), "", _digest(path, *key_parts))

    def page(
        self,
        url: str,
        template: str,
        key_parts: object,
        shows: tuple[object, ...] = (),
        *,
        feeds: Sequence[FeedLink] = (),
        finish: Callable[[bytes], bytes] | None = None,
        **context: Any,
    ) -> None:
        """A file rendered from ``template``; ``finish`` post-processes its bytes.

        ``shows`` holds the articles (or pages and issues of them) whose cards are in
        ``key_parts``. A ``finish`` step must be a fixed function: what may change its
        output (the inliner's version) belongs in ``key_parts``.
        """
        links, links_digest = self._feed_links(feeds)
        if template not in self._chains:
            self._chains[template] = template_fingerprint(self.env, template)
        chain = self._chains[template]
        path = output_path(url)
        self.graph.shows[path] = shows
        recipe = self.graph.recipes[path] = PageRecipe(template, url, links, context, finish)
        shown = _digest(template, url, key_parts, links_digest)
        self.add(path, functools.partial(render_page, self.env, self.site, recipe), chain, shown)

    def _feed_links(self, feeds: Sequence[FeedLink]) -> tuple[tuple[FeedLink, ...], str]:
        links = (*self._site_links, *feeds)
        known = self._link_sets.get(links)
        if known is None:
            known = self._link_sets[links] = (links, _digest(links))
        return known

    def feed(
        self,
        make: Callable[[], FeedSpec],
        shows: Sequence[object],
        group: str,
        label: str,
        *,
        in_full: bool = True,
    ) -> FeedSpec:
        """The three formats of one feed, listed as ``label`` under ``group`` on /feeds/.

        ``make`` builds the feed from ``shows`` (articles, in full unless ``in_full`` is
        false, or issues); it runs again when the preview changes one of them in place.
        """
        remade = Remade(make)
        spec = remade.value
        self.feed_groups.setdefault(group, []).append((label, spec))
        for kind in FEED_FILES:
            path = output_path(spec.url(kind))
            self.graph.shows[path] = (tuple(shows),)
            if in_full:
                self.graph.in_full.add(path)
            self.graph.feeds[path] = remade
            self.add_bytes(path, functools.partial(_feed_bytes, kind, remade, self.config), spec)
        return spec

    def article_feed(self, feed: ArticleFeed, group: str, label: str) -> FeedSpec:
        """A feed of articles in full (see ``feed``)."""
        spec = self.feed(functools.partial(feed.spec, self.config), feed.articles, group, label)
        for kind in FEED_FILES:
            self.graph.article_feeds[output_path(spec.url(kind))] = feed
        return spec


def _feed_bytes(kind: str, remade: Remade[FeedSpec], config: SiteConfig) -> bytes:
    return render_feed(kind, remade.value, config)


def _site_feed(site: Site, config: SiteConfig) -> ArticleFeed:
    return ArticleFeed(
        site.articles[: config.feed_size],
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
            (digest.url, digest.title, digest.headline, p.cards(digest.articles))
            if digest
            else None
        )
        p.page(
            page.url,
            "index.html",
            (page.number, page.count, p.cards(page.items), digest_key),
            (page, digest),
            page=page,
            digest=digest,
        )


def _article_key(article: Article, p: _Planner) -> tuple[object, ...]:
    """Everything an article page can show of its article: the card, body and neighbours."""
    neighbours = tuple((n.title, n.url) if n else None for n in (article.newer, article.older))
    return (
        p.cards((article,)),
        article.kind,
        article.slug,
        article.body.digest,
        article.toc,
        article.words,
        article.draft,
        repr(article.extra),
        neighbours,
        p.cards(article.related),
    )


def _articles(p: _Planner) -> None:
    for article in p.site.articles:
        p.page(article.url, "article.html", _article_key(article, p), (article,), article=article)
    for page in p.site.pages:
        p.page(page.url, "page.html", _article_key(page, p), (page,), article=page)


def _term_feed(listing: Listing, taxonomy: Taxonomy, p: _Planner) -> ArticleFeed:
    name = listing.term.name
    return ArticleFeed(
        listing.articles[: p.config.feed_size],
        title=p.texts.gettext("%(label)s: %(name)s", label=p.config.title, name=name),
        description=taxonomy.feed_description % {"name": name, "title": p.config.title},
        page_url=listing.term.url,
        folder=listing.term.url,
    )


def _taxonomies(p: _Planner) -> None:
    for taxonomy in p.taxonomies:
        listings: tuple[Listing, ...] = getattr(p.site, taxonomy.name)
        index_key = tuple((li.term, len(li.articles)) for li in listings)
        p.page(
            f"/{taxonomy.name}/", "taxonomy.html", index_key, taxonomy=taxonomy, listings=listings
        )
        for listing in listings:
            feed = _term_feed(listing, taxonomy, p)
            spec = p.article_feed(feed, taxonomy.title, listing.term.name)
            links = spec.links()
            for page in paginate(listing.articles, p.config.per_page, listing.term.url):
                p.page(
                    page.url,
                    "term.html",
                    (
                        listing.term,
                        len(listing.articles),
                        page.number,
                        page.count,
                        p.cards(page.items),
                    ),
                    (page,),
                    feeds=links,
                    taxonomy=taxonomy,
                    listing=listing,
                    page=page,
                )


def _month_key(month: ArchiveMonth | None) -> tuple[object, ...] | None:
    return (month.year, month.month, month.url, len(month.articles)) if month else None


def _archive(p: _Planner) -> None:
    """``/archive/``: the months with their counts; a page per month lists its stories."""
    months = p.site.archive
    key = tuple(map(_month_key, months))
    p.page("/archive/", "archive.html", key, months=months, total=len(p.site.articles))
    for i, month in enumerate(months):
        newer = months[i - 1] if i else None
        older = months[i + 1] if i + 1 < len(months) else None
        p.page(
            month.url,
            "archive_month.html",
            (_month_key(month), p.cards(month.articles), *map(_month_key, (newer, older))),
            (month,),
            month=month,
            newer=newer,
            older=older,
        )


def _escape(text: str) -> str:
    return str(markupsafe.escape(text))


def _story_html(article: Article, config: SiteConfig, texts: Texts) -> str:
    """A story as a digest feed item shows it: linked title, summary, sources and tags."""
    url = config.absolute(article.url)
    cited = ", ".join(
        f'<a href="{_escape(s.url)}">{_escape(s.name)}</a>' if s.url else _escape(s.name)
        for s in article.sources
    )
    tags = ", ".join(_escape(t.name) for t in article.tags)
    return (
        f'<h3><a href="{_escape(url)}">{_escape(article.title)}</a></h3>'
        + absolutize(article.summary, url)
        + ("<p>" + texts.gettext("Via %(sources)s", sources=cited) + "</p>" if cited else "")
        + ("<p>" + texts.gettext("Tags: %(tags)s", tags=tags) + "</p>" if tags else "")
    )


def digest_item(digest: Digest, config: SiteConfig, texts: Texts) -> FeedItem:
    """An issue as one feed item: headline, introduction, then its stories by category."""
    url = config.absolute(digest.url)
    more = texts.gettext("More stories")
    intro = absolutize(digest.intro, url)
    if digest.headline:
        intro = f"<p><strong>{_escape(digest.headline)}</strong></p>{intro}"
    groups = "".join(
        f"<h2>{_escape(name or more)}</h2>"
        + "".join(_story_html(a, config, texts) for a in stories)
        for name, stories in digest.groups
    )
    count = len(digest.articles)
    return FeedItem(
        id=url,
        title=digest.title,
        url=url,
        published=digest.updated,
        updated=digest.updated,
        summary=intro or "<p>" + texts.ngettext("%(num)s story", "%(num)s stories", count) + "</p>",
        content=intro + groups,
    )


def _digest_key(digest: Digest, p: _Planner) -> tuple[object, ...]:
    return (replace(digest, articles=()), p.cards(digest.articles))


def _email_editions(p: _Planner, digest: Digest, feeds: Sequence[FeedLink]) -> None:
    """``email.html`` (CSS inlined, absolute URLs) and ``email.txt`` beside the issue."""
    key = (_digest_key(digest, p), INLINER_VERSION)
    p.page(
        digest.url + "email.html",
        "email.html",
        key,
        (digest,),
        feeds=feeds,
        finish=inline_css,
        digest=digest,
    )
    p.page(digest.url + "email.txt", "email.txt", key, (digest,), digest=digest)


def _digest_feed(issues: Sequence[Digest], config: SiteConfig, texts: Texts) -> FeedSpec:
    return FeedSpec(
        title=texts.gettext("%(title)s: weekly digest", title=config.title),
        description=texts.gettext("Every weekly issue of %(title)s", title=config.title),
        page_url="/digest/",
        folder="/digest/",
        items=tuple(digest_item(d, config, texts) for d in issues),
    )


def _digests(p: _Planner) -> None:
    shown = p.site.weekly[: p.config.feed_size]
    make = functools.partial(_digest_feed, shown, p.config, p.texts)
    _ = p.texts.gettext
    spec = p.feed(make, shown, _("Digest"), _("Weekly digest"), in_full=False)
    issues = (*p.site.weekly, *p.site.daily)
    index_key = tuple((d.url, d.title, len(d.articles)) for d in issues)
    links = spec.links()
    p.page(
        "/digest/",
        "digests.html",
        index_key,
        feeds=links,
        weekly=p.site.weekly,
        daily=p.site.daily,
    )
    for digest in issues:
        p.page(
            digest.url,
            "digest.html",
            _digest_key(digest, p),
            (digest,),
            feeds=links,
            digest=digest,
        )
        _email_editions(p, digest, links)


def _feed_directory(p: _Planner) -> None:
    """``/feeds/`` for people and ``/feeds.opml`` for feed readers: every feed of the site."""
    groups = tuple(
        FeedGroup(title=title, feeds=tuple(p.feed_groups.get(title, ())))
        for title in (
            p.texts.gettext("Whole site"),
            p.texts.gettext("Digest"),
            *(t.title for t in p.taxonomies),
        )
        if p.feed_groups.get(title)
    )
    key = tuple(
        (g.title, tuple((label, s.title, s.page_url, s.folder) for label, s in g.feeds))
        for g in groups
    )
    p.page("/feeds/", "feeds.html", key, groups=groups, opml_url="/feeds.opml")
    outline = tuple(
        OutlineGroup(
            title=g.title,
            feeds=tuple(
                OutlineFeed(
                    title=spec.title if len(OPML_FORMATS) == 1 else link.title,
                    xml_url=p.config.absolute(link.url),
                    html_url=p.config.absolute(spec.page_url),
                )
                for _, spec in g.feeds
                for link in spec.links()
                if link.type in OPML_FORMATS
            ),
        )
        for g in groups
    )
    title = p.texts.gettext("%(title)s: all feeds", title=p.config.title)
    p.add_bytes("feeds.opml", lambda: opml_document(outline, p.config, title), outline, title)


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


def redirect_page(redirect: Redirect, config: SiteConfig, texts: Texts) -> bytes:
    """A page at an article's old address that forwards readers and crawlers to the new one."""
    target = markupsafe.escape(config.base_path + config.localized(redirect.target))
    title = markupsafe.escape(redirect.title)
    canonical = markupsafe.escape(config.absolute(redirect.target))
    moved = markupsafe.escape(texts.gettext("%(title)s (moved)", title=redirect.title))
    link = markupsafe.Markup(f'<a href="{target}">{title}</a>')
    _ = texts.translate  # the link goes in after the text is escaped
    text = markupsafe.escape(_("This story has moved to %(link)s.")) % {"link": link}
    direction = ' dir="rtl"' if texts.direction == "rtl" else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{markupsafe.escape(config.language)}"{direction}>\n<head>\n'
        f'<meta charset="utf-8">\n<title>{moved}</title>\n'
        f'<link rel="canonical" href="{canonical}">\n<meta name="robots" content="noindex">\n'
        f'<meta http-equiv="refresh" content="0; url={target}">\n</head>\n<body>\n'
        f"<p>{text}</p>\n</body>\n</html>\n"
    ).encode()


def plan_outputs(
    site: Site,
    env: jinja2.Environment,
    config: SiteConfig,
    content: Content,
    redirects: Sequence[Redirect] = (),
    *,
    alternates: Callable[[str], Sequence[Alternate]] | None = None,
) -> tuple[list[OutputSpec], SiteKeys, OutputGraph]:
    """Every file of the site, each with its key and a deferred render; and what each shows.

    ``alternates``: a multilingual site's pages in every language, for the sitemap
    (known once every language is planned; the caller keys the sitemap by them)."""
    p = _Planner(site, env, config)
    for redirect in redirects:
        p.add_bytes(
            output_path(redirect.url),
            functools.partial(redirect_page, redirect, config, p.texts),
            redirect,
        )
    _front_pages(p)
    _articles(p)
    _taxonomies(p)
    _archive(p)
    _digests(p)
    _ = p.texts.gettext
    p.article_feed(_site_feed(site, config), _("Whole site"), _("Every story"))
    _feed_directory(p)
    # The page is always there; the index it queries is made by `build --search`.
    p.page("/search/", "search.html", ())
    p.page("/404.html", "404.html", ())
    pages = list(_sitemap_pages(p.specs, site))
    p.add_bytes("sitemap.xml", lambda: sitemap_xml(pages, config, alternates), pages)
    p.add_bytes("robots.txt", lambda: robots_txt(config))
    _files(p, content)
    p.release()
    return sorted(p.specs, key=lambda s: s.path), SiteKeys(site), p.graph
