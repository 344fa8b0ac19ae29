"""The provider interface: a provider turns one vendor's API into observations.

Providers never touch Flask or Socket.IO. A polling provider implements `poll()`; its
`ProviderRunner` (runner.py) owns the loop, backoff and health. Failures are typed, as in
Home Assistant's coordinator: `AuthFailed` needs a human (provider down), `UpdateFailed` is
transient (degraded until the data turns stale).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime

import requests

from ..model import Observation, Person


class ProviderError(Exception):
    """A refresh failed; the message is shown to users in the health strip."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpdateFailed(ProviderError):
    """Transient: timeouts, 5xx, 429, malformed bodies. Retried with backoff."""


class AuthFailed(ProviderError):
    """Credentials refused: retrying soon will not help."""


Clock = Callable[[], datetime]


class PollingProvider(ABC):
    """One vendor, polled on an interval. Subclasses set `name` and implement `poll`."""

    name: str = ""

    def __init__(self, people: Sequence[Person], http: requests.Session, clock: Clock) -> None:
        self.people = [p for p in people if self.name in p.source_ids]
        self.http = http
        self.clock = clock

    @property
    @abstractmethod
    def poll_seconds(self) -> float:
        """Time between successful polls; staleness is 3x this."""

    @abstractmethod
    def poll(self) -> list[Observation]:
        """Fetch the current state of all this provider's people, or raise ProviderError."""

    def close(self) -> None:
        self.http.close()
