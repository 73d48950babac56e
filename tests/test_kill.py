"""A build killed with SIGKILL at a random moment leaves output/ whole: old site or new.

A site of ``ARTICLES`` articles is built (site A), then edited (site B: another title
in site.toml, so every page changes, plus edited, removed and added articles). Each
trial starts ``site-builder build`` towards the other site, sleeps a random time
within a build's measured duration, and kills it; every fourth trial instead waits
until the build is writing (its staging folder exists) and kills it within 50 ms
(5 ms after a text edit), because an incremental build writes for only a few percent
of its time. Then every file of output/ must match a clean build of A or of B, byte
for byte: never a mix, never a missing file.
Three modes are tried, ``TRIALS`` times each (150 kills in all): full builds
(``--clean``), the default incremental builds, and incremental builds after text
edits only (site B then differs in ten stories' second paragraph, saved alone: the
build that renders those stories without planning the site). The next complete
build removes every staging folder left behind.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from site_builder.build import build
from site_builder.config import load_config
from site_builder.writer import MARKER, _exchange
from tests.conftest import FIXED_NOW, REPO

ARTICLES = 100  # ~350 files: a build takes ~0.6 s, the writing a good part of it
TRIALS = 50  # per mode, so 150 kills in all; two workers run side by side, one per core
WORKERS = 2
TAGS = ("ai", "chips", "linux", "security", "cloud", "mobile", "space", "energy")
Digests = dict[str, str]


def config_text(title: str) -> str:
    # No search index: Pagefind runs after the swap, outside what these kills test.
    return (
        f'title = "{title}"\nbase_url = "https://kill.example.org/"\ntimezone = "UTC"\n'
        "search = false\n"
    )


def story(i: int, edited: bool = False, *, text_only: bool = False) -> str:
    tags = ", ".join(TAGS[(i + k) % len(TAGS)] for k in range(2))
    words = "Rewritten" if edited and not text_only else "Paragraph"
    more = "More *text*, said again," if edited and text_only else "More *text*"
    retitled = " (updated)" if edited and not text_only else ""
    return (
        f"---\ntitle: Story {i}{retitled}\n"
        f"date: 2026-{1 + i % 10:02d}-{1 + i % 28:02d} {i % 24:02d}:00\n"
        f"tags: [{tags}]\ncategory: desk {i % 4}\n---\n\n"
        f"{words} about story {i}.\n\n## Details\n\n{more} for story {i}.\n"
    )


def write_version(root: Path, version: str, *, text_only: bool = False) -> None:
    """Site A, or site B: new title, 10 stories edited, 5 removed, 5 added; with
    ``text_only``, 10 stories' second paragraph edited and nothing else."""
    articles = root / "content" / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    b = version == "B"
    title = "Kill test" if text_only else f"Kill test {version}"
    save(root / "site.toml", config_text(title))
    for i in range(ARTICLES + 5):
        path = articles / f"story-{i:04d}.md"
        present = i < ARTICLES - 5 or (i >= ARTICLES if b and not text_only else i < ARTICLES)
        if present:
            save(path, story(i, edited=b and i < 10, text_only=text_only))
        else:
            path.unlink(missing_ok=True)


def save(path: Path, text: str) -> None:
    """Write ``text`` unless the file holds it: an unchanged file keeps its stat."""
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def digests(folder: Path) -> Digests:
    """Every file below ``folder`` (hidden ones included) and the digest of its bytes."""
    found: Digests = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return found


