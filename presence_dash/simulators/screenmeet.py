"""A local stand-in for ScreenMeet sessions, reached through a ServiceNow Scripted REST API that
exposes the `x_prois_sm.ScreenMeet` script include's methods one to one
(docs/providers/screenmeet.md): `POST <base>/createSession`, `/scheduleSession`,
`/rescheduleSession`, `/closeSession`, JSON bodies named like the methods' parameters, answers
wrapped in ServiceNow's `{"result": ...}`, errors in its `{"error": {"message", "detail"}}`.
Like the bridge, it keeps the caller's `external_id` with each session: a second create with
a known one answers the first session instead of making another, and `POST <base>/findSession
{"external_id"}` answers the session created with it (404 when there is none).

Session objects are shaped like the vendor's example (id, pin, status, hostAuthToken, urls,
settings, expiresAt, ...). A scheduled session has pin 0 and becomes `new` ten minutes before
its start time; closing a closed session, rescheduling one that is no longer scheduled and
unknown ids are errors, as is a wrong password.
Shares no code with the client so each can catch the other's mistakes.

Tests drive it over HTTP under `/_sim/`: move the clock, queue faults, read the sessions and
the request log.
"""

from __future__ import annotations

import random
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from flask import Flask, Response, jsonify, request

from presence_dash.simulators.control import (
    add_fault_route,
    add_password_route,
    basic_auth_is,
    fault_list_queue,
)

DEFAULT_BASE_PATH = "/api/x_acme_sm/screenmeet"
TYPES = ("support", "cobrowse", "live", "replay")
# agent_prefs option -> (settings key, the types that honour it); others are ignored.
PREFS = {
    "record": ("recording", {"support", "live", "cobrowse"}),
    "prerequestrc": ("startwithrc", {"support"}),
    "prerequestadmin": ("startwithadmin", {"support"}),
    "knock": ("knock", {"live"}),
    "audio": ("audio", {"live"}),
}
FAULT_KINDS = {"500", "503", "401", "slow", "not_json"}
LEAD = timedelta(minutes=10)
LIFETIME = timedelta(hours=1)


@dataclass
class SimSession:
    id: str
    type: str
    label: str
    status: str
    scheduled: bool
    start: datetime | None
    pin: int
    host_token: str
    created: datetime
    updated: datetime
    settings: dict[str, bool]
    parent: dict[str, str]
    user_description: str
    external_id: str | None = None


@dataclass
class ScreenMeetSim:
    username: str = "presence.dash"
    password: str = "secret"
    base_path: str = DEFAULT_BASE_PATH
    organization_id: int = 1336
    offset: timedelta = timedelta(0)
    sessions: dict[str, SimSession] = field(default_factory=dict)
    by_external_id: dict[str, str] = field(default_factory=dict)  # external_id -> session id
    faults: deque[dict[str, Any]] = field(default_factory=deque)
    requests: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def new_id(self) -> str:
        while True:
            sid = "".join(self.rng.choice(string.ascii_letters) for _ in range(6))
            if sid not in self.sessions:
                return sid

    def new_pin(self) -> int:
        return self.rng.randint(100_000, 999_999)

    def advance(self, session: SimSession) -> None:
        """The vendor's own clock work: a scheduled session opens ten minutes early."""
        if session.status == "scheduled" and session.start and self.now() >= session.start - LEAD:
            session.status = "new"
            session.pin = self.new_pin()
            session.updated = self.now()


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _session_json(sim: ScreenMeetSim, s: SimSession, root: str) -> dict[str, Any]:
    """The vendor's session object (example in "API Details"), with links to this simulator."""
    expires = (s.start or s.created) + LIFETIME
    body: dict[str, Any] = {
        "unattended": False,
        "scheduled": s.scheduled,
        "id": s.id,
        "type": s.type,
        "label": s.label,
        "ExternalUserId": 32593,
        "OrganizationId": sim.organization_id,
        "createdByAgentSession": {
            "sid": 2371395,
            "roles": {"api": True, "agent": True, "supervisor": False, "group_admin": True},
            "features": None,
            "provider": "snow-universal",
            "clientApp": "service-now-backend",
        },
        "status": s.status,
        "pin": s.pin,
        "hostAuthToken": s.host_token,
        "createdAt": _iso(s.created),
        "updatedAt": _iso(s.updated),
        "expiresAt": _iso(expires),
        "settings": dict(s.settings),
        "externalSessionObjectId": s.parent["sys_id"],
        "userDescription": s.user_description,
        "urls": {
            "user": f"{root}/join/{s.pin}" if s.pin else f"{root}/join/{s.id}",
            "host": f"{root}/host/{s.id}?token={s.host_token}",
        },
    }
    if s.scheduled:
        body["startTime"] = _iso(s.start)
    if s.external_id is not None:
        body["external_id"] = s.external_id  # the bridge adds it to the vendor's object
    return body


