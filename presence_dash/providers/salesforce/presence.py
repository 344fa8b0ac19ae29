"""Salesforce: a user's presence from their UI sessions and login/logout events (pure rules).

No I/O and no clock of its own: every time here is on **Salesforce's** clock (the query's
`Date` header, AuthSession's own time stamps, event times), so session validity and "since"
are decided by the vendor's time; the adapter converts the answer to our clock at the edge.
See docs/providers/salesforce.md ("How presence is derived", "Time in state").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from presence_dash.core.model import Status

LOGOUT_DETAIL = "logout"  # the raw state: a LogoutEventStream event was received
LOGOUT_ACTIVITY = "Logged out"


@dataclass(frozen=True)
class Session:
    """One AuthSession row; `created` is None when its CreatedDate could not be read."""

    created: datetime | None
    last_modified: datetime
    seconds_valid: int

    @property
    def expires(self) -> datetime:
        # "A session expires when the current date and time equals LastModifiedDate +
        # NumSecondsValid" (AuthSession, Object Reference)
        return self.last_modified + timedelta(seconds=self.seconds_valid)


@dataclass(frozen=True)
class Event:
    kind: str  # "login" | "logout"
    at: datetime


@dataclass(frozen=True)
class ValidSessions:
    """What a user's currently valid sessions say together."""

    newest_modified: datetime
    oldest_created: datetime | None  # None when any valid session's CreatedDate is unknown
    expires: datetime  # when the last of them runs out, if nothing extends them


@dataclass(frozen=True)
class SourceState:
    status: Status
    detail: str | None = None
    activity: str | None = None
    since: datetime | None = None  # when this state began; None when Salesforce does not say


def valid_sessions(sessions: Iterable[Session], now: datetime) -> ValidSessions | None:
    """Summary of the sessions still valid at `now`; None when there is none."""
    valid = [s for s in sessions if s.expires > now]
    if not valid:
        return None
    created = [s.created for s in valid]
    return ValidSessions(
        newest_modified=max(s.last_modified for s in valid),
        # One unknown start makes the oldest start unknown: showing a later one as exact
        # would claim a shorter time online than the truth.
        oldest_created=None if None in created else min(c for c in created if c is not None),
        expires=max(s.expires for s in valid),
    )


def user_state(
    valid: ValidSessions | None,
    event: Event | None,
    previous: SourceState | None,
    seen_expiry: datetime | None,
    now: datetime,
    login_grace: timedelta,
) -> SourceState:
    """Online while a UI session is valid, since the oldest of them began (or earlier, when
    the previous poll saw this user online and the new sessions began before the old ones ran
    out: a newer session taking over from an expiring one is no new start). A logout event
    wins over the sessions it ended (Salesforce may list them a little longer) and dates the
    offline state. A login event counts as online for `login_grace`, until polling can see
    the new session. Offline because the sessions ran out: since the expiry of the sessions
    last seen valid."""
    if event and event.kind == "logout" and (valid is None or valid.newest_modified <= event.at):
        return SourceState(Status.OFFLINE, LOGOUT_DETAIL, LOGOUT_ACTIVITY, event.at)
    earlier = previous.since if previous and previous.status == Status.ONLINE else None
    if valid is not None:
        since = valid.oldest_created
        # Continuous only if the oldest valid session began before the ones seen last ran out.
        if since and earlier and seen_expiry and since <= seen_expiry:
            since = min(since, earlier)
        return SourceState(Status.ONLINE, since=since)
    if event and event.kind == "login" and now - event.at < login_grace:
        return SourceState(Status.ONLINE, since=earlier or event.at)
    # A login event after that expiry was a session never seen: when it ended is unknown.
    relogged = event is not None and event.kind == "login" and event.at > (seen_expiry or now)
    if seen_expiry is not None and seen_expiry <= now and not relogged:
        return SourceState(Status.OFFLINE, since=seen_expiry)
    return SourceState(Status.OFFLINE)


def next_seen_expiry(
    valid: ValidSessions | None, seen_expiry: datetime | None, now: datetime
) -> datetime | None:
    """The expiry to remember for the next poll: that of the sessions valid now; else the one
    remembered, if it has passed. Sessions gone before their expiry were ended (a logout
    without an event, an administrator): when is unknown, so the memory is dropped rather
    than dating the offline state later by an expiry that never happened."""
    if valid is not None:
        return valid.expires
    if seen_expiry is not None and seen_expiry <= now:
        return seen_expiry
    return None


def hook_state(event: Event, previous: SourceState | None) -> SourceState:
    """What an accepted login/logout event shows at once, before a poll confirms it."""
    if event.kind == "logout":
        return SourceState(Status.OFFLINE, LOGOUT_DETAIL, LOGOUT_ACTIVITY, event.at)
    if previous is not None and previous.status == Status.ONLINE and previous.since is not None:
        return SourceState(Status.ONLINE, since=min(previous.since, event.at))
    return SourceState(Status.ONLINE, since=event.at)
