"""A build after an edit of articles' text, or of one article's metadata, renders its
outputs without planning the site.

Each test builds a small site, edits it as an editor would (one file saved), and
checks what the next ``build`` did (``planned``: whether it planned the whole site;
``replanned``: whether it placed one story again in the outline the last build kept)
and that ``output/`` equals a clean build of the same files in a folder of its own.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from site_builder import redraw
from site_builder.build import build
from site_builder.cache import amend_manifest, load_manifest, records_folder
from site_builder.config import SiteConfig, load_config
from site_builder.errors import BuildFailed, SiteWarning
from site_builder.fresh import BuildResult, inputs_of
from site_builder.i18n import load_texts
from site_builder.impact import Unit
from site_builder.model import Entry
from site_builder.outline import Outline, outline_of, place_again
from site_builder.record import STATE, Meta, read_meta, read_state, store
from site_builder.redraw import _halves
from site_builder.site import build_site
from tests.conftest import SITE_TOML, MakeSite, article, build_at
from tests.test_cli import run_cli
from tests.test_output_safety import snapshot

SUMMARY = "'What the lists show.'"
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def story(n: int, body: str = "First paragraph.", **fields: str) -> str:
    fields.setdefault("tags", "[chips, linux]" if n % 2 else "[chips]")
    return article(f"Story {n}", f"2026-11-{10 + n:02d} 09:00", body, **fields)


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


# --- metadata edits: the story placed again in the kept outline (replan) ---------------


def built_like_clean(root: Path, tmp: Path) -> BuildResult:
    """Build ``root`` after an edit; assert that its output and its permalinks.json are
    what a clean build of the same inputs, in a folder of its own, makes."""
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("output", ".output.*", ".site-*"))
    result = build_at(root)
    build_at(copy, incremental=False)
    assert snapshot(root / "output") == snapshot(copy / "output")
    ledger = "permalinks.json"
    assert (root / ledger).read_bytes() == (copy / ledger).read_bytes()
    return result


def meta_edit(root: Path, n: int, **fields: str) -> None:
    """Story ``n`` as ``story`` writes it, with other front matter."""
    title = fields.pop("title", f"Story {n}")
    date = fields.pop("date", f"2026-11-{10 + n:02d} 09:00")
    fields.setdefault("tags", "[chips, linux]" if n % 2 else "[chips]")
    fields.setdefault("summary", SUMMARY)
    text = article(title, date, "First paragraph.", **fields)
    (root / f"content/articles/story-{n}.md").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "'Story four: a new headline'"},
        {"tags": "[linux, gpus]"},  # a new term: its page, feeds, and every index of terms
        {"tags": "[]"},
        {"category": "Hardware"},
        {"authors": "[Ada Byte]"},
        {"date": "2026-11-19 08:00"},  # to the top: new daily and weekly issues, the feeds
        {"date": "2026-10-02 09:00"},  # to the bottom, in a month of its own
        {"date": "2026-11-14 08:00"},  # the same day, another place in the order
        {"updated": "2026-11-20 10:00"},
        {"slug": "a-new-address"},
    ],
    ids="-".join,
)
def test_a_metadata_edit_is_placed_again_as_the_planned_build_would(
    site: Path, tmp_path: Path, fields: dict[str, str]
) -> None:
    meta_edit(site, 4, **fields)
    result = built_like_clean(site, tmp_path)
    assert result.replanned and not result.planned


def test_a_rename_redirects_the_old_address_and_keeps_every_address_in_the_ledger(
    site: Path, tmp_path: Path
) -> None:
    meta_edit(site, 5, slug="moved")
    assert built_like_clean(site, tmp_path).replanned
    redirect = (site / "output/articles/story-5/index.html").read_text(encoding="utf-8")
    assert "/articles/moved/" in redirect and "noindex" in redirect
    meta_edit(site, 5, slug="moved-again", title="'Story five, retitled'")
    assert built_like_clean(site, tmp_path).replanned
    ledger = (site / "permalinks.json").read_text(encoding="utf-8")
    assert (
        '"/articles/story-5/",\n        "/articles/moved/",\n        "/articles/moved-again/"'
        in ledger
    )
    for old in ("story-5", "moved"):  # both forward to the new address, with the new title
        page = (site / f"output/articles/{old}/index.html").read_text(encoding="utf-8")
        assert "/articles/moved-again/" in page and "Story five, retitled" in page
    meta_edit(site, 5)  # back to its first address
    result = built_like_clean(site, tmp_path)
    assert result.replanned and "articles/story-5/index.html" in result.written


def test_a_term_that_loses_its_last_story_goes(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({**stories(), "content/articles/story-9.md": story(9, tags="[rare]")})
    build_at(root)
    (root / "content/articles/story-9.md").write_text(story(9, tags="[chips]"), encoding="utf-8")
    result = built_like_clean(root, tmp_path)
    assert result.replanned
    assert {"tags/rare/index.html", "tags/rare/feed.xml"} <= set(result.removed)


def test_a_list_that_gets_shorter_loses_a_page_and_the_next_plan_agrees(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """Four stories under a tag make two pages of three; three make one. The planned
    build after that still lists the removed page in its manifest: it removes it again."""
    root = make_site({f"content/articles/story-{n}.md": story(n, tags="[chips]") for n in range(4)})
    build_at(root)
    (root / "content/articles/story-1.md").write_text(story(1, tags="[linux]"), encoding="utf-8")
    result = built_like_clean(root, tmp_path)
    assert result.replanned and "tags/chips/page/2/index.html" in result.removed
    (root / "content/articles/story-8.md").write_text(story(8, tags="[linux]"), encoding="utf-8")
    assert built_like_clean(root, tmp_path).planned


def test_edits_after_edits_keep_the_outline_as_the_plan_would(site: Path, tmp_path: Path) -> None:
    """Each build after the first places one story in the outline the last one left."""
    edits = [
        (2, {"date": "2026-11-18 07:00"}),
        (6, {"tags": "[linux, storage]"}),
        (2, {"category": "Policy", "date": "2026-11-18 07:00"}),
        (3, {"slug": "three", "title": "Three"}),
        (6, {"date": "2026-11-01 07:00", "tags": "[storage]"}),
    ]
    for n, fields in edits:
        meta_edit(site, n, **fields)
        assert built_like_clean(site, tmp_path).replanned


def test_edits_keep_the_stats_of_the_files_they_changed_and_read_back_every_file(
    site: Path,
) -> None:
    """Every input file's stat is kept by the planned build; a build without the plan
    writes only those of the files it saw changed: read back, they are every file's."""
    edit(site, 2, "First paragraph.\n\nMore.")
    assert not build_at(site).planned
    meta_edit(site, 3, title="Three")
    assert build_at(site).replanned
    config = load_config(site)
    with store(config) as db:
        later, meta = read_meta(db, STATE, Meta), read_state(db)
    assert later is not None and meta is not None
    assert sorted(later.stats) == ["content/articles/story-2.md", "content/articles/story-3.md"]
    assert meta.stats == inputs_of(config, False).stats


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"source": "https://lwn.net/Articles/1/"}, "sources: another story may cite it"),
        ({"draft": "true"}, "a draft leaves the site"),
        ({"date": "2026-12-24 09:00"}, "a scheduled story leaves the site until its date"),
        ({"aliases": "[/old/address/]"}, "an alias is a redirect"),
        ({"id": "tag:test.example.org,2026:4"}, "a pinned feed id must not change"),
    ],
)
def test_other_metadata_edits_are_planned(
    site: Path, tmp_path: Path, fields: dict[str, str], why: str
) -> None:
    meta_edit(site, 4, **fields)
    result = built_like_clean(site, tmp_path)
    assert result.planned, why


