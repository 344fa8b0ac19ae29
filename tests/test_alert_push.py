"""The alert loop (alert_push.py) on a real board with a fake clock and a recording socket:
an `alerts` event when what it shows changes, none for the clock alone, gauges each time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry

from presence_dash.alerts.push import AlertPush
from presence_dash.alerts.thresholds import Thresholds
from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, Status
from presence_dash.metrics import AlertGauges

T0 = datetime(2025, 5, 12, 9, 0, tzinfo=UTC)
DESK = "Service Desk"
PEOPLE = [Person("ada", "Ada", DESK, {"servicenow": "a"}), Person("bob", "Bob", DESK, {})]


class FakeSocketIO:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any]] = []
        self.server = SimpleNamespace(eio=SimpleNamespace(create_event=threading.Event))

    def emit(self, event: str, body: Any) -> None:
        self.emitted.append((event, body))

    def start_background_task(self, target: Any) -> None:
        """Not run: the test calls flush() itself."""


class Setup:
    def __init__(self, thresholds: dict[str, Thresholds]) -> None:
        self.now = T0
        self.board = PresenceBoard(PEOPLE, {"servicenow": timedelta(minutes=30)}, T0)
        self.hub = SimpleNamespace(board=self.board, push_interval_s=0.05, on_batch=self.saved)
        self.saved_batches = 0
        self.socketio = FakeSocketIO()
        self.registry = CollectorRegistry()
        gauges = AlertGauges.create(self.registry)
        self.push = AlertPush(self.socketio, self.hub, lambda: self.now, thresholds, gauges)  # type: ignore[arg-type]
        self.push.start()

    def saved(self, batch: Any) -> None:
        self.saved_batches += 1

    def set(self, pid: str, status: Status, at: datetime) -> None:
        self.board.apply(
            "servicenow", [Observation(pid, "servicenow", status, at, state_since=at)], at
        )
        batch = self.board.publish()
        assert batch is not None
        self.hub.on_batch(batch)  # what the hub does after each published batch

    def events(self) -> list[Any]:
        return [body for name, body in self.socketio.emitted if name == "alerts"]

    def gauge(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)


def test_a_team_falling_short_is_pushed_once_and_the_hub_callback_still_runs() -> None:
    s = Setup({DESK: Thresholds(min_online=1)})
    s.set("ada", Status.ONLINE, T0)
    s.push.flush()
    assert s.saved_batches == 1  # the writers' callback still runs
    assert [e["teams"][DESK]["online"] for e in s.events()] == [1]
    s.push.flush()  # nothing new: no event
    assert len(s.events()) == 1

    s.now = T0 + timedelta(seconds=5)
    s.set("ada", Status.OFFLINE, s.now)
    s.push.flush()
    last = s.events()[-1]
    assert [a["id"] for a in last["alerts"]] == ["team:Service Desk:below_minimum"]
    assert s.push.body()["alerts"] == last["alerts"]
    assert s.gauge("presence_team_online", team=DESK) == 0
    assert s.gauge("presence_team_people", team=DESK) == 2
    assert s.gauge("presence_team_min_online", team=DESK) == 1
    assert s.gauge("presence_alerts_open", kind="below_minimum") == 1
    assert s.gauge("presence_alerts_open", kind="busy_too_long") == 0


def test_a_time_limit_is_pushed_when_it_trips_and_not_again_as_the_minutes_grow() -> None:
    s = Setup({DESK: Thresholds(max_away_minutes=10)})
    s.set("bob", Status.AWAY, T0)
    s.push.flush()
    assert s.events() == []  # teams without a minimum: counts alone send nothing
    s.now = T0 + timedelta(minutes=10)
    s.push.flush()
    assert s.events() == []  # exactly at the limit
    s.now = T0 + timedelta(minutes=10, seconds=1)
    s.push.flush()  # no batch: the once-a-second evaluation finds it
    [event] = s.events()
    assert [a["id"] for a in event["alerts"]] == ["person:bob:away_too_long"]
    s.now = T0 + timedelta(minutes=25)
    s.push.flush()
    assert len(s.events()) == 1  # bob's minutes grew, nothing else changed
    assert s.push.body()["alerts"][0]["value"] == 25
    assert s.gauge("presence_alerts_open", kind="away_too_long") == 1


def test_without_thresholds_there_are_no_events_after_connect() -> None:
    s = Setup({})
    s.set("ada", Status.ONLINE, T0)
    s.push.flush()
    s.set("ada", Status.AWAY, T0 + timedelta(minutes=1))
    s.push.flush()
    assert s.events() == []
    assert s.push.body()["teams"][DESK]["online"] == 0
    assert s.gauge("presence_team_online", team=DESK) == 0
