"""What a build publishes is what a clean build of the same input makes, whatever ran
before in the same folder: the everyday sequences that once published something else.

1. A project site (base_url with a sub-path) built after a preview.
2. The bundled site built after a preview (its email editions once linked 127.0.0.1).
3. A site moved to a new address: build, change base_url, build --clean.
4. A new story previewed, or built once for a local address, with drafts or with future
   stories, before it is published: its feed id once kept the address it was first
   built with (``http://127.0.0.1:8000/...``), and ``permalinks.json`` a draft's URL.

Each runs the command line as a user does, and compares ``output/`` byte for byte with a
build of a copy of the inputs in a fresh folder with no ``.site-builder/``.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder import cli
from tests.conftest import REPO, article, copy_bundled_site
from tests.test_output_safety import snapshot
from tests.test_serve import site_builder_command

WAIT = 30.0
PROJECT_URL = "https://user.github.io/project/"
INPUTS = ("site.toml", "permalinks.json", "content", "templates")


def run_cli(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(list(args))


def copy_inputs(root: Path, target: Path) -> Path:
    """The site's inputs alone, as a fresh clone would have them."""
    target.mkdir(parents=True)
    for name in INPUTS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.is_file():
            shutil.copy2(source, target / name)
    return target


def clean_build(root: Path, fresh: Path, *options: str) -> dict[str, bytes]:
    copy = copy_inputs(root, fresh)
    assert run_cli("build", "--source", str(copy), "--jobs", "1", *options) == 0
    return snapshot(copy / "output")


@contextlib.contextmanager
def previewing(root: Path, port: int = 0, said: list[str] | None = None) -> Iterator[str]:
    """``site-builder serve`` as a user starts it, stopped with Ctrl-C at the end;
    ``said`` gets the lines it printed before it served. A preview that does not
    serve within WAIT seconds, or does not stop, fails the test instead of hanging it."""
    command = [*site_builder_command(), "serve", "--source", str(root)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--jobs", "1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    out, err = process.stdout, process.stderr
    assert out is not None and err is not None
    # Only this thread reads stdout, to its end: a second reader would race it.
    reader = threading.Thread(target=lambda: [*map(lines.put, out), lines.put("")])
    reader.start()
    try:
        while "Serving" not in (line := lines.get(timeout=WAIT)):
            assert line, "the preview stopped before it served"
            if said is not None:
                said.append(line)
        yield line.split(" at ", 1)[1].split()[0]
        process.send_signal(signal.SIGINT)
        process.wait(timeout=WAIT)
    finally:
        process.kill()  # nothing, if it stopped; else it must not outlive the test
        process.wait()
        reader.join(WAIT)
        out.close()
        errors = err.read()
        err.close()
    assert process.returncode == 0, errors


def fetch(url: str) -> tuple[int, bytes]:
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    try:
        conn.request("GET", "/" + path)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def set_base_url(root: Path, url: str) -> None:
    config = root / "site.toml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("base_url")]
    config.write_text(f'base_url = "{url}"\n' + "".join(kept), encoding="utf-8")


def mentioning(files: dict[str, bytes], text: bytes) -> list[str]:
    return sorted(rel for rel, data in files.items() if text in data)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return copy_bundled_site(tmp_path / "site")


def test_a_project_site_built_after_a_preview_is_the_clean_build(
    site: Path, tmp_path: Path
) -> None:
    set_base_url(site, PROJECT_URL)
    with previewing(site) as url:
        assert url.endswith("/project/")
        status, page = fetch(url)
        assert status == 200
        assert b'href="/project/static/style.css"' in page
        assert fetch(url + "static/style.css")[0] == 200
    assert not (site / "output").exists()  # the preview writes nothing there
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    built = snapshot(site / "output")
    assert built == clean_build(site, tmp_path / "fresh")
    assert b'href="/project/static/style.css"' in built["index.html"]
    assert mentioning(built, b'href="/static/') == []


def test_the_bundled_site_built_after_a_preview_links_no_preview_address(
    site: Path, tmp_path: Path
) -> None:
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    before = snapshot(site / "output")
    with previewing(site) as url:
        assert fetch(url + "digest/")[0] == 200
        assert snapshot(site / "output") == before  # a deploy meanwhile publishes no preview
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    built = snapshot(site / "output")
    emails = [rel for rel in built if rel.endswith(("email.html", "email.txt"))]
    assert len(emails) > 10
    assert mentioning(built, b"127.0.0.1") == []
    assert built == clean_build(site, tmp_path / "fresh")


@pytest.mark.parametrize("how", ["site.toml", "--base-url", "SITE_BASE_URL"])
def test_a_moved_site_rebuilt_is_the_clean_build(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    options: list[str] = []
    if how == "site.toml":
        set_base_url(site, PROJECT_URL)
    elif how == "--base-url":
        options = ["--base-url", PROJECT_URL]
    else:
        monkeypatch.setenv("SITE_BASE_URL", PROJECT_URL)
    for clean in ([], ["--clean"]):
        assert run_cli("build", "--source", str(site), "--jobs", "1", *options, *clean) == 0
        built = snapshot(site / "output")
        fresh = tmp_path / f"fresh{len(clean)}"
        assert built == clean_build(site, fresh, *options), clean
        assert mentioning(built, b'href="/static/') == []


def test_a_build_without_search_drops_the_index_a_build_with_it_made(
    site: Path, tmp_path: Path
) -> None:
    assert run_cli("build", "--source", str(site), "--jobs", "1", "--search") == 0
    assert (site / "output/pagefind/pagefind.js").is_file()
    assert run_cli("build", "--source", str(site), "--jobs", "1", "--no-search") == 0
    assert not (site / "output/pagefind").exists()
    assert snapshot(site / "output") == clean_build(site, tmp_path / "fresh", "--no-search")


def test_alternating_preview_and_build_rebuilds_neither_from_scratch(site: Path) -> None:
    with socket.socket() as probe:  # one address for both previews, as port 8000 would be
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    first: list[str] = []
    with previewing(site, port, first):
        pass
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    again: list[str] = []
    with previewing(site, port, again):
        pass
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["build", "--source", str(site), "--jobs", "1"]) == 0
    assert "(0 written," in out.getvalue()
    written = int(first[-1].split()[1]) if first[-1].startswith("Built ") else 0
    assert written > 100, first  # the first preview builds the whole site
    assert again[-1].startswith("Built 0 files"), again


def test_an_upgrade_that_changes_only_a_translation_rebuilds(site: Path, tmp_path: Path) -> None:
    """The package's catalogues are part of the builder's fingerprint, as its code is:
    a build with nothing else changed must not keep the old wording."""
    package = tmp_path / "installed"
    shutil.copytree(REPO / "site_builder", package / "site_builder")
    config = site / "site.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('language = "en"', 'language = "de"'),
        encoding="utf-8",
    )

    def build_with_installed(root: Path) -> dict[str, bytes]:
        env = {**os.environ, "PYTHONPATH": str(package), "SOURCE_DATE_EPOCH": "1630000000"}
        command = [sys.executable, "-m", "site_builder", "build", "--source", str(root)]
        subprocess.run(
            [*command, "--jobs", "1"], env=env, cwd=package, check=True, capture_output=True
        )
        return snapshot(root / "output")

    before = build_with_installed(site)
    catalogue = package / "site_builder/locales/de/LC_MESSAGES/site_builder.po"
    text = catalogue.read_text(encoding="utf-8")
    at = text.index('msgid "Latest stories"\nmsgstr "') + len('msgid "Latest stories"\nmsgstr "')
    catalogue.write_text(text[:at] + "Frisch: " + text[at:], encoding="utf-8")
    after = build_with_installed(site)
    assert after != before
    assert b"Frisch: " in after["index.html"]
    assert after == build_with_installed(copy_inputs(site, tmp_path / "fresh"))


