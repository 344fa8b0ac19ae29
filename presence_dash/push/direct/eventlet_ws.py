"""The direct-write adapter for eventlet's websocket (`eventlet.websocket.RFC6455WebSocket`,
what engine.io's eventlet driver hands its handler). Found by duck typing: nothing outside
launch.py imports eventlet.

Its frames go out under `ws._sendlock` (engine.io's writer, and the reader answering a
client's ping or close), so a direct write takes that lock without waiting and skips the
client if it is held. The socket is a `GreenSocket` whose `.fd` is the real, non-blocking
socket: writing to it never yields to the hub, so nothing else can run between the check that
the writer is idle and the write."""

from __future__ import annotations

from typing import Any


class EventletTransport:
    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._lock = ws._sendlock
        self._green = ws.socket
        self._raw = ws.socket.fd

    @property
    def closed(self) -> bool:
        return bool(self._ws.websocket_closed)

    def reserve(self) -> bool:
        return bool(self._lock.acquire(blocking=False))

    def release(self) -> None:
        self._lock.release()

    def send_nowait(self, data: bytes) -> int:
        try:
            return int(self._raw.send(data))
        except BlockingIOError:
            return 0

    def sendall(self, data: bytes, reserved: bool) -> None:
        if reserved:
            self._green.sendall(data)
            return
        with self._lock:
            self._green.sendall(data)


def adapt(ws: Any) -> EventletTransport | None:
    """A transport for `ws` if it is a plain (no TLS), uncompressed RFC 6455 websocket of
    eventlet's; None leaves the client on engine.io's own path."""
    sock = getattr(ws, "socket", None)
    raw = getattr(sock, "fd", None)
    if (
        getattr(ws, "version", None) not in (8, 13)  # not the pre-RFC protocol
        or getattr(ws, "extensions", True)  # permessage-deflate frames differ per client
        or not hasattr(ws, "_sendlock")
        or not hasattr(ws, "websocket_closed")
        or not type(sock).__module__.startswith("eventlet")
        or raw is None
        or hasattr(raw, "getpeercert")  # TLS: records, not bytes, on the socket
    ):
        return None
    return EventletTransport(ws)
