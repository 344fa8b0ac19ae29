"""ScreenMeet actions: validate, record the intent, send it, store the result, tell every
browser; and, after a crash, finish what was recorded but not finished.

The order is what keeps a crash from losing or duplicating a session: a request is checked
first (nothing the database would refuse reaches the vendor), then recorded in the outbox
with its audit row and idempotency key in one committed transaction, and only then sent
(delivery.py). The reconcile pass, at start and every few seconds, takes the pending intents
nobody is sending and settles them with the vendor. Status changes the vendor makes on its
own (scheduled -> new ten minutes before start) are applied by the same background loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from presence_dash.core.clock import Clock
from presence_dash.core.errors import error_body
from presence_dash.screenmeet.client import ScreenMeetClient, ScreenMeetError
from presence_dash.screenmeet.delivery import Delivery, Reply
from presence_dash.screenmeet.outbox import (
    AuditDraft,
    Intent,
    IntentAction,
    IntentState,
    KeyTaken,
    Outbox,
    Outcome,
)
from presence_dash.screenmeet.rules import (
    InvalidRequest,
    SessionStatus,
    UnknownSession,
    check_close,
    check_reschedule,
    effective_status,
    parse_session_request,
    parse_start_time,
    request_json,
    status_for,
)
from presence_dash.screenmeet.store import ABANDONED_AFTER, SessionStore, StoredSession
from presence_dash.screenmeet.wire import session_json
from presence_dash.storage.idempotency import (
    KEYS_KEPT_FOR,
    ClaimState,
    KeyAnswer,
    in_progress,
    settled_answer,
)

log = logging.getLogger(__name__)

Emit = Callable[[str, dict[str, Any]], None]

# The in-flight rule's wait (storage/idempotency.py): a repeat waits this long for its twin's
# vendor call (it may finish the twin's intent itself), then answers 409.
WAIT_FOR_TWIN_S = 30.0
# A sender holds an intent for its vendor call (bounded by the client's timeout) plus this;
# after that the reconcile pass or a retry may take it over.
LEASE_MARGIN = timedelta(seconds=5)


@dataclass(frozen=True)
class Plan:
    """A checked action, ready to be recorded: what to send and to which session."""

    action: IntentAction
    request: dict[str, Any] = field(hash=False)
    session_id: str | None = None


class _Wait:
    """A twin with the same key is still at the vendor."""


class _Again:
    """The key changed state while we looked: look again."""


class ScreenMeetService:
    def __init__(
        self,
        client: ScreenMeetClient | None,
        store: SessionStore,
        clock: Clock,
        emit: Emit,
        *,
        spawn: Callable[..., Any] | None = None,
        sleep: Callable[[float], None] | None = None,
        interval_s: float = 5.0,
    ) -> None:
        self.client = client
        self.store = store
        self.outbox = Outbox(store.engine)
        self.clock = clock
        self.emit = emit
        self._spawn = spawn
        self._sleep = sleep or time.sleep
        self._loop = spawn is not None and sleep is not None
        self.interval_s = interval_s
        self.lease = timedelta(seconds=client.timeout if client else 10) + LEASE_MARGIN
        self.delivery = (
            Delivery(client, self.outbox, store, clock, self._announce) if client else None
        )
        self.started_at: datetime | None = None
        self._stopped = False

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _require_client(self) -> None:
        if self.client is None:
            raise ScreenMeetError(
                503, "screenmeet_disabled", "ScreenMeet is not configured ([providers.screenmeet])"
            )

    def list(self, include_closed: bool = True) -> list[StoredSession]:
        return self.store.list(include_closed=include_closed)

    def get(self, session_id: str) -> StoredSession | None:
        return self.store.get(session_id)

    # -- plans: what a request asks for, checked; raise InvalidRequest or ScreenMeetError ---

    def plan_open(self, body: Any) -> Plan:
        """Create now, or schedule when the body has a start_time."""
        self._require_client()
        req = parse_session_request(body, self.clock())
        action = IntentAction.CREATE if req.start_time is None else IntentAction.SCHEDULE
        return Plan(action, request_json(req))

    def plan_reschedule(self, session_id: str, body: Any) -> Plan:
        self._require_client()
        session = self._session(session_id)
        now = self.clock()
        value = body.get("start_time") if isinstance(body, dict) else None
        start = parse_start_time(value, now)
        check_reschedule(effective_status(session.status, session.start_time, now))
        return Plan(IntentAction.RESCHEDULE, {"start_time": start.isoformat()}, session.id)

    def plan_close(self, session_id: str) -> Plan:
        self._require_client()
        session = self._session(session_id)
        check_close(session.status)
        return Plan(IntentAction.CLOSE, {}, session.id)

    def _session(self, session_id: str) -> StoredSession:
        session = self.store.get(session_id)
        if session is None:
            raise UnknownSession(session_id)
        return session

    # -- acting --------------------------------------------------------------------------

    def submit(
        self,
        plan: Callable[[], Plan],
        *,
        actor: str,
        key: str | None = None,
        print_: str = "",
        audit: AuditDraft | None = None,
        wait_s: float = WAIT_FOR_TWIN_S,
    ) -> Reply:
        """Check, record, send and answer one request. With an idempotency key, a repeat
        replays the stored answer, waits for a twin still at the vendor, or finishes the
        earlier request's own intent (same external id) when nobody is sending it."""
        deadline = time.monotonic() + wait_s
        try:
            while True:
                if key is not None:
                    known = self._by_key(key, print_)
                    if isinstance(known, Reply):
                        return known
                    if known is _Wait:
                        if time.monotonic() >= deadline:
                            return _reply(in_progress())
                        self._sleep(0.05)
                        continue
                    if known is _Again:
                        continue
                reply = self._record_and_send(plan, actor, key, print_, audit)
                if reply is not None:
                    return reply
        except sa.exc.SQLAlchemyError:
            log.exception("screenmeet: database error; nothing was sent")
            return _database_down()

    def _record_and_send(
        self,
        plan: Callable[[], Plan],
        actor: str,
        key: str | None,
        print_: str,
        audit: AuditDraft | None,
    ) -> Reply | None:
        """None when a twin took the key meanwhile (follow it)."""
        now = self.clock()
        try:
            checked = plan()
        except InvalidRequest as exc:
            reply = Reply(status_for(exc), error_body(exc.code, exc.message))
            if key is not None and not self.store.answer(
                key, print_, reply.status, reply.body, now
            ):
                return None
            return reply
        except ScreenMeetError as exc:
            return Reply(exc.status, error_body(exc.code, exc.message))
        assert self.delivery is not None  # plans check that ScreenMeet is configured
        intent = Intent.new(
            checked.action,
            checked.request,
            checked.session_id,
            actor,
            now,
            key=key,
            client_addr=audit.client_addr if audit else None,
        )
        try:
            intent = self.outbox.record(intent, now, audit, print_)
        except KeyTaken:
            return None
        except sa.exc.SQLAlchemyError:
            log.exception("screenmeet: could not record the %s; not sent", checked.action.value)
            return _database_down()
        return replace(self.delivery.send(intent), audited=audit is not None)

    def _by_key(self, key: str, print_: str) -> Reply | type[_Wait] | type[_Again] | None:
        """What a request with this key does: a Reply, wait, look again, or None: go on."""
        claim = self.store.lookup(key, print_)
        settled = settled_answer(claim)
        if settled is not None:
            return _reply(settled)
        if claim.state is ClaimState.ABSENT:
            return None
        now = self.clock()
        intent = self.outbox.by_key(key)
        if intent is None:  # a key from before the outbox: given up after a while
            if claim.claimed_at is not None and claim.claimed_at < now - ABANDONED_AFTER:
                self.store.release(key)
                return _Again
            return _Wait
        if intent.state is not IntentState.PENDING:
            return _Again  # finished between our two reads; the key says how
        taken = self.outbox.take(intent.id, now, self.lease)
        if taken is None or self.delivery is None:
            return _Wait
        # The earlier request died or met an unknown outcome: finish its intent, whose id the
        # vendor deduplicates, instead of starting a second session.
        return self.delivery.send(taken, recovering=True)

    # -- recovery and the vendor's own status changes ------------------------------------

    def reconcile(self, *, at_start: bool = False) -> int:
        """Settle the pending intents nobody is sending: at start every one recorded before
        this process began (their senders are gone), later those whose sender's lease ran
        out. Returns how many were sent or looked up."""
        if self.delivery is None:
            return 0
        now = self.clock()
        before = self.started_at if at_start else None
        count = 0
        for intent in self.outbox.unfinished():
            taken = self.outbox.take(intent.id, now, self.lease, created_before=before)
            if taken is None:
                continue
            count += 1
            if now - (taken.created_at or now) > KEYS_KEPT_FOR:
                self._give_up(taken, now)
                continue
            reply = self.delivery.send(taken, recovering=True)
            log.info(
                "screenmeet: reconciled %s intent %s: %s",
                taken.action.value,
                taken.id,
                reply.status,
            )
        return count

    def _give_up(self, intent: Intent, now: datetime) -> None:
        log.warning(
            "screenmeet: giving up %s intent %s: %s", intent.action, intent.id, intent.last_error
        )
        outcome = Outcome(
            IntentState.FAILED,
            504,
            error_body("vendor_timeout", "ScreenMeet could not be asked about this in 24 hours"),
            "unknown, given up",
        )
        self.outbox.finish(intent, outcome, now)

    def promote_due(self) -> int:
        """Record the vendor's scheduled -> new move for sessions whose time has come."""
        now = self.clock()
        count = 0
        for session in self.store.due_to_open(now):
            if self.store.set_status(
                session.id, SessionStatus.SCHEDULED.value, SessionStatus.NEW.value, now
            ):
                count += 1
                self._announce(
                    "opened", session.but(status=SessionStatus.NEW.value, updated_at=now)
                )
        return count

    def start(self) -> None:
        """Create the tables and start the loop (Runtime.start calls this); its first pass
        reconciles what an earlier run of this process left pending."""
        self.store.create_schema()
        self.started_at = self.clock()
        if self._loop and self._spawn is not None:
            self._spawn(self.run_forever, self._sleep)

    def run_forever(self, sleep: Callable[[float], None]) -> None:
        at_start = True
        while not self._stopped:
            try:
                self.reconcile(at_start=at_start)
                at_start = False
                self.promote_due()
                now = self.clock()
                self.store.purge_keys(now)
                self.outbox.purge(now)
            except Exception:
                log.exception("screenmeet: background loop failed; retrying")
            sleep(self.interval_s)

    def stop(self) -> None:
        self._stopped = True

    def _announce(self, action: str, session: StoredSession) -> None:
        body = session_json(session, self.clock(), public=True)
        self.emit("screenmeet", {"action": action, "session": body})


def _database_down() -> Reply:
    return Reply(
        503,
        error_body(
            "database_unavailable",
            "the dashboard's database is unavailable; nothing was sent to ScreenMeet",
        ),
    )


def _reply(answer: KeyAnswer) -> Reply:
    return Reply(answer.status, answer.body, replayed=answer.replayed)
