"""Permalinks: every article keeps its feed id and the URLs it was ever published at.

Input: the placed articles and the ledger the last build left (``permalinks.json``,
kept beside ``site.toml`` and committed with the content). Output: the id of each
article, the redirects from its old URLs (and its ``aliases``), the updated ledger,
and the problems: two articles claiming one id, or a pinned id that was changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from site_builder.errors import ContentError, SiteError

LEDGER_NAME = "permalinks.json"


def ledger_name(language: str = "") -> str:
    """The ledger of the default language's site, or of another language's: each keeps
    its own, so that a story may have one id in every language."""
    return f"permalinks.{language}.json" if language else LEDGER_NAME


@dataclass(frozen=True, slots=True, kw_only=True)
class Permalink:
    """One article's identity: its feed id and every URL it has had, oldest first."""

    id: str
    source: str
    urls: tuple[str, ...]
    pinned: bool = False  # the id came from front matter, not from the first URL


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """An old address that now forwards to the article's current page."""

    url: str
    target: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    """What the ledger needs to know of an article."""

    source: str
    url: str
    title: str
    pinned_id: str | None
    aliases: tuple[str, ...] = field(default=())
    aliases_line: int = 1  # of the front matter's aliases:, for errors
    default_id: str = ""  # the id a new article gets: its absolute permalink (else its url)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciled:
    ids: dict[str, str]  # source path → feed id
    redirects: tuple[Redirect, ...]
    ledger: tuple[Permalink, ...]
    problems: tuple[SiteError, ...]


def parse_ledger(text: str, name: str = LEDGER_NAME) -> tuple[Permalink, ...]:
    """The ledger file's entries; an unreadable one is an error, never silently reset."""
    try:
        raw = json.loads(text)
        return tuple(
            Permalink(
                id=e["id"],
                source=e["source"],
                urls=tuple(e["urls"]),
                pinned=bool(e.get("pinned", False)),
            )
            for e in raw["articles"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ContentError(
            f"cannot read the permalink ledger: {exc}",
            path=name,
            hint="restore it from version control; it keeps feed ids stable",
        ) from None


def dump_ledger(ledger: Iterable[Permalink]) -> str:
    entries = [
        {"id": p.id, "source": p.source, "urls": list(p.urls), "pinned": p.pinned}
        for p in sorted(ledger, key=lambda p: (p.source, p.id))
    ]
    return json.dumps({"articles": entries}, ensure_ascii=False, indent=2) + "\n"


def _match(
    article: Placed, by_id: Mapping[str, Permalink], by_source: Mapping[str, Permalink]
) -> Permalink | None:
    if article.pinned_id is not None and article.pinned_id in by_id:
        return by_id[article.pinned_id]
    return by_source.get(article.source)


def _identify(article: Placed, known: Permalink | None) -> tuple[Permalink, SiteError | None]:
    """The article's entry after this build, and a problem if its pinned id changed."""
    if known is None:
        return Permalink(
            id=article.pinned_id or article.default_id or article.url,
            source=article.source,
            urls=(article.url,),
            pinned=article.pinned_id is not None,
        ), None
    urls = known.urls if known.urls[-1] == article.url else (*known.urls, article.url)
    problem = None
    if known.pinned and article.pinned_id != known.id:
        problem = ContentError(
            f"id: was {known.id!r} when published; a feed id must never change",
            path=article.source,
            line=1,
            hint=f"put back 'id: {known.id}' (readers would see the story as new)",
        )
    entry = Permalink(id=known.id, source=article.source, urls=urls, pinned=known.pinned)
    return entry, problem


def reconcile(articles: Sequence[Placed], ledger: Sequence[Permalink]) -> Reconciled:
    """Give every article its permanent id and old URLs; report clashes."""
    by_id = {p.id: p for p in ledger}
    by_source = {p.source: p for p in ledger}
    entries: list[Permalink] = []
    problems: list[SiteError] = []
    for article in sorted(articles, key=lambda a: a.source):
        entry, problem = _identify(article, _match(article, by_id, by_source))
        entries.append(entry)
        problems.extend([problem] if problem else [])
    # Two new stories whose default ids clash share a URL, which site.py reports already.
    fresh = {
        a.source for a in articles if a.pinned_id is None and _match(a, by_id, by_source) is None
    }
    problems += _shared_ids(entries, fresh) + _shared_aliases(articles)
    live = {a.url for a in articles}
    titles = {a.source: (a.url, a.title) for a in articles}
    aliases = {a.source: a.aliases for a in articles}
    # An alias is written by the editor: it takes an address over from a story's history.
    claims = [(e.source, old) for e in entries for old in e.urls[:-1]]
    claims += [(e.source, old) for e in entries for old in aliases[e.source]]
    redirects = {
        old: Redirect(url=old, target=titles[source][0], title=titles[source][1])
        for source, old in claims
        if old not in live
    }
    # Entries of removed articles stay: their ids are never handed to another story.
    taken = {e.id for e in entries}
    kept = [p for p in ledger if p.source not in titles and p.id not in taken]
    return Reconciled(
        ids={e.source: e.id for e in entries},
        redirects=tuple(redirects[u] for u in sorted(redirects)),
        ledger=tuple(entries + kept),
        problems=tuple(problems),
    )


def _shared_aliases(articles: Sequence[Placed]) -> list[SiteError]:
    """Two stories giving one alias: which one it should forward to is not the build's
    to guess (it used to be the last by file name, silently)."""
    first: dict[str, str] = {}
    problems: list[SiteError] = []
    for article in sorted(articles, key=lambda a: a.source):
        for alias in dict.fromkeys(article.aliases):
            if first.setdefault(alias, article.source) != article.source:
                problems.append(
                    ContentError(
                        f"aliases: {alias} is already an alias of {first[alias]}",
                        path=article.source,
                        line=article.aliases_line,
                        hint="an old address can forward to one story only",
                    )
                )
    return problems


def _shared_ids(entries: Sequence[Permalink], fresh: set[str]) -> list[SiteError]:
    first: dict[str, str] = {}
    problems: list[SiteError] = []
    for entry in entries:
        if entry.id in first and not {entry.source, first[entry.id]} <= fresh:
            problems.append(
                ContentError(
                    f"id: {entry.id!r} is already the id of {first[entry.id]}",
                    path=entry.source,
                    line=1,
                    hint="every story needs its own id; feed readers merge equal ids",
                )
            )
        else:
            first[entry.id] = entry.source
    return problems
