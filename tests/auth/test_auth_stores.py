"""The audit log and kiosk tokens on SQLite and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from presence_dash.auth.audit import AuditLog, audit_log
from presence_dash.auth.kiosk import KioskTokens, kiosk_tokens
from presence_dash.db import create_schema

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0
        self.mono = 0.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono


def _record(log: AuditLog, actor: str, action: str, **params: object) -> None:
    log.record(
        actor=actor,
        role="agent",
        action=action,
        target="/api/visitors/v1/cobrowse",
        params=params,
        result="ok",
        status=200,
        client_addr="10.0.0.8",
    )


def test_audit_pages_newest_first_filters_and_redacts(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    log = AuditLog(sql_engine, clock)
    for i in range(5):
        clock.now = T0 + timedelta(minutes=i)
        _record(log, "abe" if i % 2 == 0 else "vera", f"action{i}", n=i, api_key="sk-123")
    first = log.page(limit=2)
    assert [e.action for e in first] == ["action4", "action3"]
    assert first[0].at == T0 + timedelta(minutes=4)
    assert first[0].params == {"n": 4, "api_key": "[redacted]"}
    older = log.page(limit=2, before_id=first[-1].id)
    assert [e.action for e in older] == ["action2", "action1"]
    assert [e.action for e in log.page(actor="abe")] == ["action4", "action2", "action0"]
    assert [e.action for e in log.page(since=T0 + timedelta(minutes=3))] == ["action4", "action3"]
    with sql_engine.connect() as conn:
        stored = conn.execute(sa.select(audit_log.c.params)).scalars().all()
    assert not any("sk-123" in text for text in stored)


def test_audit_purge_drops_only_rows_past_retention(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    log = AuditLog(sql_engine, clock)
    _record(log, "abe", "old")
    clock.now = T0 + timedelta(days=40)
    _record(log, "abe", "new")
    assert log.purge(retention_days=30) == 1
    assert [e.action for e in log.page()] == ["new"]


def test_kiosk_tokens_are_stored_hashed_and_revocation_sticks(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    tokens = KioskTokens(sql_engine, clock, clock.monotonic)
    token, secret = tokens.create("lobby TV", "ada")
    with sql_engine.connect() as conn:
        stored = conn.execute(sa.select(kiosk_tokens.c.token_sha256)).scalar_one()
    assert secret not in stored and len(stored) == 64
    assert tokens.verify(secret) == token
    assert tokens.verify(secret + "x") is None
    assert tokens.verify("") is None
    clock.now = T0 + timedelta(hours=1)
    revoked = tokens.revoke(token.id, "grace")
    assert revoked is not None and not revoked.active and revoked.revoked_by == "grace"
    assert tokens.verify(secret) is None  # at once on this node: the cache is cleared
    assert tokens.revoke(token.id, "someone else").revoked_by == "grace"  # type: ignore[union-attr]
    assert tokens.revoke(999, "ada") is None
    assert tokens.active_ids({token.id}) == set()


def test_a_revocation_elsewhere_is_seen_once_the_cache_expires(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    here = KioskTokens(sql_engine, clock, clock.monotonic)
    other_node = KioskTokens(sql_engine, clock, clock.monotonic)
    token, secret = here.create("lobby", "ada")
    assert here.verify(secret) is not None
    other_node.revoke(token.id, "ada")
    assert here.verify(secret) is not None  # cached for a moment
    clock.mono += 5
    assert here.verify(secret) is None
