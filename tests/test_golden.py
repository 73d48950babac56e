"""A small site's whole output, byte for byte. ``pytest --update-golden`` rewrites it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from site_builder.build import build
from site_builder.config import load_config
from tests.conftest import FIXED_NOW

SITE = Path(__file__).parent / "sites" / "golden"
EXPECTED = Path(__file__).parent / "golden"


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_output_matches_the_golden_copy(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    site = tmp_path / "golden"
    shutil.copytree(SITE, site)
    build(load_config(site), now=FIXED_NOW, jobs=1)
    actual = files(site / "output")
    if request.config.getoption("--update-golden"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        shutil.copytree(site / "output", EXPECTED)
    expected = files(EXPECTED)
    assert sorted(actual) == sorted(expected)
    for path, data in expected.items():
        assert actual[path] == data, f"{path} differs from tests/golden/{path}"


def test_sub_path_site_has_no_broken_link() -> None:
    from tests.linkcheck import broken_links

    assert list(broken_links(EXPECTED, "/news/")) == []
