"""Build cache: what the last build wrote, so the next one rewrites only what changed.

The manifest maps each output path to the key of the inputs it was made from. It
lives in the project's ``.site-builder/`` folder, not in ``output/``, so the site
itself stays byte-identical wherever it is built.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

CACHE_DIR = ".site-builder"
_FORMAT = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """The output folder a build wrote, the key of every file in it, and the parts of
    the whole site each file's template read (so the next build can check them)."""

    output: str
    keys: dict[str, str]
    reads: dict[str, list[str]]
    inputs: str = ""  # signature of every input file's size and mtime, and the options
    valid_until: str = ""  # ISO time the next scheduled article goes live, if any
    why: dict[str, str] = field(default_factory=dict)  # path → its key's parts (OutputSpec.why)
    parts: dict[str, str] = field(default_factory=dict)  # site part → digest, as read


@functools.cache
def code_fingerprint(*modules: str) -> str:
    """A digest of this package's code and catalogues (or of the named modules) and the
    libraries' versions.

    A new builder, or a new Markdown or Pygments, must not trust what an old one made.
    """
    package = Path(__file__).parent
    # The catalogues too: an upgrade may change a translation and nothing else.
    every = [*package.glob("*.py"), *package.glob("locales/*/LC_MESSAGES/*.po")]
    sources = [package / f"{m}.py" for m in modules] or sorted(every)
    digest = hashlib.sha256()
    for source in sources:
        name = source.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + source.read_bytes())
    for library, distribution in _DISTRIBUTIONS.items():
        digest.update(f"{library}={installed_version(distribution)}".encode())
    return digest.hexdigest()


def build_fingerprint(settings: str) -> str:
    """The one key every cache of a build's results starts from: this builder's code,
    its libraries' versions, and ``settings`` (``SiteConfig.fingerprint``: site.toml
    after the command line's and the environment's overrides, the options that change
    output). A cache keyed by less may give one build what another made."""
    return hashlib.sha256(f"{code_fingerprint()}\0{settings}".encode()).hexdigest()


def installed_version(distribution: str) -> str:
    """An installed distribution's version, from its ``NAME-VERSION.dist-info`` folder.

    Read from the folder's name: importing ``importlib.metadata`` took a fifth of a
    build with nothing to do. Anything less plain is left to it.
    """
    wanted = _normalized(distribution)
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")  # noqa: PTH208 - names only, many of them
        except OSError:
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            project, dash, version = stem.partition("-")
            if dot and suffix == "dist-info" and dash and _normalized(project) == wanted:
                return version
    import importlib.metadata  # noqa: PLC0415 - see above

    return importlib.metadata.version(distribution)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


# Every library whose version may change a byte of the site: dates and theme strings
# (Babel's CLDR data), inlined email CSS, sanitised HTML, the email's plain text.
_DISTRIBUTIONS = {
    "markdown": "Markdown",
    "pygments": "Pygments",
    "yaml": "PyYAML",
    "jinja2": "Jinja2",
    "feedgen": "feedgen",
    "babel": "Babel",
    "css_inline": "css-inline",
    "nh3": "nh3",
    "lxml": "lxml",
}


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build saw of its inputs: each file's size, times and inode by name, and a
    digest of the builder and the build's options. ``signature`` digests both."""

    stats: dict[str, str]
    options: str
    signature: str


def read_inputs(
    root: Path,
    files: Iterable[Path],
    folders: Iterable[tuple[Path, Callable[[str], bool]]],
    *options: object,
) -> Inputs:
    """Size, times and inode of every input file, plus the build's options.

    ``files`` are single files; each folder is walked, skipping names its predicate
    ignores. Equal signatures mean nothing a build reads has changed since the last
    one: the shortcut make and Hugo take, with the change time too, which no tool
    can set back (a file rewritten with its old size and modification time). A build
    with nothing to do costs a walk, made with ``os.scandir``: most of its time.
    """
    stats = files_stats(files)
    for folder, ignored in folders:
        prefix = folder.relative_to(root).as_posix() if folder.is_relative_to(root) else str(folder)
        _stat_tree(stats, folder, prefix, ignored)
    digest = hashlib.sha256(repr((code_fingerprint(), options)).encode()).hexdigest()
    return inputs_from(stats, digest)


