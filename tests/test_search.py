"""Full-text search: the real Pagefind indexes the built site, and headless Chromium
searches it on /search/; without Pagefind, a clear message instead of a crash."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from site_builder.cli import parser
from site_builder.errors import ConfigError
from site_builder.search import BUNDLE_DIR, SearchResult, index_site
from tests.conftest import SITE_TOML, MakeSite, article, build_at, copy_bundled_site
from tests.test_output_safety import snapshot

SEED_TITLE = "Huawei May Start Selling 3rd Party Phones"
HAS_PAGEFIND = importlib.util.find_spec("pagefind") is not None
needs_pagefind = pytest.mark.skipif(
    not HAS_PAGEFIND, reason="Pagefind is not installed: pip install -e '.[search]'"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SearchResult]:
    """The bundled site, built and indexed once by the real Pagefind."""
    if not HAS_PAGEFIND:
        pytest.skip("Pagefind is not installed: pip install -e '.[search]'")
    root = copy_bundled_site(tmp_path_factory.mktemp("search") / "site")
    build_at(root)
    result = index_site(root / "output")
    assert isinstance(result, SearchResult), result
    return root / "output", result


def test_search_page_loads_pagefind_and_says_what_to_do_without_it(
    bundled_output: Path,
) -> None:
    page = (bundled_output / "search/index.html").read_text(encoding="utf-8")
    assert '<script src="/static/search.js" defer></script>' in page
    assert 'data-bundle="/pagefind/"' in page
    assert "<noscript>" in page and "Search needs JavaScript" in page
    script = (bundled_output / "static/search.js").read_text(encoding="utf-8")
    assert 'bundle + "pagefind-ui.js"' in script and 'bundle + "pagefind-ui.css"' in script
    assert 'href="/search/"' in (bundled_output / "index.html").read_text(encoding="utf-8")


def test_a_sub_path_site_loads_its_own_bundle(make_site: MakeSite) -> None:
    config = SITE_TOML.replace('"https://test.example.org/"', '"https://test.example.org/news/"')
    root = make_site({"content/articles/a.md": article("A", "2026-11-17")}, config)
    build_at(root)
    page = (root / "output/search/index.html").read_text(encoding="utf-8")
    assert 'data-bundle="/news/pagefind/"' in page and 'data-base="/news/"' in page


def test_only_stories_and_pages_are_marked_for_the_index(bundled_output: Path) -> None:
    def marked(rel: str) -> bool:
        return "data-pagefind-body" in (bundled_output / rel).read_text(encoding="utf-8")

    assert marked("articles/huawei-may-start-selling-3rd-party-phones/index.html")
    assert marked("about/index.html")
    assert not marked("index.html") and not marked("tags/huawei/index.html")
    assert not marked("digest/2021/w33/email.html")


def test_without_pagefind_indexing_says_how_to_install_it(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17")})
    build_at(root)
    monkeypatch.setitem(sys.modules, "pagefind", None)  # what find_spec sees when absent
    monkeypatch.setenv("PATH", str(tmp_path))  # and no pagefind binary on PATH either
    result = index_site(root / "output")
    assert isinstance(result, ConfigError)
    assert str(result) == "error: --search needs Pagefind, which is not installed"
    assert result.hint == "install the search extra: pip install 'site-builder[search]'"
    assert not (root / "output" / BUNDLE_DIR).exists()


@needs_pagefind
def test_pagefind_indexes_every_story_and_page(indexed: tuple[Path, SearchResult]) -> None:
    output, result = indexed
    assert result.pages == 19  # 18 published stories and the about page
    assert result.bundle == output / BUNDLE_DIR
    assert (result.bundle / "pagefind-ui.js").is_file()
    assert (result.bundle / "pagefind-ui.css").is_file()


@needs_pagefind
def test_indexing_again_replaces_the_index_and_leaves_nothing_behind(
    make_site: MakeSite,
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    build_at(root)
    assert isinstance(index_site(root / "output"), SearchResult)
    second = index_site(root / "output")
    assert isinstance(second, SearchResult) and second.pages == 1
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [".output.spare", ".site-builder", "content", "output", "permalinks.json", "site.toml"]
    )


def _build_has_search_option() -> bool:
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            parser().parse_args(["build", "--search"])
        except SystemExit:
            return False
    return True


@pytest.mark.skipif(not _build_has_search_option(), reason="cli.py --search patch not applied")
@needs_pagefind
def test_build_search_option_indexes_after_building(make_site: MakeSite) -> None:
    from site_builder.cli import main

    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    assert main(["build", "--source", str(root), "--jobs", "1", "--search"]) == 0
    assert (root / "output" / BUNDLE_DIR / "pagefind-ui.js").is_file()


@needs_pagefind
def test_the_index_is_kept_by_the_next_builds(make_site: MakeSite) -> None:
    """Pagefind writes into the live site after the build; the next builds stage from
    the spare, which must take the index from the live site."""
    from site_builder.cli import main

    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    assert main(["build", "--source", str(root), "--jobs", "1", "--search"]) == 0
    bundle = snapshot(root / "output" / BUNDLE_DIR)
    assert "pagefind-ui.js" in bundle
    edited = article("A", "2026-11-17", "Quokka facts.\n\nMore of them.")
    (root / "content/articles/a.md").write_text(edited, encoding="utf-8")
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 0
    assert snapshot(root / "output" / BUNDLE_DIR) == bundle
    (root / "content/articles/b.md").write_text(article("B", "2026-11-18", "Numbats."))
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 0
    assert snapshot(root / "output" / BUNDLE_DIR) == bundle


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(indexed: tuple[Path, SearchResult]) -> Iterator[str]:
    """The indexed site over real HTTP (Pagefind fetches its index; file:// cannot)."""
    handler = functools.partial(_Quiet, directory=str(indexed[0]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.browser
@needs_pagefind
def test_searching_harmonyos_in_chromium_finds_the_seed(served: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        try:
            browser = driver.chromium.launch(
                executable_path=shutil.which("chromium") or None, args=CHROMIUM_ARGS
            )
        except sync_api.Error as exc:
            pytest.skip(f"no Chromium to drive: {exc.message.splitlines()[0]}")
        try:
            page = browser.new_page()
            page.goto(served + "search/")
            box = page.locator(".pagefind-ui__search-input")
            box.fill("HarmonyOS")
            first = page.locator(".pagefind-ui__result-link").first
            sync_api.expect(first).to_be_visible(timeout=20_000)
            titles = page.locator(".pagefind-ui__result-link").all_inner_texts()
            assert SEED_TITLE in titles
            link = page.locator(".pagefind-ui__result-link", has_text=SEED_TITLE)
            assert link.get_attribute("href") == (
                "/articles/huawei-may-start-selling-3rd-party-phones/"
            )
        finally:
            browser.close()
