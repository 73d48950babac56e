"""The error overlay in headless Chromium: readable on the bundled theme and on any site.

A real preview server builds a site, then a build with errors; the test measures in
Chromium the WCAG 2 contrast of each line of the overlay against what is painted
beneath it, and checks that the site's own CSS cannot hide, restyle or cover it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from site_builder.serve import PreviewOptions, PreviewServer
from tests import test_browser
from tests.conftest import FIXED_NOW, MakeSite, article

playwright_api = pytest.importorskip("playwright.sync_api")
Browser = playwright_api.Browser
Page = playwright_api.Page
expect = playwright_api.expect

pytestmark = pytest.mark.browser
browser = test_browser.browser  # one Chromium for the module, launched as there
WAIT_MS = test_browser.WAIT_MS
OVERLAY = "#site-builder-errors"
LINES = f"{OVERLAY} pre"
TEXT = f"{OVERLAY} p, {LINES}"  # the count line and every error line
WCAG_AA = 4.5
PHONE = {"width": 390, "height": 844}
BAD_DATE = "---\ntitle: Broken\ndate: '<b>soon</b>'\n---\n\nBody.\n"  # quoted in the error
UNCLOSED = "---\ntitle: Broken\ndate: 2026-11-20\n\nBody.\n"  # an error with a hint line
# A site that styles everything it can reach, and the overlay by name: none of it may
# make the overlay unreadable, hidden or covered.
HOSTILE_CSS = """\
* {
  color: #f4f4f4 !important; background: #fafafa !important;
  font: italic 5px/.6 serif !important; letter-spacing: 3em; text-transform: uppercase;
  white-space: nowrap; direction: rtl; visibility: hidden;
}
div, p, pre, code {
  display: none !important; color: #fcc !important; background-color: #f4f4f4 !important;
}
site-builder-errors, #site-builder-errors, [role="alert"] {
  display: none !important; opacity: 0 !important; position: static !important;
}
*::before, *::after {
  content: ""; position: fixed; inset: 0; z-index: 2147483647;
  visibility: visible; background: rgb(250 250 250 / .6) !important;
}
"""

# Run in the page for one text element: its colour, the backgrounds painted beneath
# the middle of it (topmost first), whether it is itself on top there, and what could
# still make it unreadable.
MEASURE = """(el) => {
  el.scrollIntoView({ block: "nearest" });
  const css = (e) => getComputedStyle(e);
  const box = el.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const shown = el.getRootNode().elementsFromPoint(x, y);
  let opacity = 1;  // through the shadow root to the host, and up to the root
  for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
    opacity *= Number(css(e).opacity);
  }
  const page = [document.documentElement, document.body];
  return {
    onTop: shown.length > 0 && el.contains(shown[0]),
    color: css(el).color,
    beneath: shown.filter((e) => !page.includes(e)).map((e) => css(e).backgroundColor),
    canvas: page.map((e) => css(e).backgroundColor),
    opacity,
    fontSize: parseFloat(css(el).fontSize),
    wraps: el.scrollWidth <= el.clientWidth,
    direction: css(el).direction,
  };
}"""

Colour = tuple[float, float, float, float]
WHITE: Colour = (255.0, 255.0, 255.0, 1.0)


def parse(css: str) -> Colour:
    """``rgb(r, g, b)`` or ``rgba(r, g, b, a)``, as getComputedStyle gives colours."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    assert css.startswith("rgb") and len(numbers) in (3, 4), f"unexpected colour {css!r}"
    return (numbers[0], numbers[1], numbers[2], numbers[3] if len(numbers) == 4 else 1.0)


def over(top: Colour, below: Colour) -> Colour:
    """``top`` painted over the opaque ``below`` (source-over, in sRGB as browsers do)."""
    alpha = top[3]
    r, g, b = (t * alpha + u * (1 - alpha) for t, u in zip(top[:3], below[:3], strict=True))
    return (r, g, b, 1.0)


def luminance(colour: Colour) -> float:
    def linear(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: Colour, other: Colour) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_contrast(seen: dict[str, Any]) -> float:
    """The text's contrast against what is beneath it, composited bottom up: white, the
    root's and the body's backgrounds (the canvas), then each box under the text."""
    ground = WHITE
    for css in [*seen["canvas"], *reversed(seen["beneath"])]:
        ground = over(parse(css), ground)
    return contrast(over(parse(seen["color"]), ground), ground)


def assert_readable(page: Page) -> list[float]:
    """Each line of the overlay on top, opaque, wrapped, of a size to read, at ≥ 4.5:1."""
    ratios = []
    for handle in page.locator(TEXT).element_handles():
        seen = handle.evaluate(MEASURE)
        text = handle.text_content()
        assert seen["onTop"], f"covered by the page: {text!r}"
        assert seen["opacity"] == 1, f"faded to {seen['opacity']}: {text!r}"
        assert seen["fontSize"] >= 12, f"{seen['fontSize']}px: {text!r}"
        assert seen["wraps"], f"runs off the side: {text!r}"
        assert seen["direction"] == "ltr", f"set right to left: {text!r}"
        ratio = text_contrast(seen)
        assert ratio >= WCAG_AA, f"{ratio:.2f}:1 ({seen}): {text!r}"
        ratios.append(ratio)
    return ratios


