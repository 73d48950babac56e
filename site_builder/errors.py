"""Errors: problems in the user's site, as values that carry their location."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class SiteError(Exception):
    """A problem in the user's site, reported as ``path:line:col: error: message``."""

    severity = "error"

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line, self.column, self.hint = line, column, hint

    def location(self) -> str:
        """``path:line:col`` with the parts that are known, or an empty string."""
        parts = [self.path.as_posix()] if self.path is not None else []
        parts += [str(n) for n in (self.line, self.column) if n is not None]
        return ":".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{self.severity}: {self.message}"
        return f"{where}: {text}" if where else text

    def report(self) -> str:
        """The compiler-style line plus the hint, as a terminal shows it."""
        return f"{self}\n  hint: {self.hint}" if self.hint else str(self)

    def sort_key(self) -> tuple[str, int, int, str]:
        path = self.path.as_posix() if self.path is not None else ""
        return (path, self.line or 0, self.column or 0, self.message)


class ConfigError(SiteError):
    """A problem in ``site.toml`` or in the command-line options."""


class ContentError(SiteError):
    """A problem in a file under ``content/``."""


class TemplateError(SiteError):
    """A problem in a Jinja template, located in the template file."""


class SiteWarning(SiteError):
    """Something suspicious that still builds; ``--strict`` makes it an error."""

    severity = "warning"


def as_errors(problems: Iterable[SiteError]) -> list[SiteError]:
    """``--strict``: every warning becomes an error, in the same place with the same text
    (reported as a warning, the line that failed the build said it did not)."""
    return [
        SiteError(p.message, path=p.path, line=p.line, column=p.column, hint=p.hint)
        if isinstance(p, SiteWarning)
        else p
        for p in problems
    ]


class BuildFailed(Exception):
    """A build stopped before writing anything, with every problem it found."""

    def __init__(self, problems: Iterable[SiteError]) -> None:
        # One template bug fails every page that uses it: report it once.
        unique = {(p.sort_key(), p.severity): p for p in problems}
        self.problems = tuple(sorted(unique.values(), key=SiteError.sort_key))
        super().__init__(f"{len(self.problems)} problem(s)")
