"""Build benchmark: site_builder against Hugo and Pelican on generated sites.

For each size, every builder gets its own fresh copy of the same seeded site and
runs a cold build, a no-op rebuild (the same command again), a rebuild after
a paragraph is appended to one article, and one after each change of that article's
metadata in turn: retitled, retagged, recategorised, redated, renamed.
site_builder then runs `build --clean` and `build --clean --check` on the same
site, so that the check's cost is a ratio of the same run, and Pagefind indexes
its output.  Each run is measured in a fresh wrapper process (see measure.py).
`--huge` times site_builder alone on 25,000, 50,000 and 100,000 articles to show
how build time grows.

    python benchmarks/build_bench.py [--articles 1000 10000] [--peers] [--huge]
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import importlib.metadata
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import generate
import peers
from measure import Measurement, run_measured

RUNS = ("cold", "no-op", "edit", "retitle", "retag", "recat", "redate", "rename")
# site_builder alone, after RUNS: a whole build with the render cache warm, the same
# with the checks of `check` (as the publish workflow runs it), and the search index.
# The builds leave the index out (--no-search) like the peers; "index" times it.
OWN_RUNS = ("clean", "check", "index")
OWN_OPTIONS = {"clean": ("--clean",), "check": ("--clean", "--check")}
RETITLE_MARKER = "BenchRetitled"
# The metadata edits after the retitle, each on the same article as every tool has it:
# a tag of a few hundred stories added, the next category, a day earlier, a new slug.
RETAG = ("regulation", "standards")  # the first the article does not have yet
RENAMED = "-renamed"
HUGE_SIZES = (25_000, 50_000, 100_000)
EDIT_MARKER = "BenchEditMarker"
EDIT_PARAGRAPH = (
    f"\n{EDIT_MARKER}: this paragraph was appended by the benchmark to time "
    "a rebuild after a one-article edit.\n"
)
WARNING_LINE = re.compile(r"\b(WARN|WARNING|ERROR)\b")
LOG_TAIL_LINES = 20
BUSY_LOAD = 0.5  # per CPU, before the benchmark starts its own work


@dataclass(frozen=True, slots=True)
class Tool:
    """A builder under test and the site flavour it reads."""

    name: str
    flavour: str
    build: peers.Builder


@dataclass(frozen=True, slots=True)
class Row:
    """One measured run of one tool."""

    run: str
    measurement: Measurement
    note: str = ""


@dataclass(slots=True)
class ToolResult:
    """All runs of one tool at one size, or why there are none."""

    tool: str
    rows: list[Row] = field(default_factory=list)
    problem: str = ""

    def get(self, run: str) -> Measurement | None:
        """The measurement of a successful run, if there is one."""
        for row in self.rows:
            if row.run == run and row.measurement.ok:
                return row.measurement
        return None


# --- site_builder ---------------------------------------------------------------


def site_builder_script() -> Path:
    """The console script beside the interpreter running the benchmark."""
    # Not resolved: a venv's python is a symlink out of the venv's bin/.
    return Path(sys.executable).parent / "site-builder"


def compile_site_builder() -> None:
    """Compile site_builder's modules, as installing a wheel does. Where
    PYTHONDONTWRITEBYTECODE is set, a module edited since it was last compiled is
    compiled again by every run: tens of milliseconds added to every timed build."""
    import site_builder

    compileall.compile_dir(str(Path(site_builder.__file__).parent), quiet=1)


def site_builder_installed() -> bool:
    """Whether the `site-builder` command exists in this environment."""
    return site_builder_script().is_file()


def build_site_builder(
    site: Path, log: Path, *options: str
) -> tuple[Measurement, tuple[Path, ...]]:
    """One `site-builder build --no-search` of a generated site into SITE/output."""
    output = site / "output"
    command = [
        str(site_builder_script()),
        "build",
        "--source",
        str(site),
        "--output",
        str(output),
        "--no-search",
        *options,
    ]
    return run_measured(command, cwd=site, output=output, log=log)


# What `build` runs after a build that changed pages (site_builder/search.py): read
# the site for the pages marked for search, then Pagefind on the folders holding them.
INDEX_SCRIPT = (
    "import sys; from pathlib import Path; from site_builder.search import index_site; "
    "result = index_site(Path(sys.argv[1])); print(result); sys.exit(isinstance(result, Exception))"
)


def index_site_builder(site: Path, log: Path) -> tuple[Measurement, tuple[Path, ...]]:
    """Indexing SITE/output as `build` does, into SITE/output/pagefind/."""
    output = site / "output"
    command = [sys.executable, "-c", INDEX_SCRIPT, str(output)]
    return run_measured(command, cwd=site, output=output / "pagefind", log=log)


def site_builder_version() -> str:
    """Installed distribution version, whichever name it was published under."""
    for name in ("site-builder", "site_builder"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(name)
    return "installed" if site_builder_installed() else "not installed"


TOOLS = (
    Tool("site_builder", "site_builder", build_site_builder),
    Tool("hugo", "hugo", peers.build_hugo),
    Tool("pelican", "pelican", peers.build_pelican),
)


# --- running --------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def append_edit(site: Path, flavour: str) -> Path:
    """Append a paragraph to the middle article (same slug in every flavour)."""
    articles = sorted((site / generate.CONTENT_SUBDIR[flavour]).glob("*.md"))
    target = articles[len(articles) // 2]
    with target.open("a", encoding="utf-8") as handle:
        handle.write(EDIT_PARAGRAPH)
    return target


def retitle(site: Path, flavour: str) -> Path:
    """Put a word before the title of the middle article (as append_edit picks it)."""
    articles = sorted((site / generate.CONTENT_SUBDIR[flavour]).glob("*.md"))
    target = articles[len(articles) // 2]
    text = target.read_text(encoding="utf-8")
    retitled = re.sub(
        r"^([Tt]itle:\s*[\"']?)", rf"\g<1>{RETITLE_MARKER} ", text, count=1, flags=re.MULTILINE
    )
    target.write_text(retitled, encoding="utf-8")
    return target


def middle_article(site: Path, flavour: str) -> Path:
    """The article every edit of a run changes (as append_edit picks it)."""
    articles = sorted((site / generate.CONTENT_SUBDIR[flavour]).glob("*.md"))
    return articles[len(articles) // 2]


def _edited(target: Path, pattern: str, change: Callable[[re.Match[str]], str]) -> str:
    """Rewrite the first match of ``pattern`` (multiline) in ``target``; its new text."""
    text = target.read_text(encoding="utf-8")
    found = re.search(pattern, text, flags=re.MULTILINE)
    if found is None:
        raise ValueError(f"{target}: nothing matches {pattern!r}")
    new = change(found)
    target.write_text(text[: found.start()] + new + text[found.end() :], encoding="utf-8")
    return new


def retag(site: Path, flavour: str) -> str:
    """Add a tag the middle article does not have yet; the tag."""
    target = middle_article(site, flavour)
    text = target.read_text(encoding="utf-8")
    tag = next(t for t in RETAG if f'"{t}"' not in text and f" {t}" not in text)
    if flavour == "pelican":
        _edited(target, r"^Tags: .*$", lambda m: f"{m[0]}, {tag}")
    else:
        _edited(target, r"^tags:$", lambda m: f'{m[0]}\n  - "{tag}"')
    return tag


def recategorise(site: Path, flavour: str) -> str:
    """File the middle article under the next category; the category."""
    names = generate.CATEGORIES
    pattern = {
        "site_builder": r'^(category: ")([^"]*)(")$',
        "hugo": r'^(categories:\n  - ")([^"]*)(")$',
        "pelican": r"^(Category: )(.*)()$",
    }[flavour]
    moved: list[str] = []

    def change(m: re.Match[str]) -> str:
        moved.append(names[(names.index(m[2]) + 1) % len(names)])
        return f"{m[1]}{moved[0]}{m[3]}"

    _edited(middle_article(site, flavour), pattern, change)
    return moved[0]


def redate(site: Path, flavour: str) -> str:
    """Date the middle article a day earlier; the new day (ISO)."""
    key = "Date" if flavour == "pelican" else "date"
    days: list[str] = []

    def change(m: re.Match[str]) -> str:
        when = datetime.fromisoformat(m[2]) - timedelta(days=1)
        days.append(when.date().isoformat())
        return f"{m[1]}{when.isoformat()}"

    _edited(middle_article(site, flavour), rf"^({key}: )(\S+)$", change)
    return days[0]


def rename(site: Path, flavour: str) -> str:
    """Give the middle article a new slug (address); the slug."""
    target = middle_article(site, flavour)
    slug = target.stem + RENAMED
    if flavour == "pelican":
        _edited(target, r"^Slug: .*$", lambda m: f"Slug: {slug}")
    else:
        _edited(target, r"^---$", lambda m: f"---\nslug: {slug}")
    return slug


METADATA_EDITS: dict[str, Callable[[Path, str], str]] = {
    "retag": retag,
    "recat": recategorise,
    "redate": redate,
    "rename": rename,
}


def edit_visible(fresh: Sequence[Path], marker_text: str = EDIT_MARKER) -> bool:
    """Whether any page this build wrote contains the marker of the edit."""
    marker = marker_text.encode()
    return any(path.suffix == ".html" and marker in path.read_bytes() for path in fresh)


def _warnings(log: Path) -> int:
    text = log.read_text(encoding="utf-8", errors="replace")
    return sum(1 for line in text.splitlines() if WARNING_LINE.search(line))


def _note(run: str, measurement: Measurement, fresh: Sequence[Path], marker: str) -> str:
    notes = []
    if not measurement.ok:
        notes.append(f"FAILED exit {measurement.returncode}, log {measurement.log}")
    elif run == "edit":
        notes.append("edit in output" if edit_visible(fresh) else "EDIT NOT IN OUTPUT")
    elif run == "retitle":
        seen = edit_visible(fresh, RETITLE_MARKER)
        notes.append("new title in output" if seen else "NEW TITLE NOT IN OUTPUT")
    elif run in METADATA_EDITS:
        seen = edit_visible(fresh, marker) or any(marker in str(path) for path in fresh)
        notes.append(f"{marker} in output" if seen else f"{marker.upper()} NOT IN OUTPUT")
    if measurement.leftover:
        notes.append("processes left running, not counted")
    warnings = _warnings(measurement.log)
    if warnings:
        notes.append(f"{warnings} warning lines in log")
    return "; ".join(notes)


def _show_failure(tool: str, measurement: Measurement) -> None:
    lines = measurement.log.read_text(encoding="utf-8", errors="replace").splitlines()
    # The log goes with the work directory unless --keep, so show its end now.
    _progress(f"{tool} failed (exit {measurement.returncode}); end of its log:")
    for line in lines[-LOG_TAIL_LINES:]:
        _progress(f"    {line}")


def run_trial(tool: Tool, site: Path, logs: Path) -> list[Row]:
    """Cold build, no-op rebuild, one-article edit, its metadata edits (and
    site_builder's own runs); stop at the first failure."""
    rows: list[Row] = []
    own = OWN_RUNS if tool.name == "site_builder" else ()
    for run in (*RUNS, *own):
        marker = ""
        if run == "edit":
            append_edit(site, tool.flavour)
        elif run == "retitle":
            retitle(site, tool.flavour)
        elif run in METADATA_EDITS:
            marker = METADATA_EDITS[run](site, tool.flavour)
        log = logs / f"{run}.log"
        if run == "index":
            measurement, fresh = index_site_builder(site, log)
        elif run in OWN_OPTIONS:
            measurement, fresh = build_site_builder(site, log, *OWN_OPTIONS[run])
        else:
            measurement, fresh = tool.build(site, log)
        rows.append(Row(run, measurement, _note(run, measurement, fresh, marker)))
        _progress(f"  {tool.name:<12} {run:<6} {measurement.seconds:8.2f} s")
        if not measurement.ok:
            _show_failure(tool.name, measurement)
            break
    return rows


def _combine(rows: Sequence[Row]) -> Row:
    """Median time over trials, worst peak memory, counts from the last trial."""
    last = rows[-1]
    measurements = [row.measurement for row in rows]
    combined = replace(
        last.measurement,
        seconds=statistics.median(m.seconds for m in measurements),
        cpu_seconds=statistics.median(m.cpu_seconds for m in measurements),
        peak_mib=max(m.peak_mib for m in measurements),
    )
    return Row(last.run, combined, last.note)


def _merge(trials: Sequence[list[Row]]) -> list[Row]:
    runs = len(trials[0])
    if len(trials) == 1 or any(len(rows) != runs for rows in trials):
        return trials[-1]
    return [_combine([rows[index] for rows in trials]) for index in range(runs)]


def run_tool(tool: Tool, pristine: Path, scratch: Path, args: argparse.Namespace) -> ToolResult:
    """All trials of one tool, each on a fresh copy of the pristine site."""
    trials: list[list[Row]] = []
    for trial in range(args.repeat):
        site = scratch / f"{tool.name}-{trial + 1}"
        shutil.copytree(pristine, site)
        trials.append(run_trial(tool, site, site.with_name(f"{site.name}-logs")))
        if len(trials[-1]) < len(RUNS):
            break
    return ToolResult(tool.name, _merge(trials))


def _available(tool: Tool, args: argparse.Namespace) -> str:
    """Empty when the tool can run, else why it cannot."""
    if tool.name not in args.tools:
        return "skipped (--tools)"
    if tool.name == "site_builder":
        return "" if site_builder_installed() else "not installed"
    if not args.peers:
        return "skipped (no --peers)"
    return "" if peers.is_installed() else "not installed"


def generate_sites(root: Path, flavours: Sequence[str], count: int, seed: int) -> dict[str, Path]:
    """One pristine site per flavour, all with the same articles."""
    sites = {flavour: root / f"pristine-{flavour}" for flavour in flavours}
    _progress(f"generating {count:,} articles for {', '.join(flavours)} ...")
    start = time.perf_counter()
    generate.write_sites(sites, count, seed)
    _progress(f"  generated in {time.perf_counter() - start:.1f} s")
    return sites


def bench_size(root: Path, count: int, args: argparse.Namespace) -> list[ToolResult]:
    """Every available tool on one site size."""
    problems = {tool.name: _available(tool, args) for tool in TOOLS}
    runnable = [tool for tool in TOOLS if not problems[tool.name]]
    if not runnable:
        return [ToolResult(tool.name, problem=problems[tool.name]) for tool in TOOLS]
    scratch = root / f"articles-{count}"
    sites = generate_sites(scratch, [tool.flavour for tool in runnable], count, args.seed)
    results = []
    for tool in TOOLS:
        if problems[tool.name]:
            results.append(ToolResult(tool.name, problem=problems[tool.name]))
        else:
            results.append(run_tool(tool, sites[tool.flavour], scratch, args))
    return results


def bench_huge(root: Path, args: argparse.Namespace) -> list[tuple[int, Measurement]]:
    """site_builder alone: one cold build per huge size."""
    measured: list[tuple[int, Measurement]] = []
    for count in HUGE_SIZES:
        scratch = root / f"huge-{count}"
        site = generate_sites(scratch, ["site_builder"], count, args.seed)["site_builder"]
        measurement, _ = build_site_builder(site, scratch / "cold.log")
        _progress(f"  site_builder cold {measurement.seconds:8.2f} s")
        measured.append((count, measurement))
        if not measurement.ok:
            _show_failure("site_builder", measurement)
            break
    return measured


# --- reporting ------------------------------------------------------------------


def _mem_total_gib() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def print_machine(args: argparse.Namespace) -> None:
    """What the figures were measured on."""
    versions = peers.versions() if args.peers else {}
    print(f"machine:      {len(os.sched_getaffinity(0))} CPUs (nproc), {_mem_total_gib()} RAM")
    print(f"platform:     {platform.platform()}")
    print(f"python:       {platform.python_version()} ({sys.executable})")
    print(f"site_builder: {site_builder_version()}")
    for peer, version in versions.items():
        print(f"{peer + ':':<13} {version}")
    print(f"seed:         {args.seed}, repeat {args.repeat} (median time, worst memory)")
    print_load()


def print_load() -> None:
    """Load average now: other work on the machine skews every figure."""
    load = os.getloadavg()
    cpus = len(os.sched_getaffinity(0))
    busy = "  << machine busy: figures unreliable" if load[0] > BUSY_LOAD * cpus else ""
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}{busy}")


