"""The preview's ``/_inbox/``: candidates with Publish and Discard buttons.

Input: a request the server already knows is addressed to this machine (its ``Host``
was checked), the site's config, the path the site is served under and the token the
server made for this run. Output: a ``Reply``. The buttons run the same code as
``site-builder publish`` and ``discard``; the watcher then sees the files move.

A POST changes the site, so it must come from the inbox page itself: its ``Origin``
must be the preview's own address, and its form must carry the token, which only a
page the preview served holds (a page on another site can send a form, not read one).
"""

from __future__ import annotations

import hmac
from datetime import datetime

from site_builder.config import SiteConfig
from site_builder.errors import SiteError
from site_builder.inbox import inbox_action, inbox_page, read_inbox_form
from site_builder.routes import Reply

INBOX = "_inbox/"
MAX_FORM = 4_096  # bytes: a form is an action, a path and a token
# Buttons that change the site must not be framed by another page (clickjacking).
_NOT_FRAMED = (("X-Frame-Options", "DENY"), ("Content-Security-Policy", "frame-ancestors 'none'"))
_TEXT = "text/plain; charset=utf-8"


def is_inbox(path: str, base: str) -> bool:
    """Whether a request path (without its query) names the inbox page."""
    return path in (base + INBOX, base + INBOX.rstrip("/"))


def inbox_reply(config: SiteConfig, *, token: str, base: str) -> Reply:
    page = inbox_page(config, token=token, base_path=base)
    return Reply(status=200, content_type="text/html; charset=utf-8", body=page, extra=_NOT_FRAMED)


def inbox_post(
    config: SiteConfig,
    *,
    token: str,
    base: str,
    host: str,
    origin: str | None,
    body: bytes,
    now: datetime,
) -> Reply:
    """Run a Publish or Discard button; back to the inbox, or why not."""
    if origin != f"http://{host}":
        return _refused(403, "a button of the inbox may only be pressed on the inbox page")
    form = read_inbox_form(body)
    if isinstance(form, SiteError):
        return _refused(400, form.report())
    if not hmac.compare_digest(form.token.encode(), token.encode()):
        return _refused(403, "this form is from an earlier preview; reload the inbox page")
    done = inbox_action(config, form.action, form.path, now)
    if isinstance(done, SiteError):
        return _refused(400, done.report())
    return Reply(status=303, content_type=_TEXT, body=b"", location=base + INBOX)


def _refused(status: int, why: str) -> Reply:
    return Reply(status=status, content_type=_TEXT, body=f"{why}\n".encode(), extra=_NOT_FRAMED)
