"""The preview server over real HTTP: files, safety, live-reload events, error overlay data."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from site_builder import cli
from site_builder.errors import BuildFailed
from site_builder.events import Events, change_event, inject
from site_builder.fresh import BuildResult
from site_builder.serve import (
    PreviewOptions,
    PreviewServer,
    ServeError,
    exposure_warning,
    run,
)
from site_builder.watch import Watcher
from tests.conftest import FIXED_NOW, SITE_TOML, MakeSite, article, write_files

WAIT = 15.0
SECRET = "TOP-SECRET-b7e1"
FILES = {
    "content/articles/alpha.md": article("Alpha story", "2026-11-20"),
    "content/articles/beta.md": article("Beta story", "2026-11-21"),
    "templates/static/extra.css": "body { color: black }\n",
}
ALPHA = "content/articles/alpha.md"


@dataclass
class Served:
    preview: PreviewServer
    root: Path
    log: list[str] = field(default_factory=list)

    def edit(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def start(root: Path, log: list[str], **options: object) -> PreviewServer:
    preview = PreviewServer(
        PreviewOptions(root=root, port=0, **options),  # type: ignore[arg-type]
        clock=lambda: FIXED_NOW,
        log=log.append,
    )
    preview.start()
    return preview


def serve_site(root: Path) -> Iterator[Served]:
    write_files(root, {"site.toml": SITE_TOML, **FILES})
    log: list[str] = []
    preview = start(root, log)
    try:
        assert preview.rebuild()
        yield Served(preview=preview, root=root, log=log)
    finally:
        preview.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A server of its own, for tests that edit the site."""
    yield from serve_site(tmp_path / "site")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the tests that only read, with bait for path-traversal attempts:
    a secret beside output/, and symlinks inside output/ that lead to it."""
    for served in serve_site(tmp_path_factory.mktemp("shared") / "site"):
        (served.root / "secret.txt").write_text(SECRET, encoding="utf-8")
        output = served.preview.output_dir
        (output / "leak.txt").symlink_to(served.root / "secret.txt")
        (output / "leakdir").symlink_to(served.root)
        (output / "relative.txt").symlink_to(Path("..") / "secret.txt")
        yield served


def request(preview: PreviewServer, target: str, method: str = "GET") -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    try:
        conn.request(method, target)
        reply = conn.getresponse()
        body = reply.read()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, body)
    finally:
        conn.close()


def raw_request(preview: PreviewServer, target: bytes) -> Response:
    """Send the request line byte for byte, as no well-behaved client would."""
    with socket.create_connection(("127.0.0.1", preview.port), timeout=WAIT) as sock:
        head = b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(b"GET " + target + head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return Response(int(status_line.split()[1]), headers, body)


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    data: dict[str, object]


class EventStream:
    """A Server-Sent Events client over http.client, as a browser's EventSource."""

    def __init__(self, preview: PreviewServer, since: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
        self.conn.request("GET", f"/__site_builder__/events?since={since}")
        self.reply = self.conn.getresponse()

    def next(self) -> Event:
        fields: dict[str, str] = {}
        while True:
            line = self.reply.readline().decode("utf-8")
            if not line:
                raise EOFError("the event stream ended")
            if line == "\n" and "event" in fields:
                return Event(fields.get("id", ""), fields["event"], json.loads(fields["data"]))
            if line != "\n" and not line.startswith(":"):
                key, _, value = line.rstrip("\n").partition(": ")
                fields[key] = value

    def next_named(self, *names: str) -> Event:
        while (event := self.next()).name not in names:
            pass
        return event

    def close(self) -> None:
        self.reply.close()
        self.conn.close()


@pytest.fixture
def events(served: Served) -> Iterator[EventStream]:
    stream = EventStream(served.preview)
    assert stream.next().name == "ok"  # the current state comes first
    yield stream
    stream.close()


def generation(page: Response) -> str:
    found = re.search(r'data-generation="([^"]+)"', page.text)
    assert found
    return found[1]


# --- files ---------------------------------------------------------------------------


def test_pages_are_served_with_the_reload_script_injected(shared: Served) -> None:
    page = request(shared.preview, "/articles/alpha/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "Alpha story" in page.text
    assert page.text.count("/__site_builder__/reload.js") == 1
    script = page.text.index("/__site_builder__/reload.js")
    assert script < page.text.rindex("</body>")
    assert 'data-file="articles/alpha/index.html"' in page.text
    assert int(page.headers["content-length"]) == len(page.body)


def test_the_script_is_never_written_to_output(served: Served) -> None:
    request(served.preview, "/")
    for path in (served.preview.output_dir).rglob("*"):
        assert not path.is_file() or b"__site_builder__" not in path.read_bytes(), path


def test_injection_goes_before_the_last_body_end_tag_or_at_the_end() -> None:
    tag = b"<script></script>"
    page = b"<body><pre>&lt;/body&gt; </body></pre></BODY>\n</html>"
    assert (
        inject(page, tag)
        == b"<body><pre>&lt;/body&gt; </body></pre><script></script></BODY>\n</html>"
    )
    assert inject(b"<p>fragment", tag) == b"<p>fragment<script></script>"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/feed.xml", "application/rss+xml; charset=utf-8"),
        ("/atom.xml", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/tags/", "text/html; charset=utf-8"),
        ("/sitemap.xml", "application/xml; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/static/style.css", "text/css; charset=utf-8"),
        ("/static/extra.css", "text/css; charset=utf-8"),
        ("/static/favicon.svg", "image/svg+xml; charset=utf-8"),
        ("/__site_builder__/reload.js", "text/javascript; charset=utf-8"),
    ],
)
def test_content_types(shared: Served, path: str, expected: str) -> None:
    reply = request(shared.preview, path)
    assert reply.status == 200, path
    assert reply.headers["content-type"] == expected
    assert reply.headers["x-content-type-options"] == "nosniff"
    if not expected.startswith("text/html"):
        assert b"__site_builder__/reload.js" not in reply.body or path.endswith(".js")


def test_folder_without_slash_redirects(shared: Served) -> None:
    reply = request(shared.preview, "/articles/alpha?x=1")
    assert reply.status == 302
    assert reply.headers["location"] == "/articles/alpha/?x=1"
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_unknown_path_gets_the_404_page(shared: Served) -> None:
    reply = request(shared.preview, "/no/such/page/")
    assert reply.status == 404
    assert reply.body.startswith(b"<!DOCTYPE html>")
    assert "Page not found" in reply.text
    assert 'data-status="404"' in reply.text
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_head_has_headers_and_no_body(shared: Served) -> None:
    full = request(shared.preview, "/")
    head = request(shared.preview, "/", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == full.headers["content-length"]


def test_other_methods_are_refused_with_nosniff(shared: Served) -> None:
    reply = request(shared.preview, "/", method="POST")  # only the inbox takes a POST
    assert (reply.status, reply.headers["allow"]) == (405, "GET, HEAD")
    assert reply.headers["x-content-type-options"] == "nosniff"
    for method in ("PUT", "DELETE", "PATCH"):
        reply = request(shared.preview, "/", method=method)
        assert reply.status == 501
        assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "target",
    [
        b"/../secret.txt",
        b"/articles/../../secret.txt",
        b"/%2e%2e/secret.txt",
        b"/%2E%2E%2Fsecret.txt",
        b"/..%2fsecret.txt",
        b"/articles%2f..%2f..%2fsecret.txt",
        b"/%252e%252e/secret.txt",
        b"/..\\secret.txt",
        b"/%5c..%5csecret.txt",
        b"/secret.txt%00.html",
        b"/index.html%00",
        b"//secret.txt",
        b"/leak.txt",
        b"/relative.txt",
        b"/leakdir/secret.txt",
        b"/leakdir/site.toml",
        b"http://127.0.0.1/../secret.txt",
        b"../secret.txt",
        b"secret.txt",
        b"/.site-builder-output",
        b"/%ff%fe",
    ],
)
def test_nothing_outside_output_is_served(shared: Served, target: bytes) -> None:
    reply = raw_request(shared.preview, target)
    assert reply.status in (400, 404)
    assert SECRET.encode() not in reply.body
    assert b"base_url" not in reply.body
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_absolute_file_paths_stay_inside_output(shared: Served) -> None:
    target = (shared.root / "secret.txt").as_posix().encode()
    reply = raw_request(shared.preview, target)
    assert reply.status == 404
    assert SECRET.encode() not in reply.body


def test_a_sub_path_site_is_previewed_under_its_sub_path(make_site: MakeSite) -> None:
    """A GitHub Pages project site (base_url https://user.github.io/project/) is
    previewed at /project/, so that every link the preview shows is the published one."""
    config = SITE_TOML.replace("https://test.example.org/", "https://x.org/news/")
    root = make_site(FILES, config=config)
    preview = start(root, [])
    try:
        assert preview.rebuild()
        assert preview.url == f"http://127.0.0.1:{preview.port}/news/"
        page = request(preview, "/news/articles/alpha/")
        assert page.status == 200
        assert f'<link rel="canonical" href="{preview.url}articles/alpha/">' in page.text
        assert 'href="/news/static/style.css"' in page.text
        assert request(preview, "/news/static/style.css").status == 200
        assert 'data-base="/news/"' in page.text
        for root_path in ("/", "/news", "/?q=1"):
            moved = request(preview, root_path)
            assert moved.status == 302, root_path
            assert (
                moved.headers["location"]
                == "/news/" + root_path.partition("?")[1] + (root_path.partition("?")[2])
            )
        assert request(preview, "/news/articles/alpha").headers["location"] == (
            "/news/articles/alpha/"
        )
        outside = request(preview, "/articles/alpha/")
        assert outside.status == 404
        assert 'href="/news/static/style.css"' in outside.text  # the site's own 404 page
    finally:
        preview.close()


def test_the_preview_refuses_requests_for_other_host_names(shared: Served) -> None:
    """DNS rebinding: a page on attacker.example whose name resolves to 127.0.0.1 must
    not read the preview (drafts included) as its own origin."""
    for host in ("attacker.example", "attacker.example:8000", "127.0.0.1.evil.example", ""):
        for target in ("/", "/articles/alpha/", "/__site_builder__/events"):
            reply = host_request(shared.preview, target, host)
            assert reply.status == 421, (host, target)
            assert b"Alpha story" not in reply.body
    for host in ("127.0.0.1", f"127.0.0.1:{shared.preview.port}", "localhost:1", "[::1]:80"):
        assert host_request(shared.preview, "/articles/alpha/", host).status == 200, host


def host_request(preview: PreviewServer, target: str, host: str) -> Response:
    headers = f"Host: {host}\r\n" if host else ""
    line = f"GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", preview.port), timeout=WAIT) as sock:
        sock.sendall(line.encode())
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return Response(int(head.split()[1]), {}, body)


