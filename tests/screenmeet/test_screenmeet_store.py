"""The ScreenMeet session store and idempotency keys against real databases: SQLite on disk
and the machine's PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from presence_dash.screenmeet.store import SessionStore, StoredSession
from presence_dash.storage.idempotency import ClaimState, fingerprint

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(sql_engine: sa.Engine) -> SessionStore:
    sessions = SessionStore(sql_engine)
    sessions.create_schema()
    return sessions


def _session(sid: str, created: datetime, **changes: object) -> StoredSession:
    base = StoredSession(
        id=sid,
        type="support",
        label="Remote support session for INC0000005",
        status="new",
        scheduled=False,
        start_time=None,
        pin=123456,
        user_url=f"https://sm.example/join/{sid}",
        host_url=f"https://sm.example/host/{sid}?token=t",
        host_auth_token="t",
        expires_at=created + timedelta(hours=1),
        settings={"recording": True},
        parent_object_table="incident",
        parent_object_sys_id="e8e875b0c0a80164009dc852b4d677d5",
        parent_object_display_name="Incident INC0000005",
        person_id="ada",
        notes=("knock is not available for support sessions; ignored",),
        created_by="anonymous",
        created_at=created,
        updated_at=created,
    )
    return base.but(**changes)


def test_a_saved_session_comes_back_whole_with_utc_times(store: SessionStore) -> None:
    saved = _session("HUiUti", T0, status="scheduled", start_time=T0 + timedelta(hours=2))
    store.save(saved)
    assert store.get("HUiUti") == saved
    assert store.get("HUiUti").start_time.tzinfo is not None  # type: ignore[union-attr]
    assert store.get("nope") is None


def test_the_list_is_newest_first_and_can_leave_closed_ones_out(store: SessionStore) -> None:
    store.save(_session("aaaaaa", T0))
    store.save(_session("bbbbbb", T0 + timedelta(minutes=1), status="closed", closed_at=T0))
    store.save(_session("cccccc", T0 + timedelta(minutes=2)))
    assert [s.id for s in store.list()] == ["cccccc", "bbbbbb", "aaaaaa"]
    assert [s.id for s in store.list(include_closed=False)] == ["cccccc", "aaaaaa"]


def test_scheduled_sessions_are_due_ten_minutes_before_start_and_promoted_once(
    store: SessionStore,
) -> None:
    store.save(_session("soon00", T0, status="scheduled", start_time=T0 + timedelta(minutes=10)))
    store.save(_session("later0", T0, status="scheduled", start_time=T0 + timedelta(minutes=11)))
    assert [s.id for s in store.due_to_open(T0)] == ["soon00"]
    assert store.set_status("soon00", "scheduled", "new", T0) is True
    assert store.set_status("soon00", "scheduled", "new", T0) is False  # another node won
    assert store.get("soon00").status == "new"  # type: ignore[union-attr]
    assert store.due_to_open(T0) == []


def test_a_key_is_absent_until_used_and_a_refused_answer_is_kept_once(
    store: SessionStore,
) -> None:
    print_ = fingerprint("POST", "/api/screenmeet/sessions", {"type": "screenshare"})
    assert store.lookup("k1", print_).state is ClaimState.ABSENT
    answer = {"error": {"code": "bad_type", "message": "..."}}
    assert store.answer("k1", print_, 400, answer, T0) is True
    assert store.answer("k1", print_, 400, answer, T0) is False  # the key is taken
    replay = store.lookup("k1", print_)
    assert (replay.state, replay.status_code, replay.body) == (ClaimState.DONE, 400, answer)
    other = fingerprint("POST", "/api/screenmeet/sessions", {"type": "live"})
    assert store.lookup("k1", other).state is ClaimState.MISMATCH


def test_old_keys_are_purged(store: SessionStore) -> None:
    store.answer("old", "p", 400, {}, T0)
    store.answer("new", "p", 400, {}, T0 + timedelta(hours=23))
    assert store.purge_keys(T0 + timedelta(hours=25)) == 1
    assert store.lookup("new", "p").state is ClaimState.DONE
    assert store.lookup("old", "p").state is ClaimState.ABSENT
