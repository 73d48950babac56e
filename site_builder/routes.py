"""What a preview request names: a file of the built site, a redirect, or nothing.

Input: a request target, the folder of the built site and the path the site lives
under. Output: a ``Target``, and each file's ``Content-Type``. Nothing outside the
site's folder is ever named, whatever the target says; requests from hosts that are
not this machine are told apart (``allowed_host``).
"""

from __future__ import annotations

import ipaddress
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

_FEED_TYPES = {
    "feed.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}
# Fixed here rather than left to the system's mime.types, which differs between machines.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}
_TEXTUAL = ("text/", "+xml", "+json", "/json", "/xml", "/javascript")


def content_type(name: str) -> str:
    """The Content-Type for a file name; text types say they are UTF-8."""
    lower = name.lower()
    suffix = lower[lower.rfind(".") :] if "." in lower else ""
    kind = (
        _FEED_TYPES.get(lower)
        or _TYPES.get(suffix)
        or mimetypes.guess_type(lower)[0]
        or "application/octet-stream"
    )
    textual = kind.startswith("text/") or kind.endswith(_TEXTUAL)
    return f"{kind}; charset=utf-8" if textual else kind


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One complete HTTP response (live-reload events are streamed instead)."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # more headers: (name, value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What a request path names: a file, a folder without its slash, nothing, or a bad path."""

    kind: Literal["file", "redirect", "missing", "bad"]
    file: Path | None = None
    rel: str = ""  # the file, relative to output/: what a rebuild reports as written
    location: str = ""


def _request_path(target: str) -> str | None:
    """The decoded path of a request target, or None when it cannot be a site path."""
    raw = target.split("#", 1)[0].split("?", 1)[0]
    if raw.startswith(("http://", "https://")):
        raw = urlsplit(raw).path  # absolute-form request target
    if not raw.startswith("/") or "\\" in raw:
        return None
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    return None if "\\" in path or "\0" in path else path


def _inside(path: Path, root: Path) -> Path | None:
    """``path`` with symlinks followed, if it still lies inside ``root``."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return None
    return real if real.is_relative_to(root) else None


def resolve(output: Path, target: str, base: str = "/") -> Target:
    """Map a request target to a file under ``output`` and never to anything outside it.

    The site is served under ``base``, the path of its base_url ("/" or "/project/"),
    so that the preview's links are the published site's; the server's root and the
    base without its slash lead there. Every segment is checked after
    percent-decoding, so ``%2e%2e`` and ``%2f`` are caught like ``..`` and ``/``;
    hidden names (the builder's marker and temporary files) are never served;
    symlinks are followed and must stay inside.
    """
    path = _request_path(target)
    if path is None:
        return Target(kind="bad")
    query = target.partition("?")[2].split("#", 1)[0]
    query = f"?{query}" if query else ""
    inside = unquote(base)
    if not path.startswith(inside):
        at_root = path in ("/", inside.rstrip("/"))
        return Target(kind="redirect", location=base + query) if at_root else Target(kind="missing")
    segments = [s for s in path[len(inside) :].split("/") if s]
    if any(s.startswith(".") for s in segments):
        return Target(kind="bad")
    root = output.resolve()
    found = _inside(root.joinpath(*segments), root)
    if found is not None and found.is_dir():
        if segments and not path.endswith("/"):
            location = base + "/".join(quote(s) for s in segments) + "/"
            return Target(kind="redirect", location=location + query)
        segments.append("index.html")
        found = _inside(found / "index.html", root)
    if found is None or not found.is_file():
        return Target(kind="missing")
    return Target(kind="file", file=found, rel="/".join(segments))


def allowed_host(header: str | None, listening: str) -> bool:
    """Whether a request's ``Host`` names this machine as the preview knows it.

    A web page the editor visits can make its own host name resolve to 127.0.0.1
    (DNS rebinding) and read the preview, drafts included, as same-origin: its
    requests carry that host name. An address typed as digits cannot be rebound, and
    ``localhost`` names only this machine; anything else must be the ``--host`` given.
    """
    if not header:
        return False
    name = header.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else ""
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    name = name.rstrip(".")
    if name == "localhost" or name.endswith(".localhost") or name == listening.lower():
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