def create_app(sim: ScreenMeetSim) -> Flask:
    app = Flask(__name__)
    base = sim.base_path.rstrip("/")

    def root() -> str:
        return request.host_url.rstrip("/")

    def guarded() -> Any:
        """Auth, faults and the request log, in the order the instance applies them."""
        if not _authorized(sim):
            return _sn_error(
                401,
                "User Not Authenticated",
                "Required to provide Auth information",
                {"WWW-Authenticate": 'Basic realm="Service-now"'},
            )
        fault = sim.faults.popleft() if sim.faults else None
        sim.requests.append(
            {"path": request.path, "at": time.time(), "fault": fault and fault["kind"]}
        )
        if fault:
            kind = fault["kind"]
            if kind in ("500", "503"):
                return _sn_error(int(kind), "Instance unavailable", "Try again later")
            if kind == "401":
                return _sn_error(401, "User Not Authenticated", "Session expired")
            if kind == "not_json":
                return Response("<html>Instance hibernating</html>", mimetype="text/html")
            if kind == "slow":
                time.sleep(fault["delay_s"])
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _sn_error(400, "Invalid request", "the body must be a JSON object")
        return body

    @app.post(f"{base}/createSession")
    def create_session() -> Any:
        body = guarded()
        if not isinstance(body, dict):
            return body
        return _known(sim, body, root()) or _create(sim, body, None, root())

    @app.post(f"{base}/scheduleSession")
    def schedule_session() -> Any:
        body = guarded()
        if not isinstance(body, dict):
            return body
        known = _known(sim, body, root())
        if known is not None:
            return known
        start, problem = _start_time(sim, body.get("startTime"))
        if problem:
            return _sn_error(400, "Invalid startTime", problem)
        return _create(sim, body, start, root())

    @app.post(f"{base}/findSession")
    def find_session() -> Any:
        body = guarded()
        if not isinstance(body, dict):
            return body
        external_id = body.get("external_id")
        if not isinstance(external_id, str) or not external_id:
            return _sn_error(400, "Missing parameter", "external_id is required")
        with sim.lock:
            session = sim.sessions.get(sim.by_external_id.get(external_id, ""))
            if session is None:
                return _sn_error(
                    404, "No such session", f"no session with external_id {external_id[:40]!r}"
                )
            sim.advance(session)
            return jsonify({"result": _session_json(sim, session, root())})

    @app.post(f"{base}/rescheduleSession")
    def reschedule_session() -> Any:
        body = guarded()
        if not isinstance(body, dict):
            return body
        with sim.lock:
            session = sim.sessions.get(str(body.get("ScreenMeetSessionId")))
            if session is None:
                return _not_found(body.get("ScreenMeetSessionId"))
            sim.advance(session)
            if session.status != "scheduled":
                return _sn_error(
                    409,
                    "Session is not scheduled",
                    f"session {session.id} is {session.status}; only scheduled sessions "
                    "can be rescheduled",
                )
            start, problem = _start_time(sim, body.get("startTime"))
            if problem:
                return _sn_error(400, "Invalid startTime", problem)
            session.start = start
            session.updated = sim.now()
            sim.advance(session)
            return jsonify({"result": _session_json(sim, session, root())})

    @app.post(f"{base}/closeSession")
    def close_session() -> Any:
        body = guarded()
        if not isinstance(body, dict):
            return body
        with sim.lock:
            session = sim.sessions.get(str(body.get("ScreenMeetSessionId")))
            if session is None:
                return _not_found(body.get("ScreenMeetSessionId"))
            if session.status == "closed":
                return _sn_error(409, "Session already closed", f"session {session.id} is closed")
            session.status = "closed"
            session.updated = sim.now()
        return jsonify({"result": {"success": True}})

    # -- what a customer and an agent would open (so the demo's links lead somewhere) -------

    @app.get("/join/<code>")
    def join(code: str) -> Any:
        return _page(f"ScreenMeet (simulated): customer join page for {code}")

    @app.get("/host/<sid>")
    def host(sid: str) -> Any:
        with sim.lock:
            session = sim.sessions.get(sid)
            ok = session is not None and request.args.get("token") == session.host_token
        if not ok:
            return _page("ScreenMeet (simulated): invalid host link"), 403
        return _page(f"ScreenMeet (simulated): host view of session {sid}")

    # -- control API for tests --------------------------------------------------------------

    @app.get("/_sim/sessions")
    def list_sessions() -> Any:
        with sim.lock:
            for s in sim.sessions.values():
                sim.advance(s)
            return jsonify(
                {"sessions": [_session_json(sim, s, root()) for s in sim.sessions.values()]}
            )

    @app.post("/_sim/advance")
    def advance() -> Any:
        seconds = float((request.get_json(silent=True) or {}).get("seconds", 0))
        with sim.lock:
            sim.offset += timedelta(seconds=seconds)
            return jsonify({"now": _iso(sim.now())})

    add_fault_route(app, FAULT_KINDS, fault_list_queue(sim.faults))

    add_password_route(app, sim)

    @app.get("/_sim/requests")
    def request_log() -> Any:
        return jsonify({"requests": list(sim.requests), "pending_faults": len(sim.faults)})

    return app


