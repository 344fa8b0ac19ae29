"""The real dashboard process against the ScreenMeet simulator, over real HTTP: sessions are
started, scheduled, rescheduled and closed through `/api/screenmeet/sessions`, every change
reaches a Socket.IO client as a `screenmeet` event, a double submit with one idempotency key
makes one session, vendor errors reach the caller, and everything survives a restart of the
server process."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import sqlalchemy as sa
from helpers import DashServer, wait_for
from screenmeet_helpers import (
    SM_PASSWORD,
    SM_PASSWORD_ENV,
    ScreenMeetSimHandle,
    in_minutes,
    screenmeet_section,
)

from presence_dash.storage.db import engine_for

PEOPLE = [{"id": "ada", "name": "Ada", "team": "Service Desk"}]
API = "/api/screenmeet/sessions"
BODY = {
    "type": "support",
    "parent_object_table": "incident",
    "parent_object_sys_id": "e8e875b0c0a80164009dc852b4d677d5",
    "parent_object_display_name": "Incident INC0000005",
    "label": "Remote support session for INC0000005",
    "prefs": {"record": True, "knock": True},
    "person_id": "ada",
}


@pytest.fixture
def sim(screenmeet_sim: ScreenMeetSimHandle) -> ScreenMeetSimHandle:
    return screenmeet_sim


@pytest.fixture
def start_dash(
    tmp_path: Path,
    sim: ScreenMeetSimHandle,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> Callable[..., DashServer]:
    """Factory: the dashboard with ScreenMeet pointed at `sim`; every start uses the same
    config file and database, so a second start is a restart."""

    def start(screenmeet: bool = True, async_mode: str = "eventlet", **server: Any) -> DashServer:
        providers = {"screenmeet": screenmeet_section(sim)} if screenmeet else {}
        config = make_config(tmp_path, PEOPLE, None, providers=providers, **server)
        return dash_server(config, async_mode=async_mode, **{SM_PASSWORD_ENV: SM_PASSWORD})

    return start


class Events:
    """`screenmeet` events seen by a real Socket.IO client."""

    def __init__(self, server: DashServer) -> None:
        self.items: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("screenmeet", self._add)
        self.client.connect(server.url, transports=["websocket"], wait_timeout=5)

    def _add(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.items.append(data)

    def wait(self, action: str, session_id: str, timeout: float = 10) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            with self._lock:
                return next(
                    (
                        e
                        for e in self.items
                        if e["action"] == action and e["session"]["id"] == session_id
                    ),
                    None,
                )

        return wait_for(found, timeout, what=f"screenmeet {action} {session_id}")


@pytest.fixture
def events() -> Iterator[Callable[[DashServer], Events]]:
    opened: list[Events] = []

    def open_events(server: DashServer) -> Events:
        opened.append(Events(server))
        return opened[-1]

    yield open_events
    for e in opened:
        e.client.disconnect()


def _post(server: DashServer, body: Any, key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return requests.post(server.url + API, json=body, headers=headers, timeout=10)


def _list(server: DashServer) -> dict[str, dict[str, Any]]:
    response = server.get(API)
    assert response.status_code == 200, response.text
    return {s["id"]: s for s in response.json()["sessions"]}


def test_start_schedule_reschedule_and_close_with_a_live_event_for_each(
    sim: ScreenMeetSimHandle,
    start_dash: Callable[..., DashServer],
    events: Callable[[DashServer], Events],
) -> None:
    server = start_dash()
    seen = events(server)

    created = _post(server, BODY, key=str(uuid.uuid4()))
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["status"] == "new" and session["pin"] and len(session["pin"]) == 6
    assert session["user_url"] == sim.sessions()[session["id"]]["urls"]["user"]
    assert session["host_url"] == sim.sessions()[session["id"]]["urls"]["host"]
    assert session["settings"]["recording"] is True
    assert session["notes"] == ["knock is not available for support sessions; ignored"]
    # Who acted: the signed-in name once sign-in is configured; without it a placeholder.
    assert session["created_by"] in ("anonymous", "local-user")
    assert session["person_id"] == "ada"
    announced = seen.wait("created", session["id"])["session"]
    # Every browser gets the event (wall screens too): nothing that lets one join.
    assert not {"host_url", "pin", "user_url"} & set(announced)
    assert announced["status"] == "new" and announced["label"] == session["label"]

    start = in_minutes(90)
    scheduled = _post(server, {**BODY, "type": "live", "start_time": start})
    assert scheduled.status_code == 201, scheduled.text
    sid = scheduled.json()["id"]
    assert (scheduled.json()["status"], scheduled.json()["pin"]) == ("scheduled", None)
    assert scheduled.json()["start_time"][:16] == start[:16]
    seen.wait("scheduled", sid)

    later = in_minutes(240)
    moved = requests.patch(f"{server.url}{API}/{sid}", json={"start_time": later}, timeout=10)
    assert moved.status_code == 200, moved.text
    assert moved.json()["start_time"][:16] == later[:16]
    assert sim.sessions()[sid]["startTime"][:16] == later[:16]
    seen.wait("rescheduled", sid)

    closed = requests.delete(f"{server.url}{API}/{session['id']}", timeout=10)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_by"] == session["created_by"]
    assert sim.sessions()[session["id"]]["status"] == "closed"
    seen.wait("closed", session["id"])

    listed = _list(server)
    assert (listed[session["id"]]["status"], listed[sid]["status"]) == ("closed", "scheduled")
    assert all("host_url" not in s for s in listed.values())


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_double_submit_with_one_idempotency_key_makes_one_session(
    sim: ScreenMeetSimHandle, start_dash: Callable[..., DashServer], async_mode: str
) -> None:
    server = start_dash(async_mode=async_mode)
    key = str(uuid.uuid4())
    # The vendor takes a second: the repeats arrive while the first is still at the vendor.
    sim.fault("slow", delay_s=1.0)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _post(server, BODY, key), range(4)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(sim.sessions()) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3
    assert all(a.json()["host_url"] for a in answers)

    reused = _post(server, {**BODY, "type": "live"}, key)
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert _post(server, BODY, str(uuid.uuid4())).status_code == 201  # a new key: a new one
    assert len(sim.sessions()) == 2


@pytest.fixture
def database(database_url: str) -> dict[str, str]:
    """`[server] database` for the dashboard: SQLite, then a fresh PostgreSQL schema."""
    return {"database": database_url}


def test_sessions_and_idempotency_keys_survive_a_restart(
    sim: ScreenMeetSimHandle, start_dash: Callable[..., DashServer], database: dict[str, str]
) -> None:
    first = start_dash(**database)
    key = str(uuid.uuid4())
    now_id = _post(first, BODY, key).json()["id"]
    later_id = _post(first, {**BODY, "start_time": in_minutes(60)}).json()["id"]
    before = _list(first)
    first.stop()

    second = start_dash(**database)
    assert _list(second) == before
    replay = _post(second, BODY, key)  # a retry that crosses the restart
    assert replay.status_code == 201 and replay.json()["id"] == now_id
    assert len(sim.sessions()) == 2
    moved = requests.patch(
        f"{second.url}{API}/{later_id}", json={"start_time": in_minutes(120)}, timeout=10
    )
    assert moved.status_code == 200, moved.text
    assert requests.delete(f"{second.url}{API}/{now_id}", timeout=10).status_code == 200
    assert sim.sessions()[now_id]["status"] == "closed"


def test_vendor_and_state_errors_reach_the_caller_with_a_code(
    sim: ScreenMeetSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    server = start_dash()
    sid = _post(server, BODY).json()["id"]

    def answer(response: requests.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    patch = requests.patch(f"{server.url}{API}/{sid}", json={"start_time": in_minutes(60)})
    assert answer(patch) == (409, "not_scheduled")
    assert answer(requests.delete(f"{server.url}{API}/nope00")) == (404, "unknown_session")
    assert answer(_post(server, {**BODY, "type": "screenshare"})) == (400, "bad_type")
    assert answer(_post(server, {**BODY, "start_time": "2020-01-01T00:00:00Z"})) == (
        400,
        "start_time_in_past",
    )
    assert answer(_post(server, {**BODY, "person_id": "nobody"})) == (400, "unknown_person")

    # A vendor outage is not kept under the key: the retry with the same key gets through.
    key = str(uuid.uuid4())
    sim.fault("503")
    failed = _post(server, BODY, key)
    assert answer(failed) == (502, "vendor_error")
    assert "Instance unavailable" in failed.json()["error"]["message"]
    assert _post(server, BODY, key).status_code == 201

    sim.sim.password = "rotated"
    assert answer(_post(server, BODY)) == (502, "vendor_auth_failed")


def test_a_session_closed_at_or_unknown_to_the_vendor_is_recorded_closed(
    sim: ScreenMeetSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    server = start_dash()
    sid = _post(server, BODY).json()["id"]
    assert sim.call("closeSession", {"ScreenMeetSessionId": sid}).status_code == 200
    closed = requests.delete(f"{server.url}{API}/{sid}", timeout=10)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = requests.delete(f"{server.url}{API}/{sid}", timeout=10)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_closed")

    # Unknown to the vendor (purged after expiry; the demo's simulator restarted): nobody can
    # join it any more, so it is recorded closed rather than left open for ever.
    gone = _post(server, BODY).json()["id"]
    with sim.sim.lock:
        del sim.sim.sessions[gone]
    closed = requests.delete(f"{server.url}{API}/{gone}", timeout=10)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert "recorded as closed" in server.output()


def test_a_scheduled_session_opens_ten_minutes_before_start_and_is_announced(
    start_dash: Callable[..., DashServer], events: Callable[[DashServer], Events]
) -> None:
    server = start_dash()
    seen = events(server)
    sid = _post(server, {**BODY, "start_time": in_minutes(10 + 2 / 60)}).json()["id"]
    assert _list(server)[sid]["status"] == "scheduled"
    opened = seen.wait("opened", sid, timeout=15)
    assert opened["session"]["status"] == "new"
    assert _list(server)[sid]["status"] == "new"


def test_without_a_screenmeet_section_actions_are_refused_and_the_list_says_so(
    start_dash: Callable[..., DashServer],
) -> None:
    server = start_dash(screenmeet=False)
    assert server.get(API).json() == {"enabled": False, "sessions": []}
    refused = _post(server, BODY)
    assert (refused.status_code, refused.json()["error"]["code"]) == (503, "screenmeet_disabled")


def test_with_sign_in_only_agents_act_and_the_session_records_who(
    sim: ScreenMeetSimHandle,
    tmp_path: Path,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
) -> None:
    """Header sign-in (a proxy on 127.0.0.1 says who): the role check comes from the app's one
    access table; `created_by` / `closed_by` are the signed-in names."""
    config = make_config(tmp_path, PEOPLE, None, providers={"screenmeet": screenmeet_section(sim)})
    config.write_text(
        config.read_text()
        + '\n[auth]\nmode = "header"\ntrusted_proxies = ["127.0.0.1/32"]\n'
        + 'default_role = "viewer"\n[auth.group_roles]\n"support-agents" = "agent"\n'
    )
    server = dash_server(config, **{SM_PASSWORD_ENV: SM_PASSWORD})

    def signed_in(user: str, groups: str = "") -> tuple[requests.Session, str]:
        session = requests.Session()
        session.headers.update({"X-Remote-User": user, "X-Remote-Groups": groups})
        page = session.get(server.url + "/", timeout=5)
        assert page.status_code == 200, page.text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token, "no CSRF token on the page"
        return session, token.group(1)

    grace, grace_token = signed_in("grace", "support-agents")
    created = grace.post(
        server.url + API, json=BODY, headers={"X-CSRFToken": grace_token}, timeout=10
    )
    assert created.status_code == 201, created.text
    session = created.json()
    assert session["created_by"] == "grace"

    bob, bob_token = signed_in("bob")  # a viewer
    page = bob.get(server.url + "/", timeout=5).text
    assert session["pin"] not in page and session["user_url"] not in page
    assert bob.get(server.url + API, timeout=5).status_code == 403
    refused = bob.post(server.url + API, json=BODY, headers={"X-CSRFToken": bob_token}, timeout=5)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert requests.get(server.url + API, timeout=5).status_code == 401  # nobody signed in
    assert len(sim.sessions()) == 1

    closed = grace.delete(
        f"{server.url}{API}/{session['id']}", headers={"X-CSRFToken": grace_token}, timeout=10
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed_by"] == "grace"


def test_each_action_has_one_audit_row_from_its_intent_and_unstorable_text_is_refused(
    sim: ScreenMeetSimHandle,
    start_dash: Callable[..., DashServer],
    database: dict[str, str],
    database_url: str,
) -> None:
    """The outbox writes the audit row with the intent, before the vendor call, and the
    gate's after-request hook adds none for that request; a replay and a refused body get
    the hook's own row. A NUL (which PostgreSQL cannot store) never reaches the vendor."""
    server = start_dash(**database)
    key = str(uuid.uuid4())
    created = _post(server, BODY, key)
    assert created.status_code == 201, created.text
    assert _post(server, BODY, key).headers.get("Idempotent-Replayed") == "true"
    sid = created.json()["id"]
    closed = requests.delete(
        f"{server.url}{API}/{sid}", headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=10
    )
    assert closed.status_code == 200, closed.text
    refused = _post(server, {**BODY, "label": "bad\x00label"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "bad_request")
    assert list(sim.sessions()) == [sid]  # the NUL never reached the vendor

    engine = engine_for(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT action, result, status, params FROM audit_log "
                    "WHERE action LIKE 'screenmeet.%' ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [(r.action, r.result, r.status) for r in rows] == [
        ("screenmeet.create_session", "ok", 201),
        ("screenmeet.create_session", "ok", 201),  # the replay
        ("screenmeet.close_session", "ok", 200),
        ("screenmeet.create_session", "failed", 400),
    ]
    assert ["intent" in json.loads(r.params) for r in rows] == [True, False, True, False]
    assert sim.sessions()[sid]["external_id"] == json.loads(rows[0].params)["intent"]


def test_a_malformed_idempotency_key_is_refused_before_anything_is_sent(
    sim: ScreenMeetSimHandle, start_dash: Callable[..., DashServer]
) -> None:
    """The API's one key rule (storage/idempotency.py), the same as the Glance actions'."""
    server = start_dash()
    refused = _post(server, BODY, key="short")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "bad_idempotency_key"
    assert sim.sessions() == {}
