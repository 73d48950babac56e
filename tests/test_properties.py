"""Property tests: generated input either works or gives the project's own error, and no
build ever writes outside output/ (its staging folders) and the cache.

Examples per property are in ``settings(max_examples=...)``; they add up to
``TOTAL_EXAMPLES`` (over 10,000) in the default profile, run by ``.ci/run`` with the rest.
The inputs mix arbitrary text with the fragments attacks are made of: '..', '/',
'\\', NUL, control characters, device names, look-alike dots and slashes, URL escapes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from site_builder.build import build
from site_builder.config import SiteConfig, load_config, theme_dir
from site_builder.content import parse_entry
from site_builder.errors import BuildFailed, ConfigError, ContentError, SiteError
from site_builder.frontmatter import _Invalid, parse_date, read_fields, split_front_matter
from site_builder.model import Entry, slugify
from site_builder.permalinks import LEDGER_NAME
from site_builder.writer import OutputError, safe_target
from tests.conftest import FIXED_NOW, SITE_TOML

EXAMPLES = {
    "slugify": 3_000,
    "safe_target": 3_000,
    "front_matter": 2_000,
    "dates": 1_500,
    "config": 700,
    "output_folder": 400,
    "parse_entry": 700,
    "builds": 300,
}
TOTAL_EXAMPLES = sum(EXAMPLES.values())
FRAGMENTS = (
    "..", ".", "/", "\\", "\0", "\x01", "\x1b", "\x7f", "\t", "\n", "\r", " ", "~", "$HOME",
    "%2e", "%2f", "%00", "CON", "nul", "Aux", "com1", "lpt9.txt", ":", "*", "?", "|", "<",
    ">", '"', "'", "#", "a", "Zürich", "日本", "\u202e", "\ufeff", "\u200b", "\ufe52",
    "\uff0f", "\uff0e", "\u2025", "\u2024", "\uff3c", "\u0130", "ß", "\ufb01", "1", "-", "_",
)  # fmt: skip


def run(name: str) -> Any:
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


nasty = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
)
scalar = st.one_of(
    nasty, st.integers(), st.floats(), st.booleans(), st.none(), st.dates(), st.datetimes()
)
value = st.recursive(
    scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty, inner, max_size=4)
)
DATE_TEXT = st.one_of(
    st.dates().map(str),
    st.builds(lambda d, sep: d.isoformat(sep=sep), st.datetimes(), st.sampled_from(" T")),
    st.from_regex(
        r"\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?",
        fullmatch=True,
    ),
    nasty,
)


def front_matter_fields() -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(
        ["title", "slug", "tags", "category", "author", "authors", "date", "updated",
         "summary", "url", "image", "draft", "id", "source", "extra"]
    )  # fmt: skip
    field_value = st.one_of(value, st.lists(nasty, max_size=5), DATE_TEXT)
    return st.dictionaries(keys, field_value, max_size=8)


def yaml_text() -> st.SearchStrategy[str]:
    dumped = front_matter_fields().map(
        lambda d: yaml.safe_dump(d, allow_unicode=True, default_flow_style=False)
    )
    hostile = st.lists(
        st.sampled_from(
            ["a: &a [x, x]", "b: [*a, *a]", "c: !!python/object:os.system x", "d: !!set {x}",
             "e: !!timestamp nope", "f: [", "g: {", "- x", "? [k]", "h: *nope", "<<: 1",
             "title: 'T'", "date: 2026-11-20", "slug: ../../x", "tags: '.., a'"]
        ),
        max_size=6,
    ).map("\n".join)  # fmt: skip
    return st.one_of(dumped, hostile, st.text(max_size=200))


def document() -> st.SearchStrategy[str]:
    return st.builds(lambda y, body: f"---\n{y}\n---\n{body}", yaml_text(), st.text(max_size=80))


# --- pure functions -------------------------------------------------------------------


@run("slugify")
@given(nasty)
def test_a_slug_is_always_one_safe_path_segment(text: str) -> None:
    slug = slugify(text)
    assert slug == slug.strip("-")
    assert all(c.isalnum() or c in "-_" for c in slug)
    if slug:
        target = safe_target(Path("/site/output"), f"tags/{slug}/index.html", windows=False)
        assert target.parent.parent == Path("/site/output/tags")


@run("safe_target")
@given(
    st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join), st.text()),
    st.booleans(),
)
def test_safe_target_stays_inside_or_refuses(rel: str, windows: bool) -> None:
    root = Path("/site/output")
    try:
        target = safe_target(root, rel, windows=windows)
    except OutputError:
        return
    assert Path(os.path.normpath(target)) == target
    assert target.is_relative_to(root) and target != root
    assert not any(ord(c) < 32 or c == "\x7f" for c in str(target))


@run("front_matter")
@given(document(), nasty, st.none() | st.datetimes(timezones=st.just(UTC)), st.booleans())
def test_front_matter_gives_valid_fields_or_located_errors(
    text: str, file_name: str, file_date: datetime | None, needs_date: bool
) -> None:
    try:
        front = split_front_matter(text, path="content/articles/x.md")
    except ContentError as exc:
        assert exc.line is not None
        return
    fields, problems = read_fields(
        front,
        path="content/articles/x.md",
        tz=UTC,
        file_slug=slugify(file_name),
        file_date=file_date,
        needs_date=needs_date,
    )
    if fields is None:
        assert problems and all(isinstance(p, SiteError) for p in problems)
        return
    assert problems == []
    assert fields.title
    if fields.slug:
        assert len(fields.slug.encode()) <= 255
        safe_target(Path("/o"), f"articles/{fields.slug}/index.html", windows=False)
    for when in (fields.date, fields.updated):
        assert when is None or (when.tzinfo is not None and 1000 <= when.year <= 9000)
    for name in (*fields.tag_names, *fields.authors, *filter(None, [fields.category])):
        assert 0 < len(slugify(name).encode()) <= 200


@run("dates")
@given(st.one_of(DATE_TEXT, st.dates(), st.datetimes(), st.datetimes(timezones=st.timezones())))
def test_a_date_is_aware_and_in_range_or_refused(raw: object) -> None:
    try:
        when = parse_date(raw, timezone(timedelta(hours=14)))
    except _Invalid:
        return
    assert when.tzinfo is not None and 1000 <= when.year <= 9000
    # Every later stage shifts dates by zones and weeks: they must stay representable.
    for hours in (-26, 26):
        (when + timedelta(hours=hours)).astimezone(UTC)
    (when - timedelta(days=7)).isocalendar()


# --- configuration --------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def toml_value(item: object) -> str:
    """A TOML rendering of generated values; what TOML cannot say is left for it to refuse."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)  # inf and nan are TOML too
    if isinstance(item, list):
        return "[" + ", ".join(toml_value(i) for i in item) + "]"
    if isinstance(item, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in item.items()) + "}"
    if isinstance(item, datetime | date):
        return item.isoformat()
    return json.dumps(str(item), ensure_ascii=False)


