"""The check of HTML pages: internal links, images and #anchors that lead nowhere, and
ids used twice on one page.

Input: the ``Checker`` holding the rendered site, each page as its bytes or as what
``read_page`` took from it. Output: the problems found, placed by ``Checker.problem``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from site_builder.checks.problems import Checker, Problem
from site_builder.checks.urls import needles, resolve
from site_builder.refs import Page, read_page
from site_builder.refs import Ref as _Ref

_BROKEN_HINTS = {
    "link": "readers who follow it get a 404; fix the URL or add the page",
    "image": "readers see a broken image; fix the URL or add the file",
}


@dataclass(frozen=True, slots=True)
class _Anchor:
    """A link into a page, checked once every page's ids are known."""

    page: str
    ref: _Ref
    target: str
    fragment: str


def is_page(path: str) -> bool:
    return path.endswith((".html", ".htm"))


def check_pages(c: Checker) -> Iterator[Problem]:
    later: list[_Anchor] = []
    for path in sorted(filter(is_page, c.files)):
        data = c.files[path]
        page = data if isinstance(data, Page) else read_page(data)
        c.anchors[path] = page.anchors
        yield from _duplicate_ids(c, path, page)
        first: dict[str, _Ref] = {}
        for ref in page.links:
            first.setdefault(ref.value, ref)  # one report per URL and page is enough
        for value, ref in first.items():
            if value not in c.fine:
                yield from _check_link(c, path, ref, later)
    for anchor in later:
        yield from _check_anchor(c, anchor)


def _duplicate_ids(c: Checker, path: str, page: Page) -> Iterator[Problem]:
    seen: set[str] = set()
    for ref in page.ids:
        if ref.value not in seen:
            seen.add(ref.value)
            continue
        yield c.problem(
            f"id {ref.value!r} is used twice on one page; links to #{ref.value} reach the first",
            at=(path, ref.line, ref.column),
            source=c.sources.get(path),
            needles=(f'id="{ref.value}"', f"{{#{ref.value}}}"),
            hint="give each element its own id",
        )


def _report_link(c: Checker, page: str, ref: _Ref) -> Callable[..., Problem]:
    """Report a link's problem at the link in the page's Markdown, else in the page."""
    return functools.partial(
        c.problem,
        at=(page, ref.line, ref.column),
        source=c.sources.get(page),
        needles=needles(ref.value, c.config.base_path),
    )


def _check_link(c: Checker, page: str, ref: _Ref, later: list[_Anchor]) -> Iterator[Problem]:
    target = c.target(ref.value, page)
    if target is None:
        if ref.value.startswith(("http:", "https:")):
            c.fine.add(ref.value)  # another site's: never checked, from any page
        return
    found = resolve(target.path, c.files) if target.outside is None else None
    if target.outside is not None:
        yield _report_link(c, page, ref)(
            f"{ref.what} {ref.value!r} {target.outside}; readers get a 404"
        )
    elif found is None:
        yield _report_link(c, page, ref)(
            f"broken {ref.what} {ref.value!r}: the site has no {target.path}",
            hint=_BROKEN_HINTS.get(ref.what, _BROKEN_HINTS["link"]),
        )
    elif target.fragment and is_page(found):
        later.append(_Anchor(page, ref, found, target.fragment))
    elif not target.fragment and ref.value.startswith(("/", "http:", "https:")):
        c.fine.add(ref.value)  # leads to ``found`` whichever page it is on


def _check_anchor(c: Checker, anchor: _Anchor) -> Iterator[Problem]:
    ids = c.anchors.get(anchor.target, frozenset())
    # HTML scrolls to the top for "#top" even without such an id.
    if anchor.fragment in ids or anchor.fragment.lower() == "top":
        return
    where = "this page" if anchor.target == anchor.page else anchor.target
    yield _report_link(c, anchor.page, anchor.ref)(
        f"missing anchor in link {anchor.ref.value!r}: {where} has no id {anchor.fragment!r}",
        hint=_anchor_hint(anchor.fragment, ids),
    )


def _anchor_hint(fragment: str, anchors: Iterable[str]) -> str:
    close = difflib.get_close_matches(fragment, sorted(anchors), n=1)
    if close:
        return f"did you mean '#{close[0]}'?"
    return "the page opens at the top instead; fix the #fragment or add the id"
