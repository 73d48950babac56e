"""A site in several languages: one site per language under one output folder, every
page linked to its translations (hreflang, the switcher, the sitemap)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from site_builder.build import check
from site_builder.config import load_config
from site_builder.live import LiveBuild
from tests.conftest import (
    FIXED_NOW,
    REPO,
    SITE_TOML,
    MakeSite,
    article,
    build_at,
    copy_bundled_site,
    write_files,
)
from tests.linkcheck import broken_links
from tests.test_html_valid import nu_errors
from tests.test_i18n import content_texts, english_left, texts_of, theme_english

BILINGUAL = (
    SITE_TOML
    + """
[languages.de]
title = "Test-Digest"
description = "Eine Seite aus einem Test"
"""
)

FILES = {
    "content/articles/rust.md": article(
        "Rust 2.0 ships", "2026-11-20 09:00", "Rust news.", tags="[rust]"
    ),
    "content/de/articles/rust.md": article(
        "Rust 2.0 erscheint",
        "2026-11-20 10:00",
        "Rust-Nachrichten.",
        tags="[rust]",
        image="/images/logo.png",  # from the site's root, in every language
    ),
    "content/images/logo.png": b"\x89PNG\r\n\x1a\n",
    "content/articles/only-english.md": article("Only in English", "2026-11-19 09:00"),
    "content/articles/python.md": article("Python 4 plans", "2026-11-18", translation_key="py4"),
    "content/de/articles/python-vier.md": article(
        "Pläne für Python 4", "2026-11-18", translation_key="py4"
    ),
    "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
    "content/de/pages/about.md": "---\ntitle: Über uns\n---\nWer wir sind.\n",
    "content/de/articles/logo.png": b"\x89PNG\r\n\x1a\n",
}
SITE = "https://test.example.org/"


def hreflang(page: Path) -> dict[str, str]:
    """The ``<link rel="alternate" hreflang>`` of a page: language → URL."""
    text = page.read_text(encoding="utf-8")
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', text))


def switcher(page: Path) -> list[tuple[str, str]]:
    """The language switcher's links: (href, name)."""
    text = page.read_text(encoding="utf-8")
    nav = text.split('<nav class="language-switch"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


@pytest.fixture
def bilingual(make_site: MakeSite) -> Path:
    root = make_site(FILES, config=BILINGUAL)
    build_at(root)
    return root


def test_each_language_has_its_own_front_page_feeds_and_digests(bilingual: Path) -> None:
    out = bilingual / "output"
    assert '<html lang="de">' in (out / "de/index.html").read_text(encoding="utf-8")
    assert "Neueste Artikel" in (out / "de/index.html").read_text(encoding="utf-8")
    german = feedparser.parse((out / "de/feed.xml").read_bytes())
    assert german.bozo == 0, german.get("bozo_exception")
    assert german.feed.language == "de"
    assert german.feed.title == "Test-Digest"
    assert sorted(e.title for e in german.entries) == ["Pläne für Python 4", "Rust 2.0 erscheint"]
    assert all(e.link.startswith(f"{SITE}de/articles/") for e in german.entries)
    english = feedparser.parse((out / "feed.xml").read_bytes())
    assert "Rust 2.0 erscheint" not in {e.title for e in english.entries}
    assert len(english.entries) == 3
    assert (out / "de/digest/2026/11/20/index.html").is_file()
    assert (out / "de/digest/2026/11/20/email.html").is_file()
    email = (out / "de/digest/2026/11/20/email.html").read_text(encoding="utf-8")
    assert f'href="{SITE}de/articles/rust/"' in email
    opml = (out / "de/feeds.opml").read_text(encoding="utf-8")
    assert f'xmlUrl="{SITE}de/feed.xml"' in opml
    assert (out / "de/about/index.html").is_file()
    assert (out / "de/articles/logo.png").read_bytes() == FILES["content/de/articles/logo.png"]


def test_translations_link_each_other_and_a_page_without_one_links_home(bilingual: Path) -> None:
    out = bilingual / "output"
    pair = {"en": f"{SITE}articles/rust/", "de": f"{SITE}de/articles/rust/"}
    assert hreflang(out / "articles/rust/index.html") == {**pair, "x-default": pair["en"]}
    assert hreflang(out / "de/articles/rust/index.html") == {**pair, "x-default": pair["en"]}
    # Linked by translation_key, whatever the files are called.
    assert hreflang(out / "de/articles/python-vier/index.html")["en"] == (f"{SITE}articles/python/")
    lonely = out / "articles/only-english/index.html"
    assert hreflang(lonely) == {}
    assert switcher(lonely) == [("/articles/only-english/", "English"), ("/de/", "Deutsch")]
    assert switcher(out / "de/about/index.html") == [
        ("/about/", "English"),
        ("/de/about/", "Deutsch"),
    ]
    assert hreflang(out / "de/tags/rust/index.html")["en"] == f"{SITE}tags/rust/"
    # The 404 page is no page to link: its switcher leads to the front pages.
    assert hreflang(out / "de/404.html") == {}
    assert switcher(out / "de/404.html") == [("/", "English"), ("/de/", "Deutsch")]
    german = (out / "de/articles/rust/index.html").read_text(encoding="utf-8")
    assert '<img src="/images/logo.png"' in german
    assert f'<meta property="og:image" content="{SITE}images/logo.png">' in german


def test_the_sitemaps_list_every_translation_and_robots_names_them(bilingual: Path) -> None:
    out = bilingual / "output"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ET.parse(out / "de/sitemap.xml").getroot().findall("s:url", ns)
    by_loc = {u.findtext("s:loc", namespaces=ns): u for u in urls}
    assert all(loc.startswith(f"{SITE}de/") for loc in by_loc)
    links = by_loc[f"{SITE}de/articles/rust/"].findall("x:link", ns)
    assert {(x.get("hreflang"), x.get("href")) for x in links} == {
        ("en", f"{SITE}articles/rust/"),
        ("de", f"{SITE}de/articles/rust/"),
        ("x-default", f"{SITE}articles/rust/"),
    }
    keyed = by_loc[f"{SITE}de/articles/python-vier/"]
    assert len(keyed.findall("x:link", ns)) == 3
    assert by_loc.get(f"{SITE}de/404.html") is None
    robots = (out / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {SITE}sitemap.xml\nSitemap: {SITE}de/sitemap.xml\n" in robots
    assert not (out / "de/robots.txt").exists()


@pytest.mark.parametrize("base_url", ["https://test.example.org/", "https://user.github.io/news/"])
def test_shared_files_are_written_once_and_every_link_resolves(
    make_site: MakeSite, base_url: str
) -> None:
    root = make_site(FILES, config=BILINGUAL.replace(SITE, base_url))
    build_at(root)
    out, base = root / "output", load_config(root).base_path
    assert not (out / "de/static").exists()
    assert f'href="{base}static/style.css"' in (out / "de/index.html").read_text(encoding="utf-8")
    assert list(broken_links(out, base)) == []
    found = check(load_config(root), now=FIXED_NOW)
    assert [str(p) for p in found.problems] == []


def test_adding_a_translation_rebuilds_its_original_as_a_clean_build_would(
    bilingual: Path, tmp_path: Path
) -> None:
    write_files(
        bilingual,
        {"content/de/articles/only-english.md": article("Nicht nur Englisch", "2026-11-19")},
    )
    result = build_at(bilingual)
    assert "articles/only-english/index.html" in result.written
    clean = tmp_path / "clean"
    shutil.copytree(bilingual, clean, ignore=shutil.ignore_patterns("output", ".site-builder"))
    build_at(clean)
    assert tree(clean / "output") == tree(bilingual / "output")
    assert hreflang(bilingual / "output/articles/only-english/index.html")["de"] == (
        f"{SITE}de/articles/only-english/"
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".site-builder-output"
    }


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args, "--source", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )


def test_a_translation_key_no_other_language_has_is_reported_by_check(
    make_site: MakeSite,
) -> None:
    files = {
        **FILES,
        "content/de/articles/python-vier.md": article(
            "Pläne für Python 4", "2026-11-18", translation_key="pyhton4"
        ),
    }
    root = make_site(files, config=BILINGUAL)
    done = run_cli(root, "check", "--strict")
    assert done.returncode == 1
    assert (
        "content/de/articles/python-vier.md:4: error: translation_key: 'pyhton4': "
        "no story in another language has it"
    ) in done.stderr
    # Its partner lost its translation: the same line for it.
    assert "content/articles/python.md:4: error: translation_key: 'py4'" in done.stderr
    assert run_cli(root, "check").returncode == 0  # a warning, without --strict


def test_lang_in_front_matter_files_a_story_under_its_language(make_site: MakeSite) -> None:
    files = {**FILES, "content/articles/kurz.md": article("Kurz notiert", "2026-11-21", lang="de")}
    root = make_site(files, config=BILINGUAL)
    build_at(root)
    assert (root / "output/de/articles/kurz/index.html").is_file()
    assert not (root / "output/articles/kurz").exists()


@pytest.mark.parametrize(
    ("files", "config", "expected"),
    [
        (
            {"content/articles/x.md": article("X", "2026-11-21", lang="fr")},
            BILINGUAL,
            "content/articles/x.md:4: error: lang: 'fr' is not one of the site's languages "
            "(en, de)",
        ),
        (
            {"content/de/articles/x.md": article("X", "2026-11-21", lang="en")},
            BILINGUAL,
            "content/de/articles/x.md:4: error: lang: 'en' in the folder of 'de'",
        ),
        (
            {},
            SITE_TOML + '\n[languages.xx-nowhere]\ntitle = "?"\n',
            "site.toml:10: error: languages.xx-nowhere: language: 'xx-nowhere' is not a "
            "language code",
        ),
        (
            {},
            SITE_TOML + '\n[languages.de]\npath = "de/at"\n',
            "site.toml:10: error: languages.de: path: 'de/at' is not one URL segment",
        ),
        (
            {},
            SITE_TOML + '\n[languages.de]\n[languages.fr]\npath = "de"\n',
            "site.toml:11: error: languages.fr: path 'de/' is another language's",
        ),
        (
            {},
            SITE_TOML + '\n[languages.de]\ncolour = "red"\n',
            "site.toml:11: error: unknown key 'languages.de.colour'",
        ),
        (
            {},
            SITE_TOML + '\n[languages.de]\npath = "tags"\n',
            "site.toml:10: error: languages.de: path: 'tags' is where the site's own /tags/ "
            "pages are",
        ),
    ],
)
def test_mistakes_are_located_errors(
    make_site: MakeSite, files: dict[str, str], config: str, expected: str
) -> None:
    root = make_site(files, config=config)
    done = run_cli(root, "build")
    assert done.returncode == (2 if expected.startswith("site.toml") else 1)
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "output").exists()


