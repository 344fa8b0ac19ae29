"""The loop both Socket.IO pushers share (presence batches, visitor lists): sleep until
something changes, then send at most one event per push interval, batching whatever else
arrives meanwhile. Subclasses say what one flush sends."""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_socketio import SocketIO

log = logging.getLogger(__name__)


class PacedPush:
    def __init__(self, socketio: SocketIO, push_interval_s: float, idle_wait_s: float) -> None:
        self.socketio = socketio
        self.push_interval_s = push_interval_s
        self.idle_wait_s = idle_wait_s
        self._wake: Any = None
        self._stopped = False
        self._last_flush = 0.0

    def notify(self) -> None:
        """Something changed: wake the loop (cheap, any thread)."""
        if self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        self._wake = self.socketio.server.eio.create_event()
        self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        self._stopped = True
        self.notify()

    def before_wait(self) -> None:
        """Runs on every wake-up, also the idle ones (e.g. staleness checks)."""

    def flush(self) -> None:
        raise NotImplementedError

    def flushed(self) -> None:
        """A subclass's flush sent an event: the next one waits a push interval."""
        self._last_flush = time.monotonic()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.idle_wait_s)
            self._wake.clear()
            try:
                self.before_wait()
                wait = self._last_flush + self.push_interval_s - time.monotonic()
                if wait > 0:
                    self.socketio.sleep(wait)  # batch whatever else arrives meanwhile
                self.flush()
            except Exception:
                log.exception("%s: error while pushing; continuing", type(self).__name__)
