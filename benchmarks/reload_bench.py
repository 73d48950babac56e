"""Reload benchmark: from saving one article to the reload event reaching a browser.

For each size, a seeded site (benchmarks/generate.py) is served by
`site-builder serve` in its own process; a Server-Sent Events client connects as a
browser's EventSource does, then the benchmark edits one article at a time and
times the save (the write) to the arrival of the `reload` event naming that page.
Where Hugo is installed (benchmarks/peers.py), `hugo server` gets the same edits
on the same articles, timed to its LiveReload WebSocket `reload` message.

    python benchmarks/reload_bench.py [--articles 1000 10000] [--edits 20] [--no-hugo]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import math
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import generate
import peers

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 3600.0  # the first build of a large site takes minutes on a slow disk
EVENT_TIMEOUT = 300.0
SETTLE = 0.5  # pause after each reload, so that edits do not overlap
WARMUP = 2  # edits made first and not counted: the first rebuild fills caches

# `site-builder serve` before cli.py wires it in: the same calls cmd_serve makes.
DRIVER = """
import sys
from pathlib import Path
from site_builder.cli import build_time
from site_builder.config import is_ignored
from site_builder.serve import PreviewOptions, run
from site_builder.watch import Watcher

def watch(preview):
    return Watcher(preview.root,
                   lambda b: preview.rebuild(b.describe(), reload_config=b.config_changed),
                   ignore=is_ignored, output=preview.output_dir)

run(PreviewOptions(root=Path(sys.argv[1]), port=0, jobs=int(sys.argv[2])),
    clock=build_time, watch=watch)
"""


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(slots=True)
class Series:
    """Save-to-reload times of one tool at one size, or why there are none."""

    tool: str
    seconds: list[float] = field(default_factory=list)
    builds: list[float] = field(default_factory=list)  # the rebuilds' own times, as logged
    startup: float | None = None
    problem: str = ""

    def median(self) -> float:
        return statistics.median(self.seconds)

    def p95(self) -> float:
        """Nearest-rank 95th percentile: a time that 95 % of the edits did not exceed."""
        ranked = sorted(self.seconds)
        return ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)]


# --- a server in its own process ---------------------------------------------------


class Server:
    """A child process whose output is read in the background, line by line."""

    def __init__(self, command: Sequence[str], cwd: Path) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip())
            self.lines.put(line)
        self.lines.put("")

    def wait_for(self, marker: str, timeout: float) -> str:
        """The first output line containing ``marker``."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if marker in line:
                return line
            if not line:
                raise RuntimeError("server exited:\n" + "\n".join(self.log[-20:]))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


# --- clients: EventSource and LiveReload -----------------------------------------------


class EventSource:
    """Reads Server-Sent Events as a browser does, without running any page."""

    def __init__(self, host: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=EVENT_TIMEOUT)
        self.conn.request("GET", "/__site_builder__/events")
        self.reply = self.conn.getresponse()

    def next(self) -> tuple[str, dict[str, object]]:
        fields: dict[str, str] = {}
        while True:
            line = self.reply.readline().decode("utf-8")
            if not line:
                raise EOFError("event stream closed")
            if line == "\n" and "event" in fields:
                return fields["event"], json.loads(fields["data"])
            if line != "\n" and not line.startswith(":"):
                key, _, value = line.rstrip("\n").partition(": ")
                fields[key] = value

    def reload_for(self, page: str) -> None:
        while True:
            name, data = self.next()
            files = data.get("files", [])
            if name == "reload" and (data.get("all") or page in files):  # type: ignore[operator]
                return
            if name == "error":
                raise RuntimeError(f"build failed: {data}")

    def close(self) -> None:
        self.reply.close()
        self.conn.close()


