"""Sending one recorded outbox intent to ScreenMeet and storing how it ended.

The same code serves the request that recorded the intent, a retry with its idempotency key
and the reconcile pass, so "what a crash leaves behind" is finished exactly like a normal
request. Creates carry the intent's id as `external_id`, which the vendor deduplicates, so
sending one again can never make a second session; reschedule and close move the session to
the same state twice. When the vendor's answer leaves the outcome unknown (a timeout, a 5xx,
an unreadable answer) the intent stays pending and is settled later, never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from presence_dash.core.clock import Clock
from presence_dash.core.errors import error_body
from presence_dash.screenmeet.client import ScreenMeetClient, ScreenMeetError, VendorSession
from presence_dash.screenmeet.outbox import Intent, IntentAction, IntentState, Outbox, Outcome
from presence_dash.screenmeet.rules import SessionRequest, SessionStatus, request_from_json
from presence_dash.screenmeet.store import SessionStore, StoredSession
from presence_dash.screenmeet.wire import session_json

log = logging.getLogger(__name__)

# A create not yet at the vendor this long after it was asked for is not sent any more (a
# support session started that late helps nobody, and no request of ours can still be in
# flight by then); it is looked up once more and then failed.
RESEND_WITHIN = timedelta(minutes=10)
# Codes after which the vendor certainly did nothing: the intent failed. Every other vendor
# error leaves the outcome unknown.
REFUSED = frozenset({"vendor_rejected", "vendor_not_found", "vendor_auth_failed"})
# ...and a refusal worth trying again with the same key once an admin fixed it.
NOT_KEPT = frozenset({"vendor_auth_failed"})
ANNOUNCED = {
    IntentAction.CREATE: "created",
    IntentAction.SCHEDULE: "scheduled",
    IntentAction.RESCHEDULE: "rescheduled",
    IntentAction.CLOSE: "closed",
}


@dataclass(frozen=True)
class Reply:
    """An answer for the API: status and body; `replayed` when it is a stored answer,
    `audited` when this request's audit row was written with its intent."""

    status: int
    body: dict[str, Any] = field(hash=False)
    replayed: bool = False
    audited: bool = False


