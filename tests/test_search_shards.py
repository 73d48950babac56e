"""A large site's search index in shards: above a threshold of marked pages the index
is several Pagefind bundles (``pagefind/``, ``pagefind-1/`` ...), a page's shard chosen
by a hash of its path. The thresholds are lowered here so that 30 stories make three
shards. Real Pagefind, real Chromium: the search page merges every shard, an edit
indexes its shard alone, and the index is always the one a clean build makes."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from site_builder import search
from site_builder.search import BUNDLE_DIR, ENTRY, SHARDS_KEY, index_folders
from site_builder.serve import PreviewOptions, PreviewServer
from tests.conftest import FIXED_NOW, SITE_TOML, MakeSite, article, write_files
from tests.test_output_safety import snapshot
from tests.test_search import (
    _wait_for,
    built,
    chromium,
    needs_pagefind,
    pagefind_runs,
    serving,
    titles_found,
)

SHARDED = ["pagefind", "pagefind-1", "pagefind-2"]


@pytest.fixture(autouse=True)
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """More than 10 marked pages: shards of about 10."""
    monkeypatch.setattr(search, "SHARD_THRESHOLD", 10)
    monkeypatch.setattr(search, "SHARD_PAGES", 10)


def word(number: int) -> str:
    """A word found in one story alone, and like no other story's: Pagefind finds words
    a query begins, and words a letter or two away from it."""
    digest = hashlib.sha256(str(number).encode()).digest()
    return "".join(chr(ord("a") + byte % 26) for byte in digest[:10])


def stories(count: int) -> dict[str, str]:
    return {
        f"content/articles/s{n}.md": article(f"Story {n}", "2026-11-17", f"About {word(n)}.")
        for n in range(count)
    }


def shard_of(output: Path) -> dict[str, str]:
    """Each indexed page's URL, with the bundle that holds it."""
    found = {}
    for folder in index_folders(output):
        for path in (output / folder / "fragment").iterdir():
            data = gzip.decompress(path.read_bytes())
            found[json.loads(data[len(b"pagefind_dcd") :])["url"]] = folder
    return found


def index_of(output: Path) -> dict[str, bytes]:
    """Every file of every bundle, by its path under the output folder."""
    return {
        f"{folder}/{rel}": data
        for folder in sorted(p.name for p in output.iterdir() if p.name.startswith("pagefind"))
        for rel, data in snapshot(output / folder).items()
    }


def clean_build(root: Path, fresh: Path) -> Path:
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy2(root / "site.toml", fresh / "site.toml")
    built(fresh)
    return fresh / "output"


@needs_pagefind
def test_thirty_stories_make_three_shards_the_first_listing_the_others(
    make_site: MakeSite,
) -> None:
    root = make_site(stories(30))
    built(root)
    output = root / "output"
    assert index_folders(output) == SHARDED
    entry = json.loads((output / BUNDLE_DIR / ENTRY).read_bytes())
    assert entry[SHARDS_KEY] == ["../pagefind-1/", "../pagefind-2/"]
    assert all(SHARDS_KEY not in json.loads((output / f / ENTRY).read_bytes()) for f in SHARDED[1:])
    held = shard_of(output)
    assert len(held) == 30 and set(held.values()) == set(SHARDED)
    # Every bundle ships Pagefind's script: the first one's UI loads the others'.
    assert all((output / folder / "pagefind.js").is_file() for folder in SHARDED)


@pytest.mark.browser
@needs_pagefind
def test_chromium_finds_a_story_of_each_shard_and_an_edited_word(make_site: MakeSite) -> None:
    root = make_site(stories(30))
    built(root)
    held = shard_of(root / "output")
    one_each = {folder: min(url for url, f in held.items() if f == folder) for folder in SHARDED}
    edited = one_each["pagefind-2"]  # "/articles/s7/": a story of the last shard
    number = int(edited.strip("/").rpartition("/s")[2])
    story = article(f"Story {number}", "2026-11-17", "About wombats now.")
    (root / "content/articles" / f"s{number}.md").write_text(story, encoding="utf-8")
    built(root)
    with serving(root / "output") as site, chromium() as browser:
        for url in one_each.values():
            n = int(url.strip("/").rpartition("/s")[2])
            expected = [] if n == number else [f"Story {n}"]
            assert titles_found(browser, site, word(n)) == expected, url
        assert titles_found(browser, site, "wombats") == [f"Story {number}"]
        page = browser.new_page()
        page.goto(site + "search/")
        page.locator(".pagefind-ui__search-input").fill("about")
        message = page.locator(".pagefind-ui__message")  # merged: every shard's stories
        expect(message).to_have_text("30 results for about", timeout=20_000)


