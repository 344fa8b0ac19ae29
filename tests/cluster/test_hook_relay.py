"""Vendor callbacks through the Redis stream: the codec, the leader's answer reaching the
web node, and a call the dead leader had read handled by the next one."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from presence_dash.cluster.hook_relay import (
    GROUP,
    QUEUED,
    HookConsumer,
    HookRelay,
    decode_answer,
    decode_call,
    encode_answer,
    encode_call,
)
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisLink
from presence_dash.providers.base import HookRequest, HookResponse

REDIS = "redis://127.0.0.1:6379/0"
CALL = HookRequest(
    "GET",
    "pws",
    {"id": "abc", "eventType": "PRESENCE_NOTIFICATION"},
    {"X": "1"},
    b"\x00hi",
    "10.0.0.9",
)


def test_a_call_and_an_answer_survive_the_stream_codec() -> None:
    fields = {k.encode(): v.encode() for k, v in encode_call("cisco", CALL).items()}
    assert decode_call(fields) == ("cisco", CALL)
    answer = HookResponse(401, '{"error": 1}', "application/json", refresh=True)
    assert decode_answer(encode_answer(answer)) == HookResponse(
        401, '{"error": 1}', "application/json"
    )
    assert decode_answer(encode_answer(None)) is None


@pytest.fixture
def redis_parts() -> Iterator[tuple[RedisLink, ClusterKeys]]:
    keys = ClusterKeys(f"test-{uuid.uuid4().hex}")
    link = RedisLink(REDIS, ClusterMetrics.create())
    yield link, keys
    link.client.delete(*link.client.keys(f"{keys.prefix}:*") or ["none"])


class Leader:
    """A consumer running in a thread until stopped, recording what it handled."""

    def __init__(self, link: RedisLink, keys: ClusterKeys, name: str) -> None:
        self.handled: list[tuple[str, HookRequest]] = []
        self.leading = True

        def handle(provider: str, hook: HookRequest) -> HookResponse:
            self.handled.append((provider, hook))
            return HookResponse(200, f"handled by {name}")

        consumer = HookConsumer(link, keys, name, handle, link.metrics, time.sleep)
        self.thread = threading.Thread(target=consumer.run, args=(lambda: self.leading,))
        self.thread.start()

    def stop(self) -> None:
        self.leading = False
        self.thread.join(5)


def test_the_leaders_answer_reaches_the_web_node(redis_parts) -> None:  # type: ignore[no-untyped-def]
    link, keys = redis_parts
    leader = Leader(link, keys, "w1")
    try:
        answer = HookRelay(link, keys, link.metrics).submit("cisco", CALL)
    finally:
        leader.stop()
    assert answer == HookResponse(200, "handled by w1")
    assert leader.handled == [("cisco", CALL)]


def test_with_no_leader_the_vendor_is_told_queued(redis_parts) -> None:  # type: ignore[no-untyped-def]
    link, keys = redis_parts
    assert HookRelay(link, keys, link.metrics, reply_wait_s=0.2).submit("cisco", CALL) == QUEUED


def test_a_call_read_by_a_dead_leader_is_handled_by_the_next(redis_parts) -> None:  # type: ignore[no-untyped-def]
    link, keys = redis_parts
    HookRelay(link, keys, link.metrics, reply_wait_s=0.1).submit("cisco", CALL)
    link.client.xgroup_create(keys.hooks, GROUP, id="0", mkstream=True)
    # the old leader read it and died before acknowledging
    read = link.client.xreadgroup(GROUP, "dead", {keys.hooks: ">"}, count=10)
    assert len(read[0][1]) == 1
    leader = Leader(link, keys, "w2")
    try:
        deadline = time.monotonic() + 5
        while not leader.handled and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        leader.stop()
    assert leader.handled == [("cisco", CALL)]
    assert link.client.xpending(keys.hooks, GROUP)["pending"] == 0