def test_drafts_are_served_only_when_asked(make_site: MakeSite) -> None:
    root = make_site({"content/articles/wip.md": article("Work", "2026-11-20", draft="true")})
    for drafts, status in ((False, 404), (True, 200)):
        preview = start(root, [], drafts=drafts)
        try:
            assert preview.rebuild()
            assert request(preview, "/articles/wip/").status == status
        finally:
            preview.close()


def test_requests_wait_while_a_build_writes(served: Served) -> None:
    replies: list[Response] = []
    reader = threading.Thread(target=lambda: replies.append(request(served.preview, "/")))
    with served.preview._rw.writing():
        reader.start()
        reader.join(0.3)
        assert reader.is_alive()  # held back: the build might be halfway through its files
        assert not replies
    reader.join(WAIT)
    assert replies[0].status == 200


# --- starting and stopping -----------------------------------------------------------


def test_a_taken_port_is_a_clear_error(make_site: MakeSite) -> None:
    root = make_site(FILES)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ServeError, match=f"port {port} on 127.0.0.1 is already in use"):
            PreviewServer(PreviewOptions(root=root, port=port), clock=lambda: FIXED_NOW)


@pytest.mark.parametrize("port", [-1, 65536])
def test_a_port_out_of_range_is_a_clear_error(make_site: MakeSite, port: int) -> None:
    with pytest.raises(ServeError, match=f"{port} is not a port number"):
        PreviewServer(PreviewOptions(root=make_site(FILES), port=port), clock=lambda: FIXED_NOW)