@pytest.mark.browser
@needs_pagefind
def test_a_sub_path_site_links_results_of_every_shard_under_its_path(
    make_site: MakeSite, tmp_path: Path
) -> None:
    config = SITE_TOML.replace('"https://test.example.org/"', '"https://test.example.org/news/"')
    root = make_site(stories(30), config)
    built(root)
    held = shard_of(root / "output")
    assert all(url.startswith("/articles/") for url in held)  # the page's baseUrl adds /news
    (tmp_path / "host").mkdir()
    (tmp_path / "host/news").symlink_to(root / "output")
    with serving(tmp_path / "host") as host, chromium() as browser:
        page = browser.new_page()
        page.goto(host + "news/search/")
        page.locator(".pagefind-ui__search-input").fill("about")
        links = page.locator(".pagefind-ui__result-link")
        message = page.locator(".pagefind-ui__message")
        expect(message).to_have_text("30 results for about", timeout=20_000)
        expect(links).to_have_count(5)  # the first page of results
        page.locator(".pagefind-ui__button").click()  # "Load more results"
        expect(links).to_have_count(10)
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(10)]
        assert all(href.startswith("/news/articles/s") for href in hrefs), hrefs
        # Links of more than the first bundle's stories: a merged bundle's too.
        assert len({held[href.removeprefix("/news")] for href in hrefs}) > 1


