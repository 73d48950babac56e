"""Preview server: the last good build of the site over HTTP, with live reload.

Input: a site folder and how to serve it (``PreviewOptions``); rebuild requests from
the watcher (wired by ``cli``). Output: HTTP responses, and Server-Sent Events that
tell open pages to reload, swap a stylesheet, or show the errors of a failed build.

The preview builds into a folder of its own under ``.site-builder/``, never into
``output/``: its pages link the preview's address, which a published site must never
carry. It serves the site under the path of its ``base_url``, so that its links are
the published site's. The reload script is injected into HTML as it is served, never
written to disk. Requests wait while a build runs, so a page and its stylesheet always
come from the same complete build.
"""

from __future__ import annotations

import contextlib
import errno
import secrets
import socket
import socketserver
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from site_builder.config import SiteConfig, load_config, preview_folder
from site_builder.errors import BuildFailed, SiteError
from site_builder.events import (
    SCRIPT_PATH,
    Events,
    change_event,
    inject,
    next_message,
    script_tag,
)
from site_builder.fresh import BuildResult
from site_builder.i18n import overlay_title
from site_builder.live import LiveBuild
from site_builder.preview_inbox import MAX_FORM, inbox_post, inbox_reply, is_inbox
from site_builder.routes import Reply, Target, allowed_host, content_type, resolve
from site_builder.search import BUNDLE_DIR, ENTRY, install_index, make_index
from site_builder.writer import spare_trails_by

EVENTS_PATH = "/__site_builder__/events"
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing the stream
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
    base_url: str | None = None  # --base-url: its path is the path the site is served under
    host: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = False
    future: bool = False
    jobs: int = 1
    strict: bool = False


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


