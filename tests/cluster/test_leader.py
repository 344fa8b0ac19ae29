"""Leader election: the pure term decisions, and the lock against the machine's Redis."""

from __future__ import annotations

import uuid

import pytest

from presence_dash.cluster.keys import ClusterKeys
from presence_dash.cluster.leader import (
    SAFETY_MARGIN_S,
    RedisLease,
    Renewal,
    after_renewal,
    next_wait,
    started_term,
)
from presence_dash.cluster.metrics import ClusterMetrics
from presence_dash.cluster.redis_link import RedisLink

REDIS = "redis://127.0.0.1:6379/0"


def test_a_term_ends_before_the_lock_can_expire_in_redis() -> None:
    term = started_term("4:w1", sent_at=100.0, ttl_s=10)
    assert term.number == 4
    assert term.valid_until == pytest.approx(110.0 - SAFETY_MARGIN_S)


def test_a_renewal_extends_from_when_it_was_sent() -> None:
    term = started_term("1:w1", 100.0, 10)
    renewed = after_renewal(term, Renewal.HELD, sent_at=103.0, now=103.5, ttl_s=10)
    assert renewed is not None
    assert renewed.valid_until == pytest.approx(113.0 - SAFETY_MARGIN_S)


def test_a_lost_lock_ends_the_term_at_once() -> None:
    term = started_term("1:w1", 100.0, 10)
    assert after_renewal(term, Renewal.LOST, 101.0, 101.0, 10) is None


def test_unreachable_redis_keeps_the_term_only_until_its_lease_runs_out() -> None:
    term = started_term("1:w1", 100.0, 10)
    assert after_renewal(term, Renewal.UNREACHABLE, 105.0, 105.0, 10) == term
    assert after_renewal(term, Renewal.UNREACHABLE, 109.9, 109.9, 10) is None


def test_a_leader_renews_three_times_per_ttl_and_a_standby_tries_often() -> None:
    assert next_wait(True, 9) == 3
    assert next_wait(False, 10) == 1.0
    assert next_wait(False, 2) == pytest.approx(0.4)


@pytest.fixture
def lease_pair() -> tuple[RedisLease, RedisLease]:
    keys = ClusterKeys(f"test-{uuid.uuid4().hex}")
    link = RedisLink(REDIS, ClusterMetrics.create())
    yield RedisLease(link, keys, "w1", 2), RedisLease(link, keys, "w2", 2)
    link.client.delete(keys.lock, keys.terms)


def test_one_worker_holds_the_lock_and_tokens_grow(lease_pair) -> None:  # type: ignore[no-untyped-def]
    first, second = lease_pair
    token = first.acquire()
    assert token == "1:w1"
    assert second.acquire() is None
    assert second.renew("1:w2") is Renewal.LOST
    assert first.renew(token) is Renewal.HELD
    first.release(token)
    assert second.acquire() == "2:w2"
    assert first.holder() == "2:w2"


def test_a_holder_reclaims_the_lock_redis_lost(lease_pair) -> None:  # type: ignore[no-untyped-def]
    first, _ = lease_pair
    token = first.acquire()
    assert token is not None
    first.link.client.delete(first.keys.lock)  # what a Redis restart without persistence does
    assert first.renew(token) is Renewal.HELD
    assert first.holder() == token


def test_an_unreachable_redis_is_a_renewal_outcome_not_a_crash() -> None:
    link = RedisLink("redis://127.0.0.1:1/0", ClusterMetrics.create(), timeout_s=0.5)
    lease = RedisLease(link, ClusterKeys("x"), "w1", 2)
    assert lease.renew("1:w1") is Renewal.UNREACHABLE
    assert link.error is not None
