"""HistoryStore against real databases: SQLite on disk and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from presence_dash.board import Transition
from presence_dash.db import engine_for
from presence_dash.history import HistoryStore
from presence_dash.model import Status

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