def test_all_interfaces_give_a_warning(make_site: MakeSite) -> None:
    assert exposure_warning("127.0.0.1") is None
    assert exposure_warning("localhost") is None
    log: list[str] = []
    preview = start(make_site(FILES), log, host="0.0.0.0")
    preview.close()
    assert log[0].startswith("warning: listening on all interfaces")
    assert preview.url.startswith("http://127.0.0.1:")


def test_without_a_readable_site_toml_there_is_nothing_to_serve(tmp_path: Path) -> None:
    def never(preview: PreviewServer) -> Watcher:
        raise AssertionError("nothing to watch")

    with pytest.raises(BuildFailed) as failure:
        run(PreviewOptions(root=tmp_path, port=0), clock=lambda: FIXED_NOW, watch=never)
    assert str(failure.value.problems[0]) == "site.toml: error: no site.toml here"


# --- live reload events --------------------------------------------------------------


def test_an_edit_reloads_only_the_pages_it_changed(served: Served, events: EventStream) -> None:
    served.edit(ALPHA, article("Alpha story", "2026-11-20", body="A revised body."))
    assert served.preview.rebuild(f"{ALPHA} changed")
    event = events.next()
    assert event.name == "reload"
    assert event.data["all"] is False
    files = event.data["files"]
    assert isinstance(files, list)
    assert "articles/alpha/index.html" in files
    assert "articles/beta/index.html" not in files
    assert served.log[-1].startswith("Rebuilt ")
    assert served.log[-1].endswith(f"({ALPHA} changed)")
    assert "A revised body." in request(served.preview, "/articles/alpha/").text


