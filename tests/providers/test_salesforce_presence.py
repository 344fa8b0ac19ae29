"""The Salesforce presence rules with plain values (all times on Salesforce's clock): the
cases a simulator cannot easily produce, such as a CreatedDate that could not be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from presence_dash.core.model import Status
from presence_dash.providers.salesforce.presence import (
    Event,
    Session,
    SourceState,
    hook_state,
    next_seen_expiry,
    user_state,
    valid_sessions,
)

T = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
GRACE = timedelta(seconds=120)


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


def session(created: float | None, modified: float, valid_min: float = 10) -> Session:
    return Session(None if created is None else at(created), at(modified), int(valid_min * 60))


def test_one_unreadable_created_date_leaves_online_since_unknown() -> None:
    valid = valid_sessions([session(None, 0), session(-30, -1)], at(1))
    assert valid is not None and valid.oldest_created is None
    assert user_state(valid, None, None, None, at(1), GRACE) == SourceState(Status.ONLINE)


def test_expired_sessions_do_not_count_or_date_anything() -> None:
    assert valid_sessions([session(-60, -20)], at(0)) is None
    valid = valid_sessions([session(-60, -20), session(-5, -5)], at(0))
    assert valid is not None and (valid.oldest_created, valid.expires) == (at(-5), at(5))


def test_a_gap_between_sessions_starts_online_since_afresh() -> None:
    before = SourceState(Status.ONLINE, since=at(-60))
    valid = valid_sessions([session(30, 30)], at(31))  # began after the old ones ran out
    state = user_state(valid, None, before, at(10), at(31), GRACE)
    assert state.since == at(30)


def test_a_login_after_the_last_seen_expiry_leaves_offline_since_unknown() -> None:
    login = Event("login", at(20))
    state = user_state(None, login, None, at(10), at(30), GRACE)
    assert state == SourceState(Status.OFFLINE)
    assert user_state(None, None, None, at(10), at(30), GRACE).since == at(10)


def test_sessions_that_vanish_before_their_expiry_are_forgotten() -> None:
    assert next_seen_expiry(None, at(10), at(5)) is None  # deleted early: when is unknown
    assert next_seen_expiry(None, at(10), at(15)) == at(10)  # ran out: remembered


def test_a_login_event_while_online_keeps_the_earlier_start() -> None:
    before = SourceState(Status.ONLINE, since=at(-30))
    assert hook_state(Event("login", at(0)), before).since == at(-30)
    logout = hook_state(Event("logout", at(1)), before)
    assert (logout.status, logout.detail, logout.activity, logout.since) == (
        Status.OFFLINE,
        "logout",
        "Logged out",
        at(1),
    )
