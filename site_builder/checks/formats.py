"""The check's reports: problems as terminal text, JSON or GitHub annotations.

Input: the ``SiteError`` and ``SiteWarning`` values a check found. Output: text in the
format asked for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from site_builder.errors import SiteError

Format = Literal["text", "json", "github"]


def format_problems(problems: Sequence[SiteError], fmt: Format, *, prefix: str = "") -> str:
    """Problems as terminal text, a JSON array, or GitHub Actions annotations.

    ``prefix`` goes before each path in annotations, e.g. ``"site/"`` when the site is
    a folder of the repository: GitHub places annotations by repository path.
    """
    if fmt == "json":
        return json.dumps([_as_json(p) for p in problems], ensure_ascii=False, indent=2)
    if fmt == "github":
        return "\n".join(_annotation(p, prefix) for p in problems)
    return "\n".join(p.report() for p in problems)


def _as_json(problem: SiteError) -> dict[str, object]:
    return {
        "severity": problem.severity,
        "path": problem.path.as_posix() if problem.path is not None else None,
        "line": problem.line,
        "column": problem.column,
        "message": problem.message,
        "hint": problem.hint,
    }


def _escape_data(text: str) -> str:
    # GitHub's workflow-command escapes; "%" first so the others are not escaped twice.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(problem: SiteError, prefix: str) -> str:
    """``::error file=PATH,line=N,col=M::message``, the hint on a second line."""
    properties = []
    if problem.path is not None:
        properties.append(f"file={_escape_property(prefix + problem.path.as_posix())}")
    if problem.line is not None:
        properties.append(f"line={problem.line}")
    if problem.column is not None:
        properties.append(f"col={problem.column}")
    text = problem.message + (f"\nhint: {problem.hint}" if problem.hint else "")
    head = f"::{problem.severity} {','.join(properties)}" if properties else f"::{problem.severity}"
    return f"{head}::{_escape_data(text)}"
