"""One misbehaving Socket.IO client against the real dashboard (issue 11): a flood of events
is dropped and counted, the server keeps answering everyone else, the flooder is cut off;
bad messages are logged once per client; a client that never reads its socket is closed
before its send queue grows without bound. Under eventlet and gevent.

The misbehaving clients are raw Engine.IO v4 websockets (websocket-client), because a
well-behaved Socket.IO client library cannot be made to stop reading its socket."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from helpers import DashServer, person, wait_for

BAD_RESYNC = '42["resync",{"seq":"not a number"}]'
MODES = ["eventlet", "gevent"]


class RawClient:
    """An Engine.IO websocket that has joined the default namespace and then reads only
    when told to (`reading=False` leaves everything the server sends unread)."""

    def __init__(self, server: DashServer, receive_buffer: int | None = None) -> None:
        options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)] if receive_buffer else []
        url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=5, sockopt=options)
        assert self.ws.recv().startswith("0{")  # Engine.IO open
        self.ws.send("40")  # Socket.IO connect to "/"
        # The connect acknowledgement and the snapshot, in either order, maybe among others.
        seen: list[str] = []
        while not ({"40{", '42["snapshot"'} <= {m[:3] for m in seen} | set(seen)):
            assert len(seen) < 10, seen
            seen.append(self.ws.recv()[:13])

    def send_until_closed(self, message: str, per_second: float, seconds: float) -> bool:
        """Send `message` at `per_second` for up to `seconds`; True once the server has
        closed the connection (a send fails)."""
        deadline = time.monotonic() + seconds
        interval = 1.0 / per_second
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            try:
                self.ws.send(message)
            except (OSError, websocket.WebSocketException):
                return True
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the flood, not synchronising
        return False

    def close(self) -> None:
        self.ws.abort()
        self.ws.close(timeout=0.1)


class HealthWatch:
    """Polls /healthz in a thread and remembers the slowest answer (or that one failed)."""

    def __init__(self, server: DashServer) -> None:
        self.server = server
        self.slowest = 0.0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status = self.server.get("/healthz", timeout=2).status_code
                if status != 200:
                    self.failures.append(f"status {status}")
            except requests.RequestException as exc:
                self.failures.append(repr(exc))
            self.slowest = max(self.slowest, time.monotonic() - started)
            self._stop.wait(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def metric(server: DashServer, name: str) -> float:
    """A counter or gauge from /metrics (0 when absent), labels included in `name`."""
    text = server.get("/metrics").text
    pattern = re.escape(name) + r"(?:\{\})? ([0-9.e+-]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match[1]) if match else 0.0


def rss_mb(server: DashServer) -> float:
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match
    return int(match[1]) / 1024


@pytest.fixture
def raw_clients() -> Iterator[Callable[..., RawClient]]:
    opened: list[RawClient] = []

    def open_client(server: DashServer, **kwargs: Any) -> RawClient:
        client = RawClient(server, **kwargs)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture
def dash(
    tmp_path: Path, make_config: Callable[..., Path], dash_server: Callable[..., DashServer]
) -> Callable[..., DashServer]:
    """The dashboard with `people` configured people and no provider (nothing to wait for)."""

    def start(async_mode: str, people: int = 3) -> DashServer:
        config = make_config(tmp_path, [person(f"p{i}") for i in range(people)], None)
        return dash_server(config, async_mode=async_mode)

    return start


@pytest.mark.parametrize("async_mode", MODES)
def test_an_event_flood_is_dropped_counted_and_cut_off_while_the_server_answers(
    dash: Callable[..., DashServer], raw_clients: Callable[..., RawClient], async_mode: str
) -> None:
    server = dash(async_mode)
    flooder = raw_clients(server)
    watch = HealthWatch(server)
    try:
        # 1,000 bad resyncs a second, none of the answers read.
        closed = flooder.send_until_closed(BAD_RESYNC, per_second=1000, seconds=15)
    finally:
        watch.stop()

    assert closed, "the flooding client was never disconnected"
    assert watch.failures == []
    assert watch.slowest < 1.0, f"/healthz took {watch.slowest:.2f} s during the flood"
    assert metric(server, 'socketio_guard_disconnects_total{reason="rate_limit"}') == 1
    assert metric(server, "socketio_dropped_events_total") > 1000
    wait_for(lambda: metric(server, "socketio_clients") == 0, 5, what="the flooder gone")
    # Counted each time it was handled, logged once for the client.
    assert metric(server, 'socketio_bad_messages_total{event="resync"}') >= 40
    assert server.output().count("without an integer seq") == 1


@pytest.mark.parametrize("async_mode", MODES)
def test_a_client_that_never_reads_is_closed_before_its_queue_grows_unbounded(
    dash: Callable[..., DashServer], raw_clients: Callable[..., RawClient], async_mode: str
) -> None:
    server = dash(async_mode, people=300)  # snapshots of ~100 KB each
    # A small receive window, so the kernel buffers little of what the server sends.
    lagger = raw_clients(server, receive_buffer=4096)
    before = rss_mb(server)

    # Within the rate limit (no flood), each answered by an error and a full snapshot.
    closed = lagger.send_until_closed(BAD_RESYNC, per_second=15, seconds=40)

    assert closed, "the client that never reads was never disconnected"
    assert metric(server, 'socketio_guard_disconnects_total{reason="send_backlog"}') == 1
    assert metric(server, 'socketio_guard_disconnects_total{reason="rate_limit"}') == 0
    assert rss_mb(server) - before < 60, "server memory grew while the client lagged"
    assert server.get("/healthz").status_code == 200
