"""The real dashboard process (`python app.py --config ...`) with Teams and ServiceNow, both
simulated over real HTTP, watched by a Socket.IO client as a browser would. Skipped until the
registry lists Teams (its registry line is the only wiring outside providers/teams/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import DashServer, EventRecorder, SnSimHandle, sys_id, wait_for
from teams_helpers import (
    CLIENT_SECRET,
    CLIENT_SECRET_ENV,
    TeamsSimHandle,
    object_id,
    running_teams_sim,
    teams_section,
)

from presence_dash.providers.registry import provider_spec

pytestmark = pytest.mark.skipif(
    provider_spec("teams") is None, reason="teams is not in the provider registry yet"
)

ADA = object_id("ada")
PEOPLE = [
    {
        "id": "ada",
        "name": "Ada",
        "team": "Service Desk",
        "teams_id": ADA,
        "servicenow": sys_id("ada"),
    }
]


@pytest.fixture
def graph() -> Iterator[TeamsSimHandle]:
    with running_teams_sim() as handle:
        yield handle


def _has(data: dict[str, Any], status: str, activity: str | None) -> bool:
    return any(
        (p["id"], p["status"], p.get("activity")) == ("ada", status, activity)
        for p in data["changes"]
    )


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_teams_call_makes_an_active_person_busy_and_ending_it_frees_them(
    async_mode: str,
    tmp_path: Path,
    graph: TeamsSimHandle,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    sn_sim.set_user(sys_id("ada"), seconds_ago=1)  # ServiceNow sees Ada active
    graph.set(ADA, "Busy", "InACall")
    providers = {"teams": teams_section(graph.url, poll_seconds=0.3)}
    config = make_config(tmp_path, PEOPLE, sn_sim.url, providers=providers)
    server = dash_server(config, async_mode, **{CLIENT_SECRET_ENV: CLIENT_SECRET})
    wait_for(
        lambda: server.get("/api/presence").json()["providers"]["teams"]["last_success"],
        10,
        what="the first Teams poll",
    )
    client = connect(server)
    ada = client.people["ada"]
    assert (ada["status"], ada["activity"], ada["activity_source"]) == (
        "busy",
        "In a call",
        "teams",
    )
    assert ada["sources"]["teams"]["detail"] == "Busy/InACall"
    assert ada["sources"]["servicenow"]["status"] == "online"

    mark = client.mark()
    graph.expire_tokens()  # the dashboard renews its token on the way
    graph.set(ADA, "Available", "Available")
    client.wait("presence", lambda d: _has(d, "online", None), timeout=5, after=mark)
    assert server.get("/api/presence").json()["providers"]["teams"]["state"] == "ok"
    assert "Microsoft Teams" in server.get("/").text  # the label comes from the registry
