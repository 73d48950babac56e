"""The preview of a site in several languages: an edit of a story's text is patched in
its language's site in place, and leaves the output folder as a clean build of the same
files in a fresh folder makes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from site_builder.build import Plan
from site_builder.live import LiveBuild
from tests.conftest import FIXED_NOW, MakeSite, article, build_at
from tests.test_languages import BILINGUAL, FILES, tree
from tests.test_live import edit, started

# A German story with a neighbour on each side in its list, and tags the English one has.
GERMAN = {
    "content/de/articles/go.md": article("Go 2 kommt", "2026-11-21 09:00", tags="[go]"),
    "content/de/articles/alt.md": article("Ältere Nachricht", "2026-11-17 09:00"),
}
BILINGUAL_FILES = {**FILES, **GERMAN}


def fresh_clean_build(root: Path, tmp: Path) -> dict[str, bytes]:
    """The output folder a clean build of a copy of the inputs makes, in a fresh folder
    with no ``.site-builder/`` (the ledgers, one per language, are inputs: copied)."""
    copy = tmp / "fresh"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("output", ".site-builder"))
    build_at(copy, incremental=False)
    found = tree(copy / "output")
    shutil.rmtree(copy)
    return found


def kept_plan(live: LiveBuild) -> Plan:
    """The plan the preview keeps between rebuilds: the same object after an edit it
    patched in place, a new one after a planned build."""
    assert live._last is not None
    return live._last.plan


@pytest.mark.parametrize(
    ("rel", "text", "page"),
    [
        (
            "content/articles/rust.md",
            article("Rust 2.0 ships", "2026-11-20 09:00", "New news.", tags="[rust]"),
            "articles/rust/index.html",
        ),
        (
            "content/de/articles/rust.md",
            article(
                "Rust 2.0 erscheint",
                "2026-11-20 10:00",
                "Neue Nachrichten.",
                tags="[rust]",
                image="/images/logo.png",
            ),
            "de/articles/rust/index.html",
        ),
    ],
    ids=["english", "german"],
)
def test_a_body_edit_is_patched_in_its_language_alone(
    make_site: MakeSite, tmp_path: Path, rel: str, text: str, page: str
) -> None:
    root = make_site(BILINGUAL_FILES, config=BILINGUAL)
    live = started(root)
    plan, before = kept_plan(live), tree(root / "output")
    result = edit(root, rel, text, live)
    assert kept_plan(live) is plan  # patched in place, not planned again
    after = tree(root / "output")
    assert set(result.written) == {path for path in after if after[path] != before.get(path)}
    assert page in result.written
    german = page.startswith("de/")
    # The translation shows of its original only the address, which the edit kept.
    assert all(path.startswith("de/") == german for path in result.written)
    assert after == fresh_clean_build(root, tmp_path)


def test_a_german_title_edit_reaches_its_lists_neighbours_and_feeds(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(BILINGUAL_FILES, config=BILINGUAL)
    live = started(root)
    plan = kept_plan(live)
    text = article("Rust 2.0 ist da", "2026-11-20 10:00", tags="[rust]", image="/images/logo.png")
    result = edit(root, "content/de/articles/rust.md", text, live)
    assert kept_plan(live) is plan
    for path in ("de/articles/go/index.html", "de/tags/rust/index.html", "de/feed.xml"):
        assert path in result.written
        assert "Rust 2.0 ist da" in (root / "output" / path).read_text(encoding="utf-8")
    assert not any(path.startswith("articles/") for path in result.written)
    assert tree(root / "output") == fresh_clean_build(root, tmp_path)


def test_edits_of_two_languages_at_once_are_each_patched(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(BILINGUAL_FILES, config=BILINGUAL)
    live = started(root)
    plan = kept_plan(live)
    edits = {
        "content/articles/only-english.md": article("Only in English, edited", "2026-11-19 09:00"),
        "content/de/articles/alt.md": article("Ältere Nachricht", "2026-11-17 09:00", "Neu."),
    }
    for rel, text in edits.items():
        (root / rel).write_text(text, encoding="utf-8")
    result = live.rebuild(FIXED_NOW, list(edits))
    assert kept_plan(live) is plan
    assert {"articles/only-english/index.html", "de/articles/alt/index.html"} <= set(result.written)
    assert tree(root / "output") == fresh_clean_build(root, tmp_path)


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("content/articles/rust.md", article("Rust 2.0 ships", "2026-11-22 09:00", tags="[rust]")),
        ("content/de/articles/rust.md", article("Rust", "2026-11-20 10:00", slug="rost")),
        ("content/de/articles/go.md", article("Go 2 kommt", "2026-11-16 09:00", tags="[go]")),
        # Text to the placement, but it files the story under another language ...
        ("content/articles/only-english.md", article("Nur", "2026-11-19 09:00", lang="de")),
        # ... or pairs it with a translation: both pages link each other now.
        ("content/de/articles/alt.md", article("Alt", "2026-11-17 09:00", translation_key="py4")),
    ],
    ids=["english-date", "german-slug", "german-date", "lang", "translation-key"],
)
def test_edits_that_move_a_story_are_planned_and_give_a_clean_build(
    make_site: MakeSite, tmp_path: Path, rel: str, text: str
) -> None:
    root = make_site(BILINGUAL_FILES, config=BILINGUAL)
    live = started(root)
    plan = kept_plan(live)
    edit(root, rel, text, live)
    assert kept_plan(live) is not plan
    assert tree(root / "output") == fresh_clean_build(root, tmp_path)


# A list of the newest stories on every term page: it reads ``site.latest``, which the
# merged manifest names ``de:latest`` for the German pages, and no English page has
# the German ``go`` tag's.
LATEST_ON_TERMS = """{% extends "base.html" %}
{% block content %}<h1>{{ listing.term.name }}</h1>
<ul>{% for a in site.latest %}<li>{{ a.title }}</li>{% endfor %}</ul>{% endblock %}
"""


def test_a_file_that_reads_its_language_s_site_parts_is_rendered_again(
    make_site: MakeSite, tmp_path: Path
) -> None:
    files = {**BILINGUAL_FILES, "templates/term.html": LATEST_ON_TERMS}
    root = make_site(files, config=BILINGUAL)
    live = started(root)
    plan = kept_plan(live)
    text = article("Ältere Nachricht, neu betitelt", "2026-11-17 09:00")
    result = edit(root, "content/de/articles/alt.md", text, live)
    assert kept_plan(live) is plan
    assert "de/tags/go/index.html" in result.written  # it shows only go.md, and the latest
    assert tree(root / "output") == fresh_clean_build(root, tmp_path)
