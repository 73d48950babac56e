"""Sources: site.toml's ``[[sources]]`` or an OPML file, and ``sources import``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from site_builder.config import FeedSource, SiteConfig
from site_builder.errors import ConfigError, ContentError, SiteError, SiteWarning
from site_builder.inbox import write_atomic
from site_builder.ingest.drafts import MAX_TITLE
from site_builder.ingest.parse import CONTROL, clean
from site_builder.site import source_identity


def read_opml(data: bytes, where: str) -> tuple[list[FeedSource], list[SiteError]] | SiteError:
    """The feed subscriptions of an OPML document (outlines with an ``xmlUrl``)."""
    from lxml import etree  # noqa: PLC0415 - only ingest and import read OPML

    # No entities expanded, no DTD or network fetched: the file may come from anywhere.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        lineno: object = exc.lineno
        line = lineno if isinstance(lineno, int) else None
        return ContentError(f"not well-formed XML: {exc.msg}", path=where, line=line)
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        return ContentError("not an OPML file: its root element is not <opml>", path=where, line=1)
    body = next((e for e in root if _local(e) == "body"), None)
    if body is None:
        return ContentError("OPML file without a <body>", path=where, line=_line_of(root))
    found: list[FeedSource] = []
    problems: list[SiteError] = []
    _outlines(body, None, where, found, problems)
    return found, problems


def _line_of(element: Any) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _outlines(
    parent: Any, folder: str | None, where: str, found: list[FeedSource], problems: list[SiteError]
) -> None:
    for outline in (e for e in parent if _local(e) == "outline"):
        attrs = {str(k).lower(): clean(str(v)) for k, v in outline.attrib.items()}
        text = attrs.get("text") or attrs.get("title") or ""
        url = attrs.get("xmlurl", "")
        if not url:
            _outlines(outline, text or folder, where, found, problems)
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(
                SiteWarning(
                    f"outline {text!r}: xmlUrl {url!r} is not an http(s) URL; left out",
                    path=where,
                    line=_line_of(outline),
                )
            )
            continue
        name = text or (parts.hostname or url).removeprefix("www.")
        found.append(FeedSource(name=name[:MAX_TITLE], url=url, category=folder))


def site_sources(config: SiteConfig) -> tuple[FeedSource, ...] | SiteError:
    """The sources site.toml lists, or those of the OPML file it names."""
    if not isinstance(config.sources, str):
        return config.sources
    try:
        data = (config.root / config.sources).read_bytes()
    except OSError as exc:
        return ConfigError(f"sources: cannot read {config.sources!r}: {exc.strerror}")
    read = read_opml(data, config.sources)
    if isinstance(read, SiteError):
        return read
    return tuple(read[0])


def pick_sources(sources: Sequence[FeedSource], only: str | None) -> list[FeedSource] | SiteError:
    if only is None:
        return list(sources)
    chosen = [s for s in sources if s.name.casefold() == only.casefold()]
    if not chosen:
        names = ", ".join(repr(s.name) for s in sources) or "none"
        return ConfigError(f"--from: no source named {only!r}", hint=f"the sources: {names}")
    return chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcesImport:
    added: tuple[FeedSource, ...]
    already: int
    problems: tuple[SiteError, ...]


def _toml_text(value: str) -> str:
    # JSON's string escapes are TOML's; control characters were removed before.
    return json.dumps(CONTROL.sub("", value), ensure_ascii=False)


def _table(source: FeedSource) -> str:
    lines = [
        "",
        "[[sources]]",
        f"name = {_toml_text(source.name)}",
        f"url = {_toml_text(source.url)}",
    ]
    if source.category:
        lines.append(f"category = {_toml_text(source.category)}")
    return "\n".join(lines) + "\n"


def import_sources(config: SiteConfig, opml: Path, site_toml: Path) -> SourcesImport | SiteError:
    """Append the OPML file's feeds to site.toml as ``[[sources]]`` tables, once each."""
    if isinstance(config.sources, str):
        return ConfigError(
            f"sources: site.toml reads its sources from {config.sources!r}",
            path=site_toml.name,
            hint=f"add the feeds to {config.sources}, or replace that line with [[sources]] tables",
        )
    try:
        data = opml.read_bytes()
    except OSError as exc:
        return ContentError(f"cannot read: {exc.strerror}", path=opml.as_posix())
    read = read_opml(data, opml.as_posix())
    if isinstance(read, SiteError):
        return read
    found, problems = read
    have = {source_identity(s.url) for s in config.sources}
    added: list[FeedSource] = []
    for source in found:
        if source_identity(source.url) not in have:
            have.add(source_identity(source.url))
            added.append(source)
    if added:
        text = site_toml.read_text(encoding="utf-8")
        text = (text if text.endswith("\n") or not text else text + "\n") + "".join(
            map(_table, added)
        )
        write_atomic(site_toml, text)
    return SourcesImport(
        added=tuple(added), already=len(found) - len(added), problems=tuple(problems)
    )


def sources_lines(result: SourcesImport) -> Iterable[str]:
    for source in result.added:
        yield f"added  {source.name}  {source.url}"
    yield (
        f"Sources: {len(result.added)} added to site.toml, {result.already} already there"
        + (f", {len(result.problems)} outlines left out" if result.problems else "")
    )