def test_a_stylesheet_change_swaps_css_without_reload(served: Served, events: EventStream) -> None:
    served.edit("templates/static/extra.css", "body { color: navy }\n")
    assert served.preview.rebuild("templates/static/extra.css changed")
    event = events.next()
    assert (event.name, event.data) == ("css", {"files": ["static/extra.css"]})


def test_a_template_change_reloads_every_page(served: Served, events: EventStream) -> None:
    served.edit(
        "templates/article.html",
        '{% extends "base.html" %}{% block content %}<h1>{{ article.title }}!</h1>{% endblock %}',
    )
    assert served.preview.rebuild("templates/article.html changed")
    event = events.next()
    assert event.name == "reload"
    assert "articles/alpha/index.html" in event.data["files"]  # type: ignore[operator]
    assert "Alpha story!" in request(served.preview, "/articles/alpha/").text


def test_no_change_sends_nothing(served: Served, events: EventStream) -> None:
    assert served.preview.rebuild("nothing really changed")
    served.edit(ALPHA, article("Alpha again", "2026-11-20"))
    assert served.preview.rebuild(f"{ALPHA} changed")
    assert events.next().name == "reload"  # the first event is the real edit


def test_an_edit_rebuilds_after_the_cache_folder_was_deleted(served: Served) -> None:
    """``rm -rf .site-builder`` while the preview runs: the next edit still builds."""
    shutil.rmtree(served.root / ".site-builder" / "sites")
    served.edit(ALPHA, article("Alpha, after the cache went", "2026-11-20"))
    assert served.preview.rebuild(f"{ALPHA} changed", changed=[ALPHA])
    assert "Alpha, after the cache went" in request(served.preview, "/articles/alpha/").text


def test_the_overlay_heading_comes_in_the_site_language(make_site: MakeSite) -> None:
    root = make_site(FILES, config=SITE_TOML.replace('language = "en"', 'language = "de"'))
    preview = start(root, [])
    stream = EventStream(preview)
    try:
        assert preview.rebuild()
        (root / ALPHA).write_text("---\ntitle: [unclosed\n---\nBody\n", encoding="utf-8")
        assert not preview.rebuild(f"{ALPHA} changed")
        while (event := stream.next()).name != "error":
            pass
        title = event.data["title"]
        assert isinstance(title, str) and "fehlgeschlagen: 1 Fehler" in title, title
    finally:
        stream.close()
        preview.close()


