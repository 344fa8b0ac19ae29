"""Shared fixtures: real servers on free loopback ports (the simulator in-process, the
dashboard as a subprocess started the way users start it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
import sqlalchemy as sa
from glance_helpers import GlanceSimHandle, running_glance_sim
from helpers import (
    APP_PY,
    REPO_ROOT,
    CiscoSimHandle,
    DashServer,
    EventRecorder,
    SfSimHandle,
    SnSimHandle,
    sim_secrets_env,
    start_cisco_sim,
    start_process,
    start_salesforce_sim,
    start_sn_sim,
    wait_until_serving,
)
from helpers import free_port as _free_port
from helpers import make_config as _make_config
from screenmeet_helpers import ScreenMeetSimHandle, start_screenmeet_sim

from presence_dash.storage.db import engine_for


@pytest.fixture
def free_port() -> int:
    return _free_port()


@pytest.fixture
def sn_sim() -> Iterator[SnSimHandle]:
    """A ServiceNow simulator (user presence.dash, password pw) on a free loopback port."""
    handle = start_sn_sim()
    yield handle
    handle.server.shutdown()
    handle.http.close()


@pytest.fixture
def make_config() -> Callable[..., Path]:
    """`make_config(tmp_path, people, sn_url, poll_seconds=0.2, providers=None, **server)`
    -> config path (`sn_url=None`: no ServiceNow section)."""
    return _make_config


@pytest.fixture
def dash_server(tmp_path: Path) -> Iterator[Callable[..., DashServer]]:
    """Factory: `dash_server(config_path, async_mode="eventlet", port=None)` starts
    `python app.py` on `port` (default: a free one; choose it first when the config must name
    the dashboard's own URL, e.g. a callback), waits for /healthz and returns a DashServer;
    all are stopped at teardown. Extra keyword arguments are environment variables."""
    started: list[DashServer] = []

    def start(
        config: Path, async_mode: str = "eventlet", port: int | None = None, **env: Any
    ) -> DashServer:
        port = port or _free_port()
        args = [str(APP_PY), "--config", str(config), "--port", str(port)]
        args += ["--async-mode", async_mode]
        proc, out, err = start_process(
            args,
            cwd=REPO_ROOT,
            logs=tmp_path / f"dash-{len(started)}",
            env={**sim_secrets_env(), "LOG_LEVEL": "INFO", **env},
        )
        server = DashServer(f"http://127.0.0.1:{port}", proc, out, err)
        started.append(server)
        wait_until_serving(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def cisco_sim() -> Iterator[CiscoSimHandle]:
    """A Cisco PWS simulator (app user presence.app / pw, end user presence.dash@example.com)
    on a free loopback port."""
    handle = start_cisco_sim()
    yield handle
    handle.close()


@pytest.fixture
def salesforce_sim() -> Iterator[SfSimHandle]:
    """A Salesforce org simulator (client id/secret from helpers, JWT key pair from
    `rsa_key_pair()`) on a free loopback port."""
    handle = start_salesforce_sim()
    yield handle
    handle.close()


@pytest.fixture
def glance_sim() -> Iterator[GlanceSimHandle]:
    """The Glance simulator (groups 72431 and 55120, two presence servers)."""
    with running_glance_sim() as handle:
        yield handle


@pytest.fixture
def screenmeet_sim() -> Iterator[ScreenMeetSimHandle]:
    """A ScreenMeet bridge simulator (user sm.bridge / sm-pw) on a free loopback port."""
    handle = start_screenmeet_sim()
    yield handle
    handle.close()


PG_URL = os.environ.get("PRESENCE_DASH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database as a `[server] database` URL: SQLite on disk, then the machine's
    PostgreSQL in a fresh schema (dropped afterwards). Without PostgreSQL the second run
    skips, except under CI=true."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = engine_for(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def sql_engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on `database_url` (SQLite, then PostgreSQL)."""
    engine = engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DashServer]:
    """`python app.py` with no config file (the demo) on a free port, from an empty working
    directory so no `presence-dash.toml` is found; stopped afterwards."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    port = _free_port()
    proc, out, err = start_process(
        [str(APP_PY), "--port", str(port)], cwd=cwd, logs=tmp_path / "demo-logs"
    )
    server = DashServer(f"http://127.0.0.1:{port}", proc, out, err)
    try:
        wait_until_serving(server, timeout=30)
        yield server
    finally:
        server.stop()


@pytest.fixture
def connect() -> Iterator[Callable[[DashServer], EventRecorder]]:
    """Factory: a real python-socketio client on the websocket transport connected to a
    dashboard, with a recorder that has seen the `snapshot`."""
    clients: list[tuple[socketio.Client, DashServer]] = []

    def open_client(server: DashServer) -> EventRecorder:
        client = socketio.Client(reconnection=False)
        recorder = EventRecorder(client)
        client.connect(server.url, transports=["websocket"], wait_timeout=5)
        clients.append((client, server))
        recorder.wait("snapshot")
        return recorder

    yield open_client
    for client, server in clients:
        server.stop()  # first: under gevent the server does not answer the close frame
        client.disconnect()
