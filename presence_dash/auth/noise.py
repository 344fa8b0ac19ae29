"""Anonymous noise: requests from someone not signed in to paths that do not exist, or that
the gate refuses (401 sign in first, 403 cross-site or CSRF). Scanners and broken scripts
send thousands; one audit row each (with the body) filled the log at 300 rows a second.

Counted instead: per client address in windows of WINDOW_SECONDS, one audit row when an
address starts a window (the first request: method, path, status; never the body) and one
when the window closes, with how many requests it held, their statuses and a few sample
paths. The rate limit on them (429) is the gate's, through RateLimits. Pure: time is passed
in, the caller writes the rows.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 60.0
LIMIT = "60 per minute"  # anonymous noise per address before 429s
MAX_ADDRESSES = 1000  # windows held at once; more addresses share the "*" window
MAX_SAMPLE_PATHS = 5
MAX_PATH_CHARS = 200


@dataclass(frozen=True)
class NoiseRow:
    """One audit row's worth: `count` requests from `addr` in the window."""

    addr: str
    target: str
    status: int
    params: dict[str, Any]


@dataclass
class _Window:
    started: float
    first_path: str
    count: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)

    def add(self, method: str, path: str, status: int) -> None:
        self.count += 1
        self.statuses[status] += 1
        self.methods[method] += 1
        if path not in self.paths and len(self.paths) < MAX_SAMPLE_PATHS:
            self.paths.append(path)

    def summary(self, addr: str) -> NoiseRow:
        status = max(self.statuses, key=lambda s: (self.statuses[s], s))
        return NoiseRow(
            addr,
            self.first_path,
            status,
            {
                "window_s": WINDOW_SECONDS,
                "count": self.count,
                "statuses": {str(s): n for s, n in sorted(self.statuses.items())},
                "methods": dict(sorted(self.methods.items())),
                "paths": self.paths,
            },
        )


class NoiseCounter:
    def __init__(self, window_seconds: float = WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def note(self, addr: str, method: str, path: str, status: int, now: float) -> list[NoiseRow]:
        """Count one noisy request; returns the rows to write now (a closed window of this
        address, and the opening row of a new one)."""
        path = path[:MAX_PATH_CHARS]
        rows: list[NoiseRow] = []
        with self._lock:
            if addr not in self._windows and len(self._windows) >= MAX_ADDRESSES:
                addr = "*"
            window = self._windows.get(addr)
            if window is not None and now - window.started >= self.window_seconds:
                rows += _closed(addr, self._windows.pop(addr))
                window = None
            if window is None:
                window = self._windows[addr] = _Window(now, path)
                rows.append(
                    NoiseRow(addr, path, status, {"first_of_window": True, "method": method})
                )
            window.add(method, path, status)
        return rows

    def due(self, now: float, everything: bool = False) -> list[NoiseRow]:
        """Summaries of windows that have closed (all of them at shutdown)."""
        with self._lock:
            closed = [
                a
                for a, w in self._windows.items()
                if everything or now - w.started >= self.window_seconds
            ]
            return [row for a in closed for row in _closed(a, self._windows.pop(a))]


def _closed(addr: str, window: _Window) -> list[NoiseRow]:
    """A window of one request said all there was in its opening row."""
    return [window.summary(addr)] if window.count > 1 else []
