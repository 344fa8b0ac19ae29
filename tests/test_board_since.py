"""The board's time in state (`since`, `since_exact`), activity, and restart seeding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from presence_dash.core.board import (
    RESTORE_WITHIN,
    PresenceBoard,
    SavedBoard,
)
from presence_dash.core.model import Observation, Person, PersonView, Status

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
SN, CISCO = "servicenow", "cisco"
STALE = timedelta(seconds=15)
ADA = Person("ada", "Ada Lovelace", "Desk", {SN: "a" * 32, CISCO: "ada@example.com"})
BOB = Person("bob", "Bob Babbage", "Desk", {SN: "b" * 32})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obs(
    pid: str,
    status: Status,
    source: str = SN,
    *,
    since: datetime | None = None,
    activity: str | None = None,
    detail: str | None = None,
) -> Observation:
    return Observation(pid, source, status, T0, detail, activity, since)


def board(now: datetime = T0) -> PresenceBoard:
    return PresenceBoard((ADA, BOB), {SN: STALE, CISCO: STALE}, now)


def person(b: PresenceBoard, pid: str = "ada") -> PersonView:
    view = b.person(pid)
    assert view is not None
    return view


def test_first_observation_with_a_vendor_time_is_exact() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.OFFLINE, since=at(-14 * 3600))], at(1))
    bob = person(b, "bob")
    assert (bob.status, bob.since, bob.since_exact) == (Status.OFFLINE, at(-14 * 3600), True)


def test_first_observation_without_a_vendor_time_is_first_seen_not_exact() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(3))
    bob = person(b, "bob")
    assert (bob.since, bob.since_exact) == (at(3), False)


def test_a_change_we_see_happen_is_dated_now_and_exact() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.apply(SN, [obs("bob", Status.AWAY)], at(5))
    bob = person(b, "bob")
    assert (bob.status, bob.since, bob.since_exact) == (Status.AWAY, at(5), True)


def test_a_change_is_dated_by_the_vendor_time_when_it_has_one() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.apply(SN, [obs("bob", Status.AWAY, since=at(3))], at(5))
    assert (person(b, "bob").since, person(b, "bob").since_exact) == (at(3), True)


def test_a_vendor_time_before_the_previous_state_began_is_clipped_to_it() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.apply(SN, [obs("bob", Status.AWAY)], at(10))  # seen happening: exact
    b.apply(SN, [obs("bob", Status.OFFLINE, since=at(2))], at(15))
    assert person(b, "bob").since == at(10)


def test_a_vendor_time_before_a_first_seen_start_is_believed() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE)], at(10))  # first seen: began at 10 s or before
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO, since=at(2))], at(15))
    assert (person(b).status, person(b).since, person(b).since_exact) == (
        Status.BUSY,
        at(2),
        True,
    )


def test_a_vendor_time_in_the_future_is_clipped_to_now() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.OFFLINE, since=at(3600))], at(1))
    assert person(b, "bob").since == at(1)


def test_busy_wins_over_online_and_carries_its_activity_and_source() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE)], at(0))
    b.apply(
        CISCO,
        [obs("ada", Status.BUSY, CISCO, activity="On the phone", detail="on-the-phone")],
        at(1),
    )
    ada = person(b)
    assert (ada.status, ada.activity, ada.activity_source) == (
        Status.BUSY,
        "On the phone",
        CISCO,
    )
    assert ada.detail == "on-the-phone"
    assert ada.sources[CISCO].activity == "On the phone"


def test_end_of_busy_dates_online_from_the_change_not_from_the_older_online_source() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE, since=at(-3600))], at(0))
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO)], at(0))
    b.apply(CISCO, [obs("ada", Status.ONLINE, CISCO)], at(600))
    ada = person(b)
    assert (ada.status, ada.since, ada.since_exact) == (Status.ONLINE, at(600), True)


def test_end_of_busy_to_away_is_dated_by_the_change_too() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE, since=at(-3600))], at(0))
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO)], at(0))
    b.apply(CISCO, [obs("ada", Status.AWAY, CISCO)], at(600))
    assert (person(b).status, person(b).since) == (Status.ONLINE, at(600))


def test_a_later_source_with_a_vendor_time_improves_a_first_seen_estimate() -> None:
    b = board()
    b.apply(CISCO, [obs("ada", Status.OFFLINE, CISCO)], at(1))
    assert (person(b).since, person(b).since_exact) == (at(1), False)
    b.apply(SN, [obs("ada", Status.OFFLINE, since=at(-14 * 3600))], at(2))
    ada = person(b)
    # Offline since at least the vendor's time; not exact: Cisco never said when.
    assert (ada.since, ada.since_exact) == (at(-14 * 3600), False)
    batch = b.publish()
    assert batch is not None and [v.id for v in batch.changes] == ["ada"]


def test_going_stale_dates_the_change_now_not_when_the_stale_state_began() -> None:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE, since=at(-3600))], at(0))
    b.apply(CISCO, [obs("ada", Status.OFFLINE, CISCO, since=at(-7200))], at(0))
    b.apply(CISCO, [obs("ada", Status.OFFLINE, CISCO, since=at(-7200))], at(12))
    b.refresh(at(16))  # ServiceNow has not refreshed for 16 s: stale, Cisco's offline shows
    ada = person(b)
    assert (ada.status, ada.since) == (Status.OFFLINE, at(16))


def test_an_unknown_spell_shorter_than_the_restore_window_keeps_the_timer() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.apply(SN, [obs("bob", Status.AWAY)], at(5))
    b.refresh(at(30))
    assert person(b, "bob").status is Status.UNKNOWN
    b.apply(SN, [obs("bob", Status.AWAY)], at(60))
    bob = person(b, "bob")
    assert (bob.status, bob.since, bob.since_exact) == (Status.AWAY, at(5), True)


def test_an_unknown_spell_longer_than_the_restore_window_starts_again() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.refresh(at(20))
    later = at(20) + RESTORE_WITHIN + timedelta(seconds=1)
    b.apply(SN, [obs("bob", Status.ONLINE)], later)
    assert (person(b, "bob").since, person(b, "bob").since_exact) == (later, False)


def test_a_different_state_after_an_unknown_spell_is_first_seen() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.refresh(at(20))
    b.apply(SN, [obs("bob", Status.OFFLINE)], at(30))
    assert (person(b, "bob").since, person(b, "bob").since_exact) == (at(30), False)


def test_transitions_are_dated_like_since() -> None:
    b = board()
    b.apply(SN, [obs("bob", Status.ONLINE)], at(0))
    b.publish()
    b.apply(SN, [obs("bob", Status.AWAY, since=at(3))], at(5))
    batch = b.publish()
    assert batch is not None
    assert [(t.old, t.new, t.at) for t in batch.transitions] == [
        (Status.ONLINE, Status.AWAY, at(3))
    ]


# -- restart: saved() -> restore() ------------------------------------------------------------


def running_board() -> PresenceBoard:
    b = board()
    b.apply(SN, [obs("ada", Status.ONLINE), obs("bob", Status.OFFLINE, since=at(-50_000))], at(0))
    b.apply(CISCO, [obs("ada", Status.BUSY, CISCO, activity="In a meeting")], at(0))
    b.apply(CISCO, [obs("ada", Status.ONLINE, CISCO)], at(100))
    b.apply(SN, [obs("ada", Status.ONLINE), obs("bob", Status.OFFLINE)], at(100))
    return b


def restarted(saved: SavedBoard, now: datetime) -> PresenceBoard:
    b = PresenceBoard((ADA, BOB), {SN: STALE, CISCO: STALE}, now)
    assert b.restore(saved, now) == 2
    return b


def test_a_quick_restart_keeps_every_timer_and_publishes_nothing_when_nothing_changed() -> None:
    before = running_board()
    saved = before.saved(at(101))
    after = restarted(saved, at(104))
    for pid in ("ada", "bob"):
        old, new = before.person(pid), after.person(pid)
        assert old is not None and new is not None
        assert (new.status, new.since, new.since_exact) == (old.status, old.since, old.since_exact)
        assert new.activity == old.activity
    assert person(after, "bob").since == at(-50_000)
    # The first refreshes after the restart say what was saved: nothing to publish.
    after.apply(SN, [obs("ada", Status.ONLINE), obs("bob", Status.OFFLINE)], at(105))
    after.apply(CISCO, [obs("ada", Status.ONLINE, CISCO)], at(105))
    assert after.publish() is None


def test_a_restart_publishes_a_real_change_dated_by_the_change() -> None:
    after = restarted(running_board().saved(at(101)), at(104))
    after.apply(SN, [obs("bob", Status.ONLINE)], at(105))
    batch = after.publish()
    assert batch is not None and [v.id for v in batch.changes] == ["bob"]
    assert (batch.changes[0].status, batch.changes[0].since) == (Status.ONLINE, at(105))


def test_after_a_long_downtime_saved_sources_are_stale_until_the_providers_answer() -> None:
    saved = running_board().saved(at(101))
    after = restarted(saved, at(101) + timedelta(hours=3))
    assert person(after, "bob").status is Status.UNKNOWN
    late = at(101) + timedelta(hours=3, seconds=2)
    after.apply(SN, [obs("bob", Status.OFFLINE)], late)
    # Three hours without a look: the saved timer is not carried over.
    assert (person(after, "bob").since, person(after, "bob").since_exact) == (late, False)


def test_restore_skips_people_no_longer_configured() -> None:
    saved = running_board().saved(at(101))
    b = PresenceBoard((BOB,), {SN: STALE}, at(102))
    assert b.restore(saved, at(102)) == 1
    assert person(b, "bob").since == at(-50_000)
    assert b.person("ada") is None
