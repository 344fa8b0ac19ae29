"""Glance visitors over HTTP (CONTRACT): the list, co-browse, and custom signals.

`GET /api/visitors`; `POST /api/visitors/<visitor_id>/cobrowse`; `POST
/api/visitors/<visitor_id>/signal`. Both actions go through `_act`, the one place where a
request becomes a signal (validation, idempotency, recording, error mapping); who may act is
decided by the route table of the sign-in layer, by endpoint name. Every node can act: the
list comes from the feature's board or, on a web node, from Redis (visitors/listing.py), and
each signal is recorded in the shared database before it is sent (visitors/store.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from presence_dash.cluster.redis_link import RedisDown
from presence_dash.core.clock import Clock
from presence_dash.core.errors import error_body
from presence_dash.providers.base import AuthFailed, ProviderError
from presence_dash.storage.idempotency import (
    IDEMPOTENCY_HEADER,
    REPLAYED_HEADER,
    ClaimState,
    KeyAnswer,
    fingerprint,
    in_progress,
    settled_answer,
)
from presence_dash.visitors.actions import (
    InvalidAction,
    SignalMessage,
    check_idempotency_key,
    cobrowse_message,
    parse_group_id,
    parse_signal,
)
from presence_dash.visitors.feature import VisitorFeature
from presence_dash.visitors.listing import VisitorListing
from presence_dash.visitors.source import DestinationRefused, VisitorGone, VisitorSource
from presence_dash.visitors.store import KeyTaken, SignalLog, SignalRecord, SignalState
from presence_dash.web.errors import error_response
from presence_dash.web.screenmeet import current_actor

log = logging.getLogger(__name__)

bp = Blueprint("visitors", __name__, url_prefix="/api/visitors")

EXTENSION = "visitors"
GONE_MESSAGE = "visitor is no longer on the site"


def install(app: Flask) -> None:
    """Serve the feature the app factory keeps in `app.extensions[EXTENSION]`
    (visitors/feature.py): the routes and the pages' first-paint data."""
    app.register_blueprint(bp)

    @app.context_processor
    def _visitors_for_pages() -> dict[str, Any]:
        try:
            return {"visitors": _feature().payload()}
        except RedisDown:  # a page that needs no data (sign-in) still renders
            return {}


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
    source, visitors = feature.source, feature.visitors
    if source is None or visitors is None:
        return error_response(503, "glance_disabled", "Glance is not configured")
    try:
        if not source.valid_visitor_id(visitor_id):
            raise InvalidAction(
                "bad_visitor_id", "visitor ids are 1-62 of A-Z a-z 0-9 - _ ~ (Glance's rule)"
            )
        msg = message()
        group_id = parse_group_id(group_value or request.args.get("group_id"), visitors.group_ids)
        key = check_idempotency_key(request.headers.get(IDEMPOTENCY_HEADER))
    except InvalidAction as exc:
        return error_response(exc.status, exc.code, str(exc))
    print_ = fingerprint(action, visitor_id, group_id, msg.mtype, msg.data)
    if key is not None:
        replay = _replay(feature.signals, key, print_, feature.clock)
        if replay is not None:
            return replay
    group = _group(visitors, visitor_id, group_id)
    if isinstance(group, tuple):  # refused before anything was recorded
        if key is not None:
            feature.signals.keep_answer(key, print_, *group, feature.clock())
        return jsonify(group[1]), group[0]
    record = SignalRecord(action, group, visitor_id, msg.mtype, msg.data, current_actor())
    try:
        signal_id = feature.signals.record(record, key, print_, feature.clock())
    except KeyTaken:  # a racing request with the same key recorded first
        return _answer(in_progress())
    except sa.exc.SQLAlchemyError:
        log.exception("glance: could not record a %s for visitor %s", action, visitor_id)
        return error_response(
            503, "database_unavailable", "the signal could not be recorded; nothing was sent"
        )
    state, status, body = _send(source, visitor_id, group, msg)
    feature.signals.finish(signal_id, key, state, status, body, feature.clock())
    return jsonify(body), status


def _replay(signals: SignalLog, key: str, print_: str, clock: Clock) -> ResponseReturnValue | None:
    """The stored answer for a repeated key, a refusal, or None: go ahead."""
    claim = signals.lookup(key, print_)
    if claim.state is ClaimState.PENDING:
        claim = signals.settle_abandoned(key, print_, claim, clock())
    if claim.state is ClaimState.ABSENT:
        return None
    # In flight: a Glance signal cannot be deduplicated, so the repeat does not wait.
    return _answer(settled_answer(claim) or in_progress())


def _answer(answer: KeyAnswer) -> ResponseReturnValue:
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else {}
    return jsonify(answer.body), answer.status, headers


def _group(
    visitors: VisitorListing, visitor_id: str, group_id: int | None
) -> int | tuple[int, dict[str, Any]]:
    """The group to signal the visitor in, or the answer when there is none to choose."""
    groups = [group_id] if group_id is not None else visitors.groups_of(visitor_id)
    if not groups and len(visitors.group_ids) == 1:
        groups = visitors.group_ids  # not polled yet, perhaps: ask Glance anyway
    if len(groups) > 1:
        return 409, error_body(
            "ambiguous_visitor",
            f"visitor {visitor_id!r} is present in groups {groups}; say which with group_id",
        )
    if not groups:
        return 409, error_body("visitor_gone", GONE_MESSAGE)
    return groups[0]


def _send(
    source: VisitorSource, visitor_id: str, group: int, msg: SignalMessage
) -> tuple[SignalState, int, dict[str, Any]]:
    """Send a recorded signal: (how it went, status, body). FAILED: nothing (or nothing
    known) reached the visitor, so a retry with the key may send."""
    try:
        sent = source.signal(group, visitor_id, msg.mtype, msg.data)
    except VisitorGone:
        return SignalState.GONE, 409, error_body("visitor_gone", GONE_MESSAGE)
    except DestinationRefused:
        return (
            SignalState.FAILED,
            502,
            error_body(
                "direct_server_refused",
                "Glance named a presence server outside the allowlist; nothing was sent",
            ),
        )
    except AuthFailed as exc:
        return (
            SignalState.FAILED,
            502,
            error_body("glance_auth_failed", f"Glance refused our credentials: {exc}"),
        )
    except ProviderError as exc:
        return (
            SignalState.FAILED,
            502,
            error_body("glance_unavailable", f"Glance did not take the signal: {exc}"),
        )
    log.info(
        "glance: %s %s sent to visitor %s in group %s via %s",
        msg.mtype,
        msg.data.get("func", "signal") if msg.mtype == "invoke" else "signal",
        visitor_id,
        group,
        sent.server,
    )
    body = {"status": "sent", "visitor_id": visitor_id, "group_id": group, "mtype": msg.mtype}
    return SignalState.SENT, 200, body
