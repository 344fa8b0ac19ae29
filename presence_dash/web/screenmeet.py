"""ScreenMeet endpoints (CONTRACT "HTTP API"): list, start or schedule, reschedule, close.

Every mutating request may carry an `Idempotency-Key` header (the UI sends one per dialog
submission): the first request with a key does the work, a repeat gets the stored answer
(`Idempotent-Replayed: true`), a concurrent repeat waits for the first, and a key reused for
a different request is refused. So a double click never starts two sessions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from ..screenmeet.client import ScreenMeetError
from ..screenmeet.rules import PREF_SUPPORT, InvalidRequest, SessionType
from ..screenmeet.service import ScreenMeetService
from ..screenmeet.store import ClaimState, StoredSession, fingerprint
from ..screenmeet.wire import session_json
from .errors import error_response

bp = Blueprint("screenmeet", __name__, url_prefix="/api/screenmeet")

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
# How long a repeat waits for its twin's vendor call; past it the repeat answers 409.
WAIT_FOR_TWIN_S = 30.0


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

    def work() -> tuple[int, dict[str, Any]]:
        svc = service()
        person_id = body.get("person_id") if isinstance(body, dict) else None
        board = current_app.extensions["presence_dash"].board
        if person_id and board.person(person_id) is None:
            raise InvalidRequest("unknown_person", f"no person with id {person_id!r}")
        session = svc.open(body, current_actor())
        return 201, session_json(session, svc.clock(), with_host=True)

    return _idempotent(body, work)


@bp.patch("/sessions/<session_id>")
def reschedule_session(session_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)

    def work() -> tuple[int, dict[str, Any]]:
        svc = service()
        updated = svc.reschedule(_session_or_404(svc, session_id), body, current_actor())
        return 200, session_json(updated, svc.clock())

    return _idempotent(body, work)


@bp.delete("/sessions/<session_id>")
def close_session(session_id: str) -> ResponseReturnValue:
    def work() -> tuple[int, dict[str, Any]]:
        svc = service()
        closed = svc.close(_session_or_404(svc, session_id), current_actor())
        return 200, session_json(closed, svc.clock())

    return _idempotent(None, work)


class _NotFound(Exception):
    pass


def _session_or_404(svc: ScreenMeetService, session_id: str) -> StoredSession:
    session = svc.get(session_id)
    if session is None:
        raise _NotFound(session_id)
    return session


def _run(work: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any], bool]:
    """(status, body, keep): errors become the CONTRACT's error body; only answers that a
    retry would repeat are kept for replay (a vendor outage is worth retrying)."""
    try:
        status, body = work()
        return status, body, True
    except InvalidRequest as exc:
        status = 409 if exc.code in ("not_scheduled", "already_closed") else 400
        return status, _error(exc.code, exc.message), True
    except _NotFound as exc:
        return 404, _error("unknown_session", f"no ScreenMeet session {exc.args[0]!r}"), True
    except ScreenMeetError as exc:
        return exc.status, _error(exc.code, exc.message), exc.status < 500


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _idempotent(body: Any, work: Callable[[], tuple[int, dict[str, Any]]]) -> ResponseReturnValue:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        status, answer, _ = _run(work)
        return jsonify(answer), status
    if len(key) > MAX_KEY_LENGTH:
        return error_response(
            400, "bad_idempotency_key", f"{IDEMPOTENCY_HEADER} is longer than {MAX_KEY_LENGTH}"
        )
    svc = service()
    print_ = fingerprint(request.method, request.path, body)
    deadline = time.monotonic() + WAIT_FOR_TWIN_S
    while True:
        claim = svc.store.claim(key, print_, svc.clock())
        if claim.state is ClaimState.NEW:
            break
        if claim.state is ClaimState.DONE:
            response = jsonify(claim.body)
            response.headers["Idempotent-Replayed"] = "true"
            return response, claim.status_code or 200
        if claim.state is ClaimState.MISMATCH:
            return error_response(
                422,
                "idempotency_key_reused",
                f"this {IDEMPOTENCY_HEADER} was already used for a different request",
            )
        if time.monotonic() >= deadline:
            return error_response(
                409, "request_in_progress", "the same request is still being processed"
            )
        # A double click: the twin is talking to the vendor; answer with its result.
        current_app.extensions["presence_dash"].socketio.sleep(0.05)
    try:
        status, answer, keep = _run(work)
    except BaseException:
        svc.store.release(key)
        raise
    if keep:
        svc.store.complete(key, status, answer)
    else:
        svc.store.release(key)
    return jsonify(answer), status
