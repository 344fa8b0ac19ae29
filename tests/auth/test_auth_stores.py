"""The audit log, kiosk tokens, sign-ins and anonymous-noise rows on SQLite and the
machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from presence_dash.auth.audit import AuditLog, audit_log
from presence_dash.auth.kiosk import KioskTokens, kiosk_tokens
from presence_dash.auth.noise import WINDOW_SECONDS
from presence_dash.auth.noise_log import NoiseLog
from presence_dash.auth.rate_limits import RateLimits
from presence_dash.auth.sign_ins import SignIns, sign_ins
from presence_dash.storage.db import create_schema

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


def _sign_ins(engine: sa.Engine, clock: Clock) -> SignIns:
    return SignIns(engine, clock, clock.monotonic, timedelta(hours=12))


def test_a_sign_in_is_stored_hashed_and_ends_for_good_at_sign_out(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    here = _sign_ins(sql_engine, clock)
    login = here.start("abe")
    with sql_engine.connect() as conn:
        stored = conn.execute(sa.select(sign_ins.c.id_sha256, sign_ins.c.username)).one()
    assert login not in stored.id_sha256 and stored.username == "abe"
    assert here.active(login) and not here.active(login + "x")
    assert not here.active(None) and not here.active("") and not here.active(42)
    here.end(login)
    assert not here.active(login)  # at once on this node
    assert here.active_among({login}) == set()


def test_a_sign_out_on_another_node_is_seen_once_the_cache_expires(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    clock = Clock()
    here, other_node = _sign_ins(sql_engine, clock), _sign_ins(sql_engine, clock)
    login = here.start("abe")
    assert here.active(login) and other_node.active(login)
    here.end(login)
    assert other_node.active(login)  # cached for a moment
    clock.mono += 5
    assert not other_node.active(login)
    # The sweep that looks for ended sign-ins refreshes the cache on the way.
    again = here.start("abe")
    assert other_node.active(again)
    here.end(again)
    assert other_node.active_among({again}) == set()
    assert not other_node.active(again)


def test_sign_ins_expire_and_expired_ones_are_removed(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    store = _sign_ins(sql_engine, clock)
    old = store.start("abe")
    clock.now, clock.mono = T0 + timedelta(hours=11), 100.0
    kept = store.start("vera")
    clock.now, clock.mono = T0 + timedelta(hours=12, seconds=1), 200.0
    assert not store.active(old) and store.active(kept)
    assert store.active_among({old, kept}) == {kept}
    assert store.purge_expired() == 1
    store.start("grace")  # every sign-in also removes the expired ones
    clock.now = T0 + timedelta(hours=25)
    store.start("ada")
    with sql_engine.connect() as conn:
        names = conn.execute(sa.select(sign_ins.c.username)).scalars().all()
    assert names == ["ada"]


def test_anonymous_noise_is_written_as_counts_per_address_and_window(
    sql_engine: sa.Engine,
) -> None:
    create_schema(sql_engine)
    clock = Clock()
    log = AuditLog(sql_engine, clock)
    noise = NoiseLog(log, RateLimits(), clock.monotonic)
    for i in range(300):
        noise.note("10.6.6.6", "POST", f"/wp-login{i % 7}.php", 404 if i < 60 else 429)
    noise.note("10.7.7.7", "POST", "/nope", 401)
    for _ in range(50):
        noise.note("10.6.6.6", "GET", "/.env", 404)  # counted in /metrics, never audited
    assert [(e.client_addr, e.params) for e in log.page()] == [
        ("10.7.7.7", {"first_of_window": True, "method": "POST"}),
        ("10.6.6.6", {"first_of_window": True, "method": "POST"}),
    ]
    assert noise.flush() == 0  # the windows are still open
    clock.mono += WINDOW_SECONDS
    assert noise.flush() == 1  # 10.7.7.7 sent one: its opening row said it all
    summary = log.page(limit=1)[0]
    assert (summary.actor, summary.action, summary.client_addr) == (
        "anonymous",
        "anonymous_noise",
        "10.6.6.6",
    )
    assert (summary.target, summary.status, summary.result) == ("/wp-login0.php", 429, "refused")
    assert summary.params == {
        "window_s": WINDOW_SECONDS,
        "count": 300,
        "statuses": {"404": 60, "429": 240},
        "methods": {"POST": 300},
        "paths": [f"/wp-login{i}.php" for i in range(5)],
    }
    assert len(log.page(limit=200)) == 3
    assert noise.seen.labels("404")._value.get() == 110  # type: ignore[attr-defined]


def test_noise_windows_still_open_are_written_when_stopping(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    clock = Clock()
    log = AuditLog(sql_engine, clock)
    noise = NoiseLog(log, RateLimits(), clock.monotonic)
    for _ in range(3):
        noise.note("10.6.6.6", "DELETE", "/api/nope", 401)
    assert noise.flush(everything=True) == 1
    assert log.page(limit=1)[0].params["count"] == 3
