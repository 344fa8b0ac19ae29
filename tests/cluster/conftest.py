"""Cluster fixtures: web nodes (`python app.py serve` with role "web") and workers
(`python app.py worker`) as real processes on loopback, on the machine's Redis under a key
prefix of their own, or on a private redis-server the test starts and stops."""

from __future__ import annotations

import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from helpers import (
    APP_PY,
    REPO_ROOT,
    DashServer,
    free_port,
    sim_secrets_env,
    start_process,
    wait_for,
    wait_until_serving,
)

SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis (its keys removed afterwards)."""
    prefix = f"test-cluster-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(SHARED_REDIS)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


class PrivateRedis:
    """A redis-server of the test's own (no persistence), to stop and start again."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.dir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(answers, 10, interval=0.05, what="the private redis-server")
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


class Node(DashServer):
    def kill(self) -> None:
        """kill -9: no clean-up, no lock released."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def readyz(self) -> dict[str, Any]:
        try:
            return self.get("/readyz", timeout=2).json()
        except (requests.RequestException, ValueError):
            return {}

    def leading(self) -> bool:
        return bool(self.readyz().get("cluster", {}).get("leading"))


@pytest.fixture
def cluster_node(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    """Factory: `cluster_node("web" | "worker", config, port=None)` starts a web node
    (`app.py serve`) or a worker (`app.py worker`) and waits for /healthz."""
    started: list[Node] = []

    def start(kind: str, config: Path, port: int | None = None, **env: Any) -> Node:
        port = port or free_port()
        command = ["worker"] if kind == "worker" else ["serve"]
        args = [str(APP_PY), *command, "--config", str(config), "--port", str(port)]
        proc, out, err = start_process(
            args,
            cwd=REPO_ROOT,
            logs=tmp_path / f"{kind}-{len(started)}",
            env={**sim_secrets_env(), "LOG_LEVEL": "INFO", **env},
        )
        node = Node(f"http://127.0.0.1:{port}", proc, out, err)
        started.append(node)
        wait_until_serving(node)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def worker_and_web(
    tmp_path: Path,
    make_config: Callable[..., Path],
    cluster_node: Callable[..., Node],
) -> Callable[..., tuple[Node, Node]]:
    """`worker_and_web(people, sn_url, redis_url, prefix, env=None, **config)`: one worker
    (leading) and one web node (ready) on one config with `leader_ttl_s` 3."""

    def start(
        people: list[dict[str, str]],
        sn_url: str | None,
        redis_url: str,
        prefix: str,
        env: dict[str, str] | None = None,
        **config: Any,
    ) -> tuple[Node, Node]:
        path = make_config(
            tmp_path,
            people,
            sn_url,
            message_queue=redis_url,
            redis_prefix=prefix,
            leader_ttl_s=3,
            role="web",
            **config,
        )
        worker = cluster_node("worker", path, **(env or {}))
        wait_for(worker.leading, 20, what="the worker leads")
        web = cluster_node("web", path, **(env or {}))
        wait_for(lambda: web.readyz().get("ready"), 20, what="web node ready")
        return worker, web

    return start


class SeqClient:
    """A Socket.IO client that keeps seq like the browser does (static/js): a batch after a
    gap, or a `heartbeat` naming a seq ahead of its own, asks `resync` with the last seq it
    had; it records every live batch's seq and the heartbeats that started a resync."""

    def __init__(self, url: str) -> None:
        import socketio

        self.client = socketio.Client(reconnection=False)
        self.seq = -1
        self.people: dict[str, dict[str, Any]] = {}
        self.live: list[int] = []  # seqs of pushed batches, in arrival order
        self.gaps: list[tuple[int, int]] = []
        self.snapshots = 0
        self.heartbeats: list[dict[str, Any]] = []
        self.heartbeat_resyncs: list[tuple[int, int]] = []  # (our seq, the heartbeat's)
        self.client.on("snapshot", self._snapshot)
        self.client.on("presence", self._presence)
        self.client.on("heartbeat", self._heartbeat)
        self.client.connect(url, transports=["websocket"], wait_timeout=5)

    def _snapshot(self, data: dict[str, Any]) -> None:
        self.snapshots += 1
        self.people = {p["id"]: p for p in data["people"]}
        self.seq = data["seq"]

    def _presence(self, data: dict[str, Any]) -> None:
        seq = data["seq"]
        if not data.get("resync"):
            self.live.append(seq)
            if self.seq >= 0 and seq > self.seq + 1:
                self.gaps.append((self.seq, seq))
                self.client.emit("resync", {"seq": self.seq})
        self.people.update({p["id"]: p for p in data["changes"]})
        self.seq = max(self.seq, seq)

    def _heartbeat(self, data: dict[str, Any]) -> None:
        self.heartbeats.append(data)
        if self.seq >= 0 and data["seq"] > self.seq:
            self.heartbeat_resyncs.append((self.seq, data["seq"]))
            self.client.emit("resync", {"seq": self.seq})

    def status(self, pid: str) -> str | None:
        return self.people.get(pid, {}).get("status")

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def seq_client() -> Iterator[Callable[[str], SeqClient]]:
    clients: list[SeqClient] = []

    def open_client(url: str) -> SeqClient:
        client = SeqClient(url)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()
