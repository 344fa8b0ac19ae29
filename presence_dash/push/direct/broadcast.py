"""Sends an event to every client of the default namespace: encoded and framed once, written
straight to each idle websocket, queued through engine.io for everyone else.

The gates are put in by wrapping engine.io's websocket class for this server only (its
`_async["websocket"]`, the one hook there is: engine.io has no public one, see
docs/benchmarks.md "Steady fan-out: frame once"). Only the in-memory client manager is
bypassed: with a message queue, emits go through Redis to every node, as before."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import socketio as socketio_pkg
from engineio import packet as eio_packet
from flask_socketio import SocketIO
from prometheus_client import CollectorRegistry, Counter
from socketio import packet as sio_packet

from presence_dash.push.direct import eventlet_ws, simple_ws
from presence_dash.push.direct.frame import Preframed, text_frame
from presence_dash.push.direct.gate import WriterGate, Wrote
from presence_dash.push.direct.transport import Transport

log = logging.getLogger(__name__)

Emit = Callable[[str, Any], None]
_ADAPTERS: dict[str, Callable[[Any], Transport | None]] = {
    "eventlet": eventlet_ws.adapt,
    "gevent": simple_ws.adapt,
}


def emitter_for(socketio: Any, registry: CollectorRegistry | None = None) -> Emit:
    """`emit(event, data)` to everyone: a DirectPush's when this server allows it (eventlet
    or gevent, the in-memory manager), else `socketio.emit` (threading, a message queue, a
    cluster worker's fenced emitter)."""
    if DirectPush.usable(socketio):
        push = DirectPush(socketio, registry)
        push.install()
        return push.emit
    return lambda event, data: socketio.emit(event, data)


class DirectPush:
    def __init__(self, socketio: SocketIO, registry: CollectorRegistry | None = None) -> None:
        self._server = socketio.server
        self._adapt = _ADAPTERS[self._server.async_mode]
        self._gates: dict[str, WriterGate] = {}  # by Engine.IO sid, while its websocket is open
        self.sends = Counter(
            "socketio_broadcast_sends",
            "Broadcast frames by how they reached each client: written whole (direct), "
            "head written and the rest queued (partial), or queued through engine.io (the "
            "writer busy or behind, polling, mid-upgrade)",
            ["path"],
            registry=registry,
        )

    @staticmethod
    def usable(socketio: Any) -> bool:
        server = getattr(socketio, "server", None)
        return (
            isinstance(socketio, SocketIO)
            and server is not None
            and type(server.manager) is socketio_pkg.Manager
            and server.async_mode in _ADAPTERS
            and isinstance(getattr(server.eio, "_async", None), dict)
            and server.eio._async.get("websocket") is not None
        )

    def install(self) -> None:
        """Wrap engine.io's websocket class for this server: each websocket handler is given
        a gate in front of its websocket."""
        eio = self._server.eio
        websocket_class = eio._async["websocket"]

        def websocket(handler: Callable[[Any], Any], server: Any) -> Any:
            return websocket_class(self._gated(handler), server)

        eio._async = {**eio._async, "websocket": websocket}  # this server's copy only

    def _gated(self, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        socket = getattr(handler, "__self__", None)  # engine.io's Socket._websocket_handler
        if socket is None or not hasattr(socket, "queue") or not hasattr(socket, "sid"):
            return handler

        def run(ws: Any) -> Any:
            transport = self._adapt(ws)
            if transport is None:
                return handler(ws)
            gate = WriterGate(ws, transport, socket)
            self._gates[socket.sid] = gate
            try:
                return handler(gate)
            finally:
                if self._gates.get(socket.sid) is gate:
                    del self._gates[socket.sid]
                gate.shut()

        return run

    def emit(self, event: str, data: Any) -> None:
        """`event` with `data` to every client in the default namespace, in order with
        everything else each client is sent."""
        server = self._server
        if "/" not in server.manager.rooms:
            return
        encoded = server.packet_class(sio_packet.EVENT, namespace="/", data=[event, data]).encode()
        if not isinstance(encoded, str):  # binary attachments: python-socketio's own way
            server.emit(event, data, namespace="/")
            return
        packet = eio_packet.Packet(eio_packet.MESSAGE, data=encoded)
        frame = text_frame(packet.encode())
        queued_frame = Preframed(frame)  # one item shared by every gated client's queue
        counts = dict.fromkeys(Wrote, 0)
        send_packet, gates = server.eio.send_packet, self._gates
        for _sid, eio_sid in server.manager.get_participants("/", None):
            gate = gates.get(eio_sid)
            wrote = Wrote.NOTHING if gate is None else gate.write_now(frame)
            counts[wrote] += 1
            if wrote is Wrote.NOTHING:
                send_packet(eio_sid, queued_frame if gate and gate.takes_preframed else packet)
        self.sends.labels("direct").inc(counts[Wrote.WHOLE])
        self.sends.labels("partial").inc(counts[Wrote.HEAD])
        self.sends.labels("queued").inc(counts[Wrote.NOTHING])
