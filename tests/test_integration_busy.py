"""Busy is never shown free: the real dashboard process with ServiceNow (the person is
active) and Cisco (the person is on the phone) simulators over real HTTP, watched by a real
Socket.IO client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import (
    CiscoSimHandle,
    DashServer,
    EventRecorder,
    SnSimHandle,
    cisco_section,
    free_port,
    sys_id,
    wait_for,
)

ADA_URI = "ada@example.com"
PEOPLE = [
    {
        "id": "ada",
        "name": "Ada",
        "team": "Service Desk",
        "servicenow": sys_id("ada"),
        "cisco": ADA_URI,
    }
]


def test_on_the_phone_in_cisco_and_active_in_servicenow_is_busy_with_the_activity(
    tmp_path: Path,
    sn_sim: SnSimHandle,
    cisco_sim: CiscoSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)
    cisco_sim.set_contact(ADA_URI, "AVAILABLE", ["available"])
    port = free_port()
    cisco = cisco_section(cisco_sim, port, presence_type="rich")
    config = make_config(tmp_path, PEOPLE, sn_sim.url, providers={"cisco": cisco})
    server = dash_server(config, port=port)
    events = connect(server)

    def online_in_both() -> bool:
        sources = (events.people.get("ada") or {}).get("sources", {})
        return all(sources.get(n, {}).get("status") == "online" for n in ("servicenow", "cisco"))

    # Both sources have seen her available: the call that follows is a change seen happening.
    wait_for(online_in_both, 10, what="ada online in ServiceNow and Cisco")

    mark = events.mark()
    cisco_sim.set_contact(ADA_URI, "AWAY", ["on-the-phone"])  # IM&P notifies the dashboard

    def busy(data: dict[str, Any]) -> bool:
        return any(p["id"] == "ada" and p["status"] == "busy" for p in data["changes"])

    batch = events.wait("presence", busy, timeout=10, after=mark)
    ada = next(p for p in batch["changes"] if p["id"] == "ada")
    assert (ada["activity"], ada["activity_source"]) == ("On the phone", "cisco")
    assert ada["sources"]["servicenow"]["status"] == "online"  # still active: busy wins
    assert ada["sources"]["cisco"] == {**ada["sources"]["cisco"], "status": "busy"}
    assert ada["since_exact"] is True  # seen happening

    mark = events.mark()
    cisco_sim.set_contact(ADA_URI, "AVAILABLE", ["available"])
    batch = events.wait(
        "presence",
        lambda d: any(p["id"] == "ada" and p["status"] == "online" for p in d["changes"]),
        timeout=10,
        after=mark,
    )
    ada = next(p for p in batch["changes"] if p["id"] == "ada")
    assert ada["activity"] is None