def test_a_slug_taken_by_another_story_fails_as_the_planned_build_does(site: Path) -> None:
    meta_edit(site, 4, slug="story-5")
    with pytest.raises(BuildFailed) as failure:
        build_at(site)
    assert "URL /articles/story-5/ is already used" in str(failure.value.problems[0])


def test_a_term_whose_name_changes_is_planned(make_site: MakeSite, tmp_path: Path) -> None:
    """A term shows its most used spelling: every story filed under it shows the new one."""
    root = make_site(
        {
            f"content/articles/story-{n}.md": story(n, tags="[GPU]" if n == 0 else "[gpu]")
            for n in range(3)
        }
    )
    build_at(root)
    (root / "content/articles/story-2.md").write_text(story(2, tags="[GPU]"), encoding="utf-8")
    assert built_like_clean(root, tmp_path).planned


# --- the outline edited in place is the outline of the whole site placed again ----------

TAGS = ("ai", "AI", "rust", "linux", "Linux", "chips", "open source", "Ünïcode", "gpu")
CATEGORIES = (None, "Cloud", "cloud", "Hardware", "Policy")
AUTHORS = ("Ada Byte", "ada byte", "Lin Kernel", "Tom Whitaker")
DAY_ONE = datetime(2026, 10, 20, tzinfo=UTC)  # a week before the clocks go back in Berlin


