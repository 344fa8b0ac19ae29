"""Status rules from the CONTRACT: pure functions, no I/O, no clocks of their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from .model import Status

# Most available first: a person's status is the best of their fresh sources.
_AVAILABILITY = {Status.ONLINE: 0, Status.AWAY: 1, Status.OFFLINE: 2, Status.UNKNOWN: 3}


def status_from_age(age_ms: int, online_within_s: float, away_within_s: float) -> Status:
    """ServiceNow: status from the time since last activity, measured on the server's clock."""
    if age_ms < online_within_s * 1000:
        return Status.ONLINE
    if age_ms < away_within_s * 1000:
        return Status.AWAY
    return Status.OFFLINE


def most_available(statuses: Iterable[Status]) -> Status:
    """Aggregate: online > away > offline; nothing known -> unknown."""
    return min(statuses, key=_AVAILABILITY.__getitem__, default=Status.UNKNOWN)


def is_stale(last_success: datetime | None, now: datetime, stale_after: timedelta) -> bool:
    """A provider's data is stale when it has had no successful refresh for `stale_after`."""
    return last_success is None or now - last_success > stale_after


def session_is_valid(last_modified: datetime, seconds_valid: int, server_now: datetime) -> bool:
    """Salesforce: a session counts while LastModifiedDate + NumSecondsValid > now."""
    return last_modified + timedelta(seconds=seconds_valid) > server_now
