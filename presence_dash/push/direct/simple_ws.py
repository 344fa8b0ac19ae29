"""The direct-write adapter for simple-websocket under gevent (python-engineio's gevent
driver without gevent-websocket installed: its handler gets a `SimpleWebSocketWSGI` whose
`.ws` is a `simple_websocket.Server` on a gevent socket). Found by duck typing: nothing
outside launch.py imports gevent.

simple-websocket has no write lock (its writes are `sock.send` from engine.io's writer and,
for control frames, from its reader), so the reservation is the gate's own idle check. gevent's
`socket.send(data, flags, timeout=0.0)` raises instead of waiting when the socket is full,
so a direct write never yields to the hub."""

from __future__ import annotations

from typing import Any


class SimpleWsTransport:
    def __init__(self, server: Any) -> None:
        self._server = server
        self._sock = server.sock

    @property
    def closed(self) -> bool:
        return not self._server.connected

    def reserve(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def send_nowait(self, data: bytes) -> int:
        try:
            return int(self._sock.send(data, 0, 0.0))
        except BlockingIOError:
            return 0

    def sendall(self, data: bytes, reserved: bool) -> None:
        self._sock.sendall(data)


def adapt(ws: Any) -> SimpleWsTransport | None:
    """A transport for engine.io's simple-websocket wrapper `ws` if it runs on a plain (no
    TLS) gevent socket without extensions; None leaves the client on engine.io's own path."""
    server = getattr(ws, "ws", None)
    sock = getattr(server, "sock", None)
    environ = getattr(server, "environ", None)
    if (
        sock is None
        or not hasattr(server, "connected")
        or not isinstance(environ, dict)
        # simple-websocket accepts permessage-deflate when offered (the app strips the
        # offer: factory._without_websocket_compression); compressed frames differ per client
        or "HTTP_SEC_WEBSOCKET_EXTENSIONS" in environ
        or not type(sock).__module__.startswith("gevent")
        or hasattr(sock, "getpeercert")  # TLS
    ):
        return None
    return SimpleWsTransport(server)
