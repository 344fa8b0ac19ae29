"""The ScreenMeet client against the simulator over real HTTP: the vendor's parameters go
out by name, the session object comes back as a VendorSession, and every vendor failure
becomes a ScreenMeetError with a status for the API and a message for the agent, never the
host token."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from screenmeet_helpers import (
    SM_PASSWORD,
    SM_USERNAME,
    ScreenMeetSimHandle,
)

from presence_dash.screenmeet.client import ScreenMeetClient, ScreenMeetError
from presence_dash.screenmeet.rules import parse_session_request
from presence_dash.simulators.serve import SimulatorServer

BODY = {
    "type": "live",
    "parent_object_table": "incident",
    "parent_object_sys_id": "e8e875b0c0a80164009dc852b4d677d5",
    "parent_object_display_name": "Incident INC0000005",
    "label": "Remote session for INC0000005",
    "prefs": {"knock": True, "audio": False, "prerequestrc": True},
}


@pytest.fixture
def sim(screenmeet_sim: ScreenMeetSimHandle) -> ScreenMeetSimHandle:
    return screenmeet_sim


@pytest.fixture
def client(sim: ScreenMeetSimHandle) -> ScreenMeetClient:
    return ScreenMeetClient(sim.base, SM_USERNAME, SM_PASSWORD, timeout=2)


def _now() -> datetime:
    return datetime.now(UTC)


def _xid() -> str:
    """A fresh external id, as the outbox gives each intent."""
    return str(uuid.uuid4())


def test_create_sends_the_vendors_parameters_and_reads_the_session(
    sim: ScreenMeetSimHandle, client: ScreenMeetClient
) -> None:
    session = client.create_session(parse_session_request(BODY, _now()), _xid())
    assert session.type == "live" and session.status == "new" and not session.scheduled
    assert session.label == "Remote session for INC0000005"
    assert 100_000 <= session.pin <= 999_999
    assert session.user_url and session.host_auth_token in session.host_url
    assert session.expires_at - session.created_at == timedelta(hours=1)
    # prerequestrc is not a live option: dropped before the call, so the vendor saw false.
    assert session.settings["knock"] is True and session.settings["startwithrc"] is False
    assert sim.sessions()[session.id]["userDescription"] == "Incident INC0000005"


def test_a_create_repeated_with_its_external_id_is_the_same_session_and_can_be_found(
    sim: ScreenMeetSimHandle, client: ScreenMeetClient
) -> None:
    xid = _xid()
    first = client.create_session(parse_session_request(BODY, _now()), xid)
    again = client.create_session(parse_session_request(BODY, _now()), xid)
    assert again.id == first.id and again.host_auth_token == first.host_auth_token
    assert first.external_id == xid
    found = client.find_session(xid)
    assert found is not None and found.id == first.id and found.pin == first.pin
    assert client.find_session(_xid()) is None
    assert list(sim.sessions()) == [first.id]
    sent = [r["path"].rsplit("/", 1)[1] for r in sim.request_log()]
    assert sent == ["createSession", "createSession", "findSession", "findSession"]


def test_schedule_reschedule_and_close_round_trip(
    sim: ScreenMeetSimHandle, client: ScreenMeetClient
) -> None:
    start = (_now() + timedelta(hours=2)).replace(microsecond=0)
    req = parse_session_request({**BODY, "start_time": start.isoformat()}, _now())
    session = client.schedule_session(req, _xid())
    assert (session.status, session.scheduled, session.pin, session.start_time) == (
        "scheduled",
        True,
        0,
        start,
    )
    later = start + timedelta(days=1)
    moved = client.reschedule_session(session.id, later)
    assert moved.start_time == later and moved.status == "scheduled"
    client.close_session(session.id)
    assert sim.sessions()[session.id]["status"] == "closed"


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("close_twice", 409, "vendor_conflict"),
        ("unknown", 404, "vendor_not_found"),
        ("reschedule_new", 409, "vendor_conflict"),
    ],
)
def test_vendor_refusals_keep_the_vendors_words(
    client: ScreenMeetClient, setup: str, status: int, code: str
) -> None:
    with pytest.raises(ScreenMeetError) as err:
        if setup == "close_twice":
            sid = client.create_session(parse_session_request(BODY, _now()), _xid()).id
            client.close_session(sid)
            client.close_session(sid)
        elif setup == "unknown":
            client.close_session("nope00")
        else:
            sid = client.create_session(parse_session_request(BODY, _now()), _xid()).id
            client.reschedule_session(sid, _now() + timedelta(hours=3))
    assert (err.value.status, err.value.code) == (status, code)
    assert err.value.message.startswith("ScreenMeet: ")


def test_wrong_credentials_are_a_gateway_error_naming_the_cause(
    sim: ScreenMeetSimHandle,
) -> None:
    client = ScreenMeetClient(sim.base, SM_USERNAME, "wrong", timeout=2)
    with pytest.raises(ScreenMeetError) as err:
        client.create_session(parse_session_request(BODY, _now()), _xid())
    assert (err.value.status, err.value.code) == (502, "vendor_auth_failed")
    assert "User Not Authenticated" in err.value.message


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("503", 502, "vendor_error"),
        ("not_json", 502, "vendor_bad_answer"),
        ("slow", 504, "vendor_timeout"),
    ],
)
def test_outages_become_gateway_errors(
    sim: ScreenMeetSimHandle, fault: str, status: int, code: str
) -> None:
    sim.fault(fault, delay_s=1.5)
    client = ScreenMeetClient(sim.base, SM_USERNAME, SM_PASSWORD, timeout=0.5)
    with pytest.raises(ScreenMeetError) as err:
        client.create_session(parse_session_request(BODY, _now()), _xid())
    assert (err.value.status, err.value.code) == (status, code)


def test_an_unreachable_vendor_is_a_gateway_error() -> None:
    server = SimulatorServer(lambda environ, start: [])  # bind a port, then free it
    url = server.url
    server.server.server_close()
    client = ScreenMeetClient(url, SM_USERNAME, SM_PASSWORD, timeout=1)
    with pytest.raises(ScreenMeetError) as err:
        client.close_session("abc")
    assert err.value.code == "vendor_unreachable"


def test_the_host_token_never_reaches_the_log(
    sim: ScreenMeetSimHandle, client: ScreenMeetClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = client.create_session(parse_session_request(BODY, _now()), _xid())
    client.close_session(session.id)
    with pytest.raises(ScreenMeetError):
        client.close_session(session.id)
    assert session.host_auth_token not in caplog.text
    assert "screenmeet: closeSession: HTTP 409" in caplog.text
