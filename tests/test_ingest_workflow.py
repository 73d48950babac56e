"""The optional scheduled ingestion that ``init`` writes: a valid GitHub workflow whose
script proposes exactly the new drafts and the record, and nothing when there are none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from site_builder.cli import main
from tests.test_ingest import FeedServer, rss, server
from tests.test_publish import validate

__all__ = ["server"]  # the fixture


@pytest.fixture
def new_site(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    assert main(["init", str(target)]) == 0
    return target


def steps(site: Path) -> list[dict[str, object]]:
    workflow = yaml.safe_load((site / ".github/workflows/ingest.yml").read_text(encoding="utf-8"))
    assert set(workflow[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1: "on" is true
    assert workflow["permissions"] == {"contents": "write", "pull-requests": "write"}
    [job] = workflow["jobs"].values()
    found: list[dict[str, object]] = job["steps"]
    return found


def test_init_writes_a_valid_scheduled_ingest_workflow(new_site: Path) -> None:
    done = validate(new_site / ".github/workflows/ingest.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    runs = [str(step.get("run", "")) for step in steps(new_site)]
    assert "site-builder ingest" in runs
    assert any("gh pr create" in run for run in runs)


def git(site: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(
        ["git", *args], cwd=site, capture_output=True, text=True, check=True, env=env
    )
    return done.stdout


def proposal_script(site: Path) -> str:
    """The last step's script up to the pull request itself, which needs GitHub."""
    script = str(steps(site)[-1]["run"])
    return script[: script.index("gh pr create")]


def run_script(site: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRANCH": "ingest/1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["bash", "-e", "-c", script], cwd=site, capture_output=True, text=True, env=env, check=False
    )


def test_the_workflow_script_proposes_the_new_drafts_and_nothing_else(
    new_site: Path, server: FeedServer, tmp_path: Path
) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-q", str(origin))
    git(new_site, "init", "-q", "-b", "main")
    git(new_site, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(new_site, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "site")
    git(new_site, "remote", "add", "origin", str(origin))
    git(new_site, "push", "-q", "origin", "main")

    assert main(["ingest", "--source", str(new_site)]) == 0  # no sources yet: no record
    assert not (new_site / "inbox.json").exists()
    nothing = run_script(new_site, proposal_script(new_site))
    assert nothing.returncode == 0 and "No new drafts." in nothing.stdout

    with (new_site / "site.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[[sources]]\nname = "News"\nurl = "{server.serve("/n", rss(2))}"\n')
    git(new_site, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "sources")
    git(new_site, "push", "-q", "origin", "main")
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "ingest"],
        cwd=new_site,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (new_site / "scratch.txt").write_text("not a draft", encoding="utf-8")
    proposed = run_script(new_site, proposal_script(new_site))
    assert proposed.returncode == 0, proposed.stderr
    changed = git(origin, "diff", "--name-only", "main", "ingest/1").split()
    assert changed == [
        "content/inbox/story-1-from-example-news.md",
        "content/inbox/story-2-from-example-news.md",
        "inbox.json",
    ]
