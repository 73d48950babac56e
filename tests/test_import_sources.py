"""``site-builder import pelican|wordpress|feed`` and the link rewriting every source shares.

Real input: Pelican's sample site and the WordPress importer's own test exports from
the shared corpus, and the feeds this project's bundled site builds. Hostile input
(entity bombs, junk, links that climb out of SRC) must end in a report line, never a
traceback or a file outside ``content/``.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from site_builder import cli
from site_builder.importer.feed import MAX_FEED_BYTES
from tests.conftest import SITE_TOML, build_at, write_files
from tests.test_html_valid import nu_errors

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
WORDPRESS = CORPUS / "wordpress"
REPORT_LINE = re.compile(r"^[^:\s][^:]*(?::\d+)*: (?:error|warning|note): \S|^  hint: ")


def new_site(folder: Path) -> Path:
    write_files(folder, {"site.toml": SITE_TOML})
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["import", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def check(site: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main(["check", "--source", str(site), "--jobs", "1"])
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    return out.out + out.err


def text(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


# ---------------------------------------------------------------- WordPress


@pytest.mark.parametrize("export", sorted(p.name for p in WORDPRESS.glob("*.xml")))
def test_every_wordpress_export_imports_or_is_refused_with_a_reason(
    export: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    code, out, err = run(capsys, "wordpress", str(WORDPRESS / export), "--source", str(site))
    assert "Traceback" not in err
    assert all(REPORT_LINE.match(line) for line in err.splitlines()), err
    if code == 2:  # refused whole: one line saying why
        assert out == "" and len(err.splitlines()) == 1 and f"{export}" in err
    else:
        assert code in (0, 1) and out.splitlines()[-1].startswith("Imported ")
        assert (code == 1) == (" error: " in err)


def test_wordpress_posts_pages_drafts_terms_and_authors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    code, out, _ = run(
        capsys, "wordpress", str(WORDPRESS / "small-export.xml"), "--source", str(site)
    )
    assert code == 0
    assert out.splitlines()[0] == "imported small-export.xml:78 → content/articles/hello-world.md"
    assert out.splitlines()[-1] == "Imported 11 posts (2 drafts); none need a human"
    assert text(site, "content/articles/private-post.md") == (
        "---\ntitle: Private Post\ndate: '2011-01-18T07:47:19+00:00'\nslug: private-post\n"
        "tags:\n- Tag1\n- Tag2\n- Tag3\ncategory: Uncategorized\nauthor: admin\ndraft: true\n"
        "---\n\nTagged with some tags.\n"
    )
    many = text(site, "content/articles/many-categories.md")
    assert "category: alpha\n" in many and "- BETA\n" in many  # the first one; the rest are tags
    assert "author: editor\n" in text(site, "content/articles/foo-child.md")  # display name
    assert (site / "content" / "pages" / "sample-page.md").is_file()
    assert "draft: true\n" in text(site, "content/pages/draft-page.md")
    check(site, capsys)


def test_wordpress_theme_data_builds_with_no_broken_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    export = WORDPRESS / "theme-unit-test-data.xml"
    code, out, err = run(capsys, "wordpress", str(export), "--source", str(site))
    assert code == 0
    assert out.splitlines()[-1] == (
        "Imported 79 posts (1 draft); 1 needs a human: theme-unit-test-data.xml"
    )
    assert "theme-unit-test-data.xml:8028: warning: WordPress shortcode '[gallery]' left" in err
    # <link> is the post's old address; HTML became Markdown.
    cover = text(site, "content/articles/block-cover.md")
    assert "aliases:\n- /2018/11/02/block-cover/\n" in cover
    assert "**A center aligned cover image block, with a left aligned text.**" in cover
    assert "<!-- wp:" not in cover
    markup = text(site, "content/articles/markup-html-tags-and-formatting.md")
    assert "\n\\#dowork\n:   Coined by" in markup  # a term, not a heading
    check(site, capsys)


@pytest.mark.validator
def test_wordpress_theme_data_pages_are_valid_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    export = WORDPRESS / "theme-unit-test-data.xml"
    assert run(capsys, "wordpress", str(export), "--source", str(site))[0] == 0
    build_at(site)
    assert nu_errors(site / "output") == []


def test_a_hostile_or_broken_export_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<rss><channel><item><title>&b;</title></item></channel></rss>",
        encoding="utf-8",
    )
    assert run(capsys, "wordpress", str(bomb), "--source", str(site))[2] == (
        "bomb.xml: error: the export declares XML entities; refused as unsafe\n"
    )
    broken = WORDPRESS / "malformed-simple.xml"
    code, _, err = run(capsys, "wordpress", str(broken), "--source", str(site))
    assert code == 2
    assert err.startswith("malformed-simple.xml:14: error: not a WordPress export: the XML is")
    assert not (site / "content").exists()


# ---------------------------------------------------------------- Pelican


@pytest.fixture
def pelican_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str, str]:
    site = new_site(tmp_path / "site")
    src = shutil.copytree(CORPUS / "pelican-samples", tmp_path / "pelican")
    code, out, err = run(capsys, "pelican", str(src), "--source", str(site))
    assert code == 0, err
    return site, out, err


def test_pelican_sample_imports_with_a_reason_for_each_file_left(
    pelican_site: tuple[Path, str, str],
) -> None:
    site, out, err = pelican_site
    assert out.splitlines()[-1] == (
        "Imported 16 posts (3 drafts); 6 need a human: content/another_super_article-fr.rst, "
        "content/article2-fr.rst, content/pages/jinja2_template.html, "
        "content/pages/override_tag_oh.rst, content/pages/override_url_saveas.rst, "
        "content/pages/test_page.rst"
    )
    assert (
        "content/pages/test_page.rst:1: warning: old URL /pages/this-is-a-test-page.html is not "
        "redirected: a page takes no aliases; it is /this-is-a-test-page/"
    ) in err
    assert (
        "content/article2-fr.rst: warning: not imported: a translation (fr); "
        "this site has one language"
    ) in err
    assert "copied content/pictures/Sushi.jpg → content/pictures/Sushi.jpg" in out
    assert (site / "content" / "pictures" / "Sushi.jpg").read_bytes() == (
        CORPUS / "pelican-samples" / "content" / "pictures" / "Sushi.jpg"
    ).read_bytes()


def test_pelican_rest_metadata_and_links(
    pelican_site: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    site = pelican_site[0]
    article = text(site, "content/articles/this-is-a-super-article.md")
    assert article.startswith(
        "---\ntitle: This is a super article !\ndate: '2010-12-02T10:14:00'\n"
        "updated: '2013-11-17T23:29:00'\nslug: this-is-a-super-article\n"
        "summary: 'Multi-line metadata should be supported\n\n  as well as inline markup.'\n"
        "tags:\n- foo\n- bar\n- foobar\ncategory: yeah\nauthor: Alexis Métaireau\n"
    )
    assert "aliases:\n- /this-is-a-super-article.html\n" in article
    assert "![alternate text](/pictures/Sushi.jpg)" in article  # |static|
    unbelievable = text(site, "content/articles/unbelievable.md")
    assert "[a root-relative link to markdown-article](/articles/a-markdown-powered-article/)" in (
        unbelievable
    )  # {filename}
    assert "```python\nformatter = self.options" in unbelievable  # Pelican's sourcecode
    assert "category: cat1\n" in text(site, "content/articles/article-1.md")  # from its folder
    assert "draft: true\n" in text(site, "content/articles/a-draft-article.md")
    check(site, capsys)


# ---------------------------------------------------------------- feeds


@pytest.fixture(scope="module")
def bundled_feeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feeds of this repository's own site, built once."""
    root = Path(__file__).resolve().parents[1]
    site = tmp_path_factory.mktemp("bundled") / "site"
    shutil.copytree(root / "content", site / "content")
    shutil.copytree(root / "templates", site / "templates")
    shutil.copy(root / "site.toml", site / "site.toml")
    build_at(site)
    return site / "output"


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "feed.json"])
def test_a_feed_imports_one_article_per_entry(
    name: str, bundled_feeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    code, out, err = run(capsys, "feed", str(bundled_feeds / name), "--source", str(site))
    assert code == 0, err
    assert out.splitlines()[-1] == "Imported 18 posts (0 drafts); none need a human"
    linux = text(site, "content/articles/linux-turns-30.md")
    assert "title: Linux Turns 30\n" in linux
    assert "aliases:\n- /articles/linux-turns-30/\n" not in linux  # the same URL here: no alias
    assert "Torvalds" in linux
    check(site, capsys)
    again = run(capsys, "feed", str(bundled_feeds / name), "--source", str(site))
    assert again[1].splitlines()[-1] == "Imported 0 posts (0 drafts); none need a human"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><rss><channel><item>'
            b"<title>&a;</title></item></channel></rss>",
            "hostile.xml: error: the feed declares XML entities; refused as unsafe",
        ),
        (bytes(range(256)) * 4, "hostile.xml: error: not a feed: "),
        (b'{"version": "x", "items": 3}', "hostile.xml: error: not a JSON Feed: "),
        (b"{" * 100_000, "hostile.xml: error: not a feed: invalid JSON"),
    ],
    ids=["entities", "binary", "json-shape", "json-depth"],
)
def test_a_hostile_feed_is_refused(
    data: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    (tmp_path / "hostile.xml").write_bytes(data)
    code, _, err = run(capsys, "feed", str(tmp_path / "hostile.xml"), "--source", str(site))
    assert code == 2 and err.startswith(expected), err
    assert not (site / "content").exists()


# ---------------------------------------------------------------- links, every source


def test_links_from_a_jekyll_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = new_site(tmp_path / "site")
    write_files(site, {"content/pages/team.md": "---\ntitle: Team\n---\n\nUs.\n"})
    write_files(
        tmp_path / "old",
        {
            "_config.yml": "url: https://old.example.org\nrepo: https://git.example.org/x\n",
            "assets/chart.png": b"\x89PNG fake",
            "_posts/2020-01-01-first.md": "---\ntitle: First\n---\n\n## Release notes\n\nHello.\n",
            "_posts/2020-02-01-second.md": (
                "---\ntitle: Second\nversion: 7.1\n---\n\n"
                "{% assign tag = 'v7' %}Release {{ tag }} of {{ page.version }}: "
                "[first]({% link _posts/2020-01-01-first.md %}#release-notes), "
                "[again]({% link en/news/_posts/2020-01-01-first.md %}), "
                "[old](/2020/01/01/first.html), "
                "[abs](https://old.example.org/2020/01/01/first.html), "
                "[repo]({{ site.repo }}), [about]({% link about.md %}), "
                "[team]({% link team.md %}), [home]({% link index.md %}), "
                "[gone]({% post_url 2019-12-31-gone %}), "
                "[shop](shopify.com), ![chart](/assets/chart.png), "
                "[up](../../../../etc/passwd), [nowhere](/../../outside.png)\n\n"
                "```\n[code](/2020/01/01/first.html) stays as written\n```\n"
            ),
        },
    )
    code, out, err = run(capsys, "jekyll", str(tmp_path / "old"), "--source", str(site))
    assert code == 0, err
    second = text(site, "content/articles/second.md")
    assert "Release v7 of 7.1: [first](/articles/first/#release-notes), " in second
    assert "[again](/articles/first/), [old](/articles/first/), [abs](/articles/first/), " in second
    assert (
        "[repo](https://git.example.org/x), [about](https://old.example.org/about.html), "
        "[team](/team/), [home](https://old.example.org/index.html), "
        "[gone](https://old.example.org/2019/12/31/gone.html), " in second
    )
    assert "[shop](https://shopify.com), ![chart](/assets/chart.png)" in second
    assert "[up](https://old.example.org/etc/passwd)" in second  # never read from outside SRC
    assert "[code](/2020/01/01/first.html) stays as written" in second
    assert "copied assets/chart.png → content/assets/chart.png" in out
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")) == [
        "old/assets/chart.png",
        "site/content/assets/chart.png",
    ]
    assert "_posts/2020-02-01-second.md:6: warning: link 'shopify.com' has no scheme" in err
    assert (
        "_posts/2020-02-01-second.md:6: warning: post_url: '2019-12-31-gone' is not an imported "
        "post; /2019/12/31/gone.html of the old site"
    ) in err
    check(site, capsys)


