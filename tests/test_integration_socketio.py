"""The real dashboard process (`python app.py --config ...`) polling the ServiceNow simulator,
watched by a real Socket.IO client over a websocket and by plain HTTP requests."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import socketio
from helpers import DashServer, EventRecorder, SnSimHandle, person, sys_id, wait_for

PEOPLE = [person("ada"), person("grace"), person("alan", team="Field Engineering")]
ADA = sys_id("ada")


@pytest.fixture
def connect() -> Iterator[Callable[[DashServer], tuple[socketio.Client, EventRecorder]]]:
    """Factory: a real python-socketio client on the websocket transport, with a recorder."""
    clients: list[tuple[socketio.Client, DashServer]] = []

    def open_client(server: DashServer) -> tuple[socketio.Client, EventRecorder]:
        client = socketio.Client(reconnection=False)
        recorder = EventRecorder(client)
        client.connect(server.url, transports=["websocket"], wait_timeout=5)
        clients.append((client, server))
        return client, recorder

    yield open_client
    for client, server in clients:
        # Server first: under gevent (simple-websocket) the server does not answer the
        # client's close frame, and websocket-client would wait 3 s for it.
        server.stop()
        client.disconnect()


@pytest.fixture
def ready_dash(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> Callable[..., DashServer]:
    """Factory: the dashboard for PEOPLE against `sn_sim`, once /readyz says it polled."""

    def start(async_mode: str = "eventlet", poll_seconds: float = 0.2) -> DashServer:
        config = make_config(tmp_path, PEOPLE, sn_sim.url, poll_seconds=poll_seconds)
        server = dash_server(config, async_mode=async_mode)
        wait_for(lambda: server.get("/readyz").status_code == 200, 10, what="/readyz 200")
        return server

    return start


def _settled(events: EventRecorder) -> None:
    """Wait for the first poll's batch (seq 1: everyone leaves `unknown`). Ready means the
    poll happened, not that its batch was pushed yet; a test's own change must come after."""
    wait_for(lambda: events.seq >= 1, 10, what="the first presence batch")


