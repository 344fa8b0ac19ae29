"""One Redis connection pool per process, with timeouts, and the latency and reachability
every cluster module reports (`/metrics`, `/readyz`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.startup_checks import safe_url

log = logging.getLogger(__name__)

T = TypeVar("T")
TIMEOUT_S = 2.0
# Blocking reads (XREADGROUP BLOCK, BLPOP) wait this long at most; the socket timeout of
# their client is longer, or redis-py would call a quiet Redis unreachable.
BLOCK_S = 1.0


class RedisDown(Exception):
    """Redis did not answer: what every caller turns into a clear state, never a crash."""


class RedisLink:
    """`call(fn)` runs one Redis operation, timing it and remembering whether Redis answers;
    after a failure the next call simply tries again (redis-py reconnects), so a Redis
    restart needs no restart of ours."""

    def __init__(self, url: str, metrics: ClusterMetrics, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self.metrics = metrics
        # A short leader TTL needs a short timeout: a renewal that hangs for longer than the
        # TTL would outlive the lease it is renewing.
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        self.blocking = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=BLOCK_S + timeout_s
        )
        self._lock = threading.Lock()
        self._error: str | None = None

    @property
    def error(self) -> str | None:
        """None while Redis answers; else the last failure, for /readyz."""
        return self._error

    def call(self, what: str, fn: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            result = fn()
        except (redis.RedisError, OSError) as exc:
            self._failed(what, exc)
            raise RedisDown(f"redis {safe_url(self.url)}: {what}: {exc}") from exc
        self.metrics.redis_seconds.observe(time.perf_counter() - started)
        self._answered()
        return result

    def ping(self) -> str | None:
        """None when Redis answers a PING, else the problem."""
        try:
            self.call("ping", self.client.ping)
        except RedisDown as exc:
            return str(exc)
        return None

    def _failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            first = self._error is None
            self._error = f"{what}: {exc}"
        self.metrics.redis_up.set(0)
        self.metrics.redis_errors.inc()
        if first:  # one line per outage, not one per call
            log.error("redis %s unreachable (%s: %s); retrying", safe_url(self.url), what, exc)

    def _answered(self) -> None:
        with self._lock:
            was, self._error = self._error, None
        self.metrics.redis_up.set(1)
        if was is not None:
            log.info("redis %s answers again", safe_url(self.url))
