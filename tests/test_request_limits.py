"""No request body or value reaches a 500: oversized bodies get 413, deep nesting 400, wrong
types, NUL characters and numbers beyond 64 bits get 400 with the route's own error code,
on SQLite and on PostgreSQL; each refused action still writes its audit row. Against the
real `python app.py` (signed in, ServiceNow, Glance and ScreenMeet simulators behind it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from api_helpers import signed_in as sign_in
from api_helpers import start_full_dash
from glance_helpers import GROUP, GlanceSimHandle
from helpers import DashServer, SnSimHandle
from screenmeet_helpers import ScreenMeetSimHandle

from presence_dash.web.json_body import MAX_DEPTH, too_deep

SESSIONS = "/api/screenmeet/sessions"
SIGNAL = "/api/visitors/v-1001/signal"
GOOD_SESSION = {
    "type": "support",
    "parent_object_table": "incident",
    "parent_object_display_name": "INC0010001",
}


@pytest.fixture
def dash(
    tmp_path: Path,
    database_url: str,
    make_config: Callable[..., Path],
    dash_server: Callable[..., DashServer],
    sn_sim: SnSimHandle,
    glance_sim: GlanceSimHandle,
    screenmeet_sim: ScreenMeetSimHandle,
) -> DashServer:
    glance_sim.arrive("v-1001")
    return start_full_dash(
        tmp_path,
        make_config,
        dash_server,
        sn_sim,
        glance_sim,
        screenmeet_sim,
        database=database_url,
        auth={"action_rate_limit": "1000 per minute"},
    )


class Api:
    def __init__(self, dash: DashServer) -> None:
        self.dash = dash
        self.session, self.token = sign_in(dash.url)

    def send(
        self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None
    ) -> requests.Response:
        """JSON `body` (bytes are sent as they are, as JSON), or an HTML `form`."""
        headers = {"X-CSRFToken": self.token}
        data: Any = form
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self.session.request(
            method, self.dash.url + path, data=data, headers=headers, timeout=10
        )

    def audit(self, **query: Any) -> list[dict[str, Any]]:
        answer = self.session.get(self.dash.url + "/api/audit", params=query, timeout=5)
        assert answer.status_code == 200, answer.text
        return answer.json()["entries"]


def _error(answer: requests.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


def test_a_10_mb_body_is_413_with_the_json_error_and_an_audit_row(dash: DashServer) -> None:
    api = Api(dash)
    body = b'{"label": "' + b"x" * 10_000_000 + b'"}'

    answer = api.send("POST", SESSIONS, body)

    assert _error(answer) == (413, "body_too_large")
    assert "262144" in answer.json()["error"]["message"]
    row = api.audit(action="screenmeet.create_session")[0]
    assert (row["status"], row["result"], row["actor"]) == (413, "failed", "root")
    assert "not recorded" in row["params"]["body"]  # never read, so never stored
    assert "Traceback" not in dash.output()


def test_a_10000_deep_body_is_400_not_a_recursion_error(dash: DashServer) -> None:
    api = Api(dash)
    deep = b"[" * 10_000 + b"]" * 10_000
    nested_in_a_field = b'{"mtype": "signal", "data": ' + b'{"a": ' * 10_000 + b"1" + b"}" * 10_001

    for path, body in [(SESSIONS, deep), (SIGNAL, nested_in_a_field), ("/api/kiosk-tokens", deep)]:
        answer = api.send("POST", path, body)
        assert _error(answer) == (400, "body_too_deep"), (path, answer.text)

    rows = api.audit(limit=3)
    assert [r["status"] for r in rows] == [400, 400, 400]
    assert all("nested more than 32" in r["params"]["body"] for r in rows)
    assert "RecursionError" not in dash.output()
    assert "Traceback" not in dash.output()


# (method, path, body, status, code): each was a 500 on one database or both, or reached
# a handler with a value of the wrong type.
REFUSED = [
    ("POST", SESSIONS, {**GOOD_SESSION, "person_id": ["ada"]}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "person_id": {"id": "ada"}}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "person_id": 2**70}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "label": "nul\x00here"}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "parent_object_display_name": "\x00"}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "person_id": "ada\x00"}, 400, "bad_request"),
    ("POST", SESSIONS, {**GOOD_SESSION, "type": 5}, 400, "bad_type"),
    ("POST", SESSIONS, {**GOOD_SESSION, "prefs": "record"}, 400, "bad_prefs"),
    ("POST", SESSIONS, {**GOOD_SESSION, "prefs": {"record": "yes"}}, 400, "bad_prefs"),
    ("POST", SESSIONS, {**GOOD_SESSION, "prefs": {"recrod": True}}, 400, "unknown_pref"),
    ("POST", SESSIONS, {**GOOD_SESSION, "start_time": 1_700_000_000}, 400, "bad_start_time"),
    ("POST", SESSIONS, [GOOD_SESSION], 400, "bad_request"),
    ("POST", SESSIONS, b"{not json", 400, "bad_request"),
    ("PATCH", SESSIONS + "/abc", {"start_time": ["2030-01-01T00:00:00Z"]}, 400, "bad_start_time"),
    ("PATCH", SESSIONS + "/abc", {"start_time": "2030-01-01T00:00:00Z\x00"}, 400, "bad_start_time"),
    ("DELETE", SESSIONS + "/a%00b", None, 400, "bad_request"),
    ("POST", SIGNAL, {"mtype": "signal", "data": {}, "group_id": 2**70}, 400, "bad_group_id"),
    ("POST", SIGNAL, {"mtype": "signal", "data": {}, "group_id": True}, 400, "bad_group_id"),
    ("POST", SIGNAL, {"mtype": ["signal"], "data": {}}, 400, "bad_mtype"),
    ("POST", SIGNAL, {"mtype": "signal", "data": []}, 400, "bad_data"),
    ("POST", "/api/visitors/v-1001/cobrowse", {"group_id": [GROUP]}, 400, "bad_group_id"),
    ("POST", "/api/visitors/v-1001/cobrowse", "text", 400, "bad_body"),
    ("POST", "/api/kiosk-tokens", {"name": "lobby\x00"}, 400, "bad_name"),
    ("POST", "/api/kiosk-tokens", {"name": 5}, 400, "bad_name"),
    ("DELETE", f"/api/kiosk-tokens/{2**70}", None, 400, "bad_request"),
    ("DELETE", f"/api/kiosk-tokens/{2**40}", None, 400, "bad_request"),  # PostgreSQL: INTEGER
    ("POST", "/admin/kiosk-tokens", None, 400, "bad_request"),  # form with a NUL, below
    ("GET", f"/api/audit?before_id={2**70}", None, 200, ""),
    ("GET", f"/api/audit?before_id={2**40}", None, 200, ""),
    ("GET", f"/api/audit?before_id=-{2**70}", None, 200, ""),
    ("GET", "/api/audit?actor=ro%00ot", None, 400, "bad_request"),
    ("GET", "/api/people/ada%00/history", None, 400, "bad_request"),
]


def test_wrong_types_nul_and_huge_numbers_are_refused_with_400_on_both_databases(
    dash: DashServer, screenmeet_sim: ScreenMeetSimHandle
) -> None:
    api = Api(dash)
    wrong = []
    for method, path, body, status, code in REFUSED:
        if path == "/admin/kiosk-tokens":
            answer = api.send(method, path, form={"name": "wall\x00", "csrf_token": api.token})
        else:
            answer = api.send(method, path, body)
        got = (answer.status_code, answer.json().get("error", {}).get("code", ""))
        if got != (status, code):
            wrong.append(f"{method} {path} {body!r}: {got}, expected {(status, code)}")
    assert not wrong, "\n".join(wrong)
    assert "Traceback" not in dash.output()
    assert screenmeet_sim.sessions() == {}  # nothing refused reached the vendor

    # Every refused action is in the audit log, NUL paths included (PostgreSQL would not
    # store the NUL itself).
    actions = [(r["action"], r["status"]) for r in api.audit(limit=200)]
    state_changing = [entry for entry in REFUSED if entry[0] != "GET"]
    assert len([a for a in actions if a[1] == 400]) == len(state_changing)
    assert ("screenmeet.close_session", 400) in actions


def test_valid_bodies_still_pass_the_schemas(dash: DashServer) -> None:
    api = Api(dash)
    created = api.send("POST", SESSIONS, {**GOOD_SESSION, "prefs": {"record": True}, "x": 1})
    assert created.status_code == 201, created.text
    signal = api.send("POST", SIGNAL, {"mtype": "signal", "data": {"chat": "hi"}})
    assert signal.status_code == 200, signal.text
    token = api.send("POST", "/api/kiosk-tokens", {"name": "Lobby"})
    assert token.status_code == 201, token.text


def test_the_depth_scan_counts_brackets_outside_strings_only() -> None:
    assert not too_deep('{"a": "' + "[" * 100 + '"}')
    assert not too_deep('["\\"' + "[" * 100 + '"]')  # an escaped quote does not end it
    assert too_deep("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert not too_deep("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert not too_deep("[]" * 1000)  # many, side by side, is not deep
    assert too_deep('"unterminated' + "[" * 40)  # not JSON anyway; refused either way
