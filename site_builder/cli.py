"""Command line: ``site-builder init | new | build | serve | check | import | next-publish``.

The one place that reads the clock, prints, and turns problems into exit codes:
0 ok, 1 content or template errors, 2 usage or configuration errors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder import __version__
from site_builder.cache import build_lock
from site_builder.config import (
    CONFIG_NAME,
    INDEX_DIR,
    SiteConfig,
    is_ignored,
    load_config,
    theme_dir,
)
from site_builder.errors import BuildFailed, ConfigError, SiteError
from site_builder.fresh import BuildResult, no_op
from site_builder.model import file_slug
from site_builder.progress import TerminalProgress
from site_builder.scaffold import (
    GITIGNORE,
    REQUIREMENTS,
    SAMPLE_CONFIG,
    ingest_workflow,
    publish_workflow,
)

# Each command imports the stages it runs when it runs: a build with nothing to do
# must not pay for importing Markdown, Jinja and feedgen (most of its time).
if TYPE_CHECKING:
    from site_builder.build import CheckResult
    from site_builder.checks import Format
    from site_builder.search import SearchResult
    from site_builder.serve import PreviewServer
    from site_builder.watch import Batch, Watcher

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
IMPORT_KINDS = ("jekyll", "hugo", "pelican", "wordpress", "feed")  # importer.KINDS, unimported


def build_time() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` so that scheduled posts publish reproducibly."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC)


def report(problems: Sequence[SiteError]) -> None:
    for problem in problems:
        print(problem.report(), file=sys.stderr)


def exit_code(failure: BuildFailed) -> int:
    usage = failure.problems and all(isinstance(p, ConfigError) for p in failure.problems)
    return EXIT_USAGE if usage else EXIT_ERRORS


def fail(failure: BuildFailed) -> int:
    report(failure.problems)
    count = len(failure.problems)
    print(
        f"Build failed: {count} error{'s' if count != 1 else ''}; nothing was written.",
        file=sys.stderr,
    )
    return exit_code(failure)


def _config(args: argparse.Namespace) -> SiteConfig:
    config = load_config(
        Path(args.source),
        output=Path(args.output) if args.output else None,
        base_url=args.base_url,
        drafts=args.drafts,
        future=args.future,
    )
    search: bool | None = getattr(args, "search", None)  # build's --search / --no-search
    return config if search is None else replace(config, search=search)


def summary(result: BuildResult) -> str:
    changed = f"{len(result.written)} written, {result.skipped} unchanged"
    if result.removed:
        changed += f", {len(result.removed)} removed"
    if result.replanned:
        changed += ", one story placed again"
    elif not result.planned:
        changed += ", text edits only"
    line = (
        f"Built {result.pages} pages, {result.feeds} feeds, {result.files} other files "
        f"in {result.seconds:.2f} s ({changed})"
    )
    if result.next_scheduled:
        line += f"\nNext scheduled article goes live at {result.next_scheduled.isoformat()}"
    return line


def cmd_build(args: argparse.Namespace) -> int:
    progress = TerminalProgress(sys.stderr)
    prefix = _workspace_prefix(Path(args.source))
    try:
        config = _config(args)
        if config.search and isinstance(missing := _pagefind(), SiteError):
            raise missing  # before building: searching without Pagefind is a usage error
        result, checked, searched = _build(args, config, progress)
    except (BuildFailed, SiteError) as failure:
        progress.clear()
        failed = failure if isinstance(failure, BuildFailed) else BuildFailed([failure])
        return _check_failed(failed, args.format, prefix) if args.check else fail(failed)
    progress.clear()
    if checked is None:
        report(result.warnings)  # with --check they are among the check's problems
    print(summary(result))
    for line in result.explained:
        print(line)
    code = _searched(searched)
    return code if checked is None else max(code, _checked(checked, args.format, prefix))


def _build(
    args: argparse.Namespace, config: SiteConfig, progress: TerminalProgress
) -> tuple[BuildResult, CheckResult | None, SearchResult | SiteError | None]:
    """Build (and check what it made), then index it or drop an old index: all under
    the lock, since another build would swap its own site in under Pagefind."""
    with build_lock(config.root, _say_waiting):
        if args.check:
            result, checked = _build_checked(args, config, progress)
        else:
            result, checked = _build_alone(args, config, progress), None
        if not config.search:
            if _may_hold_an_index(config.output_dir):
                from site_builder.indexing import drop_search  # noqa: PLC0415 - see the imports

                drop_search(config)
            return result, checked, None
        from site_builder.indexing import index_search  # noqa: PLC0415 - see the imports

        return result, checked, index_search(config)


def _may_hold_an_index(output: Path) -> bool:
    """Whether an earlier build may have left an index to drop: the search stage's
    imports were a tenth of a one-story edit built with --no-search."""
    try:
        return any(path.name.startswith(INDEX_DIR) for path in output.iterdir())
    except OSError:
        return True


def _build_checked(
    args: argparse.Namespace, config: SiteConfig, progress: TerminalProgress
) -> tuple[BuildResult, CheckResult]:
    from site_builder.verify import BuildOptions, build_and_check  # noqa: PLC0415 - see the imports

    options = BuildOptions(
        jobs=args.jobs,
        incremental=not args.clean,
        force=args.force,
        strict=args.strict,
        explain=args.explain,
        progress=progress,
    )
    return build_and_check(config, options, now=build_time())


def _say_waiting() -> None:
    print("Waiting for another build of this site to finish ...", file=sys.stderr, flush=True)


def _build_alone(
    args: argparse.Namespace, config: SiteConfig, progress: TerminalProgress
) -> BuildResult:
    now = build_time()
    unchanged, inputs = no_op(config, now=now, strict=args.strict, explain=args.explain)
    if unchanged is not None and not args.clean:
        return unchanged
    from site_builder.build import build  # noqa: PLC0415 - see the imports

    return build(
        config,
        now=now,
        jobs=args.jobs,
        incremental=not args.clean,
        force=args.force,
        strict=args.strict,
        explain=args.explain,
        progress=progress,
        inputs=inputs,
    )


def _pagefind() -> object:
    from site_builder.search import pagefind_command  # noqa: PLC0415 - see the imports

    return pagefind_command()


def _searched(indexed: SearchResult | SiteError | None) -> int:
    if isinstance(indexed, SiteError):
        report([indexed])
        return EXIT_ERRORS
    # On a terminal only, on stderr, like the progress line: stdout is the one summary line.
    if indexed is not None and sys.stderr.isatty():
        print(f"Search: indexed {indexed.pages} pages into {indexed.bundle.name}/", file=sys.stderr)
    return EXIT_OK


def cmd_next_publish(args: argparse.Namespace) -> int:
    """Print when the next scheduled article goes live (ISO 8601), or nothing.

    Exit code 0 in both cases, so CI can run ``when=$(site-builder next-publish)`` and
    schedule a rebuild only when ``$when`` is not empty; 1 when the site has content or
    template errors, 2 for configuration errors. Nothing is written.
    """
    from site_builder.build import plan  # noqa: PLC0415 - see the imports

    try:
        p = plan(_config(args), now=build_time(), jobs=args.jobs, strict=args.strict)
    except BuildFailed as failure:
        return fail(failure)
    except SiteError as problem:
        return fail(BuildFailed([problem]))
    if p.site.next_scheduled is not None:
        print(p.site.next_scheduled.isoformat())
    return EXIT_OK


def _watcher(preview: PreviewServer, *, poll: bool) -> Watcher:
    """Rebuild on every burst of edits; a changed site.toml is read again."""
    from site_builder.watch import Watcher  # noqa: PLC0415 - see the imports

    def on_change(batch: Batch) -> None:
        preview.rebuild(
            batch.describe(),
            reload_config=batch.config_changed,
            changed=[c.path for c in batch.changes],
        )

    return Watcher(preview.root, on_change, ignore=is_ignored, output=preview.output_dir, poll=poll)


def cmd_serve(args: argparse.Namespace) -> int:
    from site_builder.serve import PreviewOptions, run  # noqa: PLC0415 - see the imports

    options = PreviewOptions(
        root=Path(args.source),
        base_url=args.base_url,
        host=args.host,
        port=args.port,
        drafts=args.drafts,
        future=args.future,
        jobs=args.jobs,
        strict=args.strict,
    )
    try:
        run(
            options,
            clock=build_time,
            watch=lambda preview: _watcher(preview, poll=args.poll),
            open_browser=args.open,
        )
    except BuildFailed as failure:  # no site.toml here, or a broken one
        return fail(failure)
    except SiteError as problem:  # the port is taken, or the folder cannot be watched
        report([problem])
        return EXIT_USAGE
    return EXIT_OK


def check_summary(result: CheckResult) -> str:
    errors, warnings = len(result.errors), len(result.warnings)
    return (
        f"Checked {result.files} files: {errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}"
    )


def _workspace_prefix(source: Path) -> str:
    """The site folder as GitHub names files: relative to the workspace, e.g. "site/"."""
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    try:
        folder = source.resolve().relative_to(workspace)
    except ValueError:
        return ""
    return "" if folder == Path() else folder.as_posix() + "/"


def show(problems: Sequence[SiteError], fmt: Format, prefix: str) -> None:
    """Text goes to stderr like a build's; JSON and annotations to stdout, for tools."""
    from site_builder.checks import format_problems  # noqa: PLC0415 - see the imports

    text = format_problems(problems, fmt, prefix=prefix)
    if fmt == "json" or text:
        print(text, file=sys.stderr if fmt == "text" else sys.stdout)


