"""The SQL database (SQLite by default, PostgreSQL supported): engine and the one metadata
every table module defines its tables on (migrations/ compares it with the revisions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A time stamp that comes back time-zone aware from every database: SQLite keeps no
    zone, so its naive values (we only ever store UTC) are read as UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def engine_for(url: str) -> sa.Engine:
    """`postgresql://` uses psycopg 3; SQLite gets a busy timeout for concurrent writers."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 10})
    return sa.create_engine(url, pool_pre_ping=True)


def create_schema(engine: sa.Engine) -> None:
    """Bring the schema to head through the migrations (never `create_all`: a table made
    that way has no revision, and its later columns would never arrive)."""
    from presence_dash.storage.migrations import upgrade  # the migrations import every table module

    upgrade(engine)
