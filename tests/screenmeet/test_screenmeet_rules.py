"""ScreenMeet rules with plain values: the vendor's preference table row by row, request
validation, start times, and the scheduled -> new -> closed transitions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from presence_dash.screenmeet.rules import (
    InvalidRequest,
    SessionType,
    check_close,
    check_reschedule,
    effective_status,
    normalize_prefs,
    parse_session_request,
    parse_start_time,
    prefs_for,
    request_from_json,
    request_json,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY = {
    "type": "support",
    "parent_object_table": "incident",
    "parent_object_sys_id": "e8e875b0c0a80164009dc852b4d677d5",
    "parent_object_display_name": "Incident INC0000005",
    "label": "Remote support session for INC0000005",
}

# The vendor's table: option -> the types that support it.
TABLE = {
    "record": {"support", "live", "cobrowse"},
    "prerequestrc": {"support"},
    "prerequestadmin": {"support"},
    "knock": {"live"},
    "audio": {"live"},
}


@pytest.mark.parametrize("kind", [t.value for t in SessionType])
def test_each_type_offers_exactly_the_options_of_the_vendors_table(kind: str) -> None:
    expected = [name for name, types in TABLE.items() if kind in types]
    assert prefs_for(SessionType(kind)) == expected


@pytest.mark.parametrize("kind", [t.value for t in SessionType])
@pytest.mark.parametrize("option", list(TABLE))
def test_an_option_is_kept_for_types_that_support_it_and_dropped_with_a_note_otherwise(
    kind: str, option: str
) -> None:
    prefs, notes = normalize_prefs(SessionType(kind), {option: True})
    if kind in TABLE[option]:
        assert prefs[option] is True
        assert notes == ()
    else:
        assert option not in prefs
        assert notes == (f"{option} is not available for {kind} sessions; ignored",)


def test_omitted_options_are_false() -> None:
    prefs, notes = normalize_prefs(SessionType.LIVE, {"audio": True})
    assert prefs == {"record": False, "knock": False, "audio": True}
    assert notes == ()


def test_an_unsupported_option_set_to_false_needs_no_note() -> None:
    assert normalize_prefs(SessionType.REPLAY, {"record": False}) == ({}, ())


@pytest.mark.parametrize(
    ("prefs", "code"),
    [({"recrod": True}, "unknown_pref"), ({"record": "yes"}, "bad_prefs"), ([1], "bad_prefs")],
)
def test_unknown_options_and_non_boolean_values_are_refused(prefs: Any, code: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        normalize_prefs(SessionType.SUPPORT, prefs)
    assert err.value.code == code


def test_a_full_request_is_parsed_with_its_prefs_and_notes() -> None:
    req = parse_session_request({**BODY, "prefs": {"record": True, "knock": True}}, NOW)
    assert req.type is SessionType.SUPPORT
    assert req.prefs == {"record": True, "prerequestrc": False, "prerequestadmin": False}
    assert req.notes == ("knock is not available for support sessions; ignored",)
    assert req.start_time is None
    assert req.label == "Remote support session for INC0000005"


def test_a_missing_label_is_made_from_the_record() -> None:
    req = parse_session_request({**BODY, "type": "live", "label": ""}, NOW)
    assert req.label == "Remote live session for Incident INC0000005"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "screenshare"}, "bad_type"),
        ({"type": None}, "bad_type"),
        ({"parent_object_table": "Incident Table"}, "bad_request"),
        ({"parent_object_table": ""}, "bad_request"),
        ({"parent_object_sys_id": "INC0000005"}, "bad_request"),
        ({"parent_object_display_name": "  "}, "bad_request"),
        ({"label": "x" * 201}, "bad_request"),
        ({"label": 5}, "bad_request"),
        ({"start_time": "2026-11-25T13:00:00"}, "bad_start_time"),
        # What PostgreSQL cannot store is refused before anything is recorded or sent.
        ({"label": "a\x00b"}, "bad_request"),
        ({"parent_object_display_name": "INC\x00"}, "bad_request"),
        ({"label": "\udc80"}, "bad_request"),
        ({"person_id": "ada\x00"}, "bad_request"),
        ({"person_id": "p" * 65}, "bad_request"),
        ({"person_id": 7}, "bad_request"),
    ],
)
def test_bad_requests_are_refused_with_a_code(change: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_session_request({**BODY, **change}, NOW)
    assert err.value.code == code


def test_a_request_survives_the_outbox_round_trip() -> None:
    body = {**BODY, "start_time": "2026-11-25T13:00:00.250Z", "prefs": {"record": True}}
    req = parse_session_request(body, NOW)
    assert request_from_json(json.loads(json.dumps(request_json(req)))) == req


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="JSON object"):
        parse_session_request(["support"], NOW)


@pytest.mark.parametrize(
    "text", ["2026-11-25T13:00:00Z", "2026-11-25T13:00:00.000Z", "2026-11-25T13:00+00:00"]
)
def test_utc_start_times_in_the_future_are_accepted(text: str) -> None:
    assert parse_start_time(text, NOW) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T13:00:00",  # no zone: whose local time?
        "2026-11-25T14:00:00+01:00",  # not UTC
        "25/11/2026 13:00",
        "2026-13-45T13:00:00Z",
        1764075600,
    ],
)
def test_start_times_that_are_not_iso_8601_utc_are_refused(text: Any) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_start_time(text, NOW)
    assert err.value.code == "bad_start_time"


@pytest.mark.parametrize("text", ["2026-11-25T12:00:00Z", "2026-11-25T11:59:59.999Z"])
def test_start_times_not_in_the_future_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_start_time(text, NOW)
    assert err.value.code == "start_time_in_past"


def test_a_scheduled_session_opens_ten_minutes_before_its_start() -> None:
    start = NOW + timedelta(minutes=30)
    assert effective_status("scheduled", start, NOW) == "scheduled"
    assert effective_status("scheduled", start, start - timedelta(minutes=10, seconds=1)) == (
        "scheduled"
    )
    assert effective_status("scheduled", start, start - timedelta(minutes=10)) == "new"
    assert effective_status("closed", start, start) == "closed"
    assert effective_status("new", None, NOW) == "new"


def test_only_scheduled_sessions_can_be_rescheduled_and_closed_ones_not_closed_again() -> None:
    check_reschedule("scheduled")
    for status in ("new", "closed", "active"):
        with pytest.raises(InvalidRequest) as err:
            check_reschedule(status)
        assert err.value.code == "not_scheduled"
    check_close("new")
    check_close("scheduled")
    with pytest.raises(InvalidRequest) as err:
        check_close("closed")
    assert err.value.code == "already_closed"