def test_a_failed_build_shows_errors_and_keeps_the_last_good_site(
    served: Served, events: EventStream
) -> None:
    served.edit(ALPHA, "---\ntitle: [unclosed\ndate: 2026-11-20\n---\nBody\n")
    assert not served.preview.rebuild(f"{ALPHA} changed")
    event = events.next()
    assert event.name == "error"
    errors = event.data["errors"]
    assert isinstance(errors, list)
    assert errors
    assert all(isinstance(e, str) for e in errors)
    assert errors[0].startswith(f"{ALPHA}:")
    assert any(line.startswith(f"{ALPHA}:") for line in served.log)
    assert served.log[-1].startswith("Build failed: 1 error;")
    page = request(served.preview, "/articles/alpha/")
    assert (page.status, "Alpha story" in page.text) == (200, True)

    late = EventStream(served.preview)  # a page opened after the failure
    try:
        assert late.next().name == "error"
    finally:
        late.close()

    served.edit(ALPHA, article("Alpha, fixed", "2026-11-20"))
    assert served.preview.rebuild(f"{ALPHA} changed")
    assert events.next().name == "ok"
    assert events.next().name == "reload"


def test_a_broken_config_is_reported_and_reloaded(served: Served, events: EventStream) -> None:
    served.edit("site.toml", SITE_TOML + "titel = 'typo'\n")
    assert not served.preview.rebuild("site.toml changed", reload_config=True)
    event = events.next()
    assert event.name == "error"
    assert "unknown key 'titel'" in str(event.data["errors"])
    served.edit("site.toml", SITE_TOML.replace("Test Digest", "Renamed Digest"))
    assert served.preview.rebuild("site.toml changed", reload_config=True)
    assert events.next().name == "ok"
    assert events.next().data["all"] is True
    assert "Renamed Digest" in request(served.preview, "/articles/alpha/").text


def test_a_page_that_connects_late_gets_what_it_missed(served: Served) -> None:
    page = request(served.preview, "/articles/alpha/")
    served.edit(ALPHA, article("Alpha, while connecting", "2026-11-20"))
    assert served.preview.rebuild(f"{ALPHA} changed")
    stream = EventStream(served.preview, since=generation(page))
    try:
        event = stream.next()
        assert event.name == "reload"
        assert "articles/alpha/index.html" in event.data["files"]  # type: ignore[operator]
        assert stream.next().name == "ok"
    finally:
        stream.close()


def test_a_page_from_an_earlier_server_reloads(served: Served) -> None:
    stream = EventStream(served.preview, since="0123abcd-7")
    try:
        assert stream.next().data == {"all": True, "files": []}
    finally:
        stream.close()


def test_a_page_older_than_the_history_reloads_whole() -> None:
    events = Events()
    for number in range(70):
        events.publish("reload", {"all": False, "files": [f"{number}.html"]})
    stale = events.subscribe(f"{events.token}-1")
    assert json.loads(stale.get_nowait().data) == {"all": True, "files": []}  # type: ignore[union-attr]
    recent = events.subscribe(f"{events.token}-68")
    replayed = [recent.get_nowait() for _ in range(3)]
    assert [(e.name, e.generation) for e in replayed if e] == [
        ("reload", 69),
        ("reload", 70),
        ("ok", 70),
    ]


def test_what_a_build_wrote_decides_the_event() -> None:
    assert change_event_for(["static/a.css", "static/b.css"]) == (
        "css",
        {"files": ["static/a.css", "static/b.css"]},
    )
    assert change_event_for([]) is None
    assert change_event_for(["index.html", "static/a.css"], pages=5) == (
        "reload",
        {"all": False, "files": ["index.html", "static/a.css"]},
    )
    assert change_event_for(["a/index.html", "index.html", "s.css"], pages=2) == (
        "reload",
        {"all": True, "files": ["s.css"]},
    )


