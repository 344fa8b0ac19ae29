"""Secrets kept only as SHA-256 digests (sign-in ids, wall links), and the short-lived,
bounded per-node cache of their lookups: every request and socket event of a browser asks
whether its secret is still good, and a change on another node is seen within `seconds`."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_MISS = object()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class LookupCache(Generic[T]):
    """digest -> the answer the database gave, for `seconds`; at most `max_entries`
    (cleared whole when full: a flood of made-up secrets cannot grow it)."""

    def __init__(
        self, monotonic: Callable[[], float], seconds: float = 2.0, max_entries: int = 1000
    ) -> None:
        self.monotonic = monotonic
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def lookup(self, key: str, load: Callable[[], T]) -> T:
        """The cached answer for `key`, or `load()`'s (then cached)."""
        now = self.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = load()
        self.put(key, value, now)
        return value

    def put(self, key: str, value: T, now: float | None = None) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (self.monotonic() if now is None else now, value)

    def refresh(self, answers: dict[str, T]) -> None:
        """Fresher answers for keys already cached (a sweep that asked the database)."""
        now = self.monotonic()
        with self._lock:
            for key, value in answers.items():
                if key in self._entries:
                    self._entries[key] = (now, value)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
