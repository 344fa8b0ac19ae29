"""Leader election between workers: a Redis lock with a TTL whose value is a fencing token.

The holder renews the lock every third of `leader_ttl_s`; a standby tries to take it a few
times per TTL, so it leads within about one TTL of the leader's last renewal (kill -9). The
token goes with every write the leader makes (board_feed.py checks it inside Redis), so a
leader that lost the lock without noticing (a pause, a partition) has every write refused.
The decisions (`after_renewal`, `next_wait`) are pure; `RedisLease` and `Elector` do I/O.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisDown, RedisLink

log = logging.getLogger(__name__)

# A leader counts its term as over this long before the lock can expire in Redis: it measures
# from when it *sent* the renewal (Redis starts the TTL later), and clocks drift a little.
SAFETY_MARGIN_S = 0.2


@dataclass(frozen=True)
class Term:
    token: str  # the fencing token: "<term number>:<worker id>", the lock's value
    number: int
    valid_until: float  # monotonic seconds; past this the lock may belong to someone else


class Renewal(Enum):
    HELD = "held"  # renewed (or re-claimed after Redis lost its data)
    LOST = "lost"  # someone else holds the lock
    UNREACHABLE = "unreachable"  # Redis did not answer


def started_term(token: str, sent_at: float, ttl_s: float) -> Term:
    return Term(token, int(token.split(":", 1)[0]), sent_at + ttl_s - SAFETY_MARGIN_S)


def after_renewal(
    term: Term, outcome: Renewal, sent_at: float, now: float, ttl_s: float
) -> Term | None:
    """The term after one renewal attempt, or None when it is over. While Redis does not
    answer the leader keeps leading until its lease would have run out, and not a moment
    longer: by then a standby may hold the lock."""
    if outcome is Renewal.HELD:
        return replace(term, valid_until=sent_at + ttl_s - SAFETY_MARGIN_S)
    if outcome is Renewal.LOST or now >= term.valid_until:
        return None
    return term


def next_wait(leading: bool, ttl_s: float) -> float:
    """Seconds until the next attempt: a leader renews three times per TTL (two renewals may
    fail before its lease runs out); a standby tries often, since a try is one SET NX."""
    return ttl_s / 3 if leading else min(ttl_s / 5, 1.0)


_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local number = redis.call('INCR', KEYS[2])
local token = number .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
return token
"""

# Held: extend. Missing while our term is still valid: Redis restarted and lost its data
# (nobody else can have taken it, or the key would be there), so the term goes on.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    def __init__(self, link: RedisLink, keys: ClusterKeys, worker_id: str, ttl_s: float) -> None:
        self.link = link
        self.keys = keys
        self.worker_id = worker_id
        self.ttl_ms = int(ttl_s * 1000)
        client = link.client
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self) -> str | None:
        """The new term's token, or None while another worker holds the lock."""
        token = self.link.call(
            "acquire leader lock",
            lambda: self._acquire(
                keys=[self.keys.lock, self.keys.terms], args=[self.worker_id, self.ttl_ms]
            ),
        )
        return token.decode() if token else None

    def renew(self, token: str) -> Renewal:
        try:
            held = self.link.call(
                "renew leader lock",
                lambda: self._renew(keys=[self.keys.lock], args=[token, self.ttl_ms]),
            )
        except RedisDown:
            return Renewal.UNREACHABLE
        return Renewal.HELD if held else Renewal.LOST

    def release(self, token: str) -> None:
        """Give the lock up now (a clean stop), so the standby need not wait out the TTL."""
        self.link.call(
            "release leader lock", lambda: self._release(keys=[self.keys.lock], args=[token])
        )

    def holder(self) -> str | None:
        value = self.link.call("read leader lock", lambda: self.link.client.get(self.keys.lock))
        return value.decode() if value else None


class Elector:
    """Runs the election loop; `on_elected(term)` and `on_deposed(reason)` are called from
    its task. `depose(reason)` ends the term from outside (a fenced write was refused)."""

    def __init__(
        self,
        lease: RedisLease,
        ttl_s: float,
        *,
        sleep: Callable[[float], object],
        monotonic: Callable[[], float],
        on_elected: Callable[[Term], object],
        on_deposed: Callable[[str], object],
        metrics: ClusterMetrics,
    ) -> None:
        self.lease = lease
        self.ttl_s = ttl_s
        self.sleep = sleep
        self.monotonic = monotonic
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.metrics = metrics
        self.term: Term | None = None
        self._stopped = False

    def run_forever(self) -> None:
        while not self._stopped:
            try:
                self.step()
            except Exception:  # a bug must not end the election loop
                log.exception("leader election: unexpected error; continuing")
            self.sleep(next_wait(self.term is not None, self.ttl_s))

    def step(self) -> None:
        sent_at = self.monotonic()
        if self.term is None:
            try:
                token = self.lease.acquire()
            except RedisDown:
                return  # RedisLink logged it once
            if token is not None:
                self._elected(started_term(token, sent_at, self.ttl_s))
            return
        current = self.term
        outcome = self.lease.renew(current.token)
        if self.term is not current:
            return  # deposed meanwhile (a fenced write), by another task
        term = after_renewal(current, outcome, sent_at, self.monotonic(), self.ttl_s)
        if term is None:
            self.depose(
                "another worker holds the lock"
                if outcome is Renewal.LOST
                else f"Redis did not answer for {self.ttl_s:g} s (leader_ttl_s)"
            )
        else:
            self.term = term

    def depose(self, reason: str) -> None:
        if self.term is None:
            return
        log.warning("leader: term %d over: %s; standing by", self.term.number, reason)
        self.term = None
        self.metrics.leader.set(0)
        self.on_deposed(reason)

    def stop(self) -> None:
        """Stop campaigning and give the lock up if we hold it."""
        self._stopped = True
        term, self.term = self.term, None
        if term is not None:
            self.metrics.leader.set(0)
            with contextlib.suppress(RedisDown):  # else it expires within the TTL
                self.lease.release(term.token)

    def _elected(self, term: Term) -> None:
        self.term = term
        self.metrics.leader.set(1)
        self.metrics.term.set(term.number)
        if term.number > 1:
            self.metrics.failovers.inc()
        log.info("leader: term %d begins (%s)", term.number, self.lease.worker_id)
        self.on_elected(term)
