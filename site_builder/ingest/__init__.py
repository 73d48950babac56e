"""Ingest: upstream feeds → draft stories in ``content/inbox/`` for the editor to rewrite.

Input: the site's sources (``[[sources]]`` in site.toml, or an OPML file), fetched over
HTTP. Output: one Markdown draft per item not seen before, written through
``inbox.write_atomic``, and the record of seen URLs and HTTP validators. Everything that
comes over the network is untrusted: bodies are capped, slow servers cut off, HTML is
sanitised with nh3 before it becomes Markdown, and file names are made from slugs.
A source that fails is one problem line; the others go on.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from site_builder.config import FeedSource, SiteConfig
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.inbox import (
    ARTICLES_DIR,
    INBOX_DIR,
    Record,
    Validators,
    cited_identities,
    forgetting,
    item_identity,
    load_record,
    record_lock,
    save_record,
    unique_path,
    write_atomic,
)
from site_builder.ingest.drafts import draft_stem, draft_text
from site_builder.ingest.fetch import Fetched, Limits, fetch, make_client
from site_builder.ingest.parse import Item, Origin, Parsed, parse_feed
from site_builder.ingest.sources import pick_sources, site_sources

__all__ = [
    "IngestOptions",
    "IngestReport",
    "Limits",
    "SourceFailure",
    "SourceWarning",
    "ingest",
    "parse_since",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestOptions:
    since: datetime | None = None  # items dated before it are left out
    only: str | None = None  # --source NAME
    dry_run: bool = False
    limits: Limits = field(default_factory=Limits)


class SourceFailure(SiteError):
    """A source that gave nothing, reported as ``URL: error: reason``."""

    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url

    def location(self) -> str:
        return self.url

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.url, 0, 0, self.message)


class SourceWarning(SourceFailure):
    severity = "warning"


@dataclass(slots=True, kw_only=True)
class IngestReport:
    """What a run did: drafts written, items already known, problems per source."""

    sources: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)  # (path, source name)
    known: int = 0
    not_modified: int = 0
    problems: list[SiteError] = field(default_factory=list)
    dry_run: bool = False
    # For the terminal, in order: each new draft, then its source's outcome.
    lines: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def summary(self) -> str:
        failed = sum(isinstance(p, SourceFailure) and p.severity == "error" for p in self.problems)
        count = len(self.written)
        line = (
            f"Ingest: {count} new draft{'s' if count != 1 else ''} from {self.sources} "
            f"source{'s' if self.sources != 1 else ''} ({self.known} already known, "
            f"{self.not_modified} not modified)"
        )
        if failed:
            line += f"; {failed} source{'s' if failed != 1 else ''} failed"
        return line + ("; dry run, nothing written" if self.dry_run else "")


@dataclass(slots=True)
class _Run:
    config: SiteConfig
    options: IngestOptions
    now: datetime
    known: set[str]
    taken: set[str]
    record: Record
    report: IngestReport
    sources: tuple[str, ...] = ()  # every source's URL, those this run reads or not
    seen: dict[str, str] = field(default_factory=dict)  # URL -> the day it was offered
    validators: dict[str, Validators] = field(default_factory=dict)
    listed: dict[str, frozenset[str]] = field(default_factory=dict)  # feed URL -> its items


def parse_since(text: str, tz: tzinfo) -> datetime | SiteError:
    """``--since``: a date (midnight in the site's time zone) or a date and time."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return ConfigError(
            f"--since: {text!r} is not a date", hint="expected 2026-11-24 or 2026-11-24T09:30"
        )
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def ingest(config: SiteConfig, options: IngestOptions, now: datetime) -> IngestReport | SiteError:
    """Fetch every source at once, then write each new item as a draft, in source order."""
    sources = site_sources(config)
    if isinstance(sources, SiteError):
        return sources
    chosen = pick_sources(sources, options.only)
    record = load_record(config)
    if isinstance(chosen, SiteError) or isinstance(record, SiteError):
        return chosen if isinstance(chosen, SiteError) else record  # type: ignore[return-value]
    cited, problems = cited_identities(config)
    run = _Run(
        config=config,
        options=options,
        now=now,
        known=cited | record.identities(),
        taken=_stems(config),
        record=record,
        report=IngestReport(sources=len(chosen), dry_run=options.dry_run),
        sources=tuple(s.url for s in sources),
    )
    run.report.problems += [_as_warning(p) for p in problems]
    limits = options.limits
    with make_client(config, limits) as client, ThreadPoolExecutor(limits.workers) as pool:
        futures = [
            pool.submit(fetch, client, s.url, record.feeds.get(s.url, Validators()), limits)
            for s in chosen
        ]
        for source, future in zip(chosen, futures, strict=True):
            _take(run, source, future)
    if not options.dry_run and (failure := _save(run)):
        run.report.problems.append(failure)
    return run.report


