"""Status history: every aggregate status change, stored for `/api/people/<id>/history`.

SQLAlchemy Core, so the same code runs on SQLite (default) and PostgreSQL. The push hub
hands transitions over through `record()` (a cheap append); a background task writes them
in one transaction per second, so a slow disk never delays a presence batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .board import Transition
from .db import UtcDateTime, create_schema, metadata
from .db_writer import BackgroundWriter
from .model import Status

status_changes = sa.Table(
    "status_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person_id", sa.String(64), nullable=False),
    sa.Column("old_status", sa.String(16), nullable=False),
    sa.Column("new_status", sa.String(16), nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
    sa.Index("ix_status_changes_person_time", "person_id", "changed_at"),
)

MAX_PENDING = 100_000


@dataclass(frozen=True)
class HistoryEntry:
    person_id: str
    old: Status
    new: Status
    at: datetime


class HistoryStore(BackgroundWriter):
    name = "history"

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)
        self._pending: list[Transition] = []

    def create_schema(self) -> None:
        create_schema(self.engine)

    def record(self, transitions: Sequence[Transition]) -> None:
        if not transitions:
            return
        with self._lock:
            self._pending.extend(transitions)
            if len(self._pending) > MAX_PENDING:  # database down for long: keep the newest
                del self._pending[: len(self._pending) - MAX_PENDING]

    def _take(self) -> list[Transition] | None:
        batch, self._pending = self._pending, []
        return batch or None

    def _give_back(self, batch: object) -> None:
        assert isinstance(batch, list)
        self._pending[:0] = batch

    def _write(self, conn: sa.Connection, batch: object) -> int:
        assert isinstance(batch, list)
        rows = [
            {
                "person_id": t.person_id,
                "old_status": t.old.value,
                "new_status": t.new.value,
                "changed_at": t.at,
            }
            for t in batch
        ]
        conn.execute(status_changes.insert(), rows)
        return len(rows)

    def changes(self, person_id: str, since: datetime, limit: int = 1000) -> list[HistoryEntry]:
        """Newest first."""
        query = (
            sa.select(status_changes)
            .where(status_changes.c.person_id == person_id, status_changes.c.changed_at >= since)
            .order_by(status_changes.c.changed_at.desc(), status_changes.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def ping(self) -> str | None:
        """None when the database answers, else a short reason."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            return f"database unreachable ({type(exc).__name__})"
        return self.last_error


def _entry(row: sa.Row) -> HistoryEntry:
    return HistoryEntry(
        row.person_id, Status(row.old_status), Status(row.new_status), row.changed_at
    )


def window(hours: float, now: datetime) -> datetime:
    return now - timedelta(hours=hours)