def test_a_language_table_for_the_default_renames_the_default_site(make_site: MakeSite) -> None:
    config = BILINGUAL + '\n[languages.en]\ntitle = "The Test Digest"\n'
    root = make_site(FILES, config=config)
    build_at(root)
    english = feedparser.parse((root / "output/feed.xml").read_bytes())
    assert english.feed.title == "The Test Digest"
    assert not (root / "output/en").exists()


def test_each_language_keeps_its_own_ids_and_old_addresses(bilingual: Path) -> None:
    ledgers = {p.name for p in bilingual.glob("permalinks*.json")}
    assert ledgers == {"permalinks.json", "permalinks.de.json"}
    german = json.loads((bilingual / "permalinks.de.json").read_text(encoding="utf-8"))
    ids = {a["source"]: a["id"] for a in german["articles"]}
    assert ids["content/de/articles/rust.md"] == f"{SITE}de/articles/rust/"
    # A German story renamed keeps its id and leaves a German redirect behind.
    path = bilingual / "content/de/articles/rust.md"
    path.write_text(path.read_text(encoding="utf-8").replace("date:", "slug: rust-zwei\ndate:"))
    build_at(bilingual)
    moved = (bilingual / "output/de/articles/rust/index.html").read_text(encoding="utf-8")
    assert 'href="/de/articles/rust-zwei/"' in moved
    entry = feedparser.parse((bilingual / "output/de/atom.xml").read_bytes()).entries
    assert f"{SITE}de/articles/rust/" in {e.id for e in entry}


