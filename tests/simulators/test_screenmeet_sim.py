"""The ScreenMeet simulator's wire contract over real HTTP (docs/providers/screenmeet.md):
the four methods, vendor-shaped session objects, the per-type preferences, the scheduled ->
new move ten minutes before start, and its errors (auth, unknown ids, closing a closed
session, rescheduling one that is no longer scheduled)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from screenmeet_helpers import (
    SM_PASSWORD,
    SM_USERNAME,
    ScreenMeetSimHandle,
    in_minutes,
)

PARAMS = {
    "type": "support",
    "parent_object_table": "incident",
    "parent_object_sys_id": "e8e875b0c0a80164009dc852b4d677d5",
    "parent_object_display_name": "Incident INC0000005",
    "screenmeet_session_name": "Remote support session for INC0000005",
    "agent_prefs": {"record": True},
}
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def sim(screenmeet_sim: ScreenMeetSimHandle) -> ScreenMeetSimHandle:
    return screenmeet_sim


def _result(response: requests.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


@pytest.mark.parametrize("auth", [None, (SM_USERNAME, "wrong"), ("admin", SM_PASSWORD)])
def test_bad_or_missing_auth_gets_a_servicenow_401(sim: ScreenMeetSimHandle, auth: Any) -> None:
    response = requests.post(f"{sim.base}/createSession", json=PARAMS, auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User Not Authenticated"
    assert sim.sessions() == {}


def test_create_answers_a_vendor_shaped_session_object(sim: ScreenMeetSimHandle) -> None:
    session = _result(sim.call("createSession", PARAMS))
    assert re.fullmatch(r"[A-Za-z]{6}", session["id"])
    assert session["type"] == "support"
    assert session["label"] == PARAMS["screenmeet_session_name"]
    assert session["status"] == "new"
    assert session["scheduled"] is False
    assert "startTime" not in session
    assert 100_000 <= session["pin"] <= 999_999
    assert session["hostAuthToken"]
    assert session["urls"]["user"] and session["hostAuthToken"] in session["urls"]["host"]
    for key in ("createdAt", "updatedAt", "expiresAt"):
        assert ISO_MS_Z.match(session[key]), key
    assert session["externalSessionObjectId"] == PARAMS["parent_object_sys_id"]
    assert session["userDescription"] == "Incident INC0000005"
    assert {"OrganizationId", "ExternalUserId", "createdByAgentSession", "unattended"} <= set(
        session
    )


@pytest.mark.parametrize(
    ("kind", "prefs", "settings"),
    [
        (
            "support",
            {"record": True, "prerequestrc": True, "prerequestadmin": True, "knock": True},
            {"recording": True, "startwithrc": True, "startwithadmin": True, "knock": False},
        ),
        (
            "live",
            {"knock": True, "audio": True, "prerequestrc": True},
            {"knock": True, "audio": True, "startwithrc": False},
        ),
        ("cobrowse", {"record": True, "audio": True}, {"recording": True, "audio": False}),
        ("replay", {"record": True}, {"recording": False}),
        ("support", {}, {"recording": False, "startwithrc": False, "startwithadmin": False}),
    ],
)
def test_settings_follow_the_per_type_preference_table(
    sim: ScreenMeetSimHandle, kind: str, prefs: dict[str, bool], settings: dict[str, bool]
) -> None:
    session = _result(sim.call("createSession", {**PARAMS, "type": kind, "agent_prefs": prefs}))
    assert {k: session["settings"][k] for k in settings} == settings


def test_a_scheduled_session_has_pin_0_until_it_opens_ten_minutes_before_start(
    sim: ScreenMeetSimHandle,
) -> None:
    session = _result(sim.call("scheduleSession", {**PARAMS, "startTime": in_minutes(30)}))
    assert (session["status"], session["scheduled"], session["pin"]) == ("scheduled", True, 0)
    assert ISO_MS_Z.match(session["startTime"])
    sim.advance(19 * 60)
    assert sim.sessions()[session["id"]]["status"] == "scheduled"
    sim.advance(2 * 60)
    opened = sim.sessions()[session["id"]]
    assert opened["status"] == "new"
    assert opened["pin"] >= 100_000


def test_reschedule_moves_the_start_and_only_while_scheduled(sim: ScreenMeetSimHandle) -> None:
    sid = _result(sim.call("scheduleSession", {**PARAMS, "startTime": in_minutes(30)}))["id"]
    later = in_minutes(120)
    moved = _result(sim.call("rescheduleSession", {"ScreenMeetSessionId": sid, "startTime": later}))
    assert moved["startTime"][:16] == later[:16]
    assert moved["status"] == "scheduled"

    sim.advance(115 * 60)  # now within ten minutes of the new start: the session opened
    refused = sim.call(
        "rescheduleSession", {"ScreenMeetSessionId": sid, "startTime": in_minutes(300)}
    )
    assert refused.status_code == 409
    assert "only scheduled sessions" in refused.json()["error"]["detail"]

    created = _result(sim.call("createSession", PARAMS))["id"]
    assert (
        sim.call(
            "rescheduleSession", {"ScreenMeetSessionId": created, "startTime": in_minutes(300)}
        ).status_code
        == 409
    )


@pytest.mark.parametrize(
    "start", ["2020-01-01T00:00:00.000Z", "tomorrow", "2030-01-01T10:00:00+02:00", None]
)
def test_start_times_in_the_past_or_not_utc_are_refused(
    sim: ScreenMeetSimHandle, start: Any
) -> None:
    response = sim.call("scheduleSession", {**PARAMS, "startTime": start})
    assert response.status_code == 400
    assert response.json()["status"] == "failure"


def test_close_answers_success_then_refuses_a_second_close(sim: ScreenMeetSimHandle) -> None:
    sid = _result(sim.call("createSession", PARAMS))["id"]
    assert _result(sim.call("closeSession", {"ScreenMeetSessionId": sid})) == {"success": True}
    assert sim.sessions()[sid]["status"] == "closed"
    again = sim.call("closeSession", {"ScreenMeetSessionId": sid})
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "Session already closed"


@pytest.mark.parametrize("method", ["closeSession", "rescheduleSession"])
def test_unknown_session_ids_are_404(sim: ScreenMeetSimHandle, method: str) -> None:
    response = sim.call(method, {"ScreenMeetSessionId": "nope00", "startTime": in_minutes(60)})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such session"


@pytest.mark.parametrize(
    "change", [{"type": "screenshare"}, {"agent_prefs": [1]}, {"screenmeet_session_name": ""}]
)
def test_bad_parameters_are_400(sim: ScreenMeetSimHandle, change: dict[str, Any]) -> None:
    assert sim.call("createSession", {**PARAMS, **change}).status_code == 400
    assert sim.sessions() == {}


@pytest.mark.parametrize("method", ["createSession", "scheduleSession"])
def test_a_create_with_a_known_external_id_answers_the_first_session(
    sim: ScreenMeetSimHandle, method: str
) -> None:
    params = {**PARAMS, "startTime": in_minutes(30), "external_id": "intent-1"}
    first = _result(sim.call(method, params))
    assert first["external_id"] == "intent-1"
    # Even when the repeat would now be refused (its start time has passed): the bridge
    # looks the external id up before anything else.
    again = _result(sim.call(method, {**params, "startTime": "2020-01-01T00:00:00.000Z"}))
    assert again == first
    other = _result(sim.call(method, {**params, "external_id": "intent-2"}))
    assert other["id"] != first["id"]
    assert len(sim.sessions()) == 2


def test_find_session_looks_a_session_up_by_its_external_id(sim: ScreenMeetSimHandle) -> None:
    created = _result(sim.call("createSession", {**PARAMS, "external_id": "intent-3"}))
    assert _result(sim.call("findSession", {"external_id": "intent-3"})) == created
    _result(sim.call("closeSession", {"ScreenMeetSessionId": created["id"]}))
    assert _result(sim.call("findSession", {"external_id": "intent-3"}))["status"] == "closed"
    unknown = sim.call("findSession", {"external_id": "intent-4"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "No such session"
    assert sim.call("findSession", {}).status_code == 400
    plain = _result(sim.call("createSession", PARAMS))  # no external id: none echoed
    assert "external_id" not in plain


def test_queued_faults_answer_the_next_calls(sim: ScreenMeetSimHandle) -> None:
    sim.fault("503")
    assert sim.call("createSession", PARAMS).status_code == 503
    assert sim.call("createSession", PARAMS).status_code == 200
    assert [r["fault"] for r in sim.request_log()] == ["503", None]


def test_the_host_link_needs_its_token(sim: ScreenMeetSimHandle) -> None:
    session = _result(sim.call("createSession", PARAMS))
    assert requests.get(session["urls"]["host"], timeout=5).status_code == 200
    forged = session["urls"]["host"].split("?")[0] + "?token=guess"
    assert requests.get(forged, timeout=5).status_code == 403
    assert requests.get(session["urls"]["user"], timeout=5).status_code == 200
