"""``site-builder import``: sample Jekyll and Hugo sites imported into a fresh site, then built.

The samples in tests/sites/import/ hold one post per case the importer handles; each
has an ``expected.txt`` with the exact report, warnings with file:line included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder import cli
from site_builder.errors import BuildFailed, ConfigError
from site_builder.frontmatter import read_fields, split_front_matter
from site_builder.importer import ImportReport, import_posts, normalize_date
from tests.conftest import SITE_TOML, MakeSite, article, build_at, write_files

SAMPLES = Path(__file__).parent / "sites" / "import"
DRAFT_TIME = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def jekyll_src(tmp_path: Path) -> Path:
    """The Jekyll sample with its draft's file time fixed: a draft without a date gets it."""
    src = shutil.copytree(SAMPLES / "jekyll", tmp_path / "jekyll")
    stamp = DRAFT_TIME.timestamp()
    os.utime(src / "_drafts" / "work-in-progress.md", (stamp, stamp))
    return src


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site({"content/pages/about.md": "---\ntitle: About\n---\n\nAbout us.\n"})


def page(site: Path, slug: str) -> str:
    return (site / "output" / "articles" / slug / "index.html").read_text(encoding="utf-8")


def article_text(site: Path, slug: str) -> str:
    return (site / "content" / "articles" / f"{slug}.md").read_text(encoding="utf-8")


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.md")}


# ---------------------------------------------------------------- Jekyll


def test_jekyll_report_is_exact(jekyll_src: Path, site: Path) -> None:
    report = import_posts("jekyll", jekyll_src, site)
    assert report.text() == (SAMPLES / "jekyll" / "expected.txt").read_text(encoding="utf-8")
    assert report.failed  # the broken date
    warnings = {str(p) for p in report.problems}
    assert (
        "_posts/2012-04-15-liquid-tricks.md:19: warning: "
        "Liquid tag '{% include signup.html %}' left as text; edit by hand"
    ) in warnings
    assert (
        "_posts/2012-07-01-broken-date.md:3: error: date: 'next tuesday' is not a date; "
        "expected 2012-03-01, 2012-03-01 12:00:00 +0000 or 2012-03-01T12:00:00Z"
    ) in warnings
    assert not (site / "content" / "articles" / "broken-date.md").exists()


def test_jekyll_front_matter_is_mapped(jekyll_src: Path, site: Path) -> None:
    import_posts("jekyll", jekyll_src, site)
    # Date and slug from the file name; categories and tags as strings; excerpt; layout gone.
    assert article_text(site, "hello-jekyll").startswith(
        "---\ntitle: Hello, Jekyll\ndate: '2012-03-01'\nslug: hello-jekyll\n"
        "summary: The first post, moved from Jekyll.\n"
        "tags:\n- jekyll\n- welcome\n- meta\ncategory: news\nauthor: Ada Byte\n"
        "aliases:\n- /2012/03/01/hello-jekyll.html\n---\n\n"
    )
    # A "+0000" date (text to PyYAML), tags and categories as lists, an unknown key kept.
    assert article_text(site, "liquid-tricks").startswith(
        "---\ntitle: Liquid tricks\ndate: '2012-04-15T09:30:00+00:00'\nslug: liquid-tricks\n"
        "tags:\n- liquid\n- templates\n- Tips\ncategory: Software\ncomments: true\n"
        "aliases:\n- /2012/04/15/liquid-tricks.html\n---\n\n"
    )
    # Non-ASCII kept as it is, not escaped; the post's own permalink is its old URL.
    assert article_text(site, "zurich") == (
        "---\ntitle: Ünïcödé Çhàrs in Zürich\ndate: '2012-05-01T08:00:00+00:00'\n"
        "slug: zurich\ntags:\n- Zürich\ncategory: Travel\naliases:\n- /blog/zurich-unicode.html\n"
        "---\n\nGrüezi! A post about Zürich.\n"
    )
    assert "draft: true\n" in article_text(site, "unpublished")  # published: false
    assert "date: '2026-11-20T10:00:00+00:00'\n" in article_text(site, "work-in-progress")
    assert "draft: true\n" in article_text(site, "work-in-progress")  # from _drafts/


