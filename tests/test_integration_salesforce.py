"""The real dashboard process (`python app.py --config ...`) against the Salesforce simulator,
over real HTTP both ways: the dashboard polls the simulated org, and the org's Login Flow /
LogoutEventStream callouts reach the dashboard's `/hooks/salesforce`. A Socket.IO client
watches the board, as a browser would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import (
    SF_WEBHOOK_SECRET,
    DashServer,
    EventRecorder,
    SfSimHandle,
    free_port,
    salesforce_section,
    start_salesforce_sim,
    wait_for,
)

from presence_dash.core.timefmt import iso_z, utc_now
from presence_dash.simulators.salesforce import SalesforceSim, make_id

ADA, GRACE = make_id("005", 123456789), make_id("005", 987654321)
PEOPLE = [
    {"id": "ada", "name": "Ada", "team": "Service Desk", "salesforce": ADA},
    {"id": "ada-ne", "name": "Ada", "team": "Network Operations", "salesforce": ADA},
    {"id": "grace", "name": "Grace", "team": "Service Desk", "salesforce": GRACE},
]


@pytest.fixture
def org_and_port() -> Iterator[tuple[SfSimHandle, int]]:
    """The simulated org, calling back to a dashboard port chosen before the dashboard runs."""
    port = free_port()
    sim = SalesforceSim(
        client_id="3MVG9test.presence",
        client_secret="sf-secret",
        webhook_url=f"http://127.0.0.1:{port}/hooks/salesforce",
        webhook_secret=SF_WEBHOOK_SECRET,
    )
    handle = start_salesforce_sim(sim)
    yield handle, port
    handle.close()


@pytest.fixture
def start_dash(
    tmp_path: Path,
    org_and_port: tuple[SfSimHandle, int],
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> Callable[..., DashServer]:
    """Factory: the dashboard for PEOPLE against the org (no other provider); returns once
    Salesforce's first refresh worked."""
    sim, port = org_and_port

    def start(**section: Any) -> DashServer:
        providers = {"salesforce": salesforce_section(sim, **section)}
        config = make_config(tmp_path, PEOPLE, None, providers=providers)
        server = dash_server(config, port=port)
        wait_for(lambda: _provider(server)["last_success"], 10, what="the first Salesforce poll")
        return server

    return start


def _provider(server: DashServer) -> dict[str, Any]:
    response = server.get("/api/presence")
    assert response.status_code == 200
    return response.json()["providers"]["salesforce"]


def _has(data: dict[str, Any], pid: str, status: str, activity: str | None = None) -> bool:
    return any(
        (p["id"], p["status"], p.get("activity")) == (pid, status, activity)
        for p in data["changes"]
    )


def _person(data: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in data["changes"] if p["id"] == pid)


def test_a_logout_reaches_a_socketio_client_within_seconds(
    org_and_port: tuple[SfSimHandle, int],
    start_dash: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    sim, _ = org_and_port
    sim.login(ADA, notify=False)
    server = start_dash(poll_seconds=600)  # only the webhook can explain a change
    client = connect(server)
    assert client.status("ada") == client.status("ada-ne") == "online"
    assert client.status("grace") == "offline"
    assert _provider(server)["state"] == "ok"

    mark = client.mark()
    sim.logout(ADA)
    change = client.wait(
        "presence", lambda d: _has(d, "ada", "offline", "Logged out"), timeout=5, after=mark
    )
    assert _has(change, "ada-ne", "offline", "Logged out")  # one user, both teams
    ada = _person(change, "ada")
    assert (ada["activity_source"], ada["since_exact"]) == ("salesforce", True)
    assert ada["sources"]["salesforce"]["detail"] == "logout"  # the raw event
    mark = client.mark()
    sim.login(GRACE)
    client.wait("presence", lambda d: _has(d, "grace", "online"), timeout=5, after=mark)
    assert [(w["event"], w["status"]) for w in sim.webhooks()] == [("logout", 200), ("login", 200)]


def test_a_session_that_lapses_is_caught_by_polling(
    org_and_port: tuple[SfSimHandle, int],
    start_dash: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    sim, _ = org_and_port
    sim.login(GRACE, notify=False, seconds_valid=600, login_type="SAML Sfdc Initiated SSO")
    server = start_dash(poll_seconds=0.5)
    client = connect(server)
    assert client.status("grace") == "online"  # an SSO login counts by default
    mark = client.mark()
    sim.clock(offset_s=601)  # the browser was closed: no logout, the session simply ends
    change = client.wait("presence", lambda d: _has(d, "grace", "offline"), timeout=5, after=mark)
    # dated by the session's expiry, a second ago by the org's clock: Salesforce says when
    assert _person(change, "grace")["since_exact"] is True
    assert sim.webhooks() == []
    assert _provider(server)["state"] == "ok"


def test_a_forged_callout_changes_nothing(
    org_and_port: tuple[SfSimHandle, int],
    start_dash: Callable[..., DashServer],
) -> None:
    sim, port = org_and_port
    sim.login(ADA, notify=False)
    server = start_dash(poll_seconds=600)
    body = json.dumps({"user_id": ADA, "event": "logout", "event_time": iso_z(utc_now())})
    forged = requests.post(
        f"http://127.0.0.1:{port}/hooks/salesforce",
        data=body,
        headers={"X-Presence-Signature": "sha256=" + "0" * 64},
        timeout=5,
    )
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "bad_signature")
    people = {p["id"]: p["status"] for p in server.get("/api/presence").json()["people"]}
    assert people["ada"] == "online"
