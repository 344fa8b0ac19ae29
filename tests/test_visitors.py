"""The visitor board (pure): group replacement, publish numbering, removal, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from presence_dash.visitors.board import Visitor, VisitorBoard

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def v(visitor_id: str, group: int = 1, since: datetime | None = None, **meta: str) -> Visitor:
    return Visitor(group, visitor_id, since, meta)


def test_replacing_a_group_publishes_once_with_a_new_seq() -> None:
    dirty: list[int] = []
    board = VisitorBoard([1, 2], on_dirty=lambda: dirty.append(1))
    assert board.replace_group(1, [v("a", since=T0), v("b", since=T0 + timedelta(1))], T0)
    assert dirty == [1]
    batch = board.publish()
    assert batch is not None and batch.seq == 1
    assert [x.visitor_id for x in batch.visitors] == ["a", "b"]
    assert board.publish() is None  # nothing new


def test_the_same_list_again_is_no_change() -> None:
    board = VisitorBoard([1])
    board.replace_group(1, [v("a", since=T0, title="Pricing")], T0)
    board.publish()
    assert not board.replace_group(1, [v("a", since=T0, title="Pricing")], T0)
    assert board.publish() is None


def test_a_changed_page_is_a_change() -> None:
    board = VisitorBoard([1])
    board.replace_group(1, [v("a", since=T0, title="Pricing")], T0)
    board.publish()
    assert board.replace_group(1, [v("a", since=T0, title="Checkout")], T0)
    batch = board.publish()
    assert batch is not None and batch.visitors[0].metadata == {"title": "Checkout"}


def test_a_visitor_without_a_time_keeps_when_we_first_saw_them() -> None:
    board = VisitorBoard([1])
    board.replace_group(1, [v("a")], T0)
    board.replace_group(1, [v("a")], T0 + timedelta(minutes=5))
    assert board.snapshot().visitors[0].since == T0


def test_replacing_one_group_leaves_the_others_alone() -> None:
    board = VisitorBoard([1, 2])
    board.replace_group(1, [v("a")], T0)
    board.replace_group(2, [v("b", group=2)], T0)
    board.replace_group(1, [], T0)
    assert [(x.group_id, x.visitor_id) for x in board.snapshot().visitors] == [(2, "b")]
    assert board.counts() == {1: 0, 2: 1}


def test_records_for_another_group_are_ignored() -> None:
    board = VisitorBoard([1, 2])
    board.replace_group(1, [v("a"), v("b", group=2)], T0)
    assert board.groups_of("b") == []
    assert board.groups_of("a") == [1]


def test_remove_marks_the_board_changed_only_if_the_visitor_was_there() -> None:
    board = VisitorBoard([1])
    board.replace_group(1, [v("a")], T0)
    board.publish()
    assert not board.remove(1, "zzz")
    assert board.publish() is None
    assert board.remove(1, "a")
    batch = board.publish()
    assert batch is not None and batch.seq == 2 and batch.visitors == []


def test_longest_waiting_visitor_comes_first() -> None:
    board = VisitorBoard([1])
    board.replace_group(1, [v("late", since=T0 + timedelta(minutes=3)), v("early", since=T0)], T0)
    assert [x.visitor_id for x in board.snapshot().visitors] == ["early", "late"]
