"""Per-client event rate limit for Socket.IO: a token bucket per connection, and the rule
that a client which keeps flooding is cut off. Pure logic; time is passed in.

One client sending 1,000 `resync` events a second once stalled the whole server (issue 11):
each event cost a handler, a snapshot and a log line. A browser sends a handful of events a
minute (connect, a resync after a gap), so 20 a second with a small burst never touches one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.Enum):
    ALLOW = "allow"
    DROP = "drop"  # over the limit: the event is ignored
    DISCONNECT = "disconnect"  # over the limit for too long: the client is cut off


@dataclass(frozen=True)
class EventLimit:
    per_second: float = 20.0
    burst: int = 40
    # Dropping for this long (with no quiet second in between) disconnects the client.
    disconnect_after_s: float = 3.0
    # A second without a dropped event ends a flood: a short burst is forgiven.
    quiet_s: float = 1.0


DEFAULT_LIMIT = EventLimit()


@dataclass
class _Bucket:
    tokens: float
    refilled_at: float
    flood_since: float | None = None
    last_drop: float = 0.0


class EventBuckets:
    """One bucket per client id; `forget` it when the client goes."""

    def __init__(self, limit: EventLimit = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, client: str, now: float) -> Verdict:
        limit = self.limit
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(float(limit.burst), now)
        elapsed = max(0.0, now - bucket.refilled_at)
        bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_second)
        bucket.refilled_at = now
        if bucket.flood_since is not None and now - bucket.last_drop >= limit.quiet_s:
            bucket.flood_since = None
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict.ALLOW
        # Refilled tokens let a flooding client through ~per_second times a second; the
        # flood lasts until a quiet second, not until the next allowed event.
        if bucket.flood_since is None:
            bucket.flood_since = now
        bucket.last_drop = now
        if now - bucket.flood_since >= limit.disconnect_after_s:
            return Verdict.DISCONNECT
        return Verdict.DROP

    def forget(self, client: str) -> None:
        self._buckets.pop(client, None)

    def __len__(self) -> int:
        return len(self._buckets)
