"""Graph presence -> status and activity text: pure, no I/O (docs/providers/teams.md).

`availability` is Graph's base presence, `activity` what the person is doing. The status comes
from the availability, except that a busy activity (a call, a meeting, presenting, do not
disturb) makes the person busy whatever the availability says: a person on a call must never
be shown free. The text is the activity's, else the availability's, with "out of office"
added when Graph says so (Teams shows "In a call, out of office" the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from presence_dash.core.model import Status
from presence_dash.providers.config_base import StateMapping

OUT_OF_OFFICE = "OutOfOffice"


@dataclass(frozen=True)
class TeamsState:
    status: Status
    activity: str | None  # short human text, e.g. "In a call"
    detail: str  # Graph's raw pair, e.g. "Busy/InACall"


def teams_state(
    availability: str | None,
    activity: str | None,
    out_of_office: bool,
    availability_table: Mapping[str, StateMapping],
    activity_table: Mapping[str, StateMapping],
) -> TeamsState:
    """The tables are keyed by casefolded Graph values (config.TeamsConfig.*_table)."""
    by_availability = availability_table.get((availability or "").casefold())
    by_activity = activity_table.get((activity or "").casefold())
    if by_activity is not None and by_activity.status == Status.BUSY:
        status = Status.BUSY
    elif by_availability is not None:
        status = Status(by_availability.status)
    elif by_activity is not None:
        status = Status(by_activity.status)
    else:
        status = Status.UNKNOWN
    text = (by_activity.activity if by_activity else None) or (
        by_availability.activity if by_availability else None
    )
    if (out_of_office or (activity or "").casefold() == OUT_OF_OFFICE.casefold()) and (
        text is None or "out of office" not in text.casefold()
    ):
        text = f"{text}, out of office" if text else "Out of office"
    return TeamsState(status, text, f"{availability or '-'}/{activity or '-'}")
