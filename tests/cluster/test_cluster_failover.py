"""Two web nodes and two workers on the machine's Redis, as real processes: every browser
sees the same numbered stream, a kill -9 of the leader hands over to the standby within
leader_ttl_s + 2 s without a seq used twice, and a browser whose web node dies resyncs on
the other one."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_REDIS, Node, SeqClient
from helpers import SnSimHandle, person, sys_id, wait_for

TTL = 2
PEOPLE = [person("ada"), person("grace")]
ADA = sys_id("ada")
AWAY, ONLINE, OFFLINE = 45, 0, 120  # ServiceNow seconds since last activity


def _start(
    tmp_path: Path, sn: SnSimHandle, make_config: Any, cluster_node: Any, prefix: str
) -> tuple[list[Node], list[Node]]:
    config = make_config(
        tmp_path,
        PEOPLE,
        sn.url,
        poll_seconds=0.2,
        message_queue=SHARED_REDIS,
        redis_prefix=prefix,
        leader_ttl_s=TTL,
        role="web",
    )
    first = cluster_node("worker", config)
    wait_for(first.leading, 20, interval=0.05, what="the first worker leads")
    second = cluster_node("worker", config)
    web = [cluster_node("web", config), cluster_node("web", config)]
    for node in web:
        wait_for(lambda n=node: n.readyz().get("ready"), 20, what="web node ready")
    return [first, second], web


def _both_see(clients: list[SeqClient], status: str, timeout: float = 10) -> None:
    wait_for(
        lambda: all(c.status("ada") == status for c in clients),
        timeout,
        what=f"ada {status} on every client",
    )


@pytest.mark.parametrize("run", [1, 2, 3])  # the failover must pass three times in a row
def test_failover_keeps_one_seq_stream_and_a_dead_web_nodes_client_resyncs(
    run: int,
    tmp_path: Path,
    sn_sim: SnSimHandle,
    make_config: Callable[..., Path],
    cluster_node: Callable[..., Node],
    redis_prefix: str,
    seq_client: Callable[[str], SeqClient],
) -> None:
    sn_sim.set_user(ADA, seconds_ago=ONLINE)
    (leader, standby), web = _start(tmp_path, sn_sim, make_config, cluster_node, redis_prefix)
    assert not standby.leading()
    clients = [seq_client(web[0].url), seq_client(web[1].url)]
    _both_see(clients, "online")

    sn_sim.set_user(ADA, seconds_ago=AWAY)
    _both_see(clients, "away")
    wait_for(lambda: clients[0].live == clients[1].live, 5, what="the same batches on both")
    before = max(clients[0].seq, clients[1].seq)
    assert before >= 1

    killed_at = time.monotonic()
    leader.kill()
    wait_for(standby.leading, TTL + 2, interval=0.05, what="the standby leads")
    takeover = time.monotonic() - killed_at
    print(f"takeover after kill -9: {takeover:.2f} s (leader_ttl_s {TTL})")
    assert takeover < TTL + 2

    sn_sim.set_user(ADA, seconds_ago=ONLINE)
    _both_see(clients, "online")
    wait_for(lambda: clients[0].seq == clients[1].seq, 5, what="both clients at one seq")
    for client in clients:
        assert client.live == sorted(set(client.live)), f"a seq came twice: {client.live}"
        assert client.seq > before
    assert clients[0].live == clients[1].live

    # A web node dies: its browser reconnects (the load balancer sends it to the other node)
    # and resyncs from the seq it had; meanwhile ada went offline.
    web[0].kill()
    lost = clients[0]
    wait_for(lambda: not lost.client.connected, 10, what="the client notices")
    sn_sim.set_user(ADA, seconds_ago=OFFLINE)
    wait_for(lambda: clients[1].status("ada") == "offline", 10, what="ada offline on node 2")
    moved = seq_client(web[1].url)
    wait_for(lambda: moved.snapshots == 1, 5, what="the connect's snapshot")
    moved.people, moved.seq = dict(lost.people), lost.seq  # what the page still shows
    assert moved.status("ada") == "online"
    moved.client.emit("resync", {"seq": lost.seq})
    wait_for(lambda: moved.status("ada") == "offline", 10, what="resync brings ada offline")
    assert moved.seq >= clients[1].seq - 1
