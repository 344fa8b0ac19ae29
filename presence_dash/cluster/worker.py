"""`presence-dash worker`: one term after another. Standing by, the worker holds a built but
idle app (its /readyz and /metrics answer); elected, it restores the board from Redis,
continues seq, and starts that app's runtime (providers, board, push, history writer,
schedulers) plus the callback consumer and the snapshot store loop; deposed, it stops them
at once and builds a fresh idle app for the next term (providers cannot be restarted).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from presence_dash.cluster.context import ClusterContext
from presence_dash.cluster.hook_relay import HookConsumer
from presence_dash.cluster.leader import Elector, Term
from presence_dash.providers.base import HookRequest, HookResponse

log = logging.getLogger(__name__)

SNAPSHOT_EVERY_S = 1.0  # web nodes bring it up to date from the change log meanwhile


class WorkerNode:
    def __init__(self, ctx: ClusterContext, build_app: Callable[[ClusterContext], Flask]):
        self.ctx = ctx
        self.build_app = build_app
        self._lock = threading.RLock()
        ctx.leading = self.leading
        ctx.on_fenced = self._fenced
        self.app = build_app(ctx)
        self.term: Term | None = None
        self.elector = Elector(
            ctx.lease(),
            ctx.settings.server.leader_ttl_s,
            sleep=self.runtime.socketio.sleep,
            monotonic=time.monotonic,
            on_elected=self._elected,
            on_deposed=self._deposed,
            metrics=ctx.metrics,
        )

    @property
    def runtime(self) -> Any:
        return self.app.extensions["presence_dash"]

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        """The worker's HTTP (health, metrics): whichever app is current."""
        return self.app(environ, start_response)

    def leading(self) -> bool:
        return self.term is not None

    def start(self) -> None:
        self.runtime.socketio.start_background_task(self.elector.run_forever)

    def stop(self) -> None:
        with self._lock:
            if self.term is not None:
                self._stop_term()
        self.elector.stop()

    def _elected(self, term: Term) -> None:
        with self._lock:
            self.term = term
            runtime = self.runtime
            assert self.ctx.emitter is not None
            self.ctx.emitter.token = term.token
            started = time.monotonic()
            try:
                runtime.start()  # restores from Redis and continues seq first (factory)
            except Exception as exc:
                log.error("worker: the term could not start: %s", exc)
                self.elector.depose(f"start failed: {exc}")
                return
            log.info(
                "worker: leading (term %d) from seq %d, started in %.2f s",
                term.number,
                runtime.board.seq,
                time.monotonic() - started,
            )
            socketio = runtime.socketio
            consumer = HookConsumer(
                self.ctx.link,
                self.ctx.keys,
                self.ctx.worker_id,
                self._hook_handler(runtime),
                self.ctx.metrics,
                socketio.sleep,
            )
            socketio.start_background_task(consumer.run, lambda: self.term is term)
            socketio.start_background_task(self._store_snapshots, term)

    def _deposed(self, reason: str) -> None:
        with self._lock:
            if self.term is not None:
                self._stop_term()

    def _fenced(self, reason: str) -> None:
        """A write was refused: another worker leads. Stop now, not at the next renewal."""
        self.elector.depose(reason)

    def _stop_term(self) -> None:
        self.term = None
        emitter = self.ctx.emitter
        if emitter is not None:
            emitter.token = None  # nothing more reaches Redis or browsers from this term
        old = self.runtime
        try:
            old.stop()
        except Exception:
            log.exception("worker: error while stopping the term")
        self.app = self.build_app(self.ctx)  # idle until the next election

    def _store_snapshots(self, term: Term) -> None:
        """Once a second (and at once after a takeover), store the snapshot if the board
        moved, so a web node merges at most a second of log onto it, and the alerts and
        visitors documents not stored yet (cluster/documents.py)."""
        stored: tuple[int, int] | None = None
        runtime = self.runtime
        emitter = self.ctx.emitter
        while self.term is term and emitter is not None:
            emitter.retry_failed()  # before the snapshot, which would claim its seq
            board = runtime.board
            mark = (board.version, board.seq)
            if mark != stored or emitter.snapshot_wanted:
                seq = board.seq
                body = runtime.hub.snapshot_body(True)
                if board.seq == seq:  # else a batch went out meanwhile: next round
                    emitter.write_snapshot(body, seq)
                    if not emitter.snapshot_wanted:
                        stored = mark
            emitter.store_documents()
            runtime.socketio.sleep(SNAPSHOT_EVERY_S)

    @staticmethod
    def _hook_handler(runtime: Any) -> Callable[[str, HookRequest], HookResponse | None]:
        def handle(provider: str, hook: HookRequest) -> HookResponse | None:
            runner = runtime.runner_for(provider)
            return runner.handle_hook(hook) if runner is not None else None

        return handle
