"""Publishing from CI: the GitHub Actions workflow this repository and `init` ship."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from site_builder.cache import render_cache_path
from site_builder.scaffold import REPOSITORY_INSTALL, publish_workflow
from tests.conftest import REPO
from tests.linkcheck import broken_links

WORKFLOW = REPO / ".github/workflows/publish.yml"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    """The GitHub workflow JSON schema that check-jsonschema ships, offline."""
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_repository_workflow_is_the_one_init_writes() -> None:
    assert WORKFLOW.read_text(encoding="utf-8") == publish_workflow(REPOSITORY_INSTALL)


def test_the_workflow_is_valid_and_uses_the_official_pages_actions() -> None:
    done = validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert "schedule" in triggers and "push" in triggers
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    for action in (
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ):
        assert any(u.startswith(action + "@") for u in uses), action


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  build:\n    steps: 3\n", encoding="utf-8")
    assert validate(broken).returncode != 0


@pytest.fixture
def new_site(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "init", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target


def test_a_site_made_by_init_publishes_through_its_workflow(new_site: Path) -> None:
    """Run the workflow's own site-builder steps as written, with a Pages sub-path URL."""
    workflow_file = new_site / ".github/workflows/publish.yml"
    assert validate(workflow_file).returncode == 0
    assert (new_site / "requirements.txt").read_text(encoding="utf-8").startswith("site-builder")
    steps = yaml.safe_load(workflow_file.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    commands = [s for s in steps if str(s.get("run", "")).startswith("site-builder ")]
    assert [s["run"].split()[:3] for s in commands] == [["site-builder", "build", "--check"]]
    env = {**os.environ, "SITE_BASE_URL": "https://someone.github.io/news-site"}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    for step in commands:
        done = subprocess.run(
            step["run"],
            shell=True,
            cwd=new_site,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
    cached = next(s for s in steps if s.get("uses", "").startswith("actions/cache@"))
    assert render_cache_path(new_site).is_file()  # what the steps rendered is kept
    assert render_cache_path(new_site).parent == new_site / cached["with"]["path"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    site = new_site / upload["with"]["path"]
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<link>https://someone.github.io/news-site/articles/hello-world/</link>" in feed
    assert list(broken_links(site, "/news-site/")) == []