def leftovers(root: Path) -> list[str]:
    """Folders a killed build left beside output/; the spare (the previous site) is kept."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.name.startswith(".output.") and p.name != ".output.spare"
    )


def cli(root: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "site_builder",
        "build",
        "--source",
        str(root),
        "--jobs",
        "1",
        *extra,
    ]


def environment() -> dict[str, str]:
    # The repository's code, at the fixed build time the reference builds use.
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SOURCE_DATE_EPOCH": str(int(FIXED_NOW.timestamp())),
    }


def finish(root: Path, mode: tuple[str, ...], *, planned: bool | None = None) -> float:
    """Build to the end; with ``planned``, check whether the site was planned again."""
    started = time.monotonic()
    done = subprocess.run(cli(root, *mode), env=environment(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    if planned is not None:
        assert (b"text edits only" not in done.stdout) == planned, done.stdout.decode()
    return time.monotonic() - started


@dataclass
class Worker:
    """One site and its trials; two run at once, one per core."""

    root: Path
    mode: tuple[str, ...]
    reference: dict[str, Digests]
    seed: int
    text_only: bool = False
    outcomes: Counter[str] = field(default_factory=Counter)

    def prepare(self) -> tuple[float, float]:
        """Build A, then B: how long the interpreter takes to start, and a whole build."""
        write_version(self.root, "A", text_only=self.text_only)
        finish(self.root, self.mode)
        write_version(self.root, "B", text_only=self.text_only)
        duration = finish(self.root, self.mode, planned=not self.text_only)
        started = time.monotonic()
        importing = [sys.executable, "-c", "import site_builder.cli"]
        subprocess.run(importing, env=environment(), check=True)
        return time.monotonic() - started, duration

    def current(self) -> str:
        got = digests(self.root / "output")
        for version, expected in self.reference.items():
            if got == expected:
                return version
        return self.explain(got)

    def explain(self, got: Digests) -> str:
        a, b = self.reference["A"], self.reference["B"]
        mixed = sorted(p for p in got if got[p] not in (a.get(p), b.get(p)))
        only_a = sum(1 for p in got if got[p] == a.get(p) != b.get(p))
        only_b = sum(1 for p in got if got[p] == b.get(p) != a.get(p))
        missing = sorted(set(a) & set(b) - set(got))
        pytest.fail(
            f"output/ is neither site A nor site B (seed {self.seed}): {only_a} files of A, "
            f"{only_b} of B, {len(mixed)} of neither (e.g. {mixed[:3]}), "
            f"{len(missing)} missing (e.g. {missing[:3]})"
        )

    def run(self, trials: int) -> None:
        rng = random.Random(self.seed)
        startup, duration = self.prepare()
        now = self.current()
        for trial in range(trials):
            write_version(self.root, "B" if now == "A" else "A", text_only=self.text_only)
            process = subprocess.Popen(
                cli(self.root, *self.mode),
                env=environment(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if trial % 4 == 3:
                self.wait_until_writing(process)
                # A text edit's build writes for a few milliseconds, a whole site's longer.
                time.sleep(rng.uniform(0, 0.005 if self.text_only else 0.05))
            else:
                # Past the interpreter's start (nothing to kill there), to a little beyond
                # the measured duration, so that some builds finish on a busier machine.
                time.sleep(rng.uniform(min(startup, duration / 2), startup + duration * 1.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
            if leftovers(self.root):
                self.outcomes["left a staging folder"] += 1
            if not (self.root / "output").exists() and not exchange_works(self.root):
                # Without an atomic exchange there is an instant with no output/; the
                # previous site waits beside it and the next build puts it back.
                self.outcomes["output moved aside"] += 1
                finish(self.root, self.mode)
            before, now = now, self.current()
            self.outcomes["kept the old site" if now == before else "has the new site"] += 1

    def wait_until_writing(self, process: subprocess.Popen[bytes]) -> None:
        while process.poll() is None and not leftovers(self.root):
            time.sleep(0.001)


def exchange_works(folder: Path) -> bool:
    a, b = folder / ".probe-a", folder / ".probe-b"
    a.mkdir(exist_ok=True)
    b.mkdir(exist_ok=True)
    try:
        return _exchange(a, b)
    finally:
        a.rmdir()
        b.rmdir()


def reference_builds(root: Path, *, text_only: bool = False) -> dict[str, Digests]:
    """Clean builds of A and B into folders of their own, in this process."""
    found = {}
    for version in ("A", "B"):
        write_version(root, version, text_only=text_only)
        output = root.parent / f"reference-{version}"
        build(load_config(root, output=output), now=FIXED_NOW, jobs=1, incremental=False)
        found[version] = digests(output)
    assert found["A"] != found["B"] and MARKER in found["A"]
    return found


@pytest.mark.parametrize(
    ("mode", "text_only"),
    [(("--clean",), False), ((), False), ((), True)],
    ids=["full-builds", "incremental-builds", "text-edit-builds"],
)
def test_sigkill_at_random_moments_leaves_old_or_new_site(
    mode: tuple[str, ...], text_only: bool, tmp_path: Path
) -> None:
    reference = reference_builds(tmp_path / "reference" / "site", text_only=text_only)
    seed = int(os.environ.get("KILL_TEST_SEED", random.randrange(1 << 30)))
    workers = [
        Worker(tmp_path / f"site-{n}", mode, reference, seed + n, text_only=text_only)
        for n in range(WORKERS)
    ]
    with ThreadPoolExecutor(WORKERS) as pool:
        for done in [pool.submit(w.run, TRIALS // WORKERS) for w in workers]:
            done.result()
    outcomes = sum((w.outcomes for w in workers), Counter[str]())
    # The kills landed both before and after the swap, and some during the writing.
    assert outcomes["kept the old site"] + outcomes["has the new site"] == TRIALS
    assert outcomes["kept the old site"] > 0 and outcomes["has the new site"] > 0, outcomes
    assert outcomes["left a staging folder"] > 0, outcomes
    for worker in workers:
        finish(worker.root, mode)
        assert leftovers(worker.root) == [], "the next build removes what killed builds left"
        assert worker.current() in ("A", "B")
        hidden = [p for p in digests(worker.root / "output") if "/." in f"/{p}" and p != MARKER]
        assert hidden == [], "no temporary files inside output/"
