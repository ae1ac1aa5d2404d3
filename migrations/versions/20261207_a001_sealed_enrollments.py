"""accounts: sealed enrollments after a PIN reset, recovery codes, PIN resets shown

A claim code proves a person to its own organization only (CONTRACT.md section 7): after a PIN
reset the account's other enrollments are sealed until the participant proves themselves
again, with that organization's fresh code or their recovery code.

Revision ID: a001
Revises: p001
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "a001"
down_revision: str | None = "p001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column(
                "recovery_code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    with op.batch_alter_table("enrollment") as batch:
        batch.add_column(sa.Column("sealed_at", app.db.UTCDateTime(), nullable=True))
    op.create_table(
        "account_recovery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"]),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_recovery") as batch:
        batch.create_index(
            batch.f("ix_account_recovery_participant_id"), ["participant_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("account_recovery")
    with op.batch_alter_table("enrollment") as batch:
        batch.drop_column("sealed_at")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("recovery_code_hash")
