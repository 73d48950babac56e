"""Whether the last build is still current, and what a build with nothing to do says.

Apart from ``build`` so that the command line can answer a no-op build without
importing Markdown, Jinja and feedgen: their imports were most of its time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from site_builder.cache import (
    Inputs,
    Manifest,
    Summary,
    build_fingerprint,
    files_stats,
    inputs_from,
    load_manifest,
    load_summary,
    read_inputs,
)
from site_builder.config import CONFIG_NAME, SiteConfig, is_ignored, template_dirs
from site_builder.errors import SiteError
from site_builder.permalinks import LEDGER_NAME, ledger_name
from site_builder.writer import is_owned, recover


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    """What a build did, for the summary line, the preview server and the tests."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: int
    pages: int
    feeds: int
    files: int
    warnings: tuple[SiteError, ...]
    seconds: float
    next_scheduled: datetime | None
    explained: tuple[str, ...] = ()  # for `build --explain PATH`: why each was (not) rebuilt
    planned: bool = True  # False: only the outputs of articles edited in place were made
    replanned: bool = False  # True: one article's metadata edit was placed in the last plan


def no_op(
    config: SiteConfig, *, now: datetime, strict: bool, explain: Sequence[str] = ()
) -> tuple[BuildResult | None, Inputs]:
    """What a build with nothing to do reports, or ``None``; and the inputs it saw."""
    started = time.perf_counter()
    recover(config.output_dir)
    inputs = inputs_of(config, strict)
    old = _up_to_date(config, inputs.signature, now)
    listed = load_manifest(config.root, config.output_dir) if old and explain else None
    if old is None or (explain and listed is None):
        return None, inputs
    result = _unchanged(old, time.perf_counter() - started)
    notes = tuple(_explain_unchanged(output_rel(rel), listed) for rel in explain if listed)
    return replace(result, explained=notes), inputs


def inputs_of(config: SiteConfig, strict: bool) -> Inputs:
    """Every file a build reads, as it is now, and the build's options."""
    folders = [(config.content_dir, is_ignored)]
    folders += [(folder, _nothing) for folder in template_dirs(config)]
    options = (build_fingerprint(config.fingerprint()), str(config.output_dir), strict)
    return read_inputs(config.root, _single_files(config), folders, *options)


def _single_files(config: SiteConfig) -> list[Path]:
    ledgers = [ledger_name(lang.code) for lang in config.languages]
    return [config.root / name for name in (CONFIG_NAME, LEDGER_NAME, *ledgers)]


def with_ledger_written(inputs: Inputs, config: SiteConfig) -> Inputs:
    """``inputs`` after the build wrote permalinks.json itself: its stat read again,
    every other file's as the build saw it (one edited meanwhile still counts as changed)."""
    singles = files_stats(_single_files(config))
    singles[CONFIG_NAME] = inputs.stats.get(CONFIG_NAME, "")
    stats = {name: line for name, line in singles.items() if line}
    stats.update((name, line) for name, line in inputs.stats.items() if name not in singles)
    return inputs_from(stats, inputs.options)


def _nothing(name: str) -> bool:
    return False


def _up_to_date(config: SiteConfig, signature: str, now: datetime) -> Summary | None:
    """The last build's summary, when no input changed and no scheduled article has come due."""
    old = load_summary(config.root, config.output_dir)
    if old is None or old.inputs != signature or not is_owned(config.output_dir):
        return None
    if old.valid_until and now >= datetime.fromisoformat(old.valid_until):
        return None
    return old


def output_rel(target: str) -> str:
    """An output file named as a path in output/ or as a URL path: ``/articles/x/``."""
    rel = target.strip().removeprefix("output/").lstrip("/")
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


def _explain_unchanged(rel: str, old: Manifest) -> str:
    if rel not in old.keys:
        return f"{rel}: not part of the site"
    return f"{rel}: not rebuilt: no input file changed since the last build"


def _unchanged(old: Summary, seconds: float) -> BuildResult:
    due = datetime.fromisoformat(old.valid_until) if old.valid_until else None
    return BuildResult(
        written=(),
        removed=(),
        skipped=old.pages + old.feeds + old.files,
        pages=old.pages,
        feeds=old.feeds,
        files=old.files,
        warnings=(),
        seconds=seconds,
        next_scheduled=due,
    )
