"""Status rules from the CONTRACT: pure functions, no I/O, no clocks of their own."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from presence_dash.core.model import Status

# CONTRACT v1.1, the one precedence table: the first status in this list that any fresh
# source reports is the person's. Busy comes first so that a person on a call is never
# shown free because another system saw them active; then the most available wins
# (online > away > offline); a fresh source that knows nothing counts last, and a person
# with no fresh source at all is unknown.
PRECEDENCE: tuple[Status, ...] = (
    Status.BUSY,
    Status.ONLINE,
    Status.AWAY,
    Status.OFFLINE,
    Status.UNKNOWN,
)
_RANK = {status: rank for rank, status in enumerate(PRECEDENCE)}


def status_from_age(age_ms: int, online_within_s: float, away_within_s: float) -> Status:
    """ServiceNow: status from the time since last activity, measured on the server's clock."""
    if age_ms < online_within_s * 1000:
        return Status.ONLINE
    if age_ms < away_within_s * 1000:
        return Status.AWAY
    return Status.OFFLINE


def aggregate_status(statuses: Iterable[Status]) -> Status:
    """A person's status from their fresh sources' statuses, by `PRECEDENCE`."""
    return min(statuses, key=_RANK.__getitem__, default=Status.UNKNOWN)


def is_stale(last_success: datetime | None, now: datetime, stale_after: timedelta) -> bool:
    """A provider's data is stale when it has had no successful refresh for `stale_after`."""
    return last_success is None or now - last_success > stale_after


def session_is_valid(last_modified: datetime, seconds_valid: int, server_now: datetime) -> bool:
    """Salesforce: a session counts while LastModifiedDate + NumSecondsValid > now."""
    return last_modified + timedelta(seconds=seconds_valid) > server_now
