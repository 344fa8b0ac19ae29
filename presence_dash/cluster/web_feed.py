"""What a web node serves from Redis: the `snapshot` (on connect, `GET /api/presence`, the
pages' first paint) and `resync` answers, from the leader's stored snapshot and change log
(board_feed.py), and the leader's alerts and visitors documents (documents.py). Live
batches reach the node's browsers through the Socket.IO message queue and never pass
through here.

The merged snapshot is built once per published seq and shared by every client that asks,
as one encoded Engine.IO packet (like snapshot_cache.py does on a single node).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engineio import packet as eio_packet

from presence_dash.cluster.documents import HEARTBEAT, read_document
from presence_dash.cluster.feed_log import changes_since, merged_snapshot
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.redis_link import RedisDown, RedisLink
from presence_dash.core.board import PresenceBoard
from presence_dash.core.timefmt import iso_z
from presence_dash.push.wire import to_json, without_error_details

SERVER_TIME_MAX_AGE_S = 1.0  # as snapshot_cache.py: clients set their clock from it
HEARTBEAT_RELAY_S = 1.0  # a heartbeat reaches browsers at most this long after the leader's


@dataclass(frozen=True)
class _Built:
    key: tuple[int, int, bytes | None]  # (published seq, snapshot seq, providers)
    at: float
    bodies: dict[bool, str]
    packets: dict[bool, eio_packet.Packet]


class WebFeed:
    """Stands where the push hub stands on a single node (sockets.py, web/api.py, pages):
    `snapshot_body`, `snapshot_packet`, `snapshot_payload`, `changes_since`. Raises
    RedisDown when Redis does not answer."""

    def __init__(
        self,
        link: RedisLink,
        keys: ClusterKeys,
        clock: Callable[[], datetime],
        board: PresenceBoard,
        socketio: Any = None,
    ) -> None:
        self.link = link
        self.keys = keys
        self.clock = clock
        self.board = board  # the configured people, for lookups (GET /api/people/<id>/...)
        self.socketio = socketio
        self._lock = threading.Lock()
        self._built: _Built | None = None
        self._stopped = False
        self.snapshot_builds = 0  # how often the merged snapshot was built (tests)

    # Batches arrive through the message queue; the one loop here relays the heartbeat.
    def start(self) -> None:
        if self.socketio is not None:
            self.socketio.start_background_task(self._relay_heartbeats)

    def stop(self) -> None:
        self._stopped = True

    def _relay_heartbeats(self) -> None:
        """The leader's latest heartbeat, to this node's own browsers (never through the
        queue, or every node would send it to every browser), once per new one."""
        relayed: dict[str, Any] | None = None
        while not self._stopped:
            self.socketio.sleep(HEARTBEAT_RELAY_S)
            try:
                beat = self.document(HEARTBEAT)
            except RedisDown:
                continue  # RedisLink logged it once
            if beat is not None and beat != relayed:
                relayed = beat
                self.socketio.emit(HEARTBEAT, beat, ignore_queue=True)

    def guard_sends(self, check: Callable[[], object]) -> None:
        pass

    def snapshot_body(self, details: bool = True) -> str:
        return self._current().bodies[details]

    def snapshot_packet(self, details: bool = True) -> eio_packet.Packet:
        return self._current().packets[details]

    def snapshot_payload(self, details: bool = True) -> dict[str, Any]:
        return json.loads(self.snapshot_body(details))

    def changes_since(self, seq: int) -> tuple[int, list[dict[str, Any]]] | None:
        """(current seq, people changed after `seq` as sent) or None: send a snapshot."""

        def read() -> tuple[Any, Any]:
            pipe = self.link.client.pipeline(transaction=True)
            pipe.get(self.keys.seq).zrangebyscore(self.keys.log, f"({seq}", "+inf")
            return tuple(pipe.execute())  # type: ignore[return-value]

        current, entries = self.link.call("read the change log", read)
        return changes_since(seq, int(current or 0), [json.loads(e) for e in entries])

    def document(self, name: str) -> dict[str, Any] | None:
        """The leader's latest `alerts` or `visitors` body (cluster/documents.py), or None
        before one was stored. Raises RedisDown."""
        return read_document(self.link, self.keys, name)

    def published_seq(self) -> int:
        value = self.link.call("read seq", lambda: self.link.client.get(self.keys.seq))
        return int(value or 0)

    def _current(self) -> _Built:
        def read_heads() -> tuple[Any, Any, Any]:
            pipe = self.link.client.pipeline(transaction=True)
            pipe.get(self.keys.seq).get(self.keys.snapshot_seq).get(self.keys.providers)
            return tuple(pipe.execute())  # type: ignore[return-value]

        current, snap_seq, providers = self.link.call("read the feed heads", read_heads)
        key = (int(current or 0), int(snap_seq or 0), providers)
        with self._lock:
            built = self._built
            fresh = built is not None and time.monotonic() - built.at < SERVER_TIME_MAX_AGE_S
            if built is None or built.key != key or not fresh:
                built = self._build(key)
                self._built = built
            return built

    def _build(self, key: tuple[int, int, bytes | None]) -> _Built:
        current, snap_seq, providers = key

        def read() -> tuple[Any, Any]:
            pipe = self.link.client.pipeline(transaction=True)
            pipe.get(self.keys.snapshot).zrangebyscore(self.keys.log, f"({snap_seq}", current)
            return tuple(pipe.execute())  # type: ignore[return-value]

        stored, entries = self.link.call("read the snapshot", read)
        snapshot = json.loads(stored) if stored else _empty()
        body = merged_snapshot(
            snapshot,
            current,
            [json.loads(e) for e in entries],
            json.loads(providers) if providers else None,
        )
        body["server_time"] = iso_z(self.clock())
        summary = {**body, "providers": without_error_details(body.get("providers", {}))}
        bodies = {True: to_json(body), False: to_json(summary)}
        self.snapshot_builds += 1
        return _Built(
            key,
            time.monotonic(),
            bodies,
            {d: _snapshot_packet(text) for d, text in bodies.items()},
        )


def _snapshot_packet(body: str) -> eio_packet.Packet:
    """The Socket.IO EVENT `snapshot` wrapped in an Engine.IO MESSAGE, encoded once and sent
    as the same object to every client (the format snapshot_cache.py sends)."""
    return eio_packet.Packet(eio_packet.MESSAGE, data=f'2["snapshot",{body}]')


def _empty() -> dict[str, Any]:
    """Before any leader stored a snapshot (a first start, or Redis lost its data)."""
    return {"seq": 0, "server_time": None, "people": [], "providers": {}}


__all__ = ["RedisDown", "WebFeed"]
