"""Schema migrations (Alembic, shipped in this package: env.py and versions/).

At start SQLite is brought to head; PostgreSQL, often shared by several nodes and owned by
someone who wants to choose the moment, is only checked unless `[server] auto_migrate` says
otherwise: behind, the process refuses to start and names `presence-dash db upgrade`. An
empty database is created at start on both (nothing there to protect), and a database newer
than the code is refused on both.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

# Set before alembic loads: at INFO it announces each plugin and, whenever a schema is
# read, its dialect and DDL mode, in multi-line records; one line of ours says what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

from presence_dash.storage.migrations.runner import (  # noqa: E402
    SchemaRefused,
    SchemaState,
    ahead_message,
    read_state,
    upgrade,
)

__all__ = ["SchemaRefused", "SchemaState", "prepare_at_start", "read_state", "upgrade"]

log = logging.getLogger(__name__)

UPGRADE_COMMAND = "presence-dash db upgrade --config FILE"


def prepare_at_start(
    engine: sa.Engine, auto_migrate: bool, upgrade_command: str = UPGRADE_COMMAND
) -> None:
    """Leave the schema at head or raise SchemaRefused (one line naming the way out)."""
    state = read_state(engine)  # no lock: the usual answer is "at head", nothing to do
    if state.at_head:
        return
    if state.ahead:
        raise SchemaRefused(ahead_message(state))
    if engine.dialect.name == "postgresql" and not (auto_migrate or state.empty):
        raise SchemaRefused(
            f"database schema is behind this presence-dash ({state.describe()}): "
            f"run `{upgrade_command}` first, or set [server] auto_migrate = true"
        )
    before, after = upgrade(engine)
    if before.current != after.current:
        log.info("database schema upgraded from %s to %s", before.describe(), after.current)
