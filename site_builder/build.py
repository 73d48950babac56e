"""Build: run the stages, render what changed, write it. Also ``check`` (no writing).

The order is the design's first rule: load and validate everything, render every
output that must change, and only then touch ``output/``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from site_builder.cache import (
    Inputs,
    Manifest,
    RenderCache,
    collector_paused,
    forget_manifest,
    kinds,
    load_manifest,
    readers_closed,
    save_manifest,
)
from site_builder.config import SiteConfig
from site_builder.content import Content, load_content
from site_builder.errors import BuildFailed, ContentError, SiteError, SiteWarning, as_errors
from site_builder.fresh import BuildResult, no_op, output_rel, with_ledger_written
from site_builder.languages import LanguageSite, default_site, place_languages, plan_languages
from site_builder.ledger import give_ids, ledger_file, save_ledger
from site_builder.model import Entry, OutputSpec, Progress, Site, no_progress
from site_builder.outputs import TEMPLATES, OutputGraph, SiteKeys, plan_outputs
from site_builder.permalinks import Redirect, dump_ledger
from site_builder.quick import edit_in_place, remember
from site_builder.refs import read_page
from site_builder.site import build_site, output_path
from site_builder.templates import check_templates, make_environment
from site_builder.writer import OutputError, is_owned, spares_aside, update_site, write_site

if TYPE_CHECKING:
    import jinja2

    from site_builder.languages import LanguagePlan
    from site_builder.refs import Page

T = TypeVar("T")

# Below this many pages, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD = 400
# Above this many changed files, a staged full build is cheaper than holding them in memory.
INCREMENTAL_LIMIT = 2_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A validated site and the list of its files, ready to render."""

    site: Site
    specs: tuple[OutputSpec, ...]
    keys: SiteKeys
    graph: OutputGraph
    entries: tuple[Entry, ...]  # as content/ has them, before the ledger gave them ids
    redirects: tuple[Redirect, ...]
    warnings: tuple[SiteError, ...]
    ledgers: tuple[tuple[str, str], ...]  # permalinks.json (one a language) as left: name, text
    env: jinja2.Environment  # what renders its pages; the preview renders again with it
    languages: tuple[LanguageSite, ...] = ()  # a multilingual site's, the default first
    planned: tuple[LanguagePlan, ...] = ()  # each of ``languages``' graph and environment


def _duplicate_paths(specs: Sequence[OutputSpec], config: SiteConfig) -> list[SiteError]:
    seen: dict[str, int] = defaultdict(int)
    for spec in specs:
        seen[spec.path] += 1
    return [_shadowed(path, config) for path, n in sorted(seen.items()) if n > 1]


def _shadowed(path: str, config: SiteConfig) -> SiteError:
    """Two outputs for one path: a file of content/ named as one the site makes, or an
    alias or slug naming one of its pages."""
    if (config.content_dir / path).is_file():
        return ContentError(
            f"this file is copied to /{path}, where the site writes its own file",
            path=f"content/{path}",
            hint="rename or move it",
        )
    return OutputError(
        f"two outputs would be written to {path!r}",
        hint="an alias, a page's slug or a file in templates/static/ names a file the site "
        "makes itself",
    )


def plan(
    config: SiteConfig,
    *,
    now: datetime,
    jobs: int = 1,
    strict: bool = False,
    progress: Progress = no_progress,
) -> Plan:
    """Load, validate and place everything; raise ``BuildFailed`` with every problem."""
    with collector_paused():
        return _plan(config, now=now, jobs=jobs, strict=strict, progress=progress)


def _plan(
    config: SiteConfig, *, now: datetime, jobs: int, strict: bool, progress: Progress
) -> Plan:
    cache = RenderCache(config.root)
    try:
        content, problems = load_content(config, jobs=jobs, cache=cache, progress=progress)
    finally:
        cache.close()
    env = make_environment(config)
    problems += check_templates(env, TEMPLATES)
    if config.languages:
        return _plan_languages(config, content, problems, now=now, strict=strict)
    entries, known, ledger_problems = give_ids(content.entries, config, now)
    site, site_problems = build_site(entries, config, now)
    problems += ledger_problems + site_problems
    _raise_errors(problems, strict, placed=site is not None and known is not None)
    assert site is not None and known is not None
    specs, keys, graph = plan_outputs(site, env, config, content, known.redirects)
    if duplicates := _duplicate_paths(specs, config):
        raise BuildFailed(duplicates)
    return Plan(
        site=site,
        specs=tuple(specs),
        keys=keys,
        graph=graph,
        entries=content.entries,
        redirects=tuple(known.redirects),
        warnings=tuple(p for p in problems if isinstance(p, SiteWarning)),
        ledgers=((ledger_file(config), dump_ledger(known.ledger)),),
        env=env,
    )


