"""The preview server's build: the last plan kept in memory between rebuilds.

A full incremental build plans the whole site again (every entry, every output's
key), which takes seconds on a large archive. Most edits while writing change an
article's text, not where it is placed: same date, slug, tags, category, authors,
sources and draft state. For those, the articles are given their new text in place
and only the outputs that show them are rendered again and compared with what is
on disk. Anything else (a new, moved or deleted file, a template, ``site.toml``, a
story coming due) takes the full incremental build, which then becomes the new plan.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from site_builder.build import Plan, plan, result_of, write_planned
from site_builder.cache import (
    Manifest,
    RenderCache,
    amend_manifest,
    build_lock,
    close_readers,
    forget_summary,
)
from site_builder.config import SiteConfig
from site_builder.content import load_files
from site_builder.errors import BuildFailed, SiteError
from site_builder.fresh import BuildResult, inputs_of
from site_builder.model import Article, Entry, OutputSpec, Site
from site_builder.outputs import OutputGraph, card
from site_builder.permalinks import Redirect
from site_builder.site import copies_of, placement, retext
from site_builder.templates import forget_fragments
from site_builder.writer import holds, recover, replace_files

if TYPE_CHECKING:
    import jinja2

# Front matter that is text to ``placement`` but files a story under a language, or
# pairs it with its translations: a change moves pages between sites, or relinks them.
_LANGUAGE_KEYS = ("lang", "translation_key")


@dataclass(slots=True, eq=False)  # one object per language, hashed as itself
class _Language:
    """One language's site in the last plan (a site in one language: the only one).

    Made once per plan, not at every edit: in-place edits keep these objects."""

    config: SiteConfig
    site: Site
    graph: OutputGraph  # paths as its own site has them, without ``prefix``
    env: jinja2.Environment
    redirected: frozenset[str]  # URLs its redirect pages lead to, showing their titles
    placed: dict[str, Article]  # by source path
    copies: dict[str, list[Article]]  # every object of each placed entry (site.copies_of)

    @property
    def prefix(self) -> str:
        """Where its files are in the output folder: "" for the default language, "de/"."""
        return self.config.language_path


@dataclass(slots=True)
class _Last:
    """What the last good build left: its plan, and the manifest it wrote."""

    plan: Plan
    manifest: Manifest
    entries: dict[str, Entry]  # by source path, as content/ has them
    languages: dict[str, _Language]  # the site of each entry, by source path
    specs: dict[str, OutputSpec]  # by output path


class LiveBuild:
    """Rebuilds for the preview: in place when an edit allows it, else a full incremental build."""

    def __init__(self, config: SiteConfig, *, jobs: int = 1, strict: bool = False) -> None:
        self.config, self.jobs, self.strict = config, jobs, strict
        self._last: _Last | None = None

    def rebuild(self, now: datetime, changed: Sequence[str] | None = None) -> BuildResult:
        """Build after ``changed`` (paths relative to the site root; None: unknown).

        Raises ``BuildFailed`` with every problem and keeps the last good state.
        """
        started = time.perf_counter()
        with build_lock(self.config.root):  # a command-line build of the site may be running
            if changed is not None and self._last is not None:
                quick = self._in_place(self._last, changed, now, started)
                if quick is not None:
                    return quick
            return self._full(now, started)

    def _full(self, now: datetime, started: float) -> BuildResult:
        self._last = None  # a failure below leaves nothing to patch
        recover(self.config.output_dir)
        inputs = inputs_of(self.config, self.strict)
        p = plan(self.config, now=now, jobs=self.jobs, strict=self.strict)
        result, manifest = write_planned(
            self.config,
            p,
            inputs,
            incremental=True,
            strict=self.strict,
            jobs=self.jobs,
            started=started,
        )
        languages = _languages_of(p, self.config)
        for language in set(languages.values()):
            language.graph.index(language.site)  # now, not at the first edit
        _keep_out_of_collections()
        self._last = _Last(
            plan=p,
            manifest=manifest,
            entries={e.source_path: e for e in p.entries},
            languages=languages,
            specs={s.path: s for s in p.specs},
        )
        return result

    def _in_place(
        self, last: _Last, changed: Sequence[str], now: datetime, started: float
    ) -> BuildResult | None:
        """The build for an edit of articles' text only; None when the edit needs more."""
        if not _only_known_markdown(self.config, changed, last.entries) or _due(last.plan, now):
            return None
        cache = RenderCache(self.config.root)
        try:
            fresh, problems = load_files(self.config, dict.fromkeys(changed), cache=cache)
        finally:
            cache.close()
        if problems:
            raise BuildFailed(problems)
        edited = {e.source_path: e for e in fresh if e != last.entries[e.source_path]}
        groups = _by_language(edited, last)
        if groups is None:
            return None
        touched = [(language, set(own), _retext(language, own)) for language, own in groups.items()]
        last.entries.update(edited)
        self._last = None  # until the outputs are written: a failure leaves nothing to patch
        result = self._write(last, touched, started)
        self._last = last
        return result

    def _write(
        self, last: _Last, touched: Iterable[tuple[_Language, set[str], set[str]]], started: float
    ) -> BuildResult:
        """Render again what shows the edited stories (``touched``: each language's, and
        those of them whose card changed); write the files whose bytes changed."""
        p, manifest = last.plan, last.manifest
        candidates = set[str]().union(
            *(
                _affected(lang, sources, recarded, manifest.reads)
                for lang, sources, recarded in touched
            )
        )
        # A language's site plans files the default's writes for all (``static/``): not its.
        rendered, reads = _render(last.specs, sorted(candidates & last.specs.keys()))
        changed = [
            (path, data) for path, data in rendered if not holds(self.config.output_dir, path, data)
        ]
        if changed:
            written = [path for path, _ in changed]
            # First: the last build no longer describes output/, and a preview killed
            # mid-write must leave every rewritten file to be made again (amend_manifest).
            forget_summary(self.config.root, self.config.output_dir)
            amend_manifest(self.config.root, self.config.output_dir, written)
            replace_files(self.config.output_dir, changed)
            last.manifest = replace(manifest, reads={**manifest.reads, **reads})
        seconds = time.perf_counter() - started
        return result_of(p, [path for path, _ in changed], [], seconds)