def test_the_search_index_holds_every_language(bilingual: Path) -> None:
    done = run_cli(bilingual, "build", "--search")
    assert done.returncode == 0, done.stderr
    entry = json.loads((bilingual / "output/pagefind/pagefind-entry.json").read_text())
    assert set(entry["languages"]) == {"en", "de"}
    search = (bilingual / "output/de/search/index.html").read_text(encoding="utf-8")
    assert 'data-bundle="/pagefind/" data-base="/"' in search


@pytest.mark.validator
def test_bilingual_pages_are_valid_html(bilingual: Path) -> None:
    assert nu_errors(bilingual / "output") == []


# Each step edits the bilingual site; after each, the incremental build (command line)
# and the preview's must equal a clean build of the same files.
STEPS: list[tuple[str, str | None]] = [
    ("content/de/articles/rust.md", article("Rust 2.0 ist da", "2026-11-20 10:00", tags="[rust]")),
    ("content/de/articles/only-english.md", article("Auch auf Deutsch", "2026-11-19 11:00")),
    ("content/articles/rust.md", None),  # the original goes: the German page loses its link
    ("content/de/articles/neu.md", article("Neu", "2026-11-21", translation_key="py4")),
    ("content/de/articles/python-vier.md", None),
    ("content/articles/kurz.md", article("Kurz", "2026-11-22", lang="de", tags="[rust]")),
    ("content/de/pages/about.md", None),
    ("content/de/articles/rust.md", article("Rust", "2026-11-23", slug="rost", tags="[go]")),
]


