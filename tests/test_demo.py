"""`python app.py` with no config file starts the demo: simulators in-process, seeded people
in three teams, and the dashboard on the given port (CONTRACT "Command line")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from helpers import DashServer, wait_for


def test_demo_starts_without_a_config_and_serves_seeded_people(
    demo: DashServer, tmp_path: Path
) -> None:
    expected = f"presence-dash (demo, eventlet) on {demo.url}"
    assert expected in demo.stdout_path.read_text()

    def polled() -> dict | None:
        body = demo.get("/api/presence").json()
        return body if body["providers"]["servicenow"]["state"] == "ok" else None

    body = wait_for(polled, 15, interval=0.1, what="the demo's first ServiceNow poll")
    people = body["people"]
    assert len(people) >= 35
    assert {p["team"] for p in people} == {
        "Service Desk",
        "Field Engineering",
        "Network Operations",
    }
    assert len({p["id"] for p in people}) == len(people)
    statuses = {p["status"] for p in people}
    assert "online" in statuses and len(statuses) >= 2, statuses

    # Salesforce is the third source: the agent teams' people have it, and it is healthy.
    def salesforce_polled() -> dict | None:
        body = demo.get("/api/presence").json()
        return body if body["providers"]["salesforce"]["state"] == "ok" else None

    body = wait_for(salesforce_polled, 15, interval=0.1, what="the demo's first Salesforce poll")
    assert body["providers"]["salesforce"]["error"] is None
    with_salesforce = [p for p in body["people"] if "salesforce" in p["sources"]]
    assert len(with_salesforce) >= 20
    assert {p["team"] for p in with_salesforce} == {"Service Desk", "Field Engineering"}
    sf_statuses = {p["sources"]["salesforce"]["status"] for p in with_salesforce}
    assert sf_statuses == {"online", "offline"}, sf_statuses

    page = demo.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Ada Lovelace" in page.text

    # The demo keeps its files in the working directory, not in the checkout.
    assert (tmp_path / "cwd" / "presence-dash-demo.db").exists()


def test_demo_floor_shows_busy_people_and_never_shows_a_busy_source_as_free(
    demo: DashServer,
) -> None:
    def cisco_polled() -> dict | None:
        body = demo.get("/api/presence").json()
        return body if body["providers"]["cisco"]["state"] == "ok" else None

    wait_for(cisco_polled, 15, interval=0.1, what="the demo's first Cisco fetch")
    seen_busy_and_active: set[str] = set()
    seen_long_offline = False

    # A few looks over a few seconds (the demo drifts): at every look, nobody with a fresh
    # busy source is shown as anything but busy, and the activity says why.
    def checked_looks() -> bool:
        nonlocal seen_long_offline
        for p in demo.get("/api/presence").json()["people"]:
            fresh = {n: s for n, s in p["sources"].items() if not s["stale"]}
            if any(s["status"] == "busy" for s in fresh.values()):
                assert p["status"] == "busy", p
                assert p["activity"], p
                if fresh.get("servicenow", {}).get("status") == "online":
                    seen_busy_and_active.add(p["id"])
            if p["status"] == "offline" and p["since_exact"]:
                hours = (
                    datetime.now(UTC) - datetime.fromisoformat(p["since"].replace("Z", "+00:00"))
                ).total_seconds() / 3600
                seen_long_offline = seen_long_offline or hours > 10
        return bool(seen_busy_and_active) and seen_long_offline

    wait_for(checked_looks, 20, interval=0.5, what="busy people active in ServiceNow")
