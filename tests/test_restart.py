"""A restart of the real dashboard process keeps every status and timer, on SQLite and
PostgreSQL, and publishes no `presence` change for people whose state did not change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import DashServer, EventRecorder, SnSimHandle, person, sys_id, wait_for

PEOPLE = [person("ada"), person("grace"), person("alan", team="Field Engineering")]


def _people(server: DashServer) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in server.get("/api/presence").json()["people"]}


def _settled(server: DashServer) -> dict[str, dict[str, Any]]:
    wait_for(
        lambda: all(p["status"] != "unknown" for p in _people(server).values()),
        10,
        what="every person known",
    )
    return _people(server)


def test_restart_keeps_statuses_and_since_and_publishes_no_change(
    tmp_path: Path,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Any,
    connect: Callable[[DashServer], EventRecorder],
    database_url: str,
) -> None:
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)  # online for the next 30 s
    sn_sim.set_user(sys_id("grace"), seconds_ago=40)  # away
    sn_sim.set_user(sys_id("alan"), seconds_ago=14 * 3600)  # offline since yesterday
    # The default poll interval: a restart of a few seconds stays within its staleness.
    config = make_config(tmp_path, PEOPLE, sn_sim.url, poll_seconds=5, database=database_url)
    first = dash_server(config)
    before = _settled(first)
    assert [before[p]["status"] for p in ("ada", "grace", "alan")] == ["online", "away", "offline"]
    assert before["alan"]["since_exact"] is True  # from the vendor's last_on
    first.stop()  # SIGTERM: the board state is written on the way out

    second = dash_server(config)
    events = connect(second)
    snapshot = events.wait("snapshot")
    after = {p["id"]: p for p in snapshot["people"]}
    for pid in ("ada", "grace", "alan"):
        kept = ("status", "since", "since_exact", "activity")
        assert {k: after[pid][k] for k in kept} == {k: before[pid][k] for k in kept}, pid
    restarted_at = snapshot["server_time"]

    # The restarted dashboard polls ServiceNow (its first poll runs at once) and finds
    # what was saved: nothing to publish.
    wait_for(
        lambda: (
            (second.get("/api/presence").json()["providers"]["servicenow"]["last_success"])
            > restarted_at
        ),
        10,
        what="a successful poll after the restart",
    )
    wait_for(lambda: second.get("/readyz").status_code == 200, 10, what="/readyz 200")
    published = [data for name, data in events.events if name == "presence"]
    assert published == [], published
    assert {p: v["since"] for p, v in _people(second).items()} == {
        p: v["since"] for p, v in before.items()
    }
