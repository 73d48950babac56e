"""``site-builder build --check``: the checks of ``check`` on what the build renders.

Whatever the build did (a whole site, a few changed files, nothing at all), the
problems it reports are exactly ``check``'s, in the same formats and with the same
exit codes, and the site it writes is exactly a plain build's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from site_builder.refs import parse_html
from tests.conftest import SITE_TOML, MakeSite, article
from tests.test_output_safety import snapshot

SITES = Path(__file__).parent / "sites"
REPO = Path(__file__).parent.parent
BROKEN = "content/articles/broken-link.md"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, in the site's folder as a user runs it."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1900000000"}
    env.pop("GITHUB_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def problems(done: subprocess.CompletedProcess[str], fmt: str) -> str:
    """The problem lines, without the summaries and the build's own lines."""
    text = done.stdout if fmt != "text" else done.stderr
    lines = text.splitlines()
    ours = ("Built ", "Checked ", "Search: ", "Next scheduled")
    return "\n".join(line for line in lines if not line.startswith(ours))


@pytest.fixture
def defects(tmp_path: Path) -> Path:
    return shutil.copytree(SITES / "defects", tmp_path / "defects")


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_first_build_reports_what_check_reports(defects: Path, fmt: str) -> None:
    checked = cli(defects, "check", "--jobs", "1", "--format", fmt)
    built = cli(defects, "build", "--check", "--no-search", "--jobs", "1", "--format", fmt)
    assert (checked.returncode, built.returncode) == (1, 1)
    assert problems(built, fmt) == problems(checked, fmt)
    assert "broken link '/news/articles/no-such-story/'" in problems(built, fmt)
    assert built.stdout.startswith("Built ")  # the site was built, and says so
    summary = [line for line in built.stderr.splitlines() if line.startswith("Checked ")]
    assert summary == [line for line in checked.stderr.splitlines() if line.startswith("Checked")]


def test_the_site_it_writes_is_a_plain_builds(defects: Path, tmp_path: Path) -> None:
    plain = shutil.copytree(defects, tmp_path / "plain")
    assert cli(defects, "build", "--check", "--jobs", "1").returncode == 1
    assert cli(plain, "build", "--jobs", "1").returncode == 0
    assert snapshot(defects / "output") == snapshot(plain / "output")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_after_an_edit_unchanged_pages_are_checked_too(make_site: MakeSite, jobs: str) -> None:
    """An incremental build renders one page; the check still reads all of them. With
    enough pages, rendering and reading happen in worker processes."""
    files = {
        f"content/articles/story-{n:03}.md": article(f"Story {n}", f"2026-10-{n % 28 + 1:02}")
        for n in range(220)
    }
    files["content/articles/linked.md"] = article("Linked", "2026-11-02", "[x](/articles/gone/)")
    root = make_site(files)
    first = cli(root, "build", "--check", "--no-search", "--jobs", jobs)
    assert first.returncode == 1, first.stderr
    assert "content/articles/linked.md:6:5: error: broken link '/articles/gone/'" in first.stderr
    fixed = article("Linked", "2026-11-02", "[x](/articles/story-007/)")
    (root / "content/articles/linked.md").write_text(fixed, encoding="utf-8")
    second = cli(root, "build", "--check", "--no-search", "--jobs", jobs)
    assert second.returncode == 0, second.stderr
    assert "written" in second.stdout and "0 unchanged" not in second.stdout
    checked = cli(root, "check", "--jobs", jobs)
    assert second.stdout.splitlines()[-1] == checked.stdout.splitlines()[-1]
    assert checked.stdout.splitlines()[-1] == "Checked 423 files: 0 errors, 0 warnings"
    (root / "content/articles/story-007.md").unlink()
    third = cli(root, "build", "--check", "--no-search", "--jobs", jobs)
    assert third.returncode == 1
    assert "broken link '/articles/story-007/'" in third.stderr


def test_nothing_to_do_still_checks_everything(defects: Path) -> None:
    assert cli(defects, "build", "--no-search", "--jobs", "1").returncode == 0
    again = cli(defects, "build", "--check", "--no-search", "--jobs", "1")
    assert again.returncode == 1
    assert "0 written" in again.stdout
    assert "broken image '/news/images/missing-chart.svg'" in again.stderr


