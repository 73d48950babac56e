"""Writer stage: rendered files → ``output/``, never half-written.

A build fills a staging folder beside ``output/`` and swaps the two in one step,
so a reader, or a build killed at any moment, sees the whole previous site or the
whole new one. The site it replaces is not deleted (on a large site that costs
more than writing it) but kept as the spare, ``.output.spare``, with the list of
files in which it trails the live site. The next build makes its staging folder
from the spare: it brings those files up to date and writes the changed ones, so
an incremental build touches only what changed. Without a usable spare, staging is
made of hard links to the live files. Only a folder carrying the builder's marker
file is ever replaced or deleted, and the marker is the first file written and the
last one removed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import stat
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from site_builder.errors import SiteError

MARKER = ".site-builder-output"
SPARE_STATE = ".site-builder-spare.json"  # in the spare: the live site it trails, and where
_MARKER_TEXT = b"This folder is written by site-builder; its contents are replaced on build.\n"
_RENAME_EXCHANGE = 2
# C0 controls and DEL: legal in POSIX names, but they garble listings and URLs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Names Windows gives to devices, with any extension: "con", "nul.txt", "com1.html".
_WINDOWS_DEVICE = re.compile(r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?", re.IGNORECASE)


class OutputError(SiteError):
    """The output folder cannot be written safely."""


def safe_target(root: Path, rel: str, *, windows: bool = os.name == "nt") -> Path:
    """``root/rel``, or an error when ``rel`` could land outside ``root`` or name a device.

    ``rel`` comes from slugs, tag names and file names in content/, so it is checked
    as untrusted: no absolute path, ``..``, backslash, NUL or control character, and
    on Windows no device name such as ``con`` or ``nul.html``.
    """
    return root.joinpath(*_safe_parts(rel, windows=windows))


def _safe_parts(rel: str, *, windows: bool = os.name == "nt") -> tuple[str, ...]:
    parts = PurePosixPath(rel).parts
    bad = (
        not parts
        or rel.startswith("/")
        or "\\" in rel
        or _CONTROL.search(rel) is not None
        or any(part in ("..", ".") for part in parts)
        or (windows and any(_WINDOWS_DEVICE.fullmatch(part.rstrip(" .")) for part in parts))
    )
    if bad:
        raise OutputError(
            f"refusing to write {rel!r}: the path leaves the output folder or names a device",
            hint="rename the file in content/ or templates/static/ to plain letters and digits",
        )
    return parts


def is_owned(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def check_replaceable(output: Path, *, force: bool = False) -> None:
    """Refuse to replace a non-empty folder the builder did not create."""
    if output.is_symlink() or (output.exists() and not output.is_dir()):
        raise OutputError(f"{output.name!r} exists and is not a folder", path=output.name)
    if output.is_dir() and not is_owned(output) and any(output.iterdir()) and not force:
        raise OutputError(
            f"{output.name}/ is not empty and was not made by site-builder",
            path=output.name,
            hint="empty or remove it, choose another --output, or pass --force",
        )


def _siblings(output: Path, kind: str) -> list[Path]:
    return sorted(output.parent.glob(f".{output.name}.{kind}-*"))


def _in_use(folder: Path) -> bool:
    """Whether the build that named ``folder`` (``.output.staging-PID``) still runs."""
    pid = folder.name.rpartition("-")[2]
    if os.name != "posix" or not pid.isdigit():
        return False  # Windows' os.kill(pid, 0) would end the process
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def recover(output: Path) -> None:
    """Undo what an interrupted build left behind: restore a moved-aside site, drop staging.

    Folders of a build that still runs (another process) are left alone.
    """
    leftovers = [*_siblings(output, "staging"), *_siblings(output, "old")]
    dead = [p for p in leftovers if not _in_use(p)]
    old = [p for p in dead if ".old-" in p.name and is_owned(p)]
    if not output.exists() and old:
        old[-1].rename(output)
    for leftover in dead:
        _discard(leftover)


def _discard(folder: Path) -> None:
    """Remove a staging folder if the builder made it: marked, or still empty."""
    if not folder.is_dir() or folder.is_symlink():
        return
    with contextlib.suppress(OSError):  # gone already, or not ours to delete
        if is_owned(folder):
            remove_owned(folder)
        else:  # killed between mkdir and the marker: only an empty folder goes
            folder.rmdir()


def remove_owned(folder: Path) -> None:
    """Delete a folder the builder made, its marker last: a kill leaves it recognisable."""
    for child in folder.iterdir():
        if child.name == MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    (folder / MARKER).unlink(missing_ok=True)
    folder.rmdir()


def _start_tree(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / MARKER).write_bytes(_MARKER_TEXT)


@functools.cache
def _libc() -> Any:
    """The C library, for calls Python does not wrap; ``None`` where there is none."""
    import ctypes.util  # noqa: PLC0415 - here: a small rebuild is mostly imports

    libc_name = ctypes.util.find_library("c")
    if os.name != "posix" or libc_name is None:
        return None
    return ctypes.CDLL(libc_name, use_errno=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step where the kernel can (Linux renameat2)."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(done == 0)


def swap_in(staging: Path, output: Path) -> None:
    """Make ``staging`` the new ``output``; the old site is deleted only afterwards."""
    if not output.exists():
        staging.rename(output)
        return
    if _exchange(staging, output):
        remove_owned(staging)  # now the previous site
        return
    # No atomic exchange here (not Linux, or the file system lacks it): for a moment
    # there is no output/; recover() puts the previous site back if a build dies then.
    aside = output.parent / f".{output.name}.old-{os.getpid()}"
    output.rename(aside)
    staging.rename(output)
    remove_owned(aside)


def staging_dir(output: Path) -> Path:
    return output.parent / f".{output.name}.staging-{os.getpid()}"


@contextlib.contextmanager
def _reported(output: Path) -> Iterator[None]:
    """The file system's refusals (disk full, no permission, name too long) as errors
    that name the output folder, never as a traceback; the staging folder goes."""
    try:
        yield
    except OSError as exc:
        _discard(staging_dir(output))
        where = f" ({exc.filename})" if exc.filename else ""
        raise OutputError(
            f"cannot write the site into {output.name}/: {exc.strerror or exc}{where}",
            path=output.name,
        ) from None
    except BaseException:
        _discard(staging_dir(output))
        raise


def write_site(output: Path, files: Iterable[tuple[str, bytes]], *, force: bool = False) -> int:
    """Write a whole site and swap it in; on any failure ``output`` is left as it was."""
    count = 0
    with _reported(output):
        output.parent.mkdir(parents=True, exist_ok=True)
        recover(output)
        check_replaceable(output, force=force)
        staging = staging_dir(output)
        adopted, _ = _adopt_spare(output, staging)  # in any state: every file is written
        if not adopted:
            _start_tree(staging)
        live = output.is_dir()
        written, differ = set(), set()
        made = {""}  # the folders of a fresh staging folder, made as files need them
        for given, data in files:
            if adopted:
                rel = _put(staging, given, data)
            else:
                rel = _put_new(str(staging), given, data, made)
            written.add(rel)
            if live and not holds(output, rel, data):
                differ.add(rel)
            count += 1
        if adopted:  # a fresh staging folder holds only what was just written
            _prune(staging, written)
        # The replaced site becomes the spare; told where it differs from the new one,
        # the next incremental build brings only those files up to date.
        behind = differ | (_files_of(output) - written) if live else None
        _swap_keeping_spare(staging, output, behind, files=written)
    return count


def holds(root: Path, rel: str, data: bytes) -> bool:
    """Whether ``root/rel`` is a regular file holding exactly ``data``."""
    path = os.path.join(root, rel)  # noqa: PTH118 - one per page: pathlib costs more
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as file:  # noqa: PTH123 - see above
            return file.read(len(data) + 1) == data
    except OSError:
        return False


def _files_of(root: Path) -> set[str]:
    """Every file under ``root`` (a symlink counts as one, never followed), as posix paths."""
    found: set[str] = set()
    _collect(str(root), "", found)
    found.discard(MARKER)
    return found


def _collect(folder: str, prefix: str, found: set[str]) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _collect(entry.path, f"{prefix}{entry.name}/", found)
            else:
                found.add(prefix + entry.name)


def update_site(output: Path, files: Iterable[tuple[str, bytes]], removed: Iterable[str]) -> int:
    """Change some files of an owned ``output`` and remove others, in one swap.

    Readers, and a build killed at any moment, see the previous site or the new one.
    Costs the files the spare trails by, or a hard link per file without a spare.
    """
    count, removed = 0, list(removed)
    with _reported(output):
        recover(output)
        check_replaceable(output)
        if not is_owned(output):
            raise OutputError(f"{output.name}/ was not made by site-builder", path=output.name)
        staging = staging_dir(output)
        _stage_from_live(output, staging)
        remove_files(staging, removed)
        changed = set(removed)
        for rel, data in files:
            _put(staging, rel, data)
            changed.add(rel)
            count += 1
        _swap_keeping_spare(staging, output, changed)
    return count


def _stage_from_live(output: Path, staging: Path) -> None:
    """A staging folder equal to the live site: the spare brought up to date, else links."""
    adopted, behind = _adopt_spare(output, staging)
    if behind is None:
        if adopted:
            _refill(output, staging)
        else:
            link_tree(output, staging)
        return
    for rel in behind:
        source = safe_target(output, rel)
        if source.is_file() and not source.is_symlink():
            _put(staging, rel, source.read_bytes())
        else:
            remove_files(staging, [rel])


def _refill(output: Path, staging: Path) -> None:
    """Make a spare of unknown state equal to the live site: rewrite what differs."""
    wanted = set()
    for dirpath, dirnames, filenames in os.walk(output):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            if here == output and name == MARKER:
                continue
            rel = (here / name).relative_to(output).as_posix()
            wanted.add(rel)
            _put(staging, rel, (here / name).read_bytes())  # an equal file is left alone
    _prune(staging, wanted)


def _link(source: str, target: str) -> None:
    """``target`` as a hard link to ``source`` (a symlink stays a symlink); else a copy."""
    try:
        os.link(source, target, follow_symlinks=False)
    except (OSError, NotImplementedError):  # no hard links here: FAT, some network shares
        shutil.copy2(source, target, follow_symlinks=False)


def link_tree(source: Path, target: Path) -> None:
    """A new ``target`` holding ``source``'s files as hard links: no bytes are copied."""
    _start_tree(target)
    _link_folder(str(source), str(target), top=True)