def _with_new_stories(site: Path) -> Path:
    """The bundled site with a story its ledger has no id for yet, a draft and a story
    dated in the future; and a copy of these inputs, as they are before anything ran."""
    stories = {
        "new-story.md": article("A new story", "2026-11-01 09:00"),
        "in-progress.md": article("In progress", "2026-11-02 09:00", draft="true"),
        "tomorrow.md": article("Far ahead", "2099-01-01 09:00"),
    }
    for name, text in stories.items():
        (site / "content/articles" / name).write_text(text, encoding="utf-8")
    return copy_inputs(site, site.with_name("inputs-before"))


def _ledger(site: Path) -> bytes | None:
    path = site / "permalinks.json"
    return path.read_bytes() if path.exists() else None


def _published_as_if_first(site: Path, before: Path, tmp_path: Path) -> None:
    """``build`` in ``site`` publishes what it publishes where nothing ran before."""
    assert run_cli("build", "--source", str(site), "--jobs", "1") == 0
    built = snapshot(site / "output")
    assert built == clean_build(before, tmp_path / "fresh")
    assert mentioning(built, b"127.0.0.1") == mentioning(built, b"localhost:8000") == []
    ledger = (site / "permalinks.json").read_bytes()
    assert ledger == (tmp_path / "fresh/permalinks.json").read_bytes()
    assert b"in-progress" not in ledger and b"tomorrow" not in ledger


def test_a_story_previewed_before_it_is_published_gets_no_preview_id(
    site: Path, tmp_path: Path
) -> None:
    before = _with_new_stories(site)
    ledger = _ledger(site)
    with previewing(site) as url:
        assert fetch(url + "articles/new-story/")[0] == 200
        assert b"127.0.0.1" in fetch(url + "feed.xml")[1]  # the preview's own site
    assert _ledger(site) == ledger
    _published_as_if_first(site, before, tmp_path)


@pytest.mark.parametrize(
    "options",
    [("--base-url", "http://localhost:8000/"), ("--drafts",), ("--future",)],
    ids=["local address", "drafts", "future"],
)
def test_a_test_build_before_publishing_records_no_id(
    site: Path, tmp_path: Path, options: tuple[str, ...]
) -> None:
    before = _with_new_stories(site)
    ledger = _ledger(site)
    assert run_cli("build", "--source", str(site), "--jobs", "1", *options) == 0
    assert _ledger(site) == ledger
    _published_as_if_first(site, before, tmp_path)