def test_links_from_a_hugo_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = new_site(tmp_path / "site")
    write_files(
        tmp_path / "old",
        {
            "hugo.toml": 'baseURL = "https://old.example.org/blog/"\n[params]\nmain = "https://x.org"\n'
            '[permalinks]\nposts = "/:year/:month/:title/"\n',
            "static/img/a.png": b"png",
            "content/posts/2019/first.md": "---\ntitle: First Post\ndate: 2019-05-01\n---\n\nHi.\n",
            "content/posts/2019/second/index.md": (
                "---\ntitle: Second\ndate: 2019-06-01\n---\n\n"
                '[first]({{< relref "/posts/2019/first" >}}), [main]({{< param "main" >}}), '
                "[old](https://old.example.org/blog/2019/05/first-post/), "
                '![a](/img/a.png) ![b](b.png) [home]({{< ref "/index.md" >}})\n'
            ),
            "content/posts/2019/second/b.png": b"png b",
        },
    )
    code, _, err = run(capsys, "hugo", str(tmp_path / "old"), "--source", str(site))
    assert code == 0, err
    second = text(site, "content/articles/second.md")
    assert "[first](/articles/first/), [main](https://x.org), [old](/articles/first/)" in second
    assert "![a](/img/a.png) ![b](/articles/second/b.png)" in second
    assert "[home](https://old.example.org/blog/)" in second  # the home page is no post
    assert "aliases:\n- /2019/05/first-post/\n" in text(site, "content/articles/first.md")
    assert (site / "content" / "articles" / "second" / "b.png").read_bytes() == b"png b"
    check(site, capsys)