@st.composite
def placements(draw: st.DrawFn) -> dict[str, object]:
    """What an edit may change of a story's placement, drawn anew."""
    return {
        "date": DAY_ONE + timedelta(hours=draw(st.integers(0, 24 * 20))),
        "tag_names": tuple(draw(st.lists(st.sampled_from(TAGS), max_size=3))),
        "category": draw(st.sampled_from(CATEGORIES)),
        "authors": tuple(draw(st.lists(st.sampled_from(AUTHORS), max_size=2))),
    }


def entry_of(n: int, fields: dict[str, object]) -> Entry:
    return Entry(
        source_path=f"content/articles/s{n}.md",
        kind="article",
        title=f"Story {n}",
        slug=f"s{n}",
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def berlin(tmp_path_factory: pytest.TempPathFactory) -> SiteConfig:
    root = tmp_path_factory.mktemp("outline")
    (root / "site.toml").write_text(SITE_TOML.replace("per_page = 3", "per_page = 4"))
    return load_config(root)


def placed_from_scratch(entries: list[Entry], config: SiteConfig) -> Outline:
    site, problems = build_site(entries, config, NOW)
    assert site is not None and not [p for p in problems if not isinstance(p, SiteWarning)]
    return outline_of(site, config, {})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    count=st.integers(1, 130),  # a tag's window of related stories spans 81 of them
)
def test_an_outline_edited_in_place_is_the_outline_placed_from_scratch(
    berlin: SiteConfig, data: st.DataObject, count: int
) -> None:
    entries = [entry_of(n, data.draw(placements(), label=f"story {n}")) for n in range(count)]
    site, _ = build_site(entries, berlin, NOW)
    assert site is not None
    n = data.draw(st.integers(0, count - 1), label="edited")
    edit = data.draw(placements(), label="edit")
    edit["slug"] = data.draw(st.sampled_from((f"s{n}", f"s{n}-moved")), label="slug")
    edit["title"] = data.draw(st.sampled_from((f"Story {n}", "Another title")), label="title")
    edited = replace(entries[n], **edit)  # type: ignore[arg-type]
    old = next(a for a in site.articles if a.source_path == edited.source_path)
    texts, _ = load_texts(berlin.language, berlin.templates_dir)
    placed = place_again(outline_of(site, berlin, {}), old, edited, berlin, texts)
    expected = placed_from_scratch([*entries[:n], edited, *entries[n + 1 :]], berlin)
    event("placed again" if placed else "left to the plan")
    if placed is None:
        return
    got = placed.outline
    assert (got.order, got.spots, got.related) == (expected.order, expected.spots, expected.related)
    assert (got.terms, got.spellings) == (expected.terms, expected.spellings)
    assert got.issues == expected.issues


def test_the_two_renderers_get_every_unit_once_and_about_the_same_work() -> None:
    units = [Unit("digests"), *(Unit("term", (1, "cloud", n)) for n in range(1, 30))]
    units += [Unit("issue", ("weekly", "2024-W01")), Unit("redirect", ("/old/", "a.md"))]
    mine, theirs = _halves(units)
    assert sorted(mine + theirs) == sorted(units)
    assert Unit("digests") in mine and len(theirs) > len(mine)  # one costly page: many cheap


@pytest.mark.parametrize(("category", "hours"), [("Cloud", 7), ("Policy", 7 * 40 + 3)])
def test_many_pages_are_rendered_in_two_processes_as_in_one(
    make_site: MakeSite,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    category: str,
    hours: int,
) -> None:
    """A story moved to another category changes every page of both (each counts its
    stories), a redated one its issues and /digest/: past ``redraw.PARALLEL`` pages'
    worth, about half are rendered in a forked process."""

    def filed(n: int, category: str, hours: int) -> str:
        when = DAY_ONE + timedelta(hours=hours)
        return article(f"Story {n}", f"{when:%Y-%m-%d %H:%M}", "Text.", category=category)

    root = make_site(
        {
            f"content/articles/story-{n}.md": filed(n, "Policy" if n % 3 else "Cloud", 7 * n)
            for n in range(150)
        }
    )
    config = load_config(root)
    build(config, now=NOW, jobs=2)
    (root / "content/articles/story-1.md").write_text(filed(1, category, hours), encoding="utf-8")
    copy = tmp_path / "clean"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("output", ".output.*", ".site-*"))
    split: list[list[Unit]] = []

    def halves(units: list[Unit]) -> tuple[list[Unit], list[Unit]]:
        split.append(units)  # the units are shared out: a second process renders some
        return _halves(units)

    monkeypatch.setattr(redraw, "_halves", halves)
    result = build(config, now=NOW, jobs=2)
    assert result.replanned and split
    build(load_config(copy), now=NOW, jobs=1, incremental=False)
    assert snapshot(root / "output") == snapshot(copy / "output")