class LiveReload:
    """A minimal WebSocket client for Hugo's LiveReload endpoint (RFC 6455, text only)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=EVENT_TIMEOUT)
        self.stream = self.sock.makefile("rb")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /livereload HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n\r\n".encode()
        )
        status = self.stream.readline()
        while self.stream.readline() not in (b"\r\n", b""):
            pass
        if b" 101 " not in status:
            raise RuntimeError(f"LiveReload handshake failed: {status!r}")
        hello = {"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}
        self.send(json.dumps(hello))

    def send(self, text: str, opcode: int = 1) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        if size < 126:
            head = bytes([0x80 | opcode, 0x80 | size])
        else:
            head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def next(self) -> dict[str, object]:
        while True:
            first, second = self.stream.read(2)
            size = second & 0x7F
            if size >= 126:
                size = int.from_bytes(self.stream.read(2 if size == 126 else 8), "big")
            payload = self.stream.read(size)
            opcode = first & 0x0F
            if opcode == 8:
                raise EOFError("LiveReload closed")
            if opcode == 9:
                self.send(payload.decode(errors="replace"), opcode=10)
            elif opcode == 1:
                message: dict[str, object] = json.loads(payload)
                return message

    def reload_for(self, page: str) -> None:
        while self.next().get("command") != "reload":
            pass

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


# --- the edits ---------------------------------------------------------------------


def pick_articles(site: Path, flavour: str, count: int) -> list[Path]:
    """``count`` articles spread evenly over the site (the same slugs in every flavour)."""
    articles = sorted((site / generate.CONTENT_SUBDIR[flavour]).glob("*.md"))
    step = max(1, len(articles) // count)
    return [articles[(i * step + step // 2) % len(articles)] for i in range(count)]


def save(path: Path, number: int) -> None:
    """What an editor's save amounts to: the file's new bytes, written in one go."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + f"\nReload benchmark edit number {number}.\n", encoding="utf-8")


def time_edits(
    client: EventSource | LiveReload, articles: Sequence[Path], page_of: Callable[[Path], str]
) -> list[float]:
    times: list[float] = []
    for number, path in enumerate(articles):
        started = time.perf_counter()
        save(path, number)
        client.reload_for(page_of(path))
        times.append(time.perf_counter() - started)
        time.sleep(SETTLE)
    return times[WARMUP:]


# --- the tools ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_has_serve() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "serve", "--help"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def serve_command(site: Path, jobs: int) -> list[str]:
    if cli_has_serve():
        command = [sys.executable, "-m", "site_builder", "serve", "--source", str(site)]
        return [*command, "--port", "0", "--jobs", str(jobs)]
    return [sys.executable, "-c", DRIVER, str(site), str(jobs)]


def bench_site_builder(site: Path, edits: int, jobs: int) -> Series:
    series = Series("site_builder")
    started = time.perf_counter()
    server = Server(serve_command(site, jobs), cwd=REPO)
    try:
        line = server.wait_for("Serving", START_TIMEOUT)
        series.startup = time.perf_counter() - started
        host, port = line.split(" at ", 1)[1].split()[0][7:].rstrip("/").rsplit(":", 1)
        client = EventSource(host, int(port))
        try:
            client.next()  # the current state comes first
            articles = pick_articles(site, "site_builder", edits + WARMUP)
            series.seconds = time_edits(client, articles, lambda p: f"articles/{p.stem}/index.html")
        finally:
            client.close()
        series.builds = build_seconds(server.log)[WARMUP:]
    except (RuntimeError, OSError, queue.Empty) as exc:
        series.problem = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    return series


def build_seconds(log: Sequence[str]) -> list[float]:
    """The times of the rebuilds, from lines like "Rebuilt 13 files in 2.10 s (...)"."""
    found = (re.search(r"^Rebuilt .* in ([0-9.]+) s", line) for line in log)
    return [float(match[1]) for match in found if match]


