"""Search stage, its first step: the marked pages of a built output folder → a glob
telling Pagefind which files to read, the folders and files that hold every marked page
and few others (Pagefind's own default reads every HTML file of the site).
"""

from __future__ import annotations

import re

_WASTE = 8  # a folder is read whole when at most one in this many of its pages is unmarked
_MAX_TERMS = 64  # a glob of more folders and files than this: Pagefind reads every page
_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]")  # in a glob: "?" matches it (and more)


class _Folders:
    """The output's folders, each with how many marked and unmarked pages it holds."""

    def __init__(self, marked: set[str], unmarked: set[str]) -> None:
        self.counts: dict[str, list[int]] = {}
        self.children: dict[str, set[str]] = {}
        self.marked: dict[str, list[str]] = {}  # the marked pages right in each folder
        for rel in marked:
            self.marked.setdefault(rel.rpartition("/")[0], []).append(rel)
            self._count(rel, 0)
        for rel in unmarked:
            self._count(rel, 1)

    def _count(self, rel: str, kind: int) -> None:
        folder = rel.rpartition("/")[0]
        while True:
            self.counts.setdefault(folder, [0, 0])[kind] += 1
            if not folder:
                return
            parent = folder.rpartition("/")[0]
            self.children.setdefault(parent, set()).add(folder)
            folder = parent

    def terms(self, folder: str) -> list[str]:
        """Glob terms matching every marked page in ``folder``."""
        marked, unmarked = self.counts.get(folder, (0, 0))
        if not marked:
            return []
        if unmarked * _WASTE <= marked:
            return [_UNSAFE.sub("?", f"{folder}/" if folder else "") + "**/*.html"]
        found = [_UNSAFE.sub("?", rel) for rel in sorted(self.marked.get(folder, ()))]
        for child in sorted(self.children.get(folder, ())):
            found += self.terms(child)
        return found


def cover(marked: set[str], unmarked: set[str]) -> str | None:
    """A glob matching every marked page and few others; ``None``: every page.

    Reading more pages than the marked ones changes nothing but the time it takes:
    Pagefind drops a page without the attribute once one page has it."""
    terms = _Folders(marked, unmarked).terms("")
    if len(terms) > _MAX_TERMS or terms == ["**/*.html"]:
        return None
    return terms[0] if len(terms) == 1 else "{" + ",".join(terms) + "}"