def _languages_of(p: Plan, config: SiteConfig) -> dict[str, _Language]:
    """The site of each entry (drafts too: an edit of one is its language's), by source."""
    if not p.languages:
        one = _language(config, p.site, p.graph, p.env, p.redirects)
        return dict.fromkeys((e.source_path for e in p.entries), one)
    found: dict[str, _Language] = {}
    for lang, planned in zip(p.languages, p.planned, strict=True):
        one = _language(lang.config, lang.site, planned.graph, planned.env, lang.redirects)
        found.update(dict.fromkeys((e.source_path for e in lang.content.entries), one))
    return found


def _language(
    config: SiteConfig,
    site: Site,
    graph: OutputGraph,
    env: jinja2.Environment,
    redirects: Iterable[Redirect],
) -> _Language:
    return _Language(
        config=config,
        site=site,
        graph=graph,
        env=env,
        redirected=frozenset(r.target for r in redirects),
        placed={a.source_path: a for a in (*site.articles, *site.pages)},
        copies=copies_of(site),
    )


def _by_language(edited: dict[str, Entry], last: _Last) -> dict[_Language, dict[str, Entry]] | None:
    """The edits by the language whose site has each story; None when one does more
    than change its text."""
    groups: dict[_Language, dict[str, Entry]] = {}
    for source, entry in edited.items():
        language = last.languages.get(source)
        if language is None or not _text_only(entry, last.entries[source], language):
            return None
        groups.setdefault(language, {})[source] = entry
    return groups


def _retext(language: _Language, edited: dict[str, Entry]) -> set[str]:
    """Give a language's stories their new text; those whose card changed too."""
    placed = language.placed
    cards = {source: card(placed[source]) for source in edited if source in placed}
    retext(language.copies, edited, language.config)
    forget_fragments(language.env)  # its cached fragments are keyed by the objects changed
    return {source for source, old in cards.items() if card(placed[source]) != old}


def _affected(
    language: _Language, sources: set[str], recarded: set[str], reads: Mapping[str, Sequence[str]]
) -> set[str]:
    """The files in the output folder that may show a language's edited stories anew."""
    graph, prefix = language.graph, language.prefix
    paths = graph.affected(sources, recarded, language.site, _reads_of(language, reads))
    for path in paths & graph.feeds.keys():
        graph.feeds[path].renew()
    return {prefix + path for path in paths}


def _reads_of(
    language: _Language, reads: Mapping[str, Sequence[str]]
) -> Mapping[str, Sequence[str]]:
    """The site parts each of a language's files read, as its own templates name them:
    the merged manifest names the German site's ``de:articles`` (``languages._read_as``).

    The default language's are unmarked, as a site in one language has them: all are
    passed, as the others' (``de:articles``) name no part of its site, which
    ``OutputGraph.affected`` finds nothing in (filtering 7,000 files took 8 ms)."""
    prefix = language.prefix
    if not prefix:
        return reads
    mark = f"{language.config.language}:"  # as LanguageKeys parts them
    own: dict[str, list[str]] = {}
    for path, names in reads.items():
        if names and path.startswith(prefix):  # most files read no part
            mine = [n[len(mark) :] for n in names if n.startswith(mark)]
            if mine:
                own[path[len(prefix) :]] = mine
    return own


def _keep_out_of_collections() -> None:
    """Exempt the new plan from garbage collection, and let the previous one go.

    A plan is hundreds of thousands of long-lived objects: left to the collector, a
    full collection scans them all in the middle of some edit's rebuild (a third of
    the edits on a 10,000-article site took 0.4 s instead of 0.12 s). The previous
    plan holds reference cycles, so it is unfrozen and collected first.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _only_known_markdown(
    config: SiteConfig, changed: Iterable[str], entries: dict[str, Entry]
) -> bool:
    """Whether every change is to an article or page that was there and still is."""
    return all(
        PurePosixPath(rel).suffix.lower() == ".md"
        and rel in entries
        and entries[rel].kind != "digest"
        and (config.root / rel).is_file()
        for rel in changed
    )


def _due(p: Plan, now: datetime) -> bool:
    """A scheduled story has come due: it must be placed."""
    return p.site.next_scheduled is not None and now >= p.site.next_scheduled


def _text_only(entry: Entry, old: Entry, language: _Language) -> bool:
    """Whether an edit keeps its entry where it was, in its language and with its
    translations, and no redirect shows its title."""
    if placement(entry) != placement(old):
        return False
    if any(entry.extra.get(key) != old.extra.get(key) for key in _LANGUAGE_KEYS):
        return False
    article = language.placed.get(entry.source_path)
    return entry.title == old.title or article is None or article.url not in language.redirected


def _render(
    specs: dict[str, OutputSpec], paths: Sequence[str]
) -> tuple[list[tuple[str, bytes]], dict[str, list[str]]]:
    """The bytes of each output, and the parts of ``site`` each one's template read."""
    problems: list[SiteError] = []
    rendered, reads = [], {}
    for path in paths:
        try:
            data, used = specs[path].render()
        except SiteError as exc:
            problems.append(exc)
            continue
        rendered.append((path, data))
        reads[path] = sorted(used)
    close_readers()
    if problems:
        raise BuildFailed(problems)
    return rendered, reads