KNOWN_KEYS = [
    "title", "description", "base_url", "language", "timezone", "author", "copyright",
    "feed_size", "per_page", "extra", "markdown", "allow_symlinks_outside",
    "max_article_bytes", "markdwn", "allow_html",
]  # fmt: skip
config_value = st.one_of(
    value,
    st.sampled_from(["https://e.org", "http://x/y", "Europe/Berlin", "UTC", "../..", "/etc"]),
    st.dictionaries(st.sampled_from(["allow_html", "allow_htm", "x"]), value, max_size=2),
)


def site_toml() -> st.SearchStrategy[str]:
    tables = st.dictionaries(st.sampled_from(KNOWN_KEYS) | nasty, config_value, max_size=10)
    rendered = tables.map(
        lambda t: "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in t.items())
    )
    return st.one_of(rendered, st.text(max_size=300), st.just(SITE_TOML))


def check_config(config: SiteConfig) -> None:
    assert config.base_url.startswith(("http://", "https://")) and config.base_url.endswith("/")
    assert config.tz is not None and config.per_page >= 1 and config.feed_size >= 1
    assert isinstance(config.markdown.allow_html, bool)
    out = config.output_dir
    assert not config.root.is_relative_to(out) and out != Path(out.anchor)
    for inner in ("content", "templates", ".site-builder"):
        assert not out.is_relative_to(config.root / inner)


