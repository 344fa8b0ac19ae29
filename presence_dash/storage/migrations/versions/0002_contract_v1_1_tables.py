"""The tables added for CONTRACT v1.1: the board's saved state (`person_state`,
`provider_state`), the ScreenMeet outbox (`screenmeet_intents`) and server-side sign-ins
(`sign_ins`).

Each is created only where it is missing: before migrations existed every start ran
`create_all`, so a database made by a build between 0.1.0 and this revision holds some of
them already (it is stamped at the baseline, then brought here).

Revision ID: 0002_contract_v1_1_tables
Revises: 0001_release_0_1_0
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_contract_v1_1_tables"
down_revision: str | None = "0001_release_0_1_0"
branch_labels: str | None = None
depends_on: str | None = None

Time = sa.DateTime(timezone=True)
TABLES = ("person_state", "provider_state", "screenmeet_intents", "sign_ins")


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "person_state" not in present:
        op.create_table(
            "person_state",
            sa.Column("person_id", sa.String(64), primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("since", Time, nullable=False),
            sa.Column("since_exact", sa.Boolean, nullable=False),
            sa.Column("sources", sa.Text, nullable=False),
            sa.Column("saved_at", Time, nullable=False),
        )
    if "provider_state" not in present:
        op.create_table(
            "provider_state",
            sa.Column("provider", sa.String(64), primary_key=True),
            sa.Column("last_success", Time, nullable=False),
        )
    if "screenmeet_intents" not in present:
        op.create_table(
            "screenmeet_intents",
            sa.Column("id", sa.String(36), primary_key=True),
            sa.Column("action", sa.String(16), nullable=False),
            sa.Column("session_id", sa.String(64)),
            sa.Column("request", sa.Text, nullable=False),
            sa.Column("idempotency_key", sa.String(128)),
            sa.Column("actor", sa.String(128), nullable=False),
            sa.Column("client_addr", sa.String(64), nullable=False),
            sa.Column("audit_id", sa.Integer),
            sa.Column("state", sa.String(8), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("attempt_at", Time),
            sa.Column("last_error", sa.String(300)),
            sa.Column("answer_status", sa.Integer),
            sa.Column("answer", sa.Text),
            sa.Column("created_at", Time, nullable=False),
            sa.Column("updated_at", Time, nullable=False),
        )
        op.create_index(
            "ix_screenmeet_intents_state", "screenmeet_intents", ["state", "created_at"]
        )
        op.create_index("ix_screenmeet_intents_key", "screenmeet_intents", ["idempotency_key"])
    if "sign_ins" not in present:
        op.create_table(
            "sign_ins",
            sa.Column("id_sha256", sa.String(64), primary_key=True),
            sa.Column("username", sa.String(128), nullable=False),
            sa.Column("started_at", Time, nullable=False),
            sa.Column("expires_at", Time, nullable=False),
        )
        op.create_index("ix_sign_ins_expires_at", "sign_ins", ["expires_at"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