def _as_warning(problem: SiteError) -> SiteError:
    return SiteWarning(
        f"{problem.message}; its sources are not known to ingest",
        path=problem.path,
        line=problem.line,
        column=problem.column,
    )


def _stems(config: SiteConfig) -> set[str]:
    """Names of stories already in the inbox and the articles: a new draft takes another."""
    return {
        p.stem
        for folder in (INBOX_DIR, ARTICLES_DIR)
        if (config.content_dir / folder).is_dir()
        for p in (config.content_dir / folder).iterdir()
    }


def _take(run: _Run, source: FeedSource, future: Future[Fetched | str]) -> None:
    fetched = future.result()
    if isinstance(fetched, str):
        run.report.problems.append(SourceFailure(fetched, url=source.url))
        return
    if fetched.not_modified:
        run.report.not_modified += 1
        run.report.lines.append(f"{source.name}: not modified since the last run")
        return
    parsed = _parse(fetched, source.name, run.now)
    if isinstance(parsed, str):
        run.report.problems.append(SourceFailure(parsed, url=source.url))
        return
    if parsed.malformed:
        count = len(parsed.items)
        run.report.problems.append(
            SourceWarning(f"malformed feed, {count} items read: {parsed.malformed}", url=source.url)
        )
    _take_items(run, source, parsed)
    run.validators[source.url] = fetched.validators
    # Bounded as the items taken are: a hostile feed's 100,000 items stay out of the record.
    items = parsed.items[: run.options.limits.max_items]
    run.listed[source.url] = frozenset(item.url for item in items)


def _take_items(run: _Run, source: FeedSource, parsed: Parsed) -> None:
    """Each item in turn, then one line for the source: what its items became."""
    before = (len(run.report.written), run.report.known)
    limit = run.options.limits.max_items
    for item in parsed.items[:limit]:
        _take_item(run, source, parsed.origin, item)
    new, known = len(run.report.written) - before[0], run.report.known - before[1]
    counts = [
        (known, "already known"),
        (len(parsed.items) - limit, f"past the {limit} a feed may give"),
        (min(limit, len(parsed.items)) - new - known, "older than --since"),
        (parsed.without_link, "without a link"),
    ]
    told = "".join(f", {n} {what}" for n, what in counts if n > 0)
    items = len(parsed.items) + parsed.without_link
    run.report.lines.append(
        f"{source.name}: {items} item{'s' if items != 1 else ''}, {new} new{told}"
    )


def _parse(fetched: Fetched, name: str, now: datetime) -> Parsed | str:
    try:
        return parse_feed(fetched, name, now)
    except Exception as exc:  # noqa: BLE001 - the one broad catch, and why:
        # feedparser is a large parser of untrusted bytes; should it ever fail in a way
        # no test found, that is this source's error line, never the end of the run.
        return f"cannot read the feed: {type(exc).__name__}: {exc}"


def _take_item(run: _Run, source: FeedSource, origin: Origin, item: Item) -> None:
    identity = item_identity(item.url)
    if identity in run.known:
        run.report.known += 1
        return
    since = run.options.since
    if since is not None and item.date is not None and item.date < since:
        return
    run.known.add(identity)
    folder = run.config.content_dir / INBOX_DIR
    target = unique_path(folder, draft_stem(item), run.taken)
    run.taken.add(target.stem)
    if not run.options.dry_run:
        try:
            write_atomic(target, draft_text(source, origin, item, run.now), replace_existing=False)
        except OSError as exc:
            rel = target.relative_to(run.config.root).as_posix()
            run.report.problems.append(ContentError(f"cannot write: {exc.strerror}", path=rel))
            return
    run.seen[item.url] = _day(run)
    rel = target.relative_to(run.config.root).as_posix()
    run.report.written.append((rel, source.name))
    run.report.lines.append(f"new  {rel}")


def _day(run: _Run) -> str:
    return run.now.astimezone(run.config.tz).date().isoformat()


def _save(run: _Run) -> SiteError | None:
    """Add this run's URLs, validators and listings to the record as it is now (the
    preview may have discarded a draft meanwhile), and forget what cannot come back."""
    with record_lock(run.config):
        record = load_record(run.config)
        if isinstance(record, SiteError):
            return record
        new = replace(
            record,
            seen={**record.seen, **run.seen},
            feeds={**record.feeds, **run.validators},
            listed={**record.listed, **run.listed},
        )
        new = forgetting(new, date.fromisoformat(_day(run)), run.sources)
        # Unchanged, it is not written: a site without sources gets no record at all.
        return save_record(run.config, new) if new != record else None
