"""Glance signals recorded before they are sent, with their Idempotency-Key claimed in
ScreenMeet's key table, against real databases (SQLite on disk, the machine's PostgreSQL):
a repeat is answered from the record, a key is claimed once, a failed send frees its key and
a sender that died leaves an honest "unknown", never a second send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from presence_dash.storage.db import create_schema
from presence_dash.storage.idempotency import ClaimState
from presence_dash.visitors.store import (
    SENDER_LEASE,
    KeyTaken,
    SignalLog,
    SignalRecord,
    SignalState,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SIGNAL = SignalRecord("cobrowse", 72431, "v-1", "invoke", {"func": "GLANCE.X.y"}, "ada")
SENT = {"status": "sent", "visitor_id": "v-1", "group_id": 72431, "mtype": "invoke"}


@pytest.fixture
def signals(sql_engine: sa.Engine) -> SignalLog:
    create_schema(sql_engine)
    return SignalLog(sql_engine)


def test_a_recorded_and_sent_signal_replays_its_answer(signals: SignalLog) -> None:
    sid = signals.record(SIGNAL, "click-0001", "fp", T0)
    assert signals.states("v-1") == ["pending"]  # on record before it is sent
    assert signals.lookup("click-0001", "fp").state is ClaimState.PENDING
    signals.finish(sid, "click-0001", SignalState.SENT, 200, SENT, T0)
    claim = signals.lookup("click-0001", "fp")
    assert (claim.state, claim.status_code, claim.body) == (ClaimState.DONE, 200, SENT)
    assert signals.lookup("click-0001", "other").state is ClaimState.MISMATCH
    assert signals.states("v-1") == ["sent"]


def test_a_key_is_claimed_once(signals: SignalLog) -> None:
    signals.record(SIGNAL, "click-0001", "fp", T0)
    with pytest.raises(KeyTaken):
        signals.record(SIGNAL, "click-0001", "fp", T0)
    assert signals.states("v-1") == ["pending"]  # the loser recorded nothing


def test_a_failed_send_frees_its_key_for_a_retry(signals: SignalLog) -> None:
    sid = signals.record(SIGNAL, "click-0001", "fp", T0)
    signals.finish(sid, "click-0001", SignalState.FAILED, 502, {"error": {}}, T0)
    assert signals.lookup("click-0001", "fp").state is ClaimState.ABSENT
    signals.record(SIGNAL, "click-0001", "fp", T0)  # the retry records again
    assert signals.states("v-1") == ["failed", "pending"]


def test_a_dead_senders_signal_is_answered_unknown_after_the_lease(signals: SignalLog) -> None:
    signals.record(SIGNAL, "click-0001", "fp", T0)
    young = signals.lookup("click-0001", "fp")
    assert signals.settle_abandoned("click-0001", "fp", young, T0 + SENDER_LEASE / 2) == young
    later = T0 + SENDER_LEASE + timedelta(seconds=1)
    claim = signals.settle_abandoned("click-0001", "fp", young, later)
    assert (claim.state, claim.status_code) == (ClaimState.DONE, 504)
    assert claim.body["error"]["code"] == "signal_outcome_unknown"
    assert signals.states("v-1") == ["unknown"]


def test_without_a_key_the_signal_is_still_recorded(signals: SignalLog) -> None:
    sid = signals.record(SIGNAL, None, "fp", T0)
    signals.finish(sid, None, SignalState.GONE, 409, {"error": {}}, T0)
    assert signals.states("v-1") == ["gone"]


def test_old_signals_and_their_keys_are_purged(sql_engine: sa.Engine) -> None:
    create_schema(sql_engine)
    SignalLog(sql_engine).record(SIGNAL, "click-0001", "fp", T0)
    SignalLog(sql_engine).record(SIGNAL, "click-0002", "fp", T0 + timedelta(hours=25))
    signals = SignalLog(sql_engine)
    assert signals.states("v-1") == ["pending"]  # only the new one is left
    assert signals.lookup("click-0001", "fp").state is ClaimState.ABSENT
    assert signals.lookup("click-0002", "fp").state is ClaimState.PENDING
