"""Glance visitor signals recorded before they are sent (`glance_signals`,
presence_dash/visitors/store.py), so any web node can act and a retry with the same
Idempotency-Key is answered once (issue 14).

Revision ID: 0004_glance_signals
Revises: 0003_source_changes
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_glance_signals"
down_revision: str | None = "0003_source_changes"
branch_labels: str | None = None
depends_on: str | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("glance_signals"):
        return  # like 0002/0003: a database made with create_all may have it
    op.create_table(
        "glance_signals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("visitor_id", sa.String(64), nullable=False),
        sa.Column("mtype", sa.String(8), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(128)),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("answer", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_glance_signals_state", "glance_signals", ["state", "created_at"])


def downgrade() -> None:
    op.drop_table("glance_signals")
