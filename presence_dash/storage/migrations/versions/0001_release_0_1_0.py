"""The schema of release 0.1.0 (commit 100f0b3, the last before CONTRACT v1.1): the
baseline. A database made by that release's `create_all` has exactly these tables and is
stamped here (migrations/runner.py) instead of being created again.

Revision ID: 0001_release_0_1_0
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_release_0_1_0"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Frozen copies, never the app's Table objects: a revision must keep building the schema it
# built on the day it was written.
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", Time, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("client_addr", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "at"])
    op.create_table(
        "kiosk_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_by", sa.String(128)),
        sa.Column("revoked_at", Time),
    )
    op.create_table(
        "provider_notes",
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "screenmeet_requests",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("body", sa.Text),
        sa.Column("claimed_at", Time, nullable=False),
    )
    op.create_table(
        "screenmeet_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("scheduled", sa.Boolean, nullable=False),
        sa.Column("start_time", Time),
        sa.Column("pin", sa.Integer, nullable=False),
        sa.Column("user_url", sa.Text, nullable=False),
        sa.Column("host_url", sa.Text, nullable=False),
        sa.Column("host_auth_token", sa.Text, nullable=False),
        sa.Column("expires_at", Time),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("parent_object_table", sa.String(80), nullable=False),
        sa.Column("parent_object_sys_id", sa.String(32), nullable=False),
        sa.Column("parent_object_display_name", sa.String(255), nullable=False),
        sa.Column("person_id", sa.String(64)),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("closed_by", sa.String(128)),
        sa.Column("closed_at", Time),
    )
    op.create_index(
        "ix_screenmeet_sessions_status", "screenmeet_sessions", ["status", "created_at"]
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("changed_at", Time, nullable=False),
    )
    op.create_index("ix_status_changes_person_time", "status_changes", ["person_id", "changed_at"])


def downgrade() -> None:
    for table in (
        "status_changes",
        "screenmeet_sessions",
        "screenmeet_requests",
        "provider_notes",
        "kiosk_tokens",
        "audit_log",
    ):
        op.drop_table(table)
