"""The push hub: turns board changes into Socket.IO events for every connected browser.

At most one `presence` batch per push interval. The batch payload is built once and
python-socketio encodes a broadcast packet once for all recipients, so the cost per batch
grows with the number of clients only by the socket writes themselves. The snapshot is
encoded once per board version for every client that asks (snapshot_cache.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from engineio.packet import Packet
from flask_socketio import SocketIO

from presence_dash.core.board import Batch, PresenceBoard
from presence_dash.core.clock import Clock
from presence_dash.core.timefmt import iso_z
from presence_dash.metrics import Metrics
from presence_dash.push.direct import emitter_for
from presence_dash.push.paced import PacedPush
from presence_dash.push.snapshot_cache import SnapshotCache
from presence_dash.push.wire import person_json, providers_json, without_error_details

STALENESS_CHECK_S = 1.0
# A quiet floor sends no batch: this often the hub says which seq is current instead, so a
# browser that missed a batch (a Redis restart drops the ones published while the web nodes
# resubscribe) finds out, and the wall's "data as of" keeps its age right (docs/api.md).
HEARTBEAT_S = 5.0
# Socket.IO rooms by what a client may see of provider health (auth/policy.py).
DETAILS_ROOM = "provider-details"
SUMMARY_ROOM = "provider-summary"


class PushHub(PacedPush):
    def __init__(
        self,
        socketio: SocketIO,
        board: PresenceBoard,
        clock: Clock,
        push_interval_s: float,
        metrics: Metrics,
        on_batch: Callable[[Batch], None] = lambda batch: None,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        super().__init__(socketio, push_interval_s, STALENESS_CHECK_S)
        self.heartbeat_s = heartbeat_s
        self._quiet_since = time.monotonic()
        self.board = board
        self.clock = clock
        self.metrics = metrics
        self.on_batch = on_batch
        self._snapshot = SnapshotCache(board, clock, on_encode=metrics.snapshot_encodes.inc)
        # Batches framed once and written straight to idle websockets (direct_push/).
        self._emit_to_all = emitter_for(socketio, metrics.registry)
        self._before_broadcast: Callable[[], object] = lambda: None

    def guard_sends(self, check: Callable[[], object]) -> None:
        """`check` runs before every flush: it closes clients too far behind to be sent
        more (socket_guard.SocketGuard.drop_lagging)."""
        self._before_broadcast = check

    def before_wait(self) -> None:
        self.board.refresh(self.clock())  # sources turn stale even when nothing is pushed

    def flush(self) -> None:
        started = time.perf_counter()
        self._before_broadcast()
        batch = self.board.publish()
        if batch is not None:
            self.flushed()
            payload = {
                "seq": batch.seq,
                "server_time": iso_z(self.clock()),  # v1.1: the wall's "data as of"
                "changes": [person_json(v) for v in batch.changes],
            }
            self._emit_to_all("presence", payload)
            self.metrics.batches.inc()
            self.metrics.batch_changes.inc(len(batch.changes))
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self.on_batch(batch)
            self._quiet_since = time.monotonic()
        elif time.monotonic() - self._quiet_since >= self.heartbeat_s:
            self._quiet_since = time.monotonic()
            # A worker's emitter lowers seq to the last one stored in Redis (board_feed.py).
            self.socketio.emit(
                "heartbeat", {"seq": self.board.seq, "server_time": iso_z(self.clock())}
            )
        health = self.board.take_health_change()
        if health is not None:
            body = providers_json(health)
            self.socketio.emit("providers", body, to=DETAILS_ROOM)
            self.socketio.emit("providers", without_error_details(body), to=SUMMARY_ROOM)
            for name, h in health.items():
                for state in ("ok", "degraded", "down", "disabled"):
                    self.metrics.provider_up.labels(name, state).set(h.state.value == state)

    def changes_since(self, seq: int) -> tuple[int, list[dict[str, Any]]] | None:
        """A `resync` answer: (current seq, the people changed after `seq` as JSON), or None
        when the log cannot say (the client gets a snapshot). cluster/web_feed.py answers
        the same on a web node."""
        changes = self.board.changes_since(seq)
        if changes is None:
            return None
        return changes[0], [person_json(v) for v in changes[1]]

    def snapshot_packet(self, details: bool = True) -> Packet:
        """The `snapshot` event as one encoded Engine.IO packet for every client (send it with
        `eio.send_packet`): encoded once per board version, never once per client, because
        hundreds of browsers reconnecting at once (a server restart) each need it.
        `details=False`: provider errors left out (non-admins)."""
        return self._snapshot.packet(details)

    def snapshot_body(self, details: bool = True) -> str:
        """The snapshot body as JSON text (`GET /api/presence`), from the same cache."""
        return self._snapshot.body(details)

    def snapshot_payload(self, details: bool = True) -> dict[str, Any]:
        """The snapshot body as a dict, for the pages' first paint."""
        return json.loads(self._snapshot.body(details))
