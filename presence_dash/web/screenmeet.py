"""ScreenMeet endpoints (CONTRACT "HTTP API"): list, start or schedule, reschedule, close.

Every mutating request may carry an `Idempotency-Key` header (the UI sends one per dialog
submission), under the API's one policy (storage/idempotency.py): the first request with a
key does the work, a repeat gets the stored answer (`Idempotent-Replayed: true`), a
concurrent repeat waits for the first, and a key reused for a different request is refused.
So a double click never starts two sessions. The work itself goes through the service's
outbox (screenmeet/service.py), which records each action and its audit row before
ScreenMeet is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from presence_dash.screenmeet.outbox import AuditDraft
from presence_dash.screenmeet.rules import PREF_SUPPORT, InvalidRequest, SessionType
from presence_dash.screenmeet.service import Plan, ScreenMeetService
from presence_dash.screenmeet.wire import session_json
from presence_dash.storage.idempotency import (
    IDEMPOTENCY_HEADER,
    REPLAYED_HEADER,
    BadKey,
    fingerprint,
    parse_key,
)
from presence_dash.web.errors import error_response
from presence_dash.web.request_limits import audit_body

bp = Blueprint("screenmeet", __name__, url_prefix="/api/screenmeet")


def service() -> ScreenMeetService:
    return current_app.extensions["screenmeet"]


def current_actor() -> str:
    """Who acts, for `created_by` / `closed_by`: the signed-in name the auth gate put in
    `g.identity` ("local-user" without sign-in), or "anonymous" if no gate ran. Who may act is
    decided before this, in the app-wide access table (auth/policy.py) by endpoint name."""
    identity = getattr(g, "identity", None)
    return getattr(identity, "name", None) or "anonymous"


PREF_LABELS = {
    "record": "Record the session",
    "prerequestrc": "Request remote control at start",
    "prerequestadmin": "Request admin rights at start",
    "knock": "Knock to join",
    "audio": "Start with audio",
}


@bp.app_context_processor
def _screenmeet_for_templates() -> dict[str, Any]:
    """`screenmeet_view()` for the agent page: whether ScreenMeet is on and the options per
    type. The sessions themselves are not in the page: the panel reads them from the API, so
    the one access rule for `list_sessions` also decides who sees PINs and customer links."""

    def view() -> dict[str, Any]:
        return {
            "enabled": service().enabled,
            "types": [t.value for t in SessionType],
            "prefs": {
                name: {"label": PREF_LABELS[name], "types": sorted(t.value for t in types)}
                for name, types in PREF_SUPPORT.items()
            },
        }

    return {"screenmeet_view": view}


@bp.get("/sessions")
def list_sessions() -> ResponseReturnValue:
    svc = service()
    include_closed = request.args.get("closed", "1") not in ("0", "false")
    now = svc.clock()
    return jsonify(
        {
            "enabled": svc.enabled,
            "sessions": [session_json(s, now) for s in svc.list(include_closed)],
        }
    )


@bp.post("/sessions")
def create_session() -> ResponseReturnValue:
    body = request.get_json(silent=True)

    def plan() -> Plan:
        checked = service().plan_open(body)
        person_id = checked.request.get("person_id")
        board = current_app.extensions["presence_dash"].board
        if person_id and board.person(person_id) is None:
            raise InvalidRequest("unknown_person", f"no person with id {person_id!r}")
        return checked

    return _act(body, plan)


@bp.patch("/sessions/<session_id>")
def reschedule_session(session_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    return _act(body, lambda: service().plan_reschedule(session_id, body))


@bp.delete("/sessions/<session_id>")
def close_session(session_id: str) -> ResponseReturnValue:
    return _act(None, lambda: service().plan_close(session_id))


def _audit_draft() -> AuditDraft:
    """This request's audit row as the after-request hook would write it (auth/gate.py):
    the outbox writes it with the intent, before the vendor is called."""
    identity = getattr(g, "identity", None)
    return AuditDraft(
        actor=identity.name if identity else "unknown",
        role=identity.role.label if identity else "-",
        action=request.endpoint or request.path,
        target=request.path,
        params={"args": request.view_args or {}, "body": audit_body()},
        client_addr=request.remote_addr,
    )


def _act(body: Any, plan: Callable[[], Plan]) -> ResponseReturnValue:
    try:
        key = parse_key(request.headers.get(IDEMPOTENCY_HEADER))
    except BadKey:
        return error_response(BadKey.status, BadKey.code, BadKey.message)
    reply = service().submit(
        plan,
        actor=current_actor(),
        key=key,
        print_=fingerprint(request.method, request.path, body) if key else "",
        audit=_audit_draft(),
    )
    if reply.audited:
        g.audited = True  # the outbox wrote this request's row; the gate's hook must not
    response = jsonify(reply.body)
    if reply.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response, reply.status
