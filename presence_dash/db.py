"""The SQL database (SQLite by default, PostgreSQL supported): engine and shared metadata."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def engine_for(url: str) -> sa.Engine:
    """`postgresql://` uses psycopg 3; SQLite gets a busy timeout for concurrent writers."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 10})
    return sa.create_engine(url, pool_pre_ping=True)


def create_schema(engine: sa.Engine) -> None:
    metadata.create_all(engine)
