"""The ScreenMeet outbox: every action that changes a session at the vendor (create, schedule,
reschedule, close) is recorded here, with its audit row and its idempotency key, in one
committed transaction *before* it is sent; the transaction that stores its outcome also
stores the session, completes the audit row and keeps the answer under the key.

So a crash between the vendor's answer and our save leaves a pending intent, not an orphan:
its id is the `external_id` the vendor keeps with the session, and the reconcile pass looks
it up (docs/reliability.md, "ScreenMeet outbox").

States: `pending` (recorded, not finished; `attempt_at` is when a sender took it, NULL when
nobody is sending it now), `done`, `failed` (the vendor refused, or it was given up).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from presence_dash.auth.audit import audit_log, entry_row
from presence_dash.screenmeet.store import StoredSession
from presence_dash.screenmeet.store import save_session as save_session_in
from presence_dash.storage.db import UtcDateTime, metadata
from presence_dash.storage.idempotency import KEYS_KEPT_FOR, claim_key, settle_key

intents_table = sa.Table(
    "screenmeet_intents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # our UUID; the vendor's external_id
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("session_id", sa.String(64)),
    sa.Column("request", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("client_addr", sa.String(64), nullable=False),
    sa.Column("audit_id", sa.Integer),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("attempt_at", UtcDateTime),
    sa.Column("last_error", sa.String(300)),
    sa.Column("answer_status", sa.Integer),
    sa.Column("answer", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_screenmeet_intents_state", "state", "created_at"),
    sa.Index("ix_screenmeet_intents_key", "idempotency_key"),
)


class IntentAction(StrEnum):
    CREATE = "create"
    SCHEDULE = "schedule"
    RESCHEDULE = "reschedule"
    CLOSE = "close"


class IntentState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditDraft:
    """The audit row of the request that records an intent, minus its result (the web layer
    knows who and what; the outbox writes it in the intent's transaction)."""

    actor: str
    role: str
    action: str
    target: str
    params: dict[str, Any] = field(hash=False)
    client_addr: str | None = None


@dataclass(frozen=True)
class Intent:
    id: str
    action: IntentAction
    request: dict[str, Any] = field(hash=False)
    session_id: str | None = None
    actor: str = "anonymous"
    created_at: datetime | None = None
    idempotency_key: str | None = None
    client_addr: str = ""
    audit_id: int | None = None
    state: IntentState = IntentState.PENDING
    attempts: int = 0
    attempt_at: datetime | None = None
    last_error: str | None = None
    answer_status: int | None = None
    answer: Any = field(default=None, hash=False)

    @staticmethod
    def new(
        action: IntentAction,
        request: dict[str, Any],
        session_id: str | None,
        actor: str,
        now: datetime,
        *,
        key: str | None = None,
        client_addr: str | None = None,
    ) -> Intent:
        return Intent(
            id=str(uuid.uuid4()),
            action=action,
            request=request,
            session_id=session_id,
            actor=actor,
            created_at=now,
            idempotency_key=key,
            client_addr=(client_addr or "")[:64],
        )


@dataclass(frozen=True)
class Outcome:
    """How an intent ended: the answer for its request (and a replay), the audit result, the
    session to store; `keep` False drops its idempotency key, so a retry starts afresh (the
    vendor refused our credentials: nothing happened there, and it is worth trying again)."""

    state: IntentState
    status: int
    answer: dict[str, Any] = field(hash=False)
    audit_result: str
    session: StoredSession | None = None
    keep: bool = True


class KeyTaken(Exception):
    """Another request recorded an intent under this idempotency key first."""


class Outbox:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record(
        self, intent: Intent, now: datetime, audit: AuditDraft | None, print_: str | None
    ) -> Intent:
        """Commit the intent (taken by the caller: `attempt_at` = now), its pending audit
        row and its key, or nothing. Raises KeyTaken, or SQLAlchemyError when the database
        cannot record it (then nothing may be sent)."""
        intent = replace(intent, attempts=1, attempt_at=now)
        try:
            with self.engine.begin() as conn:
                if intent.idempotency_key is not None:
                    claim_key(conn, intent.idempotency_key, print_ or "", now)
                if audit is not None:
                    row = entry_row(
                        at=now,
                        actor=audit.actor,
                        role=audit.role,
                        action=audit.action,
                        target=audit.target,
                        params={**audit.params, "intent": intent.id},
                        result="pending",
                        status=0,
                        client_addr=audit.client_addr,
                    )
                    audit_id = conn.execute(audit_log.insert().values(**row)).inserted_primary_key
                    intent = replace(intent, audit_id=int(audit_id[0]))
                conn.execute(intents_table.insert(), _row(intent, now))
        except sa.exc.IntegrityError:
            if intent.idempotency_key is None:
                raise
            raise KeyTaken(intent.idempotency_key) from None
        return intent

    def take(
        self,
        intent_id: str,
        now: datetime,
        lease: timedelta,
        *,
        created_before: datetime | None = None,
    ) -> Intent | None:
        """Become its sender if nobody is (never taken, released, or the sender's lease ran
        out; `created_before`: recorded before this process started, so its sender is gone).
        A compare-and-set: of two racing takers one wins."""
        c = intents_table.c
        free = sa.or_(c.attempt_at.is_(None), c.attempt_at < now - lease)
        if created_before is not None:
            free = sa.or_(free, c.created_at < created_before)
        statement = (
            intents_table.update()
            .where(c.id == intent_id, c.state == IntentState.PENDING.value, free)
            .values(attempt_at=now, attempts=c.attempts + 1, updated_at=now)
        )
        with self.engine.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                return None
        return self.get(intent_id)

    def release(self, intent: Intent, error: str, status: int, now: datetime) -> None:
        """The vendor's answer left the outcome unknown (timeout, 5xx): nobody is sending it
        now, and its audit row says so until the reconcile pass or a retry settles it."""
        with self.engine.begin() as conn:
            conn.execute(
                intents_table.update()
                .where(
                    intents_table.c.id == intent.id,
                    intents_table.c.state == IntentState.PENDING.value,
                )
                .values(attempt_at=None, last_error=error[:300], updated_at=now)
            )
            if intent.audit_id is not None:
                _set_audit(conn, intent.audit_id, "unknown", status)

    def finish(self, intent: Intent, outcome: Outcome, now: datetime) -> bool:
        """Store the outcome, the session, the audit result and the key's answer together;
        False (and nothing written) when someone else finished it first."""
        c = intents_table.c
        session_id = outcome.session.id if outcome.session else intent.session_id
        with self.engine.begin() as conn:
            changed = conn.execute(
                intents_table.update()
                .where(c.id == intent.id, c.state == IntentState.PENDING.value)
                .values(
                    state=outcome.state.value,
                    session_id=session_id,
                    attempt_at=None,
                    answer_status=outcome.status,
                    answer=json.dumps(outcome.answer),
                    updated_at=now,
                )
            ).rowcount
            if changed != 1:
                return False
            if outcome.session is not None:
                save_session_in(conn, outcome.session)
            if intent.audit_id is not None:
                _set_audit(conn, intent.audit_id, outcome.audit_result, outcome.status)
            if intent.idempotency_key is not None:
                settle_key(
                    conn, intent.idempotency_key, outcome.keep, outcome.status, outcome.answer
                )
        return True

    def get(self, intent_id: str) -> Intent | None:
        query = sa.select(intents_table).where(intents_table.c.id == intent_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _intent(row) if row else None

    def by_key(self, key: str) -> Intent | None:
        query = (
            sa.select(intents_table)
            .where(intents_table.c.idempotency_key == key)
            .order_by(intents_table.c.created_at.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _intent(row) if row else None

    def unfinished(self, limit: int = 100) -> list[Intent]:
        """Pending intents, oldest first."""
        query = (
            sa.select(intents_table)
            .where(intents_table.c.state == IntentState.PENDING.value)
            .order_by(intents_table.c.created_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_intent(row) for row in conn.execute(query)]

    def purge(self, now: datetime) -> int:
        """Finished intents are kept as long as idempotency keys (their answers' twins)."""
        c = intents_table.c
        with self.engine.begin() as conn:
            return conn.execute(
                intents_table.delete().where(
                    c.state != IntentState.PENDING.value, c.updated_at < now - KEYS_KEPT_FOR
                )
            ).rowcount


def _set_audit(conn: sa.Connection, audit_id: int, result: str, status: int) -> None:
    conn.execute(
        audit_log.update()
        .where(audit_log.c.id == audit_id)
        .values(result=result[:32], status=status)
    )


def _row(i: Intent, now: datetime) -> dict[str, Any]:
    return {
        "id": i.id,
        "action": i.action.value,
        "session_id": i.session_id,
        "request": json.dumps(i.request),
        "idempotency_key": i.idempotency_key,
        "actor": i.actor[:128],
        "client_addr": i.client_addr,
        "audit_id": i.audit_id,
        "state": i.state.value,
        "attempts": i.attempts,
        "attempt_at": i.attempt_at,
        "last_error": i.last_error,
        "answer_status": i.answer_status,
        "answer": None if i.answer is None else json.dumps(i.answer),
        "created_at": i.created_at or now,
        "updated_at": now,
    }


def _intent(row: sa.Row) -> Intent:
    return Intent(
        id=row.id,
        action=IntentAction(row.action),
        request=json.loads(row.request),
        session_id=row.session_id,
        actor=row.actor,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
        client_addr=row.client_addr,
        audit_id=row.audit_id,
        state=IntentState(row.state),
        attempts=row.attempts,
        attempt_at=row.attempt_at,
        last_error=row.last_error,
        answer_status=row.answer_status,
        answer=None if row.answer is None else json.loads(row.answer),
    )
