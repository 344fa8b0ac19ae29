"""The real dashboard process (`python app.py --config ...`) against the Cisco PWS simulator,
over real HTTP both ways: the dashboard calls the simulated IM&P node, and the node sends its
notification GETs to the dashboard's `/hooks/cisco/pws`. A Socket.IO client watches the board.

Each test covers one of the vendor's stall rules or one recovery of the adapter
(docs/providers/cisco.md) and fails if that handling is removed. Where a test must prove the
notification path, `resync_seconds` is 600 so that no resync can explain the update.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers import (
    CiscoSimHandle,
    DashServer,
    EventRecorder,
    cisco_section,
    free_port,
    wait_for,
)

ADA, GRACE, ALAN, EDSGER = (f"{n}@example.com" for n in ("ada", "grace", "alan", "edsger"))
PEOPLE = [
    {"id": "ada", "name": "Ada", "team": "Service Desk", "cisco": ADA},
    {"id": "grace", "name": "Grace", "team": "Service Desk", "cisco": GRACE},
    {"id": "alan", "name": "Alan", "team": "Field Engineering", "cisco": ALAN},
]
HOOK = "/hooks/cisco/pws"
NOTIFY = "PRESENCE_NOTIFICATION"


@pytest.fixture
def start_dash(
    tmp_path: Path,
    cisco_sim: CiscoSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> Callable[..., DashServer]:
    """Factory: the dashboard for PEOPLE against `cisco_sim` (no ServiceNow), on a port chosen
    first so the config can name its callback URL; returns once cisco's first refresh worked.
    Every start writes the same config file and uses the same database."""

    def start(
        async_mode: str = "eventlet", people: list[dict[str, str]] = PEOPLE, **cisco: Any
    ) -> DashServer:
        port = free_port()
        section = cisco_section(cisco_sim, port, **cisco)
        config = make_config(tmp_path, people, None, providers={"cisco": section})
        started = datetime.now(UTC)
        server = dash_server(config, async_mode=async_mode, port=port)

        def refreshed() -> bool:
            # A restart restores the last run's last_success: wait for one of this run's.
            last = _provider(server)["last_success"]
            return bool(last) and datetime.fromisoformat(last.replace("Z", "+00:00")) >= started

        wait_for(refreshed, 10, what="cisco's first refresh")
        return server

    return start


# -- helpers --------------------------------------------------------------------------------


def _presence(server: DashServer) -> dict[str, Any]:
    response = server.get("/api/presence")
    assert response.status_code == 200
    return response.json()


def _provider(server: DashServer) -> dict[str, Any]:
    return _presence(server)["providers"]["cisco"]


def _person(server: DashServer, pid: str) -> dict[str, Any]:
    return next(p for p in _presence(server)["people"] if p["id"] == pid)


def _shows(server: DashServer, pid: str, status: str, activity: str | None) -> bool:
    p = _person(server, pid)
    return (p["status"], p["activity"]) == (status, activity)


def _has(data: dict[str, Any], pid: str, status: str, activity: str | None) -> bool:
    return any(
        (p["id"], p["status"], p["activity"]) == (pid, status, activity) for p in data["changes"]
    )


def _registration(sim: CiscoSimHandle) -> tuple[list[int], list[int]]:
    state = sim.state()
    return [e["id"] for e in state["endpoints"]], [s["id"] for s in state["subscriptions"]]


def _settled(sim: CiscoSimHandle) -> None:
    """Wait until the fetch after registration and the one that follows it (the settle
    fetch, or the fetch for the subscription's first notification) are done: from here on,
    with resync_seconds 600, only a notification makes the dashboard fetch."""
    wait_for(lambda: sim.state()["fetches"] >= 2, 5, what="the settle fetch")


def _hook(server: DashServer, method: str = "GET", **params: str) -> requests.Response:
    return requests.request(method, server.url + HOOK, params=params, timeout=5)


def _log(server: DashServer) -> str:
    return server.stderr_path.read_text(errors="replace")


# -- 1. notification -> fetch ---------------------------------------------------------------


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_each_notified_change_reaches_the_client_without_a_resync(
    async_mode: str,
    cisco_sim: CiscoSimHandle,
    start_dash: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    server = start_dash(async_mode, presence_type="rich", resync_seconds=600)
    events = connect(server)
    _settled(cisco_sim)
    wait_for(lambda: events.status("ada") == "online", 5, what="ada online on the client")

    # The simulator sends no second notification until we fetch: both changes arriving
    # proves a fetch after each notification.
    for status, activities, expected in [
        ("DND", [], ("busy", "Do not disturb")),
        ("BUSY", ["on-the-phone"], ("busy", "On the phone")),
        ("AVAILABLE", [], ("online", None)),
    ]:
        mark = events.mark()
        started = time.monotonic()
        reply = cisco_sim.set_contact(ADA, status, activities)
        assert reply["notified"], "the simulator held the notification back (no fetch?)"
        batch = events.wait("presence", lambda d, e=expected: _has(d, "ada", *e), 2, mark)
        assert time.monotonic() - started < 2
        ada = next(p for p in batch["changes"] if p["id"] == "ada")
        assert ada["sources"]["cisco"]["status"] == expected[0]
        assert ada["sources"]["cisco"]["activity"] == expected[1]

    assert [n["status"] for n in cisco_sim.notifications()] == [200] * 4  # subscribe + 3
    assert _provider(server)["state"] == "ok"


# -- 2. start-up fetch ----------------------------------------------------------------------


def test_initial_states_are_on_the_board_right_after_start(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    cisco_sim.set_contact(GRACE, "BUSY")  # IM&P stores Busy as Away in basic presence
    # alan is not known to IM&P; edsger is known but offline
    people = [*PEOPLE, {"id": "edsger", "name": "Edsger", "team": "Research", "cisco": EDSGER}]
    cisco_sim.set_contact(EDSGER, "UNAVAILABLE")

    server = start_dash(people=people, resync_seconds=600)

    body = _presence(server)
    shown = {p["id"]: (p["status"], p["activity"]) for p in body["people"]}
    assert shown == {
        "ada": ("online", None),
        "grace": ("away", "Away"),
        "alan": ("unknown", "Unknown to IM&P"),
        "edsger": ("offline", None),
    }
    assert body["providers"]["cisco"]["state"] == "ok"
    assert body["providers"]["cisco"]["error"] is None  # the callback self-check passed
    assert server.get("/readyz").status_code == 200
    endpoints, subscriptions = _registration(cisco_sim)
    assert len(endpoints) == 1 and len(subscriptions) == 1
    assert cisco_sim.state()["endpoints"][0]["url"] == server.url + HOOK
    # IM&P notifies a new subscription at once, often before its id reaches the dashboard:
    # that notification is ours, not a stranger's.
    _settled(cisco_sim)
    assert [n["status"] for n in cisco_sim.notifications()] == [200]
    assert " WARNING " not in _log(server), _log(server)


def test_a_callback_url_that_does_not_reach_the_dashboard_is_a_warning(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    wrong = f"http://127.0.0.1:{free_port()}{HOOK}"
    server = start_dash(resync_seconds=600, callback_url=wrong)
    provider = _provider(server)
    assert provider["state"] == "degraded"
    assert f"callback URL {wrong} unreachable" in provider["error"]
    assert _person(server, "ada")["status"] == "unknown"  # fetched: IM&P does not know her
    assert _person(server, "ada")["sources"]["cisco"]["stale"] is False


# -- 3. CPU >= 80 %: no notifications -------------------------------------------------------


def test_resyncs_carry_changes_while_cpu_is_high_and_the_stall_is_reported(
    cisco_sim: CiscoSimHandle,
    start_dash: Callable[..., DashServer],
    connect: Callable[[DashServer], EventRecorder],
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    server = start_dash(resync_seconds=0.5)
    events = connect(server)
    wait_for(lambda: events.status("ada") == "online", 5, what="ada online")
    _settled(cisco_sim)
    mark = events.mark()

    cisco_sim.cpu(90)
    for status, expected in [("AWAY", ("away", "Away")), ("UNAVAILABLE", ("offline", None))]:
        reply = cisco_sim.set_contact(ADA, status)
        assert reply["notified"] == []  # IM&P is silent at >= 80 % CPU
        events.wait("presence", lambda d, e=expected: _has(d, "ada", *e), 3, mark)

    stalled = events.wait("providers", lambda d: d["cisco"]["state"] == "degraded", 5, mark)
    assert "notifications have stopped" in stalled["cisco"]["error"]
    provider = _provider(server)
    assert provider["state"] == "degraded"
    assert "notifications have stopped" in provider["error"]

    # CPU drops: the next change is notified again and the provider is ok again.
    cisco_sim.cpu(10)
    mark = events.mark()
    assert cisco_sim.set_contact(ADA, "DND")["notified"]
    events.wait("presence", lambda d: _has(d, "ada", "busy", "Do not disturb"), 3, mark)
    events.wait("providers", lambda d: d["cisco"]["state"] == "ok", 5, mark)
    wait_for(lambda: _provider(server)["error"] is None, 3, what="no error on the API")


# -- 4. session keys expire ------------------------------------------------------------------


def test_a_change_after_the_session_keys_expired_still_arrives(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    server = start_dash(resync_seconds=600)
    _settled(cisco_sim)

    state = cisco_sim.expire_sessions()
    assert state["sessions"] == {"app": 0, "end": 0}
    assert cisco_sim.set_contact(ADA, "DND")["notified"]  # endpoint and subscription remain

    wait_for(lambda: _shows(server, "ada", "busy", "Do not disturb"), 3, what="ada DND")
    assert cisco_sim.state()["sessions"] == {"app": 1, "end": 1}  # logged in again
    assert _provider(server)["state"] == "ok"


# -- 5. IM&P restart / failover --------------------------------------------------------------


def test_after_an_imp_restart_the_dashboard_registers_again_and_is_notified(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    server = start_dash(resync_seconds=1)
    _settled(cisco_sim)
    old_endpoints, old_subscriptions = _registration(cisco_sim)

    cisco_sim.restart()
    assert _registration(cisco_sim) == ([], [])

    def registered_again() -> tuple[list[int], list[int]] | None:
        endpoints, subscriptions = _registration(cisco_sim)
        return (endpoints, subscriptions) if endpoints and subscriptions else None

    endpoints, subscriptions = wait_for(registered_again, 5, what="a new registration")
    assert len(endpoints) == 1 and len(subscriptions) == 1
    assert endpoints[0] not in old_endpoints and subscriptions[0] not in old_subscriptions
    assert cisco_sim.state()["endpoints"][0]["url"] == server.url + HOOK

    # Notifications work again: a change is notified to the new subscription and accepted.
    wait_for(lambda: not cisco_sim.state()["subscriptions"][0]["awaiting_fetch"], 5)
    assert cisco_sim.set_contact(ADA, "AWAY")["notified"] == subscriptions

    def accepted() -> bool:
        return any(
            n["subscription_id"] == subscriptions[0] and n.get("status") == 200
            for n in cisco_sim.notifications()
        )

    wait_for(accepted, 3, what="a notification to the new subscription answered 200")
    wait_for(lambda: _shows(server, "ada", "away", "Away"), 3, what="ada away")
    assert _provider(server)["state"] == "ok"


# -- 6. and 7. cleanup -----------------------------------------------------------------------


def test_sigterm_removes_our_endpoint_and_subscription(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    server = start_dash(resync_seconds=600)
    assert _registration(cisco_sim) != ([], [])

    server.stop()  # SIGTERM

    assert server.proc.returncode == 0
    assert _registration(cisco_sim) == ([], [])


def test_a_restart_after_sigkill_deletes_what_the_killed_run_registered(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    first = start_dash(resync_seconds=600)
    old_endpoints, old_subscriptions = _registration(cisco_sim)
    assert len(old_endpoints) == 1 and len(old_subscriptions) == 1

    first.proc.kill()  # no cleanup: the ids stay in the database
    first.proc.wait(5)
    assert _registration(cisco_sim) == (old_endpoints, old_subscriptions)

    second = start_dash(resync_seconds=600)  # same database

    endpoints, subscriptions = _registration(cisco_sim)
    assert len(endpoints) == 1 and len(subscriptions) == 1
    assert endpoints[0] not in old_endpoints and subscriptions[0] not in old_subscriptions
    assert cisco_sim.state()["endpoints"][0]["url"] == second.url + HOOK
    assert "left by a previous run" in _log(second)


# -- 8. the callback route -------------------------------------------------------------------


def test_the_callback_answers_at_once_and_refuses_what_is_not_a_notification(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    server = start_dash(resync_seconds=600)
    _settled(cisco_sim)
    ours = str(_registration(cisco_sim)[1][0])
    fetches = cisco_sim.state()["fetches"]

    # The fetch a notification triggers runs in the background: IM&P gets its answer at once.
    cisco_sim.fault("slow", delay_s=2.0)
    started = time.monotonic()
    reply = _hook(server, id=ours, eventType=NOTIFY)
    assert reply.status_code == 200
    assert time.monotonic() - started < 0.5
    assert server.get("/healthz", timeout=0.5).status_code == 200  # not blocked by the fetch
    wait_for(lambda: cisco_sim.state()["fetches"] > fetches, 5, what="the slow fetch")

    bad = [
        ("GET", {"id": "999", "eventType": NOTIFY}, 404),
        ("GET", {"foo": "1"}, 400),
        ("POST", {"id": ours, "eventType": NOTIFY}, 400),
        ("GET", {"id": ours, "eventType": "X"}, 400),
        ("GET", {"id": "../1", "eventType": NOTIFY}, 400),
    ]
    for _ in range(3):
        for method, params, status in bad:
            assert _hook(server, method, **params).status_code == status, (method, params)

    assert server.get("/healthz").status_code == 200
    assert _hook(server, id=ours, eventType=NOTIFY).status_code == 200
    log = _log(server)
    for problem in [
        "notification for subscription '999' (not ours)",
        "malformed notification from 127.0.0.1: GET id='' eventType=''",
        f"malformed notification from 127.0.0.1: POST id='{ours}' eventType='{NOTIFY}'",
        f"malformed notification from 127.0.0.1: GET id='{ours}' eventType='X'",
        "malformed notification from 127.0.0.1: GET id='../1'",
    ]:
        assert log.count(problem) == 1, (problem, log[-3000:])


# -- 9. duplicate and out-of-order notifications ---------------------------------------------


def test_duplicate_and_out_of_order_notifications_are_harmless(
    cisco_sim: CiscoSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    cisco_sim.set_contact(ADA, "AVAILABLE")
    server = start_dash(resync_seconds=600)
    _settled(cisco_sim)
    ours = str(_registration(cisco_sim)[1][0])
    log_before = len(_log(server))

    def burst() -> list[int]:
        with ThreadPoolExecutor(5) as pool:
            replies = pool.map(lambda _: _hook(server, id=ours, eventType=NOTIFY), range(5))
            return [r.status_code for r in replies]

    # Stray notifications before the change (a late duplicate of an older one), the change
    # with IM&P's own notification, and more copies after it.
    assert burst() == [200] * 5
    cisco_sim.set_contact(ADA, "AWAY")
    assert burst() == [200] * 5
    cisco_sim.set_contact(ADA, "DND")
    assert burst() == [200] * 5

    wait_for(lambda: _shows(server, "ada", "busy", "Do not disturb"), 3, what="ada DND")
    wait_for(lambda: not cisco_sim.state()["subscriptions"][0]["awaiting_fetch"], 3)
    assert _provider(server) | {"last_success": None} == {
        "state": "ok",
        "last_success": None,
        "error": None,
    }
    new_lines = _log(server)[log_before:]
    assert not re.search(r" (WARNING|ERROR) ", new_lines), new_lines
