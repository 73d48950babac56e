"""Import stage, links: a converted post body → the same body with no link that breaks.

Input is a post's Markdown (with raw HTML), the ``Refs`` of every imported post, and the
folders of SRC where the old site's files are; output is the body with each link
rewritten and the files to copy. A link to an old post's address leads to the imported
article; a file the post uses is copied from SRC when it is there; any other page of
the old site becomes an absolute link to it; ``shopify.com`` becomes
``https://shopify.com``. Code is left as written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from site_builder.errors import SiteError, SiteWarning
from site_builder.importer.oldurls import Refs, page_path
from site_builder.importer.posts import MARKDOWN, Post
from site_builder.importer.report import ImportNote

MAX_COPY_BYTES = 50_000_000  # a file larger than this is left on the old site
_CODE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^[ \t]*(?P=fence)[ \t]*$"
    r"|<(?P<tag>pre|code|script|style)\b.*?</(?P=tag)\s*>"
    r"|(?P<ticks>`+)[^`\n](?:[^\n]|\n(?!\n))*?(?P=ticks)"
    # Shortcodes and Liquid left for a human: their arguments are not links yet.
    r"|\{\{[<%].*?[>%]\}\}|\{%.*?%\}",
    re.DOTALL | re.MULTILINE | re.IGNORECASE,
)
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_LINK = re.compile(
    r"\]\(\s*<?(?P<md>[^\s<>()]*(?:\([^\s()]*\)[^\s<>()]*)*)>?"
    r"|^[ ]{0,3}\[[^\]\n]+\]:[ \t]*<?(?P<ref>[^\s<>]+)>?"
    r"|\b(?:href|src|poster)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')"
    r"|<(?P<auto>https?://[^\s<>]+)>",
    re.MULTILINE | re.IGNORECASE,
)
# A host name as people write one without a scheme: "shopify.com", "www.x.org/a".
_BARE_HOST = re.compile(r"(?:www\.)?(?:[a-z0-9-]+\.)+(?P<tld>[a-z]{2,12})(?::\d+)?(?:[/?#]|$)")
_FILE_ENDINGS = frozenset((
    "html", "htm", "php", "asp", "aspx", "jsp", "md", "markdown", "txt", "png", "jpg", "jpeg",
    "gif", "svg", "webp", "pdf", "zip", "gz", "tgz", "css", "js", "json", "xml", "rss", "atom",
    "rb", "py", "gem", "mov", "mp4", "mp3", "webm", "ico", "yml", "yaml", "csv",
))  # fmt: skip
_HEADING = re.compile(r"^(?P<marks>#{1,6})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_SAME_PAGE = re.compile(r"""(?:\]\(|href=["'])#(?P<fragment>[^)"'\s]+)""")
_LEFT_ALONE = ("#", "mailto:", "tel:", "data:", "javascript:", "{", "%7B")


@dataclass(slots=True, kw_only=True)
class Files:
    """Where the old site's own files may be, and those the posts use: target → source."""

    src: Path
    roots: tuple[Path, ...]  # folders of SRC that the old site served at its root
    copies: dict[str, Path] = field(default_factory=dict)

    def find(self, path: str) -> Path | None:
        """The file in SRC served at root-relative ``path``, never one outside SRC."""
        for root in self.roots:
            found = _inside(root, path)
            if found is not None:
                return found
        return None

    def near(self, post: Post, relative: str) -> Path | None:
        """A file beside the post in SRC (a Hugo bundle's, a Pelican ``{static}`` one)."""
        return _inside(self.src / post.folder, relative) if self.src.is_dir() else None


def _inside(root: Path, path: str) -> Path | None:
    clean = posixpath.normpath("/" + unquote(path).split("?", 1)[0]).lstrip("/")
    if not clean or "\0" in clean:
        return None
    candidate = root / clean
    try:
        inside = candidate.resolve().is_relative_to(root.resolve())
        usable = inside and candidate.is_file()
    except (OSError, ValueError):
        return None
    if not usable or candidate.suffix.lower() in MARKDOWN:
        return None
    return candidate


@dataclass(slots=True, kw_only=True)
class _Rewrite:
    post: Post
    refs: Refs
    files: Files
    problems: list[SiteError] = field(default_factory=list)

    def report(self, kind: type[SiteError], url: str, message: str) -> None:
        body = self.post.front.body
        at = body.find(url)
        line = self.post.front.body_line + (body.count("\n", 0, at) if at >= 0 else 0)
        self.problems.append(kind(message, path=self.post.source, line=line))


def rewrite_links(body: str, post: Post, refs: Refs, files: Files) -> tuple[str, list[SiteError]]:
    """``body`` with every link that would break after the move rewritten."""
    job = _Rewrite(post=post, refs=refs, files=files)
    body = _outside_code(body, lambda text: _LINK.sub(lambda m: _one(job, m), text))
    return _anchor_headings(body), job.problems


def _anchor_headings(body: str) -> str:
    """Give a heading the id a ``#fragment`` in the post expects when the old site's
    Markdown (GitHub's or kramdown's way) would have given it that id."""
    wanted = {unquote(m["fragment"]) for m in _SAME_PAGE.finditer(body)}
    if not wanted:
        return body

    def anchor(found: re.Match[str]) -> str:
        text = found["text"]
        given = [i for i in (_github_id(text), _kramdown_id(text)) if i in wanted]
        if text.endswith("}") or not given:
            return found[0]
        return f"{found['marks']} {text} {{#{given[0]}}}"

    fences = [(m.start(), m.end()) for m in _FENCE.finditer(body)]
    out, pos = [], 0
    for found in _HEADING.finditer(body):  # a heading line may hold `code`: not _outside_code
        if not any(start <= found.start() < end for start, end in fences):
            out += [body[pos : found.start()], anchor(found)]
            pos = found.end()
    return "".join([*out, body[pos:]])


def _github_id(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _kramdown_id(text: str) -> str:
    kept = re.sub(r"[^a-z0-9 -]", "", text.lower()).lstrip(" -0123456789")
    return kept.replace(" ", "-")


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    out, pos = [], 0
    for code in _CODE.finditer(text):
        out += [change(text[pos : code.start()]), code[0]]
        pos = code.end()
    out.append(change(text[pos:]))
    return "".join(out)


def _one(job: _Rewrite, found: re.Match[str]) -> str:
    group = next(name for name in ("md", "ref", "dq", "sq", "auto") if found[name] is not None)
    url = found[group]
    new = _new_url(job, url.strip())
    if new is None or new == url:
        return found[0]
    start, end = found.start(group) - found.start(), found.end(group) - found.start()
    whole = found[0]
    return whole[:start] + new + whole[end:]


def _new_url(job: _Rewrite, url: str) -> str | None:
    if not url or url.startswith(_LEFT_ALONE) or "{{" in url or "{%" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") or url.startswith("//"):
        same = (parts.hostname or "").lower().removeprefix("www.") == job.refs.old.host
        return _internal(job, url, parts) if same and job.refs.old.host else None
    if _is_bare_host(url, scheme):
        fixed = "https://" + url
        job.report(SiteWarning, url, f"link {url!r} has no scheme; made it {fixed!r}: check it")
        return fixed
    if scheme:
        return None
    return _relative(job, url, parts)


def _is_bare_host(url: str, scheme: str) -> bool:
    if scheme and "." not in scheme:  # "localhost:3000" parses as a scheme; "x.com:80" too
        return False
    found = _BARE_HOST.match(url.lower())
    return found is not None and found["tld"] not in _FILE_ENDINGS


def _relative(job: _Rewrite, url: str, parts: SplitResult) -> str | None:
    """A root-relative or relative link, read as the old site read it."""
    if parts.path.startswith("/"):
        return _internal(job, url, parts)
    beside = job.files.near(job.post, parts.path)
    if beside is not None:
        target = f"/articles/{job.post.slug}/{posixpath.normpath(unquote(parts.path))}"
        job.files.copies.setdefault("content" + target, beside)
        return target + _tail(parts)
    post = job.refs.named(posixpath.join(job.post.folder, parts.path)) if parts.path else None
    if post is not None:
        return post + _fragment(parts)
    base = job.post.old_urls[0] if job.post.old_urls else "/" + job.post.folder + "/"
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base), parts.path))
    return _internal(job, url, parts._replace(path=joined if joined != "." else "/"))


def _internal(job: _Rewrite, url: str, parts: SplitResult) -> str | None:
    """A path on the old site: an imported post, a file from SRC, else the old site."""
    path = parts.path or "/"
    post = job.refs.at(path)
    if post is not None:
        return post + _fragment(parts)
    if (here := job.refs.local.get(page_path(path))) is not None:  # this site has it too
        return here + _tail(parts)
    found = job.files.find(path)
    if found is not None and found.stat().st_size <= MAX_COPY_BYTES:
        clean = posixpath.normpath("/" + unquote(path).lstrip("/"))
        job.files.copies.setdefault("content" + clean, found)
        return clean + _tail(parts)
    old = job.refs.old.absolute(path)
    if old is not None:
        new = old + _tail(parts)
        if new != url:
            job.report(ImportNote, url, f"link {url!r} is not an imported post; it leads to {new}")
        return new
    job.report(
        SiteWarning,
        url,
        f"link {url!r} leads to a page of the old site that was not imported; "
        "give --old-url to link to the old site",
    )
    return None


def _fragment(parts: SplitResult) -> str:
    return f"#{parts.fragment}" if parts.fragment else ""


def _tail(parts: SplitResult) -> str:
    return (f"?{parts.query}" if parts.query else "") + _fragment(parts)
