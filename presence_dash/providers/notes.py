"""Small durable notes a provider keeps across restarts (e.g. the ids of the vendor-side
registrations it created, so the next start can remove them)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from presence_dash.storage.db import UtcDateTime, metadata

log = logging.getLogger(__name__)

provider_notes = sa.Table(
    "provider_notes",
    metadata,
    sa.Column("provider", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)


class ProviderNotes:
    """Key/value notes of one provider. Failures are logged, never raised: losing a note
    only costs a cleanup, losing the provider would cost the dashboard."""

    def __init__(self, engine: sa.Engine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    def get(self, key: str) -> Any:
        query = sa.select(provider_notes.c.value).where(
            provider_notes.c.provider == self.provider, provider_notes.c.key == key
        )
        try:
            with self.engine.connect() as conn:
                value = conn.execute(query).scalar_one_or_none()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("%s: cannot read state %r: %s", self.provider, key, exc)
            return None
        return None if value is None else json.loads(value)

    def put(self, key: str, value: Any) -> None:
        where = (provider_notes.c.provider == self.provider) & (provider_notes.c.key == key)
        row = {"value": json.dumps(value), "updated_at": datetime.now(UTC)}
        try:
            with self.engine.begin() as conn:
                conn.execute(provider_notes.delete().where(where))
                if value is not None:
                    conn.execute(
                        provider_notes.insert(), {"provider": self.provider, "key": key, **row}
                    )
        except sa.exc.SQLAlchemyError as exc:
            log.warning("%s: cannot write state %r: %s", self.provider, key, exc)
