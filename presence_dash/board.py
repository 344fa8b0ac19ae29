"""The presence board: every person's sources, their aggregate status, and the change log.

Pure state and logic: callers pass the time in, nothing here sleeps or does I/O. Providers
`apply` observations and `record_failure`s; the push hub `publish`es batches of changed people,
each batch numbered by `seq`; clients that missed batches ask `changes_since(seq)`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import (
    Observation,
    Person,
    PersonView,
    ProviderHealth,
    ProviderState,
    SourceView,
    Status,
)
from .rules import aggregate_status, is_stale


@dataclass(frozen=True)
class Transition:
    """A person's aggregate status changed (kept for history)."""

    person_id: str
    old: Status
    new: Status
    at: datetime


@dataclass(frozen=True)
class Batch:
    seq: int
    changes: list[PersonView]
    transitions: list[Transition]


@dataclass(frozen=True)
class Snapshot:
    seq: int
    people: list[PersonView]
    providers: dict[str, ProviderHealth]


_StateKey = tuple[Status, str | None, tuple[tuple[str, Status, str | None, bool], ...]]


class PresenceBoard:
    """Thread-safe; all methods are short and never block on I/O."""

    def __init__(
        self,
        people: Iterable[Person],
        stale_after: dict[str, timedelta],
        now: datetime,
        *,
        change_log_size: int = 1024,
        on_dirty: Callable[[], None] = lambda: None,
    ) -> None:
        self._lock = threading.Lock()
        ordered = sorted(people, key=lambda p: (p.team.casefold(), p.name.casefold(), p.id))
        self._people = {p.id: p for p in ordered}
        self._stale_after = dict(stale_after)
        self._health = {
            name: ProviderHealth(ProviderState.DEGRADED, None, "starting") for name in stale_after
        }
        self._stale = set(stale_after)  # no successful refresh yet
        self._obs: dict[str, dict[str, Observation]] = {pid: {} for pid in self._people}
        self._since = dict.fromkeys(self._people, now)
        self._key: dict[str, _StateKey] = {pid: (Status.UNKNOWN, None, ()) for pid in self._people}
        self._dirty: dict[str, None] = {}  # insertion-ordered set
        self._transitions: list[Transition] = []
        self._health_dirty = False
        self._seq = 0
        self._version = 0  # grows with anything a snapshot would show differently
        self._log: deque[tuple[int, frozenset[str]]] = deque(maxlen=change_log_size)
        self._on_dirty = on_dirty

    # -- inputs -----------------------------------------------------------------------------

    def apply(
        self,
        source: str,
        observations: Iterable[Observation],
        now: datetime,
        *,
        warning: str | None = None,
    ) -> int:
        """Record a successful refresh of `source` and its observations; return how many
        observations were for unknown people (ignored). A `warning` (the refresh worked but
        something needs attention) makes the provider degraded with that message."""
        with self._lock:
            touched, ignored = self._store(source, observations)
            state = ProviderState.DEGRADED if warning else ProviderState.OK
            self._set_health(source, ProviderHealth(state, now, warning))
            if source in self._stale:
                self._stale.discard(source)
                touched.update(self._people_with(source))
            self._recompute(touched, now)
        return ignored

    def push(self, source: str, observations: Iterable[Observation], now: datetime) -> int:
        """Observations a vendor pushed between refreshes (an event): applied like a
        refresh's, but they say nothing about the provider's health or freshness."""
        with self._lock:
            touched, ignored = self._store(source, observations)
            self._recompute(touched, now)
        return ignored

    def _store(self, source: str, observations: Iterable[Observation]) -> tuple[set[str], int]:
        """Keep each observation; (people whose source changed, observations ignored because
        the person is unknown or the source is not `source`). Caller holds the lock."""
        touched: set[str] = set()
        ignored = 0
        for obs in observations:
            per_person = self._obs.get(obs.person_id)
            if per_person is None or obs.source != source:
                ignored += 1
                continue
            old = per_person.get(source)
            per_person[source] = obs
            if old is None or (old.status, old.detail) != (obs.status, obs.detail):
                touched.add(obs.person_id)
        return touched, ignored

    def record_failure(self, source: str, state: ProviderState, error: str, now: datetime) -> None:
        """A refresh failed: keep the last data (until it turns stale) and say why."""
        with self._lock:
            last = self._health.get(source)
            self._set_health(
                source, ProviderHealth(state, last.last_success if last else None, error)
            )
            self._refresh_locked(now)

    def refresh(self, now: datetime) -> None:
        """Re-evaluate staleness; call it about once a second."""
        with self._lock:
            self._refresh_locked(now)

    # -- outputs ----------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def version(self) -> int:
        """Changes whenever a snapshot would differ (lets callers cache snapshots)."""
        return self._version

    def publish(self) -> Batch | None:
        """Take the people changed since the last batch as a new numbered batch."""
        with self._lock:
            if not self._dirty:
                return None
            self._seq += 1
            ids = list(self._dirty)
            self._dirty.clear()
            self._log.append((self._seq, frozenset(ids)))
            transitions, self._transitions = self._transitions, []
            return Batch(self._seq, [self._view(pid) for pid in ids], transitions)

    def take_health_change(self) -> dict[str, ProviderHealth] | None:
        with self._lock:
            if not self._health_dirty:
                return None
            self._health_dirty = False
            return dict(self._health)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                self._seq, [self._view(pid) for pid in self._people], dict(self._health)
            )

    def changes_since(self, seq: int) -> tuple[int, list[PersonView]] | None:
        """People changed after batch `seq`, or None when the log no longer reaches back
        that far (or `seq` is from another server run): the caller then sends a snapshot."""
        with self._lock:
            if seq > self._seq or seq < 0:
                return None
            if seq == self._seq:
                return self._seq, []
            if not self._log or self._log[0][0] > seq + 1:
                return None
            ids: dict[str, None] = {}
            for batch_seq, batch_ids in self._log:
                if batch_seq > seq:
                    ids.update(dict.fromkeys(sorted(batch_ids)))
            return self._seq, [self._view(pid) for pid in ids]

    def person(self, person_id: str) -> PersonView | None:
        with self._lock:
            return self._view(person_id) if person_id in self._people else None

    def health(self) -> dict[str, ProviderHealth]:
        with self._lock:
            return dict(self._health)

    def people(self) -> list[Person]:
        return list(self._people.values())

    # -- internals (lock held) --------------------------------------------------------------

    def _set_health(self, source: str, health: ProviderHealth) -> None:
        old = self._health.get(source)
        self._health[source] = health
        self._version += 1  # last_success moved
        if old is None or (old.state, old.error) != (health.state, health.error):
            self._health_dirty = True
            self._on_dirty()

    def _refresh_locked(self, now: datetime) -> None:
        touched: set[str] = set()
        for source, after in self._stale_after.items():
            stale = is_stale(self._health[source].last_success, now, after)
            if stale != (source in self._stale):
                (self._stale.add if stale else self._stale.discard)(source)
                touched.update(self._people_with(source))
        self._recompute(touched, now)

    def _people_with(self, source: str) -> list[str]:
        return [pid for pid, obs in self._obs.items() if source in obs]

    def _recompute(self, person_ids: Iterable[str], now: datetime) -> None:
        changed = False
        for pid in person_ids:
            key = self._state_key(pid)
            old = self._key[pid]
            if key == old:
                continue
            self._key[pid] = key
            if key[0] != old[0]:
                self._since[pid] = now
                self._transitions.append(Transition(pid, old[0], key[0], now))
            self._dirty[pid] = None
            self._version += 1
            changed = True
        if changed:
            self._on_dirty()

    def _state_key(self, pid: str) -> _StateKey:
        sources = tuple(
            (name, obs.status, obs.detail, name in self._stale)
            for name, obs in sorted(self._obs[pid].items())
        )
        fresh = [(status, detail) for _, status, detail, stale in sources if not stale]
        status = aggregate_status(s for s, _ in fresh)
        detail = next((d for s, d in fresh if s == status), None)
        return status, detail, sources

    def _view(self, pid: str) -> PersonView:
        person = self._people[pid]
        status, detail, _ = self._key[pid]
        sources = {
            name: SourceView(obs.status, obs.detail, obs.observed_at, name in self._stale)
            for name, obs in sorted(self._obs[pid].items())
        }
        return PersonView(
            person.id, person.name, person.team, status, self._since[pid], detail, sources
        )
