"""Socket.IO event handlers: snapshot on connect, resync by seq."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit

from .hub import PushHub
from .metrics import Metrics
from .serialize import person_json

log = logging.getLogger(__name__)


def register_socket_handlers(socketio: SocketIO, hub: PushHub, metrics: Metrics) -> None:
    def on_connect(auth: Any = None) -> None:
        metrics.clients.inc()
        emit("snapshot", hub.snapshot_payload())

    def on_disconnect(reason: Any = None) -> None:
        metrics.clients.dec()

    def on_resync(message: Any = None) -> None:
        seq = message.get("seq") if isinstance(message, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            metrics.bad_messages.labels("resync").inc()
            log.warning("resync from %s without an integer seq: %.100r", request.sid, message)
            emit("error", {"code": "bad_resync", "message": 'resync needs {"seq": <int>}'})
            emit("snapshot", hub.snapshot_payload())
            metrics.resyncs.labels("snapshot").inc()
            return
        changes = hub.board.changes_since(seq)
        if changes is None:
            metrics.resyncs.labels("snapshot").inc()
            emit("snapshot", hub.snapshot_payload())
            return
        current, views = changes
        metrics.resyncs.labels("diff").inc()
        emit(
            "presence", {"seq": current, "changes": [person_json(v) for v in views], "resync": True}
        )

    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event("resync", on_resync)