def _row_text(tool: str, row: Row) -> str:
    m = row.measurement
    return (
        f"{tool:<13}{row.run:<7}{m.seconds:>9.2f}{m.cpu_seconds:>9.2f}"
        f"{m.peak_mib:>10.1f}{m.pages:>9,}{m.written:>10,}  {row.note}"
    ).rstrip()


def print_size(count: int, results: Sequence[ToolResult]) -> None:
    """The per-size table of figures and site_builder/peer ratios."""
    print(f"\n== {count:,} articles ==")
    print(
        f"{'tool':<13}{'run':<7}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}"
        f"{'pages':>9}{'written':>10}  note"
    )
    for result in results:
        if result.problem:
            print(f"{result.tool}: {result.problem}")
        for row in result.rows:
            print(_row_text(result.tool, row))
    print_check_ratio(results)
    print_ratios(results)


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0:
        return "-"
    return f"{ours / theirs:.2f}"


def _peak(result: ToolResult) -> float | None:
    """The highest peak over the builds every tool runs (not Pagefind's index)."""
    peaks = [
        row.measurement.peak_mib for row in result.rows if row.measurement.ok and row.run in RUNS
    ]
    return max(peaks) if peaks else None


def print_ratios(results: Sequence[ToolResult]) -> None:
    """site_builder's figure divided by each peer's, from this same run."""
    ours = results[0]
    measured_peers = [result for result in results[1:] if result.rows]
    if not ours.rows or not measured_peers:
        return
    print("site_builder / peer (below 1.00: site_builder faster or smaller)")
    print(f"{'peer':<13}" + "".join(f"{run:>9}" for run in RUNS) + f"{'peak MiB':>10}")
    for peer in measured_peers:
        times = [_ratio(_seconds(ours, run), _seconds(peer, run)) for run in RUNS]
        memory = _ratio(_peak(ours), _peak(peer))
        print(f"{peer.tool:<13}" + "".join(f"{t:>9}" for t in times) + f"{memory:>10}")


