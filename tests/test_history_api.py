"""GET /api/people/<id>/history against the real server and the ServiceNow simulator: beside
the aggregate `changes`, `sources` has each source's changes, newest first, ending with the
change in force when the window began."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpers import DashServer, SnSimHandle, person, wait_for


def _status(server: DashServer, pid: str) -> str:
    people = server.get("/api/presence").json()["people"]
    return next(p["status"] for p in people if p["id"] == pid)


def _history(server: DashServer, hours: float) -> dict[str, Any]:
    answer = server.get(f"/api/people/ada/history?hours={hours}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_history_has_each_source_s_changes_and_the_one_in_force_at_the_window_start(
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    tmp_path: Path,
) -> None:
    ada = person("ada")
    sn_sim.set_user(ada["servicenow"], seconds_ago=1)
    server = dash_server(make_config(tmp_path, [ada], sn_sim.url))
    wait_for(lambda: _status(server, "ada") == "online", 10, what="ada online")
    sn_sim.set_user(ada["servicenow"], seconds_ago=31)  # away since 1 s ago
    wait_for(lambda: _status(server, "ada") == "away", 10, what="ada away")

    # The snapshot can run a batch ahead of the history, which is written per batch.
    def recorded() -> dict[str, Any] | None:
        body = _history(server, 24)
        return body if len(body["sources"].get("servicenow", [])) >= 2 else None

    body = wait_for(recorded, 5, what="both changes recorded")
    assert list(body["sources"]) == ["servicenow"]
    changes = body["sources"]["servicenow"]
    assert [(c["from"], c["to"]) for c in changes] == [("online", "away"), ("unknown", "online")]
    assert set(changes[0]) == {"from", "to", "at", "activity", "detail"}
    # Dated like the aggregate: ServiceNow's own "away since", the same time on both.
    assert changes[0]["at"] == body["changes"][0]["at"]

    # A window that ends before the last change began: no change inside it, but the source's
    # list still says what it was in at the start (the aggregate's list does not).
    wait_for(
        lambda: (
            (datetime.now(UTC) - datetime.fromisoformat(changes[0]["at"])).total_seconds() > 1.5
        ),
        5,
        what="the away change over a second old",
    )
    short = _history(server, 0.0003)  # about a second
    assert short["changes"] == []
    assert [(c["from"], c["to"]) for c in short["sources"]["servicenow"]] == [("online", "away")]


def test_history_of_a_person_never_seen_has_no_sources(
    make_config: Callable[..., Path], dash_server: Callable[..., DashServer], tmp_path: Path
) -> None:
    server = dash_server(make_config(tmp_path, [person("ada")], None))
    body = _history(server, 24)
    assert body["changes"] == [] and body["sources"] == {}
