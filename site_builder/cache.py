"""Build cache: what the last build wrote, so the next one rewrites only what changed.

The manifest maps each output path to the key of the inputs it was made from. It
lives in the project's ``.site-builder/`` folder, not in ``output/``, so the site
itself stays byte-identical wherever it is built.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR = ".site-builder"
_FORMAT = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """The output folder a build wrote, the key of every file in it, and the parts of
    the whole site each file's template read (so the next build can check them)."""

    output: str
    keys: dict[str, str]
    reads: dict[str, list[str]]


@functools.cache
def code_fingerprint() -> str:
    """A digest of this package's own code: a new builder must not trust old outputs."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def manifest_path(root: Path) -> Path:
    return root / CACHE_DIR / "manifest.json"


def load_manifest(root: Path, output: Path) -> Manifest | None:
    """The last build's manifest for ``output``; ``None`` when absent, stale or corrupt."""
    try:
        raw = json.loads(manifest_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        return None
    keys = raw.get("keys")
    if raw.get("output") != str(output) or not isinstance(keys, dict):
        return None
    reads = raw.get("reads")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
        return None
    if not isinstance(reads, dict) or not all(isinstance(v, list) for v in reads.values()):
        return None
    return Manifest(output=str(output), keys=keys, reads=reads)


def save_manifest(root: Path, manifest: Manifest) -> None:
    path = manifest_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    data = {
        "format": _FORMAT,
        "output": manifest.output,
        "keys": manifest.keys,
        "reads": manifest.reads,
    }
    temp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    temp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    temp.replace(path)


def forget_manifest(root: Path) -> None:
    manifest_path(root).unlink(missing_ok=True)
