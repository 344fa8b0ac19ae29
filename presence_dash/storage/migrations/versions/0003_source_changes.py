"""Per-source history (`source_changes`, commit 8827597): each source's status and activity
changes, for the person's timeline.

Created only where missing, like 0002: builds from before migrations made it with
`create_all`.

Revision ID: 0003_source_changes
Revises: 0002_contract_v1_1_tables
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_source_changes"
down_revision: str | None = "0002_contract_v1_1_tables"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("source_changes"):
        return
    op.create_table(
        "source_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("activity", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_source_changes_person_source_time",
        "source_changes",
        ["person_id", "source", "changed_at"],
    )


def downgrade() -> None:
    op.drop_table("source_changes")
