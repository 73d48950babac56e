"""Shared fixtures: sites made from a dict of files, the bundled site built once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from site_builder.build import build
from site_builder.config import load_config
from site_builder.fresh import BuildResult

REPO = Path(__file__).resolve().parent.parent
FIXED_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SITE_TOML = """\
title = "Test Digest"
description = "A site made by a test"
base_url = "https://test.example.org/"
language = "en"
timezone = "Europe/Berlin"
author = "Test Desk"
feed_size = 5
per_page = 3
"""

MakeSite = Callable[..., Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current output, deliberately",
    )


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")


def article(title: str, date: str, body: str = "Body text.", **fields: str) -> str:
    """A content file with front matter; extra fields are written as given (YAML)."""
    lines = ["---", f"title: {title!r}", f"date: {date}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    return "\n".join([*lines, "---", "", body, ""])


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """``make_site({path: text}, config=...)`` → the root of a new site in tmp_path."""

    def make(files: Mapping[str, str | bytes], config: str = SITE_TOML, name: str = "site") -> Path:
        root = tmp_path / name
        root.mkdir()
        write_files(root, {"site.toml": config, **files})
        return root

    return make


def build_at(
    root: Path, *, output: Path | None = None, incremental: bool = True, **options: bool
) -> BuildResult:
    config = load_config(root, output=output)
    if options:
        config = load_config(root, output=output, **options)
    return build(config, now=FIXED_NOW, jobs=1, incremental=incremental)


def printed_by(script: str) -> str:
    """What a Python snippet prints, run apart so that a hang ends in a failure."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,  # only against a hang: the snippets take well under a second
        check=True,
    )
    return done.stdout.strip()


def copy_bundled_site(target: Path) -> Path:
    """The repository's own site (config, content, templates) in a folder of its own."""
    target.mkdir(parents=True)
    shutil.copy2(REPO / "site.toml", target / "site.toml")
    shutil.copytree(REPO / "content", target / "content")
    shutil.copytree(REPO / "templates", target / "templates")
    return target


@pytest.fixture(scope="session")
def bundled_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled site, built once for every test that only reads it."""
    root = copy_bundled_site(tmp_path_factory.mktemp("bundled") / "site")
    build_at(root)
    return root / "output"
