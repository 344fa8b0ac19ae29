"""The app factory: builds the Flask app, its SocketIO server and the runtime that feeds it.

`create_app` has no side effects beyond building objects; `Runtime.start()` launches the
background tasks (provider loops, push hub), so tests can build apps freely.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_compress import Compress
from flask_socketio import SocketIO

from presence_dash.auth.gate import install_auth
from presence_dash.auth.sweeper import AuthSweeper
from presence_dash.cluster.context import ClusterContext
from presence_dash.config import Settings
from presence_dash.core.background import BackgroundService, Tasks
from presence_dash.core.board import Batch, PresenceBoard, SavedBoard
from presence_dash.core.clock import Clock
from presence_dash.core.timefmt import utc_now
from presence_dash.metrics import Metrics
from presence_dash.providers import build_providers
from presence_dash.providers.base import PollingProvider
from presence_dash.providers.notes import ProviderNotes  # noqa: F401  (registers its table)
from presence_dash.providers.runner import ProviderRunner, stale_after
from presence_dash.push.hub import PushHub
from presence_dash.push.sockets import register_socket_handlers
from presence_dash.screenmeet import build_service as build_screenmeet
from presence_dash.storage.board_state import BoardStateStore
from presence_dash.storage.db import engine_for
from presence_dash.storage.history import HistoryStore
from presence_dash.storage.migrations import prepare_at_start
from presence_dash.visitors.feature import build_feature as build_visitors
from presence_dash.visitors.feature import build_stored_feature as build_stored_visitors
from presence_dash.web import alerts_api, api, auth_routes, health, hooks, pages, visitors_api
from presence_dash.web import screenmeet as screenmeet_web
from presence_dash.web.errors import register_error_handlers
from presence_dash.web.headers import register_security_headers
from presence_dash.web.request_limits import register_request_limits

log = logging.getLogger(__name__)

_PACKAGE_DIR = Path(__file__).resolve().parent


def _asset_dir(name: str) -> str:
    """Templates and static files sit inside the package in a wheel, beside it in a checkout."""
    inside = _PACKAGE_DIR / name
    return str(inside if inside.is_dir() else _PACKAGE_DIR.parent / name)


@dataclass
class Runtime:
    settings: Settings
    socketio: SocketIO
    board: PresenceBoard
    hub: PushHub
    runners: list[ProviderRunner]
    metrics: Metrics
    clock: Clock
    history: HistoryStore
    board_state: BoardStateStore
    started: bool = False
    # The background services besides the writers, hub and runners (ScreenMeet, the sign-in
    # sweeper, the visitor and alert pushes), in start order.
    services: list[BackgroundService] = field(default_factory=list)
    # Role "web" or "worker" (cluster/): Redis, the term, what /readyz adds.
    cluster: ClusterContext | None = None
    # Where the board's saved state comes from at start (a worker: Redis, then the database).
    load_saved: Callable[[], SavedBoard] | None = None

    def background(self) -> list[BackgroundService]:
        """Every background service in start order: the writers first and the producers
        after, so stopping in reverse stores what the producers made last. Read at start,
        not built earlier: a web node replaces `hub` with its feed."""
        return [self.history, self.board_state, self.hub, *self.runners, *self.services]

    def start(self) -> None:
        """Restore the board, then start every background service."""
        if self.started:
            return
        self.started = True
        prepare_at_start(self.history.engine, self.settings.server.auto_migrate)
        self._restore_board()
        for service in self.background():
            service.start()

    def stop(self) -> None:
        """Stop every service in reverse start order; one that fails to stop does not keep
        the rest running."""
        for service in reversed(self.background()):
            try:
                service.stop()
            except Exception:
                log.exception("%s: error while stopping", type(service).__name__)

    def _restore_board(self) -> None:
        """Seed the board with the state saved before this start (board_state.py), so a
        restart changes no timer; a database that cannot say starts the board empty."""
        try:
            saved = (self.load_saved or self.board_state.load)()
        except sa.exc.SQLAlchemyError as exc:
            log.error("board state: not restored, the database did not answer: %s", exc)
            return
        restored = self.board.restore(saved, self.clock())
        if restored:
            log.info("board state: restored %d people saved before this start", restored)

    def runner_for(self, name: str) -> ProviderRunner | None:
        return next((r for r in self.runners if r.provider.name == name), None)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    providers: list[PollingProvider] | None = None,
    cluster: ClusterContext | None = None,
) -> Flask:
    """Build the app. `providers` replaces the configured ones (benchmarks, tests);
    `cluster` is the worker's context across terms (a web node makes its own)."""
    app = Flask(
        __name__,
        template_folder=_asset_dir("templates"),
        static_folder=_asset_dir("static"),
    )
    secret = settings.secret(settings.server.secret_key_env)
    app.config.update(
        SECRET_KEY=secret or _random_key(),
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the CONTRACT's key order
    mode = settings.server.async_mode
    role = settings.server.role
    if cluster is None and role != "all":
        cluster = ClusterContext.create(settings, role)
    queue = (
        cluster.socketio_options()
        if cluster is not None
        else {"message_queue": settings.server.message_queue or None}
    )
    socketio = SocketIO(
        app,
        async_mode=mode,
        **queue,
        # Same-origin browsers only; python-socketio compares Origin with the Host.
        cors_allowed_origins=None,
        max_http_buffer_size=64 * 1024,
        ping_interval=10,
        ping_timeout=10,
    )
    app.wsgi_app = _without_websocket_compression(app.wsgi_app)  # type: ignore[method-assign]
    metrics = Metrics.create()
    engine = engine_for(settings.server.database)
    if role == "web":
        providers = []  # the leading worker runs them
    elif providers is None:
        providers = build_providers(settings, clock, engine)
    hub_ref: list[PushHub] = []
    board = PresenceBoard(
        settings.people(),
        {p.name: stale_after(p) for p in providers},
        clock(),
        change_log_size=settings.server.change_log_size,
        on_dirty=lambda: hub_ref[0].notify() if hub_ref else None,
    )
    tasks = Tasks(socketio.start_background_task, socketio.sleep)
    history = HistoryStore(engine, tasks)
    board_state = BoardStateStore(engine, board, clock, tasks)

    def saved_by_writers(batch: Batch) -> None:
        history.record(batch.transitions, batch.source_transitions)
        board_state.mark(v.id for v in batch.changes)

    emitter = cluster.worker_emitter(socketio, board, clock) if role == "worker" else None
    hub = PushHub(
        emitter or socketio,  # a worker's batches go through Redis first, fenced
        board,
        clock,
        settings.server.push_interval_ms / 1000,
        metrics,
        on_batch=saved_by_writers,
    )
    hub_ref.append(hub)
    runners = [
        ProviderRunner(
            p,
            board,
            clock,
            socketio.sleep,
            on_poll=metrics.poll_recorder(p),
            wake_event=socketio.server.eio.create_event(),
            spawn=socketio.start_background_task,
        )
        for p in providers
    ]
    runtime = Runtime(settings, socketio, board, hub, runners, metrics, clock, history, board_state)
    runtime.cluster = cluster
    if cluster is not None:
        cluster.metrics.register(metrics.registry)
    if emitter is not None:
        runtime.load_saved = lambda: _worker_saved(emitter, board_state)
    app.extensions["presence_dash"] = runtime
    app.extensions["screenmeet"] = build_screenmeet(settings, engine, clock, socketio)
    if role != "web":  # the scheduled -> new loop and reconcile run on the worker
        runtime.services.append(app.extensions["screenmeet"])

    # The gate's before_request runs first: nothing below is reachable without its say.
    auth = install_auth(app, settings, engine, clock, registry=metrics.registry)
    runtime.services.append(AuthSweeper(auth, socketio))
    app.register_blueprint(auth_routes.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(screenmeet_web.bp)
    register_error_handlers(app)
    register_request_limits(app)  # after the gate: size, NUL, body schemas
    register_security_headers(app)
    # Pages, JSON and static files gzip/deflate/br/zstd-compressed for clients that ask: the
    # wall and /api/presence for 5,000 people are megabytes of repetitive JSON and markup.
    Compress(app)
    if cluster is not None and role == "web":
        runtime.hub = cluster.web_feed(clock, board, socketio)  # type: ignore[assignment]
        app.extensions["presence_dash.hook_relay"] = cluster.hook_relay()
    register_socket_handlers(socketio, runtime.hub, metrics, auth)
    if cluster is not None and role == "web":  # the leader's alerts and visitors, from Redis
        alerts_api.install_stored(app, runtime.hub)  # type: ignore[arg-type]
        visitors = build_stored_visitors(settings, engine, clock, runtime.hub)  # type: ignore[arg-type]
        app.extensions[visitors_api.EXTENSION] = visitors
        visitors_api.install(app)
        return app
    app.extensions[visitors_api.EXTENSION] = visitors = build_visitors(
        settings,
        providers,
        engine,
        clock,
        emitter or socketio,  # a worker's lists go to Redis too, fenced
        seq_floor=cluster.visitors_seq if cluster is not None else lambda: 0,
    )
    visitors_api.install(app)
    if visitors.push is not None:
        runtime.services.append(visitors.push)
    runtime.services.append(alerts_api.install(app, runtime, emitter))
    return app


def _worker_saved(emitter: Any, board_state: BoardStateStore) -> SavedBoard:
    """A leader taking over continues what the last one published in Redis (seq, statuses,
    `since`); with nothing there (a first start, Redis lost its data) the database's."""
    saved = emitter.continue_from_redis()
    return saved if saved.people else board_state.load()


def _without_websocket_compression(wsgi_app: Any) -> Any:
    """Refuse permessage-deflate. Browsers offer it and both eventlet and simple-websocket
    (gevent) accept it, and then zlib-compress every broadcast once per connection: with
    1,000 clients that took ~70% of the server's CPU and pushed p99 latency into seconds
    (docs/benchmarks.md). Uncompressed batches cost bandwidth instead (a few KB/s each)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return wsgi_app(environ, start_response)

    return app


def _random_key() -> str:
    import secrets

    # Sessions do not survive a restart without a configured key; fine until sign-in exists.
    return secrets.token_hex(32)
