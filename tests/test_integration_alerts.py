"""Thresholds and alerts end to end: the real dashboard process (`python app.py`) polling the
ServiceNow simulator, a real Socket.IO client, `GET /api/alerts` and `/metrics`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio
from helpers import DashServer, EventRecorder, SnSimHandle, person, sys_id, wait_for

from presence_dash.core.timefmt import parse_iso_z

DESK = "Service Desk"
PEOPLE = [person("ada"), person("grace"), person("alan", team="Field Engineering")]
POLL_S = 0.2
PUSH_MS = 50
# Scheduling slack on a loaded two-core test machine, on top of one poll and one push.
SLACK_S = 1.0
DESK_ALERT = "team:Service Desk:below_minimum"


class AlertRecorder(EventRecorder):
    EVENTS = (*EventRecorder.EVENTS, "alerts")


def _ids(body: dict[str, Any]) -> list[str]:
    return [a["id"] for a in body["alerts"]]


@pytest.fixture
def start(
    tmp_path: Path, sn_sim: SnSimHandle, make_config: Callable[..., Path], dash_server: Any
) -> Iterator[Callable[..., tuple[DashServer, AlertRecorder]]]:
    """Factory: everyone active in ServiceNow, the dashboard with `teams`, and a websocket
    client that has had its first batch (nobody unknown any more)."""
    clients: list[tuple[socketio.Client, DashServer]] = []

    def run(teams: list[dict[str, Any]], **sn_keys: Any) -> tuple[DashServer, AlertRecorder]:
        for p in PEOPLE:
            sn_sim.set_user(p["servicenow"], seconds_ago=0)
        config = make_config(
            tmp_path, PEOPLE, sn_sim.url, poll_seconds=POLL_S, teams=teams, push_interval_ms=PUSH_MS
        )
        if sn_keys:  # more [providers.servicenow] keys: its section ends with this line
            extra = "".join(f"\n{key} = {value!r}" for key, value in sn_keys.items())
            text = config.read_text(encoding="utf-8")
            config.write_text(text.replace("timeout_seconds = 2", "timeout_seconds = 2" + extra))
        server = dash_server(config)
        wait_for(lambda: server.get("/readyz").status_code == 200, 10, what="/readyz 200")
        client = socketio.Client(reconnection=False)
        events = AlertRecorder(client)
        client.connect(server.url, transports=["websocket"], wait_timeout=5)
        clients.append((client, server))
        wait_for(lambda: events.status("ada") == "online", 10, what="ada online")
        return server, events

    yield run
    for client, server in clients:
        server.stop()
        client.disconnect()


def test_a_team_below_its_minimum_reaches_the_client_api_and_metrics_within_a_poll_and_a_push(
    sn_sim: SnSimHandle, start: Callable[..., tuple[DashServer, AlertRecorder]]
) -> None:
    server, events = start([{"name": DESK, "min_online": 2, "max_away_minutes": 15}])
    on_connect = events.wait("alerts")
    # Sent right after the snapshot, before any later event.
    names = [name for name, _ in events.events]
    assert names.index("alerts") == names.index("snapshot") + 1
    wait_for(lambda: server.get("/api/alerts").json()["teams"][DESK]["online"] == 2, 5)
    assert on_connect["teams"]["Field Engineering"]["min_online"] is None
    mark = events.mark()

    sn_sim.set_user(sys_id("ada"), seconds_ago=120)  # ada logs off: 1 online, minimum 2
    changed_at = time.monotonic()
    body = events.wait("alerts", lambda b: DESK_ALERT in _ids(b), timeout=10, after=mark)
    took = time.monotonic() - changed_at
    assert took < POLL_S + PUSH_MS / 1000 + SLACK_S, f"the alert took {took:.2f} s"
    [alert] = body["alerts"]
    assert alert["kind"] == "below_minimum" and alert["team"] == DESK
    assert (alert["person_id"], alert["value"], alert["threshold"]) == (None, 1, 2)
    assert alert["message"] == "Service Desk: 1 online, minimum 2"
    assert body["teams"][DESK] == {
        "min_online": 2,
        "max_away_minutes": 15,
        "max_busy_minutes": None,
        "people": 2,
        "online": 1,
        "short": True,
    }
    # The presence batch that took ada offline came first.
    later = events.events[mark:]
    first_alert = next(i for i, (n, b) in enumerate(later) if n == "alerts" and _ids(b))
    assert any(n == "presence" for n, _ in later[:first_alert])

    api = server.get("/api/alerts").json()
    assert _ids(api) == [DESK_ALERT]
    assert api["alerts"][0]["since"] == alert["since"]  # kept while it stays open
    metrics = server.get("/metrics").text
    assert re.search(r'^presence_team_online\{team="Service Desk"\} 1\.0$', metrics, re.M)
    assert re.search(r'^presence_team_min_online\{team="Service Desk"\} 2\.0$', metrics, re.M)
    assert re.search(r'^presence_alerts_open\{kind="below_minimum"\} 1\.0$', metrics, re.M)
    assert re.search(r'^presence_alerts_open\{kind="away_too_long"\} 0\.0$', metrics, re.M)

    mark = events.mark()
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)  # back: the alert closes
    closed = events.wait("alerts", lambda b: not b["alerts"], timeout=10, after=mark)
    assert closed["teams"][DESK]["online"] == 2 and not closed["teams"][DESK]["short"]
    assert server.get("/api/alerts").json()["alerts"] == []


def test_a_time_limit_trips_without_any_presence_change(
    sn_sim: SnSimHandle, start: Callable[..., tuple[DashServer, AlertRecorder]]
) -> None:
    # Away for up to an hour in ServiceNow, so ada stays away past the one-minute limit.
    server, events = start([{"name": DESK, "max_away_minutes": 1}], away_within_s=3600.0)
    assert events.wait("alerts")["alerts"] == []
    # Last active 85 s ago: away since 55 s ago (last_on + 30 s), 5 s short of the limit.
    sn_sim.set_user(sys_id("ada"), seconds_ago=85)
    wait_for(lambda: events.status("ada") == "away", 10, what="ada away")
    mark = events.mark()
    assert "person:ada:away_too_long" not in _ids(server.get("/api/alerts").json())

    body = events.wait("alerts", lambda b: b["alerts"], timeout=15, after=mark)
    assert [n for n, _ in events.events[mark:]] == ["alerts"]  # no presence change before it
    [alert] = body["alerts"]
    assert alert["id"] == "person:ada:away_too_long"
    assert (alert["kind"], alert["person_id"], alert["threshold"]) == ("away_too_long", "ada", 1)
    assert alert["value"] == 1
    ada_since = parse_iso_z(events.people["ada"]["since"])
    assert (parse_iso_z(alert["since"]) - ada_since).total_seconds() == 60
    assert _ids(server.get("/api/alerts").json()) == ["person:ada:away_too_long"]
