"""A build after an edit of articles' text renders their outputs without planning the site.

Each test builds a small site, edits it as an editor would (one file saved), and
checks what the next ``build`` did (``planned``: whether it planned the whole site)
and that ``output/`` equals a clean build of the same files in a folder of its own.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import feedparser
import pytest

from site_builder.cache import amend_manifest, load_manifest, records_folder
from site_builder.errors import BuildFailed
from tests.conftest import MakeSite, article, build_at
from tests.test_cli import run_cli
from tests.test_output_safety import snapshot

SUMMARY = "'What the lists show.'"


def story(n: int, body: str = "First paragraph.", **fields: str) -> str:
    tags = "[chips, linux]" if n % 2 else "[chips]"
    return article(f"Story {n}", f"2026-11-{10 + n:02d} 09:00", body, tags=tags, **fields)


def stories(count: int = 8) -> dict[str, str]:
    return {f"content/articles/story-{n}.md": story(n, summary=SUMMARY) for n in range(count)}


def edit(root: Path, n: int, body: str, **fields: str) -> None:
    fields.setdefault("summary", SUMMARY)
    (root / f"content/articles/story-{n}.md").write_text(story(n, body, **fields), encoding="utf-8")


def clean_build(root: Path, tmp: Path) -> dict[str, bytes]:
    """A clean build of the same files, in a site folder of its own."""
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("output", ".output.*", ".site-*"))
    build_at(copy, incremental=False)
    return snapshot(copy / "output")


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    root = make_site(stories())
    assert build_at(root).planned
    return root


def test_a_body_edit_renders_its_page_without_planning(site: Path, tmp_path: Path) -> None:
    edit(site, 2, "First paragraph.\n\nA second paragraph, added later.")
    result = build_at(site)
    assert not result.planned
    assert result.written == ("articles/story-2/index.html",)
    page = (site / "output/articles/story-2/index.html").read_text(encoding="utf-8")
    assert "A second paragraph, added later." in page
    assert snapshot(site / "output") == clean_build(site, tmp_path)
    again = build_at(site)
    assert again.written == () and again.skipped == result.pages + result.feeds + result.files


def test_the_newest_story_edited_updates_the_feeds_that_carry_it(
    site: Path, tmp_path: Path
) -> None:
    edit(site, 7, "First paragraph.\n\nLate news: the *chip* shipped.")
    result = build_at(site)
    assert not result.planned
    assert {"feed.xml", "atom.xml", "feed.json", "tags/chips/feed.xml"} <= set(result.written)
    for feed in ("feed.xml", "atom.xml", "tags/linux/atom.xml"):
        parsed = feedparser.parse((site / "output" / feed).read_bytes())
        assert parsed.bozo == 0
        newest = parsed.entries[0]
        assert newest.title == "Story 7"
        assert "Late news: the <em>chip</em> shipped." in newest.content[0].value
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_edits_of_what_lists_show_place_the_story_again(site: Path, tmp_path: Path) -> None:
    """A new summary or title is on every list of the story: rendered from the outline."""
    edit(site, 3, "First paragraph.", summary="'Another summary.'")
    result = build_at(site)
    assert not result.planned and result.replanned
    assert snapshot(site / "output") == clean_build(site, tmp_path)
    (site / "content/articles/story-3.md").write_text(
        article("Story three, retitled", "2026-11-13 09:00", "First paragraph.", tags="[chips]"),
        encoding="utf-8",
    )
    assert build_at(site).replanned
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_a_template_or_a_new_article_is_planned(site: Path, tmp_path: Path) -> None:
    edit(site, 1, "First paragraph.\n\nMore.")
    (site / "templates").mkdir()
    (site / "templates/404.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Gone.</p>{% endblock %}\n',
        encoding="utf-8",
    )
    assert build_at(site).planned
    (site / "content/articles/story-9.md").write_text(story(9), encoding="utf-8")
    assert build_at(site).planned
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_an_edit_undone_after_a_quick_build_is_rebuilt_by_the_planned_one(
    site: Path, tmp_path: Path
) -> None:
    """The manifest still holds the page's old key: a planned build must not trust it."""
    before = (site / "content/articles/story-4.md").read_text(encoding="utf-8")
    edit(site, 4, "First paragraph.\n\nA sentence the editor takes back.")
    assert not build_at(site).planned
    (site / "content/articles/story-4.md").write_text(before, encoding="utf-8")
    (site / "content/articles/story-8.md").write_text(story(8), encoding="utf-8")
    result = build_at(site)
    assert result.planned and "articles/story-4/index.html" in result.written
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_a_broken_edit_is_reported_with_its_line(site: Path) -> None:
    path = site / "content/articles/story-5.md"
    path.write_text("---\ntitle: Story 5\ndate: 2026-11-15\ntags: [chips\n---\n\nText.\n")
    with pytest.raises(BuildFailed) as failure:
        build_at(site)
    reports = [p.report() for p in failure.value.problems]
    assert any(r.startswith("content/articles/story-5.md:4:") for r in reports), reports


