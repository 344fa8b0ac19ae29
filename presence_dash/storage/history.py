"""Status history: every aggregate status change and every change of each source (what it
counts as: status and activity), stored for `/api/people/<id>/history`.

SQLAlchemy Core, so the same code runs on SQLite (default) and PostgreSQL. The push hub
hands transitions over through `record()` (a cheap append); a background task writes them
in one transaction per second, so a slow disk never delays a presence batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from presence_dash.core.background import Tasks
from presence_dash.core.board import SourceTransition, Transition
from presence_dash.core.model import Status
from presence_dash.storage.db import UtcDateTime, create_schema, metadata
from presence_dash.storage.writer import BackgroundWriter

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

# A table of its own, not columns on status_changes: the schema is create_all, which adds
# a new table to an existing database but never a column.
source_changes = sa.Table(
    "source_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("person_id", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("old_status", sa.String(16), nullable=False),
    sa.Column("new_status", sa.String(16), nullable=False),
    sa.Column("activity", sa.Text, nullable=True),  # vendor text: no length to overflow
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("changed_at", UtcDateTime, nullable=False),
    sa.Index("ix_source_changes_person_source_time", "person_id", "source", "changed_at"),
)

MAX_PENDING = 100_000  # of each kind


@dataclass(frozen=True)
class HistoryEntry:
    person_id: str
    old: Status
    new: Status
    at: datetime


@dataclass(frozen=True)
class SourceEntry:
    old: Status
    new: Status
    activity: str | None
    detail: str | None
    at: datetime


@dataclass
class _Pending:
    transitions: list[Transition] = field(default_factory=list)
    sources: list[SourceTransition] = field(default_factory=list)


def _keep_newest(items: list[Transition] | list[SourceTransition]) -> None:
    if len(items) > MAX_PENDING:  # database down for long: keep the newest
        del items[: len(items) - MAX_PENDING]


class HistoryStore(BackgroundWriter):
    name = "history"

    def __init__(self, engine: sa.Engine, tasks: Tasks | None = None) -> None:
        super().__init__(engine, tasks)
        self._pending = _Pending()

    def create_schema(self) -> None:
        create_schema(self.engine)

    def record(
        self, transitions: Sequence[Transition], sources: Sequence[SourceTransition] = ()
    ) -> None:
        if not transitions and not sources:
            return
        with self._lock:
            self._pending.transitions.extend(transitions)
            self._pending.sources.extend(sources)
            _keep_newest(self._pending.transitions)
            _keep_newest(self._pending.sources)

    def _take(self) -> _Pending | None:
        batch, self._pending = self._pending, _Pending()
        return batch if batch.transitions or batch.sources else None

    def _give_back(self, batch: object) -> None:
        assert isinstance(batch, _Pending)
        self._pending.transitions[:0] = batch.transitions
        self._pending.sources[:0] = batch.sources

    def _write(self, conn: sa.Connection, batch: object) -> int:
        assert isinstance(batch, _Pending)
        rows = [
            {
                "person_id": t.person_id,
                "old_status": t.old.value,
                "new_status": t.new.value,
                "changed_at": t.at,
            }
            for t in batch.transitions
        ]
        by_source = [
            {
                "person_id": t.person_id,
                "source": t.source,
                "old_status": t.old.value,
                "new_status": t.new.value,
                "activity": t.activity,
                "detail": t.detail,
                "changed_at": t.at,
            }
            for t in batch.sources
        ]
        if rows:
            conn.execute(status_changes.insert(), rows)
        if by_source:
            conn.execute(source_changes.insert(), by_source)
        return len(rows) + len(by_source)

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

    def changes_by_source(
        self, person_id: str, since: datetime, limit: int = 1000
    ) -> dict[str, list[SourceEntry]]:
        """Per source with a record, newest first: the changes since `since`, then the one in
        force at `since` if it is older (so a bar knows the status its window begins in).
        The sources come from the table, not the board: a web node's board has none."""
        table = source_changes
        out: dict[str, list[SourceEntry]] = {}
        with self.engine.connect() as conn:
            for name in _sources_of(conn, person_id):
                mine = (table.c.person_id == person_id, table.c.source == name)
                newest_first = (table.c.changed_at.desc(), table.c.id.desc())
                recent = sa.select(table).where(*mine, table.c.changed_at >= since)
                before = sa.select(table).where(*mine, table.c.changed_at < since)
                found = list(conn.execute(recent.order_by(*newest_first).limit(limit)))
                if len(found) < limit:
                    found += conn.execute(before.order_by(*newest_first).limit(1))
                out[name] = [_source_entry(row) for row in found]
        return out

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


def _sources_of(conn: sa.Connection, person_id: str) -> list[str]:
    """The person's sources in the table, one index seek each (MIN over the index's
    (person_id, source) prefix): DISTINCT would read every row the person ever had."""
    names: list[str] = []
    column = source_changes.c.source
    while True:
        query = sa.select(sa.func.min(column)).where(source_changes.c.person_id == person_id)
        if names:
            query = query.where(column > names[-1])
        name = conn.execute(query).scalar()
        if name is None:
            return names
        names.append(name)


def _source_entry(row: sa.Row) -> SourceEntry:
    return SourceEntry(
        Status(row.old_status), Status(row.new_status), row.activity, row.detail, row.changed_at
    )


def window(hours: float, now: datetime) -> datetime:
    return now - timedelta(hours=hours)
