"""After any sequence of edits, an incremental build is byte-identical to a clean build.

Hypothesis draws sequences of the edits an editor makes (add, retitle, redate, retag,
rewrite, rename, delete an article; edit a template, a static file, site.toml). Each
sequence is applied to two copies of one site: one rebuilt by `build` (planned in
full, or after text edits from what the last build kept, written through the
spare), one by the preview's in-place rebuilds. After every step both must equal a
clean build of the same files.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.build import build
from site_builder.config import load_config, theme_dir
from site_builder.errors import BuildFailed
from site_builder.live import LiveBuild
from tests.conftest import FIXED_NOW, SITE_TOML, write_files
from tests.test_output_safety import snapshot

TAGS = ("ai", "chips", "cloud", "security", "open source")
CATEGORIES = ("Hardware", "Software", "Policy")
AUTHORS = ("Ada Byte", "Lin Kernel")
DAYS = ("2026-10-30", "2026-11-02", "2026-11-03", "2026-11-09", "2026-11-16", "2026-11-23")
WORDS = ("chip", "cloud", "patch", "kernel", "model", "browser", "release", "ünïcode")


def article(rng: random.Random, title: str, day: str) -> dict[str, Any]:
    return {
        "title": title,
        "date": f"{day} {rng.randrange(6, 22):02d}:{rng.choice(('00', '30'))}",
        "tags": rng.sample(TAGS, rng.randrange(0, 3)),
        "category": rng.choice(CATEGORIES),
        "author": rng.choice(AUTHORS),
        "summary": None,
        "body": [sentence(rng)],
    }


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 12))).capitalize() + "."


def render(fields: dict[str, Any]) -> str:
    lines = ["---", f"title: {fields['title']!r}", f"date: {fields['date']}"]
    lines.append(f"tags: [{', '.join(str(t) for t in fields['tags'])}]")
    lines += [f"category: {fields['category']}", f"author: {fields['author']}"]
    if fields["summary"]:
        lines.append(f"summary: {fields['summary']!r}")
    body = "\n\n".join(fields["body"])
    return "\n".join([*lines, "---", "", body, ""])


class Site:
    """The site's articles as fields, and the edits that change them on disk."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.articles = {
            f"story-{n}": article(rng, f"Story {n}", rng.choice(DAYS)) for n in range(6)
        }
        self.next_name = 6
        self.files: dict[str, str] = {
            "site.toml": SITE_TOML,
            "content/pages/about.md": "---\ntitle: About\n---\n\nUs.\n",
            "content/digests/2026-w45.md": "---\ntitle: Week of chips\n---\n\nIntro.\n",
            "templates/static/extra.css": "body { color: #111; }\n",
        }
        self.gone: list[str] = []
        self.touched: list[str] = []
        for name in self.articles:
            self.files[f"content/articles/{name}.md"] = render(self.articles[name])

    def apply(self, edit: str) -> None:
        """Change the files as ``edit`` says; note which paths changed."""
        self.touched = []
        if edit in ARTICLE_EDITS and self.articles:
            name = self.rng.choice(sorted(self.articles))
            ARTICLE_EDITS[edit](self, name)
            self._store(name)
        elif edit in SITE_EDITS:
            SITE_EDITS[edit](self)

    def _store(self, name: str) -> None:
        rel = f"content/articles/{name}.md"
        if name in self.articles:
            self.files[rel] = render(self.articles[name])
        self.touched.append(rel)

    def write(self, root: Path) -> None:
        """Save the files that changed, as an editor does: the others keep their stat."""
        for rel in self.gone:
            (root / rel).unlink(missing_ok=True)
        write_files(
            root, {rel: text for rel, text in self.files.items() if _read(root / rel) != text}
        )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _retitle(site: Site, name: str) -> None:
    site.articles[name]["title"] = sentence(site.rng)[:40].rstrip(".")


def _redate(site: Site, name: str) -> None:
    site.articles[name]["date"] = f"{site.rng.choice(DAYS)} 12:{site.rng.randrange(60):02d}"


def _retag(site: Site, name: str) -> None:
    site.articles[name]["tags"] = site.rng.sample(TAGS, site.rng.randrange(0, 4))


def _refile(site: Site, name: str) -> None:
    site.articles[name]["category"] = site.rng.choice(CATEGORIES)
    site.articles[name]["author"] = site.rng.choice(AUTHORS)


def _rewrite(site: Site, name: str) -> None:
    extra = site.rng.choice(
        [sentence(site.rng), f"## {sentence(site.rng)}", "```python\nprint('x')\n```"]
    )
    site.articles[name]["body"] = [*site.articles[name]["body"], extra]


