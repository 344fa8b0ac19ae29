"""Pushes the visitor board to browsers as Socket.IO `visitors` events, and serializes it.

Like the presence hub (hub.py) but simpler: the board is small, so every event carries the
whole list with its `seq`; at most one event per push interval.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask_socketio import SocketIO

from .timefmt import iso_z
from .visitors import Visitor, VisitorBoard, VisitorsBatch

log = logging.getLogger(__name__)

IDLE_WAIT_S = 5.0


def visitor_json(visitor: Visitor) -> dict[str, Any]:
    return {
        "group_id": visitor.group_id,
        "visitor_id": visitor.visitor_id,
        "status": "present",
        "since": iso_z(visitor.since) if visitor.since else None,
        "metadata": dict(visitor.metadata),
    }


def visitors_json(batch: VisitorsBatch, counts: dict[int, int]) -> dict[str, Any]:
    """The CONTRACT's `visitors` body, plus visitor counts per group (for the wall)."""
    return {
        "seq": batch.seq,
        "visitors": [visitor_json(v) for v in batch.visitors],
        "counts": {str(group): n for group, n in counts.items()},
    }


class VisitorPush:
    def __init__(self, socketio: SocketIO, board: VisitorBoard, push_interval_s: float) -> None:
        self.socketio = socketio
        self.board = board
        self.push_interval_s = push_interval_s
        self._wake: Any = None
        self._stopped = False
        self._last_flush = 0.0

    def notify(self) -> None:
        """Board callback: the visitors changed (cheap, any thread)."""
        if self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        self._wake = self.socketio.server.eio.create_event()
        self.board.on_dirty = self.notify
        self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        self._stopped = True
        self.notify()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(IDLE_WAIT_S)
            self._wake.clear()
            try:
                wait = self._last_flush + self.push_interval_s - time.monotonic()
                if wait > 0:
                    self.socketio.sleep(wait)  # batch arrivals and departures close together
                self.flush()
            except Exception:
                log.exception("visitor push: error while pushing; continuing")

    def flush(self) -> None:
        batch = self.board.publish()
        if batch is not None:
            self._last_flush = time.monotonic()
            self.socketio.emit("visitors", visitors_json(batch, self.board.counts()))
