"""The preview's /_inbox/ over real HTTP: the page, its buttons, and every refusal.

A button changes the site, so a POST is honoured only from this machine's own host
name, with the inbox page's Origin and the token that page carries.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.serve import PreviewOptions, PreviewServer
from tests.conftest import FIXED_NOW, SITE_TOML, MakeSite, article

WAIT = 15.0
DRAFT = "content/inbox/chip-news.md"
OTHER = "content/inbox/cloud-news.md"


def draft(title: str) -> str:
    return article(title, "2026-11-20", draft="true", source="https://example.com/story")


@pytest.fixture(params=["https://test.example.org/", "https://x.org/news/"])
def preview(make_site: MakeSite, request: pytest.FixtureRequest) -> Iterator[PreviewServer]:
    root = make_site(
        {
            "content/articles/alpha.md": article("Alpha story", "2026-11-19"),
            DRAFT: draft("Chip news"),
            OTHER: article("Cloud news", "2026-11-21", draft="true", source="https://b.org/x"),
        },
        config=SITE_TOML.replace("https://test.example.org/", request.param),
    )
    server = PreviewServer(
        PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=lambda line: None
    )
    with server:
        server.read_config()
        assert server.rebuild()
        yield server


def call(
    preview: PreviewServer,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=WAIT)
    try:
        sent = {"Host": f"127.0.0.1:{preview.port}", **(headers or {})}
        if method == "POST":
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body.encode(), headers=sent)
        reply = conn.getresponse()
        text = reply.read().decode("utf-8")
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, text
    finally:
        conn.close()


def inbox_path(preview: PreviewServer) -> str:
    return preview.base + "_inbox/"


def token_of(preview: PreviewServer) -> str:
    status, headers, page = call(preview, "GET", inbox_path(preview))
    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def press(preview: PreviewServer, action: str, path: str, token: str, **headers: str) -> int:
    form = f"action={action}&path={path.replace('/', '%2F')}&token={token}"
    origin = {"Origin": f"http://127.0.0.1:{preview.port}", **headers}
    return call(preview, "POST", inbox_path(preview), form, origin)[0]


def test_the_inbox_lists_the_drafts_under_the_sites_path(preview: PreviewServer) -> None:
    status, _, page = call(preview, "GET", inbox_path(preview))
    assert status == 200
    assert "Chip news" in page and "Cloud news" in page
    assert "Alpha story" not in page  # published already: not a candidate


def test_publish_and_discard_buttons_change_the_site(preview: PreviewServer) -> None:
    root, token = preview.root, token_of(preview)
    assert press(preview, "publish", DRAFT, token) == 303
    published = root / "content/articles/chip-news.md"
    assert published.is_file() and not (root / DRAFT).exists()
    assert "draft: false" in published.read_text(encoding="utf-8")
    assert press(preview, "discard", OTHER, token) == 303
    assert not (root / OTHER).exists()
    assert preview.rebuild("the buttons' files moved", changed=None)
    status, _, page = call(preview, "GET", preview.base + "articles/chip-news/")
    assert (status, "Chip news" in page) == (200, True)


def test_a_press_without_the_pages_token_or_origin_changes_nothing(
    preview: PreviewServer,
) -> None:
    token = token_of(preview)
    foreign = {"Origin": "http://attacker.example"}
    assert press(preview, "publish", DRAFT, token, **foreign) == 403  # a form on another site
    assert press(preview, "publish", DRAFT, "guessed") == 403
    assert press(preview, "publish", DRAFT, "") == 403
    status = call(preview, "POST", inbox_path(preview), f"action=publish&token={token}")[0]
    assert status == 403  # no Origin at all
    rebound = {"Host": "attacker.example", "Origin": "http://attacker.example"}
    assert press(preview, "publish", DRAFT, token, **rebound) == 421  # DNS rebinding
    assert call(preview, "GET", inbox_path(preview), headers={"Host": "attacker.example"})[0] == 421
    assert press(preview, "publish", "content/articles/alpha.md", token) == 400  # not a draft
    assert (preview.root / DRAFT).is_file()
    assert (preview.root / "content/articles/alpha.md").is_file()


def test_a_large_or_misdirected_post_is_refused(preview: PreviewServer) -> None:
    token = token_of(preview)
    origin = {"Origin": f"http://127.0.0.1:{preview.port}"}
    big = f"action=publish&path=x&token={token}&pad=" + "x" * 5_000
    assert call(preview, "POST", inbox_path(preview), big, origin)[0] == 413
    assert call(preview, "POST", preview.base + "articles/alpha/", "a=b", origin)[0] == 405
    assert (preview.root / DRAFT).is_file()


def test_the_inbox_page_is_not_written_to_the_site(preview: PreviewServer) -> None:
    token_of(preview)
    for folder in (preview.output_dir, Path(preview.root) / "output"):
        assert not (folder / "_inbox").exists()