def test_jekyll_liquid_is_converted(jekyll_src: Path, site: Path) -> None:
    import_posts("jekyll", jekyll_src, site)
    hello = article_text(site, "hello-jekyll")
    assert "Read [the Liquid post](/articles/liquid-tricks/) next," in hello  # post_url
    assert "or [the about page](/about/)." in hello  # site.baseurl; this site has /about/ too
    assert '```python\ndef hello():\n    return "hi"\n```\n\nThe end.' in hello  # linenos
    tricks = article_text(site, "liquid-tricks")
    assert "only inside raw: {{ page.title }}." in tricks
    assert "```liquid\n{% for post in site.posts %}{{ post.title }}{% endfor %}\n```" in tricks
    # site.url: the old site's file, which SRC does not have, stays on the old site
    assert "![Logo](https://old.example.com/blog/images/logo.png)" in tricks
    assert "{% include signup.html %}" in tricks  # kept, and reported


def test_jekyll_same_slug_gets_a_date_based_url(jekyll_src: Path, site: Path) -> None:
    report = import_posts("jekyll", jekyll_src, site)
    assert [(r.source, r.slug, r.new_slug, r.taken_by) for r in report.renamed] == [
        (
            "_posts/2013-01-10-same-story.md",
            "same-story",
            "2013-01-10-same-story",
            "_posts/2012-06-01-same-story.md",
        )
    ]
    assert "title: Same story, first telling\n" in article_text(site, "same-story")
    retold = article_text(site, "2013-01-10-same-story")
    assert "slug: 2013-01-10-same-story\n" in retold  # the file name alone would say "same-story"
    assert "[the first telling](/articles/same-story/)" in retold


def test_jekyll_import_builds(jekyll_src: Path, site: Path) -> None:
    import_posts("jekyll", jekyll_src, site)
    result = build_at(site)
    assert result.warnings == ()
    hello = page(site, "hello-jekyll")
    assert "Hello, Jekyll" in hello
    assert '<div class="highlight">' in hello
    assert 'href="/articles/liquid-tricks/"' in hello
    assert "Ünïcödé Çhàrs in Zürich" in page(site, "zurich")
    assert "{{ page.title }}" in page(site, "liquid-tricks")
    assert "Same story, retold" in page(site, "2013-01-10-same-story")
    assert not (site / "output" / "articles" / "work-in-progress").exists()  # a draft
    build_at(site, incremental=False, drafts=True)
    assert "Work in progress" in page(site, "work-in-progress")
    assert "Not published yet" in page(site, "unpublished")


# ---------------------------------------------------------------- Hugo


def test_hugo_report_is_exact(site: Path) -> None:
    report = import_posts("hugo", SAMPLES / "hugo", site)
    assert report.text() == (SAMPLES / "hugo" / "expected.txt").read_text(encoding="utf-8")
    assert report.failed  # 2019-02-30
    assert (
        "content/posts/yaml-shortcodes.md:10: warning: "
        "Hugo shortcode '{{< youtube dQw4w9WgXcQ >}}' left as text; edit by hand"
    ) in {str(p) for p in report.problems}
    imported = dict(report.imported)
    assert "content/_index.md" not in imported and "content/about.md" not in imported


def test_hugo_toml_front_matter_and_shortcodes(site: Path) -> None:
    import_posts("hugo", SAMPLES / "hugo", site)
    assert article_text(site, "toml-front-matter") == (
        "---\ntitle: TOML front matter\ndate: '2019-03-01T10:00:00+01:00'\n"
        "updated: '2019-03-02'\nslug: toml-front-matter\nsummary: Hugo keeps settings in TOML.\n"
        "tags:\n- go\n- hugo\n- Tools\ncategory: Software\nauthor: Lin Qubit\n"
        "aliases:\n- /old/toml-post/\n- /posts/toml-front-matter/\nweight: 10\n---\n\n"
        "Some Go:\n\n```go\npackage main\n\nfunc main() {}\n```\n\n"
        '![The Go gopher](https://old.example.com/images/gopher.png "Gopher")\n'
    )
    shortcodes = article_text(site, "custom-slug")  # its slug: key wins over the file name
    assert 'Show a shortcode as text: {{< figure src="x.png" >}}.' in shortcodes
    assert "{{% notice tip %}}\nA paired shortcode around Markdown.\n{{% /notice %}}" in shortcodes
    json_post = article_text(site, "json-front-matter")
    assert "category: Notes\ndraft: true\n" in json_post


