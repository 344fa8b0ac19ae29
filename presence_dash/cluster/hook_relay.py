"""Vendor callbacks (Cisco notifications, the Salesforce webhook) accepted by any web node
and handled by the leading worker, whose provider holds the subscription and the secrets.

A web node adds the call to a Redis stream and waits a moment for the leader's answer (the
Cisco probe needs the leader's token in it); the leader reads the stream as a consumer
group and acknowledges each call after handling it. A call the leader had read but not
acknowledged when it died is claimed by the next leader at the start of its term, so none
is lost across a failover; a web node that got no answer in time tells the vendor 202.
The wire codec (`encode_call`, `decode_call`, `encode_answer`, `decode_answer`) is pure.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import redis

from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import BLOCK_S, RedisDown, RedisLink
from presence_dash.providers.base import HookRequest, HookResponse

log = logging.getLogger(__name__)

GROUP = "workers"
STREAM_MAX = 10_000  # calls kept (approximately); a leader drains far faster than vendors call
REPLY_WAIT_S = 3.0  # under the vendors' own timeouts (Cisco waits 10 s)
REPLY_TTL_S = 60
QUEUED = HookResponse(202, "accepted; it is handled when a worker leads")


def encode_call(provider: str, hook: HookRequest) -> dict[str, str]:
    return {
        "provider": provider,
        "method": hook.method,
        "path": hook.path,
        "args": json.dumps(dict(hook.args)),
        "headers": json.dumps(dict(hook.headers)),
        "body": base64.b64encode(hook.body).decode(),
        "remote_addr": hook.remote_addr or "",
    }


def decode_call(fields: dict[bytes, bytes]) -> tuple[str, HookRequest]:
    text = {k.decode(): v.decode() for k, v in fields.items()}
    return text["provider"], HookRequest(
        method=text["method"],
        path=text["path"],
        args=json.loads(text["args"]),
        headers=json.loads(text["headers"]),
        body=base64.b64decode(text["body"]),
        remote_addr=text["remote_addr"] or None,
    )


def encode_answer(answer: HookResponse | None) -> str:
    """What the vendor is told (the observations and refresh stay with the leader)."""
    if answer is None:
        return json.dumps({"status": 404})
    return json.dumps(
        {"status": answer.status, "body": answer.body, "content_type": answer.content_type}
    )


def decode_answer(text: str | bytes) -> HookResponse | None:
    data = json.loads(text)
    if data["status"] == 404 and "body" not in data:
        return None  # no such callback
    return HookResponse(int(data["status"]), str(data["body"]), str(data["content_type"]))


class HookRelay:
    """The web node's side."""

    def __init__(
        self,
        link: RedisLink,
        keys: ClusterKeys,
        metrics: ClusterMetrics,
        reply_wait_s: float = REPLY_WAIT_S,
    ) -> None:
        self.link = link
        self.keys = keys
        self.metrics = metrics
        self.reply_wait_s = reply_wait_s

    def submit(self, provider: str, hook: HookRequest) -> HookResponse | None:
        """The leader's answer, `QUEUED` when it takes longer, None for an unknown callback.
        Raises RedisDown (the vendor is then told 503 and calls again)."""
        fields = encode_call(provider, hook)
        entry = self.link.call(
            "queue a vendor callback",
            lambda: self.link.client.xadd(
                self.keys.hooks, fields, maxlen=STREAM_MAX, approximate=True
            ),
        )
        self.metrics.hooks_relayed.labels("queued").inc()
        reply = self.link.call(
            "wait for the leader's answer",
            lambda: self.link.blocking.blpop(
                [self.keys.hook_reply(entry.decode())], timeout=self.reply_wait_s
            ),
        )
        if reply is None:
            return QUEUED
        return decode_answer(reply[1])


class HookConsumer:
    """The leader's side: `run(still_leading)` handles calls until the term ends."""

    def __init__(
        self,
        link: RedisLink,
        keys: ClusterKeys,
        consumer: str,
        handle: Callable[[str, HookRequest], HookResponse | None],
        metrics: ClusterMetrics,
        sleep: Callable[[float], object],
    ) -> None:
        self.link = link
        self.keys = keys
        self.consumer = consumer
        self.handle = handle
        self.metrics = metrics
        self.sleep = sleep

    def run(self, still_leading: Callable[[], bool]) -> None:
        claimed = False
        while still_leading():
            try:
                if not claimed:
                    self._ensure_group()
                    # Anything read but not acknowledged belongs to a leader that is gone.
                    self._handle_all(self._claim_pending(), still_leading)
                    claimed = True
                self._handle_all(self._read_new(), still_leading)
            except RedisDown:
                self.sleep(BLOCK_S)  # RedisLink logged it once; claim again afterwards
                claimed = False

    def _ensure_group(self) -> None:
        def create() -> None:
            try:
                # From the stream's start: calls queued before any worker ever ran count.
                self.link.client.xgroup_create(self.keys.hooks, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        self.link.call("create the callback group", create)

    def _claim_pending(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        claimed: list[tuple[bytes, dict[bytes, bytes]]] = []
        start: Any = "0-0"
        while True:
            answer = self.link.call(
                "claim pending callbacks",
                lambda s=start: self.link.client.xautoclaim(
                    self.keys.hooks, GROUP, self.consumer, min_idle_time=0, start_id=s, count=100
                ),
            )
            start, entries = answer[0], answer[1]
            claimed += [(i, f) for i, f in entries if f]  # a trimmed entry comes back empty
            if start in (b"0-0", "0-0"):
                break
        if claimed:
            log.info("hook relay: %d callbacks left by the last leader", len(claimed))
        return claimed

    def _read_new(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        answer = self.link.call(
            "read callbacks",
            lambda: self.link.blocking.xreadgroup(
                GROUP,
                self.consumer,
                {self.keys.hooks: ">"},
                count=50,
                block=int(BLOCK_S * 1000),
            ),
        )
        return [entry for _, entries in answer or [] for entry in entries]

    def _handle_all(
        self, entries: list[tuple[bytes, dict[bytes, bytes]]], still_leading: Callable[[], bool]
    ) -> None:
        for entry_id, fields in entries:
            if not still_leading():
                return  # unacknowledged: the next leader handles it
            try:
                provider, hook = decode_call(fields)
                answer = self.handle(provider, hook)
            except Exception:  # a bug or a malformed entry must not wedge the stream
                log.exception("hook relay: callback %s failed; acknowledged", entry_id)
                answer = HookResponse(500, "internal error")
            self._answer(entry_id.decode(), answer)

    def _answer(self, entry_id: str, answer: HookResponse | None) -> None:
        reply = self.keys.hook_reply(entry_id)

        def send() -> None:
            pipe = self.link.client.pipeline(transaction=True)
            pipe.rpush(reply, encode_answer(answer)).expire(reply, REPLY_TTL_S)
            pipe.xack(self.keys.hooks, GROUP, entry_id)
            pipe.execute()

        self.link.call("answer a callback", send)
        self.metrics.hooks_relayed.labels("handled").inc()
