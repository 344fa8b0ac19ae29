"""The benchmark server: presence-dash with N synthetic people whose status flips R times/s.

    python benchmarks/bench_server.py MODE PEOPLE RATE PORT [PUSH_INTERVAL_MS [DATABASE_URL]]
        [--role all|web|worker] [--redis URL] [--redis-prefix PREFIX]

MODE is eventlet or gevent. Changes go through the real path (provider -> ProviderRunner ->
PresenceBoard -> PushHub -> Socket.IO); only the vendor is synthetic. Flipping starts on
`POST /_bench/go` so that clients can connect and take their snapshots first;
`GET /_bench/stats` reports how many flips the provider made. Started by fanout.py; served by
launch.serve like the real command.

--role worker runs the synthetic provider in a cluster worker (cluster/worker.py's
WorkerNode, as `presence-dash worker` does: it leads once elected and publishes through
Redis under --redis-prefix); --role web is a web node of the same cluster (no provider; its
`/_bench/stats` has only the pid). The default, all, is one process without Redis.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # The async runtime must patch the standard library before anything else is imported.
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    from presence_dash.launch import patch_runtime

    patch_runtime(sys.argv[1] if len(sys.argv) > 1 else "eventlet")

import argparse
import logging
import os
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import requests
from flask import Flask

from presence_dash.auth.gate import allow_route
from presence_dash.auth.policy import PUBLIC
from presence_dash.cluster.context import ClusterContext
from presence_dash.cluster.worker import WorkerNode
from presence_dash.config import Settings, settings_from_dict
from presence_dash.core.clock import Clock
from presence_dash.core.model import Observation, Person, Status
from presence_dash.core.timefmt import utc_now
from presence_dash.factory import create_app
from presence_dash.launch import listen, serve
from presence_dash.providers.base import PollingProvider

TEAMS = ("Support", "Sales", "Engineering", "Operations", "Finance")
CYCLE = (Status.ONLINE, Status.AWAY, Status.OFFLINE)
POLL_SECONDS = 0.05


def bench_people(count: int) -> list[dict[str, str]]:
    return [
        {"id": f"p{i:05d}", "name": f"Person {i:05d}", "team": TEAMS[i % len(TEAMS)]}
        for i in range(1, count + 1)
    ]


class SyntheticProvider(PollingProvider):
    """Reports every person once (online), then, once `go()` is called, flips `rate` people
    per second (online -> away -> offline -> online ...) and reports only those.

    The number of flips per poll follows the wall clock, not the number of polls, so the
    rate holds even when the loop is scheduled late under load."""

    name = "synthetic"

    def __init__(self, people: Sequence[Person], clock: Clock, rate: float) -> None:
        super().__init__(people, requests.Session(), clock)
        self.people = list(people)  # every person, whatever their source ids
        self.rate = rate
        self.rng = random.Random(1234)
        self.state = dict.fromkeys((p.id for p in self.people), 0)
        self.ids = [p.id for p in self.people]
        self.flips = 0
        self._first = True
        self._running = False
        self._last = 0.0
        self._debt = 0.0

    @property
    def poll_seconds(self) -> float:
        return POLL_SECONDS

    def go(self) -> None:
        if not self._running:
            self._last = time.monotonic()
            self._running = True

    def poll(self) -> list[Observation]:
        now = self.clock()
        if self._first:
            self._first = False
            return [Observation(pid, self.name, CYCLE[0], now) for pid in self.ids]
        if not self._running:
            return []
        mono = time.monotonic()
        self._debt += (mono - self._last) * self.rate
        self._last = mono
        count = min(int(self._debt), len(self.ids))
        self._debt -= count
        observations = []
        for pid in self.rng.sample(self.ids, count):
            self.state[pid] = (self.state[pid] + 1) % len(CYCLE)
            observations.append(Observation(pid, self.name, CYCLE[self.state[pid]], now))
        self.flips += count
        return observations


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("eventlet", "gevent"))
    parser.add_argument("people", type=int)
    parser.add_argument("rate", type=float)
    parser.add_argument("port", type=int)
    parser.add_argument("push_ms", type=int, nargs="?", default=100)
    # The status history goes to a throw-away SQLite file (fanout.py deletes its directory).
    parser.add_argument("database", nargs="?")
    parser.add_argument("--role", choices=("all", "web", "worker"), default="all")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--redis-prefix", default="bench")
    ns = parser.parse_args(argv)
    ns.database = ns.database or f"sqlite:///{tempfile.mkdtemp()}/history.db"
    return ns


def bench_settings(ns: argparse.Namespace) -> Settings:
    server: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": ns.port,
        "async_mode": ns.mode,
        "push_interval_ms": ns.push_ms,
        "database": ns.database,
    }
    if ns.role != "all":
        server |= {"role": ns.role, "message_queue": ns.redis, "redis_prefix": ns.redis_prefix}
    return settings_from_dict({"server": server, "people": bench_people(ns.people)}, os.environ)


def bench_app(
    settings: Settings, provider: SyntheticProvider | None, cluster: ClusterContext | None = None
) -> Flask:
    """The real app plus the loopback-only control routes; `provider` None on a web node."""
    app = create_app(settings, providers=[] if provider is None else [provider], cluster=cluster)
    runtime = app.extensions["presence_dash"]
    if os.environ.get("BENCH_WS_COMPRESSION") == "1":
        # Before/after comparisons only: serve without create_app's refusal of
        # permessage-deflate, i.e. straight through Flask-SocketIO's middleware.
        app.wsgi_app = runtime.socketio.sockio_mw
    if provider is None:
        app.add_url_rule("/_bench/stats", "bench_stats", lambda: {"pid": os.getpid()})
        allow_route(app, "bench_stats", PUBLIC)
        return app
    # A 50 ms poll makes the source stale after 150 ms; a loaded server can miss that and
    # would then publish all N people twice. Real providers poll every few seconds: give the
    # synthetic source the staleness window of a 10 s provider.
    runtime.board._stale_after[provider.name] = timedelta(seconds=30)

    def go() -> dict[str, bool]:
        provider.go()
        return {"ok": True}

    def stats() -> dict[str, int]:
        return {"flips": provider.flips, "seq": runtime.board.seq, "pid": os.getpid()}

    app.add_url_rule("/_bench/go", "bench_go", go, methods=["POST"])
    app.add_url_rule("/_bench/stats", "bench_stats", stats)
    for endpoint in ("bench_go", "bench_stats"):  # loopback-only control routes
        allow_route(app, endpoint, PUBLIC)
    return app


def main(argv: list[str]) -> int:
    ns = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = bench_settings(ns)
    runtime: Any
    if ns.role == "worker":
        # Leader or standby as `presence-dash worker` runs it (cli._worker_node), each term's
        # app with a fresh synthetic provider (providers cannot be restarted).
        node = WorkerNode(
            ClusterContext.create(settings, "worker"),
            lambda ctx: bench_app(
                settings, SyntheticProvider(settings.people(), utc_now, ns.rate), ctx
            ),
        )
        app, runtime = node.wsgi, node
    else:
        provider = (
            None if ns.role == "web" else SyntheticProvider(settings.people(), utc_now, ns.rate)
        )
        app = bench_app(settings, provider)
        runtime = app.extensions["presence_dash"]
    listener = listen("127.0.0.1", ns.port)
    runtime.start()
    print(
        f"bench server ({ns.mode}, {ns.role}) pid {os.getpid()} on 127.0.0.1:{ns.port}", flush=True
    )
    try:
        # Served as `presence-dash serve` serves (launch.serve: [server] max_connections).
        serve(app, listener, ns.mode, lambda: None, settings.server.max_connections)
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