def _known(sim: ScreenMeetSim, body: dict[str, Any], root: str) -> Any:
    """The session already created with this `external_id`, before any other check (a repeat
    of a schedule whose start has passed still gets its session), or None."""
    external_id = body.get("external_id")
    if not isinstance(external_id, str) or not external_id:
        return None
    with sim.lock:
        known = sim.sessions.get(sim.by_external_id.get(external_id, ""))
        if known is None:
            return None
        sim.advance(known)
        return jsonify({"result": _session_json(sim, known, root)})


def _create(sim: ScreenMeetSim, body: dict[str, Any], start: datetime | None, root: str) -> Any:
    kind = body.get("type")
    if kind not in TYPES:
        return _sn_error(400, "Invalid type", f"type must be one of {', '.join(TYPES)}")
    prefs = body.get("agent_prefs") or {}
    if not isinstance(prefs, dict):
        return _sn_error(400, "Invalid agent_prefs", "agent_prefs must be an object")
    missing = [
        k
        for k in ("parent_object_table", "parent_object_display_name", "screenmeet_session_name")
        if not isinstance(body.get(k), str) or not body.get(k)
    ]
    if missing:
        return _sn_error(400, "Missing parameter", f"{missing[0]} is required")
    external_id = body.get("external_id")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 64):
        return _sn_error(400, "Invalid external_id", "external_id must be a string of <= 64")
    # Options the type does not support are ignored, omitted ones are false (vendor table).
    settings = {key: bool(prefs.get(opt)) and kind in types for opt, (key, types) in PREFS.items()}
    with sim.lock:
        known = sim.sessions.get(sim.by_external_id.get(external_id or "", ""))
        if known is not None:  # its twin got in while we checked the parameters
            sim.advance(known)
            return jsonify({"result": _session_json(sim, known, root)})
        now = sim.now()
        session = SimSession(
            id=sim.new_id(),
            type=kind,
            label=body["screenmeet_session_name"],
            status="scheduled" if start else "new",
            scheduled=start is not None,
            start=start,
            pin=0 if start else sim.new_pin(),
            host_token=secrets.token_urlsafe(24),
            created=now,
            updated=now,
            settings=settings,
            parent={
                "table": body["parent_object_table"],
                "sys_id": str(body.get("parent_object_sys_id") or ""),
            },
            user_description=body["parent_object_display_name"],
            external_id=external_id or None,
        )
        sim.sessions[session.id] = session
        if external_id:
            sim.by_external_id[external_id] = session.id
        sim.advance(session)
        return jsonify({"result": _session_json(sim, session, root)})


def _start_time(sim: ScreenMeetSim, value: Any) -> tuple[datetime | None, str | None]:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None, "startTime must be ISO 8601 UTC, e.g. 2021-08-10T15:30:00.000Z"
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return None, f"startTime {value[:40]!r} is not ISO 8601"
    if moment <= sim.now():
        return None, "startTime must be in the future"
    return moment, None


def _not_found(sid: Any) -> Any:
    return _sn_error(404, "No such session", f"no ScreenMeet session {str(sid)[:40]!r}")


def _authorized(sim: ScreenMeetSim) -> bool:
    return basic_auth_is(sim.username, sim.password)


def _page(text: str) -> Response:
    html = f"<!doctype html><title>ScreenMeet simulator</title><p>{escape(text)}</p>"
    return Response(html, mimetype="text/html")


def _sn_error(status: int, message: str, detail: str, headers: dict[str, str] | None = None) -> Any:
    body = {"error": {"message": message, "detail": detail}, "status": "failure"}
    return jsonify(body), status, headers or {}