def test_a_file_that_leads_out_of_src_is_not_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    (tmp_path / "secret.png").write_bytes(b"not for the site")
    write_files(
        tmp_path / "old",
        {
            "_config.yml": "url: https://old.example.org\n",
            "_posts/2020-01-01-post.md": "---\ntitle: Post\n---\n\n![a](/assets/a.png)\n",
        },
    )
    (tmp_path / "old" / "assets").mkdir()
    (tmp_path / "old" / "assets" / "a.png").symlink_to(tmp_path / "secret.png")
    code, out, _ = run(capsys, "jekyll", str(tmp_path / "old"), "--source", str(site))
    assert code == 0 and "copied" not in out
    assert "![a](https://old.example.org/assets/a.png)" in text(site, "content/articles/post.md")
    assert not (site / "content" / "assets").exists()


def test_a_feed_too_large_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = new_site(tmp_path / "site")
    with (tmp_path / "huge.xml").open("wb") as stream:
        stream.truncate(MAX_FEED_BYTES + 1)  # sparse: no 20 MB write
    code, _, err = run(capsys, "feed", str(tmp_path / "huge.xml"), "--source", str(site))
    assert code == 2
    assert err == "huge.xml: error: the feed is larger than 20,000,000 bytes; refused\n"


def test_old_addresses_never_clash_with_the_sites_own_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    item = (
        "<item><title>{title}</title><link>https://old.example.org{path}</link>"
        "<wp:post_date_gmt>2020-01-0{day} 10:00:00</wp:post_date_gmt>"
        "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
        "<content:encoded><![CDATA[<p>Hi</p>]]></content:encoded></item>"
    )
    items = [("Tags", "/tags/", 1), ("Climb", "/../../../escape/", 2), ("Home", "/", 3)]
    (tmp_path / "export.xml").write_text(
        '<rss xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<link>https://old.example.org/</link>"
        + "".join(item.format(title=t, path=p, day=d) for t, p, d in items)
        + "</channel></rss>",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "wordpress", str(tmp_path / "export.xml"), "--source", str(site))
    assert code == 0, err
    assert "export.xml:1: note: old URL /tags/ is not redirected: this site has a page there" in err
    assert "aliases" not in text(site, "content/articles/tags.md")
    assert "aliases:\n- /escape/\n" in text(site, "content/articles/climb.md")
    build_at(site)  # no two outputs at one path
    assert "/articles/climb/" in text(site, "output/escape/index.html")


