"""site-builder ingest against real HTTP servers on 127.0.0.1: every feed format, and
the ways a feed or its server goes wrong. Nothing here leaves this machine."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from site_builder.cli import main
from tests.conftest import SITE_TOML, MakeSite, article

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class FeedServer:
    """Routes of a test's own HTTP server; every request's headers are kept."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self, path: str, body: bytes, content_type: str = "application/xml", **headers: str
    ) -> str:
        self.routes[path] = static(body, content_type, headers)
        return self.url(path)

    def seen(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


def static(
    body: bytes, content_type: str, headers: Mapping[str, str] | None = None, status: int = 200
) -> Handler:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            h.send_header(name.replace("_", "-"), value)
        h.end_headers()
        h.wfile.write(body)

    return handle


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feeds = FeedServer()

    class Handle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            feeds.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = feeds.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client gave up
                route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    httpd.daemon_threads = True
    feeds.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def rss(items: int, host: str = "https://news.example.com", title: str = "Example News") -> bytes:
    entries = "".join(
        f"<item><title>Story {n} from {title}</title><link>{host}/story/{n}</link>"
        f"<guid>{host}/story/{n}</guid><category>Chips</category>"
        f"<pubDate>Mon, {n + 1:02d} Nov 2026 09:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;What happened in story {n}.&lt;/p&gt;</description></item>"
        for n in range(1, items + 1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{host}/</link><description>News</description>{entries}</channel></rss>"
    ).encode()


def atom(items: int, host: str = "https://blog.example.net", title: str = "Example Blog") -> bytes:
    entries = "".join(
        f'<entry><title type="html">Post {n} &amp;amp; more</title>'
        f'<link rel="alternate" href="{host}/post/{n}/"/><id>tag:example.net,2026:{n}</id>'
        f"<updated>2026-11-{n + 1:02d}T10:00:00Z</updated>"
        f'<summary type="html">&lt;p&gt;Post &lt;b&gt;{n}&lt;/b&gt; in short.&lt;/p&gt;</summary>'
        "</entry>"
        for n in range(1, items + 1)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:example:blog</id><updated>2026-11-20T10:00:00Z</updated>"
        f'<link rel="self" href="{host}/atom.xml"/>{entries}</feed>'
    ).encode()


def site_with(
    make_site: MakeSite,
    *sources: tuple[str, str],
    extra: str = "",
    files: Mapping[str, str] | None = None,
) -> Path:
    tables = "".join(
        f'\n[[sources]]\nname = "{name}"\nurl = "{url}"\n{extra}' for name, url in sources
    )
    return make_site(dict(files or {}), config=SITE_TOML + tables)


def ingest(root: Path, *args: str) -> int:
    return main(["ingest", "--source", str(root), *args])


def drafts(root: Path) -> dict[str, dict[str, object]]:
    """Each draft's front matter, by file name."""
    found = {}
    for path in sorted((root / "content" / "inbox").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        found[path.name] = yaml.safe_load(text.split("---\n")[1])
    return found


def test_two_sources_give_twenty_drafts_and_a_second_run_none(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    news = server.serve("/news.rss", rss(10), "application/rss+xml")
    blog = server.serve("/blog.atom", atom(10), "application/atom+xml")
    root = site_with(make_site, ("Example News", news), ("Example Blog", blog))

    assert ingest(root) == 0
    out = capsys.readouterr().out
    found = drafts(root)
    assert len(found) == 20
    assert "Ingest: 20 new drafts from 2 sources (0 already known" in out
    story = found["story-3-from-example-news.md"]
    assert story["source"] == {"name": "Example News", "url": "https://news.example.com/story/3"}
    assert story["draft"] is True and story["tags"] == ["Chips"]
    post = found["post-4-more.md"]
    assert post["title"] == "Post 4 & more"
    assert post["source"] == {"name": "Example Blog", "url": "https://blog.example.net/post/4/"}
    assert post["source_feed"]["id"] == "urn:example:blog"
    assert "Test Digest" in server.seen("/news.rss")[0]["user-agent"]

    assert ingest(root) == 0
    assert "0 new drafts" in capsys.readouterr().out
    assert len(drafts(root)) == 20


def test_a_source_that_fails_is_one_line_and_the_others_still_ingest(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.routes["/broken"] = static(b"oops", "text/plain", status=500)
    broken = server.url("/broken")
    news = server.serve("/news.rss", rss(3))
    root = site_with(make_site, ("Broken", broken), ("Example News", news))

    assert ingest(root) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"{broken}: error: HTTP 500 Internal Server Error"]
    assert len(drafts(root)) == 3
    assert "1 source failed" in out


def test_a_feed_not_modified_is_asked_for_with_its_validators_and_skipped(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = rss(2)

    def conditional(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.end_headers()
            return
        static(body, "application/rss+xml", {"ETag": '"v1"'})(h)

    server.routes["/news.rss"] = conditional
    root = site_with(make_site, ("News", server.url("/news.rss")))
    assert ingest(root) == 0
    assert ingest(root) == 0
    assert "(0 already known, 1 not modified)" in capsys.readouterr().out.splitlines()[-1]
    assert server.seen("/news.rss")[1]["if-none-match"] == '"v1"'
    assert len(drafts(root)) == 2


def test_gzip_redirects_and_json_feed_and_rss_1_0_are_read(
    make_site: MakeSite, server: FeedServer
) -> None:
    server.serve("/gz", gzip.compress(atom(2)), "application/atom+xml", Content_Encoding="gzip")
    server.routes["/moved"] = static(b"", "text/plain", {"Location": "/gz"}, status=301)
    json_feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON News",
        "feed_url": "https://json.example.org/feed.json",
        "items": [
            {
                "id": "1",
                "url": "https://json.example.org/1",
                "title": "One",
                "content_html": "<p>1</p>",
            },
            {"id": "2", "url": "https://json.example.org/2", "content_text": "Two <b>plain</b>"},
            {"id": "3", "title": "No link"},
        ],
    }
    server.serve("/feed.json", json.dumps(json_feed).encode(), "application/feed+json")
    rdf = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://rdf.example/">'
        b"<title>RDF</title><link>https://rdf.example/</link><description>d</description></channel>"
        b'<item rdf:about="https://rdf.example/a"><title>RDF item</title>'
        b"<link>https://rdf.example/a</link></item></rdf:RDF>"
    )
    server.serve("/rdf", rdf, "application/rdf+xml")
    root = site_with(
        make_site,
        ("Moved", server.url("/moved")),
        ("JSON", server.url("/feed.json")),
        ("RDF", server.url("/rdf")),
    )
    assert ingest(root) == 0
    found = drafts(root)
    assert {d["source"]["url"] for d in found.values()} == {  # type: ignore[index]
        "https://blog.example.net/post/1/",
        "https://blog.example.net/post/2/",
        "https://json.example.org/1",
        "https://json.example.org/2",
        "https://rdf.example/a",
    }
    assert found["one.md"]["source_feed"]["title"] == "JSON News"  # type: ignore[index]
    text = (root / "content" / "inbox" / "two-b-plain-b.md").read_text(encoding="utf-8")
    assert "title: Two <b>plain</b>\n" in text
    assert "> Two &lt;b\\>plain&lt;/b\\>" in text  # shown as text, never as HTML


def test_what_a_hostile_server_sends_is_one_error_line_each(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.routes["/loop"] = static(b"", "text/plain", {"Location": "/loop"}, status=302)
    bomb = gzip.compress(b"<rss>" + b" " * 12_000_000)  # 12 MB from 12 kB
    server.serve("/bomb", bomb, "application/rss+xml", Content_Encoding="gzip")
    server.routes["/cut"] = cut_short(rss(5))
    server.serve("/html", b"<html><body>Not a feed</body></html>", "text/html")
    server.serve("/empty", b"", "application/rss+xml")
    server.routes["/slow"] = trickle(rss(3), seconds=6.0)
    paths = ["/loop", "/bomb", "/cut", "/html", "/empty", "/slow", "/missing"]
    root = site_with(make_site, *((p, server.url(p)) for p in paths))

    assert ingest(root, "--timeout", "1") == 1
    lines = capsys.readouterr().err.splitlines()
    reasons = {line.split(": error: ")[0]: line.split(": error: ")[1] for line in lines}
    assert len(lines) == len(paths) == len(reasons)
    assert reasons[server.url("/loop")] == "more than 5 redirects"
    assert reasons[server.url("/bomb")] == "larger than 10,000,000 bytes"
    assert reasons[server.url("/cut")].startswith("cannot fetch:")
    assert reasons[server.url("/html")].startswith("not an RSS or Atom feed")
    assert reasons[server.url("/empty")].startswith("not an RSS or Atom feed")
    assert reasons[server.url("/slow")] in ("took longer than 1 s", "no answer within 1 s")
    assert reasons[server.url("/missing")] == "HTTP 404 Not Found"
    assert drafts(root) == {}


def cut_short(body: bytes) -> Handler:
    """A server that promises the whole body and closes the connection halfway."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True

    return handle


def trickle(body: bytes, seconds: float) -> Handler:
    """A server that sends a byte every tenth of a second, for ``seconds`` at most."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        for byte in body[: int(seconds * 10)]:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(0.1)

    return handle


def test_malformed_and_truncated_feeds_give_the_items_they_hold_and_a_warning(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = rss(4)
    server.serve("/truncated", whole[: whole.index(b"<item><title>Story 3")], "application/rss+xml")
    server.serve(
        "/unescaped",
        rss(1, host="https://other.example").replace(b"Story 1", b"Story 1 & <b>co"),
        "application/rss+xml",
    )
    root = site_with(make_site, ("T", server.url("/truncated")), ("U", server.url("/unescaped")))
    assert ingest(root) == 0
    err = capsys.readouterr().err
    assert f"{server.url('/truncated')}: warning: malformed feed, 2 items read" in err
    titles = {str(d["title"]) for d in drafts(root).values()}
    assert titles == {
        "Story 1 from Example News",
        "Story 2 from Example News",
        "Story 1 & co from Example News",
    }


def test_items_without_a_usable_link_are_counted_and_left_out(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    links = ["http://[::1", "javascript:alert(1)", "https://x.example/" + "a" * 3000, "", "/rel"]
    body = rss(len(links))
    for n, link in enumerate(links, 1):
        body = body.replace(f"https://news.example.com/story/{n}<".encode(), f"{link}<".encode())
    items = [{"id": str(n), "url": link, "title": f"J{n}"} for n, link in enumerate(links)]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    json_links = server.serve("/links.json", json.dumps(feed).encode(), "application/feed+json")
    root = site_with(make_site, ("Links", server.serve("/links", body)), ("JSON", json_links))
    assert ingest(root) == 0
    out = capsys.readouterr().out
    assert "Links: 5 items, 1 new, 4 without a link" in out
    assert "JSON: 5 items, 0 new, 1 already known, 4 without a link" in out
    [draft] = drafts(root).values()
    assert draft["source"]["url"] == server.url("/rel")  # type: ignore[index]


def test_a_proxied_link_gives_way_to_the_original(make_site: MakeSite, server: FeedServer) -> None:
    proxied = rss(1).replace(
        b"<link>https://news.example.com/story/1</link>",
        b"<link>http://feedproxy.example/~r/x/1</link>"
        b"<feedburner:origLink>https://news.example.com/story/1</feedburner:origLink>",
    )
    proxied = proxied.replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">',
    )
    root = site_with(make_site, ("Proxied", server.serve("/p", proxied)))
    assert ingest(root) == 0
    [draft] = drafts(root).values()
    assert draft["source"]["url"] == "https://news.example.com/story/1"  # type: ignore[index]


def test_a_link_is_kept_without_the_feeds_tracking_parameters(
    make_site: MakeSite, server: FeedServer
) -> None:
    tracked = rss(1).replace(
        b"<link>https://news.example.com/story/1</link>",
        b"<link>https://news.example.com/story/1?utm_source=rss&amp;id=7&amp;utm_medium=feed"
        b"</link>",
    )
    root = site_with(make_site, ("Tracked", server.serve("/t", tracked)))
    assert ingest(root) == 0
    [draft] = drafts(root).values()
    assert draft["source"]["url"] == "https://news.example.com/story/1?id=7"  # type: ignore[index]
    record = json.loads((root / "inbox.json").read_text(encoding="utf-8"))
    assert list(record["seen"]) == ["https://news.example.com/story/1?id=7"]


def test_a_wrong_charset_still_gives_utf_8_drafts(make_site: MakeSite, server: FeedServer) -> None:
    latin = rss(1).replace(b"Story 1", "Zürich café".encode("latin-1"))
    latin = latin.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"')
    server.serve("/latin", latin, "application/rss+xml; charset=utf-8")
    root = site_with(make_site, ("Latin", server.url("/latin")))
    assert ingest(root) == 0
    [draft] = drafts(root).values()
    assert "Zürich café" in str(draft["title"])


def test_duplicate_items_and_tracking_parameters_give_one_draft(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = rss(2).replace(
        b"https://news.example.com/story/2", b"http://www.news.example.com/story/1/?utm_source=rss"
    )
    server.serve("/twice", twice)
    cited = article("Already", "2026-11-20", source="'https://news.example.com/story/9'")
    root = site_with(
        make_site,
        ("Twice", server.url("/twice")),
        ("Again", server.serve("/again", rss(9))),
        files={"content/articles/already.md": cited},
    )
    assert ingest(root) == 0
    urls = sorted(str(d["source"]["url"]) for d in drafts(root).values())  # type: ignore[index]
    assert urls == [f"https://news.example.com/story/{n}" for n in range(1, 9)]
    # story/1 twice in the first feed, then story/1 and the cited story/9 in the second
    assert "(3 already known, 0 not modified)" in capsys.readouterr().out


HOSTILE = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Evil</title>'
    b"<link>https://evil.example/</link><description>d</description><item>"
    b"<title>../../../etc/passwd\x1b[31m &lt;script&gt;alert(1)&lt;/script&gt;"
    b"\n---\ndraft: false</title>"
    b"<link>https://evil.example/a</link><category>../..</category><category>,</category>"
    b"<description><![CDATA[<p onclick='x()'>Hi &lt;script&gt;alert(2)&lt;/script&gt;"
    b"<script>alert(3)</script><img src=x onerror=alert(4)>"
    b"<a href='javascript:alert(5)'>j</a> <iframe src='https://evil.example/'></iframe>"
    b"[md](javascript:alert(6)) <style>*{}</style></p>]]></description></item></channel></rss>"
)


def test_hostile_html_becomes_safe_markdown_and_the_draft_stays_in_the_inbox(
    make_site: MakeSite, server: FeedServer, tmp_path: Path
) -> None:
    server.serve("/evil", HOSTILE.replace(b"\x1b", b""))
    root = site_with(make_site, ("Evil", server.url("/evil")))
    assert ingest(root) == 0
    [path] = (root / "content" / "inbox").iterdir()
    assert path.name == "etc-passwd-31m-draft-false.md"  # the script is gone, text and all
    [draft] = drafts(root).values()
    assert draft["draft"] is True and "tags" not in draft
    assert (
        main(["build", "--source", str(root), "--drafts", "--output", str(tmp_path / "out")]) == 0
    )
    page = (tmp_path / "out" / "articles" / path.stem / "index.html").read_text(encoding="utf-8")
    body = page[page.index("<blockquote>") : page.index("</blockquote>")]
    for bad in ("<script", "onerror", "onclick", 'href="javascript', "<iframe", "<style", "<img"):
        assert bad not in body
    assert "<a href" not in body  # the javascript: link lost its address; the rest is text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body


def test_deeply_nested_markup_becomes_its_text(make_site: MakeSite, server: FeedServer) -> None:
    """Nesting no real summary has: markdownify recurses a level at a time (500 levels
    overflowed it), and html5ever's time grows with the square of the depth."""
    items = "".join(
        f"<item><title>{'&lt;i&gt;' * 20_000}Deep {n}</title><link>https://d.example/{n}</link>"
        f"<description>{f'&lt;{tag}&gt;' * depth}Deep text {n}</description></item>"
        for n, (tag, depth) in enumerate([("b", 500), ("blockquote", 1_500), ("em", 60)])
    )
    body = f'<rss version="2.0"><channel><title>D</title><link>https://d.example/</link>{items}'
    root = site_with(
        make_site, ("Deep", server.serve("/deep", (body + "</channel></rss>").encode()))
    )
    assert ingest(root) == 0
    quotes = {}
    for path in (root / "content" / "inbox").glob("*.md"):
        _, front, text = path.read_text(encoding="utf-8").split("---\n")
        quotes[yaml.safe_load(front)["source"]["url"]] = text.strip().splitlines()[0]
    assert quotes["https://d.example/0"] == "> Deep text 0"  # 500 levels: its text
    assert quotes["https://d.example/1"] == "> Deep text 1"
    assert quotes["https://d.example/2"] == f"> {'*' * 60}Deep text 2{'*' * 60}"  # kept


def test_an_entity_bomb_is_not_expanded(make_site: MakeSite, server: FeedServer) -> None:
    lol = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{lol}]><rss version="2.0">'
        "<channel><title>Bomb</title><link>https://b.example/</link><description>d</description>"
        "<item><title>&l9;</title><link>https://b.example/a</link></item></channel></rss>"
    )
    server.serve("/bomb", bomb.encode())
    root = site_with(make_site, ("Bomb", server.url("/bomb")))
    ingest(root)
    for path in (root / "content" / "inbox").glob("*.md"):
        assert path.stat().st_size < 10_000


def test_since_from_and_dry_run(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    root = site_with(
        make_site,
        ("News", server.serve("/news", rss(10))),
        ("Blog", server.serve("/blog", atom(3))),
    )
    assert ingest(root, "--dry-run") == 0
    assert "Ingest: 13 new drafts from 2 sources" in capsys.readouterr().out
    assert not (root / "content" / "inbox").exists() and not (root / "inbox.json").exists()
    assert ingest(root, "--from", "news", "--since", "2026-11-09") == 0
    dates = sorted(str(d["date"])[:10] for d in drafts(root).values())
    assert dates == ["2026-11-09", "2026-11-10", "2026-11-11"]
    assert ingest(root, "--from", "Nobody") == 2
    assert "error: --from: no source named 'Nobody'" in capsys.readouterr().err


def test_sources_from_an_opml_file_and_sources_import(
    make_site: MakeSite, server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    news, blog = server.serve("/news", rss(1)), server.serve("/blog", atom(1))
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        f'<outline text="Tech"><outline text="News &amp; more" type="rss" xmlUrl="{news}"/>'
        f'<outline text="Blog" xmlUrl="{blog}"/></outline>'
        '<outline text="Gopher" xmlUrl="gopher://old.example/"/></body></opml>'
    )
    root = make_site({"sources.opml": opml}, config=SITE_TOML + 'sources = "sources.opml"\n')
    assert ingest(root) == 0
    assert sorted(str(d["category"]) for d in drafts(root).values()) == ["Tech", "Tech"]

    other = make_site({"feeds.opml": opml}, name="other")
    assert main(["sources", "import", str(other / "feeds.opml"), "--source", str(other)]) == 0
    out, err = capsys.readouterr()
    assert "Sources: 2 added to site.toml, 0 already there, 1 outlines left out" in out
    assert "gopher://old.example/" in err
    assert main(["sources", "import", str(other / "feeds.opml"), "--source", str(other)]) == 0
    assert "Sources: 0 added to site.toml, 2 already there" in capsys.readouterr().out
    assert ingest(other) == 0
    assert {str(d["source"]["name"]) for d in drafts(other).values()} == {"News & more", "Blog"}  # type: ignore[index]


def test_a_broken_sources_table_names_its_line(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    config = (
        SITE_TOML
        + '\n[[sources]]\nname = "A"\nurl = "https://a.example/"\n'
        + '\n[[sources]]\nname = "B"\nurl = "feed.xml"\n'
    )
    root = make_site({}, config=config)
    assert ingest(root) == 2
    err = capsys.readouterr().err
    line = config.splitlines().index("[[sources]]", 12) + 1
    assert (
        f"site.toml:{line}: error: sources[2]: url: 'feed.xml' is not an absolute http(s) URL"
        in err
    )


def test_an_opml_file_of_sources_must_be_there_and_is_not_imported_into(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({}, config=SITE_TOML + 'sources = "feeds.opml"\n')
    assert ingest(root) == 2
    assert capsys.readouterr().err.startswith("error: sources: cannot read 'feeds.opml'")
    (root / "other.opml").write_text("<opml><body/></opml>", encoding="utf-8")
    assert main(["sources", "import", str(root / "other.opml"), "--source", str(root)]) == 1
    err = capsys.readouterr().err
    assert "site.toml: error: sources: site.toml reads its sources from 'feeds.opml'" in err


def _record(root: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((root / "inbox.json").read_text(encoding="utf-8"))
    return record


def _on(day: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the next command as if on ``day`` (noon UTC)."""
    moment = datetime.fromisoformat(f"{day}T12:00:00+00:00")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(moment.timestamp())))


def test_the_record_forgets_links_its_feed_stopped_listing_half_a_year_ago(
    make_site: MakeSite, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record would otherwise grow by every item of every feed, for good."""
    url = server.serve("/news.rss", rss(3), "application/rss+xml")
    root = site_with(make_site, ("Example News", url))
    _on("2026-01-10", monkeypatch)
    assert ingest(root) == 0
    seen = _record(root)["seen"]
    assert seen == {f"https://news.example.com/story/{n}": "2026-01-10" for n in (1, 2, 3)}
    shutil.rmtree(root / "content" / "inbox")  # the editor deleted the drafts by hand
    # The feed moves on: story 1 falls out of it, stories 2 and 3 stay, 4 comes.
    server.routes["/news.rss"] = static(_without_story_1(rss(4)), "application/rss+xml")
    _on("2026-03-01", monkeypatch)
    assert ingest(root) == 0
    assert [d["title"] for d in drafts(root).values()] == ["Story 4 from Example News"]
    _on("2026-07-09", monkeypatch)  # 180 days after the first run: nothing forgotten yet
    assert ingest(root) == 0 and len(_record(root)["seen"]) == 4
    _on("2026-07-10", monkeypatch)
    assert ingest(root) == 0
    # Story 1 is forgotten; 2 and 3, still listed, are not, and come back in no draft.
    assert sorted(_record(root)["seen"]) == [
        f"https://news.example.com/story/{n}" for n in (2, 3, 4)
    ]
    assert [d["title"] for d in drafts(root).values()] == ["Story 4 from Example News"]


def _without_story_1(feed: bytes) -> bytes:
    start = feed.index(b"<item>")
    return feed[:start] + feed[feed.index(b"</item>") + len(b"</item>") :]


def test_a_record_of_links_without_days_is_read_dated_and_pruned_of_dropped_sources(
    make_site: MakeSite, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.serve("/news.rss", rss(2), "application/rss+xml")
    root = site_with(make_site, ("Example News", url))
    old = {
        "seen": ["https://news.example.com/story/1", "https://gone.example/a"],
        "discarded": ["https://news.example.com/story/2"],
        "feeds": {"https://gone.example/feed": {"etag": '"x"'}},
    }
    (root / "inbox.json").write_text(json.dumps(old), encoding="utf-8")
    _on("2026-12-07", monkeypatch)
    assert ingest(root) == 0
    assert drafts(root) == {}  # both known from the old record
    record = _record(root)
    assert record["seen"] == {
        "https://gone.example/a": "2026-12-07",
        "https://news.example.com/story/1": "2026-12-07",
    }
    assert record["discarded"] == {"https://news.example.com/story/2": "2026-12-07"}
    assert record["feeds"] == {  # the feed no source names is gone; the one read lists its items
        url: {"items": ["https://news.example.com/story/1", "https://news.example.com/story/2"]}
    }


def test_items_of_one_page_told_apart_by_their_fragment_are_each_offered(
    make_site: MakeSite, server: FeedServer
) -> None:
    """A feed giving one item per part of a page (a changelog, a link blog)."""
    feed = rss(3).replace(b"/story/2</link>", b"/story/1#second</link>")
    feed = feed.replace(b"/story/3</link>", b"/story/1#third</link>")
    root = site_with(make_site, ("Example News", server.serve("/news.rss", feed)))
    assert ingest(root) == 0
    assert sorted(str(d["source"]["url"]) for d in drafts(root).values()) == [  # type: ignore[index]
        "https://news.example.com/story/1",
        "https://news.example.com/story/1#second",
        "https://news.example.com/story/1#third",
    ]
    assert ingest(root) == 0 and len(drafts(root)) == 3  # each known now