def test_a_damaged_record_gives_a_planned_build(site: Path, tmp_path: Path) -> None:
    (records_folder(site, site / "output") / "quick.sqlite").write_bytes(b"not a database" * 100)
    edit(site, 6, "First paragraph.\n\nAfter the damage.")
    assert build_at(site).planned
    edit(site, 6, "First paragraph.\n\nAfter the damage, again.")
    assert not build_at(site).planned
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_another_output_folder_is_planned(site: Path, tmp_path: Path) -> None:
    edit(site, 2, "First paragraph.\n\nElsewhere.")
    result = build_at(site, output=tmp_path / "elsewhere")
    assert result.planned
    assert snapshot(tmp_path / "elsewhere") == clean_build(site, tmp_path)


def test_after_every_file_is_written_again_text_edits_stay_quick(
    site: Path, tmp_path: Path
) -> None:
    """A fresh checkout gives every file a new stat: the build after it is planned, and
    the rows it keeps still serve the next text edit."""
    for path in [site / "site.toml", *sorted((site / "content").rglob("*.md"))]:
        path.write_bytes(path.read_bytes())
    assert build_at(site).planned
    edit(site, 0, "First paragraph.\n\nChecked out again.")
    result = build_at(site)
    assert not result.planned and result.written == ("articles/story-0/index.html",)
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_the_command_line_says_when_only_text_was_rendered(site: Path) -> None:
    edit(site, 0, "First paragraph.\n\nSaid on the command line.")
    done = run_cli("build", "--source", str(site), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("(1 written, 73 unchanged, text edits only)")


THEME_404 = (
    '{% extends "base.html" %}{% block content %}'
    "{% if site.featured is defined %}<p>Featured</p>{% endif %}"
    "{% for a in site.latest %}<p>{{ a.title }}: "
    '{{ a.related|map(attribute="title")|join(", ") }}</p>{% endfor %}'
    "{% endblock %}\n"
)


def test_pages_reading_site_parts_are_rendered_as_the_planned_build_would(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """A part the site lacks stays undefined; listed stories keep their related ones."""
    root = make_site({**stories(), "templates/404.html": THEME_404})
    build_at(root)
    edit(root, 7, "First paragraph.\n\nNews for the newest story.")
    assert not build_at(root).planned
    page = (root / "output/404.html").read_text(encoding="utf-8")
    assert "Featured" not in page and "Story 7: Story" in page
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_page_that_starts_reading_another_part_is_planned(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """Later edits of that part's stories must reach it: the planned build notes it."""
    article_html = (Path(__file__).parent.parent / "templates/article.html").read_text()
    probe = "{% if 'LATEST' in article.html %}{{ site.latest|length }}{% endif %}"
    marked = article_html.replace("{% block content %}", "{% block content %}" + probe, 1)
    root = make_site({**stories(), "templates/article.html": marked})
    build_at(root)
    edit(root, 2, "First paragraph.\n\nLATEST news.")
    assert build_at(root).planned
    assert snapshot(root / "output") == clean_build(root, tmp_path)


def test_a_record_from_another_version_gives_a_planned_build(site: Path, tmp_path: Path) -> None:
    with sqlite3.connect(records_folder(site, site / "output") / "quick.sqlite") as db:
        db.execute("UPDATE meta SET value = ?", (b"\x80\x04csite_builder.quick\nGone\n)\x81.",))
    db.close()
    edit(site, 1, "First paragraph.\n\nAfter an upgrade.")
    assert build_at(site).planned
    assert snapshot(site / "output") == clean_build(site, tmp_path)


def test_an_amendment_cut_short_does_not_hide_the_next_one(site: Path) -> None:
    """A killed build may leave half a line in manifest.amended; the next build's paths
    must still reach the manifest, or an undone edit would keep its page."""
    (records_folder(site, site / "output") / "manifest.amended").write_text('"articles/story-1/ind')
    amend_manifest(site, site / "output", ["articles/story-2/index.html"])
    manifest = load_manifest(site, site / "output")
    assert manifest is not None
    assert manifest.keys["articles/story-2/index.html"] == ""
    assert manifest.keys["articles/story-1/index.html"] != ""