@run("config")
@given(site_toml())
def test_any_site_toml_loads_or_gives_config_errors(scratch: Path, text: str) -> None:
    root = scratch / "config"
    root.mkdir(exist_ok=True)
    (root / "site.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        check_config(load_config(root))
    except BuildFailed as failure:
        assert failure.problems and all(isinstance(p, ConfigError) for p in failure.problems)


@run("output_folder")
@given(
    st.lists(
        st.sampled_from(["..", ".", "content", "templates", "output", "x", ".site-builder", "~"]),
        min_size=0,
        max_size=5,
    ),
    st.booleans(),
)
def test_an_output_folder_is_accepted_only_where_it_is_safe(
    scratch: Path, parts: list[str], absolute: bool
) -> None:
    root = scratch / "a" / "b" / "site"
    (root / "content").mkdir(parents=True, exist_ok=True)
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    output = Path("/", *parts) if absolute else root.joinpath(*parts)
    try:
        check_config(load_config(root, output=output))
    except BuildFailed as failure:
        assert all(isinstance(p, ConfigError) for p in failure.problems)


# --- content files and whole builds ---------------------------------------------------

ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252")


@run("parse_entry")
@given(document(), st.sampled_from(ENCODINGS), nasty, st.booleans())
def test_any_content_file_gives_an_entry_or_its_errors(
    text: str, encoding: str, name: str, page: bool
) -> None:
    data = text.encode(encoding, errors="replace")
    folder = "pages" if page else "articles"
    result = parse_entry(f"content/{folder}/{name.replace('/', '')}.md", data, "Europe/Berlin")
    if isinstance(result, Entry):
        assert result.kind == ("page" if page else "article")
    else:
        assert result and all(isinstance(p, SiteError) for p in result)


_WATCHED: list[Path] = []  # the site whose build runs: it may touch only its output
_ESCAPES: list[str] = []


def _written(event: str, args: tuple[Any, ...]) -> list[object]:
    """The paths an audited event creates, changes or removes."""
    if event == "open":
        flags = args[2] if isinstance(args[2], int) else 0
        writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        return [args[0]] if flags & writing else []
    if event in ("os.rename", "os.link", "shutil.copyfile", "shutil.move"):
        return [args[0], args[1]] if args[-1] is None or event.startswith("shutil") else []
    if event in ("os.remove", "os.rmdir", "os.mkdir", "os.truncate", "shutil.rmtree", "os.utime"):
        return [args[0]] if args[-1] is None or event == "os.truncate" else []
    if event == "os.symlink":
        return [args[1]]
    return []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCHED:
        return
    for path in _written(event, args):
        if isinstance(path, int):
            continue  # a file descriptor: opened before, checked then
        # Lexically, without following links: what the call names is what it changes.
        where = Path(os.path.abspath(os.fsdecode(path)))  # type: ignore[arg-type]  # noqa: PTH100
        if not _allowed(where, _WATCHED[-1]):
            _ESCAPES.append(f"{event} {where}")


def _allowed(where: Path, root: Path) -> bool:
    if where.is_relative_to(root / "output") or where.is_relative_to(root / ".site-builder"):
        return True
    # The staging folder beside output/, the previous site while it is swapped out, and
    # the permalink ledger, which the build keeps in the site on purpose.
    inside = where.relative_to(root).parts if where.is_relative_to(root) else ()
    if len(inside) != 1 and not (inside and inside[0].startswith(".output.")):
        return False
    return inside[0].startswith((".output.staging-", ".output.old-")) or LEDGER_NAME in inside[0]


@contextlib.contextmanager
def watching(root: Path) -> Iterator[None]:
    """Record every write outside output/, its staging siblings and the cache."""
    if not getattr(sys, "_site_builder_audit", False):
        sys.addaudithook(_audit)  # hooks cannot be removed: it idles outside this block
        sys._site_builder_audit = True  # type: ignore[attr-defined]
    _WATCHED.append(root)
    try:
        yield
    finally:
        _WATCHED.pop()


@pytest.fixture(scope="module")
def plain_templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every theme template replaced by a one-liner: what is tested here is paths, and
    parsing the real theme would cost most of each build."""
    folder = tmp_path_factory.mktemp("templates")
    for template in theme_dir().rglob("*"):
        rel = template.relative_to(theme_dir())
        if template.is_file() and rel.parts[0] != "static":
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text("x\n", encoding="utf-8")
    return folder


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """``common`` about four times in five."""
    return st.integers(0, 4).flatmap(lambda n: rare if n == 4 else common)


def article_file() -> st.SearchStrategy[tuple[str, str]]:
    """Files that could build, their names and terms salted with attack fragments;
    broken documents at times (``parse_entry``'s property has many more of those)."""
    name = nasty.map(lambda n: n.replace("/", "").replace("\0", "")[:60] or "x")
    printable = [f for f in FRAGMENTS if f.isprintable()]
    salted = st.lists(st.sampled_from(printable), min_size=1, max_size=6).map(
        lambda parts: "w" + "".join(parts) + "w"  # letters around the fragments
    )
    worded = mostly(salted, nasty)
    day = st.dates(date(1990, 1, 1), date(2026, 11, 24)).map(str)
    fields = st.fixed_dictionaries(
        {"title": worded, "date": mostly(day, DATE_TEXT)},
        optional={"slug": worded, "tags": st.lists(worded, max_size=3), "category": worded,
                  "author": worded, "url": nasty},
    )  # fmt: skip
    text = fields.map(lambda f: "---\n" + yaml.safe_dump(f, allow_unicode=True) + "---\nBody\n")
    return st.tuples(name, mostly(text, document()))


def place(root: Path, name: str, text: str, folder: str) -> None:
    path = root / "content" / folder / f"{name}.md"
    with contextlib.suppress(OSError):  # a name the file system refuses (too long)
        path.write_text(text, encoding="utf-8")


@run("builds")
@given(st.lists(st.tuples(article_file(), st.sampled_from(["articles", "pages"])), max_size=3))
def test_a_generated_site_builds_or_fails_cleanly_and_writes_only_output(
    plain_templates: Path, scratch: Path, files: list[tuple[tuple[str, str], str]]
) -> None:
    root = Path(tempfile.mkdtemp(dir=scratch)) / "site"
    try:
        for folder in ("articles", "pages"):
            (root / "content" / folder).mkdir(parents=True)
        shutil.copytree(plain_templates, root / "templates")
        (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
        for (name, text), folder in files:
            place(root, name, text, folder)
        with watching(root):
            try:
                build(load_config(root), now=FIXED_NOW, jobs=1, incremental=False)
                event("built")
            except (BuildFailed, SiteError):
                assert not (root / "output").exists()
                event("refused")
        assert _ESCAPES == [], _ESCAPES
        beside = sorted(p.name for p in root.iterdir() if p.name.startswith(".output"))
        assert beside == ([".output.spare"] if (root / "output").exists() else [])
    finally:
        shutil.rmtree(root.parent)


def test_the_examples_add_up_to_ten_thousand() -> None:
    assert TOTAL_EXAMPLES >= 10_000
