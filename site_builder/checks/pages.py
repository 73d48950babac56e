"""The check of HTML pages: internal links, images and #anchors that lead nowhere, and
ids used twice on one page.

Input: the ``Checker`` holding the rendered site, each page as its bytes or as what
``read_page`` took from it. Output: the problems found, placed by ``Checker.problem``;
a problem's line in the page is counted only if it is reported there (``Spot``).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import filterfalse
from urllib.parse import unquote

from site_builder.checks.problems import Checker, Problem, Spot
from site_builder.checks.urls import needles, resolve
from site_builder.refs import Page

# A link to an id on its own page, which ``target_of`` would read as such: no tab or
# line break, which it removes. A tenth of a site's links (tables of contents).
_SAME_PAGE = re.compile(r"#[^\t\n\r]+\Z")
_BROKEN_HINTS = {
    "link": "readers who follow it get a 404; fix the URL or add the page",
    "image": "readers see a broken image; fix the URL or add the file",
}


@dataclass(frozen=True, slots=True)
class _Link:
    """A URL as a page has it: once per page, named as its first tag names it."""

    value: str
    what: str  # "link" or "image"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A link into a page, checked once every page's ids are known."""

    page: str
    link: _Link
    target: str
    fragment: str


def is_page(path: str) -> bool:
    return path.endswith((".html", ".htm"))


def check_page(c: Checker, path: str, page: Page, later: list[Anchor]) -> list[Problem]:
    """A page's problems; its links to ids of other pages go to ``later``, to be checked
    by ``check_anchors`` once every page's ids are known."""
    c.anchors[path] = page.anchors
    found = list(_duplicate_ids(c, path, page)) if page.twice else []
    # Each URL once (one report per URL and page is enough); most are known to be fine.
    for value in filterfalse(c.fine.__contains__, page.links):
        same_page = _SAME_PAGE.match(value)  # "#x", as on every article: checked now
        fragment = unquote(value[1:]) if same_page else ""
        if same_page and (fragment in page.anchors or fragment.lower() == "top"):
            continue
        link = _Link(value, "image" if value in page.images else "link")
        if same_page:
            found += _check_anchor(c, Anchor(path, link, path, fragment))
        else:
            found += _check_link(c, path, link, later)
    return found


def check_anchors(c: Checker, later: Iterable[Anchor]) -> Iterator[Problem]:
    for anchor in later:
        yield from _check_anchor(c, anchor)


def _duplicate_ids(c: Checker, path: str, page: Page) -> Iterator[Problem]:
    # Reported at its second use; a third would be reported at the same line in the
    # Markdown, or after the second in the page, so it adds nothing.
    for ident in page.twice:
        yield c.problem(
            f"id {ident!r} is used twice on one page; links to #{ident} reach the first",
            at=(path, None, None),
            spot=Spot("id", ident),
            source=c.sources.get(path),
            needles=(f'id="{ident}"', f"{{#{ident}}}"),
            hint="give each element its own id",
        )


def _report_link(c: Checker, page: str, link: _Link) -> Callable[..., Problem]:
    """Report a link's problem at the link in the page's Markdown, else in the page."""
    return functools.partial(
        c.problem,
        at=(page, None, None),
        spot=Spot("link", link.value),
        source=c.sources.get(page),
        needles=needles(link.value, c.config.base_path),
    )


def _check_link(c: Checker, page: str, link: _Link, later: list[Anchor]) -> Iterator[Problem]:
    target = c.target(link.value, page)
    if target is None:
        if link.value.startswith(("http:", "https:")):
            c.fine.add(link.value)  # another site's: never checked, from any page
        return
    found = resolve(target.path, c.paths) if target.outside is None else None
    if target.outside is not None:
        yield _report_link(c, page, link)(
            f"{link.what} {link.value!r} {target.outside}; readers get a 404"
        )
    elif found is None:
        yield _report_link(c, page, link)(
            f"broken {link.what} {link.value!r}: the site has no {target.path}",
            hint=_BROKEN_HINTS.get(link.what, _BROKEN_HINTS["link"]),
        )
    elif target.fragment and is_page(found):
        later.append(Anchor(page, link, found, target.fragment))
    elif not target.fragment and link.value.startswith(("/", "http:", "https:")):
        c.fine.add(link.value)  # leads to ``found`` whichever page it is on


def _check_anchor(c: Checker, anchor: Anchor) -> Iterator[Problem]:
    ids = c.anchors.get(anchor.target, frozenset())
    # HTML scrolls to the top for "#top" even without such an id.
    if anchor.fragment in ids or anchor.fragment.lower() == "top":
        return
    where = "this page" if anchor.target == anchor.page else anchor.target
    yield _report_link(c, anchor.page, anchor.link)(
        f"missing anchor in link {anchor.link.value!r}: {where} has no id {anchor.fragment!r}",
        hint=_anchor_hint(anchor.fragment, ids),
    )


def _anchor_hint(fragment: str, anchors: Iterable[str]) -> str:
    close = difflib.get_close_matches(fragment, sorted(anchors), n=1)
    if close:
        return f"did you mean '#{close[0]}'?"
    return "the page opens at the top instead; fix the #fragment or add the id"
