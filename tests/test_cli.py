"""The command line as an editor and CI use it: init, new, build, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from site_builder import __version__
from site_builder.cli import main
from tests.conftest import MakeSite, article


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_version_and_help() -> None:
    assert run_cli("--version").stdout.strip() == f"site-builder {__version__}"
    helped = run_cli("--help")
    assert helped.returncode == 0
    for command in ("build", "new", "init"):
        assert command in helped.stdout


def test_init_then_build_gives_a_working_site(tmp_path: Path) -> None:
    target = tmp_path / "my-news"
    assert run_cli("init", str(target)).returncode == 0
    assert (target / "site.toml").is_file()
    assert (target / "templates/base.html").is_file()
    built = run_cli("build", "--source", str(target))
    assert built.returncode == 0, built.stderr
    assert (target / "output/articles/hello-world/index.html").is_file()
    assert "Hello, world" in (target / "output/feed.xml").read_text(encoding="utf-8")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    done = run_cli("init", str(tmp_path))
    assert done.returncode == 2
    assert "is not empty" in done.stderr


def test_init_refuses_a_file_and_a_folder_it_cannot_make(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("mine", encoding="utf-8")
    done = run_cli("init", str(tmp_path / "notes"))
    assert (done.returncode, done.stderr) == (
        2,
        f"error: {tmp_path / 'notes'} is a file, not a folder\n",
    )
    done = run_cli("init", str(tmp_path / "notes/site"))  # a folder in a file
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr == f"error: cannot make a site in {tmp_path / 'notes/site'}: Not a directory\n"
    )


def test_new_cuts_a_long_headline_to_a_file_name_any_disk_takes(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({})
    headline = "日本語の見出しがとても長い記事" * 10  # 450 bytes as UTF-8; most disks take 255
    assert main(["new", headline, "--source", str(root)]) == 0
    created = root / capsys.readouterr().out.strip()
    assert created.is_file() and len(created.stem.encode()) <= 80
    assert created.stem == ("日本語の見出しがとても長い記事" * 2)[:26]
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 0


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("ingest", "--timeout", "-5"), "argument --timeout: '-5' must be above 0"),
        (("ingest", "--timeout", "0"), "argument --timeout: '0' must be above 0"),
        (("build", "--jobs", "0"), "argument --jobs: '0' must be above 0"),
        (("check", "--jobs", "two"), "argument --jobs: 'two' is not a number"),
    ],
)
def test_a_number_option_out_of_range_is_a_usage_error(
    make_site: MakeSite, args: tuple[str, ...], said: str
) -> None:
    done = run_cli(*args, "--source", str(make_site({})))
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_new_writes_an_article_that_builds(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("First", "2020-01-01")})
    assert main(["new", "Ärger über neue Chips: ein Bericht", "--source", str(root)]) == 0
    created = root / capsys.readouterr().out.strip()
    assert created.name == "ärger-über-neue-chips-ein-bericht.md"
    text = created.read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "Ärger über neue Chips: ein Bericht"\ndate: ')
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 0
    assert (root / "output/articles/ärger-über-neue-chips-ein-bericht/index.html").is_file()
    assert main(["new", "Ärger über neue Chips: ein Bericht", "--source", str(root)]) == 2


def test_build_prints_a_one_line_summary(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2020-01-01")})
    done = run_cli("build", "--source", str(root))
    assert done.returncode == 0
    assert done.stdout.startswith("Built ")
    assert " pages, " in done.stdout and " feeds, " in done.stdout and " s (" in done.stdout


def test_base_url_option_and_environment_override_the_config(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2020-01-01")})
    done = run_cli("build", "--source", str(root), "--base-url", "https://other.example.net/x")
    assert done.returncode == 0
    feed = (root / "output/feed.xml").read_text(encoding="utf-8")
    assert "<link>https://other.example.net/x/articles/a/</link>" in feed


def test_drafts_and_future_articles_only_with_their_flags(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/draft.md": article("Draft", "2020-01-01", draft="true"),
            "content/articles/later.md": article("Later", "2999-01-01"),
            "content/articles/now.md": article("Now", "2020-01-02"),
        }
    )
    done = run_cli("build", "--source", str(root))
    assert "Next scheduled article goes live at 2999-01-01T00:00:00+01:00" in done.stdout
    assert not (root / "output/articles/draft").exists()
    assert not (root / "output/articles/later").exists()
    assert run_cli("build", "--source", str(root), "--drafts", "--future").returncode == 0
    assert (root / "output/articles/draft/index.html").is_file()
    assert (root / "output/articles/later/index.html").is_file()


def test_missing_config_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("build", "--source", str(tmp_path))
    assert done.returncode == 2
    assert "site.toml: error: no site.toml here" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_build_with_nothing_to_do_imports_no_rendering_stage(make_site: MakeSite) -> None:
    """Importing Markdown, Jinja and feedgen was most of a no-op build's time."""
    root = make_site({"content/articles/a.md": article("Alpha", "2026-11-02 09:00")})
    probe = (
        "import sys\nfrom site_builder.cli import main\n"
        f"main(['build', '--source', {str(root)!r}])\n"
        "print(sorted(m for m in ('markdown', 'jinja2', 'feedgen') if m in sys.modules))\n"
    )
    command = [sys.executable, "-c", probe]
    runs = [subprocess.run(command, check=False, capture_output=True, text=True) for _ in "12"]
    assert runs[0].stdout.endswith(  # the first build renders
        "['feedgen', 'jinja2', 'markdown']\n"
    )
    assert "(0 written, " in runs[1].stdout and runs[1].stdout.endswith("[]\n"), runs[1].stdout


def test_import_kinds_are_the_importers() -> None:
    from site_builder.cli import IMPORT_KINDS
    from site_builder.importer import KINDS

    assert IMPORT_KINDS == KINDS