def test_an_export_with_odd_namespaces_is_read_and_each_item_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = new_site(tmp_path / "site")
    export = WORDPRESS / "namespace-edge-cases.xml"  # a namespace URI "http://ëxämplë.com/"
    code, out, err = run(capsys, "wordpress", str(export), "--source", str(site))
    assert code == 1
    assert out.splitlines()[-1].startswith("Imported 0 posts (0 drafts), 6 failed; ")
    assert err.splitlines()[0] == (
        "namespace-edge-cases.xml:45: error: date: this <item> has no post_date, "
        "post_modified or pubDate"
    )


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Not on stderr, where the import's report is read."""


def test_a_feed_is_read_from_its_url(
    bundled_feeds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = functools.partial(_QuietHandler, directory=str(bundled_feeds))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        site = new_site(tmp_path / "site")
        code, out, err = run(capsys, "feed", f"{url}/atom.xml", "--source", str(site))
        assert code == 0, err
        assert out.splitlines()[-1] == "Imported 18 posts (0 drafts); none need a human"
        missing = run(capsys, "feed", f"{url}/nothing.xml", "--source", str(site))
        assert missing[0] == 2
        assert (
            missing[2]
            == f"nothing.xml: error: cannot fetch the feed: HTTP 404 from {url}/nothing.xml\n"
        )
    finally:
        server.shutdown()
        server.server_close()
