"""Fetching a feed: one GET with a User-Agent naming the site, conditional on the last
answer's validators, with a cap on the decoded size and a deadline for the whole body."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from site_builder import __version__
from site_builder.config import SiteConfig
from site_builder.inbox import Validators

if TYPE_CHECKING:
    import httpx

_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How much a source may cost: the HTTP client's bounds."""

    timeout: float = 30.0  # seconds for a whole feed, slow servers included
    max_bytes: int = 10_000_000  # after gzip; real feeds are a few hundred kB
    max_redirects: int = 5
    workers: int = 8  # feeds fetched at once
    max_items: int = 500  # per feed; more is a broken or hostile feed


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    url: str  # where the feed was found, after redirects
    body: bytes  # empty when not modified
    content_type: str
    validators: Validators
    not_modified: bool = False


def user_agent(config: SiteConfig) -> str:
    return f"site-builder/{__version__} ({config.title}; +{config.base_url})"


def make_client(config: SiteConfig, limits: Limits) -> httpx.Client:
    import httpx  # noqa: PLC0415 - only ingest uses the network

    return httpx.Client(
        headers={"User-Agent": user_agent(config), "Accept": _ACCEPT},
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=True,
        max_redirects=limits.max_redirects,
        limits=httpx.Limits(max_connections=limits.workers),
    )


def fetch(client: httpx.Client, url: str, known: Validators, limits: Limits) -> Fetched | str:
    """GET one feed, conditionally; the reason it failed otherwise."""
    import httpx  # noqa: PLC0415 - see make_client

    headers = {}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    deadline = time.monotonic() + limits.timeout
    try:
        with client.stream("GET", url, headers=headers) as response:
            return _answer(response, known, limits, deadline)
    except httpx.TooManyRedirects:
        return f"more than {limits.max_redirects} redirects"
    except httpx.TimeoutException:
        return f"no answer within {limits.timeout:g} s"
    except httpx.HTTPError as exc:
        return f"cannot fetch: {exc or type(exc).__name__}"
    except (httpx.InvalidURL, UnicodeError) as exc:
        return f"cannot fetch: {exc}"


def _answer(
    response: httpx.Response, known: Validators, limits: Limits, deadline: float
) -> Fetched | str:
    final = str(response.url)
    if response.status_code == 304:
        return Fetched(url=final, body=b"", content_type="", validators=known, not_modified=True)
    if response.status_code != 200:
        return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    size = response.headers.get("Content-Length", "")
    if size.isdigit() and int(size) > limits.max_bytes:
        return f"larger than {limits.max_bytes:,} bytes (Content-Length {int(size):,})"
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_bytes():  # gzip decoded: the cap is on what is parsed
        total += len(chunk)
        if total > limits.max_bytes:
            return f"larger than {limits.max_bytes:,} bytes"
        if time.monotonic() > deadline:
            return f"took longer than {limits.timeout:g} s"
        chunks.append(chunk)
    validators = Validators(
        etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified")
    )
    content_type = response.headers.get("Content-Type", "")
    return Fetched(
        url=final, body=b"".join(chunks), content_type=content_type, validators=validators
    )
