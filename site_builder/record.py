"""The record a planned build keeps for the builds after it that do not plan.

Input: what ``quick.remember`` stores in ``.site-builder/sites/<digest>/quick.sqlite``.
Output: placed articles read back one row at a time, and the ``site`` a page rendered
without the plan sees. Shared by the text-edit path (``quick``) and the metadata-edit
path (``replan``); neither writes a row the other could misread.
"""

from __future__ import annotations

import contextlib
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from site_builder.cache import Inputs, records_folder
from site_builder.config import SiteConfig
from site_builder.model import Article, pickled_by_fields
from site_builder.outputs import ArticleFeed, PageRecipe, render_page

if TYPE_CHECKING:
    import jinja2

T = TypeVar("T")
_NAME = "quick.sqlite"
# Ids of the rows of table meta: the state, the site's outline, and every output file
# (apart: an edit that adds or removes no file leaves it alone).
META, OUTLINE, PATHS = 1, 2, 3
EDITS = 4  # what builds without the plan changed in the outline since it was kept
STATE = 5  # Meta as builds without the plan leave it, with the stats they changed


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Row:
    """One placed entry, as a build without the plan needs it."""

    placement: tuple[object, ...]  # of the entry as content/ has it (site.placement)
    article: Article  # placed, without its related stories: rows of their own
    related: tuple[str, ...]  # their sources
    page: str  # output path of its page
    recipe: PageRecipe  # its page's, without the article


# A feed that carries articles in full: their sources, and the feed without them.
Feed = tuple[tuple[str, ...], ArticleFeed]


@dataclass(frozen=True, slots=True)
class Meta:
    """What the rows belong to, and what they need beside them."""

    signature: str  # the inputs of the build they were kept by (Summary.inputs)
    options: str  # and its options (cache.Inputs)
    stats: dict[str, str]  # every input file's stat line then
    feeds: tuple[Feed, ...]
    parts: dict[str, object]  # site part → its value, or a tuple of sources (Listed)
    readers: dict[str, tuple[PageRecipe, frozenset[str]]]  # pages reading listed parts
    blocked: frozenset[str]  # sources never edited in place
    restated: frozenset[str] = frozenset()  # files whose stats STATE holds (read_state)


@dataclass(frozen=True, slots=True)
class Listed:
    """A site part that is a tuple of placed entries, kept as their sources."""

    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Absent:
    """A site part that a template asked for and the site does not have."""


@dataclass(frozen=True, slots=True)
class Edited:
    """What a build without the plan did."""

    written: tuple[str, ...]
    inputs: Inputs  # the input files as it leaves them (a ledger it wrote: its new stat)
    removed: tuple[str, ...] = ()
    counts: tuple[int, int, int] | None = None  # pages, feeds, files after, if they changed
    replanned: bool = False  # an article's metadata edit: placed again in the outline


class NotKept(Exception):
    """A page read a site part that is not kept: the edit needs the planned build."""


def _connect(config: SiteConfig) -> sqlite3.Connection:
    path = records_folder(config.root, config.output_dir, make=True) / _NAME
    try:
        return _tables(sqlite3.connect(path, timeout=30))
    except sqlite3.DatabaseError:  # damaged: what it held is made again by the next build
        path.unlink(missing_ok=True)
        Path(f"{path}-journal").unlink(missing_ok=True)
        return _tables(sqlite3.connect(path, timeout=30))


def _tables(db: sqlite3.Connection) -> sqlite3.Connection:
    try:
        # A commit without waiting for the disk: on power loss the record may trail
        # output/, and the build after it is planned (its signature is not the summary's).
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS rows (source TEXT PRIMARY KEY, key, value)")
        db.execute("CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY, value)")
    except sqlite3.Error:
        db.close()
        raise
    return db


def reader(config: SiteConfig) -> sqlite3.Connection:
    """A connection of its own to the record, for reading (a forked renderer's)."""
    path = records_folder(config.root, config.output_dir) / _NAME
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)


@contextlib.contextmanager
def store(config: SiteConfig) -> Iterator[sqlite3.Connection]:
    """The record of ``config``'s output folder, in one transaction."""
    db = _connect(config)
    try:
        with db:
            yield db
    finally:
        db.close()


def pickled(value: object) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def unpickled(value: bytes) -> object:
    """What this program pickled, or None: another version's record may name classes
    this one does not have."""
    try:
        return pickle.loads(value)
    except Exception:  # noqa: BLE001 - any failure means "nothing kept"
        return None


def read_meta(db: sqlite3.Connection, ident: int, kind: type[T]) -> T | None:
    """The meta row ``ident``, when it holds a ``kind``."""
    found = db.execute("SELECT value FROM meta WHERE id = ?", (ident,)).fetchone()
    value = unpickled(found[0]) if found else None
    return value if isinstance(value, kind) else None


def read_state(db: sqlite3.Connection) -> Meta | None:
    """The record's Meta: as the planned build kept it, with what builds without the plan
    changed since (``save_state``)."""
    planned = read_meta(db, META, Meta)
    later = read_meta(db, STATE, Meta)
    if planned is None or later is None:
        return planned
    return replace(later, stats={**planned.stats, **later.stats})