def _raise_errors(problems: Sequence[SiteError], strict: bool, *, placed: bool) -> None:
    errors = as_errors(problems) if strict else [p for p in problems if p.severity == "error"]
    if errors or not placed:
        raise BuildFailed(errors)


def _plan_languages(
    config: SiteConfig, content: Content, problems: list[SiteError], *, now: datetime, strict: bool
) -> Plan:
    """A multilingual site: every language's site, planned into one list of files."""
    sites, placing_problems = place_languages(config, content, now)
    problems += placing_problems
    _raise_errors(problems, strict, placed=len(sites) == 1 + len(config.languages))
    planned = plan_languages(sites)
    if duplicates := _duplicate_paths(planned.specs, config):
        raise BuildFailed(duplicates)
    return Plan(
        site=default_site(sites),
        specs=tuple(planned.specs),
        keys=planned.keys,
        graph=planned.graph,
        entries=content.entries,
        redirects=tuple(r for s in sites if not s.config.language_path for r in s.redirects),
        warnings=tuple(p for p in problems if isinstance(p, SiteWarning)),
        ledgers=tuple(s.ledger for s in sites),
        env=planned.env,
        languages=tuple(sites),
        planned=planned.languages,
    )


def page_sources(p: Plan) -> dict[str, str]:
    """Each article's and page's output file → its content file, every language's."""
    placed = [(s.config.language_path, s.site) for s in p.languages] or [("", p.site)]
    return {
        prefix + output_path(a.url): a.source_path
        for prefix, site in placed
        for a in (*site.articles, *site.pages)
    }


class _Renderer:
    """Renders specs one at a time, noting what each read and every failure."""

    def __init__(
        self, keys: SiteKeys, progress: Progress = no_progress, kept: Kept | None = None
    ) -> None:
        self.keys, self.progress, self.kept = keys, progress, kept
        self.problems: list[SiteError] = []
        self.manifest = Manifest(output="", keys={}, reads={})

    def each(self, specs: Sequence[OutputSpec], jobs: int = 1) -> Iterator[tuple[str, bytes]]:
        """Lazily, so each page is written and released before the next is made.

        With ``kept`` (``build --check``), each file is also kept for the check, a page
        as its links and ids, read by the worker that rendered it."""
        one = _render_one if self.kept is None else _render_kept
        outcomes = _rendered(specs, jobs, one)
        for done, (spec, outcome) in enumerate(zip(specs, outcomes, strict=True)):
            self.progress("Writing pages", done + 1, len(specs))
            if isinstance(outcome, SiteError):
                self.problems.append(outcome)
                continue
            data, reads, summary = outcome
            if self.kept is not None:
                self.kept[spec.path] = data if summary is None else summary
            self.manifest.keys[spec.path] = self.keys.key(spec.key, reads)
            self.manifest.reads[spec.path] = sorted(reads) if reads else _NONE
            self.manifest.why[spec.path] = spec.why
            yield spec.path, data

    def fail_if_any(self) -> None:
        if self.problems:
            raise BuildFailed(self.problems)


# Its bytes, the site parts it read, and for ``build --check`` an HTML page's links and ids.
Outcome = tuple[bytes, frozenset[str], "Page | None"] | SiteError


class Kept:
    """Where ``build --check`` puts each file it renders as it is rendered: its output
    path and its bytes, or for an HTML page its links and ids, which the worker that
    rendered it read (``_render_kept``). ``verify`` checks each as it comes."""

    def __setitem__(self, path: str, data: bytes | Page) -> None:
        raise NotImplementedError


_NONE: list[str] = []  # most outputs read no site part: one list for all, never changed


def _render_one(spec: OutputSpec) -> Outcome:
    try:
        data, reads = spec.render()
    except SiteError as exc:
        return exc
    return data, reads, None


