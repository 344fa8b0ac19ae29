"""The SSRF guard end to end (issue 11): the real dashboard, the Glance simulator, and a TCP
listener on loopback playing Redis. Glance names the listener's port as the visitor's
presence server; the dashboard must not connect to it, so no bearer token reaches it."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from glance_helpers import API_KEY, API_KEY_ENV, GlanceSimHandle, glance_section
from helpers import DashServer, wait_for


class FakeRedis:
    """Accepts connections on a loopback port, keeps what each one sends, and answers like
    Redis does to an HTTP request (an error, then close)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"-ERR unknown command 'POST'\r\n")
                except OSError:
                    self.received.append(b"")

    def pending(self) -> bool:
        """A connection the kernel accepted that the thread has not taken yet."""
        return bool(select.select([self.listener], [], [], 0)[0])

    def close(self) -> None:
        self.listener.close()
        self._thread.join(5)


@pytest.fixture
def fake_redis() -> Iterator[FakeRedis]:
    server = FakeRedis()
    yield server
    server.close()


@pytest.fixture
def dash(
    tmp_path: Path,
    glance_sim: GlanceSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> DashServer:
    # The simulator's presence servers are allowed (glance_section lists their ports).
    config = make_config(tmp_path, [], None, providers={"glance": glance_section(glance_sim)})
    server = dash_server(config, **{API_KEY_ENV: API_KEY})
    wait_for(
        lambda: server.get("/api/presence").json()["providers"]["glance"]["last_success"],
        10,
        what="glance's first poll",
    )
    return server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_glance_naming_a_loopback_port_outside_the_list_reaches_nothing(
    dash: DashServer, glance_sim: GlanceSimHandle, fake_redis: FakeRedis, host: str
) -> None:
    glance_sim.arrive("v-ada")
    glance_sim.point_direct("v-ada", f"{host}:{fake_redis.port}")

    response = requests.post(dash.url + "/api/visitors/v-ada/cobrowse", timeout=10)

    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "direct_server_refused"
    # The refusal comes before any connection: none was accepted or is waiting.
    assert fake_redis.received == []
    assert not fake_redis.pending()
    assert glance_sim.signals() == []
    assert "internal address" in dash.output()


def test_a_listed_presence_server_is_still_called(
    dash: DashServer, glance_sim: GlanceSimHandle
) -> None:
    glance_sim.arrive("v-ada")

    response = requests.post(dash.url + "/api/visitors/v-ada/cobrowse", timeout=10)

    assert response.status_code == 200, response.text
    assert len(glance_sim.signals()) == 1
