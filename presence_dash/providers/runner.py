"""Runs one polling provider: its loop, backoff with jitter, and its health on the board.

Like Home Assistant's DataUpdateCoordinator: one object owns polling and availability; the
provider only fetches. Every failure becomes a provider state plus one log line (repeats of
the same error are not logged again), never a crash of the loop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from presence_dash.core.background import NotStartable
from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import ProviderState
from presence_dash.core.rules import is_stale
from presence_dash.providers.base import (
    AuthFailed,
    Clock,
    HookRequest,
    HookResponse,
    PollingProvider,
    ProviderError,
)

log = logging.getLogger(__name__)

# Credentials refused do not fix themselves, and retrying fast can lock the integration
# account: those back off up to this long whatever `max_backoff_seconds` says.
AUTH_MAX_BACKOFF_S = 300.0


def backoff_delay(interval: float, failures: int, rng: random.Random, cap: float) -> float:
    """Exponential backoff from the retry interval with +-50% jitter (so several dashboards
    do not retry against a recovering vendor in lock-step), never longer than `cap`."""
    base = min(cap, interval * 2 ** min(failures - 1, 16))
    return min(cap, base * rng.uniform(0.5, 1.5))


def stale_after(provider: PollingProvider) -> timedelta:
    """CONTRACT: a source is stale after 3 poll intervals without a successful refresh."""
    return timedelta(seconds=3 * provider.poll_seconds)


class ProviderRunner:
    def __init__(
        self,
        provider: PollingProvider,
        board: PresenceBoard,
        clock: Clock,
        sleep: Callable[[float], None],
        *,
        rng: random.Random | None = None,
        on_poll: Callable[[str, bool, float], None] = lambda name, ok, seconds: None,
        wake_event: Any = None,
        spawn: Callable[..., Any] | None = None,
    ) -> None:
        self.provider = provider
        self._spawn = spawn
        self.board = board
        self.clock = clock
        self.sleep = sleep
        # With an event (the async runtime's), a push notification can cut a wait short.
        self._wake_event = wake_event
        self.rng = rng or random.Random()
        self.on_poll = on_poll
        self.failures = 0
        self._last_logged: str | None = None
        self._stopped = False

    def start(self) -> None:
        if self._spawn is None:
            raise NotStartable(f"{self.provider.name} runner")
        self._spawn(self.run_forever)

    def stop(self) -> None:
        """End the loop and release vendor-side registrations now (the process may exit
        before the loop notices; run_forever closes the provider again on its way out)."""
        self._stopped = True
        self.wake()
        try:
            self.provider.close()
        except Exception:
            log.exception("%s: error while closing", self.provider.name)

    def handle_hook(self, request: HookRequest) -> HookResponse | None:
        """A vendor's callback: the provider answers it; what the callback tells is applied
        now, and a refresh it asks for runs as this loop's next step (the vendor gets its
        answer at once)."""
        answer = self.provider.handle_hook(request)
        if answer is None:
            return None
        if answer.observations:
            self.board.push(self.provider.name, answer.observations, self.clock())
        if answer.refresh:
            self.wake()
        return answer

    def wake(self) -> None:
        """Refresh now (a push provider was notified of a change); cheap, any thread."""
        if self._wake_event is not None:
            self._wake_event.set()

    def run_forever(self) -> None:
        try:
            while not self._stopped:
                self._wait(self.poll_once())
        finally:
            self.provider.close()

    def _wait(self, seconds: float) -> None:
        if self._wake_event is None:
            self.sleep(seconds)
            return
        self._wake_event.wait(seconds)
        self._wake_event.clear()

    def poll_once(self) -> float:
        """One refresh; returns how long to wait before the next."""
        name = self.provider.name
        started = self.clock()
        try:
            observations = self.provider.poll()
        except ProviderError as exc:
            self._failed(exc)
        except Exception as exc:  # a bug or a vendor surprise must not kill the loop
            error = ProviderError(f"internal error ({type(exc).__name__})")
            if str(error) != self._last_logged:  # a traceback per distinct error, not per poll
                log.exception("%s: unexpected error while polling", name)
            self._failed(error, logged=True)
        else:
            now = self.clock()
            warning = self.provider.health_warning
            ignored = self.board.apply(name, observations, now, warning=warning)
            if self.failures or self._last_logged:
                log.info("%s: recovered after %d failed refresh(es)", name, self.failures)
            self.failures = 0
            self._last_logged = None
            if ignored:
                log.debug("%s: %d observation(s) for unknown people ignored", name, ignored)
            self.on_poll(name, True, (now - started).total_seconds())
            return self.provider.next_poll_seconds
        took = (self.clock() - started).total_seconds()
        self.on_poll(name, False, took)
        cap = AUTH_MAX_BACKOFF_S if self._auth_failed else self.provider.max_backoff_seconds
        delay = backoff_delay(self.provider.retry_seconds, self.failures, self.rng, cap)
        # Attempts start at most `delay` apart: a call that hung until its timeout has used
        # part of the wait already (else a timing-out vendor is retried timeout + cap apart).
        # The vendor's Retry-After always wins, counted from its answer.
        return max(delay - took, self._retry_after, 0.0)

    def _failed(self, exc: ProviderError, *, logged: bool = False) -> None:
        self.failures += 1
        self._retry_after = exc.retry_after or 0.0
        self._auth_failed = isinstance(exc, AuthFailed)
        now = self.clock()
        message = str(exc)
        if isinstance(exc, AuthFailed):
            state = ProviderState.DOWN
        else:
            last = self.board.health().get(self.provider.name)
            stale = is_stale(last.last_success if last else None, now, stale_after(self.provider))
            state = ProviderState.DOWN if stale else ProviderState.DEGRADED
        self.board.record_failure(self.provider.name, state, message, now)
        if message != self._last_logged and not logged:
            log.warning("%s: refresh failed: %s", self.provider.name, message)
        self._last_logged = message

    _retry_after = 0.0
    _auth_failed = False
