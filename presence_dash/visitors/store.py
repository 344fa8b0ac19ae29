"""Glance visitor actions in SQL: each signal is recorded (committed) before it is sent, and
its Idempotency-Key is claimed in the same transaction, under the API's one idempotency
policy (storage/idempotency.py), so a retry on any web node finds the first answer.

Glance keeps no request id, so a signal whose sender died between recording and answering
cannot be looked up: it is never sent again (no duplicate) and stays on record; a retry
with its key after `SENDER_LEASE` is answered `signal_outcome_unknown`, never a guess.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from presence_dash.core.errors import error_body
from presence_dash.storage.db import UtcDateTime, metadata
from presence_dash.storage.idempotency import (
    KEYS_KEPT_FOR,
    Claim,
    KeyStore,
    claim_key,
    settle_key,
)

signals_table = sa.Table(
    "glance_signals",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),  # "cobrowse" | "signal"
    sa.Column("group_id", sa.Integer, nullable=False),
    sa.Column("visitor_id", sa.String(64), nullable=False),
    sa.Column("mtype", sa.String(8), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("answer", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_glance_signals_state", "state", "created_at"),
)

PURGE_EVERY = timedelta(hours=1)
# Longer than one send can take (find + signal, each retried once on a 401, 10 s timeouts).
SENDER_LEASE = timedelta(seconds=60)
UNKNOWN_ANSWER = error_body(
    "signal_outcome_unknown",
    "the dashboard stopped while sending this; it may have reached the visitor and is not "
    "sent again",
)


class SignalState(StrEnum):
    PENDING = "pending"  # recorded; its sender has not said how it went
    SENT = "sent"
    GONE = "gone"  # the visitor had left
    FAILED = "failed"  # Glance did not take it (a retry with the key may send)
    UNKNOWN = "unknown"  # the sender died mid-send


@dataclass(frozen=True)
class SignalRecord:
    action: str
    group_id: int
    visitor_id: str
    mtype: str
    data: dict[str, Any]
    actor: str


class KeyTaken(Exception):
    """Another request recorded a signal under this Idempotency-Key first."""


class SignalLog:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._keys = KeyStore(engine)
        self._purged_at: datetime | None = None

    def lookup(self, key: str, print_: str) -> Claim:
        return self._keys.lookup(key, print_)

    def keep_answer(self, key: str, print_: str, status: int, body: Any, now: datetime) -> None:
        """The answer to a request refused before anything was recorded (ambiguous, gone)."""
        self._keys.answer(key, print_, status, body, now)

    def record(self, signal: SignalRecord, key: str | None, print_: str, now: datetime) -> str:
        """Commit the signal as pending, with its key claimed; its id. Raises KeyTaken, or
        SQLAlchemyError when the database cannot record it (then nothing may be sent)."""
        self._purge_now_and_then(now)
        signal_id = str(uuid.uuid4())
        row = {
            "id": signal_id,
            "action": signal.action,
            "group_id": signal.group_id,
            "visitor_id": signal.visitor_id,
            "mtype": signal.mtype,
            "data": json.dumps(signal.data),
            "idempotency_key": key,
            "actor": signal.actor[:128],
            "state": SignalState.PENDING.value,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as conn:
                if key is not None:
                    claim_key(conn, key, print_, now)
                conn.execute(signals_table.insert(), row)
        except sa.exc.IntegrityError:
            if key is None:
                raise
            raise KeyTaken(key) from None
        return signal_id

    def finish(
        self,
        signal_id: str,
        key: str | None,
        state: SignalState,
        status: int,
        body: Any,
        now: datetime,
    ) -> None:
        """Store how it went; a FAILED signal frees its key (nothing reached the visitor, so
        a retry may send), any other keeps the answer for a retry."""
        with self.engine.begin() as conn:
            self._settle(conn, signal_id, state, status, body, now)
            if key is not None:
                settle_key(conn, key, state is not SignalState.FAILED, status, body)

    def settle_abandoned(self, key: str, print_: str, claim: Claim, now: datetime) -> Claim:
        """A pending key whose sender has been silent past the lease: its signal becomes
        UNKNOWN and the key answers `signal_outcome_unknown` (of two racing nodes one
        settles it). A younger pending key is returned as it is."""
        if claim.claimed_at is None or now - claim.claimed_at < SENDER_LEASE:
            return claim
        c = signals_table.c
        query = sa.select(c.id).where(
            c.idempotency_key == key, c.state == SignalState.PENDING.value
        )
        with self.engine.begin() as conn:
            row = conn.execute(query).first()
            if row is not None and self._settle(
                conn, row.id, SignalState.UNKNOWN, 504, UNKNOWN_ANSWER, now
            ):
                settle_key(conn, key, True, 504, UNKNOWN_ANSWER)
        return self._keys.lookup(key, print_)

    def _purge_now_and_then(self, now: datetime) -> None:
        """Signals and keys older than the key lifetime go, at most once an hour
        (where actions happen: the worker's ScreenMeet loop purges only with ScreenMeet)."""
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        with self.engine.begin() as conn:
            conn.execute(
                signals_table.delete().where(signals_table.c.created_at < now - KEYS_KEPT_FOR)
            )
        self._keys.purge_keys(now)

    def states(self, visitor_id: str) -> list[str]:
        """The states of a visitor's recorded signals, oldest first (tests, support)."""
        c = signals_table.c
        query = sa.select(c.state).where(c.visitor_id == visitor_id).order_by(c.created_at)
        with self.engine.connect() as conn:
            return [row.state for row in conn.execute(query)]

    @staticmethod
    def _settle(
        conn: sa.Connection,
        signal_id: str,
        state: SignalState,
        status: int,
        body: Any,
        now: datetime,
    ) -> bool:
        c = signals_table.c
        changed = conn.execute(
            signals_table.update()
            .where(c.id == signal_id, c.state == SignalState.PENDING.value)
            .values(state=state.value, status_code=status, answer=json.dumps(body), updated_at=now)
        ).rowcount
        return changed == 1
