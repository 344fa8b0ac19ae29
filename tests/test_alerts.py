"""Threshold alerts (alerts.py) on plain values: team minimums, away and busy limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from presence_dash.alerts.thresholds import (
    AlertKind,
    Thresholds,
    change_key,
    evaluate,
    evaluation_json,
)
from presence_dash.core.model import PersonView, Status

NOW = datetime(2025, 5, 12, 9, 30, tzinfo=UTC)
DESK = "Service Desk"


def view(pid: str, status: Status, team: str = DESK, ago: timedelta = timedelta(0)) -> PersonView:
    return PersonView(pid, pid.title(), team, status, NOW - ago, None, {})


def desk(*statuses: Status) -> list[PersonView]:
    return [view(f"p{i}", s) for i, s in enumerate(statuses)]


ON, BUSY, AWAY, OFF, UNKNOWN = (
    Status.ONLINE,
    Status.BUSY,
    Status.AWAY,
    Status.OFFLINE,
    Status.UNKNOWN,
)


def test_team_below_its_minimum_alerts_with_the_count_and_a_message() -> None:
    result = evaluate(desk(ON, ON, AWAY, OFF), {DESK: Thresholds(min_online=3)}, NOW)
    [alert] = result.alerts
    assert alert.id == "team:Service Desk:below_minimum"
    assert alert.kind is AlertKind.BELOW_MINIMUM
    assert (alert.team, alert.person_id, alert.value, alert.threshold) == (DESK, None, 2, 3)
    assert alert.message == "Service Desk: 2 online, minimum 3"
    assert alert.since == NOW
    assert result.teams[DESK].short and result.teams[DESK].online == 2
    assert result.teams[DESK].people == 4


def test_team_exactly_at_its_minimum_does_not_alert() -> None:
    result = evaluate(desk(ON, ON, ON, AWAY), {DESK: Thresholds(min_online=3)}, NOW)
    assert result.alerts == ()
    assert not result.teams[DESK].short


def test_busy_and_unknown_people_do_not_count_as_online() -> None:
    result = evaluate(desk(ON, BUSY, BUSY, UNKNOWN, UNKNOWN), {DESK: Thresholds(min_online=2)}, NOW)
    assert [a.value for a in result.alerts] == [1]


def test_a_team_nobody_is_in_is_short_of_its_minimum() -> None:
    result = evaluate([], {"Night Shift": Thresholds(min_online=1)}, NOW)
    assert [a.id for a in result.alerts] == ["team:Night Shift:below_minimum"]
    assert result.teams["Night Shift"].people == 0


def test_min_online_zero_never_alerts() -> None:
    assert evaluate(desk(OFF), {DESK: Thresholds(min_online=0)}, NOW).alerts == ()


def test_teams_without_thresholds_never_alert_but_are_counted() -> None:
    people = [view("a", AWAY, "Field", timedelta(hours=5)), view("b", ON, "Field")]
    result = evaluate(people, {DESK: Thresholds(min_online=0)}, NOW)
    assert result.alerts == ()
    field = result.teams["Field"]
    assert (field.online, field.people, field.short) == (1, 2, False)
    assert field.thresholds == Thresholds()
    assert list(result.teams) == ["Field", DESK]  # every team, by name


def test_away_one_second_under_the_limit_is_fine_and_one_minute_over_is_flagged() -> None:
    limits = {DESK: Thresholds(max_away_minutes=15)}
    under = view("ada", AWAY, ago=timedelta(minutes=14, seconds=59))
    assert evaluate([under], limits, NOW).alerts == ()
    over = view("ada", AWAY, ago=timedelta(minutes=15, seconds=1))
    [alert] = evaluate([over], limits, NOW).alerts
    assert alert.id == "person:ada:away_too_long"
    assert (alert.kind, alert.team, alert.person_id) == (AlertKind.AWAY_TOO_LONG, DESK, "ada")
    assert (alert.value, alert.threshold) == (15, 15)
    assert alert.since == over.since + timedelta(minutes=15)
    assert alert.message == "Ada: away 15 min, limit 15"


def test_exactly_at_the_away_limit_is_not_flagged() -> None:
    at_limit = view("ada", AWAY, ago=timedelta(minutes=15))
    assert evaluate([at_limit], {DESK: Thresholds(max_away_minutes=15)}, NOW).alerts == ()


def test_busy_limit_flags_busy_people_only() -> None:
    limits = {DESK: Thresholds(max_busy_minutes=45)}
    people = [
        view("meeting", BUSY, ago=timedelta(minutes=50)),
        view("short-call", BUSY, ago=timedelta(minutes=10)),
        view("long-away", AWAY, ago=timedelta(hours=3)),  # no away limit set
        view("gone", OFF, ago=timedelta(hours=3)),
    ]
    [alert] = evaluate(people, limits, NOW).alerts
    assert (alert.id, alert.kind, alert.value) == (
        "person:meeting:busy_too_long",
        AlertKind.BUSY_TOO_LONG,
        50,
    )


def test_offline_and_unknown_people_are_never_flagged_for_time() -> None:
    limits = {DESK: Thresholds(max_away_minutes=0, max_busy_minutes=0)}
    people = [view("off", OFF, ago=timedelta(days=1)), view("unk", UNKNOWN, ago=timedelta(days=1))]
    assert evaluate(people, limits, NOW).alerts == ()


def test_team_alerts_come_first_then_people_longest_first() -> None:
    limits = {DESK: Thresholds(min_online=5, max_away_minutes=10)}
    people = [
        view("recent", AWAY, ago=timedelta(minutes=20)),
        view("oldest", AWAY, ago=timedelta(minutes=90)),
        view("here", ON),
    ]
    ids = [a.id for a in evaluate(people, limits, NOW).alerts]
    assert ids == [
        "team:Service Desk:below_minimum",
        "person:oldest:away_too_long",
        "person:recent:away_too_long",
    ]


def test_a_team_alert_keeps_when_it_began_while_it_stays_open() -> None:
    limits = {DESK: Thresholds(min_online=2)}
    first = evaluate(desk(ON, OFF), limits, NOW)
    later = evaluate(desk(OFF, OFF), limits, NOW + timedelta(minutes=3), first.opened())
    [alert] = later.alerts
    assert alert.since == NOW and alert.value == 0
    closed = evaluate(desk(ON, ON), limits, NOW + timedelta(minutes=4), later.opened())
    reopened = evaluate(desk(ON), limits, NOW + timedelta(minutes=5), closed.opened())
    assert reopened.alerts[0].since == NOW + timedelta(minutes=5)


def test_the_json_body_has_the_documented_shape() -> None:
    limits = {DESK: Thresholds(min_online=2, max_away_minutes=15, max_busy_minutes=None)}
    body = evaluation_json(evaluate([view("ada", AWAY, ago=timedelta(minutes=32))], limits, NOW))
    assert body["server_time"] == "2025-05-12T09:30:00.000Z"
    assert body["alerts"][1] == {
        "id": "person:ada:away_too_long",
        "kind": "away_too_long",
        "team": DESK,
        "person_id": "ada",
        "since": "2025-05-12T09:13:00.000Z",
        "value": 32,
        "threshold": 15,
        "message": "Ada: away 32 min, limit 15",
    }
    assert body["alerts"][0]["person_id"] is None
    assert body["teams"] == {
        DESK: {
            "min_online": 2,
            "max_away_minutes": 15,
            "max_busy_minutes": None,
            "people": 1,
            "online": 0,
            "short": True,
        }
    }


def test_change_key_ignores_the_clock_and_counts_of_teams_without_a_minimum() -> None:
    limits = {DESK: Thresholds(min_online=1, max_away_minutes=15)}
    away = view("ada", AWAY, ago=timedelta(minutes=20))
    first = evaluate([away, view("f", ON, "Field")], limits, NOW)
    later = NOW + timedelta(minutes=1)
    a_minute_on = evaluate([away, view("f", OFF, "Field")], limits, later, first.opened())
    assert change_key(first) == change_key(a_minute_on)  # ada's minutes and Field moved
    desk_online = evaluate([away, view("b", ON)], limits, NOW)
    assert change_key(desk_online) != change_key(first)  # Service Desk: 0 -> 1 online
