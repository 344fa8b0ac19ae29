"""Pushes the visitor board to browsers as Socket.IO `visitors` events.

Like the presence hub (hub.py) but simpler: the board is small, so every event carries the
whole list with its `seq`; at most one event per push interval.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_socketio import SocketIO

from presence_dash.push.paced import PacedPush
from presence_dash.visitors.board import VisitorBoard
from presence_dash.visitors.wire import visitors_json

IDLE_WAIT_S = 5.0


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