def test_hugo_import_builds(site: Path) -> None:
    import_posts("hugo", SAMPLES / "hugo", site)
    result = build_at(site)
    assert result.warnings == ()
    toml_page = page(site, "toml-front-matter")
    assert "TOML front matter" in toml_page
    assert '<div class="highlight">' in toml_page
    assert 'src="https://old.example.com/images/gopher.png"' in toml_page
    assert 'alt="The Go gopher"' in toml_page
    assert "Ünïcödé Çhàrs in Zürich" in page(site, "greetings-from-zurich")
    assert "{{&lt; youtube dQw4w9WgXcQ &gt;}}" in page(site, "custom-slug")


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2012-03-01 12:00:00 +0000", "2012-03-01T12:00:00+00:00"),
        ("2012-03-01T12:00:00Z", "2012-03-01T12:00:00+00:00"),
        ("2012-03-01", "2012-03-01"),
        ("2012-03-01 12:00", "2012-03-01T12:00:00"),
        ("2012-3-1 9:05:30 -05:00", "2012-03-01T09:05:30-05:00"),
        ("2012-03-01T12:00:00.5+0130", "2012-03-01T12:00:00.500000+01:30"),
        (date(2012, 3, 1), "2012-03-01"),
        (datetime(2012, 3, 1, 12, 0, tzinfo=UTC), "2012-03-01T12:00:00+00:00"),
    ],
)
def test_dates_are_written_as_iso_8601(value: object, expected: str) -> None:
    assert normalize_date(value) == expected


@pytest.mark.parametrize(
    "value",
    ["next tuesday", "2012-02-30", "2012-03-01 25:00", "2012-03-01 12:00 +2500", "", 1, None],
)
def test_bad_dates_are_refused(value: object) -> None:
    with pytest.raises(ValueError):  # the importer turns it into an error at the key's line
        normalize_date(value)


@given(st.one_of(st.text(), st.integers(), st.dates(), st.datetimes(timezones=st.timezones())))
def test_any_date_value_is_written_or_refused(value: object) -> None:
    try:
        written = normalize_date(value)
    except ValueError:
        return
    assert normalize_date(written) == written  # what is written reads back the same


# ---------------------------------------------------------------- placing and writing


def test_existing_article_keeps_its_slug(jekyll_src: Path, make_site: MakeSite) -> None:
    mine = article("Our own liquid story", "2020-01-01")
    root = make_site({"content/articles/liquid-tricks.md": mine})
    report = import_posts("jekyll", jekyll_src, root)
    moved = ("_posts/2012-04-15-liquid-tricks.md", "content/articles/2012-04-15-liquid-tricks.md")
    assert moved in report.imported
    assert (
        "renamed _posts/2012-04-15-liquid-tricks.md: /articles/liquid-tricks/ is taken by "
        "content/articles/liquid-tricks.md; its URL is /articles/2012-04-15-liquid-tricks/"
    ) in report.done_lines()
    assert article_text(root, "liquid-tricks") == mine  # never overwritten
    assert "(/articles/2012-04-15-liquid-tricks/)" in article_text(root, "hello-jekyll")
    build_at(root)  # no URL collision
    assert "Liquid tricks" in page(root, "2012-04-15-liquid-tricks")


def test_importing_twice_adds_nothing(jekyll_src: Path, site: Path) -> None:
    import_posts("jekyll", jekyll_src, site)
    before = files_under(site / "content")
    again = import_posts("jekyll", jekyll_src, site)
    assert again.imported == () and again.renamed == ()
    assert files_under(site / "content") == before
    assert (
        "_posts/2013-01-10-same-story.md: note: already imported as "
        "content/articles/2013-01-10-same-story.md; skipped"
    ) in {str(p) for p in again.problems}
    assert again.summary().startswith("Imported 0 posts (0 drafts), 1 failed; ")


