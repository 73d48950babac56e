"""How far a long build has got, on one terminal line redrawn in place.

Only on a terminal, and only for stages long enough to watch: in CI logs and
pipes the build prints its one-line summary and nothing else.
"""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 28  # characters of the bar
MIN_TOTAL = 200  # smaller stages finish before a bar is worth drawing
INTERVAL = 0.1  # seconds between redraws
_CLEAR = "\r\x1b[K"  # carriage return, erase to the end of the line


class TerminalProgress:
    """A ``Progress`` that draws ``Rendering Markdown [#####.....] 1,234/10,000``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total < MIN_TOTAL:
            return
        now = time.monotonic()
        if done < total and now - self._drawn_at < INTERVAL:
            return
        self._drawn_at = now
        filled = WIDTH * done // total
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"{_CLEAR}{stage} [{bar}] {done:,}/{total:,}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the line, so the summary or the errors start on a clean one."""
        if self._shown:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._shown = False
