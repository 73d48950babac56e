"""Full-text search: a plain ``build`` indexes the site with the real Pagefind, the
preview indexes after each rebuild, and headless Chromium searches /search/;
``--no-search`` (or ``search = false``) leaves no index and no Search link; without
Pagefind, a clear message instead of a crash."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.client
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from site_builder import search
from site_builder.cli import main
from site_builder.errors import ConfigError
from site_builder.search import (
    BUNDLE_DIR,
    ENTRY,
    PAGEFIND_OPTIONS,
    SearchResult,
    index_site,
    survey,
)
from site_builder.serve import PreviewOptions, PreviewServer
from tests.conftest import (
    FIXED_NOW,
    SITE_TOML,
    MakeSite,
    article,
    build_at,
    copy_bundled_site,
    write_files,
)
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
    """The bundled site, built once with a plain ``site-builder build`` (which indexes)."""
    if not HAS_PAGEFIND:
        pytest.skip("Pagefind is not installed: pip install -e .")
    root = copy_bundled_site(tmp_path_factory.mktemp("search") / "site")
    built(root)
    assert _indexed_pages(root / "output") == 19  # 18 published stories and the about page
    return root / "output", SearchResult(pages=19, bundle=root / "output" / BUNDLE_DIR)


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
    assert str(result) == "error: search needs Pagefind, which is not installed"
    assert result.hint == (
        "reinstall site-builder (pip install site-builder), which brings Pagefind, "
        "or build without an index: site-builder build --no-search"
    )
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


def built(root: Path, *options: str) -> list[str]:
    """What ``site-builder build`` printed; it must succeed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        assert main(["build", "--source", str(root), "--jobs", "1", *options]) == 0
    return out.getvalue().splitlines()


def links_search(page: Path) -> bool:
    return 'href="/search/"' in page.read_text(encoding="utf-8")


@needs_pagefind
@pytest.mark.parametrize("options", [(), ("--search",)])
def test_a_plain_build_indexes_and_links_search(make_site: MakeSite, options: tuple[str]) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    built(root, *options)
    assert _indexed_pages(root / "output") == 1
    assert (root / "output" / BUNDLE_DIR / "pagefind-ui.js").is_file()
    assert links_search(root / "output/index.html")