def _render_kept(spec: OutputSpec) -> Outcome:
    from site_builder.checks import is_page  # noqa: PLC0415 - see check()

    outcome = _render_one(spec)
    if isinstance(outcome, SiteError) or not is_page(spec.path):
        return outcome
    # Paused: what reading makes is freed as it goes, with no cycle to find, but it
    # would start collections that walk everything the rendering keeps.
    with collector_paused():
        return outcome[0], outcome[1], read_page(outcome[0])


def _checked_one(spec: OutputSpec) -> bytes | Page | SiteError:
    """A file to check; an HTML page as its links and ids, which is what takes long."""
    from site_builder.checks import is_page  # noqa: PLC0415 - see check()

    outcome = _render_one(spec)
    if isinstance(outcome, SiteError) or not is_page(spec.path):
        return outcome if isinstance(outcome, SiteError) else outcome[0]
    with collector_paused():  # see _render_kept
        return read_page(outcome[0])


def _rendered(
    specs: Sequence[OutputSpec], jobs: int, one: Callable[[OutputSpec], T]
) -> Iterator[T]:
    """``one`` of each spec, in order; across forked workers when there are many
    pages and cores.

    Workers are forked so they inherit the planned site instead of receiving it
    pickled; forking is only safe while this process runs no other thread.
    """
    # Imported here: a build that renders a few pages (most rebuilds) starts no process.
    import multiprocessing  # noqa: PLC0415

    forkable = "fork" in multiprocessing.get_all_start_methods()
    few = jobs <= 1 or len(specs) < _PARALLEL_THRESHOLD
    if few or not forkable or threading.active_count() > 1:
        yield from map(one, specs)
        return
    # Pool.imap takes in every task at once and keeps every result until it is asked
    # for: when writing is slower than rendering, pages pile up in this process (70 MiB
    # at 10,000 articles). A window of tasks in flight bounds them.
    window = threading.Semaphore(_CHUNK * jobs * 4)

    def indices() -> Iterator[int]:
        for index in range(len(specs)):
            window.acquire()
            yield index

    with multiprocessing.get_context("fork").Pool(jobs, _adopt, (specs, one)) as pool:
        try:
            for outcome in pool.imap(_work_at, indices(), chunksize=_CHUNK):
                yield outcome
                window.release()
        finally:
            for _ in specs:  # a build that stops early must not leave the feeder waiting
                window.release()


_CHUNK = 32  # pages a worker renders per task


# The specs and the work to do on each: set in each forked worker, never in the parent.
_INHERITED: list[tuple[Sequence[OutputSpec], Callable[[OutputSpec], Any]]] = []


def _adopt(specs: Sequence[OutputSpec], one: Callable[[OutputSpec], Any]) -> None:
    _INHERITED.append((specs, one))


def _work_at(index: int) -> Any:
    specs, one = _INHERITED[0]
    return one(specs[index])


def _full_write(
    config: SiteConfig, p: Plan, *, force: bool, jobs: int, progress: Progress, kept: Kept | None
) -> Manifest:
    renderer = _Renderer(p.keys, progress, kept)

    def files() -> Iterator[tuple[str, bytes]]:
        yield from renderer.each(p.specs, jobs)
        renderer.fail_if_any()

    forget_manifest(config.root, config.output_dir)
    write_site(config.output_dir, files(), force=force)
    return renderer.manifest


def _changed(p: Plan, old: Manifest) -> list[OutputSpec]:
    return [
        s for s in p.specs if old.keys.get(s.path) != p.keys.key(s.key, old.reads.get(s.path, ()))
    ]


def _incremental_write(
    config: SiteConfig,
    p: Plan,
    old: Manifest,
    changed: list[OutputSpec],
    progress: Progress,
    *,
    kept: Kept | None,
) -> tuple[Manifest, list[str], list[str]]:
    renderer = _Renderer(p.keys, progress, kept)
    rendered = list(renderer.each(changed))
    renderer.fail_if_any()
    wanted = {s.path for s in p.specs}
    stale = sorted(set(old.keys) - wanted)
    if rendered or stale:
        # Forgotten first: a build killed after the swap must not trust the old manifest.
        forget_manifest(config.root, config.output_dir)
        # One swap, never file by file: a build killed midway leaves the old site whole.
        update_site(config.output_dir, rendered, stale)
    keys = {path: old.keys[path] for path in wanted if path in old.keys}
    reads = {path: old.reads.get(path, []) for path in keys}
    why = {path: old.why[path] for path in keys if path in old.why}
    new = Manifest(
        output="",
        keys={**keys, **renderer.manifest.keys},
        reads={**reads, **renderer.manifest.reads},
        why={**why, **renderer.manifest.why},
    )
    return new, [rel for rel, _ in rendered], stale


