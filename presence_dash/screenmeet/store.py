"""ScreenMeet sessions in SQL (SQLAlchemy Core: SQLite or PostgreSQL), with the API's
idempotency keys (storage/idempotency.py's table and policy, the same as Glance signals').

Sessions are stored with who created and closed them, so the list survives a restart. A
request's key is claimed in the transaction that records its outbox intent (outbox.py), so
a pending key always has an intent that says whether the request reached the vendor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from presence_dash.screenmeet.rules import OPENS_BEFORE_START, SessionStatus
from presence_dash.storage.db import UtcDateTime, create_schema, metadata
from presence_dash.storage.idempotency import KeyStore

sessions_table = sa.Table(
    "screenmeet_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("scheduled", sa.Boolean, nullable=False),
    sa.Column("start_time", UtcDateTime),
    sa.Column("pin", sa.Integer, nullable=False),
    sa.Column("user_url", sa.Text, nullable=False),
    sa.Column("host_url", sa.Text, nullable=False),
    sa.Column("host_auth_token", sa.Text, nullable=False),
    sa.Column("expires_at", UtcDateTime),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("parent_object_table", sa.String(80), nullable=False),
    sa.Column("parent_object_sys_id", sa.String(32), nullable=False),
    sa.Column("parent_object_display_name", sa.String(255), nullable=False),
    sa.Column("person_id", sa.String(64)),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("closed_by", sa.String(128)),
    sa.Column("closed_at", UtcDateTime),
    sa.Index("ix_screenmeet_sessions_status", "status", "created_at"),
)

# A pending key without an intent (from before the outbox) is given up after this.
ABANDONED_AFTER = timedelta(minutes=2)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredSession:
    id: str
    type: str
    label: str
    status: str
    scheduled: bool
    start_time: datetime | None
    pin: int
    user_url: str
    host_url: str
    host_auth_token: str
    expires_at: datetime | None
    settings: dict[str, bool] = field(hash=False)
    parent_object_table: str = ""
    parent_object_sys_id: str = ""
    parent_object_display_name: str = ""
    person_id: str | None = None
    notes: tuple[str, ...] = ()
    created_by: str = "anonymous"
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH
    closed_by: str | None = None
    closed_at: datetime | None = None

    def but(self, **changes: Any) -> StoredSession:
        return replace(self, **changes)


class SessionStore(KeyStore):
    """Sessions; the key table's reads (`lookup`, `answer`, `release`, `purge_keys`) are
    KeyStore's."""

    def create_schema(self) -> None:
        create_schema(self.engine)

    # -- sessions -----------------------------------------------------------------------

    def save(self, session: StoredSession) -> None:
        """Insert or replace one session."""
        with self.engine.begin() as conn:
            save_session(conn, session)

    def get(self, session_id: str) -> StoredSession | None:
        query = sa.select(sessions_table).where(sessions_table.c.id == session_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _session(row) if row else None

    def list(self, include_closed: bool = True, limit: int = 200) -> list[StoredSession]:
        """Newest first."""
        query = sa.select(sessions_table)
        if not include_closed:
            query = query.where(sessions_table.c.status != SessionStatus.CLOSED.value)
        query = query.order_by(sessions_table.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_session(row) for row in conn.execute(query)]

    def due_to_open(self, now: datetime) -> list[StoredSession]:
        """Scheduled sessions the vendor has opened by now (ten minutes before start)."""
        query = sa.select(sessions_table).where(
            sessions_table.c.status == SessionStatus.SCHEDULED.value,
            sessions_table.c.start_time <= now + OPENS_BEFORE_START,
        )
        with self.engine.connect() as conn:
            return [_session(row) for row in conn.execute(query)]

    def set_status(self, session_id: str, old: str, new: str, now: datetime) -> bool:
        """Compare-and-set, so two web nodes promoting the same session emit it once."""
        statement = (
            sessions_table.update()
            .where(sessions_table.c.id == session_id, sessions_table.c.status == old)
            .values(status=new, updated_at=now)
        )
        with self.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1


def save_session(conn: sa.Connection, session: StoredSession) -> None:
    """Insert or replace one session inside the caller's transaction."""
    conn.execute(sessions_table.delete().where(sessions_table.c.id == session.id))
    conn.execute(sessions_table.insert(), _row(session))


def _row(s: StoredSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "type": s.type,
        "label": s.label,
        "status": s.status,
        "scheduled": s.scheduled,
        "start_time": s.start_time,
        "pin": s.pin,
        "user_url": s.user_url,
        "host_url": s.host_url,
        "host_auth_token": s.host_auth_token,
        "expires_at": s.expires_at,
        "settings": json.dumps(s.settings),
        "parent_object_table": s.parent_object_table,
        "parent_object_sys_id": s.parent_object_sys_id,
        "parent_object_display_name": s.parent_object_display_name,
        "person_id": s.person_id,
        "notes": json.dumps(list(s.notes)),
        "created_by": s.created_by,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "closed_by": s.closed_by,
        "closed_at": s.closed_at,
    }


def _session(row: sa.Row) -> StoredSession:
    return StoredSession(
        id=row.id,
        type=row.type,
        label=row.label,
        status=row.status,
        scheduled=bool(row.scheduled),
        start_time=row.start_time,
        pin=row.pin,
        user_url=row.user_url,
        host_url=row.host_url,
        host_auth_token=row.host_auth_token,
        expires_at=row.expires_at,
        settings=json.loads(row.settings),
        parent_object_table=row.parent_object_table,
        parent_object_sys_id=row.parent_object_sys_id,
        parent_object_display_name=row.parent_object_display_name,
        person_id=row.person_id,
        notes=tuple(json.loads(row.notes)),
        created_by=row.created_by,
        created_at=row.created_at,  # type: ignore[arg-type]
        updated_at=row.updated_at,  # type: ignore[arg-type]
        closed_by=row.closed_by,
        closed_at=row.closed_at,
    )
