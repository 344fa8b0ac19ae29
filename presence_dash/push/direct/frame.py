"""A WebSocket text frame built once for every client, and the engine.io queue item that
carries one (RFC 6455 section 5.2: a server's frames are never masked)."""

from __future__ import annotations

import struct

from engineio import packet as eio_packet

_FIN_TEXT = 0x81  # FIN + opcode 1 (text)


def text_frame(text: str) -> bytes:
    """`text` as one unfragmented, unmasked, uncompressed WebSocket text frame."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length <= 125:
        header = bytes((_FIN_TEXT, length))
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", _FIN_TEXT, 126, length)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, length)
    return header + payload


class Preframed(eio_packet.Packet):
    """A queue item for a gated websocket's writer: bytes ready for the socket. `rest`: the
    tail of a frame whose head was already written (the writer must send it before anything
    else, and the transport stays reserved until it has).

    A Packet subclass because engine.io's writer calls `encode()` on what it dequeues and logs
    its type; `encode()` returns the item itself, which the gate recognises."""

    def __init__(self, frame: bytes, rest: bool = False) -> None:
        super().__init__(eio_packet.MESSAGE, data=frame)
        self.frame = frame
        self.rest = rest

    def encode(self, b64: bool = False) -> Preframed:  # type: ignore[override]
        return self
