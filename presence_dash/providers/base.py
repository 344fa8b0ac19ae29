"""The provider interface: a provider turns one vendor's API into observations.

Providers never touch Flask or Socket.IO. A polling provider implements `poll()`; its
`ProviderRunner` (runner.py) owns the loop, backoff and health. Failures are typed, as in
Home Assistant's coordinator: `AuthFailed` needs a human (provider down), `UpdateFailed` is
transient (degraded until the data turns stale).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests

from presence_dash.core.clock import Clock
from presence_dash.core.model import Observation, Person

if TYPE_CHECKING:
    from presence_dash.config import Settings
    from presence_dash.providers.notes import ProviderNotes


class ProviderError(Exception):
    """A refresh failed; the message is shown to users in the health strip."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpdateFailed(ProviderError):
    """Transient: timeouts, 5xx, 429, malformed bodies. Retried with backoff."""


class AuthFailed(ProviderError):
    """Credentials refused: retrying soon will not help."""


@dataclass(frozen=True)
class ProviderContext:
    """What a provider is built from (one signature for every vendor's factory)."""

    settings: Settings
    people: Sequence[Person]
    http: requests.Session
    clock: Clock
    notes: ProviderNotes


@dataclass(frozen=True)
class HookRequest:
    """An inbound vendor call to `/hooks/<provider>[/<path>]`, stripped of Flask."""

    method: str
    path: str
    args: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str | None


@dataclass(frozen=True)
class HookResponse:
    status: int
    body: str = ""
    content_type: str = "text/plain"
    refresh: bool = False  # ask the runner to refresh now (a push notification)
    # What the callback itself tells (e.g. a logout event): applied at once, before and
    # whatever the refresh brings, so an event shows even while the vendor's API fails.
    observations: tuple[Observation, ...] = ()


class PollingProvider(ABC):
    """One vendor, refreshed on an interval. Subclasses set `name` and implement `poll`.

    Push providers are polling providers too: `poll_seconds` is their resync interval, and
    `handle_hook` answers the vendor's callbacks, asking for an immediate refresh."""

    name: str = ""
    # Set by `poll` when the refresh worked but something needs a human's attention.
    health_warning: str | None = None
    # HTTP requests the last `poll` made, for the requests-per-poll metric; None: not counted.
    requests_last_poll: int | None = None

    def __init__(self, people: Sequence[Person], http: requests.Session, clock: Clock) -> None:
        self.people = [p for p in people if self.name in p.source_ids]
        self.http = http
        self.clock = clock
        # One vendor account may stand for several people entries (someone in two teams):
        # it is asked about once and reported for each.
        self.people_by_vendor_id: dict[str, list[str]] = {}
        for person in self.people:
            vendor_id = self.normalize_id(person.source_ids[self.name])
            self.people_by_vendor_id.setdefault(vendor_id, []).append(person.id)

    def normalize_id(self, vendor_id: str) -> str:
        """How this vendor compares ids (e.g. case-insensitive URIs)."""
        return vendor_id

    @property
    @abstractmethod
    def poll_seconds(self) -> float:
        """Time between successful polls; staleness is 3x this."""

    @property
    def next_poll_seconds(self) -> float:
        """Wait before the next refresh after a success (a push provider may shorten it)."""
        return self.poll_seconds

    @property
    def retry_seconds(self) -> float:
        """First wait after a failed refresh; the backoff grows from it. A push provider
        whose resync interval is long retries sooner than that."""
        return self.poll_seconds

    @property
    def max_backoff_seconds(self) -> float:
        """Longest wait between retries for failures that fix themselves: the config's
        `max_backoff_seconds`, else the retry interval + 5 s (docs/reliability.md)."""
        configured = getattr(getattr(self, "config", None), "max_backoff_seconds", None)
        return float(configured) if configured else self.retry_seconds + 5.0

    @abstractmethod
    def poll(self) -> list[Observation]:
        """Fetch the current state of all this provider's people, or raise ProviderError."""

    def handle_hook(self, request: HookRequest) -> HookResponse | None:
        """Answer a vendor callback; None means this provider takes none (404)."""
        return None

    def close(self) -> None:
        """Release resources (and vendor-side registrations); may be called twice."""
        self.http.close()
