"""Socket.IO event handlers: snapshot on connect, resync by seq. The auth gate decides who
may connect and send each event (auth/policy.py SOCKET_EVENTS); the socket guard limits how
fast a client may send and how far behind it may fall (socket_guard.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from flask_socketio import SocketIO, emit, join_room

from presence_dash.cluster.redis_link import RedisDown
from presence_dash.core.warn_once import WarnOnce
from presence_dash.metrics import Metrics
from presence_dash.push.hub import DETAILS_ROOM, SUMMARY_ROOM, PushHub
from presence_dash.push.socket_guard import SocketGuard

if TYPE_CHECKING:
    from presence_dash.auth.gate import AuthRuntime

log = logging.getLogger(__name__)


def register_socket_handlers(
    socketio: SocketIO, hub: PushHub, metrics: Metrics, gate: AuthRuntime | None = None
) -> SocketGuard:
    guard = SocketGuard(socketio, metrics)
    guard.install()
    hub.guard_sends(guard.drop_lagging)
    # A bad message is counted every time but logged once per client: a client repeating
    # it 1,000 times a second once wrote 5,000 WARNING lines.
    warn_bad = WarnOnce(log, "socket.io: ")

    def _details(sid: str) -> bool:
        return gate is None or gate.sees_details(sid)

    def send_snapshot(sid: str) -> None:
        """The `snapshot` event, as the one packet every client is sent (hub.snapshot_packet):
        handed to Engine.IO directly, because python-socketio's emit would walk and encode
        the 1.2 MB payload again for each client (issue 13)."""
        server = socketio.server
        eio_sid = server.manager.eio_sid_from_sid(sid, "/")
        if eio_sid is None:  # gone meanwhile
            return
        try:
            packet = hub.snapshot_packet(_details(sid))
        except RedisDown:  # a web node while Redis is away (cluster/web_feed.py)
            socketio.emit("error", {"code": "redis_unavailable", "message": "no data"}, to=sid)
            return
        server.eio.send_packet(eio_sid, packet)

    def send_alerts() -> None:
        alerts = current_app.extensions.get("presence_dash.alerts.thresholds")  # web/alerts_api.py
        if alerts is None:
            return
        try:
            body = alerts.body()
        except RedisDown:  # a web node while Redis is away (web/alerts_api.py StoredAlerts)
            # RedisLink logged it once and send_snapshot's error told the client; raising here
            # would leave the connection half-open. The leader's next `alerts` event catches up.
            return
        emit("alerts", body)

    def on_connect(auth: Any = None) -> None:
        if gate is not None and not gate.socket_connect(request.sid):  # type: ignore[attr-defined]
            raise ConnectionRefusedError("sign in first (or use a valid wall link)")
        metrics.clients.inc()
        details = _details(request.sid)  # type: ignore[attr-defined]
        join_room(DETAILS_ROOM if details else SUMMARY_ROOM)
        send_snapshot(request.sid)  # type: ignore[attr-defined]
        send_alerts()

    def on_disconnect(reason: Any = None) -> None:
        if gate is not None:
            gate.socket_gone(request.sid)  # type: ignore[attr-defined]
        metrics.clients.dec()

    def on_resync(message: Any = None) -> None:
        if gate is not None and not gate.socket_allowed(request.sid, "resync"):  # type: ignore[attr-defined]
            emit("error", {"code": "forbidden", "message": "not allowed"})
            return
        if guard.behind(request.sid):  # type: ignore[attr-defined]
            return  # closed: it reconnects and gets a fresh snapshot
        seq = message.get("seq") if isinstance(message, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            metrics.bad_messages.labels("resync").inc()
            sid = request.sid  # type: ignore[attr-defined]
            warn_bad(f"resync from {sid} without an integer seq: {message!r:.100}", key=sid)
            emit("error", {"code": "bad_resync", "message": 'resync needs {"seq": <int>}'})
            send_snapshot(sid)
            metrics.resyncs.labels("snapshot").inc()
            return
        try:
            changes = hub.changes_since(seq)
        except RedisDown:  # a web node while Redis is away: the client asks again later
            emit("error", {"code": "redis_unavailable", "message": "try again shortly"})
            return
        if changes is None:
            metrics.resyncs.labels("snapshot").inc()
            send_snapshot(request.sid)  # type: ignore[attr-defined]
            return
        current, people = changes
        metrics.resyncs.labels("diff").inc()
        emit("presence", {"seq": current, "changes": people, "resync": True})

    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event("resync", on_resync)
    return guard
