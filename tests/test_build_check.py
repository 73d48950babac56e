"""``site-builder build --check``: the checks of ``check`` on what the build renders.

Whatever the build did (a whole site, a few changed files, nothing at all), the
problems it reports are exactly ``check``'s, in the same formats and with the same
exit codes, and the site it writes is exactly a plain build's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder import refs
from site_builder.refs import Page, Refs, parse_html, parse_page, read_page
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


# One story holds a broken link, a missing anchor and a missing image, each found in
# its Markdown; a relative link that breaks on the list pages showing the story, found
# in those pages (their lines are counted from the output folder); and a feed the site
# serves from content/ has a date without a zone.
PLANTED = (
    "Next to [its neighbour](../quiet/), a link that works from its own page only.\n\n"
    "See [the start](/articles/story-000/) and [a lost story](/articles/never-written/).\n\n"
    "Read [the quiet story's end](/articles/quiet/#no-such-part).\n\n"
    "![A chart](/images/never-drawn.svg)\n"
)
OLD_FEED = """\
<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Old feed</title>
<link>https://test.example.org/</link>
<description>The old site's feed, kept at its address</description>
<atom:link href="https://test.example.org/old/feed.xml" rel="self"/>
<item>
<title>An old story</title>
<link>https://test.example.org/articles/quiet/</link>
<guid>https://test.example.org/articles/quiet/</guid>
<pubDate>Tue, 10 Nov 2026 17:45:00</pubDate>
</item>
</channel>
</rss>
"""
KINDS = (
    r"content/articles/defects\.md:8:58: error: broken link '/articles/never-written/'",
    r"content/articles/defects\.md:10:30: error: missing anchor in link "
    r"'/articles/quiet/#no-such-part'",
    r"content/articles/defects\.md:12:12: error: broken image '/images/never-drawn\.svg'",
    r"old/feed\.xml:12: error: item 1: <pubDate> 'Tue, 10 Nov 2026 17:45:00' has no time zone",
    # In the list pages that show the story's first paragraph, at their lines.
    r"index\.html:\d+:\d+: error: link '\.\./quiet/' points above the site's top folder",
    r"digest/2026/11/02/index\.html:\d+:\d+: error: broken link '\.\./quiet/'",
)


def defective_site(make_site: MakeSite, stories: int) -> Path:
    files = {
        f"content/articles/story-{n:03}.md": article(f"Story {n}", f"2026-10-{n % 28 + 1:02}")
        for n in range(stories)
    }
    files["content/articles/defects.md"] = article("Defects", "2026-11-02", PLANTED)
    files["content/articles/quiet.md"] = article("Quiet", "2026-11-01")
    files["content/old/feed.xml"] = OLD_FEED
    # Pages link to /search/ when the site is searched: no search, so that check
    # renders the pages build writes, and their lines are the same.
    return make_site(files, config=SITE_TOML + "search = false\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_each_kind_of_defect_is_reported_as_check_reports_it(
    make_site: MakeSite, jobs: str
) -> None:
    """In a first build, and in one that rewrote a few files: the pages with the
    defects were not rendered again, but read back from the output folder."""
    root = defective_site(make_site, 220 if jobs == "2" else 20)
    checked = cli(root, "check", "--jobs", jobs)
    first = cli(root, "build", "--check", "--no-search", "--jobs", jobs)
    assert (checked.returncode, first.returncode) == (1, 1)
    assert problems(first, "text") == problems(checked, "text")
    for kind in KINDS:
        assert re.search(f"^{kind}", problems(checked, "text"), re.MULTILINE), kind
    front = root / "output/index.html"  # where the relative link breaks
    before = front.stat()
    edited = article("Story 7", "2026-10-08", "Body text, edited.")
    (root / "content/articles/story-007.md").write_text(edited, encoding="utf-8")
    again = cli(root, "build", "--check", "--no-search", "--jobs", jobs)
    assert again.returncode == 1
    written = int(again.stdout.split("(")[1].split()[0])
    assert 0 < written < 40, again.stdout
    assert (front.stat().st_ino, front.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert problems(again, "text") == problems(cli(root, "check", "--jobs", jobs), "text")
    assert problems(again, "text") == problems(checked, "text")


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
    plain = cli(root, "build", "--no-search", "--jobs", "1", "--strict")
    said = [line for line in plain.stderr.splitlines() if same in line]
    assert plain.returncode == 1 and said, plain.stderr
    # The line that fails the build says so: no "warning:" above "Build failed: 1 error".
    assert all(": error: " in line and "warning" not in line for line in said)


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
    '<meta name="d" content="a"><meta id="m" content="b"><meta property="u" content="/c/">',
    '<meta name="d" content="<a href=/in-a-value/>"><a href="/after-meta/">',
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


# --- Summing a page up: what read_page gives, against the places parse_page finds -------


def summed_up(data: bytes) -> Page:
    """What ``read_page`` must give: each URL once, named as its first tag names it."""
    placed: Refs = parse_page(data)
    first: dict[str, bool] = {}
    for ref in placed.links:
        first.setdefault(ref.value, ref.what == "image")
    used = Counter(ref.value for ref in placed.ids)
    return Page(
        links=tuple(first),
        images=frozenset(url for url, image in first.items() if image),
        anchors=placed.anchors,
        twice=tuple(ident for ident, times in used.items() if times > 1),
    )


# Where the fast scan's cut (a tag ends at its first ">") is not HTML's, and the page is
# read again; and the rest of what a page may hold.
SKEWED = [
    '<a title="a > b" href="/after-quoted/">x</a><a href="/next/">y</a>',
    '<a title=\'>\' href="/single/">x</a><img title="x>" src="/i.png">',
    '<script title="x>y">var a = "<a href=/in/>";</script><a href="/out/">z</a>',
    '<link rel="icon" href="/f.svg"><img src="/f.svg"><img src="/g.svg"><a href="/g.svg">',
    '<p id="a">1</p><p id="a">2</p><p id="a">3</p><p id="b"><P ID="b">',
    '<a href="/x/">1</a>\n<a href="/x/">2</a>\n<a href="/x/">1</a>',
    '<ab" c="d>x" href="/after-a-quote-in-a-name/">',
    # To the fast scan a style element; its quote never closes, so it is a tag named
    # 'style"b' with an id; then a script whose start tag has a quote where a space was.
    '<style"b <a id=x>""<p id="y">',
    "<style!'<</style><script id=<p href=/s/></script>--</style><a href=/t/>",
    'x<script"/u"SCRIPT>#SCRIPT</script><a href="/u/">',
]


# Tags written as most are, which take a shorter way (refs._PLAIN_TAG).
PLAIN = [
    '<a href=" /spaced/ " id="x" name="n">a</a><img src="/i.png" id="y"/><video poster="/p">',
    '<a href="/1/" href="/2/" id="d" id="d"><p id="d" class="c">',
    '<a\n  href="/multi/"\n  class="c"\n>x</a><link rel="x" href="/l/" >',
    '<a href="/é/">x</a><a href="/a=b/" title="t">y</a><scripts src="/s/">',
]


@pytest.mark.parametrize("text", [*HANDMADE, *SKEWED, *PLAIN])
def test_a_page_sums_up_to_what_its_places_give(text: str) -> None:
    data = text.encode()
    assert read_page(data) == summed_up(data)
    assert read_page(data) == summed_up(data)  # again, its tags read before


def test_every_built_page_sums_up_to_what_its_places_give(
    bundled_output: Path, defects: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a memo so small that it is emptied over and over, mid-site (and empty at
    first: the tests before filled it with these very tags)."""
    assert cli(defects, "build", "--no-search", "--jobs", "1").returncode == 0
    monkeypatch.setattr(refs, "_READ", {})
    monkeypatch.setattr(refs, "_READ_LIMIT", 300)
    pages = [*bundled_output.rglob("*.html"), *(defects / "output").rglob("*.html")]
    for path in sorted(pages):
        data = path.read_bytes()
        assert read_page(data) == summed_up(data), path