def test_dry_run_writes_nothing(jekyll_src: Path, site: Path) -> None:
    before = files_under(site)
    planned = import_posts("jekyll", jekyll_src, site, dry_run=True)
    assert files_under(site) == before
    done = import_posts("jekyll", jekyll_src, site)
    assert planned.imported == done.imported
    assert [str(p) for p in planned.problems] == [str(p) for p in done.problems]
    assert planned.done_lines()[0] == (
        "would import _drafts/work-in-progress.md → content/articles/work-in-progress.md"
    )
    assert planned.summary().startswith("Would import 7 posts (2 drafts), 1 failed; ")


def test_a_failed_write_removes_what_it_wrote(jekyll_src: Path, site: Path) -> None:
    (site / "content" / "articles" / "zurich.md").mkdir(parents=True)  # in the way, not a file
    report = import_posts("jekyll", jekyll_src, site)
    assert report.imported == ()
    assert (
        "content/articles/zurich.md: error: cannot write file: it already exists; "
        "nothing was imported"
    ) in {str(p) for p in report.problems}
    assert sorted(p.name for p in (site / "content" / "articles").iterdir()) == ["zurich.md"]


# ---------------------------------------------------------------- bad input


def test_src_must_be_a_folder_of_posts(tmp_path: Path, site: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder; expected a Jekyll site"):
        import_posts("jekyll", tmp_path / "missing", site)
    write_files(tmp_path / "empty", {"_config.yml": "title: x\n", "notes.txt": "not a post"})
    with pytest.raises(ConfigError, match=r"no posts found; expected content/posts/\*\.md"):
        import_posts("hugo", tmp_path / "empty", site)
    with pytest.raises(BuildFailed):  # the target is not a site
        import_posts("jekyll", SAMPLES / "jekyll", tmp_path)


def test_a_folder_of_posts_is_enough(jekyll_src: Path, site: Path) -> None:
    report = import_posts("jekyll", jekyll_src / "_posts", site)
    assert report.imported[0] == ("2012-03-01-hello-jekyll.md", "content/articles/hello-jekyll.md")
    hugo = import_posts("hugo", SAMPLES / "hugo" / "content" / "posts", site)
    assert ("toml-front-matter.md", "content/articles/toml-front-matter.md") in hugo.imported


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        (
            "jekyll",
            "---\ntitle: x\ntags: [a\n---\nBody\n",
            "post.md:3:7: error: invalid YAML in front matter: did not find expected ',' or ']'; "
            "while parsing a flow sequence that starts here",
        ),
        (
            "hugo",
            '+++\ntitle = "x"\ntitle = "y"\ndate = 2019-01-01\n+++\nBody\n',
            "post.md:3:12: error: invalid TOML in front matter: Cannot overwrite a value",
        ),
        (
            "hugo",
            '{\n  "title": "x",\n  "date": 2019\n',
            "post.md:4:1: error: invalid JSON in front matter: Expecting ',' delimiter",
        ),
        (
            "jekyll",
            "---\ntitle: x\ndate: 2019-01-01\ntags: {a: 1}\n---\nBody\n",
            "post.md:4: error: tags: {'a': 1} is not a list of names",
        ),
        (
            "jekyll",
            "---\ntitle: x\ndate: 2019-01-01\nimage: {path: a.png}\n---\nBody\n",
            "post.md:4: error: image: {'path': 'a.png'} is not text; expected a string",
        ),
        (
            "hugo",
            "---\ntitle: x\n---\nNo date.\n",
            "post.md:1: error: date: missing; add 'date: 2012-03-01' or name the file "
            "2012-03-01-slug.md",
        ),
    ],
    ids=["yaml-syntax", "toml-syntax", "json-syntax", "tags-type", "image-type", "no-date"],
)
def test_a_broken_post_is_reported_at_its_line(
    tmp_path: Path, site: Path, kind: str, text: str, expected: str
) -> None:
    write_files(tmp_path / "src", {"post.md": text, "2019-01-01-fine.md": article("Fine", "")})
    report = import_posts(kind, tmp_path / "src", site)  # type: ignore[arg-type]
    assert [str(p) for p in report.problems] == [expected]
    assert [target for _, target in report.imported] == ["content/articles/fine.md"]


