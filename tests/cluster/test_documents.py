"""The leader's alerts, visitors and heartbeat documents on the machine's Redis: written
fenced through the emitter, read back by a web node's feed; a heartbeat names only a seq a
web node can serve."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from presence_dash.cluster.board_feed import BoardFeed, FencedEmitter
from presence_dash.cluster.documents import StoredDocuments
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.leader import RedisLease
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisLink
from presence_dash.cluster.web_feed import WebFeed
from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Person

REDIS = "redis://127.0.0.1:6379/0"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class _Sent:
    """The Socket.IO server behind the emitter: what reached the queue, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.events.append((event, data))


@pytest.fixture
def leader() -> Iterator[tuple[FencedEmitter, _Sent, WebFeed, RedisLease, list[str]]]:
    keys = ClusterKeys(f"test-{uuid.uuid4().hex}")
    link = RedisLink(REDIS, ClusterMetrics.create())
    board = PresenceBoard([Person("ada", "Ada", "Desk")], {"servicenow": timedelta(60)}, NOW)
    sent, fenced = _Sent(), []
    feed = BoardFeed(link, keys, link.metrics, log_size=10)
    emitter = FencedEmitter(sent, feed, board, lambda: NOW, fenced.append)
    lease = RedisLease(link, keys, "w", 5)
    emitter.token = lease.acquire()
    yield emitter, sent, WebFeed(link, keys, lambda: NOW, board), lease, fenced
    link.client.delete(*link.client.keys(f"{keys.prefix}:*") or ["none"])


def test_an_emitted_document_is_stored_for_web_nodes(leader) -> None:  # type: ignore[no-untyped-def]
    emitter, sent, web, _, _ = leader
    assert web.document("alerts") is None
    body = {"server_time": "t", "alerts": [{"id": "team:Desk:below_minimum"}], "teams": {}}
    emitter.emit("alerts", body)
    assert web.document("alerts") == body
    assert sent.events == [("alerts", body)]
    emitter.keep_alerts({**body, "server_time": "t2"})  # not sent: stored with the loop
    assert web.document("alerts") == body
    emitter.store_documents()
    assert web.document("alerts")["server_time"] == "t2"


def test_a_deposed_leaders_document_is_refused_and_not_sent(leader) -> None:  # type: ignore[no-untyped-def]
    emitter, sent, web, lease, fenced = leader
    lease.release(emitter.token)
    assert lease.acquire() is not None  # another term
    emitter.emit("visitors", {"seq": 3, "visitors": [], "counts": {}})
    assert fenced and sent.events == []
    assert web.document("visitors") is None


def test_a_heartbeat_names_the_last_stored_seq_and_goes_through_redis(leader) -> None:  # type: ignore[no-untyped-def]
    emitter, sent, web, _, _ = leader
    emitter.continue_from_redis()
    emitter.emit("presence", {"seq": 1, "server_time": "t", "changes": [{"id": "ada"}]})
    emitter.emit("heartbeat", {"seq": 4, "server_time": "t1"})  # the board ran ahead
    assert web.document("heartbeat") == {"seq": 1, "server_time": "t1"}
    assert [e for e, _ in sent.events] == ["presence"]  # web nodes relay it from Redis


def test_documents_lost_with_redis_are_written_again() -> None:
    written: list[tuple[str, str]] = []
    answers = iter([None, True, True])  # Redis away, then back
    docs = StoredDocuments(lambda n, t: written.append((n, t)) or next(answers), print)
    assert docs.keep("visitors", {"seq": 1}, store_now=True)
    docs.store()  # the failed one again
    docs.store()  # nothing left to write
    assert [n for n, _ in written] == ["visitors", "visitors"]
    docs.lost()
    docs.store()
    assert len(written) == 3