def files_stats(files: Iterable[Path]) -> dict[str, str]:
    """The stat lines of single input files, by name; none for a missing one."""
    stats: dict[str, str] = {}
    for path in files:
        with contextlib.suppress(OSError):
            stats[path.name] = _stat_line(path.stat())
    return stats


def inputs_from(stats: dict[str, str], options: str) -> Inputs:
    """Inputs with these stats, in walk order (single files first), and options."""
    return Inputs(stats, options, _signature(stats, options))


def _signature(stats: Mapping[str, str], options: str) -> str:
    """The signature of inputs with these stats (in walk order) and options."""
    digest = hashlib.sha256(options.encode())
    for name, line in stats.items():
        digest.update(f"{name}\0{line}\n".encode())
    return digest.hexdigest()


def _stat_tree(
    stats: dict[str, str], folder: Path | str, rel: str, ignored: Callable[[str], bool]
) -> None:
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if ignored(entry.name):
            continue
        name = f"{rel}/{entry.name}"
        try:
            if entry.is_dir(follow_symlinks=False):
                _stat_tree(stats, entry.path, name, ignored)
                continue
            stats[name] = _stat_line(entry.stat())
        except OSError:
            continue


def _stat_line(info: os.stat_result) -> str:
    return f"{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0{info.st_ino}"


