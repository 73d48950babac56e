"""``tasks.py``, the README's two commands: which Chromium the browser tests get.

The system's Chromium if there is one (under any of its usual names), else
Playwright's own; where neither can be had, the distribution's package when this may
install it (root on Debian or Ubuntu), else one line saying what to install. The
last case is run for real, in a subprocess with a PATH that has no browser and no
apt-get, and a Playwright download host that refuses connections.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).parent.parent
DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n'
CHROMIUM = shutil.which("chromium")


def load_tasks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tasks", REPO / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tasks = load_tasks()


def executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_no_system_chromium_on_an_empty_path(tmp_path: Path) -> None:
    assert tasks.system_chromium(str(tmp_path)) is None


def test_the_system_chromium_is_found_by_any_of_its_names(tmp_path: Path) -> None:
    chrome = executable(tmp_path / "a", "google-chrome")
    assert tasks.system_chromium(str(tmp_path / "a")) == str(chrome)
    chromium = executable(tmp_path / "b", "chromium")
    both = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    assert tasks.system_chromium(both) == str(chromium)  # the name the tests launch


@pytest.mark.parametrize("os_release", [DEBIAN, UBUNTU])
def test_root_on_debian_or_ubuntu_installs_the_package(tmp_path: Path, os_release: str) -> None:
    executable(tmp_path, "apt-get")
    commands = tasks.distribution_install(os_release, 0, str(tmp_path))
    assert commands[-1][:3] == ["apt-get", "install", "-y"]
    assert commands[-1][-1] == "chromium"
    assert commands[0][:2] == ["apt-get", "update"]


@pytest.mark.parametrize(
    ("os_release", "uid", "apt"),
    [(DEBIAN, 1000, True), (FEDORA, 0, True), (DEBIAN, 0, False), ("", 0, True)],
    ids=["not-root", "fedora", "no-apt-get", "unknown-system"],
)
def test_elsewhere_nothing_is_installed(
    tmp_path: Path, os_release: str, uid: int, apt: bool
) -> None:
    if apt:
        executable(tmp_path, "apt-get")
    assert tasks.distribution_install(os_release, uid, str(tmp_path)) == []


def run_tasks(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``python3 tasks.py browser`` with only ``path`` on PATH, Playwright's browsers in
    an empty folder and its download host refusing connections."""
    env = {
        **os.environ,
        "PATH": str(path),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "playwright-browsers"),
        "PLAYWRIGHT_DOWNLOAD_HOST": "http://127.0.0.1:9",
    }
    return subprocess.run(
        [sys.executable, str(REPO / "tasks.py"), "browser"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_with_no_way_to_a_browser_it_stops_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run_tasks(empty, tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == tasks.NO_BROWSER
    assert "apt-get install chromium" in tasks.NO_BROWSER
    assert "Traceback" not in done.stderr.splitlines()[-1]


@pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium to offer")
def test_a_system_chromium_on_path_is_the_one_used(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "chromium").symlink_to(CHROMIUM)
    done = run_tasks(folder, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"Chromium for the browser tests: {folder}/chromium"
