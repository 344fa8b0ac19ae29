"""The published feed's pure logic: seq continuation, log floor, resync and snapshot merge."""

from __future__ import annotations

from presence_dash.cluster.feed_log import (
    changes_since,
    continue_seq,
    covers,
    log_floor,
    merged_snapshot,
)


def person(pid: str, status: str) -> dict[str, str]:
    return {"id": pid, "status": status}


def batch(seq: int, *people: dict[str, str]) -> dict[str, object]:
    return {"seq": seq, "changes": list(people)}


def test_a_new_leader_never_numbers_below_what_was_published() -> None:
    assert continue_seq(41, 0) == 41
    assert continue_seq(None, 0) == 0
    assert continue_seq(3, 7) == 7  # Redis lost its data; our own count is higher


def test_log_floor_keeps_the_newest_batches() -> None:
    assert log_floor(100, 10) == 91
    assert log_floor(3, 10) == 1


def test_covers_refuses_a_hole() -> None:
    entries = [batch(5), batch(7)]
    assert covers(entries, 4, 7) is None
    assert [e["seq"] for e in covers([batch(6), batch(5), batch(7)], 4, 7) or []] == [5, 6, 7]


def test_resync_gives_each_changed_person_once_as_last_sent() -> None:
    entries = [
        batch(11, person("ada", "away")),
        batch(12, person("ada", "online"), person("bob", "busy")),
    ]
    current, people = changes_since(10, 12, entries) or (0, [])
    assert current == 12
    assert people == [person("ada", "online"), person("bob", "busy")]


def test_resync_at_the_current_seq_is_empty() -> None:
    assert changes_since(12, 12, []) == (12, [])


def test_resync_from_before_the_log_or_from_the_future_needs_a_snapshot() -> None:
    assert changes_since(5, 12, [batch(11), batch(12)]) is None
    assert changes_since(13, 12, []) is None
    assert changes_since(-1, 12, []) is None


def test_snapshot_is_brought_up_to_the_current_seq_in_its_order() -> None:
    snapshot = {
        "seq": 10,
        "server_time": "t",
        "people": [person("ada", "online"), person("bob", "away")],
        "providers": {"servicenow": {"state": "ok"}},
    }
    merged = merged_snapshot(
        snapshot,
        12,
        [batch(11, person("bob", "busy")), batch(12)],
        {"servicenow": {"state": "down"}},
    )
    assert merged["seq"] == 12
    assert merged["people"] == [person("ada", "online"), person("bob", "busy")]
    assert merged["providers"] == {"servicenow": {"state": "down"}}
    assert list(merged) == ["seq", "server_time", "people", "providers"]
    assert snapshot["seq"] == 10  # the stored one is left alone


def test_snapshot_stays_at_its_seq_when_the_log_has_a_hole() -> None:
    snapshot = {"seq": 10, "people": [person("ada", "online")], "providers": {}}
    merged = merged_snapshot(snapshot, 12, [batch(12, person("ada", "away"))], None)
    assert merged["seq"] == 10
    assert merged["people"] == [person("ada", "online")]
