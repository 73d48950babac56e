#!/usr/bin/env python3
"""Developer entry points that work on a fresh machine with only Python 3.11+.

    python3 tasks.py serve     build the bundled site, serve it, rebuild on every change
    python3 tasks.py test      the whole test suite
    python3 tasks.py lint      ruff, mypy --strict and the import-layer contract
    python3 tasks.py browser   make sure the browser tests have a Chromium, say which

Each creates ``.venv`` on first use and installs the project into it. The browser
tests drive a real Chromium: the system's if there is one, else Playwright's own
(downloaded on first use); where neither can be had, the distribution's package is
installed when this may (as root on Debian or Ubuntu), else ``test`` stops and says
what to install.
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


# What distributions call their Chromium; the tests look for the first name on PATH.
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SHIMS = VENV / "browser-bin"  # put first on PATH: `chromium` there is the one found
NO_BROWSER = (
    "error: the browser tests need Chromium, and none could be installed here: install "
    "your distribution's chromium package (Debian, Ubuntu: apt-get install chromium), "
    "or let Playwright download its own: .venv/bin/python -m playwright install chromium"
)


def system_chromium(path: str | None = None) -> str | None:
    """The system's Chromium on ``path`` (default: PATH), by any of its usual names."""
    for name in SYSTEM_BROWSERS:
        if found := shutil.which(name, path=path):
            return found
    return None


def playwright_chromium() -> str | None:
    """Playwright's own Chromium, if it has been downloaded."""
    script = "from playwright.sync_api import sync_playwright as p\n"
    script += "with p() as d: print(d.chromium.executable_path)"
    done = subprocess.run(
        [str(BIN / "python"), "-c", script], capture_output=True, text=True, check=False
    )
    found = done.stdout.strip()
    return found if done.returncode == 0 and found and Path(found).is_file() else None


def distribution_install(os_release: str, uid: int, path: str | None = None) -> list[list[str]]:
    """The commands that install the distribution's Chromium, where this may run them:
    as root on Debian or Ubuntu (apt-get). None elsewhere: no sudo behind anyone's back."""
    fields = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    family = {
        *fields.get("ID", "").strip('"').split(),
        *fields.get("ID_LIKE", "").strip('"').split(),
    }
    if uid != 0 or not family & {"debian", "ubuntu"} or not shutil.which("apt-get", path=path):
        return []
    quiet = ["-qq", "-o", "Dpkg::Use-Pty=0"]
    return [["apt-get", "update", *quiet], ["apt-get", "install", "-y", *quiet, "chromium"]]


def _os_release() -> str:
    try:
        return Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return ""


def _succeeds(command: list[str | Path]) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.call([str(c) for c in command], cwd=ROOT, env=env) == 0


def ensure_browser() -> str | None:
    """The Chromium the browser tests will drive, made available; None if none can be."""
    if found := system_chromium():
        return _as_chromium(found)
    if found := playwright_chromium():
        return found
    print("No Chromium here: asking Playwright to download its own ...", flush=True)
    downloaded = _succeeds([BIN / "python", "-m", "playwright", "install", "chromium"])
    if downloaded and (found := playwright_chromium()):
        return found
    commands = distribution_install(_os_release(), os.getuid() if os.name == "posix" else -1)
    if commands:
        print("Installing the distribution's Chromium (apt-get) ...", flush=True)
        if all(_succeeds(list(c)) for c in commands) and (found := system_chromium()):
            return _as_chromium(found)
    return None


def _as_chromium(found: str) -> str:
    """The tests launch ``chromium`` from PATH; another name gets a link by that name."""
    link = SHIMS / "chromium"
    link.unlink(missing_ok=True)  # one an earlier run made may lead elsewhere
    if Path(found).name != "chromium":
        SHIMS.mkdir(parents=True, exist_ok=True)
        link.symlink_to(found)
    return found


def test(pytest_args: list[str], *, run_tests: bool) -> int:
    """Make sure of a Chromium, then run pytest (or only say which Chromium it is)."""
    browser = ensure_browser()
    if browser is None:
        print(NO_BROWSER, file=sys.stderr)
        return 1
    if not run_tests:
        print(f"Chromium for the browser tests: {browser}")
        return 0
    env = {**os.environ, "PATH": os.pathsep.join([str(SHIMS), os.environ.get("PATH", "")])}
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *pytest_args], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    rest = argv[1:]
    if command not in ("serve", "test", "lint", "browser"):
        print(__doc__)
        return 2
    ensure_venv()
    if command == "serve":
        return subprocess.call([str(BIN / "site-builder"), "serve", "--open", *rest], cwd=ROOT)
    if command in ("test", "browser"):
        return test(rest, run_tests=command == "test")
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
