"""output/ is replaced whole or not at all, and only when the builder owns it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from site_builder.cache import build_lock
from site_builder.cli import main
from site_builder.errors import BuildFailed
from site_builder.writer import MARKER
from tests.conftest import MakeSite, article, build_at


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_failed_build_leaves_the_previous_output_untouched(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    build_at(root)
    before = snapshot(root / "output")
    (root / "content/articles/b.md").write_text("no front matter\n", encoding="utf-8")
    (root / "content/articles/a.md").write_text(article("Changed", "2026-11-20"), encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_at(root)
    assert snapshot(root / "output") == before
    assert sorted(p.name for p in root.iterdir()) == [
        ".output.spare",  # the first build's copy, for the next one to stage in
        ".site-builder",
        "content",
        "output",
        "permalinks.json",
        "site.toml",
    ]


def test_template_error_at_render_time_leaves_output_untouched(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    build_at(root, incremental=False)
    before = snapshot(root / "output")
    (root / "templates").mkdir()
    (root / "templates/article.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ article.no_such_field }}{% endblock %}',
        encoding="utf-8",
    )
    with pytest.raises(BuildFailed) as failure:
        build_at(root, incremental=False)
    [problem] = failure.value.problems
    assert str(problem).startswith("templates/article.html:1: error:")
    assert "no_such_field" in str(problem)
    assert snapshot(root / "output") == before


def test_refuses_to_replace_a_folder_it_did_not_create(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(
        {
            "content/articles/a.md": article("First", "2026-11-20"),
            "output/precious.txt": "not made by the builder",
        }
    )
    code = main(["build", "--source", str(root), "--jobs", "1"])
    assert code == 1
    assert "output/ is not empty and was not made by site-builder" in capsys.readouterr().err
    assert (root / "output/precious.txt").read_text(encoding="utf-8") == "not made by the builder"
    assert main(["build", "--source", str(root), "--jobs", "1", "--force"]) == 0
    assert not (root / "output/precious.txt").exists()
    assert (root / "output" / MARKER).is_file()


@pytest.mark.parametrize("output", ["content", "content/out", "templates", ".", ".."])
def test_output_may_not_overlap_the_site(
    make_site: MakeSite, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    (root / "templates").mkdir()
    code = main(["build", "--source", str(root), "--output", str(root / output)])
    assert code == 2
    assert "output directory" in capsys.readouterr().err
    assert (root / "content/articles/a.md").is_file()


def test_leftovers_of_an_interrupted_build_are_cleaned_up(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    build_at(root)
    staging = root / ".output.staging-999999"
    staging.mkdir()
    (staging / MARKER).write_text("x", encoding="utf-8")
    (staging / "half.html").write_text("<p>half", encoding="utf-8")
    build_at(root, incremental=False)
    assert not staging.exists()


def test_site_moved_aside_by_an_interrupted_swap_is_restored(make_site: MakeSite) -> None:
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    build_at(root)
    before = snapshot(root / "output")
    (root / "output").rename(root / ".output.old-999999")
    (root / "content/articles/b.md").write_text("broken\n", encoding="utf-8")
    with pytest.raises(BuildFailed):
        build_at(root)
    assert snapshot(root / "output") == before


def test_a_second_build_of_a_site_waits_for_the_first(make_site: MakeSite) -> None:
    """Two builds at once would each swap their site in and save their own manifest."""
    root = make_site({"content/articles/a.md": article("First", "2026-11-20")})
    command = [sys.executable, "-m", "site_builder", "build", "--source", str(root)]
    with build_lock(root):  # a build running in this process
        second = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert second.stderr is not None
        said = second.stderr.readline()
        assert said == "Waiting for another build of this site to finish ...\n"
        assert second.poll() is None
        assert not (root / "output").exists()
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert out.startswith("Built ") and (root / "output/index.html").is_file()
