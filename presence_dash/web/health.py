"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from presence_dash.core.model import ProviderState
from presence_dash.push.wire import providers_json, without_error_details
from presence_dash.web.runtime import runtime, sees_details

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready when every enabled provider has refreshed at least once, none is down, and the
    database answers; in a cluster also Redis answering and (web nodes) a leader known."""
    rt = runtime()
    health = rt.board.health()
    details = sees_details()  # load balancers get states; admins get the vendor's errors
    problems = {
        name: (h.error if details else None) or h.state.value
        for name, h in health.items()
        if h.state is ProviderState.DOWN or h.last_success is None
    }
    cluster = rt.cluster
    if cluster is not None and cluster.role == "worker" and not cluster.leading():
        problems = {}  # a standby runs no provider: ready means ready to take over
    database = rt.history.ping()
    if database:
        problems["database"] = database
    body = {
        "ready": not problems,
        "providers": providers_json(health)
        if details
        else without_error_details(providers_json(health)),
        "database": database or "ok",
        "problems": problems,
    }
    if cluster is not None:  # Redis, and which worker leads
        body["cluster"], cluster_problems = cluster.readiness()
        problems.update(cluster_problems)
        body["ready"] = not problems
    return jsonify(body), 200 if not problems else 503


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    return Response(generate_latest(runtime().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