def test_strict_makes_warnings_errors_as_check_does(make_site: MakeSite) -> None:
    same = "https://example.com/same"
    root = make_site(
        {
            "content/articles/a.md": article("A", "2026-11-01", source=same),
            "content/articles/b.md": article("B", "2026-11-02", source=same),
        }
    )
    lenient = cli(root, "build", "--check", "--no-search", "--jobs", "1")
    strict = cli(root, "build", "--check", "--no-search", "--jobs", "1", "--strict")
    checked = cli(root, "check", "--jobs", "1", "--strict")
    assert lenient.returncode == 0 and "warning:" in lenient.stderr
    assert (strict.returncode, checked.returncode) == (1, 1)
    assert problems(strict, "text") == problems(checked, "text")


def test_a_site_that_cannot_be_built_fails_as_check_does(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": "---\ntitle: A\ndate: tomorrow\n---\n\nText.\n"})
    built = cli(root, "build", "--check", "--format", "github")
    checked = cli(root, "check", "--format", "github")
    assert (built.returncode, checked.returncode) == (1, 1)
    assert built.stdout == checked.stdout
    assert built.stdout.startswith("::error file=content/articles/a.md,line=3")
    assert not (root / "output").exists()
    (root / "site.toml").write_text(SITE_TOML + "colour = 'red'\n", encoding="utf-8")
    assert cli(root, "build", "--check").returncode == 2


# --- Reading pages: the scanner against the standard library's parser ------------------


class _Reference(HTMLParser):
    """What the check read with ``HTMLParser`` before the scanner: the reference."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, int, int, str]] = []
        self.ids: list[tuple[str, int, int]] = []
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line, offset = self.getpos()
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src", "poster"):
                what = "image" if tag in ("img", "source", "video") else "link"
                self.links.append((value.strip(), line, offset + 1, what))
            elif name == "id":
                self.ids.append((value, line, offset + 1))
            elif name == "name" and tag == "a":
                self.names.add(value)


def reference(text: str) -> tuple[object, ...]:
    parser = _Reference()
    parser.feed(text)
    parser.close()
    anchors = frozenset(i[0] for i in parser.ids) | parser.names
    return tuple(parser.links), tuple(parser.ids), anchors


def scanned(text: str) -> tuple[object, ...]:
    page = parse_html(text)
    links = tuple((r.value, r.line, r.column, r.what) for r in page.links)
    return links, tuple((r.value, r.line, r.column) for r in page.ids), page.anchors


HANDMADE = [
    '<p>See <a href="/a/">a</a> and <a href=/b/ id=x>b</a>.</p>',
    '<A HREF="/upper/" ID="Up">x</A><IMG SRC="/i.png">',
    "<a\n  href='/multi/'\n  title=\"a > b\">x</a>",
    '<!-- <a href="/commented/"> --><a href="/after/">x</a>',
    '<script>var s = "<a href=\\"/in-script/\\">";</script><a href="/after-script/">',
    '<script src="/static/x.js"></script><style>a[href="/css/"] {}</style>',
    '<a href="/?a=1&amp;b=2">x</a><a href="  /spaced/  ">y</a>',
    '<a name="old-anchor"></a><h2 id="new">x</h2><p>id=3 and href=/no/ in text</p>',
    '<video poster="/p.jpg" src="/v.mp4"></video><source src="/s.webm">',
    '<p>İstanbul İzmir</p><a href="/after-long-lower/">x</a>',
    '<img src="/self-closing.png"/><br/><a href="" id="">empty</a>',
    '<div class="x" data-href="/data/" hidden><a class=y href="/z/">z</a></div>',
]


@pytest.mark.parametrize("text", HANDMADE)
def test_the_scanner_reads_handmade_html_as_htmlparser_does(text: str) -> None:
    assert scanned(text) == reference(text)


def test_the_scanner_reads_every_built_page_as_htmlparser_does(
    bundled_output: Path, defects: Path
) -> None:
    assert cli(defects, "build", "--no-search", "--jobs", "1").returncode == 0
    pages = [
        *bundled_output.rglob("*.html"),
        *(defects / "output").rglob("*.html"),
        *(REPO / "tests/golden").rglob("*.html"),
    ]
    assert len(pages) > 100
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert scanned(text) == reference(text), path


def test_a_raw_less_than_sign_in_a_value_still_leaves_the_url_read() -> None:
    text = '<p><a title="1 < 2" href="/still-read/">x</a></p>'
    assert [ref.value for ref in parse_html(text).links] == ["/still-read/"]
