"""Every module that defines a table, imported so that the one shared `db.metadata` is the
whole schema: the target the migrations are compared with. A new table module is added
here (tests/test_migrations.py fails if one is missing)."""

from __future__ import annotations

import importlib

import sqlalchemy as sa

TABLE_MODULES = (
    "presence_dash.auth.audit",
    "presence_dash.auth.kiosk",
    "presence_dash.auth.sign_ins",
    "presence_dash.storage.board_state",
    "presence_dash.storage.history",
    "presence_dash.storage.idempotency",
    "presence_dash.providers.notes",
    "presence_dash.screenmeet.outbox",
    "presence_dash.screenmeet.store",
    "presence_dash.visitors.store",
)


def app_metadata() -> sa.MetaData:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    from presence_dash.storage.db import metadata

    return metadata
