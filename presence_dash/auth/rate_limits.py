"""Rate limits on sign-in and actions, the sign-in lockouts and cool-downs, and the limit on
anonymous noise, on the `limits` library (the engine under Flask-Limiter): a moving window
in memory, or in Redis when the app runs several nodes behind a message queue, so every
node counts the same attempts."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class RateLimits:
    def __init__(self, storage_uri: str = "memory://") -> None:
        self._storage = storage.storage_from_string(storage_uri)
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)

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

    def count(self, limit: str, *key: str) -> int:
        """How many hits the window of `limit` holds now."""
        item = parse(limit)
        _reset, remaining = self._limiter.get_window_stats(item, *key)
        return item.amount - remaining

    def clear(self, limit: str, *key: str) -> None:
        self._limiter.clear(parse(limit), *key)

    def hold(self, seconds: float, *key: str) -> None:
        """Start (or restart) a cool-down of `seconds` on `key`."""
        name = _hold_key(key)
        self._storage.clear(name)
        self._storage.incr(name, seconds)

    def held(self, *key: str) -> Verdict:
        """Refused while a cool-down started by `hold` runs, with the seconds left."""
        name = _hold_key(key)
        if self._storage.get(name) <= 0:
            return Verdict(True)
        left = self._storage.get_expiry(name) - time.time()
        return Verdict(False, max(1, math.ceil(left)))

    def _retry_after(self, item: RateLimitItem, key: tuple[str, ...]) -> int:
        reset, _remaining = self._limiter.get_window_stats(item, *key)
        return max(1, int(reset - time.time()) + 1)


def _hold_key(key: tuple[str, ...]) -> str:
    return "presence-dash-hold/" + "/".join(key)
