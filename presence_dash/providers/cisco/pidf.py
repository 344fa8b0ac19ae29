"""Cisco IM&P rich presence, pure: which RPID activity of a contact's PIDF says most, and
when it began (RPID `from`, converted to our clock). No I/O; the adapter (cisco.py) feeds it
parsed XML. Why each rule: docs/providers/cisco.md, "Busy and activities", "Time in state"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element

# The most telling activity wins. A live call first (CUCM derives it from the phone itself),
# then presenting (a presenter is in a meeting too, and less reachable), then a meeting, then
# DND, whose reason the three before it explain; `busy` is the generic companion IM&P
# publishes with them (`<busy/><meeting/>`), so it ranks below them. All of these map to busy
# by default: among them the order picks the words, not the dot.
BUSY_ACTIVITIES = ("on-the-phone", "presenting", "presentation", "meeting", "dnd", "busy")
PLAIN_ACTIVITIES = ("vacation", "away", "available")
ACTIVITY_PRIORITY = BUSY_ACTIVITIES + PLAIN_ACTIVITIES
# RFC 4480 calls presenting "presentation": it reads the `presenting` row unless mapped itself.
ALIASES = {"presentation": "presenting"}
# The HTTP Date has 1 s precision: a stamp this little ahead of us is "just now".
FUTURE_TOLERANCE = timedelta(seconds=2)


def activity_priority(state_map_keys: Iterable[str]) -> tuple[str, ...]:
    """Built-in activities, with those an admin added to `state_map` after the busy ones: an
    added activity (`meal`) says more than plain vacation, away or available. Upper-case
    keys are basic states, never element names."""
    added = tuple(k for k in state_map_keys if k not in ACTIVITY_PRIORITY and k.islower())
    return BUSY_ACTIVITIES + added + PLAIN_ACTIVITIES


def rich_state(contact: Element, priority: Sequence[str]) -> tuple[str | None, str | None]:
    """(state, raw RPID `from`) of one contact: the most telling activity and the `from` of
    the `<activities>` element it came from, else the basic open/closed, undated (a tuple's
    `<timestamp>` dates one device's publication, not the person's state)."""
    found: dict[str, str | None] = {}
    for el in contact.iter():
        if local(el.tag) == "activities":
            for child in el:
                found.setdefault(local(child.tag), el.get("from"))
    for activity in priority:
        if activity in found:
            return activity, found[activity]
    basics = [(el.text or "").strip() for el in contact.iter() if local(el.tag) == "basic"]
    if basics:
        return ("AVAILABLE" if "open" in basics else "UNAVAILABLE"), None
    return contact.get("presenceStatus"), None


def xs_datetime(text: str) -> datetime | None:
    """An xs:dateTime (RFC 4480 `from`) as aware UTC; None if unreadable or without a zone
    (a zoneless time is on nobody knows whose clock)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def on_our_clock(moment: datetime, offset: timedelta, now: datetime) -> datetime | None:
    """A server-side time on our clock (`offset` = server clock minus ours); None when it
    lies in the future, which no state's start can."""
    ours = moment - offset
    if ours > now + FUTURE_TOLERANCE:
        return None
    return min(ours, now)


def local(tag: str) -> str:
    """An element's name without its namespace: Cisco mixes PIDF, RPID and its own."""
    return tag.rsplit("}", 1)[-1]
