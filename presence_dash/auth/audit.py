"""The audit log: who did what to what, with which parameters, how it ended, when and from
where. The app only ever inserts (and deletes rows past the retention period), except that
an action recorded before it is sent (the ScreenMeet outbox) writes a "pending" row and
later sets its result once; secrets in parameters are redacted before they are stored."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from presence_dash.core.timefmt import iso_z
from presence_dash.storage.db import UtcDateTime, metadata

log = logging.getLogger(__name__)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(256), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("result", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("client_addr", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_at", "at"),
    sa.Index("ix_audit_log_actor", "actor", "at"),
)

SECRET_KEY = re.compile(r"pass|secret|token|authori[sz]ation|cookie|api[_-]?key|pin", re.I)
MAX_PARAMS_CHARS = 4000
MAX_PAGE = 200
ID_MAX = 2**31 - 1  # `id` is an INTEGER: 32 bits on PostgreSQL


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    params: Any
    result: str
    status: int
    client_addr: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso_z(self.at),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "target": self.target,
            "params": self.params,
            "result": self.result,
            "status": self.status,
            "client_addr": self.client_addr,
        }


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking key's value replaced."""
    if isinstance(value, Mapping):
        return {
            str(k): "[redacted]" if SECRET_KEY.search(str(k)) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def entry_row(
    *,
    at: datetime,
    actor: str,
    role: str,
    action: str,
    target: str,
    params: Any,
    result: str,
    status: int,
    client_addr: str | None,
) -> dict[str, Any]:
    """The `audit_log` row for one entry, redacted and cut to the columns' sizes; callers
    that must write it in their own transaction (the ScreenMeet outbox) insert it there."""
    text = json.dumps(redact(params), default=str, sort_keys=True)
    if len(text) > MAX_PARAMS_CHARS:
        text = json.dumps({"truncated": text[:MAX_PARAMS_CHARS]})
    return {
        "at": at,
        "actor": _storable(actor)[:128],
        "role": role[:16],
        "action": _storable(action)[:64],
        "target": _storable(target)[:256],
        "params": text,
        "result": result[:32],
        "status": status,
        "client_addr": (client_addr or "")[:64],
    }


def _storable(text: str) -> str:
    """PostgreSQL refuses NUL in text (SQLite keeps it): shown escaped, the row is still
    written for a request that carried one (such requests are refused, and recorded)."""
    return text.replace("\x00", "\\x00")


class AuditLog:
    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def record(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        target: str,
        params: Any,
        result: str,
        status: int,
        client_addr: str | None,
    ) -> None:
        row = entry_row(
            at=self.clock(),
            actor=actor,
            role=role,
            action=action,
            target=target,
            params=params,
            result=result,
            status=status,
            client_addr=client_addr,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(audit_log.insert().values(**row))
        except sa.exc.SQLAlchemyError:
            # The action already happened; the log line keeps the record if the table cannot.
            log.exception("audit: could not store %s", row)

    def page(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """Newest first; pass the last id seen as `before_id` for the next page."""
        query = audit_log.select().order_by(audit_log.c.id.desc()).limit(min(limit, MAX_PAGE))
        if before_id is not None:
            # A bound beyond the column's range is a database error (a 500) and means "from
            # the newest" anyway (and below 0, "none").
            query = query.where(audit_log.c.id < min(max(before_id, 0), ID_MAX))
        if actor:
            query = query.where(audit_log.c.actor == actor)
        if action:
            query = query.where(audit_log.c.action == action)
        if since:
            query = query.where(audit_log.c.at >= since)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query)]

    def purge(self, retention_days: int) -> int:
        cutoff = self.clock() - timedelta(days=retention_days)
        with self.engine.begin() as conn:
            return conn.execute(audit_log.delete().where(audit_log.c.at < cutoff)).rowcount


def _entry(row: sa.Row) -> AuditEntry:
    try:
        params = json.loads(row.params)
    except ValueError:
        params = row.params
    return AuditEntry(
        int(row.id),
        row.at,
        row.actor,
        row.role,
        row.action,
        row.target,
        params,
        row.result,
        int(row.status),
        row.client_addr,
    )
