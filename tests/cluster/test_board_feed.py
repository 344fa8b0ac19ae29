"""The leader's fenced writes to the machine's Redis, and a web node reading them back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.cluster.board_feed import (
    BoardFeed,
    Written,
    saved_person_from_json,
    saved_person_json,
)
from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.leader import RedisLease
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisLink
from presence_dash.cluster.web_feed import WebFeed
from presence_dash.core.board import SavedBoard, SavedPerson, SavedSource
from presence_dash.core.model import Status

REDIS = "redis://127.0.0.1:6379/0"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def saved(status: Status = Status.ONLINE) -> SavedPerson:
    src = SavedSource(status, "Available", None, NOW - timedelta(minutes=5), True)
    return SavedPerson(status, NOW - timedelta(minutes=5), True, NOW, {"servicenow": src})


@pytest.fixture
def parts() -> Iterator[tuple[BoardFeed, RedisLease, WebFeed]]:
    keys = ClusterKeys(f"test-{uuid.uuid4().hex}")
    link = RedisLink(REDIS, ClusterMetrics.create())
    yield (
        BoardFeed(link, keys, link.metrics, log_size=3),
        RedisLease(link, keys, "w", 5),
        WebFeed(
            link,
            keys,
            lambda: NOW,
            board=None,  # type: ignore[arg-type]
        ),
    )
    link.client.delete(*link.client.keys(f"{keys.prefix}:*") or ["none"])


def batch(seq: int, pid: str = "ada", status: str = "online") -> dict[str, object]:
    return {"seq": seq, "server_time": "t", "changes": [{"id": pid, "status": status}]}


def test_saved_person_survives_the_round_trip() -> None:
    assert saved_person_from_json(saved_person_json(saved())) == saved()


def test_a_batch_and_its_people_are_stored_and_restored(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, _ = parts
    token = lease.acquire()
    board = SavedBoard({"ada": saved()}, {"servicenow": NOW})
    assert feed.publish(token, batch(1), board) is True  # no snapshot stored yet
    assert feed.publish(token, batch(2), board) is True
    seq, restored = feed.load()
    assert seq == 2
    assert restored == board


def test_a_deposed_leaders_writes_are_refused(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, _ = parts
    old = lease.acquire()
    assert feed.publish(old, batch(1), SavedBoard({}, {})) is not Written.FENCED
    lease.release(old)
    new = lease.acquire()
    assert new != old
    assert feed.publish(old, batch(2), SavedBoard({}, {})) is Written.FENCED
    assert feed.write_snapshot(old, 1, "{}") is Written.FENCED
    assert feed.publish(new, batch(2), SavedBoard({}, {})) is not Written.FENCED


def test_no_seq_is_stored_twice(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, _ = parts
    token = lease.acquire()
    feed.publish(token, batch(5), SavedBoard({}, {}))
    assert feed.publish(token, batch(5), SavedBoard({}, {})) is Written.FENCED
    assert feed.publish(token, batch(4), SavedBoard({}, {})) is Written.FENCED


def test_a_snapshot_never_claims_an_unpublished_seq(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, _ = parts
    token = lease.acquire()
    feed.publish(token, batch(3), SavedBoard({}, {}))
    assert feed.write_snapshot(token, 4, "{}") is Written.FAILED
    assert feed.write_snapshot(token, 3, "{}") is Written.OK


def test_the_log_is_trimmed_to_its_size_and_resync_falls_back(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, web = parts
    token = lease.acquire()
    for seq in range(1, 6):
        feed.publish(token, batch(seq, status=f"s{seq}"), SavedBoard({}, {}))
    assert web.changes_since(3) == (5, [{"id": "ada", "status": "s5"}])
    assert web.changes_since(1) is None  # batches 1-2 trimmed (size 3)


def test_a_web_node_serves_the_snapshot_brought_up_to_date(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, web = parts
    token = lease.acquire()
    feed.publish(token, batch(1), SavedBoard({}, {}))
    snapshot = {"seq": 1, "server_time": "t", "people": [{"id": "ada", "status": "online"}]}
    assert feed.write_snapshot(token, 1, json.dumps({**snapshot, "providers": {}})) is Written.OK
    feed.publish(token, batch(2, status="away"), SavedBoard({}, {}))
    feed.write_providers(token, {"servicenow": {"state": "down", "error": "secret detail"}})
    body = web.snapshot_payload(details=False)
    assert body["seq"] == 2
    assert body["people"] == [{"id": "ada", "status": "away"}]
    assert body["providers"]["servicenow"]["state"] == "down"
    assert body["providers"]["servicenow"].get("error") in (None, "")
    assert web.snapshot_payload(details=True)["providers"]["servicenow"]["error"] == "secret detail"
    builds = web.snapshot_builds
    web.snapshot_packet(True)
    web.snapshot_packet(False)
    assert web.snapshot_builds == builds  # once per seq, not once per client


def test_a_lock_lost_with_redis_data_is_retried_not_refused(parts) -> None:  # type: ignore[no-untyped-def]
    feed, lease, _ = parts
    token = lease.acquire()
    feed.link.client.delete(feed.keys.lock)  # a Redis restart without persistence
    assert feed.publish(token, batch(1), SavedBoard({}, {})) is Written.FAILED
    assert feed.write_snapshot(token, 0, "{}") is Written.FAILED