def print_check_ratio(results: Sequence[ToolResult]) -> None:
    """What the checks add to a whole build, from this same run."""
    ours = results[0]
    check, clean = _seconds(ours, "check"), _seconds(ours, "clean")
    if check is not None and clean is not None:
        print(f"site_builder build --clean --check / build --clean: {_ratio(check, clean)}")


def _seconds(result: ToolResult, run: str) -> float | None:
    measurement = result.get(run)
    return measurement.seconds if measurement else None


def print_huge(measured: Sequence[tuple[int, Measurement]]) -> None:
    """Cold builds at growing sizes and how far they stray from linear."""
    print("\n== site_builder alone, cold builds of huge sites ==")
    print(
        f"{'articles':>9}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'pages':>9}"
        f"{'ms/article':>12}{'vs linear':>11}"
    )
    base_count, base = measured[0]
    for count, m in measured:
        if not m.ok:
            print(f"{count:>9,}  FAILED exit {m.returncode}, log {m.log}")
            continue
        # 1.00 means time grew in proportion to size; above 1 is superlinear.
        linear = (m.seconds / base.seconds) / (count / base_count) if base.ok else 0.0
        print(
            f"{count:>9,}{m.seconds:>9.2f}{m.cpu_seconds:>9.2f}{m.peak_mib:>10.1f}"
            f"{m.pages:>9,}{1000 * m.seconds / count:>12.3f}{linear:>11.2f}"
        )


