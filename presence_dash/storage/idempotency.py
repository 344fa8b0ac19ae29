"""The one idempotency policy of the API's mutating requests (ScreenMeet sessions, Glance
signals), with its SQL key table (SQLAlchemy Core: SQLite or PostgreSQL).

- Key format: an `Idempotency-Key` header of 8-128 of `A-Z a-z 0-9 _ . : -` (the browser's
  32 hex digits, a UUID); absent or blank means no key; anything else is
  `400 bad_idempotency_key`.
- Fingerprint: SHA-256 of the request's parts as canonical JSON; the same key with another
  fingerprint is `422 idempotency_key_reused`.
- A key is claimed by a primary-key insert in the transaction that records the request
  (outbox intent, signal row), so of two racing requests one wins; its answer is kept
  (`Idempotent-Replayed: true` on a repeat) for `KEYS_KEPT_FOR`, or the key is freed when
  nothing reached the vendor, so a retry may try again.
- In flight: a repeat never acts a second time. It gets the first request's answer if that
  comes within the feature's wait (ScreenMeet waits for its twin; a Glance signal does not),
  else `409 request_in_progress`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from presence_dash.core.errors import error_body
from presence_dash.storage.db import UtcDateTime, metadata

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_FORMAT = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
KEYS_KEPT_FOR = timedelta(hours=24)

# The table kept its first feature's name: renaming it would need a migration for nothing.
requests_table = sa.Table(
    "screenmeet_requests",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # "pending" | "done"
    sa.Column("status_code", sa.Integer),
    sa.Column("body", sa.Text),
    sa.Column("claimed_at", UtcDateTime, nullable=False),
)


class ClaimState(StrEnum):
    ABSENT = "absent"  # no request used this key yet
    DONE = "done"  # answered before: replay `status_code` / `body`
    PENDING = "pending"  # recorded, not answered: in flight, or its sender died
    MISMATCH = "mismatch"  # the key was used for a different request


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    status_code: int | None = None
    body: Any = None
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class KeyAnswer:
    """What the policy answers for a key, before the feature does anything."""

    status: int
    body: dict[str, Any] = field(hash=False)
    replayed: bool = False


class BadKey(ValueError):
    """The header is there but is no key of ours: answer `status`, `code`, `message`."""

    status = 400
    code = "bad_idempotency_key"
    message = f"{IDEMPOTENCY_HEADER} must be 8-128 of A-Z a-z 0-9 _ . : -"


def parse_key(header: str | None) -> str | None:
    """The request's key from its header value: None without one; BadKey if malformed."""
    key = (header or "").strip()
    if not key:
        return None
    if not KEY_FORMAT.match(key):
        raise BadKey(key)
    return key


def fingerprint(*parts: Any) -> str:
    """What a key is checked against: the parts that make the request this request."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def settled_answer(claim: Claim) -> KeyAnswer | None:
    """The answer a looked-up key dictates, or None: ABSENT (go ahead) or PENDING (the
    feature applies the in-flight rule, ending in `in_progress()` if it gives up)."""
    if claim.state is ClaimState.DONE:
        return KeyAnswer(claim.status_code or 200, claim.body, replayed=True)
    if claim.state is ClaimState.MISMATCH:
        return KeyAnswer(
            422,
            error_body(
                "idempotency_key_reused",
                f"this {IDEMPOTENCY_HEADER} was already used for a different request",
            ),
        )
    return None


def in_progress() -> KeyAnswer:
    return KeyAnswer(
        409,
        error_body(
            "request_in_progress",
            "the same request is still being processed; it will not be done twice",
        ),
    )


class KeyStore:
    """The key table's own reads and writes; claiming and settling happen inside a
    feature's transaction (`claim_key`, `settle_key`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def lookup(self, key: str, print_: str) -> Claim:
        query = sa.select(requests_table).where(requests_table.c.key == key)
        with self.engine.connect() as conn:
            found = conn.execute(query).first()
        if found is None:
            return Claim(ClaimState.ABSENT)
        if found.fingerprint != print_:
            return Claim(ClaimState.MISMATCH)
        if found.state == "done":
            return Claim(ClaimState.DONE, found.status_code, json.loads(found.body))
        return Claim(ClaimState.PENDING, claimed_at=found.claimed_at)

    def answer(self, key: str, print_: str, status_code: int, body: Any, now: datetime) -> bool:
        """Keep the answer to a request refused before anything was recorded (a bad body),
        so its repeat gets the same answer; False when another request took the key."""
        row = {
            "key": key,
            "fingerprint": print_,
            "state": "done",
            "status_code": status_code,
            "body": json.dumps(body),
            "claimed_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(requests_table.insert(), row)
            return True
        except sa.exc.IntegrityError:
            return False

    def release(self, key: str) -> None:
        """Forget a pending key (one whose request can no longer be finished)."""
        with self.engine.begin() as conn:
            conn.execute(
                requests_table.delete().where(
                    requests_table.c.key == key, requests_table.c.state == "pending"
                )
            )

    def purge_keys(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                requests_table.delete().where(requests_table.c.claimed_at < now - KEYS_KEPT_FOR)
            ).rowcount


def claim_key(conn: sa.Connection, key: str, print_: str, now: datetime) -> None:
    """Claim `key` inside the caller's transaction; IntegrityError when it is taken."""
    row = {"key": key, "fingerprint": print_, "state": "pending", "claimed_at": now}
    conn.execute(requests_table.insert(), row)


def settle_key(conn: sa.Connection, key: str, keep: bool, status_code: int, body: Any) -> None:
    """Inside the caller's transaction: keep the answer for repeats, or (nothing reached
    the vendor) free the key so that a retry may try again."""
    if keep:
        conn.execute(
            requests_table.update()
            .where(requests_table.c.key == key)
            .values(state="done", status_code=status_code, body=json.dumps(body))
        )
    else:
        conn.execute(requests_table.delete().where(requests_table.c.key == key))
