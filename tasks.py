#!/usr/bin/env python3
"""Developer entry points that work on a fresh machine with only Python 3.11+.

    python3 tasks.py serve   build the bundled site, serve it, rebuild on every change
    python3 tasks.py test    the whole test suite
    python3 tasks.py lint    ruff, mypy --strict and the import-layer contract

Each creates ``.venv`` on first use and installs the project into it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def run(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    """Create .venv and install the project with its test extras when pyproject changes."""
    if not (BIN / "python").exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = (ROOT / "pyproject.toml").read_bytes()
    if STAMP.exists() and STAMP.read_bytes() == wanted:
        return
    print("Installing site-builder and its test tools into .venv ...", flush=True)
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
    STAMP.write_bytes(wanted)


def ensure_browser() -> None:
    """The browser tests drive a real Chromium: the system's, else Playwright's own."""
    if any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")):
        return
    run(BIN / "python", "-m", "playwright", "install", "chromium")


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    rest = argv[1:]
    if command not in ("serve", "test", "lint"):
        print(__doc__)
        return 2
    ensure_venv()
    if command == "serve":
        return subprocess.call([str(BIN / "site-builder"), "serve", "--open", *rest], cwd=ROOT)
    if command == "test":
        ensure_browser()
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    for tool in (
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],
        ["lint-imports"],
    ):
        if subprocess.call([str(BIN / tool[0]), *tool[1:]], cwd=ROOT) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