def change_event_for(written: list[str], pages: int = 10) -> object:
    result = BuildResult(
        written=tuple(written),
        removed=(),
        skipped=0,
        pages=pages,
        feeds=0,
        files=0,
        warnings=(),
        seconds=0.0,
        next_scheduled=None,
    )
    return change_event(result)


def test_closing_the_server_ends_event_streams(make_site: MakeSite) -> None:
    preview = start(make_site(FILES), [])
    stream = EventStream(preview)
    try:
        assert stream.next().name == "ok"
        preview.close()
        with pytest.raises(EOFError):
            stream.next()
    finally:
        stream.close()


def test_a_saved_file_reaches_the_browser_through_the_watcher(
    served: Served, events: EventStream
) -> None:
    preview = served.preview
    watcher = Watcher(
        served.root,
        lambda batch: preview.rebuild(batch.describe(), reload_config=batch.config_changed),
        ignore=lambda name: name.startswith("."),
        output=preview.output_dir,
    )
    with watcher:
        served.edit(ALPHA, article("Alpha, saved in an editor", "2026-11-20"))
        event = events.next_named("reload")
    assert "articles/alpha/index.html" in event.data["files"]  # type: ignore[operator]
    assert served.log[-1].endswith(f"({ALPHA} changed)")


# --- the process: Ctrl-C and a taken port, as the command line runs it ----------------

# Ctrl-C as a terminal delivers it: a suite run in the background (`&`, nohup) hands
# its children SIGINT ignored, and Python then never raises KeyboardInterrupt.
INTERRUPTIBLE = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def site_builder_command() -> list[str]:
    """``python -m site_builder``, interruptible with Ctrl-C however the tests run."""
    run_module = "import runpy; runpy.run_module('site_builder', run_name='__main__')"
    return [sys.executable, "-c", INTERRUPTIBLE + run_module]


DRIVER = """
import sys
from pathlib import Path
from site_builder.config import is_ignored
from site_builder.serve import PreviewOptions, ServeError, run
from site_builder.watch import Watcher
from tests.conftest import FIXED_NOW

def watch(preview):
    return Watcher(
        preview.root,
        lambda b: preview.rebuild(b.describe(), reload_config=b.config_changed),
        ignore=is_ignored,
        output=preview.output_dir,
    )

try:
    run(PreviewOptions(root=Path(sys.argv[1]), port=int(sys.argv[2])),
        clock=lambda: FIXED_NOW, watch=watch)
except ServeError as problem:
    print(problem.report(), file=sys.stderr)
    sys.exit(2)
"""


def launch(root: Path, port: int, how: str) -> subprocess.Popen[str]:
    if how == "cli":
        if not hasattr(cli, "cmd_serve"):
            pytest.skip("site-builder serve is not wired into cli.py yet")
        command = [*site_builder_command(), "serve", "--source", str(root)]
        command += ["--port", str(port), "--jobs", "1"]
    else:
        command = [sys.executable, "-c", INTERRUPTIBLE + DRIVER, str(root), str(port)]
    return subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("how", ["run", "cli"])
def test_ctrl_c_stops_cleanly(make_site: MakeSite, how: str) -> None:
    process = launch(make_site(FILES), 0, how)
    try:
        assert process.stdout is not None
        while "Serving" not in (line := process.stdout.readline()):
            assert line, process.communicate()[1]
        url = line.split(" at ", 1)[1].split()[0]
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT)
    finally:  # a failed assertion must not leave the preview running, and the test waiting
        process.kill()
        process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.rstrip().endswith("Stopped.")


@pytest.mark.parametrize("how", ["run", "cli"])
def test_a_taken_port_exits_2_without_a_traceback(make_site: MakeSite, how: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        process = launch(make_site(FILES), holder.getsockname()[1], how)
        with process:
            _, err = process.communicate(timeout=WAIT)
    assert process.returncode == 2
    assert "is already in use" in err
    assert "Traceback" not in err


def test_the_command_without_a_site_exits_2(tmp_path: Path) -> None:
    process = launch(tmp_path, 0, "cli")
    with process:
        _, err = process.communicate(timeout=WAIT)
    assert process.returncode == 2
    assert err.startswith("site.toml: error: no site.toml here")
    assert "Traceback" not in err
