"""The preview server under load and attack, over real HTTP on 127.0.0.1 only.

Every test is bounded: at most ``BUDGET`` seconds of traffic, a fixed number of
clients and requests, sockets with timeouts, and nothing but the loopback address.
While clients fetch pages, the site is rebuilt back and forth between two versions:
each page must come whole from one build, never a 5xx, never a file from outside
output/. Idle half-open connections, malformed requests and a crowd of event
streams must not stop the server from answering everyone else.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from site_builder.serve import PreviewOptions, PreviewServer
from tests.conftest import FIXED_NOW, SITE_TOML, MakeSite, article, write_files

HOST = "127.0.0.1"  # never any other address
BUDGET = 30.0  # seconds of traffic per test, at most
TIMEOUT = 10.0
CLIENTS = 50
REQUESTS_EACH = 40
SECRET = "SECRET-LOAD-5e2d"
ARTICLES = 12
ATTACKS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%5csecret.txt",
    "/articles/..%2f..%2fsecret.txt",
    "/%00",
    "/.site-builder-output",
    "/%2esite-builder-output",
    "//etc/passwd",
    "/" + "a/" * 2_000,
    "/%ff%fe",
    "/articles/story-0",  # a folder without its slash: a redirect
    "/no/such/page/",
]


def version_files(version: str) -> dict[str, str]:
    files = {
        f"content/articles/story-{n}.md": article(f"Story {n} v{version}", f"2026-11-{10 + n}")
        for n in range(ARTICLES)
    }
    return {"site.toml": SITE_TOML.replace("Test Digest", f"Load test {version}"), **files}


@pytest.fixture
def preview(make_site: MakeSite) -> Iterator[PreviewServer]:
    root = make_site(version_files("A"))
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    server = PreviewServer(
        PreviewOptions(root=root, host=HOST, port=0), clock=lambda: FIXED_NOW, log=lambda _: None
    )
    server.start()
    try:
        assert server.rebuild()
        yield server
    finally:
        server.close()


def get(port: int, target: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        conn.request("GET", target)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def pages(output: Path) -> list[str]:
    return sorted(
        "/" + p.relative_to(output).as_posix().removesuffix("index.html")
        for p in output.rglob("*.html")
    )


def check_reply(target: str, status: int, body: bytes) -> str:
    """What a reply was; fails on anything a reader must never see."""
    assert status < 500, (target, status)
    assert SECRET.encode() not in body, target
    if status != 200 or not target.endswith("/"):
        return str(status)
    text = body.decode("utf-8")
    assert text.rstrip().endswith("</html>"), f"{target}: a page cut short"
    versions = set(re.findall(r"Load test ([AB])", text))
    assert len(versions) == 1, f"{target}: parts of two builds {versions}"
    return f"page {versions.pop()}"


def client(port: int, targets: list[str], seed: int, stop: float) -> Counter[str]:
    rng = random.Random(seed)
    seen: Counter[str] = Counter()
    for _ in range(REQUESTS_EACH):
        if time.monotonic() > stop:
            break
        target = rng.choice(targets)
        seen[check_reply(target, *get(port, target))] += 1
    return seen


def open_handles() -> tuple[int, int]:
    return threading.active_count(), sum(1 for _ in Path("/proc/self/fd").iterdir())


def settled(before: tuple[int, int]) -> tuple[int, int]:
    """Threads and file handles once the clients are gone (waiting for them to wind down)."""
    deadline = time.monotonic() + TIMEOUT
    now = open_handles()
    while (now[0] > before[0] or now[1] > before[1]) and time.monotonic() < deadline:
        time.sleep(0.1)
        now = open_handles()
    return now


def test_pages_stay_whole_under_load_while_the_site_is_rebuilt(preview: PreviewServer) -> None:
    before = open_handles()
    stop = time.monotonic() + BUDGET
    targets = pages(preview.output_dir) + ATTACKS
    done = threading.Event()
    rebuilds = Counter[bool]()

    def rebuild_back_and_forth() -> None:
        version = "B"
        while not done.is_set() and time.monotonic() < stop:
            write_files(preview.root, version_files(version))
            rebuilds[preview.rebuild("edit", reload_config=True)] += 1
            version = "A" if version == "B" else "B"

    builder = threading.Thread(target=rebuild_back_and_forth)
    builder.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            runs = [pool.submit(client, preview.port, targets, n, stop) for n in range(CLIENTS)]
            seen = sum((r.result() for r in runs), Counter[str]())
    finally:
        done.set()
        builder.join(TIMEOUT)
    assert rebuilds[True] >= 2 and rebuilds[False] == 0, rebuilds
    assert seen["page A"] > 0 and seen["page B"] > 0, seen
    after = settled(before)
    assert after[0] <= before[0] and after[1] <= before[1], ("leaked", before, after)
    assert seen["400"] > 0 and seen["404"] > 0, seen


IDLE_CLIENT = """
import socket, sys, time
port, count, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
held, stop = [], time.monotonic() + budget
while len(held) < count and time.monotonic() < stop:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n")  # and never the blank line
    held.append(sock)
print("holding", len(held), flush=True)
sys.stdin.read()  # until the test is done
"""
IDLE = 200


def test_idle_half_open_connections_do_not_starve_other_clients(preview: PreviewServer) -> None:
    """Connections that never finish their request, from a process of their own: all are
    accepted within the budget (a listen backlog of 5 drops connections in a burst, and
    each dropped one waits a second for TCP to retry), and other clients are answered."""
    with subprocess.Popen(
        [sys.executable, "-c", IDLE_CLIENT, str(preview.port), str(IDLE), str(BUDGET)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == f"holding {IDLE}\n"
            status, body = get(preview.port, "/")
            assert status == 200 and b"Load test A" in body
        finally:
            holder.kill()


MALFORMED = [
    b"\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(150)) + b"\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc",
    b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello
]


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65_536):
            reply += chunk
        return reply


@pytest.mark.parametrize("data", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_requests_get_an_error_and_the_server_goes_on(
    preview: PreviewServer, data: bytes
) -> None:
    reply = raw(preview.port, data)
    # A request line http.server cannot read gets an HTTP/0.9 answer: the error page alone.
    status = re.match(rb"HTTP/1\.[01] (\d{3})", reply) or re.search(rb"Error code: (\d{3})", reply)
    assert reply == b"" or status is not None, reply[:200]
    assert status is None or int(status[1]) != 500, reply[:200]  # no internal error
    assert SECRET.encode() not in reply
    assert get(preview.port, "/")[0] == 200


def test_a_crowd_of_event_streams_all_hear_a_rebuild_and_close(preview: PreviewServer) -> None:
    streams = []
    try:
        for _ in range(60):
            conn = http.client.HTTPConnection(HOST, preview.port, timeout=TIMEOUT)
            conn.request("GET", "/__site_builder__/events")
            streams.append((conn, conn.getresponse()))
        write_files(preview.root, version_files("B"))
        assert preview.rebuild("edit", reload_config=True)
        for _, reply in streams:
            assert b"event: reload" in read_until(reply, b"event: reload")
        assert get(preview.port, "/")[0] == 200
    finally:
        for conn, _ in streams:
            conn.close()


def read_until(reply: http.client.HTTPResponse, marker: bytes) -> bytes:
    seen = b""
    stop = time.monotonic() + BUDGET
    while marker not in seen and time.monotonic() < stop:
        line = reply.readline()
        if not line:
            break
        seen += line
    return seen
