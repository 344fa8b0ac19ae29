"""One mechanism for writes that must never delay a presence batch: callers hand data over
with a cheap in-memory call, a background task writes it in one transaction a second, and a
failed write is kept for the next try and logged once per distinct error."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable

import sqlalchemy as sa

from presence_dash.core.background import NotStartable, Tasks

log = logging.getLogger(__name__)


class BackgroundWriter(ABC):
    """Subclasses keep what is pending (under `self._lock`) and say how to write it."""

    name = "writer"

    def __init__(self, engine: sa.Engine, tasks: Tasks | None = None) -> None:
        self.engine = engine
        self._tasks = tasks
        self._lock = threading.Lock()
        self._stopped = False
        self.last_error: str | None = None

    @abstractmethod
    def _take(self) -> object | None:
        """Take what is pending (lock held); None when there is nothing to write."""

    @abstractmethod
    def _write(self, conn: sa.Connection, batch: object) -> int:
        """Write one taken batch; return how many rows it wrote."""

    @abstractmethod
    def _give_back(self, batch: object) -> None:
        """A write failed: put the batch back in front of what came since (lock held)."""

    def flush(self) -> int:
        """Write what is pending; on failure keep it for the next try and say why."""
        with self._lock:
            batch = self._take()
        if batch is None:
            return 0
        try:
            with self.engine.begin() as conn:
                written = self._write(conn, batch)
        except sa.exc.SQLAlchemyError as exc:
            with self._lock:
                self._give_back(batch)
            message = f"database write failed ({type(exc).__name__})"
            if message != self.last_error:
                log.error("%s: %s: %s", self.name, message, exc)
            self.last_error = message
            return 0
        self.last_error = None
        return written

    def run_forever(self, sleep: Callable[[float], None], interval_s: float = 1.0) -> None:
        while not self._stopped:
            sleep(interval_s)
            self.flush()
        self.flush()

    def start(self) -> None:
        if self._tasks is None:
            raise NotStartable(self.name)
        self._tasks.spawn(self.run_forever, self._tasks.sleep)

    def stop(self) -> None:
        """End the loop and write what is pending now (the process may exit before the
        loop's last flush)."""
        self._stopped = True
        self.flush()
