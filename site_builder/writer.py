"""Writer stage: rendered files → ``output/``, never half-written.

A full build fills a staging folder beside ``output/`` and swaps the two in one
step. An incremental build does the same with a staging folder made of hard links
to the current files, in which only the changed files are written. So a reader, or
a build killed at any moment, sees the whole previous site or the whole new one.
Only a folder carrying the builder's marker file is ever replaced or deleted, and
the marker is the first file written and the last one removed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from site_builder.errors import SiteError

MARKER = ".site-builder-output"
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
    return root.joinpath(*parts)


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


def write_tree(folder: Path, files: Iterable[tuple[str, bytes]]) -> int:
    """Write every file into a new ``folder``; return how many were written."""
    _start_tree(folder)
    count = 0
    for rel, data in files:
        target = safe_target(folder, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        count += 1
    return count


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step where the kernel can (Linux renameat2)."""
    libc_name = ctypes.util.find_library("c")
    if os.name != "posix" or libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
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
    with _reported(output):
        output.parent.mkdir(parents=True, exist_ok=True)
        recover(output)
        check_replaceable(output, force=force)
        count = write_tree(staging_dir(output), files)
        swap_in(staging_dir(output), output)
    return count


def _link(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a symlink stays a symlink); else a copy."""
    try:
        os.link(source, target, follow_symlinks=False)
    except (OSError, NotImplementedError):  # no hard links here: FAT, some network shares
        shutil.copy2(source, target, follow_symlinks=False)


def link_tree(source: Path, target: Path) -> None:
    """A new ``target`` holding ``source``'s files as hard links: no bytes are copied."""
    _start_tree(target)
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        into = target / here.relative_to(source)
        for name in [*dirnames, *filenames]:
            path = here / name
            if name in dirnames and not path.is_symlink():
                (into / name).mkdir()
            elif not (here == source and name == MARKER):
                _link(path, into / name)


def update_site(output: Path, files: Iterable[tuple[str, bytes]], removed: Iterable[str]) -> int:
    """Change some files of an owned ``output`` and remove others, in one swap.

    Readers, and a build killed at any moment, see the previous site or the new one.
    Costs a hard link per unchanged file, no copying of their bytes.
    """
    staging, count = staging_dir(output), 0
    with _reported(output):
        recover(output)
        check_replaceable(output)
        link_tree(output, staging)
        remove_files(staging, removed)
        for rel, data in files:
            target = safe_target(staging, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            # A hard link shares its bytes with the live site: unlink, never overwrite.
            target.unlink(missing_ok=True)
            target.write_bytes(data)
            count += 1
        swap_in(staging, output)
    return count


def remove_files(output: Path, rels: Iterable[str]) -> None:
    """Delete files that are no longer part of the site, and folders left empty."""
    for rel in rels:
        target = safe_target(output, rel)
        target.unlink(missing_ok=True)
        for parent in target.parents:
            if parent == output or not parent.is_relative_to(output) or any(parent.iterdir()):
                break
            parent.rmdir()


def replace_files(output: Path, files: Iterable[tuple[str, bytes]]) -> int:
    """Rewrite some files of an owned ``output`` in place, each one atomically.

    For the preview server, which holds requests back while it writes: far cheaper
    than a staged swap of a large site. A process killed midway leaves some files new
    and some old, so the caller forgets its manifest first and the next build starts over.
    """
    count = 0
    with _reported(output):
        if not is_owned(output):
            raise OutputError(f"{output.name}/ was not made by site-builder", path=output.name)
        for rel, data in files:
            target = safe_target(output, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
            temp.write_bytes(data)
            temp.replace(target)
            count += 1
    return count
