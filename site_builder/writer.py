"""Writer stage: rendered files → ``output/``, never half-written.

A full build fills a staging folder beside ``output/`` and swaps the two in one
step; an incremental build replaces single files with ``os.replace``. Only a
folder carrying the builder's marker file is ever replaced or deleted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from site_builder.errors import SiteError

MARKER = ".site-builder-output"
_MARKER_TEXT = b"This folder is written by site-builder; its contents are replaced on build.\n"
_RENAME_EXCHANGE = 2


class OutputError(SiteError):
    """The output folder cannot be written safely."""


def safe_target(root: Path, rel: str) -> Path:
    """``root/rel``, or an error when ``rel`` could land outside ``root``."""
    parts = PurePosixPath(rel).parts
    bad = (
        not parts
        or rel.startswith("/")
        or "\\" in rel
        or "\0" in rel
        or any(part in ("..", ".") or part.startswith("\0") for part in parts)
    )
    if bad:
        raise OutputError(f"refusing to write {rel!r}: the path leaves the output folder")
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


def recover(output: Path) -> None:
    """Undo what an interrupted build left behind: restore a moved-aside site, drop staging."""
    old = [p for p in _siblings(output, "old") if is_owned(p)]
    if not output.exists() and old:
        old[-1].rename(output)
    for leftover in [*_siblings(output, "staging"), *_siblings(output, "old")]:
        if leftover.exists() and is_owned(leftover):
            shutil.rmtree(leftover, ignore_errors=True)


def write_tree(folder: Path, files: Iterable[tuple[str, bytes]]) -> int:
    """Write every file into a new ``folder``; return how many were written."""
    folder.mkdir(parents=True)
    (folder / MARKER).write_bytes(_MARKER_TEXT)
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
        shutil.rmtree(staging)
        return
    aside = output.parent / f".{output.name}.old-{os.getpid()}"
    output.rename(aside)
    staging.rename(output)
    shutil.rmtree(aside)


def staging_dir(output: Path) -> Path:
    return output.parent / f".{output.name}.staging-{os.getpid()}"


def write_site(output: Path, files: Iterable[tuple[str, bytes]], *, force: bool = False) -> int:
    """Write a whole site and swap it in; on any failure ``output`` is left as it was."""
    output.parent.mkdir(parents=True, exist_ok=True)
    recover(output)
    check_replaceable(output, force=force)
    staging = staging_dir(output)
    try:
        count = write_tree(staging, files)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_in(staging, output)
    return count


def replace_file(output: Path, rel: str, data: bytes) -> None:
    """Write one file so readers see the old bytes or the new ones, never a mix."""
    target = safe_target(output, rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temp.write_bytes(data)
    temp.replace(target)


def remove_files(output: Path, rels: Iterable[str]) -> None:
    """Delete files that are no longer part of the site, and folders left empty."""
    for rel in rels:
        target = safe_target(output, rel)
        target.unlink(missing_ok=True)
        for parent in target.parents:
            if parent == output or not parent.is_relative_to(output) or any(parent.iterdir()):
                break
            parent.rmdir()