@needs_pagefind
def test_an_edit_indexes_its_shard_alone(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = make_site(stories(30))
    runs = pagefind_runs(monkeypatch)
    built(root)
    assert len(runs) == 3
    output = root / "output"
    held = shard_of(output)
    before = {folder: snapshot(output / folder) for folder in SHARDED}
    story = article("Story 4", "2026-11-17", "About bilbies now.")
    (root / "content/articles/s4.md").write_text(story, encoding="utf-8")
    built(root)
    # One more run, of the edited story's shard. (Not seen in inodes: a build swaps in
    # a new output folder, whose files are the spare's copies.)
    mine = held["/articles/s4/"]
    assert len(runs) == 4 and runs[3][runs[3].index("--site") + 1].endswith(f"-site-{mine}")
    for folder in SHARDED:
        assert (snapshot(output / folder) == before[folder]) == (folder != mine), folder
    assert index_of(output) == index_of(clean_build(root, tmp_path / "fresh"))


@needs_pagefind
def test_growing_past_the_threshold_and_back_leaves_what_a_clean_build_makes(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """9 stories: one bundle; 30: three shards; 45: five; 9 again: one bundle, none of
    the shards left behind. After each, the index of a clean build, byte for byte."""
    root = make_site(stories(9))
    articles = root / "content/articles"
    for step, count in enumerate([9, 30, 45, 30, 9]):
        for path in articles.iterdir():
            path.unlink()
        write_files(root, stories(count))
        built(root)
        folders = index_folders(root / "output")
        assert len(folders) == (1 if count <= 10 else -(-count // 10)), (count, folders)
        assert len(shard_of(root / "output")) == count
        fresh = clean_build(root, tmp_path / f"fresh{step}")
        assert index_of(root / "output") == index_of(fresh), count
    assert index_folders(root / "output") == [BUNDLE_DIR]
    assert SHARDS_KEY not in json.loads((root / "output" / BUNDLE_DIR / ENTRY).read_bytes())


@needs_pagefind
def test_no_search_removes_every_shard(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(stories(30))
    built(root)
    built(root, "--no-search")
    assert [p.name for p in (root / "output").iterdir() if p.name.startswith("pagefind")] == []
    assert snapshot(root / "output") == snapshot(clean_build_without_search(root, tmp_path))
    built(root)
    assert index_folders(root / "output") == SHARDED


def clean_build_without_search(root: Path, tmp_path: Path) -> Path:
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "content", fresh / "content")
    shutil.copy2(root / "site.toml", fresh / "site.toml")
    built(fresh, "--no-search")
    return fresh / "output"


@needs_pagefind
def test_a_failing_shard_leaves_the_previous_index_whole(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All the shards an edit needs, or none: the index stays the one made before."""
    root = make_site(stories(30))
    built(root)
    output = root / "output"
    before = index_of(output)
    real = search._run
    calls: list[int] = []

    def second_fails(command: list[str], *args: Any) -> subprocess.CompletedProcess[str]:
        calls.append(1)
        if len(calls) == 2:
            return subprocess.CompletedProcess(command, 1, "", "Error: out of memory")
        return real(command, *args)

    monkeypatch.setattr(search, "_run", second_fails)
    for n in (0, 1, 2, 3, 4, 5):  # stories in more than one shard
        story = article(f"Story {n}", "2026-11-17", f"About numbats{n}.")
        (root / f"content/articles/s{n}.md").write_text(story, encoding="utf-8")
    assert len({shard_of(output)[f"/articles/s{n}/"] for n in range(6)}) > 1
    assert main_build(root) == 1
    assert index_of(output) == before
    assert not [p for p in root.iterdir() if ".pagefind-" in p.name]
    built(root)  # and the next build makes it
    assert "numbats3" in json.dumps(fragment_texts(output))


def main_build(root: Path) -> int:
    from site_builder.cli import main

    return main(["build", "--source", str(root), "--jobs", "1"])


def fragment_texts(output: Path) -> list[str]:
    return [
        gzip.decompress(path.read_bytes()).decode()
        for folder in index_folders(output)
        for path in (output / folder / "fragment").iterdir()
    ]


@needs_pagefind
def test_the_preview_indexes_every_shard_after_the_reload(tmp_path: Path) -> None:
    root = tmp_path / "site"
    write_files(root, {"site.toml": SITE_TOML, **stories(30)})
    preview = PreviewServer(PreviewOptions(root=root, port=0), clock=lambda: FIXED_NOW, log=print)
    with preview:
        assert preview.rebuild()
        _wait_for(lambda: index_folders(preview.output_dir) == SHARDED)
        write_files(root, stories(45))
        assert preview.rebuild()
        _wait_for(lambda: len(index_folders(preview.output_dir)) == 5)
        _wait_for(lambda: len(shard_of(preview.output_dir)) == 45)
        assert (preview.output_dir / BUNDLE_DIR / "pagefind-ui.js").is_file()


GERMAN = SITE_TOML + '\n[languages.de]\ntitle = "Test-Digest"\n'


@pytest.mark.browser
@needs_pagefind
def test_every_language_searches_the_one_shared_index_in_shards(make_site: MakeSite) -> None:
    """The index is written once, in pagefind/ and its shards beside it; /de/search/
    loads the same first bundle as /search/, and finds German stories of every shard."""
    german = {
        f"content/de/articles/g{n}.md": article(f"Artikel {n}", "2026-11-17", f"Über {word(n)}.")
        for n in range(100, 120)
    }
    root = make_site({**stories(15), **german}, GERMAN)
    built(root)
    output = root / "output"
    folders = index_folders(output)
    assert folders == ["pagefind", "pagefind-1", "pagefind-2", "pagefind-3"]  # 35 stories
    assert not (output / "de/pagefind").exists()
    page = (output / "de/search/index.html").read_text(encoding="utf-8")
    assert 'data-bundle="/pagefind/"' in page
    held = shard_of(output)
    with serving(output) as site, chromium() as browser:
        for folder in folders:
            url = min(u for u, f in held.items() if f == folder and u.startswith("/de/"))
            n = int(url.strip("/").rpartition("/g")[2])
            assert german_titles(browser, site + "de/search/", word(n)) == [f"Artikel {n}"]


def german_titles(browser: Any, search_page: str, query: str) -> list[str]:
    """What /de/search/ lists for ``query``, once Pagefind's German UI says it found one."""
    page = browser.new_page()
    try:
        page.goto(search_page)
        page.locator(".pagefind-ui__search-input").fill(query)
        message = page.locator(".pagefind-ui__message")
        expect(message).to_have_text(f"1 Ergebnis für {query}", timeout=20_000)
        return page.locator(".pagefind-ui__result-link").all_inner_texts()
    finally:
        page.close()
