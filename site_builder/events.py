"""Live reload: what a rebuild changed, told to every open page as Server-Sent Events.

Input: each build's result (or its errors). Output: the events open pages receive
(reload, swap a stylesheet, show or clear the errors), kept for pages that connect
late, and the script tag injected into every HTML page as it is served.
"""

from __future__ import annotations

import json
import queue
import secrets
import threading
from collections import deque
from dataclasses import dataclass

from site_builder.fresh import BuildResult

SCRIPT_PATH = "/__site_builder__/reload.js"
_HISTORY = 64  # events kept for pages that connect late (see Events.subscribe)


def script_tag(rel: str, status: int, generation: str, base: str = "/") -> bytes:
    """The tag that loads the reload script, telling it which file this page is and
    the path the site is served under."""
    attrs = (
        f'data-file="{_attr(rel)}" data-status="{status}" data-generation="{generation}" '
        f'data-base="{_attr(base)}"'
    )
    return f'<script src="{SCRIPT_PATH}" {attrs}></script>'.encode()


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def inject(html: bytes, tag: bytes) -> bytes:
    """Put ``tag`` before the last ``</body>``, or at the end when there is none."""
    at = html.lower().rfind(b"</body")
    return html + tag if at < 0 else html[:at] + tag + html[at:]


@dataclass(frozen=True, slots=True)
class _Event:
    generation: int
    name: str  # "reload" | "css" | "error" | "ok"
    data: str  # JSON

    def encode(self, token: str) -> bytes:
        return f"id: {token}-{self.generation}\nevent: {self.name}\ndata: {self.data}\n\n".encode()


Inbox = queue.SimpleQueue[_Event | None]


class Events:
    """Hands every build event to every open page, and replays the recent ones.

    A page may be served just before a build finishes but connect just after; it
    sends the generation it was served at (``since``), and gets what it missed.
    """

    def __init__(self) -> None:
        self.token = secrets.token_hex(4)  # a page from an earlier server run reloads
        self._lock = threading.Lock()
        self._inboxes: set[Inbox] = set()
        self._history: deque[_Event] = deque(maxlen=_HISTORY)
        self._forgotten = 0  # the newest generation dropped from the history
        self._generation = 0
        self._state = _Event(0, "ok", "{}")

    def current(self) -> str:
        with self._lock:
            return f"{self.token}-{self._generation}"

    def publish(self, name: str, data: object) -> None:
        with self._lock:
            self._generation += 1
            event = _Event(self._generation, name, json.dumps(data))
            if name in ("error", "ok"):
                self._state = event
            else:
                if len(self._history) == self._history.maxlen:
                    self._forgotten = self._history[0].generation
                self._history.append(event)
            for inbox in self._inboxes:
                inbox.put(event)

    def subscribe(self, since: str) -> Inbox:
        inbox: Inbox = queue.SimpleQueue()
        with self._lock:
            for event in self._missed(since):
                inbox.put(event)
            inbox.put(_Event(self._generation, self._state.name, self._state.data))
            self._inboxes.add(inbox)
        return inbox

    def _missed(self, since: str) -> list[_Event]:
        token, _, number = since.rpartition("-")
        if not since:
            return []
        everything = [_Event(self._generation, "reload", json.dumps({"all": True, "files": []}))]
        if token != self.token or not number.isdigit():
            return everything
        seen = int(number)
        if seen < self._forgotten:
            return everything  # older than the history kept: be safe and reload
        return [e for e in self._history if e.generation > seen]

    def unsubscribe(self, inbox: Inbox) -> None:
        with self._lock:
            self._inboxes.discard(inbox)

    def close(self) -> None:
        with self._lock:
            for inbox in self._inboxes:
                inbox.put(None)


def change_event(result: BuildResult) -> tuple[str, dict[str, object]] | None:
    """The event for what a build changed: ``css`` when only stylesheets changed."""
    files = sorted({*result.written, *result.removed})
    if not files:
        return None
    if all(f.endswith(".css") for f in files):
        return "css", {"files": files}
    pages = [f for f in result.written if f.endswith(".html")]
    if result.pages and len(pages) >= result.pages:
        # A shared template changed: every page reloads, no need to list them all.
        return "reload", {"all": True, "files": [f for f in files if not f.endswith(".html")]}
    return "reload", {"all": False, "files": files}


def next_message(inbox: Inbox, token: str, heartbeat: float) -> bytes | None:
    """The next event for one open page, a heartbeat after ``heartbeat`` seconds of
    silence, or ``None`` when the server stops."""
    try:
        event = inbox.get(timeout=heartbeat)
    except queue.Empty:
        return b": heartbeat\n\n"
    return None if event is None else event.encode(token)
