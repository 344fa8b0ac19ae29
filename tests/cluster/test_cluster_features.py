"""What web nodes serve that the leading worker works out (real processes on loopback, the
machine's Redis under a per-test prefix or a private redis-server): threshold alerts, the
Glance visitor list and actions sent through any node exactly once, and the heartbeat that
lets a quiet client catch up on a batch lost while Redis restarted."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import requests
from conftest import SHARED_REDIS, Node, PrivateRedis, SeqClient
from glance_helpers import API_KEY, API_KEY_ENV, GROUP, GlanceSimHandle, glance_section
from helpers import SnSimHandle, person, sys_id, wait_for

from presence_dash.push.hub import HEARTBEAT_S

ADA = sys_id("ada")
TEAM = [{"name": "Service Desk", "min_online": 1}]


def _alert_ids(node: Node) -> list[str]:
    answer = node.get("/api/alerts")
    return [a["id"] for a in answer.json()["alerts"]] if answer.ok else ["<no answer>"]


def test_a_web_node_serves_the_leaders_alerts(
    sn_sim: SnSimHandle,
    worker_and_web: Callable[..., tuple[Node, Node]],
    redis_prefix: str,
) -> None:
    sn_sim.set_user(ADA, seconds_ago=0)
    worker, web = worker_and_web(
        [person("ada")], sn_sim.url, SHARED_REDIS, redis_prefix, teams=TEAM
    )
    wait_for(
        lambda: web.get("/api/alerts").json()["teams"].get("Service Desk", {}).get("online") == 1,
        10,
        what="the team's count on the web node",
    )
    assert _alert_ids(web) == []

    sn_sim.set_user(ADA, seconds_ago=120)  # offline: the team is below its minimum
    short = "team:Service Desk:below_minimum"
    wait_for(lambda: _alert_ids(web) == [short], 10, what="the alert on the web node")
    assert short in web.get("/wall").text  # the wall's first paint (#initial-alerts)
    # Gauges are the evaluating worker's: the web node evaluates nothing (docs/deployment.md).
    assert "presence_alerts_open" in worker.get("/metrics").text

    sn_sim.set_user(ADA, seconds_ago=0)
    wait_for(lambda: _alert_ids(web) == [], 10, what="the alert closed on the web node")


def test_visitors_and_a_cobrowse_through_a_web_node_reach_glance_once(
    glance_sim: GlanceSimHandle,
    worker_and_web: Callable[..., tuple[Node, Node]],
    cluster_node: Callable[..., Node],
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    glance_sim.arrive("v-ada", title="Pricing")
    env = {API_KEY_ENV: API_KEY}
    providers = {"glance": glance_section(glance_sim)}
    _, first_web = worker_and_web([], None, SHARED_REDIS, redis_prefix, env, providers=providers)
    web = [first_web, cluster_node("web", tmp_path / "presence-dash.toml", **env)]

    def listed(node: Node) -> list[str]:
        answer = node.get("/api/visitors")
        return [v["visitor_id"] for v in answer.json()["visitors"]] if answer.ok else []

    for node in web:
        wait_for(lambda n=node: listed(n) == ["v-ada"], 15, what="v-ada listed on a web node")
    body = web[0].get("/api/visitors").json()
    assert body["enabled"] and body["counts"] == {str(GROUP): 1}
    assert body["visitors"][0]["metadata"]["title"] == "Pricing"

    key = {"Idempotency-Key": "click-cluster-1"}
    path = "/api/visitors/v-ada/cobrowse"
    first = requests.post(web[0].url + path, headers=key, timeout=10)
    assert first.status_code == 200, first.text
    assert first.json()["group_id"] == GROUP
    again = requests.post(web[1].url + path, headers=key, timeout=10)  # the other node
    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers.get("Idempotent-Replayed") == "true"
    sent = [s for s in glance_sim.signals() if s["visitor_id"] == "v-ada"]
    assert len(sent) == 1  # one co-browse at Glance for two requests with one key

    glance_sim.arrive("v-bob", server=1)
    wait_for(lambda: listed(web[1]) == ["v-ada", "v-bob"], 15, what="v-bob pushed to Redis")


def test_a_quiet_client_catches_up_through_the_heartbeat_after_a_redis_restart(
    sn_sim: SnSimHandle,
    private_redis: PrivateRedis,
    worker_and_web: Callable[..., tuple[Node, Node]],
    seq_client: Callable[[str], SeqClient],
) -> None:
    sn_sim.set_user(ADA, seconds_ago=0)
    _, web = worker_and_web([person("ada")], sn_sim.url, private_redis.url, "heartbeat")
    client = seq_client(web.url)
    wait_for(lambda: client.status("ada") == "online", 10, what="ada online")
    wait_for(lambda: client.heartbeats, HEARTBEAT_S + 3, what="a heartbeat on a quiet floor")
    assert client.heartbeats[-1]["seq"] == client.seq and client.heartbeat_resyncs == []

    private_redis.stop()
    sn_sim.set_user(ADA, seconds_ago=120)  # the change happens while Redis is away
    # Redis stays away until the web node's listener backs off to 8 s between attempts
    # (python-socketio doubles it), so it is still deaf when the leader publishes the change
    # the moment Redis is back: that batch is lost, and nothing else changes afterwards.
    wait_for(lambda: "retrying in 8 secs" in web.output(), 20, what="the listener backing off")
    private_redis.start()
    back = time.monotonic()
    wait_for(
        lambda: client.status("ada") == "offline",
        HEARTBEAT_S + 4,
        what="the quiet client caught up",
    )
    caught_up_after = time.monotonic() - back
    assert client.heartbeat_resyncs, (client.live, client.heartbeats)
    assert client.seq not in client.live  # it came by the resync, not as a live batch
    print(f"caught up {caught_up_after:.1f} s after Redis came back")
