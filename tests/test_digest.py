"""Digest issues: daily and weekly (ISO weeks in the site's zone), numbered, linked,
grouped by category, listed on /digest/, opened by the front page, introduced by an
editor's ``content/digests/YYYY-wWW.md``; and the bundled site's issues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from site_builder import content
from site_builder.errors import BuildFailed, SiteWarning
from tests.conftest import MakeSite, article, build_at
from tests.test_incremental import clean_copy
from tests.test_output_safety import snapshot

# content.py knows digest introductions as their own kind (title and date optional).
content_knows_digests = pytest.mark.skipif(
    not hasattr(content, "DIGESTS_DIR"), reason="content.py digest patch not applied yet"
)

WEEKS = {
    "content/articles/a.md": article(
        "Alpha chips", "2026-11-02 09:00", "Alpha summary.", category="Hardware", tags="[chips]"
    ),
    "content/articles/b.md": article(
        "Beta breach",
        "2026-11-03 09:00",
        "Beta summary.",
        category="Security",
        tags="[security, privacy]",
        source="{name: The Register, url: 'https://www.theregister.com/beta'}",
    ),
    "content/articles/c.md": article("Gamma misc", "2026-11-04 09:00", "Gamma summary."),
    "content/articles/d.md": article(
        "Delta fab", "2026-11-05 09:00", "Delta summary.", category="Hardware"
    ),
    "content/articles/e.md": article("Epsilon", "2026-11-10 09:00", category="Security"),
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: week 47, not week 46.
    "content/articles/f.md": article("Zeta late", "2026-11-15T23:30:00+00:00", category="AI"),
}


def read(root: Path, rel: str) -> str:
    return (root / "output" / rel).read_text(encoding="utf-8")


def test_weekly_issues_follow_iso_weeks_in_the_site_time_zone(make_site: MakeSite) -> None:
    root = make_site(WEEKS)
    build_at(root)
    assert "Zeta late" in read(root, "digest/2026/w47/index.html")
    assert "Zeta late" not in read(root, "digest/2026/w46/index.html")
    assert (root / "output/digest/2026/11/16/index.html").is_file()
    assert not (root / "output/digest/2026/11/15").exists()


def test_an_iso_week_can_belong_to_the_previous_year(make_site: MakeSite) -> None:
    root = make_site({"content/articles/ny.md": article("New year", "2027-01-01 12:00")})
    build_at(root, future=True)
    issue = read(root, "digest/2026/w53/index.html")
    assert "Weekly digest: week 53 of 2026" in issue and "New year" in issue
    assert (root / "output/digest/2027/01/01/index.html").is_file()


def test_issues_are_numbered_oldest_first_and_linked_both_ways(make_site: MakeSite) -> None:
    root = make_site(WEEKS)
    build_at(root)
    middle = read(root, "digest/2026/w46/index.html")
    assert "Weekly issue #2" in middle
    assert 'href="/digest/2026/w45/"' in middle and "Previous issue" in middle
    assert 'href="/digest/2026/w47/"' in middle and "Next issue" in middle
    assert "Weekly issue #1" in read(root, "digest/2026/w45/index.html")
    assert "Daily issue #1" in read(root, "digest/2026/11/02/index.html")
    assert "Daily issue #6" in read(root, "digest/2026/11/16/index.html")


def test_an_issue_groups_its_stories_by_category_with_summary_source_and_tags(
    make_site: MakeSite,
) -> None:
    root = make_site(WEEKS)
    build_at(root)
    issue = read(root, "digest/2026/w45/index.html")
    headings = re.findall(r"<h2>([^<]+)</h2>", issue)
    # Order of first appearance, newest story first; stories without a category last.
    assert headings == ["Hardware", "Security", "More stories"]
    hardware = issue[issue.index("<h2>Hardware</h2>") : issue.index("<h2>Security</h2>")]
    assert "Delta fab" in hardware and "Alpha chips" in hardware
    assert "Alpha summary." in issue
    assert "via The Register" in issue
    assert 'href="/tags/privacy/"' in issue


def test_digest_index_lists_every_issue(make_site: MakeSite) -> None:
    root = make_site(WEEKS)
    build_at(root)
    index = read(root, "digest/index.html")
    for url in ("/digest/2026/w45/", "/digest/2026/w46/", "/digest/2026/w47/"):
        assert f'href="{url}"' in index
    days = ["02", "03", "04", "05", "10", "16"]
    assert all(f'href="/digest/2026/11/{d}/"' in index for d in days)


def test_front_page_opens_with_the_latest_weekly_issue(make_site: MakeSite) -> None:
    root = make_site(WEEKS)
    build_at(root)
    front = read(root, "index.html")
    box = front.index('class="digest-box"')
    assert box < front.index("Latest stories")
    assert 'href="/digest/2026/w47/"' in front[box:]
    assert "This week\N{RIGHT SINGLE QUOTATION MARK}s issue" in front


def test_an_editors_introduction_opens_its_issue(make_site: MakeSite) -> None:
    intro = "---\ntitle: A week of chips\ndate: 2026-11-09\n---\n\nChips, [mostly](/tags/chips/).\n"
    root = make_site({**WEEKS, "content/digests/2026-w45.md": intro})
    result = build_at(root)
    assert result.warnings == ()
    issue = read(root, "digest/2026/w45/index.html")
    assert "A week of chips" in issue
    assert '<p>Chips, <a href="/tags/chips/">mostly</a>.</p>' in issue
    assert not (root / "output/articles/2026-w45").exists()
    assert "A week of chips" not in read(root, "digest/2026/w46/index.html")
    feed = read(root, "digest/feed.xml")
    assert "A week of chips" in feed and "https://test.example.org/tags/chips/" in feed


def test_a_daily_issue_takes_an_introduction_too(make_site: MakeSite) -> None:
    intro = "---\ntitle: Tuesday\ndate: 2026-11-03 07:00\n---\n\nA quiet day.\n"
    root = make_site({**WEEKS, "content/digests/2026-11-03.md": intro})
    build_at(root)
    assert "A quiet day." in read(root, "digest/2026/11/03/index.html")
    assert "A quiet day." not in read(root, "digest/2026/w45/index.html")


@content_knows_digests
def test_an_introduction_needs_neither_title_nor_date(make_site: MakeSite) -> None:
    root = make_site({**WEEKS, "content/digests/2026-w46.md": "---\n---\n\nJust words.\n"})
    build_at(root)
    issue = read(root, "digest/2026/w46/index.html")
    assert "<p>Just words.</p>" in issue
    assert 'class="lead headline"' not in issue


def test_a_misnamed_introduction_is_an_error_naming_the_file(make_site: MakeSite) -> None:
    intro = "---\ntitle: Oops\ndate: 2026-11-09\n---\n\nText.\n"
    root = make_site({**WEEKS, "content/digests/week-45.md": intro})
    with pytest.raises(BuildFailed) as failed:
        build_at(root)
    (problem,) = failed.value.problems
    assert str(problem).startswith(
        "content/digests/week-45.md:1: error: 'week-45.md' names no digest issue"
    )
    assert problem.hint is not None and "2021-w33.md" in problem.hint


def test_an_introduction_without_an_issue_is_a_warning(make_site: MakeSite) -> None:
    intro = "---\ntitle: Empty week\ndate: 2026-11-01\n---\n\nNothing.\n"
    root = make_site({**WEEKS, "content/digests/2026-w40.md": intro})
    result = build_at(root)
    (warning,) = result.warnings
    assert isinstance(warning, SiteWarning)
    assert str(warning) == (
        "content/digests/2026-w40.md:1: warning: no issue 2026-W40: no published story is "
        "dated in that week, so this introduction is not shown"
    )


def test_a_draft_introduction_is_left_out_unless_drafts_are_built(make_site: MakeSite) -> None:
    intro = "---\ntitle: Not yet\ndate: 2026-11-09\ndraft: true\n---\n\nSecret intro.\n"
    root = make_site({**WEEKS, "content/digests/2026-w45.md": intro})
    build_at(root)
    assert "Secret intro." not in read(root, "digest/2026/w45/index.html")
    build_at(root, drafts=True)
    assert "Secret intro." in read(root, "digest/2026/w45/index.html")


def test_adding_an_introduction_rebuilds_its_issue_and_equals_a_clean_build(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(WEEKS)
    build_at(root)
    (root / "content/digests").mkdir()
    (root / "content/digests/2026-w46.md").write_text(
        "---\ntitle: Headline\ndate: 2026-11-16\n---\n\nIntro.\n", encoding="utf-8"
    )
    result = build_at(root)
    for path in ("index.html", "email.html", "email.txt"):
        assert f"digest/2026/w46/{path}" in result.written
    assert "digest/feed.xml" in result.written
    assert "digest/2026/w45/index.html" not in result.written
    assert "articles/a/index.html" not in result.written
    assert snapshot(root / "output") == clean_copy(root, tmp_path)


# --- The bundled site -------------------------------------------------------------------

SEED_SLUG = "huawei-may-start-selling-3rd-party-phones"


def test_bundled_site_has_enough_issues_each_with_its_email_edition(
    bundled_output: Path,
) -> None:
    weekly = sorted((bundled_output / "digest").glob("*/w*/index.html"))
    daily = sorted((bundled_output / "digest").glob("*/[0-9][0-9]/[0-9][0-9]/index.html"))
    assert len(weekly) >= 3
    assert len(daily) >= 10
    for issue in (*weekly, *daily):
        assert (issue.parent / "email.html").is_file(), issue
        assert (issue.parent / "email.txt").is_file(), issue


def test_bundled_seed_is_in_its_weeks_issue_with_the_editors_introduction(
    bundled_output: Path,
) -> None:
    issue = (bundled_output / "digest/2021/w33/index.html").read_text(encoding="utf-8")
    assert f'href="/articles/{SEED_SLUG}/"' in issue
    assert "Data breaches, new chips and a privacy law for China" in issue
    assert "A week in which personal data was both lost and regulated." in issue
    email = (bundled_output / "digest/2021/w33/email.html").read_text(encoding="utf-8")
    assert f'href="https://digest.example.org/articles/{SEED_SLUG}/"' in email
