"""A browser that connects to a web node while Redis is away is still let in: the snapshot
and the alerts it would be sent on connect both come from Redis, and neither may turn the
connect handler into an error (a private redis-server, so the shared one is left alone)."""

from __future__ import annotations

from collections.abc import Callable

import socketio
from conftest import Node, PrivateRedis
from helpers import EventRecorder, SnSimHandle, person, sys_id, wait_for


def test_a_client_connecting_while_redis_is_away_is_told_and_stays_connected(
    sn_sim: SnSimHandle,
    private_redis: PrivateRedis,
    worker_and_web: Callable[..., tuple[Node, Node]],
) -> None:
    sn_sim.set_user(sys_id("ada"), seconds_ago=0)
    _, web = worker_and_web([person("ada")], sn_sim.url, private_redis.url, "down-connect")
    private_redis.stop()
    wait_for(lambda: not web.readyz().get("ready"), 10, what="the web node sees Redis gone")

    client = socketio.Client(reconnection=False)
    recorder = EventRecorder(client)
    alerts: list[object] = []
    client.on("alerts", alerts.append)
    try:
        client.connect(web.url, transports=["websocket"], wait_timeout=5)
        error = recorder.wait("error", lambda data: data.get("code") == "redis_unavailable")
        assert error["message"]
        # Still connected after the handler ran to its end, and it can still ask for data.
        mark = recorder.mark()
        client.emit("resync", {"seq": 0})
        recorder.wait("error", lambda data: data.get("code") == "redis_unavailable", after=mark)
        assert client.connected
    finally:
        client.disconnect()
    assert alerts == []  # nothing to send while Redis is away, and no stale body invented
    assert "Traceback" not in web.output(), web.output()
