"""What one process of a cluster shares across its parts: its role, the Redis link and key
names, the cluster metrics, and (on a worker) the current term. The factory builds the
role's parts from it (`socketio_options`, `worker_emitter`, `web_feed`, `hook_relay`);
`readiness` is what `/readyz` adds for the role."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import socketio as python_socketio

from presence_dash.cluster.board_feed import BoardFeed, FencedEmitter, PublishedSeq
from presence_dash.cluster.documents import VISITORS, read_document
from presence_dash.cluster.hook_relay import HookRelay
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.leader import RedisLease
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisDown, RedisLink
from presence_dash.cluster.web_feed import WebFeed
from presence_dash.config import Settings
from presence_dash.core.board import PresenceBoard


@dataclass
class ClusterContext:
    role: str  # "web" or "worker"
    settings: Settings
    keys: ClusterKeys
    link: RedisLink
    metrics: ClusterMetrics
    worker_id: str
    # Worker only: whether this worker leads now, and what ends the term at once.
    leading: Callable[[], bool] = lambda: False
    on_fenced: Callable[[str], object] = lambda reason: None
    emitter: FencedEmitter | None = field(default=None)
    published: PublishedSeq = field(default_factory=PublishedSeq)

    @classmethod
    def create(cls, settings: Settings, role: str) -> ClusterContext:
        server = settings.server
        metrics = ClusterMetrics.create()
        timeout = min(2.0, server.leader_ttl_s / 4)
        return cls(
            role,
            settings,
            ClusterKeys(server.redis_prefix),
            RedisLink(server.message_queue, metrics, timeout),
            metrics,
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )

    def socketio_options(self) -> dict[str, Any]:
        """A worker emits through the documented external, write-only Redis emitter; a web
        node's SocketIO listens on the same channel and delivers to its own clients."""
        url = self.settings.server.message_queue
        channel = self.keys.socketio_channel
        manager = python_socketio.RedisManager(
            url,
            channel=channel,
            write_only=self.role == "worker",
            # Without a connect timeout a (re)subscribe while Redis restarts could hang for
            # good; health checks and keepalive find a dead connection while idle.
            redis_options={
                "socket_connect_timeout": 2,
                "socket_keepalive": True,
                "health_check_interval": 5,
            },
        )
        return {"client_manager": manager}

    def worker_emitter(
        self, socketio: Any, board: PresenceBoard, clock: Callable[[], datetime]
    ) -> FencedEmitter:
        feed = BoardFeed(self.link, self.keys, self.metrics, self.settings.server.change_log_size)
        self.emitter = FencedEmitter(
            socketio, feed, board, clock, lambda reason: self.on_fenced(reason), self.published
        )
        return self.emitter

    def web_feed(
        self, clock: Callable[[], datetime], board: PresenceBoard, socketio: Any = None
    ) -> WebFeed:
        return WebFeed(self.link, self.keys, clock, board, socketio)

    def hook_relay(self) -> HookRelay:
        return HookRelay(self.link, self.keys, self.metrics)

    def visitors_seq(self) -> int:
        """The seq of the visitors list the last leader stored: this term's lists number on
        from it (0 when there is none, or Redis does not answer: browsers then take our
        lists once they are numbered past theirs)."""
        try:
            stored = read_document(self.link, self.keys, VISITORS)
        except RedisDown:
            return 0
        return int(stored["seq"]) if stored else 0

    def lease(self) -> RedisLease:
        return RedisLease(self.link, self.keys, self.worker_id, self.settings.server.leader_ttl_s)

    def readiness(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(what /readyz shows of the cluster, problems). A web node needs Redis and a known
        leader; a worker needs Redis (a standby is ready: ready to take over)."""
        problems: dict[str, str] = {}
        redis_problem = self.link.ping()
        leader = None
        if redis_problem is None:
            try:
                leader = self.lease().holder()
            except RedisDown as exc:
                redis_problem = str(exc)
        if redis_problem:
            problems["redis"] = redis_problem
        elif leader is None and self.role == "web":
            problems["leader"] = "no worker leads (start `presence-dash worker`)"
        body = {
            "role": self.role,
            "redis": "ok" if redis_problem is None else "unreachable",
            "leader": leader.split(":", 1)[1] if leader else None,
            "term": int(leader.split(":", 1)[0]) if leader else None,
        }
        if self.role == "worker":
            body["leading"] = self.leading()
            body["worker_id"] = self.worker_id
        return body, problems
