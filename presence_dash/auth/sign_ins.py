"""Sign-ins recorded server side, so that signing out really ends one.

The session cookie is only signed, not stored: without this table a copy of the cookie
taken before sign-out kept working until it expired. Each sign-in gets a random id (in the
session as `login_id`); the table holds its SHA-256 and when it ends. Every request, socket
connect and socket event asks whether the id is still here. The table is in the shared
database, so sign-out holds across restarts and on every web node (after at most
CACHE_SECONDS there).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from presence_dash.auth.secret_cache import LookupCache
from presence_dash.auth.secret_cache import digest as _digest
from presence_dash.storage.db import UtcDateTime, metadata

sign_ins = sa.Table(
    "sign_ins",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Index("ix_sign_ins_expires_at", "expires_at"),
)

# Every request and socket event of a signed-in browser asks; a sign-out on this node
# drops its entry at once, one on another node is seen within this long.
CACHE_SECONDS = 2.0
MAX_ID_CHARS = 100


class SignIns:
    def __init__(
        self,
        engine: sa.Engine,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
        lifetime: timedelta,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.monotonic = monotonic
        self.lifetime = lifetime
        self._cache: LookupCache[bool] = LookupCache(monotonic, CACHE_SECONDS)

    def start(self, username: str) -> str:
        """A new sign-in for `username`; returns its id (for the session only). Ended
        sign-ins are removed here too, so the table holds no more than the live ones."""
        login_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(sign_ins.delete().where(sign_ins.c.expires_at <= now))
            conn.execute(
                sign_ins.insert().values(
                    id_sha256=_digest(login_id),
                    username=username[:128],
                    started_at=now,
                    expires_at=now + self.lifetime,
                )
            )
        return login_id

    def end(self, login_id: str) -> None:
        """Sign-out: the id (and every copy of the cookie holding it) is refused from now."""
        digest = _digest(login_id)
        with self.engine.begin() as conn:
            conn.execute(sign_ins.delete().where(sign_ins.c.id_sha256 == digest))
        self._cache.drop(digest)

    def active(self, login_id: object) -> bool:
        """Whether this sign-in exists and has not expired."""
        if not isinstance(login_id, str) or not login_id or len(login_id) > MAX_ID_CHARS:
            return False
        digest = _digest(login_id)

        def load() -> bool:
            with self.engine.connect() as conn:
                found = conn.execute(
                    sa.select(sign_ins.c.id_sha256).where(
                        sign_ins.c.id_sha256 == digest, sign_ins.c.expires_at > self.clock()
                    )
                ).first()
            return found is not None

        return self._cache.lookup(digest, load)

    def active_among(self, login_ids: set[str]) -> set[str]:
        """Which of `login_ids` are still signed in (one query: the sweep that disconnects
        sockets of sign-ins ended on another node or expired)."""
        if not login_ids:
            return set()
        by_digest = {_digest(i): i for i in login_ids}
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(sign_ins.c.id_sha256).where(
                    sign_ins.c.id_sha256.in_(by_digest), sign_ins.c.expires_at > self.clock()
                )
            )
            found = {r[0] for r in rows}
        # Fresher than the cache: HTTP agrees with the sweep at once.
        self._cache.refresh({d: d in found for d in by_digest})
        return {by_digest[d] for d in found}

    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            expired = sign_ins.delete().where(sign_ins.c.expires_at <= self.clock())
            return conn.execute(expired).rowcount