@needs_pagefind
def test_no_search_drops_the_index_and_the_link(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    built(root)
    built(root, "--no-search")
    assert not (root / "output" / BUNDLE_DIR).exists()
    assert not links_search(root / "output/index.html")
    assert not links_search(root / "output/articles/a/index.html")


@needs_pagefind
def test_search_false_in_site_toml_builds_no_index(make_site: MakeSite) -> None:
    root = make_site(
        {"content/articles/a.md": article("A", "2026-11-17")}, SITE_TOML + "search = false\n"
    )
    built(root)
    assert not (root / "output" / BUNDLE_DIR).exists()
    assert not links_search(root / "output/index.html")
    built(root, "--search")
    assert _indexed_pages(root / "output") == 1
    assert links_search(root / "output/index.html")


def test_search_must_be_true_or_false(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17")})
    (root / "site.toml").write_text(SITE_TOML + 'search = "yes"\n', encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["build", "--source", str(root)]) == 2
    assert "search: expected true or false, got 'yes'" in err.getvalue()


@needs_pagefind
def test_a_build_with_nothing_to_do_keeps_a_current_index_and_mends_a_missing_one(
    make_site: MakeSite,
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    built(root)
    bundle = snapshot(root / "output" / BUNDLE_DIR)
    made = _entry_inode(root)
    assert "0 written" in built(root)[-1]
    assert _entry_inode(root) == made  # Pagefind did not run again
    shutil.rmtree(root / "output" / BUNDLE_DIR)
    built(root)
    assert snapshot(root / "output" / BUNDLE_DIR) == bundle


@needs_pagefind
def test_an_edit_indexes_again(make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "Quokka facts.\n\nThey smile."
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", body)})
    runs = pagefind_runs(monkeypatch)
    built(root)
    edited = article("A", "2026-11-17", body.replace("smile", "hop"))
    (root / "content/articles/a.md").write_text(edited, encoding="utf-8")
    assert built(root)[-1].endswith("text edits only)")
    # Counted, not seen in the entry file's inode: a build's swap gives it a new one.
    assert len(runs) == 2  # indexed again after a text edit
    (root / "content/articles/b.md").write_text(article("B", "2026-11-18", "Bilbies."))
    built(root)
    assert _indexed_pages(root / "output") == 2  # and after a planned build


def _entry_inode(root: Path) -> int:
    return (root / "output" / BUNDLE_DIR / "pagefind-entry.json").stat().st_ino


@needs_pagefind
def test_the_preview_indexes_after_the_reload_event(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_files(root, {"site.toml": SITE_TOML, "content/articles/a.md": article("A", "2026-11-17")})
    log: list[str] = []
    preview = PreviewServer(
        PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=log.append
    )
    with preview:
        assert preview.rebuild()
        write_files(root, {"content/articles/b.md": article("B", "2026-11-18")})
        assert preview.rebuild("b.md")
        # The rebuild returned, its reload event sent, before Pagefind's second run.
        assert log[-1].startswith("Rebuilt") and log[-1].endswith("(b.md)")
        _wait_for(lambda: _indexed_pages(preview.output_dir) == 2)
        assert (preview.output_dir / BUNDLE_DIR / "pagefind-ui.js").is_file()
        assert _get(preview, "/pagefind/pagefind-entry.json") == 200
        assert log[-1].startswith("Rebuilt")  # indexing says nothing when it works


def _indexed_pages(output: Path) -> int:
    try:
        entry = json.loads((output / BUNDLE_DIR / "pagefind-entry.json").read_bytes())
    except (OSError, ValueError):
        return 0
    return sum(int(language["page_count"]) for language in entry["languages"].values())


def _wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Until ``condition`` holds; a failure when it never does, not a timing test."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def _get(preview: PreviewServer, target: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=15)
    try:
        conn.request("GET", target)
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


@needs_pagefind
def test_after_each_build_the_index_is_a_clean_builds(make_site: MakeSite, tmp_path: Path) -> None:
    """Pagefind writes into the live site after the build; the next builds stage from
    the spare, which must take the index from the live site, and index again."""
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    edits = [
        ("a.md", article("A", "2026-11-17", "Quokka facts.\n\nMore of them.")),
        ("b.md", article("B", "2026-11-18", "Numbats.")),
    ]
    for number, (name, text) in enumerate(edits):
        built(root)
        (root / "content/articles" / name).write_text(text, encoding="utf-8")
        built(root)
        fresh = tmp_path / f"fresh{number}"
        shutil.copytree(root / "content", fresh / "content")
        shutil.copy2(root / "site.toml", fresh / "site.toml")
        built(fresh)
        assert snapshot(root / "output") == snapshot(fresh / "output")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(indexed: tuple[Path, SearchResult]) -> Iterator[str]:
    with serving(indexed[0]) as url:
        yield url


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A built site over real HTTP (Pagefind fetches its index; file:// cannot)."""
    handler = functools.partial(_Quiet, directory=str(folder))
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
            # What is indexed of a story is the story: no category, byline or tags
            # before it, no heading anchor's "#" in its headings.
            indexed = page.evaluate(
                """async () => {
                    const pagefind = await import("/pagefind/pagefind.js");
                    const found = await pagefind.search("weibo");
                    const story = await found.results[0].data();
                    const linux = await (await pagefind.search("hobby")).results[0].data();
                    return [story.content, linux.sub_results.map((s) => s.title)];
                }"""
            )
            content, headings = indexed
            assert content.startswith("Huawei May Start Selling 3rd Party Phones. A post on Weibo")
            assert "min read" not in content and "smartphones" not in content.lower()[:200]
            assert "From hobby to infrastructure" in headings
            assert not any(heading.endswith("#") for heading in headings)
        finally:
            browser.close()


@needs_pagefind
def test_stopping_the_preview_ends_its_indexing_and_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "site"
    stories = {
        f"content/articles/s{n}.md": article(f"Story {n}", f"2026-10-{n % 28 + 1:02}")
        for n in range(150)
    }
    write_files(root, {"site.toml": SITE_TOML, **stories})
    preview = PreviewServer(PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=print)
    with preview:
        assert preview.rebuild()  # Pagefind starts in the background; close() ends it
    staging = sorted(p.name for p in preview.output_dir.parent.glob(".preview.pagefind-*"))
    assert staging == []
    assert not [t.name for t in threading.enumerate() if t.name == "site-builder-search"]
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert str(preview.output_dir) not in running.stdout  # no Pagefind left running


# --- what Pagefind reads, and when it need not run ------------------------------------


def fragments(output: Path) -> dict[str, dict[str, Any]]:
    """Each indexed page as the index stores it (its words, title, headings), by URL."""
    found = {}
    for path in (output / BUNDLE_DIR / "fragment").iterdir():
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        record = json.loads(data[len(b"pagefind_dcd") :])
        found[record["url"]] = record
    return found


def pagefind_reading_everything(output: Path, into: Path) -> dict[str, bytes]:
    """The index Pagefind makes of every HTML file in ``output``, its entry file's
    languages sorted (Pagefind lists them in an order of each run's own)."""
    command = [sys.executable, "-m", "pagefind", *PAGEFIND_OPTIONS]
    command += ["--site", str(output), "--output-path", str(into)]
    subprocess.run(command, check=True, capture_output=True)
    entry = json.loads((into / ENTRY).read_bytes())
    entry["languages"] = dict(sorted(entry["languages"].items()))
    sorted_entry = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    return {**snapshot(into), ENTRY: sorted_entry.encode()}


def _page(words: str, *, marked: bool, lang: str = "en") -> str:
    body = " data-pagefind-body" if marked else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><title>{words}</title></head><body>'
        f"<nav>Menu Archive Tags</nav><main{body}><h1>{words}</h1>"
        f'<h2 id="more">More on {words}</h2><p>{words} in a paragraph.</p></main></body></html>'
    )


# Marked pages beside lists: in a folder of their own, among a few lists, alone among
# many, at the top, under names a glob would read as patterns, in a second language.
MIXED = {
    "index.html": _page("Front page", marked=False),
    "page.html": _page("Top marked page", marked=True),
    "about/index.html": _page("About us", marked=True),
    "articles/index.html": _page("All articles", marked=False),
    **{f"articles/s{n}/index.html": _page(f"Story number{n}", marked=True) for n in range(9)},
    "notes/x.html": _page("Lone note", marked=True),
    **{f"notes/list-{n}.html": _page(f"Note list {n}", marked=False) for n in range(3)},
    "tags/{a,b}[*]/index.html": _page("Braced folder", marked=True),
    "tags/t1/index.html": _page("Tag one", marked=False),
    "tags/t2/index.html": _page("Tag two", marked=False),
    "caf\u00e9 & co/index.html": _page("Accented folder", marked=True),
    "de/index.html": _page("Startseite", marked=False, lang="de"),
    "de/artikel/eins/index.html": _page("Erster Artikel", marked=True, lang="de"),
    "feeds/feed.xml": "<rss/>",
}


@needs_pagefind
def test_reading_only_what_holds_marked_pages_makes_the_index_reading_everything_does(
    tmp_path: Path,
) -> None:
    write_files(tmp_path / "out", MIXED)
    pages = survey(tmp_path / "out")
    assert pages.marked == 15
    assert pages.pages == tuple(sorted(rel for rel, text in MIXED.items() if "pagefind" in text))
    result = index_site(tmp_path / "out", pages=pages)
    assert isinstance(result, SearchResult) and result.pages == 15
    made = snapshot(tmp_path / "out" / BUNDLE_DIR)
    assert made == pagefind_reading_everything(tmp_path / "out", tmp_path / "everything")


@needs_pagefind
def test_the_bundled_sites_index_is_the_one_reading_every_page_makes(
    indexed: tuple[Path, SearchResult], tmp_path: Path
) -> None:
    output = indexed[0]
    assert {rel.split("/")[0] for rel in survey(output).pages} == {"about", "articles"}
    stories = {f"/articles/{page.parent.name}/" for page in output.glob("articles/*/index.html")}
    assert len(stories) == 18 and set(fragments(output)) == {*stories, "/about/"}
    everything = pagefind_reading_everything(output, tmp_path / "everything")
    assert snapshot(output / BUNDLE_DIR) == everything


@needs_pagefind
def test_with_no_page_marked_every_page_is_read_and_indexed(tmp_path: Path) -> None:
    unmarked = {rel: text.replace(" data-pagefind-body", "") for rel, text in MIXED.items()}
    write_files(tmp_path / "out", unmarked)
    pages = survey(tmp_path / "out")
    assert pages.marked == 0 and len(pages.pages) == 23  # Pagefind reads them all
    result = index_site(tmp_path / "out", pages=pages)
    assert isinstance(result, SearchResult) and result.pages == 23
    made = snapshot(tmp_path / "out" / BUNDLE_DIR)
    assert made == pagefind_reading_everything(tmp_path / "out", tmp_path / "everything")


@needs_pagefind
def test_pages_that_only_mention_the_attribute_are_indexed_as_reading_everything_does(
    tmp_path: Path,
) -> None:
    """Two stories about Pagefind quote the attribute; no element has it."""
    mention = "<code>&lt;main data-pagefind-body&gt;</code>"
    files = {rel: text.replace(" data-pagefind-body", "") for rel, text in MIXED.items()}
    files["articles/s1/index.html"] = _page(f"Story one {mention}", marked=False)
    files["notes/x.html"] = _page(f"Lone note {mention}", marked=False)
    write_files(tmp_path / "out", files)
    pages = survey(tmp_path / "out")
    assert pages.pages == ("articles/s1/index.html", "notes/x.html")
    result = index_site(tmp_path / "out", pages=pages)
    assert isinstance(result, SearchResult) and result.pages == 23
    assert result.made_from == ""  # not the two pages' digest: every page was read
    made = snapshot(tmp_path / "out" / BUNDLE_DIR)
    assert made == pagefind_reading_everything(tmp_path / "out", tmp_path / "everything")


@needs_pagefind
def test_an_index_made_again_says_only_the_files_whose_bytes_changed(tmp_path: Path) -> None:
    """What the spare must copy after indexing: most of an index is as it was."""
    write_files(tmp_path / "out", MIXED)
    first = index_site(tmp_path / "out")
    assert isinstance(first, SearchResult) and len(first.changed) > 30
    again = index_site(tmp_path / "out")
    assert isinstance(again, SearchResult) and again.changed == ()
    write_files(tmp_path / "out", {"notes/x.html": _page("Lone note, edited", marked=True)})
    edited = index_site(tmp_path / "out")
    assert isinstance(edited, SearchResult)
    fragments_changed = [rel for rel in edited.changed if "/fragment/" in rel]
    assert len(fragments_changed) == 2  # the note's old fragment out, its new one in
    assert "pagefind/pagefind-ui.js" not in edited.changed
    assert "pagefind/wasm.de.pagefind" not in edited.changed


@needs_pagefind
def test_the_same_pages_in_two_languages_give_the_same_bytes_every_time(tmp_path: Path) -> None:
    write_files(tmp_path / "out", MIXED)
    made = []
    for _ in range(6):  # Pagefind's own order of the languages is one of two, by chance
        assert isinstance(index_site(tmp_path / "out"), SearchResult)
        made.append((tmp_path / "out" / BUNDLE_DIR / ENTRY).read_bytes())
    assert len(set(made)) == 1
    assert made[0].index(b'"de":') < made[0].index(b'"en":')


@needs_pagefind
def test_an_edit_puts_its_words_in_the_index_and_takes_the_old_ones_out(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("Quokkas", "2026-11-17", "Quokkas smile widely."),
            "content/articles/b.md": article("Bilbies", "2026-11-18", "Bilbies dig burrows."),
        }
    )
    built(root)
    before = fragments(root / "output")
    (root / "content/articles/a.md").write_text(
        article("Quokkas", "2026-11-17", "Quokkas hop on Rottnest."), encoding="utf-8"
    )
    built(root)
    after = fragments(root / "output")
    assert "Rottnest" in after["/articles/a/"]["content"]
    assert "widely" not in after["/articles/a/"]["content"]
    assert after["/articles/b/"] == before["/articles/b/"]
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy2(root / "site.toml", fresh / "site.toml")
    built(fresh)
    assert snapshot(root / "output" / BUNDLE_DIR) == snapshot(fresh / "output" / BUNDLE_DIR)


def pagefind_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every Pagefind command run from now on (each still runs)."""
    runs: list[list[str]] = []
    real = search._run

    def run(command: list[str], *args: Any) -> subprocess.CompletedProcess[str]:
        runs.append(command)
        return real(command, *args)

    monkeypatch.setattr(search, "_run", run)
    return runs


DIGEST_INTRO = "---\ntitle: A week of marsupials\n---\n\n{}\n"


@needs_pagefind
def test_a_build_that_changes_no_indexed_page_does_not_run_pagefind(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of a digest's introduction changes lists and the digest, no story. It
    follows a story's edit: the build stages from the spare, which must have the index
    that edit made, or the index in output/ would not be the one its record names."""
    root = make_site(
        {
            "content/articles/a.md": article("Quokkas", "2026-11-17", "Quokkas smile."),
            "content/digests/2026-w47.md": DIGEST_INTRO.format("Quokkas, mostly."),
        }
    )
    runs = pagefind_runs(monkeypatch)
    built(root)
    story = article("Quokkas", "2026-11-17", "Quokkas hop.")
    (root / "content/articles/a.md").write_text(story, encoding="utf-8")
    built(root)
    assert len(runs) == 2
    intro = DIGEST_INTRO.format("Quokkas and bilbies.")
    (root / "content/digests/2026-w47.md").write_text(intro, encoding="utf-8")
    assert "0 written" not in built(root)[-1]
    assert len(runs) == 2  # the stories are as they were: Pagefind would make the same
    assert "0 written" in built(root)[-1]
    assert len(runs) == 2
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy2(root / "site.toml", fresh / "site.toml")
    built(fresh)
    assert snapshot(root / "output") == snapshot(fresh / "output")


@needs_pagefind
def test_an_index_missing_a_file_is_made_again_though_no_page_changed(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("Quokkas", "2026-11-17", "Quokkas smile."),
            "content/digests/2026-w47.md": DIGEST_INTRO.format("Quokkas, mostly."),
        }
    )
    runs = pagefind_runs(monkeypatch)
    built(root)
    shutil.rmtree(root / ".output.spare")  # the next build links the live site as it is
    next((root / "output" / BUNDLE_DIR / "fragment").iterdir()).unlink()
    intro = DIGEST_INTRO.format("Quokkas and bilbies.")
    (root / "content/digests/2026-w47.md").write_text(intro, encoding="utf-8")
    built(root)
    assert len(runs) == 2  # the stories are as they were, the index is not
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy2(root / "site.toml", fresh / "site.toml")
    built(fresh)
    assert snapshot(root / "output") == snapshot(fresh / "output")


@needs_pagefind
def test_redirects_email_editions_and_lists_stay_out_of_the_index(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article(
                "Alpha", "2026-11-17", "Quokkas.", slug="alpha-renamed", aliases="[/2026/alpha/]"
            ),
            "content/digests/2026-w47.md": DIGEST_INTRO.format("Quokkas, mostly."),
        }
    )
    built(root)
    output = root / "output"
    assert (output / "2026/alpha/index.html").is_file()  # the alias's redirect page
    assert (output / "digest/2026/w47/email.html").is_file()
    assert survey(output).pages == ("articles/alpha-renamed/index.html",)  # and no other
    assert sorted(fragments(output)) == ["/articles/alpha-renamed/"]


@needs_pagefind
def test_another_pagefind_indexes_again_though_no_page_changed(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site({"content/articles/a.md": article("A", "2026-11-17", "Quokka facts.")})
    built(root)
    made = _entry_inode(root)
    real = search._version
    monkeypatch.setattr(
        search, "_version", lambda name: "9.9.9" if name == "pagefind" else real(name)
    )
    assert "0 written" in built(root)[-1]
    assert _entry_inode(root) != made  # an upgraded Pagefind does not trust the old index
    again = _entry_inode(root)
    built(root)
    assert _entry_inode(root) == again


@needs_pagefind
def test_pagefind_run_otherwise_indexes_again_though_no_page_changed(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site({"content/articles/a.md": article("Quokkas", "2026-11-17", "They smile.")})
    built(root)
    made = snapshot(root / "output" / BUNDLE_DIR)
    monkeypatch.setattr(search, "PAGEFIND_OPTIONS", ("--exclude-selectors", "h1"))
    built(root)
    assert snapshot(root / "output" / BUNDLE_DIR) != made
    assert "Quokkas" not in fragments(root / "output")["/articles/a/"]["content"]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        try:
            browser = driver.chromium.launch(
                executable_path=shutil.which("chromium") or None, args=CHROMIUM_ARGS
            )
        except sync_api.Error as exc:
            pytest.skip(f"no Chromium to drive: {exc.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


def titles_found(browser: Any, site: str, query: str) -> list[str]:
    """The titles /search/ lists for ``query``, once Pagefind has said how many."""
    import re

    from playwright.sync_api import expect

    page = browser.new_page()
    try:
        page.goto(site + "search/")
        page.locator(".pagefind-ui__search-input").fill(query)
        message = page.locator(".pagefind-ui__message")
        expect(message).to_have_text(re.compile(rf"results? for {query}"), timeout=20_000)
        said = message.inner_text().split()[0]
        links = page.locator(".pagefind-ui__result-link")
        expect(links).to_have_count(0 if said == "No" else int(said))
        return sorted(links.all_inner_texts())
    finally:
        page.close()


@pytest.mark.browser
@needs_pagefind
def test_after_an_edit_chromium_finds_the_new_word_and_not_the_old(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("Quokkas", "2026-11-17", "Quokkas smile widely."),
            "content/articles/b.md": article("Bilbies", "2026-11-18", "Bilbies dig burrows."),
        }
    )
    built(root)
    (root / "content/articles/a.md").write_text(
        article("Quokkas", "2026-11-17", "Quokkas hop on Rottnest."), encoding="utf-8"
    )
    built(root)
    with serving(root / "output") as site, chromium() as browser:
        assert titles_found(browser, site, "Rottnest") == ["Quokkas"]
        assert titles_found(browser, site, "widely") == []
        assert titles_found(browser, site, "burrows") == ["Bilbies"]


MEMORY_DISK = Path("/dev/shm")  # tmpfs on Linux: it lists a folder newest file first


@needs_pagefind
@pytest.mark.skipif(not MEMORY_DISK.is_dir(), reason="no tmpfs folder to build in")
def test_an_index_made_after_stories_came_is_a_clean_builds_on_a_memory_disk() -> None:
    """Pagefind numbers pages in the order the file system lists them; on tmpfs (and
    btrfs) that is the order the files were made in, so an incremental build's index
    differed in bytes from a clean build's until it read a folder made in sorted order."""
    with tempfile.TemporaryDirectory(dir=MEMORY_DISK) as scratch:
        root = copy_bundled_site(Path(scratch) / "site")
        built(root)
        for n in range(1, 6):
            story = article(f"Added story {n} about kernels", f"2021-08-0{n} 09:00")
            (root / f"content/articles/added-{n}.md").write_text(story, encoding="utf-8")
        built(root)
        fresh = Path(scratch) / "fresh"
        fresh.mkdir()
        for name in ("site.toml", "permalinks.json", "content", "templates"):
            copy = shutil.copytree if (root / name).is_dir() else shutil.copy2
            copy(root / name, fresh / name)
        built(fresh)
        index = snapshot(root / "output" / BUNDLE_DIR)
        assert len(index) > 20 and index == snapshot(fresh / "output" / BUNDLE_DIR)
