"""Alembic's environment: run by `alembic.command` (migrations/runner.py) on the connection
the runner opened and locked; never imported by the app."""

from __future__ import annotations

from alembic import context

from presence_dash.storage.migrations.tables import app_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` from a shell: migrations/runner.py is the way in
    raise RuntimeError("run migrations through `presence-dash db upgrade --config FILE`")

context.configure(
    connection=connection,
    target_metadata=app_metadata(),
    # SQLite cannot ALTER most things; batch mode copies the table instead.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
