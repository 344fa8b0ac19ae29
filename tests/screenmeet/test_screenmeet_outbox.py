"""The ScreenMeet outbox state machine against real databases (SQLite, PostgreSQL) and the
simulator over HTTP: nothing reaches the vendor before its intent is committed; a finished
intent stores the session, its audit row and the key's answer together; the reconcile pass
finds what a crash left at the vendor, sends again what never got there (deduplicated by
external id) and leaves alone what a live sender holds; a retry with the key finishes the
same intent instead of making a second session; a database that cannot record means no call."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import request
from screenmeet_helpers import SM_PASSWORD, SM_USERNAME, ScreenMeetSimHandle

from presence_dash.auth.audit import audit_log
from presence_dash.screenmeet.client import ScreenMeetClient
from presence_dash.screenmeet.outbox import AuditDraft, Intent, IntentAction, IntentState
from presence_dash.screenmeet.rules import parse_session_request, request_json
from presence_dash.screenmeet.service import ScreenMeetService
from presence_dash.screenmeet.store import SessionStore
from presence_dash.simulators import screenmeet as sm
from presence_dash.simulators.serve import SimulatorServer
from presence_dash.storage.db import engine_for

BODY = {
    "type": "support",
    "parent_object_table": "incident",
    "parent_object_display_name": "Incident INC0000005",
    "label": "Remote support session for INC0000005",
}
AUDIT = AuditDraft(
    actor="abe",
    role="agent",
    action="screenmeet.create_session",
    target="/api/screenmeet/sessions",
    params={"args": {}, "body": BODY},
    client_addr="127.0.0.1",
)


@dataclass
class FakeClock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Rig:
    service: ScreenMeetService
    sim: ScreenMeetSimHandle
    engine: sa.Engine
    clock: FakeClock
    events: list[dict[str, Any]]
    # external_id -> the intent's state as the database had it when the vendor got the call
    seen_by_vendor: dict[str, str | None] = field(default_factory=dict)

    def submit(self, body: Any = BODY, key: str | None = None) -> Any:
        svc = self.service
        return svc.submit(
            lambda: svc.plan_open(body), actor="abe", key=key, print_="p", audit=AUDIT
        )

    def audit(self) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(audit_log).order_by(audit_log.c.id)))

    def restart(self) -> None:
        """What a new process sees: everything recorded so far was recorded before it."""
        self.clock.advance(1)
        self.service.started_at = self.clock()

    def calls(self) -> list[str]:
        return [r["path"].rsplit("/", 1)[1] for r in self.sim.request_log()]

    def record(self, action: IntentAction = IntentAction.CREATE, **changes: Any) -> Intent:
        """An intent as the request recorded it, before it could send anything."""
        req = request_json(parse_session_request(BODY, self.clock()))
        intent = Intent.new(action, req, None, "abe", self.clock(), **changes)
        return self.service.outbox.record(intent, self.clock(), AUDIT, "p")


def _vendor_sim(
    engine: sa.Engine, seen: dict[str, str | None], after: Callable[[Any], Any] | None = None
) -> ScreenMeetSimHandle:
    """The simulator, noting for each create whether its intent was already committed;
    `after` runs after each of its answers."""
    sim = sm.ScreenMeetSim(username=SM_USERNAME, password=SM_PASSWORD)
    app = sm.create_app(sim)
    if after is not None:
        app.after_request(after)

    @app.before_request
    def _check_outbox() -> None:
        external_id = (request.get_json(silent=True) or {}).get("external_id")
        if external_id and request.path.endswith(("/createSession", "/scheduleSession")):
            query = sa.text("SELECT state FROM screenmeet_intents WHERE id = :id")
            with engine.connect() as conn:
                seen.setdefault(external_id, conn.execute(query, {"id": external_id}).scalar())

    return ScreenMeetSimHandle(sim, SimulatorServer(app).start())


def _rig(engine: sa.Engine, after: Callable[[Any], Any] | None = None) -> Iterator[Rig]:
    seen: dict[str, str | None] = {}
    sim = _vendor_sim(engine, seen, after)
    clock = FakeClock()
    events: list[dict[str, Any]] = []
    client = ScreenMeetClient(sim.base, SM_USERNAME, SM_PASSWORD, timeout=2)
    service = ScreenMeetService(
        client, SessionStore(engine), clock, lambda name, body: events.append(body)
    )
    service.start()
    try:
        yield Rig(service, sim, engine, clock, events, seen)
    finally:
        sim.close()


@pytest.fixture
def rig(sql_engine: sa.Engine) -> Iterator[Rig]:
    yield from _rig(sql_engine)


def test_the_vendor_gets_a_create_only_after_its_intent_is_committed(rig: Rig) -> None:
    reply = rig.submit(key="k1")
    assert reply.status == 201 and reply.audited
    session_id = reply.body["id"]
    (external_id,) = [s["external_id"] for s in rig.sim.sessions().values()]
    assert rig.seen_by_vendor == {external_id: "pending"}
    intent = rig.service.outbox.get(external_id)
    assert intent is not None and intent.state is IntentState.DONE
    assert intent.session_id == session_id and intent.idempotency_key == "k1"
    stored = rig.service.get(session_id)
    assert stored is not None and stored.created_by == "abe"
    (row,) = rig.audit()
    assert (row.result, row.status, row.actor, row.role) == ("ok", 201, "abe", "agent")
    assert json.loads(row.params)["intent"] == external_id
    assert [e["action"] for e in rig.events] == ["created"]


def test_a_repeat_with_the_key_replays_without_calling_the_vendor(rig: Rig) -> None:
    first = rig.submit(key="k1")
    calls = len(rig.sim.request_log())
    again = rig.submit(key="k1")
    assert again.replayed and (again.status, again.body) == (first.status, first.body)
    assert again.body["host_url"] and len(rig.sim.request_log()) == calls
    assert len(rig.audit()) == 1  # the replay's own row is the web layer's (gate) business


def test_reconcile_finds_a_session_the_vendor_made_before_the_crash(rig: Rig) -> None:
    intent = rig.record(key="k2")
    # The create reached the vendor; the process died before it stored the answer.
    call = dict(BODY, screenmeet_session_name=BODY["label"], external_id=intent.id)
    vendor_id = rig.sim.call("createSession", call).json()["result"]["id"]
    rig.restart()
    assert rig.service.reconcile(at_start=True) == 1
    stored = rig.service.get(vendor_id)
    assert stored is not None and stored.label == BODY["label"]
    assert len(rig.sim.sessions()) == 1
    assert rig.calls() == ["createSession", "findSession"]
    (row,) = rig.audit()
    assert (row.result, row.status) == ("ok, recovered", 201)
    assert rig.events[-1]["action"] == "created"
    replay = rig.submit(key="k2")  # the browser's retry gets the recovered session
    assert replay.replayed and replay.body["id"] == vendor_id


def test_reconcile_sends_again_what_never_reached_the_vendor_under_the_same_external_id(
    rig: Rig,
) -> None:
    intent = rig.record()
    rig.restart()
    assert rig.service.reconcile(at_start=True) == 1
    assert rig.calls() == ["findSession", "createSession"]
    (session,) = rig.sim.sessions().values()
    assert session["external_id"] == intent.id
    assert rig.service.get(session["id"]) is not None
    assert rig.audit()[0].result == "ok, resent"
    assert rig.service.reconcile(at_start=True) == 0  # nothing left


def test_a_create_never_sent_for_ten_minutes_is_failed_not_sent(rig: Rig) -> None:
    intent = rig.record()
    rig.clock.advance(11 * 60)
    rig.restart()
    rig.service.reconcile(at_start=True)
    assert rig.sim.sessions() == {}
    done = rig.service.outbox.get(intent.id)
    assert done is not None and done.state is IntentState.FAILED
    assert rig.audit()[0].result == "failed, never sent"


def test_reconcile_leaves_an_intent_alone_while_its_sender_holds_it(rig: Rig) -> None:
    rig.service.started_at = rig.clock() - timedelta(seconds=5)  # recorded by this process
    intent = rig.record()
    assert rig.service.reconcile() == 0
    rig.clock.advance(rig.service.lease.total_seconds() - 1)
    assert rig.service.reconcile() == 0
    rig.clock.advance(2)  # the lease ran out: its sender is gone
    assert rig.service.reconcile() == 1
    assert rig.service.outbox.get(intent.id).state is IntentState.DONE  # type: ignore[union-attr]


def test_an_unknown_outcome_stays_pending_and_the_retry_finishes_the_same_intent(
    rig: Rig,
) -> None:
    rig.sim.fault("503")
    failed = rig.submit(key="k3")
    assert (failed.status, failed.body["error"]["code"]) == (502, "vendor_error")
    intent = rig.service.outbox.by_key("k3")
    assert intent is not None and intent.state is IntentState.PENDING
    assert intent.attempt_at is None  # released: nobody is sending it
    assert (rig.audit()[0].result, rig.audit()[0].status) == ("unknown", 502)
    retried = rig.submit(key="k3")
    assert retried.status == 201
    (session,) = rig.sim.sessions().values()
    assert session["external_id"] == intent.id and session["id"] == retried.body["id"]
    # Looked up first (a 5xx may come after the vendor acted), then sent under the same id.
    assert rig.calls() == ["createSession", "findSession", "createSession"]
    assert len(rig.audit()) == 1 and rig.audit()[0].result == "ok, resent"


def test_a_close_sent_before_the_crash_is_recorded_closed_by_reconcile(rig: Rig) -> None:
    session_id = rig.submit().body["id"]
    svc = rig.service
    plan = svc.plan_close(session_id)
    intent = Intent.new(plan.action, plan.request, session_id, "abe", rig.clock())
    svc.outbox.record(intent, rig.clock(), None, None)
    rig.sim.call("closeSession", {"ScreenMeetSessionId": session_id})  # ...then the crash
    rig.restart()
    assert svc.reconcile(at_start=True) == 1
    closed = svc.get(session_id)
    assert closed is not None and (closed.status, closed.closed_by) == ("closed", "abe")


@pytest.mark.parametrize(
    "change",
    [
        {"label": "bad\x00label"},
        {"parent_object_display_name": "INC\ud800"},
        {"person_id": "p" * 65},
    ],
)
def test_text_the_database_would_refuse_is_a_400_before_anything_is_recorded(
    rig: Rig, change: dict[str, str]
) -> None:
    reply = rig.submit({**BODY, **change}, key=str(uuid.uuid4()))
    assert (reply.status, reply.body["error"]["code"]) == (400, "bad_request")
    assert rig.sim.request_log() == [] and rig.service.outbox.unfinished() == []
    assert rig.audit() == []


@pytest.mark.parametrize("key", [None, "k"])
def test_a_database_that_cannot_record_the_intent_means_no_vendor_call(key: str | None) -> None:
    down = engine_for("postgresql://postgres@127.0.0.1:9/test?connect_timeout=1")
    sim = _vendor_sim(down, {})
    try:
        client = ScreenMeetClient(sim.base, SM_USERNAME, SM_PASSWORD, timeout=2)
        service = ScreenMeetService(client, SessionStore(down), FakeClock(), lambda *_: None)
        reply = service.submit(lambda: service.plan_open(BODY), actor="abe", key=key, print_="p")
        assert (reply.status, reply.body["error"]["code"]) == (503, "database_unavailable")
        assert sim.request_log() == []
    finally:
        sim.close()
        down.dispose()


def test_a_database_lost_after_the_vendor_answered_is_finished_by_reconcile(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sm.db"
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.2})
    blocker = sqlite3.connect(path, check_same_thread=False, isolation_level=None)

    def lock_the_database(response: Any) -> Any:
        if request.path.endswith("/createSession") and not blocker.in_transaction:
            blocker.execute("BEGIN EXCLUSIVE")  # the database is gone while we answer
        return response

    rigs = _rig(engine, lock_the_database)
    rig = next(rigs)
    try:
        lost = rig.submit(key="k4")
        assert (lost.status, lost.body["error"]["code"]) == (503, "database_unavailable")
        blocker.execute("COMMIT")
        (session,) = rig.sim.sessions().values()
        rig.clock.advance(rig.service.lease.total_seconds() + 1)
        assert rig.service.reconcile() == 1
        assert rig.service.get(session["id"]) is not None
        assert rig.audit()[0].result == "ok, recovered"
        assert rig.submit(key="k4").body["id"] == session["id"]
        assert len(rig.sim.sessions()) == 1
    finally:
        blocker.close()
        rigs.close()
        engine.dispose()


def test_a_failed_lookup_leaves_the_intent_pending_instead_of_failing_it(rig: Rig) -> None:
    intent = rig.record()
    rig.restart()
    rig.sim.sim.faults.append({"kind": "401", "delay_s": 0})  # the bridge refuses the lookup
    rig.service.reconcile(at_start=True)
    pending = rig.service.outbox.get(intent.id)
    assert pending is not None and pending.state is IntentState.PENDING
    assert rig.calls() == ["findSession"] and rig.sim.sessions() == {}
    assert rig.audit()[0].result == "unknown"