def _usable_manifest(config: SiteConfig, p: Plan) -> tuple[Manifest | None, list[OutputSpec], str]:
    """The last build's manifest and what changed since; or None and why the whole
    site must be written."""
    old = load_manifest(config.root, config.output_dir)
    if old is None:
        why = "no record of a complete last build (the first build, or one interrupted)"
        return None, [], why
    if not is_owned(config.output_dir):
        return None, [], f"{config.output_dir.name}/ was not written by site-builder"
    changed = _changed(p, old)
    if len(changed) > INCREMENTAL_LIMIT:
        return None, [], f"more than {INCREMENTAL_LIMIT:,} files changed"
    return old, changed, ""


def build(
    config: SiteConfig,
    *,
    now: datetime,
    jobs: int = 1,
    incremental: bool = True,
    force: bool = False,
    strict: bool = False,
    explain: Sequence[str] = (),
    progress: Progress = no_progress,
    inputs: Inputs | None = None,
) -> BuildResult:
    """Build the site into ``config.output_dir``; raise ``BuildFailed`` and write nothing.

    ``explain`` names output files (or URLs) to say why each was or was not rebuilt.
    ``inputs``: the caller found, with ``no_op``, that the last build is not current.
    """
    started = time.perf_counter()
    if inputs is None:
        unchanged, inputs = no_op(config, now=now, strict=strict, explain=explain)
        if incremental and unchanged is not None:
            return unchanged
    if incremental and not force and not explain and not config.languages:
        edited = edit_in_place(config, inputs, now=now, started=started, jobs=jobs)
        if edited is not None:
            return edited
    p = plan(config, now=now, jobs=jobs, strict=strict, progress=progress)
    return write_planned(
        config,
        p,
        inputs,
        incremental=incremental,
        force=force,
        strict=strict,
        jobs=jobs,
        started=started,
        explain=explain,
        progress=progress,
    )[0]


def _explain(rel: str, p: Plan, old: Manifest | None, result: BuildResult, why_full: str) -> str:
    """Why ``rel`` was or was not rebuilt, from its key's parts now and at the last build."""
    spec = next((s for s in p.specs if s.path == rel), None)
    if rel in result.removed:
        return f"{rel}: removed: no longer part of the site"
    if spec is None:
        return f"{rel}: not part of the site"
    if old is None:
        return f"{rel}: rebuilt: whole site written: {why_full}"
    reads = old.reads.get(rel, [])
    if rel not in result.written:
        seen = f"; site parts read: {', '.join(reads)}" if reads else ""
        return f"{rel}: not rebuilt: site.toml, its templates and what it shows are unchanged{seen}"
    before = old.why.get(rel)
    if not old.keys.get(rel) or before is None:
        return f"{rel}: rebuilt: new, or left without a record by the last build or the preview"
    causes = [
        cause
        for cause, was, now in zip(_WHY_PARTS, before.split(":"), spec.why.split(":"), strict=False)
        if was != now
    ]
    causes += [f"site.{n} changed" for n in reads if old.parts.get(n) != p.keys.part(n)]
    return f"{rel}: rebuilt: {'; '.join(causes) or 'its key changed'}"


_WHY_PARTS = (
    "site.toml, a build option or site-builder itself changed",
    "its template, or one it extends, includes or imports, changed",
    "what it shows changed (its article, the stories it lists, its feed links)",
)


