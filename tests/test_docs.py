"""The README and docs/: the two quick-start commands, a README that fits on two
screens and links every document, links and anchors that lead somewhere, and every
command-line option documented in docs/cli.md."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from site_builder.cli import parser
from tests.conftest import REPO

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
DOCUMENTS = [README, *DOCS, REPO / "SECURITY.md", REPO / "benchmarks" / "README.md"]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """A Markdown file without its code blocks."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchors(path: Path) -> set[str]:
    """The ids GitHub gives the headings of a Markdown file."""
    found = set()
    for line in prose(path).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_the_quick_start_is_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [
        line.split("#", 1)[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", quick, re.DOTALL)
        for line in block.splitlines()
    ]
    assert commands == ["python3 tasks.py serve", "python3 tasks.py test"]


def test_the_readme_fits_on_two_screens_and_links_every_document() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 100
    linked = set(LINK.findall(text))
    assert {f"docs/{doc.name}" for doc in DOCS} <= linked


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_and_anchors_lead_somewhere(document: Path) -> None:
    for target in LINK.findall(prose(document)):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (document.parent / file).resolve() if file else document
        assert linked.is_file(), f"{document.name}: {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{document.name}: {target}"


def commands(
    top: argparse.ArgumentParser, prefix: str = "site-builder"
) -> dict[str, argparse.ArgumentParser]:
    """Every command line's parser, by the words that name it (``site-builder sources import``)."""
    found = {}
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix} {name}"] = sub
                found.update(commands(sub, f"{prefix} {name}"))
    return found


def test_every_command_and_option_is_in_docs_cli() -> None:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for words, command in commands(parser()).items():
        assert words in text, words
        for action in command._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert option in text, f"{words} {option}"
