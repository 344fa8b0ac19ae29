"""The presence board: every person's sources, their aggregate status, and the change log.

Pure state and logic: callers pass the time in, nothing here sleeps or does I/O. Providers
`apply` observations and `record_failure`s; the push hub `publish`es batches of changed people,
each batch numbered by `seq`; clients that missed batches ask `changes_since(seq)`.

`since` (when a person's current status began) follows docs/api.md "Time in state": the
vendor's own time stamps where a source has them, the moment we saw the change when we saw it
happen, and first-seen (`since_exact = False`) when we only know the state, not its start.
`restore` seeds the board with the state saved before a restart, so a restart changes no
timer and publishes nothing for people whose state did not change meanwhile.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from presence_dash.core.model import (
    Observation,
    Person,
    PersonView,
    ProviderHealth,
    ProviderState,
    SourceView,
    Status,
)
from presence_dash.core.rules import aggregate_status, is_stale


@dataclass(frozen=True)
class Transition:
    """A person's aggregate status changed (kept for history)."""

    person_id: str
    old: Status
    new: Status
    at: datetime


@dataclass(frozen=True)
class SourceTransition:
    """One source of a person changed what it counts as (kept for history): its status, or
    its activity within a status. A stale source counts as unknown, with no activity."""

    person_id: str
    source: str
    old: Status
    new: Status
    activity: str | None
    detail: str | None
    at: datetime


@dataclass(frozen=True)
class Batch:
    seq: int
    changes: list[PersonView]
    transitions: list[Transition]
    source_transitions: list[SourceTransition] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    seq: int
    people: list[PersonView]
    providers: dict[str, ProviderHealth]


@dataclass(frozen=True)
class PeopleDelta:
    """What changed for a snapshot since a caller's `mark` (`people_delta`): the people whose
    visible state changed (with their new version), and those whose only change is their
    sources' `observed_at` (which moves on every poll while nothing else does)."""

    mark: int  # pass it back next time
    seq: int
    changed: list[tuple[int, PersonView]]
    observed: dict[str, tuple[datetime, ...]]  # per person, per source in name order
    providers: dict[str, ProviderHealth]


@dataclass(frozen=True)
class SourceSince:
    """When one source's current state began, and whether that is known or first-seen."""

    at: datetime
    exact: bool


@dataclass(frozen=True)
class SavedSource:
    status: Status
    detail: str | None
    activity: str | None
    since: datetime
    since_exact: bool


@dataclass(frozen=True)
class SavedPerson:
    """A person's state as last published, kept across restarts (board_state.py)."""

    status: Status
    since: datetime
    since_exact: bool
    saved_at: datetime
    sources: dict[str, SavedSource]


@dataclass(frozen=True)
class SavedBoard:
    people: dict[str, SavedPerson]
    last_success: dict[str, datetime]  # per provider


# An unknown spell (provider outage, restart) shorter than this does not reset a timer when
# the person comes back in the state they were in: an outage of the dashboard's view is not
# a change of the person's state. Longer gaps start again from what the vendor says.
RESTORE_WITHIN = timedelta(minutes=10)

