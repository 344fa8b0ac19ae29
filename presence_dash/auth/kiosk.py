"""Kiosk tokens: named, revocable, read-only links for wall screens (`/wall?kiosk=TOKEN`).

Only a SHA-256 of each token is stored: the token is shown once, when an admin creates it,
and a database leak does not hand out working wall links. Lookups are cached for a few
seconds because every request and socket of a wall screen checks its token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from presence_dash.auth.secret_cache import LookupCache
from presence_dash.auth.secret_cache import digest as _digest
from presence_dash.storage.db import UtcDateTime, metadata

kiosk_tokens = sa.Table(
    "kiosk_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_by", sa.String(128)),
    sa.Column("revoked_at", UtcDateTime),
)

CACHE_SECONDS = 2.0
MAX_TOKEN_CHARS = 100


@dataclass(frozen=True)
class KioskToken:
    id: int
    name: str
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KioskTokens:
    def __init__(
        self, engine: sa.Engine, clock: Callable[[], datetime], monotonic: Callable[[], float]
    ):
        self.engine = engine
        self.clock = clock
        self.monotonic = monotonic
        self._cache: LookupCache[KioskToken | None] = LookupCache(monotonic, CACHE_SECONDS)

    def create(self, name: str, created_by: str) -> tuple[KioskToken, str]:
        """The new token and its secret (shown once)."""
        secret = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            result = conn.execute(
                kiosk_tokens.insert().values(
                    name=name, token_sha256=_digest(secret), created_by=created_by, created_at=now
                )
            )
            token_id = int(result.inserted_primary_key[0])
        return KioskToken(token_id, name, created_by, now, None, None), secret

    def revoke(self, token_id: int, revoked_by: str) -> KioskToken | None:
        """None when there is no such token; revoking twice keeps the first revocation."""
        with self.engine.begin() as conn:
            conn.execute(
                kiosk_tokens.update()
                .where(kiosk_tokens.c.id == token_id, kiosk_tokens.c.revoked_at.is_(None))
                .values(revoked_by=revoked_by, revoked_at=self.clock())
            )
            row = conn.execute(kiosk_tokens.select().where(kiosk_tokens.c.id == token_id)).first()
        self._cache.clear()
        return _token(row) if row else None

    def verify(self, secret: str) -> KioskToken | None:
        """The active token with this secret, or None."""
        if not secret or len(secret) > MAX_TOKEN_CHARS:
            return None
        digest = _digest(secret)

        def load() -> KioskToken | None:
            with self.engine.connect() as conn:
                row = conn.execute(
                    kiosk_tokens.select().where(kiosk_tokens.c.token_sha256 == digest)
                ).first()
            token = _token(row) if row else None
            return token if token and token.active else None

        return self._cache.lookup(digest, load)

    def active_ids(self, ids: set[int]) -> set[int]:
        """Which of `ids` are still active (the periodic check that disconnects walls whose
        token was revoked on another node)."""
        if not ids:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(kiosk_tokens.c.id).where(
                    kiosk_tokens.c.id.in_(ids), kiosk_tokens.c.revoked_at.is_(None)
                )
            )
            return {int(r[0]) for r in rows}

    def all(self) -> list[KioskToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(kiosk_tokens.select().order_by(kiosk_tokens.c.id.desc()))
            return [_token(r) for r in rows]


def _token(row: sa.Row) -> KioskToken:
    return KioskToken(
        int(row.id),
        row.name,
        row.created_by,
        row.created_at,
        row.revoked_by,
        row.revoked_at,
    )
