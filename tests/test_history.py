"""HistoryStore against real databases: SQLite on disk and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from test_migrations import create_release_0_1_0

from presence_dash.core.board import SourceTransition, Transition
from presence_dash.core.model import Status
from presence_dash.storage.db import engine_for
from presence_dash.storage.history import HistoryStore

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(sql_engine: sa.Engine) -> HistoryStore:
    history = HistoryStore(sql_engine)
    history.create_schema()
    return history


def test_recorded_transitions_come_back_newest_first(store: HistoryStore) -> None:
    store.record(
        [
            Transition("ada", Status.UNKNOWN, Status.ONLINE, T0),
            Transition("ada", Status.ONLINE, Status.AWAY, T0 + timedelta(minutes=5)),
            Transition("bob", Status.UNKNOWN, Status.OFFLINE, T0),
        ]
    )
    assert store.flush() == 3
    entries = store.changes("ada", T0 - timedelta(hours=1))
    assert [(e.old, e.new) for e in entries] == [
        (Status.ONLINE, Status.AWAY),
        (Status.UNKNOWN, Status.ONLINE),
    ]
    assert entries[0].at == T0 + timedelta(minutes=5)
    assert entries[0].at.tzinfo is not None


def test_changes_outside_the_window_are_left_out(store: HistoryStore) -> None:
    store.record(
        [
            Transition("ada", Status.UNKNOWN, Status.ONLINE, T0 - timedelta(hours=30)),
            Transition("ada", Status.ONLINE, Status.OFFLINE, T0),
        ]
    )
    store.flush()
    entries = store.changes("ada", T0 - timedelta(hours=24))
    assert [e.new for e in entries] == [Status.OFFLINE]


def test_flush_with_nothing_pending_writes_nothing(store: HistoryStore) -> None:
    assert store.flush() == 0
    assert store.ping() is None


def test_failed_write_keeps_transitions_for_the_next_flush(tmp_path) -> None:
    db = tmp_path / "history.db"
    store = HistoryStore(engine_for(f"sqlite:///{db}"))
    store.record([Transition("ada", Status.UNKNOWN, Status.ONLINE, T0)])
    assert store.flush() == 0  # no schema yet: the write fails
    assert store.last_error and "database write failed" in store.last_error
    assert store.ping() == store.last_error
    store.create_schema()
    assert store.flush() == 1
    assert store.last_error is None
    assert [e.new for e in store.changes("ada", T0 - timedelta(hours=1))] == [Status.ONLINE]


def test_unreachable_database_is_reported_by_ping() -> None:
    store = HistoryStore(engine_for("postgresql://nobody@127.0.0.1:1/none"))
    reason = store.ping()
    assert reason is not None and "database unreachable" in reason


def _source(
    pid: str, source: str, old: Status, new: Status, minutes: float, activity: str | None = None
) -> SourceTransition:
    return SourceTransition(pid, source, old, new, activity, None, T0 + timedelta(minutes=minutes))


def test_source_changes_come_back_per_source_newest_first_with_the_one_in_force(
    store: HistoryStore,
) -> None:
    store.record(
        [Transition("ada", Status.UNKNOWN, Status.ONLINE, T0 - timedelta(hours=30))],
        [
            _source("ada", "servicenow", Status.UNKNOWN, Status.ONLINE, -30 * 60),
            _source("ada", "servicenow", Status.ONLINE, Status.AWAY, -26 * 60),  # in force
            _source("ada", "servicenow", Status.AWAY, Status.ONLINE, -60),
            _source("ada", "cisco", Status.UNKNOWN, Status.BUSY, -5, "On the phone"),
            _source("bob", "servicenow", Status.UNKNOWN, Status.OFFLINE, -5),
        ],
    )
    assert store.flush() == 6
    found = store.changes_by_source("ada", T0 - timedelta(hours=24))
    assert [(e.old, e.new, e.at) for e in found["servicenow"]] == [
        (Status.AWAY, Status.ONLINE, T0 - timedelta(hours=1)),
        (Status.ONLINE, Status.AWAY, T0 - timedelta(hours=26)),  # before the window
    ]
    assert [(e.new, e.activity) for e in found["cisco"]] == [(Status.BUSY, "On the phone")]
    assert list(found) == ["cisco", "servicenow"]  # the sources with a record, by name
    assert found["servicenow"][0].at.tzinfo is not None
    # The aggregate's own table is unaffected by the per-source rows.
    assert [e.new for e in store.changes("ada", T0 - timedelta(hours=31))] == [Status.ONLINE]


def test_a_failed_write_keeps_source_changes_too(tmp_path) -> None:
    store = HistoryStore(engine_for(f"sqlite:///{tmp_path / 'history.db'}"))
    store.record([], [_source("ada", "cisco", Status.UNKNOWN, Status.BUSY, 0)])
    assert store.flush() == 0
    store.create_schema()
    assert store.flush() == 1
    assert [e.new for e in store.changes_by_source("ada", T0)["cisco"]] == [Status.BUSY]


def test_the_source_table_is_added_to_a_database_made_before_it(tmp_path) -> None:
    """An existing database has release 0.1.0's tables: create_schema adds source_changes
    and leaves the old table's rows alone."""
    engine = engine_for(f"sqlite:///{tmp_path / 'old.db'}")
    create_release_0_1_0(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO status_changes (person_id, old_status, new_status, changed_at) "
                "VALUES ('ada', 'unknown', 'online', '2026-11-23 08:00:00')"
            )
        )
    store = HistoryStore(engine)
    store.create_schema()
    store.record([], [_source("ada", "cisco", Status.UNKNOWN, Status.BUSY, 0)])
    assert store.flush() == 1
    assert [e.new for e in store.changes("ada", T0 - timedelta(hours=2))] == [Status.ONLINE]
    assert len(store.changes_by_source("ada", T0)["cisco"]) == 1
