"""Threshold alerts over HTTP (docs/api.md "Alerts"): `GET /api/alerts`, and the same body
in the pages' first paint (`alerts` in every template, `#initial-alerts` in base.html).

Where the board is (role "all", a worker) the alerts are evaluated here (alert_push.py); a
web node serves the leader's latest evaluation from Redis (cluster/documents.py) and has no
alert gauges of its own: /metrics shows them on the leading worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from presence_dash.alerts.push import AlertPush
from presence_dash.cluster.documents import ALERTS
from presence_dash.cluster.redis_link import RedisDown
from presence_dash.core.timefmt import iso_z, utc_now
from presence_dash.metrics import AlertGauges

if TYPE_CHECKING:
    from presence_dash.cluster.board_feed import FencedEmitter
    from presence_dash.cluster.web_feed import WebFeed
    from presence_dash.factory import Runtime

bp = Blueprint("alerts_api", __name__, url_prefix="/api")

EXTENSION = "presence_dash.alerts.thresholds"


class AlertSource(Protocol):
    def body(self) -> dict[str, Any]: ...


class StoredAlerts:
    """A web node's alerts: the leader's latest evaluation (at most about a second old).
    Raises RedisDown while Redis is away (REST answers 503 redis_unavailable)."""

    def __init__(self, feed: WebFeed, clock: Callable[[], Any] = utc_now) -> None:
        self.feed = feed
        self.clock = clock

    def body(self) -> dict[str, Any]:
        stored = self.feed.document(ALERTS)
        if stored is None:  # no leader has evaluated yet (a first start, Redis lost it)
            return {"server_time": iso_z(self.clock()), "alerts": [], "teams": {}}
        return stored


def install(app: Flask, runtime: Runtime, emitter: FencedEmitter | None = None) -> AlertPush:
    """Register the route and the pages' data; return the alert loop to start with the
    runtime. A worker's `emitter` sends the events fenced and keeps every evaluation in
    Redis for the web nodes."""
    push = AlertPush(
        emitter or runtime.socketio,  # type: ignore[arg-type]
        runtime.hub,
        runtime.clock,
        runtime.settings.thresholds(),
        AlertGauges.create(runtime.metrics.registry),
        emitter.keep_alerts if emitter is not None else None,
    )
    _register(app, push)
    return push


def install_stored(app: Flask, feed: WebFeed) -> StoredAlerts:
    """The web node's side: the same route and page data, from Redis."""
    source = StoredAlerts(feed)
    _register(app, source)
    return source


def _register(app: Flask, source: AlertSource) -> None:
    app.extensions[EXTENSION] = source
    app.register_blueprint(bp)

    @app.context_processor
    def _alerts_for_pages() -> dict[str, Any]:
        try:
            return {"alerts": source.body()}
        except RedisDown:  # a page that needs no data (sign-in) still renders
            return {}


@bp.get("/alerts")
def list_alerts() -> ResponseReturnValue:
    return jsonify(current_app.extensions[EXTENSION].body())
