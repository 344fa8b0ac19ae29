"""Rate limits on sign-in and actions, and the per-user sign-in lockout, on the `limits`
library (the engine under Flask-Limiter): a moving window in memory, or in Redis when the
app runs several nodes behind a message queue, so every node counts the same attempts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimits:
    def __init__(self, storage_uri: str = "memory://") -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def hit(self, limit: str | RateLimitItem, *key: str) -> Verdict:
        """Count one attempt; refused when the window is already full."""
        item = parse(limit) if isinstance(limit, str) else limit
        if self._limiter.hit(item, *key):
            return Verdict(True)
        return Verdict(False, self._retry_after(item, key))

    def exhausted(self, limit: str, *key: str) -> Verdict:
        """Whether the window is full, without counting (the lockout check before a
        password is even looked at)."""
        item = parse(limit)
        if self._limiter.test(item, *key):
            return Verdict(True)
        return Verdict(False, self._retry_after(item, key))

    def clear(self, limit: str, *key: str) -> None:
        self._limiter.clear(parse(limit), *key)

    def _retry_after(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset, _remaining = self._limiter.get_window_stats(item, *key)
        return max(1, int(reset - time.time()) + 1)
