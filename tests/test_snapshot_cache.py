"""The snapshot encoded once per board version (snapshot_cache.py), on a real board: the text
is exactly the CONTRACT's body, only changed people are rendered again, and every client is
handed the same packet object until something changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, ProviderState, Status
from presence_dash.core.timefmt import iso_z
from presence_dash.push import snapshot_cache
from presence_dash.push.snapshot_cache import SnapshotCache
from presence_dash.push.wire import person_json, providers_json, to_json

T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
SOURCES = {"servicenow": timedelta(seconds=60), "cisco": timedelta(seconds=60)}
PEOPLE = [
    Person(f"p{i:03d}", f"Person \u00e9 {i:03d}", "Desk", {"servicenow": "x", "cisco": "y"})
    for i in range(30)
]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def poll(board: PresenceBoard, source: str, at: datetime, status: Status = Status.ONLINE) -> None:
    board.apply(source, [Observation(p.id, source, status, at, 'raw "q"') for p in PEOPLE], at)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def board(clock: Clock) -> PresenceBoard:
    board = PresenceBoard(PEOPLE, SOURCES, clock())
    poll(board, "servicenow", clock())
    poll(board, "cisco", clock(), Status.AWAY)
    board.publish()
    return board


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every person rendered in full (person_parts) by the cache, by id."""
    seen: list[str] = []
    real = snapshot_cache.person_parts

    def counting(view):  # type: ignore[no-untyped-def]
        seen.append(view.id)
        return real(view)

    monkeypatch.setattr(snapshot_cache, "person_parts", counting)
    return seen


def expected_text(board: PresenceBoard, now: datetime) -> str:
    """The body the way python-socketio would have encoded the dicts."""
    snap = board.snapshot()
    body = {
        "seq": snap.seq,
        "server_time": iso_z(now),
        "people": [person_json(v) for v in snap.people],
        "providers": providers_json(snap.providers),
    }
    return to_json(body)


def test_the_body_is_the_contract_body_byte_for_byte(board: PresenceBoard, clock: Clock) -> None:
    cache = SnapshotCache(board, clock)
    assert cache.body() == expected_text(board, clock())
    assert json.loads(cache.body())["people"][0]["sources"]["cisco"]["detail"] == 'raw "q"'


def test_a_poll_that_changes_nothing_visible_renders_nobody_again_but_moves_observed_at(
    board: PresenceBoard, clock: Clock, renders: list[str]
) -> None:
    cache = SnapshotCache(board, clock)
    cache.body()
    assert len(renders) == len(PEOPLE)  # the first build renders everyone
    later = clock.advance(5)
    poll(board, "servicenow", later)  # same statuses, new observed_at for everyone
    body = json.loads(cache.body())
    assert len(renders) == len(PEOPLE)  # nobody rendered again
    assert {p["sources"]["servicenow"]["observed_at"] for p in body["people"]} == {iso_z(later)}
    assert cache.body() == expected_text(board, later)


def test_one_change_renders_one_person_again(
    board: PresenceBoard, clock: Clock, renders: list[str]
) -> None:
    cache = SnapshotCache(board, clock)
    cache.body()
    renders.clear()
    later = clock.advance(1)
    board.apply("cisco", [Observation("p007", "cisco", Status.BUSY, later, "DND")], later)
    assert renders == [] and cache.body() == expected_text(board, later)
    assert renders == ["p007"]


def test_every_client_gets_the_same_packet_until_the_board_changes(
    board: PresenceBoard, clock: Clock
) -> None:
    encodes: list[int] = []
    cache = SnapshotCache(board, clock, on_encode=lambda: encodes.append(1))
    first = cache.packet()
    assert all(cache.packet() is first for _ in range(50))
    assert len(encodes) == 1
    assert first.encode() == f'42["snapshot",{cache.body()}]'  # MESSAGE + EVENT
    board.apply("cisco", [Observation("p001", "cisco", Status.OFFLINE, clock())], clock())
    board.publish()
    second = cache.packet()
    assert second is not first and len(encodes) == 2
    assert json.loads(second.encode()[2:])[1]["seq"] == 2


def test_server_time_is_at_most_a_second_old(board: PresenceBoard, clock: Clock) -> None:
    cache = SnapshotCache(board, clock)
    first = cache.packet()
    clock.advance(0.9)
    assert cache.packet() is first
    later = clock.advance(0.2)
    fresh = cache.packet()
    assert fresh is not first
    assert json.loads(fresh.encode()[2:])[1]["server_time"] == iso_z(later)


def test_without_details_the_provider_error_is_left_out(board: PresenceBoard, clock: Clock) -> None:
    board.record_failure("cisco", ProviderState.DEGRADED, "HTTP 503 from host-7", clock())
    cache = SnapshotCache(board, clock)
    assert json.loads(cache.body(True))["providers"]["cisco"]["error"] == "HTTP 503 from host-7"
    summary = json.loads(cache.body(False))
    assert summary["providers"]["cisco"] == {**summary["providers"]["cisco"], "error": None}
    assert "host-7" not in cache.packet(False).encode()
    assert json.loads(cache.body(False))["people"] == json.loads(cache.body(True))["people"]
