"""An Arabic site in headless Chromium: the theme mirrors, right to left."""

from __future__ import annotations

import functools
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import build_at, copy_bundled_site

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def arabic_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bundled site in Arabic, served over HTTP on a free local port."""
    root = copy_bundled_site(tmp_path_factory.mktemp("ar") / "site")
    toml = root / "site.toml"
    toml.write_text(re.sub(r'(?m)^language = ".*"$', 'language = "ar"', toml.read_text()))
    build_at(root)
    handler = functools.partial(_Quiet, directory=str(root / "output"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture(scope="module")
def page(arabic_site: str) -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        try:
            chromium = driver.chromium.launch(
                executable_path=shutil.which("chromium") or None, args=["--no-sandbox"]
            )
        except playwright_api.Error as exc:
            pytest.skip(f"no Chromium to drive: {exc.message.splitlines()[0]}")
        tab = chromium.new_page(viewport={"width": 1000, "height": 900})
        yield tab
        chromium.close()


def _box(page: object, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()  # type: ignore[attr-defined, no-any-return]


def test_the_arabic_front_page_is_laid_out_right_to_left(page: object, arabic_site: str) -> None:
    page.goto(arabic_site)  # type: ignore[attr-defined]
    title, nav = _box(page, ".site-title"), _box(page, ".site-nav")
    assert title["x"] > nav["x"] + nav["width"] / 2  # the site's name is on the right
    digest = page.locator(".digest-box")  # type: ignore[attr-defined]
    borders = digest.evaluate(
        "box => [getComputedStyle(box).borderRightWidth, getComputedStyle(box).borderLeftWidth]"
    )
    assert borders == ["4px", "0px"]  # the accent rule starts the line, on the right
    heading, meta = _box(page, ".card-title"), _box(page, ".card .meta")
    # Lines end on the left: a short line's text sits against the right edge.
    assert abs((heading["x"] + heading["width"]) - (meta["x"] + meta["width"])) < 2


def test_an_arabic_article_page_reads_right_to_left(page: object, arabic_site: str) -> None:
    page.goto(arabic_site + "articles/linux-turns-30/")  # type: ignore[attr-defined]
    direction = page.evaluate("getComputedStyle(document.body).direction")  # type: ignore[attr-defined]
    assert direction == "rtl"
    older, newer = _box(page, ".neighbours .older"), _box(page, ".neighbours .newer")
    # Mirrored: the older story starts the line (on the right), its arrow pointing out.
    assert older["x"] > newer["x"]
    assert page.locator(".neighbours .older .dir").inner_text().startswith("→")  # type: ignore[attr-defined]


def test_code_in_an_arabic_page_keeps_its_left_to_right_order(
    page: object, arabic_site: str
) -> None:
    page.goto(arabic_site + "articles/linux-turns-30/")  # type: ignore[attr-defined]
    block = page.locator(".body pre").first  # type: ignore[attr-defined]
    shown = block.evaluate(
        "pre => [getComputedStyle(pre).direction, getComputedStyle(pre).textAlign]"
    )
    assert shown == ["ltr", "left"]
    # Its first line starts at the block's left edge, not cut off at the right.
    line = block.evaluate(
        """pre => {
            const text = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT).nextNode();
            const range = document.createRange();
            range.setStart(text, 0);
            range.setEnd(text, 1);
            return range.getBoundingClientRect().left - pre.getBoundingClientRect().left;
        }"""
    )
    assert 0 <= line < 40
