"""What the gate needs from a websocket transport: a reservation that keeps the transport's
other writers out, a write that never blocks, and a blocking one for the writer task."""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    @property
    def closed(self) -> bool:
        """The websocket has been closed (no more frames may follow its close frame)."""
        ...

    def reserve(self) -> bool:
        """Take the transport's write lock without waiting; False if someone holds it."""
        ...

    def release(self) -> None: ...

    def send_nowait(self, data: bytes) -> int:
        """Write what the socket takes now, never blocking or yielding; bytes written
        (0 when it would block). Raises OSError when the connection is gone."""
        ...

    def sendall(self, data: bytes, reserved: bool) -> None:
        """Write all of `data`, waiting for a slow client (from the writer task only).
        `reserved`: the caller already holds the reservation (the rest of a frame)."""
        ...
