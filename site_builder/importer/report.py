"""Import stage, report: what an import did → the lines ``site-builder import`` prints.

Input is the imported posts, renamed posts, copied files and problems an import
collected; output is text: one line per post, ``path:line: severity: message`` per
problem, and a summary naming the files that need a human.
"""

from __future__ import annotations

from dataclasses import dataclass

from site_builder.errors import SiteError, SiteWarning

_SHOWN_HUMANS = 10  # the summary line names this many files, then counts the rest


class ImportNote(SiteWarning):
    """Something the import changed on purpose that needs no action, e.g. a dropped permalink."""

    severity = "note"


@dataclass(frozen=True, slots=True, kw_only=True)
class Renamed:
    """A post whose URL was taken, so it got a date-based slug instead."""

    source: str  # relative to SRC
    slug: str  # the slug it would have had
    new_slug: str  # YYYY-MM-DD-slug
    taken_by: str  # the post or article that keeps ``slug``


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import did (or, with ``dry_run``, would do) and what needs a human."""

    imported: tuple[tuple[str, str], ...] = ()  # (source relative to SRC, target in the site)
    renamed: tuple[Renamed, ...] = ()
    copied: tuple[tuple[str, str], ...] = ()  # (file in SRC, target in the site)
    was: tuple[tuple[str, str], ...] = ()  # (source, its old URL, which now redirects)
    problems: tuple[SiteError, ...] = ()  # errors, warnings and notes, by file and line
    drafts: int = 0
    dry_run: bool = False
    # One file holds many posts (an export, a feed): a post is its file and line.
    many_per_file: bool = False

    @property
    def failed(self) -> bool:
        """Some post was not imported because of an error."""
        return any(p.severity == "error" for p in self.problems)

    def needs_human(self) -> tuple[str, ...]:
        """Every source file with an error or a warning (a renamed post's old URL
        redirects to its new one, so a rename alone needs no one)."""
        paths = {p.path.as_posix() for p in self.problems if p.path and p.severity != "note"}
        return tuple(sorted(paths))

    def done_lines(self) -> list[str]:
        """One line per imported post, one per renamed post, one per copied file."""
        verb = "would import" if self.dry_run else "imported"
        was = dict(self.was)
        lines = [
            f"{verb} {source} → {target}" + (f" (was {was[source]})" if source in was else "")
            for source, target in self.imported
        ]
        lines += [
            f"renamed {r.source}: /articles/{r.slug}/ is taken by {r.taken_by}; "
            f"its URL is /articles/{r.new_slug}/"
            for r in self.renamed
        ]
        copy = "would copy" if self.dry_run else "copied"
        lines += [f"{copy} {source} → {target}" for source, target in self.copied]
        return lines

    def summary(self) -> str:
        """``Imported N posts (M drafts); K need a human: ...``."""
        count = len(self.imported)
        head = f"{'Would import' if self.dry_run else 'Imported'} {_count(count, 'post')}"
        head += f" ({_count(self.drafts, 'draft')})"
        failed = {
            (p.path, p.line if self.many_per_file else None)
            for p in self.problems
            if p.severity == "error"
        }
        if failed:
            head += f", {len(failed)} failed"
        humans = self.needs_human()
        if not humans:
            return f"{head}; none need a human"
        shown = ", ".join(humans[:_SHOWN_HUMANS])
        if len(humans) > _SHOWN_HUMANS:
            shown += f" and {len(humans) - _SHOWN_HUMANS} more"
        verb = "needs" if len(humans) == 1 else "need"
        return f"{head}; {len(humans)} {verb} a human: {shown}"

    def text(self) -> str:
        """The whole report as ``site-builder import`` prints it."""
        lines = [*self.done_lines(), *(p.report() for p in self.problems), self.summary()]
        return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