def test_code_that_shows_a_fence_gets_a_longer_one(tmp_path: Path, site: Path) -> None:
    body = "Inline {% highlight md %}\n```\nx\n```\n{% endhighlight %} after.\n"
    write_files(tmp_path / "src", {"2019-01-01-fences.md": f"---\ntitle: Fences\n---\n{body}"})
    import_posts("jekyll", tmp_path / "src", site)
    assert "Inline \n````md\n```\nx\n```\n````\n after." in article_text(site, "fences")


# ---------------------------------------------------------------- properties

_FRAGMENTS = st.sampled_from(
    ["{%", "%}", "{{", "}}", "{{<", ">}}", "{{%", "%}}", "/*", "*/", " raw ", " endraw ",
     " highlight ", " endhighlight ", " post_url ", "highlight", "/highlight", " figure src=",
     '"', "`", "\n", "x", "é", "---", "+++", "[a](", "](", ")", "![", '<a href="', "src='",
     "/", "../", "#", "?", "http://", "//old.example.com/", "x.com", "www.", " link ", "relref",
     "%2e%2e/", "\x00", "# H", "{#", "]: ", "assets/a.png"]
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["jekyll", "hugo"]),
    body=st.lists(_FRAGMENTS, max_size=30).map("".join),
    tags=st.one_of(st.text(max_size=10), st.lists(st.text(max_size=5), max_size=3), st.integers()),
)
def test_any_post_imports_or_gives_site_errors(kind: str, body: str, tags: object) -> None:
    """Never a traceback, whatever is written loads with the site's own reader, and
    nothing is written outside content/, whatever the links say."""
    front = yaml.safe_dump({"title": "T", "tags": tags}, allow_unicode=True)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_files(
            root,
            {
                "site/site.toml": SITE_TOML,
                "src/2019-01-01-p.md": f"---\n{front}---\n{body}",
                "src/assets/a.png": b"png",
            },
        )
        report = import_posts(kind, root / "src", root / "site")  # type: ignore[arg-type]
        assert isinstance(report, ImportReport)
        for _, target in report.imported:
            written = (root / "site" / target).read_text(encoding="utf-8")
            fields, problems = read_fields(
                split_front_matter(written, path=target),
                path=target,
                tz=UTC,
                file_slug="p",
                file_date=None,
                needs_date=True,
            )
            assert fields is not None, problems
        made = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        assert all(m.startswith(("src/", "site/content/")) or m == "site/site.toml" for m in made)


# ---------------------------------------------------------------- the command line


@pytest.mark.skipif(not hasattr(cli, "cmd_import"), reason="cli.py has no import command yet")
def test_cli_import_prints_the_report_and_exit_codes(jekyll_src: Path, site: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "site_builder", "import", *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    done = run("jekyll", str(jekyll_src), "--source", str(site))
    expected = (SAMPLES / "jekyll" / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert done.returncode == 1  # the broken date
    assert done.stdout.splitlines() == [
        line
        for line in expected
        if " error: " not in line and " warning: " not in line and " note: " not in line
    ]
    assert "_posts/2012-07-01-broken-date.md:3: error: date: 'next tuesday'" in done.stderr
    assert "Traceback" not in done.stderr
    assert run("hugo", str(jekyll_src / "missing"), "--source", str(site)).returncode == 2
    bundle = SAMPLES / "hugo" / "content" / "posts" / "greetings-from-zurich"
    bundled = run("hugo", str(bundle), "--source", str(site))
    assert bundled.returncode == 0
    assert bundled.stdout.splitlines() == [
        "imported index.md → content/articles/greetings-from-zurich.md "
        "(was /posts/greetings-from-zurich/)",
        "copied lake.svg → content/articles/greetings-from-zurich/lake.svg",
        "Imported 1 post (0 drafts); none need a human",
    ]