# --- command line ---------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--articles",
        type=int,
        nargs="+",
        default=[1000, 10000],
        metavar="N",
        help="site sizes (default: 1000 10000)",
    )
    parser.add_argument(
        "--peers", action="store_true", help="also run Hugo and Pelican (installed on first use)"
    )
    parser.add_argument(
        "--huge", action="store_true", help="site_builder alone on 25,000, 50,000 and 100,000"
    )
    names = [tool.name for tool in TOOLS]
    parser.add_argument(
        "--tools", nargs="+", choices=names, default=names, help="run only these builders"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--repeat", type=int, default=1, help="trials per tool and size; reports the median time"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to generate and build (default: a temp dir)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep generated sites, outputs and logs"
    )
    args = parser.parse_args(argv)
    if min(args.articles) < 1 or args.repeat < 1:
        parser.error("--articles and --repeat must be at least 1")
    if args.workdir and args.workdir.exists() and any(args.workdir.iterdir()):
        parser.error(f"{args.workdir} is not empty")
    return args


@contextlib.contextmanager
def _workdir(args: argparse.Namespace) -> Iterator[Path]:
    """The folder of every site, output and log; removed only at the end. On ext4, for
    a minute or more after many files are deleted, making a file costs several times
    as much (the allocator skips the inodes just freed): a cold build of 10,000
    articles timed right after deleting the last one's 75,000 files took 24.8 s
    instead of 20.9 s, 5.6 CPU-seconds more of it in the kernel."""
    root = args.workdir or Path(tempfile.mkdtemp(prefix="site-builder-bench-"))
    root = root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    finally:
        if args.keep:
            _progress(f"kept sites, outputs and logs in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run_huge(root: Path, args: argparse.Namespace) -> None:
    """The --huge table, or why there is none."""
    if not site_builder_installed():
        print("\n== huge sites ==\nsite_builder: not installed")
        return
    print_huge(bench_huge(root, args))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the requested benchmarks and print their tables."""
    args = _parse_args(argv)
    # Turn a kill into SystemExit so the work directory is still removed.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    if args.peers and not peers.is_installed():
        _progress(f"installing {', '.join(peers.REQUIREMENTS)} into {peers.VENV} ...")
        peers.install()
    if site_builder_installed():
        compile_site_builder()
    print_machine(args)
    with _workdir(args) as root:
        for count in args.articles:
            print_size(count, bench_size(root, count, args))
            sys.stdout.flush()
        if args.huge and "site_builder" in args.tools:
            run_huge(root, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