def apply(root: Path, rel: str, text: str | None) -> None:
    if text is None:
        (root / rel).unlink()
    else:
        write_files(root, {rel: text})


def clean_tree(root: Path, tmp: Path) -> dict[str, bytes]:
    build_at(root, output=tmp / "clean", incremental=False)
    found = tree(tmp / "clean")
    shutil.rmtree(tmp / "clean")
    return found


def test_every_edit_across_languages_builds_as_a_clean_build_would(
    bilingual: Path, tmp_path: Path
) -> None:
    for rel, text in STEPS:
        apply(bilingual, rel, text)
        build_at(bilingual)
        assert tree(bilingual / "output") == clean_tree(bilingual, tmp_path), rel


def test_the_preview_of_a_bilingual_site_builds_as_a_clean_build_would(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(FILES, config=BILINGUAL)
    live = LiveBuild(load_config(root, preview=True))
    live.rebuild(FIXED_NOW)
    preview = root / ".site-builder/preview"
    for rel, text in STEPS:
        apply(root, rel, text)
        live.rebuild(FIXED_NOW, [rel])
        assert tree(preview) == clean_tree(root, tmp_path), rel


@pytest.fixture(scope="module")
def trilingual(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled site in English, with German and Arabic sites of the same stories."""
    root = copy_bundled_site(tmp_path_factory.mktemp("trilingual") / "site")
    with (root / "site.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[languages.de]\ntitle = "Technik-Digest"\n\n[languages.ar]\n')
    for code in ("de", "ar"):
        shutil.copytree(root / "content", root / f"content/{code}", ignore=_other_languages)
    build_at(root)
    return root / "output"


def _other_languages(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("de", "ar")]


@pytest.mark.parametrize("code", ["de", "ar"])
def test_another_language_s_pages_show_no_english_theme_string(
    code: str, trilingual: Path, bundled_output: Path
) -> None:
    english = english_left(code)
    content = content_texts(bundled_output) | {"English", "Deutsch", "العربية"}
    pages = [*(trilingual / code).rglob("*.html")]
    assert len(pages) > 60
    left = sorted(
        {
            f"{page.relative_to(trilingual)}: {text!r}"
            for page in pages
            for text in texts_of(page)
            if text not in content and theme_english(text, english, content)
        }
    )
    assert left == []
    front = (trilingual / code / "index.html").read_text(encoding="utf-8")
    assert (' dir="rtl"' in front) == (code == "ar")
    assert "Technik-Digest" in (trilingual / "de/index.html").read_text(encoding="utf-8")


def test_every_story_of_the_bundled_site_links_its_two_translations(trilingual: Path) -> None:
    stories = sorted((trilingual / "articles").glob("*/index.html"))
    assert len(stories) > 15
    for page in stories:
        slug = page.parent.name
        assert set(hreflang(page)) == {"en", "de", "ar", "x-default"}, slug
        assert hreflang(page)["ar"] == f"https://digest.example.org/ar/articles/{slug}/"
    assert list(broken_links(trilingual)) == []


def test_a_draft_translation_is_no_missing_one_and_a_shared_key_is_reported(
    make_site: MakeSite,
) -> None:
    files = {
        **FILES,
        "content/articles/go.md": article("Go 2", "2026-11-17", translation_key="go2"),
        "content/de/articles/go.md": article(
            "Go 2", "2026-11-17", translation_key="go2", draft="true"
        ),
        "content/de/articles/python-zwei.md": article(
            "Noch einmal Python", "2026-11-16", translation_key="py4"
        ),
    }
    root = make_site(files, config=BILINGUAL)
    done = run_cli(root, "check", "--strict")
    assert "go.md" not in done.stderr  # a translation in progress
    assert (
        "content/de/articles/python-zwei.md:4: error: translation_key: 'py4': "
        "content/de/articles/python-vier.md in the same language has it too"
    ) in done.stderr
    assert done.returncode == 1
