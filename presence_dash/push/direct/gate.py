"""The gate between one client's engine.io writer task and its websocket.

engine.io's websocket handler is given the gate instead of the websocket, so every frame its
writer sends passes `send` here: the gate knows when the writer is mid-write. A broadcast may
then write a frame itself (`write_now`) only when nothing can come before it: the client is
upgraded, its queue is empty (no packet waiting, no writer woken and about to take one), the
writer is not writing and the transport's lock is free. The check and the non-blocking write
run without yielding, so no other task can start a write in between.

A partial write leaves the rest of the frame as the first item in the client's queue, with
the transport still reserved: the writer sends that rest before anything else, and only then
can anyone else write (a ping's pong included). A slow client's packets then wait in the
queue as before, so socket_guard's backlog bound sees and closes it as it always did.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from presence_dash.push.direct.frame import Preframed
from presence_dash.push.direct.transport import Transport


class Wrote(Enum):
    NOTHING = "nothing"  # queue it as usual
    WHOLE = "whole"
    HEAD = "head"  # the rest is first in the client's queue


class WriterGate:
    def __init__(self, ws: Any, transport: Transport, socket: Any) -> None:
        self._ws = ws
        self._transport = transport
        self._socket = socket  # engine.io's Socket: its queue and upgrade state
        self._writing = False
        self._rest_pending = False  # the transport is reserved until the writer sends it
        self._shut = False

    def __getattr__(self, name: str) -> Any:
        # What engine.io reads of the websocket besides send/wait/close (e.g. the socket,
        # to set its timeout) is the websocket's.
        return getattr(self._ws, name)

    # -- engine.io's side: its reader and writer tasks call these --------------------------

    def wait(self) -> Any:
        return self._ws.wait()

    def send(self, message: Any) -> Any:
        self._writing = True
        try:
            if isinstance(message, Preframed):
                self._send_preframed(message)
                return None
            return self._ws.send(message)
        finally:
            self._writing = False

    def close(self) -> Any:
        self.shut()
        return self._ws.close()

    def shut(self) -> None:
        """No direct writes from now on (the writer is done, or the handler returned), and
        the transport is free for the close frame even if a frame's rest was never sent."""
        self._shut = True
        if self._rest_pending:
            self._rest_pending = False
            self._transport.release()

    # -- the broadcaster's side -------------------------------------------------------------

    @property
    def takes_preframed(self) -> bool:
        """Only the writer task drains this client's queue (no polling request can take a
        Preframed item and try to put it in an HTTP body)."""
        socket = self._socket
        return not self._shut and socket.upgraded and not socket.upgrading

    def write_now(self, frame: bytes) -> Wrote:
        """Write `frame` now if nothing may come before it."""
        socket = self._socket
        if (
            self._writing
            or self._rest_pending
            or self._shut
            or socket.closed
            or socket.closing
            or socket.upgrading
            or not socket.upgraded
            or socket.queue.qsize()
            or self._transport.closed
        ):
            return Wrote.NOTHING
        if not socket.check_ping_timeout():
            return Wrote.WHOLE  # timed out and now closing: engine.io would drop it too
        transport = self._transport
        if not transport.reserve():
            return Wrote.NOTHING
        try:
            sent = transport.send_nowait(frame)
        except OSError:
            # The connection is gone: queued, the writer meets the same error and ends the
            # connection the way engine.io always does.
            transport.release()
            return Wrote.NOTHING
        if sent >= len(frame):
            transport.release()
            return Wrote.WHOLE
        if sent == 0:
            transport.release()
            return Wrote.NOTHING
        self._rest_pending = True
        socket.queue.put(Preframed(frame[sent:], rest=True))
        return Wrote.HEAD

    def _send_preframed(self, item: Preframed) -> None:
        if not item.rest:
            self._transport.sendall(item.frame, reserved=False)
            return
        try:
            self._transport.sendall(item.frame, reserved=True)
        finally:
            if self._rest_pending:
                self._rest_pending = False
                self._transport.release()
