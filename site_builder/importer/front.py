"""Import stage, front matter: one source file's text → its metadata, body and key lines.

Input is the text of a post written for another generator (YAML, TOML or JSON front
matter); output is a ``Front`` and a ``Mapper`` that takes keys out of it, noting each
problem at its key's line. Dates in any form those generators accept become ISO 8601.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

from site_builder.errors import ContentError, SiteError
from site_builder.frontmatter import split_front_matter

DATE_FORMS = "expected 2012-03-01, 2012-03-01 12:00:00 +0000 or 2012-03-01T12:00:00Z"
_DATE_TEXT = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_TOML_PLACE = re.compile(r"(.*) \(at (?:line (\d+), column (\d+)|end of document)\)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Front:
    """One source file split into front matter (YAML, TOML or JSON) and body."""

    meta: dict[str, Any]
    text: str  # the front matter as written, to find a key's line
    first_line: int  # the file line ``text`` starts on
    body: str
    body_line: int
    start: int = 1  # where a key that is not written in ``text`` is reported (an XML item)

    def line_of(self, key: str) -> int:
        """The file line of a top-level ``key``; ``start`` when it is not there."""
        pattern = rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[:=]"
        found = re.search(pattern, self.text, re.MULTILINE | re.IGNORECASE)  # Hugo: any case
        return self.first_line + self.text.count("\n", 0, found.start()) if found else self.start


def split(text: str, source: str) -> Front:
    first = text.split("\n", 1)[0].rstrip()
    if first == "---":
        front = split_front_matter(text, path=source)
        return Front(
            meta=front.meta,
            text=front.yaml_text,
            first_line=2,
            body=front.body,
            body_line=front.body_line,
        )
    if first == "+++":
        return _split_toml(text, source)
    if first.startswith("{") and not first.startswith("{{"):  # "{{<" opens a shortcode
        return _split_json(text, source)
    # Both engines accept a file without front matter; its name supplies what it can.
    return Front(meta={}, text="", first_line=1, body=text, body_line=1)


def _split_toml(text: str, source: str) -> Front:
    lines = text.split("\n")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "+++"), None)
    if end is None:
        raise ContentError(
            "front matter is not closed; expected a '+++' line after the TOML", path=source, line=1
        )
    toml_text = "\n".join(lines[1:end])
    try:
        meta = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts the place in its message: "(at line 3, column 7)", "(at end of document)"
        found = _TOML_PLACE.fullmatch(str(exc))
        message, line, column = found.groups() if found else (str(exc), None, None)
        raise ContentError(
            f"invalid TOML in front matter: {message}",
            path=source,
            line=int(line) + 1 if line else end,  # a file line; else the last line of the TOML
            column=int(column) if column else None,
        ) from None
    return Front(
        meta=meta, text=toml_text, first_line=2, body="\n".join(lines[end + 1 :]), body_line=end + 2
    )


def _split_json(text: str, source: str) -> Front:
    try:
        meta, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise ContentError(
            f"invalid JSON in front matter: {exc.msg}",
            path=source,
            line=exc.lineno,
            column=exc.colno,
        ) from None
    body, body_line = text[end:], text.count("\n", 0, end) + 1
    if body.startswith("\n"):
        body, body_line = body[1:], body_line + 1
    return Front(meta=meta, text=text[:end], first_line=1, body=body, body_line=body_line)


def normalize_date(value: object) -> str:
    """ISO 8601 text for a date in any form the two engines accept; ``ValueError`` if none.

    A date stays a date (``2012-03-01``); a time without a zone stays without one, so
    this site reads it in its own time zone, as the old site did in its.
    """
    if isinstance(value, datetime):  # TOML's, or YAML's when loaded elsewhere
        return _whole_minutes(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not (found := _DATE_TEXT.fullmatch(value.strip())):
        raise ValueError(value)
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    if hour is None:
        return date(int(year), int(month), int(day)).isoformat()
    micro = int((fraction or ".0")[1:].ljust(6, "0")[:6])
    return datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second or 0),
        micro,
        tzinfo=_zone(zone),
    ).isoformat()


def _whole_minutes(moment: datetime) -> datetime:
    """Old zones (Abidjan in 1912: -00:16:08) have offsets no date line can write: use UTC."""
    offset = moment.utcoffset()
    if offset is None or not offset % timedelta(minutes=1):
        return moment
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999
        raise ValueError(moment) from None


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Mapper:
    """Takes keys out of one post's front matter, noting each problem at its key's line."""

    def __init__(self, front: Front, source: str) -> None:
        self.rest: dict[str, Any] = dict(front.meta)
        self.front, self.source = front, source
        self.problems: list[SiteError] = []

    def add(self, kind: type[SiteError], key: str, message: str) -> None:
        self.problems.append(kind(message, path=self.source, line=self.front.line_of(key)))

    def take(self, *keys: str) -> tuple[str, object] | None:
        """The first of ``keys`` that has a value; keys before it (empty) go too."""
        for key in keys:
            value = self.rest.pop(key, None)
            if value is not None:
                return key, value
        return None

    def text(self, *keys: str) -> str | None:
        taken = self.take(*keys)
        if taken is None:
            return None
        key, value = taken
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(ContentError, key, f"{key}: {show(value)} is not text")
            return None
        return str(value).strip() or None

    def date(self, *keys: str) -> str | None:
        taken = self.take(*keys)
        if taken is None:
            return None
        key, value = taken
        try:
            return normalize_date(value)
        except ValueError:
            self.add(ContentError, key, f"{key}: {show(value)} is not a date; {DATE_FORMS}")
            return None

    def words(self, key: str, *, split: bool) -> list[str]:
        """A list, or a string: Jekyll splits it at spaces, Hugo takes it as one name."""
        taken = self.take(key)
        if taken is None:
            return []
        value = taken[1]
        items: list[object] = [value]
        if isinstance(value, str) and split:  # "news, foundation" means two, not "news,"
            items = [word for word in re.split(r"[\s,]+", value) if word]
        elif isinstance(value, list):
            items = value
        if any(isinstance(item, bool) or not isinstance(item, str | int | float) for item in items):
            self.add(ContentError, key, f"{key}: {show(value)} is not a list of names")
            return []
        return [text for item in items if (text := str(item).strip())]

    def flag(self, key: str) -> bool:
        taken = self.take(key)
        return taken is not None and taken[1] is True
