"""BoardStateStore against real databases: SQLite on disk and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from presence_dash.core.board import PresenceBoard
from presence_dash.core.model import Observation, Person, Status
from presence_dash.storage.board_state import BoardStateStore, person_state
from presence_dash.storage.db import create_schema

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SN, CISCO = "servicenow", "cisco"
STALE = {SN: timedelta(seconds=15), CISCO: timedelta(seconds=15)}
ADA = Person("ada", "Ada Lovelace", "Desk", {SN: "a" * 32, CISCO: "ada@example.com"})
BOB = Person("bob", "Bob Babbage", "Desk", {SN: "b" * 32})


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    create_schema(sql_engine)
    return sql_engine


def busy_board() -> PresenceBoard:
    board = PresenceBoard((ADA, BOB), STALE, T0)
    board.apply(
        SN,
        [
            Observation("ada", SN, Status.ONLINE, at(0)),
            Observation("bob", SN, Status.OFFLINE, at(0), state_since=at(-50_000)),
        ],
        at(1),
    )
    board.apply(
        CISCO,
        [Observation("ada", CISCO, Status.BUSY, at(0), "on-the-phone", "On the phone", at(-90))],
        at(1),
    )
    return board


def test_saved_state_round_trips_through_the_database(engine: sa.Engine) -> None:
    board = busy_board()
    store = BoardStateStore(engine, board, lambda: at(2))
    store.mark(["ada", "bob"])
    assert store.flush() == 4  # two people, two providers' last success
    saved = BoardStateStore(engine, board, lambda: at(3)).load()
    assert set(saved.people) == {"ada", "bob"}
    ada = saved.people["ada"]
    assert (ada.status, ada.since, ada.since_exact) == (Status.BUSY, at(-90), True)
    assert ada.sources[CISCO].activity == "On the phone"
    assert ada.sources[CISCO].detail == "on-the-phone"
    assert ada.sources[SN].since_exact is False
    assert saved.people["bob"].since == at(-50_000)
    assert saved.last_success == {SN: at(1), CISCO: at(1)}
    assert ada.since.tzinfo is not None


def test_a_restarted_board_from_the_database_shows_the_same_people(engine: sa.Engine) -> None:
    before = busy_board()
    store = BoardStateStore(engine, before, lambda: at(2))
    store.mark(["ada", "bob"])
    store.flush()
    after = PresenceBoard((ADA, BOB), STALE, at(5))
    assert after.restore(store.load(), at(5)) == 2
    for pid in ("ada", "bob"):
        old, new = before.person(pid), after.person(pid)
        assert old is not None and new is not None
        assert (new.status, new.since, new.activity) == (old.status, old.since, old.activity)


def test_later_writes_update_rows_in_place(engine: sa.Engine) -> None:
    board = busy_board()
    store = BoardStateStore(engine, board, lambda: at(2))
    store.mark(["ada"])
    store.flush()
    board.apply(CISCO, [Observation("ada", CISCO, Status.ONLINE, at(9))], at(10))
    store.mark(["ada"])
    assert store.flush() == 2  # ada again, and Cisco's last success moved
    with engine.connect() as conn:
        rows = conn.execute(sa.select(person_state)).all()
    assert [(r.person_id, r.status) for r in rows] == [("ada", "online")]


def test_nothing_pending_writes_nothing(engine: sa.Engine) -> None:
    store = BoardStateStore(engine, busy_board(), lambda: at(2))
    store.mark([])
    assert store.flush() == 2  # first write: providers' last success
    assert store.flush() == 0


def test_a_row_the_release_cannot_read_is_skipped_not_fatal(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            person_state.insert(),
            {
                "person_id": "ada",
                "status": "on-a-boat",
                "since": T0,
                "since_exact": True,
                "sources": "{}",
                "saved_at": T0,
            },
        )
    assert BoardStateStore(engine, busy_board(), lambda: T0).load().people == {}


def test_a_failed_write_is_kept_for_the_next_try(engine: sa.Engine, tmp_path: object) -> None:
    board = busy_board()
    broken = sa.create_engine("sqlite:////nonexistent-dir/x.db")
    store = BoardStateStore(broken, board, lambda: at(2))
    store.mark(["ada"])
    assert store.flush() == 0
    assert store.last_error and "database write failed" in store.last_error
    store.engine = engine
    assert store.flush() == 3
    assert store.last_error is None
