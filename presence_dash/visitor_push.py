"""Pushes the visitor board to browsers as Socket.IO `visitors` events, and serializes it.

Like the presence hub (hub.py) but simpler: the board is small, so every event carries the
whole list with its `seq`; at most one event per push interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

from presence_dash.paced_push import PacedPush
from presence_dash.timefmt import iso_z
from presence_dash.visitors import Visitor, VisitorBoard, VisitorsBatch

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


class VisitorPush(PacedPush):
    """`socketio` is a worker's fenced emitter (cluster/board_feed.py), which also keeps each
    list in Redis for the web nodes; `seq_floor` is the seq the last leader published."""

    def __init__(
        self,
        socketio: SocketIO,
        board: VisitorBoard,
        push_interval_s: float,
        seq_floor: Callable[[], int] = lambda: 0,
    ) -> None:
        super().__init__(socketio, push_interval_s, IDLE_WAIT_S)
        self.board = board
        self.seq_floor = seq_floor

    def start(self) -> None:
        self.board.continue_from(self.seq_floor())
        self.board.on_dirty = self.notify
        super().start()

    def flush(self) -> None:
        batch = self.board.publish()
        if batch is not None:
            self.flushed()
            self.socketio.emit("visitors", visitors_json(batch, self.board.counts()))
