"""Every file of the shared edge-case corpus (the W3C feed validator's test cases, see
../shared/feeds/SOURCES.md) ingested through one server on 127.0.0.1, all at once:
each gives drafts, nothing new, or one clear error line; never a traceback or a hang.
Every OPML file goes through ``sources import`` too."""

from __future__ import annotations

import collections
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import yaml

from site_builder.cli import main
from site_builder.config import load_config
from tests.conftest import SITE_TOML, MakeSite

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "feeds"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared feed corpus is not here")


def corpus_files() -> list[str]:
    return sorted(
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in (".xml", ".opml")
    )


@pytest.fixture(scope="module")
def corpus_url() -> Iterator[str]:
    """The corpus served as it is: files read, never written."""
    handler = functools.partial(Quiet, directory=str(CORPUS))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


class Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {".xml": "application/xml", ".opml": "text/x-opml"}  # noqa: RUF012

    def log_message(self, format: str, *args: object) -> None:
        pass


_PROBLEM = re.compile(r"^http://127\.0\.0\.1:\d+/(\S+): (error|warning): (\S.*)$")
_OUTCOME = re.compile(r"^(\S+): (\d+) items?, (\d+) new(.*)$")


def outcomes(out: str, err: str) -> tuple[dict[str, str], dict[str, tuple[int, int, str]]]:
    """Each source's error, and each other source's items, new drafts and the rest."""
    errors: dict[str, str] = {}
    for line in err.splitlines():
        found = _PROBLEM.match(line)
        assert found, f"not a clear problem line: {line!r}"
        path, severity, reason = found.groups()
        if severity == "error":
            assert path not in errors, f"two errors for {path}"
            errors[unquote(path)] = reason
    read: dict[str, tuple[int, int, str]] = {}
    for line in out.splitlines():
        if found := _OUTCOME.match(line):
            assert found[1] not in read, f"two lines for {found[1]}"
            read[found[1]] = (int(found[2]), int(found[3]), found[4])
    return errors, read


def test_every_corpus_feed_gives_drafts_or_one_clear_line(
    make_site: MakeSite, corpus_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = corpus_files()
    assert len(files) >= 1690
    tables = "".join(
        f'\n[[sources]]\nname = "{f}"\nurl = "{corpus_url}{quote(f)}"\n' for f in files
    )
    root = make_site({}, config=SITE_TOML + tables)

    assert main(["ingest", "--source", str(root), "--timeout", "20"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    errors, read = outcomes(out, err)
    assert sorted([*errors, *read]) == files  # one line each: an error, or what it gave
    drafted = {name for name, (_, new, _) in read.items() if new}
    on_disk = {
        str(yaml.safe_load(p.read_text(encoding="utf-8").split("---\n")[1])["source"]["name"])
        for p in (root / "content" / "inbox").glob("*.md")
    }
    assert on_disk == drafted
    empty = {name for name, (items, _, _) in read.items() if not items}
    known = {name for name, (_, new, rest) in read.items() if not new and "known" in rest}
    kinds = collections.Counter(re.sub(r"[:(].*", "", reason).strip() for reason in errors.values())
    with capsys.disabled():
        print(
            f"\n{len(files)} files: {len(drafted)} gave drafts, {len(known)} only items drafted "
            f"from another file, {len(empty)} no items, "
            f"{len(read) - len(drafted) - len(known) - len(empty)} items without links, "
            f"{len(errors)} one error line: {dict(kinds)}"
        )
    assert set(kinds) == {"not an RSS or Atom feed"}
    # A second run writes nothing new: every item is known, or its feed still fails.
    assert main(["ingest", "--source", str(root), "--timeout", "20"]) == 1
    assert "Ingest: 0 new drafts" in capsys.readouterr().out


def test_every_corpus_opml_file_imports_or_gives_one_error(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    opml = [f for f in corpus_files() if f.startswith("opml/")]
    assert len(opml) >= 36
    root = make_site({})
    outcomes = collections.Counter()
    for name in opml:
        (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
        code = main(["sources", "import", str(CORPUS / name), "--source", str(root)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        if code == 0:
            assert out.splitlines()[-1].startswith("Sources: ")
            load_config(root)  # site.toml still reads (its feeds are elsewhere: not fetched)
            outcomes["imported"] += 1
        else:
            [line] = [line for line in err.splitlines() if ": error: " in line]
            assert line.startswith(str(CORPUS / name))
            outcomes["one error"] += 1
    with capsys.disabled():
        print(f"\n{len(opml)} OPML files: {dict(outcomes)}")
    assert outcomes["imported"] > 10
