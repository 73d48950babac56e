"""Live preview in headless Chromium: pages update by themselves after edits on disk.

The test only edits files; the watcher, the rebuild and the reload script do the rest.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from site_builder.config import is_ignored
from site_builder.serve import PreviewOptions, PreviewServer
from site_builder.watch import Watcher
from tests.conftest import FIXED_NOW, SITE_TOML, MakeSite, article

playwright_api = pytest.importorskip("playwright.sync_api")
Browser = playwright_api.Browser
Page = playwright_api.Page
expect = playwright_api.expect

pytestmark = pytest.mark.browser
WAIT_MS = 20_000
ALPHA = "content/articles/alpha.md"
OVERLAY = "#site-builder-errors"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_api.sync_playwright() as driver:
        try:
            chromium = driver.chromium.launch(
                executable_path=shutil.which("chromium") or None, args=CHROMIUM_ARGS
            )
        except playwright_api.Error as exc:
            pytest.skip(f"no Chromium to drive: {exc.message.splitlines()[0]}")
        yield chromium
        chromium.close()


class Site:
    """A site being previewed, with the watcher running, as ``site-builder serve`` runs it."""

    def __init__(self, root: Path, preview: PreviewServer) -> None:
        self.root, self.preview = root, preview

    def url(self, path: str) -> str:
        return self.preview.url + path.lstrip("/")

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text, encoding="utf-8")


@pytest.fixture(params=["https://test.example.org/", "https://x.org/news/"])
def site(make_site: MakeSite, request: pytest.FixtureRequest) -> Iterator[Site]:
    """Each test runs on a site at the root of its host, and on a project site under a
    sub-path, which the preview serves under that path: the reload script must map
    both to the files that changed."""
    root = make_site(
        {
            ALPHA: article("Alpha story", "2026-11-20"),
            "content/articles/beta.md": article("Beta story", "2026-11-21"),
            "templates/static/extra.css": "h1 { color: rgb(0, 0, 0) }\n",
            "templates/base.html": (Path(__file__).parent.parent / "templates/base.html")
            .read_text(encoding="utf-8")
            .replace(
                "</head>", '<link rel="stylesheet" href="{{ \'/static/extra.css\'|rel }}">\n</head>'
            ),
        },
        config=SITE_TOML.replace("https://test.example.org/", request.param),
    )
    preview = PreviewServer(
        PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=lambda line: None
    )
    watcher = Watcher(
        root,
        lambda batch: preview.rebuild(batch.describe(), reload_config=batch.config_changed),
        ignore=is_ignored,
        output=preview.output_dir,
    )
    with preview, watcher:
        assert preview.rebuild()
        assert preview.url.endswith(urlsplit(request.param).path)
        yield Site(root, preview)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    # Connected once the event stream has delivered the current state.
    page.wait_for_function("() => window.siteBuilderPreview?.connected")


def generation(page: Page) -> str:
    return str(page.evaluate("() => window.siteBuilderPreview.generation"))


def test_an_open_article_shows_its_new_title(site: Site, page: Page) -> None:
    open_page(page, site.url("/articles/alpha/"))
    heading = page.locator("article h1, main h1").first
    expect(heading).to_have_text("Alpha story")
    site.write(ALPHA, article("Alpha story, as edited", "2026-11-20"))
    expect(heading).to_have_text("Alpha story, as edited", timeout=WAIT_MS)


def test_broken_front_matter_shows_the_overlay_and_a_fix_removes_it(
    site: Site, page: Page, browser: Browser
) -> None:
    open_page(page, site.url("/articles/alpha/"))
    site.write(ALPHA, "---\ntitle: Alpha story\ndate: '<b>soon</b>'\n---\n\nBody.\n")
    overlay = page.locator(OVERLAY)
    expect(overlay).to_be_visible(timeout=WAIT_MS)
    expect(overlay).to_contain_text(f"{ALPHA}:")
    expect(overlay).to_contain_text("<b>soon</b>")  # shown as text: never parsed as HTML
    expect(overlay.locator("b")).to_have_count(0)
    expect(page.locator("article h1, main h1").first).to_have_text("Alpha story")

    later = browser.new_page()  # a page opened while the build is broken
    try:
        later.goto(site.url("/articles/beta/"))
        expect(later.locator(OVERLAY)).to_contain_text(f"{ALPHA}:", timeout=WAIT_MS)
        site.write(ALPHA, article("Alpha story, fixed", "2026-11-20"))
        expect(overlay).to_have_count(0, timeout=WAIT_MS)
        expect(later.locator(OVERLAY)).to_have_count(0, timeout=WAIT_MS)
    finally:
        later.close()
    expect(page.locator("article h1, main h1").first).to_have_text("Alpha story, fixed")


def test_a_stylesheet_edit_swaps_css_without_reloading(site: Site, page: Page) -> None:
    open_page(page, site.url("/articles/beta/"))
    page.evaluate("() => { window.notReloaded = true; }")
    heading = page.locator("article h1, main h1").first
    expect(heading).to_have_css("color", "rgb(0, 0, 0)")
    site.write("templates/static/extra.css", "h1 { color: rgb(200, 0, 0) }\n")
    expect(heading).to_have_css("color", "rgb(200, 0, 0)", timeout=WAIT_MS)
    assert page.evaluate("() => window.notReloaded") is True


def test_only_pages_whose_output_changed_reload(site: Site, page: Page, browser: Browser) -> None:
    other = browser.new_page()
    try:
        open_page(page, site.url("/articles/alpha/"))
        open_page(other, site.url("/tags/"))
        other.evaluate("() => { window.notReloaded = true; }")
        before = generation(other)
        site.write(ALPHA, article("Alpha story", "2026-11-20", body="A new paragraph."))
        expect(page.locator("text=A new paragraph.")).to_be_visible(timeout=WAIT_MS)
        # The tags index heard the same event, and stayed: its file did not change.
        other.wait_for_function(f"() => window.siteBuilderPreview.generation !== {before!r}")
        assert other.evaluate("() => window.notReloaded") is True
    finally:
        other.close()
