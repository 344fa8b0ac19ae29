"""The board's per-source transitions (Batch.source_transitions), kept for the timeline's
per-source bars: what each source counts as (stale is unknown), dated like `since`."""

from __future__ import annotations

from datetime import datetime

from test_board_since import ADA, BOB, CISCO, SN, STALE, T0, at, obs

from presence_dash.core.board import PresenceBoard, SourceTransition
from presence_dash.core.model import Status

Row = tuple[str, str, Status, Status, str | None, datetime]


def board() -> PresenceBoard:
    return PresenceBoard((ADA, BOB), {SN: STALE, CISCO: STALE}, T0)


def published(b: PresenceBoard) -> list[SourceTransition]:
    batch = b.publish()
    assert batch is not None
    return batch.source_transitions


def rows(transitions: list[SourceTransition]) -> list[Row]:
    return [(t.person_id, t.source, t.old, t.new, t.activity, t.at) for t in transitions]


def test_each_source_that_changes_status_is_recorded_beside_the_aggregate() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    b.apply(CISCO, [obs("ada", Status.OFFLINE, CISCO)], at(1))
    assert rows(published(b)) == [
        ("ada", SN, Status.UNKNOWN, Status.ONLINE, None, at(1)),
        ("ada", CISCO, Status.UNKNOWN, Status.OFFLINE, None, at(1)),
    ]
    # Cisco goes busy: the aggregate changes, and so does that source; ServiceNow did not.
    b.apply(
        CISCO, [obs("ada", Status.BUSY, CISCO, activity="On the phone", detail="ONCALL")], at(5)
    )
    batch = b.publish()
    assert batch is not None
    assert [(t.old, t.new) for t in batch.transitions] == [(Status.ONLINE, Status.BUSY)]
    assert rows(batch.source_transitions) == [
        ("ada", CISCO, Status.OFFLINE, Status.BUSY, "On the phone", at(5))
    ]
    assert batch.source_transitions[0].detail == "ONCALL"


def test_a_source_change_that_leaves_the_aggregate_alone_is_still_recorded() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    b.apply(CISCO, [obs("ada", Status.OFFLINE, CISCO)], at(1))
    b.publish()
    b.apply(CISCO, [obs("ada", Status.AWAY, CISCO)], at(4))  # online still wins
    batch = b.publish()
    assert batch is not None
    assert batch.transitions == []
    assert rows(batch.source_transitions) == [
        ("ada", CISCO, Status.OFFLINE, Status.AWAY, None, at(4))
    ]


def test_an_activity_change_within_a_status_is_recorded_but_a_detail_alone_is_not() -> None:
    b = board()
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO, activity="On the phone")], at(1))
    b.publish()
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO, activity="In a meeting")], at(2))
    assert rows(published(b)) == [("ada", CISCO, Status.BUSY, Status.BUSY, "In a meeting", at(2))]
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO, activity="In a meeting", detail="x")], at(3))
    assert published(b) == []  # published (the detail shows) but nothing for history


def test_a_source_is_dated_by_the_vendor_time_of_its_new_state() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.publish()
    b.apply(SN, [obs("bob", Status.AWAY, since=at(3))], at(5))
    assert rows(published(b)) == [("bob", SN, Status.ONLINE, Status.AWAY, None, at(3))]


def test_a_stale_source_counts_as_unknown_and_its_return_as_a_change() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE, activity="Available")], at(0))
    b.publish()
    b.refresh(at(20))  # no refresh for longer than STALE
    assert rows(published(b)) == [("bob", SN, Status.ONLINE, Status.UNKNOWN, None, at(20))]
    b.apply(SN, [obs("bob", Status.ONLINE, activity="Available")], at(30))
    assert rows(published(b)) == [("bob", SN, Status.UNKNOWN, Status.ONLINE, "Available", at(30))]


def test_a_source_back_from_stale_counts_from_then_not_from_its_vendor_time() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.refresh(at(20))  # stale (unknown) at 20
    # Back fresh, away since 10 by the vendor's clock: while we were not believing it.
    b.apply(SN, [obs("bob", Status.AWAY, since=at(10))], at(30))
    assert [(t.new, t.at) for t in published(b)] == [
        (Status.ONLINE, at(0)),
        (Status.UNKNOWN, at(20)),
        (Status.AWAY, at(30)),
    ]


def test_a_source_history_stays_in_order_when_a_vendor_time_lies_before_its_last_change() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(5))
    b.apply(SN, [obs("bob", Status.AWAY, since=at(2))], at(6))  # the vendor says: since 2
    assert [(t.new, t.at) for t in published(b)] == [(Status.ONLINE, at(5)), (Status.AWAY, at(5))]


def test_polls_that_change_nothing_record_nothing() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.publish()
    for second in range(1, 5):
        b.apply(SN, [obs("bob", Status.ONLINE)], at(second))
    assert b.publish() is None


def test_a_restored_board_records_nothing_for_an_unchanged_source() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.publish()
    again = board()
    again.restore(b.saved(at(1)), at(2))
    again.apply(SN, [obs("bob", Status.ONLINE)], at(3))
    batch = again.publish()
    assert batch is None or batch.source_transitions == []
    again.apply(SN, [obs("bob", Status.OFFLINE)], at(4))
    assert rows(published(again)) == [("bob", SN, Status.ONLINE, Status.OFFLINE, None, at(4))]
