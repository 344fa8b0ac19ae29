"""The board's state saved in the database, so a restart changes no timer.

Every published person's status, `since` and sources, and each provider's last success,
are written by a background task (one transaction a second, `db_writer.py`); on start the
board is `restore`d from them before any provider runs (board.py says what is trusted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from presence_dash.core.background import Tasks
from presence_dash.core.board import PresenceBoard, SavedBoard, SavedPerson, SavedSource
from presence_dash.core.clock import Clock
from presence_dash.core.model import Status
from presence_dash.core.timefmt import iso_z, parse_iso_z
from presence_dash.storage.db import UtcDateTime, metadata
from presence_dash.storage.writer import BackgroundWriter

log = logging.getLogger(__name__)

person_state = sa.Table(
    "person_state",
    metadata,
    sa.Column("person_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("since", UtcDateTime, nullable=False),
    sa.Column("since_exact", sa.Boolean, nullable=False),
    sa.Column("sources", sa.Text, nullable=False),  # JSON: {name: {status, detail, ...}}
    sa.Column("saved_at", UtcDateTime, nullable=False),
)

provider_state = sa.Table(
    "provider_state",
    metadata,
    sa.Column("provider", sa.String(64), primary_key=True),
    sa.Column("last_success", UtcDateTime, nullable=False),
)


class BoardStateStore(BackgroundWriter):
    name = "board state"

    def __init__(
        self, engine: sa.Engine, board: PresenceBoard, clock: Clock, tasks: Tasks | None = None
    ) -> None:
        super().__init__(engine, tasks)
        self.board = board
        self.clock = clock
        self._pending: set[str] = set()
        self._written_success: dict[str, datetime] = {}

    def mark(self, person_ids: Iterable[str]) -> None:
        """These people were published changed: save them with the next write."""
        with self._lock:
            self._pending.update(person_ids)

    def _take(self) -> tuple[set[str], SavedBoard] | None:
        ids, self._pending = self._pending, set()
        saved = self.board.saved(self.clock(), ids)
        moved = any(self._written_success.get(n) != t for n, t in saved.last_success.items())
        return (ids, saved) if ids or moved else None

    def _give_back(self, batch: object) -> None:
        assert isinstance(batch, tuple)
        self._pending |= batch[0]

    def _write(self, conn: sa.Connection, batch: object) -> int:
        assert isinstance(batch, tuple)
        _, saved = batch
        people = [_person_row(pid, person) for pid, person in saved.people.items()]
        if people:
            _upsert(conn, person_state, people, "person_id")
        moved = [
            {"provider": name, "last_success": at}
            for name, at in saved.last_success.items()
            if self._written_success.get(name) != at
        ]
        if moved:
            _upsert(conn, provider_state, moved, "provider")
            self._written_success.update({r["provider"]: r["last_success"] for r in moved})
        return len(people) + len(moved)

    def load(self) -> SavedBoard:
        """Everything saved; rows a newer or older release wrote differently are skipped."""
        people: dict[str, SavedPerson] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(sa.select(person_state)):
                try:
                    people[row.person_id] = _saved_person(row)
                except (ValueError, TypeError, KeyError) as exc:
                    log.warning("board state: ignoring saved state of %r (%s)", row.person_id, exc)
            last = {r.provider: r.last_success for r in conn.execute(sa.select(provider_state))}
        return SavedBoard(people, last)


def _person_row(pid: str, person: SavedPerson) -> dict[str, Any]:
    return {
        "person_id": pid,
        "status": person.status.value,
        "since": person.since,
        "since_exact": person.since_exact,
        "sources": sources_text(person),
        "saved_at": person.saved_at,
    }


def _saved_person(row: sa.Row) -> SavedPerson:
    return SavedPerson(
        Status(row.status), row.since, row.since_exact, row.saved_at, saved_sources(row.sources)
    )


def sources_text(person: SavedPerson) -> str:
    """A saved person's sources as JSON text (here a column; in Redis part of a hash value,
    cluster/board_feed.py)."""
    sources = {
        name: {
            "status": src.status.value,
            "detail": src.detail,
            "activity": src.activity,
            "since": iso_z(src.since),
            "since_exact": src.since_exact,
        }
        for name, src in person.sources.items()
    }
    return json.dumps(sources, sort_keys=True)


def saved_sources(text: str) -> dict[str, SavedSource]:
    """`sources_text` read back; raises ValueError, TypeError or KeyError on other shapes."""
    return {
        str(name): SavedSource(
            Status(src["status"]),
            src.get("detail"),
            src.get("activity"),
            parse_iso_z(src["since"]),
            bool(src["since_exact"]),
        )
        for name, src in json.loads(text).items()
    }


def _upsert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], key: str) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, in the dialect's own words (SQLite and
    PostgreSQL both have it; SQLAlchemy Core has no portable form)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key}
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=updates), rows)