def _link_folder(source: str, target: str, *, top: bool = False) -> None:
    # os.scandir and plain strings: pathlib costs more than the links on a large site.
    with os.scandir(source) as entries:
        for entry in entries:
            into = os.path.join(target, entry.name)  # noqa: PTH118 - see above
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(into)  # noqa: PTH102 - see above
                _link_folder(entry.path, into)
            elif not (top and entry.name == MARKER):
                _link(entry.path, into)


def _link_listed(source: str, target: str, rels: Iterable[str]) -> None:
    made = {""}
    for rel in rels:
        _make_folder(target, rel.rpartition("/")[0], made)
        _link(os.path.join(source, rel), os.path.join(target, rel))  # noqa: PTH118


def spare_dir(output: Path) -> Path:
    return output.parent / f".{output.name}.spare"


def _token(folder: Path) -> str:
    """Which generation a tree is: its marker file's identity (a new file each swap).

    Not a value written into the file: output must be byte-identical across builds.
    """
    try:
        info = (folder / MARKER).lstat()
    except OSError:
        return ""
    return f"{info.st_dev}:{info.st_ino}:{info.st_mtime_ns}"


def _adopt_spare(output: Path, staging: Path) -> tuple[bool, list[str] | None]:
    """Move the spare, if there is one, to ``staging``; say whether it was, and the
    files it trails the live site by (``None`` when it does not say it trails this
    live site: then every file of it must be written again)."""
    spare = spare_dir(output)
    if not spare.is_dir() or spare.is_symlink() or not is_owned(spare):
        return False, None
    try:
        state = json.loads((spare / SPARE_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    spare.rename(staging)
    (staging / SPARE_STATE).unlink(missing_ok=True)  # staging is no spare until it is one again
    live = _token(output)
    if not isinstance(state, dict) or not live or state.get("trails") != live:
        return True, None
    behind = state.get("behind")
    if not isinstance(behind, list) or not all(isinstance(rel, str) for rel in behind):
        return True, None
    return True, behind


def _swap_keeping_spare(
    staging: Path, output: Path, changed: set[str] | None, *, files: Collection[str] | None = None
) -> None:
    """Swap ``staging`` in; the previous site becomes the spare, trailing by ``changed``.

    ``files``: every file of ``staging`` but its marker, when the caller knows them.
    """
    fresh = staging / f"{MARKER}.new"
    fresh.write_bytes(_MARKER_TEXT)
    fresh.replace(staging / MARKER)  # a new file, a new generation (see _token)
    if not output.exists():
        staging.rename(output)
        _first_spare_aside(output, files)
        return
    if not _exchange(staging, output):
        swap_in(staging, output)  # no atomic exchange: the old site is deleted
        return
    live = _token(output)
    state = {"trails": live, "behind": sorted(changed) if changed is not None else None}
    (staging / SPARE_STATE).write_text(json.dumps(state), encoding="utf-8")
    staging.rename(spare_dir(output))


# The children making first spares for the innermost ``spares_aside``.
_ASIDE: list[list[int]] = []
_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def spares_aside() -> Iterator[None]:
    """Within, a first build's spare is linked by a child process while this one goes
    on (a build saves its records meanwhile: each takes about half a second at 10,000
    articles); left only once every such child is done, so that the build lock, which
    a child does not hold, covers its work."""
    children: list[int] = []
    _ASIDE.append(children)
    try:
        yield
    finally:
        _ASIDE.remove(children)
        for pid in children:
            with contextlib.suppress(ChildProcessError):  # reaped elsewhere: done anyway
                os.waitpid(pid, 0)


def _first_spare_aside(output: Path, files: Collection[str] | None) -> None:
    # Forking is only safe while no other thread runs (the preview server has some),
    # and the child must die with its parent: only Linux can ask for that.
    if not _ASIDE or threading.active_count() > 1 or getattr(_libc(), "prctl", None) is None:
        _first_spare(output, files)
        return
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # no process to spare (a limit, or memory): link it here
        _first_spare(output, files)
        return
    if pid == 0:  # never returns into the build
        done = False
        try:
            if _dies_with(parent):
                _first_spare(output, files)
                done = True
        finally:
            os._exit(0 if done else 1)
    _ASIDE[-1].append(pid)


def _dies_with(parent: int) -> bool:
    """Have the kernel kill this process when ``parent`` dies; say whether it lives.

    A spare still being linked after its build was killed would race the next build,
    which deletes what a killed build left.
    """
    if _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return False
    return os.getppid() == parent  # else it died before the request


def _first_spare(output: Path, files: Collection[str] | None) -> None:
    """A first site's spare: hard links to it, trailing it by nothing.

    Made now so that the next build, most often a small edit, does not have to: a
    link per file is most of the time of such a build (1-2 s at 10,000 articles).
    """
    staging = staging_dir(output)
    try:
        if files is None:
            link_tree(output, staging)
        else:  # listing the folders again would cost a third of the linking
            _start_tree(staging)
            _link_listed(str(output), str(staging), files)
        state = {"trails": _token(output), "behind": []}
        (staging / SPARE_STATE).write_text(json.dumps(state), encoding="utf-8")
        staging.rename(spare_dir(output))
    except OSError:  # the site is built; without a spare the next build links one
        _discard(staging)


def _put_new(root: str, rel: str, data: bytes, made: set[str]) -> str:
    """Write ``root/rel`` into a staging folder this build made, and say where, as a
    plain path: nothing is there but what it wrote, so nothing is looked up (a system
    call a file, two a folder fewer)."""
    parts = _safe_parts(rel)
    _make_folder(root, "/".join(parts[:-1]), made)
    with open(os.path.join(root, *parts), "xb") as file:  # noqa: PTH118, PTH123
        file.write(data)
    return "/".join(parts)


def _make_folder(root: str, folder: str, made: set[str]) -> None:
    """``root/folder`` and its missing parents, where ``made`` holds every folder that
    exists: no system call asks which do."""
    missing = []
    while folder not in made:
        missing.append(folder)
        folder = folder.rpartition("/")[0]
    for name in reversed(missing):
        os.mkdir(os.path.join(root, name))  # noqa: PTH102, PTH118
        made.add(name)


def _put(root: Path, rel: str, data: bytes) -> str:
    """Write ``root/rel``, and say where, as the folders have it (``a//b``: ``a/b``)."""
    parts = _safe_parts(rel)
    _put_at(root.joinpath(*parts), data)
    return "/".join(parts)


def _put_at(target: Path, data: bytes) -> None:
    """A file shared with the live site (a hard link) is replaced, never written
    through, and a file that already holds ``data`` is left alone."""
    try:
        info = target.lstat()
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            _rewrite(target, data)
            return
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(target)
        else:
            target.unlink()
    target.write_bytes(data)


def _rewrite(target: Path, data: bytes) -> None:
    # In place, not truncated first: freeing and allocating the blocks again costs far
    # more than the write on some file systems (four times as much, seen with ext4).
    with target.open("r+b") as file:
        if file.read(len(data) + 1) == data:
            return
        file.seek(0)
        file.write(data)
        file.truncate()


def _prune(root: Path, wanted: set[str]) -> None:
    """Delete every file under ``root`` that is not ``wanted``, and folders left empty."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        here = Path(dirpath)
        rel_dir = here.relative_to(root).as_posix()
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in wanted and not (here == root and name == MARKER):
                (here / name).unlink()
        for name in dirnames:
            folder = here / name
            if folder.is_symlink():
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if rel not in wanted:
                    folder.unlink()
            elif not any(folder.iterdir()):
                folder.rmdir()


def remove_files(output: Path, rels: Iterable[str]) -> None:
    """Delete files that are no longer part of the site, and folders left empty; one
    already gone (a build without the plan removed it, and its folder) is skipped."""
    for rel in rels:
        target = safe_target(output, rel)
        target.unlink(missing_ok=True)
        for parent in target.parents:
            if parent == output or not parent.is_relative_to(output):
                break
            if not parent.is_dir():
                continue
            if any(parent.iterdir()):
                break
            parent.rmdir()


def replace_files(output: Path, files: Sequence[tuple[str, bytes]]) -> int:
    """Rewrite some files of an owned ``output`` in place, each one atomically.

    For the preview server, which holds requests back while it writes: far cheaper
    than a staged swap of a large site. A process killed midway leaves some files new
    and some old, so the caller notes them first (cache.amend_manifest) for the next build
    to make again.
    """
    with _reported(output):
        if not is_owned(output):
            raise OutputError(f"{output.name}/ was not made by site-builder", path=output.name)
        # Noted before writing: a spare must never believe it is more up to date than it is.
        spare_trails_by(output, [rel for rel, _ in files])
        for rel, data in files:
            target = safe_target(output, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            temp.write_bytes(data)
            temp.replace(target)
    return len(files)


def spare_trails_by(output: Path, rels: Sequence[str]) -> None:
    """Note in the spare's state that it now also trails the live site by ``rels``."""
    path = spare_dir(output) / SPARE_STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    behind = state.get("behind") if isinstance(state, dict) else None
    if isinstance(behind, list):
        state["behind"] = sorted({*behind, *rels})
        temp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        temp.write_text(json.dumps(state), encoding="utf-8")
        temp.replace(path)