_SourceKey = tuple[str, Status, str | None, str | None, bool]
# (status, detail, activity, activity_source, sources)
_StateKey = tuple[Status, str | None, str | None, str | None, tuple[_SourceKey, ...]]
_UNKNOWN_KEY: _StateKey = (Status.UNKNOWN, None, None, None, ())


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
        self._src_since: dict[str, dict[str, SourceSince]] = {pid: {} for pid in self._people}
        self._since = dict.fromkeys(self._people, now)
        self._since_exact = dict.fromkeys(self._people, False)
        # While True, `since` is a first estimate (the person came from unknown) that better
        # vendor time stamps arriving later may still improve.
        self._provisional = dict.fromkeys(self._people, True)
        # The last known state before an unknown spell: (status, since, exact, until).
        self._before_unknown: dict[str, tuple[Status, datetime, bool, datetime]] = {}
        # Per person, the sources whose status (or freshness) changed in this step, with when
        # that change happened: what a status change is dated by.
        self._triggers: dict[str, dict[str, SourceSince]] = {}
        self._key: dict[str, _StateKey] = dict.fromkeys(self._people, _UNKNOWN_KEY)
        self._dirty: dict[str, None] = {}  # insertion-ordered set
        # For incremental snapshots (people_delta): a version per person that grows when what
        # a user sees of them changes, and who was touched (seen or changed) when, latest last.
        self._pver = dict.fromkeys(self._people, 0)
        self._touches = 0
        self._touched: dict[str, int] = {pid: 0 for pid in self._people}
        self._transitions: list[Transition] = []
        self._source_transitions: list[SourceTransition] = []
        # Per person and source, the time of its last recorded change: a vendor's start time
        # may lie before it (a state that began while the source was stale), and a source's
        # history must stay in order.
        self._src_changed: dict[str, dict[str, datetime]] = {pid: {} for pid in self._people}
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
            touched, ignored = self._store(source, observations, now)
            state = ProviderState.DEGRADED if warning else ProviderState.OK
            self._set_health(source, ProviderHealth(state, now, warning))
            if source in self._stale:
                self._stale.discard(source)
                self._touch_source(source, touched, SourceSince(now, False))
            self._recompute(touched, now)
        return ignored

    def push(self, source: str, observations: Iterable[Observation], now: datetime) -> int:
        """Observations a vendor pushed between refreshes (an event): applied like a
        refresh's, but they say nothing about the provider's health or freshness."""
        with self._lock:
            touched, ignored = self._store(source, observations, now)
            self._recompute(touched, now)
        return ignored

    def _store(
        self, source: str, observations: Iterable[Observation], now: datetime
    ) -> tuple[set[str], int]:
        """Keep each observation; (people whose source changed, observations ignored because
        the person is unknown or the source is not `source`). Caller holds the lock."""
        touched: set[str] = set()
        ignored = 0
        stale = source in self._stale
        last = self._health[source].last_success if source in self._health else None
        # After a long blind spell a source's old start time says nothing any more.
        forget = stale and (last is None or now - last > RESTORE_WITHIN)
        for obs in observations:
            per_person = self._obs.get(obs.person_id)
            if per_person is None or obs.source != source:
                ignored += 1
                continue
            old = per_person.get(source)
            per_person[source] = obs
            self._touch(obs.person_id)  # observed_at moved
            since = self._src_since[obs.person_id]
            if obs.state_since is not None:  # the vendor says: believe it (never the future)
                since[source] = SourceSince(min(obs.state_since, now), True)
            elif old is None or stale:  # a state we did not see begin
                if forget or old is None or old.status != obs.status or source not in since:
                    since[source] = SourceSince(now, False)
            elif old.status != obs.status:  # we saw it change, within a refresh
                since[source] = SourceSince(now, True)
            if old is None or _source_key(old) != _source_key(obs):
                touched.add(obs.person_id)
                if old is None or old.status != obs.status:
                    self._triggers.setdefault(obs.person_id, {})[source] = since[source]
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

    def restore(self, saved: SavedBoard, now: datetime) -> int:
        """Seed the board with the state saved before a restart (call before any `apply`);
        sources count as fresh while their provider's saved last success is, so a quick
        restart shows and publishes nothing new. Returns how many people were restored."""
        with self._lock:
            restored = 0
            for name, last in saved.last_success.items():
                if name in self._health:
                    self._health[name] = ProviderHealth(ProviderState.DEGRADED, last, "starting")
            for pid, person in saved.people.items():
                if pid not in self._people:
                    continue  # no longer configured
                wanted = set(self._people[pid].source_ids) & set(self._stale_after)
                for name, src in person.sources.items():
                    if name not in wanted:
                        continue
                    self._obs[pid][name] = Observation(
                        pid, name, src.status, person.saved_at, src.detail, src.activity
                    )
                    self._src_since[pid][name] = SourceSince(src.since, src.since_exact)
                self._since[pid] = person.since
                self._since_exact[pid] = person.since_exact
                self._provisional[pid] = not person.since_exact
                if person.status is not Status.UNKNOWN:
                    # Last confirmed: the latest refresh of any of the person's providers.
                    seen = max(
                        [person.saved_at]
                        + [t for n, t in saved.last_success.items() if n in person.sources]
                    )
                    self._before_unknown[pid] = (
                        person.status,
                        person.since,
                        person.since_exact,
                        seen,
                    )
                restored += 1
            self._stale = {
                name
                for name, after in self._stale_after.items()
                if is_stale(self._health[name].last_success, now, after)
            }
            for pid in self._people:
                self._key[pid] = self._state_key(pid) if self._obs[pid] else _UNKNOWN_KEY
                self._pver[pid] += 1
                self._touch(pid)
                saved_person = saved.people.get(pid)
                status = self._key[pid][0]
                if saved_person and status not in (saved_person.status, Status.UNKNOWN):
                    # the sources say otherwise than the saved status (config changed)
                    self._set_since(pid, now, exact=False, provisional=True)
            self._version += 1
            return restored

    def saved(self, now: datetime, person_ids: Iterable[str] | None = None) -> SavedBoard:
        """What `restore` takes: the published state of these people (default: everyone)
        and each provider's last success."""
        with self._lock:
            wanted = self._people if person_ids is None else person_ids
            people = {
                pid: SavedPerson(
                    self._key[pid][0],
                    self._since[pid],
                    self._since_exact[pid],
                    now,
                    {
                        name: SavedSource(
                            obs.status,
                            obs.detail,
                            obs.activity,
                            self._src_since[pid][name].at,
                            self._src_since[pid][name].exact,
                        )
                        for name, obs in self._obs[pid].items()
                    },
                )
                for pid in wanted
                if pid in self._people
            }
            last = {n: h.last_success for n, h in self._health.items() if h.last_success}
            return SavedBoard(people, last)

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
            by_source, self._source_transitions = self._source_transitions, []
            return Batch(self._seq, [self._view(pid) for pid in ids], transitions, by_source)

    def continue_from(self, seq: int) -> None:
        """Number the next batch after `seq`: a worker taking over continues the stream its
        predecessor published (cluster/feed_log.continue_seq). The change log is dropped,
        since its numbers were this board's own."""
        with self._lock:
            if seq > self._seq:
                self._seq = seq
                self._log.clear()
                self._version += 1

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

    def people_delta(self, mark: int, known: dict[str, int]) -> PeopleDelta:
        """People touched after `mark` (-1: everyone), for a caller that keeps each person's
        rendering: a full view for those whose version is not the one in `known`, only the
        observation times for the others. Everyone in `people()` order is theirs to keep."""
        with self._lock:
            changed: list[tuple[int, PersonView]] = []
            observed: dict[str, tuple[datetime, ...]] = {}
            for pid, touch in reversed(self._touched.items()):
                if touch <= mark:
                    break  # latest first: the rest were already seen
                version = self._pver[pid]
                if known.get(pid) == version:
                    obs = self._obs[pid]
                    observed[pid] = tuple(obs[name].observed_at for name in sorted(obs))
                else:
                    changed.append((version, self._view(pid)))
            return PeopleDelta(self._touches, self._seq, changed, observed, dict(self._health))

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
                # Turning stale happens now, as we stop believing the source; turning fresh
                # again says nothing of when its state began.
                self._touch_source(source, touched, SourceSince(now, stale))
        self._recompute(touched, now)

    def _touch_source(self, source: str, touched: set[str], when: SourceSince) -> None:
        """Every person with `source` needs a recompute: it turned stale or fresh."""
        for pid, obs in self._obs.items():
            if source in obs:
                touched.add(pid)
                self._triggers.setdefault(pid, {}).setdefault(source, when)

    def _recompute(self, person_ids: Iterable[str], now: datetime) -> None:
        changed = False
        for pid in person_ids:
            key = self._state_key(pid)
            old = self._key[pid]
            if key[0] != old[0]:
                self._status_changed(pid, old[0], key[0], now)
            elif self._provisional[pid] and key[0] is not Status.UNKNOWN:
                self._estimate_since(pid, key[0], now)  # a later source may know better
            if key[4] != old[4]:
                self._record_sources(pid, old[4], key[4], now)
            if key != old:
                self._key[pid] = key
                self._changed(pid)
                changed = True
        self._triggers.clear()
        if changed:
            self._on_dirty()

    def _status_changed(self, pid: str, old: Status, new: Status, now: datetime) -> None:
        """Set `since` for a new aggregate status and record the transition."""
        previous = self._since[pid]
        if new is Status.UNKNOWN:
            self._before_unknown[pid] = (old, previous, self._since_exact[pid], now)
            self._set_since(pid, now, exact=True, provisional=False)
        elif old is Status.UNKNOWN:
            kept = self._before_unknown.pop(pid, None)
            if kept and kept[0] is new and now - kept[3] <= RESTORE_WITHIN:
                self._set_since(pid, kept[1], exact=kept[2], provisional=not kept[2])
            else:
                self._estimate_since(pid, new, now)
        else:
            # We saw it change: it began when the sources that changed began their new
            # states (the vendor's times where known, else now), never before the old one.
            triggers = list(self._triggers.get(pid, {}).values())
            at = max((t.at for t in triggers), default=now)
            exact = all(t.exact for t in triggers)
            if self._since_exact[pid]:  # only a first-seen start may have been earlier
                at = max(at, previous)
            self._set_since(pid, min(at, now), exact=exact, provisional=False)
        self._transitions.append(Transition(pid, old, new, self._since[pid]))

    def _record_sources(
        self, pid: str, old: tuple[_SourceKey, ...], new: tuple[_SourceKey, ...], now: datetime
    ) -> None:
        """Record each source whose status or activity changed, dated like `since`: by when
        the source's new state began where it changed status, else now. A source back from
        stale counts again from now: it was unknown to us until then, whatever it says."""
        triggers = self._triggers.get(pid, {})
        last = self._src_changed[pid]
        was = {src[0]: (_counts_as(src), src[4]) for src in old}
        for src in new:
            name, status, detail, activity = src[0], *_counts_as(src)
            before, was_stale = was.get(name, ((Status.UNKNOWN, None, None), False))
            if (before[0], before[2]) == (status, activity):
                continue
            at = min(triggers[name].at, now) if name in triggers and not was_stale else now
            at = max(at, last.get(name, at))
            last[name] = at
            self._source_transitions.append(
                SourceTransition(pid, name, before[0], status, activity, detail, at)
            )

    def _estimate_since(self, pid: str, status: Status, now: datetime) -> None:
        """A status we did not see begin: the latest vendor start among the fresh sources
        that report it (exact when all of them say), else first-seen (now, not exact)."""
        starts = [
            self._src_since[pid][name]
            for name, obs in self._obs[pid].items()
            if obs.status is status and name not in self._stale and name in self._src_since[pid]
        ]
        known = [s.at for s in starts if s.exact]
        if known:
            at, exact = min(max(known), now), len(known) == len(starts)
        else:
            at, exact = (self._since[pid] if self._key[pid][0] is status else now), False
        if (at, exact) != (self._since[pid], self._since_exact[pid]):
            self._changed(pid)
            self._on_dirty()
        self._set_since(pid, at, exact=exact, provisional=not exact)

    def _changed(self, pid: str) -> None:
        """What users see of `pid` changed: in the next batch, and a new rendering."""
        self._dirty[pid] = None
        self._version += 1
        self._pver[pid] += 1
        self._touch(pid)

    def _touch(self, pid: str) -> None:
        self._touches += 1
        self._touched.pop(pid, None)  # to the end: one entry per person, however often
        self._touched[pid] = self._touches

    def _set_since(self, pid: str, at: datetime, *, exact: bool, provisional: bool) -> None:
        self._since[pid] = at
        self._since_exact[pid] = exact
        self._provisional[pid] = provisional

    def _state_key(self, pid: str) -> _StateKey:
        sources = tuple(
            (name, obs.status, obs.detail, obs.activity, name in self._stale)
            for name, obs in sorted(self._obs[pid].items())
        )
        fresh = [src for src in sources if not src[4]]
        status = aggregate_status(src[1] for src in fresh)
        # The source that decides: one reporting the winning status, preferably with an
        # activity to show ("On the phone"), else the first by name.
        deciding = [src for src in fresh if src[1] is status]
        chosen = next((src for src in deciding if src[3]), deciding[0] if deciding else None)
        if chosen is None:
            return status, None, None, None, sources
        return status, chosen[2], chosen[3], chosen[0], sources

    def _view(self, pid: str) -> PersonView:
        person = self._people[pid]
        status, detail, activity, activity_source, _ = self._key[pid]
        sources = {
            name: SourceView(
                obs.status, obs.detail, obs.observed_at, name in self._stale, obs.activity
            )
            for name, obs in sorted(self._obs[pid].items())
        }
        return PersonView(
            person.id,
            person.name,
            person.team,
            status,
            self._since[pid],
            detail,
            sources,
            activity,
            activity_source,
            self._since_exact[pid],
        )


def _counts_as(src: _SourceKey) -> tuple[Status, str | None, str | None]:
    """(status, detail, activity) of a source as the aggregate counts it: stale is unknown."""
    _, status, detail, activity, stale = src
    return (Status.UNKNOWN, None, None) if stale else (status, detail, activity)


def _source_key(obs: Observation) -> tuple[Status, str | None, str | None]:
    """What of one observation a user can see change."""
    return obs.status, obs.detail, obs.activity
