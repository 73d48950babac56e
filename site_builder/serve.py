"""Preview server: the last good build of ``output/`` over HTTP, with live reload.

Input: a site folder and how to serve it (``PreviewOptions``); rebuild requests from
the watcher (wired by ``cli``). Output: HTTP responses, and Server-Sent Events that
tell open pages to reload, swap a stylesheet, or show the errors of a failed build.

The reload script is injected into HTML as it is served, never written to
``output/``. Requests wait while a build runs, so a page and its stylesheet always
come from the same complete build.
"""

from __future__ import annotations

import contextlib
import errno
import json
import mimetypes
import queue
import secrets
import socket
import socketserver
import sys
import threading
import time
import webbrowser
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, unquote, urlsplit

from site_builder.config import SiteConfig, load_config
from site_builder.errors import BuildFailed, SiteError
from site_builder.fresh import BuildResult
from site_builder.live import LiveBuild

PREFIX = "/__site_builder__/"
SCRIPT_PATH = PREFIX + "reload.js"
EVENTS_PATH = PREFIX + "events"
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing the stream
_HISTORY = 64  # events kept for pages that connect late (see _Events.subscribe)
_WILDCARDS = ("", "0.0.0.0", "::")
# Live reload, injected into pages as they are served: a file of its own, read once.
RELOAD_JS = (Path(__file__).parent / "reload.js").read_bytes()

Log = Callable[[str], None]


class ServeError(SiteError):
    """The preview server cannot start, e.g. because its port is taken."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewOptions:
    """What ``site-builder serve`` was asked to do."""

    root: Path
    output: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = False
    future: bool = False
    jobs: int = 1
    strict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One complete HTTP response (live-reload events are streamed instead)."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None


# --- content types -----------------------------------------------------------------

_FEED_TYPES = {
    "feed.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}
# Fixed here rather than left to the system's mime.types, which differs between machines.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}
_TEXTUAL = ("text/", "+xml", "+json", "/json", "/xml", "/javascript")


def content_type(name: str) -> str:
    """The Content-Type for a file name; text types say they are UTF-8."""
    lower = name.lower()
    suffix = lower[lower.rfind(".") :] if "." in lower else ""
    kind = (
        _FEED_TYPES.get(lower)
        or _TYPES.get(suffix)
        or mimetypes.guess_type(lower)[0]
        or "application/octet-stream"
    )
    textual = kind.startswith("text/") or kind.endswith(_TEXTUAL)
    return f"{kind}; charset=utf-8" if textual else kind


# --- mapping URLs to files ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What a request path names: a file, a folder without its slash, nothing, or a bad path."""

    kind: Literal["file", "redirect", "missing", "bad"]
    file: Path | None = None
    rel: str = ""  # the file, relative to output/: what a rebuild reports as written
    location: str = ""