def cmd_check(args: argparse.Namespace) -> int:
    from site_builder.build import check  # noqa: PLC0415 - see the imports

    prefix = _workspace_prefix(Path(args.source))
    try:
        result = check(_config(args), now=build_time(), jobs=args.jobs, strict=args.strict)
    except SiteError as problem:
        return _check_failed(BuildFailed([problem]), args.format, prefix)
    except BuildFailed as failure:
        return _check_failed(failure, args.format, prefix)
    return _checked(result, args.format, prefix)


def _checked(result: CheckResult, fmt: Format, prefix: str) -> int:
    """What a check found, in the format asked for, and its exit code."""
    show(result.problems, fmt, prefix)
    clean = not result.errors
    print(check_summary(result), file=sys.stdout if clean and fmt == "text" else sys.stderr)
    return EXIT_OK if clean else EXIT_ERRORS


def _check_failed(failure: BuildFailed, fmt: Format, prefix: str) -> int:
    show(failure.problems, fmt, prefix)
    count = len(failure.problems)
    print(
        f"Check failed: {count} error{'s' if count != 1 else ''} before links and feeds "
        "could be checked.",
        file=sys.stderr,
    )
    return exit_code(failure)


def cmd_new(args: argparse.Namespace) -> int:
    try:
        config = load_config(Path(args.source))
    except BuildFailed as failure:
        return fail(failure)
    slug = file_slug(args.title)
    if not slug:
        print(f"error: title {args.title!r} has no letters or digits", file=sys.stderr)
        return EXIT_USAGE
    target = config.content_dir / "articles" / f"{slug}.md"
    if target.exists():
        print(f"error: {target.relative_to(config.root)} already exists", file=sys.stderr)
        return EXIT_USAGE
    when = build_time().astimezone(config.tz).replace(second=0, microsecond=0)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        new_article(args.title, when, config.author, draft=args.draft), encoding="utf-8"
    )
    print(target.relative_to(config.root).as_posix())
    return EXIT_OK


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_article(title: str, when: datetime, author: str, *, draft: bool) -> str:
    lines = ["---", f"title: {_yaml_text(title)}", f"date: {when.isoformat()}", "tags: []"]
    if author:
        lines.append(f"author: {_yaml_text(author)}")
    if draft:
        lines.append("draft: true")
    return "\n".join([*lines, "---", "", "Write the story here.", ""])


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not empty" if target.is_dir() else "is a file, not a folder"
        print(f"error: {target} {what}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _write_new_site(target)
    except OSError as exc:
        print(f"error: cannot make a site in {target}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERRORS
    print(f"New site in {target}. Next: cd {target} && site-builder serve")
    return EXIT_OK


def _write_new_site(target: Path) -> None:
    (target / "content" / "articles").mkdir(parents=True)
    title = target.resolve().name.replace("-", " ").title() or "Tech Digest"
    (target / CONFIG_NAME).write_text(SAMPLE_CONFIG.format(title=title), encoding="utf-8")
    shutil.copytree(theme_dir(), target / "templates")
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (target / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    workflows = target / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "publish.yml").write_text(publish_workflow(), encoding="utf-8")
    (workflows / "ingest.yml").write_text(ingest_workflow(), encoding="utf-8")
    when = build_time().replace(second=0, microsecond=0)
    (target / "content" / "articles" / "hello-world.md").write_text(
        new_article("Hello, world", when, "The Editors", draft=False), encoding="utf-8"
    )


def cmd_import(args: argparse.Namespace) -> int:
    from site_builder.importer import import_posts  # noqa: PLC0415 - see the imports

    try:
        result = import_posts(
            args.kind, args.src, Path(args.source), dry_run=args.dry_run, old_url=args.old_url
        )
    except BuildFailed as failure:  # this site's site.toml
        report(failure.problems)
        return exit_code(failure)
    except SiteError as problem:  # SRC is not what KIND reads, or --old-url is not a URL
        report([problem])
        return EXIT_USAGE
    for line in result.done_lines():
        print(line)
    sys.stdout.flush()  # the report reads in order when stdout and stderr share a terminal
    report(result.problems)
    print(result.summary())
    return EXIT_ERRORS if result.failed else EXIT_OK


def on_site(
    command: Callable[[argparse.Namespace, SiteConfig], int],
) -> Callable[[argparse.Namespace], int]:
    """A command run on the site in ``--source``, once its site.toml is read."""

    def run(args: argparse.Namespace) -> int:
        try:
            config = load_config(Path(args.source))
        except BuildFailed as failure:
            report(failure.problems)
            return exit_code(failure)
        return command(args, config)

    return run


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An option's type: a number above zero (a timeout of 0 s, or -2 processes, has no
    meaning; argparse then says which option and exits 2)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value

    return parse


def _ingest(args: argparse.Namespace, config: SiteConfig) -> int:
    """Fetch every source and write each new item as a draft in content/inbox/."""
    from site_builder.ingest import IngestOptions, Limits, ingest, parse_since  # noqa: PLC0415

    since = parse_since(args.since, config.tz) if args.since else None
    if isinstance(since, SiteError):
        report([since])
        return EXIT_USAGE
    limits = Limits(timeout=args.timeout)
    options = IngestOptions(since=since, only=args.only, dry_run=args.dry_run, limits=limits)
    result = ingest(config, options, build_time())
    if isinstance(result, SiteError):
        report([result])
        return EXIT_USAGE
    for line in result.lines:
        print(line)
    sys.stdout.flush()
    report(result.problems)
    print(result.summary())
    return EXIT_ERRORS if result.failed else EXIT_OK


def _inbox(args: argparse.Namespace, config: SiteConfig) -> int:
    """List the drafts in content/inbox/, newest first."""
    from site_builder.inbox import age, list_inbox  # noqa: PLC0415 - see the imports

    found, problems = list_inbox(config)
    now = build_time()
    for c in found:
        print(f"{age(c.date, now):>6}  {c.source_name or '-'}  {c.title}  {c.path}")
    sys.stdout.flush()
    report(problems)
    print(f"{len(found)} candidate{'s' if len(found) != 1 else ''} in content/inbox/")
    return EXIT_ERRORS if problems else EXIT_OK


def _publish(args: argparse.Namespace, config: SiteConfig) -> int:
    return _inbox_act(args, config, "publish")


def _discard(args: argparse.Namespace, config: SiteConfig) -> int:
    return _inbox_act(args, config, "discard")


def _inbox_act(args: argparse.Namespace, config: SiteConfig, action: str) -> int:
    from site_builder.inbox import act  # noqa: PLC0415 - see the imports

    results = act(config, "publish" if action == "publish" else "discard", args.paths, build_time())
    problems = [r for r in results if isinstance(r, SiteError)]
    for line in results:
        if not isinstance(line, SiteError):
            print(line)
    sys.stdout.flush()
    report(problems)
    return EXIT_ERRORS if problems else EXIT_OK


def _sources_import(args: argparse.Namespace, config: SiteConfig) -> int:
    """Add an OPML file's feeds to site.toml as [[sources]] tables."""
    from site_builder.ingest.sources import import_sources, sources_lines  # noqa: PLC0415

    result = import_sources(config, Path(args.file), config.root / CONFIG_NAME)
    if isinstance(result, SiteError):
        report([result])
        return EXIT_ERRORS
    report(result.problems)
    for line in sources_lines(result):
        print(line)
    return EXIT_OK


def _add_inbox_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser("ingest", help="fetch the sources; write each new item as a draft")
    g.add_argument("--source", default=".", metavar="DIR", help="the site folder (default: .)")
    g.add_argument("--since", metavar="DATE", help="leave out items dated before DATE")
    g.add_argument("--from", dest="only", metavar="NAME", help="only the source named NAME")
    g.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    g.add_argument(
        "--timeout",
        type=_positive(float),
        default=30.0,
        metavar="S",
        help="seconds per feed (default: 30)",
    )
    g.set_defaults(func=on_site(_ingest))
    i = sub.add_parser("inbox", help="list the candidate stories in content/inbox/, newest first")
    i.add_argument("--source", default=".", metavar="DIR", help="the site folder (default: .)")
    i.set_defaults(func=on_site(_inbox))
    for name, func, what in (
        ("publish", _publish, "move drafts to content/articles/, published now"),
        ("discard", _discard, "delete drafts; ingest never brings them back"),
    ):
        v = sub.add_parser(name, help=what)
        v.add_argument("paths", nargs="+", metavar="PATH", help="a draft in content/inbox/")
        v.add_argument("--source", default=".", metavar="DIR", help="the site folder (default: .)")
        v.set_defaults(func=on_site(func))
    s = sub.add_parser("sources", help="manage the feeds ingest reads")
    verbs = s.add_subparsers(dest="verb", required=True, metavar="VERB")
    m = verbs.add_parser("import", help="add an OPML file's feeds to site.toml")
    m.add_argument("file", metavar="FILE.opml")
    m.add_argument("--source", default=".", metavar="DIR", help="the site folder (default: .)")
    m.set_defaults(func=on_site(_sources_import))


def _add_site_options(p: argparse.ArgumentParser, *, output: bool = True) -> None:
    p.add_argument("--source", default=".", metavar="DIR", help="the site folder (default: .)")
    if output:
        p.add_argument("--output", metavar="DIR", help="where to write (default: SOURCE/output)")
    else:
        p.set_defaults(output=None)
    p.add_argument("--base-url", metavar="URL", help="override base_url (also: SITE_BASE_URL)")
    p.add_argument("--drafts", action="store_true", help="include draft articles")
    p.add_argument("--future", action="store_true", help="include future-dated articles")
    p.add_argument(
        "--jobs",
        type=_positive(int),
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes for rendering Markdown (default: all cores)",
    )
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")


def _add_format_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help="problems as text (default), a JSON array, or GitHub Actions annotations",
    )


