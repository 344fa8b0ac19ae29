"""Guards the server against one misbehaving Socket.IO client (issue 11): a per-client
event rate limit in front of every handler, and a bound on what may wait in a client's
send queue.

Both act at the Engine.IO layer, below python-socketio, on purpose:
- Events are counted before python-socketio decodes them or starts a handler for them, so
  a flood costs a dict look-up per message, not a handler, a snapshot and a log line.
- python-engineio keeps one unbounded queue of outgoing packets per client
  (`engineio.socket.Socket.queue`, drained by that client's writer task). A client that
  stops reading its socket, while the server keeps answering it or broadcasting, grows it
  without end (99 -> 131 MB in 60 s for two such clients). Nothing in python-engineio bounds
  it, so we look at its size before answering a client and before every broadcast, and
  close a client that is too far behind: a browser reconnects and gets a fresh snapshot,
  which is what it needs after falling that far behind anyway.
"""

from __future__ import annotations

import contextlib
import logging
import socket as stdlib_socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

from presence_dash.core.warn_once import WarnOnce
from presence_dash.metrics import Metrics
from presence_dash.push.event_limit import DEFAULT_LIMIT, EventBuckets, EventLimit, Verdict

log = logging.getLogger(__name__)

# Packets waiting for one client before it is closed: 10 s of presence batches at the
# default push interval (a healthy browser is never more than a few behind), and a few MB at
# most for a client that asks for snapshots and never reads them.
MAX_SEND_BACKLOG = 100


class SocketGuard:
    def __init__(
        self,
        socketio: SocketIO,
        metrics: Metrics,
        limit: EventLimit = DEFAULT_LIMIT,
        max_backlog: int = MAX_SEND_BACKLOG,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.socketio = socketio
        self.metrics = metrics
        self.max_backlog = max_backlog
        self.clock = clock
        self._buckets = EventBuckets(limit)
        self._lock = threading.Lock()  # threading mode runs handlers in parallel
        self._warn_once = WarnOnce(log, "socket.io: ")

    @property
    def _eio(self) -> Any:
        return self.socketio.server.eio

    def install(self) -> None:
        """Put the rate limit in front of python-socketio's own Engine.IO handlers (which
        decode packets and dispatch events), and forget a client's bucket when it goes."""
        handlers = self._eio.handlers
        deliver, gone = handlers["message"], handlers["disconnect"]

        def on_message(eio_sid: str, data: Any) -> Any:
            if self.admit(eio_sid):
                return deliver(eio_sid, data)
            return None

        def on_disconnect(eio_sid: str, *reason: Any) -> Any:
            with self._lock:
                self._buckets.forget(eio_sid)
            return gone(eio_sid, *reason)

        self._eio.on("message", on_message)
        self._eio.on("disconnect", on_disconnect)

    def admit(self, eio_sid: str) -> bool:
        """Whether this message from the client may be handled."""
        socket = self._eio.sockets.get(eio_sid)
        if socket is None or socket.closed or socket.closing:
            return False  # a closed client's reader may still be draining its socket
        with self._lock:
            verdict = self._buckets.hit(eio_sid, self.clock())
        if verdict is Verdict.ALLOW:
            return True
        self.metrics.dropped_events.inc()
        if verdict is Verdict.DISCONNECT:
            self._close(socket, "rate_limit", "kept sending events over the rate limit")
        return False

    def behind(self, sid: str) -> bool:
        """Close the Socket.IO client `sid` if its send queue is over the bound; True if so
        (then send it nothing)."""
        eio_sid = self.socketio.server.manager.eio_sid_from_sid(sid, "/")
        socket = self._eio.sockets.get(eio_sid) if eio_sid else None
        if socket is None:
            return True
        return self._close_if_behind(socket)

    def drop_lagging(self) -> int:
        """Close every client whose send queue is over the bound (before a broadcast adds
        to every queue); returns how many."""
        return sum(self._close_if_behind(s) for s in list(self._eio.sockets.values()))

    def _close_if_behind(self, socket: Any) -> bool:
        if socket.closed or socket.closing:
            return True
        if socket.queue.qsize() <= self.max_backlog:
            return False
        self._close(socket, "send_backlog", f"more than {self.max_backlog} packets behind")
        return True

    def _close(self, socket: Any, reason: str, why: str) -> None:
        self.metrics.socket_disconnects.labels(reason).inc()
        self._warn_once(f"closing client {socket.sid}: {why}", key=socket.sid)
        # Read before close(): the disconnect handlers forget the environ.
        connection = _tcp_connection(self.socketio.server.environ.get(socket.sid) or {})
        # Not the server's disconnect(): it waits until the queue has drained, which for a
        # client that does not read is until its socket times out. This runs the disconnect
        # handlers now and stops the writer task.
        socket.close(wait=False, abort=True, reason=self._eio.reason.SERVER_DISCONNECT)
        if connection is not None:
            # Closing the websocket only half-closes it (eventlet shuts down the write side,
            # and a file object on the socket keeps it open): a flooder would go on sending
            # and being read. Shutting the connection down ends both the reader and a writer
            # blocked on a client that does not read, so nothing stays queued for it.
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(stdlib_socket.SHUT_RDWR)


def _tcp_connection(environ: dict[str, Any]) -> Any:
    """The TCP connection behind a websocket-transport request, where the WSGI servers keep
    it (the places simple-websocket looks). None for long-polling: there the environ is of
    one finished HTTP request, and closing the Engine.IO socket is enough."""
    if "transport=websocket" not in environ.get("QUERY_STRING", ""):
        return None
    if "eventlet.input" in environ:
        return environ["eventlet.input"].get_socket()
    if "werkzeug.socket" in environ:
        return environ["werkzeug.socket"]
    stream = environ.get("wsgi.input")  # gevent's pywsgi
    stream = getattr(stream, "rfile", stream)
    return getattr(getattr(stream, "raw", None), "_sock", None)