class Preview:
    """A site served by a preview server; its builds are started by the test."""

    def __init__(self, preview: PreviewServer, root: Path, logged: list[str]) -> None:
        self.server, self.root, self.logged = preview, root, logged

    def break_articles(self, broken: Mapping[str, str]) -> list[str]:
        """Write the articles named, rebuild, and return the errors as reported."""
        for name, text in broken.items():
            (self.root / f"content/articles/{name}.md").write_text(text, encoding="utf-8")
        self.logged.clear()
        assert not self.server.rebuild()
        return self.logged[:-1]  # one report per error, then the count line

    def open(self, page: Page, path: str = "articles/alpha/") -> None:
        page.goto(self.server.url + path)
        page.wait_for_function("() => window.siteBuilderPreview?.connected")


MakePreview = Callable[..., Preview]


@pytest.fixture
def make_preview(make_site: MakeSite) -> Iterator[MakePreview]:
    """``make_preview(css)`` → a built site, its pages linking ``css`` after the theme."""
    servers = ExitStack()

    def make(css: str = "", articles: int = 2) -> Preview:
        files = {
            f"content/articles/{name}.md": article(f"{name.capitalize()} story", "2026-11-20")
            for name in ["alpha", "beta", *(f"extra{n:02}" for n in range(articles - 2))]
        }
        if css:
            base = Path(__file__).parent.parent / "templates/base.html"
            files["templates/static/site.css"] = css
            files["templates/base.html"] = base.read_text(encoding="utf-8").replace(
                "</head>", '<link rel="stylesheet" href="/static/site.css">\n</head>'
            )
        root = make_site(files)
        logged: list[str] = []
        server = PreviewServer(
            PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=logged.append
        )
        servers.enter_context(server)
        assert server.rebuild()
        return Preview(server, root, logged)

    with servers:
        yield make


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``new_page(color_scheme=..., viewport=...)`` → a page in a context of its own."""
    contexts = []

    def make(**options: Any) -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def assert_shows(page: Page, errors: list[str]) -> None:
    """Every error, each as its text: as reported, unstyled, never read as HTML."""
    expect(page.locator(OVERLAY)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(errors[0])
    expect(page.locator(LINES)).to_have_count(len(errors))
    assert page.locator(LINES).all_text_contents() == errors
    # Rendered as written: no text-transform, and the hint stays on its own line.
    assert page.locator(LINES).all_inner_texts() == errors
    assert any("<b>soon</b>" in line for line in errors)
    assert any("\n  hint: " in line for line in errors)
    expect(page.locator(f"{OVERLAY} b")).to_have_count(0)
    count = len(errors)
    expect(page.locator(f"{OVERLAY} p")).to_have_text(
        f"Build failed: {count} errors. "
        "This page is the last good build; fix the files and it updates."
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_errors_are_readable_on_the_bundled_theme(
    make_preview: MakePreview, new_page: Callable[..., Page], scheme: str
) -> None:
    preview = make_preview()
    errors = preview.break_articles({"alpha": BAD_DATE, "beta": UNCLOSED})
    page = new_page(color_scheme=scheme)
    preview.open(page)
    assert_shows(page, errors)
    assert len(assert_readable(page)) == len(errors) + 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_sites_css_cannot_hide_or_restyle_the_errors(
    make_preview: MakePreview, new_page: Callable[..., Page], scheme: str
) -> None:
    preview = make_preview(HOSTILE_CSS)
    errors = preview.break_articles({"alpha": BAD_DATE, "beta": UNCLOSED})
    page = new_page(color_scheme=scheme)
    preview.open(page)
    # The site's CSS is in force on the page itself.
    expect(page.locator("main p").first).to_have_css("display", "none")
    assert_shows(page, errors)
    assert len(assert_readable(page)) == len(errors) + 1


def test_many_errors_scroll_on_a_phone(
    make_preview: MakePreview, new_page: Callable[..., Page]
) -> None:
    preview = make_preview(articles=30)
    many = {f"extra{n:02}": BAD_DATE for n in range(28)}
    errors = preview.break_articles({**many, "alpha": BAD_DATE, "beta": UNCLOSED})
    page = new_page(viewport=PHONE)
    preview.open(page)
    expect(page.locator(LINES)).to_have_count(len(errors))
    assert page.locator(LINES).all_text_contents() == errors
    # The overlay fits the screen, and a reader scrolls it to the last error.
    assert page.locator(OVERLAY).bounding_box() == {"x": 0, "y": 0, **PHONE}
    expect(page.locator(LINES).last).not_to_be_in_viewport()
    page.mouse.move(PHONE["width"] / 2, PHONE["height"] / 2)
    page.mouse.wheel(0, 100_000)
    expect(page.locator(LINES).last).to_be_in_viewport()
    assert len(assert_readable(page)) == len(errors) + 1


def test_a_title_sent_with_the_errors_replaces_the_count_line(
    make_preview: MakePreview, new_page: Callable[..., Page]
) -> None:
    preview = make_preview()
    errors = preview.break_articles({"alpha": BAD_DATE})
    page = new_page()
    preview.open(page)
    expect(page.locator(LINES)).to_have_count(1)
    title = "Échec de la construction : 1 erreur. <b>Corrigez</b> les fichiers."
    preview.server.events.publish("error", {"errors": errors, "title": title})
    expect(page.locator(f"{OVERLAY} p")).to_have_text(title)
    expect(page.locator(f"{OVERLAY} b")).to_have_count(0)
    preview.server.events.publish("ok", {})
    expect(page.locator(OVERLAY)).to_have_count(0)
