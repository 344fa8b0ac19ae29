"""The demo wires ScreenMeet to its in-process simulator: the settings it returns reach a
working simulator with the credentials it generated."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from helpers import APP_PY, free_port, start_process, wait_for

from presence_dash.demo import start_demo
from presence_dash.screenmeet.client import ScreenMeetClient
from presence_dash.screenmeet.rules import parse_session_request


@pytest.fixture
def in_tmp_cwd(tmp_path):  # the demo's database lands in the working directory
    before = os.getcwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(before)


def test_the_demo_points_screenmeet_at_a_running_simulator(in_tmp_cwd) -> None:
    settings, servers = start_demo("127.0.0.1", 8000, None, "threading")
    try:
        config = settings.providers.screenmeet
        assert config is not None
        client = ScreenMeetClient(
            config.base_url, config.username, settings.secret(config.password_env) or "", 5
        )
        body = {
            "type": "support",
            "parent_object_table": "incident",
            "parent_object_display_name": "INC0000005",
        }
        session = client.create_session(
            parse_session_request(body, datetime.now(UTC)), "demo-check"
        )
        assert session.status == "new" and session.pin
        client.close_session(session.id)
    finally:
        for server in servers:
            server.shutdown()


def test_simulate_screenmeet_serves_the_simulator_alone(tmp_path) -> None:
    port = free_port()
    proc, out, _ = start_process(
        [str(APP_PY), "simulate", "screenmeet", "--port", str(port), "--username", "bridge"],
        cwd=tmp_path,
        logs=tmp_path / "sim",
        env={"SIM_PASSWORD": "pw"},
    )
    try:
        wait_for(lambda: "screenmeet simulator on" in out.read_text(), 10, what="the banner")
        client = ScreenMeetClient(
            f"http://127.0.0.1:{port}/api/x_acme_sm/screenmeet", "bridge", "pw", 5
        )
        body = {
            "type": "live",
            "parent_object_table": "incident",
            "parent_object_display_name": "X",
        }
        assert client.create_session(
            parse_session_request(body, datetime.now(UTC)), "cli-check"
        ).pin
    finally:
        proc.terminate()
        proc.wait(timeout=5)