def _request_path(target: str) -> str | None:
    """The decoded path of a request target, or None when it cannot be a site path."""
    raw = target.split("#", 1)[0].split("?", 1)[0]
    if raw.startswith(("http://", "https://")):
        raw = urlsplit(raw).path  # absolute-form request target
    if not raw.startswith("/") or "\\" in raw:
        return None
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    return None if "\\" in path or "\0" in path else path


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` with symlinks followed, if it still lies inside ``root``."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return None
    return real if real.is_relative_to(root) else None


def resolve(output: Path, target: str) -> Target:
    """Map a request target to a file under ``output`` and never to anything outside it.

    Every segment is checked after percent-decoding, so ``%2e%2e`` and ``%2f`` are
    caught like ``..`` and ``/``; hidden names (the builder's marker and temporary
    files) are never served; symlinks are followed and must stay inside.
    """
    path = _request_path(target)
    if path is None:
        return Target(kind="bad")
    segments = [s for s in path.split("/") if s]
    if any(s.startswith(".") for s in segments):
        return Target(kind="bad")
    root = output.resolve()
    found = _inside(root.joinpath(*segments), root)
    if found is not None and found.is_dir():
        if segments and not path.endswith("/"):
            query = target.partition("?")[2].split("#", 1)[0]
            location = "/" + "/".join(quote(s) for s in segments) + "/"
            return Target(kind="redirect", location=location + (f"?{query}" if query else ""))
        segments.append("index.html")
        found = _inside(found / "index.html", root)
    if found is None or not found.is_file():
        return Target(kind="missing")
    return Target(kind="file", file=found, rel="/".join(segments))


# --- live reload -------------------------------------------------------------------


def script_tag(rel: str, status: int, generation: str) -> bytes:
    """The tag that loads the reload script, telling it which file this page is."""
    attrs = f'data-file="{_attr(rel)}" data-status="{status}" data-generation="{generation}"'
    return f'<script src="{SCRIPT_PATH}" {attrs}></script>'.encode()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def inject(html: bytes, tag: bytes) -> bytes:
    """Put ``tag`` before the last ``</body>``, or at the end when there is none."""
    at = html.lower().rfind(b"</body")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


@dataclass(frozen=True, slots=True)
class _Event:
    generation: int
    name: str  # "reload" | "css" | "error" | "ok"
    data: str  # JSON

    def encode(self, token: str) -> bytes:
        return f"id: {token}-{self.generation}\nevent: {self.name}\ndata: {self.data}\n\n".encode()


_Inbox = queue.SimpleQueue[_Event | None]


class _Events:
    """Hands every build event to every open page, and replays the recent ones.

    A page may be served just before a build finishes but connect just after; it
    sends the generation it was served at (``since``), and gets what it missed.
    """

    def __init__(self) -> None:
        self.token = secrets.token_hex(4)  # a page from an earlier server run reloads
        self._lock = threading.Lock()
        self._inboxes: set[_Inbox] = set()
        self._history: deque[_Event] = deque(maxlen=_HISTORY)
        self._forgotten = 0  # the newest generation dropped from the history
        self._generation = 0
        self._state = _Event(0, "ok", "{}")

    def current(self) -> str:
        with self._lock:
            return f"{self.token}-{self._generation}"

    def publish(self, name: str, data: object) -> None:
        with self._lock:
            self._generation += 1
            event = _Event(self._generation, name, json.dumps(data))
            if name in ("error", "ok"):
                self._state = event
            else:
                if len(self._history) == self._history.maxlen:
                    self._forgotten = self._history[0].generation
                self._history.append(event)
            for inbox in self._inboxes:
                inbox.put(event)

    def subscribe(self, since: str) -> _Inbox:
        inbox: _Inbox = queue.SimpleQueue()
        with self._lock:
            for event in self._missed(since):
                inbox.put(event)
            inbox.put(_Event(self._generation, self._state.name, self._state.data))
            self._inboxes.add(inbox)
        return inbox

    def _missed(self, since: str) -> list[_Event]:
        token, _, number = since.rpartition("-")
        if not since:
            return []
        everything = [_Event(self._generation, "reload", json.dumps({"all": True, "files": []}))]
        if token != self.token or not number.isdigit():
            return everything
        seen = int(number)
        if seen < self._forgotten:
            return everything  # older than the history kept: be safe and reload
        return [e for e in self._history if e.generation > seen]

    def unsubscribe(self, inbox: _Inbox) -> None:
        with self._lock:
            self._inboxes.discard(inbox)

    def close(self) -> None:
        with self._lock:
            for inbox in self._inboxes:
                inbox.put(None)


def change_event(result: BuildResult) -> tuple[str, dict[str, object]] | None:
    """The event for what a build changed: ``css`` when only stylesheets changed."""
    files = sorted({*result.written, *result.removed})
    if not files:
        return None
    if all(f.endswith(".css") for f in files):
        return "css", {"files": files}
    pages = [f for f in result.written if f.endswith(".html")]
    if result.pages and len(pages) >= result.pages:
        # A shared template changed: every page reloads, no need to list them all.
        return "reload", {"all": True, "files": [f for f in files if not f.endswith(".html")]}
    return "reload", {"all": False, "files": files}


# --- readers-writer lock -----------------------------------------------------------


class _ReadWriteLock:
    """Many requests at once, or one build; a waiting build holds new requests back."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._writing and not self._readers)
            self._waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


# --- HTTP --------------------------------------------------------------------------


def _read_reply(target: Target, output: Path, generation: str) -> Reply:
    """The response for a resolved target; HTML gets the reload script."""
    if target.kind == "redirect":
        return Reply(
            status=301, content_type="text/plain; charset=utf-8", body=b"", location=target.location
        )
    if target.kind == "bad":
        return Reply(
            status=400, content_type="text/plain; charset=utf-8", body=b"bad request path\n"
        )
    status, file, rel = 200, target.file, target.rel
    if file is None:
        status, file, rel = 404, output / "404.html", "404.html"
    try:
        body = file.read_bytes()
    except OSError:
        status, rel = 404, ""
        body = b"<!DOCTYPE html>\n<title>Not found</title>\n<h1>Not found</h1>\n"
    kind = content_type(file.name) if rel else "text/html; charset=utf-8"
    if kind.startswith("text/html"):
        body = inject(body, script_tag(rel, status, generation))
    return Reply(status=status, content_type=kind, body=body)


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD for files, the reload script and the event stream."""

    protocol_version = "HTTP/1.1"  # keep-alive: a page and its assets share connections
    server: _HTTPServer

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == EVENTS_PATH:
            self._stream()
        else:
            self._send(self._reply(), head=False)

    def do_HEAD(self) -> None:
        self._send(self._reply(), head=True)

    def _reply(self) -> Reply:
        if self.path.split("?", 1)[0] == SCRIPT_PATH:
            return Reply(status=200, content_type="text/javascript; charset=utf-8", body=RELOAD_JS)
        return self.server.preview.respond(self.path)

    def _send(self, reply: Reply, *, head: bool) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        if reply.location is not None:
            self.send_header("Location", reply.location)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def end_headers(self) -> None:
        # Here, so that http.server's own error pages carry it too.
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def _stream(self) -> None:
        since = (
            self.headers.get("Last-Event-ID")
            or parse_qs(urlsplit(self.path).query).get("since", [""])[0]
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")  # no length: the stream ends with the connection
        self.end_headers()
        self.close_connection = True
        events = self.server.preview.events
        inbox = events.subscribe(since)
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while (message := _next_message(inbox, events.token)) is not None:
                self.wfile.write(message)
        except OSError:
            pass  # the page was closed or reloaded
        finally:
            events.unsubscribe(inbox)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal shows builds, not requests."""


def _next_message(inbox: _Inbox, token: str) -> bytes | None:
    try:
        event = inbox.get(timeout=HEARTBEAT_SECONDS)
    except queue.Empty:
        return b": heartbeat\n\n"
    return None if event is None else event.encode(token)


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that can close its open connections when it stops."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of connections (a browser opens
    # six, plus event streams) overflows it, and each dropped one waits 1 s for TCP to retry.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], preview: PreviewServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.preview = preview
        self._lock = threading.Lock()
        self._open: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up in DNS, which can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._open[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._open.pop(request, None)

    def close_connections(self, timeout: float) -> None:
        """End idle keep-alive connections and event streams, then wait for their threads."""
        with self._lock:
            open_now = list(self._open.items())
        for sock, _ in open_now:
            with contextlib.suppress(OSError):  # already closed by the other side
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in open_now:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):  # a closed connection is not worth a line
            self.preview.log(f"error: serving a request failed: {error!r}")


# --- the preview server ------------------------------------------------------------


def exposure_warning(host: str) -> str | None:
    """A warning when the preview (drafts included) is reachable from other machines."""
    if host not in _WILDCARDS:
        return None
    return (
        f"warning: listening on all interfaces ({host or '*'}): anyone on your network "
        "can read this preview, drafts included; use --host 127.0.0.1 to keep it private"
    )


def _local_url(host: str, port: int) -> str:
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _bind(preview: PreviewServer, host: str, port: int) -> _HTTPServer:
    if not 0 <= port <= 65535:
        raise ServeError(f"{port} is not a port number", hint="choose one from 1024 to 65535")
    try:
        return _HTTPServer((host, port), preview)
    except OSError as exc:
        raise _bind_error(exc, host, port) from None


def _bind_error(exc: OSError, host: str, port: int) -> ServeError:
    if exc.errno == errno.EADDRINUSE:
        return ServeError(
            f"port {port} on {host or '*'} is already in use",
            hint=f"stop the program using it, or choose another port: --port {port + 1}",
        )
    if exc.errno == errno.EACCES:
        return ServeError(
            f"not allowed to listen on port {port}",
            hint="ports below 1024 need privileges; choose another with --port",
        )
    return ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _print(line: str) -> None:
    print(line, flush=True)


def _summary(result: BuildResult, reason: str | None) -> str:
    count = len(result.written)
    line = f"{'Rebuilt' if reason else 'Built'} {count} file{'s' if count != 1 else ''}"
    if result.removed:
        line += f", removed {len(result.removed)}"
    line += f" in {result.seconds:.2f} s"
    return f"{line} ({reason})" if reason else f"{line} ({result.skipped} unchanged)"


class PreviewServer:
    """Builds the site, serves its last good build, and tells open pages what changed.

    ``start()`` serves from a background thread; ``rebuild()`` is called once at the
    start and then by the watcher, and never raises: a failure is shown, not thrown.
    """

    def __init__(
        self, options: PreviewOptions, *, clock: Callable[[], datetime], log: Log = _print
    ) -> None:
        self.options, self._clock, self.log = options, clock, log
        self.root = options.root.resolve()
        output = options.output if options.output is not None else self.root / "output"
        self.output_dir = output.resolve()  # as load_config places it
        self.events = _Events()
        self._rw = _ReadWriteLock()
        self._config: SiteConfig | None = None
        self._live: LiveBuild | None = None
        self._failed = False
        self._thread: threading.Thread | None = None
        self._httpd = _bind(self, options.host, options.port)
        self.port = int(self._httpd.server_address[1])
        self.url = _local_url(options.host, self.port)
        if warning := exposure_warning(options.host):
            log(warning)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="site-builder-http",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving: end the event streams, close connections and the socket."""
        self.events.close()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.close_connections(timeout=2.0)
        self._httpd.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def respond(self, target: str) -> Reply:
        """The response for a request target, from one complete build."""
        with self._rw.reading():
            found = resolve(self.output_dir, target)
            return _read_reply(found, self.output_dir, self.events.current())

    def rebuild(
        self,
        reason: str | None = None,
        *,
        reload_config: bool = False,
        changed: Sequence[str] | None = None,
    ) -> bool:
        """Build incrementally while requests wait; tell open pages; True if it worked.

        ``changed`` lists the paths (relative to the site root) that changed, when known.
        """
        with self._rw.writing():
            outcome = self._attempt(reload_config=reload_config, changed=changed)
            if isinstance(outcome, BuildResult):
                self._succeeded(outcome, reason)
                return True
            self._failed_with(outcome)
            return False

    def read_config(self) -> None:
        """Read ``site.toml`` now; raise ``BuildFailed`` with its problems."""
        self._config = self._fresh_config()

    def _fresh_config(self) -> SiteConfig:
        # The preview's own address as base_url, so that absolute links stay local.
        return load_config(
            self.root,
            output=self.output_dir,
            base_url=self.url,
            drafts=self.options.drafts,
            future=self.options.future,
        )

    def _attempt(
        self, *, reload_config: bool, changed: Sequence[str] | None
    ) -> BuildResult | Sequence[SiteError]:
        try:
            if reload_config or self._config is None or self._live is None:
                self._config = self._live = None  # a broken site.toml is retried next time
                self._config = self._fresh_config()
                self._live = LiveBuild(
                    self._config, jobs=self.options.jobs, strict=self.options.strict
                )
                changed = None
            return self._live.rebuild(self._clock(), changed)
        except BuildFailed as failure:
            return failure.problems
        except SiteError as problem:
            return (problem,)
        except OSError as exc:
            return (SiteError(f"cannot write the site: {exc}"),)
        except Exception as exc:  # noqa: BLE001 - a bug in one stage must not stop the preview
            hint = "this is a bug in site-builder; please report it"
            return (SiteError(f"internal error: {exc!r}", hint=hint),)

    def _succeeded(self, result: BuildResult, reason: str | None) -> None:
        if self._failed:
            self._failed = False
            self.events.publish("ok", {})
        if change := change_event(result):
            self.events.publish(*change)
        for warning in result.warnings:
            self.log(warning.report())
        self.log(_summary(result, reason))

    def _failed_with(self, problems: Sequence[SiteError]) -> None:
        self._failed = True
        self.events.publish("error", {"errors": [p.report() for p in problems]})
        for problem in problems:
            self.log(problem.report())
        count = len(problems)
        self.log(
            f"Build failed: {count} error{'s' if count != 1 else ''}; "
            "still serving the last good build."
        )


def _wait_for_interrupt() -> None:
    while True:  # sleep, not Event.wait(): Ctrl-C interrupts sleep on every platform
        time.sleep(3600)


def run(
    options: PreviewOptions,
    *,
    clock: Callable[[], datetime],
    watch: Callable[[PreviewServer], AbstractContextManager[object]],
    open_browser: bool = False,
    log: Log = _print,
) -> None:
    """Build, serve and rebuild on every change until Ctrl-C, then stop cleanly.

    ``watch`` starts the file watcher for a server (the caller wires it, since this
    module does not know the watcher). Raises ``ServeError`` if it cannot listen and
    ``BuildFailed`` if ``site.toml`` cannot be read; later failures are only shown.
    """
    preview = PreviewServer(options, clock=clock, log=log)
    try:
        preview.read_config()
    except BuildFailed:
        preview.close()  # no site.toml, or a broken one: nothing to preview yet
        raise
    try:
        with preview, watch(preview):
            preview.rebuild()
            log(f"Serving {preview.root.name} at {preview.url} (Ctrl-C to stop)")
            if open_browser:
                webbrowser.open(preview.url)
            _wait_for_interrupt()
    except KeyboardInterrupt:
        log("Stopped.")
