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
import sqlite3
from collections.abc import Collection, Mapping, Sequence
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


class RenderCache:
    """Rendered content files by the hash of everything they came from, in SQLite.

    A cache must never produce a wrong page: any doubt (a corrupt file, an error
    reading it) empties it, and the caller renders again.
    """

    def __init__(self, root: Path) -> None:
        self.path = root / CACHE_DIR / "render.sqlite"
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._connect()
        except sqlite3.Error:
            self._reset()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        (self.path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS rendered (key TEXT PRIMARY KEY, value BLOB)")
        return db

    def _reset(self) -> None:
        """Throw a broken cache away and start an empty one; without one if even that fails."""
        if self._db is not None:
            self._db.close()
        for suffix in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
        try:
            self._db = self._connect()
        except (sqlite3.Error, OSError):
            self._db = None

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, value FROM rendered WHERE key IN ({marks})"
                found.update(self._db.execute(query, chunk).fetchall())
        except sqlite3.Error:
            self._reset()
            return {}
        return found

    def put_many(self, items: Mapping[str, bytes]) -> None:
        if self._db is None or not items:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO rendered VALUES (?, ?)", items.items())
        except sqlite3.Error:
            self._reset()

    def keep_only(self, keys: Collection[str]) -> None:
        """Drop entries of files that changed or went away, once they outnumber the live ones."""
        if self._db is None:
            return
        try:
            total = self._db.execute("SELECT count(*) FROM rendered").fetchone()[0]
            if total <= 2 * len(keys) + 100:
                return
            with self._db:
                self._db.execute("CREATE TEMP TABLE live (key TEXT PRIMARY KEY)")
                self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in keys))
                self._db.execute("DELETE FROM rendered WHERE key NOT IN (SELECT key FROM live)")
                self._db.execute("DROP TABLE live")
        except sqlite3.Error:
            self._reset()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
