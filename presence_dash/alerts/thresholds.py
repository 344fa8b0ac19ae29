"""Threshold alerts (issue 12): teams with fewer people online than their minimum, and people
away or busy for longer than their team's limit. Pure: the people's views, the thresholds and
the time go in, the open alerts come out; alert_push.py runs it and sends the result.

Only `online` counts towards a team's minimum: a busy person is on a call or in a meeting, so
not free to take work, and an unknown person may not be there at all (docs/api.md "Alerts").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from presence_dash.core.model import PersonView, Status
from presence_dash.core.timefmt import iso_z


class AlertKind(StrEnum):
    BELOW_MINIMUM = "below_minimum"
    AWAY_TOO_LONG = "away_too_long"
    BUSY_TOO_LONG = "busy_too_long"


@dataclass(frozen=True)
class Thresholds:
    """One team's limits; None: that check is off (the default)."""

    min_online: int | None = None
    max_away_minutes: int | None = None
    max_busy_minutes: int | None = None


NO_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Alert:
    id: str  # stable while the condition holds: "team:<team>:<kind>" or "person:<id>:<kind>"
    kind: AlertKind
    team: str
    person_id: str | None
    since: datetime  # when the condition began
    value: int  # people online (team) or whole minutes in the status (person)
    threshold: int
    message: str


@dataclass(frozen=True)
class TeamCount:
    thresholds: Thresholds
    people: int
    online: int

    @property
    def short(self) -> bool:
        minimum = self.thresholds.min_online
        return minimum is not None and self.online < minimum


@dataclass(frozen=True)
class Evaluation:
    at: datetime
    alerts: tuple[Alert, ...]
    teams: Mapping[str, TeamCount] = field(hash=False)

    def opened(self) -> dict[str, datetime]:
        """When each open alert began: carried into the next evaluation, so a team's alert
        keeps its `since` while it stays open."""
        return {a.id: a.since for a in self.alerts}


# Person limits: status -> (kind, the Thresholds field, the word in messages).
_PERSON_LIMITS = {
    Status.AWAY: (AlertKind.AWAY_TOO_LONG, "max_away_minutes", "away"),
    Status.BUSY: (AlertKind.BUSY_TOO_LONG, "max_busy_minutes", "busy"),
}


def evaluate(
    people: Iterable[PersonView],
    thresholds: Mapping[str, Thresholds],
    now: datetime,
    opened: Mapping[str, datetime] | None = None,
) -> Evaluation:
    """The open alerts at `now`, team alerts first (by team), then people (longest first).
    `opened`: the previous evaluation's `opened()`; a team alert not in it began `now`."""
    opened = opened or {}
    # (team, status) -> (limit in minutes, the latest `since` still within it). A person is
    # flagged when in the status for longer than the limit: `since` before that moment.
    limits = {
        (team, status): (limit, now - timedelta(minutes=limit))
        for team, t in thresholds.items()
        for status, (_, name, _) in _PERSON_LIMITS.items()
        if (limit := getattr(t, name)) is not None
    }
    totals: dict[str, list[int]] = {team: [0, 0] for team in thresholds}
    person_alerts: list[Alert] = []
    for view in people:  # 5,000 people every second: the common cases stay cheap
        counts = totals.get(view.team) or totals.setdefault(view.team, [0, 0])
        counts[0] += 1
        if view.status is Status.ONLINE:
            counts[1] += 1
        elif (limit := limits.get((view.team, view.status))) and view.since < limit[1]:
            person_alerts.append(_person_alert(view, limit[0], now))
    teams = {
        team: TeamCount(thresholds.get(team, NO_THRESHOLDS), n, online)
        for team, (n, online) in sorted(totals.items(), key=lambda item: item[0].casefold())
    }
    team_alerts = [_team_alert(team, count, now, opened) for team, count in teams.items()]
    person_alerts.sort(key=lambda a: (a.since, a.id))
    alerts = tuple(a for a in team_alerts if a is not None) + tuple(person_alerts)
    return Evaluation(now, alerts, teams)


def _team_alert(
    team: str, count: TeamCount, now: datetime, opened: Mapping[str, datetime]
) -> Alert | None:
    if not count.short:
        return None
    minimum = count.thresholds.min_online
    assert minimum is not None
    alert_id = f"team:{team}:{AlertKind.BELOW_MINIMUM}"
    return Alert(
        id=alert_id,
        kind=AlertKind.BELOW_MINIMUM,
        team=team,
        person_id=None,
        since=opened.get(alert_id, now),
        value=count.online,
        threshold=minimum,
        message=f"{team}: {count.online} online, minimum {minimum}",
    )


def _person_alert(view: PersonView, limit: int, now: datetime) -> Alert:
    kind, _, word = _PERSON_LIMITS[view.status]
    minutes = int((now - view.since).total_seconds() // 60)
    return Alert(
        id=f"person:{view.id}:{kind}",
        kind=kind,
        team=view.team,
        person_id=view.id,
        since=view.since + timedelta(minutes=limit),
        value=minutes,
        threshold=limit,
        message=f"{view.name}: {word} {minutes} min, limit {limit}",
    )


def alert_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "team": alert.team,
        "person_id": alert.person_id,
        "since": iso_z(alert.since),
        "value": alert.value,
        "threshold": alert.threshold,
        "message": alert.message,
    }


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """The body of `GET /api/alerts` and of the `alerts` event (docs/api.md "Alerts")."""
    return {
        "server_time": iso_z(evaluation.at),
        "alerts": [alert_json(a) for a in evaluation.alerts],
        "teams": {
            team: {
                "min_online": c.thresholds.min_online,
                "max_away_minutes": c.thresholds.max_away_minutes,
                "max_busy_minutes": c.thresholds.max_busy_minutes,
                "people": c.people,
                "online": c.online,
                "short": c.short,
            }
            for team, c in evaluation.teams.items()
        },
    }


def change_key(evaluation: Evaluation) -> tuple[object, ...]:
    """What an `alerts` event is sent for: an alert opening, closing or moving its `since`,
    a team alert's count, and the counts of teams with a minimum (their "2 / 4"). Not what
    only the clock moves (a person's minutes), nor the counts of teams without a minimum,
    which would otherwise cost an event per batch where nothing is configured."""
    alerts = tuple(
        (a.id, a.since, a.value if a.person_id is None else None) for a in evaluation.alerts
    )
    teams = tuple(
        (team, c.people, c.online) if c.thresholds.min_online is not None else (team,)
        for team, c in evaluation.teams.items()
    )
    return alerts, teams
