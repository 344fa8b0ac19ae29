"""PresenceBoard: pure state; every call gets an explicit `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.core.board import Batch, PresenceBoard
from presence_dash.core.model import (
    Observation,
    Person,
    PersonView,
    ProviderHealth,
    ProviderState,
    Status,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SN = "servicenow"
CISCO = "cisco"
STALE = timedelta(seconds=15)

ADA = Person("ada", "Ada Lovelace", "Service Desk", {SN: "a" * 32, CISCO: "ada@example.com"})
BOB = Person("bob", "Bob Babbage", "Service Desk", {SN: "b" * 32})
CY = Person("cy", "Cy Cerf", "Network", {CISCO: "cy@example.com"})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obs(
    person_id: str,
    status: Status,
    *,
    source: str = SN,
    t: float = 0,
    detail: str | None = None,
) -> Observation:
    return Observation(person_id, source, status, at(t), detail)


def make_board(people: tuple[Person, ...] = (ADA, BOB, CY), **kwargs: object) -> PresenceBoard:
    return PresenceBoard(people, {SN: STALE, CISCO: STALE}, T0, **kwargs)  # type: ignore[arg-type]


def view(batch: Batch | None, person_id: str) -> PersonView:
    assert batch is not None
    matches = [v for v in batch.changes if v.id == person_id]
    assert len(matches) == 1
    return matches[0]


# -- start state ---------------------------------------------------------------------------


def test_new_board_shows_everyone_unknown_with_no_batch() -> None:
    board = make_board()
    assert board.seq == 0
    assert board.publish() is None
    snap = board.snapshot()
    assert snap.seq == 0
    assert {v.id: v.status for v in snap.people} == dict.fromkeys(
        ("ada", "bob", "cy"), Status.UNKNOWN
    )
    assert all(v.since == T0 and v.sources == {} for v in snap.people)
    assert snap.providers[SN].state is ProviderState.DEGRADED
    assert snap.providers[SN].last_success is None


def test_person_lookup_unknown_id_is_none() -> None:
    board = make_board()
    assert board.person("nobody") is None
    assert board.person("ada") is not None


# -- apply / publish / seq -------------------------------------------------------------------


def test_apply_then_publish_returns_first_batch_with_person_view() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE, detail="active")], at(1))
    batch = board.publish()
    assert batch is not None
    assert batch.seq == 1
    assert board.seq == 1
    assert [v.id for v in batch.changes] == ["ada"]
    ada = batch.changes[0]
    assert ada.name == "Ada Lovelace"
    assert ada.team == "Service Desk"
    assert ada.status is Status.ONLINE
    assert ada.detail == "active"
    assert ada.since == at(1)
    assert set(ada.sources) == {SN}
    src = ada.sources[SN]
    assert (src.status, src.detail, src.observed_at, src.stale) == (
        Status.ONLINE,
        "active",
        at(0),
        False,
    )


def test_publish_with_nothing_new_returns_none() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    assert board.publish() is not None
    assert board.publish() is None
    assert board.seq == 1


def test_seq_grows_by_one_per_batch() -> None:
    board = make_board()
    seqs = []
    for i, status in enumerate([Status.ONLINE, Status.AWAY, Status.OFFLINE, Status.ONLINE]):
        board.apply(SN, [obs("ada", status, t=i)], at(i))
        batch = board.publish()
        assert batch is not None
        seqs.append(batch.seq)
    assert seqs == [1, 2, 3, 4]
    assert board.seq == 4
    assert board.snapshot().seq == 4


def test_several_changes_before_publish_make_one_batch() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE), obs("bob", Status.AWAY)], at(1))
    board.apply(SN, [obs("ada", Status.AWAY, t=1), obs("bob", Status.AWAY, t=1)], at(2))
    batch = board.publish()
    assert batch is not None
    assert batch.seq == 1
    assert sorted(v.id for v in batch.changes) == ["ada", "bob"]
    assert view(batch, "ada").status is Status.AWAY
    assert board.publish() is None


# -- since / detail / observed_at -----------------------------------------------------------


def test_since_changes_when_aggregate_status_changes() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    assert view(board.publish(), "ada").since == at(1)
    board.apply(SN, [obs("ada", Status.AWAY, t=4)], at(5))
    ada = view(board.publish(), "ada")
    assert ada.status is Status.AWAY
    assert ada.since == at(5)


def test_detail_only_change_is_published_but_keeps_since() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE, detail="desk")], at(1))
    board.publish()
    board.apply(SN, [obs("ada", Status.ONLINE, t=4, detail="on the phone")], at(5))
    batch = board.publish()
    ada = view(batch, "ada")
    assert ada.detail == "on the phone"
    assert ada.since == at(1)
    assert batch is not None and batch.transitions == []


def test_newer_observed_at_alone_makes_no_batch_and_keeps_since() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE, detail="desk")], at(1))
    board.publish()
    board.apply(SN, [obs("ada", Status.ONLINE, t=9, detail="desk")], at(10))
    assert board.publish() is None
    ada = board.person("ada")
    assert ada is not None
    assert ada.since == at(1)
    # The newer observation time is still what snapshots show.
    assert ada.sources[SN].observed_at == at(9)


# -- aggregation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sn", "cisco", "expected"),
    [
        (Status.ONLINE, Status.AWAY, Status.ONLINE),
        (Status.OFFLINE, Status.AWAY, Status.AWAY),
        (Status.OFFLINE, Status.OFFLINE, Status.OFFLINE),
        (Status.AWAY, Status.ONLINE, Status.ONLINE),
    ],
)
def test_aggregate_is_most_available_of_fresh_sources(
    sn: Status, cisco: Status, expected: Status
) -> None:
    board = make_board()
    board.apply(SN, [obs("ada", sn)], at(1))
    board.apply(CISCO, [obs("ada", cisco, source=CISCO)], at(1))
    ada = board.person("ada")
    assert ada is not None
    assert ada.status is expected
    assert {name: s.status for name, s in ada.sources.items()} == {SN: sn, CISCO: cisco}


def test_aggregate_detail_comes_from_the_source_that_won() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.AWAY, detail="idle")], at(1))
    board.apply(CISCO, [obs("ada", Status.ONLINE, source=CISCO, detail="on the phone")], at(1))
    ada = board.person("ada")
    assert ada is not None
    assert (ada.status, ada.detail) == (Status.ONLINE, "on the phone")


def test_stale_source_is_ignored_in_aggregate() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE)], at(0))
    board.apply(CISCO, [obs("ada", Status.AWAY, source=CISCO)], at(0))
    # Cisco keeps refreshing, ServiceNow does not.
    board.apply(CISCO, [obs("ada", Status.AWAY, source=CISCO, t=10)], at(10))
    board.refresh(at(16))
    ada = board.person("ada")
    assert ada is not None
    assert ada.status is Status.AWAY
    assert ada.sources[SN].stale is True
    assert ada.sources[CISCO].stale is False


# -- staleness --------------------------------------------------------------------------------


def test_source_goes_stale_after_stale_after_and_person_becomes_unknown() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.publish()

    board.refresh(at(15))  # exactly stale_after: still fresh
    assert board.publish() is None

    board.refresh(at(16))
    batch = board.publish()
    bob = view(batch, "bob")
    assert bob.status is Status.UNKNOWN
    assert bob.since == at(16)
    assert bob.sources[SN].stale is True
    assert bob.sources[SN].status is Status.ONLINE  # last data kept
    assert batch is not None
    assert [(t.person_id, t.old, t.new, t.at) for t in batch.transitions] == [
        ("bob", Status.ONLINE, Status.UNKNOWN, at(16))
    ]


def test_stale_source_comes_back_on_next_apply() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.refresh(at(20))
    board.publish()
    board.apply(SN, [obs("bob", Status.ONLINE, t=29)], at(30))
    bob = view(board.publish(), "bob")
    assert bob.status is Status.ONLINE
    assert bob.sources[SN].stale is False
    # A short outage of our view is not a change of Bob's state: his timer goes on.
    assert (bob.since, bob.since_exact) == (at(0), False)


def test_apply_with_no_observations_still_counts_as_successful_refresh() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.apply(SN, [], at(10))
    board.refresh(at(20))  # 10 s after the last success: fresh
    bob = board.person("bob")
    assert bob is not None
    assert bob.status is Status.ONLINE
    assert board.health()[SN].last_success == at(10)


def test_refresh_without_change_makes_no_batch() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.publish()
    board.refresh(at(1))
    board.refresh(at(2))
    assert board.publish() is None


# -- provider health ---------------------------------------------------------------------------


def test_apply_sets_provider_ok_with_last_success() -> None:
    board = make_board()
    board.apply(SN, [], at(3))
    health = board.health()[SN]
    assert health == ProviderHealth(ProviderState.OK, at(3), None)


def test_record_failure_keeps_data_and_last_success_and_marks_health_dirty_once() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.publish()
    assert board.take_health_change() is not None  # starting -> ok
    assert board.take_health_change() is None

    board.record_failure(SN, ProviderState.DEGRADED, "HTTP 503", at(5))
    change = board.take_health_change()
    assert change is not None
    assert change[SN] == ProviderHealth(ProviderState.DEGRADED, at(0), "HTTP 503")
    assert board.take_health_change() is None

    # The same failure again is no new health change.
    board.record_failure(SN, ProviderState.DEGRADED, "HTTP 503", at(10))
    assert board.take_health_change() is None

    bob = board.person("bob")
    assert bob is not None
    assert bob.status is Status.ONLINE
    assert bob.sources[SN].stale is False
    assert board.publish() is None


def test_record_failure_with_new_error_is_a_new_health_change() -> None:
    board = make_board()
    board.apply(SN, [], at(0))
    board.take_health_change()
    board.record_failure(SN, ProviderState.DEGRADED, "timeout", at(1))
    assert board.take_health_change() is not None
    board.record_failure(SN, ProviderState.DOWN, "timeout", at(2))
    change = board.take_health_change()
    assert change is not None
    assert change[SN].state is ProviderState.DOWN


def test_record_failure_also_re_evaluates_staleness() -> None:
    board = make_board()
    board.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    board.publish()
    board.record_failure(SN, ProviderState.DOWN, "timeout", at(20))
    bob = view(board.publish(), "bob")
    assert bob.status is Status.UNKNOWN
    assert bob.sources[SN].stale is True


def test_record_failure_before_any_success_has_no_last_success() -> None:
    board = make_board()
    board.record_failure(SN, ProviderState.DOWN, "401 Unauthorized", at(1))
    assert board.health()[SN] == ProviderHealth(ProviderState.DOWN, None, "401 Unauthorized")


# -- changes_since ----------------------------------------------------------------------------


def _toggle(board: PresenceBoard, person_id: str, i: int) -> Batch:
    """Flip `person_id` between online and away; publish the batch."""
    current = board.person(person_id)
    status = Status.AWAY if current and current.status is Status.ONLINE else Status.ONLINE
    board.apply(SN, [obs(person_id, status, t=i)], at(i))
    batch = board.publish()
    assert batch is not None
    return batch


def test_changes_since_current_seq_is_empty() -> None:
    board = make_board()
    _toggle(board, "ada", 0)
    assert board.changes_since(1) == (1, [])


def test_changes_since_zero_on_fresh_board_is_empty() -> None:
    assert make_board().changes_since(0) == (0, [])


def test_changes_since_older_seq_is_union_of_changed_people() -> None:
    board = make_board()
    _toggle(board, "ada", 0)  # seq 1
    _toggle(board, "bob", 1)  # seq 2
    _toggle(board, "ada", 2)  # seq 3
    result = board.changes_since(1)
    assert result is not None
    seq, views = result
    assert seq == 3
    assert sorted(v.id for v in views) == ["ada", "bob"]
    assert len(views) == 2  # ada once, although she changed twice
    result0 = board.changes_since(0)
    assert result0 is not None
    assert sorted(v.id for v in result0[1]) == ["ada", "bob"]
    result2 = board.changes_since(2)
    assert result2 is not None
    assert [v.id for v in result2[1]] == ["ada"]
    # Views are current, not historical.
    assert result2[1][0].status is Status.AWAY


@pytest.mark.parametrize("seq", [2, 99, -1])
def test_changes_since_future_or_negative_seq_is_none(seq: int) -> None:
    board = make_board()
    _toggle(board, "ada", 0)
    assert board.changes_since(seq) is None


def test_changes_since_older_than_bounded_log_is_none() -> None:
    board = make_board(change_log_size=16)
    for i in range(40):
        _toggle(board, "ada", i)
    assert board.seq == 40
    # The log holds batches 25..40: a client at 24 can catch up, one at 23 cannot.
    assert board.changes_since(0) is None
    assert board.changes_since(23) is None
    reachable = board.changes_since(24)
    assert reachable is not None
    assert reachable[0] == 40
    assert [v.id for v in reachable[1]] == ["ada"]


# -- input filtering ---------------------------------------------------------------------------


def test_observations_for_unknown_people_or_other_source_are_ignored_and_counted() -> None:
    board = make_board()
    ignored = board.apply(
        SN,
        [
            obs("nobody", Status.ONLINE),
            obs("ada", Status.ONLINE, source=CISCO),  # claims another source
            obs("bob", Status.AWAY),
        ],
        at(1),
    )
    assert ignored == 2
    batch = board.publish()
    assert batch is not None
    assert [v.id for v in batch.changes] == ["bob"]
    ada = board.person("ada")
    assert ada is not None
    assert ada.sources == {}
    assert ada.status is Status.UNKNOWN


def test_apply_returns_zero_when_all_observations_are_used() -> None:
    board = make_board()
    assert board.apply(SN, [obs("ada", Status.ONLINE)], at(1)) == 0


# -- snapshot / version / callbacks ------------------------------------------------------------


def test_snapshot_orders_people_by_team_then_name() -> None:
    people = (
        Person("z1", "zed", "Service Desk"),
        Person("a1", "Amy", "service desk b"),
        Person("b1", "bea", "Network"),
        Person("c1", "Abe", "Service Desk"),
        Person("d1", "Al", "network"),
    )
    board = PresenceBoard(people, {SN: STALE}, T0)
    names = [(v.team, v.name) for v in board.snapshot().people]
    assert names == [
        ("network", "Al"),
        ("Network", "bea"),
        ("Service Desk", "Abe"),
        ("Service Desk", "zed"),
        ("service desk b", "Amy"),
    ]
    assert [p.id for p in board.people()] == ["d1", "b1", "c1", "z1", "a1"]


def test_version_grows_on_change() -> None:
    board = make_board()
    v0 = board.version
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    v1 = board.version
    assert v1 > v0
    board.apply(SN, [obs("ada", Status.AWAY)], at(2))
    v2 = board.version
    assert v2 > v1
    board.refresh(at(30))  # goes stale
    assert board.version > v2


def test_version_unchanged_by_reads_and_publish() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    v = board.version
    board.publish()
    board.snapshot()
    board.changes_since(0)
    board.refresh(at(2))
    assert board.version == v


def test_on_dirty_called_when_people_or_health_change() -> None:
    calls: list[None] = []
    board = make_board(on_dirty=lambda: calls.append(None))
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    assert len(calls) >= 1
    n = len(calls)
    board.apply(SN, [obs("ada", Status.ONLINE, t=1)], at(2))  # nothing visible changed
    assert len(calls) == n
    board.apply(SN, [obs("ada", Status.AWAY, t=2)], at(3))
    assert len(calls) > n
    n = len(calls)
    board.record_failure(SN, ProviderState.DEGRADED, "boom", at(4))
    assert len(calls) > n


def test_transitions_record_old_and_new_status() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE)], at(1))
    first = board.publish()
    assert first is not None
    assert [(t.person_id, t.old, t.new, t.at) for t in first.transitions] == [
        ("ada", Status.UNKNOWN, Status.ONLINE, at(1))
    ]
    board.apply(SN, [obs("ada", Status.AWAY, t=1)], at(2))
    board.apply(SN, [obs("ada", Status.OFFLINE, t=2)], at(3))
    second = board.publish()
    assert second is not None
    assert [(t.old, t.new, t.at) for t in second.transitions] == [
        (Status.ONLINE, Status.AWAY, at(2)),
        (Status.AWAY, Status.OFFLINE, at(3)),
    ]
    assert view(second, "ada").since == at(3)
    board.apply(SN, [obs("bob", Status.ONLINE)], at(4))
    third = board.publish()
    assert third is not None
    assert [t.person_id for t in third.transitions] == ["bob"]


def test_pushed_observations_change_people_but_not_the_providers_health() -> None:
    board = make_board()
    board.apply(SN, [obs("ada", Status.ONLINE), obs("bob", Status.ONLINE)], at(0))
    board.publish()
    board.record_failure(SN, ProviderState.DEGRADED, "HTTP 500", at(2))
    ignored = board.push(
        SN, [obs("ada", Status.OFFLINE, t=3, detail="Logged out"), obs("zed", Status.ONLINE)], at(3)
    )
    assert ignored == 1  # nobody called zed
    ada = view(board.publish(), "ada")
    assert (ada.status, ada.sources[SN].detail) == (Status.OFFLINE, "Logged out")
    health = board.health()[SN]
    assert (health.state, health.last_success, health.error) == (
        ProviderState.DEGRADED,
        at(0),
        "HTTP 500",
    )
