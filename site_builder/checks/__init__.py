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
from collections.abc import Mapping

from site_builder.checks.feeds import check_feeds
from site_builder.checks.formats import Format, as_errors, format_problems
from site_builder.checks.pages import check_pages, is_page
from site_builder.checks.problems import Checker, ReadSource, merge, read_under
from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.refs import Page

__all__ = ["Format", "ReadSource", "as_errors", "check_site", "format_problems", "is_page"]


def check_site(
    files: Mapping[str, bytes | Page],
    config: SiteConfig,
    sources: Mapping[str, str],
    *,
    read_source: ReadSource | None = None,
) -> list[SiteError]:
    """Every broken link and anchor, duplicate id and feed problem of a rendered site.

    ``files`` maps output paths to their bytes, or an HTML page's path to what
    ``read_page`` took from it (pages can be read in parallel); ``sources`` maps an
    output path to the content file it was made from, where its problems are reported
    when the offending text can be found there. ``read_source`` returns a content
    file's text (default: read it under ``config.root``).
    """
    reader = read_source or functools.partial(read_under, config.root)
    c = Checker(files, config, sources, reader)
    return sorted(merge([*check_pages(c), *check_feeds(c)]), key=_order)


def _order(problem: SiteError) -> tuple[tuple[str, int, int, str], str]:
    return problem.sort_key(), problem.severity
