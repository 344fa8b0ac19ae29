"""Glance visitors over HTTP (CONTRACT): the list, co-browse, and custom signals.

`GET /api/visitors`; `POST /api/visitors/<visitor_id>/cobrowse`; `POST
/api/visitors/<visitor_id>/signal`. Both actions go through `_act`, the one place where a
request becomes a signal (validation, idempotency, error mapping); who may act is decided by
the route table of the sign-in layer, by endpoint name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_socketio import SocketIO

from ..providers.base import AuthFailed, PollingProvider, ProviderError
from ..providers.glance import GlanceProvider, VisitorGone
from ..providers.glance_direct import DirectServerRefused
from ..providers.glance_records import VISITOR_ID
from ..visitor_actions import (
    IdempotencyCache,
    InvalidAction,
    SignalMessage,
    StoredResponse,
    cobrowse_message,
    parse_group_id,
    parse_signal,
)
from ..visitor_push import VisitorPush, visitors_json
from .errors import error_response

log = logging.getLogger(__name__)

bp = Blueprint("visitors", __name__, url_prefix="/api/visitors")

EXTENSION = "presence_dash.visitors"
GONE_MESSAGE = "visitor is no longer on the site"


@dataclass
class VisitorFeature:
    """What the routes need; `source` is None when Glance is not configured."""

    source: GlanceProvider | None
    push: VisitorPush | None
    idempotency: IdempotencyCache = field(default_factory=IdempotencyCache)

    def payload(self) -> dict[str, Any]:
        if self.source is None:
            return {"seq": 0, "enabled": False, "visitors": [], "counts": {}}
        board = self.source.visitors
        labels = {str(g): label for g, label in self.source.config.group_labels.items()}
        return {
            "enabled": True,
            **visitors_json(board.snapshot(), board.counts()),
            "labels": labels,
        }


def install(
    app: Flask, socketio: SocketIO, providers: Sequence[PollingProvider], push_interval_s: float
) -> VisitorPush | None:
    """Register the routes and the pages' first-paint data; return the push loop to start
    with the runtime (None without Glance)."""
    source = next((p for p in providers if isinstance(p, GlanceProvider)), None)
    push = VisitorPush(socketio, source.visitors, push_interval_s) if source else None
    feature = VisitorFeature(source, push)
    app.extensions[EXTENSION] = feature
    app.register_blueprint(bp)

    @app.context_processor
    def _visitors_for_pages() -> dict[str, Any]:
        return {"visitors": feature.payload()}

    return push


def _feature() -> VisitorFeature:
    return current_app.extensions[EXTENSION]


@bp.get("")
def list_visitors() -> ResponseReturnValue:
    return jsonify(_feature().payload())


@bp.post("/<visitor_id>/cobrowse")
def cobrowse(visitor_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True) if request.content_length else {}
    group = body.get("group_id") if isinstance(body, dict) else None
    return _act("cobrowse", visitor_id, group, cobrowse_message)


@bp.post("/<visitor_id>/signal")
def signal(visitor_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    group = body.get("group_id") if isinstance(body, dict) else None
    return _act("signal", visitor_id, group, lambda: parse_signal(body))


def _act(
    action: str, visitor_id: str, group_value: Any, message: Callable[[], SignalMessage]
) -> ResponseReturnValue:
    feature = _feature()
    source = feature.source
    if source is None:
        return error_response(503, "glance_disabled", "Glance is not configured")
    key = request.headers.get("Idempotency-Key")
    try:
        if not VISITOR_ID.match(visitor_id):
            raise InvalidAction(
                "bad_visitor_id", "visitor ids are 1-62 of A-Z a-z 0-9 - _ ~ (Glance's rule)"
            )
        msg = message()
        group_id = parse_group_id(
            group_value or request.args.get("group_id"), source.visitors.group_ids
        )
        if key is not None:
            IdempotencyCache.check_key(key)
            fingerprint = IdempotencyCache.fingerprint(
                action, visitor_id, group_id, msg.mtype, msg.data
            )
            replay = feature.idempotency.begin(key, fingerprint, time.monotonic())
            if replay is not None:
                return jsonify(replay.body), replay.status, {"Idempotent-Replayed": "true"}
    except InvalidAction as exc:
        return error_response(exc.status, exc.code, str(exc))
    try:
        status, body = _send(source, visitor_id, group_id, msg)
    except Exception:
        if key is not None:
            feature.idempotency.abandon(key)  # a bug, not an answer: let a retry try again
        raise
    if key is not None:
        if status == 502:  # nothing (or nothing known) reached the visitor: a retry may send
            feature.idempotency.abandon(key)
        else:
            feature.idempotency.finish(key, StoredResponse(status, body), time.monotonic())
    return jsonify(body), status


def _send(
    source: GlanceProvider, visitor_id: str, group_id: int | None, msg: SignalMessage
) -> tuple[int, dict[str, Any]]:
    groups = [group_id] if group_id is not None else source.visitors.groups_of(visitor_id)
    if not groups and len(source.visitors.group_ids) == 1:
        groups = source.visitors.group_ids  # not polled yet, perhaps: ask Glance anyway
    if len(groups) > 1:
        return _error(
            409,
            "ambiguous_visitor",
            f"visitor {visitor_id!r} is present in groups {groups}; say which with group_id",
        )
    if not groups:
        return _error(409, "visitor_gone", GONE_MESSAGE)
    group = groups[0]
    try:
        sent = source.signal(group, visitor_id, msg.mtype, msg.data)
    except VisitorGone:
        return _error(409, "visitor_gone", GONE_MESSAGE)
    except DirectServerRefused:
        return _error(
            502,
            "direct_server_refused",
            "Glance named a presence server outside the allowlist; nothing was sent",
        )
    except AuthFailed as exc:
        return _error(502, "glance_auth_failed", f"Glance refused our credentials: {exc}")
    except ProviderError as exc:
        return _error(502, "glance_unavailable", f"Glance did not take the signal: {exc}")
    log.info(
        "glance: %s %s sent to visitor %s in group %s via %s",
        msg.mtype,
        msg.data.get("func", "signal") if msg.mtype == "invoke" else "signal",
        visitor_id,
        group,
        sent.server,
    )
    return 200, {"status": "sent", "visitor_id": visitor_id, "group_id": group, "mtype": msg.mtype}


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}
