"""ScreenMeet rules without I/O: which agent preferences a session type takes, what a valid
request is, and how a session's status moves (scheduled -> new -> closed).

The preference table is the vendor's ("API Details", ScreenMeet for ServiceNow, 2021): an
option a type does not support is dropped with a note (the vendor would ignore it silently,
which hides a mistake from the agent), and an omitted option is false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class SessionType(StrEnum):
    SUPPORT = "support"
    COBROWSE = "cobrowse"
    LIVE = "live"
    REPLAY = "replay"


class SessionStatus(StrEnum):
    """The vendor's statuses we act on; others it may report are kept as text."""

    NEW = "new"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


# option -> the types that support it (the vendor's table, row by row).
PREF_SUPPORT: dict[str, frozenset[SessionType]] = {
    "record": frozenset({SessionType.SUPPORT, SessionType.LIVE, SessionType.COBROWSE}),
    "prerequestrc": frozenset({SessionType.SUPPORT}),
    "prerequestadmin": frozenset({SessionType.SUPPORT}),
    "knock": frozenset({SessionType.LIVE}),
    "audio": frozenset({SessionType.LIVE}),
}

# The vendor moves a scheduled session to `new` "about 10 minutes" before its start.
OPENS_BEFORE_START = timedelta(minutes=10)

TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
SYS_ID = re.compile(r"^[0-9a-f]{32}$")
# ISO 8601 with an explicit UTC designator; other offsets are refused rather than converted,
# so a browser that sends local time by mistake is told instead of silently shifted.
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|\+00:00)$")
MAX_LABEL = 200
MAX_DISPLAY_NAME = 200
MAX_PERSON_ID = 64  # screenmeet_sessions.person_id
# What a database refuses to store: PostgreSQL rejects NUL in text, and a lone surrogate (JSON
# allows "\ud800") cannot be encoded as UTF-8. Refused before anything is recorded or sent, so
# the vendor never gets a request whose result we could not save.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InvalidRequest(ValueError):
    """A request the vendor must not see; `code` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnknownSession(InvalidRequest):
    def __init__(self, session_id: str) -> None:
        super().__init__("unknown_session", f"no ScreenMeet session {session_id[:64]!r}")


# error code -> HTTP status; every other InvalidRequest is a 400.
CODE_STATUS = {"unknown_session": 404, "not_scheduled": 409, "already_closed": 409}


def status_for(exc: InvalidRequest) -> int:
    return CODE_STATUS.get(exc.code, 400)


def prefs_for(session_type: SessionType) -> list[str]:
    """The options `session_type` supports, in the table's order."""
    return [name for name, types in PREF_SUPPORT.items() if session_type in types]


def normalize_prefs(
    session_type: SessionType, prefs: Mapping[str, Any] | None
) -> tuple[dict[str, bool], tuple[str, ...]]:
    """Every option the type supports, set or false; unsupported ones dropped with a note.
    Unknown option names and non-boolean values are errors (usually a typo)."""
    prefs = prefs or {}
    if not isinstance(prefs, Mapping):
        raise InvalidRequest("bad_prefs", "prefs must be an object of option: true/false")
    unknown = sorted(set(prefs) - set(PREF_SUPPORT))
    if unknown:
        raise InvalidRequest(
            "unknown_pref",
            f"unknown preference {unknown[0]!r}; known: {', '.join(PREF_SUPPORT)}",
        )
    for name, value in prefs.items():
        if not isinstance(value, bool):
            raise InvalidRequest("bad_prefs", f"prefs.{name} must be true or false")
    supported = prefs_for(session_type)
    normalized = {name: bool(prefs.get(name, False)) for name in supported}
    notes = tuple(
        f"{name} is not available for {session_type.value} sessions; ignored"
        for name in PREF_SUPPORT
        if name in prefs and name not in supported and prefs[name]
    )
    return normalized, notes


def parse_type(value: Any) -> SessionType:
    try:
        return SessionType(value)
    except ValueError:
        kinds = ", ".join(t.value for t in SessionType)
        raise InvalidRequest("bad_type", f"type must be one of {kinds}") from None


def parse_start_time(value: Any, now: datetime) -> datetime:
    """An ISO 8601 UTC time (`...Z`) strictly in the future."""
    problem = InvalidRequest(
        "bad_start_time", "start_time must be ISO 8601 UTC, e.g. 2026-08-10T15:30:00.000Z"
    )
    if not isinstance(value, str) or not UTC_TIME.match(value):
        raise problem
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:  # the right shape, but no such date (month 13, 30 February)
        raise problem from None
    if moment <= now:
        raise InvalidRequest("start_time_in_past", "start_time must be in the future")
    return moment


