"""`build --explain PATH` says why a file was (not) rebuilt; long builds draw a progress line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import MakeSite, article
from tests.test_cli import run_cli

FILES = {
    "content/articles/a.md": article("Alpha", "2026-11-02 09:00", tags="[ai]"),
    "content/articles/b.md": article("Beta", "2026-11-03 09:00", tags="[ai]"),
    "content/articles/c.md": article("Gamma", "2026-11-10 09:00", tags="[cloud]"),
}


def explain(root: Path, *paths: str) -> list[str]:
    args = [arg for path in paths for arg in ("--explain", path)]
    done = run_cli("build", "--source", str(root), "--jobs", "1", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-len(paths) :]


def test_the_first_build_writes_everything_and_says_why(make_site: MakeSite) -> None:
    root = make_site(FILES)
    assert explain(root, "/articles/a/") == [
        "articles/a/index.html: rebuilt: whole site written: no record of a complete last "
        "build (the first build, or one interrupted)"
    ]


def test_an_unchanged_site_is_not_rebuilt(make_site: MakeSite) -> None:
    root = make_site(FILES)
    explain(root, "index.html")
    assert explain(root, "index.html", "tags/nope/") == [
        "index.html: not rebuilt: no input file changed since the last build",
        "tags/nope/index.html: not part of the site",
    ]


def test_an_edit_names_what_changed_for_each_file(make_site: MakeSite) -> None:
    root = make_site(FILES)
    explain(root, "index.html")
    text = article("Gamma", "2026-11-10 09:00", "A new body.", tags="[cloud]")
    (root / "content/articles/c.md").write_text(text, encoding="utf-8")
    assert explain(root, "/articles/c/", "output/tags/ai/index.html") == [
        "articles/c/index.html: rebuilt: what it shows changed (its article, the stories "
        "it lists, its feed links)",
        "tags/ai/index.html: not rebuilt: site.toml, its templates and what it shows are "
        "unchanged; site parts read: pages",  # the navigation lists the static pages
    ]


def test_a_template_edit_is_named_as_the_cause(make_site: MakeSite) -> None:
    root = make_site(FILES)
    explain(root, "index.html")
    template = root / "templates/article.html"
    template.parent.mkdir()
    template.write_text(
        "{% extends 'base.html' %}{% block content %}{{ article.title }}{% endblock %}",
        encoding="utf-8",
    )
    lines = explain(root, "articles/a/index.html", "articles/zzz/index.html")
    assert lines == [
        "articles/a/index.html: rebuilt: its template, or one it extends, includes or "
        "imports, changed",
        "articles/zzz/index.html: not part of the site",
    ]


def test_a_deleted_article_is_explained_as_removed(make_site: MakeSite) -> None:
    root = make_site(FILES)
    explain(root, "index.html")
    (root / "content/articles/b.md").unlink()
    assert explain(root, "articles/b/") == [
        "articles/b/index.html: removed: no longer part of the site"
    ]


def many_articles(count: int) -> dict[str, str]:
    return {
        f"content/articles/story-{n:03d}.md": article(
            f"Story {n}", f"2026-10-{n % 28 + 1:02d} {n % 24:02d}:00", tags="[ai]"
        )
        for n in range(count)
    }


def on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the command with its output on a pseudo-terminal, as an editor's shell does."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder", *args],
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(), b"".join(chunks).decode()


def test_a_long_build_on_a_terminal_draws_a_progress_line(make_site: MakeSite) -> None:
    root = make_site(many_articles(260))
    code, shown = on_a_terminal("build", "--source", str(root), "--jobs", "2")
    assert code == 0, shown
    assert "Rendering Markdown [" in shown
    assert "Writing pages [############################] " in shown  # drawn full at the end
    last = shown.rstrip().rsplit("\x1b[K", 1)[-1]
    assert last.startswith("Built "), "the summary starts on a cleared line"


def test_without_a_terminal_only_the_summary_is_printed(make_site: MakeSite) -> None:
    root = make_site(many_articles(260))
    done = run_cli("build", "--source", str(root), "--jobs", "2")
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("Built ")
