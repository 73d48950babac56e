"""Permanent ids stage: placed entries and ``permalinks.json`` → each article's feed id
and the redirects from its old addresses; and the ledger written back.

A multilingual site keeps one ledger per language (``permalinks.<code>.json``): the
same story has its own id and its own old addresses in each.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from site_builder.config import SiteConfig
from site_builder.errors import ContentError, SiteError
from site_builder.model import Entry
from site_builder.permalinks import Placed, Reconciled, ledger_name, parse_ledger, reconcile
from site_builder.site import entry_url, visible_entries


def ledger_file(config: SiteConfig) -> str:
    """The name of the ledger of ``config``'s language, beside site.toml."""
    return ledger_name(config.language if config.language_path else "")


def _aliases(entry: Entry) -> tuple[tuple[str, ...], list[SiteError]]:
    value = entry.extra.get("aliases", [])
    if isinstance(value, list) and all(isinstance(v, str) and v.startswith("/") for v in value):
        return tuple(value), []
    line = entry.key_lines.get("aliases", 1)
    return (), [
        ContentError(
            f"aliases: {value!r} is not a list of site paths",
            path=entry.source_path,
            line=line,
            hint="write e.g. aliases: [/2021/08/old-name/]",
        )
    ]


def give_ids(
    entries: Sequence[Entry], config: SiteConfig, now: datetime
) -> tuple[list[Entry], Reconciled | None, list[SiteError]]:
    """Give each published article its permanent feed id from the ledger."""
    name = ledger_file(config)
    try:
        ledger = parse_ledger((config.root / name).read_text(encoding="utf-8"), name)
    except FileNotFoundError:
        ledger = ()
    except ContentError as exc:
        return list(entries), None, [exc]
    shown = [e for e in visible_entries(entries, config, now)[0] if e.kind == "article"]
    problems: list[SiteError] = []
    placed = []
    for entry in shown:
        aliases, alias_problems = _aliases(entry)
        problems += alias_problems
        placed.append(
            Placed(
                default_id=config.absolute(entry_url(entry)),
                source=entry.source_path,
                url=entry_url(entry),
                title=entry.title,
                pinned_id=entry.feed_id,
                aliases=aliases,
                aliases_line=entry.key_lines.get("aliases", 1),
            )
        )
    known = reconcile(placed, ledger)
    ids = known.ids
    updated = [
        replace(e, feed_id=ids[e.source_path]) if e.source_path in ids else e for e in entries
    ]
    return updated, known, [*problems, *known.problems]


def save_ledger(config: SiteConfig, name: str, text: str) -> bool:
    """Update the ledger ``name`` only when it changed; say whether it did."""
    path = config.root / name
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)  # a build killed mid-write must not leave half a ledger
    return True
