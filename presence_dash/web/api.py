"""The JSON API (CONTRACT "HTTP API")."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from presence_dash.core.timefmt import iso_z
from presence_dash.storage.history import window
from presence_dash.web import openapi
from presence_dash.web.errors import error_response
from presence_dash.web.runtime import runtime, sees_details

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_HISTORY_HOURS = 24 * 31


@bp.get("/presence")
def presence() -> ResponseReturnValue:
    # The cached text the sockets' snapshot is made of: encoded once per board version.
    return Response(runtime().hub.snapshot_body(sees_details()), mimetype="application/json")


@bp.get("/people/<person_id>/history")
def person_history(person_id: str) -> ResponseReturnValue:
    rt = runtime()
    if rt.board.person(person_id) is None:
        return error_response(404, "unknown_person", f"no person with id {person_id!r}")
    try:
        hours = float(request.args.get("hours", "24"))
    except ValueError:
        hours = -1
    if not 0 < hours <= MAX_HISTORY_HOURS:
        return error_response(
            400, "bad_hours", f"hours must be a number in (0, {MAX_HISTORY_HOURS}]"
        )
    rt.history.flush()  # include changes from the last second
    since = window(hours, rt.clock())
    entries = rt.history.changes(person_id, since)
    by_source = rt.history.changes_by_source(person_id, since)
    return jsonify(
        {
            "person_id": person_id,
            "hours": hours,
            "changes": [
                {"from": e.old.value, "to": e.new.value, "at": iso_z(e.at)} for e in entries
            ],
            "sources": {
                name: [
                    {
                        "from": e.old.value,
                        "to": e.new.value,
                        "at": iso_z(e.at),
                        "activity": e.activity,
                        "detail": e.detail,
                    }
                    for e in found
                ]
                for name, found in by_source.items()
            },
        }
    )


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify(openapi.document(current_app))
