"""Run one build command and measure wall time, CPU time, peak memory and output.

Peak memory comes from `getrusage(RUSAGE_CHILDREN)` taken in a fresh wrapper
process (this file run as a script), whose only children are the build and its
descendants: `ru_maxrss` is then the peak resident set of the largest single
process of that build, unpolluted by earlier builds run from the benchmark.

The wrapper makes itself a child subreaper (Linux prctl) and reaps every orphan
the build leaves.  Without that, processes the build never waits for, such as a
multiprocessing forkserver and its pool workers, are reparented to init, and
their memory and CPU time vanish from the figures.  `/usr/bin/time -v` has the
same blind spot.

    python benchmarks/measure.py RESULT.json -- COMMAND [ARG ...]
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

COMMAND_NOT_FOUND = 127
MIN_WRAPPER_ARGS = 3  # RESULT.json, "--", COMMAND
PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
ORPHAN_GRACE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one build cost and what it left in the output directory."""

    seconds: float  # wall clock of the build process tree
    cpu_seconds: float  # user + system over the whole tree (shows parallelism)
    peak_mib: float  # peak RSS of the largest single process
    pages: int  # .html files in the output after the build
    files: int  # all files in the output after the build
    written: int  # files created or rewritten by this build
    returncode: int
    log: Path
    leftover: int = 0  # descendants still running after the grace period

    @property
    def ok(self) -> bool:
        """Whether the build exited cleanly."""
        return self.returncode == 0


@dataclass(frozen=True, slots=True)
class OutputScan:
    """Counts over an output tree relative to a start time."""

    pages: int
    files: int
    fresh: tuple[Path, ...]


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    # scandir reuses the directory read's stat data: a pathlib walk over
    # 200,000 output files costs several seconds more.
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                else:
                    yield entry


def scan_output(output: Path, since_ns: int) -> OutputScan:
    """Count pages and files, and list those modified at or after `since_ns`."""
    if not output.is_dir():
        return OutputScan(0, 0, ())
    pages = files = 0
    fresh: list[Path] = []
    for entry in _walk(output):
        files += 1
        pages += entry.name.endswith(".html")
        if entry.stat(follow_symlinks=False).st_mtime_ns >= since_ns:
            fresh.append(Path(entry.path))
    return OutputScan(pages, files, tuple(fresh))


def _start_stamp(log: Path) -> int:
    """Truncate the log and return its mtime as the build's start time.

    Using a file's mtime rather than time.time_ns() compares like with like: the
    kernel stamps files from a coarser clock that can lag the wall clock.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    return log.stat().st_mtime_ns


def run_measured(
    command: Sequence[str], *, cwd: Path, output: Path, log: Path
) -> tuple[Measurement, tuple[Path, ...]]:
    """Run `command` in a fresh wrapper; return figures and the files it wrote."""
    since = _start_stamp(log)
    result_file = log.with_suffix(".result.json")
    wrapper = [sys.executable, str(Path(__file__).resolve()), str(result_file), "--"]
    with log.open("ab") as sink:
        subprocess.run(
            [*wrapper, *command], cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, check=True
        )
    result = json.loads(result_file.read_text(encoding="utf-8"))
    scan = scan_output(output, since)
    measurement = Measurement(
        seconds=result["seconds"],
        cpu_seconds=result["cpu_seconds"],
        peak_mib=result["maxrss_kib"] / 1024,
        pages=scan.pages,
        files=scan.files,
        written=len(scan.fresh),
        returncode=result["returncode"],
        log=log,
        leftover=result["leftover_processes"],
    )
    return measurement, scan.fresh


def _become_subreaper() -> bool:
    """Adopt the build's orphans so their rusage is counted; Linux only."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _reap_orphans() -> int:
    """Wait for adopted descendants to exit; return how many outlived the grace."""
    deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            time.sleep(0.01)
    # Left running, so not counted: a daemon a build should not have left behind.
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    try:
        return len(children.read_text(encoding="ascii").split())
    except OSError:
        return -1  # some left, number unknown


def _wrap(result_file: Path, command: Sequence[str]) -> int:
    """Body of the wrapper process: run the build, record its cost."""
    subreaper = _become_subreaper()
    start = time.perf_counter()
    try:
        returncode = subprocess.run(command, check=False).returncode
    except FileNotFoundError as error:
        print(f"measure.py: {error}", file=sys.stderr)
        returncode = COMMAND_NOT_FOUND
    # Wall time ends with the build's main process; orphans only add rusage.
    seconds = time.perf_counter() - start
    leftover = _reap_orphans() if subreaper else 0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,  # kibibytes on Linux
        "returncode": returncode,
        "subreaper": subreaper,
        "leftover_processes": leftover,
    }
    result_file.write_text(json.dumps(result), encoding="utf-8")
    return 0


def main(argv: Sequence[str]) -> int:
    """Wrapper entry point: `RESULT.json -- COMMAND ...`."""
    if len(argv) < MIN_WRAPPER_ARGS or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    return _wrap(Path(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