@dataclass(frozen=True)
class SessionRequest:
    """A validated create/schedule request, in our words; the client maps it to the vendor's."""

    type: SessionType
    parent_object_table: str
    parent_object_sys_id: str
    parent_object_display_name: str
    label: str
    prefs: dict[str, bool] = field(hash=False)
    start_time: datetime | None = None
    person_id: str | None = None
    notes: tuple[str, ...] = ()


def _text(body: Mapping[str, Any], key: str, limit: int, required: bool) -> str:
    value = body.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest("bad_request", f"{key} must be a string")
    value = value.strip()
    if UNSTORABLE.search(value):
        raise InvalidRequest("bad_request", f"{key} contains a NUL or an unpaired surrogate")
    if required and not value:
        raise InvalidRequest("bad_request", f"{key} is required")
    if len(value) > limit:
        raise InvalidRequest("bad_request", f"{key} is longer than {limit} characters")
    return value


def parse_session_request(body: Any, now: datetime) -> SessionRequest:
    """Validate a `POST /api/screenmeet/sessions` body (CONTRACT)."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("bad_request", "the body must be a JSON object")
    session_type = parse_type(body.get("type"))
    table = _text(body, "parent_object_table", 80, required=True)
    if not TABLE_NAME.match(table):
        raise InvalidRequest("bad_request", "parent_object_table must be a table name")
    sys_id = _text(body, "parent_object_sys_id", 32, required=False)
    if sys_id and not SYS_ID.match(sys_id):
        raise InvalidRequest("bad_request", "parent_object_sys_id must be a 32-character sys_id")
    display = _text(body, "parent_object_display_name", MAX_DISPLAY_NAME, required=True)
    label = _text(body, "label", MAX_LABEL, required=False)
    if not label:
        label = f"Remote {session_type.value} session for {display}"[:MAX_LABEL]
    person_id = _text(body, "person_id", MAX_PERSON_ID, required=False)
    prefs, notes = normalize_prefs(session_type, body.get("prefs"))
    start = body.get("start_time")
    start_time = None if start in (None, "") else parse_start_time(start, now)
    return SessionRequest(
        type=session_type,
        parent_object_table=table,
        parent_object_sys_id=sys_id,
        parent_object_display_name=display,
        label=label,
        prefs=prefs,
        start_time=start_time,
        person_id=person_id or None,
        notes=notes,
    )


def request_json(req: SessionRequest) -> dict[str, Any]:
    """A validated request as the outbox stores it (JSON), so a restart can send it again."""
    return {
        "type": req.type.value,
        "parent_object_table": req.parent_object_table,
        "parent_object_sys_id": req.parent_object_sys_id,
        "parent_object_display_name": req.parent_object_display_name,
        "label": req.label,
        "prefs": dict(req.prefs),
        "start_time": req.start_time.isoformat() if req.start_time else None,
        "person_id": req.person_id,
        "notes": list(req.notes),
    }


def request_from_json(data: Mapping[str, Any]) -> SessionRequest:
    """The inverse of `request_json`; no validation: it was validated before it was stored."""
    start = data.get("start_time")
    return SessionRequest(
        type=SessionType(data["type"]),
        parent_object_table=data["parent_object_table"],
        parent_object_sys_id=data["parent_object_sys_id"],
        parent_object_display_name=data["parent_object_display_name"],
        label=data["label"],
        prefs={str(k): bool(v) for k, v in data["prefs"].items()},
        start_time=datetime.fromisoformat(start) if start else None,
        person_id=data.get("person_id"),
        notes=tuple(data.get("notes") or ()),
    )


def effective_status(status: str, start_time: datetime | None, now: datetime) -> str:
    """The status the vendor shows now: a scheduled session opens (`new`) ten minutes before
    its start, without anyone calling the vendor."""
    if (
        status == SessionStatus.SCHEDULED
        and start_time is not None
        and now >= start_time - OPENS_BEFORE_START
    ):
        return SessionStatus.NEW.value
    return status


def check_reschedule(status: str) -> None:
    """The vendor reschedules only sessions still in `scheduled`."""
    if status != SessionStatus.SCHEDULED:
        raise InvalidRequest(
            "not_scheduled", f"only a scheduled session can be rescheduled (this one is {status})"
        )


def check_close(status: str) -> None:
    if status == SessionStatus.CLOSED:
        raise InvalidRequest("already_closed", "this session is already closed")
