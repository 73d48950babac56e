"""Where the builder may write and what it may delete; paths from content; symlinks; config.

Output folder: never /, the home folder, the site folder, content/, templates/ or the
cache, nor a folder containing or inside them; only marked folders are deleted.
Paths: slugs, tags and file names with '..', '/', '\\', NUL, control characters or
device names give a safe slug or an error, and never a file outside output/.
Symlinks in content/ leading out of the site are refused unless site.toml allows them.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.cli import main
from site_builder.config import MarkdownOptions, load_config
from site_builder.errors import BuildFailed
from site_builder.permalinks import LEDGER_NAME
from site_builder.writer import (
    MARKER,
    SPARE_STATE,
    OutputError,
    recover,
    safe_target,
    spares_aside,
    staging_dir,
    update_site,
    write_site,
)
from tests.conftest import REPO, SITE_TOML, MakeSite, article, build_at, write_files
from tests.test_output_safety import snapshot

# --- the output folder ---------------------------------------------------------------


def build_into(root: Path, output: Path | str, *extra: str) -> int:
    return main(["build", "--source", str(root), "--output", str(output), "--jobs", "1", *extra])


def error_of(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder of its own (beside the site, not above it), with a file to keep."""
    folder = tmp_path_factory.mktemp("home") / "me"
    folder.mkdir(parents=True)
    (folder / "thesis.tex").write_text("years of work", encoding="utf-8")
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("/", "output directory '/' is the root of the file system"),
        ("{home}", "is your home folder"),
        ("{home}/..", "contains your home folder"),
        ("{root}", "is the site folder"),
        ("{root}/..", "contains the site itself"),
        ("{root}/content", "overlaps content/"),
        ("{root}/content/articles", "overlaps content/"),
        ("{root}/templates", "overlaps templates/"),
        ("{root}/templates/static/out", "overlaps templates/"),
        ("{root}/.site-builder", "overlaps .site-builder/"),
    ],
)
def test_refuses_dangerous_output_folders_even_with_force(
    make_site: MakeSite,
    home: Path,
    output: str,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_site(
        {"content/articles/a.md": article("First", "2026-11-20"), "templates/static/x.css": ""}
    )
    target = output.format(home=home, root=root)
    assert build_into(root, target, "--force") == 2
    assert message in error_of(capsys)
    assert (home / "thesis.tex").read_text(encoding="utf-8") == "years of work"
    assert (root / "content/articles/a.md").is_file()


def test_a_site_inside_the_home_folder_builds(home: Path) -> None:
    root = home / "sites" / "news"
    (root / "content/articles").mkdir(parents=True)
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    (root / "content/articles/a.md").write_text(article("A", "2026-11-20"), encoding="utf-8")
    assert build_into(root, root / "output") == 0
    assert (root / "output" / MARKER).is_file()


def test_output_symlinked_into_content_is_refused(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    (root / "output").symlink_to(root / "content")
    assert main(["build", "--source", str(root), "--jobs", "1", "--force"]) == 2
    assert "overlaps content/" in error_of(capsys)


def test_unmarked_folder_elsewhere_needs_force(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    elsewhere = tmp_path / "www"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine", encoding="utf-8")
    assert build_into(root, elsewhere) == 1
    assert "www/ is not empty and was not made by site-builder" in error_of(capsys)
    assert (elsewhere / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert build_into(root, elsewhere, "--force") == 0
    assert (elsewhere / MARKER).is_file()
    assert build_into(root, elsewhere) == 0, "marked now: replaced without --force"


def test_an_empty_unmarked_folder_is_used(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    (tmp_path / "empty").mkdir()
    assert build_into(root, tmp_path / "empty") == 0


def sibling(output: Path, kind: str, pid: int, *, marked: bool, files: int = 1) -> Path:
    folder = output.parent / f".{output.name}.{kind}-{pid}"
    folder.mkdir()
    if marked:
        (folder / MARKER).write_text("x", encoding="utf-8")
    for n in range(files):
        (folder / f"page-{n}.html").write_text("<p>", encoding="utf-8")
    return folder


def test_recover_deletes_only_marked_or_empty_leftovers(tmp_path: Path) -> None:
    output = tmp_path / "output"
    write_site(output, [("index.html", b"<p>site")])
    marked = sibling(output, "staging", 999_991, marked=True)
    empty = sibling(output, "staging", 999_992, marked=False, files=0)
    foreign = sibling(output, "staging", 999_993, marked=False)
    old_foreign = sibling(output, "old", 999_994, marked=False)
    recover(output)
    assert not marked.exists() and not empty.exists()
    assert (foreign / "page-0.html").is_file(), "an unmarked folder is never deleted"
    assert (old_foreign / "page-0.html").is_file()
    assert (output / "index.html").read_bytes() == b"<p>site"


def test_recover_leaves_the_folders_of_a_running_build_alone(tmp_path: Path) -> None:
    output = tmp_path / "output"
    write_site(output, [("index.html", b"<p>site")])
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            running = sibling(output, "staging", other.pid, marked=True)
            recover(output)
            assert (running / "page-0.html").is_file()
        finally:
            other.kill()
    recover(output)
    assert not running.exists()


def test_recover_restores_a_site_moved_aside_only_if_marked(tmp_path: Path) -> None:
    output = tmp_path / "output"
    unmarked = sibling(output, "old", 999_995, marked=False)
    recover(output)
    assert not output.exists() and unmarked.is_dir()
    marked = sibling(output, "old", 999_996, marked=True)
    recover(output)
    assert (output / MARKER).is_file() and not marked.exists()


def test_update_site_never_changes_a_live_file_through_its_hard_link(tmp_path: Path) -> None:
    output = tmp_path / "output"
    write_site(output, [("a.html", b"old a"), ("b.html", b"old b"), ("gone.html", b"x")])
    reader = tmp_path / "held-by-a-reader"
    os.link(output / "a.html", reader)  # the inode a reader holds open
    assert update_site(output, [("a.html", b"new a"), ("c/d.html", b"new d")], ["gone.html"]) == 2
    assert reader.read_bytes() == b"old a"
    assert (output / "a.html").read_bytes() == b"new a"
    assert (output / "b.html").read_bytes() == b"old b"
    assert (output / "c/d.html").read_bytes() == b"new d"
    assert not (output / "gone.html").exists()
    assert not staging_dir(output).exists()


def test_the_replaced_site_is_kept_as_the_spare_and_staged_in_again(tmp_path: Path) -> None:
    output = tmp_path / "output"
    spare = tmp_path / ".output.spare"
    write_site(output, [("a.html", b"a1"), ("old.html", b"x")])
    write_site(output, [("a.html", b"a2"), ("b/c.html", b"c2")])  # --clean twice in a row
    assert spare.is_dir() and (spare / "old.html").read_bytes() == b"x"
    update_site(output, [("a.html", b"a3")], ["b/c.html"])
    update_site(output, [("d.html", b"d4")], [])
    update_site(output, [("a.html", b"a5")], [])
    assert snapshot(output) == {MARKER: snapshot(output)[MARKER], "a.html": b"a5", "d.html": b"d4"}
    # The spare is one build behind: the site as it was before the last update.
    assert {k: v for k, v in snapshot(spare).items() if not k.startswith(".")} == {
        "a.html": b"a3",
        "d.html": b"d4",
    }
    write_site(output, [("e.html", b"e6")])
    assert sorted(snapshot(output)) == [MARKER, "e.html"]


def test_a_first_build_returns_with_its_spare_made(make_site: MakeSite) -> None:
    """The spare of a first site is linked by a child process while the build saves its
    records: the command returns only once it is whole, every file the site's own (but
    the marker, which each folder has of its own), however slow the disk."""
    files = {
        f"content/articles/s{n}.md": article(f"Story {n}", "2026-11-20", tags="[a, b]")
        for n in range(30)
    }
    root = make_site(files)
    slow_disk = f"""
import sys, time
sys.path.insert(0, {str(REPO)!r})
from site_builder import cli, writer
linked = writer._first_spare
writer._first_spare = lambda *args: (time.sleep(1), linked(*args))
cli.main(["build", "--source", {str(root)!r}, "--jobs", "1", "--no-search"])
"""
    done = subprocess.run(
        [sys.executable, "-c", slow_disk], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    output, spare = root / "output", root / ".output.spare"
    live = {p.relative_to(output) for p in output.rglob("*") if p.is_file()}
    assert len(live) > 60
    kept = {p.relative_to(spare) for p in spare.rglob("*") if p.is_file()}
    assert kept == live | {Path(SPARE_STATE)}
    assert all((spare / rel).samefile(output / rel) for rel in live - {Path(MARKER)})
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".output")) == [
        ".output.spare"
    ]


def test_a_first_spare_is_linked_here_when_no_process_can_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of processes (a limit, or memory), the site is still built, and its spare."""
    refused = []

    def no_fork() -> int:
        refused.append(True)
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    output, spare = tmp_path / "output", tmp_path / ".output.spare"
    with spares_aside():
        write_site(output, [("a.html", b"a"), ("b/c.html", b"c")])
    assert refused == [True]
    assert (output / "b/c.html").read_bytes() == b"c"
    assert (spare / "b/c.html").samefile(output / "b/c.html")


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux kills a child with its parent")
def test_a_spare_being_made_dies_with_its_killed_build(tmp_path: Path) -> None:
    """A build killed while a child links its spare takes the child with it: left
    running, it would race the next build, which deletes what a killed build left."""
    script = f"""
import os, sys, time
sys.path.insert(0, {str(REPO)!r})
from site_builder import writer
parent = os.getpid()
if os.fork() == 0:
    if writer._dies_with(parent):
        print(os.getpid(), flush=True)
        time.sleep(60)
    os._exit(0)
time.sleep(60)
"""
    command = [sys.executable, "-c", script]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as build:
        assert build.stdout is not None
        child = int(build.stdout.readline())
        build.kill()
    for _ in range(100):  # the kernel's signal is not instant
        if not _alive(child):
            break
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, waiting for its new parent to reap it


def test_after_a_full_build_the_spare_knows_where_it_differs(tmp_path: Path) -> None:
    """An update right after a full build that replaced a site copies only the files in
    which the replaced site differs, and still equals the site it should be."""
    output = tmp_path / "output"
    spare = tmp_path / ".output.spare"
    write_site(output, [("same.html", b"s"), ("changed.html", b"1"), ("dropped.html", b"x")])
    write_site(output, [("same.html", b"s"), ("changed.html", b"2"), ("new/added.html", b"n")])
    state = json.loads((spare / SPARE_STATE).read_text(encoding="utf-8"))
    assert state["behind"] == ["changed.html", "dropped.html", "new/added.html"]
    update_site(output, [("same.html", b"s3")], [])
    assert {k: v for k, v in snapshot(output).items() if k != MARKER} == {
        "same.html": b"s3",
        "changed.html": b"2",
        "new/added.html": b"n",
    }


def test_a_spare_of_unknown_state_is_brought_equal_to_the_live_site(tmp_path: Path) -> None:
    output = tmp_path / "output"
    spare = tmp_path / ".output.spare"
    write_site(output, [("a.html", b"a1"), ("old.html", b"x")])
    write_site(output, [("a.html", b"a2"), ("b/c.html", b"c2")])
    (spare / SPARE_STATE).write_text("not json", encoding="utf-8")
    update_site(output, [("d.html", b"d3")], [])
    site = {k: v for k, v in snapshot(output).items() if k != MARKER}
    assert site == {"a.html": b"a2", "b/c.html": b"c2", "d.html": b"d3"}


def test_update_site_failing_midway_leaves_output_as_it_was(tmp_path: Path) -> None:
    output = tmp_path / "output"
    write_site(output, [("a.html", b"old a")])
    with pytest.raises(OutputError):
        update_site(output, [("a.html", b"new a"), ("../escape.html", b"x")], [])
    assert (output / "a.html").read_bytes() == b"old a"
    assert not (tmp_path / "escape.html").exists()
    assert not staging_dir(output).exists()


def test_update_site_refuses_a_folder_it_does_not_own(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    (output / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match="not made by site-builder"):
        update_site(output, [("keep.txt", b"overwritten")], [])
    assert (output / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_a_file_system_error_is_reported_not_raised(tmp_path: Path) -> None:
    output = tmp_path / "output"
    write_site(output, [("index.html", b"old")])

    def files() -> Iterator[tuple[str, bytes]]:
        yield "index.html", b"new"
        raise OSError(errno.ENOSPC, "No space left on device", "page.html")

    with pytest.raises(OutputError, match="No space left on device"):
        write_site(output, files())
    assert (output / "index.html").read_bytes() == b"old"
    assert not staging_dir(output).exists()


def test_a_foreign_folder_under_the_staging_name_is_never_deleted(tmp_path: Path) -> None:
    output = tmp_path / "output"
    foreign = sibling(output, "staging", os.getpid(), marked=False)
    with pytest.raises(OutputError, match="cannot write the site"):
        write_site(output, [("index.html", b"x")])
    assert (foreign / "page-0.html").is_file()


# --- paths from content --------------------------------------------------------------


@pytest.mark.parametrize(
    "rel",
    [
        "",
        "/etc/passwd",
        "../escape.html",
        "a/../../escape.html",
        "a\\..\\..\\b.html",
        "a\0b.html",
        "a\x01b.html",
        "tags/\x1b[31m/index.html",
        "a\x7fb.html",
    ],
)
def test_safe_target_refuses_paths_that_could_leave_output(tmp_path: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="refusing to write"):
        safe_target(tmp_path, rel, windows=False)


@pytest.mark.parametrize("first", [True, False])
def test_a_site_with_a_path_leaving_output_is_not_written(tmp_path: Path, first: bool) -> None:
    output = tmp_path / "site" / "output"
    if not first:  # the staging folder then starts from the live site
        write_site(output, [("index.html", b"old")])
    files = [("index.html", b"new"), ("a/../../escape.html", b"x")]
    with pytest.raises(OutputError, match="refusing to write"):
        write_site(output, files)
    assert not (tmp_path / "escape.html").exists()
    assert not (tmp_path / "site" / "escape.html").exists()
    assert not any(".staging" in p.name for p in output.parent.iterdir())
    if first:
        assert not output.exists()
    else:
        assert (output / "index.html").read_bytes() == b"old"


@pytest.mark.parametrize(
    "rel", ["con", "tags/CON/index.html", "nul.html", "articles/aux/index.html", "com1", "LPT9.txt"]
)
def test_safe_target_refuses_device_names_on_windows(tmp_path: Path, rel: str) -> None:
    with pytest.raises(OutputError, match="names a device"):
        safe_target(tmp_path, rel, windows=True)
    assert safe_target(tmp_path, rel, windows=False).is_relative_to(tmp_path)


def outside_output(root: Path) -> list[str]:
    """Files a build made outside output/, the cache, the permalink ledger (which the
    build keeps in the site on purpose) and the spare (a copy of output/, file for
    file); content and config were there before."""
    made = []
    for path in root.parent.rglob("*"):
        rel = path.relative_to(root.parent).as_posix()
        spare = rel.removeprefix("site/.output.spare/")
        inside = rel.startswith(("site/output/", "site/.site-builder/", "site/content/")) or (
            spare != rel and ((root / "output" / spare).is_file() or spare == SPARE_STATE)
        )
        if path.is_file() and not inside and rel not in ("site/site.toml", LEDGER_PATH):
            made.append(rel)
    return made


LEDGER_PATH = f"site/{LEDGER_NAME}"


def built_paths(root: Path) -> set[str]:
    return {p.relative_to(root / "output").as_posix() for p in (root / "output").rglob("*")}


@pytest.mark.parametrize(
    ("slug", "folder"),
    [
        ("../../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("'a\\\\..\\\\b'", "a-b"),
        ("'%2e%2e/%2e%2e/x'", "2e-2e-2e-2e-x"),
        ("CON", "con"),
        ("nul.html", "nul-html"),
        ("'  ...Zürich!  '", "zürich"),
    ],
)
def test_dangerous_slugs_become_safe_slugs(make_site: MakeSite, slug: str, folder: str) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20", slug=slug)})
    build_at(root)
    assert f"articles/{folder}/index.html" in built_paths(root)
    assert outside_output(root) == []


@pytest.mark.parametrize(
    ("slug", "error"),
    [
        ("'..'", "slug: '..' has no letters or digits"),
        ("'/'", "slug: '/' has no letters or digits"),
        ('"a\\0b"', "slug: contains the character U+0000"),
        ('"a\\x01b"', "slug: contains the character U+0001"),
        ('"a\\ud800b"', "invalid YAML in front matter"),
        ("x" * 300, "is too long for a page address"),
    ],
)
def test_slugs_without_a_safe_form_are_errors(make_site: MakeSite, slug: str, error: str) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20", slug=slug)})
    with pytest.raises(BuildFailed) as failure:
        build_at(root)
    assert any(error in str(p) for p in failure.value.problems), failure.value.problems
    assert not (root / "output").exists()


def test_url_front_matter_is_not_a_path(make_site: MakeSite) -> None:
    """``url`` is no field of this builder: it stays an extra value and places nothing."""
    root = make_site(
        {"content/articles/a.md": article("A story", "2026-11-20", url="../../../../evil.html")}
    )
    build_at(root)
    assert "articles/a/index.html" in built_paths(root)
    assert outside_output(root) == []


def test_dangerous_tag_names_become_safe_slugs(make_site: MakeSite) -> None:
    tags = "['../../x', 'a/b', '\\\\\\\\server\\\\share', 'CON', '/etc/cron.d', 'Zürich']"
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20", tags=tags)})
    build_at(root)
    built = built_paths(root)
    for slug in ("x", "a-b", "server-share", "con", "etc-cron-d", "zürich"):
        assert f"tags/{slug}/index.html" in built
    assert outside_output(root) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("tags", "['..', 'ai']"), ("tags", "['#']"), ("category", "'../..'"), ("author", "'//'")],
)
def test_term_names_without_letters_are_errors(make_site: MakeSite, field: str, value: str) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20", **{field: value})})
    with pytest.raises(BuildFailed) as failure:
        build_at(root)
    [problem] = failure.value.problems
    assert f"{field}: " in str(problem) and "no letters or digits" in str(problem)


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("a\\..\\..\\b.md", "a-b"),
        ("x\x01y.md", "x-y"),
        ("CON.md", "con"),
        ("2026-11-20-..-escape.md", "escape"),
        ("..md", None),  # hidden: not content
    ],
)
def test_file_names_become_safe_slugs(make_site: MakeSite, name: str, folder: str | None) -> None:
    root = make_site(
        {
            "content/articles/keep.md": article("Keep", "2026-11-19"),
            f"content/articles/{name}": "---\ndate: 2026-11-20\ntitle: From a file name\n---\n",
        }
    )
    build_at(root)
    built = built_paths(root)
    if folder is not None:
        assert f"articles/{folder}/index.html" in built
    assert outside_output(root) == []


@pytest.mark.parametrize("name", ["img\\..\\..\\x.png", "a\x01b.png", "tab\there.png"])
def test_asset_names_that_could_escape_are_errors(make_site: MakeSite, name: str) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20")})
    build_at(root)  # the previous site
    before = {path: (root / "output" / path).stat().st_mtime_ns for path in built_paths(root)}
    write_files(
        root,
        {
            "content/articles/b.md": article("B", "2026-11-21"),
            f"content/images/{name}": b"\x89PNG",
        },
    )
    code = main(["build", "--source", str(root), "--jobs", "1"])
    assert code == 1
    after = {path: (root / "output" / path).stat().st_mtime_ns for path in built_paths(root)}
    assert after == before, "a failed build leaves output/ exactly as it was"
    assert outside_output(root) == []


# --- symlinks in content/ ------------------------------------------------------------


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.md"
    path.parent.mkdir()
    path.write_text(article("SECRET-7f3a", "2026-11-20"), encoding="utf-8")
    return path


def test_symlinked_article_outside_the_site_is_refused(
    make_site: MakeSite, secret: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20")})
    (root / "content/articles/leak.md").symlink_to(secret)
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 1
    err = error_of(capsys)
    assert "content/articles/leak.md: error: symlink leads outside the site" in err
    assert "allow_symlinks_outside = true" in err
    assert not (root / "output").exists()


def test_symlinked_asset_outside_the_site_is_refused(
    make_site: MakeSite, secret: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20")})
    (root / "content/images").mkdir()
    (root / "content/images/leak.txt").symlink_to(secret)
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 1
    assert "content/images/leak.txt: error: symlink leads outside the site" in error_of(capsys)


def test_symlinked_content_folder_outside_the_site_is_refused(
    make_site: MakeSite, secret: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({})
    (root / "content").symlink_to(secret.parent)
    assert main(["build", "--source", str(root), "--jobs", "1"]) == 1
    assert "content: error: symlink leads outside the site" in error_of(capsys)


def test_symlinks_outside_are_followed_when_allowed(make_site: MakeSite, secret: Path) -> None:
    config = SITE_TOML + "allow_symlinks_outside = true\n"
    root = make_site({"content/articles/a.md": article("A story", "2026-11-20")}, config=config)
    (root / "content/articles/leak.md").symlink_to(secret)
    build_at(root)
    page = (root / "output/articles/leak/index.html").read_text(encoding="utf-8")
    assert "SECRET-7f3a" in page


def test_symlinks_inside_the_site_are_followed(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("A story", "2026-11-20"),
            "drafts/shared.md": article("Shared INSIDE-91c2", "2026-11-21"),
        }
    )
    (root / "content/articles/shared.md").symlink_to(root / "drafts/shared.md")
    build_at(root)
    assert "INSIDE-91c2" in (root / "output/articles/shared/index.html").read_text("utf-8")


# --- the new config keys -------------------------------------------------------------


def config_problems(make_site: MakeSite, extra: str) -> list[str]:
    root = make_site({}, config=SITE_TOML + extra)
    with pytest.raises(BuildFailed) as failure:
        load_config(root)
    return [p.report() for p in failure.value.problems]


def test_markdown_table_is_read(make_site: MakeSite) -> None:
    root = make_site({}, config=SITE_TOML + "[markdown]\nallow_html = false\n")
    assert load_config(root).markdown == MarkdownOptions(allow_html=False)
    root2 = make_site({}, config=SITE_TOML + "markdown.allow_html = false\n", name="dotted")
    assert load_config(root2).markdown.allow_html is False
    assert load_config(make_site({}, name="default")).markdown.allow_html is True


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "[markdown]\nallow_htm = false\n",
            "site.toml:10: error: unknown key 'markdown.allow_htm'\n"
            "  hint: did you mean 'allow_html'?",
        ),
        (
            "[markdown]\nallow_html = 'no'\n",
            "site.toml:9: error: markdown.allow_html: expected true or false, got 'no'",
        ),
        ("markdown = 5\n", "site.toml:9: error: markdown: expected a table, got 5"),
        (
            "allow_symlinks_outside = 1\n",
            "site.toml:9: error: allow_symlinks_outside: expected true or false, got 1",
        ),
        (
            "max_article_bytes = 10\n",
            "site.toml:9: error: max_article_bytes: expected a whole number from 1000 "
            "to 100000000, got 10",
        ),
        (
            "allow_symlink_outside = true\n",
            "site.toml:9: error: unknown key 'allow_symlink_outside'\n"
            "  hint: did you mean 'allow_symlinks_outside'?",
        ),
    ],
)
def test_new_config_keys_are_validated(make_site: MakeSite, extra: str, expected: str) -> None:
    assert config_problems(make_site, extra) == [expected]


def test_guard_settings_do_not_change_the_output_fingerprint(make_site: MakeSite) -> None:
    plain = load_config(make_site({}, name="a"))
    guarded = load_config(
        make_site(
            {}, config=SITE_TOML + "allow_symlinks_outside = true\nmax_article_bytes = 5000\n"
        )
    )
    assert plain.fingerprint() == guarded.fingerprint()
    html = load_config(make_site({}, config=SITE_TOML + "markdown.allow_html = false\n", name="h"))
    assert html.fingerprint() != plain.fingerprint()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("feed_size = " + "9" * 5_000 + "\n", "site.toml: error: invalid TOML: Exceeds the limit"),
        ("extra = " + "[" * 2_000 + "]" * 2_000, "site.toml: error: invalid TOML: nested too"),
    ],
)
def test_what_tomllib_lets_through_is_a_config_error(
    make_site: MakeSite, extra: str, expected: str
) -> None:
    [problem] = config_problems(make_site, extra)
    assert problem.startswith(expected)
