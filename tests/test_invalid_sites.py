"""Every invalid case in tests/sites/invalid/ fails with exactly its expected error lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder.cli import main

CASES = sorted(p for p in (Path(__file__).parent / "sites" / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_site_reports_every_error_and_writes_nothing(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    code = main(["build", "--source", str(case), "--output", str(output), "--jobs", "1"])
    captured = capsys.readouterr()
    assert captured.err == (case / "expected.txt").read_text(encoding="utf-8")
    assert code == int((case / "exit-code").read_text())
    assert captured.out == ""
    assert not output.exists()
    assert "Traceback" not in captured.err
