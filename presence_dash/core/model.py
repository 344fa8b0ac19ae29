"""The values that flow through the app: people, statuses, observations, provider health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """A person's availability; `rules.PRECEDENCE` says which wins when sources disagree."""

    ONLINE = "online"
    BUSY = "busy"  # on a call, in a meeting, do not disturb (CONTRACT v1.1)
    AWAY = "away"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class ProviderState(StrEnum):
    """A provider's health as users see it in the health strip."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Person:
    """Someone whose availability we show, with their id in each vendor system."""

    id: str
    name: str
    team: str
    source_ids: dict[str, str] = field(default_factory=dict, hash=False, compare=True)


@dataclass(frozen=True)
class Observation:
    """One provider's view of one person at one moment."""

    person_id: str
    source: str
    status: Status
    observed_at: datetime
    detail: str | None = None  # the vendor's raw state, e.g. "on-the-phone"
    activity: str | None = None  # short human text, e.g. "On the phone"
    # When this source's current state began, from the vendor's own time stamps (our clock);
    # None when the vendor does not say (the board then uses when it first saw the state).
    state_since: datetime | None = None


@dataclass(frozen=True)
class ProviderHealth:
    state: ProviderState
    last_success: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class SourceView:
    """What the board publishes about one source of one person."""

    status: Status
    detail: str | None
    observed_at: datetime
    stale: bool
    activity: str | None = None


@dataclass(frozen=True)
class PersonView:
    """What the board publishes about one person (CONTRACT: PERSON)."""

    id: str
    name: str
    team: str
    status: Status
    since: datetime
    detail: str | None
    sources: dict[str, SourceView] = field(hash=False)
    activity: str | None = None
    activity_source: str | None = None
    # False when `since` is only when this process first saw the state ("for at least").
    since_exact: bool = True

    def same_state(self, other: PersonView | None) -> bool:
        """True when nothing a user can see changed (observation times aside)."""
        if other is None or self._key() != other._key():
            return False
        if self.sources.keys() != other.sources.keys():
            return False
        return all(
            (s.status, s.detail, s.activity, s.stale) == (o.status, o.detail, o.activity, o.stale)
            for s, o in ((self.sources[k], other.sources[k]) for k in self.sources)
        )

    def _key(self) -> tuple[object, ...]:
        return (self.status, self.detail, self.activity, self.activity_source, self.since)
