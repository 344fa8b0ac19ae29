"""The per-client Socket.IO event limit (pure, on a fake clock)."""

from __future__ import annotations

from presence_dash.push.event_limit import EventBuckets, EventLimit, Verdict

LIMIT = EventLimit(per_second=20, burst=40, disconnect_after_s=3, quiet_s=1)


def send(buckets: EventBuckets, per_second: float, seconds: float, start: float = 0.0) -> dict:
    verdicts: dict[Verdict, int] = dict.fromkeys(Verdict, 0)
    for n in range(int(per_second * seconds)):
        verdicts[buckets.hit("c", start + n / per_second)] += 1
    return verdicts


def test_a_browser_within_the_limit_is_never_touched() -> None:
    buckets = EventBuckets(LIMIT)
    assert send(buckets, per_second=20, seconds=60)[Verdict.ALLOW] == 1200


def test_a_burst_is_allowed_and_only_the_excess_dropped() -> None:
    buckets = EventBuckets(LIMIT)
    verdicts = [buckets.hit("c", 0.0) for _ in range(50)]
    assert verdicts.count(Verdict.ALLOW) == 40
    assert verdicts[40:] == [Verdict.DROP] * 10


def test_a_flood_is_let_through_at_the_rate_and_cut_off_after_a_few_seconds() -> None:
    buckets = EventBuckets(LIMIT)
    before = send(buckets, per_second=1000, seconds=2.9)
    assert before[Verdict.DISCONNECT] == 0
    assert before[Verdict.ALLOW] <= 40 + 20 * 3
    after = send(buckets, per_second=1000, seconds=0.2, start=2.9)
    assert after[Verdict.DISCONNECT] > 0


def test_a_quiet_second_forgives_an_earlier_burst() -> None:
    buckets = EventBuckets(LIMIT)
    for t in range(5):  # a short burst every 2 s: never a flood of 3 s
        send(buckets, per_second=1000, seconds=0.1, start=t * 2.0)
    assert buckets.hit("c", 10.0) is Verdict.ALLOW


def test_clients_are_counted_apart_and_forgotten() -> None:
    buckets = EventBuckets(LIMIT)
    for _ in range(100):
        buckets.hit("flooder", 0.0)
    assert buckets.hit("other", 0.0) is Verdict.ALLOW
    buckets.forget("flooder")
    buckets.forget("other")
    assert len(buckets) == 0
