"""direct_push/frame.py: the frame built once for every client is what a WebSocket client
reads as one text message (parsed by wsproto, simple-websocket's protocol library), at each
of RFC 6455's three length encodings; and the queue item carrying it survives engine.io's
writer calling encode() on it."""

from __future__ import annotations

import pytest
from engineio import packet as eio_packet
from wsproto.frame_protocol import FrameProtocol, Opcode

from presence_dash.push.direct.frame import Preframed, text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 1_200_000])
def test_a_text_frame_is_one_whole_unmasked_message_a_client_reads_back(size: int) -> None:
    text = ("4" + '2["presence",{"name":"Zoë"}]' * (size // 28 + 1))[:size]
    frame = text_frame(text)
    client = FrameProtocol(client=True, extensions=[])
    client.receive_bytes(frame)
    (received,) = list(client.received_frames())
    assert received.opcode is Opcode.TEXT
    assert received.frame_finished and received.message_finished
    assert received.payload == text
    assert frame[1] & 0x80 == 0  # a server never masks


def test_a_frame_split_anywhere_reads_back_the_same() -> None:
    text = '42["presence",{"seq":7,"changes":[]}]' * 100
    frame = text_frame(text)
    for cut in (1, 2, 4, 100, len(frame) - 1):
        client = FrameProtocol(client=True, extensions=[])
        client.receive_bytes(frame[:cut])
        client.receive_bytes(frame[cut:])
        payload = "".join(f.payload for f in client.received_frames())
        assert payload == text


def test_the_queue_item_is_a_message_packet_that_encodes_to_itself() -> None:
    item = Preframed(b"\x81\x01x", rest=True)
    assert item.packet_type == eio_packet.MESSAGE
    assert item.encode() is item and item.encode(b64=True) is item
    assert item.frame == b"\x81\x01x" and item.rest