def write_planned(
    config: SiteConfig,
    p: Plan,
    inputs: Inputs,
    *,
    incremental: bool,
    force: bool = False,
    strict: bool = False,
    jobs: int = 1,
    started: float,
    explain: Sequence[str] = (),
    progress: Progress = no_progress,
    kept: Kept | None = None,
) -> tuple[BuildResult, Manifest]:
    """Write what a plan changed (or all of it), then the ledger and the manifest.

    ``inputs`` is what the input files looked like when the plan was made. ``kept``
    receives every file rendered (for ``build --check``).
    """
    # Bodies were fetched for pages and feeds; a first spare is linked beside the records.
    with readers_closed(), spares_aside():
        with collector_paused():  # the manifest is a few objects per output, all kept
            old, changed, why_full = (
                _usable_manifest(config, p) if incremental else (None, [], "--clean")
            )
        if old is None:
            manifest = _full_write(config, p, force=force, jobs=jobs, progress=progress, kept=kept)
            written, removed = [s.path for s in p.specs], list[str]()
        else:
            manifest, written, removed = _incremental_write(
                config, p, old, changed, progress, kept=kept
            )
        reads = {name for names in manifest.reads.values() for name in names}
        manifest.parts.update((name, p.keys.part(name)) for name in reads)
        due = p.site.next_scheduled.isoformat() if p.site.next_scheduled else ""
        # Only a build that publishes records ids: the ledgers are inputs of every later one.
        recorded = p.ledgers if config.records_ids else ()
        saved = [name for name, text in recorded if save_ledger(config, name, text)]
        if saved:
            inputs = with_ledger_written(inputs, config)
        # A build with warnings is never skipped: they must be shown again (and --strict'ed).
        manifest = replace(
            manifest,
            output=str(config.output_dir),
            inputs="" if p.warnings else inputs.signature,
            valid_until=due,
        )
        with collector_paused():
            save_manifest(config.root, manifest)
            # The record's fast paths write the ledger as this build did: not for one that
            # may not, or whose ledger on disk is not what it placed stories with.
            if manifest.inputs and not p.languages and config.records_ids:
                remember(config, p.site, p.graph, p.entries, manifest=manifest, inputs=inputs)
        result = result_of(p, written, removed, time.perf_counter() - started)
        notes = tuple(_explain(rel, p, old, result, why_full) for rel in map(output_rel, explain))
        return replace(result, explained=notes), manifest


def result_of(p: Plan, written: list[str], removed: list[str], seconds: float) -> BuildResult:
    paths = [s.path for s in p.specs]
    pages, feeds, files = kinds(paths)
    return BuildResult(
        written=tuple(written),
        removed=tuple(removed),
        skipped=len(paths) - len(written),
        pages=pages,
        feeds=feeds,
        files=files,
        warnings=p.warnings,
        seconds=seconds,
        next_scheduled=p.site.next_scheduled,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """What ``check`` found in the site rendered in memory: errors and warnings, by place."""

    problems: tuple[SiteError, ...]
    files: int

    @property
    def errors(self) -> tuple[SiteError, ...]:
        return tuple(p for p in self.problems if not isinstance(p, SiteWarning))

    @property
    def warnings(self) -> tuple[SiteError, ...]:
        return tuple(p for p in self.problems if isinstance(p, SiteWarning))


def check(config: SiteConfig, *, now: datetime, jobs: int = 1, strict: bool = False) -> CheckResult:
    """``build`` without the writer, plus links, anchors and feeds; nothing is written.

    Raises ``BuildFailed`` when the site cannot be planned (config, content, templates);
    every problem found after that is returned, render errors included.
    """
    # Imported here: a build never checks, and an edit's build is mostly imports.
    from site_builder.checks import check_site  # noqa: PLC0415

    p = plan(config, now=now, jobs=jobs, strict=strict)
    # Not checked as they come, as ``build --check`` does: a page that fails to render
    # is missing, and the links to it are broken; which ones fail is known at the end.
    files: dict[str, bytes | Page] = {}
    problems: list[SiteError] = [*p.warnings]
    specs = {spec.path: spec for spec in p.specs}
    with readers_closed():
        for spec, done in zip(p.specs, _rendered(p.specs, jobs, _checked_one), strict=True):
            if isinstance(done, SiteError):
                problems.append(done)
            else:
                files[spec.path] = done
        # Nothing is written: a page with a problem to place in it is rendered again.
        found = check_site(
            files, config, page_sources(p), read_output=lambda path: specs[path].render()[0]
        )
    return check_files([*problems, *found], strict=strict, files=len(files))


def check_files(problems: Sequence[SiteError], *, strict: bool, files: int) -> CheckResult:
    """What ``check`` reports of the problems found in ``files`` files: each once, and
    with ``strict`` every warning an error."""
    found = as_errors(problems) if strict else problems
    unique = BuildFailed(found).problems  # one template bug fails many pages: once
    return CheckResult(problems=unique, files=files)
