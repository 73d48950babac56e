"""Redraw stage: the units an edit changes (``impact``) → the bytes of their files.

Each is rendered from the outline after the edit and the articles kept in the record,
with the template, context, feed links and feed that ``outputs.plan_outputs`` gives it.
A list's articles are read from the record when a template looks into them: a term's
page shows ten stories and counts the rest.
"""

from __future__ import annotations

import bisect
import os
import pickle
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from site_builder.config import SiteConfig
from site_builder.feeds import FEED_FILES, FeedItem, FeedLink, FeedSpec, article_item, render_feed
from site_builder.i18n import Texts
from site_builder.impact import Impact, Unit, View
from site_builder.model import ArchiveMonth, Article, Digest, Listing, Page, Term
from site_builder.newsletter import inline_css
from site_builder.opml import OutlineFeed, OutlineGroup, opml_document
from site_builder.outline import TAXONOMIES, Outline, addresses
from site_builder.outputs import (
    OPML_FORMATS,
    ArticleFeed,
    FeedGroup,
    PageRecipe,
    _digest_feed,
    _taxonomies_in,
    redirect_page,
)
from site_builder.permalinks import Redirect
from site_builder.record import Feed, KeptArticles, Lazy, NotKept, SiteParts, render_kept
from site_builder.site import output_path
from site_builder.sitemap import sitemap_xml

if TYPE_CHECKING:
    import jinja2

Files = dict[str, bytes]


# Below this much work (in term pages' worth: ``_COST``), a second process costs more
# than it saves. The collector is paused on this path (``quick``), so a forked child
# copies little of its parent's memory: forking costs a few milliseconds.
PARALLEL = 16
# What a unit costs to render, in term pages' worth, as measured at 10,000 articles:
# /digest/ lists every issue, an issue is three files (one with its CSS inlined), the
# sitemap is spliced from the file; a redirect is a few lines. Any other unit: one.
_COST = {"digests": 25.0, "sitemap": 15.0, "issue": 8.0, "month": 7.0, "redirect": 0.1}


def rendered(redraw: Redraw, found: Impact, *, jobs: int, reconnect: Callable[[], None]) -> Files:
    """The files of every unit ``found``; on two cores when they are much work (a story
    moved to another category: both categories' pages; a redated one: its issues and
    /digest/). Forking is only safe while this process runs no other thread;
    ``reconnect`` is called in the child."""
    units = list(found.units)
    alone = jobs < 2 or sum(map(_cost, units)) < PARALLEL or threading.active_count() > 1
    if alone or not hasattr(os, "fork"):
        return redraw.all(units, found)
    mine, theirs = _halves(units)
    # Its cheapest unit first, before forking: the child inherits the templates, the
    # locale's data and the formats that rendering it loaded, not loading them again.
    made = redraw.all(mine[-1:], found)
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # never returns into the build
        os.close(reading)
        _answer(writing, lambda: _reconnected(reconnect, redraw).all(theirs, found))
    os.close(writing)
    try:
        made.update(redraw.all(mine[:-1], found))
    finally:
        with os.fdopen(reading, "rb") as pipe:
            answer = pipe.read()
        os.waitpid(child, 0)
    kind, value = pickle.loads(answer) if answer else ("failed", "no answer")
    if kind != "files" or not isinstance(value, dict):
        raise NotKept(f"the second renderer failed: {value}")
    return {**made, **value}


def _cost(unit: Unit) -> float:
    return _COST.get(unit.kind, 1.0)


def _halves(units: Sequence[Unit]) -> tuple[list[Unit], list[Unit]]:
    """Units in two lists of about the same cost: the costliest first, each to the
    list with less work so far (a list's pages, side by side, alternate)."""
    halves: tuple[list[Unit], list[Unit]] = ([], [])
    loads = [0.0, 0.0]
    for unit in sorted(units, key=_cost, reverse=True):
        lighter = loads.index(min(loads))
        halves[lighter].append(unit)
        loads[lighter] += _cost(unit)
    return halves


def _reconnected(reconnect: Callable[[], None], redraw: Redraw) -> Redraw:
    reconnect()
    return redraw


