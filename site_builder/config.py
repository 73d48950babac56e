"""Configuration stage: ``site.toml`` and command-line overrides → a frozen ``SiteConfig``."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from site_builder.errors import BuildFailed, ConfigError

CONFIG_NAME = "site.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """The site's settings and where its files live. Paths are absolute."""

    root: Path
    title: str
    description: str = ""
    base_url: str  # always ends with "/"
    language: str = "en"
    timezone: str = "UTC"
    author: str = ""
    copyright: str = ""
    feed_size: int = 20
    per_page: int = 10
    output_dir: Path
    drafts: bool = False
    future: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """The URL path the site lives under: "/" or "/project/"."""
        return urlsplit(self.base_url).path or "/"

    def fingerprint(self) -> str:
        """Every setting that shapes output, without where the site happens to live."""
        shown = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("root", "output_dir")
        }
        return repr(sorted(shown.items(), key=lambda kv: kv[0]))

    def absolute(self, site_path: str) -> str:
        """The full URL of a site-relative path such as ``/articles/x/``."""
        return self.base_url + site_path.lstrip("/")


def _text(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {value!r}")
        return value.strip()

    return check


def _count(name: str, low: int, high: int) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    return check


def _timezone(value: object) -> object:
    name = _text("timezone")(value)
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone: {value!r} is not a time zone; expected a name such as 'Europe/Berlin'"
        ) from None
    return name


def _base_url(value: object) -> object:
    url = str(_text("base_url")(value))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"base_url: {value!r} is not an absolute http(s) URL; "
            "expected e.g. 'https://news.example.org/'"
        )
    return url if url.endswith("/") else url + "/"


def _table(name: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if not isinstance(value, dict):
            raise ValueError(f"{name}: expected a table, got {value!r}")
        return value

    return check


_FIELDS: dict[str, Callable[[object], object]] = {
    "title": _text("title"),
    "description": _text("description"),
    "base_url": _base_url,
    "language": _text("language"),
    "timezone": _timezone,
    "author": _text("author"),
    "copyright": _text("copyright"),
    "feed_size": _count("feed_size", 1, 10_000),
    "per_page": _count("per_page", 1, 1_000),
    "extra": _table("extra"),
}
_REQUIRED = ("title", "base_url")


def _key_line(text: str, key: str) -> int | None:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _parse_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no {CONFIG_NAME} here",
            path=path.name,
            hint="run 'site-builder init DIR' to start a site, or pass --source DIR",
        ) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {CONFIG_NAME}: {exc}", path=path.name) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        line, col = (int(found[1]), int(found[2])) if found else (None, None)
        raise ConfigError(
            f"invalid TOML: {message}", path=path.name, line=line, column=col
        ) from None


def _validate(raw: Mapping[str, Any], text: str) -> tuple[dict[str, object], list[ConfigError]]:
    values: dict[str, object] = {}
    problems: list[ConfigError] = []
    for key, value in raw.items():
        check = _FIELDS.get(key)
        if check is None:
            close = difflib.get_close_matches(key, _FIELDS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(_FIELDS)}"
            problems.append(
                ConfigError(
                    f"unknown key '{key}'", path=CONFIG_NAME, line=_key_line(text, key), hint=hint
                )
            )
            continue
        try:
            values[key] = check(value)
        except ValueError as exc:
            problems.append(ConfigError(str(exc), path=CONFIG_NAME, line=_key_line(text, key)))
    for key in _REQUIRED:
        if key not in raw:
            problems.append(
                ConfigError(
                    f"{key}: required key is missing",
                    path=CONFIG_NAME,
                    hint=f'add a line such as {key} = "..."',
                )
            )
    return values, problems


def _check_output(root: Path, output: Path) -> None:
    """Refuse output folders whose replacement would destroy the site's own files."""
    if root.is_relative_to(output):
        raise ConfigError(
            f"output directory {output.as_posix()!r} contains the site itself",
            hint="choose a folder inside the site, e.g. output/",
        )
    for inner in (root / "content", root / "templates"):
        if output.is_relative_to(inner) or inner.is_relative_to(output):
            raise ConfigError(
                f"output directory {output.name!r} overlaps {inner.name}/",
                hint="choose an output folder outside content/ and templates/, e.g. output/",
            )


def load_config(
    root: Path,
    *,
    output: Path | None = None,
    base_url: str | None = None,
    drafts: bool = False,
    future: bool = False,
) -> SiteConfig:
    """Read ``root/site.toml``; raise ``BuildFailed`` with every problem found."""
    root = root.resolve()
    try:
        raw, text = _parse_toml(root / CONFIG_NAME)
    except ConfigError as exc:
        raise BuildFailed([exc]) from None
    override = base_url or os.environ.get("SITE_BASE_URL")
    if override:
        raw = {**raw, "base_url": override}
    values, problems = _validate(raw, text)
    out = (output if output is not None else root / "output").resolve()
    try:
        _check_output(root, out)
    except ConfigError as exc:
        problems.append(exc)
    if problems:
        raise BuildFailed(problems)
    return SiteConfig(root=root, output_dir=out, drafts=drafts, future=future, **values)  # type: ignore[arg-type]