def _has(data: dict[str, Any], pid: str, status: str) -> bool:
    return any(p["id"] == pid and p["status"] == status for p in data["changes"])


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent", "threading"])
def test_presence_change_reaches_connected_client_with_next_seq(
    async_mode: str, sn_sim: SnSimHandle, ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    server = ready_dash(async_mode)
    client, events = connect(server)
    assert client.transport() == "websocket"

    snapshot = events.wait("snapshot")
    assert [p["id"] for p in snapshot["people"]] == ["alan", "ada", "grace"]  # by team, name
    assert snapshot["providers"]["servicenow"]["state"] == "ok"
    assert snapshot["providers"]["servicenow"]["error"] is None
    _settled(events)

    sn_sim.set_user(ADA, seconds_ago=120)
    wait_for(lambda: events.status("ada") == "offline", 10, what="ada offline on the client")
    before = events.seq

    mark = events.mark()
    sn_sim.set_user(ADA, seconds_ago=1)
    batch = events.wait("presence", lambda d: _has(d, "ada", "online"), timeout=10, after=mark)
    assert batch["seq"] == before + 1
    ada = next(p for p in batch["changes"] if p["id"] == "ada")
    assert ada["sources"]["servicenow"] == {
        "status": "online",
        "detail": None,
        "observed_at": ada["sources"]["servicenow"]["observed_at"],
        "stale": False,
        "activity": None,
    }
    assert server.get("/api/presence").json()["seq"] == batch["seq"]


def test_resync_answers_with_the_changes_since_the_given_seq(
    sn_sim: SnSimHandle, ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    client, events = connect(ready_dash())
    events.wait("snapshot")
    _settled(events)
    sn_sim.set_user(ADA, seconds_ago=1)
    wait_for(lambda: events.status("ada") == "online", 10, what="ada online on the client")
    current = events.seq
    assert current >= 2  # the first poll's batch, then ada's change

    mark = events.mark()
    client.emit("resync", {"seq": current})
    answer = events.wait("presence", lambda d: d.get("resync") is True, after=mark)
    assert answer == {"seq": current, "changes": [], "resync": True}

    mark = events.mark()
    client.emit("resync", {"seq": 0})
    answer = events.wait("presence", lambda d: d.get("resync") is True, after=mark)
    assert answer["seq"] == current
    assert {p["id"] for p in answer["changes"]} == {"ada", "grace", "alan"}
    assert _has(answer, "ada", "online")

    # A seq this server never published (e.g. from before a restart) -> a fresh snapshot.
    mark = events.mark()
    client.emit("resync", {"seq": current + 1000})
    snapshot = events.wait("snapshot", after=mark)
    assert snapshot["seq"] == current


GARBAGE = ["x", {"seq": "a"}, None, {"seq": True}, [1, 2]]


def test_garbage_resync_gets_a_snapshot_and_the_connection_survives(
    ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    server = ready_dash()
    client, events = connect(server)
    events.wait("snapshot")

    for payload in GARBAGE:
        mark = events.mark()
        client.emit("resync", payload)
        error = events.wait("error", after=mark)
        assert error["code"] == "bad_resync", payload
        snapshot = events.wait("snapshot", after=mark)
        assert {p["id"] for p in snapshot["people"]} == {"ada", "grace", "alan"}, payload

    # Still connected and served: a proper resync is answered on the same connection.
    mark = events.mark()
    client.emit("resync", {"seq": events.seq})
    assert events.wait("presence", lambda d: d.get("resync") is True, after=mark)
    assert client.connected
    assert server.get("/healthz").json() == {"status": "ok"}
    metrics = server.get("/metrics").text
    assert f'socketio_bad_messages_total{{event="resync"}} {len(GARBAGE)}.0' in metrics


def test_provider_fault_is_pushed_as_provider_state(
    sn_sim: SnSimHandle, ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    # Stale after 0.9 s: the first failure comes well within that, even on a busy machine.
    server = ready_dash(poll_seconds=0.3)
    _client, events = connect(server)
    events.wait("snapshot")

    mark = events.mark()
    sn_sim.fault("500", 50)
    first = events.wait("providers", lambda d: d["servicenow"]["state"] != "ok", after=mark)
    assert first["servicenow"]["state"] == "degraded"
    assert first["servicenow"]["error"] == "HTTP 500: Instance unavailable"
    assert first["servicenow"]["last_success"] is not None

    # No success for 3 poll intervals: the provider is down and the node is not ready.
    events.wait("providers", lambda d: d["servicenow"]["state"] == "down", 10, after=mark)
    wait_for(lambda: server.get("/readyz").status_code == 503, 5, what="/readyz 503")
    assert server.get("/readyz").json()["problems"] == {
        "servicenow": "HTTP 500: Instance unavailable"
    }
    # Stale data is ignored: nobody is shown with a status the dashboard cannot vouch for.
    ada = next(p for p in server.get("/api/presence").json()["people"] if p["id"] == "ada")
    assert ada["status"] == "unknown"
    assert ada["sources"]["servicenow"]["stale"] is True


ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_http_api_follows_the_contract(
    sn_sim: SnSimHandle, ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    sn_sim.set_user(sys_id("grace"), seconds_ago=45)
    server = ready_dash()
    wait_for(
        lambda: any(
            p["id"] == "grace" and p["status"] == "away"
            for p in server.get("/api/presence").json()["people"]
        ),
        10,
        what="grace away",
    )

    body = server.get("/api/presence").json()
    assert list(body) == ["seq", "server_time", "people", "providers"]
    assert isinstance(body["seq"], int) and body["seq"] >= 1
    assert ISO_Z.match(body["server_time"])
    assert [p["id"] for p in body["people"]] == ["alan", "ada", "grace"]
    for p in body["people"]:
        assert set(p) == {"id", "name", "team", "status", "since", "detail", "sources"} | {
            "activity",  # CONTRACT v1.1
            "activity_source",
            "since_exact",
        }
        assert p["status"] in {"online", "busy", "away", "offline", "unknown"}
        assert isinstance(p["since_exact"], bool)
        assert ISO_Z.match(p["since"])
        assert set(p["sources"]) == {"servicenow"}
        source = p["sources"]["servicenow"]
        assert set(source) == {"status", "detail", "observed_at", "stale", "activity"}
        assert ISO_Z.match(source["observed_at"]) and source["stale"] is False
    statuses = {p["id"]: p["status"] for p in body["people"]}
    assert statuses == {"ada": "offline", "grace": "away", "alan": "offline"}
    provider = body["providers"]["servicenow"]
    assert set(provider) == {"state", "last_success", "error"}
    assert provider["state"] == "ok" and provider["error"] is None
    assert ISO_Z.match(provider["last_success"])

    # The Socket.IO snapshot is the same body.
    _client, events = connect(server)
    assert list(events.wait("snapshot")) == list(body)

    readyz = server.get("/readyz")
    assert readyz.status_code == 200 and readyz.json()["ready"] is True

    metrics = server.get("/metrics")
    assert metrics.status_code == 200
    assert re.search(r"^presence_batches_total [1-9]", metrics.text, re.MULTILINE)

    missing = server.get("/api/nope")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    error = missing.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == "not_found" and error["message"]


def test_pages_carry_a_strict_content_security_policy(
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    server = dash_server(make_config(tmp_path, [person("ada")], sn_sim.url))
    for path in ("/", "/wall", "/api/presence"):
        response = server.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _snapshot_encodes(server: DashServer) -> float:
    found = re.search(r"^presence_snapshot_encodes_total (\S+)$", server.get("/metrics").text, re.M)
    assert found, "presence_snapshot_encodes_total missing from /metrics"
    return float(found.group(1))


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_fifty_connects_share_one_encoded_snapshot(
    async_mode: str, ready_dash: Callable[..., DashServer], connect: Any
) -> None:
    # A slow poll: after the first one nothing changes while the clients connect, so every
    # encode beyond the first is one too many (bar the once-a-second server_time).
    server = ready_dash(async_mode, poll_seconds=60)
    _settled(connect(server)[1])
    before = _snapshot_encodes(server)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        recorders = list(pool.map(lambda _: connect(server)[1], range(50)))
    snapshots = [events.wait("snapshot") for events in recorders]
    elapsed = time.monotonic() - started
    encodes = _snapshot_encodes(server) - before
    assert {json.dumps(s["people"]) for s in snapshots} == {json.dumps(snapshots[0]["people"])}
    assert {s["seq"] for s in snapshots} == {snapshots[0]["seq"]}
    # One body per details flag, again at most once a second for server_time: not one per
    # client (50).
    assert encodes <= 2 * (math.ceil(elapsed) + 1), (encodes, elapsed)
    assert encodes < 25, (encodes, elapsed)
