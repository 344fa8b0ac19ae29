"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..model import ProviderState
from ..serialize import providers_json
from .runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when every enabled provider has refreshed at least once, none is down, and the
    database answers."""
    rt = runtime()
    health = rt.board.health()
    problems = {
        name: h.error or h.state.value
        for name, h in health.items()
        if h.state is ProviderState.DOWN or h.last_success is None
    }
    database = rt.history.ping()
    if database:
        problems["database"] = database
    body = {
        "ready": not problems,
        "providers": providers_json(health),
        "database": database or "ok",
        "problems": problems,
    }
    return jsonify(body), 200 if not problems else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    return Response(generate_latest(runtime().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
