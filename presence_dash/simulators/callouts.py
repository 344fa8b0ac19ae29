"""The simulators' background threads: the outbox for callouts to the dashboard (Cisco's
presence notifications, Salesforce's webhook calls), sent in order from one worker thread so
a slow or dead dashboard never holds up the simulated vendor and tests can `drain` before
they look; and the demo ticker that moves a simulator's demo people along.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

Callout = Callable[[], None]


class Callouts:
    """Callouts queued by the vendor side and sent one at a time; the worker starts with the
    first callout. A callout does its own logging and recording; one that raises is logged
    and dropped (a vendor sends once and does not retry)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._queue: deque[Callout] = deque()
        self._wake = threading.Condition()
        self._pending = 0
        self._worker: threading.Thread | None = None
        self._stopped = False

    def put(self, callout: Callout) -> None:
        with self._wake:
            if self._stopped:
                return
            self._queue.append(callout)
            self._pending += 1
            self._wake.notify_all()
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._queue or self._stopped)
                if self._stopped:
                    return
                callout = self._queue.popleft()
            try:
                callout()
            except Exception:
                log.exception("%s: a callout failed", self._name)
            finally:
                with self._wake:
                    self._pending -= 1
                    self._wake.notify_all()

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queued callout has been sent (or failed)."""
        with self._wake:
            return self._wake.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop the worker; callouts still queued are not sent."""
        with self._wake:
            self._stopped = True
            self._wake.notify_all()


def start_ticker(
    name: str, interval_s: float, stop: threading.Event, step: Callable[[], object]
) -> threading.Thread:
    """Run `step` every `interval_s` on a daemon thread until `stop` is set (a demo)."""

    def loop() -> None:
        while not stop.wait(interval_s):
            step()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