def bench_hugo(site: Path, edits: int) -> Series:
    series = Series("hugo server")
    hugo = peers.hugo_binary()
    if hugo is None:
        series.problem = "not installed"
        return series
    port = free_port()
    command = [str(hugo), "server", "--source", str(site), "--bind", "127.0.0.1"]
    started = time.perf_counter()
    server = Server([*command, "--port", str(port)], cwd=site)
    try:
        server.wait_for("Web Server is available", START_TIMEOUT)
        series.startup = time.perf_counter() - started
        client = LiveReload("127.0.0.1", port)
        try:
            articles = pick_articles(site, "hugo", edits + WARMUP)
            series.seconds = time_edits(client, articles, lambda p: p.stem)
        finally:
            client.close()
    except (RuntimeError, OSError, queue.Empty) as exc:
        series.problem = f"{type(exc).__name__}: {exc}"
    finally:
        server.stop()
    return series


# --- report ------------------------------------------------------------------------


def row(count: int, series: Series) -> str:
    start = f"{series.startup:8.1f} s" if series.startup is not None else " " * 10
    if series.problem or not series.seconds:
        return f"{count:>8}  {series.tool:<13} {start}  {series.problem or 'no data'}"
    return (
        f"{count:>8}  {series.tool:<13} {start}  {series.median() * 1000:8.0f} ms"
        f"  {series.p95() * 1000:8.0f} ms  {min(series.seconds) * 1000:8.0f} ms"
        f"  {max(series.seconds) * 1000:8.0f} ms  {len(series.seconds):>5}"
    )


def print_report(results: Sequence[tuple[int, Series]], args: argparse.Namespace) -> None:
    print(f"\nSave-to-reload, one article edit at a time ({WARMUP} warm-up edits not counted)")
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}; site-builder --jobs {args.jobs}")
    print(f"hugo: {peers.versions()['hugo']}")
    header = f"{'articles':>8}  {'tool':<13} {'startup':>10}  {'median':>11}  {'p95':>11}"
    print(header + f"  {'min':>11}  {'max':>11}  {'edits':>5}")
    for count, series in results:
        print(row(count, series))
    for count, series in results:
        if series.builds and len(series.builds) == len(series.seconds):
            build = statistics.median(series.builds)
            rest = statistics.median(
                t - b for t, b in zip(series.seconds, series.builds, strict=True)
            )
            print(
                f"{series.tool} at {count} articles: median rebuild {build * 1000:.0f} ms; "
                f"the rest (watch, debounce, event) median {rest * 1000:.0f} ms"
            )
    for count, series in results:
        if series.tool == "site_builder" and series.seconds:
            verdict = "met" if series.median() <= 0.3 else "NOT met"
            print(f"target median <= 300 ms at {count} articles: {verdict}")


# --- main --------------------------------------------------------------------------


def bench_size(root: Path, count: int, args: argparse.Namespace) -> list[tuple[int, Series]]:
    results: list[tuple[int, Series]] = []
    site = root / f"site_builder-{count}"
    generate.write_sites({"site_builder": site}, count, args.seed)
    _progress(f"{count} articles: site_builder (first build, then {args.edits} edits) ...")
    results.append((count, bench_site_builder(site, args.edits, args.jobs)))
    if not args.no_hugo:
        hugo_site = root / f"hugo-{count}"
        generate.write_sites({"hugo": hugo_site}, count, args.seed)
        _progress(f"{count} articles: hugo server ...")
        results.append((count, bench_hugo(hugo_site, args.edits)))
    for _, series in results[-2:]:
        _progress(f"  {row(count, series)}")
    return results


@contextlib.contextmanager
def workdir(args: argparse.Namespace) -> Iterator[Path]:
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        yield args.workdir
        return
    folder = Path(tempfile.mkdtemp(prefix="reload-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--edits", type=int, default=20, help="timed edits per size (>= 20)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-hugo", action="store_true", help="site_builder only")
    parser.add_argument("--workdir", type=Path, help="keep the generated sites here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    results: list[tuple[int, Series]] = []
    with workdir(args) as root:
        for count in args.articles:
            results += bench_size(root, count, args)
    print_report(results, args)
    return 0 if all(not s.problem for _, s in results) else 1


if __name__ == "__main__":
    sys.exit(main())
