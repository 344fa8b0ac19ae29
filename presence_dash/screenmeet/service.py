"""ScreenMeet actions: validate, call the vendor, store the result, tell every browser.

The order matters for a restart: the vendor call comes first and the session is stored as
soon as the vendor answers, so a stored session always exists at the vendor. Status changes
the vendor makes on its own (scheduled -> new ten minutes before start) are applied by a
background loop, which also announces them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..providers.base import Clock
from .client import ScreenMeetClient, ScreenMeetError, VendorSession
from .rules import (
    SessionRequest,
    SessionStatus,
    check_close,
    check_reschedule,
    effective_status,
    parse_session_request,
    parse_start_time,
)
from .store import SessionStore, StoredSession
from .wire import session_json

log = logging.getLogger(__name__)

Emit = Callable[[str, dict[str, Any]], None]


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
        self.clock = clock
        self.emit = emit
        self._spawn = spawn
        self._sleep = sleep
        self.interval_s = interval_s
        self._stopped = False

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _client(self) -> ScreenMeetClient:
        if self.client is None:
            raise ScreenMeetError(
                503, "screenmeet_disabled", "ScreenMeet is not configured ([providers.screenmeet])"
            )
        return self.client

    def list(self, include_closed: bool = True) -> list[StoredSession]:
        return self.store.list(include_closed=include_closed)

    def get(self, session_id: str) -> StoredSession | None:
        return self.store.get(session_id)

    def open(self, body: Any, actor: str) -> StoredSession:
        """Create now, or schedule when the body has a start_time. Raises InvalidRequest or
        ScreenMeetError."""
        client = self._client()
        now = self.clock()
        req = parse_session_request(body, now)
        if req.start_time is None:
            vendor = client.create_session(req)
        else:
            vendor = client.schedule_session(req)
        session = _stored(vendor, req, actor, now)
        self.store.save(session)
        log.info(
            "screenmeet: %s %s session %s for %s:%s by %s",
            "scheduled" if req.start_time else "created",
            session.type,
            session.id,
            session.parent_object_table,
            session.parent_object_display_name,
            actor,
        )
        self._announce("scheduled" if req.start_time else "created", session)
        return session

    def reschedule(self, session: StoredSession, body: Any, actor: str) -> StoredSession:
        client = self._client()
        now = self.clock()
        value = body.get("start_time") if isinstance(body, dict) else None
        start = parse_start_time(value, now)
        check_reschedule(effective_status(session.status, session.start_time, now))
        vendor = client.reschedule_session(session.id, start)
        updated = session.but(
            status=vendor.status,
            start_time=vendor.start_time or start,
            pin=vendor.pin,
            user_url=vendor.user_url,
            host_url=vendor.host_url or session.host_url,
            expires_at=vendor.expires_at,
            updated_at=now,
        )
        self.store.save(updated)
        log.info("screenmeet: session %s rescheduled by %s", session.id, actor)
        self._announce("rescheduled", updated)
        return updated

    def close(self, session: StoredSession, actor: str) -> StoredSession:
        client = self._client()
        check_close(session.status)
        try:
            client.close_session(session.id)
        except ScreenMeetError as exc:
            # Closed at the vendor already (elsewhere, or our earlier answer was lost), or
            # unknown to it (expired and purged; the demo's simulator restarted): nobody can
            # join it, so record it closed instead of leaving a zombie in the list.
            if exc.code not in ("vendor_conflict", "vendor_not_found"):
                raise
            log.warning("screenmeet: closing %s: %s; recorded as closed", session.id, exc.message)
        now = self.clock()
        closed = session.but(
            status=SessionStatus.CLOSED.value, closed_by=actor, closed_at=now, updated_at=now
        )
        self.store.save(closed)
        log.info("screenmeet: session %s closed by %s", session.id, actor)
        self._announce("closed", closed)
        return closed

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
        """Create the tables and start the status loop (Runtime.start calls this)."""
        self.store.create_schema()
        if self._spawn is not None and self._sleep is not None:
            self._spawn(self.run_forever, self._sleep)

    def run_forever(self, sleep: Callable[[float], None]) -> None:
        while not self._stopped:
            try:
                self.promote_due()
                self.store.purge_keys(self.clock())
            except Exception:
                log.exception("screenmeet: status loop failed; retrying")
            sleep(self.interval_s)

    def stop(self) -> None:
        self._stopped = True

    def _announce(self, action: str, session: StoredSession) -> None:
        body = session_json(session, self.clock(), public=True)
        self.emit("screenmeet", {"action": action, "session": body})


def _stored(vendor: VendorSession, req: SessionRequest, actor: str, now: datetime) -> StoredSession:
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
        created_at=now,
        updated_at=now,
    )