def _add_check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--check",
        action="store_true",
        help="also check links, anchors, images and feeds of what it builds, as check does",
    )
    _add_format_option(p)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="site-builder", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"site-builder {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = sub.add_parser("build", help="build the site into output/")
    _add_site_options(b)
    b.add_argument("--clean", action="store_true", help="ignore the cache; rebuild everything")
    b.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="PATH",
        help="say why this output file (or URL, e.g. /tags/ai/) was or was not rebuilt",
    )
    b.add_argument(
        "--force",
        action="store_true",
        help="replace an output folder that site-builder did not create",
    )
    b.add_argument(
        "--search",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="index the built site for /search/ with Pagefind (default: site.toml's "
        "'search', which is true); --no-search removes an index",
    )
    _add_check_options(b)
    b.set_defaults(func=cmd_build)
    x = sub.add_parser(
        "next-publish", help="print when the next scheduled article goes live (ISO 8601)"
    )
    _add_site_options(x, output=False)
    x.set_defaults(func=cmd_next_publish)
    s = sub.add_parser("serve", help="build, serve on this machine, rebuild and reload on changes")
    _add_site_options(s, output=False)  # the preview builds into .site-builder/, never output/
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0: any free one)")
    s.add_argument("--open", action="store_true", help="open the site in a web browser")
    s.add_argument(
        "--poll",
        action="store_true",
        help="poll for changes instead of file-system events (network drives)",
    )
    s.set_defaults(func=cmd_serve)
    c = sub.add_parser(
        "check", help="build in memory and check links, anchors and feeds; write nothing"
    )
    _add_site_options(c, output=False)
    _add_format_option(c)
    c.set_defaults(func=cmd_check)
    n = sub.add_parser("new", help="start a new article with its front matter filled in")
    n.add_argument("title")
    n.add_argument("--source", default=".", metavar="DIR")
    n.add_argument("--draft", action="store_true", help="mark it as a draft")
    n.set_defaults(func=cmd_new)
    i = sub.add_parser("init", help="create a new site: config, templates, one article")
    i.add_argument("directory")
    i.set_defaults(func=cmd_init)
    m = sub.add_parser("import", help="copy another site's posts into content/articles/")
    m.add_argument("kind", choices=IMPORT_KINDS, help="the generator the posts come from")
    m.add_argument(
        "src", metavar="SRC", help="the old site's folder, a WordPress export, a feed file or URL"
    )
    m.add_argument("--source", default=".", metavar="DIR", help="this site's folder (default: .)")
    m.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
    m.add_argument(
        "--old-url",
        metavar="URL",
        help="where the old site still is; links to its other pages lead there",
    )
    m.set_defaults(func=cmd_import)
    _add_inbox_commands(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code
