"""Where a database's schema stands against the code's migrations, and bringing it to head
under a lock (`presence-dash db upgrade`, and at start: migrations/__init__.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

SCRIPTS = Path(__file__).resolve().parent
# Release 0.1.0's schema: a database made by `create_all` before migrations is stamped here.
BASELINE = "0001_release_0_1_0"
# pg_advisory_xact_lock key ("presdash"): every process migrating one database takes turns.
PG_LOCK_KEY = 0x7072657364617368


class SchemaRefused(Exception):
    """The schema cannot be used or changed as asked; the message is one line for the user."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # the revision in alembic_version; None when there is none
    head: str
    known: bool  # `current` is one of this code's revisions (False: a newer release's)
    tables: frozenset[str]  # the database's tables, alembic_version aside

    @property
    def empty(self) -> bool:
        return self.current is None and not self.tables

    @property
    def pre_migrations(self) -> bool:
        """Tables made by `create_all` before migrations existed (nothing says which)."""
        return self.current is None and bool(self.tables)

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    @property
    def ahead(self) -> bool:
        return self.current is not None and not self.known

    def describe(self) -> str:
        if self.empty:
            return f"empty (head {self.head})"
        if self.pre_migrations:
            return f"tables from before migrations, no revision (head {self.head})"
        if self.at_head:
            return f"{self.current} (head)"
        if self.ahead:
            return f"{self.current} (unknown to this presence-dash, head {self.head})"
        return f"{self.current} (behind, head {self.head})"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """The package's own migrations, no alembic.ini: env.py runs on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def schema_state(connection: sa.Connection) -> SchemaState:
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    current = MigrationContext.configure(connection).get_current_revision()
    known = True
    if current is not None:
        try:
            scripts.get_revision(current)
        except CommandError:
            known = False
    tables = frozenset(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    return SchemaState(current, head, known, tables)


def read_state(engine: sa.Engine) -> SchemaState:
    with engine.connect() as conn:
        return schema_state(conn)


def upgrade(engine: sa.Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to head (stamping a pre-migrations database first); the states before
    and after. Processes upgrading one database at once take turns: the second finds it done."""
    with _locked(engine) as conn:
        before = schema_state(conn)
        if before.ahead:
            raise SchemaRefused(ahead_message(before))
        config = alembic_config(conn)
        if before.pre_migrations:
            _check_baseline(conn, before)
            command.stamp(config, BASELINE)
        if not before.at_head:
            command.upgrade(config, "head")
        return before, schema_state(conn)


def ahead_message(state: SchemaState) -> str:
    return (
        f"database schema is at revision {state.current}, which this presence-dash does not "
        f"know (its newest is {state.head}): a newer release migrated it; run that release"
    )


def _check_baseline(conn: sa.Connection, state: SchemaState) -> None:
    """Tables without a revision are stamped at BASELINE only if they hold release 0.1.0's
    tables and columns (as the baseline revision builds them, so that stays the one copy)."""
    inspector = sa.inspect(conn)
    for table, columns in _baseline_columns().items():
        have = {c["name"] for c in inspector.get_columns(table)} if table in state.tables else set()
        if not columns <= have:
            missing = table if not have else f"{table}.{min(columns - have)}"
            raise SchemaRefused(
                f"database has tables but no migration revision, and not release 0.1.0's "
                f"schema ({missing} is missing): not a presence-dash database?"
            )


def _baseline_columns() -> dict[str, set[str]]:
    scratch = sa.create_engine("sqlite://")
    try:
        with scratch.connect() as conn, conn.begin():
            command.upgrade(alembic_config(conn), BASELINE)
            inspector = sa.inspect(conn)
            return {
                table: {c["name"] for c in inspector.get_columns(table)}
                for table in inspector.get_table_names()
                if table != "alembic_version"
            }
    finally:
        scratch.dispose()


@contextmanager
def _locked(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction that only one process holds at a time: PostgreSQL's advisory lock
    (released at commit; its DDL is transactional, so a failed upgrade leaves nothing), or
    SQLite's write lock taken up front (BEGIN IMMEDIATE; pysqlite would otherwise run DDL
    outside any transaction, so two processes could both create a table)."""
    if engine.dialect.name == "sqlite" and _on_disk(engine.url):
        # A private engine: the app's pooled connections keep pysqlite's own transactions.
        private = sa.create_engine(engine.url, connect_args={"timeout": 30}, poolclass=sa.NullPool)
        sa.event.listen(private, "connect", _driver_autocommit)
        sa.event.listen(private, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        try:
            with private.connect() as conn, conn.begin():
                yield conn
        finally:
            private.dispose()
        return
    with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PG_LOCK_KEY)))
        yield conn


def _driver_autocommit(dbapi_connection: object, _record: object) -> None:
    # SQLAlchemy's documented recipe for real SQLite transactions (pysqlite dialect docs).
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]


def _on_disk(url: sa.URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in database