def _summarise(site: Site, name: str) -> None:
    site.articles[name]["summary"] = site.rng.choice([None, sentence(site.rng)])


def _rename(site: Site, name: str) -> None:
    _delete(site, name, keep=True)


def _delete(site: Site, name: str, *, keep: bool = False) -> None:
    rel = f"content/articles/{name}.md"
    fields = site.articles.pop(name)
    del site.files[rel]
    site.gone.append(rel)
    site.touched.append(rel)
    if keep:
        new = f"story-{site.next_name}"
        site.next_name += 1
        site.articles[new] = fields
        site._store(new)


def _add(site: Site) -> None:
    new = f"story-{site.next_name}"
    site.next_name += 1
    site.articles[new] = article(site.rng, f"New story {new}", site.rng.choice(DAYS))
    site._store(new)


def _edit_template(site: Site) -> None:
    rel = "templates/article.html"
    original = (theme_dir() / "article.html").read_text(encoding="utf-8")
    site.files[rel] = original.replace("{% block content %}", "{% block content %}<!-- v -->", 1)
    site.files[rel] += f"\n{{# edit {site.rng.random()} #}}\n"
    site.touched.append(rel)


def _edit_static(site: Site) -> None:
    site.files["templates/static/extra.css"] = (
        f"body {{ color: #{site.rng.randrange(999):03d}; }}\n"
    )
    site.touched.append("templates/static/extra.css")


def _edit_config(site: Site) -> None:
    per_page = site.rng.choice((2, 3, 4))
    site.files["site.toml"] = SITE_TOML.replace("per_page = 3", f"per_page = {per_page}").replace(
        "A site made by a test", site.rng.choice(("A site made by a test", "Another line"))
    )
    site.touched.append("site.toml")


ARTICLE_EDITS: dict[str, Callable[[Site, str], None]] = {
    "retitle": _retitle,
    "redate": _redate,
    "retag": _retag,
    "refile": _refile,
    "rewrite": _rewrite,
    "summarise": _summarise,
    "rename": _rename,
    "delete": _delete,
}
SITE_EDITS: dict[str, Callable[[Site], None]] = {
    "add": _add,
    "template": _edit_template,
    "static": _edit_static,
    "config": _edit_config,
}
# Text edits are the common case while writing: drawn more often.
EDITS = [*ARTICLE_EDITS, *SITE_EDITS, "retitle", "rewrite", "rewrite", "summarise"]


@contextmanager
def folders() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="edit-sequences-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean(site: Site, root: Path) -> dict[str, bytes] | None:
    """A clean build of the same files, in a site folder of its own."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    site.write(root)
    try:
        build(load_config(root), now=FIXED_NOW, incremental=False)
    except BuildFailed:
        return None
    return snapshot(root / "output")


def rebuilt(run: Callable[[], object], root: Path) -> dict[str, bytes] | None:
    try:
        run()
    except BuildFailed:
        return None
    return snapshot(root / "output")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32), edits=st.lists(st.sampled_from(EDITS), min_size=1, max_size=6))
def test_any_edit_sequence_rebuilds_to_the_clean_build(seed: int, edits: list[str]) -> None:
    site = Site(random.Random(seed))
    with folders() as tmp:
        cli_root, live_root = tmp / "cli", tmp / "live"
        for root in (cli_root, live_root):
            root.mkdir()
            site.write(root)
        build(load_config(cli_root), now=FIXED_NOW)
        live = LiveBuild(load_config(live_root))
        live.rebuild(FIXED_NOW)
        for step, edit in enumerate(edits):
            site.apply(edit)
            for root in (cli_root, live_root):
                site.write(root)
            expected = clean(site, tmp / "clean")
            by_cli = rebuilt(partial(build, load_config(cli_root), now=FIXED_NOW), cli_root)
            if "site.toml" in site.touched:  # as the preview server does: a new config
                live = LiveBuild(load_config(live_root))
            by_live = rebuilt(partial(live.rebuild, FIXED_NOW, list(site.touched)), live_root)
            where = f"after {edits[: step + 1]} (seed {seed})"
            if expected is None:
                assert by_cli is None and by_live is None, f"only the clean build failed {where}"
                continue
            assert by_cli is not None and by_live is not None, f"a rebuild failed {where}"
            assert differing(by_cli, expected) == [], f"build differs from a clean build {where}"
            assert differing(by_live, expected) == [], f"preview differs from a clean one {where}"


def differing(got: dict[str, bytes], expected: dict[str, bytes]) -> list[str]:
    return sorted(path for path in {*got, *expected} if got.get(path) != expected.get(path))