def test_a_tag_written_plainly_reads_as_any_tag_does(
    bundled_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most tags take a shorter way (refs._PLAIN_TAG); without it, every page reads the same."""
    pages = [path.read_bytes() for path in sorted(bundled_output.rglob("*.html"))]
    pages += [text.encode() for text in (*HANDMADE, *SKEWED, *PLAIN)]
    monkeypatch.setattr(refs, "_READ", {})
    quick = [read_page(data) for data in pages]
    monkeypatch.setattr(refs, "_READ", {})
    monkeypatch.setattr(refs, "_PLAIN_TAG", re.compile(b"(?!)"))
    assert [read_page(data) for data in pages] == quick


PIECES = st.sampled_from(
    [
        '<a href="/x/">',
        "<a href=/y id=z>",
        "<A HREF='/u' NAME=n>",
        '<img src="/x/">',
        '<p id="d">',
        '<a title="x>y" href="/q/">',
        '<a name="n">',
        '<video poster="/p">',
        "<a\nhref='/nl/'>",
        '<a href="#d">',
        '<ab"',
        "<a'b",
        ' c="d',
        " href='",
        "<style",
        "<script",
        '<meta name="',
        '<meta property="p" content="',
        '<script a="',
        "</script",
        "<!--",
        "-->",
        "--!>",
        "<script>",
        "</script>",
        "<STYLE>",
        "</style >",
        "</a>",
        '"',
        "'",
        ">",
        "<",
        "=",
        "\n",
        " ",
        "/",
        "text",
        "&amp;",
        "\x00",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES | st.text(max_size=3), max_size=40))
def test_any_text_sums_up_to_what_its_places_give(pieces: list[str]) -> None:
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    assert read_page(data) == summed_up(data)