def _read_reply(target: Target, output: Path, generation: str, base: str) -> Reply:
    """The response for a resolved target; HTML gets the reload script."""
    if target.kind == "redirect":
        # Temporary: a browser keeps a permanent redirect after the site's base_url changes.
        return Reply(
            status=302, content_type="text/plain; charset=utf-8", body=b"", location=target.location
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
        body = inject(body, script_tag(rel, status, generation, base))
    return Reply(status=status, content_type=kind, body=body)


_MISDIRECTED = Reply(
    status=421,
    content_type="text/plain; charset=utf-8",
    body=b"This preview answers only requests addressed to this machine "
    b"(localhost, 127.0.0.1, [::1] or the --host it was given).\n",
)


_NOT_ALLOWED = Reply(
    status=405,
    content_type="text/plain; charset=utf-8",
    body=b"Only the inbox's buttons are sent with POST.\n",
    extra=(("Allow", "GET, HEAD"),),
)


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD for files, the reload script and the event stream."""

    protocol_version = "HTTP/1.1"  # keep-alive: a page and its assets share connections
    server: _HTTPServer

    def do_GET(self) -> None:
        if not self._from_here():
            self._send(_MISDIRECTED, head=False)
        elif self.path.split("?", 1)[0] == EVENTS_PATH:
            self._stream()
        else:
            self._send(self._reply(), head=False)

    def do_HEAD(self) -> None:
        self._send(self._reply() if self._from_here() else _MISDIRECTED, head=True)

    def do_POST(self) -> None:
        """The inbox's buttons: the only requests that change anything."""
        length = self.headers.get("Content-Length", "")
        if not self._from_here():
            reply = _MISDIRECTED
        elif not self.server.preview.takes_posts(self.path):
            reply = _NOT_ALLOWED
        elif not length.isdigit() or int(length) > MAX_FORM:
            reply = Reply(status=413, content_type="text/plain; charset=utf-8", body=b"")
        else:
            body = self.rfile.read(int(length))
            host, origin = self.headers.get("Host", ""), self.headers.get("Origin")
            reply = self.server.preview.post(self.path, host=host, origin=origin, body=body)
        self.close_connection = reply.status >= 400  # an unread body must not be a request
        self._send(reply, head=False)

    def _from_here(self) -> bool:
        return allowed_host(self.headers.get("Host"), self.server.preview.options.host)

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
        for name, value in reply.extra:
            self.send_header(name, value)
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
            while (message := next_message(inbox, events.token, HEARTBEAT_SECONDS)) is not None:
                self.wfile.write(message)
        except OSError:
            pass  # the page was closed or reloaded
        finally:
            events.unsubscribe(inbox)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal shows builds, not requests."""


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
        self.output_dir = preview_folder(self.root)
        self.events = Events()
        self._token = secrets.token_urlsafe(32)  # the inbox's forms carry it (preview_inbox)
        self._rw = _ReadWriteLock()
        self._config: SiteConfig | None = None
        self._live: LiveBuild | None = None
        self._failed = False
        self._thread: threading.Thread | None = None
        self._indexer = _Indexer(self._index)
        self._httpd = _bind(self, options.host, options.port)
        self.port = int(self._httpd.server_address[1])
        self.address = _local_url(options.host, self.port)
        self.base = "/"  # the path the site is served under: its base_url's, once read
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
        self._indexer.stop()
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
            if is_inbox(urlsplit(target).path, self.base) and self._config is not None:
                return inbox_reply(self._config, token=self._token, base=self.base)
            found = resolve(self.output_dir, target, self.base)
            return _read_reply(found, self.output_dir, self.events.current(), self.base)

    def takes_posts(self, target: str) -> bool:
        """Whether ``target`` is the inbox, the one page whose buttons POST."""
        return is_inbox(urlsplit(target).path, self.base)

    def post(self, target: str, *, host: str, origin: str | None, body: bytes) -> Reply:
        """A button of the inbox pressed; the watcher rebuilds after the files move."""
        config = self._config
        if not self.takes_posts(target) or config is None:
            return Reply(status=404, content_type="text/plain; charset=utf-8", body=b"")
        return inbox_post(
            config,
            token=self._token,
            base=self.base,
            host=host,
            origin=origin,
            body=body,
            now=self._clock(),
        )

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
                if (
                    self._config is not None
                    and self._config.search
                    and _needs_index(outcome, self.output_dir)
                ):
                    self._indexer.request()  # after the reload event, in its own thread
                return True
            self._failed_with(outcome)
            return False

    def read_config(self) -> None:
        """Read ``site.toml`` now; raise ``BuildFailed`` with its problems."""
        self._config = self._fresh_config()

    @property
    def url(self) -> str:
        """The address of the site's front page in the preview."""
        return self.address + self.base.lstrip("/")

    def _fresh_config(self) -> SiteConfig:
        config = load_config(
            self.root,
            base_url=self.options.base_url,
            drafts=self.options.drafts,
            future=self.options.future,
            preview=True,
        )
        # The preview's own address, under the site's own path: absolute links stay
        # local, and every link is the one the published site has.
        self.base = config.base_path
        return replace(config, base_url=self.address + config.base_path.lstrip("/"))

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

    def _index(self) -> bool:
        """Index the preview beside it, then swap the index in while requests wait."""
        staged = make_index(self.output_dir, stop=self._indexer.stopping)
        if isinstance(staged, SiteError):
            # A rebuild replaced pages under Pagefind's feet: the next run follows.
            if not self._indexer.pending and not self._indexer.stopping():
                self.log(staged.report())
            return False
        with self._rw.writing():
            indexed = install_index(self.output_dir, staged)
            # As after `build`: the next rebuild stages from the spare, which must keep it.
            spare_trails_by(self.output_dir, indexed.changed)
        return True  # not logged: the last line stays the rebuild's

    def _failed_with(self, problems: Sequence[SiteError]) -> None:
        self._failed = True
        errors: dict[str, object] = {"errors": [p.report() for p in problems]}
        if self._config is not None:  # the overlay's heading, in the site's language
            errors["title"] = overlay_title(self._config, len(problems))
        self.events.publish("error", errors)
        for problem in problems:
            self.log(problem.report())
        count = len(problems)
        self.log(
            f"Build failed: {count} error{'s' if count != 1 else ''}; "
            "still serving the last good build."
        )


def _needs_index(result: BuildResult, output_dir: Path) -> bool:
    pages = (path for path in (*result.written, *result.removed) if path.endswith(".html"))
    return any(pages) or not (output_dir / BUNDLE_DIR / ENTRY).is_file()


class _Indexer:
    """Runs ``index`` in a thread of its own once a rebuild asks, again if rebuilds
    asked meanwhile: Pagefind takes seconds on a large site, and a reload must not
    wait for it."""

    def __init__(self, index: Callable[[], bool]) -> None:
        self._index = index
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="site-builder-search")
            self._thread.start()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping:
                return
            self._wanted.clear()
            self._index()

    @property
    def pending(self) -> bool:
        return self._wanted.is_set()

    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join()


def _wait_for_interrupt() -> None:
    # Short sleeps, not one long one: the kernel hands SIGINT to any thread, and Python
    # raises KeyboardInterrupt in the main thread only when it next runs; a sleep of an
    # hour missed Ctrl-C whenever the indexer's or the server's thread received it.
    while True:
        time.sleep(0.2)


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