def records_folder(root: Path, output: Path, *, make: bool = False) -> Path:
    """Where the builds of one output folder keep their records (manifest, summary,
    quick records): one folder per output folder, so that the preview's site and the
    published one never take each other's records, and alternating them rebuilds
    neither from scratch. ``make``: create it, for writing."""
    name = hashlib.sha256(str(output).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return cache_folder(root, "sites", name) if make else root / CACHE_DIR / "sites" / name


def manifest_path(root: Path, output: Path) -> Path:
    return records_folder(root, output) / "manifest.json"


def summary_path(root: Path, output: Path) -> Path:
    return records_folder(root, output) / "summary.json"


def amendments_path(root: Path, output: Path) -> Path:
    return records_folder(root, output) / "manifest.amended"


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """What a build with nothing to do needs of the manifest, in a file of its own:
    parsing a 100,000-article site's manifest took a second."""

    output: str
    inputs: str
    valid_until: str
    pages: int
    feeds: int
    files: int


def kinds(paths: Collection[str]) -> tuple[int, int, int]:
    """How many of ``paths`` are pages, feeds and other files."""
    feeds = sum(path.endswith(("feed.xml", "atom.xml", "feed.json")) for path in paths)
    pages = sum(path.endswith(".html") for path in paths)
    return pages, feeds, len(paths) - pages - feeds


def load_summary(root: Path, output: Path) -> Summary | None:
    """The last build's summary for ``output``; ``None`` when absent, stale or corrupt."""
    try:
        raw = json.loads(summary_path(root, output).read_text(encoding="utf-8"))
        summary = Summary(**{k: v for k, v in raw.items() if k != "format"})
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    if raw.get("format") != _FORMAT or summary.output != str(output):
        return None
    counts = (summary.pages, summary.feeds, summary.files)
    texts = (summary.inputs, summary.valid_until)
    usable = all(isinstance(n, int) for n in counts) and all(isinstance(t, str) for t in texts)
    return summary if usable else None


def load_manifest(root: Path, output: Path) -> Manifest | None:
    """The last build's manifest for ``output``; ``None`` when absent, stale or corrupt."""
    try:
        raw = json.loads(manifest_path(root, output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT:
        return None
    if raw.get("output") != str(output):
        return None
    try:
        manifest = Manifest(**{k: v for k, v in raw.items() if k != "format"})
    except TypeError:
        return None
    if not _well_formed(manifest):
        return None
    for path in _amended(root, output):
        # Also a file written without a plan that this manifest does not list (a moved
        # story's new page): listed, the next plan removes it if the site no longer has it.
        manifest.keys[path] = ""
    return manifest


def amend_manifest(root: Path, output: Path, paths: Iterable[str]) -> None:
    """Note files rewritten, made or removed without a new manifest: their keys in it
    no longer hold.

    An empty key makes the next planned build render them again, and keeps them
    listed so that it removes them if the site no longer has them.
    """
    # Each batch starts on a line of its own: the end of a batch that a killed build
    # left cut short is skipped, and never joins the first path of this one.
    records = records_folder(root, output, make=True)  # .site-builder/ may have been deleted
    with (records / amendments_path(root, output).name).open("a", encoding="utf-8") as file:
        file.write("".join("\n" + json.dumps(path) for path in paths) + "\n")


def _amended(root: Path, output: Path) -> list[str]:
    try:
        lines = amendments_path(root, output).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            path = json.loads(line)
        except ValueError:
            continue  # the end of a line cut short by a killed build
        if isinstance(path, str):
            found.append(path)
    return found


def _well_formed(m: Manifest) -> bool:
    """Everything in the manifest has the type the build relies on."""
    return (
        isinstance(m.keys, dict)
        and isinstance(m.reads, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in m.keys.items())
        and all(isinstance(v, list) for v in m.reads.values())
        and isinstance(m.inputs, str)
        and isinstance(m.valid_until, str)
        and isinstance(m.why, dict)
        and isinstance(m.parts, dict)
    )


def cache_folder(root: Path, *parts: str) -> Path:
    """A folder under the project's cache folder, made if missing; the cache is never
    committed (it ignores itself for git)."""
    top = root / CACHE_DIR
    (top / Path(*parts)).mkdir(parents=True, exist_ok=True)
    (top / ".gitignore").write_text("*\n", encoding="utf-8")
    return top.joinpath(*parts)


def save_manifest(root: Path, manifest: Manifest) -> None:
    output = Path(manifest.output)
    path = records_folder(root, output, make=True) / manifest_path(root, output).name
    # Not dataclasses.asdict: it deep-copies every key and list, seconds on a large site.
    data = {"format": _FORMAT, **{f.name: getattr(manifest, f.name) for f in fields(manifest)}}
    temp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    # Part by part: the whole manifest as one string was the peak of a 100,000-article build.
    with temp.open("w", encoding="utf-8") as file:
        file.write("{")
        for i, name in enumerate(sorted(data)):
            part = json.dumps(data[name], sort_keys=True)
            file.write(f"{', ' if i else ''}{json.dumps(name)}: {part}")
        file.write("}")
    temp.replace(path)
    amendments_path(root, output).unlink(missing_ok=True)  # the new manifest holds them
    # After the manifest: a summary is never newer than the manifest it sums up.
    pages, feeds, files = kinds(manifest.keys)
    summary = Summary(
        output=manifest.output,
        inputs=manifest.inputs,
        valid_until=manifest.valid_until,
        pages=pages,
        feeds=feeds,
        files=files,
    )
    save_summary(root, summary)


def save_summary(root: Path, summary: Summary) -> None:
    output = Path(summary.output)
    path = records_folder(root, output, make=True) / summary_path(root, output).name
    temp = path.with_name(f"summary.json.tmp-{os.getpid()}")
    temp.write_text(json.dumps({"format": _FORMAT, **asdict(summary)}), encoding="utf-8")
    temp.replace(path)


@contextlib.contextmanager
def build_lock(root: Path, waiting: Callable[[], None] = lambda: None) -> Iterator[None]:
    """One build of a site at a time, across processes (a preview and a command line).

    Two builds at once would each swap their own site in and save their own manifest,
    the last one saved describing a site that may not be the one in output/.
    ``waiting`` is called if another build holds the lock. POSIX record locks belong
    to a process: forked workers do not hold them, and a killed build's is released.
    Where there are none (Windows), builds are not kept apart.
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:
        yield
        return
    try:
        handle = (cache_folder(root) / "build.lock").open("a+b")
    except OSError:  # a site folder it cannot write to: the build says so itself
        yield
        return
    with handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            waiting()
            fcntl.lockf(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def forget_summary(root: Path, output: Path) -> None:
    """The last build no longer describes output/: the next one is not a no-op."""
    summary_path(root, output).unlink(missing_ok=True)


def forget_manifest(root: Path, output: Path) -> None:
    forget_summary(root, output)
    manifest_path(root, output).unlink(missing_ok=True)
    amendments_path(root, output).unlink(missing_ok=True)


class RenderCache:
    """Rendered content files by the hash of everything they came from, in SQLite.

    Each row holds the entry without its body (``value``) and the body's HTML apart
    (``html``), so a build can load every entry and leave the bodies on disk until a
    page shows them (``stored_html``). A cache must never produce a wrong page: any
    doubt (a corrupt file, an error reading it) empties it, and the caller renders again.
    """

    def __init__(self, root: Path) -> None:
        self.root, self.path = root, render_cache_path(root)
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._connect()
        except sqlite3.Error:
            self._reset()

    def _connect(self) -> sqlite3.Connection:
        cache_folder(self.root)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        # A commit without waiting for the disk: on power loss WAL loses the last
        # batches, never the database's consistency, and a cache can render them again.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("DROP TABLE IF EXISTS rendered")  # an earlier format: bodies inside entries
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, value BLOB, html TEXT)"
        )
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {_FILES} (name TEXT PRIMARY KEY, stat TEXT, digest TEXT)"
        )
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

    def stored(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the cache holds."""
        found: set[str] = set()
        if self._db is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key FROM {_TABLE} WHERE key IN ({marks})"
                found.update(row[0] for row in self._db.execute(query, chunk))
        except sqlite3.Error:
            self._reset()
            return set()
        return found

    def values(self, keys: Sequence[str]) -> Iterator[bytes | None]:
        """The stored entry (without its body) of each key, in order; ``None`` where
        there is none. Read a few hundred at a time, never all at once."""
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found: dict[str, bytes] = {}
            if self._db is not None:
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, value FROM {_TABLE} WHERE key IN ({marks})"
                try:
                    found = {key: bytes(value) for key, value in self._db.execute(query, chunk)}
                except sqlite3.Error:
                    self._reset()
            yield from map(found.get, chunk)

    def digests(self) -> dict[str, tuple[str, str]]:
        """What the last build noted of each content file: name → (its stat, its bytes' digest)."""
        if self._db is None:
            return {}
        try:
            rows = self._db.execute(f"SELECT name, stat, digest FROM {_FILES}").fetchall()
        except sqlite3.Error:
            self._reset()
            return {}
        return {name: (stat, digest) for name, stat, digest in rows}

    def note_digests(self, noted: Mapping[str, tuple[str, str]]) -> None:
        """Replace the notes of ``digests`` with ``noted``."""
        if self._db is None:
            return
        try:
            with self._db:
                self._db.execute(f"DELETE FROM {_FILES}")
                rows = ((name, stat, digest) for name, (stat, digest) in noted.items())
                self._db.executemany(f"INSERT INTO {_FILES} VALUES (?, ?, ?)", rows)
        except sqlite3.Error:
            self._reset()

    def put_many(self, items: Iterable[tuple[str, bytes, str]]) -> bool:
        """Store (key, entry, body HTML) rows; say whether they are stored."""
        if self._db is None:
            return False
        try:
            with self._db:
                self._db.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?)", items)
        except sqlite3.Error:
            self._reset()
            return False
        return True

    def keep_only(self, keys: Collection[str]) -> None:
        """Drop entries of files that changed or went away, once they outnumber the live ones."""
        if self._db is None:
            return
        try:
            total = self._db.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()[0]
            if total <= 2 * len(keys) + 100:
                return
            with self._db:
                self._db.execute("CREATE TEMP TABLE live (key TEXT PRIMARY KEY)")
                self._db.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in keys))
                self._db.execute(f"DELETE FROM {_TABLE} WHERE key NOT IN (SELECT key FROM live)")
                self._db.execute("DROP TABLE live")
        except sqlite3.Error:
            self._reset()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_TABLE = "entries"