def save_state(db: sqlite3.Connection, before: Meta, after: Meta) -> None:
    """Keep ``after``, read as ``before``, as the record's Meta. Only the stats of the
    files edited since the planned build are written: every file's is a megabyte at
    10,000 articles, written again at each edit before."""
    names = before.restated | {n for n, line in after.stats.items() if before.stats.get(n) != line}
    if after.stats.keys() != before.stats.keys():  # a file came or went: every stat kept
        db.execute("DELETE FROM meta WHERE id = ?", (STATE,))
        kept = (META, replace(after, restated=frozenset()))
    else:
        stats = {name: after.stats[name] for name in names}
        kept = (STATE, replace(after, stats=stats, restated=frozenset(names)))
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (kept[0], pickled(kept[1])))


def kept_rows(db: sqlite3.Connection, sources: Sequence[str]) -> dict[str, Row] | None:
    """The rows of ``sources``; None when one is missing or unreadable."""
    rows: dict[str, Row] = {}
    for start in range(0, len(sources), 500):  # SQLite's limit on parameters is near
        chunk = sources[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found = db.execute(f"SELECT source, value FROM rows WHERE source IN ({marks})", chunk)
        for source, value in found:
            row = unpickled(value)
            if not isinstance(row, Row):
                return None
            rows[source] = row
    return rows if len(rows) == len(set(sources)) else None


def rows_of(db: sqlite3.Connection, sources: Sequence[str]) -> dict[str, Row]:
    rows = kept_rows(db, sources)
    if rows is None:
        raise NotKept("an article without a row")
    return rows


class SiteParts:
    """The ``site`` of a page rendered without the plan: the parts kept, nothing else."""

    __slots__ = ("_articles", "_parts")

    def __init__(self, parts: Mapping[str, object], articles: KeptArticles) -> None:
        self._parts, self._articles = parts, articles

    def __getattr__(self, name: str) -> Any:
        if name not in self._parts:
            raise NotKept(name)
        part = self._parts[name]
        if isinstance(part, Absent):
            raise AttributeError(name)
        return self._articles.whole(part.sources) if isinstance(part, Listed) else part


class KeptArticles:
    """Placed articles by source: the edited ones, else as kept.

    ``related``: each article's related stories as this build places them, where they
    differ from the rows'. ``lazy``: related stories are read only when a template
    asks for them (lists show cards, not what each story is related to)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        rows: Mapping[str, Row],
        edited: Mapping[str, Article],
        *,
        related: Mapping[str, tuple[str, ...]] | None = None,
        lazy: bool = False,
    ) -> None:
        self._db, self._rows, self._edited = db, dict(rows), edited
        self._related, self._lazy = related or {}, lazy
        self._whole: dict[str, Article] = {}  # one object a source: cards are cached by identity

    def reconnect(self, db: sqlite3.Connection) -> None:
        """Read from ``db`` from now on: a forked process must not share its parent's."""
        self._db = db

    def row(self, source: str) -> Row:
        if source not in self._rows:
            self._rows.update(rows_of(self._db, [source]))
        return self._rows[source]

    def load(self, sources: Iterable[str]) -> None:
        """Read the rows of ``sources`` at once, not one query each."""
        missing = [s for s in dict.fromkeys(sources) if s not in self._rows]
        if missing:
            self._rows.update(rows_of(self._db, missing))

    def shallow(self, sources: Iterable[str]) -> tuple[Article, ...]:
        """As related-story lists and feeds hold them: without their own related stories."""
        sources = tuple(sources)
        self.load(s for s in sources if s not in self._edited)
        return tuple(self._edited.get(s) or self._rows[s].article for s in sources)

    def related_of(self, source: str) -> tuple[str, ...]:
        found = self._related.get(source)
        return found if found is not None else self.row(source).related

    def whole(self, sources: Iterable[str]) -> tuple[Article, ...]:
        """As the site holds them: with their related stories."""
        sources = tuple(sources)
        self.load(s for s in sources if s not in self._whole and s not in self._edited)
        return tuple(self._whole.get(s) or self._placed(s) for s in sources)

    def _placed(self, source: str) -> Article:
        (article,) = self.shallow([source])
        related = self.related_of(source)
        shown: Sequence[Article] = (
            Lazy(related, self.shallow) if self._lazy else self.shallow(related)
        )
        found = self._whole[source] = replace(article, related=shown)  # type: ignore[arg-type]
        return found


class Lazy(Sequence[T]):
    """A tuple of what ``make`` gives for ``keys``, made when first looked into: a list
    page's articles hold their related stories, which only their own page shows."""

    __slots__ = ("_items", "_keys", "_make")

    def __init__(self, keys: Sequence[str], make: Callable[[Sequence[str]], Sequence[T]]) -> None:
        self._keys, self._make = tuple(keys), make
        self._items: tuple[T, ...] | None = None

    def _all(self) -> tuple[T, ...]:
        if self._items is None:
            self._items = tuple(self._make(self._keys))
        return self._items

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if self._items is not None:
            return self._items[index]
        if isinstance(index, slice):  # the first stories of an issue: not all of them
            return tuple(self._make(self._keys[index]))
        return self._make([self._keys[index]])[0]

    def __iter__(self) -> Iterator[T]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def render_kept(
    env: jinja2.Environment,
    site: SiteParts,
    recipe: PageRecipe,
    live: set[str],
    reader: tuple[PageRecipe, frozenset[str]] | None,
) -> bytes:
    """A page's bytes; a page that now reads a listed part it did not read when the
    record was made would be missed by later edits of that part's stories: planned."""
    data, used = render_page(env, site, recipe)
    if used & live - (reader[1] if reader else frozenset()):
        raise NotKept("a page reads another part of the site")
    return data
