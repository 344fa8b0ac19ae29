"""Status rules (CONTRACT "Status rules"): pure functions, exact boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.core.model import Status
from presence_dash.core.rules import (
    PRECEDENCE,
    aggregate_status,
    is_stale,
    session_is_valid,
    status_from_age,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age_ms", "expected"),
    [
        (0, Status.ONLINE),
        (29_999, Status.ONLINE),
        (30_000, Status.AWAY),
        (59_999, Status.AWAY),
        (60_000, Status.OFFLINE),
        (10 * 60_000, Status.OFFLINE),
    ],
)
def test_status_from_age_default_thresholds_boundaries(age_ms: int, expected: Status) -> None:
    assert status_from_age(age_ms, 30, 60) is expected


def test_negative_age_from_clock_skew_counts_as_online() -> None:
    assert status_from_age(-500, 30, 60) is Status.ONLINE


@pytest.mark.parametrize(
    ("age_ms", "expected"),
    [
        (9_999, Status.ONLINE),
        (10_000, Status.AWAY),
        (119_999, Status.AWAY),
        (120_000, Status.OFFLINE),
    ],
)
def test_status_from_age_custom_thresholds(age_ms: int, expected: Status) -> None:
    assert status_from_age(age_ms, 10, 120) is expected


def test_status_from_age_fractional_thresholds() -> None:
    assert status_from_age(1_499, 1.5, 2.5) is Status.ONLINE
    assert status_from_age(1_500, 1.5, 2.5) is Status.AWAY
    assert status_from_age(2_500, 1.5, 2.5) is Status.OFFLINE


def test_equal_thresholds_skip_away() -> None:
    assert status_from_age(29_999, 30, 30) is Status.ONLINE
    assert status_from_age(30_000, 30, 30) is Status.OFFLINE


def test_precedence_table_is_busy_then_most_available_then_unknown() -> None:
    assert PRECEDENCE == (
        Status.BUSY,
        Status.ONLINE,
        Status.AWAY,
        Status.OFFLINE,
        Status.UNKNOWN,
    )
    assert set(PRECEDENCE) == set(Status)  # every status has a row


# One row per line of the precedence table (CONTRACT v1.1 "A person's status").
@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        # row 1: a fresh busy source wins over everything, online included
        ([Status.ONLINE, Status.BUSY], Status.BUSY),
        ([Status.BUSY, Status.AWAY, Status.OFFLINE, Status.UNKNOWN], Status.BUSY),
        # row 2: online beats away, offline and a source that knows nothing
        ([Status.OFFLINE, Status.AWAY, Status.ONLINE], Status.ONLINE),
        ([Status.UNKNOWN, Status.ONLINE], Status.ONLINE),
        # row 3: away beats offline
        ([Status.OFFLINE, Status.AWAY], Status.AWAY),
        ([Status.AWAY, Status.OFFLINE, Status.UNKNOWN], Status.AWAY),
        # row 4: offline beats a source that knows nothing
        ([Status.OFFLINE], Status.OFFLINE),
        ([Status.UNKNOWN, Status.OFFLINE], Status.OFFLINE),
        # row 5: only sources that know nothing
        ([Status.UNKNOWN], Status.UNKNOWN),
    ],
)
def test_aggregate_follows_the_precedence_table(statuses: list[Status], expected: Status) -> None:
    assert aggregate_status(statuses) is expected
    assert aggregate_status(reversed(statuses)) is expected  # order of sources is irrelevant


def test_no_fresh_source_is_unknown() -> None:
    assert aggregate_status([]) is Status.UNKNOWN


def test_aggregate_accepts_a_generator() -> None:
    assert aggregate_status(s for s in (Status.AWAY, Status.ONLINE)) is Status.ONLINE


def test_never_refreshed_is_stale() -> None:
    assert is_stale(None, T0, timedelta(seconds=15)) is True


def test_is_stale_boundaries() -> None:
    after = timedelta(seconds=15)
    assert is_stale(T0, T0, after) is False
    assert is_stale(T0, T0 + after - timedelta(microseconds=1), after) is False
    assert is_stale(T0, T0 + after, after) is False
    assert is_stale(T0, T0 + after + timedelta(microseconds=1), after) is True
    assert is_stale(T0, T0 + timedelta(hours=1), after) is True


def test_session_is_valid_boundary() -> None:
    assert session_is_valid(T0, 7200, T0) is True
    assert session_is_valid(T0, 7200, T0 + timedelta(seconds=7199, microseconds=999_999))
    assert session_is_valid(T0, 7200, T0 + timedelta(seconds=7200)) is False
    assert session_is_valid(T0, 7200, T0 + timedelta(seconds=7201)) is False


def test_session_with_zero_seconds_valid_is_never_valid() -> None:
    assert session_is_valid(T0, 0, T0) is False
