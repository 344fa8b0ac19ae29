"""A Cisco notification sent to a web node reaches the leading worker, and both roles come
back by themselves after a Redis restart (a private redis-server the test stops and starts,
so the machine's shared Redis is left alone)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import SHARED_REDIS, Node, PrivateRedis, SeqClient
from helpers import CiscoSimHandle, SnSimHandle, cisco_section, free_port, person, sys_id, wait_for

ADA = sys_id("ada")
ADA_JID = "ada@example.com"


def test_a_cisco_notification_to_a_web_node_reaches_the_leader(
    tmp_path: Path,
    cisco_sim: CiscoSimHandle,
    make_config: Callable[..., Path],
    cluster_node: Callable[..., Node],
    redis_prefix: str,
    seq_client: Callable[[str], SeqClient],
) -> None:
    cisco_sim.set_contact(ADA_JID, "AVAILABLE")
    port = free_port()
    # resync_seconds 600: only the notification can explain a change within the test
    section = cisco_section(cisco_sim, port, resync_seconds=600)
    people = [{"id": "ada", "name": "Ada", "team": "Service Desk", "cisco": ADA_JID}]
    config = make_config(
        tmp_path,
        people,
        None,
        providers={"cisco": section},
        message_queue=SHARED_REDIS,
        redis_prefix=redis_prefix,
        leader_ttl_s=3,
        role="web",
    )
    cluster_node("web", config)  # the other web node: the notifications do not go here
    callbacks = cluster_node("web", config, port=port)
    worker = cluster_node("worker", config)
    wait_for(worker.leading, 20, what="the worker leads")
    wait_for(lambda: callbacks.readyz().get("ready"), 20, what="web node ready")
    client = seq_client(callbacks.url)
    wait_for(lambda: client.status("ada") == "online", 15, what="ada available")

    reply = cisco_sim.set_contact(ADA_JID, "AWAY")
    assert reply["notified"]
    wait_for(lambda: client.status("ada") == "away", 10, what="the notified change")
    assert [n["status"] for n in cisco_sim.notifications()][-1] == 200
    metrics = callbacks.get("/metrics").text
    assert 'presence_cluster_hooks_total{side="queued"}' in metrics


def test_both_roles_recover_from_a_redis_restart(
    sn_sim: SnSimHandle,
    private_redis: PrivateRedis,
    worker_and_web: Callable[..., tuple[Node, Node]],
    seq_client: Callable[[str], SeqClient],
) -> None:
    sn_sim.set_user(ADA, seconds_ago=0)
    worker, web = worker_and_web([person("ada")], sn_sim.url, private_redis.url, "restart")
    client = seq_client(web.url)
    wait_for(lambda: client.status("ada") == "online", 10, what="ada online")
    before = client.seq

    private_redis.stop()
    down: dict[str, Any] = wait_for(
        lambda: (body := web.readyz()) and not body.get("ready") and body, 10, what="503"
    )
    assert "redis" in down["problems"]
    assert web.get("/api/presence").json()["error"]["code"] == "redis_unavailable"
    private_redis.start()  # empty: it kept nothing

    for node in (worker, web):
        wait_for(lambda n=node: n.readyz().get("ready"), 20, what=f"{node.url} ready again")
    wait_for(worker.leading, 10, what="the worker leads again")
    # The web node's Socket.IO listener subscribes again (python-socketio retries after 1 s);
    # a batch published before that reaches its clients only as a gap at the next batch.
    import redis

    probe = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: probe.pubsub_numsub("restart:socketio")[0][1] == 1, 20, what="resubscribed")
    probe.close()
    sn_sim.set_user(ADA, seconds_ago=120)
    wait_for(lambda: client.status("ada") == "offline", 20, what="a change after the restart")
    assert client.seq > before  # numbered on, not from 1 again

    def served() -> list[str]:
        answer = web.get("/api/presence")
        return [p["status"] for p in answer.json().get("people", [])] if answer.ok else []

    # the leader stores a snapshot again within a second of seeing Redis empty
    wait_for(lambda: served() == ["offline"], 10, what="REST serves the change again")
