"""Problems the check finds, where each is reported, and one report per cause.

Input: what the page and feed checks find, each with the output file and place it was
seen at and the text to look for in the content file behind it. Output: ``SiteError``
and ``SiteWarning`` values, merged so that a template's broken link is reported once,
not once for every page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote

from site_builder.checks.urls import Target, served_by, split_url, target_of
from site_builder.config import SiteConfig
from site_builder.errors import SiteError, SiteWarning
from site_builder.refs import Refs, parse_page

ReadSource = Callable[[str], str]
ReadOutput = Callable[[str], bytes]
Where = tuple[str, int | None, int | None]


class Spot(NamedTuple):
    """What a problem is at on a page, before its line is counted: the first URL
    ``value`` (``"link"``), or the second id ``value`` (``"id"``)."""

    kind: Literal["link", "id"]
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A problem before merging: where it is reported, and in which output it was seen."""

    message: str
    path: str
    line: int | None
    column: int | None
    hint: str | None
    warning: bool
    seen_in: str
    in_source: bool
    note: bool  # name the outputs it was seen in (feeds), not only the page itself
    spot: Spot | None = None  # in the page ``seen_in``, where ``line`` is not yet counted


def _whole(text: str, url: str) -> int:
    """Where ``url`` is written whole in ``text``, as Markdown and HTML delimit a link;
    else where it first occurs (``/docs`` is not the start of ``/docs/x/``)."""
    found = re.search(rf"(?<![^\s(\[<\"'=]){re.escape(url)}(?=[\s)\]>\"']|$)", text)
    return found.start() if found else text.find(url)


def read_under(root: Path, source: str) -> str:
    """A content file's text, only to find a line; an unreadable file has no lines to give."""
    try:
        return (root / source).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ""


class Checker:
    """The site's output paths, the ids of the pages read so far, and content files (and
    the few pages whose problems are placed in them) read on demand."""

    def __init__(
        self,
        paths: Collection[str],
        config: SiteConfig,
        sources: Mapping[str, str],
        read_source: ReadSource,
        read_output: ReadOutput,
    ) -> None:
        self.paths, self.config, self.sources = paths, config, sources
        self._read, self._read_output = read_source, read_output
        self._refs: dict[str, Refs] = {}
        self._texts: dict[str, str] = {}
        self._targets: dict[str, Target | None] = {}
        # URLs that lead to an existing file from every page, with no #fragment: the
        # site's links to its own pages, repeated on every page (a fifth of a build).
        self.fine: set[str] = set()
        # Only each page's ids are kept, not its links: a 100,000-page site must fit.
        self.anchors: dict[str, frozenset[str]] = {}

    def find(self, source: str | None, needles: Iterable[str]) -> tuple[int, int] | None:
        """Line and column of the first needle that occurs in the content file."""
        if source is None:
            return None
        if source not in self._texts:
            self._texts[source] = self._read(source)
        text = self._texts[source]
        for needle in needles:
            at = _whole(text, needle) if needle else -1
            if at >= 0:
                return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        return None

    def target(self, href: str, page: str) -> Target | None:
        """``target_of``, once for a URL that leads to the same file from every page."""
        if not href.startswith(("/", "http:", "https:")):
            return target_of(href, page, self.config)
        if href not in self._targets:
            self._targets[href] = target_of(href, page, self.config)
        return self._targets[href]

    def source_of(self, url: str | None) -> str | None:
        """The content file behind an absolute URL of this site, such as a feed item's link."""
        base = self.config.base_url
        inner = split_url(url[len(base) :]) if url and url.startswith(base) else None
        return self.sources.get(served_by(unquote(inner.path))) if inner else None

    def problem(
        self,
        message: str,
        *,
        at: Where,
        source: str | None = None,
        needles: Sequence[str] = (),
        hint: str | None = None,
        warning: bool = False,
        note: bool = False,
        spot: Spot | None = None,
    ) -> Problem:
        """Report at the needle in ``source`` when it is written there, else at ``at``
        (or at ``spot`` on the page ``at`` names, counted only if it is reported)."""
        found = self.find(source, needles)
        path, line, column = (source, *found) if source and found else at
        return Problem(
            message=message,
            path=path,
            line=line,
            column=column,
            hint=hint,
            warning=warning,
            seen_in=at[0],
            in_source=found is not None,
            note=note,
            spot=None if found else spot,
        )

    def place(self, problem: Problem) -> Problem:
        """The problem with the line and column of its spot on the page: pages are read
        without their places, which only the few reported need."""
        if problem.spot is None:
            return problem
        refs = self._refs.get(problem.seen_in)
        if refs is None:
            data = self._read_output(problem.seen_in)
            refs = self._refs[problem.seen_in] = parse_page(data)
        kind, value = problem.spot
        found = [r for r in (refs.links if kind == "link" else refs.ids) if r.value == value]
        ref = found[0] if kind == "link" else found[1]
        return replace(problem, line=ref.line, column=ref.column, spot=None)


def merge(problems: Iterable[Problem], place: Callable[[Problem], Problem]) -> list[SiteError]:
    """One report per cause: a template's broken link once, not once for every page.
    ``place`` counts the line of a problem that is reported in the output."""
    located: dict[tuple[object, ...], list[Problem]] = defaultdict(list)
    elsewhere: dict[tuple[object, ...], list[Problem]] = defaultdict(list)
    for p in problems:
        if p.in_source:
            located[(p.warning, p.message, p.path, p.line, p.column)].append(p)
        else:
            elsewhere[(p.warning, p.message)].append(p)
    _fold(located, elsewhere)
    return [_one(group, place) for group in (*located.values(), *elsewhere.values())]


def _fold(
    located: dict[tuple[object, ...], list[Problem]],
    elsewhere: dict[tuple[object, ...], list[Problem]],
) -> None:
    """An article's broken link also shows in its summary on list pages: one cause, one report."""
    owners: dict[tuple[object, ...], list[tuple[object, ...]]] = defaultdict(list)
    for key in located:
        owners[key[:2]].append(key)
    for key in list(elsewhere):
        if len(owners.get(key, ())) == 1:  # two articles with the same link: cannot tell whose
            located[owners[key][0]] += elsewhere.pop(key)


def _one(group: list[Problem], place: Callable[[Problem], Problem]) -> SiteError:
    # Reported in an output file: the first file's, whose lines are counted now.
    shown = [p for p in group if p.in_source] or _first_file(group)
    first = min(
        map(place, shown), key=lambda p: (not p.in_source, p.path, p.line or 0, p.column or 0)
    )
    kind = SiteWarning if first.warning else SiteError
    return kind(
        first.message + _also(first, group),
        path=first.path,
        line=first.line,
        column=first.column,
        hint=first.hint,
    )


def _first_file(group: list[Problem]) -> list[Problem]:
    path = min(p.path for p in group)
    return [p for p in group if p.path == path]


def _also(first: Problem, group: Sequence[Problem]) -> str:
    named = sorted({p.seen_in for p in group if p.note})
    if first.in_source and named:
        return f" (in {_names(named)})"
    others = len({p.seen_in for p in group if not p.in_source} - {first.seen_in})
    return f" (also in {others} other file{'s' if others > 1 else ''})" if others else ""


def _names(paths: Sequence[str], shown: int = 3) -> str:
    if len(paths) == 1:
        return paths[0]
    if len(paths) <= shown:
        return ", ".join(paths[:-1]) + f" and {paths[-1]}"
    return ", ".join(paths[:shown]) + f" and {len(paths) - shown} other files"
