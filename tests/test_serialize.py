"""JSON shapes of the CONTRACT (PERSON, PROVIDER, snapshot) and wire time stamps."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, ProviderHealth, ProviderState, Status
from presence_dash.core.timefmt import from_epoch_ms, iso_z, parse_iso_z
from presence_dash.push.snapshot_cache import SnapshotCache
from presence_dash.push.wire import person_json, provider_json, providers_json

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# CONTRACT v1 keys plus v1.1's activity, activity_source and since_exact.
PERSON_KEYS = {"id", "name", "team", "status", "since", "detail", "sources"} | {
    "activity",
    "activity_source",
    "since_exact",
}
SOURCE_KEYS = {"status", "detail", "observed_at", "stale", "activity"}
PROVIDER_KEYS = {"state", "last_success", "error"}
SNAPSHOT_KEYS = {"seq", "server_time", "people", "providers"}

ADA = Person("ada", "Ada Lovelace", "Service Desk", {"servicenow": "a" * 32, "cisco": "ada@x"})
BOB = Person("bob", "Bob Babbage", "Network", {"servicenow": "b" * 32})


def board_with_data() -> PresenceBoard:
    board = PresenceBoard(
        [ADA, BOB],
        {"servicenow": timedelta(seconds=15), "cisco": timedelta(seconds=15)},
        T0,
    )
    board.apply(
        "servicenow",
        [Observation("ada", "servicenow", Status.AWAY, T0, "idle")],
        T0 + timedelta(seconds=1),
    )
    board.apply(
        "cisco",
        [Observation("ada", "cisco", Status.BUSY, T0, "DND", "Do not disturb")],
        T0 + timedelta(seconds=1),
    )
    board.record_failure("cisco", ProviderState.DEGRADED, "HTTP 503", T0 + timedelta(seconds=2))
    return board


def test_person_json_has_exactly_the_contract_keys() -> None:
    ada = board_with_data().person("ada")
    assert ada is not None
    body = person_json(ada)
    assert set(body) == PERSON_KEYS
    assert body["id"] == "ada"
    assert body["name"] == "Ada Lovelace"
    assert body["team"] == "Service Desk"
    assert body["status"] == "busy"
    assert body["detail"] == "DND"
    assert (body["activity"], body["activity_source"]) == ("Do not disturb", "cisco")
    assert body["since"] == "2024-05-01T12:00:01.123Z"
    assert body["since_exact"] is False  # first seen: no vendor time
    assert set(body["sources"]) == {"servicenow", "cisco"}
    for source in body["sources"].values():
        assert set(source) == SOURCE_KEYS
    assert body["sources"]["servicenow"] == {
        "status": "away",
        "detail": "idle",
        "observed_at": "2024-05-01T12:00:00.123Z",
        "stale": False,
        "activity": None,
    }


def test_person_json_values_are_plain_json_types() -> None:
    ada = board_with_data().person("ada")
    assert ada is not None
    body = person_json(ada)
    assert json.loads(json.dumps(body)) == body
    assert type(body["status"]) is str
    assert type(body["sources"]["cisco"]["status"]) is str
    assert type(body["sources"]["cisco"]["stale"]) is bool


def test_person_without_sources_is_unknown_with_null_detail() -> None:
    bob = board_with_data().person("bob")
    assert bob is not None
    body = person_json(bob)
    assert set(body) == PERSON_KEYS
    assert (body["status"], body["detail"], body["sources"]) == ("unknown", None, {})
    assert (body["activity"], body["activity_source"]) == (None, None)
    assert ISO_MS_Z.match(body["since"])


def test_provider_json_has_exactly_the_contract_keys() -> None:
    body = provider_json(ProviderHealth(ProviderState.DEGRADED, T0, "HTTP 503"))
    assert body == {
        "state": "degraded",
        "last_success": "2024-05-01T12:00:00.123Z",
        "error": "HTTP 503",
    }
    assert provider_json(ProviderHealth(ProviderState.DOWN)) == {
        "state": "down",
        "last_success": None,
        "error": None,
    }


def test_provider_states_are_the_contract_words() -> None:
    assert {s.value for s in ProviderState} == {"ok", "degraded", "down", "disabled"}
    assert {s.value for s in Status} == {"online", "busy", "away", "offline", "unknown"}


def snapshot_json(board: PresenceBoard, now: datetime) -> dict[str, Any]:
    """The snapshot body as clients get it (the cached text), parsed."""
    return json.loads(SnapshotCache(board, lambda: now).body())


def test_providers_json_is_sorted_by_name() -> None:
    body = providers_json(
        {"servicenow": ProviderHealth(ProviderState.OK), "cisco": ProviderHealth(ProviderState.OK)}
    )
    assert list(body) == ["cisco", "servicenow"]


def test_snapshot_json_shape() -> None:
    board = board_with_data()
    body = snapshot_json(board, T0 + timedelta(seconds=3))
    assert set(body) == SNAPSHOT_KEYS
    assert body["seq"] == 0
    assert body["server_time"] == "2024-05-01T12:00:03.123Z"
    assert [p["id"] for p in body["people"]] == ["bob", "ada"]  # team order: Network first
    for person in body["people"]:
        assert set(person) == PERSON_KEYS
    assert set(body["providers"]) == {"servicenow", "cisco"}
    for provider in body["providers"].values():
        assert set(provider) == PROVIDER_KEYS
    assert body["providers"]["cisco"]["state"] == "degraded"
    assert body["providers"]["cisco"]["error"] == "HTTP 503"
    assert body["providers"]["servicenow"]["state"] == "ok"
    assert json.loads(json.dumps(body)) == body


def test_snapshot_json_seq_follows_published_batches() -> None:
    board = board_with_data()
    board.publish()
    assert snapshot_json(board, T0)["seq"] == 1


def test_every_time_stamp_ends_with_z_and_has_milliseconds() -> None:
    body = snapshot_json(board_with_data(), T0)
    stamps = [body["server_time"]]
    for person in body["people"]:
        stamps.append(person["since"])
        stamps += [s["observed_at"] for s in person["sources"].values()]
    stamps += [p["last_success"] for p in body["providers"].values() if p["last_success"]]
    assert len(stamps) >= 6
    for stamp in stamps:
        assert ISO_MS_Z.match(stamp), stamp


def test_iso_z_converts_other_offsets_to_utc() -> None:
    cest = timezone(timedelta(hours=2))
    assert iso_z(datetime(2024, 5, 1, 14, 0, 0, tzinfo=cest)) == "2024-05-01T12:00:00.000Z"


def test_iso_z_truncates_to_milliseconds_and_keeps_zero_millis() -> None:
    assert iso_z(datetime(2024, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)) == "2024-01-02T03:04:05.999Z"
    assert iso_z(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05.000Z"
    assert iso_z(None) is None


def test_from_epoch_ms_and_parse_iso_z_round_trip() -> None:
    moment = from_epoch_ms(1_714_564_800_123)
    assert moment == datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert parse_iso_z(iso_z(moment) or "") == moment
    assert parse_iso_z("2024-05-01T12:00:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
