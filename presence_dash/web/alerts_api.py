"""Threshold alerts over HTTP (docs/api.md "Alerts"): `GET /api/alerts`, and the same body
in the pages' first paint (`alerts` in every template, `#initial-alerts` in base.html)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..alert_push import AlertPush
from ..metrics import AlertGauges

if TYPE_CHECKING:
    from ..factory import Runtime

bp = Blueprint("alerts_api", __name__, url_prefix="/api")

EXTENSION = "presence_dash.alerts"


def install(app: Flask, runtime: Runtime) -> AlertPush:
    """Register the route and the pages' data; return the alert loop to start with the
    runtime."""
    push = AlertPush(
        runtime.socketio,
        runtime.hub,
        runtime.clock,
        runtime.settings.thresholds(),
        AlertGauges.create(runtime.metrics.registry),
    )
    app.extensions[EXTENSION] = push
    app.register_blueprint(bp)

    @app.context_processor
    def _alerts_for_pages() -> dict[str, Any]:
        return {"alerts": push.body()}

    return push


@bp.get("/alerts")
def list_alerts() -> ResponseReturnValue:
    return jsonify(current_app.extensions[EXTENSION].body())