_FILES = "files"


def render_cache_path(root: Path) -> Path:
    return root / CACHE_DIR / "render.sqlite"


# One read-only connection per process and cache: forked page renderers must not
# share their parent's connection.
_READERS: dict[tuple[int, Path], sqlite3.Connection] = {}


def stored_html(path: Path, key: str) -> str | None:
    """A body the render cache at ``path`` holds, or ``None`` (gone, or unreadable)."""
    try:
        reader = _READERS.get((os.getpid(), path))
        if reader is None:
            reader = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
            _READERS[(os.getpid(), path)] = reader
        row = reader.execute(f"SELECT html FROM {_TABLE} WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def close_readers() -> None:
    """Close this process's read connections: the end of a build, or of a preview edit."""
    for key in [k for k in _READERS if k[0] == os.getpid()]:
        _READERS.pop(key).close()


@contextlib.contextmanager
def readers_closed() -> Iterator[None]:
    try:
        yield
    finally:
        close_readers()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Planning, and an edit's outline and the rows it reads back, make hundreds of
    thousands of objects that all outlive them: the cyclic collector would scan them over
    and over for nothing (a quarter of a planned edit at 100,000 articles, a tenth of a
    recategorisation at 10,000), and in a forked renderer copy every page of memory they
    share with the parent. The cycles such a stage leaves are few and collected after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