class Delivery:
    def __init__(
        self,
        client: ScreenMeetClient,
        outbox: Outbox,
        sessions: SessionStore,
        clock: Clock,
        announce: Callable[[str, StoredSession], None],
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.sessions = sessions
        self.clock = clock
        self.announce = announce

    def send(self, intent: Intent, *, recovering: bool = False) -> Reply:
        """Send an intent this caller has taken, and store the outcome."""
        try:
            outcome = self._attempt(intent, recovering)
        except ScreenMeetError as exc:
            if exc.code not in REFUSED and not (
                exc.code == "vendor_conflict" and intent.action is IntentAction.RESCHEDULE
            ):
                return self._unknown(intent, exc)
            outcome = Outcome(
                IntentState.FAILED,
                exc.status,
                error_body(exc.code, exc.message),
                "failed",
                keep=exc.code not in NOT_KEPT,
            )
        now = self.clock()
        try:
            finished = self.outbox.finish(intent, outcome, now)
        except sa.exc.SQLAlchemyError:
            log.exception("screenmeet: could not store the outcome of intent %s", intent.id)
            return Reply(
                503,
                error_body(
                    "database_unavailable",
                    "ScreenMeet has it, but the dashboard could not store it; it is stored "
                    "when the database is back (retry with the same Idempotency-Key)",
                ),
            )
        if not finished:  # a retry or the reconcile pass finished it meanwhile
            done = self.outbox.get(intent.id)
            if done is not None and done.answer_status is not None:
                return Reply(done.answer_status, done.answer)
            return Reply(outcome.status, outcome.answer)
        if outcome.session is not None:
            self.announce(ANNOUNCED[intent.action], outcome.session)
        log.info(
            "screenmeet: %s %s session %s by %s: %s",
            intent.action.value,
            intent.request.get("type", ""),
            outcome.session.id if outcome.session else intent.session_id,
            intent.actor,
            outcome.audit_result,
        )
        return Reply(outcome.status, outcome.answer)

    def _unknown(self, intent: Intent, exc: ScreenMeetError) -> Reply:
        try:
            self.outbox.release(intent, exc.message, exc.status, self.clock())
        except sa.exc.SQLAlchemyError:
            log.exception("screenmeet: could not release intent %s", intent.id)
        message = f"{exc.message}; the dashboard checks with ScreenMeet and finishes it"
        return Reply(exc.status, error_body(exc.code, message))

    def _attempt(self, intent: Intent, recovering: bool) -> Outcome:
        result = "ok, recovered" if recovering else "ok"
        if intent.action in (IntentAction.CREATE, IntentAction.SCHEDULE):
            return self._open(intent, recovering, result)
        now = self.clock()
        session = self.sessions.get(intent.session_id or "")
        if session is None:
            return Outcome(
                IntentState.FAILED,
                404,
                error_body("unknown_session", f"no ScreenMeet session {intent.session_id!r}"),
                "failed",
            )
        if intent.action is IntentAction.RESCHEDULE:
            start = datetime.fromisoformat(intent.request["start_time"])
            vendor = self.client.reschedule_session(session.id, start)
            updated = session.but(
                status=vendor.status,
                start_time=vendor.start_time or start,
                pin=vendor.pin,
                user_url=vendor.user_url,
                host_url=vendor.host_url or session.host_url,
                expires_at=vendor.expires_at,
                updated_at=now,
            )
            return Outcome(IntentState.DONE, 200, session_json(updated, now), result, updated)
        try:
            self.client.close_session(session.id)
        except ScreenMeetError as exc:
            # Closed at the vendor already (elsewhere, or our earlier send got through), or
            # unknown to it (expired and purged; the demo's simulator restarted): nobody can
            # join it, so record it closed instead of leaving a zombie in the list.
            if exc.code not in ("vendor_conflict", "vendor_not_found"):
                raise
            log.warning("screenmeet: closing %s: %s; recorded as closed", session.id, exc.message)
        closed = session.but(
            status=SessionStatus.CLOSED.value,
            closed_by=intent.actor,
            closed_at=now,
            updated_at=now,
        )
        return Outcome(IntentState.DONE, 200, session_json(closed, now), result, closed)

    def _open(self, intent: Intent, recovering: bool, result: str) -> Outcome:
        req = request_from_json(intent.request)
        vendor = self._find(intent) if recovering else None
        if vendor is None:
            created = intent.created_at or self.clock()
            if recovering and self.clock() - created > RESEND_WITHIN:
                return Outcome(
                    IntentState.FAILED,
                    504,
                    error_body("vendor_timeout", "ScreenMeet never got this request"),
                    "failed, never sent",
                )
            if req.start_time is None:
                vendor = self.client.create_session(req, intent.id)
            else:
                vendor = self.client.schedule_session(req, intent.id)
            result = "ok, resent" if recovering else result
        session = stored_session(vendor, req, intent.actor, intent.created_at or self.clock())
        answer = session_json(session, self.clock(), with_host=True)
        return Outcome(IntentState.DONE, 201, answer, result, session)

    def _find(self, intent: Intent) -> VendorSession | None:
        try:
            return self.client.find_session(intent.id)
        except ScreenMeetError as exc:
            # A lookup that fails (an old bridge without findSession answers 400) says nothing
            # about the create: the intent stays pending, never failed on that account.
            raise ScreenMeetError(
                502, "vendor_lookup_failed", f"cannot look the session up ({exc.message})"
            ) from None


def stored_session(
    vendor: VendorSession, req: SessionRequest, actor: str, asked_at: datetime
) -> StoredSession:
    return StoredSession(
        id=vendor.id,
        type=vendor.type,
        label=vendor.label or req.label,
        status=vendor.status,
        scheduled=vendor.scheduled,
        start_time=vendor.start_time or req.start_time,
        pin=vendor.pin,
        user_url=vendor.user_url,
        host_url=vendor.host_url,
        host_auth_token=vendor.host_auth_token,
        expires_at=vendor.expires_at,
        settings=vendor.settings,
        parent_object_table=req.parent_object_table,
        parent_object_sys_id=req.parent_object_sys_id,
        parent_object_display_name=req.parent_object_display_name,
        person_id=req.person_id,
        notes=req.notes,
        created_by=actor,
        created_at=asked_at,
        updated_at=asked_at,
    )
