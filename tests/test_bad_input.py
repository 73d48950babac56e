"""Hostile or broken input gives a clear error or correct output, never a traceback.

Not UTF-8, byte-order marks, CRLF and CR line endings, empty files, oversized
articles, YAML alias bombs, YAML tags that build objects, characters XML cannot
carry, and HTML or ``</script>`` in titles and summaries. A bad file never costs the
others: every problem is listed, and the previous output/ stays as it was.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from site_builder.cli import main
from site_builder.errors import BuildFailed, ContentError
from site_builder.frontmatter import split_front_matter
from tests.conftest import REPO, SITE_TOML, MakeSite, article, build_at

FEEDS = ("feed.xml", "atom.xml", "tags/ai/feed.xml")


def build_cli(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["build", "--source", str(root), "--jobs", "1"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def page(root: Path, slug: str) -> str:
    return (root / "output/articles" / slug / "index.html").read_text(encoding="utf-8")


# --- encodings and line endings ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (
            b"\xef\xbb\xbf---\ntitle: BOM first\ndate: 2026-11-20\n---\n\nBody words.\n",
            "Body words.",
        ),
        (
            b"---\r\ntitle: CRLF lines\r\ndate: 2026-11-20\r\n---\r\n\r\nOne.\r\n\r\nTwo.\r\n",
            "Two.",
        ),
        (b"---\rtitle: Old Mac lines\rdate: 2026-11-20\r---\r\rOne.\r\rTwo.\r", "Two."),
        (
            b"\xef\xbb\xbf---\r\ntitle: BOM and CRLF\r\ndate: 2026-11-20\r\n---\r\nText.\r\n",
            "Text.",
        ),
    ],
)
def test_bom_and_line_endings_build_correctly(make_site: MakeSite, data: bytes, body: str) -> None:
    root = make_site({"content/articles/story.md": data})
    build_at(root)
    html = page(root, "story")
    title = lxml.html.fromstring(html).findtext(".//h1")
    assert title is not None and "\ufeff" not in title and "\r" not in html
    assert title == data.decode("utf-8-sig").splitlines()[1].removeprefix("title: ")
    assert f"<p>{body}</p>" in html


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"---\ntitle: Caf\xe9\ndate: 2026-11-20\n---\n",
            "content/articles/bad.md:2:11: error: not UTF-8 text: byte 0xe9",
        ),
        (b"", "content/articles/bad.md:1: error: missing front matter"),
        (b"\xef\xbb\xbf", "content/articles/bad.md:1: error: missing front matter"),
        (b"\n\n   \n", "content/articles/bad.md:1: error: missing front matter"),
        (b"---\n---\n", "content/articles/bad.md:1: error: title: required field is missing"),
        (b"---\ntitle: x\n", "content/articles/bad.md:1: error: front matter is not closed"),
        (b"\x00\x00\x00", "content/articles/bad.md:1: error: missing front matter"),
    ],
)
def test_undecodable_and_empty_files_are_clear_errors(
    make_site: MakeSite, data: bytes, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/bad.md": data})
    code, err = build_cli(root, capsys)
    assert code == 1
    assert expected in err


# --- size ---------------------------------------------------------------------------


def test_a_50_mb_article_is_refused_before_it_is_read(make_site: MakeSite) -> None:
    """Within 1 GiB of address space: rendering 50 MB of Markdown would need gigabytes."""
    root = make_site({"content/articles/ok.md": article("Fine", "2026-11-20")})
    head = b"---\ntitle: Huge\ndate: 2026-11-20\n---\n"
    line = b"All work and no play makes a very long article. " * 20 + b"\n\n"
    with (root / "content/articles/huge.md").open("wb") as out:
        out.write(head)
        for _ in range(50 * 2**20 // len(line)):
            out.write(line)
    limited = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30)); "
        "from site_builder.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", limited, "build", "--source", str(root), "--jobs", "1"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,  # only against a hang: the guarded build answers at once
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "content/articles/huge.md: error: file is 52,4" in done.stderr
    assert "an article may have at most 2,000,000" in done.stderr
    assert "raise max_article_bytes in site.toml" in done.stderr


def test_the_article_size_limit_is_exact_and_configurable(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    head = "---\ntitle: Sized\ndate: 2026-11-20\n---\n"
    exact = head + "x" * (5_000 - len(head) - 1) + "\n"
    root = make_site(
        {"content/articles/exact.md": exact}, config=SITE_TOML + "max_article_bytes = 5000\n"
    )
    assert build_cli(root, capsys)[0] == 0
    (root / "content/articles/exact.md").write_text(exact + "y", encoding="utf-8")
    code, err = build_cli(root, capsys)
    assert code == 1 and "file is 5,001 bytes; an article may have at most 5,000" in err


def test_a_pipe_in_content_is_an_error_not_a_hang(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/ok.md": article("Fine", "2026-11-20")})
    fifo = root / "content/articles/pipe.md"
    os.mkfifo(fifo)
    # A builder that opened the pipe would wait forever for a writer: this one ends it.
    done = threading.Event()
    closer = threading.Thread(target=close_when_opened, args=(fifo, done), daemon=True)
    closer.start()
    try:
        code, err = build_cli(root, capsys)
    finally:
        done.set()
        closer.join()
    assert code == 1 and "content/articles/pipe.md: error: not a regular file" in err


def close_when_opened(fifo: Path, done: threading.Event) -> None:
    while not done.wait(0.01):
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO until a reader
        except OSError:
            continue
        return


# --- YAML: bombs and object-building tags ---------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def front(yaml_text: str) -> bytes:
    return f"---\ntitle: A title\ndate: 2026-11-20\n{yaml_text}\n---\nBody.\n".encode()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (BILLION_LAUGHS, "bad.md:2: error: front matter is too large (over 10,000 values"),
        ("x: &x [*x]", "bad.md:2: error: front matter is too large"),
        ("x: &x {a: *x}", "bad.md:2: error: front matter is too large"),
        ("x: " + "[" * 5_000 + "]" * 5_000, "bad.md:4:1003: error: invalid YAML in front matter"),
        (
            "x: !!python/object/apply:os.system ['touch /tmp/pwned']",
            "bad.md:4:4: error: invalid YAML in front matter: could not determine a "
            "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'",
        ),
        ("x: !!python/name:os.system", "bad.md:4:4: error: invalid YAML in front matter"),
        ("x: !!python/module:os", "bad.md:4:4: error: invalid YAML in front matter"),
        ("x: !!set {a, b}", "bad.md:4:4: error: invalid YAML in front matter: the YAML tag"),
        ("x: !!binary aGVsbG8=", "bad.md:4:4: error: invalid YAML in front matter: the YAML tag"),
        ("x: !!timestamp 2026-13-45", "bad.md:4:4: error: invalid YAML in front matter: "),
        ("x: !!timestamp soon", "bad.md:4:4: error: invalid YAML in front matter: timestamp"),
        ("x: !!int abc", "bad.md:4:4: error: invalid YAML in front matter: int value 'abc'"),
        ("x: !!bool maybe", "bad.md:4:4: error: invalid YAML in front matter: bool value"),
        ("x: " + "9" * 5_000, "bad.md:4:4: error: invalid YAML in front matter: int value"),
        ("? [a, b]\n: c", "bad.md:4:3: error: invalid YAML in front matter"),
        ('x: "\\ud800"', "bad.md:4:4: error: invalid YAML in front matter"),
        ("x: \x01", "bad.md:4:4: error: invalid YAML in front matter: the character U+0001"),
    ],
)
def test_hostile_yaml_is_a_located_error(
    make_site: MakeSite, yaml_text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/bad.md": front(yaml_text)})
    code, err = build_cli(root, capsys)
    assert code == 1
    assert f"content/articles/{expected}" in err
    assert not Path("/tmp/pwned").exists()


def test_yaml_merge_keys_do_not_multiply(make_site: MakeSite) -> None:
    lines = ["m0: &m0 {x: 1, y: 2}"]
    lines += [f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 9)}]}}" for n in range(1, 9)]
    root = make_site({"content/articles/merge.md": front("\n".join(lines))})
    build_at(root)
    assert "A title" in page(root, "merge")


def test_an_explicit_timestamp_tag_is_a_date(make_site: MakeSite) -> None:
    data = b"---\ntitle: Tagged date\ndate: !!timestamp 2026-11-20 09:30:00\n---\nBody.\n"
    root = make_site({"content/articles/dated.md": data})
    build_at(root)
    assert 'datetime="2026-11-20T09:30:00+01:00"' in page(root, "dated")


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("0001-01-01", "date: '0001-01-01' is out of range; expected a year from 1000 to 9000"),
        ("9999-12-31T23:59:00-12:00", "is out of range"),
        ("!!timestamp 9999-12-31 23:59:59", "is out of range"),
    ],
)
def test_dates_at_the_ends_of_time_are_errors(
    make_site: MakeSite, date: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/old.md": f"---\ntitle: Old\ndate: {date}\n---\n"})
    code, err = build_cli(root, capsys)
    assert code == 1 and expected in err


def test_a_file_name_date_at_the_end_of_time_is_an_error(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/articles/0001-01-01-ancient.md": "---\ntitle: Ancient\n---\n"})
    code, err = build_cli(root, capsys)
    assert code == 1
    assert "0001-01-01-ancient.md:1: error: date: the file name's date is out of range" in err


# --- characters XML cannot carry ------------------------------------------------------


def test_control_characters_in_the_body_do_not_break_feeds_or_pages(make_site: MakeSite) -> None:
    body = "Before\x00\x01\x02\x08\x0b\x0c\x0e\x1f\ufffe\uffff after. Tab\tkept.\n"
    root = make_site(
        {"content/articles/ctl.md": article("Control", "2026-11-20", body, tags="[ai]")}
    )
    build_at(root)
    for feed in FEEDS:
        parsed = feedparser.parse((root / "output" / feed).read_bytes())
        assert parsed.bozo == 0, (feed, parsed.get("bozo_exception"))
        assert "Before after." in parsed.entries[0].content[0].value
    json_feed = json.loads((root / "output/feed.json").read_bytes())
    assert "Before after." in json_feed["items"][0]["content_html"]
    assert "<p>Before after. Tab" in page(root, "ctl")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("title", '"Bell\\a ringing"', "U+0007"),
        ("summary", '"Form\\ffeed"', "U+000C"),
        ("tags", '["ok", "esc\\x1b"]', "U+001B"),
        ("extra_field", '{nested: ["\\x00"]}', "U+0000"),
    ],
)
def test_control_characters_in_front_matter_are_errors(
    make_site: MakeSite, field: str, value: str, code: str
) -> None:
    text = f'---\ntitle: "T"\ndate: 2026-11-20\n{field}: {value}\n---\n'.replace(
        'title: "T"\n', "" if field == "title" else 'title: "T"\n'
    )
    root = make_site({"content/articles/ctl.md": text})
    with pytest.raises(BuildFailed) as failure:
        build_at(root)
    messages = [str(p) for p in failure.value.problems]
    assert any(f"{field}: contains the character {code}" in m for m in messages), messages


# --- HTML and </script> in titles and summaries ---------------------------------------

NASTY = "</script><script>alert('t')</script> <b>\"Q&A\"</b> it's <!-- x -->"
NASTY_SUMMARY = "`</script><script>alert('s')</script>` and 5 < 6 & more"


def nasty_site(make_site: MakeSite) -> Path:
    fields = {
        "summary": json.dumps(NASTY_SUMMARY),
        "tags": json.dumps(["ai", "</script><b>"]),
        "author": json.dumps("<img src=x onerror=alert('a')>"),
        "category": json.dumps("</title><script>alert('c')</script>"),
    }
    text = article("placeholder", "2026-11-20", "Body text.", slug="nasty", **fields)
    text = text.replace("title: 'placeholder'", f"title: {json.dumps(NASTY)}")
    root = make_site({"content/articles/nasty.md": text})
    build_at(root)
    return root


def test_titles_and_summaries_are_escaped_in_every_page(make_site: MakeSite) -> None:
    root = nasty_site(make_site)
    pages = sorted((root / "output").rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        tree = lxml.html.fromstring(path.read_bytes())
        for script in tree.iter("script"):
            if script.get("type") == "application/ld+json":
                json.loads(script.text or "")  # a '</script>' inside would have cut it short
            else:
                assert "alert" not in (script.text or ""), (path, script.text)
        assert not tree.xpath("//img[@onerror]"), path
    article_page = lxml.html.fromstring((root / "output/articles/nasty/index.html").read_bytes())
    assert article_page.findtext(".//h1") == NASTY
    assert article_page.findtext(".//title").startswith(NASTY)
    [ld] = [s for s in article_page.iter("script") if s.get("type") == "application/ld+json"]
    data = json.loads(ld.text or "")
    assert data["headline"] == NASTY
    assert "</script>" in data["description"]  # as text, in a JSON string
    assert "</" not in (ld.text or ""), "JSON-LD escapes '<' so no '</script>' can end it"


def test_titles_and_summaries_are_escaped_in_every_feed(make_site: MakeSite) -> None:
    root = nasty_site(make_site)
    atom = "{http://www.w3.org/2005/Atom}"
    for feed, title in (
        ("feed.xml", "channel/item/title"),
        ("atom.xml", f"{atom}entry/{atom}title"),
    ):
        data = (root / "output" / feed).read_bytes()
        assert feedparser.parse(data).bozo == 0
        assert etree.fromstring(data).findtext(title) == NASTY
    json_feed = json.loads((root / "output/feed.json").read_bytes())
    assert json_feed["items"][0]["title"] == NASTY
    assert json_feed["items"][0]["summary"].startswith("</script><script>alert('s')")


# --- a bad file never costs the others ----------------------------------------------


def test_every_bad_file_is_reported_and_the_previous_site_survives(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {f"content/articles/good-{n}.md": article(f"Good {n}", "2026-11-20") for n in range(3)}
    root = make_site(good)
    assert build_cli(root, capsys)[0] == 0
    before = snapshot(root / "output")
    bad = {
        "latin1.md": b"---\ntitle: Caf\xe9\n---\n",
        "empty.md": b"",
        "bomb.md": front(BILLION_LAUGHS),
        "object.md": front("x: !!python/object/apply:os.system [id]"),
        "control.md": front('summary: "\\x07"'),
        "dates.md": b"---\ntitle: T\ndate: 0001-01-01\n---\n",
    }
    for name, data in bad.items():
        (root / "content/articles" / name).write_bytes(data)
    code, err = build_cli(root, capsys)
    assert code == 1
    for name in bad:
        assert f"content/articles/{name}:" in err
    assert f"Build failed: {len(bad)} errors; nothing was written." in err
    assert snapshot(root / "output") == before
    for name in bad:
        (root / "content/articles" / name).unlink()
    assert build_cli(root, capsys)[0] == 0
    assert all(f"Good {n}" in page(root, f"good-{n}") for n in range(3))


def test_a_build_across_processes_lists_every_error_as_a_build_in_one_process(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    # Enough files for worker processes, the broken ones in different workers' tasks.
    files: dict[str, str | bytes] = {
        f"content/articles/story-{n:03d}.md": article(f"Story {n}", "2026-11-20")
        for n in range(100)
    }
    for n in (5, 50, 95):
        files[f"content/articles/story-{n:03d}.md"] = b"---\ntitle: Caf\xe9\n---\n"
    files["content/articles/story-077.md"] = "---\ntitle: [unclosed\n---\n"
    errors = {}
    for jobs in ("1", "2"):
        root = make_site(files, name=f"site-{jobs}")
        assert main(["build", "--source", str(root), "--jobs", jobs]) == 1
        errors[jobs] = capsys.readouterr().err.replace(str(root), "ROOT")
    named = re.findall(r"content/articles/(story-\d+)\.md", errors["2"])
    assert named == ["story-005", "story-050", "story-077", "story-095"]
    assert "Build failed: 4 errors; nothing was written." in errors["2"]
    assert errors["2"] == errors["1"]


@pytest.mark.parametrize(
    "tag", ["python/object:os.PathLike", "python/object/new:dict", "python/tuple", "python/str"]
)
def test_python_tags_build_no_objects(tag: str) -> None:
    with pytest.raises(ContentError, match="could not determine a constructor"):
        split_front_matter(f"---\nx: !!{tag} []\n---\n", path="p.md")
