"""Runs the threshold alerts (alerts.py) and pushes them to browsers as `alerts` events.

Evaluated after every presence batch the hub publishes and once a second, because a time
limit ("away longer than 15 minutes") trips without any change; an event goes out only when
what it shows changed (alerts.change_key), at most one per push interval. The people's views
are kept from the hub's batches, so a once-a-second evaluation does not rebuild the board's
snapshot (5,000 people).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask_socketio import SocketIO

from presence_dash.alerts.thresholds import (
    AlertKind,
    Evaluation,
    Thresholds,
    change_key,
    evaluate,
    evaluation_json,
)
from presence_dash.core.board import Batch, PresenceBoard
from presence_dash.core.clock import Clock
from presence_dash.core.model import PersonView
from presence_dash.metrics import AlertGauges
from presence_dash.push.hub import PushHub
from presence_dash.push.paced import PacedPush

EVALUATE_EVERY_S = 1.0


class AlertPush(PacedPush):
    def __init__(
        self,
        socketio: SocketIO,
        hub: PushHub,
        clock: Clock,
        thresholds: Mapping[str, Thresholds],
        gauges: AlertGauges,
        on_evaluated: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        super().__init__(socketio, hub.push_interval_s, EVALUATE_EVERY_S)
        # A worker keeps every evaluation in Redis for the web nodes (cluster/documents.py).
        self.on_evaluated = on_evaluated
        self.hub = hub
        self.board: PresenceBoard = hub.board
        self.clock = clock
        self.thresholds = dict(thresholds)
        self.gauges = gauges
        self._views: dict[str, PersonView] = {}
        self._seq = -1
        self._latest: Evaluation | None = None
        self._evaluated_seq = -1
        self._sent: tuple[object, ...] | None = None
        # Without away/busy limits only a batch can change anything: no evaluation per second.
        self._timed = any(
            t.max_away_minutes is not None or t.max_busy_minutes is not None
            for t in self.thresholds.values()
        )

    def start(self) -> None:
        """Follow the hub's batches from the board as it is now (restored). Hooked first, so
        no batch falls between the snapshot and the hook (`take` skips older ones)."""
        after_batch = self.hub.on_batch

        def on_batch(batch: Batch) -> None:
            after_batch(batch)
            self.take(batch)

        self.hub.on_batch = on_batch
        snapshot = self.board.snapshot()
        self._views = {v.id: v for v in snapshot.people}
        self._seq = snapshot.seq
        self.flush()  # the first evaluation: pages and new sockets have it from the start
        super().start()

    def take(self, batch: Batch) -> None:
        """A published batch (the hub's loop): newer views, evaluate soon."""
        if batch.seq <= self._seq:
            return
        # Only values are replaced (the people are fixed), so a reader iterating a copy of
        # the values on another thread never sees the dict change size.
        for view in batch.changes:
            self._views[view.id] = view
        self._seq = batch.seq
        self.notify()

    def flush(self) -> None:
        previous = self._latest
        if previous is not None and self._seq == self._evaluated_seq and not self._timed:
            return
        self._evaluated_seq = self._seq
        latest = evaluate(
            list(self._views.values()),
            self.thresholds,
            self.clock(),
            previous.opened() if previous else None,
        )
        self._latest = latest
        self._record(latest)
        if self.on_evaluated is not None:
            self.on_evaluated(evaluation_json(latest))
        key = change_key(latest)
        if key != self._sent:
            self._sent = key
            if previous is not None:  # the first one is sent per client, on connect
                self.flushed()
                self.socketio.emit("alerts", evaluation_json(latest))

    def body(self) -> dict[str, Any]:
        """The latest evaluation (at most about a second old): `GET /api/alerts`, the pages'
        first paint and the `alerts` event sent on connect."""
        latest = self._latest
        if latest is None:  # not started (tests, scripts): evaluate the board as it is
            latest = evaluate(self.board.snapshot().people, self.thresholds, self.clock())
        return evaluation_json(latest)

    def _record(self, latest: Evaluation) -> None:
        for team, count in latest.teams.items():
            self.gauges.team_online.labels(team).set(count.online)
            self.gauges.team_people.labels(team).set(count.people)
            if count.thresholds.min_online is not None:
                self.gauges.team_min_online.labels(team).set(count.thresholds.min_online)
        for kind in AlertKind:
            self.gauges.alerts_open.labels(kind.value).set(
                sum(a.kind is kind for a in latest.alerts)
            )
