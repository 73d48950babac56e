"""Check stage: the files a build would write, held in memory → what a reader would trip over.

Input: the rendered site (output path → bytes), the ``SiteConfig``, and for each page
made from a content file the path of that file. Output: ``SiteError`` and
``SiteWarning`` values for internal links and ``#anchors`` that lead nowhere, ids
used twice on one page, and feeds that readers would misread: required fields
missing, dates without a zone, relative URLs, ids shared by two stories, and a self
link that is not where the feed is served.

A problem is reported where the author can fix it: in the content file, at the line
where the offending URL or id is written, when it can be found there; otherwise in
the output file. A problem found there comes from a template and repeats on every
page that uses it, so it is reported once, with a count. Nothing here writes; content
files are only read to find those lines.

The parts: ``urls`` (where a link leads), ``pages`` (links, anchors and ids of HTML
pages), ``feeds`` (RSS, Atom and JSON Feed), ``problems`` (where each is reported,
one report per cause) and ``formats`` (text, JSON, GitHub annotations).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from pathlib import Path

from site_builder.checks.feeds import Read, check_feeds, forget_read, is_feed, read_feed
from site_builder.checks.formats import Format, format_problems
from site_builder.checks.pages import Anchor, check_anchors, check_page, is_page
from site_builder.checks.problems import (
    Checker,
    Problem,
    ReadOutput,
    ReadSource,
    merge,
    read_under,
)
from site_builder.config import SiteConfig
from site_builder.errors import SiteError, as_errors
from site_builder.refs import Page, read_page

__all__ = [
    "Format",
    "ReadOutput",
    "ReadSource",
    "SiteCheck",
    "as_errors",
    "check_site",
    "format_problems",
    "is_page",
]


class SiteCheck:
    """The check of one site, given its files one at a time, in any order, as a build
    makes them: a page is checked when it comes, and only its ids are kept (other
    pages may link to them), not the page. Then ``finish`` checks the links to those
    ids and the feeds, and merges what was found.

    ``paths`` are every output file of the site, the files a link may lead to;
    ``sources`` maps an output path to the content file it was made from, where its
    problems are reported when the offending text can be found there. ``read_source``
    returns a content file's text (default: read it under ``config.root``);
    ``read_output`` an output file's bytes, for the few pages whose problems are
    placed in the page itself (default: read it under ``config.output_dir``).
    """

    def __init__(
        self,
        config: SiteConfig,
        paths: Collection[str],
        sources: Mapping[str, str],
        *,
        read_source: ReadSource | None = None,
        read_output: ReadOutput | None = None,
    ) -> None:
        reader = read_source or functools.partial(read_under, config.root)
        output = read_output or functools.partial(_read_output, config.output_dir)
        self._c = Checker(paths, config, sources, reader, output)
        self._found: list[Problem] = []
        self._later: list[Anchor] = []
        self._feeds: dict[str, Read] = {}

    def add(self, path: str, data: bytes | Page) -> None:
        """One file, as built or as ``read_page`` took it from a page."""
        if is_page(path):
            page = data if isinstance(data, Page) else read_page(data)
            self._found += check_page(self._c, path, page, self._later)
        elif is_feed(path) and isinstance(data, bytes):
            self._feeds[path] = read_feed(path, data)  # as it comes: not all at the end

    def finish(self) -> list[SiteError]:
        """Every problem found, one report per cause, in order of place."""
        c = self._c
        forget_read()
        found = [*self._found, *check_anchors(c, self._later), *check_feeds(c, self._feeds)]
        return sorted(merge(found, c.place), key=_order)


def check_site(
    files: Mapping[str, bytes | Page],
    config: SiteConfig,
    sources: Mapping[str, str],
    *,
    read_source: ReadSource | None = None,
    read_output: ReadOutput | None = None,
) -> list[SiteError]:
    """Every broken link and anchor, duplicate id and feed problem of a rendered site.

    ``files`` maps output paths to their bytes, or an HTML page's path to what
    ``read_page`` took from it (pages can be read in parallel). For the rest, see
    ``SiteCheck``; a page given as bytes is placed in from those.
    """

    def output(path: str) -> bytes:
        data = files[path]
        if isinstance(data, bytes):
            return data
        return (read_output or functools.partial(_read_output, config.output_dir))(path)

    check = SiteCheck(config, files, sources, read_source=read_source, read_output=output)
    for path in sorted(files):
        check.add(path, files[path])
    return check.finish()


def _read_output(output_dir: Path, path: str) -> bytes:
    return (output_dir / path).read_bytes()


def _order(problem: SiteError) -> tuple[tuple[str, int, int, str], str]:
    return problem.sort_key(), problem.severity
