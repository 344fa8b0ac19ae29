"""Presence batches framed once and written straight to idle websockets (direct_push/), on
the real server (benchmarks/bench_server.py: the real provider -> board -> hub -> Socket.IO
path with a synthetic vendor flipping people) under eventlet and gevent: every client gets
every batch once and in order whichever way it went out (direct, the rest of a partial
write, engine.io's queue, long-polling), and a client that stops reading neither stalls the
others nor escapes the send-backlog bound."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import websocket
from helpers import (
    REPO_ROOT,
    DashServer,
    EventRecorder,
    start_process,
    wait_for,
    wait_until_serving,
)
from test_socket_limits import BAD_RESYNC, RawClient

MODES = ["eventlet", "gevent"]


class SeqReader:
    """A raw Engine.IO websocket (websocket-client) read in one thread, so the seqs it
    records are in the order the frames arrived: python-socketio's client runs each message
    handler in a thread of its own and can swap two adjacent batches itself."""

    def __init__(self, server: DashServer) -> None:
        url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=15)
        assert self.ws.recv().startswith("0{")  # Engine.IO open
        self.ws.send("40")  # Socket.IO connect to "/"
        self.seqs: list[tuple[str, int]] = []  # (event, seq) in arrival order
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                message = self.ws.recv()
                if message == "2":
                    self.ws.send("3")  # Engine.IO pong
                elif message.startswith(('42["presence"', '42["snapshot"')):
                    event, data = json.loads(message[2:])
                    self.seqs.append((event, data["seq"]))
        except (OSError, websocket.WebSocketException, ValueError) as exc:
            self.error = exc

    @property
    def seq(self) -> int:
        return self.seqs[-1][1] if self.seqs else 0

    def in_order(self) -> None:
        """A snapshot first, then each batch the next seq, and the connection still up."""
        assert self.error is None, repr(self.error)
        events = [event for event, _ in self.seqs]
        assert events and events[0] == "snapshot" and "snapshot" not in events[1:], events[:5]
        seqs = [seq for _, seq in self.seqs]
        jumps = [(a, b) for a, b in itertools.pairwise(seqs) if b != a + 1]
        assert jumps == [], f"seq not consecutive: {jumps[:5]} of {len(seqs)}"

    def close(self) -> None:
        self.ws.abort()
        self._thread.join(5)
        self.ws.close(timeout=0.1)


def metric(server: DashServer, name: str) -> float:
    match = re.search(re.escape(name) + r" ([0-9.e+-]+)$", server.get("/metrics").text, re.M)
    return float(match[1]) if match else 0.0


def sends(server: DashServer, path: str) -> float:
    return metric(server, f'socketio_broadcast_sends_total{{path="{path}"}}')


@pytest.fixture
def bench_server(tmp_path: Path, free_port: int) -> Iterator[Callable[..., DashServer]]:
    """Factory: bench_server.py MODE PEOPLE RATE on a free port (100 ms push interval)."""
    started: list[DashServer] = []

    def start(mode: str, people: int, rate: int) -> DashServer:
        args = [str(REPO_ROOT / "benchmarks" / "bench_server.py"), mode, str(people), str(rate)]
        proc, out, err = start_process(
            [*args, str(free_port), "100"], cwd=REPO_ROOT, logs=tmp_path / mode
        )
        server = DashServer(f"http://127.0.0.1:{free_port}", proc, out, err)
        started.append(server)
        wait_until_serving(server)
        return server

    yield start
    for server in started:
        server.stop()


def go(server: DashServer) -> None:
    assert requests.post(server.url + "/_bench/go", timeout=5).status_code == 200


def seq_now(server: DashServer) -> int:
    return int(server.get("/_bench/stats").json()["seq"])


@pytest.fixture
def clients() -> Iterator[Callable[..., EventRecorder]]:
    """Factory: a python-socketio client on the given transports, recording its events."""
    opened: list[socketio.Client] = []

    def connect(server: DashServer, transports: list[str]) -> EventRecorder:
        client = socketio.Client(reconnection=False)
        recorder = EventRecorder(client)
        client.connect(server.url, transports=transports, wait_timeout=10)
        opened.append(client)
        return recorder

    yield connect
    for client in opened:
        client.disconnect()


@pytest.fixture
def readers() -> Iterator[Callable[[DashServer], SeqReader]]:
    opened: list[SeqReader] = []

    def open_reader(server: DashServer) -> SeqReader:
        opened.append(SeqReader(server))
        return opened[-1]

    yield open_reader
    for reader in opened:
        reader.close()


def every_seq(recorder: EventRecorder, upto: int) -> None:
    """A python-socketio client saw a snapshot and then every later seq up to `upto` once
    (as a set: its client may swap two, see SeqReader)."""
    assert recorder.events[0][0] == "snapshot", recorder.events[:1]
    first = recorder.events[0][1]["seq"]
    seen = [data["seq"] for name, data in recorder.events[1:] if name == "presence"]
    assert len(seen) == len(set(seen)), "a batch came twice"
    assert set(range(first + 1, upto + 1)) <= set(seen), sorted(
        set(range(first + 1, upto + 1)) - set(seen)
    )[:5]


def caught_up(recorders: list[Any], seq: int) -> Callable[[], bool]:
    return lambda: all(r.seq >= seq for r in recorders)


@pytest.mark.parametrize("async_mode", MODES)
def test_every_client_gets_every_batch_in_order_direct_queued_or_polling(
    async_mode: str, bench_server: Callable[..., DashServer], clients: Any, readers: Any
) -> None:
    server = bench_server(async_mode, people=500, rate=300)
    websockets = [readers(server) for _ in range(12)]
    polling = clients(server, ["polling"])
    upgraded = clients(server, ["polling", "websocket"])
    joined = seq_now(server)
    go(server)
    wait_for(lambda: seq_now(server) >= 10, 15, what="ten batches")
    # Joining while batches flow: a snapshot (queued), then batches (mostly direct).
    late = [readers(server) for _ in range(3)]
    # Long enough for an Engine.IO ping round (10 s) among the direct writes.
    time.sleep(12)  # letting traffic flow, not synchronising: the checks below poll
    target = seq_now(server)
    everyone = [*websockets, polling, upgraded, *late]
    wait_for(caught_up(everyone, target), 15, what=f"every client at seq {target}")

    assert upgraded.client.transport() == "websocket"
    assert polling.client.transport() == "polling"
    for reader in [*websockets, *late]:
        reader.in_order()
    for recorder in (polling, upgraded):
        assert recorder.client.connected
        every_seq(recorder, target)
    # Both paths were taken: most frames written directly, the polling client's queued.
    direct, queued = sends(server, "direct"), sends(server, "queued")
    assert direct > 10 * target, (direct, queued, target)
    assert queued >= target - joined, (direct, queued, target, joined)


@pytest.mark.parametrize("async_mode", MODES)
def test_a_client_that_stops_reading_stalls_nobody_and_is_closed_by_the_backlog_bound(
    async_mode: str, bench_server: Callable[..., DashServer], readers: Any
) -> None:
    # ~2,000 flips/s over 300 people: batches of ~150 people, ~40 KB each, more than the
    # lagger's socket takes, so direct writes to it end half-written (the rest queued).
    server = bench_server(async_mode, people=300, rate=2000)
    healthy = [readers(server) for _ in range(4)]
    lagger = RawClient(server, receive_buffer=4096)
    try:
        go(server)
        wait_for(lambda: sends(server, "partial") >= 1, 15, what="a partial direct write")
        # Its queue now only grows (each bad resync is answered with a full snapshot).
        closed = lagger.send_until_closed(BAD_RESYNC, per_second=15, seconds=40)
    finally:
        lagger.close()

    assert closed, "the client that never reads was never disconnected"
    assert metric(server, 'socketio_guard_disconnects_total{reason="send_backlog"}') == 1
    target = seq_now(server)
    wait_for(caught_up(healthy, target), 10, what=f"the healthy clients at seq {target}")
    for reader in healthy:
        reader.in_order()
