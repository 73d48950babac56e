"""Build and check in one pass: ``site-builder build --check``.

Input: a ``SiteConfig`` and the build's options. Output: what ``build`` reports and
what ``check`` would find on the site it wrote: internal links, anchors, images and
feeds. The checks read what the build renders, in the worker that rendered it, so the
site is rendered once, not once for ``check`` and again for ``build``; each page is
checked as it comes, and only its ids are kept. Files an incremental build left as
they were are read back from the output folder, which holds exactly what a clean build
would make.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from site_builder.build import (
    CheckResult,
    Kept,
    _rendered,
    check_files,
    page_sources,
    plan,
    write_planned,
)
from site_builder.cache import collector_paused
from site_builder.checks import SiteCheck, is_page
from site_builder.config import SiteConfig
from site_builder.fresh import BuildResult, no_op
from site_builder.model import OutputSpec, Progress, no_progress
from site_builder.refs import Page, read_page


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOptions:
    """What ``build`` is asked to do, as the command line gives it."""

    jobs: int = 1
    incremental: bool = True
    force: bool = False
    strict: bool = False
    explain: Sequence[str] = ()
    progress: Progress = no_progress


class _Checked(Kept):
    """Each file the build renders, checked as it comes."""

    def __init__(self, check: SiteCheck) -> None:
        self.check = check
        self.paths: set[str] = set()

    def __setitem__(self, path: str, data: bytes | Page) -> None:
        self.paths.add(path)
        with collector_paused():  # as _render_kept reads the page: nothing here is a cycle
            self.check.add(path, data)


def build_and_check(
    config: SiteConfig, options: BuildOptions, *, now: datetime
) -> tuple[BuildResult, CheckResult]:
    """Build like ``build`` and check the result like ``check``; raise ``BuildFailed``
    (writing nothing) when the site cannot be built.

    The site is always planned: the check needs every page, and a no-op or text-edit
    build would not have them at hand.
    """
    started = time.perf_counter()
    _, inputs = no_op(config, now=now, strict=options.strict)
    p = plan(config, now=now, jobs=options.jobs, strict=options.strict, progress=options.progress)
    # A build that fails to render a page fails: every path planned is a file of the site.
    # A problem placed in a page reads it in the output folder, where the build put it.
    kept = _Checked(SiteCheck(config, {spec.path for spec in p.specs}, page_sources(p)))
    result, _ = write_planned(
        config,
        p,
        inputs,
        incremental=options.incremental,
        force=options.force,
        strict=options.strict,
        jobs=options.jobs,
        started=started,
        explain=options.explain,
        progress=options.progress,
        kept=kept,
    )
    unread = [spec for spec in p.specs if spec.path not in kept.paths]
    read = _rendered(unread, options.jobs, functools.partial(_read_back, config.output_dir))
    for spec, data in zip(unread, read, strict=True):
        kept[spec.path] = data
    found = [*p.warnings, *kept.check.finish()]
    return result, check_files(found, strict=options.strict, files=len(kept.paths))


def _read_back(output_dir: Path, spec: OutputSpec) -> bytes | Page:
    """A file the build did not rewrite, as the check reads it."""
    data = (output_dir / spec.path).read_bytes()
    return read_page(data) if is_page(spec.path) else data