def _answer(pipe: int, make: Callable[[], Files]) -> NoReturn:
    """In a forked child: write what ``make`` gives (or why it failed), and exit."""
    try:
        answer = pickle.dumps(("files", make()), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - told to the parent, which falls back
        answer = pickle.dumps(("failed", repr(exc)))
    with os.fdopen(pipe, "wb") as out:
        out.write(answer)
    os._exit(0)


class Redraw:
    """Renders units of the site as the outline ``view`` places its articles (``before``:
    as the last build placed them)."""

    def __init__(
        self,
        env: jinja2.Environment,
        views: tuple[Outline, View],
        articles: KeptArticles,
        kept: Kept,
    ) -> None:
        self.before, self.view = views
        self.env, self.articles, self.kept = env, articles, kept
        self.outline = self.view.outline
        self.config: SiteConfig = env.globals["config"]  # type: ignore[assignment]
        self.texts: Texts = env.globals["i18n"]  # type: ignore[assignment]
        self.taxonomies = _taxonomies_in(self.texts)
        self.site_links = self._site_spec(()).links()
        self._links: dict[tuple[FeedLink, ...], tuple[FeedLink, ...]] = {}

    def all(self, units: Sequence[Unit], found: Impact) -> Files:
        # The rows of every story they show at once (a term's page shows ten), in each
        # process its own: read before forking, they were half the time of a move to
        # another category, in one process.
        self.articles.load(s for unit in units for s in found.shows.get(unit, ()))
        return {path: data for unit in units for path, data in self.files(unit, found).items()}

    def files(self, unit: Unit, found: Impact) -> Files:
        """The files of ``unit``, one of those the edit ``found`` changes."""
        if unit.kind == "sitemap":
            return self._sitemap(found)
        make: Callable[..., Files] = getattr(self, _MADE_BY[unit.kind])
        return make(*unit.ident)

    def _page(
        self, template: str, url: str, links: Sequence[FeedLink] = (), **context: Any
    ) -> Files:
        # One tuple for equal links: the theme renders a footer once for each (``{% cache
        # feeds %}``), as in the planned build, not once for each of a term's pages.
        feeds = self._links.setdefault(tuple(links), (*self.site_links, *links))
        return self._recipe(PageRecipe(template, url, feeds, context))

    def _recipe(self, recipe: PageRecipe) -> Files:
        """A page rendered as ``quick`` renders one: a page that starts reading a list
        of the site kept for its readers leaves the edit to the planned build."""
        path = output_path(recipe.url)
        reader = self.kept.readers.get(path)
        return {path: render_kept(self.env, self.kept.parts, recipe, self.kept.live, reader)}

    def _whole(self, sources: Sequence[str]) -> Sequence[Article]:
        return Lazy(sources, self.articles.whole)

    # --- lists of stories ------------------------------------------------------------

    def _front(self, number: int) -> Files:
        page = self.view.pages(self.view.order, "/")[number - 1]
        weekly = self.outline.issues["weekly"]
        digest = self._issue(weekly[0]) if number == 1 and weekly else None
        return self._page("index.html", page.url, page=self._shown(page), digest=digest)

    def _shown(self, page: Page[str]) -> Page[Article]:
        """A page of a list, with its stories."""
        return Page(
            items=self.articles.whole(page.items),
            number=page.number,
            count=page.count,
            url=page.url,
            first_url=page.first_url,
            prev_url=page.prev_url,
            next_url=page.next_url,
        )

    def _term(self, taxonomy: int, slug: str, number: int) -> Files:
        term = self.outline.terms[taxonomy][slug]
        listed = self.view.listing(taxonomy, slug)
        page = self.view.pages(listed, term.url)[number - 1]
        return self._page(
            "term.html",
            page.url,
            self._term_spec(taxonomy, term, ()).links(),
            taxonomy=self.taxonomies[taxonomy],
            listing=Listing(term=term, articles=self._whole(listed)),  # type: ignore[arg-type]
            page=self._shown(page),
        )

    def _taxonomy(self, taxonomy: int) -> Files:
        listings = tuple(
            Listing(term=self.outline.terms[taxonomy][slug], articles=self._whole(listed))  # type: ignore[arg-type]
            for slug, listed in self.view.listings(taxonomy).items()
        )
        name = self.taxonomies[taxonomy].name
        return self._page(
            "taxonomy.html", f"/{name}/", taxonomy=self.taxonomies[taxonomy], listings=listings
        )

    def _month(self, year: int, month: int) -> Files:
        keys = list(self.view.months())
        at = keys.index((year, month))
        newer, older = (
            self._archive_month(keys[i]) if 0 <= i < len(keys) else None for i in (at - 1, at + 1)
        )
        shown = self._archive_month((year, month), lazy=False)
        return self._page("archive_month.html", shown.url, month=shown, newer=newer, older=older)

    def _archive_month(self, key: tuple[int, int], *, lazy: bool = True) -> ArchiveMonth:
        year, month = key
        sources = self.view.months()[key]
        articles = self._whole(sources) if lazy else self.articles.whole(sources)
        url = f"/archive/{year}/{month:02d}/"
        return ArchiveMonth(year=year, month=month, url=url, articles=articles)  # type: ignore[arg-type]

    def _archive(self) -> Files:
        months = tuple(map(self._archive_month, self.view.months()))
        return self._page("archive.html", "/archive/", months=months, total=len(self.view.order))

    def _reader(self, path: str) -> Files:
        return self._recipe(self.kept.readers[path][0])

    # --- issues ----------------------------------------------------------------------

    def _issue(self, record: Digest, *, lazy: bool = True) -> Digest:
        sources = self.view.members(record.kind, record.key)
        articles = self._whole(sources) if lazy else self.articles.whole(sources)
        return replace(record, articles=articles)  # type: ignore[arg-type]

    def _issue_files(self, kind: str, key: str) -> Files:
        record = next(d for d in self.outline.issues[kind] if d.key == key)
        digest, links = self._issue(record, lazy=False), self._digest_spec(()).links()
        files = self._page("digest.html", digest.url, links, digest=digest)
        email = (*self.site_links, *links)
        url = digest.url + "email.html"
        files.update(
            self._recipe(PageRecipe("email.html", url, email, {"digest": digest}, inline_css))
        )
        files.update(self._page("email.txt", digest.url + "email.txt", digest=digest))
        return files

    def _digests(self) -> Files:
        weekly, daily = (
            tuple(map(self._issue, self.outline.issues[k])) for k in ("weekly", "daily")
        )
        links = self._digest_spec(()).links()
        return self._page("digests.html", "/digest/", links, weekly=weekly, daily=daily)

    # --- feeds -----------------------------------------------------------------------

    def _feed(self, spec: FeedSpec) -> Files:
        return {
            output_path(spec.url(kind)): render_feed(kind, spec, self.config) for kind in FEED_FILES
        }

    def _items(self, sources: Sequence[str]) -> tuple[FeedItem, ...]:
        head = sources[: self.config.feed_size]
        return Lazy(head, self._made_items)  # type: ignore[return-value]

    def _made_items(self, sources: Sequence[str]) -> tuple[FeedItem, ...]:
        return tuple(article_item(a, self.config) for a in self.articles.shallow(sources))

    def _site_spec(self, sources: Sequence[str]) -> FeedSpec:
        c = self.config
        return FeedSpec(
            title=c.title,
            description=c.description,
            page_url="/",
            folder="/",
            items=self._items(sources),
        )

    def _term_spec(self, taxonomy: int, term: Term, sources: Sequence[str]) -> FeedSpec:
        feed = self._term_feed_of(taxonomy, term, ())
        return FeedSpec(
            title=feed.title,
            description=feed.description,
            page_url=feed.page_url,
            folder=feed.folder,
            items=self._items(sources),
        )

    def _term_feed_of(self, taxonomy: int, term: Term, sources: Sequence[str]) -> ArticleFeed:
        """``outputs._term_feed``."""
        c = self.config
        return ArticleFeed(
            self.articles.shallow(sources[: c.feed_size]),
            title=self.texts.gettext("%(label)s: %(name)s", label=c.title, name=term.name),
            description=self.taxonomies[taxonomy].feed_description
            % {"name": term.name, "title": c.title},
            page_url=term.url,
            folder=term.url,
        )

    def _digest_spec(self, issues: Sequence[Digest]) -> FeedSpec:
        return _digest_feed(issues, self.config, self.texts)

    def _digest_items(self, keys: Sequence[str]) -> tuple[FeedItem, ...]:
        issues = [d for d in self.outline.issues["weekly"] if d.key in keys]
        return self._digest_spec([self._issue(d) for d in issues]).items

    def _site_feed(self) -> Files:
        return self._feed(self._site_spec(self.view.order))

    def _term_feed(self, taxonomy: int, slug: str) -> Files:
        term = self.outline.terms[taxonomy][slug]
        return self._feed(
            self._term_feed_of(taxonomy, term, self.view.listing(taxonomy, slug)).spec(self.config)
        )

    def _digest_feed(self) -> Files:
        issues = self.outline.issues["weekly"][: self.config.feed_size]
        return self._feed(self._digest_spec([self._issue(d, lazy=False) for d in issues]))

    def _feeds(self) -> Files:
        """``/feeds/`` and ``/feeds.opml`` (``outputs._feed_directory``)."""
        groups = tuple(self._feed_groups())
        files = self._page("feeds.html", "/feeds/", groups=groups, opml_url="/feeds.opml")
        outline = tuple(
            OutlineGroup(
                title=g.title,
                feeds=tuple(
                    OutlineFeed(
                        title=spec.title if len(OPML_FORMATS) == 1 else link.title,
                        xml_url=self.config.absolute(link.url),
                        html_url=self.config.absolute(spec.page_url),
                    )
                    for _, spec in g.feeds
                    for link in spec.links()
                    if link.type in OPML_FORMATS
                ),
            )
            for g in groups
        )
        title = self.texts.gettext("%(title)s: all feeds", title=self.config.title)
        files["feeds.opml"] = opml_document(outline, self.config, title)
        return files

    def _feed_groups(self) -> Iterator[FeedGroup]:
        _ = self.texts.gettext
        site = (_("Every story"), self._site_spec(self.view.order))
        weekly = self.outline.issues["weekly"][: self.config.feed_size]
        yield FeedGroup(title=_("Whole site"), feeds=(site,))
        items = Lazy([d.key for d in weekly], self._digest_items)
        digest = replace(self._digest_spec(()), items=items)  # type: ignore[arg-type]
        yield FeedGroup(title=_("Digest"), feeds=((_("Weekly digest"), digest),))
        for k, taxonomy in enumerate(self.taxonomies):
            feeds = tuple(
                (
                    self.outline.terms[k][slug].name,
                    self._term_spec(k, self.outline.terms[k][slug], listed),
                )
                for slug, listed in self.view.listings(k).items()
            )
            if feeds:
                yield FeedGroup(title=taxonomy.title, feeds=feeds)

    def article_feeds(
        self, kept: Sequence[Feed], terms: Iterable[tuple[int, str]]
    ) -> tuple[Feed, ...]:
        """The record's feeds that carry stories in full (``quick``), after the edit: the
        site's, and those of the terms it was or is filed under, made again."""
        made = {(k, slug): self.outline.terms[k].get(slug) for k, slug in terms}
        urls = {f"/{TAXONOMIES[k]}/{slug}/" for k, slug in made}
        found = [f for f in kept if f[1].folder != "/" and f[1].folder not in urls]
        size = self.config.feed_size
        c = self.config
        site = ArticleFeed((), title=c.title, description=c.description, page_url="/", folder="/")
        found.append((tuple(self.view.order[:size]), site))
        for (k, slug), term in made.items():
            listed = self.view.listing(k, slug)
            if term is not None and listed:
                found.append((tuple(listed[:size]), self._term_feed_of(k, term, ())))
        return tuple(found)

    # --- the rest --------------------------------------------------------------------

    def _article(self, source: str) -> Files:
        row, spot = self.articles.row(source), self.outline.spots[source]
        (article,) = self.articles.whole([source])
        context = {**row.recipe.context, "article": article}
        return self._recipe(replace(row.recipe, url=spot.url, context=context))

    def _redirect(self, url: str, source: str) -> Files:
        spot = self.outline.spots[source]
        moved = Redirect(url=url, target=spot.url, title=spot.title)
        return {output_path(url): redirect_page(moved, self.config, self.texts)}

    def _sitemap(self, found: Impact) -> Files:
        """The sitemap: every page, in order, with each story's last change. Its lines
        are made one by one: those of the pages the edit leaves alone are the file's."""
        assert found.paths is not None and found.old_paths is not None  # see impact
        old, new = _lastmods(self.before), _lastmods(self.outline)
        kept = self.config.output_dir / "sitemap.xml"
        try:
            before = kept.read_bytes()
        except OSError:
            before = b""
        spliced = _Sitemap(self.config, old, new).spliced(before, found)
        if spliced is not None:
            return {"sitemap.xml": spliced}
        pages = [(url, new.get(url, "")) for url in _urls(found.paths)]
        return {"sitemap.xml": sitemap_xml(map(_dated, pages), self.config)}


_INDEX = "index.html"


def _urls(paths: Collection[str]) -> list[str]:
    """The pages of ``paths``, as ``outputs._sitemap_pages`` lists them."""
    return ["/" + path.removesuffix(_INDEX) for path in sorted(paths) if path.endswith(_INDEX)]


def _lastmods(outline: Outline) -> dict[str, str]:
    """Each story's and page's last change as written, by URL: an equal moment written
    in another zone is another line."""
    found = addresses(outline.spots.values())
    found.update(outline.pages)
    return found


class _Sitemap:
    """The sitemap after an edit, from the file before it: the lines of the pages that
    stay as they were are the file's. None when the file is not what the old pages make
    (checked where they differ), or the site has more than one language (whose lines
    are not one a page)."""

    def __init__(self, config: SiteConfig, old: dict[str, str], new: dict[str, str]) -> None:
        self.config, self.old, self.new = config, old, new

    def spliced(self, before: bytes, found: Impact) -> bytes | None:
        assert found.paths is not None and found.old_paths is not None
        lines = before.split(b"\n")
        paths = sorted(p for p in found.old_paths if p.endswith(_INDEX))
        if self.config.languages or len(lines) != len(paths) + 4:
            return None
        redone = {p for p in found.relisted | found.removed if p in found.old_paths}
        made = {p for p in found.relisted | (found.paths - found.old_paths) if p in found.paths}
        body = lines[2:-2]
        for path in sorted(p for p in redone if p.endswith(_INDEX)):
            at = bisect.bisect_left(paths, path)
            if body[at] != self._line(path, self.old):
                return None
            del paths[at], body[at]
        for path in sorted(p for p in made if p.endswith(_INDEX)):
            at = bisect.bisect_left(paths, path)
            paths.insert(at, path)
            body.insert(at, self._line(path, self.new))
        return b"\n".join([*lines[:2], *body, *lines[-2:]])

    def _line(self, path: str, lastmods: dict[str, str]) -> bytes:
        url = "/" + path.removesuffix(_INDEX)
        return sitemap_xml([_dated((url, lastmods.get(url, "")))], self.config).split(b"\n")[2]


_Located = tuple[str, str]  # a page of the sitemap: its URL, and its lastmod or ""


def _dated(page: _Located) -> tuple[str, datetime | None]:
    url, when = page
    return url, datetime.fromisoformat(when) if when else None


@dataclass(frozen=True, slots=True)
class Kept:
    """What the record keeps for pages that read parts of the whole site."""

    parts: SiteParts  # the ``site`` templates see
    readers: Mapping[str, tuple[PageRecipe, frozenset[str]]]  # pages reading a listed part
    live: set[str]  # the listed parts


_MADE_BY = {
    "front": "_front",
    "article": "_article",
    "term": "_term",
    "term feed": "_term_feed",
    "taxonomy": "_taxonomy",
    "month": "_month",
    "archive": "_archive",
    "issue": "_issue_files",
    "digests": "_digests",
    "digest feed": "_digest_feed",
    "site feed": "_site_feed",
    "feeds": "_feeds",
    "redirect": "_redirect",
    "reader": "_reader",
}
